/**
 * Azure SQL Database logical servers, their databases and elastic pools: their making from a world description, and
 * the scale of a database or a pool (a PATCH of its SKU), long-running, with Azure's refusals.
 *
 * Sources:
 * - spec Databases.json / ElasticPools.json (2022-08-01-preview, 2021-08-01-preview: what @azure/arm-sql 10 sends),
 *   the Databases_Update and ElasticPools_Update error lists: `ConflictingDatabaseOperation`,
 *   `UpdateNotAllowedIfGeoDrOperationInProgress`, `SimultaneousSkuChangeNotAllowed`,
 *   `UnableToAlterDatabaseInReplication`, `ResourcePoolNotFound`, `ElasticPoolTierCombinationInvalid`, `InvalidSku`;
 * - Learn "Active geo-replication", "Configure secondary database" and "Scale a geo-replicated database"
 *   (https://learn.microsoft.com/en-us/azure/azure-sql/database/active-geo-replication-overview): the secondary
 *   must have the primary's service tier (`az sql db replica create`: "The secondary database must have the same
 *   edition as the primary database"); when upgrading, upgrade the secondaries first, when downgrading, the primary
 *   first — a recommendation for a compute size, enforced for a service tier. The emulator refuses the tier change
 *   that breaks the order with `UnableToAlterDatabaseInReplication` ("User altered edition on a database in a
 *   replication relationship"; the code's choice is inferred). A secondary given less compute falls behind
 *   (./sql-replication.ts `redoMsPerCommit`).
 */
import { normalizeLocation } from '../../domain/locations';
import type { SqlServerSpec, WorldSpec } from '../world-spec';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { displayLocation } from './regions';
import { databaseFromSpec } from './replication';
import { copyOn } from './sql-replication';
import {
  sameId,
  sqlServerResourceId,
  type ElasticPoolState,
  type SqlDatabaseState,
  type SqlScaleOperation,
  type SqlServerState,
  type SqlSku,
} from './sql-state';
import { EmulatedArmError, type AsyncOperation } from './state';

const GB = 1024 ** 3;

/** The service tiers, lowest first: a tier's rank orders an upgrade from a downgrade. */
const TIER_RANK: Record<string, number> = {
  basic: 0,
  standard: 1,
  premium: 2,
  generalpurpose: 1,
  businesscritical: 2,
  hyperscale: 3,
};

/** The default SKU of a database that declares none: General Purpose, standard-series, 2 vCores. */
const DEFAULT_SKU: SqlSku = { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 2, family: 'Gen5' };

/** A server as the world description declares it, with its databases and pools, made at `now`. */
export function sqlServerFromSpec(server: SqlServerSpec, spec: WorldSpec, now: number): SqlServerState {
  const subscriptionId = server.subscriptionId ?? spec.subscriptionId;
  const id = sqlServerResourceId(subscriptionId, server.resourceGroup, server.name);
  const elasticPools: ElasticPoolState[] = server.elasticPools.map((pool) => ({
    name: pool.name,
    serverId: id,
    sku: { ...pool.sku },
    perDatabaseSettings: { ...pool.perDatabaseSettings },
    maxSizeBytes: pool.maxSizeGB * GB,
    zoneRedundant: pool.zoneRedundant,
    createdAt: now,
  }));
  const databases = server.databases.map((database): SqlDatabaseState => {
    const pool = database.elasticPool
      ? elasticPools.find((entry) => sameId(entry.name, database.elasticPool!))
      : undefined;
    if (database.elasticPool && !pool)
      throw new Error(
        `sqlServers ${server.name}: database ${database.name} names elastic pool ${database.elasticPool}, which the server does not have`,
      );
    return {
      name: database.name,
      serverId: id,
      sku: pool ? pooledSku(pool) : { ...(database.sku ?? DEFAULT_SKU) },
      elasticPoolName: pool?.name,
      maxSizeBytes: database.maxSizeGB * GB,
      sizeGB: database.sizeGB,
      zoneRedundant: database.zoneRedundant,
      backupStorageRedundancy: database.backupStorageRedundancy,
      collation: 'SQL_Latin1_General_CP1_CI_AS',
      createdAt: now,
      data: databaseFromSpec(database, spec),
    };
  });
  return {
    id,
    subscriptionId,
    resourceGroup: server.resourceGroup,
    name: server.name,
    location: normalizeLocation(server.location),
    displayLocation: displayLocation(server.location),
    fullyQualifiedDomainName: `${server.name}.database.windows.net`,
    administratorLogin: server.administratorLogin,
    version: '12.0',
    state: 'Ready',
    createdAt: now,
    logins: server.logins.map((login) => ({ ...login })),
    databases,
    elasticPools,
  };
}

