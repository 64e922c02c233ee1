import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signBody, verifySignature } from '../../src/notify/signature';

const KEY = 'a9f1c0de5b7e4c2f9d8a7b6c5d4e3f21';
const BODY = '{"schemaVersion":1,"event":"failed","group":"fog-sales"}';
const T = 1_800_000_000;

describe('notification signatures', () => {
  it('signs "<t>.<body>" with HMAC-SHA256 as t=<seconds>,v1=<hex>', () => {
    const expected = createHmac('sha256', KEY).update(`${T}.${BODY}`).digest('hex');
    assert.equal(signBody(KEY, BODY, T), `t=${T},v1=${expected}`);
  });

  it('verifies with the right key, and refuses a wrong key, a changed body and a stale timestamp', () => {
    const header = signBody(KEY, BODY, T);
    assert.deepEqual(verifySignature(KEY, header, BODY, { nowSeconds: T + 10 }), { ok: true, timestampSeconds: T });
    assert.deepEqual(verifySignature(KEY, header, Buffer.from(BODY), { nowSeconds: T }), {
      ok: true,
      timestampSeconds: T,
    });

    const wrongKey = verifySignature(`${KEY}x`, header, BODY, { nowSeconds: T });
    assert.equal(wrongKey.ok, false);
    assert.equal(!wrongKey.ok && wrongKey.reason, 'mismatch');

    const changed = verifySignature(KEY, header, BODY.replace('failed', 'succeeded'), { nowSeconds: T });
    assert.equal(!changed.ok && changed.reason, 'mismatch');

    const stale = verifySignature(KEY, header, BODY, { nowSeconds: T + 301 });
    assert.equal(!stale.ok && stale.reason, 'stale');
    const future = verifySignature(KEY, header, BODY, { nowSeconds: T - 301 });
    assert.equal(!future.ok && future.reason, 'stale');
    assert.equal(verifySignature(KEY, header, BODY, { nowSeconds: T + 301, toleranceSeconds: 600 }).ok, true);
  });

  it('refuses a re-timed signature: the timestamp is part of what is signed', () => {
    const [, v1] = signBody(KEY, BODY, T).split(',');
    const check = verifySignature(KEY, `t=${T + 100},${v1}`, BODY, { nowSeconds: T + 100 });
    assert.equal(!check.ok && check.reason, 'mismatch');
  });

  it('refuses malformed headers without throwing', () => {
    const good = signBody(KEY, BODY, T);
    const v1 = good.split(',')[1]!;
    for (const header of [
      undefined,
      '',
      'sha256=abc',
      `t=${T}`,
      v1,
      `t=${T},v1=XYZ`,
      `t=${T},v1=${'0'.repeat(63)}`,
      `t=-5,${v1}`,
      `t=${T},t=${T},${v1}`,
      `t=soon,${v1}`,
    ]) {
      const check = verifySignature(KEY, header, BODY, { nowSeconds: T });
      assert.equal(check.ok, false, `accepted ${String(header)}`);
      assert.equal(!check.ok && check.reason, 'malformed', `reason for ${String(header)}`);
    }
  });

  it('accepts a header carrying several v1 values when one matches (key rotation), and unknown schemes beside them', () => {
    const good = signBody(KEY, BODY, T);
    const other = signBody('another-key-of-enough-length', BODY, T).split(',')[1]!;
    assert.equal(verifySignature(KEY, `${good},${other},v2=whatever`, BODY, { nowSeconds: T }).ok, true);
    assert.equal(verifySignature('another-key-of-enough-length', `${good},${other}`, BODY, { nowSeconds: T }).ok, true);
  });

  it('never puts the key or the expected signature in a refusal', () => {
    const header = signBody('the-wrong-key-123456', BODY, T);
    const expected = createHmac('sha256', KEY).update(`${T}.${BODY}`).digest('hex');
    const check = verifySignature(KEY, header, BODY, { nowSeconds: T });
    assert.equal(check.ok, false);
    const text = JSON.stringify(check);
    assert.ok(!text.includes(KEY) && !text.includes(expected), text);
  });
});
