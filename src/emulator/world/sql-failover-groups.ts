/**
 * Azure SQL Database server failover groups (`servers/{server}/failoverGroups/{name}`): a primary server, one or more
 * partner servers, and member databases each geo-replicated to every partner. Their making (world description, PUT,
 * PATCH of membership and policies), deletion, and failovers — planned (`failover`), forced
 * (`forceFailoverAllowDataLoss`) and `tryPlannedBeforeForcedFailover` — with the refusals of the REST spec's error
 * list and the course of ./failovers.ts (the listener moves when a failover is accepted, roles switch after
 * `roleSwitchSeconds` or `forcedSwitchSeconds`, the old primary claims Primary for `roleFlipSkewSeconds`).
 *
 * Sources: spec FailoverGroups.json (2020-11-01-preview, what @azure/arm-sql 10 sends, to 2025-01-01): the
 * definitions (FailoverGroupProperties, PartnerInfo, FailoverGroupReadOnlyEndpoint.targetServer from
 * 2023-02-01-preview, secondaryType from 2023-08-01-preview) and the "Error Responses" list; examples FailoverGroupGet,
 * FailoverGroupUpdate (2025-01-01). PowerShell Remove-AzSqlDatabaseFromFailoverGroup and
 * Remove-AzSqlDatabaseFailoverGroup (Learn): removing a database, or the group, leaves the databases and their
 * replication intact. Learn "Active geo-replication": up to four secondaries; the other secondaries follow the new
 * primary after a failover.
 *
 * Inferred (no public source states it): `tryPlannedBeforeForcedFailover` spends up to
 * `plannedFailoverTimeoutSeconds` on its planned part before it forces; creation takes at least `groupCreateSeconds`
 * and seeds each member to each partner one after another; a DELETE completes at once.
 */
