/**
 * Encrypted history: the AES-256-GCM payload codec, its keys (FOGPILOT_PAYLOAD_KEYS) and the data converter every
 * fogpilot Temporal client and worker uses when keys are set.
 */
import type { DataConverter } from '@temporalio/common';
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
 * The `dataConverter` option for `new Client(…)` and `Worker.create(…)`: the encryption codec when FOGPILOT_PAYLOAD_KEYS
 * is set, else undefined (the SDK's default, plaintext). Throws PayloadKeysError on a bad value, so a process refuses to
 * start rather than write plaintext it was asked to encrypt.
 */
export function dataConverterFromEnvironment(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFromEnvironment(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
