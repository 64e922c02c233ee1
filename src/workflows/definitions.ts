/**
 * fogpilot's public contracts: workflow type names, messages, failure types and the shapes of status and reports.
 *
 * This file imports nothing that runs only inside a workflow, so the CLI, the HTTP trigger and typed clients import it
 * without pulling in workflow code. Names here are public API: never rename them.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DurationInput } from '../domain/durations';

export type {
  PlannedFailoverInput,
  FailbackInput,
  PlannedFailoverParams,
  FailbackParams,
  ForcedFailoverInput,
  ForcedFailoverParams,
  ScaleGroupInput,
  ScaleGroupParams,
  DrDrillInput,
  DrDrillParams,
  FleetFailoverInput,
  FleetFailoverParams,
  ReadinessCheckInput,
  ReadinessCheckParams,
  InputProblem,
} from '../domain/inputs';
export type { GroupCoordinates, GroupRef, ResolvedGroup } from '../domain/group-ref';

/** The task queue fogpilot workers poll (override with `FOGPILOT_TASK_QUEUE`). */
export const DEFAULT_TASK_QUEUE = 'fogpilot';

/** Workflow type names, as operators type them in `temporal workflow start --type …`. */
export const RunbookTypes = {
  plannedFailover: 'plannedFailover',
  forcedFailover: 'forcedFailover',
  failback: 'failback',
  scaleGroup: 'scaleGroup',
  drDrill: 'drDrill',
  fleetFailover: 'fleetFailover',
  readinessCheck: 'readinessCheck',
} as const;
export type RunbookType = (typeof RunbookTypes)[keyof typeof RunbookTypes];

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
} as const;
export type FailureType = (typeof FailureTypes)[keyof typeof FailureTypes];

/** Retryable failure types activities raise for passing faults; Temporal retries them, honouring `nextRetryDelay`. */
export const TransientFailureTypes = {
  ArmThrottled: 'ArmThrottled',
  ArmUnavailable: 'ArmUnavailable',
  SqlUnavailable: 'SqlUnavailable',
} as const;

/** `{ by, reason }`: who sent a message and why; recorded in the report. */
export interface ActorMessage {
  by: string;
  reason: string;
}

/** Approve a runbook that waits for a human (forced failover). */
export const approveSignal = defineSignal<[ActorMessage]>('approve');
/** Reject a runbook that waits for a human; it ends without change. */
export const rejectSignal = defineSignal<[ActorMessage]>('reject');
/**
 * Stop a runbook at the next safe point. Before the failover is sent, compensations run (a scaled-up secondary is
 * scaled back) and the runbook ends `aborted`. After it, the abort waits until the group is stable and the runbook ends
 * `aborted-after-failover`.
 */
export const abortSignal = defineSignal<[ActorMessage]>('abort');
/** The runbook's live progress. */
export const statusQuery = defineQuery<RunbookStatus>('status');
/**
 * From a lock holder to the workflow that started it under the lock (a runbook started under any other id): the
 * holder's live status, so `status` on the id a person started shows the real progress and what it waits for.
 */
export const lockHolderStatusSignal = defineSignal<[RunbookStatus]>('fogpilotLockHolderStatus');

export const StepStates = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated'] as const;
export type StepState = (typeof StepStates)[number];

/** Evidence is plain JSON: what was read, decided or sent, so a person can check the runbook's reasoning. */
export type Evidence = Record<string, unknown>;

export interface StepRecord {
  /** Stable machine name, e.g. `verify-sync` or `failback/await-roles`. */
  name: string;
  /** What the step does, for people. */
  title: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  evidence?: Evidence;
  error?: string;
}

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

export interface RolesRecord {
  primary: string;
  secondary: string;
}

export interface ArmCallCount {
  reads: number;
  writes: number;
  /** Answers of 429 or 503 that were waited out. */
  throttled: number;
}

/** A preflight gate's verdict. */
export interface GateResult {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  message: string;
  /** What to do about it, when it did not pass. */
  action?: string;
  evidence: Evidence;
}

/** One direction of a role change: the failover, or the failback. */
export interface FailoverLeg {
  name: 'failover' | 'failback';
  from: string;
  to: string;
  /** When the failover request was made (workflow time). */
  requestedAt?: string;
  /** When every database on the new primary answered READ_WRITE. */
  allWritableAt?: string;
  /** Measured RTO: request → every database writable on the new primary. */
  rtoSeconds?: number;
  /** Whether this run's own failover request was accepted (a 409 busy answer is not). */
  failoverSent: boolean;
  /**
   * `another-operation`: Azure refused this run's request (409) or a failover was already under way, and that
   * operation made the switch; the data-loss verdict is then not this run's proof.
   */
  switchedBy?: 'this-run' | 'another-operation';
  dataLoss: DataLossRecord;
}

export interface DataLossRecord {
  /** `none-proven`: every database's copy sync returned before a planned (synchronous) failover. */
  kind: 'none-proven' | 'estimated' | 'unknown' | 'not-applicable';
  detail: string;
  databases?: { database: string; evidence: string }[];
}

