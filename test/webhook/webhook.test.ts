/**
 * The HTTP trigger on the time-skipping server, with a worker over a scripted Azure: authenticated starts that answer
 * ids and the UI link, idempotency keys, validation before Temporal, status and reports, decisions, health.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { FogpilotClient, workflowIdFor } from '../../src/client';
import {
  WebhookAuthConfigError,
  createWebhookServer,
  signedRequestHeaders,
  type StartAnswer,
  type StatusAnswer,
  type WebhookError,
} from '../../src/webhook';
import { createTimeSkippingEnvironment, workflowBundle } from '../support/temporal';
import { StartedWorkflows, scriptedScenario, waitFor } from '../support/runbook-harness';

const SECRET = 'webhook-test-secret-0123456789abcdef';
const TOKEN = 'webhook-test-token-0123456789abcdef';
const UI = 'http://ui.test:8233';

let env: TestWorkflowEnvironment;
const started = new StartedWorkflows();
const apps: FastifyInstance[] = [];

before(async () => {
  env = await createTimeSkippingEnvironment();
  await workflowBundle();
});
after(async () => {
  await env?.teardown();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await started.terminateAll(env);
});

function webhookFor(
  taskQueue: string,
  auth: { hmacSecret?: string; bearerToken?: string } = { hmacSecret: SECRET, bearerToken: TOKEN },
) {
  const fogpilot = new FogpilotClient(env.client, taskQueue);
  const app = createWebhookServer({ client: fogpilot, auth, namespace: env.namespace ?? 'default', uiBaseUrl: UI });
  apps.push(app);
  return { app, fogpilot };
}

interface SendOptions {
  auth?: 'hmac' | 'bearer' | 'none';
  headers?: Record<string, string>;
  /** When the request is signed (ms). */
  signedAt?: number;
  /** Sent as is, instead of JSON of `body`. */
  payload?: string;
}

function send(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  options: SendOptions = {},
): Promise<LightMyRequestResponse> {
  const payload = options.payload ?? (body === undefined ? undefined : JSON.stringify(body));
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  if ((options.auth ?? 'hmac') === 'hmac')
    Object.assign(headers, signedRequestHeaders(SECRET, payload ?? '', options.signedAt));
  if (options.auth === 'bearer') headers.authorization = `Bearer ${TOKEN}`;
  Object.assign(headers, options.headers);
  return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

const errorOf = (response: LightMyRequestResponse) => response.json<WebhookError>();

/**
 * Stands in for the trigger's caller authentication, which names each credential's caller (`request.principal`): here
 * the caller is whoever the `x-test-caller` header names.
 */
function identifyCallersByTestHeader(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const caller = request.headers['x-test-caller'];
    if (typeof caller === 'string') request.principal = { kind: 'caller', name: caller };
    done();
  });
}

/** Send options of a request from `caller` (see {@link identifyCallersByTestHeader}). */
const as = (caller: string): SendOptions => ({ headers: { 'x-test-caller': caller } });

