/**
 * A runbook's report and the failure a person reads, as pure functions of what the run recorded: no workflow APIs,
 * no clock. `RunbookRun` gathers the facts and calls them once the runbook ends.
 */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TimeoutFailure } from '@temporalio/common';
import type { ResolvedGroup } from '../../domain/group-ref';
import { afterSentFailover } from '../../domain/next-steps';
import { FailureTypes, type FailoverLeg, type RunbookReport, type RunbookType, type StepRecord } from '../definitions';

/** A failure as a person should see it: its type, its message, and the details it carried. */
export interface DescribedFailure {
  type: string;
  message: string;
  details: unknown[];
}

/** The runbook-specific parts of a report (approval, drill, failbackPending, fleet, …), set by the runbook. */
export type ReportExtras = Pick<
  RunbookReport,
  | 'approval'
  | 'dataLossEstimate'
  | 'drill'
  | 'establish'
  | 'hooks'
  | 'objectives'
  | 'failbackPending'
  | 'protection'
  | 'fleet'
  | 'readiness'
  | 'refusals'
  | 'restore'
  | 'scale'
  | 'watch'
>;

/**
 * Everything a report is made of: the report's own fields as the run recorded them, the resolved group (or the label
 * the run started with) in place of the report's group summary, and the runbook-specific parts.
 */
export interface ReportFacts extends Omit<RunbookReport, 'group' | 'rtoSeconds' | keyof ReportExtras> {
  /** The group, once resolved; before that, only the label the run was started with. */
  group?: ResolvedGroup;
  groupLabel: string;
  extra: ReportExtras;
}

/**
 * The report of a run that ended in `facts.outcome`. It shares the run's step, leg and warning lists (not copies): a
 * report is made once, as the run ends.
 */
export function buildReport(facts: ReportFacts): RunbookReport {
  const first = facts.legs[0];
  return {
    runbook: facts.runbook,
    workflowId: facts.workflowId,
    runId: facts.runId,
    group: facts.group
      ? {
          displayName: facts.group.displayName,
          subscriptionId: facts.group.subscriptionId,
          resourceGroup: facts.group.resourceGroup,
          name: facts.group.name,
          homePrimary: facts.group.primaryLocation,
          homeSecondary: facts.group.secondaryLocation,
        }
      : { displayName: facts.groupLabel },
    outcome: facts.outcome,
    ...(facts.intent ? { intent: facts.intent } : {}),
    requestedBy: facts.requestedBy,
    reason: facts.reason,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    rolesBefore: facts.rolesBefore,
    rolesAfter: facts.rolesAfter,
    rtoSeconds: first?.rtoSeconds,
    legs: facts.legs,
    gates: facts.gates,
    plan: facts.plan,
    steps: facts.steps,
    armCalls: facts.armCalls,
    warnings: facts.warnings,
    abort: facts.abort,
    ...facts.extra,
    error: facts.error,
  };
}

/** What a failure is rewritten against: where the run had got to when it failed. */
export interface FailureContext {
  runbook: RunbookType;
  steps: readonly StepRecord[];
  legs: readonly FailoverLeg[];
  group?: ResolvedGroup;
  pastPointOfNoReturn: boolean;
}

/**
 * A failure of a type no runbook documents: a step whose reads or requests Azure did not answer for their whole
 * retry budget (the transient `ArmUnavailable`, `ArmThrottled`, `SqlUnavailable` of its last attempt, or a timeout).
 * It ends as `AzureUnavailable`, saying what this run had sent by then, so the person reading it knows where the
 * group stands and that no second failover may be sent. A documented failure is returned as it is.
 */
export function documentedFailure(failure: DescribedFailure, run: FailureContext): DescribedFailure {
  if ((Object.values(FailureTypes) as string[]).includes(failure.type)) return failure;
  const step = [...run.steps].reverse().find((entry) => entry.state === 'failed')?.name;
  const sent = run.legs.filter((leg) => leg.failoverSent).at(-1);
  const kind = run.runbook === 'forcedFailover' ? 'forced' : 'planned';
  const next = (to: string, from: string) =>
    run.group ? afterSentFailover(run.group, { to, from, kind }) : 'Do not send another failover.';
  const last = run.legs.at(-1);
  const where = sent
    ? sent.allWritableAt
      ? `The failover to ${sent.to} completed (every database writable at ${sent.allWritableAt}); ${sent.to} is ` +
        `primary. ${next(sent.to, sent.from)}`
      : `The failover to ${sent.to} was sent${sent.requestedAt ? ` at ${sent.requestedAt}` : ''} and its end was not ` +
        `confirmed: Azure may have switched the roles. ${next(sent.to, sent.from)}`
    : run.pastPointOfNoReturn
      ? `A failover request may have reached Azure. ${last ? next(last.to, last.from) : 'Do not send another failover.'}`
      : 'No failover was sent by this run: start it again once Azure answers.';
  return {
    type: FailureTypes.AzureUnavailable,
    message:
      `${step ? `Step ${step}: ` : ''}Azure did not answer within the retry budget (last error, ${failure.type}: ` +
      `${failure.message}). ${where}`,
    details: [{ lastError: { type: failure.type, message: failure.message } }, ...failure.details],
  };
}

/** The runbook report a failure carries first in its details, if it carries one. */
export function reportIn(details: unknown[]): RunbookReport | undefined {
  const first = details[0] as Partial<RunbookReport> | undefined;
  return first && typeof first === 'object' && typeof first.runbook === 'string' && Array.isArray(first.steps)
    ? (first as RunbookReport)
    : undefined;
}

/** The failure type and message a person should see, whatever layer raised it. */
export function describeFailure(error: unknown): DescribedFailure {
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
