/**
 * The payload keys, from `FOGPILOT_PAYLOAD_KEYS` only: `keyId:base64key` entries separated by commas, newest first.
 * New payloads are encrypted with the first key; any listed key decrypts. Rotation: put a new key first, keep the old
 * ones listed as long as histories encrypted with them must stay readable.
 *
 * Key material never appears in an error message, a log line or a workflow payload: errors name the variable, the
 * entry's position and its key id only.
 */
import { registerSecret } from '../secrets';
import { fogpilotVariable, type FogpilotVariable } from '../config/environment';

export const PAYLOAD_KEYS_ENV = 'FOGPILOT_PAYLOAD_KEYS' satisfies FogpilotVariable;

/** AES-256: a key is exactly this many bytes. */
export const PAYLOAD_KEY_BYTES = 32;

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The command that makes a key; every error about a key says it. */
export const GENERATE_KEY_COMMAND = 'openssl rand -base64 32';

/** A FOGPILOT_PAYLOAD_KEYS value that cannot be used; thrown at start, before anything is encrypted. */
export class PayloadKeysError extends Error {
  override readonly name = 'PayloadKeysError';
  constructor(
    message: string,
    /** What to do about it. */
    readonly action: string,
  ) {
    super(message);
  }
}

/** The keys a codec holds: `current` encrypts; every key in `keys` decrypts. */
export interface PayloadKeyring {
  readonly currentKeyId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

const FORMAT = `${PAYLOAD_KEYS_ENV} is a comma-separated list of keyId:base64key, newest first (e.g. 2026-01:<base64>).`;
const FIX =
  `Make a key with \`${GENERATE_KEY_COMMAND}\` and set ${PAYLOAD_KEYS_ENV}="<keyId>:<that output>" ` +
  '(keep older keys listed after the new one to read histories they encrypted).';

/** Parses a FOGPILOT_PAYLOAD_KEYS value; throws {@link PayloadKeysError} naming the entry (never its key) when unusable. */
export function parsePayloadKeys(value: string): PayloadKeyring {
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => entry === '')) {
    throw new PayloadKeysError(`${PAYLOAD_KEYS_ENV} is set but empty. ${FORMAT}`, FIX);
  }
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, index) => {
    const where = `${PAYLOAD_KEYS_ENV} entry ${index + 1}`;
    if (entry === '') throw new PayloadKeysError(`${where} is empty (two commas in a row, or a trailing comma).`, FIX);
    const colon = entry.indexOf(':');
    if (colon < 0) throw new PayloadKeysError(`${where} has no "keyId:" prefix. ${FORMAT}`, FIX);
    const keyId = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(keyId)) {
      throw new PayloadKeysError(
        `${where}: the key id must be 1-64 letters, digits, ".", "_" or "-" (got ${JSON.stringify(keyId.slice(0, 64))}).`,
        FIX,
      );
    }
    if (keys.has(keyId)) {
      throw new PayloadKeysError(
        `${where}: key id ${keyId} is listed twice; each key needs its own id, or a payload could name either.`,
        `Give the newer key a new id, e.g. the month it was made. ${FIX}`,
      );
    }
    const key = Buffer.from(encoded, 'base64');
    if (!BASE64.test(encoded) || encoded.length % 4 !== 0 || key.toString('base64') !== encoded) {
      throw new PayloadKeysError(`${where} (key id ${keyId}): the key is not valid base64.`, FIX);
    }
    if (key.length !== PAYLOAD_KEY_BYTES) {
      throw new PayloadKeysError(
        `${where} (key id ${keyId}): the key is ${key.length} bytes; AES-256 needs ${PAYLOAD_KEY_BYTES}.`,
        FIX,
      );
    }
    registerSecret(encoded);
    keys.set(keyId, key);
  });
  return { currentKeyId: keys.keys().next().value!, keys };
}

/** The keyring from FOGPILOT_PAYLOAD_KEYS, or undefined when it is unset (payloads then stay unencrypted). */
export function payloadKeysFromEnvironment(env: NodeJS.ProcessEnv = process.env): PayloadKeyring | undefined {
  const value = fogpilotVariable(PAYLOAD_KEYS_ENV, env);
  if (value === undefined) return undefined;
  return parsePayloadKeys(value);
}
