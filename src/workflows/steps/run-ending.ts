/**
 * How a runbook ends: its body's outcome (or failure) becomes the report, which is returned when the run succeeded,
 * was a dry run or was aborted, and attached to a non-retryable failure of the matching type otherwise. A run whose
 * starter asked for a summary (memo `fogpilotResultShape`) returns and attaches the summary instead; `status` keeps the
 * report. A run that delegated to the group's lock holder ends in the lock holder's report.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TemporalFailure,
  deprecatePatch,
  isCancellation,
  log,
  metricMeter,
  workflowInfo,
} from '@temporalio/workflow';
import { FogpilotPhase } from '../search-attributes';
import { Outcomes, type Outcome, type RunbookReport } from '../definitions';
import { LOCK_HOLDER_STATUS_PATCH } from './lock-delegation';
import { buildReport, describeFailure, documentedFailure, reportIn, type ReportFacts } from './report';
import { summarizeFailure, summarizeReport } from './report-summary';
import type { ChangeGuard } from './change-guard';
import type { LockDelegation } from './lock-delegation';
import type { StepLog } from './step-log';
import { RunbookAborted, nowIso } from './step-log';
import type { RunNotifier } from './notifications';
import { objectivesOf, recordMeasuredObjectives } from './objectives';

/** What ending a run reads and sets: the facts of its report, and the parts that show and guard it (`RunbookRun`). */
export interface EndingRun extends Omit<ReportFacts, 'workflowId' | 'runId' | 'outcome' | 'endedAt' | 'error'> {
  readonly returnsSummary: boolean;
  readonly stepLog: StepLog;
  readonly guard: ChangeGuard;
  readonly delegation: LockDelegation;
  readonly delegatedTo?: string;
  readonly isPastPointOfNoReturn: boolean;
  readonly notifier?: RunNotifier;
  report?: RunbookReport;
  error?: { type: string; message: string };
  logContext(): Record<string, unknown>;
}

/**
 * Runs the runbook body and turns its end into the report: returned when it succeeded, was a dry run or was
 * aborted; attached to a non-retryable failure of the matching type otherwise. A run whose starter asked for a
 * summary (memo `fogpilotResultShape`) returns and attaches the summary instead; `status` keeps the report.
 */
export async function executeRunbook(
  run: EndingRun,
  body: () => Promise<Outcome | RunbookReport>,
): Promise<RunbookReport> {
  try {
    const report = await conclude(run, body);
    await notifyEnded(run, report);
    // Typed as the report for the runbooks' public signatures; a starter that asked for a summary knows better.
    return run.returnsSummary ? (summarizeReport(report) as unknown as RunbookReport) : report;
  } catch (error) {
    if (run.report) await notifyEnded(run, run.report);
    throw run.returnsSummary ? summarizeFailure(error) : error;
  } finally {
    await run.delegation.drain();
  }
}

async function conclude(run: EndingRun, body: () => Promise<Outcome | RunbookReport>): Promise<RunbookReport> {
  let outcome: Outcome;
  try {
    const result = await body();
    if (typeof result !== 'string') {
      if (run.delegatedTo) adoptDelegatedOutcome(run, result);
      else run.report = result;
      return result;
    }
    outcome = result;
  } catch (error) {
    if (error instanceof RunbookAborted) {
      // Stopped between legs (a drill's soak, the wait before a failback), the first failover stays done.
      const changed = run.legs.some((leg) => leg.failoverSent);
      return finish(run, changed ? Outcomes.abortedAfterFailover : Outcomes.aborted);
    }
    if (isCancellation(error) && run.guard.cancelRequested) {
      const report = finish(run, run.isPastPointOfNoReturn ? Outcomes.abortedAfterFailover : Outcomes.aborted);
      throw new CancelledFailure('runbook cancelled at a safe point', [report]);
    }
    if (!(error instanceof TemporalFailure)) throw error; // a bug: let the workflow task retry once it is fixed
    const described = describeFailure(error);
    const failure = run.delegatedTo
      ? described
      : documentedFailure(described, {
          runbook: run.runbook,
          steps: run.steps,
          legs: run.legs,
          group: run.group,
          pastPointOfNoReturn: run.isPastPointOfNoReturn,
        });
    run.error = failure;
    // A runbook that delegated to the group's lock holder ends with the lock holder's report: it did the work.
    const delegated = run.delegatedTo ? reportIn(failure.details) : undefined;
    if (delegated) adoptDelegatedOutcome(run, delegated);
    const report = delegated ?? finish(run, Outcomes.failed);
    throw ApplicationFailure.create({
      type: failure.type,
      nonRetryable: true,
      message: failure.message,
      details: delegated ? failure.details : [report, ...failure.details],
    });
  }
  const report = finish(run, outcome);
  if (run.guard.cancelRequested) throw new CancelledFailure('runbook cancelled at a safe point', [report]);
  return report;
}

