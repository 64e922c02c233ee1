/**
 * The scripted twin of ArmServerGroupPlane that workflow tests run the SQL Database runbooks on: its groups answer as
 * ARM does at each server, failovers and SKU changes run their course on the clock it is given, and its knobs script
 * the refusals, throttling and outages the runbooks must meet.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withArmMeter } from '../../src/azure/arm-call-meter';
import { ArmRequestError } from '../../src/azure/errors';
import { summarizeGroupRoles } from '../../src/domain/azure-state';
import { serverFailoverGroupId } from '../../src/domain/group-ref';
import { ScriptedServerGroups, type ScriptedServerGroupsOptions } from '../support/scripted-server-groups';

/** A script on a clock the test moves by hand. */
function scripted(options: Partial<ScriptedServerGroupsOptions> = {}) {
  const time = { now: Date.parse('2026-12-06T03:00:00Z') };
  const azure = new ScriptedServerGroups({ clock: () => Promise.resolve(time.now), ...options });
  return { azure, time, group: azure.coordinates() };
}

const threeServers: ScriptedServerGroupsOptions['groups'] = [
  {
    name: 'fog-tri',
    servers: [
      { name: 'tri-eus', location: 'eastus' },
      { name: 'tri-wus', location: 'westus' },
      { name: 'tri-neu', location: 'North Europe' },
    ],
    databases: ['orders'],
  },
];