/** A pooled database's SKU, as Azure reports it: `ElasticPool`, the pool's tier (and capacity: none of its own). */
export function pooledSku(pool: ElasticPoolState): SqlSku {
  return { name: 'ElasticPool', tier: pool.sku.tier, capacity: 0 };
}

/** The service objective Azure names for a SKU (`GP_Gen5_2`, `S3`, `ElasticPool`). */
export function serviceObjectiveOf(sku: SqlSku): string {
  if (sku.name === 'ElasticPool') return 'ElasticPool';
  if (sku.family) return `${sku.name}_${sku.capacity}`;
  return sku.name;
}

/** What a PATCH of a database may change (`sku`, `elasticPoolId`, `maxSizeBytes`). */
export interface SqlDatabaseUpdate {
  sku?: Partial<SqlSku>;
  /** A pool's name to move into, or null to move out. */
  elasticPoolName?: string | null;
  maxSizeBytes?: number;
}

/** What a PATCH of an elastic pool may change. */
export interface ElasticPoolUpdate {
  sku?: Partial<SqlSku>;
  perDatabaseSettings?: { minCapacity?: number; maxCapacity?: number };
  maxSizeBytes?: number;
}

/** Whether the scale still runs. */
export function isScaling(operation: SqlScaleOperation): boolean {
  return operation.state === 'Pending' || operation.state === 'InProgress';
}

/** The running scale of the database (or pool) `name` on `serverId`. */
export function runningScale(
  world: WorldContext,
  kind: SqlScaleOperation['kind'],
  serverId: string,
  name: string,
): SqlScaleOperation | undefined {
  return world.sqlOperations.find(
    (operation) =>
      isScaling(operation) &&
      operation.kind === kind &&
      sameId(operation.serverId, serverId) &&
      sameId(operation.name, name),
  );
}

/** The failover groups the database (its name on its server) is a member of. */
export function groupsOfDatabase(world: WorldContext, database: SqlDatabaseState) {
  return [...world.sqlFailoverGroups.values()].filter(
    (group) =>
      group.serverIds.some((id) => sameId(id, database.serverId)) &&
      group.databases.some((name) => sameId(name, database.name)),
  );
}

function refuseInvalidSku(sku: SqlSku): void {
  if (TIER_RANK[sku.tier.toLowerCase()] === undefined || !(sku.capacity >= 0) || sku.name.trim() === '')
    throw new EmulatedArmError(400, 'InvalidSku', `The user specified an invalid sku: ${JSON.stringify(sku)}.`);
}

/**
 * The geo-replication order rule for a tier change of `database` to `tier`: a primary may not go above a secondary's
 * tier (upgrade the secondaries first), a secondary may not go below its primary's (downgrade the primary first).
 * Another scale on a copy of the same database refuses it too.
 */
function refuseAgainstPartners(world: WorldContext, database: SqlDatabaseState, tier: string): void {
  const replication = database.replication;
  if (!replication) return;
  const rank = TIER_RANK[tier.toLowerCase()] ?? 0;
  const isPrimary = sameId(replication.primaryServerId, database.serverId);
  const copies = [replication.primaryServerId, ...replication.partners.map((link) => link.serverId)]
    .filter((id) => !sameId(id, database.serverId))
    .flatMap((id) => {
      const copy = copyOn(world, replication, id);
      return copy ? [copy] : [];
    });
  for (const copy of copies) {
    if (runningScale(world, 'database', copy.serverId, copy.name) || poolScaleOf(world, copy))
      throw new EmulatedArmError(
        409,
        'SimultaneousSkuChangeNotAllowed',
        `Service objective change operations cannot run on both databases of a replication relationship at the same time: ${copy.name} on ${serverName(world, copy.serverId)} is being scaled.`,
      );
  }
  for (const copy of copies) {
    const copyRank = TIER_RANK[copy.sku.tier.toLowerCase()] ?? 0;
    const copyIsPrimary = sameId(replication.primaryServerId, copy.serverId);
    if (isPrimary && rank > copyRank)
      throw new EmulatedArmError(
        409,
        'UnableToAlterDatabaseInReplication',
        `User altered edition on a database in a replication relationship: upgrade the geo-secondary ${copy.name} on ${serverName(world, copy.serverId)} (${copy.sku.tier}) to ${tier} first, then the primary.`,
      );
    if (!isPrimary && copyIsPrimary && rank < copyRank)
      throw new EmulatedArmError(
        409,
        'UnableToAlterDatabaseInReplication',
        `User altered edition on a database in a replication relationship: downgrade the primary ${copy.name} on ${serverName(world, copy.serverId)} (${copy.sku.tier}) to ${tier} first, then the geo-secondary.`,
      );
  }
}

const serverName = (world: WorldContext, id: string) => world.sqlServers.get(id.toLowerCase())?.name ?? id;

