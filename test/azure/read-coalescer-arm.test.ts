/**
 * The ARM control plane's read coalescing over real HTTP against the emulator: concurrent reads of one resource group
 * share its list calls (`instanceFailoverGroups.listByLocation`, `managedInstances.listByResourceGroup`, pages
 * followed), with the same answers as GETs of their own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import type { WorldSpecInput } from '../../src/emulator/world-spec';

const SIZE = 6;
const names = Array.from({ length: SIZE }, (_, index) => `fleet-${index + 1}`);

function world(): WorldSpecInput {
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
    throttling: { enabled: false },
  };
}

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ world: world() });
});
after(async () => emulator?.close());

const controlPlane = () =>
  new ArmControlPlane({
    credential: new EmulatorCredential(),
    endpoint: emulator.armEndpoint,
    requestTimeoutMs: 5_000,
  });

function readsSince(from: number) {
  return emulator.arm.requestLog.filter((record) => record.at >= from && record.method === 'GET');
}

describe('ArmControlPlane read coalescing', () => {
  it('answers concurrent reads of many groups at one location with one list call, as GETs would', async () => {
    const plane = controlPlane();
    const subscriptionId = emulator.world.spec.subscriptionId;
    const group = (name: string) => ({ subscriptionId, resourceGroup: 'rg-fleet', name });
    const startedAt = Date.now();
    const shared = await Promise.all(names.map((name) => plane.getFailoverGroup(group(name), 'eastus')));
    const requests = readsSince(startedAt);
    const lists = requests.filter((record) => record.route.endsWith('/instanceFailoverGroups'));
    assert.equal(lists.length, 1, 'one list call');
    assert.equal(requests.length, 3, 'two lone GETs, then one list for the other four');
    assert.deepEqual(
      shared.map((answer) => answer.via),
      ['direct', 'direct', 'list', 'list', 'list', 'list'],
    );
    const own = [];
    for (const name of names) own.push(await plane.getFailoverGroup(group(name), 'eastus', { coalesce: false }));
    assert.deepEqual(
      shared.map((answer) => answer.value),
      own.map((answer) => answer.value),
    );
    for (const answer of shared) {
      assert.ok(answer.readAtMs !== undefined && answer.readAtMs >= startedAt, 'each answer says when it was read');
    }
  });

  it("follows the instance list's nextLink, and spends no more reads than GETs would", async () => {
    const plane = controlPlane();
    const ids = emulator
      .startLine()
      .instances.map((instance) => instance.id)
      .sort()
      // The emulator pages in id order: the two lone GETs take the last page's, so the list has pages to walk.
      .reverse();
    const startedAt = Date.now();
    const shared = await Promise.all(ids.map((id) => plane.getManagedInstance(id)));
    const requests = readsSince(startedAt);
    const listPages = requests.filter((record) => record.route.endsWith('/managedInstances'));
    assert.ok(listPages.length > 1, `the list was walked over ${listPages.length} page(s)`);
    assert.ok(requests.length <= ids.length, `${requests.length} reads for ${ids.length} instances`);
    assert.ok(shared.some((answer) => answer.via === 'list'));
    assert.deepEqual(
      shared.map((answer) => answer.value.id.toLowerCase()),
      ids.map((id) => id.toLowerCase()),
    );
  });
});
