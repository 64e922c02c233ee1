/**
 * Secrets stay out of everything fogpilot records. The emulator's SQL login gets a password made for this run; the
 * worker is `fogpilot worker` in its own process, configured as in production (fogpilot.yaml names the environment
 * variables, the password is only in the worker's environment) and logging at trace level. Runbooks run with that
 * login — a failed login first, then a readiness check, a planned failover with failback and a DR drill whose write
 * probe and smoke writes go through the listener — and then every history event (children and earlier runs
 * included), every result and status, every log line the worker wrote and every rendered report is scanned for the
 * password in each form it could take. None may hold it. Figures go to `$FOGPILOT_RELIABILITY_OUT/secrets.md`.
 *
 * Every other secret fogpilot holds is in play and scanned for the same way: the worker runs with an Azure client
 * secret (the emulator credential ignores it; the process holds it), payload keys (histories are encrypted, and read
 * back through the codec) and a codec token; `fogpilot webhook` runs with an access section whose callers hold an HMAC
 * key and a bearer token, starts a forced failover signed by one and takes the other's approval. Its log lines are
 * scanned with the worker's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { dataConverterFromEnvironment } from '../../src/codec';
import { signedRequestHeaders } from '../../src/webhook/auth';
import {
  FogpilotClient,
  runbookFailureOf,
  statusQuery,
  type RunbookOutcome,
  type RunbookReport,
  type RunbookType,
} from '../../src/client';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec } from '../../src/emulator/world-spec';
import { ReportFormats, renderReport } from '../../src/report';
import { fogpilot } from '../cli/fogpilot-cli';
import { createTimeSkippingEnvironment, repoRoot, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { waitFor } from '../support/runbook-harness';
import { removeTempFile } from '../support/temp-files';
import {
  SecretScanner,
  writeEmulatorConfig,
  jsonWithDecodedBytes,
  markdownTable,
  secretForms,
  writeReliabilityResult,
} from '../support/reliability-proof';

/** Distinctive, made for this run, with characters that JSON, URLs and base64 each encode differently. */
const SECRET = `Fp-${randomBytes(12).toString('hex')}/+=%&"\\!`;
const SQL_USER = 'fogpilot_ops';
const AZURE_SECRET = `az-${randomBytes(16).toString('base64')}~.`;
const PAYLOAD_KEY = randomBytes(32).toString('base64');
const PAYLOAD_KEYS = `proof-1:${PAYLOAD_KEY}`;
const CODEC_TOKEN = randomBytes(24).toString('hex');
const BOT_KEY = `bot-${randomBytes(24).toString('hex')}`;
const PAGER_TOKEN = `pager-${randomBytes(24).toString('hex')}`;
/** Every secret the processes hold, by what it is. */
const SECRETS = {
  'SQL password': SECRET,
  AZURE_CLIENT_SECRET: AZURE_SECRET,
  'FOGPILOT_PAYLOAD_KEYS key': PAYLOAD_KEY,
  FOGPILOT_CODEC_TOKEN: CODEC_TOKEN,
  'webhook HMAC key (caller incident-bot)': BOT_KEY,
  'webhook bearer token (caller pager)': PAGER_TOKEN,
};
const ACCESS_YAML = [
  'access:',
  '  callers:',
  '    incident-bot:',
  '      credential: { hmacKeyEnv: PROOF_BOT_KEY }',
  '      start: [readinessCheck, forcedFailover]',
  "      groups: ['*']",
  '    pager:',
  '      credential: { bearerTokenEnv: PROOF_PAGER_TOKEN }',
  '      start: [readinessCheck]',
  "      groups: ['*']",
  '      approve: true',
  '',
].join('\n');
const SPEED = 600;

let env: TestWorkflowEnvironment;
let emulator: Emulator;
let configFile: string;
let worker: ChildProcess | undefined;
let workerExited: Promise<unknown> | undefined;
const workerOutput = { stdout: '', stderr: '' };
let webhook: ChildProcess | undefined;
let webhookExited: Promise<unknown> | undefined;
const webhookOutput = { stdout: '', stderr: '' };
let codecClient: Client;
const taskQueue = uniqueTaskQueue('secrets');

/** A top-level run this file started, and what it ended with. */
interface Run {
  name: string;
  runbook: RunbookType;
  workflowId: string;
  runId: string;
  outcome: RunbookOutcome;
}
const runs: Run[] = [];
/** Texts produced along the way that the scan reads too (CLI output, results and statuses of child runs). */
const extraTexts: { kind: string; source: string; text: string }[] = [];

