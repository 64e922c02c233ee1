/**
 * What fogpilot reads from Azure, in the shapes the runbooks reason about. The ARM and SQL adapters translate Azure's
 * answers into these; workflows see only these (they are plain JSON, so they travel through Temporal unchanged).
 */
import { normalizeLocation } from './locations';

/** An instance failover group as answered at one location: ARM describes the group from that location's side. */
export interface FailoverGroupView {
  id: string;
  name: string;
  /** The location asked (normalized). */
  location: string;
  /** `Primary` or `Secondary`: the role of this location's instance. */
  replicationRole: string;
  /** Free text in ARM (`CATCH_UP`, `SEEDING`, …); see {@link classifyReplicationState}. */
  replicationState: string;
  /** The other location (normalized), from `partnerRegions`. */
  partnerLocation: string;
  /** The partner's role as this location reports it, when ARM says. */
  partnerRole?: string;
  /** `managedInstancePairs[0]`: the instance currently primary, and its partner, as this location reports them. */
  primaryManagedInstanceId: string;
  partnerManagedInstanceId: string;
  readWriteFailoverPolicy: string;
  failoverWithDataLossGracePeriodMinutes?: number;
  readOnlyFailoverPolicy?: string;
  secondaryType?: string;
  /**
   * A server failover group (Azure SQL Database) only. Its member ids (`id`, `primaryManagedInstanceId`,
   * `partnerManagedInstanceId`) are then the group's ids *at a server*
   * (`…/servers/{server}/failoverGroups/{group}`): the group's side on that server, which names both.
   * `partnerLocation` is the partner the reader asked about (or the first), `partners` all of them.
   */
  server?: ServerGroupSide;
}

/** What a server failover group's answer at one server adds to {@link FailoverGroupView}. */
export interface ServerGroupSide {
  /** The server asked. */
  serverName: string;
  /** The member databases (names), as `properties.databases[]` lists them. */
  databases: string[];
  /** Every partner server as this server reports it. */
  partners: { serverName: string; serverId: string; location: string; role?: string }[];
  /** `readOnlyEndpoint.targetServer` (newer api-versions): the secondary that serves the read-only listener. */
  readOnlyTargetServerId?: string;
  /** The api-version the answer was read with. */
  apiVersion?: string;
}

/** A logical server of Azure SQL Database (`servers/{s}`). */
export interface LogicalServerView {
  id: string;
  name: string;
  location: string;
  /** `<server>.database.windows.net`. */
  fullyQualifiedDomainName: string;
  /** `Ready`, … */
  state?: string;
  version?: string;
}

/** The SKU of a database or an elastic pool (`GP_Gen5` / `GeneralPurpose` / 4; `S3` / `Standard` / 100). */
export interface SqlSku {
  name: string;
  tier?: string;
  capacity?: number;
  family?: string;
}

/** A database of a logical server (`servers/{s}/databases/{db}`). */
export interface SqlDatabaseView {
  id: string;
  name: string;
  serverName: string;
  location: string;
  sku: SqlSku;
  /** The elastic pool it is in, by id. */
  elasticPoolId?: string;
  /** `Online`, `Scaling`, `Creating`, … */
  status?: string;
  maxSizeBytes?: number;
  currentServiceObjectiveName?: string;
  /** The objective a running scale moves it to (equal to the current one when none runs). */
  requestedServiceObjectiveName?: string;
  currentBackupStorageRedundancy?: string;
  zoneRedundant?: boolean;
  /** `Geo`, `Named`, `Standby` on a secondary. */
  secondaryType?: string;
}

/** An elastic pool of a logical server (`servers/{s}/elasticPools/{p}`). */
export interface ElasticPoolView {
  id: string;
  name: string;
  serverName: string;
  location: string;
  sku: SqlSku;
  maxSizeBytes?: number;
  /** `Ready`, … */
  state?: string;
  zoneRedundant?: boolean;
}

