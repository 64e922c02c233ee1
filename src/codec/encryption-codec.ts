/**
 * AES-256-GCM encryption of every payload fogpilot sends to Temporal (inputs, signals, updates, results, queries,
 * memos, schedule actions), so histories at rest in Temporal's database hold no plaintext.
 *
 * The format follows Temporal's encryption samples, so their codec servers and tools recognise it: the encoded
 * payload's metadata is `encoding: binary/encrypted` and `encryption-key-id: <keyId>`; its data is
 * `iv (12 bytes) | ciphertext | GCM tag (16 bytes)` of the original Payload serialized as the protobuf
 * `temporal.api.common.v1.Payload` (its metadata included, so the original encoding is restored on decode).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { GENERATE_KEY_COMMAND, PAYLOAD_KEYS_ENV, type PayloadKeyring } from './keys';

/** The `encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with. */
export const METADATA_KEY_ID = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = temporal.api.common.v1.Payload;

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

/** A payload that cannot be decrypted: its key is not listed, or its bytes were altered. Says which key id. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    message: string,
    readonly keyId: string | undefined,
  ) {
    super(message);
  }
}

/** True when the payload was encoded by an encryption codec (this one or a compatible one). */
export function isEncryptedPayload(payload: Payload): boolean {
  return text(payload.metadata?.[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;
}

/**
 * The PayloadCodec: encodes with the keyring's current (first) key, decodes with whichever key the payload names.
 * Payloads that are not encrypted pass through decode unchanged, so histories written before encryption was turned on
 * still read.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: PayloadKeyring) {}

  /** The id of the key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.keyring.currentKeyId;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keyring.currentKeyId;
    const key = this.keyring.keys.get(keyId)!;
    return Promise.resolve(
      payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plaintext = ProtoPayload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [METADATA_KEY_ID]: utf8(keyId) },
          data: new Uint8Array(data),
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((payload) => this.decodeOne(payload)));
  }

  private decodeOne(payload: Payload): Payload {
    if (!isEncryptedPayload(payload)) return payload;
    const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
    if (keyId === undefined) {
      throw new PayloadDecryptionError(
        `An encrypted payload carries no ${METADATA_KEY_ID}; it was not written by fogpilot's codec and cannot be read.`,
        undefined,
      );
    }
    const key = this.keyring.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `A payload is encrypted with key id ${keyId}, which ${PAYLOAD_KEYS_ENV} does not list ` +
          `(it lists ${[...this.keyring.keys.keys()].join(', ')}). Add that key to ${PAYLOAD_KEYS_ENV} after the ` +
          `current one (old keys stay listed as long as histories they encrypted must be read); a new key is made with ` +
          `\`${GENERATE_KEY_COMMAND}\`, but only the original key can read this payload.`,
        keyId,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `A payload encrypted with key id ${keyId} is ${data.length} bytes, shorter than its IV and tag: it was cut.`,
        keyId,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `A payload encrypted with key id ${keyId} failed its integrity check (AES-GCM tag): it was altered, or the key ` +
          `listed under ${keyId} in ${PAYLOAD_KEYS_ENV} is not the one that encrypted it.`,
        keyId,
      );
    }
    return ProtoPayload.decode(plaintext);
  }
}
