/**
 * Replication in the emulated world, seen by an application: a workload writing through the group's read-write
 * listener while the group fails over. Planned: nothing acknowledged is lost. Forced: exactly what the secondary had
 * not hardened is lost, and the workload's own count agrees with the emulator's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { WorkloadGenerator } from '../../src/emulator/workload';

const SPEED = 10;
let emulator: Emulator;

function world(lagMs: number): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.groups![0]!.databases = [{ name: 'sales', lagMs }];
  return {
    ...spec,
    timings: { roleSwitchSeconds: 5, forcedSwitchSeconds: 5, readOnlyAfterSwitchSeconds: 5, roleFlipSkewSeconds: 1 },
    throttling: { enabled: false },
  };
}

before(async () => {
  emulator = await startEmulator({ world: world(500), speed: SPEED });
});
after(async () => emulator?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function workload(label: string): WorkloadGenerator {
  const line = emulator.startLine();
  const listener = line.sql.listeners[0]!;
  return new WorkloadGenerator({
    server: listener.host,
    port: listener.port,
    user: line.sql.login.user,
    password: line.sql.login.password,
    database: 'sales',
    intervalMs: 10,
    clock: () => emulator.world.now(),
    label,
  });
}

async function failover(kind: 'planned' | 'forced'): Promise<void> {
  const controlPlane = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
  const group = { subscriptionId: emulator.world.spec.subscriptionId, resourceGroup: 'rg-fogpilot', name: 'fog-sales' };
  const { value } = await controlPlane.beginFailover(group, 'westus', kind);
  for (let i = 0; i < 300; i++) {
    if ((await controlPlane.getFailoverProgress(group, value.trackingId!)).value.state !== 'InProgress') return;
    await sleep(20);
  }
  assert.fail('the failover did not finish');
}

describe('replication seen through the read-write listener', { concurrency: 1 }, () => {
  it('forwards to the primary, drops connections at the switch, and reconnects to the new primary', async () => {
    emulator.world.load(world(500));
    await sleep(50);
    const generator = workload('listener');
    generator.start();
    await sleep(300);
    await failover('planned');
    await sleep(1_200);
    const report = await generator.stop();
    assert.ok(report.acknowledged > 20, `acknowledged ${report.acknowledged}`);
    const listener = [...emulator.listeners.values()][0]!;
    assert.ok(listener.stats.dropped >= 1, 'the listener dropped its connections at the switch');
    assert.ok(report.downtimeMs > 0, 'the application saw the switch');
    const last = generator.acknowledged.at(-1)!;
    assert.ok(
      last.at > emulator.world.events.find((event) => event.kind === 'roles-switched')!.at,
      'writes resumed on the new primary',
    );
    assert.ok(
      (report.errors['sql-3906'] ?? 0) >= 1,
      `the new primary refused writes while read-only: ${JSON.stringify(report.errors)}`,
    );
  });

  it('loses nothing acknowledged in a planned failover, even with replication lagging', async () => {
    emulator.world.load(world(20_000)); // two real seconds behind
    await sleep(50);
    const generator = workload('planned');
    generator.start();
    await sleep(500);
    await failover('planned');
    await sleep(1_000);
    const report = await generator.stop();
    const verification = await generator.verify();
    assert.ok(report.acknowledged > 20);
    assert.deepEqual(verification.lostAcknowledged, []);
    assert.equal(emulator.world.lostCommits.length, 0);
  });

  it('loses in a forced failover exactly the commits the secondary had not hardened; the workload and the emulator agree', async () => {
    emulator.world.load(world(20_000));
    await sleep(50);
    const generator = workload('forced');
    generator.start();
    await sleep(1_000);
    await failover('forced');
    await sleep(1_000);
    const report = await generator.stop();
    const verification = await generator.verify();
    // Writes are matched by their unique payloads: the new primary reuses the LSNs the old one lost.
    const lostByEmulator = new Set(emulator.world.lostCommits.flatMap((entry) => entry.payloads));
    assert.ok(lostByEmulator.size > 0, 'with a 2 s lag, a forced failover loses something');
    const acknowledged = new Set(generator.acknowledged.map((write) => write.payload));
    const lostAcknowledged = verification.lostAcknowledged.map((write) => write.payload).sort();
    assert.ok(lostAcknowledged.length > 0);
    assert.deepEqual(
      lostAcknowledged,
      [...lostByEmulator].filter((payload) => acknowledged.has(payload)).sort(),
      'the acknowledged writes the workload finds missing are exactly the acknowledged commits the emulator lost',
    );
    const inDoubtLost = [...lostByEmulator].filter((payload) => !acknowledged.has(payload));
    const inDoubt = new Set(generator.inDoubt.map((write) => write.payload));
    assert.ok(
      inDoubtLost.every((payload) => inDoubt.has(payload)),
      'any other lost commit was a write the workload had in doubt',
    );
    assert.ok(report.acknowledged > lostAcknowledged.length, 'most writes survived');
  });
});