before(async () => {
  [env] = await Promise.all([createTimeSkippingEnvironment(), workflowBundle()]);
  emulator = await startEmulator({
    world: {
      instances: [
        ...(defaultWorldSpec().instances ?? []),
        { name: 'fog-orders-eastus', resourceGroup: 'rg-fogpilot', location: 'eastus' },
        { name: 'fog-orders-westus', resourceGroup: 'rg-fogpilot', location: 'westus' },
      ],
      groups: [
        ...(defaultWorldSpec().groups ?? []),
        {
          name: 'fog-orders',
          resourceGroup: 'rg-fogpilot',
          primaryInstance: 'fog-orders-eastus',
          secondaryInstance: 'fog-orders-westus',
          databases: [{ name: 'orders' }],
        },
      ],
      sqlLogin: { user: SQL_USER, password: SECRET },
      timings: { roleSwitchSeconds: 30, vCoreScaleSeconds: 120, storageScaleSeconds: 60 },
      throttling: { enabled: false },
    },
    speed: SPEED,
    // TLS and tokens on, as against Azure: the scan covers what travels with them.
    tls: true,
  });
  configFile = writeEmulatorConfig(emulator, {
    taskQueue,
    sqlLogin: { userEnv: 'FOGPILOT_SQL_USER', passwordEnv: 'FOGPILOT_SQL_PASSWORD' },
  });
  appendFileSync(configFile, ACCESS_YAML);
  codecClient = new Client({
    connection: env.connection,
    namespace: 'default',
    dataConverter: dataConverterFromEnvironment({ FOGPILOT_PAYLOAD_KEYS: PAYLOAD_KEYS }),
  });
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
  );
  worker = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fogpilot.js'), 'worker'], {
    env: {
      ...inherited,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      FOGPILOT_CONFIG: configFile,
      FOGPILOT_SQL_USER: SQL_USER,
      FOGPILOT_SQL_PASSWORD: SECRET,
      AZURE_CLIENT_SECRET: AZURE_SECRET,
      FOGPILOT_PAYLOAD_KEYS: PAYLOAD_KEYS,
      FOGPILOT_CODEC_TOKEN: CODEC_TOKEN,
      FOGPILOT_LOG_LEVEL: 'trace',
      FOGPILOT_LOG_FORMAT: 'json',
      FOGPILOT_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workerExited = once(worker, 'exit');
  worker.stdout!.setEncoding('utf8').on('data', (chunk: string) => (workerOutput.stdout += chunk));
  worker.stderr!.setEncoding('utf8').on('data', (chunk: string) => (workerOutput.stderr += chunk));
  await waitFor(
    () => {
      if (worker?.exitCode !== null) throw new Error(`the worker exited: ${workerOutput.stderr}${workerOutput.stdout}`);
      return workerOutput.stdout.includes('fogpilot worker starting');
    },
    'fogpilot worker to start',
    60_000,
  );
});

async function stopWebhook(): Promise<void> {
  if (!webhook || webhook.exitCode !== null) return;
  webhook.kill('SIGTERM');
  const timer = setTimeout(() => webhook?.kill('SIGKILL'), 20_000);
  await webhookExited;
  clearTimeout(timer);
}

async function stopWorker(): Promise<void> {
  if (!worker || worker.exitCode !== null) return;
  worker.kill('SIGTERM');
  const timer = setTimeout(() => worker?.kill('SIGKILL'), 20_000);
  await workerExited;
  clearTimeout(timer);
}

after(async () => {
  await stopWebhook();
  await stopWorker();
  await emulator?.close();
  await env?.teardown();
  if (configFile) removeTempFile(configFile);
});

const client = () => new FogpilotClient(codecClient, taskQueue);

async function run(name: string, runbook: RunbookType, input: Record<string, unknown>): Promise<Run> {
  const started = await client().start(runbook, input);
  const outcome = await client().result(started.workflowId);
  const entry = { name, runbook, workflowId: started.workflowId, runId: started.runId, outcome };
  runs.push(entry);
  return entry;
}

