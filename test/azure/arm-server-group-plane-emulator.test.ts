/**
 * ArmServerGroupPlane over real HTTP against the emulator's Azure SQL Database, with the real ArmControlPlane under it:
 * the default world's server failover group fog-orders (fog-orders-eastus primary, fog-orders-westus secondary), read
 * at each server, failed over with each action, its databases and pools listed and scaled. The world's clock moves
 * only when a test says so.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { ArmServerGroupPlane } from '../../src/azure/arm-server-group-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { ArmRequestError } from '../../src/azure/errors';
import { serverGroupApiOf } from '../../src/azure/server-group-api';
import { summarizeGroupRoles } from '../../src/domain/azure-state';
import { logicalServerId, serverFailoverGroupId, type GroupIdentity } from '../../src/domain/group-ref';
import { startEmulator, type Emulator } from '../../src/emulator';
import {
  FAILOVER_GROUPS,
  MULTI_PARTNER_FAILOVER_GROUP_VERSIONS,
  TRY_PLANNED_BEFORE_FORCED_FAILOVER,
} from '../../src/emulator/arm/api-versions';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const RG = 'rg-fogpilot';
const EAST = 'fog-orders-eastus';
const WEST = 'fog-orders-westus';
const clock = new ManualClock();
let emulator: Emulator;
let controlPlane: ArmControlPlane;
let plane: ArmServerGroupPlane;

function world(): WorldSpecInput {
  return {
    ...defaultWorldSpec(),
    throttling: { enabled: false },
    timings: {
      asyncRetryAfterSeconds: 0,
      roleSwitchSeconds: 30,
      forcedSwitchSeconds: 15,
      roleFlipSkewSeconds: 2,
      plannedFailoverTimeoutSeconds: 120,
      sqlScaleSeconds: 300,
    },
  };
}

before(async () => {
  emulator = await startEmulator({ world: world(), clock });
  controlPlane = new ArmControlPlane({
    credential: new EmulatorCredential(),
    endpoint: emulator.armEndpoint,
    requestTimeoutMs: 2_000,
    coalescing: false,
  });
  plane = new ArmServerGroupPlane(controlPlane, { endpoint: emulator.armEndpoint });
});
after(async () => emulator?.close());
beforeEach(() => {
  emulator.world.load(world());
  emulator.arm.faults.remove();
});

const advance = (ms: number) => {
  clock.advance(ms);
  emulator.world.advance();
};
const group = (): GroupIdentity => ({
  subscriptionId: emulator.world.spec.subscriptionId,
  resourceGroup: RG,
  name: 'fog-orders',
  kind: 'sqlDatabase',
  servers: { eastus: EAST, westus: WEST },
});
const serverId = (name: string) => logicalServerId(emulator.world.spec.subscriptionId, RG, name);
const groupAt = (server: string) => serverFailoverGroupId(group(), server);

async function armError(work: Promise<unknown>): Promise<ArmRequestError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ArmRequestError, `expected an ArmRequestError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

describe('ArmServerGroupPlane against the emulator', () => {
  it('agrees with the emulator on what every failover-group api-version offers', () => {
    for (const version of FAILOVER_GROUPS.versions) {
      const api = serverGroupApiOf(version);
      assert.equal(
        api.tryPlannedBeforeForcedFailover,
        TRY_PLANNED_BEFORE_FORCED_FAILOVER.versions.has(version),
        version,
      );
      assert.equal(api.multipleSecondaries, MULTI_PARTNER_FAILOVER_GROUP_VERSIONS.has(version), version);
    }
  });

  it('reads the group at each of its servers from that side, the two answers agreeing on the roles', async () => {
    const east = (await plane.getServerFailoverGroup(group(), EAST)).value;
    const west = (await plane.getServerFailoverGroup(group(), WEST)).value;
    assert.equal(east.id, groupAt(EAST));
    assert.equal(east.location, 'eastus');
    assert.equal(east.replicationRole, 'Primary');
    assert.equal(east.partnerLocation, 'westus');
    assert.equal(east.partnerManagedInstanceId, groupAt(WEST));
    assert.equal(west.replicationRole, 'Secondary');
    assert.equal(west.primaryManagedInstanceId, groupAt(EAST));
    assert.equal(west.partnerLocation, 'eastus');
    assert.equal(west.partnerRole, 'Primary');
    assert.equal(west.readWriteFailoverPolicy, 'Manual');
    assert.deepEqual(west.server?.databases, ['orders', 'payments', 'ledger']);
    assert.deepEqual(west.server?.partners, [
      { serverName: EAST, serverId: serverId(EAST), location: 'eastus', role: 'Primary' },
    ]);
    assert.equal(west.server?.readOnlyTargetServerId, serverId(WEST));
    assert.equal(west.server?.apiVersion, '2025-01-01');
    const roles = summarizeGroupRoles([east, west]);
    assert.equal(roles.consistent, true);
    assert.equal(roles.primaryLocation, 'eastus');
  });

  it('reads the group in the shape of an older api-version it is configured with', async () => {
    const older = new ArmServerGroupPlane(controlPlane, {
      endpoint: emulator.armEndpoint,
      apiVersion: '2020-11-01-preview',
    });
    const west = (await older.getServerFailoverGroup(group(), WEST)).value;
    assert.equal(west.replicationRole, 'Secondary');
    assert.equal(west.server?.readOnlyTargetServerId, undefined);
    assert.equal(west.server?.apiVersion, '2020-11-01-preview');
  });

  it('fails over as planned at the secondary, following the operation until the roles switched', async () => {
    const { value } = await plane.beginServerFailover(group(), WEST, 'failover');
    assert.match(value.trackingId ?? '', /^async:http:\/\/.*failoverGroupAzureAsyncOperation/);
    assert.equal((await plane.getServerFailoverProgress(group(), value.trackingId!)).value.state, 'InProgress');
    advance(32_000);
    assert.equal((await plane.getServerFailoverProgress(group(), value.trackingId!)).value.state, 'Succeeded');
    assert.equal((await plane.getServerFailoverGroup(group(), WEST)).value.replicationRole, 'Primary');
    const east = (await plane.getServerFailoverGroup(group(), EAST)).value;
    assert.equal(east.replicationRole, 'Secondary');
    assert.equal(east.primaryManagedInstanceId, groupAt(WEST));
  });

  it('runs tryPlannedBeforeForcedFailover as a forced failover when the primary region is dark', async () => {
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 0 });
    const { value } = await plane.beginServerFailover(group(), WEST, 'tryPlannedBeforeForcedFailover');
    assert.ok(value.trackingId);
    advance(120_000);
    assert.equal((await plane.getServerFailoverProgress(group(), value.trackingId)).value.state, 'InProgress');
    advance(17_000);
    assert.equal((await plane.getServerFailoverProgress(group(), value.trackingId)).value.state, 'Succeeded');
    assert.equal((await plane.getServerFailoverGroup(group(), WEST)).value.replicationRole, 'Primary');
  });

  it('forces a failover at once with forceFailoverAllowDataLoss', async () => {
    const { value } = await plane.beginServerFailover(group(), WEST, 'forceFailoverAllowDataLoss');
    advance(17_000);
    assert.equal((await plane.getServerFailoverProgress(group(), value.trackingId!)).value.state, 'Succeeded');
    assert.equal((await plane.getServerFailoverGroup(group(), WEST)).value.replicationRole, 'Primary');
  });

  it("reads a failover that failed in Azure as Failed with ARM's code", async () => {
    emulator.arm.addFault({ kind: 'failover-fails', group: 'fog-orders' });
    const { value } = await plane.beginServerFailover(group(), WEST, 'failover');
    advance(15_000);
    const progress = (await plane.getServerFailoverProgress(group(), value.trackingId!)).value;
    assert.equal(progress.state, 'Failed');
    assert.equal(progress.error?.code, 'PlannedFailoverTimedOut');
    assert.equal((await plane.getServerFailoverGroup(group(), EAST)).value.replicationRole, 'Primary');
  });

  it("throws ARM's refusals of a failover at the primary and of a group the server does not have", async () => {
    const planned = await armError(plane.beginServerFailover(group(), EAST, 'failover'));
    assert.deepEqual(
      [planned.statusCode, planned.code, planned.delivery],
      [400, 'FailoverGroupFailoverRequestOnPrimary', 'answered'],
    );
    const forced = await armError(plane.beginServerFailover(group(), EAST, 'forceFailoverAllowDataLoss'));
    assert.equal(forced.code, 'FailoverGroupNotSecondary');
    const missing = await armError(plane.getServerFailoverGroup({ ...group(), name: 'nope' }, EAST));
    assert.deepEqual([missing.statusCode, missing.code], [404, 'ResourceNotFound']);
  });

  it('lists the user databases and elastic pools of a server, and reads the server', async () => {
    const databases = (await plane.listServerDatabases(serverId(EAST))).value;
    assert.deepEqual(
      databases.map((database) => database.name),
      ['orders', 'payments', 'ledger'],
    );
    const orders = databases[0]!;
    assert.deepEqual(orders.sku, { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 4, family: 'Gen5' });
    assert.equal(orders.currentServiceObjectiveName, 'GP_Gen5_4');
    assert.equal(orders.serverName, EAST);
    assert.equal(databases[1]?.elasticPoolId, `${serverId(EAST)}/elasticPools/orders-pool`);
    const copies = (await plane.listServerDatabases(serverId(WEST))).value;
    assert.equal(copies[0]?.secondaryType, 'Geo');
    const pools = (await plane.listElasticPools(serverId(EAST))).value;
    assert.deepEqual(
      pools.map((pool) => [pool.name, pool.sku.tier, pool.sku.capacity, pool.state]),
      [['orders-pool', 'GeneralPurpose', 4, 'Ready']],
    );
    const server = (await plane.getLogicalServer(serverId(WEST))).value;
    assert.deepEqual(
      [server.location, server.fullyQualifiedDomainName, server.state],
      ['westus', `${WEST}.database.windows.net`, 'Ready'],
    );
  });

  it("scales the secondary's database and then its pool, each followed to its end through its operation", async () => {
    const database = `${serverId(WEST)}/databases/orders`;
    const bigger = { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 8 };
    const { value } = await plane.beginUpdateSku(database, bigger);
    assert.match(value.trackingId, /^(async|location):/);
    assert.equal((await plane.getSqlOperationProgress(database, value.trackingId)).value.state, 'InProgress');
    const [running] = (await plane.listSqlOperations(database)).value;
    assert.equal(running?.state, 'InProgress');
    assert.equal(running?.operation, 'UpdateLogicalDatabase');
    const busy = await armError(plane.beginUpdateSku(database, bigger));
    assert.equal(busy.statusCode, 409);
    advance(5 * 60_000);
    assert.equal((await plane.getSqlOperationProgress(database, value.trackingId)).value.state, 'Succeeded');
    const scaled = (await plane.listServerDatabases(serverId(WEST))).value.find((entry) => entry.name === 'orders');
    assert.equal(scaled?.sku.capacity, 8);

    const pool = `${serverId(WEST)}/elasticPools/orders-pool`;
    const resized = await plane.beginUpdateSku(pool, {
      name: 'GP_Gen5',
      tier: 'GeneralPurpose',
      family: 'Gen5',
      capacity: 8,
    });
    assert.equal((await plane.listSqlOperations(pool)).value[0]?.state, 'InProgress');
    advance(5 * 60_000);
    assert.equal((await plane.getSqlOperationProgress(pool, resized.value.trackingId)).value.state, 'Succeeded');
    assert.equal((await plane.listElasticPools(serverId(WEST))).value[0]?.sku.capacity, 8);
  });
});