/** The running scale of the pool the database is in. */
function poolScaleOf(world: WorldContext, database: SqlDatabaseState): SqlScaleOperation | undefined {
  return database.elasticPoolName
    ? runningScale(world, 'elasticPool', database.serverId, database.elasticPoolName)
    : undefined;
}

/** Refuses a scale while a failover of a group the database is in runs. */
function refuseDuringFailover(world: WorldContext, database: SqlDatabaseState, server: SqlServerState): void {
  if (groupsOfDatabase(world, database).some((group) => group.failover))
    throw new EmulatedArmError(
      400,
      'UpdateNotAllowedIfGeoDrOperationInProgress',
      `The operation is disallowed because copy or failover operation for database '${database.name}' on server '${server.name}' is currently in progress.`,
    );
}

/**
 * PATCH of a database's SKU, pool or max size: long-running when the SKU or pool changes (undefined when nothing
 * changes but the size, which applies at once). Refused as Azure refuses (see the module comment).
 */
export function requestDatabaseScale(
  world: WorldContext,
  server: SqlServerState,
  database: SqlDatabaseState,
  update: SqlDatabaseUpdate,
): AsyncOperation | undefined {
  world.advance();
  if (runningScale(world, 'database', server.id, database.name) || poolScaleOf(world, database))
    throw new EmulatedArmError(
      409,
      'ConflictingDatabaseOperation',
      'There is already some operation on the database and the current operation should wait till it is done.',
    );
  refuseDuringFailover(world, database, server);
  let pool: ElasticPoolState | undefined;
  let requestedPool: string | null | undefined;
  if (update.elasticPoolName !== undefined && update.elasticPoolName !== null) {
    pool = server.elasticPools.find((entry) => sameId(entry.name, update.elasticPoolName!));
    if (!pool)
      throw new EmulatedArmError(
        400,
        'ResourcePoolNotFound',
        `Specified elastic pool '${update.elasticPoolName}' does not exist in the specified logical server '${server.name}'.`,
      );
    if (update.sku?.tier !== undefined && !sameId(update.sku.tier, pool.sku.tier))
      throw new EmulatedArmError(
        400,
        'ElasticPoolTierCombinationInvalid',
        `The database tier ${update.sku.tier} is different than the elastic pool service tier ${pool.sku.tier}.`,
      );
    if (!sameId(pool.name, database.elasticPoolName ?? '')) requestedPool = pool.name;
  } else if (update.elasticPoolName === null && database.elasticPoolName !== undefined) {
    requestedPool = null;
  }
  const current = { ...database.sku };
  let requested: SqlSku;
  if (pool) requested = pooledSku(pool);
  else if (requestedPool === null || (update.sku && update.sku.name !== 'ElasticPool' && database.elasticPoolName)) {
    // Out of a pool: the SKU sent, or General Purpose at the pool's per-database maximum.
    requested = { ...DEFAULT_SKU, ...update.sku };
    requestedPool = null;
  } else requested = { ...database.sku, ...update.sku };
  if (update.sku?.name && update.sku.capacity === undefined && /_(\d+)$/.test(update.sku.name)) {
    // A service objective name carries the capacity (`GP_Gen5_8`).
    const [, capacity] = /_(\d+)$/.exec(update.sku.name)!;
    requested = { ...requested, name: update.sku.name.replace(/_\d+$/, ''), capacity: Number(capacity) };
  }
  refuseInvalidSku(requested);
  if (!sameId(requested.tier, database.sku.tier)) refuseAgainstPartners(world, database, requested.tier);
  else if (database.replication) refuseSimultaneous(world, database);
  if (update.maxSizeBytes !== undefined) database.maxSizeBytes = update.maxSizeBytes;
  if (JSON.stringify(requested) === JSON.stringify(current) && requestedPool === undefined) return undefined;
  return startScale(world, server, 'database', database.name, current, requested, requestedPool);
}

/** Two copies of one database are not scaled at once. */
function refuseSimultaneous(world: WorldContext, database: SqlDatabaseState): void {
  refuseAgainstPartners(world, database, database.sku.tier);
}

