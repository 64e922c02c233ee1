/** Sections of the report that belong to one kind of runbook: forced failover, drill, failback, fleet, readiness, scale. */
import type { Outcome } from './outcomes';
import type { DataLossRecord, Evidence, GateResult } from './records';

/**
 * How one database's share of the loss is known:
 * - `measured`: the primary's `last_commit` minus the secondary's, both read before the failover;
 * - `upper-bound`: the time since the secondary's `last_commit` (the primary did not answer): it counts idle time too;
 * - `lost-whole`: the secondary holds no usable copy (seeding, pending, or no copy at all): everything in it is lost;
 * - `none`: nothing is at risk (the target already holds the primary copy);
 * - `unknown`: not enough was read; `reason` says why.
 */
export type DatabaseLossKind = 'measured' | 'upper-bound' | 'lost-whole' | 'none' | 'unknown';

/** One database in a {@link DataLossEstimate}. Reports from runs before per-database estimates carry only the first three fields. */
export interface DatabaseLossEstimate {
  database: string;
  /** The primary's `replication_lag_sec` (documented for the primary only), when the primary answered. */
  lagSeconds?: number | null;
  /** The primary's `last_replication`, when it answered; older reports hold what the secondary reported. */
  lastReplication?: string;
  kind?: DatabaseLossKind;
  /** Seconds of commits at risk (`measured`, `upper-bound`; 0 for `none`). */
  seconds?: number;
  /** Where the figure comes from, e.g. "primary last_commit vs secondary last_commit". */
  source?: string;
  /** Why it is lost whole or unknown. */
  reason?: string;
  /** `replication_state_desc` on the secondary (the failover target): anything but CATCH_UP is listed. */
  replicationState?: string;
  secondaryLastCommit?: string;
  primaryLastCommit?: string;
}

/** What a forced failover may lose, as known before it was sent. */
export interface DataLossEstimate {
  /** The most seconds of commits at risk in any database, when known (an upper bound when `upperBound`). */
  seconds?: number;
  /** Where the figure comes from, in a sentence. */
  basis: string;
  databases: DatabaseLossEstimate[];
  /** Set by per-database estimates (`last_commit` on each side): each database then has `kind` and `source`. */
  method?: 'last-commit';
  /** `seconds` comes from at least one database bounded from the secondary alone. */
  upperBound?: boolean;
  /** Databases the secondary holds no usable copy of: their whole content is lost. */
  lostWhole?: string[];
  /** Databases whose loss could not be estimated. */
  unknown?: string[];
}

/** Application-visible effects measured by a drill's write probe through the read-write listener. */
export interface DrillProbeRecord {
  database: string;
  listener: string;
  attempted: number;
  acknowledged: number;
  inDoubt: number;
  refused: number;
  /** Time with no successful write, summed over the windows below. */
  downtimeSeconds: number;
  windows: { from: string; to: string; seconds: number }[];
  /** Acknowledged writes missing afterwards (must be 0). */
  lostAcknowledged: number;
  errors: Record<string, number>;
}

export interface DrillSummary {
  rtoFailoverSeconds?: number;
  rtoFailbackSeconds?: number;
  soakSeconds: number;
  /** The application-visible side, when `smoke.write` ran a probe. */
  probe?: DrillProbeRecord;
  smokeChecks: { name: string; status: 'pass' | 'fail'; at: string; detail: string }[];
  /** Zero-loss verdict: every acknowledged probe write present and copy sync proven before each failover. */
  dataLoss: 'none' | 'lost' | 'not-measured';
  stepTimings: { name: string; seconds: number }[];
  /** The trusted recovery points read before the drill changed anything (absent in older runs). */
  recoveryPoints?: RecoveryPointsSection;
}

/** A failback that did not run (outcome `failbackPending`): what was read, and the command that finishes the job. */
export interface FailbackPendingRecord {
  /** The region that is primary now, and stays so until the failback runs. */
  primary: string;
  /** The region the failback was to make primary again. */
  home: string;
  /** The exact command that fails back: it waits until replication has caught up, then fails over. */
  command: string;
  /** What the last look read: why the failback did not start. */
  reason: string;
  waitedSeconds: number;
}

export interface FleetMember {
  group: string;
  workflowId?: string;
  outcome: Outcome | 'skipped' | 'not-started';
  /** Why it was skipped, or the failure's type and message. */
  detail?: string;
  error?: { type: string; message: string };
  rtoSeconds?: number;
  dataLoss?: DataLossRecord;
}

export interface FleetSummary {
  mode: 'planned' | 'forced';
  region?: string;
  concurrency: number;
  counts: Record<string, number>;
  members: FleetMember[];
}

export interface ReadinessGroupResult {
  group: string;
  verdict: 'pass' | 'warn' | 'fail';
  checks: GateResult[];
}

export interface ReadinessSummary {
  verdict: 'pass' | 'warn' | 'fail';
  groups: ReadinessGroupResult[];
  /** The trusted recovery points of each group's databases and of the configured workload (absent in older runs). */
  recoveryPoints?: RecoveryPointsSection;
}

