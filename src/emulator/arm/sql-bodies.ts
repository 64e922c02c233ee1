/**
 * ARM bodies of Azure SQL Database resources, in the shapes of the REST spec's definitions and examples: Servers.json
 * (ServerGet), Databases.json (GetDatabase), ElasticPools.json (ElasticPoolGet), FailoverGroups.json
 * (FailoverGroupGet, FailoverGroupUpdate, 2025-01-01), ReplicationLinks.json (the ReplicationLink definition:
 * role, partnerRole, partnerServer, partnerDatabase, partnerLocation, replicationMode, startTime, percentComplete,
 * replicationState, isTerminationAllowed, linkType), DatabaseOperations.json (ListDatabaseOperations, 2025-01-01)
 * and ElasticPoolOperations.json (ListElasticPoolOperations, 2017-10-01-preview).
 */
import { pairedRegion } from '../world/regions';
import { displayLocation, type World } from '../world';
import { isPartnerSeeded, partnerLink, seedingPercent } from '../world/sql-replication';
import { serviceObjectiveOf } from '../world/sql-servers';
import {
  sameId,
  type ElasticPoolState,
  type SqlDatabaseState,
  type SqlFailoverGroupState,
  type SqlPartnerLink,
  type SqlScaleOperation,
  type SqlServerState,
} from '../world/sql-state';
import { secondaryServerIds, sqlReportedReplicationState } from '../world/sql-failover-groups';
import { isScaling } from '../world/sql-servers';

/** What an api-version's FailoverGroup carries beyond the 2020-11-01-preview shape. */
export interface FailoverGroupShape {
  /** `readOnlyEndpoint.targetServer` (2023-02-01-preview and later, not stable/2023-08-01). */
  targetServer: boolean;
  /** `secondaryType` (2023-08-01-preview and later, not stable/2023-08-01). */
  secondaryType: boolean;
}

