/**
 * The emulated world's state: plain records the rule modules (managed instances, failover groups, failovers,
 * replication) read and change, and the ARM and TDS servers answer from. No rule lives here.
 */
import type { InstanceSpec, SecurityRuleSpec } from '../world-spec';

/** An ARM error the world raises for a request it refuses; the server turns it into the HTTP answer. */
export class EmulatedArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A managed instance: its world description plus the names Azure derives and its provisioning state. */
export interface InstanceState extends Omit<InstanceSpec, 'location' | 'subscriptionId' | 'databases'> {
  id: string;
  subscriptionId: string;
  location: string;
  displayLocation: string;
  fullyQualifiedDomainName: string;
  dnsZone: string;
  provisioningState: string;
  /** User databases the instance holds in no failover group (a new group from it takes them). */
  databases: OwnDatabase[];
  /** When the world made it (keys registered on it are dated then). */
  createdAt: number;
  /** Databases dropped from it, restorable (`restorableDroppedDatabases`). */
  droppedDatabases: DroppedDatabase[];
  /** Long-term retention backups the world spec lists for it. */
  explicitLtrBackups: ExplicitLtrBackup[];
}

/**
 * A user database an instance holds outside any failover group: from the world description, or what a deleted group
 * left on it (`retained`: its log, which a new group from this instance takes on).
 */
export interface OwnDatabase {
  name: string;
  sizeGB: number;
  lagMs?: number;
  retained?: DatabaseState;
}

/**
 * A database's seeding to the group's secondary: it starts at `startsAt` and is seeded at `endsAt` (`bytes` at the
 * seeding rate); `canceledAt` when the group was deleted before it ended.
 */
export interface DatabaseSeeding {
  startsAt: number;
  endsAt: number;
  bytes: number;
  canceledAt?: number;
}

/**
 * What a commit does to a table's rows: an insert (the default: a row `rowId` with `payload`), an UPDATE giving rows
 * their new payload, or a DELETE of the rows `rowIds` (the rows the statement's WHERE matched when it ran).
 */
export type RowChange =
  { kind: 'update'; rows: { id: number; payload: string }[] } | { kind: 'delete'; rowIds: number[] };

/** One committed transaction of a database's log. */
export interface CommitRecord {
  lsn: number;
  committedAt: number;
  /** When the secondary hardens it (committedAt + the database's lag at the time). */
  hardenedAt: number;
  /**
   * A geo-replicated SQL database's commit: when each partner (by lower-case server id) hardens it; `hardenedAt` is
   * then the latest of them, when every partner holds it (./sql-replication.ts).
   */
  hardenedAtBy?: Record<string, number>;
  payload?: string;
  /** The id of the row an insert made (data, kept by restores and copies); absent: the LSN (older records). */
  rowId?: number;
  /** An UPDATE or a DELETE; absent: an insert. */
  change?: RowChange;
  /** A commit of `fogpilot_smoke` (else `fogpilot_workload`). */
  smoke?: boolean;
}

/**
 * How a database came to be by a restore (ARM `createMode`), and when the restore's long-running operation ends; until
 * then ARM shows the database `Creating` and SQL does not open it.
 */
export interface DatabaseRestore {
  createMode: 'Default' | 'PointInTimeRestore' | 'RestoreLongTermRetentionBackup';
  asyncOperationId: string;
  startedAt: number;
  endsAt: number;
  /** The point whose rows it holds (a point in time, or the LTR backup's time); absent for an empty database. */
  pointInTime?: number;
  sourceDatabaseId?: string;
  restorableDroppedDatabaseId?: string;
  longTermRetentionBackupResourceId?: string;
}

/** A database of a failover group, replicated from the primary to the secondary. */
export interface DatabaseState {
  name: string;
  sizeGB: number;
  lagMs: number;
  nextLsn: number;
  /** Commits on the current primary, oldest first. */
  commits: CommitRecord[];
  /** Writes are refused until then (the role switch window on a new primary). */
  readOnlyUntil: number;
  /** A temporary higher lag (fault `lag-spike`). */
  lagSpike?: { lagMs: number; until: number };
  /** The link to the partner is down since then (fault `link-lost`): nothing hardens. */
  linkLostSince?: number;
  /** Its latest seeding to the secondary (absent: seeded before the world began). */
  seeding?: DatabaseSeeding;
  /** The id the next inserted row gets (absent: worked out from the log when first needed). */
  nextRowId?: number;
  /** When it was created, if after the world began (a restore); absent: the instance's creation. */
  createdAt?: number;
  /** The restore that made it. */
  restore?: DatabaseRestore;
  /** A DELETE accepted: the database is dropped from both sides at `endsAt`. */
  deletion?: { asyncOperationId: string; requestedAt: number; endsAt: number };
}

/**
 * A database dropped from an instance (ARM `restorableDroppedDatabases`), with its whole log: restorable to any point
 * from `earliestRestoreDate` to its deletion.
 */
