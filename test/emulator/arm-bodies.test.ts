/**
 * The emulator's ARM bodies against the REST specification's examples (../shared/reference/arm-examples): every field
 * the emulator answers that the example also has must be equal, and the fields the runbooks read must be there.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { repoRoot } from '../support/temporal';

/** ARM wants a bearer token: the one EmulatorCredential gives. */
const bearer = { authorization: 'Bearer fogpilot-emulator-token' };

const examplesDir = path.join(repoRoot, '..', 'shared', 'reference', 'arm-examples');
const haveExamples = existsSync(examplesDir);

function example(file: string): {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
} {
  return JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) as ReturnType<typeof example>;
}

/** Compares every key the two share, recursively; returns the dotted paths compared. */
function assertOverlapEqual(actual: unknown, expected: unknown, at = ''): string[] {
  if (expected === null || typeof expected !== 'object') {
    assert.deepEqual(
      actual,
      expected,
      `${at || '(body)'}: emulator answered ${JSON.stringify(actual)}, the example has ${JSON.stringify(expected)}`,
    );
    return [at];
  }
  assert.equal(typeof actual, 'object', `${at}: expected an object or array`);
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${at}: expected an array`);
    assert.equal(actual.length, expected.length, `${at}: length`);
    return expected.flatMap((item, index) => assertOverlapEqual((actual as unknown[])[index], item, `${at}[${index}]`));
  }
  const compared: string[] = [];
  for (const [key, value] of Object.entries(expected)) {
    if (!(key in (actual as Record<string, unknown>))) continue;
    compared.push(...assertOverlapEqual((actual as Record<string, unknown>)[key], value, at ? `${at}.${key}` : key));
  }
  return compared;
}

const groupWorld = {
  subscriptionId: '00000000-1111-2222-3333-444444444444',
  instances: [
    { name: 'failover-group-primary-mngdInstance', resourceGroup: 'Default', location: 'Japan East' },
    { name: 'failover-group-secondary-mngdInstance', resourceGroup: 'Default', location: 'Japan West' },
  ],
  groups: [
    {
      name: 'failover-group-test-3',
      resourceGroup: 'Default',
      primaryInstance: 'failover-group-primary-mngdInstance',
      secondaryInstance: 'failover-group-secondary-mngdInstance',
      readWriteFailoverPolicy: 'Automatic' as const,
      gracePeriodMinutes: 480,
    },
  ],
  timings: { roleSwitchSeconds: 1, roleFlipSkewSeconds: 0 },
  throttling: { enabled: false },
};

const instanceWorld = {
  subscriptionId: '20d7082a-0fc7-4468-82bd-542694d5042b',
  instances: [
    {
      name: 'testinstance',
      resourceGroup: 'testrg',
      location: 'japaneast',
      skuName: 'GP_Gen4',
      family: 'Gen4',
      vCores: 8,
      storageSizeInGB: 1024,
      dnsZone: '1b4e2caff2530',
      administratorLogin: 'dummylogin',
      subnetId:
        '/subscriptions/20D7082A-0FC7-4468-82BD-542694D5042B/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/subnet1',
      maintenanceConfigurationId:
        '/subscriptions/20D7082A-0FC7-4468-82BD-542694D5042B/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_JapanEast_MI_1',
      tags: { key: 'value' },
    },
  ],
  throttling: { enabled: false },
};

describe(
  "emulator bodies match the specification's examples",
  { skip: !haveExamples && `no examples at ${examplesDir}` },
  () => {
    let groups: Emulator;
    const groupClock = new ManualClock();
    let instances: Emulator;
    before(async () => {
      // The failover's clock moves only when the test says: the answers while it runs are read, not raced.
      groups = await startEmulator({ world: groupWorld, clock: groupClock });
      instances = await startEmulator({ world: instanceWorld });
    });
    after(async () => {
      await groups?.close();
      await instances?.close();
    });

    const get = async (base: string, pathAndQuery: string) => {
      const response = await fetch(`${base}${pathAndQuery}`, { headers: bearer });
      return {
        status: response.status,
        headers: response.headers,
        body: response.status === 204 || response.status === 202 ? undefined : await response.json(),
      };
    };

    it('answers GET instanceFailoverGroups as InstanceFailoverGroupGet does, field for field', async () => {
      const spec = example('2022-05-01-preview_InstanceFailoverGroupGet.json');
      const { status, body } = await get(
        groups.armEndpoint,
        '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/Default/providers/Microsoft.Sql/locations/Japan%20East/instanceFailoverGroups/failover-group-test-3?api-version=2022-05-01-preview',
      );
      assert.equal(status, 200);
      const compared = assertOverlapEqual(body, spec.responses['200']!.body);
      for (const field of [
        'id',
        'name',
        'type',
        'properties.replicationRole',
        'properties.replicationState',
        'properties.partnerRegions[0].location',
        'properties.partnerRegions[0].replicationRole',
        'properties.managedInstancePairs[0].primaryManagedInstanceId',
        'properties.readWriteEndpoint.failoverWithDataLossGracePeriodMinutes',
        'properties.secondaryType',
      ]) {
        assert.ok(compared.includes(field), `${field} must be compared (compared: ${compared.join(', ')})`);
      }
    });

    it("answers the failover as InstanceFailoverGroupFailover does: 202 with Azure-AsyncOperation and Location, then the group from the new primary's side", async () => {
      const spec = example('2023-08-01_InstanceFailoverGroupFailover.json');
      const response = await fetch(
        `${groups.armEndpoint}/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/Default/providers/Microsoft.Sql/locations/Japan%20West/instanceFailoverGroups/failover-group-test-3/failover?api-version=2022-05-01-preview`,
        { method: 'POST', headers: bearer },
      );
      assert.equal(response.status, 202);
      const asyncUrl = response.headers.get('azure-asyncoperation');
      const location = response.headers.get('location');
      assert.match(
        asyncUrl ?? '',
        /\/providers\/Microsoft\.Sql\/locations\/japanwest\/instanceFailoverGroupAzureAsyncOperation\//,
      );
      assert.match(location ?? '', /\/instanceFailoverGroupOperationResults\//);
      assert.ok(response.headers.get('retry-after') !== null);
      const inProgress = await get(groups.armEndpoint, new URL(asyncUrl!).pathname + new URL(asyncUrl!).search);
      assert.equal((inProgress.body as { status: string }).status, 'InProgress');
      assert.equal(
        (await fetch(location!, { headers: bearer })).status,
        202,
        'the Location answers 202 while the failover runs',
      );
      groupClock.advance(2_000);

      let final: Awaited<ReturnType<typeof get>> | undefined;
      for (let i = 0; i < 100 && final?.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        final = await get(groups.armEndpoint, new URL(location!).pathname + new URL(location!).search);
      }
      assert.equal(final?.status, 200);
      const statusBody = (await get(groups.armEndpoint, new URL(asyncUrl!).pathname + new URL(asyncUrl!).search))
        .body as { status: string };
      assert.equal(statusBody.status, 'Succeeded');
      const compared = assertOverlapEqual(final.body, spec.responses['200']!.body);
      assert.ok(
        compared.includes('properties.managedInstancePairs[0].primaryManagedInstanceId'),
        'the instance ids are swapped as in the example',
      );
      assert.ok(compared.includes('id') && compared.includes('properties.replicationRole'));
    });

    it('answers GET managedInstances as ManagedInstanceGet does, field for field', async () => {
      const spec = example('2022-08-01-preview_ManagedInstanceGet.json');
      const { status, body } = await get(
        instances.armEndpoint,
        '/subscriptions/20d7082a-0fc7-4468-82bd-542694d5042b/resourceGroups/testrg/providers/Microsoft.Sql/managedInstances/testinstance?api-version=2022-08-01-preview',
      );
      assert.equal(status, 200);
      const compared = assertOverlapEqual(body, spec.responses['200']!.body);
      for (const field of [
        'sku.name',
        'sku.tier',
        'sku.capacity',
        'sku.family',
        'properties.fullyQualifiedDomainName',
        'properties.state',
        'properties.provisioningState',
        'properties.vCores',
        'properties.storageSizeInGB',
        'properties.licenseType',
        'properties.dnsZone',
        'properties.currentBackupStorageRedundancy',
        'location',
        'id',
        'name',
        'type',
        'tags.key',
      ]) {
        assert.ok(compared.includes(field), `${field} must be compared`);
      }
    });

    it('answers a PATCH that changes the size with 202 and a Location, as ManagedInstanceUpdate does', async () => {
      const response = await fetch(
        `${instances.armEndpoint}/subscriptions/20d7082a-0fc7-4468-82bd-542694d5042b/resourceGroups/testrg/providers/Microsoft.Sql/managedInstances/testinstance?api-version=2022-08-01-preview`,
        {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', ...bearer },
          body: JSON.stringify({ properties: { vCores: 16 } }),
        },
      );
      assert.equal(response.status, 202);
      assert.match(
        response.headers.get('location') ?? '',
        /\/providers\/Microsoft\.Sql\/locations\/japaneast\/managedInstanceOperationResults\//,
      );
      assert.ok(response.headers.get('azure-asyncoperation'));
    });
  },
);
