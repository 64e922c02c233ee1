/**
 * The api-versions of Azure SQL Database server failover groups (`Microsoft.Sql/servers/{s}/failoverGroups/{g}`) and
 * what each offers the runbooks. Read from the REST specs in Azure/azure-rest-api-specs,
 * `specification/sql/resource-manager/Microsoft.Sql/{stable,preview}/<version>/FailoverGroups.json`:
 *
 * - 2022-11-01-preview: `failover` and `forceFailoverAllowDataLoss` only; `readOnlyEndpoint` has no `targetServer`,
 *   and `partnerServers` can be set at creation only.
 * - 2023-02-01-preview is the first to add the `tryPlannedBeforeForcedFailover` action (202 with `Location`, final
 *   state via location), `readOnlyEndpoint.targetServer` (the partner the read-only listener points to) and
 *   `partnerServers` in the update body: a group may hold more than one secondary. 2023-05-01-preview keeps them.
 * - 2023-08-01 (stable) was published without them and later amended in the spec repository to carry both. fogpilot
 *   reads it as published (neither), as the emulator does: where the action is missing, fogpilot's own escalation
 *   from planned to forced runs instead, which works with every version.
 * - 2025-01-01 (stable) has both.
 *
 * No client is built from this module: configuration reads it too.
 */
import type { ServerGroupApi } from './server-group-plane';

/**
 * The api-version sent for server failover groups unless `azure.sqlDatabaseApiVersion` says otherwise: the newest
 * stable one, the one the Python SDK azure-mgmt-sql 4.0.0 sends.
 */
export const DEFAULT_SQL_DATABASE_API_VERSION = '2025-01-01';

/** The first api-version (by date) with `tryPlannedBeforeForcedFailover` and several secondaries. */
export const FIRST_MULTI_SECONDARY_API_VERSION = '2023-02-01-preview';

/** An api-version as ARM spells one: a date, `-preview` for a preview. */
export const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(-preview)?$/i;

/** The versions read in the specs (see above), and what each offers. */
export const SERVER_GROUP_API_VERSIONS: Readonly<Record<string, Omit<ServerGroupApi, 'apiVersion'>>> = {
  '2022-11-01-preview': { tryPlannedBeforeForcedFailover: false, multipleSecondaries: false },
  '2023-02-01-preview': { tryPlannedBeforeForcedFailover: true, multipleSecondaries: true },
  '2023-05-01-preview': { tryPlannedBeforeForcedFailover: true, multipleSecondaries: true },
  '2023-08-01': { tryPlannedBeforeForcedFailover: false, multipleSecondaries: false },
  '2025-01-01': { tryPlannedBeforeForcedFailover: true, multipleSecondaries: true },
};

/**
 * What `apiVersion` offers: from the table when it is there, else by its date (one dated on or after
 * {@link FIRST_MULTI_SECONDARY_API_VERSION} offers both, an older one neither). Throws for a string that is not an
 * api-version.
 */
export function serverGroupApiOf(apiVersion: string = DEFAULT_SQL_DATABASE_API_VERSION): ServerGroupApi {
  const version = apiVersion.trim().toLowerCase();
  if (!API_VERSION_PATTERN.test(version))
    throw new Error(`not an api-version: "${apiVersion}" (expected a date such as 2025-01-01, or 2023-02-01-preview)`);
  const known = SERVER_GROUP_API_VERSIONS[version];
  if (known) return { apiVersion: version, ...known };
  const newer = version.slice(0, 10) >= FIRST_MULTI_SECONDARY_API_VERSION.slice(0, 10);
  return { apiVersion: version, tryPlannedBeforeForcedFailover: newer, multipleSecondaries: newer };
}
