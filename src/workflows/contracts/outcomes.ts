/**
 * How a runbook ends: its outcome when it returns, or its failure type (`ApplicationFailure.type`) when it fails.
 * Names here are public API: never rename them.
 */

/** How a runbook that returned ended: its report's `outcome`. */
export const Outcomes = {
  succeeded: 'succeeded',
  /** `dryRun`: every gate evaluated, the plan returned, nothing changed. */
  dryRun: 'dry-run',
  /** Stopped before any failover was sent; compensations ran. */
  aborted: 'aborted',
  /** An abort arrived after the failover was sent; the runbook waited until the group was stable and stopped there. */
  abortedAfterFailover: 'aborted-after-failover',
  /** A fleet where some groups succeeded and others did not; the fleet report lists each. */
  partial: 'partial',
  /** A drill with `ifGroupBusy: 'skip'` found another runbook holding the group and did nothing. */
  skipped: 'skipped',
  /**
   * The region the runbook was to make primary already was, with the group healthy: nothing was sent. A retried
   * webhook call, a schedule firing twice or an operator running the command again ends here.
   */
  alreadyPrimary: 'alreadyPrimary',
  /**
   * A drill, or a plannedFailover with `failback`, failed over but did not fail back: replication had not caught up
   * (the group synchronizing, every database's lag within `maxLagSeconds`) within `failbackWaitTimeout`. Nothing was
   * sent toward home; the primary stays in the other region. Needs a person: the report's `failbackPending.command`
   * (`fogpilot failback <group>`) waits until replication has caught up, then fails back.
   */
  failbackPending: 'failbackPending',
  failed: 'failed',
} as const;
export type Outcome = (typeof Outcomes)[keyof typeof Outcomes];

/**
 * Failure types a runbook ends with (`ApplicationFailure.type`). Each is non-retryable: the runbook stopped at a stated,
 * safe point, and its details carry the report.
 */
export const FailureTypes = {
  /** The input is malformed; the message names the field. Nothing was read or changed. */
  InvalidInput: 'InvalidInput',
  /** The group is not in the inventory, or Azure does not know it at a location. */
  GroupNotFound: 'GroupNotFound',
  /** One or more preflight gates failed; nothing was changed. Details list each gate with its evidence. */
  PreflightFailed: 'PreflightFailed',
  /** The failover target is not the secondary (Azure said so, or the roles read say so). */
  NotSecondary: 'NotSecondary',
  /** Another runbook holds the group's lock, or Azure reports the group or an instance busy. */
  GroupBusy: 'GroupBusy',
  /** Azure would not accept the failover request within the send window; no failover is under way. */
  FailoverNotSent: 'FailoverNotSent',
  /** Azure reports that the failover it accepted ended Failed or Canceled; the roles did not change. */
  FailoverFailed: 'FailoverFailed',
  /** The failover was sent but the roles did not switch within `roleSwitchTimeout`. */
  RoleSwitchTimeout: 'RoleSwitchTimeout',
  /** The roles switched but a database on the new primary stayed read-only beyond `writableTimeout`. */
  WritableTimeout: 'WritableTimeout',
  /** `sp_wait_for_database_copy_sync` did not return within `syncTimeout`; nothing was failed over. */
  SyncTimeout: 'SyncTimeout',
  /** A database has no replication link to its partner. */
  ReplicationLinkMissing: 'ReplicationLinkMissing',
  /** A scaling operation ended Failed or Canceled in Azure, or did not end within `scaleTimeout`. */
  ScaleFailed: 'ScaleFailed',
  /**
   * The group did not return to synchronizing, or its replication lag did not come within `maxLagSeconds`, within the
   * wait (failback). Nothing was changed.
   */
  NotSynchronizing: 'NotSynchronizing',
  /** A human rejected the approval. Nothing was changed. */
  ApprovalRejected: 'ApprovalRejected',
  /** Nobody approved within `approvalTimeout`. Nothing was changed. */
  ApprovalTimeout: 'ApprovalTimeout',
  /**
   * An `approve` or `reject` update from someone the access rules do not allow (the requester, or an identity without
   * `approve` on the group). Only the update fails: the refusal is recorded in the run's status and report, nothing
   * else changes, and the run keeps waiting.
   */
  ApprovalRefused: 'ApprovalRefused',
  /**
   * A drill ran to its end (the group is back home) but a check failed: a smoke check, or an acknowledged write
   * missing afterwards. Details carry the drill report.
   */
  DrillCheckFailed: 'DrillCheckFailed',
  /** A fleet failover in which no group succeeded. Details carry the fleet report with each group's failure. */
  FleetFailed: 'FleetFailed',
  /** Azure refused a request for a reason it states (a 4xx that is a fact); details carry ARM's `error.code`. */
  AzureRequestRejected: 'AzureRequestRejected',
  /** The credential was refused or lacks a permission. */
  AzureAuthorizationFailed: 'AzureAuthorizationFailed',
  /** SQL refused the login: wrong credentials, or the principal has no user in the database. */
  SqlLoginFailed: 'SqlLoginFailed',
  /**
   * Azure (ARM or SQL) did not answer a step for its whole retry budget: an outage, a dark region, throttling that
   * never eased. The message says what the run had sent by then: nothing, or a failover whose end it could not confirm.
   */
  AzureUnavailable: 'AzureUnavailable',
  /**
   * establishGroup: the group was created, but its seeding did not end well: Azure ended the creation Failed or
   * Canceled (it cancels one still seeding after 6 days), or it outlived `seedingTimeout`. The message says where the
   * group stands and what to do.
   */
  SeedingFailed: 'SeedingFailed',
  /**
   * A hook failed: a `before` hook (nothing was changed, the primary is where it was), or an `after` hook configured
   * with `onFailure: fail` (the switch stands). The report's `hooks` holds each hook's redacted request and answer.
   */
  HookFailed: 'HookFailed',
  /**
   * restoreDatabase: a check of the restored database failed (a query's value differed, or SQL refused it). The
   * damaged database was not touched; the restored one is kept for inspection. The report's `restore.checks` holds
   * each check's expected and read value.
   */
  VerificationFailed: 'VerificationFailed',
  /**
   * restoreDatabase: Azure ended a restore or a drop Failed or Canceled, or it outlived `restoreTimeout`. The message
   * says which databases exist and which command continues.
   */
  RestoreFailed: 'RestoreFailed',
  /**
   * protectWorkload: a backup job ended Failed or Cancelled, outlived `backupTimeout`, or left no recovery point; or a
   * Cosmos DB migration to continuous backup failed or outlived `migrationTimeout`. The report's `protection` lists
   * what each resource reached.
   */
  BackupFailed: 'BackupFailed',
} as const;
export type FailureType = (typeof FailureTypes)[keyof typeof FailureTypes];

/** Retryable failure types activities raise for passing faults; Temporal retries them, honouring `nextRetryDelay`. */
export const TransientFailureTypes = {
  ArmThrottled: 'ArmThrottled',
  ArmUnavailable: 'ArmUnavailable',
  SqlUnavailable: 'SqlUnavailable',
} as const;
