/** Request authentication of the HTTP trigger and its settings, without a server: signatures, the window, replays, tokens. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  RequestAuthenticator,
  WebhookAuthConfigError,
  WebhookSettingsError,
  signWebhookBody,
  signedRequestHeaders,
  webhookAuthFromEnvironment,
} from '../../src/webhook';

const SECRET = 'auth-test-secret-0123456789abcdef';
const T0 = 1_800_000_000_000;

function authenticator(clock: { now: number }, options: { bearerToken?: string; hmacSecret?: string } = {}) {
  return new RequestAuthenticator({ hmacSecret: SECRET, ...options, now: () => clock.now });
}

describe('request authentication', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256 as sha256=<hex>', () => {
    const expected = createHmac('sha256', SECRET).update('1800000000.{"input":{}}').digest('hex');
    assert.equal(signWebhookBody(SECRET, 1_800_000_000, '{"input":{}}'), `sha256=${expected}`);
    assert.deepEqual(signedRequestHeaders(SECRET, '{"input":{}}', T0 + 999), {
      'x-fogpilot-timestamp': '1800000000',
      'x-fogpilot-signature': `sha256=${expected}`,
    });
  });

  it('accepts a signed change once, and refuses the same signature again as a replay', () => {
    const clock = { now: T0 };
    const auth = authenticator(clock);
    const body = Buffer.from('{"by":"a","reason":"b"}');
    const headers = signedRequestHeaders(SECRET, body, T0);
    assert.deepEqual(auth.checkHeaders(headers), { ok: 'needs-body' });
    assert.deepEqual(auth.verifySignature(headers, body), { ok: true, method: 'hmac' });
    clock.now += 60_000;
    const replay = auth.verifySignature(headers, body);
    assert.equal(replay.ok, false);
    assert.equal(replay.ok === false && replay.statusCode, 409);
    // Past the window the same request is refused as stale: nothing captured can be sent again.
    clock.now += 5 * 60_000;
    const late = auth.verifySignature(headers, body);
    assert.equal(late.ok === false && late.error, 'timestamp-outside-window');
  });

  it('lets a read use the same signature twice, since it changes nothing', () => {
    const auth = authenticator({ now: T0 });
    const headers = signedRequestHeaders(SECRET, '', T0);
    for (let read = 0; read < 2; read++) {
      assert.deepEqual(auth.verifySignature(headers, Buffer.alloc(0), { changes: false }), {
        ok: true,
        method: 'hmac',
      });
    }
  });

  it('accepts a clock skew within the window either way and refuses one beyond it, saying which way', () => {
    const auth = authenticator({ now: T0 });
    const body = Buffer.from('{}');
    assert.equal(auth.verifySignature(signedRequestHeaders(SECRET, body, T0 + 4 * 60_000), body).ok, true);
    assert.equal(auth.verifySignature(signedRequestHeaders(SECRET, body, T0 - 4 * 60_000), body).ok, true);
    const ahead = auth.checkHeaders(signedRequestHeaders(SECRET, body, T0 + 6 * 60_000));
    assert.match(ahead.ok === false ? ahead.message : '', /360 s in the future/);
    const custom = new RequestAuthenticator({ hmacSecret: SECRET, replayWindowMs: 30_000, now: () => T0 });
    const behind = custom.checkHeaders(signedRequestHeaders(SECRET, body, T0 - 31_000));
    assert.match(behind.ok === false ? behind.message : '', /31 s in the past .* within 30 s/);
  });

  it('refuses malformed signature and timestamp headers with a message naming the header', () => {
    const auth = authenticator({ now: T0 });
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'x-fogpilot-timestamp': '1800000000' }, /without X-Fogpilot-Signature/],
      [{ 'x-fogpilot-signature': `sha256=${'0'.repeat(64)}` }, /without X-Fogpilot-Timestamp/],
      [
        { 'x-fogpilot-timestamp': '2027-01-15T10:00:00Z', 'x-fogpilot-signature': 'sha256=00' },
        /unix time in whole seconds/,
      ],
      [{ 'x-fogpilot-timestamp': '1800000000', 'x-fogpilot-signature': 'md5=abc' }, /"sha256=" followed by 64/],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, /not a bearer token/],
    ];
    for (const [headers, message] of cases) {
      const check = auth.checkHeaders(headers);
      assert.equal(check.ok, false, JSON.stringify(headers));
      assert.match(check.ok === false ? check.message : '', message);
      assert.equal(check.ok === false && check.statusCode, 401);
    }
  });

  it('accepts the configured bearer token and refuses any other, whatever its length', () => {
    const auth = authenticator({ now: T0 }, { bearerToken: 'the-right-token-0123456789' });
    assert.deepEqual(auth.checkHeaders({ authorization: 'Bearer the-right-token-0123456789' }), {
      ok: true,
      method: 'bearer',
    });
    for (const token of ['the-right-token-012345678', 'the-right-token-0123456789x', 'x']) {
      const check = auth.checkHeaders({ authorization: `Bearer ${token}` });
      assert.equal(check.ok === false && check.error, 'invalid-token');
    }
  });

  it('refuses to exist without a secret or a token', () => {
    assert.throws(() => new RequestAuthenticator({}), WebhookAuthConfigError);
    assert.throws(() => new RequestAuthenticator({ hmacSecret: '', bearerToken: '' }), WebhookAuthConfigError);
  });
});

describe('webhook settings from the environment', () => {
  it('names both variables when neither is set, with how to make a secret', () => {
    assert.throws(
      () => webhookAuthFromEnvironment({ FOGPILOT_WEBHOOK_HMAC_SECRET: '  ' }),
      (error: unknown) =>
        error instanceof WebhookSettingsError &&
        /FOGPILOT_WEBHOOK_HMAC_SECRET.*FOGPILOT_WEBHOOK_TOKEN/.test(error.message) &&
        /openssl rand -hex 32/.test(error.action),
    );
  });

  it('refuses a secret too short to resist guessing, naming the variable but not its value', () => {
    assert.throws(
      () => webhookAuthFromEnvironment({ FOGPILOT_WEBHOOK_TOKEN: 'hunter2' }),
      (error: unknown) =>
        error instanceof WebhookSettingsError &&
        /FOGPILOT_WEBHOOK_TOKEN is too short \(7 characters\)/.test(error.message) &&
        !error.message.includes('hunter2'),
    );
  });

  it('reads either or both, trimming the newline a secret file leaves', () => {
    assert.deepEqual(webhookAuthFromEnvironment({ FOGPILOT_WEBHOOK_HMAC_SECRET: `${SECRET}\n` }), {
      hmacSecret: SECRET,
      bearerToken: undefined,
    });
    assert.deepEqual(
      webhookAuthFromEnvironment({ FOGPILOT_WEBHOOK_HMAC_SECRET: SECRET, FOGPILOT_WEBHOOK_TOKEN: `${SECRET}-token` }),
      { hmacSecret: SECRET, bearerToken: `${SECRET}-token` },
    );
  });
});
