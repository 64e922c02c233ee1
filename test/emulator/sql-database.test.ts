/**
 * Azure SQL Database in the emulator, through the real @azure/arm-sql 10 client and raw HTTP against a started
 * emulator: logical servers, databases (with `master`), elastic pools, server failover groups at each server, their
 * replication links, scales as long-running operations, the three failover actions with their refusals, and the
 * commit-log model under them (a planned failover loses nothing, a forced one exactly what the target had not
 * hardened). The world's clock moves only when a test says so: every state is read, never raced.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlManagementClient } from '@azure/arm-sql';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import type { SqlFailoverGroupState } from '../../src/emulator/world';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { hardenedLsn } from '../../src/emulator/world/replication';
import { hardenedLsnOn, partnerView, replicationLagSecondsTo } from '../../src/emulator/world/sql-replication';

const RG = 'rg-fogpilot';
const EAST = 'fog-orders-eastus';
const WEST = 'fog-orders-westus';
const CENTRAL = 'fog-orders-centralus';
const MINUTE = 60_000;
const clock = new ManualClock();
let emulator: Emulator;
let client: SqlManagementClient;

/** The default world (its SQL Database group `fog-orders`), quick timings, and a third server for a second partner. */
function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.sqlServers!.push({
    name: CENTRAL,
    resourceGroup: RG,
    location: 'centralus',
    elasticPools: [{ name: 'orders-pool' }],
  });
  return {
    ...spec,
    throttling: { enabled: false },
    timings: {
      asyncRetryAfterSeconds: 0,
      roleSwitchSeconds: 30,
      forcedSwitchSeconds: 15,
      roleFlipSkewSeconds: 2,
      readOnlyAfterSwitchSeconds: 10,
      plannedFailoverTimeoutSeconds: 120,
      sqlScaleSeconds: 300,
      groupCreateSeconds: 60,
      seedingGBPerHour: 360,
      replicationLagMs: 500,
    },
  };
}

before(async () => {
  emulator = await startEmulator({ world: world(), clock });
  const controlPlane = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
  client = controlPlane.client(emulator.world.spec.subscriptionId);
});
after(async () => emulator?.close());
beforeEach(() => emulator.world.load(world()));

const sub = () => emulator.world.spec.subscriptionId;
const serverId = (name: string) =>
  `/subscriptions/${sub()}/resourceGroups/${RG}/providers/Microsoft.Sql/servers/${name}`;
const group = (): SqlFailoverGroupState => emulator.world.findSqlGroup('fog-orders')!;
const advance = (ms: number) => {
  clock.advance(ms);
  emulator.world.advance();
};