async function armError(work: Promise<unknown>): Promise<ArmRequestError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ArmRequestError, `expected an ArmRequestError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

describe('ScriptedServerGroups', () => {
  it('names its default group by kind and servers, and answers for it at each server as ARM does', async () => {
    const { azure, group } = scripted();
    assert.deepEqual(group, {
      subscriptionId: azure.subscriptionId,
      resourceGroup: 'rg-fog',
      name: 'fog-orders',
      primaryLocation: 'eastus',
      secondaryLocation: 'westus',
      kind: 'sqlDatabase',
      servers: { eastus: 'orders-eus', westus: 'orders-wus' },
    });
    const primary = (await azure.getServerFailoverGroup(group, 'orders-eus')).value;
    const secondary = (await azure.getServerFailoverGroup(group, 'orders-wus')).value;
    assert.equal(primary.id, serverFailoverGroupId(group, 'orders-eus'));
    assert.equal(primary.replicationRole, 'Primary');
    assert.equal(secondary.replicationRole, 'Secondary');
    assert.equal(secondary.primaryManagedInstanceId, serverFailoverGroupId(group, 'orders-eus'));
    assert.deepEqual(secondary.server?.databases, ['orders', 'billing']);
    assert.equal(secondary.server?.readOnlyTargetServerId, azure.serverId('orders-wus'));
    const roles = summarizeGroupRoles([primary, secondary]);
    assert.equal(roles.consistent, true);
    assert.equal(roles.primaryLocation, 'eastus');
    assert.equal(roles.status, 'synchronizing');
    assert.equal(azure.api.apiVersion, '2025-01-01');
  });

  it('runs a planned failover over roleSwitchMs: in progress, then the roles switched', async () => {
    const { azure, time, group } = scripted();
    const { value } = await azure.beginServerFailover(group, 'orders-wus', 'failover');
    assert.match(value.trackingId ?? '', /^async:https:\/\/management\.azure\.com\/.*\/locations\/westus\//);
    assert.equal((await azure.getServerFailoverProgress(group, value.trackingId!)).value.state, 'InProgress');
    const during = (await azure.getServerFailoverGroup(group, 'orders-eus')).value;
    assert.equal(during.replicationState, 'FAILOVER_IN_PROGRESS');
    time.now += azure.roleSwitchMs;
    assert.equal((await azure.getServerFailoverProgress(group, value.trackingId!)).value.state, 'Succeeded');
    assert.equal(azure.primaryOf().name, 'orders-wus');
    assert.equal((await azure.getServerFailoverGroup(group, 'orders-eus')).value.replicationRole, 'Secondary');
    assert.deepEqual(
      azure.acceptedFailovers.map((entry) => [entry.server, entry.action, entry.ranAs]),
      [['orders-wus', 'failover', 'planned']],
    );
    assert.deepEqual(azure.coordinates().servers, { westus: 'orders-wus', eastus: 'orders-eus' });
  });

  it("refuses a failover POSTed at the primary, and a second one while the first runs, as ARM's codes", async () => {
    const { azure, group } = scripted();
    const onPrimary = await armError(azure.beginServerFailover(group, 'orders-eus', 'failover'));
    assert.equal(onPrimary.code, 'FailoverGroupFailoverRequestOnPrimary');
    assert.equal(onPrimary.statusCode, 400);
    await azure.beginServerFailover(group, 'orders-wus', 'failover');
    const busy = await armError(azure.beginServerFailover(group, 'orders-wus', 'forceFailoverAllowDataLoss'));
    assert.equal(busy.code, 'FailoverGroupBusy');
    assert.equal(busy.statusCode, 409);
    assert.equal(azure.acceptedFailovers.length, 1);
    assert.equal(azure.failoverRequests, 3);
  });

  it('fails a group over to one of several secondaries, the others staying secondaries of the new primary', async () => {
    const { azure, time, group } = scripted({ groups: threeServers });
    assert.deepEqual(group.servers, { eastus: 'tri-eus', westus: 'tri-wus', northeurope: 'tri-neu' });
    await azure.beginServerFailover(group, 'tri-neu', 'failover');
    time.now += azure.roleSwitchMs;
    const atWest = (await azure.getServerFailoverGroup(group, 'tri-wus')).value;
    assert.equal(atWest.replicationRole, 'Secondary');
    assert.equal(atWest.partnerLocation, 'northeurope');
    assert.equal(atWest.partnerRole, 'Primary');
    assert.deepEqual(
      atWest.server?.partners.map((partner) => [partner.serverName, partner.role]),
      [
        ['tri-neu', 'Primary'],
        ['tri-eus', 'Secondary'],
      ],
    );
    const atNorth = (await azure.getServerFailoverGroup(group, 'tri-neu')).value;
    assert.equal(atNorth.replicationRole, 'Primary');
    assert.equal(atNorth.server?.partners.length, 2);
  });

  it('runs tryPlannedBeforeForcedFailover as planned while the primary answers, and forced after trying when it does not', async () => {
    const up = scripted();
    const tried = await up.azure.beginServerFailover(up.group, 'orders-wus', 'tryPlannedBeforeForcedFailover');
    assert.match(tried.value.trackingId ?? '', /^location:https:/);
    assert.equal(up.azure.acceptedFailovers[0]?.ranAs, 'planned');

    const down = scripted();
    down.azure.darkServers.add('orders-eus');
    const forced = await down.azure.beginServerFailover(down.group, 'orders-wus', 'tryPlannedBeforeForcedFailover');
    assert.equal(down.azure.acceptedFailovers[0]?.ranAs, 'forced');
    down.time.now += down.azure.roleSwitchMs;
    const progress = (await down.azure.getServerFailoverProgress(down.group, forced.value.trackingId!)).value;
    assert.equal(progress.state, 'InProgress', 'the planned attempt runs first');
    down.time.now += down.azure.plannedAttemptMs;
    assert.equal(
      (await down.azure.getServerFailoverProgress(down.group, forced.value.trackingId!)).value.state,
      'Succeeded',
    );
    assert.equal(down.azure.primaryOf().name, 'orders-wus');
  });

  it('ends a planned failover Failed with PlannedFailoverTimedOut when the primary is dark, roles unchanged', async () => {
    const { azure, time, group } = scripted();
    azure.darkServers.add('orders-eus');
    const { value } = await azure.beginServerFailover(group, 'orders-wus', 'failover');
    time.now += azure.roleSwitchMs;
    const progress = (await azure.getServerFailoverProgress(group, value.trackingId!)).value;
    assert.equal(progress.state, 'Failed');
    assert.equal(progress.error?.code, 'PlannedFailoverTimedOut');
    assert.equal(azure.primaryOf().name, 'orders-eus');
    const dark = await armError(azure.getServerFailoverGroup(group, 'orders-eus'));
    assert.equal(dark.delivery, 'unknown');
  });

  it('ends the next failover Failed with a scripted code', async () => {
    const { azure, time, group } = scripted();
    azure.failNextFailoverWith = 'GeoReplicationCannotBecomePrimaryDuringUndo';
    const { value } = await azure.beginServerFailover(group, 'orders-wus', 'forceFailoverAllowDataLoss');
    time.now += azure.roleSwitchMs;
    const progress = (await azure.getServerFailoverProgress(group, value.trackingId!)).value;
    assert.deepEqual(progress.error?.code, 'GeoReplicationCannotBecomePrimaryDuringUndo');
    assert.equal(azure.primaryOf().name, 'orders-eus');
  });

  it('offers what its api-version offers: no tryPlannedBeforeForcedFailover nor read-only target before 2023-02-01-preview', async () => {
    const { azure, group } = scripted({ apiVersion: '2022-11-01-preview' });
    const refused = await armError(azure.beginServerFailover(group, 'orders-wus', 'tryPlannedBeforeForcedFailover'));
    assert.equal(refused.code, 'ActionNotInApiVersion');
    assert.equal(refused.delivery, 'not-sent');
    assert.equal(azure.failoverRequests, 0);
    const view = (await azure.getServerFailoverGroup(group, 'orders-wus')).value;
    assert.equal(view.server?.readOnlyTargetServerId, undefined);
    assert.equal(view.server?.apiVersion, '2022-11-01-preview');
  });

  it('answers scripted faults once each: a refused POST, a throttled read, a lost answer', async () => {
    const { azure, group } = scripted();
    azure.refuseNextFailover('FailoverGroupBusy', 409);
    const refused = await armError(azure.beginServerFailover(group, 'orders-wus', 'failover'));
    assert.equal(refused.code, 'FailoverGroupBusy');
    assert.equal(azure.acceptedFailovers.length, 0);

    azure.throttleNext('getServerFailoverGroup', 9_000);
    const { result, armCalls } = await withArmMeter(async () => {
      const throttled = await armError(azure.getServerFailoverGroup(group, 'orders-wus'));
      await azure.getServerFailoverGroup(group, 'orders-wus');
      return throttled;
    });
    assert.equal(result.statusCode, 429);
    assert.equal(result.retryAfterMs, 9_000);
    assert.deepEqual(armCalls, { reads: 2, writes: 0, throttled: 1 });

    azure.loseNextFailoverAnswer = true;
    const lost = await armError(azure.beginServerFailover(group, 'orders-wus', 'failover'));
    assert.equal(lost.delivery, 'unknown');
    assert.equal(azure.acceptedFailovers.length, 1, 'Azure accepted it all the same');
  });

  it('lists databases and pools with SKUs, secondary copies marked Geo', async () => {
    const { azure } = scripted();
    const databases = (await azure.listServerDatabases(azure.serverId('orders-wus'))).value;
    assert.deepEqual(
      databases.map((database) => [database.name, database.currentServiceObjectiveName, database.secondaryType]),
      [
        ['billing', 'ElasticPool', 'Geo'],
        ['orders', 'GP_Gen5_2', 'Geo'],
      ],
    );
    assert.equal(databases[0]?.elasticPoolId, azure.poolId('orders-wus', 'orders-pool'));
    const primaryDatabases = (await azure.listServerDatabases(azure.serverId('orders-eus'))).value;
    assert.equal(primaryDatabases[0]?.secondaryType, undefined);
    const pools = (await azure.listElasticPools(azure.serverId('orders-eus'))).value;
    assert.deepEqual(pools[0]?.sku, { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 4 });
  });

  it('runs a SKU change over scaleDurationMs, refusing a second one on the same resource meanwhile', async () => {
    const { azure, time } = scripted();
    const pool = azure.poolId('orders-wus', 'orders-pool');
    const sku = { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 8 };
    const { value } = await azure.beginUpdateSku(pool, sku);
    assert.match(value.trackingId, /elasticPoolAzureAsyncOperation/);
    assert.equal((await azure.getSqlOperationProgress(pool, value.trackingId)).value.state, 'InProgress');
    const busy = await armError(azure.beginUpdateSku(pool, sku));
    assert.equal(busy.code, 'UpdateSloInProgress');
    const [operation] = (await azure.listSqlOperations(pool)).value;
    assert.equal(operation?.state, 'InProgress');
    time.now += azure.scaleDurationMs;
    assert.equal((await azure.getSqlOperationProgress(pool, value.trackingId)).value.state, 'Succeeded');
    assert.equal((await azure.listElasticPools(azure.serverId('orders-wus'))).value[0]?.sku.capacity, 8);
    assert.equal((await azure.listElasticPools(azure.serverId('orders-eus'))).value[0]?.sku.capacity, 4);
    assert.deepEqual(
      azure.scaleRequests.map((request) => [request.server, request.name, request.sku.capacity]),
      [['orders-wus', 'orders-pool', 8]],
    );
  });

  it('ends a scale Failed when scripted so, the SKU unchanged; a database given a SKU of its own leaves its pool', async () => {
    const { azure, time } = scripted();
    azure.scaleOutcome = 'Failed';
    const orders = azure.databaseId('orders-eus', 'orders');
    const failed = await azure.beginUpdateSku(orders, { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 4 });
    time.now += azure.scaleDurationMs;
    const progress = (await azure.getSqlOperationProgress(orders, failed.value.trackingId)).value;
    assert.equal(progress.state, 'Failed');
    assert.equal(progress.error?.code, 'OperationTimedOut');
    assert.equal(azure.serverNamed('orders-eus').databases.find((db) => db.name === 'orders')?.sku.capacity, 2);

    azure.scaleOutcome = 'Succeeded';
    const billing = azure.databaseId('orders-eus', 'billing');
    await azure.beginUpdateSku(billing, { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 2 });
    time.now += azure.scaleDurationMs;
    const after = (await azure.listServerDatabases(azure.serverId('orders-eus'))).value;
    assert.equal(after.find((database) => database.name === 'billing')?.elasticPoolId, undefined);
  });

  it('records every call in order with its time, also into another log when given one', async () => {
    const other: string[] = [];
    const time = { now: 1_000 };
    const azure = new ScriptedServerGroups({
      clock: () => Promise.resolve(time.now),
      log: {
        recordCall: (method) => {
          other.push(method);
          return Promise.resolve(time.now);
        },
      },
    });
    const group = azure.coordinates();
    await azure.getServerFailoverGroup(group, 'orders-eus');
    time.now = 2_000;
    await azure.beginServerFailover(group, 'orders-wus', 'failover');
    assert.deepEqual(azure.methods(), ['getServerFailoverGroup', 'beginServerFailover']);
    assert.deepEqual(
      azure.calls.map((call) => call.at),
      [1_000, 2_000],
    );
    assert.deepEqual(other, azure.methods());
  });

  it('answers 404 for a group a server is not in, and for an unknown operation', async () => {
    const { azure, group } = scripted();
    azure.addServer('lonely', 'brazilsouth');
    const missing = await armError(azure.getServerFailoverGroup(group, 'lonely'));
    assert.equal(missing.statusCode, 404);
    const unknown = await armError(azure.getServerFailoverProgress(group, 'async:https://nowhere/op'));
    assert.equal(unknown.statusCode, 404);
  });
});