function describeOutcome(outcome: RunbookOutcome): string {
  if (outcome.failure) return `failed: ${outcome.failure.type}`;
  const verdict = outcome.report?.readiness?.verdict;
  return `${outcome.report?.outcome}${verdict ? `, verdict ${verdict}` : ''}`;
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

interface RunRef {
  workflowId: string;
  runId: string;
}

/** The runs started, their child runs (the lock holders), and the runs each continued from, found in the histories. */
async function everyRun(): Promise<{ ref: RunRef; history: History }[]> {
  const seen = new Map<string, { ref: RunRef; history: History }>();
  const queue: RunRef[] = runs.map(({ workflowId, runId }) => ({ workflowId, runId }));
  while (queue.length > 0) {
    const ref = queue.shift()!;
    const key = `${ref.workflowId}#${ref.runId}`;
    if (seen.has(key)) continue;
    const history = await codecClient.workflow.getHandle(ref.workflowId, ref.runId).fetchHistory();
    seen.set(key, { ref, history });
    for (const event of history.events ?? []) {
      const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId) queue.push({ workflowId: child.workflowId, runId: child.runId });
      const previous = event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (previous) queue.push({ workflowId: ref.workflowId, runId: previous });
    }
  }
  return [...seen.values()];
}

describe('the scanner', () => {
  it('finds the secret planted in JSON, a URL, and base64 at any offset inside a larger blob', () => {
    const samples = [
      JSON.stringify({ sql: { password: SECRET } }),
      `mssql://${SQL_USER}:${encodeURIComponent(SECRET)}@host:1433/sales`,
      ...[0, 1, 2].map((offset) => Buffer.from(`${'x'.repeat(offset)}pwd=${SECRET};`).toString('base64')),
      Buffer.from(`{"password":"${SECRET}"}`).toString('hex').toUpperCase(),
    ];
    for (const [index, sample] of samples.entries()) {
      const scanner = new SecretScanner(SECRET);
      scanner.scan(`sample ${index}`, sample);
      assert.ok(scanner.findings.length > 0, `sample ${index} not found: ${sample}`);
    }
    const clean = new SecretScanner(SECRET);
    clean.scan('a near miss', SECRET.slice(0, -1) + ' and ' + SECRET.slice(1));
    assert.deepEqual(clean.findings, [], 'a near miss is not a finding');
    assert.ok(secretForms(SECRET).length >= 8);
  });

  it('looks for every secret the processes hold, and names the one it finds', () => {
    const scanner = new SecretScanner(SECRETS);
    assert.deepEqual(scanner.secretNames, Object.keys(SECRETS));
    for (const [name, value] of Object.entries(SECRETS)) {
      const planted = new SecretScanner(SECRETS);
      planted.scan('a planted log line', JSON.stringify({ level: 30, msg: `connecting with ${value}` }));
      assert.deepEqual([...new Set(planted.findings.map((finding) => finding.secret))], [name]);
    }
  });
});

