/**
 * The api-versions Azure serves per resource type the emulator routes (Microsoft.Sql; Microsoft.Network, Compute,
 * RecoveryServices and DocumentDB below). A version is served for a type when
 * the REST spec has that type's file in that version's folder (Azure/azure-rest-api-specs,
 * specification/sql/resource-manager/Microsoft.Sql/{preview,stable}/<version>/<File>.json). The lists were read from the
 * folder listing (checked by path: preview/2019-06-01-preview/ManagedInstanceOperations.json,
 * stable/2023-08-01/ManagedInstanceOperations.json, preview/2022-05-01-preview/InstanceFailoverGroups.json, the whole of
 * stable/2025-01-01 …) and from
 * the versions @pulumi/azure-native 3.12 generates from that spec ("Other available API versions" of
 * sql/instanceFailoverGroup, sql/managedInstance, sql/managedInstanceLongTermRetentionPolicy). @azure/arm-sql 10's
 * versions (2022-05-01-preview, 2022-08-01-preview, 2020-11-01-preview) are in every list they are used with.
 */

const LATER = [
  '2020-02-02-preview',
  '2020-08-01-preview',
  '2020-11-01-preview',
  '2021-02-01-preview',
  '2021-05-01-preview',
  '2021-08-01-preview',
  '2021-11-01',
  '2021-11-01-preview',
  '2022-02-01-preview',
  '2022-05-01-preview',
  '2022-08-01-preview',
  '2022-11-01-preview',
  '2023-02-01-preview',
  '2023-05-01-preview',
  '2023-08-01',
  '2023-08-01-preview',
  '2024-05-01-preview',
  '2024-11-01-preview',
  // stable/2025-01-01 holds all four files (folder listing); azure-mgmt-sql 4.0.0 (Python) sends it.
  '2025-01-01',
];

/** A resource type: its name as ARM's messages give it and the versions that serve it. */
export interface ResourceTypeVersions {
  type: string;
  versions: ReadonlySet<string>;
}

/** InstanceFailoverGroups.json */
export const INSTANCE_FAILOVER_GROUPS: ResourceTypeVersions = {
  type: 'locations/instanceFailoverGroups',
  versions: new Set(['2017-10-01-preview', ...LATER]),
};

/** ManagedInstances.json */
export const MANAGED_INSTANCES: ResourceTypeVersions = {
  type: 'managedInstances',
  versions: new Set(['2015-05-01-preview', '2018-06-01-preview', ...LATER]),
};

/** ManagedInstanceOperations.json */
export const MANAGED_INSTANCE_OPERATIONS: ResourceTypeVersions = {
  type: 'managedInstances/operations',
  versions: new Set(['2019-06-01-preview', ...LATER]),
};

/** ManagedInstanceLongTermRetentionPolicies.json (arm-sql 10 reads it with 2020-11-01-preview). */
export const MANAGED_INSTANCE_LTR_POLICIES: ResourceTypeVersions = {
  type: 'managedInstances/databases/backupLongTermRetentionPolicies',
  versions: new Set(LATER.filter((version) => version >= '2020-11-01')),
};

/** ManagedInstanceEncryptionProtectors.json and ManagedInstanceKeys.json (arm-sql 10 reads both with 2020-11-01-preview). */
export const MANAGED_INSTANCE_KEYS: ResourceTypeVersions = {
  type: 'managedInstances/keys',
  versions: new Set(['2017-10-01-preview', ...LATER]),
};
export const MANAGED_INSTANCE_ENCRYPTION_PROTECTOR: ResourceTypeVersions = {
  type: 'managedInstances/encryptionProtector',
  versions: new Set(['2017-10-01-preview', ...LATER]),
};

/** ManagedDatabases.json (arm-sql 10 sends 2022-05-01-preview). */
export const MANAGED_DATABASES: ResourceTypeVersions = {
  type: 'managedInstances/databases',
  versions: new Set(['2017-03-01-preview', '2018-06-01-preview', '2019-06-01-preview', ...LATER]),
};

