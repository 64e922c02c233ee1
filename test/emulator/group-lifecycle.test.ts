/**
 * The whole life of an instance failover group, as `establishGroup` and `reprotect` rehearse it against the emulator's
 * `establish` world: a creation that seeds database after database (ARM, `sys.dm_geo_replication_link_status` and
 * `sys.dm_hadr_physical_seeding_stats` per database), Azure's 6-day limit on seeding, a long-running DELETE that works
 * with the partner's region dark and leaves the databases on the primary for a new group, and a DELETE that cancels
 * a creation still seeding. Raw HTTP and the real `mssql` driver, on a clock that moves only when a test says.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqlManagementClient } from '@azure/arm-sql';
import sql from 'mssql';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, establishWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const SUBSCRIPTION = '00000000-0000-4000-8000-0000000f0c05';
const RG = 'rg-fogpilot';
const API = 'api-version=2022-05-01-preview';
const AUTH = { Authorization: 'Bearer fogpilot-emulator-token' };
const GIB = 1024 ** 3;

/** The query the data-plane adapter sends to read seeding progress, verbatim. */
const SEEDING_QUERY =
  'SELECT local_database_name, role_desc, internal_state_desc, transferred_size_bytes, database_size_bytes, start_time_utc, estimate_time_complete_utc, end_time_utc FROM sys.dm_hadr_physical_seeding_stats';

interface SeedingRow {
  local_database_name: string;
  role_desc: string;
  internal_state_desc: string;
  transferred_size_bytes: string | number;
  database_size_bytes: string | number;
  start_time_utc: Date;
  estimate_time_complete_utc: Date;
  end_time_utc: Date | null;
}

function world(change: (spec: WorldSpecInput) => void = () => {}): WorldSpecInput {
  const spec: WorldSpecInput = {
    ...establishWorldSpec(),
    timings: { asyncRetryAfterSeconds: 0, forcedSwitchSeconds: 15, roleFlipSkewSeconds: 0 },
    throttling: { enabled: false },
  };
  change(spec);
  return spec;
}

