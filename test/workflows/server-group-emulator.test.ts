/**
 * The runbooks on the emulator's SQL Database failover group (`fog-orders`, servers fog-orders-eastus and
 * fog-orders-westus) end to end on the time-skipping server: the real activities, ArmServerGroupPlane over HTTP, the
 * mssql driver over TDS to each member database. The emulator's counters, events and commit logs are the judge.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorInventory } from '../../src/emulator/adapters';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { endingOf, timeSkippingFrame } from '../support/runbook-harness';
import { emulatorWorker } from '../support/emulator-harness';

/** Emulated minutes pass in real milliseconds; the runbooks' own timers skip. */
const SPEED = 600;

const frame = timeSkippingFrame();

function world(): WorldSpecInput {
  return {
    ...defaultWorldSpec(),
    timings: { roleSwitchSeconds: 30, forcedSwitchSeconds: 15, plannedFailoverTimeoutSeconds: 60 },
    throttling: { enabled: false },
  };
}

describe('runbooks on the emulated SQL Database group', { concurrency: 1, timeout: 300_000 }, () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: world(), speed: SPEED });
  });
  after(async () => emulator?.close());

  const group = () => emulator.world.findSqlGroup('fog-orders')!;
  const primaryLocation = () => emulator.world.sqlServerById(group().primaryServerId)!.location;
  const failovers = () => emulator.world.invariants().failovers['fog-orders'];
  const requests = () =>
    emulator.world.events.filter((event) => event.kind === 'failover-requested' && event.group === 'fog-orders');

  async function run(type: string, input: Record<string, unknown>, workflowId?: string) {
    const inventory = emulatorInventory(emulator);
    const rig = await emulatorWorker(frame.env, emulator, { queuePrefix: 'sqldb-emulator', inventory });
    try {
      return await rig.worker.runUntil(async () => {
        const handle: WorkflowHandle = await frame.env.client.workflow.start(type, {
          taskQueue: rig.taskQueue,
          workflowId: workflowId ?? lockWorkflowId(inventory.get('fog-orders')!),
          args: [input],
        });
        frame.started.add(handle.workflowId);
        return endingOf(handle);
      });
    } finally {
      await rig.close();
    }
  }

  it('plannedFailover goes to westus and back: copy sync per database, one failover POST each way, nothing lost', async () => {
    emulator.world.load(world());
    const { report, failure } = await run('plannedFailover', { group: 'fog-orders', failback: { after: '1 minute' } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(failovers(), { received: 2, accepted: 2, refused: 0, acceptedTo: { westus: 1, eastus: 1 } });
    assert.deepEqual(
      requests().map((event) => event.detail?.kind),
      ['planned', 'planned'],
    );
    assert.equal(primaryLocation(), 'eastus');
    assert.equal(report.legs[0]!.dataLoss.kind, 'none-proven');
    assert.deepEqual(report.legs[0]!.dataLoss.databases?.map((entry) => entry.database).sort(), [
      'ledger',
      'orders',
      'payments',
    ]);
    assert.deepEqual(emulator.world.lostCommits, []);
    assert.deepEqual(emulator.world.invariants().violations, []);
  });

  it('forcedFailover with tryPlannedFirst and eastus dark sends Azure’s tryPlannedBeforeForcedFailover once; westus becomes primary', async () => {
    emulator.world.load(world());
    emulator.world.faults.darkRegions.add('eastus');
    try {
      const { report, failure } = await run('forcedFailover', {
        group: 'fog-orders',
        approval: { by: 'incident-bot', reason: 'INC-7: eastus down' },
        tryPlannedFirst: { timeout: '5 minutes' },
      });
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      assert.equal(report.legs[0]!.tryPlannedBy, 'azure');
      assert.deepEqual(failovers(), { received: 1, accepted: 1, refused: 0, acceptedTo: { westus: 1 } });
      assert.equal(requests()[0]?.detail?.kind, 'tryPlanned');
      assert.equal(primaryLocation(), 'westus');
      assert.deepEqual(emulator.world.invariants().violations, []);
    } finally {
      emulator.world.faults.darkRegions.clear();
    }
  });

  it('fleetFailover of eastus fails over both kinds of group there, each through its own plane', async () => {
    emulator.world.load(world());
    const { report, failure } = await run('fleetFailover', { region: 'eastus' }, 'fleet/eastus-both-kinds');
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(report.fleet!.members.map((member) => [member.group, member.outcome]).sort(), [
      ['fog-orders', 'succeeded'],
      ['fog-sales', 'succeeded'],
    ]);
    assert.equal(primaryLocation(), 'westus');
    const sales = emulator.world.findGroup('fog-sales')!;
    assert.equal(emulator.world.instanceById(sales.primaryInstanceId)!.location, 'westus');
    assert.deepEqual(failovers(), { received: 1, accepted: 1, refused: 0, acceptedTo: { westus: 1 } });
    assert.deepEqual(emulator.world.lostCommits, []);
  });
});