const ENDED_WELL: readonly string[] = [Outcomes.succeeded, Outcomes.alreadyPrimary, Outcomes.skipped];

/** `succeeded` for an outcome that needs nobody; `failed` for every other (failed, aborted, failbackPending, partial). */
async function notifyEnded(run: EndingRun, report: RunbookReport): Promise<void> {
  const notifier = run.notifier;
  if (!notifier) return;
  // A cancelled run still tells how it ended.
  await CancellationScope.nonCancellable(() => notifyOutcome(notifier, report));
}

function notifyOutcome(notifier: RunNotifier, report: RunbookReport): Promise<void> {
  const well = ENDED_WELL.includes(report.outcome);
  const first = report.legs[0];
  return notifier.notify(well ? 'succeeded' : 'failed', {
    outcome: report.outcome,
    message: report.error
      ? `${report.runbook} of ${report.group.displayName} ${report.outcome}: ${report.error.type}: ${report.error.message}`
      : `${report.runbook} of ${report.group.displayName} ended ${report.outcome}` +
        (first?.rtoSeconds !== undefined ? ` (${first.from} → ${first.to}, RTO ${first.rtoSeconds} s)` : ''),
    ...(first ? { fromLocation: first.from, toLocation: first.to } : {}),
    ...(report.objectives ? { objectives: report.objectives } : {}),
    ...(report.error ? { details: { failureType: report.error.type } } : {}),
  });
}

/** A starter that delegated ends in the lock holder's outcome: in `status` and in `FogpilotPhase`. */
function adoptDelegatedOutcome(run: EndingRun, report: RunbookReport): void {
  run.report = report;
  run.stepLog.phase = report.outcome;
  run.stepLog.awaiting = undefined;
  deprecatePatch(LOCK_HOLDER_STATUS_PATCH);
  run.stepLog.tag([{ key: FogpilotPhase, value: report.outcome }]);
}

function finish(run: EndingRun, outcome: Outcome): RunbookReport {
  const info = workflowInfo();
  if (run.group && !run.delegatedTo) {
    recordMeasuredObjectives(run.group.displayName, run.runbook, run.legs, run.extra.dataLossEstimate);
    const objectives = objectivesOf(run.notifier?.plan, run.legs, run.extra.dataLossEstimate);
    if (objectives) run.extra.objectives = objectives;
  }
  runbookCounter().add(1, { runbook: run.runbook, outcome });
  run.stepLog.tag([{ key: FogpilotPhase, value: outcome }]);
  log.info('Runbook ended', { ...run.logContext(), outcome });
  run.stepLog.phase = outcome;
  run.stepLog.awaiting = undefined;
  run.delegation.mirror();
  run.report = buildReport({
    runbook: run.runbook,
    workflowId: info.workflowId,
    runId: info.runId,
    group: run.group,
    groupLabel: run.groupLabel,
    outcome,
    intent: run.intent,
    requestedBy: run.requestedBy,
    reason: run.reason,
    startedAt: run.startedAt,
    endedAt: nowIso(),
    rolesBefore: run.rolesBefore,
    rolesAfter: run.rolesAfter,
    legs: run.legs,
    gates: run.gates,
    plan: run.plan,
    steps: run.steps,
    armCalls: run.armCalls,
    warnings: run.warnings,
    abort: run.abort,
    extra: run.extra,
    error: run.error,
  });
  run.stepLog.showDetails();
  return run.report;
}

// Metrics go through Temporal's meter: the worker exports them on its Prometheus endpoint, and replay emits none.
const runbookCounter = () =>
  metricMeter.createCounter('fogpilot_runbooks', 'runs', 'Runbooks ended, by type and outcome');