describe('runbooks with a SQL login', { concurrency: 1, timeout: 120_000 }, () => {
  it('a readiness check, a planned failover with failback and a drill with its write probe all succeed', async () => {
    const readiness = await run('readinessCheck', 'readinessCheck', { group: 'fog-sales' });
    assert.ok(readiness.outcome.report, JSON.stringify(readiness.outcome.failure));
    const planned = await run('plannedFailover with failback', 'plannedFailover', {
      group: 'fog-sales',
      failback: { after: '1 minute' },
      requestedBy: 'secrets proof',
    });
    assert.equal(planned.outcome.report?.outcome, 'succeeded', JSON.stringify(planned.outcome.failure));
    const drill = await run('drDrill with write probe and smoke writes', 'drDrill', {
      group: 'fog-sales',
      soak: '5 seconds',
    });
    assert.equal(drill.outcome.report?.outcome, 'succeeded', JSON.stringify(drill.outcome.failure));
    const probe = drill.outcome.report.drill?.probe;
    assert.ok(probe && probe.acknowledged > 0, 'the probe wrote through the listener with the SQL login');
    assert.ok(drill.outcome.report.drill!.smokeChecks.some((check) => check.status === 'pass'));
    const group = emulator.world.findGroup('fog-sales')!;
    assert.equal(emulator.world.instanceById(group.primaryInstanceId)!.location, 'eastus', 'back home');
    const logins = [...emulator.tds.values()].reduce((sum, server) => sum + server.requests.logins, 0);
    const refused = [...emulator.tds.values()].reduce((sum, server) => sum + server.requests.loginFailures, 0);
    assert.ok(logins > refused, 'the worker logged in with the password from its environment');
  });

  it('a refused login ends the runbook with SqlLoginFailed, saying what to check', async () => {
    // After the runs that wait on timers: on the time-skipping server, a run that fails while sibling activities are
    // still in flight leaves time skipping held, and later timers would tick in real time.
    // On fog-orders only: fog-sales's connections are pooled, and a login is refused only when one is made.
    for (const instance of ['fog-orders-eastus', 'fog-orders-westus']) {
      emulator.arm.addFault({ kind: 'sql-login-fails', instance, count: 1000 });
    }
    try {
      const readiness = await run('readinessCheck while SQL refuses the login', 'readinessCheck', {
        group: 'fog-orders',
      });
      assert.equal(
        readiness.outcome.report?.readiness?.verdict,
        'fail',
        'a readiness check reports what it could not read',
      );
      assert.match(JSON.stringify(readiness.outcome.report), /Login failed for user 'fogpilot_ops'/);
      const planned = await run('plannedFailover while SQL refuses the login', 'plannedFailover', {
        group: 'fog-orders',
      });
      assert.equal(planned.outcome.failure?.type, 'SqlLoginFailed', JSON.stringify(planned.outcome.failure));
      assert.match(planned.outcome.failure.message, /SQL refused the login \(.*Login failed for user 'fogpilot_ops'/);
      assert.match(planned.outcome.failure.message, /Check the instance's auth settings in the config/);
    } finally {
      emulator.world.faults.sql.loginFailures.clear();
    }
    const refused = [...emulator.tds.values()].reduce((sum, server) => sum + server.requests.loginFailures, 0);
    assert.ok(refused > 0, 'the emulator refused logins');
    // Once SQL takes the login again, a readiness check of every group reads them all.
    const all = await run('readinessCheck of all groups', 'readinessCheck', { all: true });
    assert.ok(all.outcome.report, JSON.stringify(all.outcome.failure));
  });

  it('renders every report through the CLI too', async () => {
    const drill = runs.find((entry) => entry.runbook === 'drDrill')!;
    const cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      FOGPILOT_TASK_QUEUE: taskQueue,
      FOGPILOT_CONFIG: configFile,
      FOGPILOT_PAYLOAD_KEYS: PAYLOAD_KEYS,
    };
    const outputs = await Promise.all(
      ReportFormats.map((format) => fogpilot(['report', drill.workflowId, '--format', format], cliEnv)),
    );
    for (const [index, output] of outputs.entries()) {
      assert.equal(output.code, 0, output.stderr);
      extraTexts.push({
        kind: 'report',
        source: `fogpilot report --format ${ReportFormats[index]}`,
        text: output.stdout + output.stderr,
      });
    }
  });
});

describe('the HTTP trigger with callers', { timeout: 120_000 }, () => {
  it('the webhook starts a forced failover for a caller signing with its HMAC key, and another caller approves it with its bearer token', async () => {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
    );
    webhook = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fogpilot.js'), 'webhook', '--port', '0'], {
      env: {
        ...inherited,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        FOGPILOT_CONFIG: configFile,
        // The webhook takes its task queue from the environment only, not from fogpilot.yaml's temporal.taskQueue.
        FOGPILOT_TASK_QUEUE: taskQueue,
        FOGPILOT_PAYLOAD_KEYS: PAYLOAD_KEYS,
        FOGPILOT_CODEC_TOKEN: CODEC_TOKEN,
        PROOF_BOT_KEY: BOT_KEY,
        PROOF_PAGER_TOKEN: PAGER_TOKEN,
        FOGPILOT_LOG_LEVEL: 'trace',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    webhookExited = once(webhook, 'exit');
    webhook.stdout!.setEncoding('utf8').on('data', (chunk: string) => (webhookOutput.stdout += chunk));
    webhook.stderr!.setEncoding('utf8').on('data', (chunk: string) => (webhookOutput.stderr += chunk));
    await waitFor(
      () => {
        if (webhook?.exitCode !== null) throw new Error(`the webhook exited: ${webhookOutput.stderr}`);
        return webhookOutput.stdout.includes('\n');
      },
      'fogpilot webhook to listen',
      60_000,
    );
    const base = (JSON.parse(webhookOutput.stdout.split('\n')[0]!) as { url: string }).url;
    const signed = async (method: 'GET' | 'POST', route: string, body?: unknown) => {
      const payload = body === undefined ? '' : JSON.stringify(body);
      const headers = {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...signedRequestHeaders(BOT_KEY, { method, path: route, body: payload }),
      };
      return fetch(`${base}${route}`, { method, headers, ...(body === undefined ? {} : { body: payload }) });
    };

    // East goes dark: the incident bot starts a forced failover of fog-orders, and the pager approves it.
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 0 });
    try {
      const start = await signed('POST', '/v1/runbooks/forcedFailover', {
        input: { group: 'fog-orders' },
        idempotencyKey: 'INC-SECRETS',
      });
      assert.equal(start.status, 201, await start.clone().text());
      const { workflowId, runId, statusUrl } = (await start.json()) as {
        workflowId: string;
        runId: string;
        statusUrl: string;
      };
      // Polled through the webhook, not awaited through the test server's client: time is not skipped past the
      // approval window while the run waits.
      let status: { state?: string; awaiting?: { kind?: string } } = {};
      await waitFor(
        async () => {
          status = (await (await signed('GET', statusUrl)).json()) as typeof status;
          return status.awaiting?.kind === 'approval' || (status.state !== undefined && status.state !== 'running');
        },
        'the forced failover to wait for an approval',
        60_000,
      );
      assert.equal(status.awaiting?.kind, 'approval', JSON.stringify(status));
      const approve = await fetch(`${base}${statusUrl}/signals/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${PAGER_TOKEN}` },
        body: JSON.stringify({ reason: 'INC-SECRETS: east is dark' }),
      });
      assert.equal(approve.status, 202, await approve.clone().text());
      const outcome = await client().result(workflowId);
      runs.push({ name: 'forcedFailover through the webhook', runbook: 'forcedFailover', workflowId, runId, outcome });
      assert.equal(outcome.report?.outcome, 'succeeded', JSON.stringify(outcome.failure));
      assert.equal(outcome.report.approval?.by, 'webhook:pager');
      assert.equal(outcome.report.approval?.requestedBy, 'webhook:incident-bot');
    } finally {
      emulator.world.faults.darkRegions.clear();
    }
  });
});

