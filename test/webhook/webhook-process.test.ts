/**
 * The HTTP trigger as incident tooling meets it: `fogpilot webhook` in its own process, configured by a fogpilot.yaml
 * whose access section names three callers, on the real Temporal dev server, with a fogpilot worker built from the same
 * fogpilot.yaml as `fogpilot worker` builds it, over the emulator. Requests go over real HTTP, signed by hand as
 * docs/http-trigger.md describes (not with fogpilot's own signing code), so a drift from the documented recipe fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Worker } from '@temporalio/worker';
import { FogpilotClient } from '../../src/client';
import type { WebhookStartLine } from '../../src/cli/commands/webhook';
import { inventoryOf, loadConfig } from '../../src/config/config';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters } from '../../src/emulator/adapters';
import type { StartAnswer, StatusAnswer, WebhookError } from '../../src/webhook';
import { approvalRulesOf, createFogpilotWorker } from '../../src/worker';
import { startDevServer, type DevServer } from '../support/dev-server';
import { fogSales, runbookWorld } from '../support/emulator-harness';
import { waitFor } from '../support/runbook-harness';
import { removeTempFile, writeTempConfig } from '../support/temp-files';
import { repoRoot, uniqueTaskQueue } from '../support/temporal';

/** Each caller's secret, fresh per run: the webhook reads them from the variables fogpilot.yaml names. */
const BOT_KEY = randomBytes(32).toString('hex');
const PAGER_TOKEN = randomBytes(32).toString('hex');
const VIEWER_TOKEN = randomBytes(32).toString('hex');
const SECRETS = {
  FOGPILOT_TEST_INCIDENT_BOT_KEY: BOT_KEY,
  FOGPILOT_TEST_PAGER_TOKEN: PAGER_TOKEN,
  FOGPILOT_TEST_VIEWER_TOKEN: VIEWER_TOKEN,
};

/**
 * incident-bot may approve others' forced failovers, so its refusal on its own run can only come from the two-person
 * rule; its rate limit is raised because it polls the status the way a bot would. viewer is known but has no grant.
 */
function fogpilotYaml(emulator: Emulator): string {
  const group = fogSales(emulator);
  return `inventory:
  fog-sales:
    subscriptionId: ${group.subscriptionId}
    resourceGroup: ${group.resourceGroup}
    primaryLocation: ${group.primaryLocation}
    secondaryLocation: ${group.secondaryLocation}
access:
  callers:
    incident-bot:
      credential: { hmacKeyEnv: FOGPILOT_TEST_INCIDENT_BOT_KEY }
      start: [forcedFailover]
      groups: [fog-sales]
      preApprove: false
      approve: true
      rateLimit: { perMinute: 6000 }
    pager:
      credential: { bearerTokenEnv: FOGPILOT_TEST_PAGER_TOKEN }
      groups: [fog-sales]
      approve: true
    viewer:
      credential: { bearerTokenEnv: FOGPILOT_TEST_VIEWER_TOKEN }
      start: [readinessCheck]
      groups: [fog-sales]
`;
}

/** `fogpilot webhook` running as a child process, once it has printed its start line. */
interface WebhookProcess {
  line: WebhookStartLine;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `bin/fogpilot.js webhook` and waits for the JSON line it prints once it listens. */
async function startWebhook(env: Record<string, string>): Promise<WebhookProcess> {
  // The child sees only what an operator would set for it: no Temporal or fogpilot settings of the test's shell.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
  );
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'fogpilot.js'), 'webhook', '--port', '0'],
    { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let output = '';
  child.stdout.setEncoding('utf8');
  const line = await new Promise<WebhookStartLine>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes('\n')) resolve(JSON.parse(output.split('\n')[0]!) as WebhookStartLine);
    });
    void exited.then(([code]) =>
      reject(new Error(`fogpilot webhook exited with ${code} before listening:\n${errors}`)),
    );
  });
  return {
    line,
    stderr: () => errors,
    stop: async () => {
      child.kill('SIGTERM');
      return (await exited)[0];
    },
  };
}

/** The signature headers of docs/http-trigger.md: HMAC-SHA256 of `<ts>\n<METHOD>\n<path>\n<Idempotency-Key>\n<sha256(body)>`. */
function signatureHeaders(
  key: string,
  method: string,
  requestPath: string,
  idempotencyKey: string,
  body: string,
): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000).toString();
  const digest = createHash('sha256').update(body).digest('hex');
  const canonical = [ts, method, requestPath, idempotencyKey, digest].join('\n');
  return {
    'x-fogpilot-timestamp': ts,
    'x-fogpilot-signature': `sha256=${createHmac('sha256', key).update(canonical).digest('hex')}`,
  };
}

type Caller = { hmacKey: string } | { bearerToken: string };

