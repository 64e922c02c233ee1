/**
 * The state of one runbook execution: its steps with evidence (served by the `status` query and shown in the Temporal
 * UI), the abort protocol around the point of no return, the compensation stack, and the report it ends with.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  TemporalFailure,
  TimeoutFailure,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  metricMeter,
  patched,
  upsertSearchAttributes,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { z } from 'zod';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { FogpilotGroup, FogpilotPhase, FogpilotRunbook, SEARCH_ATTRIBUTES_PATCH } from '../search-attributes';
import { describeInputProblems, parseRunbookInput } from '../../domain/inputs';
import type { ResolvedGroup } from '../../domain/group-ref';
import { afterSentFailover } from '../../domain/next-steps';
import {
  FailureTypes,
  Outcomes,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
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
import { RESULT_SHAPE_MEMO, summarizeFailure, summarizeReport } from './report-summary';

export interface StepHandle {
  /** Adds to the step's evidence (merged, later keys win). */
  evidence(evidence: Evidence): void;
  /** Replaces the live line shown in the UI for this step. */
  detail(text: string): void;
}

/**
 * The patch that made a lock holder report its live status to the workflow that started it, and that workflow end
 * in the holder's outcome phase: histories recorded before replay without those signals and upserts.
 */
export const LOCK_HOLDER_STATUS_PATCH = 'fogpilot-lock-holder-status';
/** Memo key on a lock holder started by `runUnderGroupLock`: the id of the workflow to send its status to. */
export const STATUS_MIRROR_MEMO = 'fogpilotStatusTo';

/** Thrown inside the runbook when an abort stops it before the point of no return (after compensations ran). */
export class RunbookAborted extends Error {
  override readonly name = 'RunbookAborted';
}

interface Compensation {
  name: string;
  title: string;
  undo: (step: StepHandle) => Promise<void>;
}

/** A signal's `{ by, reason }` as recorded: trimmed, bounded, never empty (signals are not validated by Temporal). */
export function actorOf(message: Partial<ActorMessage> | undefined): ActorMessage {
  const text = (value: unknown, max: number) => (typeof value === 'string' ? value.trim().slice(0, max) : '');
  return { by: text(message?.by, 200) || 'unknown', reason: text(message?.reason, 1000) || '(no reason given)' };
}

export function nowIso(): string {
  return new Date().toISOString();
}

export class RunbookRun {
  readonly runbook: RunbookType;
  readonly startedAt = nowIso();
  groupLabel: string;
  group?: ResolvedGroup;
  phase = 'starting';
  requestedBy?: string;
  reason?: string;
  readonly steps: StepRecord[] = [];
  readonly warnings: string[] = [];
  readonly legs: FailoverLeg[] = [];
  /** The ARM calls of this run, as its metered activities reported them (see `arm-meter`). */
  readonly armCalls: ArmCallCount = armCallsOfThisRun();
  gates?: GateResult[];
  plan?: PlanItem[];
  intent?: IntentRecord;
  rolesBefore?: RolesRecord;
  rolesAfter?: RolesRecord;
  awaiting?: RunbookStatus['awaiting'];
  delegatedTo?: string;
  error?: { type: string; message: string };
  report?: RunbookReport;
  abort?: AbortRecord;
  /** Runbook-specific parts of the report (approval, drill, failbackPending, fleet, …), set by the runbook. */
  readonly extra: Pick<
    RunbookReport,
    'approval' | 'dataLossEstimate' | 'drill' | 'failbackPending' | 'fleet' | 'readiness' | 'scale'
  > = {};

  /** Once true, a failover may have been sent: aborts and cancellation wait for a stable group. */
  private pastPointOfNoReturn = false;
  private preChangeScope?: CancellationScope;
  /** The current `awaiting` is a wait the runbook may be pre-empted in (see `setAwaiting`). */
  private awaitingPreemptible = false;
  private compensations: Compensation[] = [];
  private cancelRequested = false;
  private readonly abortListeners: ((message: ActorMessage) => void)[] = [];
  /** Set on a lock holder whose starter delegated to it: where its status goes as it changes. */
  private statusMirrorTarget?: string;
  private statusMirrorDirty = false;
  /** The status send under way, if any; it never rejects. */
  private statusMirrorSend?: Promise<void>;
  /** On a starter that delegated: the lock holder's latest status. */
  private lockHolderStatus?: RunbookStatus;
  /** Set by a starter (a fleet) that keeps only a summary of each run: the report stays here, in `status`. */
  private readonly returnsSummary: boolean;