/** RestorableDroppedManagedDatabases.json (arm-sql 10 sends 2021-05-01-preview; earlier versions not checked one by one). */
export const RESTORABLE_DROPPED_MANAGED_DATABASES: ResourceTypeVersions = {
  type: 'managedInstances/restorableDroppedDatabases',
  versions: new Set(['2017-03-01-preview', '2018-06-01-preview', '2019-06-01-preview', ...LATER]),
};

/** LongTermRetentionManagedInstanceBackups.json (arm-sql 10 sends 2021-05-01-preview; not checked one by one). */
export const LTR_MANAGED_INSTANCE_BACKUPS: ResourceTypeVersions = {
  type: 'locations/longTermRetentionManagedInstances/longTermRetentionDatabases/longTermRetentionManagedInstanceBackups',
  versions: new Set(['2018-06-01-preview', ...LATER]),
};

/**
 * Microsoft.Network's stable api-versions (the version folders of specification/network/resource-manager/
 * Microsoft.Network/stable up to 2025-05-01, not checked one by one), and 2026-01-01, which @azure/arm-network 39 sends.
 */
const NETWORK = [
  '2017-03-01',
  '2017-06-01',
  '2017-08-01',
  '2017-09-01',
  '2017-10-01',
  '2017-11-01',
  '2018-01-01',
  '2018-02-01',
  '2018-04-01',
  '2018-06-01',
  '2018-07-01',
  '2018-08-01',
  '2018-10-01',
  '2018-11-01',
  '2018-12-01',
  '2019-02-01',
  '2019-04-01',
  '2019-06-01',
  '2019-07-01',
  '2019-08-01',
  '2019-09-01',
  '2019-11-01',
  '2019-12-01',
  '2020-03-01',
  '2020-04-01',
  '2020-05-01',
  '2020-06-01',
  '2020-07-01',
  '2020-08-01',
  '2020-11-01',
  '2021-02-01',
  '2021-03-01',
  '2021-05-01',
  '2021-08-01',
  '2022-01-01',
  '2022-05-01',
  '2022-07-01',
  '2022-09-01',
  '2022-11-01',
  '2023-02-01',
  '2023-04-01',
  '2023-05-01',
  '2023-06-01',
  '2023-09-01',
  '2023-11-01',
  '2024-01-01',
  '2024-03-01',
  '2024-05-01',
  '2024-07-01',
  '2024-10-01',
  '2025-01-01',
  '2025-03-01',
  '2025-05-01',
  '2026-01-01',
];

export const VIRTUAL_NETWORKS: ResourceTypeVersions = { type: 'virtualNetworks', versions: new Set(NETWORK) };
export const SUBNETS: ResourceTypeVersions = { type: 'virtualNetworks/subnets', versions: new Set(NETWORK) };
export const NETWORK_SECURITY_GROUPS: ResourceTypeVersions = {
  type: 'networkSecurityGroups',
  versions: new Set(NETWORK),
};
export const SECURITY_RULES: ResourceTypeVersions = {
  type: 'networkSecurityGroups/securityRules',
  versions: new Set(NETWORK),
};
export const NETWORK_OPERATIONS: ResourceTypeVersions = { type: 'locations/operations', versions: new Set(NETWORK) };

/**
 * Microsoft.Compute `virtualMachines`: ComputeRP's stable versions (specification/compute/resource-manager/
 * Microsoft.Compute/ComputeRP/stable folder names, not checked one by one).
 */
export const VIRTUAL_MACHINES: ResourceTypeVersions = {
  type: 'virtualMachines',
  versions: new Set([
    '2015-06-15',
    '2016-03-30',
    '2017-03-30',
    '2017-12-01',
    '2018-04-01',
    '2018-06-01',
    '2018-10-01',
    '2019-03-01',
    '2019-07-01',
    '2019-12-01',
    '2020-06-01',
    '2020-12-01',
    '2021-03-01',
    '2021-04-01',
    '2021-07-01',
    '2021-11-01',
    '2022-03-01',
    '2022-08-01',
    '2022-11-01',
    '2023-03-01',
    '2023-07-01',
    '2023-09-01',
    '2024-03-01',
    '2024-07-01',
    '2024-11-01',
    '2025-04-01',
  ]),
};

