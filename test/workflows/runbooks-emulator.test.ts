/**
 * forcedFailover, drDrill and fleetFailover end to end on the time-skipping server with the real activities against
 * the emulator: @azure/arm-sql over HTTP, the mssql driver over TDS, the read-write listener. The emulator's counters,
 * event log and lost-commit record are the judge.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { emulatorAdapters, emulatorInventory } from '../../src/emulator/adapters';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { rejectSignal, statusQuery } from '../../src/workflows/definitions';
import { createTestWorker, uniqueTaskQueue } from '../support/temporal';
import { endingOf, timeSkippingFrame, waitFor } from '../support/runbook-harness';

/** Emulated minutes pass in real milliseconds; the runbooks' own timers skip (or, while a probe runs, tick). */
const SPEED = 600;
const TIMINGS = { roleSwitchSeconds: 30, forcedSwitchSeconds: 15, vCoreScaleSeconds: 120, storageScaleSeconds: 60 };

const frame = timeSkippingFrame();

function fleetWorld(size: number): WorldSpecInput {
  const names = Array.from({ length: size }, (_, index) => `fleet-${index + 1}`);
  return {
    instances: names.flatMap((name) => [
      { name: `${name}-eastus`, resourceGroup: 'rg-fleet', location: 'eastus' },
      { name: `${name}-westus`, resourceGroup: 'rg-fleet', location: 'westus' },
    ]),
    groups: names.map((name) => ({
      name,
      resourceGroup: 'rg-fleet',
      primaryInstance: `${name}-eastus`,
      secondaryInstance: `${name}-westus`,
      databases: [{ name: 'orders' }],
    })),
    timings: TIMINGS,
    throttling: { enabled: false },
  };
}

/** The emulator, a worker with the real adapters over it, and the inventory of every group in its world. */
async function rig(world: WorldSpecInput) {
  const emulator: Emulator = await startEmulator({ world, speed: SPEED });
  const inventory = emulatorInventory(emulator);
  const { controlPlane, dataPlane } = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue('runbooks-emulator');
  const deps = { controlPlane, dataPlane, inventory };
  return {
    emulator,
    inventory,
    called,
    start(type: string, input: Record<string, unknown>, workflowId?: string): Promise<WorkflowHandle> {
      return frame.env.client.workflow.start(type, {
        taskQueue,
        workflowId: workflowId ?? lockWorkflowId(inventory.get(input.group as string)!),
        args: [input],
      });
    },
    /** Runs `body` with a worker polling; the worker stops when it returns (a worker runs once). */
    async with<T>(body: () => Promise<T>): Promise<T> {
      const worker = await createTestWorker({ env: frame.env, taskQueue, deps, called });
      return worker.runUntil(body);
    },
    async close(): Promise<void> {
      await dataPlane.close();
      await emulator.close();
    },
  };
}

