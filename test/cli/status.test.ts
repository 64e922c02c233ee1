/**
 * `fogpilot status` as an operator runs it: a separate process, configured by fogpilot.yaml and the environment,
 * reading the emulator through the real Azure SDK.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec } from '../../src/emulator/world-spec';
import { repoRoot } from '../support/temporal';
import { writeTempConfig } from '../support/temp-files';

const run = promisify(execFile);
let emulator: Emulator;
let configFile: string;

before(async () => {
  emulator = await startEmulator({ speed: 200 });
  const { subscriptionId } = emulator.world.spec;
  configFile = writeTempConfig(
    [
      'inventory:',
      '  sales:',
      `    subscriptionId: ${subscriptionId}`,
      '    resourceGroup: rg-fogpilot',
      '    name: fog-sales',
      '    primaryLocation: East US',
      '    secondaryLocation: westus',
      '',
    ].join('\n'),
  );
});
after(async () => emulator?.close());

async function status(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [path.join(repoRoot, 'bin', 'fogpilot.js'), 'status', ...args],
      {
        env: {
          ...process.env,
          FOGPILOT_CONFIG: configFile,
          FOGPILOT_ARM_ENDPOINT: emulator.armEndpoint,
          FOGPILOT_AZURE_CREDENTIAL: 'emulator',
          ...env,
        },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('fogpilot status', () => {
  it('shows the roles as seen from each location, both instances and operations in flight', async () => {
    const { code, stdout } = await status(['sales']);
    assert.equal(code, 0);
    assert.match(stdout, /status: synchronizing/);
    assert.match(stdout, /eastus\s+Primary\s+CATCH_UP/);
    assert.match(stdout, /westus\s+Secondary\s+CATCH_UP/);
    assert.match(stdout, /fog-sales-westus\s+westus\s+8 vCores 256 GB/);
    assert.match(stdout, /no management operation in flight/);
  });

  it('still shows what one location says when the other region is dark', async () => {
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 50 });
    try {
      const { code, stdout } = await status(['sales']);
      assert.equal(code, 0);
      assert.match(stdout, /eastus\s+no answer/);
      assert.match(stdout, /westus\s+Secondary/);
    } finally {
      emulator.world.faults.darkRegions.clear();
    }
  });

  it('shows the roles swapped after a failover, by inventory name and by ARM id alike', async () => {
    const controlPlane = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
    const group = {
      subscriptionId: emulator.world.spec.subscriptionId,
      resourceGroup: 'rg-fogpilot',
      name: 'fog-sales',
    };
    const { value } = await controlPlane.beginFailover(group, 'westus', 'planned');
    for (
      let i = 0;
      i < 200 && (await controlPlane.getFailoverProgress(group, value.trackingId!)).value.state === 'InProgress';
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const byName = await status(['sales', '--json']);
    assert.equal(byName.code, 0);
    const parsed = JSON.parse(byName.stdout) as {
      primaryLocation: string;
      locations: { location: string; role: string }[];
    };
    assert.equal(parsed.primaryLocation, 'westus');
    assert.deepEqual(
      parsed.locations.map((entry) => [entry.location, entry.role]),
      [
        ['eastus', 'Secondary'],
        ['westus', 'Primary'],
      ],
    );
    const byId = await status([emulator.startLine().groups[0]!.id]);
    assert.match(byId.stdout, /westus\s+Primary/);
    assert.match(byId.stdout, /primary: westus, away from home \(eastus\)\. ARM does not record who switched/);
  });

  it('says a group away from home may have been failed over by Azure itself when its policy is Automatic', async () => {
    const spec = defaultWorldSpec();
    spec.groups![0]!.readWriteFailoverPolicy = 'Automatic';
    spec.groups![0]!.gracePeriodMinutes = 60;
    emulator.world.load(spec);
    // Sixty simulated minutes of outage are 18 real seconds at this speed: the grace period is moved instead.
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 50 });
    emulator.world.faults.darkSince.set('eastus', emulator.world.now() - 61 * 60_000);
    emulator.world.advance();
    assert.ok(emulator.world.events.some((event) => event.kind === 'automatic-failover'));
    const { code, stdout } = await status(['sales']);
    assert.equal(code, 0);
    assert.match(stdout, /primary: westus, away from home \(eastus\)/);
    assert.match(stdout, /read-write policy is Automatic: Azure fails the group over by itself .*\(60 min\)/);
    emulator.arm.faults.remove();
    emulator.world.faults.darkRegions.clear();
    emulator.world.faults.darkSince.clear();
  });

  it('exits 3 with what to do for a group the inventory does not have', async () => {
    const { code, stderr } = await status(['fog-unknown']);
    assert.equal(code, 3);
    assert.match(stderr, /not in the worker's inventory \(it has: sales\)/);
  });

  it('exits 2 naming the key when the configuration is wrong', async () => {
    const { code, stderr } = await status(['sales'], { FOGPILOT_AZURE_CREDENTIAL: 'laptop' });
    assert.equal(code, 2);
    assert.match(stderr, /azure\.credential \(or FOGPILOT_AZURE_CREDENTIAL\)/);
  });

  it('exits 4 when Azure cannot be reached, saying what to check', async () => {
    const gone = await startEmulator();
    await gone.close();
    const { code, stderr } = await status(['sales'], { FOGPILOT_ARM_ENDPOINT: gone.armEndpoint });
    assert.equal(code, 4);
    assert.match(stderr, /Check FOGPILOT_ARM_ENDPOINT/);
  });
});