describe('the HTTP trigger', { concurrency: 1, timeout: 120_000 }, () => {
  it('starts a drill from a signed request, answers the ids and the Temporal UI link, then serves its report', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const response = await send(app, 'POST', '/v1/runbooks/drDrill', {
        input: { group: s.name, soak: '1 minute', smoke: { write: false } },
        idempotencyKey: 'INC-101',
      });
      assert.equal(response.statusCode, 201, response.body);
      const answer = response.json<StartAnswer>();
      started.add(answer.workflowId, s.lockId);
      assert.equal(answer.workflowId, `fogpilot/drDrill/${s.name}/INC-101`);
      assert.equal(answer.started, true);
      assert.equal(answer.runId, (await fogpilot.handle(answer.workflowId).describe()).runId);
      assert.equal(answer.uiUrl, `${UI}/namespaces/default/workflows/${encodeURIComponent(answer.workflowId)}`);
      assert.equal(answer.statusUrl, `/v1/runbooks/fogpilot/drDrill/${s.name}/INC-101`);
      assert.equal(response.headers.location, answer.statusUrl);

      assert.equal((await fogpilot.result(answer.workflowId)).report?.outcome, 'succeeded');
      for (const url of [answer.statusUrl, `/v1/runbooks/${encodeURIComponent(answer.workflowId)}`]) {
        const status = await send(app, 'GET', url);
        assert.equal(status.statusCode, 200, status.body);
        const report = status.json<StatusAnswer>();
        assert.equal(report.state, 'completed');
        assert.equal(report.outcome, 'succeeded');
        assert.equal(report.runbook, 'drDrill');
        assert.equal(report.report?.drill?.dataLoss, 'none');
        assert.equal(report.runId, answer.runId);
      }
    });
    assert.equal(s.azure.acceptedFailovers.length, 2, 'one failover and one failback');
  });

  it('answers 201 for the first start with an idempotency key and 200 with the same run for a repeat', async () => {
    const s = scriptedScenario(env, started, (azure) => azure.darkLocations.add('eastus'));
    const { app, fogpilot } = webhookFor(s.taskQueue);
    identifyCallersByTestHeader(app);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const first = await send(app, 'POST', '/v1/runbooks/forcedFailover', {
        input: { group: s.name },
        idempotencyKey: 'INC-202',
      });
      assert.equal(first.statusCode, 201, first.body);
      const firstAnswer = first.json<StartAnswer>();
      started.add(firstAnswer.workflowId, s.lockId);
      // The repeat carries the key in the Idempotency-Key header instead of the body.
      const repeat = await send(
        app,
        'POST',
        '/v1/runbooks/forcedFailover',
        { input: { group: s.name } },
        {
          headers: { 'idempotency-key': 'INC-202' },
        },
      );
      assert.equal(repeat.statusCode, 200, repeat.body);
      const repeatAnswer = repeat.json<StartAnswer>();
      assert.equal(repeatAnswer.started, false);
      assert.equal(repeatAnswer.workflowId, firstAnswer.workflowId);
      assert.equal(repeatAnswer.runId, firstAnswer.runId);
      assert.equal(repeatAnswer.workflowId, `fogpilot/forcedFailover/${s.name}/INC-202`);

      // The incident is closed without failing over: a reject through the webhook ends the one run.
      await waitFor(
        async () => (await send(app, 'GET', repeatAnswer.statusUrl)).json<StatusAnswer>().awaiting?.kind === 'approval',
        'the approval wait',
      );
      const reject = await send(
        app,
        'POST',
        `${repeatAnswer.statusUrl}/signals/reject`,
        { reason: 'INC-202: east recovered' },
        as('incident-bot'),
      );
      assert.equal(reject.statusCode, 202, reject.body);
      assert.equal((await fogpilot.result(firstAnswer.workflowId)).failure?.type, 'ApprovalRejected');
      const ended = (await send(app, 'GET', repeatAnswer.statusUrl)).json<StatusAnswer>();
      assert.equal(ended.state, 'failed');
      assert.equal(ended.failure?.type, 'ApprovalRejected');
    });
    assert.equal(s.azure.acceptedFailovers.length, 0, 'two starts and a reject: no failover');
  });

  it('refuses unsigned, badly signed, stale and replayed requests with a message that says why, and never echoes a secret', async () => {
    const { app } = webhookFor('unused-queue');
    const body = { input: { group: 'fog-sales' } };

    const unsigned = await send(app, 'POST', '/v1/runbooks/drDrill', body, { auth: 'none' });
    assert.equal(unsigned.statusCode, 401);
    assert.equal(errorOf(unsigned).error, 'authentication-required');
    assert.match(errorOf(unsigned).message, /X-Fogpilot-Signature.*Authorization: Bearer/);
    assert.equal(unsigned.headers['www-authenticate'], 'Bearer realm="fogpilot"');

    const payload = JSON.stringify(body);
    const forged = await send(app, 'POST', '/v1/runbooks/drDrill', undefined, {
      auth: 'none',
      payload,
      headers: signedRequestHeaders('not-the-secret-0123456789', payload),
    });
    assert.equal(forged.statusCode, 401);
    assert.equal(errorOf(forged).error, 'signature-mismatch');

    // Signed, then the body changed on the way.
    const tampered = await send(app, 'POST', '/v1/runbooks/drDrill', undefined, {
      auth: 'none',
      payload: JSON.stringify({ input: { group: 'fog-other' } }),
      headers: signedRequestHeaders(SECRET, payload),
    });
    assert.equal(tampered.statusCode, 401);
    assert.equal(errorOf(tampered).error, 'signature-mismatch');

    const stale = await send(app, 'POST', '/v1/runbooks/drDrill', body, { signedAt: Date.now() - 10 * 60_000 });
    assert.equal(stale.statusCode, 401);
    assert.equal(errorOf(stale).error, 'timestamp-outside-window');
    assert.match(errorOf(stale).message, /60\d s in the past.*within 300 s.*clock/);

    const wrongToken = await send(app, 'GET', '/v1/runbooks/fogpilot/x', undefined, {
      auth: 'none',
      headers: { authorization: 'Bearer not-the-token' },
    });
    assert.equal(wrongToken.statusCode, 401);
    assert.equal(errorOf(wrongToken).error, 'invalid-token');

    // A signed signal that passes authentication (404: no such run), sent again byte for byte.
    const signalUrl = '/v1/runbooks/fogpilot/drDrill/nope/INC-1/signals/abort';
    const signalBody = JSON.stringify({ by: 'incident-bot', reason: 'INC-1' });
    const once = { auth: 'none' as const, payload: signalBody, headers: signedRequestHeaders(SECRET, signalBody) };
    const firstTime = await send(app, 'POST', signalUrl, undefined, once);
    assert.equal(firstTime.statusCode, 404, firstTime.body);
    const replayed = await send(app, 'POST', signalUrl, undefined, once);
    assert.equal(replayed.statusCode, 409);
    assert.equal(errorOf(replayed).error, 'replayed-request');
    assert.match(errorOf(replayed).message, /sign the request again/);
    // Reads change nothing: a poller may read twice with the same signature.
    const read = { auth: 'none' as const, headers: signedRequestHeaders(SECRET, '') };
    for (let poll = 0; poll < 2; poll++) {
      assert.equal(
        (await send(app, 'GET', '/v1/runbooks/fogpilot/drDrill/nope/INC-1', undefined, read)).statusCode,
        404,
      );
    }

    for (const response of [unsigned, forged, tampered, stale, wrongToken, replayed]) {
      assert.ok(!response.body.includes(SECRET) && !response.body.includes(TOKEN), 'no secret in an answer');
    }
  });

  it('accepts a bearer token instead of a signature, and refuses one where only signatures are configured', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const response = await send(
        app,
        'POST',
        '/v1/runbooks/readinessCheck',
        { input: { group: s.name } },
        { auth: 'bearer' },
      );
      assert.equal(response.statusCode, 201, response.body);
      const { workflowId } = response.json<StartAnswer>();
      started.add(workflowId);
      assert.ok((await fogpilot.result(workflowId)).report, 'the readiness check ran');
    });

    const { app: hmacOnly } = webhookFor(s.taskQueue, { hmacSecret: SECRET });
    const refused = await send(
      hmacOnly,
      'POST',
      '/v1/runbooks/readinessCheck',
      { input: { group: s.name } },
      { auth: 'bearer' },
    );
    assert.equal(refused.statusCode, 401);
    assert.equal(errorOf(refused).error, 'bearer-not-accepted');
    assert.equal(refused.headers['www-authenticate'], undefined);
  });

  it('refuses a bad input with 400 naming each field, and starts nothing', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue);
    const input = { group: s.name, vCores: 6, storageSizeInGB: 100 };
    const response = await send(app, 'POST', '/v1/runbooks/scaleGroup', { input, idempotencyKey: 'INC-303' });
    assert.equal(response.statusCode, 400);
    const error = errorOf(response);
    assert.deepEqual(
      error.problems?.map((problem) => problem.field),
      ['input.vCores', 'input.storageSizeInGB'],
    );
    assert.match(error.message, /Nothing was started/);
    const wouldBe = workflowIdFor('scaleGroup', input, { idempotencyKey: 'INC-303' });
    await assert.rejects(fogpilot.handle(wouldBe).describe(), WorkflowNotFoundError);

    const badKey = await send(app, 'POST', '/v1/runbooks/drDrill', {
      input: { group: s.name },
      idempotencyKey: 'has spaces',
    });
    assert.equal(badKey.statusCode, 400);
    assert.deepEqual(
      errorOf(badKey).problems?.map((problem) => problem.field),
      ['idempotencyKey'],
    );

    const conflicting = await send(
      app,
      'POST',
      '/v1/runbooks/drDrill',
      { input: { group: s.name }, idempotencyKey: 'INC-1' },
      {
        headers: { 'idempotency-key': 'INC-2' },
      },
    );
    assert.equal(conflicting.statusCode, 400);
    assert.match(errorOf(conflicting).message, /Idempotency-Key header and the body field idempotencyKey differ/);

    const noInput = await send(app, 'POST', '/v1/runbooks/drDrill', { group: s.name });
    assert.equal(noInput.statusCode, 400);
    assert.deepEqual(
      errorOf(noInput).problems?.map((problem) => problem.field),
      ['input', 'group'],
    );
  });

  it('answers 404 naming the known runbooks for an unknown one, 413 for a large body, 415 for another content type, 400 for broken JSON', async () => {
    const { app } = webhookFor('unused-queue');
    const unknown = await send(app, 'POST', '/v1/runbooks/deleteEverything', { input: { group: 'fog-sales' } });
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorOf(unknown).error, 'unknown-runbook');
    assert.match(errorOf(unknown).message, /No runbook named "deleteEverything".*plannedFailover, forcedFailover/);

    const large = await send(
      app,
      'POST',
      '/v1/runbooks/drDrill',
      { input: { group: 'x'.repeat(70_000) } },
      { auth: 'bearer' },
    );
    assert.equal(large.statusCode, 413);
    assert.equal(errorOf(large).error, 'body-too-large');

    const text = await send(app, 'POST', '/v1/runbooks/drDrill', undefined, {
      auth: 'bearer',
      payload: 'group=fog-sales',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.statusCode, 415);
    assert.match(errorOf(text).message, /Content-Type: application\/json/);

    const broken = await send(app, 'POST', '/v1/runbooks/drDrill', undefined, { payload: '{"input": ' });
    assert.equal(broken.statusCode, 400);
    assert.equal(errorOf(broken).error, 'malformed-json');
  });

  it('shows a running forced failover awaiting approval; the requester\'s own approve is 403, a body naming "by" is 400, and another caller\'s approve lets it finish', async () => {
    const s = scriptedScenario(env, started, (azure) => azure.darkLocations.add('eastus'));
    const { app, fogpilot } = webhookFor(s.taskQueue);
    identifyCallersByTestHeader(app);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const start = await send(app, 'POST', '/v1/runbooks/forcedFailover', {
        input: { group: s.name, requestedBy: 'webhook:incident-bot' },
        idempotencyKey: 'INC-404',
      });
      assert.equal(start.statusCode, 201, start.body);
      const { workflowId, statusUrl } = start.json<StartAnswer>();
      started.add(workflowId, s.lockId);

      let status: StatusAnswer | undefined;
      await waitFor(async () => {
        status = (await send(app, 'GET', statusUrl)).json<StatusAnswer>();
        return status.awaiting?.kind === 'approval';
      }, 'the webhook to show the approval wait');
      assert.equal(status?.state, 'running');
      assert.equal(status?.runbook, 'forcedFailover');
      assert.equal(status?.lockHolder?.workflowId, s.lockId, 'the lock holder waits for the decision');

      const incomplete = await send(app, 'POST', `${statusUrl}/signals/approve`, {}, as('oncall-lead'));
      assert.equal(incomplete.statusCode, 400);
      assert.deepEqual(
        errorOf(incomplete).problems?.map((problem) => problem.field),
        ['reason'],
      );
      const named = await send(
        app,
        'POST',
        `${statusUrl}/signals/approve`,
        { by: 'oncall-lead', reason: 'INC-404' },
        as('incident-bot'),
      );
      assert.equal(named.statusCode, 400);
      assert.match(errorOf(named).message, /the approver is your credential's caller/);
      const unknownSignal = await send(app, 'POST', `${statusUrl}/signals/hurry`, { by: 'a', reason: 'b' });
      assert.equal(unknownSignal.statusCode, 404);

      const anonymous = await send(app, 'POST', `${statusUrl}/signals/approve`, { reason: 'who am I' });
      assert.equal(anonymous.statusCode, 403, 'a credential that names no caller decides nothing');
      assert.equal(errorOf(anonymous).error, 'caller-unknown');

      const own = await send(app, 'POST', `${statusUrl}/signals/approve`, { reason: 'mine' }, as('incident-bot'));
      assert.equal(own.statusCode, 403, own.body);
      assert.equal(errorOf(own).error, 'approval-refused');
      assert.match(errorOf(own).message, /webhook:incident-bot requested this run and may not also approve it/);
      assert.match(String(errorOf(own).remedy), /Ask a second person/);
      assert.equal(s.azure.acceptedFailovers.length, 0, 'nothing sent before the approval');

      const approve = await send(
        app,
        'POST',
        `${statusUrl}/signals/approve`,
        { reason: 'INC-404: east is down' },
        as('oncall-lead'),
      );
      assert.equal(approve.statusCode, 202, approve.body);
      assert.equal(approve.json<{ by: string }>().by, 'webhook:oncall-lead');

      assert.equal((await fogpilot.result(workflowId)).report?.outcome, 'succeeded');
      const ended = (await send(app, 'GET', statusUrl)).json<StatusAnswer>();
      assert.equal(ended.state, 'completed');
      assert.equal(ended.report?.approval?.by, 'webhook:oncall-lead');
      assert.equal(ended.report?.approval?.requestedBy, 'webhook:incident-bot');
      assert.equal(ended.report?.approval?.reason, 'INC-404: east is down');
      assert.equal(ended.report?.refusals?.[0]?.by, 'webhook:incident-bot');

      const late = await send(app, 'POST', `${statusUrl}/signals/abort`, { by: 'incident-bot', reason: 'too late' });
      assert.equal(late.statusCode, 409);
      assert.equal(errorOf(late).error, 'runbook-ended');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('answers 404 for a workflow id it does not know, and for a signal to one', async () => {
    const { app } = webhookFor('unused-queue');
    const status = await send(app, 'GET', '/v1/runbooks/fogpilot/forcedFailover/fog-none/INC-0');
    assert.equal(status.statusCode, 404);
    assert.equal(errorOf(status).error, 'runbook-not-found');
    const signal = await send(app, 'POST', '/v1/runbooks/fogpilot/forcedFailover/fog-none/INC-0/signals/reject', {
      reason: 'b',
    });
    assert.equal(signal.statusCode, 404);
  });

  it('answers /healthz and /readyz without authentication, and /readyz 503 when Temporal does not answer', async () => {
    const { app } = webhookFor('unused-queue');
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(ready.json<{ status: string }>().status, 'ready');

    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1 second' });
    try {
      const down = createWebhookServer({
        client: new FogpilotClient(new Client({ connection }), 'unused-queue'),
        auth: { bearerToken: TOKEN },
        namespace: 'default',
        readinessTimeoutInMs: 1_000,
      });
      apps.push(down);
      assert.equal((await down.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const notReady = await down.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      assert.match(notReady.json<{ message: string }>().message, /Temporal did not answer for namespace default/);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  it('refuses to be built without a secret or a token', () => {
    assert.throws(
      () => createWebhookServer({ client: new FogpilotClient(env.client), auth: {}, namespace: 'default' }),
      (error: unknown) => error instanceof WebhookAuthConfigError && /FOGPILOT_WEBHOOK_HMAC_SECRET/.test(error.message),
    );
  });
});