const instanceId = (name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/managedInstances/${name}`;
const groupPath = (location: string, name: string, action = '') =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/${name}${action}?${API}`;

interface Answer {
  status: number;
  headers: Headers;
  body: {
    status?: string;
    value?: { name: string; properties: { status: string } }[];
    properties?: { replicationState?: string; replicationRole?: string };
    error?: { code: string; message: string };
  };
}

async function arm(emulator: Emulator, method: string, url: string, body?: unknown): Promise<Answer> {
  const response = await fetch(url.startsWith('http') ? url : `${emulator.armEndpoint}${url}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Answer['body'] };
}

const createGroup = (emulator: Emulator, name: string, primary: string, partner: string, partnerLocation: string) =>
  arm(emulator, 'PUT', groupPath(emulator.world.instanceById(instanceId(primary))!.location, name), {
    properties: {
      readWriteEndpoint: { failoverPolicy: 'Manual' },
      readOnlyEndpoint: { failoverPolicy: 'Disabled' },
      partnerRegions: [{ location: partnerLocation }],
      managedInstancePairs: [
        { primaryManagedInstanceId: instanceId(primary), partnerManagedInstanceId: instanceId(partner) },
      ],
    },
  });

/** The databases ARM lists on an instance, with their status. */
async function databasesOn(emulator: Emulator, instance: string): Promise<[string, string][]> {
  const answer = await arm(emulator, 'GET', `${instanceId(instance)}/databases?${API}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.value!.map((database) => [database.name, database.properties.status]);
}

async function sqlQuery<T>(emulator: Emulator, instance: string, text: string, database = 'master'): Promise<T[]> {
  const target = emulator.startLine().sql.instances.find((entry) => entry.name === instance)!;
  const pool = await new sql.ConnectionPool({
    server: target.host,
    port: target.port,
    user: emulator.world.spec.sqlLogin.user,
    password: emulator.world.spec.sqlLogin.password,
    database,
    pool: { max: 1, min: 0 },
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  try {
    return (await pool.request().query<T>(text)).recordset;
  } finally {
    await pool.close();
  }
}

const linkState = async (emulator: Emulator, instance: string, database: string) =>
  (
    await sqlQuery<{ replication_state_desc: string }>(
      emulator,
      instance,
      'SELECT replication_state_desc FROM sys.dm_geo_replication_link_status',
      database,
    )
  )[0]?.replication_state_desc;

describe('establishing a group in the establish world', () => {
  const clock = new ManualClock();
  let emulator: Emulator;
  let start: number;
  /** Moves the clock to `seconds` after the group was asked for. */
  const at = (seconds: number) => {
    clock.advance(start + seconds * 1000 - clock.now());
    emulator.world.advance();
  };
  before(async () => {
    emulator = await startEmulator({ world: world(), clock });
  });
  beforeEach(() => {
    emulator.world.load(world());
    start = clock.now();
  });
  after(async () => emulator?.close());

  it('seeds crm, then billing, at 360 GB/h after a minute; the group SEEDING until the last is seeded, a seeding database Restoring on the secondary', async () => {
    const created = await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // crm: 120 GB from 60 s to 1,260 s; billing: 30 GB from 1,260 s to 1,560 s.
    at(600);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-westus'), [
      ['crm', 'Restoring'],
      ['billing', 'Restoring'],
    ]);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-eastus'), [
      ['crm', 'Online'],
      ['billing', 'Online'],
    ]);
    at(1_300);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-westus'), [
      ['crm', 'Online'],
      ['billing', 'Restoring'],
    ]);
    assert.equal(
      (await arm(emulator, 'GET', groupPath('eastus', 'fog-crm'))).body.properties?.replicationState,
      'SEEDING',
    );
    assert.equal((await arm(emulator, 'GET', created.headers.get('azure-asyncoperation')!)).body.status, 'InProgress');
    at(1_560);
    assert.equal(
      (await arm(emulator, 'GET', groupPath('eastus', 'fog-crm'))).body.properties?.replicationState,
      'CATCH_UP',
    );
    assert.equal((await arm(emulator, 'GET', created.headers.get('azure-asyncoperation')!)).body.status, 'Succeeded');
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-westus'), [
      ['crm', 'Online'],
      ['billing', 'Online'],
    ]);
  });

  it('answers the seeding DMV on the secondary per database: Transferring with bytes by progress, then Completed; SOURCE rows on the primary', async () => {
    assert.equal((await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus')).status, 201);
    at(660);
    const running = await sqlQuery<SeedingRow>(emulator, 'fog-crm-westus', SEEDING_QUERY);
    assert.deepEqual(
      running.map((row) => [row.local_database_name, row.role_desc, row.internal_state_desc]),
      [['crm', 'DESTINATION', 'Transferring']],
      'billing waits its turn: no row yet',
    );
    const [crm] = running;
    assert.equal(Number(crm!.database_size_bytes), 120 * GIB);
    assert.equal(Number(crm!.transferred_size_bytes), 60 * GIB, 'half way through its 1,200 s');
    assert.equal(crm!.start_time_utc.getTime(), start + 60_000);
    assert.equal(crm!.estimate_time_complete_utc.getTime(), start + 1_260_000);
    assert.equal(crm!.end_time_utc, null);
    assert.equal(await linkState(emulator, 'fog-crm-westus', 'crm'), 'SEEDING');

    at(1_300);
    assert.equal(await linkState(emulator, 'fog-crm-westus', 'crm'), 'CATCH_UP', 'crm is seeded');
    assert.equal(await linkState(emulator, 'fog-crm-westus', 'billing'), 'SEEDING', 'billing is not');
    assert.equal(await linkState(emulator, 'fog-crm-eastus', 'billing'), 'SEEDING', 'on the primary too');

    at(1_600);
    const done = await sqlQuery<SeedingRow>(emulator, 'fog-crm-westus', SEEDING_QUERY);
    assert.deepEqual(
      done.map((row) => [row.local_database_name, row.internal_state_desc, Number(row.transferred_size_bytes)]),
      [
        ['crm', 'Completed', 120 * GIB],
        ['billing', 'Completed', 30 * GIB],
      ],
    );
    assert.equal(done[1]!.end_time_utc?.getTime(), start + 1_560_000);
    const source = await sqlQuery<SeedingRow>(emulator, 'fog-crm-eastus', SEEDING_QUERY);
    assert.deepEqual(
      source.map((row) => row.role_desc),
      ['SOURCE', 'SOURCE'],
    );
    const states = await sqlQuery<{ name: string; state_desc: string }>(
      emulator,
      'fog-crm-westus',
      'SELECT name, state_desc FROM sys.databases WHERE database_id > 4 ORDER BY name',
    );
    assert.deepEqual(
      states.map((row) => [row.name, row.state_desc]),
      [
        ['billing', 'ONLINE'],
        ['crm', 'ONLINE'],
      ],
    );
  });

  it('shows a database not seeded yet as RESTORING in sys.databases on the secondary', async () => {
    assert.equal((await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus')).status, 201);
    at(1_300);
    const states = await sqlQuery<{ name: string; state_desc: string }>(
      emulator,
      'fog-crm-westus',
      'SELECT name, state_desc FROM sys.databases WHERE database_id > 4 ORDER BY name',
    );
    assert.deepEqual(
      states.map((row) => [row.name, row.state_desc]),
      [
        ['billing', 'RESTORING'],
        ['crm', 'ONLINE'],
      ],
    );
  });

  it('refuses fog-crm-centralus as a partner: another DNS zone', async () => {
    const refused = await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-centralus', 'centralus');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.code, 'DnsZoneMismatch');
  });

  it('deletes a group as a long-running operation at the primary, the primary keeping its databases for a new group and the former secondary standalone copies', async () => {
    assert.equal((await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus')).status, 201);
    at(1_600);
    const onSecondary = await arm(emulator, 'DELETE', groupPath('westus', 'fog-crm'));
    assert.equal(onSecondary.status, 400);
    assert.equal(onSecondary.body.error?.code, 'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary');

    const deleted = await arm(emulator, 'DELETE', groupPath('eastus', 'fog-crm'));
    assert.equal(deleted.status, 202);
    const status = deleted.headers.get('azure-asyncoperation')!;
    const location = deleted.headers.get('location')!;
    assert.match(status, /\/instanceFailoverGroupAzureAsyncOperation\//);
    assert.equal((await arm(emulator, 'GET', location)).status, 202);
    assert.equal((await arm(emulator, 'GET', groupPath('eastus', 'fog-crm'))).status, 200, 'there until it ends');
    const failover = await arm(emulator, 'POST', groupPath('westus', 'fog-crm', '/failover'));
    assert.equal(failover.status, 409, 'no failover while it is being deleted');
    assert.equal(failover.body.error?.code, 'InstanceFailoverGroupBusy');

    at(1_630);
    assert.equal((await arm(emulator, 'GET', status)).body.status, 'Succeeded');
    assert.equal((await arm(emulator, 'GET', location)).status, 204);
    assert.equal((await arm(emulator, 'GET', groupPath('eastus', 'fog-crm'))).status, 404);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-eastus'), [
      ['crm', 'Online'],
      ['billing', 'Online'],
    ]);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-westus'), [
      ['crm', 'Online'],
      ['billing', 'Online'],
    ]);

    const again = await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-northeurope', 'northeurope');
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.deepEqual(
      emulator.world.findGroup('fog-crm')!.databases.map((database) => database.name),
      ['crm', 'billing'],
      'the new group takes the databases the primary kept',
    );
    const westAgain = await createGroup(emulator, 'fog-crm-west', 'fog-crm-eastus', 'fog-crm-westus', 'westus');
    assert.equal(westAgain.status, 409, 'the primary is in the new group');
  });

  it("deletes a group whose old primary's region is dark after a forced failover, and re-establishes it toward a third region", async () => {
    assert.equal((await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus')).status, 201);
    at(1_600);
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 0 });
    const forced = await arm(emulator, 'POST', groupPath('westus', 'fog-crm', '/forceFailoverAllowDataLoss'));
    assert.equal(forced.status, 202, JSON.stringify(forced.body));
    at(1_620);
    assert.equal(
      emulator.world.instanceById(emulator.world.findGroup('fog-crm')!.primaryInstanceId)!.name,
      'fog-crm-westus',
    );

    const deleted = await arm(emulator, 'DELETE', groupPath('westus', 'fog-crm'));
    assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
    at(1_650);
    assert.equal((await arm(emulator, 'GET', deleted.headers.get('azure-asyncoperation')!)).body.status, 'Succeeded');
    assert.equal(emulator.world.findGroup('fog-crm'), undefined);
    const dark = emulator.world.instanceById(instanceId('fog-crm-eastus'))!;
    assert.deepEqual(
      dark.databases.map((database) => database.name),
      ['crm', 'billing'],
      'the dark old primary keeps what it had',
    );

    const reprotected = await createGroup(emulator, 'fog-crm', 'fog-crm-westus', 'fog-crm-northeurope', 'northeurope');
    assert.equal(reprotected.status, 201, JSON.stringify(reprotected.body));
    assert.equal(
      (await arm(emulator, 'GET', groupPath('northeurope', 'fog-crm'))).body.properties?.replicationRole,
      'Secondary',
    );
  });

  it('cancels a creation still seeding when the group is deleted: the creation ends Canceled, the secondary keeps only what had seeded', async () => {
    const created = await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus');
    at(1_300);
    const deleted = await arm(emulator, 'DELETE', groupPath('eastus', 'fog-crm'));
    assert.equal(deleted.status, 202);
    const creation = await arm(emulator, 'GET', created.headers.get('azure-asyncoperation')!);
    assert.equal(creation.body.status, 'Canceled');
    assert.equal(creation.body.error?.code, 'OperationCancelled');
    at(1_330);
    assert.equal(emulator.world.findGroup('fog-crm'), undefined);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-westus'), [['crm', 'Online']]);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-eastus'), [
      ['crm', 'Online'],
      ['billing', 'Online'],
    ]);
  });

  it('ends a creation still seeding after 6 days Failed (InstanceFailoverGroupSeedingTimedOut), removing the group and leaving the secondary empty', async () => {
    emulator.world.load(world((spec) => (spec.timings = { ...spec.timings, seedingGBPerHour: 1 })));
    start = clock.now();
    const created = await createGroup(emulator, 'fog-crm', 'fog-crm-eastus', 'fog-crm-westus', 'westus');
    assert.equal(created.status, 201);
    at(6 * 86_400 - 1);
    assert.equal((await arm(emulator, 'GET', created.headers.get('azure-asyncoperation')!)).body.status, 'InProgress');
    at(6 * 86_400);
    const ended = await arm(emulator, 'GET', created.headers.get('azure-asyncoperation')!);
    assert.equal(ended.body.status, 'Failed');
    assert.equal(ended.body.error?.code, 'InstanceFailoverGroupSeedingTimedOut');
    assert.match(ended.body.error?.message ?? '', /billing had not finished seeding \(1 of 2 databases had\)/);
    assert.equal((await arm(emulator, 'GET', groupPath('eastus', 'fog-crm'))).status, 404);
    assert.deepEqual(await databasesOn(emulator, 'fog-crm-westus'), []);
    assert.deepEqual(
      (await databasesOn(emulator, 'fog-crm-eastus')).map(([name]) => name),
      ['crm', 'billing'],
    );
  });
});

