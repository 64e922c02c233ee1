/**
 * `POST /v1/runbooks/:workflowId/signals/(approve|reject|abort)` `{ by, reason }` → 202: send a decision to a running
 * runbook. Nothing is sent to a runbook that has ended.
 */
import { WorkflowNotFoundError } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteContext } from './context';
import { HttpError, badRequest, describeProblems, temporalFailure } from './errors';
import { statusPathOf } from './paths';
import { SignalRequestSchema, parseBody, type SignalName } from './requests';
import { ExecutionStates, describeRunbook } from './status';

/**
 * Sends signal `name` to the runbook `workflowId`.
 *
 * @throws {HttpError} 400 for an incomplete body, 404 for no such runbook, 409 `runbook-ended` when it has ended.
 */
export async function signalRunbook(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  workflowId: string,
  name: SignalName,
) {
  const parsed = parseBody(SignalRequestSchema, request.body, '{"by": "alice@example.com", "reason": "INC-123"}');
  if (!parsed.ok) {
    throw badRequest(
      `The ${name} request is incomplete: ${describeProblems(parsed.problems)}. Nothing was sent.`,
      parsed.problems,
    );
  }
  const description = await describeRunbook(context, workflowId);
  if (description.status.name !== 'RUNNING') {
    throw new HttpError(409, {
      error: 'runbook-ended',
      message: `The runbook ${workflowId} has already ended (${ExecutionStates[description.status.name as keyof typeof ExecutionStates] ?? description.status.name}); ${name} was not sent. GET ${statusPathOf(workflowId)} for its report.`,
    });
  }
  try {
    await context.withDeadline(() => context.client[name](workflowId, parsed.value));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new HttpError(409, {
        error: 'runbook-ended',
        message: `The runbook ${workflowId} ended before ${name} arrived; nothing was sent.`,
      });
    }
    throw temporalFailure(error, `Sending ${name} to ${workflowId} failed`);
  }
  request.log.info({ workflowId, signal: name, by: parsed.value.by }, 'signal sent');
  return reply.code(202).send({
    workflowId,
    runId: description.runId,
    signal: name,
    by: parsed.value.by,
    statusUrl: statusPathOf(workflowId),
    uiUrl: context.uiUrlOf(workflowId),
  });
}
