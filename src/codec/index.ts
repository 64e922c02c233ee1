/**
 * Encrypted history: the AES-256-GCM payload codec, its keys (FOGPILOT_PAYLOAD_KEYS) and the data converter every
 * fogpilot Temporal client and worker uses when keys are set.
 */
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';
import { payloadKeysFromEnvironment } from './keys';

export * from './encryption-codec';
export * from './keys';

/** The codec from FOGPILOT_PAYLOAD_KEYS, or undefined when the variable is unset; throws PayloadKeysError on a bad value. */
export function payloadCodecFromEnvironment(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const keyring = payloadKeysFromEnvironment(env);
  return keyring ? new EncryptionCodec(keyring) : undefined;
}

/**
 * The module whose `failureConverter` moves failure messages and stack traces into an encoded payload (see
 * ./failure-converter): the `failureConverterPath` of every encrypting data converter and of the workflow bundle that
 * goes with it.
 */
export const ENCODED_FAILURES_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * A data converter that encrypts with `codec` everything it can: payloads, and failures' messages and stack traces
 * (without the failure converter those stay plain beside encrypted payloads).
 */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: ENCODED_FAILURES_CONVERTER_PATH };
}

/** Whether `dataConverter` stores failures' messages and stack traces encoded, as {@link encryptingDataConverter} does. */
export function encodesFailures(dataConverter: DataConverter | undefined): boolean {
  return dataConverter?.failureConverterPath === ENCODED_FAILURES_CONVERTER_PATH;
}

/**
 * The `dataConverter` option for `new Client(…)` and `Worker.create(…)`: with FOGPILOT_PAYLOAD_KEYS set, the encryption
 * codec and the failure converter that hands failure messages and stack traces to it; else undefined (the SDK's
 * default, plaintext). Throws PayloadKeysError on a bad value, so a process refuses to start rather than write
 * plaintext it was asked to encrypt.
 */
export function dataConverterFromEnvironment(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFromEnvironment(env);
  return codec ? encryptingDataConverter(codec) : undefined;
}