/** PATCH of an elastic pool's SKU, per-database settings or max size. */
export function requestPoolScale(
  world: WorldContext,
  server: SqlServerState,
  pool: ElasticPoolState,
  update: ElasticPoolUpdate,
): AsyncOperation | undefined {
  world.advance();
  const members = server.databases.filter((database) => sameId(database.elasticPoolName ?? '', pool.name));
  if (
    runningScale(world, 'elasticPool', server.id, pool.name) ||
    members.some((database) => runningScale(world, 'database', server.id, database.name))
  )
    throw new EmulatedArmError(
      409,
      'UpdateSloInProgress',
      'User tried to initiate an incompatible operation while a SLO update was in progress.',
    );
  for (const database of members) refuseDuringFailover(world, database, server);
  const current = { ...pool.sku };
  let requested = { ...pool.sku, ...update.sku };
  if (update.sku?.name && update.sku.capacity === undefined && /_(\d+)$/.test(update.sku.name)) {
    const [, capacity] = /_(\d+)$/.exec(update.sku.name)!;
    requested = { ...requested, name: update.sku.name.replace(/_\d+$/, ''), capacity: Number(capacity) };
  }
  refuseInvalidSku(requested);
  for (const database of members) refuseAgainstPartners(world, database, requested.tier);
  if (update.perDatabaseSettings) Object.assign(pool.perDatabaseSettings, update.perDatabaseSettings);
  if (update.maxSizeBytes !== undefined) pool.maxSizeBytes = update.maxSizeBytes;
  if (JSON.stringify(requested) === JSON.stringify(current)) return undefined;
  return startScale(world, server, 'elasticPool', pool.name, current, requested, undefined);
}

function startScale(
  world: WorldContext,
  server: SqlServerState,
  kind: SqlScaleOperation['kind'],
  name: string,
  current: SqlSku,
  requested: SqlSku,
  requestedPool: string | null | undefined,
): AsyncOperation {
  const now = world.now();
  const asyncOperation = startAsyncOperation(
    world,
    'sql-scale',
    server.subscriptionId,
    server.location,
    kind === 'database'
      ? { type: 'sql-database', serverId: server.id, databaseName: name }
      : { type: 'sql-elastic-pool', serverId: server.id, poolName: name },
  );
  const operation: SqlScaleOperation = {
    id: asyncOperation.id,
    kind,
    serverId: server.id,
    name,
    asyncOperationId: asyncOperation.id,
    state: 'InProgress',
    startedAt: now,
    endsAt: now + world.timings.sqlScaleSeconds * 1000,
    current,
    requested,
    ...(requestedPool !== undefined ? { requestedPool } : {}),
    fails: takeSqlOperationFault(world, server, name),
  };
  world.sqlOperations.push(operation);
  world.record('sql-scale-requested', {
    instance: server.name,
    detail: {
      kind,
      name,
      from: current,
      to: requested,
      ...(requestedPool !== undefined ? { pool: requestedPool } : {}),
    },
  });
  return asyncOperation;
}

/** Fault `operation-fails` names an instance; for SQL it names a server, a database or `<server>/<name>`. */
function takeSqlOperationFault(world: WorldContext, server: SqlServerState, name: string) {
  const faults = world.faults.operationFails;
  for (const key of [`${server.name}/${name}`.toLowerCase(), name.toLowerCase(), server.name.toLowerCase()]) {
    const fails = faults.get(key);
    if (fails) {
      faults.delete(key);
      return fails;
    }
  }
  return undefined;
}

/** Ends the scales that are due: the new SKU (and pool) applies, or an armed failure leaves the old one. */
export function advanceSqlOperations(world: WorldContext, now: number): void {
  for (const operation of world.sqlOperations) {
    if (!isScaling(operation) || now < operation.endsAt) continue;
    const server = world.sqlServers.get(operation.serverId.toLowerCase());
    const asyncOperation = world.asyncOperations.get(operation.asyncOperationId);
    if (operation.fails || !server) {
      operation.state = 'Failed';
      operation.error = operation.fails ?? { code: 'ResourceNotFound', message: 'The server is gone.' };
      if (asyncOperation)
        Object.assign(asyncOperation, { status: 'Failed', endTime: operation.endsAt, error: operation.error });
      world.record('sql-scale-failed', { instance: server?.name, detail: { name: operation.name } }, operation.endsAt);
      continue;
    }
    operation.state = 'Succeeded';
    if (operation.kind === 'database') {
      const database = server.databases.find((entry) => sameId(entry.name, operation.name));
      if (database) {
        database.sku = { ...operation.requested };
        if (operation.requestedPool === null) database.elasticPoolName = undefined;
        else if (operation.requestedPool !== undefined) database.elasticPoolName = operation.requestedPool;
      }
    } else {
      const pool = server.elasticPools.find((entry) => sameId(entry.name, operation.name));
      if (pool) {
        pool.sku = { ...operation.requested };
        for (const database of server.databases)
          if (sameId(database.elasticPoolName ?? '', pool.name)) database.sku = pooledSku(pool);
      }
    }
    if (asyncOperation) Object.assign(asyncOperation, { status: 'Succeeded', endTime: operation.endsAt });
    world.record(
      'sql-scale-completed',
      { instance: server.name, detail: { kind: operation.kind, name: operation.name, sku: operation.requested } },
      operation.endsAt,
    );
    world.emit('change', 'operation-ended', operation);
  }
}

/** A new database id for a server and a name (what a failover group's `databases[]` holds). */
export function sqlDatabaseId(server: SqlServerState, name: string): string {
  return `${server.id}/databases/${name}`;
}
