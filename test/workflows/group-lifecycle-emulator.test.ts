/**
 * establishGroup and reprotect on the time-skipping server with fogpilot's real adapters (`@azure/arm-sql` and
 * `@azure/arm-network` over HTTPS, `mssql` over TDS) against the emulator's establish world: four instances, no group.
 * The emulator's world is the judge of what was created and deleted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator';
import { Inventory } from '../../src/config/inventory';
import { establishWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { lockWorkflowId, type GroupCoordinates } from '../../src/domain/group-ref';
import { rejectSignal, statusQuery } from '../../src/workflows/definitions';
import { endingOf, waitFor } from '../support/runbook-harness';
import { emulatorFrame, emulatorWorker } from '../support/emulator-harness';

/** The emulator's clock runs 600 times real time: 150 GB seed at 360 GB/h in about 2.6 s. */
const SPEED = 600;

let emulator: Emulator;
const frame = emulatorFrame({ world: world(), speed: SPEED }, (started) => (emulator = started));

function world(configure?: (spec: WorldSpecInput) => void): WorldSpecInput {
  const spec: WorldSpecInput = { ...establishWorldSpec(), throttling: { enabled: false } };
  configure?.(spec);
  return spec;
}

function crm(): GroupCoordinates {
  return {
    subscriptionId: emulator.world.spec.subscriptionId,
    resourceGroup: 'rg-fogpilot',
    name: 'fog-crm',
    primaryLocation: 'eastus',
    secondaryLocation: 'westus',
  };
}

async function run(workflowType: string, input: Record<string, unknown>, group = crm()) {
  const { worker, taskQueue, close } = await emulatorWorker(frame.env, emulator, {
    queuePrefix: 'lifecycle-emulator',
    inventory: new Inventory({ 'fog-crm': crm() }),
  });
  try {
    return await worker.runUntil(async () => {
      const handle = await frame.env.client.workflow.start(workflowType, {
        taskQueue,
        workflowId: lockWorkflowId(group),
        workflowIdConflictPolicy: 'FAIL',
        args: [input],
      });
      return endingOf(handle);
    });
  } finally {
    await close();
  }
}

