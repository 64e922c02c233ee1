/**
 * The HTTP trigger for incident tooling (`fogpilot webhook`): start a runbook, read its status or report, and send it
 * a decision, over authenticated JSON. Everything goes through {@link FogpilotClient}, so inputs are validated with the
 * workflows' own schemas before anything reaches Temporal, and an idempotency key (the incident id) makes a repeated
 * start return the run already started.
 *
 * Routes (all `/v1` routes need a signature or a bearer token, see `auth.ts`):
 * - `POST /v1/runbooks/:runbook` `{ input, idempotencyKey? }` → 201 started, 200 the run an idempotency key already started
 * - `GET /v1/runbooks/:workflowId` → live status while running, the report once ended
 * - `POST /v1/runbooks/:workflowId/signals/(approve|reject|abort)` `{ by, reason }` → 202
 * - `GET /healthz` (the process is up) and `GET /readyz` (Temporal answers), without authentication
 *
 * Workflow ids contain slashes: they are accepted as they are (`/v1/runbooks/fogpilot/drDrill/fog-sales/INC-1`) or
 * URL-encoded as one segment.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { isGrpcDeadlineError, isGrpcServiceError, type WorkflowExecutionDescription } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  InvalidRunbookInputError,
  RunbookTypes,
  isRunbookType,
  validateRunbookInput,
  workflowIdFor,
  type FogpilotClient,
  type RunbookOutcome,
  type RunbookStatus,
  type RunbookType,
} from '../client';
import type { InputProblem } from '../domain/inputs';
import { DEFAULT_REPLAY_WINDOW_MS, RequestAuthenticator, type AuthRefusal, type WebhookAuthOptions } from './auth';
import { SignalRequestSchema, StartRequestSchema, isSignalName, parseBody, type SignalName } from './requests';

export const DEFAULT_UI_BASE_URL = 'http://localhost:8233';
export const DEFAULT_BODY_LIMIT_IN_BYTES = 64 * 1024;
export const DEFAULT_TEMPORAL_TIMEOUT_IN_MS = 5_000;
/** Readiness probes (Kubernetes and the like) give up after a second or two. */
export const DEFAULT_READINESS_TIMEOUT_IN_MS = 2_000;
const RUNBOOKS_PATH = '/v1/runbooks/';

export interface WebhookServerOptions {
  client: FogpilotClient;
  /** At least one of the two; the server refuses to be built without. */
  auth: WebhookAuthOptions;
  /** How far a signed request's timestamp may be from the server's clock, and how long a signature is remembered. Default 5 minutes. */
  replayWindowMs?: number;
  /** The Temporal UI, for the links in answers. Default `http://localhost:8233` (the dev server's UI). */
  uiBaseUrl?: string;
  /** The Temporal namespace the client uses (for UI links and the readiness check). */
  namespace: string;
  /** A pino logger (fastify's logger interface); silent without one. Headers are never logged. */
  logger?: FastifyBaseLogger;
  /** Largest accepted body. Default 64 KiB. */
  bodyLimitInBytes?: number;
  /** How long a describe, status query, result or signal may wait for Temporal. Default 5 s. */
  temporalTimeoutInMs?: number;
  /** How long `/readyz` waits for Temporal before answering 503. Default 2 s. */
  readinessTimeoutInMs?: number;
  /** The server's clock in ms, for the replay window (tests move it). */
  now?: () => number;
}

/** The body of every 4xx/5xx answer. */
export interface WebhookError {
  error: string;
  message: string;
  problems?: InputProblem[];
  [extra: string]: unknown;
}

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

const ExecutionStates = {
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

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: WebhookError,
  ) {
    super(body.message);
  }
}

/** `/v1/runbooks/<id>` with each segment encoded, so ids with slashes stay readable. */
export function statusPathOf(workflowId: string): string {
  return `${RUNBOOKS_PATH}${workflowId.split('/').map(encodeURIComponent).join('/')}`;
}

/** The workflow id (and signal) a `/v1/runbooks/...` path names; slashes may be literal or encoded. */
function runbookPathOf(url: string): { id: string; segments: string[] } {
  const path = url.split('?')[0]!.slice(RUNBOOKS_PATH.length).replace(/\/$/, '');
  let segments: string[];
  try {
    segments = path.split('/').map((segment) => decodeURIComponent(segment));
  } catch {
    throw new HttpError(400, { error: 'malformed-path', message: 'The path is not valid URL encoding.' });
  }
  return { id: segments.join('/'), segments };
}

