/**
 * protectWorkload end to end on the time-skipping server with fogpilot's real recovery plane
 * (`@azure/arm-recoveryservicesbackup` and `@azure/arm-cosmosdb` over HTTPS, the control plane's credential and
 * budget) against the emulator's default world: a VM no vault protects, a vault with a daily policy, a periodic and a
 * continuous Cosmos DB account. The emulator's world is the judge of what was protected, backed up and migrated.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator';
import { emulatorAdapters } from '../../src/emulator/adapters';
import { ArmRecoveryPlane } from '../../src/azure/arm-recovery-plane';
import { Inventory } from '../../src/config/inventory';
import { endingOf } from '../support/runbook-harness';
import { emulatorFrame, runbookWorld } from '../support/emulator-harness';
import { createTestWorker, uniqueTaskQueue } from '../support/temporal';

/** 600 times real time: a backup of the VM's 128 GB (about 3 simulated minutes here) in well under a second. */
const SPEED = 600;

let emulator: Emulator;
const frame = emulatorFrame(
  {
    world: runbookWorld((spec) => {
      spec.workloadTimings = {
        refreshContainersSeconds: 10,
        configureProtectionSeconds: 20,
        backupSnapshotBaseSeconds: 60,
        backupSnapshotSecondsPerGB: 0.25,
        backupTransferSecondsPerGB: 0.5,
        cosmosMigrationGBPerHour: 6_000,
        cosmosMigrationMinSeconds: 60,
      };
    }),
    speed: SPEED,
  },
  (started) => (emulator = started),
);

describe('protectWorkload against the emulator', { concurrency: 1 }, () => {
  it('protects the VM to a recovery point and migrates the periodic account, pre-approved, through the real SDKs', async () => {
    const sub = emulator.world.spec.subscriptionId;
    const rg = `/subscriptions/${sub}/resourceGroups/rg-fogpilot-app/providers`;
    const vmId = `${rg}/Microsoft.Compute/virtualMachines/vm-app-eastus`;
    const vault = `${rg}/Microsoft.RecoveryServices/vaults/rsv-fogpilot-eastus`;
    const orders = `${rg}/Microsoft.DocumentDB/databaseAccounts/cosmos-orders`;
    const catalog = `${rg}/Microsoft.DocumentDB/databaseAccounts/cosmos-catalog`;

    const adapters = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
    const called: string[] = [];
    const taskQueue = uniqueTaskQueue('protect-emulator');
    const worker = await createTestWorker({
      env: frame.env,
      taskQueue,
      deps: {
        controlPlane: adapters.controlPlane,
        dataPlane: adapters.dataPlane,
        recoveryPlane: new ArmRecoveryPlane(adapters.controlPlane),
        inventory: new Inventory({}),
      },
      called,
    });
    const workflowId = 'fogpilot/protectWorkload/emulator-1';
    frame.started.add(workflowId);
    const { report, failure } = await worker
      .runUntil(async () => {
        const handle = await frame.env.client.workflow.start('protectWorkload', {
          taskQueue,
          workflowId,
          args: [
            {
              vms: [vmId],
              vault,
              policy: 'DefaultPolicy',
              cosmosAccounts: [orders, catalog],
              approval: { by: 'ops-b', reason: 'CHG-17: workload backups' },
              requestedBy: 'ops-a',
            },
          ],
        });
        return endingOf(handle);
      })
      .finally(() => adapters.dataPlane.close());
    assert.equal(report?.outcome, 'succeeded', failure?.message);

    // The world: the VM protected under the policy, with a recovery point of the run's job.
    const rsv = [...emulator.world.workload.vaults.values()].find((entry) => entry.name === 'rsv-fogpilot-eastus')!;
    const items = [...rsv.protectedItems.values()];
    assert.equal(items.length, 1, 'one protected item');
    assert.equal(items[0]!.vmId.toLowerCase(), vmId.toLowerCase());
    assert.equal(items[0]!.policyName, 'DefaultPolicy');
    const vm = report.protection!.vms[0]!;
    assert.equal(vm.action, 'protected');
    assert.equal(vm.backup?.jobStatus, 'Completed');
    assert.ok(
      items[0]!.recoveryPoints.some((point) => point.jobId === vm.backup?.jobId),
      'the recovery point of the run’s job is in the vault',
    );
    assert.ok(vm.backup?.recoveryPointTime, 'the report names the recovery point');

    // The periodic account is continuous now; the continuous one was left as it was.
    const accounts = [...emulator.world.workload.cosmosAccounts.values()];
    const ordersState = accounts.find((entry) => entry.name === 'cosmos-orders')!;
    assert.equal(ordersState.backupPolicy.type, 'Continuous');
    assert.equal(ordersState.migration?.status, 'Completed');
    assert.deepEqual(
      report.protection!.accounts.map((account) => [account.name, account.action, account.policyAfter]),
      [
        ['cosmos-orders', 'migrated', 'Continuous'],
        ['cosmos-catalog', 'already-continuous', 'Continuous'],
      ],
    );
    assert.ok(report.protection!.accounts.every((account) => account.oldestRestorableTime));
    assert.match(report.approval?.by ?? '', /ops-a/, 'pre-approved by the requester who started it');
  });
});
