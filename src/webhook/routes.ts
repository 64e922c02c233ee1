/**
 * The authenticated `/v1` routes: every request is checked (bearer token from the headers, or an HMAC signature over the
 * method, path, idempotency key and exact body bytes) and held to its caller's rate limit before a route runs, then
 * dispatched on its path to start, status or signal. The caller is `request.principal` from then on.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRefusal, Authenticated, RequestAuthenticator } from './auth';
import type { RouteContext } from './context';
import { HttpError, noSuchRoute, type WebhookError } from './errors';
import { runbookPathOf } from './paths';
import type { CallerRateLimiter } from './rate-limit';
import { isSignalName } from './requests';
import { signalRunbook } from './signals';
import { startRunbook } from './start';
import { runbookStatus } from './status';

export interface RunbookRoutesOptions {
  context: RouteContext;
  auth: RequestAuthenticator;
  rateLimiter: CallerRateLimiter;
  /** The bytes of each JSON body as received, which a signature covers. */
  rawBodies: WeakMap<FastifyRequest, Buffer>;
}

/** Registers `POST /v1/runbooks/*` and `GET /v1/runbooks/*` behind authentication and per-caller rate limits. */
export function registerRunbookRoutes(
  app: FastifyInstance,
  { context, auth, rateLimiter, rawBodies }: RunbookRoutesOptions,
): void {
  // Requests whose bearer token was accepted before the body was read; signed ones are checked after.
  const authenticated = new WeakSet<FastifyRequest>();

  function refuse(reply: FastifyReply, refusal: AuthRefusal): FastifyReply {
    if (refusal.statusCode === 401 && auth.methods.includes('bearer'))
      void reply.header('www-authenticate', 'Bearer realm="fogpilot"');
    return reply
      .code(refusal.statusCode)
      .send({ error: refusal.error, message: refusal.message } satisfies WebhookError);
  }

  /** Holds the caller to its rate limit; undefined when the request may go on. */
  function limited(request: FastifyRequest, reply: FastifyReply, check: Authenticated): FastifyReply | undefined {
    request.principal = { kind: 'caller', name: check.caller };
    const decision = rateLimiter.take(check.caller);
    if (decision.allowed) return undefined;
    request.log.warn({ caller: check.caller, limit: decision.limit }, 'rate limit reached');
    return reply
      .code(429)
      .header('retry-after', String(decision.retryAfterSeconds))
      .send({
        error: 'rate-limited',
        message:
          `Caller ${check.caller} sent more than ${decision.limit.perMinute} requests a minute` +
          `${decision.limit.burst ? ` (burst ${decision.limit.burst})` : ''}. Retry after ${decision.retryAfterSeconds} s ` +
          `(Retry-After), or raise access.callers.${check.caller}.rateLimit in fogpilot.yaml.`,
      } satisfies WebhookError);
  }

  void app.register(
    (scope, _options, done) => {
      scope.addHook('onRequest', async (request, reply) => {
        void reply.header('cache-control', 'no-store');
        const check = auth.checkHeaders(request.headers);
        if (check.ok === false) return refuse(reply, check);
        if (check.ok === true) {
          authenticated.add(request);
          return limited(request, reply, check);
        }
      });
      scope.addHook('preHandler', async (request, reply) => {
        if (authenticated.has(request)) return;
        const headers = request.headers;
        const check = auth.identify({
          method: request.method,
          url: request.url,
          headers,
          rawBody: rawBodies.get(request) ?? Buffer.alloc(0),
        });
        if (check.ok !== true) return refuse(reply, check as AuthRefusal);
        // Limited before it is remembered: a request refused 429 may be sent again as it is once the bucket refills.
        const tooMany = limited(request, reply, check);
        if (tooMany) return tooMany;
        if (request.method === 'GET' || request.method === 'HEAD') return;
        const once = auth.remember(headers, check);
        if (once.ok !== true) return refuse(reply, once as AuthRefusal);
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
          return signalRunbook(context, request, reply, signalled[1]!, name);
        }
        if (segments.length !== 1 || id.includes('/')) {
          throw noSuchRoute(
            `POST ${request.url.split('?')[0]} is not a route: start with POST /v1/runbooks/<runbook>, signal with POST /v1/runbooks/<workflowId>/signals/(approve|reject|abort).`,
          );
        }
        return startRunbook(context, request, reply, id);
      });

      scope.get('/runbooks/*', async (request) => {
        const { id } = runbookPathOf(request.url);
        if (id === '') throw noSuchRoute('GET /v1/runbooks/<workflowId>: name the workflow id a start answered with.');
        return runbookStatus(context, id);
      });
      done();
    },
    { prefix: '/v1' },
  );
}
