/**
 * Creating a failover group (PUT instanceFailoverGroups/{name}) as ARM does it: a long-running operation that seeds by
 * database size, refused with the REST spec's codes, over raw HTTP and through @azure/arm-sql's poller.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlManagementClient } from '@azure/arm-sql';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const SUBSCRIPTION = '00000000-4000-4000-8000-00000000c0de';
const RG = 'rg-create';
const API = 'api-version=2023-08-01';
const AUTH = { Authorization: 'Bearer fogpilot-emulator-token' };

const mi = (name: string, location: string, extra: Record<string, unknown> = {}) => ({
  name,
  resourceGroup: RG,
  location,
  storageSizeInGB: 256,
  ...extra,
});

/**
 * A primary with 36 GB to seed and its empty zone partner; another primary (probe) and instances each breaking one of
 * Azure's rules with it.
 */
const createWorld: WorldSpecInput = {
  subscriptionId: SUBSCRIPTION,
  instances: [
    mi('orders-eastus', 'eastus', { databases: [{ name: 'orders', sizeGB: 36 }] }),
    mi('orders-westus', 'westus', { dnsZonePartner: 'orders-eastus' }),
    mi('probe-eastus', 'eastus', { dnsZonePartner: 'orders-eastus' }),
    mi('orders-other-zone', 'westus'),
    mi('orders-not-empty', 'westus', { dnsZonePartner: 'orders-eastus', databases: [{ name: 'legacy' }] }),
    mi('orders-same-region', 'eastus', { dnsZonePartner: 'orders-eastus' }),
    mi('taken-eastus', 'eastus', { dnsZonePartner: 'orders-eastus' }),
    mi('taken-westus', 'westus', { dnsZonePartner: 'orders-eastus' }),
  ],
  groups: [{ name: 'taken', resourceGroup: RG, primaryInstance: 'taken-eastus', secondaryInstance: 'taken-westus' }],
  timings: { groupCreateSeconds: 60, seedingGBPerHour: 360, asyncRetryAfterSeconds: 0, roleSwitchSeconds: 30 },
  throttling: { enabled: false },
};

