/**
 * The HTTP trigger for incident tooling (`fogpilot webhook`): start a runbook, read its status or report, and send it
 * a decision, over authenticated JSON. Everything goes through {@link FogpilotClient}, so inputs are validated with the
 * workflows' own schemas before anything reaches Temporal, and an idempotency key (the incident id) makes a repeated
 * start return the run already started.
 *
 * Who may do what comes from fogpilot.yaml's `access` section: each request authenticates as one named caller
 * (`request.principal`), is held to that caller's rate limit, and a start is refused 403 unless the caller may start
 * that runbook on every group it acts on. Without an access section only read-only runbooks and dry runs start.
 *
 * Routes (all `/v1` routes need a signature or a bearer token, see `auth.ts`):
 * - `POST /v1/runbooks/:runbook` `{ input, idempotencyKey? }` → 201 started, 200 the run an idempotency key already started
 * - `GET /v1/runbooks/:workflowId` → live status while running, the report once ended
 * - `POST /v1/runbooks/:workflowId/signals/(approve|reject|abort)` `{ by, reason }` → 202
 * - `GET /healthz` (the process is up) and `GET /readyz` (Temporal answers), without authentication
 *
 * Workflow ids contain slashes: they are accepted as they are (`/v1/runbooks/fogpilot/drDrill/fog-sales/INC-1`) or
 * URL-encoded as one segment.
 *
 * This file holds the app itself (body parsing, error answers, health and readiness); the `/v1` routes are in
 * `routes.ts`, one file per route (`start.ts`, `status.ts`, `signals.ts`), the error answers in `errors.ts`, the
 * workflow ids in paths in `paths.ts`, the access decision in `authorize.ts`, rate limits in `rate-limit.ts` and the
 * replay store in `replay-store.ts`. Every answer carries `x-request-id`, and the log lines of a request carry it as
 * `requestId`; a 5xx answer says no more than its error code, a generic message and that id.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { randomUUID } from 'node:crypto';
import type { FogpilotClient } from '../client';
import type { CallerRateLimit } from '../config/access';
import { CLOUD_ARM_ENDPOINTS, ConfigSchema, type FogpilotConfig } from '../config/config';
import { DEFAULT_REPLAY_WINDOW_MS, RequestAuthenticator, type WebhookAuthOptions } from './auth';
import type { RouteContext } from './context';
import { HttpError, frameworkErrorAnswer, serverErrorBody, type WebhookError } from './errors';
import { CallerRateLimiter } from './rate-limit';
import { FileReplayStore, MemoryReplayStore } from './replay-store';
import { registerRunbookRoutes } from './routes';
import type { WebhookCredential } from './settings';

export type { WebhookError } from './errors';
export { statusPathOf } from './paths';
export type { StartAnswer } from './start';
export type { StatusAnswer } from './status';

export const DEFAULT_UI_BASE_URL = 'http://localhost:8233';
export const DEFAULT_BODY_LIMIT_IN_BYTES = 64 * 1024;
export const DEFAULT_TEMPORAL_TIMEOUT_IN_MS = 5_000;
/** Readiness probes (Kubernetes and the like) give up after a second or two. */
export const DEFAULT_READINESS_TIMEOUT_IN_MS = 2_000;

/** An `x-request-id` a proxy in front may set is kept when it looks like an id; anything else gets a fresh UUID. */
const FORWARDED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The configuration of a trigger given none: no access section (read-only runbooks and dry runs), no inventory. */
function emptyConfig(): FogpilotConfig {
  return { ...ConfigSchema.parse({}), source: '(none)', armEndpoint: CLOUD_ARM_ENDPOINTS.AzurePublicCloud };
}