describe('the scan', { timeout: 60_000 }, () => {
  it('finds the password in no history, result, status, log line or report', async () => {
    assert.ok(runs.length >= 6, `${runs.length} runs`);
    const scanner = new SecretScanner(SECRETS);
    const reports: { source: string; report: RunbookReport }[] = [];

    const all = await everyRun();
    for (const { ref, history } of all) {
      const source = `history ${ref.workflowId} (${ref.runId})`;
      scanner.count('history');
      scanner.count('event', history.events?.length ?? 0);
      scanner.scan(source, jsonWithDecodedBytes(history));
      // The form `temporal workflow show --output json` and the replay fixtures take: payloads as base64.
      scanner.scan(`${source} as exported`, historyToJSON(history));
      // Results and the status query (answered by the worker replaying the run) of each run, children included.
      const handle = codecClient.workflow.getHandle(ref.workflowId, ref.runId);
      let outcome: RunbookOutcome;
      try {
        outcome = { report: (await handle.result()) as RunbookReport };
      } catch (error) {
        outcome = runbookFailureOf(error) ?? { failure: { type: 'Error', message: String(error) } };
      }
      scanner.count('result');
      scanner.scan(`result of ${ref.workflowId} (${ref.runId})`, JSON.stringify(outcome));
      if (outcome.report) reports.push({ source: `${ref.workflowId} (${ref.runId})`, report: outcome.report });
      const status = await handle.query(statusQuery);
      scanner.count('status');
      scanner.scan(`status of ${ref.workflowId} (${ref.runId})`, JSON.stringify(status));
    }
    for (const { source, report } of reports) {
      for (const format of ReportFormats) {
        scanner.count('report');
        scanner.scan(`${format} report of ${source}`, renderReport(report, format));
      }
    }
    for (const { kind, source, text } of extraTexts) {
      scanner.count(kind);
      scanner.scan(source, text);
    }
    scanner.count('config file');
    scanner.scan('fogpilot.yaml', readFileSync(configFile, 'utf8'));

    await stopWebhook();
    const webhookLines = `${webhookOutput.stdout}\n${webhookOutput.stderr}`.split('\n').filter((line) => line.trim());
    for (const [index, line] of webhookLines.entries()) scanner.scan(`webhook output line ${index + 1}`, line);
    scanner.count('webhook log line', webhookLines.length);
    await stopWorker();
    const lines = workerOutput.stdout.split('\n').filter((line) => line.trim() !== '');
    for (const [index, line] of lines.entries()) scanner.scan(`worker stdout line ${index + 1}`, line);
    scanner.count('log line', lines.length);
    const errorLines = workerOutput.stderr.split('\n').filter((line) => line.trim() !== '');
    for (const [index, line] of errorLines.entries()) scanner.scan(`worker stderr line ${index + 1}`, line);
    scanner.count('log line', errorLines.length);

    // The scan saw the real thing: every kind of record, in quantity.
    const counts = Object.fromEntries(scanner.counts);
    assert.ok((counts.history ?? 0) >= 8, `histories: ${JSON.stringify(counts)}`);
    assert.ok((counts.event ?? 0) >= 300, `events: ${JSON.stringify(counts)}`);
    assert.ok((counts.report ?? 0) >= 20, `reports: ${JSON.stringify(counts)}`);
    assert.ok((counts['log line'] ?? 0) >= 100, `log lines: ${JSON.stringify(counts)}`);
    assert.ok((counts['webhook log line'] ?? 0) >= 2, `webhook log lines: ${JSON.stringify(counts)}`);
    assert.ok(
      runs.some((entry) => entry.name === 'forcedFailover through the webhook'),
      'the webhook started a run with a caller key and took an approval with another',
    );
    assert.ok(scanner.bytes >= 500_000, `bytes: ${scanner.bytes}`);
    const parsed = lines.map((line) => JSON.parse(line) as { level?: number; msg?: string });
    assert.ok(
      parsed.some((line) => line.level === 20 || line.level === 10),
      'the worker logged at debug or trace level',
    );
    assert.ok(
      parsed.some((line) => /login/i.test(JSON.stringify(line))),
      'the log has lines about the refused login',
    );

    assert.deepEqual(
      scanner.findings,
      [],
      `a secret leaked:\n${scanner.findings.map((entry) => `${entry.source} [${entry.secret}, ${entry.form}]: …${entry.excerpt}…`).join('\n')}`,
    );

    const figures: [string, string][] = [
      ['runbook runs started (top level)', String(runs.length)],
      ['workflow histories (children and earlier runs included)', String(counts.history)],
      ['history events', String(counts.event)],
      ['results and status answers', `${counts.result} + ${counts.status}`],
      ['rendered reports (md, json, html; CLI included)', String(counts.report)],
      ['worker log lines (trace level, SDK and core routed in)', String(counts['log line'])],
      ['webhook output lines (trace level)', String(counts['webhook log line'])],
      ['secrets looked for', scanner.secretNames.join(', ')],
      ['bytes scanned', String(scanner.bytes)],
      ['forms of each secret looked for', String(secretForms(SECRET).length)],
      ['**found**', `**${scanner.findings.length}**`],
    ];
    const markdown = [
      '## Secrets',
      '',
      "The emulator's SQL login gets a password made for the run; `fogpilot worker` runs in its own process with the",
      'password only in its environment (fogpilot.yaml names `FOGPILOT_SQL_PASSWORD`), logging at trace level. Runs: ' +
        runs.map((entry) => `${entry.name} (${describeOutcome(entry.outcome)})`).join('; ') +
        '.',
      'The worker also holds an Azure client secret, payload keys (histories encrypted) and a codec token;',
      "`fogpilot webhook` holds two callers' credentials, starts a forced failover signed with one and takes the",
      "other's approval. Every history event, result, status answer, worker and webhook log line and report is then",
      'searched for each secret as is, JSON-escaped, URL-encoded, hex, and base64/base64url at each byte alignment.',
      '',
      'Reproduce: `npm run build && FOGPILOT_RELIABILITY_OUT=docs/results node --test dist/test/reliability/secrets.test.js`',
      '',
      markdownTable(['scanned', 'count'], figures),
      '',
    ].join('\n');
    const written = writeReliabilityResult('secrets.md', markdown);
    console.log(
      `secrets: ${figures.map(([what, count]) => `${what.replace(/\*/g, '')}: ${count.replace(/\*/g, '')}`).join('; ')}${written ? `; written to ${written}` : ''}`,
    );
  });
});