/** What a server failover group's side holds, beside the server's own view. */
export interface ServerSideDetail {
  server: LogicalServerView;
  /** The group's member databases this server holds, as ARM describes them here. */
  databases: SqlDatabaseView[];
  /** The elastic pools that hold any of them. */
  elasticPools: ElasticPoolView[];
  /** Member databases the group lists that the server does not (yet) have. */
  missingDatabases: string[];
  /** The server's user databases that are not in the group (on the primary: not protected by it). */
  otherDatabases: string[];
}

/** One SKU change of a server failover group's scale: a database or an elastic pool of one server. */
export interface SqlScaleItem {
  type: 'database' | 'elasticPool';
  name: string;
  sku: SqlSku;
}

export interface ManagedInstanceView {
  id: string;
  name: string;
  location: string;
  skuName: string;
  tier: string;
  family?: string;
  vCores: number;
  storageSizeInGB: number;
  licenseType?: string;
  provisioningState: string;
  state: string;
  fullyQualifiedDomainName: string;
  backupStorageRedundancy?: string;
  /** The DNS zone Azure gave the instance (the partner of a failover group shares it): names the group's listener. */
  dnsZone?: string;
  /** Server collation; a failover group's pair must have the same (absent from views recorded before it was read). */
  collation?: string;
  /** Windows time zone id (`UTC`, `Pacific Standard Time`); fixed at creation, must match across the pair. */
  timezoneId?: string;
  /** The maintenance window (`…/publicMaintenanceConfigurations/SQL_Default`, `…SQL_EastUS_MI_1`, …). */
  maintenanceConfigurationId?: string;
  /** The subnet the instance lives in: where the network rules between the pair are read. */
  subnetId?: string;
  /** The customer-managed TDE key's URI, when the instance's protector is a Key Vault key. */
  keyId?: string;
}

/** A user database of a managed instance, as ARM lists it (`managedInstances/{mi}/databases`). */
export interface ManagedDatabaseView {
  id: string;
  name: string;
  /** `Online`, `Creating`, `Restoring`, … */
  status?: string;
}

/** `managedInstances/{mi}/encryptionProtector/current`: what protects the instance's TDE keys. */
export interface EncryptionProtectorView {
  /** `ServiceManaged` or `AzureKeyVault` (customer-managed). */
  serverKeyType: string;
  serverKeyName?: string;
  /** The Key Vault key's URI, for `AzureKeyVault`. */
  uri?: string;
  autoRotationEnabled?: boolean;
}

/** A key registered on a managed instance (`managedInstances/{mi}/keys`). */
export interface InstanceKeyView {
  name: string;
  serverKeyType: string;
  uri?: string;
}

/** A network security rule, with single and plural prefix and port fields folded into lists. */
export interface SecurityRuleView {
  name: string;
  priority: number;
  /** `Inbound` or `Outbound`. */
  direction: string;
  /** `Allow` or `Deny`. */
  access: string;
  /** `Tcp`, `Udp`, `Icmp`, `*`, … */
  protocol: string;
  sourceAddressPrefixes: string[];
  destinationAddressPrefixes: string[];
  /** `*`, `5022`, `11000-11999`. */
  destinationPortRanges: string[];
}

/** A subnet (`virtualNetworks/{vnet}/subnets/{subnet}`): its address ranges and the network security group on it. */
export interface SubnetView {
  id: string;
  name: string;
  addressPrefixes: string[];
  networkSecurityGroupId?: string;
}

/** A network security group with its own rules and Azure's default rules. */
export interface NetworkSecurityGroupView {
  id: string;
  name: string;
  securityRules: SecurityRuleView[];
  defaultSecurityRules: SecurityRuleView[];
}

/** What a PUT of a new instance failover group asks for (sent at the primary's location). */
export interface FailoverGroupDefinition {
  primaryInstanceId: string;
  partnerInstanceId: string;
  partnerLocation: string;
  readWriteFailoverPolicy: 'Manual' | 'Automatic';
  /** Required with `Automatic` (at least 60), refused with `Manual`. */
  gracePeriodMinutes?: number;
  readOnlyFailoverPolicy: 'Disabled' | 'Enabled';
  secondaryType: 'Geo' | 'Standby';
}

/**
 * One database's initial seeding, from the seeding DMV (`sys.dm_hadr_physical_seeding_stats`) of one side and its
 * geo-replication link.
 */
