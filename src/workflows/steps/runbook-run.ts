/**
 * One runbook execution, composed of its parts: the step log (`step-log`), the change guard (`change-guard`), the
 * delegation to the group's lock holder (`lock-delegation`), the ARM meter (`arm-meter`) and the report (`report`).
 * Runbooks pass it to their steps. Each workflow file sets the handlers of its messages itself, as it starts:
 * `statusQuery` → `status()`, `lockHolderStatusSignal` → `receiveLockHolderStatus`, `abortSignal` → `receiveAbort`.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  TemporalFailure,
  isCancellation,
  log,
  metricMeter,
  deprecatePatch,
  workflowInfo,
} from '@temporalio/workflow';
import type { z } from 'zod';
import { FogpilotPhase } from '../search-attributes';
import { describeInputProblems, parseRunbookInput } from '../../domain/inputs';
import type { ResolvedGroup } from '../../domain/group-ref';
import {
  FailureTypes,
  Outcomes,
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
import { ChangeGuard } from './change-guard';
import { LOCK_HOLDER_STATUS_PATCH, LockDelegation } from './lock-delegation';
import { buildReport, describeFailure, documentedFailure, reportIn, type ReportExtras } from './report';
import { RESULT_SHAPE_MEMO, summarizeFailure, summarizeReport } from './report-summary';
import { RunbookAborted, StepLog, nowIso, type StepHandle } from './step-log';

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
  private readonly returnsSummary: boolean;

  constructor(runbook: RunbookType, groupLabel: string) {
    this.runbook = runbook;
    this.delegation = new LockDelegation(() => this.status());
    this.returnsSummary = workflowInfo().memo?.[RESULT_SHAPE_MEMO] === 'summary';
    this.stepLog = new StepLog(runbook, groupLabel, {
      changed: () => this.delegation.mirror(),
      footnote: () => (this.abort ? `abort from ${this.abort.by}: ${this.abort.effect}` : undefined),
    });
    this.guard = new ChangeGuard(this.stepLog, () => this.report !== undefined);
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
      error: this.error,
      report: this.report,
    });
  }

  /**
   * Runs the runbook body and turns its end into the report: returned when it succeeded, was a dry run or was
   * aborted; attached to a non-retryable failure of the matching type otherwise. A run whose starter asked for a
   * summary (memo `fogpilotResultShape`) returns and attaches the summary instead; `status` keeps the report.
   */
  async execute(body: () => Promise<Outcome | RunbookReport>): Promise<RunbookReport> {
    try {
      const report = await this.conclude(body);
      // Typed as the report for the runbooks' public signatures; a starter that asked for a summary knows better.
      return this.returnsSummary ? (summarizeReport(report) as unknown as RunbookReport) : report;
    } catch (error) {
      throw this.returnsSummary ? summarizeFailure(error) : error;
    } finally {
      await this.delegation.drain();
    }
  }

  private async conclude(body: () => Promise<Outcome | RunbookReport>): Promise<RunbookReport> {
    let outcome: Outcome;
    try {
      const result = await body();
      if (typeof result !== 'string') {
        if (this.delegatedTo) this.adoptDelegatedOutcome(result);
        else this.report = result;
        return result;
      }
      outcome = result;
    } catch (error) {
      if (error instanceof RunbookAborted) {
        // Stopped between legs (a drill's soak, the wait before a failback), the first failover stays done.
        const changed = this.legs.some((leg) => leg.failoverSent);
        return this.finish(changed ? Outcomes.abortedAfterFailover : Outcomes.aborted);
      }
      if (isCancellation(error) && this.guard.cancelRequested) {
        const report = this.finish(this.isPastPointOfNoReturn ? Outcomes.abortedAfterFailover : Outcomes.aborted);
        throw new CancelledFailure('runbook cancelled at a safe point', [report]);
      }
      if (!(error instanceof TemporalFailure)) throw error; // a bug: let the workflow task retry once it is fixed
      const described = describeFailure(error);
      const failure = this.delegatedTo
        ? described
        : documentedFailure(described, {
            runbook: this.runbook,
            steps: this.steps,
            legs: this.legs,
            group: this.group,
            pastPointOfNoReturn: this.isPastPointOfNoReturn,
          });
      this.error = failure;
      // A runbook that delegated to the group's lock holder ends with the lock holder's report: it did the work.
      const delegated = this.delegatedTo ? reportIn(failure.details) : undefined;
      if (delegated) this.adoptDelegatedOutcome(delegated);
      const report = delegated ?? this.finish(Outcomes.failed);
      throw ApplicationFailure.create({
        type: failure.type,
        nonRetryable: true,
        message: failure.message,
        details: delegated ? failure.details : [report, ...failure.details],
      });
    }
    const report = this.finish(outcome);
    if (this.guard.cancelRequested) throw new CancelledFailure('runbook cancelled at a safe point', [report]);
    return report;
  }

  /** A starter that delegated ends in the lock holder's outcome: in `status` and in `FogpilotPhase`. */
  private adoptDelegatedOutcome(report: RunbookReport): void {
    this.report = report;
    this.stepLog.phase = report.outcome;
    this.stepLog.awaiting = undefined;
    deprecatePatch(LOCK_HOLDER_STATUS_PATCH);
    this.stepLog.tag([{ key: FogpilotPhase, value: report.outcome }]);
  }

  private finish(outcome: Outcome): RunbookReport {
    const info = workflowInfo();
    runbookCounter().add(1, { runbook: this.runbook, outcome });
    this.stepLog.tag([{ key: FogpilotPhase, value: outcome }]);
    log.info('Runbook ended', { ...this.logContext(), outcome });
    this.stepLog.phase = outcome;
    this.stepLog.awaiting = undefined;
    this.delegation.mirror();
    this.report = buildReport({
      runbook: this.runbook,
      workflowId: info.workflowId,
      runId: info.runId,
      group: this.group,
      groupLabel: this.groupLabel,
      outcome,
      intent: this.intent,
      requestedBy: this.requestedBy,
      reason: this.reason,
      startedAt: this.startedAt,
      endedAt: nowIso(),
      rolesBefore: this.rolesBefore,
      rolesAfter: this.rolesAfter,
      legs: this.legs,
      gates: this.gates,
      plan: this.plan,
      steps: this.steps,
      armCalls: this.armCalls,
      warnings: this.warnings,
      abort: this.abort,
      extra: this.extra,
      error: this.error,
    });
    this.stepLog.showDetails();
    return this.report;
  }
}

// Metrics go through Temporal's meter: the worker exports them on its Prometheus endpoint, and replay emits none.
const runbookCounter = () =>
  metricMeter.createCounter('fogpilot_runbooks', 'runs', 'Runbooks ended, by type and outcome');
