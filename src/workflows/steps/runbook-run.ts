/**
 * One runbook execution, composed of its parts: the step log (`step-log`), the change guard (`change-guard`), the
 * delegation to the group's lock holder (`lock-delegation`), the ARM meter (`arm-meter`), the ending (`run-ending`) and
 * the report (`report`).
 * Runbooks pass it to their steps. Each workflow file sets the handlers of its messages itself, as it starts:
 * `statusQuery` → `status()`, `lockHolderStatusSignal` → `receiveLockHolderStatus`, `abortSignal` → `receiveAbort`.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { describeInputProblems, parseRunbookInput } from '../../domain/inputs';
import type { ResolvedGroup } from '../../domain/group-ref';
import {
  FailureTypes,
  type AbortRecord,
  type ActorMessage,
  type ArmCallCount,
  type Evidence,
  type FailoverLeg,
  type GateResult,
  type IntentRecord,
  type Outcome,
  type PlanItem,
  type RolesRecord,
  type RunbookReport,
  type RunbookStatus,
  type RunbookType,
  type StepRecord,
} from '../definitions';
import { armCallsOfThisRun } from './arm-meter';
import type { ApprovalDesk } from './approval';
import { ChangeGuard } from './change-guard';
import { LockDelegation } from './lock-delegation';
import { type ReportExtras } from './report';
import { RESULT_SHAPE_MEMO } from './report-summary';
import { executeRunbook } from './run-ending';
import { StepLog, nowIso, type StepHandle } from './step-log';
import { RunNotifier } from './notifications';

export { actorOf } from './change-guard';
export { LOCK_HOLDER_STATUS_PATCH, STATUS_MIRROR_MEMO } from './lock-delegation';
export { describeFailure } from './report';
export { RunbookAborted, nowIso, type StepHandle } from './step-log';

export class RunbookRun {
  readonly runbook: RunbookType;
  readonly startedAt = nowIso();
  requestedBy?: string;
  reason?: string;
  readonly legs: FailoverLeg[] = [];
  /** The ARM calls of this run, as its metered activities reported them (see `arm-meter`). */
  readonly armCalls: ArmCallCount = armCallsOfThisRun();
  gates?: GateResult[];
  plan?: PlanItem[];
  intent?: IntentRecord;
  rolesBefore?: RolesRecord;
  rolesAfter?: RolesRecord;
  error?: { type: string; message: string };
  report?: RunbookReport;
  /** Runbook-specific parts of the report (approval, drill, failbackPending, fleet, …), set by the runbook. */
  readonly extra: ReportExtras = {};

  readonly stepLog: StepLog;
  readonly guard: ChangeGuard;
  readonly delegation: LockDelegation;
  /** Set by a starter (a fleet) that keeps only a summary of each run: the report stays here, in `status`. */
  readonly returnsSummary: boolean;
  /** The run's judged decisions (see `ApprovalDesk`), on a runbook that waits for approval. */
  approvalDesk?: ApprovalDesk;
  /** The run's notifications (see `notifications`), on once the group is resolved and this run does the work. */
  readonly notifier: RunNotifier;
  private approvalRequests = 0;

  constructor(runbook: RunbookType, groupLabel: string) {
    this.runbook = runbook;
    this.delegation = new LockDelegation(() => this.status());
    this.returnsSummary = workflowInfo().memo?.[RESULT_SHAPE_MEMO] === 'summary';
    this.stepLog = new StepLog(runbook, groupLabel, {
      changed: (forPerson) => this.delegation.mirror(forPerson),
      footnote: () => (this.abort ? `abort from ${this.abort.by}: ${this.abort.effect}` : undefined),
    });
    this.guard = new ChangeGuard(this.stepLog, () => this.report !== undefined);
    this.notifier = new RunNotifier(runbook, () => this.stepLog.group);
  }

  get groupLabel(): string {
    return this.stepLog.groupLabel;
  }
  get group(): ResolvedGroup | undefined {
    return this.stepLog.group;
  }
  get phase(): string {
    return this.stepLog.phase;
  }
  get steps(): StepRecord[] {
    return this.stepLog.steps;
  }
  get warnings(): string[] {
    return this.stepLog.warnings;
  }
  get awaiting(): RunbookStatus['awaiting'] {
    return this.stepLog.awaiting;
  }
  get abort(): AbortRecord | undefined {
    return this.guard.abort;
  }
  get delegatedTo(): string | undefined {
    return this.delegation.delegatedTo;
  }
  set delegatedTo(workflowId: string | undefined) {
    this.delegation.delegatedTo = workflowId;
  }

  /** The group is known: its name goes on the run (search attribute `FogpilotGroup`) and in the status. */
  identify(group: ResolvedGroup): void {
    this.stepLog.identify(group);
  }

  /** Validates raw input against `schema`; fails the workflow at once with `InvalidInput` naming each field. */
  validateInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
    const parsed = parseRunbookInput(schema, raw);
    if (parsed.ok) return parsed.value;
    const message = describeInputProblems(this.runbook, parsed.problems);
    this.stepLog.failedStep('validate-input', 'Validate the input', message, { problems: parsed.problems });
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message,
      details: [{ problems: parsed.problems }],
    });
  }

  /** True once an abort (signal or cancellation) has been received. */
  get abortRequested(): boolean {
    return this.guard.abortRequested;
  }
  get isPastPointOfNoReturn(): boolean {
    return this.guard.isPastPointOfNoReturn;
  }
  /** Calls `listener` on an abort; at once when one has already arrived. */
  onAbort(listener: (message: ActorMessage) => void): void {
    this.guard.onAbort(listener);
  }
  /** The `abort` signal's handler (a cancellation request reaches the guard by itself). */
  receiveAbort(message: ActorMessage): void {
    this.guard.receiveAbort(message, 'signal');
  }
  /** The `lockHolderStatus` signal's handler, on a run that delegated to the lock holder. */
  receiveLockHolderStatus(status: RunbookStatus): void {
    this.delegation.receiveHolderStatus(status);
  }

  warn(message: string): void {
    this.stepLog.warn(message);
  }
  /** What every log line of a runbook carries besides the SDK's workflow id and type. */
  logContext(): Record<string, unknown> {
    return this.stepLog.logContext();
  }
  /** Runs one named step: visible in `status` and the UI while it runs, recorded with its evidence when it ends. */
  step<T>(name: string, title: string, work: (step: StepHandle) => Promise<T>): Promise<T> {
    return this.stepLog.step(name, title, work);
  }
  /** Records a step that was decided without running (e.g. a scale that was not needed). */
  skipStep(name: string, title: string, why: string, evidence?: Evidence): void {
    this.stepLog.skipStep(name, title, why, evidence);
  }

  /** Registers an undo for a change made before the point of no return. */
  addCompensation(name: string, title: string, undo: (step: StepHandle) => Promise<void>): void {
    this.guard.addCompensation(name, title, undo);
  }
  /**
   * Runs the part of the runbook that may still be undone. An abort (or cancellation) inside it cancels what runs,
   * then the compensations run; any failure inside it runs them too. Both leave the group as it was.
   */
  beforePointOfNoReturn<T>(work: () => Promise<T>): Promise<T> {
    return this.guard.beforePointOfNoReturn(work);
  }
  /**
   * Crosses the point of no return: from here on the runbook finishes what it sent before it heeds an abort, and the
   * compensations are dropped (what was changed stays changed).
   */
  passPointOfNoReturn(): void {
    this.guard.passPointOfNoReturn();
  }
  /** Back before the next point of no return (e.g. the failback leg, which has its own). */
  resetPointOfNoReturn(): void {
    this.guard.resetPointOfNoReturn();
  }

  /**
   * Shows what the runbook waits for. `preemptible`: a wait the runbook may be asked to leave for an emergency (an
   * approval, `failback.after`, a soak, a failback's wait for synchronizing); it counts as such only inside
   * `beforePointOfNoReturn`, where an abort leaves nothing half done.
   */
  setAwaiting(kind: string, detail: string, options: { preemptible?: boolean } = {}): void {
    this.stepLog.setAwaiting(kind, detail, options.preemptible === true);
    // The start of the notification is issued now; the run does not wait for it.
    // Each request for a decision is its own notification (a forced failover may ask again after a planned attempt).
    if (kind === 'approval')
      void this.notifier.notify('awaitingApproval', { message: detail }, String(++this.approvalRequests));
  }
  clearAwaiting(): void {
    this.stepLog.clearAwaiting();
  }

  /** What the `status` query answers. */
  status(): RunbookStatus {
    return this.delegation.shown({
      runbook: this.runbook,
      group: this.stepLog.groupLabel,
      workflowId: workflowInfo().workflowId,
      phase: this.stepLog.phase,
      steps: this.stepLog.steps,
      awaiting: this.stepLog.awaiting,
      // Waiting in a preemptible wait, before the point of no return, not ended.
      preemptible:
        this.stepLog.awaiting !== undefined &&
        this.stepLog.awaitingPreemptible &&
        this.guard.changesUndoable &&
        this.report === undefined,
      pastPointOfNoReturn: this.guard.isPastPointOfNoReturn,
      delegatedTo: this.delegation.delegatedTo,
      ...(this.requestedBy !== undefined ? { requestedBy: this.requestedBy } : {}),
      ...(this.extra.refusals ? { refusals: this.extra.refusals } : {}),
      error: this.error,
      report: this.report,
    });
  }

  /**
   * Runs the runbook body and turns its end into the report: returned when it succeeded, was a dry run or was
   * aborted; attached to a non-retryable failure of the matching type otherwise (see `run-ending`).
   */
  execute(body: () => Promise<Outcome | RunbookReport>): Promise<RunbookReport> {
    return executeRunbook(this, body);
  }
}