interface ArmBody {
  value?: Record<string, unknown>[];
  error?: { code: string; message: string };
  properties?: Record<string, unknown>;
  [field: string]: unknown;
}
const arm = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${emulator.armEndpoint}${path}`, {
    method,
    headers: {
      Authorization: 'Bearer fogpilot-emulator-token',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as ArmBody };
};
const groupUrl = (server: string, version: string, action = '') =>
  `${serverId(server)}/failoverGroups/fog-orders${action ? `/${action}` : ''}?api-version=${version}`;

/** Waits (real time, bounded) until `check` holds: for what a test observes, never a guessed duration. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Commits `count` rows to a database of the group on its primary. */
function write(database: string, count: number) {
  const primary = emulator.world.sqlServerById(group().primaryServerId)!;
  const state = emulator.world.sqlDatabaseOn(primary.id, database)!;
  for (let index = 0; index < count; index++) emulator.world.sqlCommit(state, `${database}-${index}`);
  return state;
}

/** A snapshot of what a refusal must leave alone. */
const snapshot = () =>
  JSON.stringify({
    primary: group().primaryServerId,
    servers: group().serverIds,
    databases: group().databases,
    failover: group().failover ?? null,
    skus: [...emulator.world.sqlServers.values()].flatMap((server) =>
      server.databases.map((database) => [server.name, database.name, database.sku, database.elasticPoolName ?? null]),
    ),
    pools: [...emulator.world.sqlServers.values()].flatMap((server) => server.elasticPools.map((pool) => pool.sku)),
  });

describe('logical servers, databases and elastic pools', () => {
  it('serves the servers, their databases with master, and elastic pools as Azure lists them', async () => {
    const server = await client.servers.get(RG, EAST);
    assert.equal(server.fullyQualifiedDomainName, `${EAST}.database.windows.net`);
    assert.equal(server.state, 'Ready');
    assert.equal(server.version, '12.0');
    assert.equal(server.location, 'eastus');
    const names: string[] = [];
    for await (const database of client.databases.listByServer(RG, EAST)) names.push(database.name!);
    assert.deepEqual(names, ['master', 'orders', 'payments', 'ledger']);
    const orders = await client.databases.get(RG, EAST, 'orders');
    assert.deepEqual([orders.sku?.name, orders.sku?.tier, orders.sku?.capacity], ['GP_Gen5', 'GeneralPurpose', 4]);
    assert.equal(orders.currentServiceObjectiveName, 'GP_Gen5_4');
    assert.equal(orders.status, 'Online');
    assert.equal(orders.elasticPoolId, undefined);
    assert.equal(orders.failoverGroupId, `${serverId(EAST)}/failoverGroups/fog-orders`);
    const payments = await client.databases.get(RG, EAST, 'payments');
    assert.equal(payments.elasticPoolId, `${serverId(EAST)}/elasticPools/orders-pool`);
    assert.equal(payments.sku?.name, 'ElasticPool');
    const copy = await client.databases.get(RG, WEST, 'orders');
    assert.equal(copy.secondaryType, 'Geo', 'the partner holds a geo-secondary copy');
    const pool = await client.elasticPools.get(RG, EAST, 'orders-pool');
    assert.deepEqual([pool.sku?.tier, pool.sku?.capacity, pool.state], ['GeneralPurpose', 4, 'Ready']);
    assert.deepEqual(pool.perDatabaseSettings, { minCapacity: 0, maxCapacity: 2 });
    const missing = await arm('GET', `${serverId('nope')}/databases?api-version=2022-08-01-preview`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error?.code, 'ParentResourceNotFound');
  });

  it('scales the geo-secondary first as a long-running operation the operations list shows, then the primary', async () => {
    const poller = await client.databases.beginUpdate(
      RG,
      WEST,
      'orders',
      { sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 8, family: 'Gen5' } },
      { updateIntervalInMs: 5 },
    );
    const during = await client.databases.get(RG, WEST, 'orders');
    assert.equal(during.currentServiceObjectiveName, 'GP_Gen5_4');
    assert.equal(during.requestedServiceObjectiveName, 'GP_Gen5_8');
    const operations = [];
    for await (const operation of client.databaseOperations.listByDatabase(RG, WEST, 'orders'))
      operations.push(operation);
    assert.equal(operations.length, 1);
    assert.equal(operations[0]!.state, 'InProgress');
    assert.equal(operations[0]!.operation, 'UpdateLogicalDatabase');
    // A failover while a member scales is refused.
    const refused = await arm('POST', groupUrl(WEST, '2020-11-01-preview', 'failover'));
    assert.deepEqual([refused.status, refused.body.error?.code], [409, 'UpdateSloInProgress']);
    advance(5 * MINUTE);
    const done = await poller.pollUntilDone();
    assert.equal(done.currentServiceObjectiveName, 'GP_Gen5_8');
    const finished = [];
    for await (const operation of client.databaseOperations.listByDatabase(RG, WEST, 'orders'))
      finished.push(operation);
    assert.deepEqual([finished[0]!.state, finished[0]!.percentComplete], ['Succeeded', 100]);
    // Now the primary.
    const primary = client.databases.beginUpdateAndWait(
      RG,
      EAST,
      'orders',
      { sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 8, family: 'Gen5' } },
      { updateIntervalInMs: 5 },
    );
    await until(() => emulator.world.sqlOperations.length === 2, 'the primary scale has started');
    advance(5 * MINUTE);
    assert.equal((await primary).currentServiceObjectiveName, 'GP_Gen5_8');
  });

  it('refuses a primary upgraded to a higher tier than its secondary, and a secondary downgraded below its primary, changing nothing', async () => {
    const before = snapshot();
    const primary = await arm('PATCH', `${serverId(EAST)}/databases/orders?api-version=2022-08-01-preview`, {
      sku: { name: 'BC_Gen5', tier: 'BusinessCritical', capacity: 4, family: 'Gen5' },
    });
    assert.equal(primary.status, 409);
    assert.equal(primary.body.error?.code, 'UnableToAlterDatabaseInReplication');
    assert.match(primary.body.error.message, /upgrade the geo-secondary/);
    const secondary = await arm('PATCH', `${serverId(WEST)}/databases/orders?api-version=2022-08-01-preview`, {
      sku: { name: 'Basic', tier: 'Basic', capacity: 5 },
    });
    assert.deepEqual([secondary.status, secondary.body.error?.code], [409, 'UnableToAlterDatabaseInReplication']);
    assert.match(secondary.body.error!.message, /downgrade the primary/);
    assert.equal(snapshot(), before);
    assert.equal(emulator.world.sqlOperations.length, 0);
  });

  it('refuses a second scale of a database and a scale of its copy while one runs, changing nothing', async () => {
    const first = await arm('PATCH', `${serverId(WEST)}/databases/orders?api-version=2022-08-01-preview`, {
      sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 8, family: 'Gen5' },
    });
    assert.equal(first.status, 202);
    assert.ok(first.headers.get('azure-asyncoperation')?.includes('/databaseAzureAsyncOperation/'));
    const before = snapshot();
    const again = await arm('PATCH', `${serverId(WEST)}/databases/orders?api-version=2022-08-01-preview`, {
      sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 16, family: 'Gen5' },
    });
    assert.deepEqual([again.status, again.body.error?.code], [409, 'ConflictingDatabaseOperation']);
    const copy = await arm('PATCH', `${serverId(EAST)}/databases/orders?api-version=2022-08-01-preview`, {
      sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 8, family: 'Gen5' },
    });
    assert.deepEqual([copy.status, copy.body.error?.code], [409, 'SimultaneousSkuChangeNotAllowed']);
    assert.equal(snapshot(), before);
    assert.equal(emulator.world.sqlOperations.length, 1);
  });

  it('scales an elastic pool as a long-running operation its operations list shows', async () => {
    const poller = await client.elasticPools.beginUpdate(
      RG,
      WEST,
      'orders-pool',
      { sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 8, family: 'Gen5' } },
      { updateIntervalInMs: 5 },
    );
    const listed = [];
    for await (const operation of client.elasticPoolOperations.listByElasticPool(RG, WEST, 'orders-pool'))
      listed.push(operation);
    assert.deepEqual([listed.length, listed[0]!.state, listed[0]!.operation], [1, 'IN_PROGRESS', 'UPDATE']);
    advance(5 * MINUTE);
    const done = await poller.pollUntilDone();
    assert.equal(done.sku?.capacity, 8);
  });

  it('makes an undersized geo-secondary fall behind under write load', () => {
    const w = emulator.world;
    const replication = w.sqlDatabaseOn(serverId(EAST), 'orders')!.replication!;
    write('orders', 50);
    const even = replicationLagSecondsTo(replication, serverId(WEST), clock.now() + 2_500);
    w.sqlDatabaseOn(serverId(WEST), 'orders')!.sku.capacity = 1; // a quarter of the primary's 4 vCores
    write('orders', 50);
    const behind = replicationLagSecondsTo(replication, serverId(WEST), clock.now() + 2_500);
    assert.equal(even, 0, 'an equal secondary keeps up within the lag');
    assert.ok(behind >= 2, `an undersized secondary falls behind (lag ${behind} s)`);
  });
});

describe('server failover groups', () => {
  it('answers the group at each server from its side, in the shape of the api-version', async () => {
    const east = await client.failoverGroups.get(RG, EAST, 'fog-orders');
    assert.equal(east.replicationRole, 'Primary');
    assert.equal(east.replicationState, 'CATCH_UP');
    assert.equal(east.location, 'East US');
    assert.deepEqual(east.partnerServers, [{ id: serverId(WEST), location: 'West US', replicationRole: 'Secondary' }]);
    assert.deepEqual(
      east.databases,
      ['orders', 'payments', 'ledger'].map((db) => `${serverId(EAST)}/databases/${db}`),
    );
    assert.deepEqual(east.readWriteEndpoint, { failoverPolicy: 'Manual' });
    const listed = [];
    for await (const entry of client.failoverGroups.listByServer(RG, WEST)) listed.push(entry);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.replicationRole, 'Secondary');
    assert.deepEqual(
      listed[0]!.databases,
      ['orders', 'payments', 'ledger'].map((db) => `${serverId(WEST)}/databases/${db}`),
    );
    const old = await arm('GET', groupUrl(WEST, '2020-11-01-preview'));
    assert.equal((old.body.properties!.readOnlyEndpoint as Record<string, unknown>).targetServer, undefined);
    assert.equal(old.body.properties!.secondaryType, undefined);
    const latest = await arm('GET', groupUrl(WEST, '2025-01-01'));
    assert.equal((latest.body.properties!.readOnlyEndpoint as Record<string, unknown>).targetServer, serverId(WEST));
    assert.equal(latest.body.properties!.secondaryType, 'Geo');
  });

  it('lists replication links per database per partner, seeding then catching up, with the lag of the same commit log', async () => {
    const links = [];
    for await (const link of client.replicationLinks.listByDatabase(RG, EAST, 'orders')) links.push(link);
    assert.equal(links.length, 1);
    assert.deepEqual(
      [
        links[0]!.role,
        links[0]!.partnerRole,
        links[0]!.partnerServer,
        links[0]!.partnerDatabase,
        links[0]!.partnerLocation,
      ],
      ['Primary', 'Secondary', WEST, 'orders', 'West US'],
    );
    assert.deepEqual(
      [links[0]!.replicationState, links[0]!.linkType, links[0]!.percentComplete],
      ['CATCH_UP', 'GEO', 100],
    );
    const back = await client.replicationLinks.get(RG, WEST, 'orders', links[0]!.name!);
    assert.deepEqual([back.role, back.partnerServer], ['Secondary', EAST]);
    // The same log the TDS side reads: a commit hardens on the partner after the lag.
    const database = write('orders', 1);
    const replication = database.replication!;
    assert.equal(hardenedLsnOn(replication, serverId(WEST), clock.now()), 0);
    assert.equal(hardenedLsn(partnerView(replication, serverId(WEST)), clock.now() + 500), 1);
  });

  it('adds a database by PATCH, seeding it to the partner, and keeps a removed one replicated', async () => {
    const w = emulator.world;
    w.sqlServerById(serverId(EAST))!.databases.push({
      ...structuredClone(w.sqlDatabaseOn(serverId(EAST), 'orders')!),
      name: 'audit',
      sizeGB: 36,
      replication: undefined,
      data: { name: 'audit', sizeGB: 36, lagMs: 500, nextLsn: 1, commits: [], readOnlyUntil: 0 },
    });
    const members = ['orders', 'audit'].map((db) => `${serverId(EAST)}/databases/${db}`);
    const updated = await client.failoverGroups.beginUpdateAndWait(RG, EAST, 'fog-orders', { databases: members });
    assert.deepEqual(updated.databases, members);
    assert.equal(updated.replicationState, 'SEEDING', 'audit seeds to the partner');
    const links = [];
    for await (const link of client.replicationLinks.listByDatabase(RG, EAST, 'audit')) links.push(link);
    assert.equal(links[0]!.replicationState, 'SEEDING');
    assert.equal((await client.databases.get(RG, WEST, 'audit')).status, 'Copying');
    const refused = await arm('POST', groupUrl(WEST, '2020-11-01-preview', 'failover'));
    assert.deepEqual([refused.status, refused.body.error?.code], [400, 'IncorrectReplicationLinkState']);
    advance(6 * MINUTE); // 36 GB at 360 GB/h
    assert.equal((await client.failoverGroups.get(RG, EAST, 'fog-orders')).replicationState, 'CATCH_UP');
    // payments and ledger left the group, their replication intact (Remove-AzSqlDatabaseFromFailoverGroup).
    const payments = [];
    for await (const link of client.replicationLinks.listByDatabase(RG, EAST, 'payments')) payments.push(link);
    assert.equal(payments.length, 1);
    assert.equal((await client.databases.get(RG, WEST, 'payments')).failoverGroupId, undefined);
  });

  it('fails over as planned with no data lost: the target hardens everything first, then the roles switch', async () => {
    const database = write('orders', 20);
    const poller = await client.failoverGroups.beginFailover(RG, WEST, 'fog-orders', { updateIntervalInMs: 5 });
    assert.equal(emulator.world.sqlListenerServerId(group()).toLowerCase(), serverId(WEST).toLowerCase());
    assert.equal((await client.failoverGroups.get(RG, EAST, 'fog-orders')).replicationRole, 'Primary');
    const busy = await arm('POST', groupUrl(WEST, '2020-11-01-preview', 'forceFailoverAllowDataLoss'));
    assert.deepEqual([busy.status, busy.body.error?.code], [409, 'FailoverGroupBusy']);
    advance(30_000);
    // For a moment both claim the role (the old primary's stale claim), as the managed-instance groups do.
    assert.equal((await client.failoverGroups.get(RG, EAST, 'fog-orders')).replicationRole, 'Primary');
    assert.equal((await client.failoverGroups.get(RG, WEST, 'fog-orders')).replicationRole, 'Primary');
    advance(2_000);
    const done = await poller.pollUntilDone();
    assert.equal(done.replicationRole, 'Primary');
    assert.equal((await client.failoverGroups.get(RG, EAST, 'fog-orders')).replicationRole, 'Secondary');
    assert.equal(database.data.commits.length, 20, 'nothing lost');
    assert.deepEqual(emulator.world.lostCommits, []);
    const link = [];
    for await (const entry of client.replicationLinks.listByDatabase(RG, WEST, 'orders')) link.push(entry);
    assert.deepEqual([link[0]!.role, link[0]!.partnerServer], ['Primary', EAST]);
    const invariants = emulator.world.invariants();
    assert.deepEqual(invariants.violations, []);
    assert.deepEqual(invariants.failovers['fog-orders'], {
      received: 2,
      accepted: 1,
      refused: 1,
      acceptedTo: { westus: 1 },
    });
  });

  it('fails over with beginFailoverAndWait, following the async protocol to the new primary', async () => {
    const waiting = client.failoverGroups.beginFailoverAndWait(RG, WEST, 'fog-orders', { updateIntervalInMs: 5 });
    await until(() => group().failover !== undefined, 'the failover is accepted');
    advance(32_000);
    const done = await waiting;
    assert.equal(done.replicationRole, 'Primary');
    assert.equal(group().primaryServerId, serverId(WEST));
  });

  it('forces a failover that loses exactly the commits the target had not hardened, and records them', async () => {
    write('orders', 5);
    advance(1_000); // hardened on the partner
    emulator.arm.addFault({ kind: 'lag-spike', group: 'fog-orders', lagMs: 60_000, seconds: 600 });
    write('orders', 3); // not before the forced switch
    const poller = await client.failoverGroups.beginForceFailoverAllowDataLoss(RG, WEST, 'fog-orders', {
      updateIntervalInMs: 5,
    });
    advance(15_000 + 2_000);
    await poller.pollUntilDone();
    assert.equal(group().primaryServerId, serverId(WEST));
    const orders = emulator.world.sqlDatabaseOn(serverId(WEST), 'orders')!;
    assert.deepEqual(
      orders.data.commits.map((commit) => commit.payload),
      [0, 1, 2, 3, 4].map((i) => `orders-${i}`),
    );
    assert.deepEqual(
      emulator.world.lostCommits.map((lost) => [lost.group, lost.database, lost.lsns]),
      [['fog-orders', 'orders', [6, 7, 8]]],
    );
  });

  it('refuses failovers at the primary, on a server without the group, and of a group that does not exist, changing nothing', async () => {
    const before = snapshot();
    const planned = await arm('POST', groupUrl(EAST, '2020-11-01-preview', 'failover'));
    assert.deepEqual([planned.status, planned.body.error?.code], [400, 'FailoverGroupFailoverRequestOnPrimary']);
    const forced = await arm('POST', groupUrl(EAST, '2020-11-01-preview', 'forceFailoverAllowDataLoss'));
    assert.deepEqual([forced.status, forced.body.error?.code], [400, 'FailoverGroupNotSecondary']);
    const elsewhere = await arm('POST', groupUrl(CENTRAL, '2020-11-01-preview', 'failover'));
    assert.deepEqual([elsewhere.status, elsewhere.body.error?.code], [400, 'FailoverGroupDoesNotExist']);
    const unknown = await arm('GET', `${serverId(EAST)}/failoverGroups/nope?api-version=2020-11-01-preview`);
    assert.deepEqual([unknown.status, unknown.body.error?.code], [404, 'ResourceNotFound']);
    const onSecondary = await arm('PATCH', groupUrl(WEST, '2020-11-01-preview'), {
      properties: { readWriteEndpoint: { failoverPolicy: 'Manual' } },
    });
    assert.deepEqual(
      [onSecondary.status, onSecondary.body.error?.code],
      [400, 'FailoverGroupUpdateOrDeleteRequestOnSecondary'],
    );
    assert.equal(snapshot(), before);
    assert.deepEqual(emulator.world.invariants().failovers['fog-orders'], {
      received: 2,
      accepted: 0,
      refused: 2,
      acceptedTo: {},
    });
  });

  it('answers tryPlannedBeforeForcedFailover only in the api-versions that have it', async () => {
    const old = await arm('POST', groupUrl(WEST, '2020-11-01-preview', 'tryPlannedBeforeForcedFailover'));
    assert.deepEqual([old.status, old.body.error?.code], [400, 'NoRegisteredProviderFound']);
    const stable = await arm('POST', groupUrl(WEST, '2023-08-01', 'tryPlannedBeforeForcedFailover'));
    assert.equal(stable.status, 400);
    assert.equal(group().failover, undefined);
    const tried = await arm('POST', groupUrl(WEST, '2025-01-01', 'tryPlannedBeforeForcedFailover'));
    assert.equal(tried.status, 202);
    assert.ok(tried.headers.get('location')?.includes('/failoverGroupOperationResults/'));
    assert.equal(group().failover?.ran, 'planned', 'the primary answers: the planned part runs');
  });

  it('falls back to a forced failover when the planned part cannot reach the dark primary region', async () => {
    write('orders', 4);
    advance(1_000);
    write('orders', 2);
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 0 });
    const tried = await arm('POST', groupUrl(WEST, '2025-01-01', 'tryPlannedBeforeForcedFailover'));
    assert.equal(tried.status, 202);
    const status = tried.headers.get('azure-asyncoperation')!;
    advance(120_000); // the planned part gives up
    assert.equal(group().primaryServerId, serverId(EAST));
    advance(15_000 + 2_000); // the forced part
    const operation = (await (
      await fetch(status, { headers: { Authorization: 'Bearer fogpilot-emulator-token' } })
    ).json()) as { status: string };
    assert.equal(operation.status, 'Succeeded');
    assert.equal(group().primaryServerId, serverId(WEST));
    assert.deepEqual(
      emulator.world.lostCommits.map((lost) => lost.lsns),
      [[5, 6]],
    );
  });

  it('times a planned failover out when the primary region is dark', async () => {
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 0 });
    const poller = await client.failoverGroups.beginFailover(RG, WEST, 'fog-orders', { updateIntervalInMs: 5 });
    advance(120_000);
    await assert.rejects(poller.pollUntilDone(), /PlannedFailoverTimedOut/);
    assert.equal(group().primaryServerId, serverId(EAST));
  });

  it('creates a group with two secondaries in 2025-01-01, refused in an api-version with one partner', async () => {
    await client.failoverGroups.beginDeleteAndWait(RG, EAST, 'fog-orders', { updateIntervalInMs: 5 });
    assert.equal(emulator.world.findSqlGroup('fog-orders'), undefined);
    const body = {
      properties: {
        readWriteEndpoint: { failoverPolicy: 'Manual' },
        readOnlyEndpoint: { failoverPolicy: 'Disabled', targetServer: serverId(CENTRAL) },
        partnerServers: [{ id: serverId(WEST) }, { id: serverId(CENTRAL) }],
        databases: [`${serverId(EAST)}/databases/orders`],
      },
    };
    const old = await arm('PUT', `${serverId(EAST)}/failoverGroups/fog-multi?api-version=2022-08-01-preview`, body);
    assert.deepEqual(
      [old.status, old.body.error?.code],
      [400, 'FailoverGroupCreateOrUpdateRequestUnsupportedPartnerCount'],
    );
    assert.equal(emulator.world.findSqlGroup('fog-multi'), undefined);
    const created = await arm('PUT', `${serverId(EAST)}/failoverGroups/fog-multi?api-version=2025-01-01`, body);
    assert.equal(created.status, 201);
    assert.ok(created.headers.get('azure-asyncoperation')?.includes('/failoverGroupAzureAsyncOperation/'));
    const partners = created.body.properties!.partnerServers as { id: string }[];
    assert.deepEqual(
      partners.map((partner) => partner.id),
      [serverId(WEST), serverId(CENTRAL)],
    );
    // orders was already replicated to westus (the deleted group left it); it seeds to centralus.
    const links = [];
    for await (const link of client.replicationLinks.listByDatabase(RG, EAST, 'orders')) links.push(link);
    assert.deepEqual(
      links.map((link) => [link.partnerServer, link.replicationState]),
      [
        [WEST, 'CATCH_UP'],
        [CENTRAL, 'SEEDING'],
      ],
    );
    advance(60_000 + 200_000);
    const multi = emulator.world.findSqlGroup('fog-multi')!;
    const write3 = emulator.world.sqlDatabaseOn(serverId(EAST), 'orders')!;
    emulator.world.sqlCommit(write3, 'x');
    // Fail over to centralus; westus follows the new primary (Learn: the other secondaries are linked to it).
    const failed = await arm('POST', `${serverId(CENTRAL)}/failoverGroups/fog-multi/failover?api-version=2025-01-01`);
    assert.equal(failed.status, 202);
    advance(32_000);
    assert.equal(multi.primaryServerId, serverId(CENTRAL));
    const view = await arm('GET', `${serverId(WEST)}/failoverGroups/fog-multi?api-version=2025-01-01`);
    assert.deepEqual(
      (view.body.properties!.partnerServers as { id: string; replicationRole: string }[]).map((p) => [
        p.id,
        p.replicationRole,
      ]),
      [
        [serverId(CENTRAL), 'Primary'],
        [serverId(EAST), 'Secondary'],
      ],
    );
    const older = await arm('GET', `${serverId(WEST)}/failoverGroups/fog-multi?api-version=2020-11-01-preview`);
    assert.equal(
      (older.body.properties!.partnerServers as unknown[]).length,
      2,
      'an older version lists both partners',
    );
    assert.deepEqual(emulator.world.invariants().violations, []);
  });

  it('applies the armed faults: a failover that never completes, and one that fails', async () => {
    emulator.arm.addFault({ kind: 'failover-fails', group: 'fog-orders' });
    const failing = await client.failoverGroups.beginFailover(RG, WEST, 'fog-orders', { updateIntervalInMs: 5 });
    advance(15_000);
    await assert.rejects(failing.pollUntilDone(), /PlannedFailoverTimedOut/);
    emulator.arm.addFault({ kind: 'failover-never-completes', group: 'fog-orders' });
    await client.failoverGroups.beginFailover(RG, WEST, 'fog-orders', { updateIntervalInMs: 5 });
    advance(60 * MINUTE);
    assert.equal(group().primaryServerId, serverId(EAST));
    assert.ok(group().failover, 'still running');
  });
});

describe('a world with two secondaries', () => {
  it('is described by partnerServers, serves each copy its link, and keeps the other secondary on the new primary', () => {
    const spec = world();
    spec.sqlFailoverGroups![0]!.partnerServers = [WEST, CENTRAL];
    spec.sqlFailoverGroups![0]!.readOnlyTargetServer = CENTRAL;
    const w = emulator.world;
    w.load(spec);
    const fog = group();
    assert.deepEqual(fog.serverIds, [serverId(EAST), serverId(WEST), serverId(CENTRAL)]);
    assert.equal(w.sqlReadOnlyServerId(fog), serverId(CENTRAL));
    assert.equal(w.sqlServerByHost(`${CENTRAL}.database.windows.net`)?.id, serverId(CENTRAL));
    assert.equal(w.sqlGroupByListenerHost('fog-orders.secondary.database.windows.net')?.kind, 'read-only');
    const orders = w.sqlGroupDatabases(fog).find((database) => database.name === 'orders')!;
    assert.deepEqual(
      orders.replication!.partners.map((link) => link.serverId),
      [serverId(WEST), serverId(CENTRAL)],
    );
    emulator.arm.addFault({ kind: 'link-lost', group: 'fog-orders', database: 'orders' });
    w.sqlCommit(orders, 'only-on-the-primary');
    assert.equal(hardenedLsnOn(orders.replication!, serverId(WEST), clock.now() + MINUTE), 0);
    w.requestSqlFailover(fog, w.sqlServerById(serverId(CENTRAL))!, 'forced');
    advance(17_000);
    assert.equal(fog.primaryServerId, serverId(CENTRAL));
    assert.deepEqual(
      orders.replication!.partners.map((link) => link.serverId),
      [serverId(EAST), serverId(WEST)],
      'the old primary and the other secondary follow the new primary',
    );
    assert.deepEqual(
      w.lostCommits.map((lost) => [lost.database, lost.payloads]),
      [['orders', ['only-on-the-primary']]],
    );
    assert.equal(w.sqlAcceptsWrites(w.sqlDatabaseOn(serverId(EAST), 'orders')!), false);
    assert.equal(w.sqlAcceptsWrites(w.sqlDatabaseOn(serverId(CENTRAL), 'orders')!, clock.now() + 10_000), true);
    assert.deepEqual(w.invariants().violations, []);
  });
});
