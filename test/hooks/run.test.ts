import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HookError, runHook } from '../../src/hooks/run';
import { AfterHookSchema, BeforeHookSchema } from '../../src/hooks/schema';
import type { HookContext } from '../../src/hooks/types';
import { startReceiver, type LocalReceiver } from './local-receiver';

const TOKEN = 'Bearer fd-9c2b7e41aa03f5d6e8b1-token';
const TOKEN_PART = 'fd-9c2b7e41aa03f5d6e8b1-token';
const API_KEY = 'k3y-0f8e7d6c5b4a39281706';
const env = { FRONTDOOR_TOKEN: TOKEN, CACHE_KEY: API_KEY };
const SECRETS = [TOKEN, TOKEN_PART, API_KEY];

const context: HookContext = {
  group: 'fog-sales',
  runbook: 'plannedFailover',
  workflowId: 'planned-failover-fog-sales-1',
  phase: 'after',
  fromLocation: 'eastus',
  toLocation: 'westus',
};

/** Asserts no secret is anywhere in `value` once serialized (messages, records, stacks). */
function assertNoSecret(value: unknown): void {
  const text =
    value instanceof Error ? `${value.message}\n${value.stack ?? ''}\n${JSON.stringify(value)}` : JSON.stringify(value);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `"${secret}" found in ${text}`);
}