import { randomUUID } from 'node:crypto';
import type { SqlFailoverGroupSpec, WorldSpec } from '../world-spec';
import { completedAsyncOperation, startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { takeFailoverFault } from './faults';
import { failoverCountersOf } from './invariants';
import { addPartner, databaseOn, hardenOnBy, isPartnerSeeded, partnerLink, switchPrimary } from './sql-replication';
import { isScaling, pooledSku } from './sql-servers';
import {
  sameId,
  sqlGroupKey,
  type SqlDatabaseState,
  type SqlFailoverGroupState,
  type SqlGeoReplication,
  type SqlServerState,
} from './sql-state';
import { EmulatedArmError, type AsyncOperation } from './state';

/** Active geo-replication allows up to four secondaries per database. */
export const MAX_PARTNERS = 4;

const serverOf = (world: WorldContext, id: string) => world.sqlServers.get(id.toLowerCase());

/** A server by name in a subscription (server names are unique in Azure: they are DNS names). */
export function sqlServerByName(world: WorldContext, subscriptionId: string, name: string): SqlServerState | undefined {
  return [...world.sqlServers.values()].find(
    (server) => sameId(server.subscriptionId, subscriptionId) && sameId(server.name, name),
  );
}

/** The primary's database and its geo-replication (made on first use). */
function replicationOf(world: WorldContext, database: SqlDatabaseState): SqlGeoReplication {
  if (!database.replication) {
    database.replication = {
      name: database.name,
      primaryServerId: database.serverId,
      data: database.data,
      partners: [],
    };
  }
  return database.replication;
}

/**
 * The copy of the primary's database on a partner: the one the partner declares (it keeps its SKU), or one made like
 * the primary's (in the partner's pool of the same name when it has one). Refused when the partner has a database of
 * that name that is not a copy of this one.
 */
function copyFor(
  world: WorldContext,
  replication: SqlGeoReplication,
  primary: SqlDatabaseState,
  partner: SqlServerState,
  fromSpec: boolean,
): SqlDatabaseState {
  const existing = partner.databases.find((database) => sameId(database.name, primary.name));
  if (existing) {
    if (existing.replication === replication) return existing;
    if (!fromSpec || existing.replication)
      throw new EmulatedArmError(
        409,
        'RemoteDatabaseExists',
        `The destination database name '${primary.name}' already exists on the destination server '${partner.name}'.`,
      );
    existing.replication = replication;
    existing.data = replication.data;
    return existing;
  }
  const pool = primary.elasticPoolName
    ? partner.elasticPools.find((entry) => sameId(entry.name, primary.elasticPoolName!))
    : undefined;
  const primaryPool = primary.elasticPoolName
    ? serverOf(world, primary.serverId)?.elasticPools.find((entry) => sameId(entry.name, primary.elasticPoolName!))
    : undefined;
  const copy: SqlDatabaseState = {
    ...primary,
    serverId: partner.id,
    sku: pool
      ? pooledSku(pool)
      : primaryPool
        ? {
            name: 'GP_Gen5',
            tier: primaryPool.sku.tier,
            capacity: primaryPool.perDatabaseSettings.maxCapacity,
            family: 'Gen5',
          }
        : { ...primary.sku },
    elasticPoolName: pool?.name,
    createdAt: world.now(),
    data: replication.data,
    replication,
  };
  partner.databases.push(copy);
  return copy;
}

/** A group as the world description declares it: its servers and databases must be in the world. */
export function sqlGroupFromSpec(
  world: WorldContext,
  group: SqlFailoverGroupSpec,
  spec: WorldSpec,
  now: number,
): SqlFailoverGroupState {
  const subscriptionId = group.subscriptionId ?? spec.subscriptionId;
  const find = (name: string) => {
    const server = sqlServerByName(world, subscriptionId, name);
    if (!server) throw new Error(`sqlFailoverGroups ${group.name}: server ${name} is not in sqlServers`);
    return server;
  };
  const primary = find(group.primaryServer);
  const partners = group.partnerServers.map(find);
  const locations = new Set([primary, ...partners].map((server) => server.location));
  if (locations.size !== partners.length + 1)
    throw new Error(`sqlFailoverGroups ${group.name}: its servers must be in different regions`);
  if (group.secondaryType === 'Standby' && partners.length > 1)
    throw new Error(`sqlFailoverGroups ${group.name}: a Standby group has one partner server`);
  const members = group.databases.map((name) => {
    const database = primary.databases.find((entry) => sameId(entry.name, name));
    if (!database) throw new Error(`sqlFailoverGroups ${group.name}: database ${name} is not on ${primary.name}`);
    return database;
  });
  const seedingUntil = group.seedingSeconds > 0 ? now + group.seedingSeconds * 1000 : undefined;
  for (const database of members) {
    const replication = replicationOf(world, database);
    for (const partner of partners) {
      copyFor(world, replication, database, partner, true);
      if (partnerLink(replication, partner.id)) continue;
      replication.partners.push({
        serverId: partner.id,
        linkId: randomUUID(),
        startedAt: now,
        ...(seedingUntil !== undefined
          ? { seeding: { startsAt: now, endsAt: seedingUntil, bytes: Math.round(database.sizeGB * 1024 ** 3) } }
          : {}),
      });
    }
  }
  const target = group.readOnlyTargetServer ? find(group.readOnlyTargetServer) : undefined;
  if (target && !partners.includes(target))
    throw new Error(`sqlFailoverGroups ${group.name}: readOnlyTargetServer must be one of partnerServers`);
  return {
    key: sqlGroupKey(subscriptionId, group.name),
    subscriptionId,
    name: group.name,
    serverIds: [primary.id, ...partners.map((server) => server.id)],
    primaryServerId: primary.id,
    databases: members.map((database) => database.name),
    readWriteFailoverPolicy: group.readWriteFailoverPolicy,
    gracePeriodMinutes: group.readWriteFailoverPolicy === 'Automatic' ? (group.gracePeriodMinutes ?? 60) : undefined,
    readOnlyFailoverPolicy: group.readOnlyFailoverPolicy,
    readOnlyTargetServerId: target?.id,
    secondaryType: group.secondaryType,
  };
}

/** The group of that name at `server`, if the server is one of its servers. */
export function sqlGroupAt(world: WorldContext, server: SqlServerState, name: string) {
  const group = world.sqlFailoverGroups.get(sqlGroupKey(server.subscriptionId, name));
  return group && group.serverIds.some((id) => sameId(id, server.id)) ? group : undefined;
}

/** The groups `server` is one of the servers of. */
export function sqlGroupsAt(world: WorldContext, server: SqlServerState): SqlFailoverGroupState[] {
  return [...world.sqlFailoverGroups.values()].filter((group) => group.serverIds.some((id) => sameId(id, server.id)));
}

/** The group's member databases on its primary. */
export function memberDatabases(world: WorldContext, group: SqlFailoverGroupState): SqlDatabaseState[] {
  const primary = serverOf(world, group.primaryServerId);
  return group.databases.flatMap((name) => {
    const database = primary?.databases.find((entry) => sameId(entry.name, name));
    return database ? [database] : [];
  });
}

/** The group's partners (secondaries) now. */
export function secondaryServerIds(group: SqlFailoverGroupState): string[] {
  return group.serverIds.filter((id) => !sameId(id, group.primaryServerId));
}

/** Whether some member is still being seeded to some partner (`SEEDING`; a failover is refused meanwhile). */
export function isSqlGroupSeeding(
  world: WorldContext,
  group: SqlFailoverGroupState,
  now: number,
  to?: string,
): boolean {
  return memberDatabases(world, group).some((database) =>
    (database.replication?.partners ?? []).some(
      (link) =>
        (to === undefined || sameId(link.serverId, to)) &&
        group.serverIds.some((id) => sameId(id, link.serverId)) &&
        !isPartnerSeeded(link, now),
    ),
  );
}

/** The role ARM reports at `serverId` (the old primary claims Primary for `roleFlipSkewSeconds` after a switch). */
export function sqlReportedRole(group: SqlFailoverGroupState, serverId: string, now: number): 'Primary' | 'Secondary' {
  if (sameId(serverId, group.primaryServerId)) return 'Primary';
  if (group.staleClaim && sameId(group.staleClaim.serverId, serverId) && now < group.staleClaim.until) return 'Primary';
  return 'Secondary';
}

/** The `replicationState` ARM reports at a server: `SEEDING` while a member is seeded to it (or, at the primary, to any partner), else `CATCH_UP`. */
export function sqlReportedReplicationState(
  world: WorldContext,
  group: SqlFailoverGroupState,
  serverId: string,
  now: number,
): string {
  const to = sameId(serverId, group.primaryServerId) ? undefined : serverId;
  return isSqlGroupSeeding(world, group, now, to) ? 'SEEDING' : 'CATCH_UP';
}

/** The server the read-write listener `<group>.database.windows.net` points at now. */
export function sqlListenerServerId(group: SqlFailoverGroupState, now: number): string {
  const failover = group.failover;
  return failover?.listenerMovedAt !== undefined && now >= failover.listenerMovedAt
    ? failover.targetServerId
    : group.primaryServerId;
}

/**
 * The server the read-only listener `<group>.secondary.database.windows.net` points at: `targetServer` when set and a
 * secondary, else the first secondary; with the `Enabled` policy, the primary while that secondary's region is dark.
 */
export function sqlReadOnlyServerId(world: WorldContext, group: SqlFailoverGroupState): string {
  const secondaries = secondaryServerIds(group);
  const target =
    (group.readOnlyTargetServerId && secondaries.find((id) => sameId(id, group.readOnlyTargetServerId!))) ??
    secondaries[0] ??
    group.primaryServerId;
  const server = serverOf(world, target);
  if (group.readOnlyFailoverPolicy === 'Enabled' && server && world.isDark(server.location))
    return group.primaryServerId;
  return target;
}

/** What a PUT or a PATCH of a group asks for (what the api-version carries, parsed). */
export interface SqlGroupRequest {
  partnerServerIds?: string[];
  databaseIds?: string[];
  readWrite?: { failoverPolicy?: string; failoverWithDataLossGracePeriodMinutes?: number };
  readOnly?: { failoverPolicy?: string; targetServer?: string };
  secondaryType?: string;
  tags?: Record<string, string>;
  /** The api-version lets a group have more than one partner (and a read-only `targetServer`). */
  multiplePartners: boolean;
  /** PATCH (FailoverGroups_Update): what is absent stays. */
  patch: boolean;
}

const refuse = (status: number, code: string, message: string): never => {
  throw new EmulatedArmError(status, code, message);
};

function checkEndpoints(request: SqlGroupRequest, creating: boolean): void {
  const readWrite = request.readWrite;
  if (!readWrite && creating)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestInvalidReadWriteEndpoint',
      'The readWriteEndpoint field is required for create or update requests.',
    );
  if (!readWrite) return;
  if (!readWrite.failoverPolicy || !['Manual', 'Automatic'].includes(readWrite.failoverPolicy))
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestInvalidReadWriteFailoverPolicy',
      'The failoverPolicy field for the read-write endpoint is required for create or update requests.',
    );
  const grace = readWrite.failoverWithDataLossGracePeriodMinutes;
  if (readWrite.failoverPolicy === 'Automatic' && grace === undefined)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestInvalidReadWriteEndpointFields',
      'The property failoverWithDataLossGracePeriodMinutes must be provided when failover policy Automatic is selected for the read-write endpoint.',
    );
  if (readWrite.failoverPolicy === 'Manual' && grace !== undefined)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestInvalidReadWriteEndpointFieldsForManualPolicy',
      'Grace period value should not be provided when failover policy Manual is selected for the read-write endpoint. Please remove it from request.',
    );
  if (grace !== undefined && grace < 0)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestNegativeGracePeriodValues',
      'Grace period value for the read-write endpoint must be non-negative.',
    );
  if (grace !== undefined && grace < 60)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestLessThanMinimumGracePeriodValues',
      "Grace period value for the failover group must be greater than or equal to the '60' minutes minimum grace period",
    );
}

