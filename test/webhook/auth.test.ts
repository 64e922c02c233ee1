/**
 * Request authentication of the HTTP trigger and its settings, without a server: the canonical request a signature
 * binds, the window, replays, tokens, one caller per credential, the callers' secrets, and the replay store on disk.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessSchema } from '../../src/config/access';
import {
  CallerRateLimiter,
  FileReplayStore,
  REPLAY_STORE_FILE,
  ReplayStoreError,
  RequestAuthenticator,
  WebhookAuthConfigError,
  WebhookSettingsError,
  canonicalRequest,
  signWebhookRequest,
  signedRequestHeaders,
  webhookAuthFromEnvironment,
  webhookCredentials,
  webhookCredentialsFromAccess,
  type SignedRequestParts,
} from '../../src/webhook';

const SECRET = 'auth-test-secret-0123456789abcdef';
const OTHER = 'auth-test-other-secret-0123456789';
const T0 = 1_800_000_000_000;
const START: SignedRequestParts = { method: 'POST', path: '/v1/runbooks/readinessCheck', body: '{"input":{}}' };

function authenticator(clock: { now: number }, options: { bearerToken?: string; hmacSecret?: string } = {}) {
  return new RequestAuthenticator({ hmacSecret: SECRET, ...options, now: () => clock.now });
}

/** What the server sees of a request signed as `signedAs` but sent as `sent`. */
function received(headers: Record<string, string>, sent: SignedRequestParts) {
  return {
    method: sent.method,
    url: sent.path,
    headers: { ...headers, ...(sent.idempotencyKey ? { 'idempotency-key': sent.idempotencyKey } : {}) },
    rawBody: Buffer.from(sent.body ?? ''),
  };
}

