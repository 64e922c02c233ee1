/**
 * `POST /v1/runbooks/:runbook` `{ input, idempotencyKey? }`: validate the whole request before anything reaches
 * Temporal, ask the access rules whether the caller may start it, then start the runbook with the caller as its
 * `requestedBy`, or answer the run an idempotency key (the incident id) already started.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidRunbookInputError,
  isRunbookType,
  validateRunbookInput,
  workflowIdFor,
  type RunbookType,
} from '../client';
import { principalLabel } from '../config/access';
import type { InputProblem } from '../domain/inputs';
import { mayStartThroughTrigger } from './authorize';
import type { RouteContext } from './context';
import { HttpError, badRequest, describeProblems, notFoundRunbook, temporalFailure } from './errors';
import { statusPathOf } from './paths';
import { StartRequestSchema, parseBody } from './requests';

/** The answer to a start. */
export interface StartAnswer {
  runbook: RunbookType;
  workflowId: string;
  runId: string;
  /** False when the idempotency key matched a run already started: this is that run. */
  started: boolean;
  statusUrl: string;
  uiUrl: string;
}

interface StartRequestOf {
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
}

/**
 * The input and idempotency key of a start request, or every problem with it at once: the body's shape, a header key
 * that differs from the body's, the runbook input (with the workflow's own schema), and the workflow id it makes.
 *
 * @throws {HttpError} 400 `invalid-request` naming each field.
 */
function startRequestOf(request: FastifyRequest, runbook: RunbookType): StartRequestOf {
  const parsed = parseBody(
    StartRequestSchema,
    request.body,
    '{"input": {"group": "fog-sales"}, "idempotencyKey": "INC-123"}',
  );
  if (!parsed.ok)
    throw badRequest(`The request body is not a start request: ${describeProblems(parsed.problems)}.`, parsed.problems);
  const { input } = parsed.value;

  const fromHeader = request.headers['idempotency-key'];
  const headerKey = Array.isArray(fromHeader) ? fromHeader[0] : fromHeader;
  const problems: InputProblem[] = [];
  if (
    headerKey !== undefined &&
    parsed.value.idempotencyKey !== undefined &&
    headerKey !== parsed.value.idempotencyKey
  ) {
    problems.push({
      field: 'idempotencyKey',
      message: 'the Idempotency-Key header and the body field idempotencyKey differ; send one, or the same in both',
    });
  }
  const idempotencyKey = parsed.value.idempotencyKey ?? headerKey;
  if (Object.hasOwn(input, 'requestedBy')) {
    problems.push({
      field: 'input.requestedBy',
      message: `the trigger sets requestedBy from your credential (${principalLabel(request.principal)}); leave it out`,
    });
  }
  try {
    validateRunbookInput(runbook, input);
  } catch (error) {
    if (!(error instanceof InvalidRunbookInputError)) throw error;
    problems.push(
      ...error.problems.map((problem) => ({
        field: problem.field === '(input)' ? 'input' : `input.${problem.field}`,
        message: problem.message,
      })),
    );
  }
  try {
    workflowIdFor(runbook, input, { idempotencyKey });
  } catch (error) {
    if (!(error instanceof InvalidRunbookInputError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) {
    throw badRequest(
      `Invalid request for ${runbook}: ${describeProblems(problems)}. Nothing was started; correct it and send it again.`,
      problems,
    );
  }
  return { input, idempotencyKey };
}

/** Starts `runbook`: 201 when started, 200 with the earlier run when the idempotency key matched one. */
export async function startRunbook(
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  runbook: string,
): Promise<StartAnswer> {
  if (!isRunbookType(runbook)) throw notFoundRunbook(runbook);
  const { input, idempotencyKey } = startRequestOf(request, runbook);

  const caller = principalLabel(request.principal);
  const decision = mayStartThroughTrigger(context.config, request.principal, runbook, input);
  if (!decision.allowed) {
    request.log.warn(
      { caller, runbook, groups: decision.groups.map((group) => group.inventoryName ?? '(outside the inventory)') },
      `start refused: ${decision.reason}`,
    );
    throw new HttpError(403, {
      error: 'forbidden',
      message: `${decision.reason}. Nothing was started. ${decision.remedy}`,
    });
  }

  let run;
  try {
    run = await context.client.start(runbook, { ...input, requestedBy: caller }, { idempotencyKey });
  } catch (error) {
    if (error instanceof InvalidRunbookInputError) throw badRequest(error.message, error.problems);
    throw temporalFailure(error, `Starting ${runbook} failed`);
  }
  request.log.info(
    { caller, runbook, workflowId: run.workflowId, runId: run.runId, started: run.started, idempotencyKey },
    run.started ? 'runbook started' : 'idempotency key matched a run already started',
  );
  const statusUrl = statusPathOf(run.workflowId);
  void reply.code(run.started ? 201 : 200).header('location', statusUrl);
  return {
    runbook,
    workflowId: run.workflowId,
    runId: run.runId,
    started: run.started,
    statusUrl,
    uiUrl: context.uiUrlOf(run.workflowId),
  };
}