export interface SeedingProgress {
  database: string;
  /** `Transferring`, `Completed`, `Failed`, … as the DMV says; absent when only the link was read. */
  state?: string;
  transferredBytes?: number;
  databaseBytes?: number;
  startedAt?: string;
  estimatedCompletionAt?: string;
  endedAt?: string;
}

/**
 * A database's long-term retention policy, durations in ISO 8601. Azure answers `PT0S` for every duration (and week 0)
 * when no policy is configured, so "unconfigured" is a value, not an absence.
 */
export interface RetentionPolicyView {
  weeklyRetention: string;
  monthlyRetention: string;
  yearlyRetention: string;
  /** The week of the year whose weekly backup is kept for `yearlyRetention`. */
  weekOfYear: number;
}

/** What Azure answers for a database with no long-term retention configured. */
export const UNCONFIGURED_RETENTION: Readonly<RetentionPolicyView> = Object.freeze({
  weeklyRetention: 'PT0S',
  monthlyRetention: 'PT0S',
  yearlyRetention: 'PT0S',
  weekOfYear: 0,
});

export const OperationStates = [
  'Pending',
  'InProgress',
  'Succeeded',
  'Failed',
  'CancelInProgress',
  'Cancelled',
] as const;

/** A management operation on an instance (`…/managedInstances/{mi}/operations`). */
export interface ManagementOperationView {
  id: string;
  name: string;
  operation: string;
  friendlyName?: string;
  state: string;
  percentComplete?: number;
  startTime?: string;
  estimatedCompletionTime?: string;
  requested?: { vCores?: number; storageSizeInGB?: number; tier?: string; family?: string };
  errorMessage?: string;
}

export function operationInFlight(operation: ManagementOperationView): boolean {
  return operation.state === 'Pending' || operation.state === 'InProgress' || operation.state === 'CancelInProgress';
}

/** What to change on an instance when scaling. Absent fields stay as they are. */
export interface ScaleTarget {
  vCores?: number;
  storageSizeInGB?: number;
  /** SKU name such as `GP_Gen5` or `BC_G8IM`: the service tier (prefix) and the hardware family (suffix). */
  skuName?: string;
  /**
   * A server failover group's side only: the SKU each database or elastic pool of the server is to have (the
   * instance fields above are then absent).
   */
  members?: SqlScaleItem[];
}

const SKU_TIERS: Record<string, string> = { GP: 'GeneralPurpose', BC: 'BusinessCritical' };

/** `BC_G8IM` → `{ tier: 'BusinessCritical', family: 'G8IM' }`, as ARM's `sku` wants them; undefined for other names. */
export function skuParts(skuName: string): { tier: string; family: string } | undefined {
  const match = /^(GP|BC)_([A-Za-z0-9]+)$/i.exec(skuName.trim());
  if (!match) return undefined;
  return { tier: SKU_TIERS[match[1]!.toUpperCase()]!, family: match[2]! };
}

/** `BusinessCritical` + `Gen5` → `BC_Gen5`; undefined for a tier that is not a managed instance's. */
export function skuNameOf(tier: string, family: string): string | undefined {
  const prefix = Object.entries(SKU_TIERS).find(([, name]) => name.toLowerCase() === tier.toLowerCase())?.[0];
  return prefix ? `${prefix}_${family}` : undefined;
}

/** Whether two SKU names mean the same tier and family (ARM is case-insensitive about them). */
export function sameSku(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();
}

/** The progress of a long-running management operation being followed to its end. */
export interface OperationProgress {
  state: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  percentComplete?: number;
  error?: { code?: string; message: string };
}

/** One user database's geo-replication link, from `sys.dm_geo_replication_link_status` on one side. */
export interface DatabaseReplicationLink {
  database: string;
  partnerServer: string;
  partnerDatabase: string;
  /** `PRIMARY` or `SECONDARY`. */
  role: string;
  /** `SEEDING`, `CATCH_UP`, `SUSPENDED`, … */
  replicationState: string;
  /** `replication_lag_sec`: documented for the primary side only; `null` on the secondary. */
  lagSeconds: number | null;
  /** `last_replication` (the primary's clock): documented for the primary side only; absent on the secondary. */
  lastReplication?: string;
  /**
   * `last_commit`, on both sides: the last commit on the primary, or how far the secondary has caught up (also when
   * the primary is down). Absent when the side reported none.
   */
  lastCommit?: string;
}

