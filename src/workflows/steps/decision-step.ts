/**
 * A person's decision before an irreversible change (deleting a group, dropping a damaged database, migrating an
 * account's backup): the `await-approval` step the runbooks that take one share, and the lock request that carries a
 * decision sent before the lock holder existed.
 */
import { ApplicationFailure, condition } from '@temporalio/workflow';
import { formatDuration } from '../../domain/durations';
import { FailureTypes, type ActorMessage, type ApprovalRecord, type RunbookType } from '../definitions';
import type { Decision } from './approval';
import type { LockRequest } from './opening';
import { nowIso, type RunbookRun } from './runbook-run';

export interface DecisionRequest {
  /** The step's title, for people. */
  title: string;
  /** What is decided, as the failures say it: `deleting fog-crm`, `the swap`. */
  what: string;
  /** What a person is asked, without the wait's bound (added here). */
  question: string;
  /** What stands when the answer is no or none comes: `nothing was changed.` */
  standing: string;
  /** A pre-approval from the input: recorded, nobody is waited for. */
  approval?: ActorMessage;
  approvalTimeout: number;
}

/**
 * Waits for a person's approval (judged by the run's approval desk when it has one), or takes `approval` from the input.
 * Fails `ApprovalRejected` or `ApprovalTimeout` with `standing`; records the approval in the report.
 */
export async function awaitDecisionStep(
  run: RunbookRun,
  request: DecisionRequest,
  decision: () => Decision | undefined,
): Promise<void> {
  await run.step('await-approval', request.title, async (step) => {
    const record = (approval: ApprovalRecord): void => {
      run.extra.approval = approval;
      step.evidence({ approval });
    };
    if (request.approval) {
      const desk = run.approvalDesk;
      record(desk ? desk.preApproval(request.approval, nowIso()) : { ...request.approval, at: nowIso(), via: 'input' });
      return;
    }
    const question = `${request.question} Waiting at most ${formatDuration(request.approvalTimeout)}.`;
    run.setAwaiting('approval', question, { preemptible: true });
    step.evidence({ question });
    const decided = await condition(() => decision() !== undefined, request.approvalTimeout);
    run.clearAwaiting();
    const answer = decision();
    if (!decided || !answer) {
      throw ApplicationFailure.create({
        type: FailureTypes.ApprovalTimeout,
        nonRetryable: true,
        message: `Nobody approved ${request.what} within ${formatDuration(request.approvalTimeout)}; ${request.standing}`,
      });
    }
    if (!answer.approved) {
      throw ApplicationFailure.create({
        type: FailureTypes.ApprovalRejected,
        nonRetryable: true,
        message: `${answer.message.by} rejected ${request.what} (${answer.message.reason}); ${request.standing}`,
      });
    }
    record({
      ...answer.message,
      at: answer.at,
      via: answer.via ?? 'signal',
      ...(answer.via !== undefined && run.requestedBy !== undefined ? { requestedBy: run.requestedBy } : {}),
    });
  });
}

/**
 * How a run that waits for a decision takes the group's lock: this workflow again under the lock id, carrying a
 * decision that reached the starter before the lock holder existed (a rejection ends the run here, nothing changed).
 */
export function lockCarryingDecision(
  runbook: RunbookType,
  input: unknown,
  params: { dryRun: boolean; approval?: ActorMessage },
  decision: () => Decision | undefined,
  what: string,
): LockRequest | undefined {
  if (params.dryRun) return undefined;
  const early = decision();
  if (early && !early.approved) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalRejected,
      nonRetryable: true,
      message: `${early.message.by} rejected ${what} (${early.message.reason}); nothing was changed.`,
    });
  }
  return {
    workflowType: runbook,
    args: [early && !params.approval ? { ...(input as object), approval: early.message } : input],
  };
}
