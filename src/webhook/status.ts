/**
 * `GET /v1/runbooks/:workflowId`: the live status of a running runbook (and of the lock holder it delegated to), or its
 * report once it ended.
 */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { isRunbookType, type RunbookOutcome, type RunbookStatus, type RunbookType } from '../client';
import type { RouteContext } from './context';
import { notFoundWorkflow, temporalFailure } from './errors';
import { statusPathOf } from './paths';

/** Temporal's execution status names, as the answers spell them. */
export const ExecutionStates = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'canceled',
  TERMINATED: 'terminated',
  CONTINUED_AS_NEW: 'continued-as-new',
  TIMED_OUT: 'timed-out',
} as const;

/** The answer to a status request. */
export interface StatusAnswer {
  workflowId: string;
  runId: string;
  runbook: RunbookType;
  state: (typeof ExecutionStates)[keyof typeof ExecutionStates] | 'unknown';
  startedAt: string;
  endedAt?: string;
  /** What the runbook, or the lock holder it delegated to, waits for (e.g. `{ kind: 'approval' }`). */
  awaiting?: RunbookStatus['awaiting'];
  /** The `status` query, while running. */
  status?: RunbookStatus;
  /** The lock holder's status when this runbook runs its mutating part under the group's lock. */
  lockHolder?: { workflowId: string; status?: RunbookStatus; statusError?: string };
  /** Why `status` is missing while running (no worker answered). */
  statusError?: string;
  /** Once ended: the report and, when it failed, the failure. */
  outcome?: string;
  report?: RunbookOutcome['report'];
  failure?: RunbookOutcome['failure'];
  statusUrl: string;
  uiUrl: string;
}

/**
 * Describes a workflow and checks that it is a fogpilot runbook.
 *
 * @throws {HttpError} 404 when there is no such workflow or it is not a runbook; 502/503 when Temporal fails.
 */
export async function describeRunbook(
  context: RouteContext,
  workflowId: string,
): Promise<WorkflowExecutionDescription & { type: RunbookType }> {
  let description: WorkflowExecutionDescription;
  try {
    description = await context.withDeadline(() => context.client.handle(workflowId).describe());
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notFoundWorkflow(workflowId);
    throw temporalFailure(error, `Reading workflow ${workflowId} failed`);
  }
  if (!isRunbookType(description.type)) throw notFoundWorkflow(workflowId);
  return description as WorkflowExecutionDescription & { type: RunbookType };
}

async function queryStatus(
  context: RouteContext,
  workflowId: string,
): Promise<{ status?: RunbookStatus; statusError?: string }> {
  try {
    return { status: await context.withDeadline(() => context.client.status(workflowId)) };
  } catch (error) {
    return {
      statusError:
        `The status query got no answer (${(error as Error).message}). ` +
        `Is a fogpilot worker running on task queue ${context.client.taskQueue}?`,
    };
  }
}

/** What a runbook is doing or did; a status query or result Temporal could not answer is said in the answer. */
export async function runbookStatus(context: RouteContext, workflowId: string): Promise<StatusAnswer> {
  const description = await describeRunbook(context, workflowId);
  const answer: StatusAnswer = {
    workflowId,
    runId: description.runId,
    runbook: description.type,
    state: ExecutionStates[description.status.name as keyof typeof ExecutionStates] ?? 'unknown',
    startedAt: description.startTime.toISOString(),
    endedAt: description.closeTime?.toISOString(),
    statusUrl: statusPathOf(workflowId),
    uiUrl: context.uiUrlOf(workflowId),
  };
  if (description.status.name === 'RUNNING') {
    Object.assign(answer, await queryStatus(context, workflowId));
    const delegate = answer.status?.delegatedTo;
    if (delegate && delegate !== workflowId)
      answer.lockHolder = { workflowId: delegate, ...(await queryStatus(context, delegate)) };
    answer.awaiting = answer.status?.awaiting ?? answer.lockHolder?.status?.awaiting;
    return answer;
  }
  try {
    const outcome = await context.withDeadline(() => context.client.result(workflowId));
    answer.report = outcome.report;
    answer.failure = outcome.failure;
    answer.outcome = outcome.report?.outcome ?? (outcome.failure ? 'failed' : undefined);
  } catch (error) {
    answer.failure = { type: (error as Error).name, message: (error as Error).message };
  }
  return answer;
}