describe('a world whose group starts seeding (seedingSeconds)', () => {
  it('reports each database seeding for its share of the seconds, then synchronizing', async () => {
    const clock = new ManualClock();
    const spec = defaultWorldSpec();
    spec.groups![0]!.seedingSeconds = 600;
    const emulator = await startEmulator({ world: { ...spec, throttling: { enabled: false } }, clock });
    try {
      assert.equal(await linkState(emulator, 'fog-sales-westus', 'sales'), 'SEEDING');
      clock.advance(300_000);
      assert.equal(await linkState(emulator, 'fog-sales-westus', 'sales'), 'CATCH_UP', 'sales has its half');
      assert.equal(await linkState(emulator, 'fog-sales-westus', 'inventory'), 'SEEDING');
      assert.equal(emulator.world.reportedReplicationState(emulator.world.findGroup('fog-sales')!), 'SEEDING');
      clock.advance(300_000);
      assert.equal(await linkState(emulator, 'fog-sales-westus', 'inventory'), 'CATCH_UP');
      assert.equal(emulator.world.reportedReplicationState(emulator.world.findGroup('fog-sales')!), 'CATCH_UP');
    } finally {
      await emulator.close();
    }
  });
});

describe('the life of a group through @azure/arm-sql', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: world(), speed: 4_000 });
  });
  after(async () => emulator?.close());

  it("completes the SDK's long-running DELETE once the deletion ends, and a new group then takes the databases", async () => {
    const client = new SqlManagementClient(new EmulatorCredential(), SUBSCRIPTION, {
      endpoint: emulator.armEndpoint,
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
    client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
    client.pipeline.addPolicy({
      name: 'emulator-token',
      sendRequest: (request, next) => {
        request.headers.set('Authorization', AUTH.Authorization);
        return next(request);
      },
    });
    const definition = (partner: string, location: string) => ({
      readWriteEndpoint: { failoverPolicy: 'Manual' },
      readOnlyEndpoint: { failoverPolicy: 'Disabled' },
      partnerRegions: [{ location }],
      managedInstancePairs: [
        { primaryManagedInstanceId: instanceId('fog-crm-eastus'), partnerManagedInstanceId: instanceId(partner) },
      ],
    });
    const created = await client.instanceFailoverGroups.beginCreateOrUpdateAndWait(
      RG,
      'eastus',
      'fog-crm',
      definition('fog-crm-westus', 'westus'),
      { updateIntervalInMs: 20 },
    );
    assert.equal(created.replicationState, 'CATCH_UP');
    await client.instanceFailoverGroups.beginDeleteAndWait(RG, 'eastus', 'fog-crm', { updateIntervalInMs: 20 });
    await assert.rejects(client.instanceFailoverGroups.get(RG, 'eastus', 'fog-crm'), { statusCode: 404 });
    const again = await client.instanceFailoverGroups.beginCreateOrUpdate(
      RG,
      'eastus',
      'fog-crm',
      definition('fog-crm-northeurope', 'northeurope'),
    );
    assert.equal(again.getOperationState().status, 'running');
    assert.deepEqual(
      emulator.world.findGroup('fog-crm')!.databases.map((database) => database.name),
      ['crm', 'billing'],
    );
  });
});
