/**
 * The HTTP trigger on the time-skipping server, with a worker over a scripted Azure: authenticated starts that answer
 * ids and the UI link, idempotency keys, validation before Temporal, status and reports, decisions, health; who may
 * start what (the access section), signatures bound to the route, rate limits, request ids, the replay store.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { FogpilotClient, RunbookTypes, workflowIdFor, type RunbookType } from '../../src/client';
import { CLOUD_ARM_ENDPOINTS, ConfigSchema, type FogpilotConfig } from '../../src/config/config';
import {
  WebhookAuthConfigError,
  createWebhookServer,
  signedRequestHeaders,
  webhookCredentials,
  type StartAnswer,
  type StatusAnswer,
  type WebhookError,
  type WebhookServerOptions,
} from '../../src/webhook';
import { createTimeSkippingEnvironment, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { StartedWorkflows, scriptedScenario, waitFor, type ScriptedScenario } from '../support/runbook-harness';

const SECRET = 'webhook-test-secret-0123456789abcdef';
const TOKEN = 'webhook-test-token-0123456789abcdef';
const UI = 'http://ui.test:8233';
const ALL_RUNBOOKS = Object.values(RunbookTypes);

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

/** fogpilot.yaml as parsed: `access` and `inventory` sections as given. */
function configOf(sections: { access?: unknown; inventory?: Record<string, unknown> }): FogpilotConfig {
  return { ...ConfigSchema.parse(sections), source: '(test)', armEndpoint: CLOUD_ARM_ENDPOINTS.AzurePublicCloud };
}

/** The inventory entry of a scripted group. */
function inventoryOf(...scenarios: ScriptedScenario[]): Record<string, unknown> {
  return Object.fromEntries(scenarios.map((s) => [s.name, { ...s.azure.coordinates }]));
}

/**
 * Two callers that may do everything (the incident bot signs, the pager sends a bearer token), with a rate limit high
 * enough for the tests that poll.
 */
const EVERYTHING = {
  start: ALL_RUNBOOKS,
  groups: ['*'],
  approve: true,
  preApprove: true,
  rateLimit: { perMinute: 100_000 },
};
const TRUSTED_ACCESS = {
  callers: {
    'incident-bot': { credential: { hmacKeyEnv: 'TEST_BOT_KEY' }, ...EVERYTHING },
    pager: { credential: { bearerTokenEnv: 'TEST_PAGER_TOKEN' }, ...EVERYTHING },
  },
};
const CREDENTIAL_ENV = { TEST_BOT_KEY: SECRET, TEST_PAGER_TOKEN: TOKEN };

function webhookFor(taskQueue: string, options: Partial<WebhookServerOptions> & { access?: unknown } = {}) {
  const fogpilot = new FogpilotClient(env.client, taskQueue);
  const { access = TRUSTED_ACCESS, ...rest } = options;
  const config = rest.config ?? configOf({ access });
  const app = createWebhookServer({
    client: fogpilot,
    credentials:
      rest.credentials ??
      (rest.auth || !config.access ? undefined : webhookCredentials(config.access, CREDENTIAL_ENV).credentials),
    namespace: env.namespace ?? 'default',
    uiBaseUrl: UI,
    ...rest,
    config,
  });
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
  /** The key to sign with (default: the incident bot's). */
  secret?: string;
  /** The bearer token to send (default: the pager's). */
  token?: string;
}