  constructor(runbook: RunbookType, groupLabel: string) {
    this.runbook = runbook;
    this.groupLabel = groupLabel;
    const info = workflowInfo();
    const mirrorTarget = info.memo?.[STATUS_MIRROR_MEMO];
    if (typeof mirrorTarget === 'string' && mirrorTarget === info.parent?.workflowId) {
      this.statusMirrorTarget = mirrorTarget;
    }
    this.returnsSummary = info.memo?.[RESULT_SHAPE_MEMO] === 'summary';
    this.tag([{ key: FogpilotRunbook, value: runbook }]);
    setHandler(statusQuery, () => this.status());
    setHandler(lockHolderStatusSignal, (status) => {
      this.lockHolderStatus = status;
    });
    setHandler(abortSignal, (message) => this.receiveAbort(message, 'signal'));
    // A Temporal cancellation request is an abort from the platform: same protocol, same safety.
    CancellationScope.current().cancelRequested.catch(() => {
      this.cancelRequested = true;
      this.receiveAbort({ by: 'temporal', reason: 'workflow cancellation requested' }, 'cancellation');
    });
  }

  /** Sets search attributes, for runs recorded after they were introduced. */
  private tag(pairs: SearchAttributeUpdatePair[]): void {
    if (patched(SEARCH_ATTRIBUTES_PATCH)) upsertSearchAttributes(pairs);
  }

  /** The group is known: its name goes on the run (search attribute `FogpilotGroup`) and in the status. */
  identify(group: ResolvedGroup): void {
    this.group = group;
    this.groupLabel = group.displayName;
    this.tag([{ key: FogpilotGroup, value: group.displayName }]);
  }