function notFoundRunbook(runbook: string): HttpError {
  const known = Object.values(RunbookTypes);
  return new HttpError(404, {
    error: 'unknown-runbook',
    message: `No runbook named "${runbook}". Known runbooks: ${known.join(', ')}.`,
    known,
  });
}

function notFoundWorkflow(workflowId: string): HttpError {
  return new HttpError(404, {
    error: 'runbook-not-found',
    message: `No fogpilot runbook has the workflow id "${workflowId}" in this namespace. Use the workflowId a start answered with.`,
  });
}

function badRequest(message: string, problems: InputProblem[]): HttpError {
  return new HttpError(400, { error: 'invalid-request', message, problems });
}

function describeProblems(problems: InputProblem[]): string {
  return problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
}

/** Temporal's own failures, said so a caller knows whether to retry. */
function temporalFailure(error: unknown, what: string): HttpError {
  const grpc = isGrpcServiceError(error)
    ? error
    : isGrpcServiceError((error as { cause?: unknown })?.cause)
      ? ((error as { cause: unknown }).cause as { code?: number })
      : undefined;
  // 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED: the server did not answer, a retry may succeed.
  if (isGrpcDeadlineError(error) || grpc?.code === 14 || grpc?.code === 4) {
    return new HttpError(503, {
      error: 'temporal-unavailable',
      message: `${what}: Temporal did not answer (${(error as Error).message}). Retry; GET /readyz shows when it is back.`,
    });
  }
  return new HttpError(502, { error: 'temporal-error', message: `${what}: ${(error as Error).message}` });
}

/**
 * Builds the HTTP trigger. The answer is a fastify instance not yet listening: call `listen` (the CLI does), or
 * `inject` requests (tests). Throws {@link WebhookAuthConfigError} when `auth` holds neither a secret nor a token.
 */