export interface DroppedDatabase {
  /** `<name>,<deletion time as a Windows file time>`, as the spec's ids are. */
  id: string;
  instanceId: string;
  database: DatabaseState;
  creationDate: number;
  deletionDate: number;
}

/** A long-term retention backup the world spec lists explicitly (the policy's own are derived from the clock). */
export interface ExplicitLtrBackup {
  databaseName: string;
  backupTime: number;
  expiresAt: number;
  /** The rows it holds, as commits (ids 1…n). */
  commits: CommitRecord[];
}

/** The failover a group is going through, with when each of its transitions is due. */
export interface FailoverState {
  asyncOperationId: string;
  kind: 'planned' | 'forced';
  targetInstanceId: string;
  requestedAt: number;
  /**
   * Since when the read-write listener's DNS points at the target: set when an accepted failover is going to switch
   * (new connections through the listener reach the target from then on, writable or not).
   */
  listenerMovedAt?: number;
  /** When the roles switch; undefined when the failover never completes or is going to fail. */
  switchAt?: number;
  completeAt?: number;
  failAt?: number;
  failCode?: string;
  failMessage?: string;
  switched: boolean;
}

/** A failover group: the pair of instances, which one is primary, its policies, databases and running failover. */
export interface GroupState {
  key: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  instanceIds: [string, string];
  primaryInstanceId: string;
  readWriteFailoverPolicy: string;
  gracePeriodMinutes?: number;
  readOnlyFailoverPolicy: string;
  secondaryType: string;
  seedingUntil?: number;
  /** The ARM operation of the group's creation (PUT), which succeeds when the seeding ends. */
  creationOperationId?: string;
  /** When a PUT created the group (Azure cancels a creation still seeding 6 days later). */
  createdAt?: number;
  /** A DELETE accepted at the primary's location: the group is gone at `endsAt`. */
  deletion?: { asyncOperationId: string; requestedAt: number; endsAt: number };
  failover?: FailoverState;
  /** After a switch the old primary's location claims Primary a little longer. */
  staleClaim?: { instanceId: string; until: number };
  /**
   * An old primary that was dark when a forced (or automatic) failover left it behind: when its region returns it is
   * demoted to secondary and reseeded, and the commits it held that never reached the new primary are discarded.
   */
  awaitingDemotion?: { instanceId: string; since: number; discarded: Record<string, number> };
  /** How many failovers the group has switched (each draws its own writable moments from the world's seed). */
  switches?: number;
  databases: DatabaseState[];
}

/** A management operation on an instance (a scale), as `managedInstances/operations` lists it. */
export interface ManagementOperation {
  id: string;
  name: string;
  instanceId: string;
  asyncOperationId: string;
  operation: string;
  friendlyName: string;
  state: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'CancelInProgress' | 'Cancelled';
  startedAt: number;
  /** `Pending` until then, `InProgress` after. */
  runsAt: number;
  endsAt: number;
  /** The steps `operationSteps` lists, with when each is due to run. */
  steps: OperationStep[];
  /** Whether Azure lets this kind of update be cancelled (not a General Purpose storage-only change). */
  cancellable: boolean;
  /** A cancel was accepted then; the operation is `Cancelled` at `cancelEndsAt`. */
  cancelRequestedAt?: number;
  cancelEndsAt?: number;
  current: { vCores: number; storageSizeInGB: number; tier: string; family: string };
  requested: { vCores: number; storageSizeInGB: number; tier: string; family: string };
  fails?: { code: string; message: string };
  error?: { code: string; message: string };
}

/** One step of a management operation (`operationSteps.stepsList`), due from `startsAt` to `endsAt`. */
export interface OperationStep {
  name: string;
  startsAt: number;
  endsAt: number;
}

/** An ARM long-running operation, as its Azure-AsyncOperation and Location URLs answer it. */
export interface AsyncOperation {
  id: string;
  kind:
    | 'failover'
    | 'scale'
    | 'group-create'
    | 'group-delete'
    | 'security-rule-put'
    | 'security-rule-delete'
    | 'database-restore'
    | 'database-delete'
    | 'sql-failover'
    | 'sql-scale'
    | 'sql-group-create'
    | 'sql-group-delete';
  subscriptionId: string;
  location: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: number;
  endTime?: number;
  error?: { code: string; message: string };
  /** What the Location URL answers when done: a group at a location, an instance, or nothing. */
  result:
    | { type: 'group'; groupKey: string; location: string }
    | { type: 'instance'; instanceId: string }
    | { type: 'database'; instanceId: string; databaseName: string }
    | { type: 'sql-group'; groupKey: string; serverId: string }
    | { type: 'sql-database'; serverId: string; databaseName: string }
    | { type: 'sql-elastic-pool'; serverId: string; poolName: string }
    | { type: 'none' };
}

