/**
 * The short result a runbook returns when its starter asks for one (a fleet's children): outcome, roles, RTO, data
 * loss and where the full report is, instead of the report itself. Keeps a fleet of hundreds of groups, each with
 * dozens of databases, far inside Temporal's limits on history (50 MB, 51,200 events) and on one payload (2 MB).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/workflow';
import { isRunbookSummary, type RunbookReport, type RunbookSummary } from '../definitions';

/** Memo key a starter sets on a runbook it starts to receive a {@link RunbookSummary} as its result. */
export const RESULT_SHAPE_MEMO = 'fogpilotResultShape';

/** Longest error message or data-loss detail a summary carries; the report has the whole text. */
const MAX_TEXT = 2_000;

function bounded(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

/** The summary of a finished report. */
export function summarizeReport(report: RunbookReport): RunbookSummary {
  const dataLoss = report.legs[0]?.dataLoss;
  return {
    resultShape: 'summary',
    runbook: report.runbook,
    workflowId: report.workflowId,
    runId: report.runId,
    group: report.group.displayName,
    outcome: report.outcome,
    rolesBefore: report.rolesBefore,
    rolesAfter: report.rolesAfter,
    rtoSeconds: report.rtoSeconds,
    dataLoss: dataLoss && {
      kind: dataLoss.kind,
      detail: bounded(dataLoss.detail),
      databases: dataLoss.databases?.length,
    },
    error: report.error && { type: report.error.type, message: bounded(report.error.message) },
  };
}

function isReport(value: unknown): value is RunbookReport {
  const report = value as Partial<RunbookReport> | undefined;
  return (
    typeof report === 'object' && report !== null && typeof report.runbook === 'string' && Array.isArray(report.steps)
  );
}

/**
 * The same failure with the report in its details replaced by its summary (and nothing else beside it: the report
 * holds every detail). Any other error comes back unchanged.
 */
export function summarizeFailure(error: unknown): unknown {
  const details = error instanceof ApplicationFailure || error instanceof CancelledFailure ? error.details : undefined;
  const first = details?.[0];
  if (!isReport(first) || isRunbookSummary(first)) return error;
  const summary = summarizeReport(first);
  if (error instanceof CancelledFailure) return new CancelledFailure(error.message, [summary]);
  const failure = error as ApplicationFailure;
  return ApplicationFailure.create({
    type: failure.type ?? undefined,
    message: failure.message,
    nonRetryable: failure.nonRetryable ?? undefined,
    details: [summary],
  });
}
