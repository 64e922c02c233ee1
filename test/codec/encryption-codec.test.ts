/** The payload codec and its keys, without a server: round trip, rotation, refusals, and FOGPILOT_PAYLOAD_KEYS checks. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  decodeOptionalFailureToOptionalError,
  encodeErrorToFailure,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  METADATA_KEY_ID,
  PayloadDecryptionError,
  PayloadKeysError,
  dataConverterFromEnvironment,
  parsePayloadKeys,
} from '../../src/codec';

const key = () => randomBytes(32).toString('base64');
const codecFor = (value: string) => new EncryptionCodec(parsePayloadKeys(value));
const SECRET_TEXT = 'INC-4242 the eastus region is on fire';
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('the payload encryption codec', () => {
  it('encrypts a payload so its text is gone, names the key, and decodes it back to the same value and encoding', async () => {
    const codec = codecFor(`k1:${key()}`);
    const original = payloadOf({ group: 'fog-sales', reason: SECRET_TEXT });
    const [encoded] = await codec.encode([original]);
    assert.equal(utf8(encoded!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(utf8(encoded!.metadata![METADATA_KEY_ID]), 'k1');
    assert.ok(!Buffer.from(encoded!.data!).includes(SECRET_TEXT), 'no plaintext in the encrypted data');
    const [decoded] = await codec.decode([encoded!]);
    assert.equal(utf8(decoded!.metadata!.encoding), 'json/plain');
    assert.deepEqual(valueOf(decoded!), { group: 'fog-sales', reason: SECRET_TEXT });
  });

  it('encrypts the same payload differently each time (a fresh IV per payload)', async () => {
    const codec = codecFor(`k1:${key()}`);
    const [a, b] = await codec.encode([payloadOf('same'), payloadOf('same')]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  it('after rotation encrypts with the newest key and still decrypts what the old key encrypted', async () => {
    const oldKey = key();
    const before = codecFor(`2026-01:${oldKey}`);
    const [old] = await before.encode([payloadOf(SECRET_TEXT)]);
    const after = codecFor(`2026-07:${key()},2026-01:${oldKey}`);
    const [fresh] = await after.encode([payloadOf('new')]);
    assert.equal(utf8(fresh!.metadata![METADATA_KEY_ID]), '2026-07');
    const [oldDecoded, freshDecoded] = await after.decode([old!, fresh!]);
    assert.equal(valueOf(oldDecoded!), SECRET_TEXT);
    assert.equal(valueOf(freshDecoded!), 'new');
  });

  it('refuses a payload whose key id is not listed, naming that key id', async () => {
    const [encoded] = await codecFor(`gone:${key()}`).encode([payloadOf(SECRET_TEXT)]);
    const reader = codecFor(`current:${key()}`);
    await assert.rejects(reader.decode([encoded!]), (error: unknown) => {
      assert.ok(error instanceof PayloadDecryptionError);
      assert.equal(error.keyId, 'gone');
      assert.match(error.message, /key id gone, which FOGPILOT_PAYLOAD_KEYS does not list \(it lists current\)/);
      return true;
    });
  });

  it('refuses a payload whose ciphertext was altered (the GCM tag no longer matches)', async () => {
    const codec = codecFor(`k1:${key()}`);
    const [encoded] = await codec.encode([payloadOf(SECRET_TEXT)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0x01;
    await assert.rejects(
      codec.decode([{ ...encoded!, data: new Uint8Array(data) }]),
      /key id k1 failed its integrity check \(AES-GCM tag\)/,
    );
  });

  it('refuses a payload read with a different key under the same id', async () => {
    const [encoded] = await codecFor(`k1:${key()}`).encode([payloadOf(SECRET_TEXT)]);
    await assert.rejects(codecFor(`k1:${key()}`).decode([encoded!]), /integrity check/);
  });

  it('passes a payload that is not encrypted through decode unchanged, so histories from before still read', async () => {
    const plain = payloadOf({ reason: 'written before encryption' });
    const [decoded] = await codecFor(`k1:${key()}`).decode([plain]);
    assert.equal(decoded, plain);
  });
});

describe('FOGPILOT_PAYLOAD_KEYS', () => {
  const refused = (value: string, pattern: RegExp) =>
    assert.throws(
      () => dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: value }),
      (error: unknown) => {
        assert.ok(error instanceof PayloadKeysError, String(error));
        assert.match(error.message, /FOGPILOT_PAYLOAD_KEYS/);
        assert.match(error.message, pattern);
        assert.match(error.action, /openssl rand -base64 32/);
        return true;
      },
    );

  it('unset leaves payloads unencrypted; set builds one codec that encrypts with the first key', () => {
    assert.equal(dataConverterFromEnvironment({}), undefined);
    const converter = dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: ` new:${key()} , old:${key()} ` });
    const [codec] = converter!.payloadCodecs!;
    assert.ok(codec instanceof EncryptionCodec);
    assert.equal(codec.currentKeyId, 'new');
  });

  it('set, a failure leaves the process with its message and stack trace only inside an encrypted payload, and reads back', async () => {
    const converter = loadDataConverter(dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: `k:${key()}` }));
    const message = `group fog-${randomBytes(6).toString('hex')} refused: the partner is seeding`;
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.create({ message, type: 'Refused' }));
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.stackTrace, '');
    assert.equal(Buffer.from(failure.encodedAttributes!.metadata!.encoding!).toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(failure.encodedAttributes!.data!).toString('latin1').includes(message));
    const read = await decodeOptionalFailureToOptionalError(converter, failure);
    assert.equal(read?.message, message);
    assert.match(read?.stack ?? '', /encryption-codec\.test/, 'the stack trace comes back too');
  });

  it('unset, a failure is written as the SDK writes it: message and stack trace in plain fields', async () => {
    const converter = loadDataConverter(dataConverterFromEnvironment({}));
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.create({ message: 'plain as before' }));
    assert.equal(failure.message, 'plain as before');
    assert.equal(failure.encodedAttributes, undefined);
  });

  it('refuses an empty value, an empty entry, a missing key id, bad base64, a wrong length and a duplicate id', () => {
    refused('', /set but empty/);
    refused(` , `, /set but empty/);
    refused(`a:${key()},,b:${key()}`, /entry 2 is empty/);
    refused(key(), /entry 1 has no "keyId:" prefix/);
    refused(`a:not base64!!`, /entry 1 \(key id a\): the key is not valid base64/);
    refused(`a:${randomBytes(16).toString('base64')}`, /key id a\): the key is 16 bytes; AES-256 needs 32/);
    refused(`a:${key()},a:${key()}`, /entry 2: key id a is listed twice/);
    refused(`bad id:${key()}`, /entry 1: the key id must be/);
  });

  it('never puts key material in its error messages', () => {
    const short = randomBytes(31).toString('base64');
    const dup = key();
    for (const value of [`a:${short}`, `a:${dup},a:${dup}`]) {
      try {
        dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: value });
        assert.fail('expected a refusal');
      } catch (error) {
        const { message, action } = error as PayloadKeysError;
        for (const secret of [short, dup]) assert.ok(!`${message} ${action}`.includes(secret), message);
      }
    }
  });
});