describe('forcedFailover against the emulator', { concurrency: 1, timeout: 240_000 }, () => {
  let r: Awaited<ReturnType<typeof rig>>;
  before(async () => {
    r = await rig({ ...defaultWorldSpec(), timings: TIMINGS, throttling: { enabled: false } });
  });
  after(async () => r?.close());

  const failovers = () => r.emulator.world.invariants().failovers['fog-sales'];
  const reload = () =>
    r.emulator.world.load({ ...defaultWorldSpec(), timings: TIMINGS, throttling: { enabled: false } });

  it('with the primary region dark and a pre-approval, forces one failover and the secondary becomes primary', async () => {
    reload();
    r.emulator.world.faults.darkRegions.add('eastus');
    try {
      const { report, failure } = await r.with(async () =>
        endingOf(
          await r.start('forcedFailover', {
            group: 'fog-sales',
            approval: { by: 'incident-bot', reason: 'INC-1: eastus down' },
          }),
        ),
      );
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      assert.deepEqual(failovers(), { received: 1, accepted: 1, refused: 0, acceptedTo: { westus: 1 } });
      const requested = r.emulator.world.events.find((event) => event.kind === 'failover-requested');
      assert.equal(requested?.detail?.kind, 'forced');
      const group = r.emulator.world.findGroup('fog-sales')!;
      assert.equal(r.emulator.world.instanceById(group.primaryInstanceId)!.location, 'westus');
      assert.equal(report?.approval?.via, 'input');
      assert.equal(report?.legs[0]?.dataLoss.kind, 'estimated');
      assert.deepEqual(r.emulator.world.invariants().violations, []);
    } finally {
      r.emulator.world.faults.darkRegions.clear();
    }
  });

  it('a rejected approval changes nothing in Azure', async () => {
    reload();
    const result = await r.with(async () => {
      const handle = await r.start('forcedFailover', { group: 'fog-sales' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the approval wait');
      await handle.signal(rejectSignal, { by: 'cto', reason: 'eastus is fine' });
      return endingOf(handle);
    });
    assert.equal(result.failure?.type, 'ApprovalRejected');
    assert.equal(failovers()?.received ?? 0, 0);
    assert.equal(r.emulator.world.events.filter((event) => event.kind.startsWith('failover')).length, 0);
  });

  it('an approval timeout changes nothing in Azure', async () => {
    reload();
    const result = await r.with(async () =>
      endingOf(await r.start('forcedFailover', { group: 'fog-sales', approvalTimeout: '30 minutes' })),
    );
    assert.equal(result.failure?.type, 'ApprovalTimeout');
    assert.equal(failovers()?.received ?? 0, 0);
    const group = r.emulator.world.findGroup('fog-sales')!;
    assert.equal(r.emulator.world.instanceById(group.primaryInstanceId)!.location, 'eastus');
  });

  it('a drill fails over and back through the listener and reports zero loss from its write probe', async () => {
    reload();
    const { report, failure } = await r.with(async () =>
      endingOf(await r.start('drDrill', { group: 'fog-sales', soak: '5 seconds' })),
    );
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const drill = report.drill!;
    assert.equal(drill.dataLoss, 'none');
    assert.ok(drill.probe && drill.probe.acknowledged > 0, 'the probe wrote through the listener');
    assert.equal(drill.probe.lostAcknowledged, 0);
    assert.ok((drill.rtoFailoverSeconds ?? 0) > 0 && (drill.rtoFailbackSeconds ?? 0) > 0);
    assert.ok(drill.smokeChecks.length >= 3 && drill.smokeChecks.every((check) => check.status === 'pass'));
    assert.deepEqual(failovers(), { received: 2, accepted: 2, refused: 0, acceptedTo: { westus: 1, eastus: 1 } });
    assert.deepEqual(r.emulator.world.lostCommits, []);
    const group = r.emulator.world.findGroup('fog-sales')!;
    assert.equal(r.emulator.world.instanceById(group.primaryInstanceId)!.location, 'eastus');
  });
});

describe('fleetFailover against the emulator', { concurrency: 1, timeout: 240_000 }, () => {
  let r: Awaited<ReturnType<typeof rig>>;
  before(async () => {
    r = await rig(fleetWorld(10));
  });
  after(async () => r?.close());

  it('fails over a fleet of 10 groups; the one whose failover fails is reported and the other 9 complete', async () => {
    r.emulator.world.faults.failoverFails.set('fleet-7', {
      code: 'PlannedFailoverTimedOut',
      message: 'The planned failover timed out.',
    });
    const { report, failure } = await r.with(async () =>
      endingOf(await r.start('fleetFailover', { region: 'eastus', concurrency: 4 }, 'fleet/eastus-e2e')),
    );
    assert.equal(report?.outcome, 'partial', failure?.message);
    const members = report.fleet!.members;
    assert.equal(members.length, 10);
    const failed = members.filter((member) => member.outcome === 'failed');
    assert.deepEqual(
      failed.map((member) => [member.group, member.error?.type]),
      [['fleet-7', 'FailoverFailed']],
    );
    assert.equal(report.fleet!.counts.succeeded, 9);
    const invariants = r.emulator.world.invariants();
    for (let index = 1; index <= 10; index++) {
      const name = `fleet-${index}`;
      assert.equal(invariants.failovers[name]?.accepted, 1, `${name}: exactly one failover POST accepted`);
      const group = r.emulator.world.findGroup(name)!;
      const primaryAt = r.emulator.world.instanceById(group.primaryInstanceId)!.location;
      assert.equal(primaryAt, name === 'fleet-7' ? 'eastus' : 'westus', `${name} primary`);
    }
    assert.deepEqual(invariants.violations, []);
  });
});