export function createWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const { client, namespace } = options;
  const auth = new RequestAuthenticator({
    ...options.auth,
    replayWindowMs: options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS,
    now: options.now,
  });
  const uiBaseUrl = new URL(options.uiBaseUrl ?? DEFAULT_UI_BASE_URL).toString().replace(/\/+$/, '');
  const bodyLimit = options.bodyLimitInBytes ?? DEFAULT_BODY_LIMIT_IN_BYTES;
  const temporalTimeout = options.temporalTimeoutInMs ?? DEFAULT_TEMPORAL_TIMEOUT_IN_MS;
  const readinessTimeout = options.readinessTimeoutInMs ?? DEFAULT_READINESS_TIMEOUT_IN_MS;

  const app: FastifyInstance = Fastify({
    bodyLimit,
    // Errors found before routing (a path that is not valid URL encoding) answer in the same shape as the rest.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      void reply
        .code(400)
        .send({ error: 'malformed-url', message: `The URL is not valid: ${error.message}` } satisfies WebhookError);
    },
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
  });

  const uiUrlOf = (workflowId: string) =>
    `${uiBaseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  const withDeadline = <T>(fn: () => Promise<T>, timeoutInMs = temporalTimeout) =>
    client.client.connection.withDeadline(Date.now() + timeoutInMs, fn);

  // The signature covers the exact bytes received, so the JSON parser keeps them; nothing but JSON is accepted.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  // Requests whose bearer token was accepted before the body was read; signed ones are checked after.
  const authenticated = new WeakSet<FastifyRequest>();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    rawBodies.set(request, body as Buffer);
    void parseJson(request, (body as Buffer).toString('utf8'), done);
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      if (error.statusCode >= 500) request.log.warn({ error: error.body }, 'webhook request failed');
      return reply.code(error.statusCode).send(error.body);
    }
    const known: Record<string, [number, WebhookError]> = {
      FST_ERR_CTP_BODY_TOO_LARGE: [
        413,
        {
          error: 'body-too-large',
          message: `The body is larger than ${bodyLimit} bytes; a runbook request is a small JSON object.`,
        },
      ],
      FST_ERR_CTP_INVALID_MEDIA_TYPE: [
        415,
        {
          error: 'unsupported-media-type',
          message: `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted: send JSON with Content-Type: application/json.`,
        },
      ],
      FST_ERR_CTP_EMPTY_JSON_BODY: [
        400,
        { error: 'empty-body', message: 'The body is empty; send a JSON object (Content-Type: application/json).' },
      ],
      FST_ERR_CTP_INVALID_JSON_BODY: [
        400,
        {
          error: 'malformed-json',
          message: 'The body is not valid JSON (keys named "__proto__" or "constructor" are refused too).',
        },
      ],
    };
    const mapped = known[error.code];
    if (mapped) return reply.code(mapped[0]).send(mapped[1]);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: 'bad-request', message: error.message });
    }
    request.log.error({ err: error }, 'webhook request failed');
    return reply.code(500).send({ error: 'internal-error', message: `The request failed: ${error.message}` });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'no-such-route',
      message:
        `${request.method} ${request.url.split('?')[0]} is not a route. Routes: POST /v1/runbooks/<runbook>, ` +
        'GET /v1/runbooks/<workflowId>, POST /v1/runbooks/<workflowId>/signals/(approve|reject|abort), GET /healthz, GET /readyz.',
    } satisfies WebhookError),
  );

  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await withDeadline(() => client.client.workflowService.describeNamespace({ namespace }), readinessTimeout);
      return { status: 'ready', namespace };
    } catch (error) {
      return reply.code(503).send({
        status: 'not-ready',
        error: 'temporal-unavailable',
        message: `Temporal did not answer for namespace ${namespace}: ${(error as Error).message}. Check TEMPORAL_ADDRESS, the namespace and credentials.`,
      });
    }
  });

  function refuse(reply: FastifyReply, refusal: AuthRefusal): FastifyReply {
    if (refusal.statusCode === 401 && auth.methods.includes('bearer'))
      void reply.header('www-authenticate', 'Bearer realm="fogpilot"');
    return reply
      .code(refusal.statusCode)
      .send({ error: refusal.error, message: refusal.message } satisfies WebhookError);
  }

  /** Describes a workflow and checks that it is a fogpilot runbook; 404 otherwise. */
  async function describeRunbook(workflowId: string): Promise<WorkflowExecutionDescription & { type: RunbookType }> {
    let description: WorkflowExecutionDescription;
    try {
      description = await withDeadline(() => client.handle(workflowId).describe());
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFoundWorkflow(workflowId);
      throw temporalFailure(error, `Reading workflow ${workflowId} failed`);
    }
    if (!isRunbookType(description.type)) throw notFoundWorkflow(workflowId);
    return description as WorkflowExecutionDescription & { type: RunbookType };
  }

  async function queryStatus(workflowId: string): Promise<{ status?: RunbookStatus; statusError?: string }> {
    try {
      return { status: await withDeadline(() => client.status(workflowId)) };
    } catch (error) {
      return {
        statusError:
          `The status query got no answer (${(error as Error).message}). ` +
          `Is a fogpilot worker running on task queue ${client.taskQueue}?`,
      };
    }
  }

  async function start(request: FastifyRequest, reply: FastifyReply, runbook: string): Promise<StartAnswer> {
    if (!isRunbookType(runbook)) throw notFoundRunbook(runbook);
    const parsed = parseBody(
      StartRequestSchema,
      request.body,
      '{"input": {"group": "fog-sales"}, "idempotencyKey": "INC-123"}',
    );
    if (!parsed.ok)
      throw badRequest(
        `The request body is not a start request: ${describeProblems(parsed.problems)}.`,
        parsed.problems,
      );
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

    let run;
    try {
      run = await client.start(runbook, input, { idempotencyKey });
    } catch (error) {
      if (error instanceof InvalidRunbookInputError) throw badRequest(error.message, error.problems);
      throw temporalFailure(error, `Starting ${runbook} failed`);
    }
    request.log.info(
      { runbook, workflowId: run.workflowId, runId: run.runId, started: run.started, idempotencyKey },
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
      uiUrl: uiUrlOf(run.workflowId),
    };
  }

  async function signal(request: FastifyRequest, reply: FastifyReply, workflowId: string, name: SignalName) {
    const parsed = parseBody(SignalRequestSchema, request.body, '{"by": "alice@example.com", "reason": "INC-123"}');
    if (!parsed.ok) {
      throw badRequest(
        `The ${name} request is incomplete: ${describeProblems(parsed.problems)}. Nothing was sent.`,
        parsed.problems,
      );
    }
    const description = await describeRunbook(workflowId);
    if (description.status.name !== 'RUNNING') {
      throw new HttpError(409, {
        error: 'runbook-ended',
        message: `The runbook ${workflowId} has already ended (${ExecutionStates[description.status.name as keyof typeof ExecutionStates] ?? description.status.name}); ${name} was not sent. GET ${statusPathOf(workflowId)} for its report.`,
      });
    }
    try {
      await withDeadline(() => client[name](workflowId, parsed.value));
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
      uiUrl: uiUrlOf(workflowId),
    });
  }

  async function status(workflowId: string): Promise<StatusAnswer> {
    const description = await describeRunbook(workflowId);
    const answer: StatusAnswer = {
      workflowId,
      runId: description.runId,
      runbook: description.type,
      state: ExecutionStates[description.status.name as keyof typeof ExecutionStates] ?? 'unknown',
      startedAt: description.startTime.toISOString(),
      endedAt: description.closeTime?.toISOString(),
      statusUrl: statusPathOf(workflowId),
      uiUrl: uiUrlOf(workflowId),
    };
    if (description.status.name === 'RUNNING') {
      Object.assign(answer, await queryStatus(workflowId));
      const delegate = answer.status?.delegatedTo;
      if (delegate && delegate !== workflowId)
        answer.lockHolder = { workflowId: delegate, ...(await queryStatus(delegate)) };
      answer.awaiting = answer.status?.awaiting ?? answer.lockHolder?.status?.awaiting;
      return answer;
    }
    try {
      const outcome = await withDeadline(() => client.result(workflowId));
      answer.report = outcome.report;
      answer.failure = outcome.failure;
      answer.outcome = outcome.report?.outcome ?? (outcome.failure ? 'failed' : undefined);
    } catch (error) {
      answer.failure = { type: (error as Error).name, message: (error as Error).message };
    }
    return answer;
  }

  void app.register(
    (scope, _options, done) => {
      scope.addHook('onRequest', async (request, reply) => {
        void reply.header('cache-control', 'no-store');
        const check = auth.checkHeaders(request.headers);
        if (check.ok === false) return refuse(reply, check);
        if (check.ok === true) authenticated.add(request);
      });
      scope.addHook('preHandler', async (request, reply) => {
        if (authenticated.has(request)) return;
        const check = auth.verifySignature(request.headers, rawBodies.get(request) ?? Buffer.alloc(0), {
          changes: request.method !== 'GET' && request.method !== 'HEAD',
        });
        if (check.ok !== true) return refuse(reply, check as AuthRefusal);
      });

      scope.post('/runbooks/*', async (request, reply) => {
        const { id, segments } = runbookPathOf(request.url);
        const signalled = /^(.+)\/signals\/([^/]+)$/.exec(id);
        if (signalled) {
          const name = signalled[2]!;
          if (!isSignalName(name)) {
            throw new HttpError(404, {
              error: 'unknown-signal',
              message: `No signal named "${name}": send approve, reject or abort.`,
            });
          }
          return signal(request, reply, signalled[1]!, name);
        }
        if (segments.length !== 1 || id.includes('/')) {
          throw new HttpError(404, {
            error: 'no-such-route',
            message: `POST ${request.url.split('?')[0]} is not a route: start with POST /v1/runbooks/<runbook>, signal with POST /v1/runbooks/<workflowId>/signals/(approve|reject|abort).`,
          });
        }
        return start(request, reply, id);
      });

      scope.get('/runbooks/*', async (request) => {
        const { id } = runbookPathOf(request.url);
        if (id === '') {
          throw new HttpError(404, {
            error: 'no-such-route',
            message: 'GET /v1/runbooks/<workflowId>: name the workflow id a start answered with.',
          });
        }
        return status(id);
      });
      done();
    },
    { prefix: '/v1' },
  );

  return app;
}