async function hookFailure(promise: Promise<unknown>): Promise<HookError> {
  const error = await promise.then(
    () => assert.fail('the hook must fail'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof HookError, String(error));
  assertNoSecret(error);
  assertNoSecret(error.record);
  return error;
}

describe('running a hook against a real receiver', () => {
  let receiver: LocalReceiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.close());

  const afterHook = (fields: Record<string, unknown> = {}) =>
    AfterHookSchema.parse({
      name: 'flip-front-door',
      url: `${receiver.origin}/routes/sales?region=primary`,
      headers: { Authorization: { env: 'FRONTDOOR_TOKEN' }, 'X-Api-Key': { env: 'CACHE_KEY' }, 'X-Team': 'data' },
      body: {
        group: '{{group}}',
        to: '{{toLocation}}',
        note: '{{runbook}} {{workflowId}} {{phase}} from {{fromLocation}}',
      },
      ...fields,
    });

  it('sends the secret headers and the filled body, and records them redacted with the URL without its query string', async () => {
    receiver.answer({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"purged":true}' });
    const record = await runHook(afterHook(), context, { env });

    const request = receiver.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/routes/sales?region=primary');
    assert.equal(request.headers.authorization, TOKEN);
    assert.equal(request.headers['x-api-key'], API_KEY);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.rawBody.toString('utf8')), {
      group: 'fog-sales',
      to: 'westus',
      note: 'plannedFailover planned-failover-fog-sales-1 after from eastus',
    });

    assert.equal(record.ok, true);
    assert.equal(record.name, 'flip-front-door');
    assert.equal(record.phase, 'after');
    assert.equal(record.request.url, `${receiver.origin}/routes/sales`);
    assert.equal(record.request.headers.Authorization, '[redacted]');
    assert.equal(record.request.headers['X-Api-Key'], '[redacted]');
    assert.equal(record.request.headers['X-Team'], 'data');
    assert.deepEqual(record.response, {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"purged":true}',
    });
    assert.ok(!JSON.stringify(record).includes('region=primary'));
    assertNoSecret(record);
  });

  it('scrubs the secret header values from an answer that echoes them, whole and the token alone, raw, JSON- or URL-encoded', async () => {
    receiver.answer((request) => ({
      status: 200,
      body: JSON.stringify({ echoed: request.headers }) + ` token=${TOKEN_PART} enc=${encodeURIComponent(TOKEN)}`,
    }));
    const record = await runHook(afterHook(), context, { env });
    assert.match(record.response!.body, /\[redacted\]/);
    assertNoSecret(record);
  });

  it('cuts bodies at 2 KB and never leaves part of a secret that straddles the cut', async () => {
    // Secrets early in the body shrink it when scrubbed, so a secret cut where reading stopped moves under 2 KB.
    const early = `${TOKEN_PART} `.repeat(6);
    for (let offset = 2000; offset <= 2140; offset += 3) {
      const body = early + 'x'.repeat(offset - early.length) + TOKEN_PART + 'y'.repeat(5000);
      receiver.answer({ status: 200, body });
      const record = await runHook(afterHook(), context, { env });
      assert.ok(Buffer.byteLength(record.response!.body) <= 2048);
      assert.equal(record.response!.truncated, true);
      for (let length = 6; length <= TOKEN_PART.length; length++) {
        assert.ok(
          !record.response!.body.includes(TOKEN_PART.slice(0, length)),
          `offset ${offset}: a ${length}-character prefix leaked`,
        );
      }
    }
    const big = afterHook({ body: { blob: 'z'.repeat(5000) } });
    receiver.answer({ status: 200 });
    const record = await runHook(big, context, { env });
    assert.ok(Buffer.byteLength(record.request.body!) <= 2048);
    assert.equal(record.request.truncated, true);
  });

  it('fails an unexpected answer with the record of the attempt: retryable for 408, 429 and 5xx, not for another 4xx', async () => {
    for (const [status, retryable] of [
      [500, true],
      [503, true],
      [408, true],
      [429, true],
      [400, false],
      [403, false],
      [302, false],
    ] as const) {
      receiver.answer((request) => ({ status, body: `denied: ${String(request.headers.authorization)}` }));
      const error = await hookFailure(runHook(afterHook(), context, { env }));
      assert.equal(error.kind, 'status');
      assert.equal(error.status, status);
      assert.equal(error.retryable, retryable, `status ${status}`);
      assert.equal(error.record.ok, false);
      assert.equal(error.record.response?.status, status);
      assert.match(
        error.message,
        new RegExp(`Hook flip-front-door \\(after\\) POST .*/routes/sales: answered ${status}, expected 2xx`),
      );
      const failure = error.toApplicationFailure();
      assert.equal(failure.type, 'HookFailed');
      assert.equal(failure.nonRetryable, !retryable);
      assert.deepEqual(failure.details, [error.record]);
    }
  });

  it('takes the statuses expectStatus lists as success, and only those', async () => {
    const hook = afterHook({ method: 'DELETE', body: undefined, expectStatus: [204, 404] });
    receiver.answer({ status: 404 });
    assert.equal((await runHook(hook, context, { env })).ok, true);
    receiver.answer({ status: 200 });
    const error = await hookFailure(runHook(hook, context, { env }));
    assert.match(error.message, /answered 200, expected 204 or 404/);
    assert.equal(error.retryable, false);
  });

  it("ends an attempt at the hook's timeout when the receiver never answers: a retryable timeout", async () => {
    receiver.answer('never');
    const error = await hookFailure(runHook(afterHook({ timeout: '150 ms' }), context, { env }));
    assert.equal(error.kind, 'timeout');
    assert.equal(error.retryable, true);
    assert.equal(error.record.response, undefined);
    assert.match(error.message, /no answer within 150 ms/);
    receiver.answer({ status: 200 });
  });

  it('classifies a refused connection as a retryable network error', async () => {
    const closed = await startReceiver();
    const origin = closed.origin;
    await closed.close();
    const hook = BeforeHookSchema.parse({
      name: 'disable-jobs',
      url: `${origin}/jobs`,
      headers: { Authorization: { env: 'FRONTDOOR_TOKEN' } },
    });
    const error = await hookFailure(runHook(hook, { ...context, phase: 'before' }, { env }));
    assert.equal(error.kind, 'network');
    assert.equal(error.retryable, true);
    assert.equal(error.record.phase, 'before');
  });

  it('sends nothing, and is not retried, when a header names a variable this worker lacks', async () => {
    const before = receiver.requests.length;
    const error = await hookFailure(runHook(afterHook(), context, { env: { CACHE_KEY: API_KEY } }));
    assert.equal(error.kind, 'configuration');
    assert.equal(error.retryable, false);
    assert.match(error.message, /Authorization \(from FRONTDOOR_TOKEN\) is not set on this worker/);
    assert.equal(receiver.requests.length, before);
  });

  it('stops at once, not retryable, when the activity is cancelled', async () => {
    receiver.answer('never');
    const controller = new AbortController();
    const running = runHook(afterHook(), context, { env, abortSignal: controller.signal });
    controller.abort();
    const error = await hookFailure(running);
    assert.equal(error.kind, 'cancelled');
    assert.equal(error.retryable, false);
    receiver.answer({ status: 200 });
  });
});