/**
 * Whether a recovery point meets its objective: `met`, `missed`, or `unknown` (it could not be read, or no objective
 * is configured: `why` says which).
 */
export type RecoveryPointState = 'met' | 'missed' | 'unknown';

/** One entry's recovery point against its configured objective. */
export interface RecoveryPointJudgement {
  /** The configured RPO (a duration such as `1h`), or null when none is configured. */
  rpo: string | null;
  rpoMs: number | null;
  /** The newest point it can be restored to, when known. */
  newestRecoveryPoint: string | null;
  /** How old that point was when read. */
  age: string | null;
  ageSeconds: number | null;
  state: RecoveryPointState;
  /** Why it is missed or unknown. */
  why?: string;
}

/** A database of the group's primary: its restore window, its newest backups and its LTR policy. */
export interface DatabaseRecoveryPoint extends RecoveryPointJudgement {
  database: string;
  /** The start of its point-in-time restore window (ARM). */
  earliestRestorePoint: string | null;
  /** Its newest full or log backup (msdb backup history of the primary). */
  newestBackup: string | null;
  newestBackupAge: string | null;
  /** Its long-term retention policy (`W=P4W M=… Y=…`), `none`, or `not read`. */
  ltrPolicy: string;
  newestLtrBackup: string | null;
}

export interface VmRecoveryPoint extends RecoveryPointJudgement {
  name: string;
  vmId: string;
  /** A protected item exists in the vault (null: not read). */
  protected: boolean | null;
  protectionState: string | null;
  policy: string | null;
  /** The last backup that completed, as the protected item reports it. */
  lastSuccessfulBackup: string | null;
}

export interface CosmosRecoveryPoint extends RecoveryPointJudgement {
  name: string;
  accountId: string;
  /** `Periodic` or `Continuous` (null: not read). */
  policyType: string | null;
  tier: string | null;
  migrationStatus: string | null;
  /** A periodic account's backup interval: its RPO. */
  backupInterval: string | null;
  /** A continuous account's earliest restorable time. */
  earliestRestorableTime: string | null;
}

/** One group's part of the trusted recovery points. */
export interface GroupRecoveryPoints {
  group: string;
  /** `objectives.backupRpo`, or null when the group declares none. */
  backupRpo: string | null;
  databases: DatabaseRecoveryPoint[];
  /** Why the databases could not be listed. */
  unreadable?: string;
  readAt: string;
}

/** The workload of the worker's configuration (`workload:`). */
export interface WorkloadRecoveryPoints {
  vault: string | null;
  vmRpo: string | null;
  cosmosRpo: string | null;
  vms: VmRecoveryPoint[];
  cosmosAccounts: CosmosRecoveryPoint[];
  /** Why the workload could not be read at all. */
  unreadable?: string;
  readAt: string;
}

/** "Trusted recovery points": per group, and for the workload when the configuration names one. */
export interface RecoveryPointsSection {
  groups: GroupRecoveryPoints[];
  workload?: WorkloadRecoveryPoints;
}

export type { HookRecord } from '../../hooks/types';
export type { ObjectiveReading } from '../../notify/events';

/** What an `establishGroup` run created and how its seeding went. */
export interface EstablishRecord {
  primaryInstanceId: string;
  secondaryInstanceId: string;
  /** `created`: this run (or the run it continued) sent the PUT; `already-established`: the group existed. */
  creation: 'created' | 'already-established';
  /** The creation's Azure-AsyncOperation, when this run sent it. */
  trackingId?: string;
  seeding: {
    since: string;
    endedAt?: string;
    /** Reads of the seeding so far, over every run of the workflow (continue-as-new included). */
    polls: number;
    /** Per database, as the secondary's seeding DMV reported it last. */
    databases: {
      database: string;
      state?: string;
      percent?: number;
      transferredBytes?: number;
      databaseBytes?: number;
      estimatedCompletionAt?: string;
    }[];
  };
}

/** One check of a restored database: what was expected, what was read. */
export interface RestoreCheckRecord {
  name: string;
  kind: 'query' | 'rowCount';
  /** The query, or the table counted. */
  reads: string;
  /** `= 42`, `>= 100`. */
  expected: string;
  /** What the check read (absent when SQL refused it). */
  read?: string | number | boolean | null;
  error?: string;
  passed: boolean;
}

/** A database a `restoreDatabase` run created (or found created by its own earlier attempt). */
export interface RestoredDatabaseRecord {
  name: string;
  creation: 'created' | 'adopted';
  /** What it was restored from, in words (`sales at 2026-12-06T02:15:00Z`, `LTR backup of 2026-11-29T00:00:00Z`). */
  from: string;
  sentAt?: string;
  onlineAt?: string;
  trackingId?: string;
}

