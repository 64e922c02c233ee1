/**
 * The state of Azure SQL Database in the emulated world: logical servers, their databases and elastic pools, the
 * geo-replication of a database to its partners, and server failover groups. Plain records, as ./state.ts holds
 * for managed instances; the rules are ./sql-servers.ts, ./sql-replication.ts and ./sql-failover-groups.ts.
 *
 * The model follows Azure's: a failover group is a declarative layer over each member database's geo-replication
 * (Remove-AzSqlDatabaseFromFailoverGroup, Learn: "the databases and replication relationships are left intact"), so
 * a database's replication (`SqlGeoReplication`) lives on the database, and the group names its members.
 */
import type { LoginSpec } from '../world-spec';
import type { DatabaseSeeding, DatabaseState } from './state';

/** A database's or an elastic pool's SKU, as ARM's `Sku` definition has it. */
export interface SqlSku {
  name: string;
  tier: string;
  capacity: number;
  family?: string;
}

/** `Microsoft.Sql/servers`: a logical server. */
export interface SqlServerState {
  /** `/subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/servers/<name>` */
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** Normalized (`eastus`). */
  location: string;
  displayLocation: string;
  /** `<name>.database.windows.net` */
  fullyQualifiedDomainName: string;
  administratorLogin: string;
  version: string;
  state: string;
  createdAt: number;
  /** SQL logins of the server's master database (for the TDS side); a login with a password may log in. */
  logins: LoginSpec[];
  /** User databases on the server (`master` is added on read). */
  databases: SqlDatabaseState[];
  elasticPools: ElasticPoolState[];
}

/** A database on a logical server: a primary, a geo-secondary copy, or a database of its own. */
export interface SqlDatabaseState {
  name: string;
  /** The server's id as written in `SqlServerState.id`. */
  serverId: string;
  sku: SqlSku;
  /** The elastic pool of its server it is in (then `sku` is the pool's tier with the `ElasticPool` name). */
  elasticPoolName?: string;
  maxSizeBytes: number;
  /** Data held (GB): what seeding a new copy moves. */
  sizeGB: number;
  zoneRedundant: boolean;
  backupStorageRedundancy: string;
  collation: string;
  createdAt: number;
  /**
   * Its data: the commit log of the database (replication.ts's `DatabaseState`). For a geo-replicated database the
   * same object is shared by the primary and every secondary copy (`replication.data`): there is one log per
   * database, held on the current primary and hardened per partner.
   */
  data: DatabaseState;
  /** Its geo-replication, shared by the primary and its secondary copies (absent: a database of its own). */
  replication?: SqlGeoReplication;
}

/**
 * A database's geo-replication: which server holds the primary, the one commit log, and a link per secondary. Each
 * commit hardens per partner (`CommitRecord.hardenedAtBy`, by lower-case server id); its `hardenedAt` is when every
 * partner holds it (./sql-replication.ts).
 */
export interface SqlGeoReplication {
  /** The database's name (the same on every server). */
  name: string;
  primaryServerId: string;
  data: DatabaseState;
  partners: SqlPartnerLink[];
}

/** One secondary of a geo-replicated database. */
export interface SqlPartnerLink {
  serverId: string;
  /** The link's name (a GUID, as `replicationLinks/{linkId}` has it). */
  linkId: string;
  startedAt: number;
  /** The copy's seeding from the primary; absent: seeded before the world began. */
  seeding?: DatabaseSeeding;
  /** Nothing hardens on this partner since then (its region, or the primary's, is dark; fault `link-lost`). */
  linkLostSince?: number;
}

/** `Microsoft.Sql/servers/elasticPools`. */
export interface ElasticPoolState {
  name: string;
  serverId: string;
  sku: SqlSku;
  perDatabaseSettings: { minCapacity: number; maxCapacity: number };
  maxSizeBytes: number;
  zoneRedundant: boolean;
  createdAt: number;
}

/** A scale (PATCH of a database's or a pool's SKU) as `databases/{db}/operations` and `elasticPools/{p}/operations` list it. */
export interface SqlScaleOperation {
  /** The operation's name (a GUID, also its async operation's id). */
  id: string;
  kind: 'database' | 'elasticPool';
  serverId: string;
  /** The database's or the pool's name. */
  name: string;
  asyncOperationId: string;
  state: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed';
  startedAt: number;
  endsAt: number;
  current: SqlSku;
  requested: SqlSku;
  /** Moving a database into (a name) or out of (null) an elastic pool. */
  requestedPool?: string | null;
  fails?: { code: string; message: string };
  error?: { code: string; message: string };
}

/** A failover of a server failover group under way. */
export interface SqlFailoverState {
  asyncOperationId: string;
  /** `tryPlanned`: planned, and forced when the planned part cannot complete. */
  kind: 'planned' | 'forced' | 'tryPlanned';
  targetServerId: string;
  requestedAt: number;
  /** Since when the read-write listener points at the target. */
  listenerMovedAt?: number;
  switchAt?: number;
  completeAt?: number;
  failAt?: number;
  failCode?: string;
  failMessage?: string;
  switched: boolean;
  /** The listener's move has been recorded (a `tryPlanned` that forces moves it later). */
  listenerAnnounced?: boolean;
  /** How the switch went (a `tryPlanned` one says which part ran). */
  ran?: 'planned' | 'forced';
}

/** `Microsoft.Sql/servers/failoverGroups`, one resource at each of its servers. */
export interface SqlFailoverGroupState {
  /** `sqldb/<subscription>/<name>` in lower case (a group's name is its DNS name: unique in Azure). */
  key: string;
  subscriptionId: string;
  name: string;
  /** Every server of the group, primary included, by id. */
  serverIds: string[];
  primaryServerId: string;
  /** Member databases by name (the same name on every server). */
  databases: string[];
  readWriteFailoverPolicy: 'Manual' | 'Automatic';
  gracePeriodMinutes?: number;
  readOnlyFailoverPolicy: 'Disabled' | 'Enabled';
  /** The partner the read-only endpoint points to (absent: the first secondary). */
  readOnlyTargetServerId?: string;
  secondaryType: 'Geo' | 'Standby';
  tags?: Record<string, string>;
  /** The ARM operation of its creation, which succeeds when every member is seeded to every partner. */
  creationOperationId?: string;
  failover?: SqlFailoverState;
  /** After a switch the old primary claims Primary a little longer (as the managed-instance groups do). */
  staleClaim?: { serverId: string; until: number };
  switches?: number;
}

/** A server failover group's key. */
export function sqlGroupKey(subscriptionId: string, name: string): string {
  return `sqldb/${subscriptionId}/${name}`.toLowerCase();
}

/** A logical server's ARM id. */
export function sqlServerResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/servers/${name}`;
}

/** Whether two ids (or names) are the same, as ARM compares them (case-insensitively). */
export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