describe('request authentication', () => {
  it('signs "<timestamp>\\n<METHOD>\\n<path>\\n<idempotency key>\\n<sha256 of the body>" with HMAC-SHA256 as sha256=<hex>', () => {
    const bodyDigest = createHash('sha256').update('{"input":{}}').digest('hex');
    const canonical = `1800000000\nPOST\n/v1/runbooks/readinessCheck?x=1\nINC-7\n${bodyDigest}`;
    const parts = { ...START, method: 'post', path: '/v1/runbooks/readinessCheck?x=1', idempotencyKey: 'INC-7' };
    assert.equal(canonicalRequest(1_800_000_000, parts), canonical);
    const expected = createHmac('sha256', SECRET).update(canonical).digest('hex');
    assert.equal(signWebhookRequest(SECRET, 1_800_000_000, parts), `sha256=${expected}`);
    assert.deepEqual(signedRequestHeaders(SECRET, parts, T0 + 999), {
      'x-fogpilot-timestamp': '1800000000',
      'x-fogpilot-signature': `sha256=${expected}`,
      'idempotency-key': 'INC-7',
    });
    const emptyDigest = createHash('sha256').update('').digest('hex');
    assert.equal(
      canonicalRequest(1, { method: 'GET', path: '/v1/runbooks/x' }),
      `1\nGET\n/v1/runbooks/x\n\n${emptyDigest}`,
    );
  });

  it('refuses a signed request sent to another route, with another idempotency key, or as another signal', () => {
    const auth = authenticator({ now: T0 });
    const reject = {
      method: 'POST',
      path: '/v1/runbooks/fogpilot/forcedFailover/fog-sales/INC-1/signals/reject',
      body: '{"by":"a","reason":"b"}',
    };
    const keyed = { ...START, idempotencyKey: 'INC-1' };
    const cases: [string, SignedRequestParts, SignedRequestParts][] = [
      ['another route', START, { ...START, path: '/v1/runbooks/plannedFailover' }],
      ['another idempotency key', keyed, { ...keyed, idempotencyKey: 'INC-2' }],
      ['no idempotency key', keyed, START],
      ['a reject sent as approve', reject, { ...reject, path: reject.path.replace(/reject$/, 'approve') }],
      ['another method', { ...START, method: 'GET' }, START],
    ];
    for (const [what, signedAs, sent] of cases) {
      const { 'idempotency-key': _key, ...headers } = signedRequestHeaders(SECRET, signedAs, T0);
      assert.deepEqual(
        auth.identify(received(headers, signedAs)),
        { ok: true, method: 'hmac', caller: 'default' },
        what,
      );
      const check = auth.identify(received(headers, sent));
      assert.equal(check.ok === false && check.error, 'signature-mismatch', what);
      assert.match(check.ok === false ? check.message : '', /another route, method, idempotency key or body/);
    }
  });

  it('accepts a signed change once, and refuses the same signature again as a replay', () => {
    const clock = { now: T0 };
    const auth = authenticator(clock);
    const headers = signedRequestHeaders(SECRET, START, T0);
    assert.deepEqual(auth.checkHeaders(headers), { ok: 'needs-body' });
    assert.deepEqual(auth.verifySignature(received(headers, START)), { ok: true, method: 'hmac', caller: 'default' });
    clock.now += 60_000;
    const replay = auth.verifySignature(received(headers, START));
    assert.equal(replay.ok === false && replay.statusCode, 409);
    // Past the window the same request is refused as stale: nothing captured can be sent again.
    clock.now += 5 * 60_000;
    const late = auth.verifySignature(received(headers, START));
    assert.equal(late.ok === false && late.error, 'timestamp-outside-window');
  });

  it('lets a read use the same signature twice, since it changes nothing', () => {
    const auth = authenticator({ now: T0 });
    const read = { method: 'GET', path: '/v1/runbooks/fogpilot/x' };
    const headers = signedRequestHeaders(SECRET, read, T0);
    for (let poll = 0; poll < 2; poll++) {
      assert.equal(auth.verifySignature(received(headers, read), { changes: false }).ok, true);
    }
  });

  it('accepts a clock skew within the window either way and refuses one beyond it, saying which way', () => {
    const auth = authenticator({ now: T0 });
    assert.equal(auth.verifySignature(received(signedRequestHeaders(SECRET, START, T0 + 4 * 60_000), START)).ok, true);
    assert.equal(auth.verifySignature(received(signedRequestHeaders(SECRET, START, T0 - 4 * 60_000), START)).ok, true);
    const ahead = auth.checkHeaders(signedRequestHeaders(SECRET, START, T0 + 6 * 60_000));
    assert.match(ahead.ok === false ? ahead.message : '', /360 s in the future/);
    const custom = new RequestAuthenticator({ hmacSecret: SECRET, replayWindowMs: 30_000, now: () => T0 });
    const behind = custom.checkHeaders(signedRequestHeaders(SECRET, START, T0 - 31_000));
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
      caller: 'default',
    });
    for (const token of ['the-right-token-012345678', 'the-right-token-0123456789x', 'x']) {
      const check = auth.checkHeaders({ authorization: `Bearer ${token}` });
      assert.equal(check.ok === false && check.error, 'invalid-token');
    }
  });

  it('authenticates each request as the one caller whose token or key it presents', () => {
    const auth = new RequestAuthenticator({
      credentials: [
        { caller: 'incident-bot', method: 'hmac', secret: SECRET },
        { caller: 'oncall-lead', method: 'hmac', secret: OTHER },
        { caller: 'pager', method: 'bearer', secret: 'pager-token-0123456789abcdef' },
        { caller: 'chatops', method: 'bearer', secret: 'chatops-token-0123456789abcdef' },
      ],
      now: () => T0,
    });
    assert.deepEqual(auth.callers, ['chatops', 'incident-bot', 'oncall-lead', 'pager']);
    for (const [secret, caller] of [
      [SECRET, 'incident-bot'],
      [OTHER, 'oncall-lead'],
    ] as const) {
      const check = auth.verifySignature(received(signedRequestHeaders(secret, START, T0), START));
      assert.equal(check.ok === true && check.caller, caller);
    }
    for (const [token, caller] of [
      ['pager-token-0123456789abcdef', 'pager'],
      ['chatops-token-0123456789abcdef', 'chatops'],
    ] as const) {
      const check = auth.checkHeaders({ authorization: `Bearer ${token}` });
      assert.equal(check.ok === true && check.caller, caller);
    }
  });

  it('refuses to exist without a secret or a token', () => {
    assert.throws(() => new RequestAuthenticator({}), WebhookAuthConfigError);
    assert.throws(() => new RequestAuthenticator({ hmacSecret: '', bearerToken: '' }), WebhookAuthConfigError);
  });
});