/** What a `restoreDatabase` run did: the source, the restore, the checks, the swap and the secondary's copy. */
export interface RestoreRecord {
  database: string;
  primaryInstanceId: string;
  secondaryInstanceId: string;
  /** The point restored to (the LTR backup's time for an LTR restore). */
  pointInTime: string;
  mode: 'pointInTime' | 'longTermBackup';
  longTermBackupId?: string;
  /** The source's restore window as ARM gave it. */
  earliestRestorePoint?: string;
  restored?: RestoredDatabaseRecord;
  checks: RestoreCheckRecord[];
  /** With `swap`: the damaged database dropped, the verified contents restored under its name, the damaged kept aside. */
  swap?: {
    droppedAt?: string;
    /** The restorable dropped database the damaged one became. */
    droppedId?: string;
    inPlace?: RestoredDatabaseRecord;
    checks?: RestoreCheckRecord[];
    /** The damaged contents, as of the drop, restored under another name for salvage. */
    damagedAside?: RestoredDatabaseRecord;
    /** While `database` did not exist: from the drop until the restore under its name was online. */
    unavailable?: { from: string; to?: string };
  };
  /** The final database's copy on the geo-secondary. */
  secondary?: { database: string; status: string; seededAt?: string; polls: number };
}

/** The scaling a `scaleGroup` run did, in the order it did it. */
export interface ScaleRecord {
  /** `mixed`: some changes grow and some shrink; run as an up pass, then a down pass. */
  direction: 'up' | 'down' | 'mixed' | 'none';
  /** A Managed Instance group's vCores, storage, SKU; a SQL Database group's SKU per database and per pool. */
  target: {
    vCores?: number;
    storageSizeInGB?: number;
    sku?: string;
    databases?: Record<string, ScaleSkuRecord>;
    elasticPools?: Record<string, ScaleSkuRecord>;
  };
  /** Why the operations run in this order (runs recorded before it was introduced lack it). */
  why?: string;
  /**
   * `instance` is the managed instance, or (a SQL Database group) the server whose databases and pools the operation
   * scaled; `from` / `to` its sizes (a server's: `databases` and `elasticPools`, each with its SKU).
   */
  operations: {
    instance: string;
    location: string;
    role: string;
    from: Evidence;
    to: Evidence;
    state: string;
    /** SQL Database groups: the step that ran it, and each database or pool it changed, from which SKU to which. */
    step?: string;
    changes?: {
      type: 'database' | 'elasticPool';
      name: string;
      from: ScaleSkuRecord;
      to: ScaleSkuRecord;
      direction: 'up' | 'down';
    }[];
  }[];
}

/** A database's or elastic pool's SKU in a {@link ScaleRecord}. */
export interface ScaleSkuRecord {
  name: string;
  tier?: string;
  capacity?: number;
  family?: string;
}

/** One VM as a `protectWorkload` run found it and left it. */
export interface VmProtectionRecord {
  vmId: string;
  name: string;
  /** What the run did: left it (`already-protected`, `other-policy`), or protected it and backed it up. */
  action: 'already-protected' | 'other-policy' | 'protected';
  /** Its protection in the vault before the run (`unprotected`, or Azure's protectionState). */
  before: string;
  /** The policy it was protected under before the run, if any. */
  policyBefore?: string;
  /** Its protection after the run (Azure's protectionState). */
  after?: string;
  policy?: string;
  /** The protection request: `sent` by this run, or `exists` (found done by a retried attempt). */
  protection?: 'sent' | 'exists';
  /** The on-demand backup: its job, how it ended, and the recovery point it left. */
  backup?: {
    /** `sent` by this run, or `adopted` (a job of the VM this run had not seen, or one running). */
    request: 'sent' | 'adopted';
    keepUntil: string;
    jobId?: string;
    jobStatus?: string;
    startTime?: string;
    endTime?: string;
    error?: string;
    polls?: number;
    recoveryPointTime?: string;
  };
  /** The newest recovery point known when the run ended. */
  lastRecoveryPoint?: string;
}

/** One Cosmos DB account as a `protectWorkload` run found it and left it. */
export interface CosmosProtectionRecord {
  accountId: string;
  name: string;
  location: string;
  /** `already-continuous`: left as it was; `migrated`: migrated by this run; `followed`: a migration already ran. */
  action: 'already-continuous' | 'migrate' | 'migrated' | 'followed';
  /** `Periodic` or `Continuous`, before the run. */
  policyBefore: string;
  policyAfter?: string;
  /** The continuous tier (`Continuous7Days`, `Continuous30Days`). */
  tier?: string;
  /** The migration's state as the account reports it (`InProgress`, `Completed`, `Failed`), when there is one. */
  migrationStatus?: string;
  migrationStartedAt?: string;
  /** The oldest point it can be restored to (continuous accounts). */
  oldestRestorableTime?: string;
}

/** What a `protectWorkload` run found and did, per VM and per Cosmos DB account. */
export interface ProtectionRecord {
  vault?: string;
  policy?: string;
  policyId?: string;
  vms: VmProtectionRecord[];
  accounts: CosmosProtectionRecord[];
}