/** A network security rule as the world holds it (the world description's shape). */
export type SecurityRuleState = SecurityRuleSpec;

/**
 * A PUT or DELETE of a security rule the network security group is applying: ARM shows it (`Updating`, `Deleting`)
 * and the rule applies at `dueAt`, when its async operation succeeds.
 */
export interface PendingRuleChange {
  kind: 'put' | 'delete';
  ruleName: string;
  rule?: SecurityRuleState;
  asyncOperationId: string;
  dueAt: number;
}

/** `Microsoft.Network/networkSecurityGroups`: its own rules in force (Azure's default rules are added on read). */
export interface NetworkSecurityGroupState {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  securityRules: SecurityRuleState[];
  pending?: PendingRuleChange;
  /** Made by the world for an instance's undeclared subnet. */
  derived: boolean;
}

export interface SubnetState {
  id: string;
  name: string;
  addressPrefix: string;
  /** The id of the network security group on it. */
  networkSecurityGroupId?: string;
}

/** `Microsoft.Network/virtualNetworks`: its address space and subnets. */
export interface VirtualNetworkState {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  addressPrefixes: string[];
  subnets: SubnetState[];
  /** Made by the world for an instance's undeclared subnet. */
  derived: boolean;
}

/** SQL-side faults (the TDS server consults them). */
export interface SqlFaults {
  /** Logins refused with 18456, by instance name (`*`: any), for a number of attempts. */
  loginFailures: Map<string, number>;
  /**
   * The application a login refusal is for, by the same key (absent: any): a check's own clients (e.g. the writers the
   * storms judge with) then leave the refusal to the runbook it is aimed at.
   */
  loginFailureApps: Map<string, string>;
  /** Extra latency on every SQL request, by instance name (`*`: any). */
  latencyMs: Map<string, number>;
  /** Connections dropped in the middle of a copy-sync wait, by instance name (`*`: any), for a number of waits. */
  resetDuringWait: Map<string, number>;
}

/** Faults that live in the world's behaviour (HTTP-level faults are the server's). */
export interface WorldFaults {
  /** Groups (keys or names) whose next accepted failover never switches the roles. */
  failoverNeverCompletes: Set<string>;
  /** Groups whose next accepted failover ends Failed. */
  failoverFails: Map<string, { code: string; message: string }>;
  /** Instances (names or ids) whose next scale ends Failed. */
  operationFails: Map<string, { code: string; message: string }>;
  /** Regions that answer nothing. */
  darkRegions: Set<string>;
  /** When each dark region went dark (an Automatic group's grace period counts from then). */
  darkSince: Map<string, number>;
  sql: SqlFaults;
  /** Groups (keys) armed with `split-brain`, and the old primary that keeps accepting writes once it has begun. */
  splitBrain: Map<string, SplitBrain>;
}

/**
 * Fault `split-brain`: after the group's next forced failover its old primary keeps accepting writes, as a misbehaving
 * region would. What it accepts goes to a log of its own (never the new primary's), continuing its LSNs.
 */
export interface SplitBrain {
  /** Simulated seconds the old primary keeps accepting writes; absent: until the fault is removed. */
  seconds?: number;
  /** Set at the forced switch: the instance that still accepts writes, since when, until when, its next LSNs. */
  rogue?: { instanceId: string; since: number; until?: number; nextLsn: Map<string, number> };
}

/** Commits of a database that a forced failover lost: the count the workload's own count must match. */
export interface LostCommits {
  group: string;
  database: string;
  lsns: number[];
  payloads: string[];
  at: number;
  /** Why: discarded by the forced switch (default), or accepted by an old primary in split brain (never replicated). */
  cause?: 'forced-failover' | 'split-brain';
}

/** One entry of the world's event log. */
export interface WorldEvent {
  seq: number;
  /** Simulated time the event happened (for scheduled transitions: when they were due). */
  at: number;
  kind: string;
  group?: string;
  instance?: string;
  detail?: Record<string, unknown>;
}

/** Failover requests a group received, by outcome. */
export interface FailoverCounters {
  received: number;
  accepted: number;
  refused: number;
  /** Accepted, by target location. */
  acceptedTo: Record<string, number>;
}

/** What the world's `change` event reports (the read-write listeners follow it). */
export type WorldChange =
  | 'roles-switched'
  | 'failover-completed'
  | 'failover-failed'
  | 'operation-ended'
  | 'world-loaded'
  | 'listener-moved'
  | 'old-primary-demoted'
  | 'group-created'
  | 'group-deleted';

/** A group's key in the world: subscription, resource group and name, lower case. */
export function groupKey(subscriptionId: string, resourceGroup: string, name: string): string {
  return [subscriptionId, resourceGroup, name].map((part) => part.toLowerCase()).join('/');
}

/** A managed instance's ARM resource id. */
export function instanceResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/managedInstances/${name}`;
}