/** One request to the webhook as `caller`: signed over its route, Idempotency-Key and body, or with a bearer token. */
async function call(
  url: string,
  caller: Caller,
  method: 'GET' | 'POST',
  requestPath: string,
  options: { body?: unknown; idempotencyKey?: string } = {},
): Promise<{ status: number; json: unknown }> {
  const body = options.body === undefined ? '' : JSON.stringify(options.body);
  const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if ('hmacKey' in caller) {
    Object.assign(headers, signatureHeaders(caller.hmacKey, method, requestPath, options.idempotencyKey ?? '', body));
  } else {
    headers.authorization = `Bearer ${caller.bearerToken}`;
  }
  const response = await fetch(`${url}${requestPath}`, { method, headers, ...(body ? { body } : {}) });
  return { status: response.status, json: await response.json() };
}

const INCIDENT_BOT: Caller = { hmacKey: BOT_KEY };
const PAGER: Caller = { bearerToken: PAGER_TOKEN };
const VIEWER: Caller = { bearerToken: VIEWER_TOKEN };

let server: DevServer;
let emulator: Emulator;
let configFile: string;
let worker: Worker;
let running: Promise<void>;
let closeDataPlane: () => Promise<void>;
let webhook: WebhookProcess;
const taskQueue = uniqueTaskQueue('webhook-process');

before(async () => {
  [server, emulator] = await Promise.all([startDevServer(), startEmulator({ world: runbookWorld(), speed: 600 })]);
  configFile = writeTempConfig(fogpilotYaml(emulator));
  // The worker judges approvals by the access section of the same file the webhook reads, as `fogpilot worker` does.
  const config = loadConfig({ path: configFile, env: {} });
  const inventory = inventoryOf(config);
  const { controlPlane, dataPlane } = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
  closeDataPlane = () => dataPlane.close();
  worker = await createFogpilotWorker({
    connection: server.env.nativeConnection,
    taskQueue,
    dependencies: { controlPlane, dataPlane, inventory, approvalRules: approvalRulesOf(config, inventory) },
  });
  running = worker.run();
  webhook = await startWebhook({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: server.namespace,
    FOGPILOT_TASK_QUEUE: taskQueue,
    FOGPILOT_CONFIG: configFile,
    ...SECRETS,
  });
});
after(async () => {
  const code = await webhook?.stop();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await closeDataPlane?.();
  await emulator?.close();
  await server?.teardown();
  if (configFile) removeTempFile(configFile);
  assert.equal(code ?? 0, 0, `the webhook stops cleanly on SIGTERM:\n${webhook?.stderr()}`);
});