/** The partner servers a request names, checked (existence, duplicates, subscription, regions, count). */
function partnersOf(world: WorldContext, primary: SqlServerState, request: SqlGroupRequest, secondaryType: string) {
  const ids = request.partnerServerIds ?? [];
  if (ids.length === 0)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestInvalidPartner',
      'The given partners field in create or update failover group request body is empty or invalid. Please provide a valid value of this field.',
    );
  if (ids.length > 1 && !request.multiplePartners)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestUnsupportedPartnerCount',
      `Only one partner server for Failover Group is supported in this api-version; the request names ${ids.length}. Please modify your request accordingly.`,
    );
  if (ids.length > 1 && secondaryType === 'Standby')
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestUnsupportedPartnerCountForStandby',
      'Only one partner server for Failover Group is supported for secondaryType standby. Please modify your request accordingly.',
    );
  if (ids.length > MAX_PARTNERS)
    refuse(
      400,
      'GeoReplicaLimitReached',
      `The per-replica replication limit was reached: at most ${MAX_PARTNERS} partner servers.`,
    );
  const partners = ids.map((id) => {
    const server = serverOf(world, id);
    if (!server) {
      const match = /\/subscriptions\/([^/]+)\//i.exec(id);
      if (match && !sameId(match[1]!, primary.subscriptionId))
        refuse(
          400,
          'FailoverGroupPartnerServerFromDifferentSubscription',
          'Primary server and the partner servers of failover group are from different subscriptions. Cross subscription for servers of failover group is not allowed.',
        );
      return refuse(
        400,
        'FailoverGroupCreateOrUpdateRequestInvalidPartner',
        `The given partner server '${id}' does not exist or is not a valid server resource id.`,
      );
    }
    return server;
  });
  const all = [primary, ...partners];
  if (new Set(all.map((server) => server.id.toLowerCase())).size !== all.length)
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestDuplicatePartner',
      'One or more of the provided partner servers are already part of the failover group. Please make sure the primary server and all of the given partner servers are unique.',
    );
  if (new Set(all.map((server) => server.location)).size !== all.length)
    refuse(
      400,
      'InvalidFailoverGroupRegion',
      'Servers specified in a Failover Group need to reside in different regions to provide isolation.',
    );
  return partners;
}

