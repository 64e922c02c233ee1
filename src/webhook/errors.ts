/**
 * How the HTTP trigger says no: every 4xx/5xx answer is a {@link WebhookError}, whether a route refused the request,
 * Temporal failed, or fastify rejected the body before any route ran.
 */
import { isGrpcDeadlineError, isGrpcServiceError } from '@temporalio/client';
import type { FastifyError } from 'fastify';
import { RunbookTypes } from '../client';
import type { InputProblem } from '../domain/inputs';

/** The body of every 4xx/5xx answer. */
export interface WebhookError {
  error: string;
  message: string;
  problems?: InputProblem[];
  [extra: string]: unknown;
}

/**
 * Thrown by a route to answer with `statusCode` and `body`; the server's error handler sends it as it is, with the
 * request id added to a 5xx. `detail` (what went wrong inside: Temporal's own message) goes to the log only.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: WebhookError,
    readonly detail?: string,
  ) {
    super(body.message);
  }
}

export function notFoundRunbook(runbook: string): HttpError {
  const known = Object.values(RunbookTypes);
  return new HttpError(404, {
    error: 'unknown-runbook',
    message: `No runbook named "${runbook}". Known runbooks: ${known.join(', ')}.`,
    known,
  });
}

export function notFoundWorkflow(workflowId: string): HttpError {
  return new HttpError(404, {
    error: 'runbook-not-found',
    message: `No fogpilot runbook has the workflow id "${workflowId}" in this namespace. Use the workflowId a start answered with.`,
  });
}

export function noSuchRoute(message: string): HttpError {
  return new HttpError(404, { error: 'no-such-route', message });
}

export function badRequest(message: string, problems: InputProblem[]): HttpError {
  return new HttpError(400, { error: 'invalid-request', message, problems });
}

/** `field: message; field: message`, for the sentence of a 400. */
export function describeProblems(problems: InputProblem[]): string {
  return problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
}

/** Temporal's own failures, said so a caller knows whether to retry; Temporal's message goes to the log only. */
export function temporalFailure(error: unknown, what: string): HttpError {
  const grpc = isGrpcServiceError(error)
    ? error
    : isGrpcServiceError((error as { cause?: unknown })?.cause)
      ? ((error as { cause: unknown }).cause as { code?: number })
      : undefined;
  // 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED: the server did not answer, a retry may succeed.
  const detail = `${what}: ${(error as Error).message}`;
  if (isGrpcDeadlineError(error) || grpc?.code === 14 || grpc?.code === 4) {
    return new HttpError(
      503,
      {
        error: 'temporal-unavailable',
        message: `${what}: Temporal did not answer. Retry; GET /readyz shows when it is back.`,
      },
      detail,
    );
  }
  return new HttpError(
    502,
    {
      error: 'temporal-error',
      message: `${what}: Temporal answered with an error. The trigger's log has it under this request id.`,
    },
    detail,
  );
}

/**
 * The body of a 5xx: the error code, a message that holds no internal error text, and the request id the log line of
 * the failure carries, so an operator finds the cause from what the caller quotes.
 */
export function serverErrorBody(body: WebhookError, requestId: string): WebhookError {
  return { error: body.error, message: body.message, requestId };
}

/**
 * The answer to an error fastify raised itself (body too large, wrong media type, empty or malformed JSON, another
 * 4xx), or `undefined` for anything else, which is the server's own failure.
 */
export function frameworkErrorAnswer(
  error: FastifyError,
  context: { bodyLimitInBytes: number; contentType: string | undefined },
): [number, WebhookError] | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [
        413,
        {
          error: 'body-too-large',
          message: `The body is larger than ${context.bodyLimitInBytes} bytes; a runbook request is a small JSON object.`,
        },
      ];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [
        415,
        {
          error: 'unsupported-media-type',
          message: `Content-Type ${context.contentType ?? '(none)'} is not accepted: send JSON with Content-Type: application/json.`,
        },
      ];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [
        400,
        { error: 'empty-body', message: 'The body is empty; send a JSON object (Content-Type: application/json).' },
      ];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [
        400,
        {
          error: 'malformed-json',
          message: 'The body is not valid JSON (keys named "__proto__" or "constructor" are refused too).',
        },
      ];
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return [error.statusCode, { error: 'bad-request', message: error.message }];
  }
  return undefined;
}