describe('a group created and re-protected against the emulator', { concurrency: 1 }, () => {
  it('refuses a secondary in another DNS zone, naming the remedy, and creates nothing', async () => {
    emulator.world.load(world());
    // A group the inventory does not know, its instances named by ARM id.
    const id = (name: string) =>
      emulator.world.instanceByName(emulator.world.spec.subscriptionId, 'rg-fogpilot', name)!.id;
    const { report, failure } = await run(
      'establishGroup',
      { name: 'fog-crm-central', primaryInstance: id('fog-crm-eastus'), secondaryInstance: id('fog-crm-centralus') },
      { ...crm(), name: 'fog-crm-central', secondaryLocation: 'centralus' },
    );
    assert.equal(failure?.type, 'PreflightFailed', failure?.message);
    assert.match(failure.message, /pair-dns-zone/);
    assert.match(failure.message, /dnsZonePartner/);
    assert.equal(report.gates?.find((gate) => gate.name === 'pair-network')?.status, 'pass');
    assert.equal(emulator.world.groups.size, 0, 'no group was created');
  });

  it('creates a correct group, waits out its seeding per database, and ends with its readiness', async () => {
    emulator.world.load(world());
    const { report, failure } = await run('establishGroup', {
      name: 'fog-crm',
      primaryInstance: 'fog-crm-eastus',
      secondaryInstance: 'fog-crm-westus',
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const failing = report.gates
      ?.filter((gate) => gate.status !== 'pass')
      .map((gate) => `${gate.name}: ${gate.message}`);
    assert.deepEqual(failing, []);
    const group = emulator.world.findGroup('fog-crm');
    assert.ok(group, 'the group exists in the emulated Azure');
    assert.equal(emulator.world.isSeeding(group), false);
    assert.equal(emulator.world.reportedRole(group, 'eastus'), 'Primary');
    assert.deepEqual(
      report.establish?.seeding.databases.map((entry) => [entry.database, entry.state, entry.percent]),
      [
        ['billing', 'Completed', 100],
        ['crm', 'Completed', 100],
      ],
    );
    assert.ok(report.readiness, 'the readiness check ran on the new group');
    assert.equal(report.establish?.creation, 'created');
  });

  it('re-protects the surviving primary toward a third region after its partner is lost', async () => {
    // fog-crm failed over to westus when eastus was lost: westus primary, eastus dark for good.
    emulator.world.load(
      world((spec) => {
        spec.instances = spec.instances.map((instance) =>
          instance.name === 'fog-crm-eastus' ? { ...instance, databases: [] } : instance,
        );
        spec.groups = [
          {
            name: 'fog-crm',
            resourceGroup: 'rg-fogpilot',
            primaryInstance: 'fog-crm-westus',
            secondaryInstance: 'fog-crm-eastus',
            databases: [
              { name: 'crm', sizeGB: 120 },
              { name: 'billing', sizeGB: 30 },
            ],
          },
        ];
      }),
    );
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus' });
    await waitFor(() => emulator.world.faults.darkRegions.has('eastus'), 'eastus dark');

    const { report, failure } = await run('reprotect', {
      group: 'fog-crm',
      newSecondaryInstance: 'fog-crm-northeurope',
      approval: { by: 'incident-commander', reason: 'INC-7: eastus lost' },
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const group = emulator.world.findGroup('fog-crm');
    assert.ok(group);
    const names = group.instanceIds.map((id) => emulator.world.instanceById(id)!.name).sort();
    assert.deepEqual(names, ['fog-crm-northeurope', 'fog-crm-westus']);
    assert.equal(emulator.world.reportedRole(group, 'westus'), 'Primary');
    assert.equal(emulator.world.isSeeding(group), false);
    assert.ok(
      emulator.world.events.some((event) => event.kind === 'group-deleted'),
      'the broken group was deleted',
    );
    assert.deepEqual(report.rolesAfter, { primary: 'westus', secondary: 'northeurope' });
    assert.equal(report.approval?.reason, 'INC-7: eastus lost');
    assert.ok(report.warnings.some((warning) => /update its inventory entry/.test(warning)));
  });

  it('refuses to delete a healthy pair: both regions answer, synchronizing', async () => {
    emulator.world.load(
      world((spec) => {
        spec.instances = spec.instances.map((instance) =>
          instance.name === 'fog-crm-eastus' ? { ...instance, databases: [] } : instance,
        );
        spec.groups = [
          {
            name: 'fog-crm',
            resourceGroup: 'rg-fogpilot',
            primaryInstance: 'fog-crm-eastus',
            secondaryInstance: 'fog-crm-westus',
            databases: [{ name: 'crm', sizeGB: 1 }],
          },
        ];
      }),
    );
    const { failure } = await run('reprotect', {
      group: 'fog-crm',
      newSecondaryInstance: 'fog-crm-northeurope',
      approval: { by: 'incident-commander', reason: 'drill of the runbook' },
    });
    assert.equal(failure?.type, 'PreflightFailed', failure?.message);
    assert.match(failure.message, /westus answers for fog-crm \(Secondary, CATCH_UP\): its region is not lost/);
    assert.ok(emulator.world.findGroup('fog-crm'), 'the group is still there');
    assert.ok(!emulator.world.events.some((event) => event.kind === 'group-deleted'));
  });

  it('waits for approval before deleting, and a rejection leaves the broken group as it was', async () => {
    emulator.world.load(
      world((spec) => {
        spec.instances = spec.instances.map((instance) =>
          instance.name === 'fog-crm-eastus' ? { ...instance, databases: [] } : instance,
        );
        spec.groups = [
          {
            name: 'fog-crm',
            resourceGroup: 'rg-fogpilot',
            primaryInstance: 'fog-crm-westus',
            secondaryInstance: 'fog-crm-eastus',
            databases: [{ name: 'crm', sizeGB: 1 }],
          },
        ];
      }),
    );
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus' });
    const { worker, taskQueue, close } = await emulatorWorker(frame.env, emulator, {
      queuePrefix: 'lifecycle-emulator',
      inventory: new Inventory({ 'fog-crm': crm() }),
    });
    try {
      const { failure } = await worker.runUntil(async () => {
        const handle = await frame.env.client.workflow.start('reprotect', {
          taskQueue,
          workflowId: lockWorkflowId(crm()),
          workflowIdConflictPolicy: 'FAIL',
          args: [{ group: 'fog-crm', newSecondaryInstance: 'fog-crm-northeurope', requestedBy: 'oncall-a' }],
        });
        await waitFor(async () => (await handle.query(statusQuery)).awaiting?.kind === 'approval', 'the approval wait');
        const status = await handle.query(statusQuery);
        assert.match(status.awaiting?.detail ?? '', /delete failover group fog-crm at westus/);
        await handle.signal(rejectSignal, { by: 'oncall-b', reason: 'not lost, only slow' });
        return endingOf(handle);
      });
      assert.equal(failure?.type, 'ApprovalRejected', failure?.message);
      assert.ok(emulator.world.findGroup('fog-crm'), 'the group was not deleted');
      assert.ok(!emulator.world.events.some((event) => event.kind === 'group-deleted'));
    } finally {
      await close();
    }
  });
});