/** The member databases a request names: ids of the primary's databases. */
function membersOf(world: WorldContext, group: { key?: string }, primary: SqlServerState, ids: string[]) {
  return ids.map((id) => {
    const match =
      /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Sql\/servers\/([^/]+)\/databases\/([^/]+)$/i.exec(
        id,
      );
    if (!match)
      return refuse(
        400,
        'FailoverGroupCreateOrUpdateRequestInvalidDatabases',
        `The provided database id '${id}' is not a properly constructed database resource id.`,
      );
    const database = sameId(match[1]!, primary.name)
      ? primary.databases.find((entry) => sameId(entry.name, match[2]!))
      : undefined;
    if (!database)
      return refuse(
        400,
        'FailoverGroupCreateOrUpdateRequestInvalidDatabaseServer',
        `One or more of the provided databases do not exist on the primary server of the failover group: '${id}'. Please make sure that all the databases exist on the primary server.`,
      );
    const other = [...world.sqlFailoverGroups.values()].find(
      (entry) =>
        entry.key !== group.key &&
        entry.serverIds.some((serverId) => sameId(serverId, primary.id)) &&
        entry.databases.some((name) => sameId(name, database.name)),
    );
    if (other)
      refuse(
        409,
        'DatabaseBelongsToOtherFailoverGroup',
        `Database '${database.name}' belongs to failover group '${other.name}' and cannot be considered a part of this one.`,
      );
    if (database.replication && !sameId(database.replication.primaryServerId, primary.id))
      refuse(
        400,
        'DatabaseInFailoverGroupNotPrimary',
        `GeoDR link for the database '${database.name}' already exists, but its role is not 'Primary'.`,
      );
    return database;
  });
}