/** Sends a request the way a caller would: signed over its method, URL, Idempotency-Key header and body. */
function send(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  options: SendOptions = {},
): Promise<LightMyRequestResponse> {
  const payload = options.payload ?? (body === undefined ? undefined : JSON.stringify(body));
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  const idempotencyKey = options.headers?.['idempotency-key'];
  if ((options.auth ?? 'hmac') === 'hmac') {
    Object.assign(
      headers,
      signedRequestHeaders(
        options.secret ?? SECRET,
        { method, path: url, idempotencyKey, body: payload ?? '' },
        options.signedAt,
      ),
    );
  }
  if (options.auth === 'bearer') headers.authorization = `Bearer ${options.token ?? TOKEN}`;
  Object.assign(headers, options.headers);
  return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

const errorOf = (response: LightMyRequestResponse) => response.json<WebhookError>();

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
        // The pager, not the incident bot that started it: a decision is a second person's.
        { auth: 'bearer' },
      );
      assert.equal(reject.statusCode, 202, reject.body);
      assert.equal((await fogpilot.result(firstAnswer.workflowId)).failure?.type, 'ApprovalRejected');
      const ended = (await send(app, 'GET', repeatAnswer.statusUrl)).json<StatusAnswer>();
      assert.equal(ended.state, 'failed');
      assert.equal(ended.failure?.type, 'ApprovalRejected');
    });
    assert.equal(s.azure.acceptedFailovers.length, 0, 'two starts and a reject: no failover');
  });

  it("starts both of two groups in one resource group sent with one idempotency key, and a dry run does not take the real run's key", async () => {
    // Only the starts are under test: no worker polls this queue, and the runs are terminated after the test.
    const { app } = webhookFor(uniqueTaskQueue());
    const group = (name: string) =>
      `/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-fogpilot/providers/Microsoft.Sql/locations/eastus/instanceFailoverGroups/${name}`;
    const answers: StartAnswer[] = [];
    for (const input of [
      { group: group('fog-orders') },
      { group: group('fog-billing') },
      { group: 'fog-sales', dryRun: true },
      { group: 'fog-sales' },
    ]) {
      const response = await send(app, 'POST', '/v1/runbooks/forcedFailover', { input, idempotencyKey: 'INC-404' });
      assert.equal(response.statusCode, 201, `${JSON.stringify(input)}: ${response.body}`);
      answers.push(response.json<StartAnswer>());
      started.add(answers.at(-1)!.workflowId);
    }
    assert.equal(new Set(answers.map((answer) => answer.workflowId)).size, 4);
    assert.deepEqual(
      answers.map((answer) => answer.statusUrl),
      [
        '/v1/runbooks/fogpilot/forcedFailover/00000000-1111-2222-3333-444444444444/rg-fogpilot/fog-orders/INC-404',
        '/v1/runbooks/fogpilot/forcedFailover/00000000-1111-2222-3333-444444444444/rg-fogpilot/fog-billing/INC-404',
        '/v1/runbooks/fogpilot/forcedFailover/fog-sales/dry-run/INC-404',
        '/v1/runbooks/fogpilot/forcedFailover/fog-sales/INC-404',
      ],
    );
    const status = await send(app, 'GET', answers[0]!.statusUrl);
    assert.equal(status.statusCode, 200, status.body);
    assert.equal(status.json<StatusAnswer>().runId, answers[0]!.runId);
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
      headers: signedRequestHeaders('not-the-secret-0123456789', {
        method: 'POST',
        path: '/v1/runbooks/drDrill',
        body: payload,
      }),
    });
    assert.equal(forged.statusCode, 401);
    assert.equal(errorOf(forged).error, 'signature-mismatch');

    // Signed, then the body changed on the way.
    const tampered = await send(app, 'POST', '/v1/runbooks/drDrill', undefined, {
      auth: 'none',
      payload: JSON.stringify({ input: { group: 'fog-other' } }),
      headers: signedRequestHeaders(SECRET, { method: 'POST', path: '/v1/runbooks/drDrill', body: payload }),
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
    const once = {
      auth: 'none' as const,
      payload: signalBody,
      headers: signedRequestHeaders(SECRET, { method: 'POST', path: signalUrl, body: signalBody }),
    };
    const firstTime = await send(app, 'POST', signalUrl, undefined, once);
    assert.equal(firstTime.statusCode, 404, firstTime.body);
    const replayed = await send(app, 'POST', signalUrl, undefined, once);
    assert.equal(replayed.statusCode, 409);
    assert.equal(errorOf(replayed).error, 'replayed-request');
    assert.match(errorOf(replayed).message, /sign the request again/);
    // Reads change nothing: a poller may read twice with the same signature.
    const readUrl = '/v1/runbooks/fogpilot/drDrill/nope/INC-1';
    const read = { auth: 'none' as const, headers: signedRequestHeaders(SECRET, { method: 'GET', path: readUrl }) };
    for (let poll = 0; poll < 2; poll++) {
      assert.equal((await send(app, 'GET', readUrl, undefined, read)).statusCode, 404);
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

    const { app: hmacOnly } = webhookFor(s.taskQueue, {
      access: { callers: { 'incident-bot': TRUSTED_ACCESS.callers['incident-bot'] } },
    });
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
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const start = await send(app, 'POST', '/v1/runbooks/forcedFailover', {
        input: { group: s.name },
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

      const incomplete = await send(app, 'POST', `${statusUrl}/signals/approve`, {}, { auth: 'bearer' });
      assert.equal(incomplete.statusCode, 400);
      assert.deepEqual(
        errorOf(incomplete).problems?.map((problem) => problem.field),
        ['reason'],
      );
      const named = await send(app, 'POST', `${statusUrl}/signals/approve`, { by: 'pager', reason: 'INC-404' });
      assert.equal(named.statusCode, 400);
      assert.match(errorOf(named).message, /the approver is your credential's caller/);
      const unknownSignal = await send(app, 'POST', `${statusUrl}/signals/hurry`, { by: 'a', reason: 'b' });
      assert.equal(unknownSignal.statusCode, 404);

      // The incident bot signed the start: its own approval is refused.
      const own = await send(app, 'POST', `${statusUrl}/signals/approve`, { reason: 'mine' });
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
        { auth: 'bearer' },
      );
      assert.equal(approve.statusCode, 202, approve.body);
      assert.equal(approve.json<{ by: string }>().by, 'webhook:pager');

      assert.equal((await fogpilot.result(workflowId)).report?.outcome, 'succeeded');
      const ended = (await send(app, 'GET', statusUrl)).json<StatusAnswer>();
      assert.equal(ended.state, 'completed');
      assert.equal(ended.report?.approval?.by, 'webhook:pager');
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

/** A valid input of each runbook on `group`. */
const INPUT_OF: Record<RunbookType, (group: string) => Record<string, unknown>> = {
  plannedFailover: (group) => ({ group }),
  forcedFailover: (group) => ({ group }),
  failback: (group) => ({ group }),
  scaleGroup: (group) => ({ group, vCores: 8 }),
  drDrill: (group) => ({ group }),
  fleetFailover: (group) => ({ groups: [group] }),
  readinessCheck: (group) => ({ group }),
  reprotect: (group) => ({ group, newSecondaryInstance: 'fog-sales-centralus' }),
  establishGroup: (name) => ({
    name,
    primaryInstance: 'fog-sales-eastus',
    secondaryInstance: 'fog-sales-westus',
  }),
  watchGroups: (group) => ({ groups: [group] }),
  restoreDatabase: (group) => ({ group, database: 'sales', pointInTime: '2026-12-01T00:00:00Z' }),
  // Not a group's runbook: its resources are outside the inventory, which a grant on one group does not cover.
  protectWorkload: () => ({
    cosmosAccounts: [
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.DocumentDB/databaseAccounts/fog-app',
    ],
  }),
};

const callerWith = (credential: Record<string, string>, permissions: Record<string, unknown>) => ({
  credential,
  rateLimit: { perMinute: 100_000 },
  ...permissions,
});

/** The input a workflow was started with, as Temporal holds it. */
async function startedInput(workflowId: string): Promise<Record<string, unknown>> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as Record<string, unknown>;
}

async function assertNotStarted(fogpilot: FogpilotClient, workflowId: string, what: string): Promise<void> {
  await assert.rejects(fogpilot.handle(workflowId).describe(), WorkflowNotFoundError, `${what}: ${workflowId} started`);
}

describe('who may start what through the trigger', { concurrency: 1, timeout: 120_000 }, () => {
  it('refuses a caller without the permission for each runbook with 403, and starts nothing', async () => {
    const s = scriptedScenario(env, started);
    const OUTSIDER_KEY = 'outsider-key-0123456789abcdef';
    const READER_TOKEN = 'reader-token-0123456789abcdef';
    const { app, fogpilot } = webhookFor(s.taskQueue, {
      config: configOf({
        inventory: { ...inventoryOf(s), 'fog-elsewhere': { ...s.azure.coordinates, name: 'fog-elsewhere' } },
        access: {
          callers: {
            // Every runbook, but on another group.
            outsider: callerWith({ hmacKeyEnv: 'OUTSIDER_KEY' }, { start: ALL_RUNBOOKS, groups: ['fog-elsewhere'] }),
            // Every group, but no runbook: only read-only ones and dry runs.
            reader: callerWith({ bearerTokenEnv: 'READER_TOKEN' }, { groups: ['*'] }),
          },
        },
      }),
      credentials: [
        { caller: 'outsider', method: 'hmac', secret: OUTSIDER_KEY },
        { caller: 'reader', method: 'bearer', secret: READER_TOKEN },
      ],
    });
    for (const runbook of ALL_RUNBOOKS) {
      const input = INPUT_OF[runbook](s.name);
      const idempotencyKey = `DENY-${runbook}`;
      const refusals: [string, SendOptions][] = [['outsider', { secret: OUTSIDER_KEY }]];
      if (runbook !== RunbookTypes.readinessCheck) refusals.push(['reader', { auth: 'bearer', token: READER_TOKEN }]);
      for (const [caller, options] of refusals) {
        const response = await send(app, 'POST', `/v1/runbooks/${runbook}`, { input, idempotencyKey }, options);
        assert.equal(response.statusCode, 403, `${caller} ${runbook}: ${response.body}`);
        const error = errorOf(response);
        assert.equal(error.error, 'forbidden');
        assert.match(error.message, new RegExp(`webhook:${caller} may not`), `${caller} ${runbook}`);
        assert.match(error.message, /Nothing was started/);
        assert.match(error.message, new RegExp(`access\\.callers\\.${caller}`), 'the message says where to grant it');
        await assertNotStarted(fogpilot, workflowIdFor(runbook, input, { idempotencyKey }), `${caller} ${runbook}`);
      }
    }
  });

  it('starts a runbook for a caller granted it on the group, with requestedBy set from its credential', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue, {
      config: configOf({
        inventory: inventoryOf(s),
        access: {
          callers: {
            'incident-bot': callerWith(
              { hmacKeyEnv: 'TEST_BOT_KEY' },
              { start: ['plannedFailover'], groups: [s.name] },
            ),
          },
        },
      }),
      credentials: [{ caller: 'incident-bot', method: 'hmac', secret: SECRET }],
    });
    const response = await send(app, 'POST', '/v1/runbooks/plannedFailover', {
      input: { group: s.name },
      idempotencyKey: 'ALLOW-1',
    });
    assert.equal(response.statusCode, 201, response.body);
    const { workflowId } = response.json<StartAnswer>();
    started.add(workflowId, s.lockId);
    assert.equal((await startedInput(workflowId)).requestedBy, 'webhook:incident-bot');

    // The requester is the credential's caller: a body cannot name another.
    const input = { group: s.name, requestedBy: 'someone-else' };
    const claimed = await send(app, 'POST', '/v1/runbooks/plannedFailover', { input, idempotencyKey: 'ALLOW-2' });
    assert.equal(claimed.statusCode, 400, claimed.body);
    assert.deepEqual(
      errorOf(claimed).problems?.map((problem) => problem.field),
      ['input.requestedBy'],
    );
    assert.match(errorOf(claimed).message, /sets requestedBy from your credential \(webhook:incident-bot\)/);
    await assertNotStarted(fogpilot, workflowIdFor('plannedFailover', input, { idempotencyKey: 'ALLOW-2' }), 'claimed');
  });

  it('refuses a fleet failover over a region when the caller lacks one of the inventory groups there', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue, {
      config: configOf({
        inventory: { ...inventoryOf(s), 'fog-neighbour': { ...s.azure.coordinates, name: 'fog-neighbour' } },
        access: {
          callers: {
            'incident-bot': callerWith({ hmacKeyEnv: 'TEST_BOT_KEY' }, { start: ['fleetFailover'], groups: [s.name] }),
          },
        },
      }),
      credentials: [{ caller: 'incident-bot', method: 'hmac', secret: SECRET }],
    });
    const input = { region: 'East US' };
    const response = await send(app, 'POST', '/v1/runbooks/fleetFailover', { input, idempotencyKey: 'REGION-1' });
    assert.equal(response.statusCode, 403, response.body);
    assert.match(errorOf(response).message, /may not act on fog-neighbour/);
    await assertNotStarted(fogpilot, workflowIdFor('fleetFailover', input, { idempotencyKey: 'REGION-1' }), 'fleet');
  });

  it('without an access section, refuses a plannedFailover and starts a readinessCheck and a dry-run plannedFailover', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue, {
      config: configOf({ inventory: inventoryOf(s) }),
      auth: { hmacSecret: SECRET },
    });
    const real = { group: s.name };
    const refused = await send(app, 'POST', '/v1/runbooks/plannedFailover', {
      input: real,
      idempotencyKey: 'LEGACY-1',
    });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(
      errorOf(refused).message,
      /no access section: only read-only runbooks \(readinessCheck\) and dry runs/,
    );
    await assertNotStarted(fogpilot, workflowIdFor('plannedFailover', real, { idempotencyKey: 'LEGACY-1' }), 'real');

    for (const [runbook, input] of [
      ['readinessCheck', { group: s.name }],
      ['plannedFailover', { group: s.name, dryRun: true }],
    ] as const) {
      const response = await send(app, 'POST', `/v1/runbooks/${runbook}`, { input, idempotencyKey: 'LEGACY-2' });
      assert.equal(response.statusCode, 201, `${runbook}: ${response.body}`);
      const { workflowId } = response.json<StartAnswer>();
      started.add(workflowId, s.lockId);
      assert.equal((await startedInput(workflowId)).requestedBy, 'webhook:default');
    }
  });

  it('refuses a signed body replayed to another route, with another Idempotency-Key, or a reject sent as approve', async () => {
    const s = scriptedScenario(env, started);
    const { app, fogpilot } = webhookFor(s.taskQueue);
    const body = JSON.stringify({ input: { group: s.name } });
    const asReadiness = signedRequestHeaders(SECRET, {
      method: 'POST',
      path: '/v1/runbooks/readinessCheck',
      body,
      idempotencyKey: 'SIG-1',
    });
    const rerouted = await send(app, 'POST', '/v1/runbooks/plannedFailover', undefined, {
      auth: 'none',
      payload: body,
      headers: asReadiness,
    });
    assert.equal(rerouted.statusCode, 401, rerouted.body);
    assert.equal(errorOf(rerouted).error, 'signature-mismatch');
    await assertNotStarted(
      fogpilot,
      workflowIdFor('plannedFailover', { group: s.name }, { idempotencyKey: 'SIG-1' }),
      'rerouted',
    );

    const rekeyed = await send(app, 'POST', '/v1/runbooks/readinessCheck', undefined, {
      auth: 'none',
      payload: body,
      headers: { ...asReadiness, 'idempotency-key': 'SIG-2' },
    });
    assert.equal(rekeyed.statusCode, 401, rekeyed.body);
    assert.equal(errorOf(rekeyed).error, 'signature-mismatch');
    await assertNotStarted(
      fogpilot,
      workflowIdFor('readinessCheck', { group: s.name }, { idempotencyKey: 'SIG-2' }),
      'rekeyed',
    );

    const signals = '/v1/runbooks/fogpilot/forcedFailover/fog-none/SIG-3/signals';
    const decision = JSON.stringify({ reason: 'SIG-3: east recovered' });
    const asReject = signedRequestHeaders(SECRET, { method: 'POST', path: `${signals}/reject`, body: decision });
    const asApprove = await send(app, 'POST', `${signals}/approve`, undefined, {
      auth: 'none',
      payload: decision,
      headers: asReject,
    });
    assert.equal(asApprove.statusCode, 401, asApprove.body);
    assert.equal(errorOf(asApprove).error, 'signature-mismatch');
    // The same signature where it was meant to go passes authentication (404: there is no such run).
    const asSigned = await send(app, 'POST', `${signals}/reject`, undefined, {
      auth: 'none',
      payload: decision,
      headers: asReject,
    });
    assert.equal(asSigned.statusCode, 404, asSigned.body);
  });
});