  /** Validates raw input against `schema`; fails the workflow at once with `InvalidInput` naming each field. */
  validateInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
    const parsed = parseRunbookInput(schema, raw);
    if (parsed.ok) return parsed.value;
    const message = describeInputProblems(this.runbook, parsed.problems);
    this.steps.push({
      name: 'validate-input',
      title: 'Validate the input',
      state: 'failed',
      startedAt: nowIso(),
      endedAt: nowIso(),
      evidence: { problems: parsed.problems },
      error: message,
    });
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message,
      details: [{ problems: parsed.problems }],
    });
  }

  /** True once an abort (signal or cancellation) has been received. */
  get abortRequested(): boolean {
    return this.abort !== undefined;
  }

  get isPastPointOfNoReturn(): boolean {
    return this.pastPointOfNoReturn;
  }

  /** Calls `listener` on an abort; at once when one has already arrived. */
  onAbort(listener: (message: ActorMessage) => void): void {
    this.abortListeners.push(listener);
    if (this.abort && this.abort.effect !== 'ignored-already-finished') listener(this.abort);
  }

  private receiveAbort(message: ActorMessage, via: 'signal' | 'cancellation'): void {
    if (this.abort) {
      log.info('Abort already received; ignoring the repeat', { ...this.logContext(), by: message.by });
      return;
    }
    const finished = this.report !== undefined;
    this.abort = {
      ...actorOf(message),
      receivedAt: nowIso(),
      effect: finished
        ? 'ignored-already-finished'
        : this.pastPointOfNoReturn
          ? 'deferred-until-stable'
          : 'compensated-before-failover',
    };
    log.warn('Abort received', { ...this.logContext(), via, effect: this.abort.effect, by: this.abort.by });
    if (this.abort.effect === 'compensated-before-failover') this.preChangeScope?.cancel();
    for (const listener of this.abortListeners) listener(this.abort);
    this.showDetails();
  }

  warn(message: string): void {
    this.warnings.push(message);
    log.warn(message, this.logContext());
  }

  /** What every log line of a runbook carries besides the SDK's workflow id and type. */
  logContext(): Record<string, unknown> {
    return { runbook: this.runbook, group: this.groupLabel, step: this.steps[this.steps.length - 1]?.name };
  }

  /** Runs one named step: visible in `status` and the UI while it runs, recorded with its evidence when it ends. */
  async step<T>(name: string, title: string, work: (step: StepHandle) => Promise<T>): Promise<T> {
    const record: StepRecord = { name, title, state: 'running', startedAt: nowIso() };
    this.steps.push(record);
    log.info(`Step ${name}: ${title}`, this.logContext());
    this.phase = name;
    this.tag([{ key: FogpilotPhase, value: name }]);
    this.showDetails();
    const handle: StepHandle = {
      evidence: (evidence) => {
        record.evidence = { ...record.evidence, ...evidence };
      },
      detail: (text) => this.showDetails(text),
    };
    try {
      const value = await work(handle);
      record.state = 'succeeded';
      return value;
    } catch (error) {
      record.state = isCancellation(error) || error instanceof RunbookAborted ? 'skipped' : 'failed';
      record.error = describeFailure(error).message;
      throw error;
    } finally {
      record.endedAt = nowIso();
      this.showDetails();
      stepDurations().record((Date.parse(record.endedAt) - Date.parse(record.startedAt!)) / 1000, {
        runbook: this.runbook,
        step: metricStepName(name),
        state: record.state,
      });
    }
  }

  /** Records a step that was decided without running (e.g. a scale that was not needed). */
  skipStep(name: string, title: string, why: string, evidence?: Evidence): void {
    this.steps.push({
      name,
      title,
      state: 'skipped',
      startedAt: nowIso(),
      endedAt: nowIso(),
      evidence: { why, ...evidence },
    });
  }

  /** Registers an undo for a change made before the point of no return. */
  addCompensation(name: string, title: string, undo: (step: StepHandle) => Promise<void>): void {
    this.compensations.push({ name, title, undo });
  }

  /**
   * Runs the part of the runbook that may still be undone. An abort (or cancellation) inside it cancels what runs,
   * then the compensations run; any failure inside it runs them too. Both leave the group as it was.
   */
  async beforePointOfNoReturn<T>(work: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope();
    this.preChangeScope = scope;
    if (this.abortRequested) scope.cancel();
    try {
      const value = await scope.run(work);
      if (this.abortRequested) throw new RunbookAborted('abort received before the failover was sent');
      return value;
    } catch (error) {
      await this.runCompensations();
      if (this.abortRequested && (isCancellation(error) || error instanceof RunbookAborted)) {
        throw new RunbookAborted('abort received before the failover was sent');
      }
      throw error;
    } finally {
      this.preChangeScope = undefined;
    }
  }

  /**
   * Crosses the point of no return: from here on the runbook finishes what it sent before it heeds an abort, and the
   * compensations are dropped (what was changed stays changed).
   */
  passPointOfNoReturn(): void {
    if (this.abortRequested) throw new RunbookAborted('abort received before the failover was sent');
    this.pastPointOfNoReturn = true;
    this.compensations = [];
  }

  /** Back before the next point of no return (e.g. the failback leg, which has its own). */
  resetPointOfNoReturn(): void {
    this.pastPointOfNoReturn = false;
  }

  private async runCompensations(): Promise<void> {
    const pending = this.compensations.reverse();
    this.compensations = [];
    await CancellationScope.nonCancellable(async () => {
      for (const compensation of pending) {
        try {
          await this.step(`compensate/${compensation.name}`, compensation.title, compensation.undo);
        } catch (error) {
          this.warn(
            `Compensation "${compensation.title}" failed: ${describeFailure(error).message}. ` +
              'Undo it by hand; the failover was not sent.',
          );
        }
      }
    });
  }

  /**
   * Shows what the runbook waits for. `preemptible`: a wait the runbook may be asked to leave for an emergency (an
   * approval, `failback.after`, a soak, a failback's wait for synchronizing); it counts as such only inside
   * `beforePointOfNoReturn`, where an abort leaves nothing half done.
   */
  setAwaiting(kind: string, detail: string, options: { preemptible?: boolean } = {}): void {
    this.awaiting = { kind, since: nowIso(), detail };
    this.awaitingPreemptible = options.preemptible === true;
    this.showDetails(detail);
  }

  clearAwaiting(): void {
    this.awaiting = undefined;
    this.awaitingPreemptible = false;
    this.mirrorStatus();
  }

  /** Waiting in a preemptible wait, before the point of no return, not ended. */
  private get preemptible(): boolean {
    return (
      this.awaiting !== undefined &&
      this.awaitingPreemptible &&
      this.preChangeScope !== undefined &&
      !this.pastPointOfNoReturn &&
      this.report === undefined
    );
  }

  /**
   * Sends the status to the starter that delegated to this lock holder. One signal at a time, each after the last was
   * delivered: Temporal does not keep separate signals to another workflow in order. Changes made meanwhile go as one.
   */
  private mirrorStatus(): void {
    if (!this.statusMirrorTarget) return;
    this.statusMirrorDirty = true;
    if (this.statusMirrorSend) return;
    this.statusMirrorSend = this.sendStatusMirror(this.statusMirrorTarget);
  }

  private async sendStatusMirror(target: string): Promise<void> {
    try {
      while (this.statusMirrorDirty) {
        // Let the rest of this activation change the status first: its changes travel together.
        await Promise.resolve();
        this.statusMirrorDirty = false;
        // The report goes to the starter as this workflow's result; the live view does not need it twice.
        await getExternalWorkflowHandle(target).signal(lockHolderStatusSignal, { ...this.status(), report: undefined });
      }
    } catch {
      // The starter has ended (terminated, timed out): nobody is left to show the status to.
      this.statusMirrorTarget = undefined;
    } finally {
      this.statusMirrorSend = undefined;
    }
  }

  /** A starter that delegated ends in the lock holder's outcome: in `status` and in `FogpilotPhase`. */
  private adoptDelegatedOutcome(report: RunbookReport): void {
    this.report = report;
    this.phase = report.outcome;
    this.awaiting = undefined;
    if (patched(LOCK_HOLDER_STATUS_PATCH)) this.tag([{ key: FogpilotPhase, value: report.outcome }]);
  }

  status(): RunbookStatus {
    const holder = this.lockHolderStatus;
    return {
      runbook: this.runbook,
      group: this.groupLabel,
      workflowId: workflowInfo().workflowId,
      // While the lock holder works, its phase and what it waits for are this run's too.
      phase: holder && !this.report ? holder.phase : this.phase,
      // Once ended, the holder's report has its whole timeline (its last live update may still be on its way).
      steps:
        this.delegatedTo && this.report
          ? [...this.steps, ...this.report.steps]
          : holder
            ? [...this.steps, ...holder.steps]
            : this.steps,
      awaiting: holder && !this.report ? holder.awaiting : this.awaiting,
      preemptible: holder && !this.report ? holder.preemptible === true : this.preemptible,
      pastPointOfNoReturn: holder && !this.report ? holder.pastPointOfNoReturn === true : this.pastPointOfNoReturn,
      delegatedTo: this.delegatedTo,
      error: this.error ?? (this.report ? undefined : holder?.error),
      report: this.report,
    };
  }

  /** The one-paragraph live view in the Temporal UI ("current details"). */
  private showDetails(detail?: string): void {
    const current = this.steps[this.steps.length - 1];
    this.mirrorStatus();
    const lines = [`**${this.runbook}** · ${this.groupLabel} · phase \`${this.phase}\``];
    if (current) lines.push(`step \`${current.name}\` (${current.state}): ${current.title}`);
    if (detail) lines.push(detail);
    if (this.abort) lines.push(`abort from ${this.abort.by}: ${this.abort.effect}`);
    setCurrentDetails(lines.join('\n\n'));
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
      // A lock holder ends only once its starter has its last status: no signal is left in flight at the end.
      const sending = this.statusMirrorSend;
      if (sending) await CancellationScope.nonCancellable(() => sending);
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
      if (isCancellation(error) && this.cancelRequested) {
        const report = this.finish(this.pastPointOfNoReturn ? Outcomes.abortedAfterFailover : Outcomes.aborted);
        throw new CancelledFailure('runbook cancelled at a safe point', [report]);
      }
      if (!(error instanceof TemporalFailure)) throw error; // a bug: let the workflow task retry once it is fixed
      const failure = this.delegatedTo ? describeFailure(error) : this.documented(describeFailure(error));
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
    if (this.cancelRequested) throw new CancelledFailure('runbook cancelled at a safe point', [report]);
    return report;
  }

  /**
   * A failure of a type no runbook documents: a step whose reads or requests Azure did not answer for their whole
   * retry budget (the transient `ArmUnavailable`, `ArmThrottled`, `SqlUnavailable` of its last attempt, or a timeout).
   * It ends as `AzureUnavailable`, saying what this run had sent by then, so the person reading it knows where the
   * group stands and that no second failover may be sent.
   */
  private documented(failure: ReturnType<typeof describeFailure>): ReturnType<typeof describeFailure> {
    if ((Object.values(FailureTypes) as string[]).includes(failure.type)) return failure;
    const step = [...this.steps].reverse().find((entry) => entry.state === 'failed')?.name;
    const sent = this.legs.filter((leg) => leg.failoverSent).at(-1);
    const kind = this.runbook === 'forcedFailover' ? 'forced' : 'planned';
    const next = (to: string, from: string) =>
      this.group ? afterSentFailover(this.group, { to, from, kind }) : 'Do not send another failover.';
    const where = sent
      ? sent.allWritableAt
        ? `The failover to ${sent.to} completed (every database writable at ${sent.allWritableAt}); ${sent.to} is ` +
          `primary. ${next(sent.to, sent.from)}`
        : `The failover to ${sent.to} was sent${sent.requestedAt ? ` at ${sent.requestedAt}` : ''} and its end was not ` +
          `confirmed: Azure may have switched the roles. ${next(sent.to, sent.from)}`
      : this.pastPointOfNoReturn
        ? `A failover request may have reached Azure. ${this.legs.at(-1) ? next(this.legs.at(-1)!.to, this.legs.at(-1)!.from) : 'Do not send another failover.'}`
        : 'No failover was sent by this run: start it again once Azure answers.';
    return {
      type: FailureTypes.AzureUnavailable,
      message:
        `${step ? `Step ${step}: ` : ''}Azure did not answer within the retry budget (last error, ${failure.type}: ` +
        `${failure.message}). ${where}`,
      details: [{ lastError: { type: failure.type, message: failure.message } }, ...failure.details],
    };
  }

  private finish(outcome: Outcome): RunbookReport {
    const info = workflowInfo();
    runbookCounter().add(1, { runbook: this.runbook, outcome });
    this.tag([{ key: FogpilotPhase, value: outcome }]);
    log.info('Runbook ended', { ...this.logContext(), outcome });
    this.phase = outcome;
    this.awaiting = undefined;
    this.mirrorStatus();
    const first = this.legs[0];
    this.report = {
      runbook: this.runbook,
      workflowId: info.workflowId,
      runId: info.runId,
      group: this.group
        ? {
            displayName: this.group.displayName,
            subscriptionId: this.group.subscriptionId,
            resourceGroup: this.group.resourceGroup,
            name: this.group.name,
            homePrimary: this.group.primaryLocation,
            homeSecondary: this.group.secondaryLocation,
          }
        : { displayName: this.groupLabel },
      outcome,
      ...(this.intent ? { intent: this.intent } : {}),
      requestedBy: this.requestedBy,
      reason: this.reason,
      startedAt: this.startedAt,
      endedAt: nowIso(),
      rolesBefore: this.rolesBefore,
      rolesAfter: this.rolesAfter,
      rtoSeconds: first?.rtoSeconds,
      legs: this.legs,
      gates: this.gates,
      plan: this.plan,
      steps: this.steps,
      armCalls: this.armCalls,
      warnings: this.warnings,
      abort: this.abort,
      ...this.extra,
      error: this.error,
    };
    this.showDetails();
    return this.report;
  }
}