/**
 * Adds the members to the group's partners: each database not yet replicated to a partner gets a copy there, seeded
 * one after another from `from`. Returns when the last is seeded.
 */
function seedMembers(
  world: WorldContext,
  group: SqlFailoverGroupState,
  members: SqlDatabaseState[],
  from: number,
): number {
  let at = from;
  for (const database of members) {
    const replication = replicationOf(world, database);
    for (const partnerId of secondaryServerIds(group)) {
      if (partnerLink(replication, partnerId)) continue;
      const partner = serverOf(world, partnerId)!;
      copyFor(world, replication, database, partner, false);
      at = addPartner(world, replication, partner.id, at, database.sizeGB);
    }
  }
  return at;
}

/**
 * PUT (create or update) or PATCH of a group at `server`. A creation makes `server` the primary and is long-running
 * (it ends when every member is seeded to every partner); an update applies at once, its new members seeding after.
 */
export function putSqlGroup(
  world: WorldContext,
  server: SqlServerState,
  name: string,
  request: SqlGroupRequest,
): { group: SqlFailoverGroupState; created: boolean; asyncOperation?: AsyncOperation } {
  world.advance();
  const now = world.now();
  const key = sqlGroupKey(server.subscriptionId, name);
  const existing = world.sqlFailoverGroups.get(key);
  if (existing && !existing.serverIds.some((id) => sameId(id, server.id)))
    refuse(
      409,
      'FailoverGroupAlreadyExists',
      `Failover group '${name}' already exists on another server. Please use a different Failover Group name.`,
    );
  if (!existing && request.patch)
    refuse(404, 'ResourceNotFound', `The failover group '${name}' does not exist on server '${server.name}'.`);
  if (existing) {
    if (!sameId(existing.primaryServerId, server.id))
      refuse(
        400,
        'FailoverGroupUpdateOrDeleteRequestOnSecondary',
        'Modifications to the failover group are not allowed on a secondary server. Execute the request on the primary server.',
      );
    if (existing.failover) refuse(409, 'FailoverGroupBusy', 'Failover Group is busy with another operation.');
  }
  checkEndpoints(request, !existing || !request.patch);
  const secondaryType = (request.secondaryType ?? existing?.secondaryType ?? 'Geo') as 'Geo' | 'Standby';
  const partners =
    request.partnerServerIds !== undefined || !existing
      ? partnersOf(world, server, request, secondaryType)
      : secondaryServerIds(existing).map((id) => serverOf(world, id)!);
  const targetServer = request.readOnly?.targetServer;
  if (targetServer !== undefined && !partners.some((partner) => sameId(partner.id, targetServer)))
    refuse(
      400,
      'FailoverGroupCreateOrUpdateRequestInvalidReadOnlyEndpointTargetServer',
      'The property targetServer of the read-only endpoint must be a valid server present among the partnerServers configured for the failover group.',
    );
  const members =
    request.databaseIds !== undefined
      ? membersOf(world, { key }, server, request.databaseIds)
      : memberDatabases(world, existing!);
  for (const database of members)
    for (const partner of partners) {
      const copy = partner.databases.find((entry) => sameId(entry.name, database.name));
      if (copy && copy.replication !== database.replication)
        refuse(
          409,
          'RemoteDatabaseExists',
          `The destination database name '${database.name}' already exists on the destination server '${partner.name}'.`,
        );
      if (database.replication && copy === undefined && database.replication.partners.length >= MAX_PARTNERS)
        refuse(
          400,
          'GeoReplicaLimitReached',
          `The per-replica replication limit was reached for database '${database.name}'.`,
        );
    }
  const readWrite = request.readWrite;
  const group: SqlFailoverGroupState = existing ?? {
    key,
    subscriptionId: server.subscriptionId,
    name,
    serverIds: [server.id],
    primaryServerId: server.id,
    databases: [],
    readWriteFailoverPolicy: 'Manual',
    readOnlyFailoverPolicy: 'Disabled',
    secondaryType,
  };
  group.serverIds = [server.id, ...partners.map((partner) => partner.id)];
  group.databases = members.map((database) => database.name);
  if (readWrite) {
    group.readWriteFailoverPolicy = readWrite.failoverPolicy as 'Manual' | 'Automatic';
    group.gracePeriodMinutes =
      readWrite.failoverPolicy === 'Automatic' ? readWrite.failoverWithDataLossGracePeriodMinutes : undefined;
  }
  if (request.readOnly?.failoverPolicy === 'Enabled' || request.readOnly?.failoverPolicy === 'Disabled')
    group.readOnlyFailoverPolicy = request.readOnly.failoverPolicy;
  if (targetServer !== undefined) group.readOnlyTargetServerId = serverOf(world, targetServer)!.id;
  else if (
    group.readOnlyTargetServerId &&
    !partners.some((partner) => sameId(partner.id, group.readOnlyTargetServerId!))
  )
    group.readOnlyTargetServerId = undefined;
  group.secondaryType = secondaryType;
  if (request.tags !== undefined) group.tags = request.tags;
  const seededBy = seedMembers(world, group, members, existing ? now : now + world.timings.groupCreateSeconds * 1000);
  if (existing) {
    world.record('sql-group-updated', {
      group: name,
      detail: { databases: group.databases, partners: partners.map((p) => p.name) },
    });
    return { group, created: false };
  }
  world.sqlFailoverGroups.set(key, group);
  const asyncOperation = startAsyncOperation(world, 'sql-group-create', server.subscriptionId, server.location, {
    type: 'sql-group',
    groupKey: key,
    serverId: server.id,
  });
  group.creationOperationId = asyncOperation.id;
  world.record('sql-group-created', {
    group: name,
    instance: server.name,
    detail: { seededBy: new Date(seededBy).toISOString() },
  });
  world.emit('change', 'group-created', group);
  return { group, created: true, asyncOperation };
}