/** What a runbook set out to do, fixed when it started: the region to make primary, and why that one. */
export interface IntentRecord {
  primary: string;
  /** `targetLocation` from the input, or the group's configured home region the runbook defaults to. */
  source: 'targetLocation' | 'home-secondary' | 'home-primary';
  detail: string;
}

export interface PlanItem {
  step: string;
  action: string;
}

export interface AbortRecord extends ActorMessage {
  receivedAt: string;
  effect: 'compensated-before-failover' | 'deferred-until-stable' | 'ignored-already-finished';
}

/** Who allowed a forced failover, and how the approval arrived. */
export interface ApprovalRecord extends ActorMessage {
  at: string;
  /** `signal`: an `approve` signal; `input`: pre-approved by the caller; `fleet`: the fleet's one approval. */
  via: 'signal' | 'input' | 'fleet';
}

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
}

/** The scaling a `scaleGroup` run did, in the order it did it. */
export interface ScaleRecord {
  /** `mixed`: some changes grow and some shrink; run as an up pass, then a down pass. */
  direction: 'up' | 'down' | 'mixed' | 'none';
  target: { vCores?: number; storageSizeInGB?: number; sku?: string };
  operations: { instance: string; location: string; role: string; from: Evidence; to: Evidence; state: string }[];
}

/** The result of every runbook. */
export interface RunbookReport {
  runbook: RunbookType;
  workflowId: string;
  runId: string;
  group: {
    displayName: string;
    subscriptionId?: string;
    resourceGroup?: string;
    name?: string;
    homePrimary?: string;
    homeSecondary?: string;
  };
  outcome: Outcome;
  /** The runbook's intent, when it has one (failovers and failbacks): the region it was to make primary. */
  intent?: IntentRecord;
  requestedBy?: string;
  reason?: string;
  startedAt: string;
  endedAt: string;
  rolesBefore?: RolesRecord;
  rolesAfter?: RolesRecord;
  /** RTO of the first leg, in seconds (see `legs` for each direction). */
  rtoSeconds?: number;
  legs: FailoverLeg[];
  gates?: GateResult[];
  plan?: PlanItem[];
  steps: StepRecord[];
  armCalls: ArmCallCount;
  warnings: string[];
  abort?: AbortRecord;
  /** Forced failover: who approved, and how. */
  approval?: ApprovalRecord;
  /** Forced failover: the data-loss estimate shown while it waited for approval. */
  dataLossEstimate?: DataLossEstimate;
  drill?: DrillSummary;
  /** Outcome `failbackPending`: why the failback did not run, and the command that runs it. */
  failbackPending?: FailbackPendingRecord;
  fleet?: FleetSummary;
  readiness?: ReadinessSummary;
  scale?: ScaleRecord;
  error?: { type: string; message: string };
}

/**
 * What a runbook started by `fleetFailover` returns instead of its report, and carries first in its failure's details
 * instead of the report, so that the fleet's history holds a few hundred bytes per group rather than every group's
 * timeline. The full report stays with the run: its `status` query's `report`, which `FogpilotClient.result` and
 * `fogpilot report <workflowId>` read when the result is a summary. A run returns one when its memo
 * `fogpilotResultShape` is `summary` (set by the fleet on its children; not meant for other callers).
 */
export interface RunbookSummary {
  resultShape: 'summary';
  runbook: RunbookType;
  workflowId: string;
  runId: string;
  group: string;
  outcome: Outcome;
  rolesBefore?: RolesRecord;
  rolesAfter?: RolesRecord;
  /** RTO of the first leg, in seconds. */
  rtoSeconds?: number;
  /** The first leg's data-loss verdict, without the per-database list (`databases` counts it). */
  dataLoss?: { kind: DataLossRecord['kind']; detail: string; databases?: number };
  error?: { type: string; message: string };
}

/** True for a {@link RunbookSummary} (a fleet child's result), false for a full report or anything else. */
export function isRunbookSummary(value: unknown): value is RunbookSummary {
  return typeof value === 'object' && value !== null && (value as { resultShape?: unknown }).resultShape === 'summary';
}

export interface RunbookStatus {
  runbook: RunbookType;
  group: string;
  workflowId: string;
  phase: string;
  steps: StepRecord[];
  /** Set while the runbook waits on something outside itself (a human, Azure, a timer). */
  awaiting?: { kind: string; since: string; detail: string };
  /**
   * True while the runbook only waits, with nothing of its current leg sent: for approval (forcedFailover), for
   * `failback.after` (plannedFailover), in a drill's soak, or for the group to synchronize again (failback). An abort
   * then stops it with nothing left half done, so a forcedFailover may pre-empt it (see `forcedFailover`). Absent in
   * statuses of runs from before this field.
   */
  preemptible?: boolean;
  /** True from the moment a failover may have been sent until the runbook is back before its next one (or ends). */
  pastPointOfNoReturn?: boolean;
  /** Set when the mutating part runs in another workflow (the group's lock holder). */
  delegatedTo?: string;
  error?: { type: string; message: string };
  report?: RunbookReport;
}

/** Durations the runbooks accept, re-exported for typed clients. */
export type { DurationInput };