// Metrics go through Temporal's meter: the worker exports them on its Prometheus endpoint, and replay emits none.
const runbookCounter = () =>
  metricMeter.createCounter('fogpilot_runbooks', 'runs', 'Runbooks ended, by type and outcome');
const stepDurations = () =>
  metricMeter.createHistogram('fogpilot_step_duration', 'float', 's', 'Duration of runbook steps, by runbook and step');

/** A step name without its per-group part (`collect/fog-sales` → `collect`), so metric labels stay few. */
function metricStepName(name: string): string {
  const [head, ...rest] = name.split('/');
  return head === 'collect' || head === 'evaluate' || rest.length === 0 ? head! : name;
}

/** The runbook report a failure carries first in its details, if it carries one. */
function reportIn(details: unknown[]): RunbookReport | undefined {
  const first = details[0] as Partial<RunbookReport> | undefined;
  return first && typeof first === 'object' && typeof first.runbook === 'string' && Array.isArray(first.steps)
    ? (first as RunbookReport)
    : undefined;
}

/** The failure type and message a person should see, whatever layer raised it. */
export function describeFailure(error: unknown): { type: string; message: string; details: unknown[] } {
  let current: unknown = error;
  // Activity and child-workflow failures wrap the failure that says what happened.
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  if (current instanceof ApplicationFailure) {
    return { type: current.type ?? 'Error', message: current.message, details: [...(current.details ?? [])] };
  }
  if (current instanceof TimeoutFailure) {
    return { type: 'Timeout', message: `timed out (${current.timeoutType})`, details: [] };
  }
  if (current instanceof Error) return { type: current.name, message: current.message, details: [] };
  return { type: 'Error', message: String(current), details: [] };
}