/**
 * DELETE of a group at its primary: the group is gone (its listeners with it); the databases and their geo-replication
 * stay. Refused at a secondary and while a failover runs.
 */
export function deleteSqlGroup(
  world: WorldContext,
  group: SqlFailoverGroupState,
  server: SqlServerState,
): AsyncOperation {
  world.advance();
  if (!sameId(group.primaryServerId, server.id))
    refuse(
      400,
      'FailoverGroupUpdateOrDeleteRequestOnSecondary',
      'Modifications to the failover group are not allowed on a secondary server. Execute the request on the primary server.',
    );
  if (group.failover) refuse(409, 'FailoverGroupBusy', 'Failover Group is busy with another operation.');
  world.sqlFailoverGroups.delete(group.key);
  world.record('sql-group-deleted', { group: group.name, instance: server.name });
  world.emit('change', 'group-deleted', group);
  return completedAsyncOperation(world, 'sql-group-delete', server.subscriptionId, server.location, { type: 'none' });
}

/**
 * A failover sent to `server` (the server to become primary): `planned` (`failover`), `forced`
 * (`forceFailoverAllowDataLoss`) or `tryPlanned` (`tryPlannedBeforeForcedFailover`). Counted per group; refused, with
 * the spec's codes, at the primary, while another failover runs, while a member is seeded to the target, or while a
 * member database (or its pool) is being scaled.
 */