/**
 * Microsoft.RecoveryServices: Azure Backup's resource types (vaults/backup…) served at the recoveryservicesbackup
 * stable versions up to 2023-06-01, which @azure/arm-recoveryservicesbackup 12 sends (its Parameters.apiVersion), and
 * the later ones (folders of specification/recoveryservicesbackup/…/stable; bms.json checked by path in 2019-05-13,
 * 2020-02-02, 2021-02-01, 2023-06-01, 2024-10-01 and 2025-02-01, the others not one by one); 2016-12-01
 * is the version of the status URLs in the spec's RefreshContainers example. The vault's own GET (`vaults`, the
 * recoveryservices spec) is checked against the same list (knowingly simplified).
 */
const RECOVERY_SERVICES_BACKUP = [
  '2016-06-01',
  '2016-12-01',
  '2017-07-01',
  '2019-05-13',
  '2019-06-15',
  '2020-02-02',
  '2020-10-01',
  '2020-12-01',
  '2021-01-01',
  '2021-02-01',
  '2021-03-01',
  '2021-04-01',
  '2021-06-01',
  '2021-07-01',
  '2021-08-01',
  '2021-10-01',
  '2021-12-01',
  '2022-01-01',
  '2022-02-01',
  '2022-03-01',
  '2022-04-01',
  '2022-10-01',
  '2023-01-01',
  '2023-02-01',
  '2023-04-01',
  '2023-06-01',
  '2023-08-01',
  '2024-01-01',
  '2024-02-01',
  '2024-04-01',
  '2024-10-01',
  '2025-02-01',
];
export const RECOVERY_SERVICES_VAULTS: ResourceTypeVersions = {
  type: 'vaults',
  versions: new Set(RECOVERY_SERVICES_BACKUP),
};
export const BACKUP_RESOURCES: ResourceTypeVersions = {
  type: 'vaults/backupFabrics',
  versions: new Set(RECOVERY_SERVICES_BACKUP),
};

/**
 * Microsoft.DocumentDB `databaseAccounts` and `locations/restorableDatabaseAccounts`: 2026-03-15, which
 * @azure/arm-cosmosdb 17 sends (its operations' default), and the earlier stable versions (each checked by path:
 * specification/cosmos-db/resource-manager/Microsoft.DocumentDB/stable/<version>/cosmos-db.json).
 */
export const COSMOS_DB: ResourceTypeVersions = {
  type: 'databaseAccounts',
  versions: new Set([
    '2021-04-15',
    '2021-05-15',
    '2021-06-15',
    '2021-10-15',
    '2022-05-15',
    '2022-08-15',
    '2022-11-15',
    '2023-03-15',
    '2023-04-15',
    '2023-09-15',
    '2023-11-15',
    '2024-05-15',
    '2024-08-15',
    '2024-11-15',
    '2025-04-15',
    '2025-10-15',
    '2026-03-15',
  ]),
};

/**
 * Azure SQL Database (logical servers): the versions whose folder holds the type's file — Servers.json,
 * Databases.json, ElasticPools.json, FailoverGroups.json, ReplicationLinks.json, DatabaseOperations.json,
 * ElasticPoolOperations.json — the early ones from the folder listing, the later ones (LATER) not checked one by one.
 * @azure/arm-sql 10 sends 2022-08-01-preview (servers, databases), 2021-08-01-preview (elasticPools),
 * 2020-11-01-preview (failoverGroups, elasticPools/operations), 2022-02-01-preview (replicationLinks) and
 * 2021-02-01-preview (databases/operations); azure-mgmt-sql 4.0.0 (Python) sends 2025-01-01.
 */
