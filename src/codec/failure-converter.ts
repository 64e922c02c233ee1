/**
 * The failure converter of encrypted histories. A failure's message and stack trace are plain fields of Temporal's
 * Failure, outside any payload, so the payload codec alone never sees them: they can carry a group's name, a reason, a
 * refusal or error text from Azure and SQL. With `encodeCommonAttributes` the SDK moves both into the failure's
 * `encodedAttributes` payload, which the codec then encrypts, and stores the message as `Encoded failure`. Reading
 * needs nothing special: the SDK's default converter restores message and stack from `encodedAttributes` whenever it
 * finds them.
 *
 * This module is loaded twice: by `require` in workers and clients (`dataConverter.failureConverterPath`) and inside
 * the workflow sandbox (the bundle's `failureConverterPath`), so it imports no Node built-in and nothing else of
 * fogpilot's.
 */
import { DefaultFailureConverter } from '@temporalio/common';

/** The converter the SDK loads from this module by its `failureConverter` named export. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