export function requestSqlFailover(
  world: WorldContext,
  group: SqlFailoverGroupState,
  server: SqlServerState,
  kind: 'planned' | 'forced' | 'tryPlanned',
): AsyncOperation {
  world.advance();
  const now = world.now();
  const counters = failoverCountersOf(world, group);
  counters.received += 1;
  const refused = (status: number, code: string, message: string): never => {
    counters.refused += 1;
    world.record('failover-refused', { group: group.name, instance: server.name, detail: { kind, code } });
    throw new EmulatedArmError(status, code, message);
  };
  if (group.failover) refused(409, 'FailoverGroupBusy', 'Failover Group is busy with another operation.');
  if (sameId(group.primaryServerId, server.id)) {
    if (kind === 'planned')
      refused(
        400,
        'FailoverGroupFailoverRequestOnPrimary',
        'The failover request should be initiated on the secondary server of failover group.',
      );
    refused(
      400,
      'FailoverGroupNotSecondary',
      'Failover cannot be initiated from the primary server in a Failover Group.',
    );
  }
  if (isSqlGroupSeeding(world, group, now, server.id))
    refused(
      400,
      'IncorrectReplicationLinkState',
      'The operation expects the database to be in an expected state on the replication link: a member database is still being seeded to this server.',
    );
  const members = memberDatabases(world, group);
  const scaling = world.sqlOperations.find(
    (operation) =>
      isScaling(operation) &&
      group.serverIds.some((id) => sameId(id, operation.serverId)) &&
      (operation.kind === 'elasticPool' || members.some((database) => sameId(database.name, operation.name))),
  );
  if (scaling)
    refused(
      409,
      'UpdateSloInProgress',
      `User tried to initiate an incompatible operation while a SLO update was in progress (${scaling.name}).`,
    );

  const operation = startAsyncOperation(world, 'sql-failover', server.subscriptionId, server.location, {
    type: 'sql-group',
    groupKey: group.key,
    serverId: server.id,
  });
  const primary = serverOf(world, group.primaryServerId)!;
  const primaryDark = world.isDark(primary.location);
  const linkLost = members.some(
    (database) => partnerLink(database.replication!, server.id)?.linkLostSince !== undefined,
  );
  const failover: NonNullable<SqlFailoverGroupState['failover']> = {
    asyncOperationId: operation.id,
    kind,
    targetServerId: server.id,
    requestedAt: now,
    switched: false,
  };
  const armed = takeFailoverFault(world.faults, group);
  const timeoutMs = world.timings.plannedFailoverTimeoutSeconds * 1000;
  const switchIn = (ran: 'planned' | 'forced', afterMs: number) => {
    failover.ran = ran;
    failover.listenerMovedAt = now + afterMs;
    failover.switchAt =
      now + afterMs + (ran === 'forced' ? world.timings.forcedSwitchSeconds : world.timings.roleSwitchSeconds) * 1000;
    failover.completeAt = failover.switchAt + world.timings.roleFlipSkewSeconds * 1000;
    if (ran === 'planned')
      for (const database of members) hardenOnBy(database.replication!, server.id, failover.switchAt);
  };
  if (armed && 'fails' in armed) {
    failover.failAt = now + world.timings.roleSwitchSeconds * 500;
    failover.failCode = armed.fails.code;
    failover.failMessage = armed.fails.message;
  } else if (armed) {
    // Never completes: no switch, no end.
  } else if (kind === 'forced') {
    switchIn('forced', 0);
  } else if (!primaryDark && !linkLost) {
    switchIn('planned', 0);
  } else if (kind === 'tryPlanned') {
    // The planned part cannot reach the primary (or a link): it gives up after its timeout and forces.
    switchIn('forced', timeoutMs);
  } else {
    failover.failAt = now + timeoutMs;
    failover.failCode = primaryDark ? 'PlannedFailoverTimedOut' : 'PlannedFailoverTimedOutForDatabase';
    failover.failMessage = primaryDark
      ? 'User invoked planned failover, and it timed out while trying to contact the partner management service.'
      : 'User invoked planned failover, it timed out, and a specific database appears to be to blame.';
  }
  group.failover = failover;
  counters.accepted += 1;
  counters.acceptedTo[server.location] = (counters.acceptedTo[server.location] ?? 0) + 1;
  world.record('failover-requested', {
    group: group.name,
    instance: server.name,
    detail: { kind, location: server.location, asyncOperationId: operation.id },
  });
  if (failover.listenerMovedAt === now) {
    failover.listenerAnnounced = true;
    world.record('listener-moved', { group: group.name, instance: server.name, detail: { kind } });
    world.emit('change', 'listener-moved', group);
  }
  return operation;
}