describe('fogpilot webhook as a process on the dev server', { timeout: 120_000 }, () => {
  it("refuses, 403 through the approve Update, the requester's own approval and one from a caller without the grant, records both with the callers' identities and sends nothing to Azure; another caller's approval lets the forced failover finish", async () => {
    const { url } = webhook.line;
    assert.deepEqual(webhook.line.callers, ['incident-bot', 'pager', 'viewer']);
    assert.equal(webhook.line.access, 'access');
    const fogpilot = new FogpilotClient(server.env.client, taskQueue);
    const failovers = () => emulator.world.invariants().failovers['fog-sales'];
    // The primary region is down: the situation a forced failover is for.
    emulator.world.faults.darkRegions.add('eastus');

    const start = await call(url, INCIDENT_BOT, 'POST', '/v1/runbooks/forcedFailover', {
      body: { input: { group: 'fog-sales' } },
      idempotencyKey: 'INC-9001',
    });
    assert.equal(start.status, 201, JSON.stringify(start.json));
    const { workflowId, statusUrl } = start.json as StartAnswer;
    assert.equal(workflowId, 'fogpilot/forcedFailover/fog-sales/INC-9001');

    let status: StatusAnswer | undefined;
    await waitFor(async () => {
      const answer = await call(url, INCIDENT_BOT, 'GET', statusUrl);
      status = answer.json as StatusAnswer;
      return status.awaiting?.kind === 'approval';
    }, 'the webhook to show the approval wait');
    const holderId = status?.lockHolder?.workflowId;
    assert.ok(holderId, 'the forced failover runs under the group lock');

    const own = await call(url, INCIDENT_BOT, 'POST', `${statusUrl}/signals/approve`, {
      body: { reason: 'INC-9001: my own incident' },
    });
    assert.equal(own.status, 403, JSON.stringify(own.json));
    const ownError = own.json as WebhookError & { refused?: string; remedy?: string };
    assert.equal(ownError.error, 'approval-refused');
    assert.match(
      ownError.message,
      /refused the approve from webhook:incident-bot: webhook:incident-bot requested this run and may not also approve it \(two-person rule\)/,
    );
    assert.match(String(ownError.remedy), /Ask a second person/);

    const ungranted = await call(url, VIEWER, 'POST', `${statusUrl}/signals/approve`, {
      body: { reason: 'INC-9001: looks bad' },
    });
    assert.equal(ungranted.status, 403, JSON.stringify(ungranted.json));
    const ungrantedError = ungranted.json as WebhookError & { refused?: string; remedy?: string };
    assert.equal(ungrantedError.error, 'approval-refused');
    assert.match(
      ungrantedError.message,
      /refused the approve from webhook:viewer: webhook:viewer may not approve runs/,
    );
    assert.match(String(ungrantedError.remedy), /Grant approve to access\.callers\.viewer/);

    const refusalsOf = (answer: { refusals?: { by: string; via: string; decision: string }[] } | undefined) =>
      answer?.refusals?.map((refusal) => `${refusal.decision} ${refusal.via} ${refusal.by}`);
    const expectedRefusals = ['approve update webhook:incident-bot', 'approve update webhook:viewer'];
    // The starter mirrors its lock holder's status when the holder sends it: wait for that, not for a time.
    await waitFor(async () => {
      status = (await call(url, VIEWER, 'GET', statusUrl)).json as StatusAnswer;
      return (status.status?.refusals?.length ?? 0) >= 2;
    }, 'the refusals in the status of the id the bot started');
    assert.equal(status?.state, 'running');
    assert.equal(status?.awaiting?.kind, 'approval', 'the run still waits');
    assert.deepEqual(refusalsOf(status?.status), expectedRefusals, 'the webhook shows the refusals');
    assert.deepEqual(refusalsOf(status?.lockHolder?.status), expectedRefusals);
    assert.deepEqual(refusalsOf(await fogpilot.status(workflowId)), expectedRefusals, 'the status query shows them');
    assert.deepEqual(refusalsOf(await fogpilot.status(holderId)), expectedRefusals);

    assert.equal(failovers()?.received ?? 0, 0, 'a refused approval sends no failover');
    assert.deepEqual(
      emulator.world.events.filter((event) => event.kind.startsWith('failover')).map((event) => event.kind),
      [],
    );
    const group = () => emulator.world.findGroup('fog-sales')!;
    assert.equal(emulator.world.instanceById(group().primaryInstanceId)!.location, 'eastus');

    const approve = await call(url, PAGER, 'POST', `${statusUrl}/signals/approve`, {
      body: { reason: 'INC-9001: eastus outage confirmed' },
    });
    assert.equal(approve.status, 202, JSON.stringify(approve.json));
    assert.equal((approve.json as { by: string }).by, 'webhook:pager');

    assert.equal((await fogpilot.result(workflowId)).report?.outcome, 'succeeded');
    const ended = (await call(url, INCIDENT_BOT, 'GET', statusUrl)).json as StatusAnswer;
    assert.equal(ended.state, 'completed');
    assert.deepEqual(ended.report?.approval && [ended.report.approval.requestedBy, ended.report.approval.by], [
      'webhook:incident-bot',
      'webhook:pager',
    ]);
    assert.equal(ended.report?.approval?.via, 'update');
    assert.deepEqual(refusalsOf(ended.report), expectedRefusals, 'the report keeps the refusals');
    assert.deepEqual(failovers(), { received: 1, accepted: 1, refused: 0, acceptedTo: { westus: 1 } });
    assert.equal(emulator.world.instanceById(group().primaryInstanceId)!.location, 'westus');

    // On the server: each approval was an `approve` Update the lock holder judged with judgeApproval; two failed.
    const history = await server.env.client.workflow.getHandle(holderId).fetchHistory();
    const updates = history.events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
    assert.deepEqual(
      updates.map((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name),
      ['approve', 'approve', 'approve'],
    );
    const judged = history.events?.filter(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'judgeApproval',
    );
    assert.equal(judged?.length, 3);
    const outcomes = history.events
      ?.map((event) => event.workflowExecutionUpdateCompletedEventAttributes?.outcome)
      .filter((outcome) => outcome !== undefined && outcome !== null)
      .map((outcome) => (outcome.failure ? `refused: ${outcome.failure.applicationFailureInfo?.type}` : 'accepted'));
    assert.deepEqual(outcomes, ['refused: ApprovalRefused', 'refused: ApprovalRefused', 'accepted']);

    const logged = webhook.stderr();
    for (const by of ['webhook:incident-bot', 'webhook:viewer'])
      assert.match(logged, new RegExp(`"by":"${by}","msg":"decision refused"`), 'the webhook logs each refusal');
    for (const secret of Object.values(SECRETS)) assert.ok(!logged.includes(secret), 'no secret in its log');
  });
});