export interface DatabaseUpdateability {
  database: string;
  /** `READ_WRITE` or `READ_ONLY`. */
  updateability: string;
}

export type ReplicationStatus = 'synchronizing' | 'seeding' | 'suspended' | 'failover-in-progress' | 'unknown';

/**
 * What a replication state means for a failover. Only states known to be safe count as synchronizing; anything
 * unrecognized is `unknown`, which every gate treats as "not known to be safe".
 */
export function classifyReplicationState(state: string | undefined): ReplicationStatus {
  const value = (state ?? '')
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (value === 'CATCH_UP' || value === 'SYNCHRONIZING' || value === 'SYNCHRONIZED') return 'synchronizing';
  if (value === 'SEEDING' || value === 'PENDING') return 'seeding';
  if (value === 'SUSPENDED') return 'suspended';
  if (value.includes('FAILOVER')) return 'failover-in-progress';
  return 'unknown';
}

/** The roles of a group as read at one or more of its locations, and what they add up to. */
export interface GroupRolesSummary {
  /** The location every answer agrees is primary, when they agree. */
  primaryLocation?: string;
  secondaryLocation?: string;
  /** Every location's answer agrees with every other's, and exactly one location is primary. */
  consistent: boolean;
  status: ReplicationStatus;
  /** One line a person can read. */
  detail: string;
}

function isRole(value: string | undefined, role: 'Primary' | 'Secondary'): boolean {
  return (value ?? '').toLowerCase() === role.toLowerCase();
}

/**
 * Adds up the answers of one or both locations. Azure has no field for "failover in progress", so one is inferred
 * from the answers disagreeing (both primary, both secondary, a location contradicting what its partner says of it)
 * or from a replication state that names a failover. Being wrong here errs to the safe side: a group not recognised
 * as synchronizing is never failed over.
 */
export function summarizeGroupRoles(views: FailoverGroupView[]): GroupRolesSummary {
  if (views.length === 0) return { consistent: false, status: 'unknown', detail: 'no location answered' };
  const claims = new Map<string, string[]>();
  const claim = (location: string, role: string | undefined): void => {
    if (!role) return;
    const key = normalizeLocation(location);
    claims.set(key, [...(claims.get(key) ?? []), role.toLowerCase()]);
  };
  for (const view of views) {
    claim(view.location, view.replicationRole);
    claim(view.partnerLocation, view.partnerRole);
  }
  const locationRoles = [...claims.entries()].map(([location, roles]) => ({
    location,
    agreed: roles.every((role) => role === roles[0]) ? roles[0] : undefined,
  }));
  const primaries = locationRoles.filter((entry) => entry.agreed === 'primary');
  const secondaries = locationRoles.filter((entry) => entry.agreed === 'secondary');
  const consistent =
    locationRoles.length === 2 &&
    primaries.length === 1 &&
    secondaries.length === 1 &&
    views.every((view) => isRole(view.replicationRole, 'Primary') || isRole(view.replicationRole, 'Secondary'));

  const statuses = views.map((view) => classifyReplicationState(view.replicationState));
  let status: ReplicationStatus;
  if (!consistent || statuses.includes('failover-in-progress')) status = 'failover-in-progress';
  else if (statuses.includes('seeding')) status = 'seeding';
  else if (statuses.includes('suspended')) status = 'suspended';
  else if (statuses.every((entry) => entry === 'synchronizing')) status = 'synchronizing';
  else status = 'unknown';

  const described = views
    .map((view) => `${view.location} says ${view.replicationRole} (${view.replicationState || 'no state'})`)
    .join('; ');
  return {
    primaryLocation: consistent ? primaries[0]?.location : undefined,
    secondaryLocation: consistent ? secondaries[0]?.location : undefined,
    consistent,
    status,
    detail: described,
  };
}