/** Makes the target the primary of every member at `at` (forced: what the target had not hardened is lost). */
function switchSqlRoles(
  world: WorldContext,
  group: SqlFailoverGroupState,
  kind: 'planned' | 'forced',
  at: number,
): void {
  const failover = group.failover!;
  const oldPrimary = group.primaryServerId;
  const lost: Record<string, number> = {};
  const readOnlyUntil = at + world.timings.readOnlyAfterSwitchSeconds * 1000;
  for (const database of memberDatabases(world, group)) {
    const replication = database.replication!;
    const count = switchPrimary(world, replication, failover.targetServerId, kind, at, group.name);
    if (count > 0) lost[database.name] = count;
    replication.data.readOnlyUntil = readOnlyUntil;
  }
  group.primaryServerId = serverOf(world, failover.targetServerId)?.id ?? failover.targetServerId;
  group.serverIds = [group.primaryServerId, ...group.serverIds.filter((id) => !sameId(id, group.primaryServerId))];
  group.staleClaim = { serverId: oldPrimary, until: at + world.timings.roleFlipSkewSeconds * 1000 };
  group.switches = (group.switches ?? 0) + 1;
  const target = serverOf(world, group.primaryServerId)!;
  world.record(
    'roles-switched',
    { group: group.name, instance: target.name, detail: { kind, primaryLocation: target.location, lostCommits: lost } },
    at,
  );
  checkSqlSinglePrimary(world, group);
}

/** Records a violation when a member database's primary is not the group's: two primaries in one group. */
export function checkSqlSinglePrimary(world: WorldContext, group: SqlFailoverGroupState): void {
  for (const name of group.databases) {
    const primaries = group.serverIds.filter((id) => {
      const replication = databaseOn(world, id, name)?.replication;
      return replication !== undefined && sameId(replication.primaryServerId, id);
    });
    if (primaries.length > 1 || (primaries.length === 1 && !sameId(primaries[0]!, group.primaryServerId)))
      world.violations.push(
        `${group.name}: database ${name} has primaries ${primaries.map((id) => serverOf(world, id)?.name ?? id).join(', ')} at ${new Date(world.now()).toISOString()}`,
      );
  }
}

/** Applies the group's transitions that have come due by `now`: creation, failover, the old primary's claim. */
export function advanceSqlGroup(world: WorldContext, group: SqlFailoverGroupState, now: number): void {
  const creation = group.creationOperationId ? world.asyncOperations.get(group.creationOperationId) : undefined;
  if (creation?.status === 'InProgress' && !isSqlGroupSeeding(world, group, now)) {
    const seededAt = Math.max(
      creation.startTime + world.timings.groupCreateSeconds * 1000,
      ...memberDatabases(world, group).flatMap((database) =>
        (database.replication?.partners ?? []).map((link) => link.seeding?.endsAt ?? 0),
      ),
    );
    if (now >= seededAt) {
      Object.assign(creation, { status: 'Succeeded', endTime: seededAt });
      world.record('seeding-completed', { group: group.name }, seededAt);
    }
  }
  const failover = group.failover;
  if (failover) {
    const operation = world.asyncOperations.get(failover.asyncOperationId)!;
    if (!failover.listenerAnnounced && failover.listenerMovedAt !== undefined && now >= failover.listenerMovedAt) {
      // A tryPlanned that fell back to forced moves the listener when its forced part starts.
      failover.listenerAnnounced = true;
      world.record('listener-moved', { group: group.name, detail: { kind: 'forced' } }, failover.listenerMovedAt);
      world.emit('change', 'listener-moved', group);
    }
    if (failover.failAt !== undefined && now >= failover.failAt) {
      Object.assign(operation, {
        status: 'Failed',
        endTime: failover.failAt,
        error: {
          code: failover.failCode ?? 'PlannedFailoverTimedOut',
          message: failover.failMessage ?? 'The failover failed.',
        },
      });
      group.failover = undefined;
      world.record('failover-failed', { group: group.name, detail: { code: failover.failCode } }, failover.failAt);
      world.emit('change', 'failover-failed', group);
    } else {
      if (!failover.switched && failover.switchAt !== undefined && now >= failover.switchAt) {
        const oldPrimary = group.primaryServerId;
        failover.switched = true;
        switchSqlRoles(world, group, failover.ran ?? 'planned', failover.switchAt);
        world.emit('change', 'roles-switched', group, failover, oldPrimary);
      }
      if (failover.switched && failover.completeAt !== undefined && now >= failover.completeAt) {
        Object.assign(operation, { status: 'Succeeded', endTime: failover.completeAt });
        group.failover = undefined;
        world.record(
          'failover-completed',
          { group: group.name, detail: { kind: failover.kind, ran: failover.ran } },
          failover.completeAt,
        );
        world.emit('change', 'failover-completed', group);
      }
    }
  }
  if (group.staleClaim && now >= group.staleClaim.until) group.staleClaim = undefined;
}