export const SQL_SERVERS: ResourceTypeVersions = {
  type: 'servers',
  versions: new Set(['2014-04-01', '2015-05-01-preview', '2019-06-01-preview', ...LATER]),
};
export const SQL_DATABASES: ResourceTypeVersions = {
  type: 'servers/databases',
  versions: new Set(['2014-04-01', '2017-03-01-preview', '2017-10-01-preview', '2019-06-01-preview', ...LATER]),
};
export const ELASTIC_POOLS: ResourceTypeVersions = {
  type: 'servers/elasticPools',
  versions: new Set(['2014-04-01', '2017-10-01-preview', ...LATER]),
};
export const FAILOVER_GROUPS: ResourceTypeVersions = {
  type: 'servers/failoverGroups',
  versions: new Set(['2015-05-01-preview', ...LATER]),
};
export const REPLICATION_LINKS: ResourceTypeVersions = {
  type: 'servers/databases/replicationLinks',
  versions: new Set(['2014-04-01', ...LATER]),
};
export const DATABASE_OPERATIONS: ResourceTypeVersions = {
  type: 'servers/databases/operations',
  versions: new Set(['2017-10-01-preview', ...LATER]),
};
export const ELASTIC_POOL_OPERATIONS: ResourceTypeVersions = {
  type: 'servers/elasticPools/operations',
  versions: new Set(['2017-10-01-preview', ...LATER]),
};

/**
 * `failoverGroups/{g}/tryPlannedBeforeForcedFailover` (FailoverGroups_TryPlannedBeforeForcedFailover): first in
 * preview/2023-02-01-preview, then 2023-05-01-preview, 2023-08-01-preview, 2024-05-01-preview, 2024-11-01-preview and
 * stable/2025-01-01 (each read); not in stable/2023-08-01 nor before 2023. Another version answers as for a type it
 * does not serve.
 */
export const TRY_PLANNED_BEFORE_FORCED_FAILOVER: ResourceTypeVersions = {
  type: 'servers/failoverGroups/tryPlannedBeforeForcedFailover',
  versions: new Set([
    '2023-02-01-preview',
    '2023-05-01-preview',
    '2023-08-01-preview',
    '2024-05-01-preview',
    '2024-11-01-preview',
    '2025-01-01',
  ]),
};

/**
 * The FailoverGroups.json versions whose FailoverGroupReadOnlyEndpoint has `targetServer` and whose update takes
 * `partnerServers` (the error list adds InvalidReadOnlyEndpointTargetServer: "…present among the partnerServers"):
 * the same versions as tryPlannedBeforeForcedFailover (each read). These allow more than one partner server; older
 * ones (and stable/2023-08-01) refuse it with FailoverGroupCreateOrUpdateRequestUnsupportedPartnerCount and answer
 * without `targetServer`.
 */
export const MULTI_PARTNER_FAILOVER_GROUP_VERSIONS: ReadonlySet<string> = TRY_PLANNED_BEFORE_FORCED_FAILOVER.versions;

/**
 * The FailoverGroups.json versions with `secondaryType` (Geo, Standby) and its error
 * UnsupportedPartnerCountForStandby: 2023-08-01-preview on (not 2023-05-01-preview, whose definitions lack it; not
 * stable/2023-08-01).
 */
export const SECONDARY_TYPE_FAILOVER_GROUP_VERSIONS: ReadonlySet<string> = new Set([
  '2023-08-01-preview',
  '2024-05-01-preview',
  '2024-11-01-preview',
  '2025-01-01',
]);

/** The status URLs of long-running operations carry the version of the request that started them. */
export const ASYNC_OPERATIONS: ResourceTypeVersions = {
  type: 'locations/operationResults',
  versions: new Set([
    ...INSTANCE_FAILOVER_GROUPS.versions,
    ...MANAGED_INSTANCES.versions,
    ...SQL_DATABASES.versions,
    ...FAILOVER_GROUPS.versions,
  ]),
};