/** A pino logger whose lines a test reads back, parsed. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('the trigger under load, failure and restart', { concurrency: 1, timeout: 120_000 }, () => {
  it("refuses the request past a caller's burst with 429 and Retry-After, while another caller still gets through", async () => {
    // The server's clock stands still: no token comes back during the burst, however slow the machine.
    const frozen = Date.now();
    const { app } = webhookFor('unused-queue', {
      now: () => frozen,
      access: {
        callers: {
          'incident-bot': callerWith({ hmacKeyEnv: 'TEST_BOT_KEY' }, { rateLimit: { perMinute: 3 } }),
          pager: callerWith({ bearerTokenEnv: 'TEST_PAGER_TOKEN' }, { rateLimit: { perMinute: 3 } }),
        },
      },
    });
    // An empty workflow id is answered 404 by the route itself: authenticated, counted, no Temporal call.
    const route = '/v1/runbooks/';
    for (let request = 1; request <= 3; request++) {
      assert.equal((await send(app, 'GET', route)).statusCode, 404, `request ${request} of the burst`);
    }
    const fourth = await send(app, 'GET', route);
    assert.equal(fourth.statusCode, 429, fourth.body);
    assert.equal(errorOf(fourth).error, 'rate-limited');
    assert.equal(fourth.headers['retry-after'], '20');
    assert.match(
      errorOf(fourth).message,
      /incident-bot sent more than 3 requests a minute.*access\.callers\.incident-bot\.rateLimit/,
    );
    assert.equal(
      (await send(app, 'GET', route, undefined, { auth: 'bearer' })).statusCode,
      404,
      'the pager is not held back',
    );
  });

  it('answers /readyz 503 with a generic message and a request id, the cause only in the log line with that id', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1 second' });
    const { logger, lines } = capturedLogger();
    try {
      const down = createWebhookServer({
        client: new FogpilotClient(new Client({ connection }), 'unused-queue'),
        auth: { bearerToken: TOKEN },
        namespace: 'default',
        readinessTimeoutInMs: 1_000,
        logger,
      });
      apps.push(down);
      const notReady = await down.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      const body = notReady.json<{ status: string; error: string; message: string; requestId: string }>();
      assert.equal(body.status, 'not-ready');
      assert.equal(body.error, 'temporal-unavailable');
      assert.equal(body.requestId, notReady.headers['x-request-id']);
      assert.doesNotMatch(notReady.body, /127\.0\.0\.1|ECONNREFUSED|deadline|connect/i, 'no internal error text');
      const logged = lines.find(
        (line) => line.requestId === body.requestId && line.msg === 'not ready: Temporal did not answer',
      );
      assert.ok(logged, JSON.stringify(lines));
      assert.ok(typeof logged.detail === 'string' && logged.detail.length > 0, 'the cause is in the log');
    } finally {
      await connection.close().catch(() => undefined);
    }
  });

  it('answers a failed start 502 with a generic message and a request id, the cause only in the log line with that id', async () => {
    const { logger, lines } = capturedLogger();
    const failing = new FogpilotClient(env.client, 'unused-queue');
    failing.start = () => Promise.reject(new Error('internal: history shard 7 at 10.20.30.40:7234 refused'));
    const app = createWebhookServer({
      client: failing,
      auth: { bearerToken: TOKEN },
      namespace: 'default',
      logger,
      config: configOf({}),
    });
    apps.push(app);
    const response = await send(
      app,
      'POST',
      '/v1/runbooks/readinessCheck',
      { input: { all: true } },
      { auth: 'bearer' },
    );
    assert.equal(response.statusCode, 502, response.body);
    const body = response.json<WebhookError & { requestId: string }>();
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId']);
    assert.equal(body.error, 'temporal-error');
    assert.equal(body.requestId, response.headers['x-request-id']);
    assert.doesNotMatch(response.body, /shard|10\.20\.30\.40|internal:/);
    const logged = lines.find((line) => line.requestId === body.requestId && line.msg === 'webhook request failed');
    assert.match(String(logged?.detail), /history shard 7 at 10\.20\.30\.40/);
  });

  it('refuses after a restart a signed request it accepted before, when both use the same state directory', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'fogpilot-webhook-state-'));
    try {
      const url = '/v1/runbooks/scaleGroup';
      const payload = JSON.stringify({ input: { group: 'fog-sales', vCores: 6 } });
      const headers = signedRequestHeaders(SECRET, { method: 'POST', path: url, body: payload });
      const sendSigned = (app: FastifyInstance) =>
        send(app, 'POST', url, undefined, { auth: 'none', payload, headers });
      const before = webhookFor('unused-queue', { stateDir }).app;
      // Authenticated and remembered, then refused by validation: nothing reaches Temporal.
      assert.equal((await sendSigned(before)).statusCode, 400);
      await before.close();

      const restarted = webhookFor('unused-queue', { stateDir }).app;
      const replayed = await sendSigned(restarted);
      assert.equal(replayed.statusCode, 409, replayed.body);
      assert.equal(errorOf(replayed).error, 'replayed-request');
      // Without the state directory a restart forgets: that is what the document warns about.
      assert.equal((await sendSigned(webhookFor('unused-queue').app)).statusCode, 400);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