/** A stable GUID-shaped id for a name (a database's `databaseId`). */
function guidOf(name: string): string {
  let hash = 0x811c9dc5;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-5d1b-4f0c-8000-${hex}${hex.slice(0, 4)}`;
}

export function sqlServerBody(server: SqlServerState): Record<string, unknown> {
  return {
    kind: 'v12.0',
    properties: {
      administratorLogin: server.administratorLogin,
      version: server.version,
      state: server.state,
      fullyQualifiedDomainName: server.fullyQualifiedDomainName,
      privateEndpointConnections: [],
      minimalTlsVersion: '1.2',
      publicNetworkAccess: 'Enabled',
      restrictOutboundNetworkAccess: 'Disabled',
    },
    location: server.location,
    id: server.id,
    name: server.name,
    type: 'Microsoft.Sql/servers',
  };
}

/** `master`, as Azure lists it with a server's databases (the System tier). */
export function masterDatabaseBody(server: SqlServerState): Record<string, unknown> {
  return {
    sku: { name: 'System', tier: 'System', capacity: 0 },
    kind: 'v12.0,system',
    managedBy: server.id,
    properties: {
      collation: 'SQL_Latin1_General_CP1_CI_AS',
      maxSizeBytes: 32 * 1024 ** 3,
      status: 'Online',
      databaseId: guidOf(`${server.id}/master`),
      creationDate: new Date(server.createdAt).toISOString(),
      currentServiceObjectiveName: 'System0',
      requestedServiceObjectiveName: 'System0',
      defaultSecondaryLocation: pairedRegion(server.location),
      catalogCollation: 'SQL_Latin1_General_CP1_CI_AS',
      zoneRedundant: false,
      readScale: 'Disabled',
      currentSku: { name: 'System', tier: 'System', capacity: 0 },
      currentBackupStorageRedundancy: 'Geo',
      requestedBackupStorageRedundancy: 'Geo',
      isLedgerOn: false,
    },
    location: server.location,
    id: `${server.id}/databases/master`,
    name: 'master',
    type: 'Microsoft.Sql/servers/databases',
  };
}

/**
 * A database. On a geo-secondary `secondaryType` says its kind and, while its copy is seeded, `status` is `Copying`
 * (inferred: the status of a database being copied). While a scale runs, `requestedServiceObjectiveName` is the
 * target's and `currentServiceObjectiveName` the old one (the database stays `Online`: inferred).
 */
export function sqlDatabaseBody(
  world: World,
  server: SqlServerState,
  database: SqlDatabaseState,
): Record<string, unknown> {
  const now = world.now();
  const replication = database.replication;
  const link = replication ? partnerLink(replication, server.id) : undefined;
  const isSecondary = link !== undefined;
  const group = [...world.sqlFailoverGroups.values()].find(
    (entry) =>
      entry.serverIds.some((id) => sameId(id, server.id)) &&
      entry.databases.some((name) => sameId(name, database.name)),
  );
  const scale = world.sqlOperations.find(
    (operation) =>
      isScaling(operation) &&
      sameId(operation.serverId, server.id) &&
      ((operation.kind === 'database' && sameId(operation.name, database.name)) ||
        (operation.kind === 'elasticPool' && sameId(operation.name, database.elasticPoolName ?? ''))),
  );
  const requested = scale?.kind === 'database' ? scale.requested : database.sku;
  const pool = database.elasticPoolName;
  const properties: Record<string, unknown> = {
    collation: database.collation,
    maxSizeBytes: database.maxSizeBytes,
    status: isSecondary && !isPartnerSeeded(link, now) ? 'Copying' : 'Online',
    databaseId: guidOf(`${server.id}/${database.name}`),
    creationDate: new Date(database.createdAt).toISOString(),
    currentServiceObjectiveName: serviceObjectiveOf(database.sku),
    requestedServiceObjectiveName: serviceObjectiveOf(requested),
    defaultSecondaryLocation: pairedRegion(server.location),
    catalogCollation: 'SQL_Latin1_General_CP1_CI_AS',
    zoneRedundant: database.zoneRedundant,
    licenseType: 'LicenseIncluded',
    readScale: 'Disabled',
    currentSku: { ...database.sku },
    currentBackupStorageRedundancy: database.backupStorageRedundancy,
    requestedBackupStorageRedundancy: database.backupStorageRedundancy,
    maintenanceConfigurationId: `/subscriptions/${server.subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_Default`,
    isLedgerOn: false,
  };
  if (pool) properties.elasticPoolId = `${server.id}/elasticPools/${pool}`;
  if (isSecondary) properties.secondaryType = group?.secondaryType ?? 'Geo';
  if (group) properties.failoverGroupId = `${server.id}/failoverGroups/${group.name}`;
  if (!isSecondary)
    properties.earliestRestoreDate = new Date(Math.max(database.createdAt, now - 7 * 86_400_000)).toISOString();
  return {
    sku: { ...database.sku },
    kind: pool ? 'v12.0,user,vcore,pool' : 'v12.0,user,vcore',
    properties,
    location: server.location,
    id: `${server.id}/databases/${database.name}`,
    name: database.name,
    type: 'Microsoft.Sql/servers/databases',
  };
}

export function elasticPoolBody(server: SqlServerState, pool: ElasticPoolState): Record<string, unknown> {
  return {
    sku: { ...pool.sku },
    kind: 'vcore,pool',
    properties: {
      state: 'Ready',
      creationDate: new Date(pool.createdAt).toISOString(),
      maxSizeBytes: pool.maxSizeBytes,
      perDatabaseSettings: { ...pool.perDatabaseSettings },
      zoneRedundant: pool.zoneRedundant,
      licenseType: 'LicenseIncluded',
      maintenanceConfigurationId: `/subscriptions/${server.subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_Default`,
    },
    location: server.location,
    id: `${server.id}/elasticPools/${pool.name}`,
    name: pool.name,
    type: 'Microsoft.Sql/servers/elasticPools',
  };
}

/** A server failover group as the server `server` answers it (its role, its partners, its own database ids). */
export function sqlFailoverGroupBody(
  world: World,
  group: SqlFailoverGroupState,
  server: SqlServerState,
  shape: FailoverGroupShape,
): Record<string, unknown> {
  const now = world.now();
  const readWriteEndpoint: Record<string, unknown> = { failoverPolicy: group.readWriteFailoverPolicy };
  if (group.readWriteFailoverPolicy === 'Automatic')
    readWriteEndpoint.failoverWithDataLossGracePeriodMinutes = group.gracePeriodMinutes ?? 60;
  const readOnlyEndpoint: Record<string, unknown> = { failoverPolicy: group.readOnlyFailoverPolicy };
  if (shape.targetServer) {
    const secondaries = secondaryServerIds(group);
    const target =
      (group.readOnlyTargetServerId && secondaries.find((id) => sameId(id, group.readOnlyTargetServerId!))) ??
      secondaries[0];
    if (target) readOnlyEndpoint.targetServer = world.sqlServerById(target)?.id ?? target;
  }
  const properties: Record<string, unknown> = {
    readWriteEndpoint,
    readOnlyEndpoint,
    replicationRole: world.sqlReportedRole(group, server.id),
    replicationState: sqlReportedReplicationState(world, group, server.id, now),
    partnerServers: group.serverIds
      .filter((id) => !sameId(id, server.id))
      .map((id) => {
        const partner = world.sqlServerById(id);
        return {
          id: partner?.id ?? id,
          location: partner ? displayLocation(partner.location) : undefined,
          replicationRole: world.sqlReportedRole(group, id),
        };
      }),
    databases: group.databases.map((name) => `${server.id}/databases/${name}`),
  };
  if (shape.secondaryType) properties.secondaryType = group.secondaryType;
  const body: Record<string, unknown> = {
    id: `${server.id}/failoverGroups/${group.name}`,
    name: group.name,
    type: 'Microsoft.Sql/servers/failoverGroups',
    location: server.displayLocation,
  };
  if (group.tags) body.tags = { ...group.tags };
  body.properties = properties;
  return body;
}

/**
 * The replication links of a database's copy on `server`: on the primary one per partner, on a secondary one to the
 * primary. `replicationState` is `SEEDING` until the partner's copy is seeded, then `CATCH_UP`; `SUSPENDED` while the
 * link is lost (inferred from the enum: PENDING, SEEDING, CATCH_UP, SUSPENDED).
 */
export function replicationLinkBodies(
  world: World,
  server: SqlServerState,
  database: SqlDatabaseState,
): Record<string, unknown>[] {
  const replication = database.replication;
  if (!replication) return [];
  const now = world.now();
  const standby = [...world.sqlFailoverGroups.values()].some(
    (group) =>
      group.secondaryType === 'Standby' &&
      group.databases.some((name) => sameId(name, database.name)) &&
      group.serverIds.some((id) => sameId(id, server.id)),
  );
  const body = (link: SqlPartnerLink, partnerId: string, role: 'Primary' | 'Secondary'): Record<string, unknown> => {
    const partner = world.sqlServerById(partnerId);
    return {
      id: `${server.id}/databases/${database.name}/replicationLinks/${link.linkId}`,
      name: link.linkId,
      type: 'Microsoft.Sql/servers/databases/replicationLinks',
      properties: {
        partnerServer: partner?.name ?? partnerId,
        partnerDatabase: database.name,
        partnerLocation: partner ? displayLocation(partner.location) : undefined,
        role,
        partnerRole: role === 'Primary' ? 'Secondary' : 'Primary',
        replicationMode: 'ASYNC',
        startTime: new Date(link.startedAt).toISOString(),
        percentComplete: seedingPercent(link, now),
        replicationState:
          link.linkLostSince !== undefined ? 'SUSPENDED' : isPartnerSeeded(link, now) ? 'CATCH_UP' : 'SEEDING',
        isTerminationAllowed: true,
        linkType: standby ? 'STANDBY' : 'GEO',
      },
    };
  };
  if (sameId(replication.primaryServerId, server.id))
    return replication.partners.map((link) => body(link, link.serverId, 'Primary'));
  const own = partnerLink(replication, server.id);
  return own ? [body(own, replication.primaryServerId, 'Secondary')] : [];
}

/** A scale as `databases/{db}/operations` or `elasticPools/{p}/operations` lists it. */
export function sqlOperationBody(
  world: World,
  server: SqlServerState,
  operation: SqlScaleOperation,
): Record<string, unknown> {
  const now = world.now();
  const span = Math.max(1, operation.endsAt - operation.startedAt);
  const running = isScaling(operation);
  const percentComplete = running ? Math.min(99, Math.floor(((now - operation.startedAt) / span) * 100)) : 100;
  const database = operation.kind === 'database';
  const state = database
    ? operation.state
    : running
      ? 'IN_PROGRESS'
      : operation.state === 'Succeeded'
        ? 'COMPLETED'
        : 'FAILED';
  const properties: Record<string, unknown> = {
    [database ? 'databaseName' : 'elasticPoolName']: operation.name,
    operation: database ? 'UpdateLogicalDatabase' : 'UPDATE',
    operationFriendlyName: database ? 'ALTER DATABASE' : 'UPDATE',
    percentComplete,
    serverName: server.name,
    startTime: new Date(operation.startedAt).toISOString(),
    state,
    estimatedCompletionTime: new Date(operation.endsAt).toISOString(),
    description: database
      ? `'UpdateLogicalDatabase' on database '${operation.name}', Source ServiceLevelObjective 'SQLDB_${serviceObjectiveOf(operation.current)}', target ServiceLevelObjective 'SQLDB_${serviceObjectiveOf(operation.requested)}'`
      : `UpdateLogicalResourcePool on pool '${operation.name}', target Edition '${operation.requested.tier}', target pool capacity ${operation.requested.capacity}`,
    isCancellable: false,
  };
  if (operation.error)
    Object.assign(properties, {
      errorCode: 40640,
      errorDescription: operation.error.message,
      errorSeverity: 20,
      isUserError: false,
    });
  const parent = database ? 'databases' : 'elasticPools';
  return {
    id: `${server.id}/${parent}/${operation.name}/operations/${operation.id}`,
    name: operation.id,
    type: `Microsoft.Sql/servers/${parent}/operations`,
    properties,
  };
}
