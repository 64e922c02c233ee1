/**
 * The decisions of a forced failover: the approval before anything is sent, and, after a planned attempt that did not
 * complete, the decision to force again on what is true then.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
import type { ForcedFailoverParams } from '../../domain/inputs';
import { type ResolvedGroup } from '../../domain/group-ref';
import { formatDuration } from '../../domain/durations';
import { FailureTypes, type ActorMessage, type ApprovalRecord } from '../definitions';
import type { Decision, Decisions } from './approval';
import { sameIntentCommand } from '../../domain/next-steps';
import { nowIso, type RunbookRun, type StepHandle } from './runbook-run';
import { describeDataLossEstimate } from './data-loss-estimate';
import { assess, type Assessment } from './forced-assess';
import { readsPrimary } from './target-side';

export async function awaitApproval(
  run: RunbookRun,
  params: ForcedFailoverParams,
  assessment: Assessment,
  step: StepHandle,
  decision: () => Decision | undefined,
): Promise<void> {
  const record = (approval: ApprovalRecord): void => {
    run.extra.approval = approval;
    step.evidence({ approval });
  };
  if (params.approval) {
    const desk = run.approvalDesk;
    record(desk ? desk.preApproval(params.approval, nowIso()) : { ...params.approval, at: nowIso(), via: 'input' });
    return;
  }
  const timeoutMs = params.approvalTimeout;
  const question =
    `approve or reject: forced failover of ${run.groupLabel} to ${assessment.target}. ` +
    describeDataLossEstimate(assessment.estimate) +
    ` Waiting at most ${formatDuration(timeoutMs)}.`;
  run.setAwaiting('approval', question, { preemptible: true });
  step.evidence({ question, approvalTimeout: formatDuration(timeoutMs) });
  const decided = await condition(() => decision() !== undefined, timeoutMs);
  run.clearAwaiting();
  const answer = decision();
  if (!decided || !answer) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalTimeout,
      nonRetryable: true,
      message:
        `Nobody approved the forced failover of ${run.groupLabel} within ${formatDuration(timeoutMs)}; nothing was ` +
        'changed. Start it again when someone can decide, or pass `approval` if the incident process already approved.',
    });
  }
  if (!answer.approved) {
    step.evidence({ rejectedBy: answer.message.by, rejectedReason: answer.message.reason });
    throw rejection(run, answer.message, answer.at);
  }
  record(approvalOf(run, answer));
}

/** The record of an allowed decision: who, why, when, how it arrived and, when judged, who requested the run. */
function approvalOf(run: RunbookRun, answer: Decision): ApprovalRecord {
  const judged = answer.via !== undefined;
  return {
    ...answer.message,
    at: answer.at,
    via: answer.via ?? 'signal',
    ...(judged && run.requestedBy !== undefined ? { requestedBy: run.requestedBy } : {}),
  };
}

export function rejection(run: RunbookRun, message: ActorMessage, at: string, what?: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.ApprovalRejected,
    nonRetryable: true,
    message:
      `${message.by} rejected the forced failover of ${run.groupLabel} (${message.reason});` +
      (what ?? ' nothing was changed.'),
    details: [{ rejectedBy: message.by, reason: message.reason, at }],
  });
}

/**
 * Before forcing after a planned attempt that did not complete: read the group at the target again (it may have
 * switched after all), heed an `abort` or `reject` that arrived meanwhile, and ask again for an approval older than
 * `approvalMaxAge`, showing the data-loss estimate read now.
 */
export async function decideEscalation(
  run: RunbookRun,
  group: ResolvedGroup,
  params: ForcedFailoverParams,
  before: Assessment,
  step: StepHandle,
  decisions: Decisions,
): Promise<'force' | 'aborted' | 'already-primary'> {
  const now = await assess(run, group, params, step);
  run.extra.dataLossEstimate = now.estimate;
  if (readsPrimary(now.view)) {
    step.evidence({ decision: `${now.target} reads Primary: nothing to force` });
    return 'already-primary';
  }
  if (run.abortRequested) {
    step.evidence({ decision: `aborted by ${run.abort!.by}: no forced failover` });
    run.warn(
      `${run.abort!.by} aborted while the planned attempt ran (${run.abort!.reason}): no forced failover was sent.`,
    );
    return 'aborted';
  }
  const approval = run.extra.approval;
  const rejected = decisions.all.find((entry) => !entry.approved);
  if (rejected) {
    step.evidence({ decision: 'rejected', rejectedBy: rejected.message.by });
    throw rejection(
      run,
      rejected.message,
      rejected.at,
      ` The planned failover to ${before.target} did not switch the roles; no forced failover was sent.`,
    );
  }
  const maxAgeMs = params.approvalMaxAge;
  const ageMs = approval ? Date.now() - Date.parse(approval.at) : Number.POSITIVE_INFINITY;
  step.evidence({
    approvalAge: formatDuration(ageMs),
    approvalMaxAge: formatDuration(maxAgeMs),
    estimate: describeDataLossEstimate(now.estimate),
  });
  if (ageMs <= maxAgeMs) return 'force';

  // Asked again: the question carries the estimate as it is now, not as it was before the planned attempt.
  const timeoutMs = params.approvalTimeout;
  const askedAt = nowIso();
  run.setAwaiting(
    'approval',
    `approve or reject again: the planned failover to ${now.target} did not complete, and the approval given at ` +
      `${approval?.at ?? 'the start'} is older than ${formatDuration(maxAgeMs)}. Force ${now.target} now? ` +
      `${describeDataLossEstimate(now.estimate)} Waiting at most ${formatDuration(timeoutMs)}.`,
  );
  const answered = await condition(() => decisions.since(askedAt).length > 0 || run.abortRequested, timeoutMs);
  run.clearAwaiting();
  if (run.abortRequested) return 'aborted';
  const answer = decisions.since(askedAt)[0];
  if (!answered || !answer) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalTimeout,
      nonRetryable: true,
      message:
        `The planned failover to ${now.target} did not complete, and nobody approved forcing it again within ` +
        `${formatDuration(timeoutMs)}; no forced failover was sent. Forcing it is a new decision: ` +
        `\`${sameIntentCommand(group, { to: now.target, kind: 'forced' })}\`.`,
    });
  }
  if (!answer.approved) {
    throw rejection(run, answer.message, answer.at, ' No forced failover was sent.');
  }
  run.extra.approval = approvalOf(run, answer);
  step.evidence({ approvedAgainBy: answer.message.by, approval: run.extra.approval });
  return 'force';
}
