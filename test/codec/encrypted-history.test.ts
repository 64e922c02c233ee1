/**
 * Encrypted history on the real dev server: a readinessCheck against the emulator, started and reported by
 * `bin/fogpilot.js` with FOGPILOT_PAYLOAD_KEYS set and run by a worker built as `fogpilot worker` builds it. The raw
 * history, read by a client without the codec, holds none of the run's distinctive text; the CLI with the key prints
 * it; the codec server decrypts it for a caller with the token only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { DrillSchedules } from '../../src/client';
import { dataConverterFromEnvironment } from '../../src/codec';
import { createCodecServer } from '../../src/codec/server';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters, emulatorInventory } from '../../src/emulator/adapters';
import { createFogpilotWorker } from '../../src/worker';
import { startDevServer, type DevServer } from '../support/dev-server';
import { runbookWorld } from '../support/emulator-harness';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTemporalCli, uniqueTaskQueue } from '../support/temporal';
import { fogpilot, jsonOf, startFogpilot } from '../cli/fogpilot-cli';

const KEYS = `t-2:${randomBytes(32).toString('base64')},t-1:${randomBytes(32).toString('base64')}`;
const TOKEN = randomBytes(24).toString('hex');
const UI_ORIGIN = 'http://localhost:8080';
// Distinctive, so a match in the history can only come from this run's input, result or report.
const REASON = `CHG-${randomUUID()} rehearsal of the quarterly failover`;
/** The CLI records its connection's identity as the requester: here, with no certificate or API key, the OS user. */
const REQUESTED_BY = `os-user:${userInfo().username}`;

let server: DevServer;
let emulator: Emulator;
let worker: Worker;
let running: Promise<void>;
let closeDataPlane: () => Promise<void>;
const taskQueue = uniqueTaskQueue('encrypted-history');

before(async () => {
  [server, emulator] = await Promise.all([startDevServer(), startEmulator({ world: runbookWorld(), speed: 600 })]);
  const { controlPlane, dataPlane } = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
  closeDataPlane = () => dataPlane.close();
  worker = await createFogpilotWorker({
    connection: server.env.nativeConnection,
    taskQueue,
    dependencies: { controlPlane, dataPlane, inventory: emulatorInventory(emulator) },
    dataConverter: dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: KEYS }),
  });
  running = worker.run();
});
after(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await closeDataPlane?.();
  await emulator?.close();
  await server?.teardown();
});