export interface WebhookServerOptions {
  client: FogpilotClient;
  /**
   * The callers' credentials (`webhookCredentials` reads them as fogpilot.yaml's access section says). The server
   * refuses to be built without at least one, here or in `auth`.
   */
  credentials?: WebhookCredential[];
  /** The legacy single credential, as caller `default`. */
  auth?: WebhookAuthOptions;
  /**
   * fogpilot.yaml: its `access` section decides who may start what, its inventory names the groups. Default: no access
   * section (only read-only runbooks and dry runs start) and no inventory.
   */
  config?: FogpilotConfig;
  /** The rate limit of a caller whose access entry sets none. Default 60 a minute, all of them at once if need be. */
  defaultRateLimit?: CallerRateLimit;
  /**
   * A directory to keep the replay store in, so a restart keeps refusing signed changes already accepted. Default: in
   * memory (a restart forgets them: see `replay-store.ts`).
   */
  stateDir?: string;
  /** Serve HTTPS with this certificate chain and key (PEM); plain HTTP without. */
  https?: { cert: string | Buffer; key: string | Buffer };
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

/**
 * Builds the HTTP trigger. The answer is a fastify instance not yet listening: call `listen` (the CLI does), or
 * `inject` requests (tests). Throws {@link WebhookAuthConfigError} when `auth` holds neither a secret nor a token.
 */
export function createWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const { client, namespace } = options;
  const config = options.config ?? emptyConfig();
  const now = options.now ?? Date.now;
  const auth = new RequestAuthenticator({
    ...options.auth,
    credentials: options.credentials,
    replayWindowMs: options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS,
    replayStore: options.stateDir ? new FileReplayStore(options.stateDir, now()) : new MemoryReplayStore(),
    now,
  });
  const rateLimiter = new CallerRateLimiter(
    (caller) => config.access?.callers[caller]?.rateLimit,
    now,
    options.defaultRateLimit,
  );
  const uiBaseUrl = new URL(options.uiBaseUrl ?? DEFAULT_UI_BASE_URL).toString().replace(/\/+$/, '');
  const bodyLimit = options.bodyLimitInBytes ?? DEFAULT_BODY_LIMIT_IN_BYTES;
  const temporalTimeout = options.temporalTimeoutInMs ?? DEFAULT_TEMPORAL_TIMEOUT_IN_MS;
  const readinessTimeout = options.readinessTimeoutInMs ?? DEFAULT_READINESS_TIMEOUT_IN_MS;

  const app = Fastify({
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key } } : {}),
    bodyLimit,
    genReqId: (request) => {
      const forwarded = request.headers['x-request-id'];
      return typeof forwarded === 'string' && FORWARDED_REQUEST_ID.test(forwarded) ? forwarded : randomUUID();
    },
    requestIdLogLabel: 'requestId',
    // Errors found before routing (a path that is not valid URL encoding) answer in the same shape as the rest.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      void reply
        .code(400)
        .send({ error: 'malformed-url', message: `The URL is not valid: ${error.message}` } satisfies WebhookError);
    },
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
  }) as unknown as FastifyInstance;
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });

  const context: RouteContext = {
    client,
    withDeadline: (fn, timeoutInMs = temporalTimeout) =>
      client.client.connection.withDeadline(Date.now() + timeoutInMs, fn),
    uiUrlOf: (workflowId) =>
      `${uiBaseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`,
    config,
  };

  // The signature covers the exact bytes received, so the JSON parser keeps them; nothing but JSON is accepted.
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    rawBodies.set(request, body as Buffer);
    void parseJson(request, (body as Buffer).toString('utf8'), done);
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      if (error.statusCode < 500) return reply.code(error.statusCode).send(error.body);
      request.log.warn({ error: error.body.error, detail: error.detail }, 'webhook request failed');
      return reply.code(error.statusCode).send(serverErrorBody(error.body, request.id));
    }
    const mapped = frameworkErrorAnswer(error, {
      bodyLimitInBytes: bodyLimit,
      contentType: request.headers['content-type'],
    });
    if (mapped) return reply.code(mapped[0]).send(mapped[1]);
    request.log.error({ err: error }, 'webhook request failed');
    return reply.code(500).send(
      serverErrorBody(
        {
          error: 'internal-error',
          message:
            "The request failed inside the trigger; nothing more is said here. The trigger's log has the cause under this request id.",
        },
        request.id,
      ),
    );
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

  app.get('/readyz', async (request, reply) => {
    try {
      await context.withDeadline(
        () => client.client.workflowService.describeNamespace({ namespace }),
        readinessTimeout,
      );
      return { status: 'ready', namespace };
    } catch (error) {
      // Unauthenticated: the cause (addresses, TLS and credential errors) goes to the log, under the request id.
      request.log.warn({ detail: (error as Error).message, namespace }, 'not ready: Temporal did not answer');
      return reply.code(503).send({
        status: 'not-ready',
        ...serverErrorBody(
          {
            error: 'temporal-unavailable',
            message: `Temporal did not answer for namespace ${namespace}. Check TEMPORAL_ADDRESS, the namespace and credentials; the trigger's log has the cause under this request id.`,
          },
          request.id,
        ),
      });
    }
  });

  registerRunbookRoutes(app, { context, auth, rateLimiter, rawBodies });
  return app;
}
