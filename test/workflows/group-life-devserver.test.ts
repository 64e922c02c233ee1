/**
 * The group's life end to end on the real Temporal dev server: `bin/fogpilot.js` in its own process starts the
 * runbooks, a fogpilot worker in this process runs them with its real adapters against the emulator (ARM over HTTPS,
 * SQL over TDS), and a real HTTP receiver stands for the hooks' targets and the notification endpoint.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import { ConfigSchema } from '../../src/config/config';
import { Inventory } from '../../src/config/inventory';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters } from '../../src/emulator/adapters';
import { defaultWorldSpec, establishWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import type { RunbookNotification } from '../../src/notify/events';
import { verifySignature } from '../../src/notify/signature';
import { abortSignal, watchStatusQuery } from '../../src/workflows/definitions';
import { jsonOf, fogpilot } from '../cli/fogpilot-cli';
import { startReceiver, type LocalReceiver } from '../hooks/local-receiver';
import { startDevServer, type DevServer } from '../support/dev-server';
import { StartedWorkflows, waitFor } from '../support/runbook-harness';
import { createTestWorker, uniqueTaskQueue, workflowBundle } from '../support/temporal';

const SECRET = 'devserver-notification-key-0123456789';
/** Fast enough that seeding 150 GB (25 simulated minutes) is over before the seeding wait's first look. */
const SPEED = 60_000;

let server: DevServer;
let emulator: Emulator;
let receiver: LocalReceiver;
const started = new StartedWorkflows();

before(async () => {
  [server, receiver] = await Promise.all([startDevServer(), startReceiver(), workflowBundle().then(() => undefined)]);
});
afterEach(async () => {
  await started.terminateAll(server.env);
  await emulator?.close();
});
after(async () => {
  await Promise.all([server?.teardown(), receiver?.close()]);
});

/** Each test's own emulator, started with its world (its instances' SQL endpoints are those of the world it starts with). */
async function emulate(world: WorldSpecInput): Promise<void> {
  emulator = await startEmulator({ tls: true, speed: SPEED, world: { ...world, throttling: { enabled: false } } });
}

/** A worker over the emulator whose inventory has `group`, hooks on the receiver and a signed endpoint there. */
async function workerFor(
  inventory: Record<string, { primaryLocation: string; secondaryLocation: string; hooks?: unknown }>,
): Promise<{ worker: Worker; taskQueue: string; close: () => Promise<void> }> {
  const taskQueue = uniqueTaskQueue('group-life-devserver');
  const coordinates = (name: string, entry: (typeof inventory)[string]) => ({
    subscriptionId: emulator.world.spec.subscriptionId,
    resourceGroup: 'rg-fogpilot',
    name,
    primaryLocation: entry.primaryLocation,
    secondaryLocation: entry.secondaryLocation,
  });
  const config = ConfigSchema.parse({
    inventory: Object.fromEntries(
      Object.entries(inventory).map(([name, entry]) => [
        name,
        { ...coordinates(name, entry), ...(entry.hooks ? { hooks: entry.hooks } : {}) },
      ]),
    ),
    notifications: [{ name: 'ops', url: `${receiver.origin}/notify`, secretEnv: 'FOGPILOT_E2E_NOTIFY_KEY' }],
  });
  const adapters = emulatorAdapters(emulator, { requestTimeoutMs: 5_000 });
  const worker = await createTestWorker({
    env: server.env,
    taskQueue,
    deps: {
      ...adapters,
      inventory: new Inventory(
        Object.fromEntries(Object.entries(inventory).map(([name, entry]) => [name, coordinates(name, entry)])),
      ),
      outbound: { config, env: { FOGPILOT_E2E_NOTIFY_KEY: SECRET } },
    },
    called: [],
  });
  return { worker, taskQueue, close: () => adapters.dataPlane.close() };
}

function notifications(): { payload: RunbookNotification; verified: boolean }[] {
  return receiver.requests
    .filter((request) => request.url === '/notify')
    .map((request) => ({
      payload: JSON.parse(request.rawBody.toString('utf8')) as RunbookNotification,
      verified: verifySignature(SECRET, String(request.headers['x-fogpilot-signature']), request.rawBody).ok,
    }));
}

