/**
 * What a runbook gives back: its report (the result), the short summary a fleet's children return instead, and its live
 * status (the `status` query, and the signal a lock holder relays it with).
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunbookType } from './runbooks';
import type { Outcome } from './outcomes';
import type {
  AbortRecord,
  ApprovalRecord,
  ArmCallCount,
  RefusalRecord,
  DataLossRecord,
  FailoverLeg,
  GateResult,
  IntentRecord,
  PlanItem,
  RolesRecord,
  StepRecord,
} from './records';
import type {
  DataLossEstimate,
  DrillSummary,
  FailbackPendingRecord,
  FleetSummary,
  ReadinessSummary,
  ScaleRecord,
  EstablishRecord,
  RestoreRecord,
  ProtectionRecord,
  HookRecord,
  ObjectiveReading,
} from './report-sections';
import type { WatchStatus } from './watch';

/** The runbook's live progress. */
export const statusQuery = defineQuery<RunbookStatus>('status');
/**
 * From a lock holder to the workflow that started it under the lock (a runbook started under any other id): the
 * holder's live status, so `status` on the id a person started shows the real progress and what it waits for.
 */
export const lockHolderStatusSignal = defineSignal<[RunbookStatus]>('fogpilotLockHolderStatus');

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
  /** Approvals and rejections the access rules refused while the run waited (absent when none). */
  refusals?: RefusalRecord[];
  /** Forced failover: the data-loss estimate shown while it waited for approval. */
  dataLossEstimate?: DataLossEstimate;
  drill?: DrillSummary;
  /** Outcome `failbackPending`: why the failback did not run, and the command that runs it. */
  failbackPending?: FailbackPendingRecord;
  fleet?: FleetSummary;
  readiness?: ReadinessSummary;
  scale?: ScaleRecord;
  establish?: EstablishRecord;
  /** `restoreDatabase`: the source, the restored database, its checks, the swap and the secondary's copy. */
  restore?: RestoreRecord;
  /** `protectWorkload`: each VM's protection and backup, each Cosmos DB account's backup policy. */
  protection?: ProtectionRecord;
  /**
   * The run against its group's declared objectives (`objectives.rto`, `objectives.rpo` in fogpilot.yaml): measured,
   * target, met or missed. Absent when the group declares none or nothing was failed over.
   */
  objectives?: { rto?: ObjectiveReading; rpo?: ObjectiveReading };
  /** The group's hooks this run ran, each its redacted request and answer (absent when it ran none). */
  hooks?: HookRecord[];
  /** `watchGroups`: the groups, their roles as last read, and the role changes it saw. */
  watch?: WatchStatus;
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
  /** Who started the run, as its input's `requestedBy` says (the principal label fogpilot's entry points set). */
  requestedBy?: string;
  /** Approvals and rejections the access rules refused so far (absent when none). */
  refusals?: RefusalRecord[];
  error?: { type: string; message: string };
  report?: RunbookReport;
}
