/**
 * The api-versions Azure serves per Microsoft.Sql resource type the emulator routes. A version is served for a type when
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

/** The status URLs of long-running operations carry the version of the request that started them. */
export const ASYNC_OPERATIONS: ResourceTypeVersions = {
  type: 'locations/operationResults',
  versions: new Set([...INSTANCE_FAILOVER_GROUPS.versions, ...MANAGED_INSTANCES.versions]),
};

/** The resource type a route (Fastify pattern) serves, or undefined for one the emulator does not version-check. */
export function resourceTypeOfRoute(route: string): ResourceTypeVersions | undefined {
  const path = route.toLowerCase();
  if (!path.includes('/providers/microsoft.sql/')) return undefined;
  if (/azureasyncoperation|operationresults/.test(path)) return ASYNC_OPERATIONS;
  if (path.includes('/instancefailovergroups')) return INSTANCE_FAILOVER_GROUPS;
  if (path.includes('/backuplongtermretentionpolicies')) return MANAGED_INSTANCE_LTR_POLICIES;
  if (/\/managedinstances\/[^/]+\/operations/.test(path)) return MANAGED_INSTANCE_OPERATIONS;
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