describe('a group’s life on the dev server', { concurrency: 1, timeout: 180_000 }, () => {
  it('establish refuses a pair in two DNS zones naming the remedy, then creates a correct group', async () => {
    await emulate(establishWorldSpec());
    receiver.requests.length = 0;
    const { worker, taskQueue, close } = await workerFor({
      'fog-crm': { primaryLocation: 'eastus', secondaryLocation: 'westus' },
      'fog-crm-central': { primaryLocation: 'eastus', secondaryLocation: 'centralus' },
    });
    const cliEnv = { TEMPORAL_ADDRESS: server.address, FOGPILOT_TASK_QUEUE: taskQueue };
    try {
      await worker.runUntil(async () => {
        const refused = await fogpilot(
          ['establish', 'fog-crm-central', '--primary', 'fog-crm-eastus', '--secondary', 'fog-crm-centralus', '--json'],
          cliEnv,
          120_000,
        );
        const refusal = jsonOf<{ workflowId: string; outcome: string; failure?: { type: string; message: string } }>(
          refused,
        );
        started.add(refusal.workflowId);
        assert.notEqual(refused.code, 0, 'a refused runbook exits non-zero');
        assert.equal(refusal.failure?.type, 'PreflightFailed', refused.stdout);
        assert.match(refusal.failure.message, /DnsZoneMismatch/);
        assert.match(refusal.failure.message, /dnsZonePartner/);
        assert.equal(emulator.world.groups.size, 0, 'nothing was created');

        const created = await fogpilot(
          [
            'establish',
            'fog-crm',
            '--primary',
            'fog-crm-eastus',
            '--secondary',
            'fog-crm-westus',
            '--poll-interval',
            '5 seconds',
            '--json',
          ],
          cliEnv,
          120_000,
        );
        const creation = jsonOf<{ workflowId: string; outcome: string }>(created);
        started.add(creation.workflowId);
        assert.equal(created.code, 0, created.stderr);
        assert.equal(creation.outcome, 'succeeded');
        const group = emulator.world.findGroup('fog-crm');
        assert.ok(group, 'the group exists in the emulated Azure');
        assert.equal(emulator.world.isSeeding(group), false);
      });
    } finally {
      await close();
    }
  });

  it("a before hook's failure stops a planned failover before any change, and the signed notifications arrive", async () => {
    await emulate(defaultWorldSpec());
    receiver.requests.length = 0;
    receiver.answer((request) => (request.url === '/drain' ? { status: 500, body: 'drain failed' } : { status: 204 }));
    const { worker, taskQueue, close } = await workerFor({
      'fog-sales': {
        primaryLocation: 'eastus',
        secondaryLocation: 'westus',
        hooks: { before: [{ name: 'drain', url: `${receiver.origin}/drain`, attempts: 1 }] },
      },
    });
    const cliEnv = { TEMPORAL_ADDRESS: server.address, FOGPILOT_TASK_QUEUE: taskQueue };
    try {
      await worker.runUntil(async () => {
        const run = await fogpilot(['failover', 'fog-sales', '--json'], cliEnv, 120_000);
        const ended = jsonOf<{ workflowId: string; failure?: { type: string; message: string } }>(run);
        started.add(ended.workflowId);
        assert.equal(ended.failure?.type, 'HookFailed', run.stdout);
        assert.match(ended.failure.message, /Nothing was changed: eastus is still primary/);
        const group = emulator.world.findGroup('fog-sales')!;
        assert.equal(emulator.world.failoverCountersOf(group).received, 0, 'no failover reached Azure');
        assert.equal(emulator.world.reportedRole(group, 'eastus'), 'Primary');

        // Deliveries run apart from the runbook: wait for both to arrive.
        await waitFor(() => notifications().length >= 2, 'the started and failed notifications', 60_000);
        const received = notifications();
        assert.deepEqual(received.map((entry) => entry.payload.event).sort(), ['failed', 'started']);
        assert.ok(
          received.every((entry) => entry.verified),
          'each verifies with the key',
        );
        const first = receiver.requests.find((request) => request.url === '/notify')!;
        assert.equal(
          verifySignature('a-wrong-key', String(first.headers['x-fogpilot-signature']), first.rawBody).ok,
          false,
        );
        assert.equal(
          received.find((entry) => entry.payload.event === 'failed')?.payload.details?.failureType,
          'HookFailed',
        );
      });
    } finally {
      await close();
    }
  });

  it('watchGroups reports an automatic failover it did not send, and notifies it signed', async () => {
    // Automatic policy, a 60-minute grace period: 60 simulated minutes after eastus goes dark Azure fails over by itself.
    const world = defaultWorldSpec();
    world.groups = world.groups!.map((group) => ({
      ...group,
      readWriteFailoverPolicy: 'Automatic',
      gracePeriodMinutes: 60,
    }));
    await emulate(world);
    receiver.requests.length = 0;
    receiver.answer({ status: 204 });
    const { worker, taskQueue, close } = await workerFor({
      'fog-sales': { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    });
    try {
      await worker.runUntil(async () => {
        const handle = await server.env.client.workflow.start('watchGroups', {
          taskQueue,
          workflowId: `watch-groups-${Date.now()}`,
          args: [{ groups: ['fog-sales'], interval: '15 seconds' }],
        });
        started.add(handle.workflowId);
        await waitFor(async () => (await handle.query(watchStatusQuery)).looks >= 1, 'the first look', 60_000);
        const first = await handle.query(watchStatusQuery);
        assert.equal(first.groups[0]?.primaryLocation, 'eastus');

        emulator.arm.addFault({ kind: 'region-dark', location: 'eastus' });
        const group = emulator.world.findGroup('fog-sales')!;
        await waitFor(() => emulator.world.reportedRole(group, 'westus') === 'Primary', 'Azure’s own failover', 30_000);

        await waitFor(async () => (await handle.query(watchStatusQuery)).changes.length > 0, 'the change seen', 90_000);
        const [change] = (await handle.query(watchStatusQuery)).changes;
        assert.equal(change?.from, 'eastus');
        assert.equal(change?.to, 'westus');
        assert.equal(change?.byFogpilot, false, 'no fogpilot runbook made it');
        assert.equal(emulator.world.failoverCountersOf(group).received, 0, 'fogpilot sent no failover');

        await waitFor(
          () => notifications().some((entry) => entry.payload.event === 'azureFailoverSeen'),
          'the azureFailoverSeen notification',
          60_000,
        );
        const seen = notifications().find((entry) => entry.payload.event === 'azureFailoverSeen')!;
        assert.equal(seen.verified, true);
        assert.equal(seen.payload.group, 'fog-sales');
        assert.equal(seen.payload.toLocation, 'westus');
        await handle.signal(abortSignal, { by: 'test', reason: 'done watching' });
        await handle.result().catch(() => undefined);
      });
    } finally {
      await close();
    }
  });
});