/** The resource type a route (Fastify pattern) serves, or undefined for one the emulator does not version-check. */
export function resourceTypeOfRoute(route: string): ResourceTypeVersions | undefined {
  const path = route.toLowerCase();
  if (path.includes('/providers/microsoft.network/')) {
    if (/\/locations\/[^/]+\/(operations|operationresults)\//.test(path)) return NETWORK_OPERATIONS;
    if (path.includes('/securityrules')) return SECURITY_RULES;
    if (path.includes('/networksecuritygroups')) return NETWORK_SECURITY_GROUPS;
    if (path.includes('/subnets')) return SUBNETS;
    if (path.includes('/virtualnetworks')) return VIRTUAL_NETWORKS;
    return undefined;
  }
  if (path.includes('/providers/microsoft.compute/')) return VIRTUAL_MACHINES;
  if (path.includes('/providers/microsoft.recoveryservices/'))
    return /\/vaults\/:[^/]+$/.test(path) ? RECOVERY_SERVICES_VAULTS : BACKUP_RESOURCES;
  if (path.includes('/providers/microsoft.documentdb/')) return COSMOS_DB;
  if (!path.includes('/providers/microsoft.sql/')) return undefined;
  if (/azureasyncoperation|operationresults/.test(path)) return ASYNC_OPERATIONS;
  if (path.includes('/instancefailovergroups')) return INSTANCE_FAILOVER_GROUPS;
  if (path.includes('/tryplannedbeforeforcedfailover')) return TRY_PLANNED_BEFORE_FORCED_FAILOVER;
  if (/\/servers\/[^/]+\/failovergroups/.test(path)) return FAILOVER_GROUPS;
  if (/\/servers\/[^/]+\/databases\/[^/]+\/replicationlinks/.test(path)) return REPLICATION_LINKS;
  if (/\/servers\/[^/]+\/databases\/[^/]+\/operations/.test(path)) return DATABASE_OPERATIONS;
  if (/\/servers\/[^/]+\/elasticpools\/[^/]+\/operations/.test(path)) return ELASTIC_POOL_OPERATIONS;
  if (/\/servers\/[^/]+\/elasticpools/.test(path)) return ELASTIC_POOLS;
  if (/\/servers\/[^/]+\/databases/.test(path)) return SQL_DATABASES;
  if (/\/microsoft\.sql\/servers/.test(path)) return SQL_SERVERS;
  if (path.includes('/backuplongtermretentionpolicies')) return MANAGED_INSTANCE_LTR_POLICIES;
  if (path.includes('/longtermretentionmanagedinstances/')) return LTR_MANAGED_INSTANCE_BACKUPS;
  if (/\/managedinstances\/[^/]+\/restorabledroppeddatabases/.test(path)) return RESTORABLE_DROPPED_MANAGED_DATABASES;
  if (/\/managedinstances\/[^/]+\/operations/.test(path)) return MANAGED_INSTANCE_OPERATIONS;
  if (/\/managedinstances\/[^/]+\/encryptionprotector/.test(path)) return MANAGED_INSTANCE_ENCRYPTION_PROTECTOR;
  if (/\/managedinstances\/[^/]+\/keys/.test(path)) return MANAGED_INSTANCE_KEYS;
  if (/\/managedinstances\/[^/]+\/databases(\/:[^/]+)?$/.test(path)) return MANAGED_DATABASES;
  if (path.includes('/managedinstances')) return MANAGED_INSTANCES;
  return undefined;
}

/** ARM's shape of an api-version: a date, optionally with a suffix such as `-preview`. */
const WELL_FORMED = /^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i;

/**
 * ARM's refusal of an api-version the type does not serve, or undefined when it serves it. Codes and wording as ARM
 * answers (400; Azure/azure-cli#28496 and pulumi/pulumi-azure-nextgen#170 quote the NoRegisteredProviderFound message):
 * malformed → InvalidApiVersionParameter; well formed but not served → NoRegisteredProviderFound.
 */
export function refuseApiVersion(
  version: string,
  type: ResourceTypeVersions,
  location: string | undefined,
): { code: string; message: string } | undefined {
  if (type.versions.has(version)) return undefined;
  const supported = [...type.versions].sort().reverse().join(', ');
  if (!WELL_FORMED.test(version)) {
    return {
      code: 'InvalidApiVersionParameter',
      message: `The api-version '${version}' is invalid. The supported versions are '${supported}'.`,
    };
  }
  return {
    code: 'NoRegisteredProviderFound',
    message: `No registered resource provider found for location '${location ?? 'global'}' and API version '${version}' for type '${type.type}'. The supported api-versions are '${supported}'.`,
  };
}
