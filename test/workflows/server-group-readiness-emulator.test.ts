/**
 * readinessCheck on the emulator's SQL Database failover group (`fog-orders`) end to end on the time-skipping server:
 * the real activities over HTTP (ArmServerGroupPlane) and TDS (each member database on a connection of its own). A
 * clean world passes every SQL Database check; drift planted in the world — a smaller objective and local backups on
 * the secondary's copy, a database outside the group on the primary — is found, and nothing is changed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorInventory } from '../../src/emulator/adapters';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import type { RunbookReport } from '../../src/workflows/definitions';
import { endingOf, timeSkippingFrame } from '../support/runbook-harness';
import { emulatorWorker } from '../support/emulator-harness';

const SPEED = 600;
const frame = timeSkippingFrame();

function world(): WorldSpecInput {
  return { ...defaultWorldSpec(), throttling: { enabled: false } };
}

describe('readinessCheck on the emulated SQL Database group', { concurrency: 1, timeout: 240_000 }, () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: world(), speed: SPEED });
  });
  after(async () => emulator?.close());

  async function check(): Promise<RunbookReport> {
    const inventory = emulatorInventory(emulator);
    const rig = await emulatorWorker(frame.env, emulator, { queuePrefix: 'sqldb-readiness', inventory });
    try {
      const { report, failure } = await rig.worker.runUntil(async () => {
        const handle = await frame.env.client.workflow.start('readinessCheck', {
          taskQueue: rig.taskQueue,
          workflowId: `readiness-fog-orders-${Date.now()}`,
          args: [{ group: 'fog-orders' }],
        });
        frame.started.add(handle.workflowId);
        return endingOf(handle);
      });
      assert.ok(report, failure?.message);
      assert.deepEqual(
        rig.called.filter((name) => name.startsWith('send') || name.startsWith('start')),
        [],
      );
      return report;
    } finally {
      await rig.close();
    }
  }

  const notPassing = (report: RunbookReport): [string, string][] =>
    report
      .readiness!.groups.find((entry) => entry.group === 'fog-orders')!
      .checks.filter((entry) => entry.status !== 'pass')
      .map((entry): [string, string] => [entry.name, entry.status]);

  it('passes the clean pair: objectives, backup redundancy, membership and logins match', async () => {
    emulator.world.load(world());
    const report = await check();
    const group = report.readiness!.groups.find((entry) => entry.group === 'fog-orders')!;
    for (const name of [
      'config-sku/orders',
      'config-backup-redundancy/orders',
      'membership-outside-group',
      'logins-match',
    ])
      assert.equal(
        group.checks.find((entry) => entry.name === name)?.status,
        'pass',
        `${name}: ${JSON.stringify(group.checks.find((entry) => entry.name === name))}`,
      );
    assert.deepEqual(
      notPassing(report).filter(([name]) => /^(config-sku|config-backup|membership|logins)/.test(name)),
      [],
    );
  });

  it('finds drift planted on the secondary and the primary, and changes nothing', async () => {
    emulator.world.load(world());
    const secondary = emulator.world.sqlServerByName(
      emulator.world.findSqlGroup('fog-orders')!.subscriptionId,
      'rg-fogpilot',
      'fog-orders-westus',
    )!;
    const copy = secondary.databases.find((database) => database.name === 'orders')!;
    copy.sku = { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 2 };
    copy.backupStorageRedundancy = 'Local';
    const before = JSON.stringify(emulator.world.invariants().failovers);
    const report = await check();
    const drift: Record<string, string> = Object.fromEntries(notPassing(report));
    assert.ok(drift['config-sku/orders'], `a smaller objective on the secondary: ${JSON.stringify(drift)}`);
    assert.equal(drift['config-backup-redundancy/orders'], 'warn');
    assert.equal(JSON.stringify(emulator.world.invariants().failovers), before, 'nothing was failed over');
    assert.equal(copy.sku.capacity, 2, 'nothing was scaled');
  });
});