describe('the replay store in a state directory', () => {
  it('keeps refusing a signed change after a restart, and forgets it once its window has passed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fogpilot-replay-'));
    try {
      const clock = { now: T0 };
      const headers = signedRequestHeaders(SECRET, START, T0);
      const first = new RequestAuthenticator({
        hmacSecret: SECRET,
        replayStore: new FileReplayStore(dir, T0),
        now: () => clock.now,
      });
      assert.equal(first.verifySignature(received(headers, START)).ok, true);
      const stored = readFileSync(path.join(dir, REPLAY_STORE_FILE), 'utf8');
      assert.ok(!stored.includes(headers['x-fogpilot-signature'].slice(7)), 'the store keeps digests, not signatures');

      clock.now += 1000;
      const restarted = new RequestAuthenticator({
        hmacSecret: SECRET,
        replayStore: new FileReplayStore(dir, clock.now),
        now: () => clock.now,
      });
      const replay = restarted.verifySignature(received(headers, START));
      assert.equal(replay.ok === false && replay.error, 'replayed-request');

      const later = T0 + 6 * 60_000;
      const reloaded = new FileReplayStore(dir, later);
      assert.equal(reloaded.claim(`default\n${headers['x-fogpilot-signature']}`, later + 60_000, later), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a replay store it did not write, rather than reopen the window', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fogpilot-replay-'));
    try {
      const file = path.join(dir, REPLAY_STORE_FILE);
      writeFileSync(file, 'not json');
      assert.throws(
        () => new FileReplayStore(dir),
        (error: unknown) => error instanceof ReplayStoreError && error.message.includes(file),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('per-caller rate limits', () => {
  it('refuses a caller past its burst with the seconds until the next token, while another caller goes on', () => {
    const clock = { now: T0 };
    const limiter = new CallerRateLimiter(
      (caller) => (caller === 'slow' ? { perMinute: 2 } : undefined),
      () => clock.now,
    );
    assert.equal(limiter.take('slow').allowed, true);
    assert.equal(limiter.take('slow').allowed, true);
    assert.deepEqual(limiter.take('slow'), { allowed: false, retryAfterSeconds: 30, limit: { perMinute: 2 } });
    assert.equal(limiter.take('other').allowed, true);
    clock.now += 30_000;
    assert.equal(limiter.take('slow').allowed, true);
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

  it('makes the legacy variables one caller named default when fogpilot.yaml has no access section', () => {
    assert.deepEqual(webhookCredentials(undefined, { FOGPILOT_WEBHOOK_TOKEN: SECRET }), {
      credentials: [{ caller: 'default', method: 'bearer', secret: SECRET }],
      mode: 'legacy',
      ignoredVariables: [],
    });
  });
});

describe("the callers' credentials", () => {
  const access = AccessSchema.parse({
    callers: {
      'incident-bot': { credential: { bearerTokenEnv: 'FOGPILOT_INCIDENT_BOT_TOKEN' } },
      'oncall-lead': { credential: { hmacKeyFile: '/run/secrets/oncall-lead.key' } },
    },
  });
  const files = (contents: Record<string, string>) => (file: string) => {
    if (!(file in contents)) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return contents[file]!;
  };

  it('reads each caller’s secret from its variable or file, and says the legacy variables are ignored', () => {
    const read = webhookCredentials(
      access,
      { FOGPILOT_INCIDENT_BOT_TOKEN: SECRET, FOGPILOT_WEBHOOK_TOKEN: OTHER },
      files({ '/run/secrets/oncall-lead.key': `${OTHER}x\n` }),
    );
    assert.deepEqual(read, {
      credentials: [
        { caller: 'incident-bot', method: 'bearer', secret: SECRET },
        { caller: 'oncall-lead', method: 'hmac', secret: `${OTHER}x` },
      ],
      mode: 'access',
      ignoredVariables: ['FOGPILOT_WEBHOOK_TOKEN'],
    });
  });

  it('refuses to start when a secret is missing, short or shared, naming the caller and where, never the value', () => {
    const cases: [NodeJS.ProcessEnv, Record<string, string>, RegExp][] = [
      [{}, { '/run/secrets/oncall-lead.key': OTHER }, /caller incident-bot.*FOGPILOT_INCIDENT_BOT_TOKEN.*not set/],
      [
        { FOGPILOT_INCIDENT_BOT_TOKEN: SECRET },
        {},
        /caller oncall-lead.*\/run\/secrets\/oncall-lead\.key.*cannot be read \(ENOENT\)/,
      ],
      [
        { FOGPILOT_INCIDENT_BOT_TOKEN: 'short-secret' },
        { '/run/secrets/oncall-lead.key': OTHER },
        /caller incident-bot.*FOGPILOT_INCIDENT_BOT_TOKEN.*too short \(12 characters\)/,
      ],
      [
        { FOGPILOT_INCIDENT_BOT_TOKEN: SECRET },
        { '/run/secrets/oncall-lead.key': SECRET },
        /callers incident-bot and oncall-lead have the same secret/,
      ],
    ];
    for (const [env, contents, message] of cases) {
      assert.throws(
        () => webhookCredentialsFromAccess(access, env, files(contents)),
        (error: unknown) =>
          error instanceof WebhookSettingsError &&
          message.test(error.message) &&
          !error.message.includes(SECRET) &&
          !error.message.includes('short-secret'),
        message.source,
      );
    }
    assert.throws(() => webhookCredentialsFromAccess(AccessSchema.parse({}), {}), /names no callers/);
  });
});