const instanceId = (name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/managedInstances/${name}`;
const groupUrl = (base: string, location: string, name: string) =>
  `${base}/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/${name}?${API}`;

function body(primary: string, partner: string, partnerRegion = 'westus') {
  return {
    properties: {
      readWriteEndpoint: { failoverPolicy: 'Manual' },
      readOnlyEndpoint: { failoverPolicy: 'Disabled' },
      partnerRegions: [{ location: partnerRegion }],
      managedInstancePairs: [
        { primaryManagedInstanceId: instanceId(primary), partnerManagedInstanceId: instanceId(partner) },
      ],
    },
  };
}

/** The fields of an ARM answer the tests read. */
interface ArmAnswer {
  status?: string;
  properties?: { replicationState?: string };
  error?: { code?: string };
}

async function put(base: string, location: string, name: string, payload: unknown) {
  const response = await fetch(groupUrl(base, location, name), {
    method: 'PUT',
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ArmAnswer };
}

async function getJson(url: string) {
  const response = await fetch(url, { headers: AUTH });
  return { status: response.status, body: (await response.json()) as ArmAnswer };
}

describe('failover group creation', () => {
  const clock = new ManualClock();
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: createWorld, clock });
  });
  after(async () => emulator?.close());

  it('answers 201 with Azure-AsyncOperation, seeds for as long as the databases take at the seeding rate, then succeeds', async () => {
    const created = await put(emulator.armEndpoint, 'eastus', 'orders', body('orders-eastus', 'orders-westus'));
    assert.equal(created.status, 201);
    assert.equal(created.body.properties?.replicationState, 'SEEDING');
    const asyncUrl = created.headers.get('azure-asyncoperation');
    assert.match(asyncUrl ?? '', /\/instanceFailoverGroupAzureAsyncOperation\//);

    // 60 s to create, plus 36 GB at 360 GB/h = 360 s.
    clock.advance(419_000);
    assert.equal((await getJson(asyncUrl!)).body.status, 'InProgress');
    const seeding = await getJson(groupUrl(emulator.armEndpoint, 'eastus', 'orders'));
    assert.equal(seeding.body.properties?.replicationState, 'SEEDING');
    const failover = await fetch(groupUrl(emulator.armEndpoint, 'westus', 'orders').replace('?', '/failover?'), {
      method: 'POST',
      headers: AUTH,
    });
    assert.equal(failover.status, 400, 'a failover while seeding is refused');

    clock.advance(1_000);
    assert.equal((await getJson(asyncUrl!)).body.status, 'Succeeded');
    const done = await getJson(groupUrl(emulator.armEndpoint, 'eastus', 'orders'));
    assert.equal(done.body.properties?.replicationState, 'CATCH_UP');
    assert.deepEqual(
      [...emulator.world.groups.values()].find((group) => group.name === 'orders')!.databases.map((db) => db.name),
      ['orders'],
      "the group holds the primary's databases",
    );
  });

  const refusals: [string, () => Parameters<typeof put>, number, string][] = [
    [
      'a pair in different DNS zones',
      () => [emulator.armEndpoint, 'eastus', 'g1', body('probe-eastus', 'orders-other-zone')],
      400,
      'DnsZoneMismatch',
    ],
    [
      'a secondary with user databases',
      () => [emulator.armEndpoint, 'eastus', 'g2', body('probe-eastus', 'orders-not-empty')],
      400,
      'GeoDrSecondaryInstanceNotEmpty',
    ],
    [
      'a pair in one region',
      () => [emulator.armEndpoint, 'eastus', 'g3', body('probe-eastus', 'orders-same-region', 'eastus')],
      400,
      'InvalidFailoverGroupRegion',
    ],
    [
      'partnerRegions naming another region than the partner is in',
      () => [emulator.armEndpoint, 'eastus', 'g4', body('probe-eastus', 'orders-other-zone', 'northeurope')],
      400,
      'FailoverGroupRegionMismatch',
    ],
    [
      'an instance already in another group',
      () => [emulator.armEndpoint, 'eastus', 'g5', body('taken-eastus', 'orders-not-empty')],
      409,
      'InstanceFailoverGroupAlreadyExists',
    ],
    [
      'more than one managed instance pair',
      () => {
        const twoPairs = body('probe-eastus', 'orders-westus');
        twoPairs.properties.managedInstancePairs.push(twoPairs.properties.managedInstancePairs[0]!);
        return [emulator.armEndpoint, 'eastus', 'g6', twoPairs];
      },
      400,
      'InstanceFailoverGroupCreateOrUpdateRequestUnsupportedPairCount',
    ],
  ];
  for (const [what, request, status, code] of refusals) {
    it(`refuses ${what} with ${status} ${code}`, async () => {
      const answer = await put(...request());
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.equal(answer.body.error?.code, code);
    });
  }

  it('refuses an update while a failover of the group runs with 409 InstanceFailoverGroupBusy', async () => {
    const taken = [...emulator.world.groups.values()].find((group) => group.name === 'taken')!;
    emulator.world.requestFailover(taken, 'westus', 'planned');
    const answer = await put(emulator.armEndpoint, 'eastus', 'taken', body('taken-eastus', 'taken-westus'));
    assert.equal(answer.status, 409);
    assert.equal(answer.body.error?.code, 'InstanceFailoverGroupBusy');
  });
});

describe('failover group creation through @azure/arm-sql', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: createWorld, speed: 2_000 });
  });
  after(async () => emulator?.close());

  it("completes the SDK's long-running PUT once seeding is done, with the group synchronizing", async () => {
    const client = new SqlManagementClient(new EmulatorCredential(), SUBSCRIPTION, {
      endpoint: emulator.armEndpoint,
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
    // The SDK sends no bearer token over plain HTTP: the test adds the emulator's.
    client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
    client.pipeline.addPolicy({
      name: 'emulator-token',
      sendRequest: (request, next) => {
        request.headers.set('Authorization', AUTH.Authorization);
        return next(request);
      },
    });
    const group = await client.instanceFailoverGroups.beginCreateOrUpdateAndWait(
      RG,
      'eastus',
      'orders-sdk',
      {
        readWriteEndpoint: { failoverPolicy: 'Manual' },
        readOnlyEndpoint: { failoverPolicy: 'Disabled' },
        partnerRegions: [{ location: 'westus' }],
        managedInstancePairs: [
          {
            primaryManagedInstanceId: instanceId('orders-eastus'),
            partnerManagedInstanceId: instanceId('orders-westus'),
          },
        ],
      },
      { updateIntervalInMs: 20 },
    );
    assert.equal(group.name, 'orders-sdk');
    assert.equal(group.replicationState, 'CATCH_UP');
    assert.equal(group.replicationRole, 'Primary');
  });
});

describe("the default world's pair", () => {
  it('shares one DNS zone: the secondary is created with dnsZonePartner', async () => {
    const emulator = await startEmulator({ world: defaultWorldSpec() });
    try {
      const zones = emulator
        .startLine()
        .instances.map((instance) => instance.fullyQualifiedDomainName.split('.').slice(1).join('.'));
      assert.equal(zones.length, 2);
      assert.equal(zones[0], zones[1]);
      assert.match(zones[0]!, /\.database\.windows\.net$/);
    } finally {
      await emulator.close();
    }
  });
});
