/**
 * The authenticated `/v1` routes: every request is checked (bearer token from the headers, or an HMAC signature over the
 * exact body bytes) before a route runs, then dispatched on its path to start, status or signal.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRefusal, RequestAuthenticator } from './auth';
import type { RouteContext } from './context';
import { HttpError, noSuchRoute, type WebhookError } from './errors';
import { runbookPathOf } from './paths';
import { isSignalName } from './requests';
import { signalRunbook } from './signals';
import { startRunbook } from './start';
import { runbookStatus } from './status';

export interface RunbookRoutesOptions {
  context: RouteContext;
  auth: RequestAuthenticator;
  /** The bytes of each JSON body as received, which a signature covers. */
  rawBodies: WeakMap<FastifyRequest, Buffer>;
}

/** Registers `POST /v1/runbooks/*` and `GET /v1/runbooks/*` behind authentication. */
export function registerRunbookRoutes(app: FastifyInstance, { context, auth, rawBodies }: RunbookRoutesOptions): void {
  // Requests whose bearer token was accepted before the body was read; signed ones are checked after.
  const authenticated = new WeakSet<FastifyRequest>();

  function refuse(reply: FastifyReply, refusal: AuthRefusal): FastifyReply {
    if (refusal.statusCode === 401 && auth.methods.includes('bearer'))
      void reply.header('www-authenticate', 'Bearer realm="fogpilot"');
    return reply
      .code(refusal.statusCode)
      .send({ error: refusal.error, message: refusal.message } satisfies WebhookError);
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
