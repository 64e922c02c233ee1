/**
 * `POST /v1/runbooks/:workflowId/signals/(approve|reject|abort)` → 202: send a decision to a running runbook. Nothing
 * is sent to a runbook that has ended.
 *
 * `approve` and `reject` take `{ reason }`: the decider is the caller the request authenticated as
 * (`webhook:<caller>`), sent as an update that the run judges by the worker's access rules; a refusal is 403 with its
 * reason and remedy, recorded in the run's status. `abort` takes `{ by, reason }` and stays a signal.
 */
import { WorkflowNotFoundError } from '@temporalio/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApprovalRefusedError } from '../client';
import { principalLabel, type Principal } from '../config/access';
import type { RouteContext } from './context';
import { HttpError, badRequest, describeProblems, temporalFailure } from './errors';
import { statusPathOf } from './paths';
import { DecisionRequestSchema, SignalRequestSchema, parseBody, type SignalName } from './requests';
import { ExecutionStates, describeRunbook } from './status';

/**
 * Sends `name` to the runbook `workflowId`.
 *
 * @throws {HttpError} 400 for an incomplete body (or a `by` on approve/reject), 403 when the caller is unknown or the
 * run refuses the decision, 404 for no such runbook, 409 `runbook-ended` when it has ended.
 */
export async function signalRunbook(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  workflowId: string,
  name: SignalName,
) {
  if (name === 'abort') return abortRunbook(context, request, reply, workflowId);
  const body = request.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && 'by' in body) {
    throw badRequest(
      `The ${name} request names "by", which is not accepted: the ${name === 'approve' ? 'approver' : 'rejecter'} is your credential's caller. Nothing was sent. Send {"reason": "…"} only.`,
      [{ field: 'by', message: `the approver is your credential's caller; leave "by" out` }],
    );
  }
  const parsed = parseBody(DecisionRequestSchema, request.body, '{"reason": "INC-123"}');
  if (!parsed.ok) {
    throw badRequest(
      `The ${name} request is incomplete: ${describeProblems(parsed.problems)}. Nothing was sent.`,
      parsed.problems,
    );
  }
  const description = await ensureRunning(context, workflowId, name);
  const principal = (request as { principal?: Principal }).principal;
  if (!principal) {
    throw new HttpError(403, {
      error: 'caller-unknown',
      message:
        `The trigger did not identify the caller of this credential, so nobody can be recorded as deciding; the ${name} was not sent. ` +
        'Name the credential as a caller under access.callers in fogpilot.yaml (docs/SECURITY.md).',
    });
  }
  const by = principalLabel(principal);
  let receipt;
  try {
    receipt = await context.withDeadline(() => context.client[name](workflowId, parsed.value, by));
  } catch (error) {
    if (error instanceof ApprovalRefusedError) {
      request.log.warn({ workflowId, decision: name, by }, 'decision refused');
      throw new HttpError(403, {
        error: 'approval-refused',
        message: `${workflowId} refused the ${name} from ${by}: ${error.message}`,
        ...(error.refusal ? { refused: error.refusal.refused, remedy: error.refusal.remedy } : {}),
        statusUrl: statusPathOf(workflowId),
      });
    }
    throw failedToSend(error, workflowId, name);
  }
  request.log.info({ workflowId, decision: name, by }, 'decision recorded');
  return reply.code(202).send({
    workflowId,
    runId: description.runId,
    signal: name,
    by,
    at: receipt.at,
    statusUrl: statusPathOf(workflowId),
    uiUrl: context.uiUrlOf(workflowId),
  });
}

async function abortRunbook(context: RouteContext, request: FastifyRequest, reply: FastifyReply, workflowId: string) {
  const parsed = parseBody(SignalRequestSchema, request.body, '{"by": "alice@example.com", "reason": "INC-123"}');
  if (!parsed.ok) {
    throw badRequest(
      `The abort request is incomplete: ${describeProblems(parsed.problems)}. Nothing was sent.`,
      parsed.problems,
    );
  }
  const description = await ensureRunning(context, workflowId, 'abort');
  try {
    await context.withDeadline(() => context.client.abort(workflowId, parsed.value));
  } catch (error) {
    throw failedToSend(error, workflowId, 'abort');
  }
  request.log.info({ workflowId, signal: 'abort', by: parsed.value.by }, 'signal sent');
  return reply.code(202).send({
    workflowId,
    runId: description.runId,
    signal: 'abort',
    by: parsed.value.by,
    statusUrl: statusPathOf(workflowId),
    uiUrl: context.uiUrlOf(workflowId),
  });
}

async function ensureRunning(context: RouteContext, workflowId: string, name: SignalName) {
  const description = await describeRunbook(context, workflowId);
  if (description.status.name !== 'RUNNING') {
    throw new HttpError(409, {
      error: 'runbook-ended',
      message: `The runbook ${workflowId} has already ended (${ExecutionStates[description.status.name as keyof typeof ExecutionStates] ?? description.status.name}); ${name} was not sent. GET ${statusPathOf(workflowId)} for its report.`,
    });
  }
  return description;
}

function failedToSend(error: unknown, workflowId: string, name: SignalName): HttpError {
  if (error instanceof WorkflowNotFoundError) {
    return new HttpError(409, {
      error: 'runbook-ended',
      message: `The runbook ${workflowId} ended before ${name} arrived; nothing was sent.`,
    });
  }
  return temporalFailure(error, `Sending ${name} to ${workflowId} failed`);
}