/** Every byte Temporal stores for the run: the history as its protobuf encoding, payload data as raw bytes. */
async function rawHistoryBytes(workflowId: string): Promise<Buffer> {
  // server.env.client has no codec: it reads what anyone with namespace access reads.
  const history = await server.env.client.workflow.getHandle(workflowId).fetchHistory();
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

function payloadEncodingsOf(history: Buffer): Set<string> {
  const encodings = new Set<string>();
  for (const event of temporal.api.history.v1.History.decode(history).events) {
    const payloads = [
      ...(event.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
      ...(event.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
      ...(event.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
      ...(event.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
      // What the Temporal UI shows beside each event: the start's summary, each activity's summary.
      ...(event.userMetadata?.summary ? [event.userMetadata.summary] : []),
    ];
    for (const payload of payloads) encodings.add(Buffer.from(payload.metadata?.encoding ?? []).toString('utf8'));
  }
  return encodings;
}

/** The fields of history events that hold a Failure, and the Failure's own `cause`. */
const FAILURE_FIELDS = new Set(['failure', 'lastFailure', 'continuedFailure', 'cause']);

/** Every Failure in the history, causes included: an event's `failure`, a started activity's `lastFailure`, … */
function failuresOf(history: Buffer): temporal.api.failure.v1.IFailure[] {
  const found: temporal.api.failure.v1.IFailure[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    for (const [key, child] of Object.entries(value)) {
      if (FAILURE_FIELDS.has(key) && child && typeof child === 'object')
        found.push(child as temporal.api.failure.v1.IFailure);
      visit(child);
    }
  };
  visit(temporal.api.history.v1.History.decode(history).events);
  return found;
}

describe('encrypted history on the dev server', { concurrency: 1, timeout: 180_000 }, () => {
  let workflowId: string;
  const cliEnv = () => ({
    TEMPORAL_ADDRESS: server.address,
    FOGPILOT_TASK_QUEUE: taskQueue,
    FOGPILOT_PAYLOAD_KEYS: KEYS,
  });

  it('with FOGPILOT_PAYLOAD_KEYS set, the raw history holds none of the reason or requester, and `fogpilot report` prints them', async () => {
    const run = await fogpilot(['readiness', 'fog-sales', '--reason', REASON, '--json'], cliEnv(), 120_000);
    const result = jsonOf<{ workflowId: string; outcome: string; report: { reason?: string } }>(run);
    workflowId = result.workflowId;
    assert.equal(result.report.reason, REASON, 'the CLI with the key decrypts the result');

    const raw = await rawHistoryBytes(workflowId);
    assert.ok(raw.length > 0);
    for (const secret of [REASON, REQUESTED_BY, REASON.slice(0, 40)])
      assert.ok(!raw.includes(secret), `the raw history holds "${secret}"`);
    assert.deepEqual(
      [...payloadEncodingsOf(raw)],
      ['binary/encrypted'],
      'every input, result and summary is encrypted',
    );

    const report = await fogpilot(['report', workflowId, '--format', 'md'], cliEnv());
    assert.equal(report.code, 0, report.stderr);
    assert.ok(report.stdout.includes(REASON), report.stdout);
    assert.ok(report.stdout.includes(REQUESTED_BY), report.stdout);
  });

  it('with FOGPILOT_PAYLOAD_KEYS set, a failed run leaves its failure message nowhere in plaintext, and `fogpilot report` prints it', async () => {
    // The target region is only in the (encrypted) input and in the InvalidInput failure's message that names it.
    const target = `mars${randomBytes(8).toString('hex')}`;
    const run = await fogpilot(
      ['failover', 'fog-sales', '--target-location', target, '--reason', REASON, '--json'],
      cliEnv(),
      120_000,
    );
    assert.notEqual(run.code, 0, run.stdout);
    const failedId = jsonOf<{ workflowId: string }>(run).workflowId;
    const raw = await rawHistoryBytes(failedId);
    const failures = failuresOf(raw);
    assert.ok(failures.length > 0, 'the run ended in a failure');
    for (const secret of [target, REASON]) assert.ok(!raw.includes(secret), `the raw history holds "${secret}"`);
    for (const failure of failures) {
      assert.equal(failure.message, 'Encoded failure');
      assert.equal(failure.stackTrace, '');
      const encoding = Buffer.from(failure.encodedAttributes?.metadata?.encoding ?? []).toString('utf8');
      assert.equal(encoding, 'binary/encrypted', 'the message and stack trace are in an encrypted payload');
    }

    const report = await fogpilot(['report', failedId, '--format', 'md'], cliEnv());
    assert.ok(
      `${report.stdout}${report.stderr}`.includes(`targetLocation: ${target} is not a location`),
      report.stderr,
    );
  });

  it('with FOGPILOT_PAYLOAD_KEYS set, an activity that fails leaves only encrypted failures in the history', async () => {
    const group = `fog-missing-${randomBytes(6).toString('hex')}`;
    const run = await fogpilot(['readiness', group, '--reason', REASON, '--json'], cliEnv(), 120_000);
    const failedId = jsonOf<{ workflowId: string }>(run).workflowId;
    const raw = await rawHistoryBytes(failedId);
    const events = temporal.api.history.v1.History.decode(raw).events;
    assert.ok(
      events.some((event) => event.activityTaskFailedEventAttributes),
      `an activity failed: ${run.stdout}`,
    );
    const failures = failuresOf(raw);
    for (const failure of failures) {
      assert.equal(failure.message, 'Encoded failure', JSON.stringify(failure.activityFailureInfo ?? failure));
      assert.equal(failure.stackTrace, '');
    }
  });

  it('the CLI holding another key cannot read the encrypted run and says which key id it needs', async () => {
    const report = await fogpilot(['report', workflowId, '--format', 'md'], {
      ...cliEnv(),
      FOGPILOT_PAYLOAD_KEYS: `other:${randomBytes(32).toString('base64')}`,
    });
    assert.notEqual(report.code, 0);
    assert.ok(!report.stdout.includes(REASON));
    assert.match(report.stderr, /key id t-2, which FOGPILOT_PAYLOAD_KEYS does not list/);
  });

  it('the codec server decodes the run for a caller with the token, refuses one without (401), and answers the UI origin only', async () => {
    const history = await server.env.client.workflow.getHandle(workflowId).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const body = {
      payloads: input.map((payload) => ({
        metadata: Object.fromEntries(
          Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
        ),
        data: Buffer.from(payload.data ?? []).toString('base64'),
      })),
    };
    const codec = dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: KEYS })!.payloadCodecs![0]!;
    const app = createCodecServer({ codec, token: TOKEN, allowOrigins: [UI_ORIGIN] });
    try {
      const decoded = await app.inject({
        method: 'POST',
        url: '/decode',
        headers: { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default', origin: UI_ORIGIN },
        payload: body,
      });
      assert.equal(decoded.statusCode, 200, decoded.body);
      assert.equal(decoded.headers['access-control-allow-origin'], UI_ORIGIN);
      const [first] = decoded.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads;
      assert.equal(Buffer.from(first!.metadata.encoding!, 'base64').toString(), 'json/plain');
      const text = Buffer.from(first!.data, 'base64').toString('utf8');
      assert.ok(text.includes(REASON), text);

      for (const authorization of [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, TOKEN]) {
        const refused = await app.inject({
          method: 'POST',
          url: '/decode',
          headers: { 'x-namespace': 'default', ...(authorization ? { authorization } : {}) },
          payload: body,
        });
        assert.equal(refused.statusCode, 401, `${authorization}: ${refused.body}`);
        assert.ok(!refused.body.includes(REASON));
      }

      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/decode',
        headers: {
          origin: UI_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], UI_ORIGIN);
      assert.match(String(preflight.headers['access-control-allow-headers']), /X-Namespace/);
      assert.match(String(preflight.headers['access-control-allow-headers']), /Authorization/);

      const foreign = await app.inject({
        method: 'OPTIONS',
        url: '/decode',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(foreign.statusCode, 403);
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    } finally {
      await app.close();
    }
  });

  it('the worker, the webhook and the runbook commands refuse a bad FOGPILOT_PAYLOAD_KEYS at start, naming it and the fix', async () => {
    // Temporal unreachable: a process that did not check the keys fails to connect (or serves until the timeout)
    // instead of running a worker on this file's server.
    const bad = { TEMPORAL_ADDRESS: '127.0.0.1:1', FOGPILOT_PAYLOAD_KEYS: `k:${randomBytes(16).toString('base64')}` };
    for (const args of [['worker'], ['webhook', '--port', '0'], ['readiness', 'fog-sales']]) {
      const run = await fogpilot(args, { ...bad, FOGPILOT_WEBHOOK_TOKEN: TOKEN }, 15_000);
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(run.stderr, /FOGPILOT_PAYLOAD_KEYS entry 1 \(key id k\): the key is 16 bytes; AES-256 needs 32/);
      assert.match(run.stderr, /openssl rand -base64 32/);
    }
  });

  it('fogpilot codec-server prints where it listens and the key ids (never the keys), and decodes for the token holder', async () => {
    const serving = startFogpilot(['codec-server', '--port', '0', '--allow-origin', `${UI_ORIGIN}/some/path`], {
      FOGPILOT_PAYLOAD_KEYS: KEYS,
      FOGPILOT_CODEC_TOKEN: TOKEN,
    });
    try {
      await serving.printed(/\n/);
      const line = JSON.parse(serving.stdout()) as { url: string; allowOrigins: string[]; keyIds: string[] };
      assert.deepEqual(line.allowOrigins, [UI_ORIGIN]);
      assert.deepEqual(line.keyIds, ['t-2', 't-1']);
      assert.ok(!serving.stdout().includes(KEYS.split(',')[0]!.slice(4)), 'no key material on stdout');
      const history = await server.env.client.workflow.getHandle(workflowId).fetchHistory();
      const [input] = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
      const body = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(input!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(input!.data ?? []).toString('base64'),
          },
        ],
      });
      const headers = { 'content-type': 'application/json', 'x-namespace': 'default' };
      const refused = await fetch(`${line.url}/decode`, { method: 'POST', headers, body });
      assert.equal(refused.status, 401);
      const answer = await fetch(`${line.url}/decode`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${TOKEN}` },
        body,
      });
      assert.equal(answer.status, 200);
      const { payloads } = (await answer.json()) as { payloads: { data: string }[] };
      assert.ok(Buffer.from(payloads[0]!.data, 'base64').toString('utf8').includes(REASON));

      // The Temporal CLI, as an operator points it at the codec server, shows the run in clear.
      const temporalCli = findTemporalCli();
      if (temporalCli) {
        const show = (auth: string[]) =>
          promisify(execFile)(temporalCli, [
            'workflow',
            'show',
            '-w',
            workflowId,
            '--address',
            server.address,
            '-o',
            'json',
            '--codec-endpoint',
            line.url,
            ...auth,
          ]);
        const shown = await show(['--codec-auth', `Bearer ${TOKEN}`]);
        const shownInput = (
          JSON.parse(shown.stdout) as {
            events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[];
          }
        ).events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!.data;
        // JSON output keeps payload data in base64: decoded by the codec server, it is the plain input.
        assert.ok(Buffer.from(shownInput, 'base64').toString('utf8').includes(REASON), shownInput);
        await assert.rejects(show([]), 'without --codec-auth the codec server refuses the Temporal CLI');
      }
    } finally {
      serving.kill();
      await serving.ended;
    }
  });

  it("a drill schedule's input is stored encrypted, and a client with the keys reads it back", async () => {
    const dataConverter = dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: KEYS })!;
    const schedules = new DrillSchedules(
      new Client({ connection: server.env.connection, namespace: 'default', dataConverter }),
      taskQueue,
    );
    const created = await schedules.create({
      input: { group: 'fog-sales', reason: REASON },
      every: '7 days',
      paused: true,
      scheduleId: `fogpilot-drill/encrypted-${randomUUID()}`,
    });
    try {
      const raw = await server.env.client.workflowService.describeSchedule({
        namespace: 'default',
        scheduleId: created.scheduleId,
      });
      const stored = Buffer.from(temporal.api.workflowservice.v1.DescribeScheduleResponse.encode(raw).finish());
      assert.ok(!stored.includes(REASON), 'the stored schedule holds the reason in plaintext');
      const [input] = raw.schedule!.action!.startWorkflow!.input!.payloads!;
      assert.equal(Buffer.from(input!.metadata!.encoding!).toString(), 'binary/encrypted');
      assert.equal((await schedules.describe(created.scheduleId)).input.reason, REASON);
    } finally {
      await schedules.delete(created.scheduleId);
    }
  });

  it('fogpilot codec-server refuses to start without FOGPILOT_CODEC_TOKEN, naming it', async () => {
    const run = await fogpilot(['codec-server', '--port', '0'], { FOGPILOT_PAYLOAD_KEYS: KEYS });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /will not start without FOGPILOT_CODEC_TOKEN/);
    assert.match(run.stderr, /openssl rand -hex 32/);
  });
});
