/**
 * What ARM's front door does before a request reaches a resource provider (Microsoft.Sql, Microsoft.Network), as the emulator reproduces it: the bearer token
 * (401), the correlation id on every answer, and ARM's error shape for a route or method nobody serves.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';

/** The token `EmulatorCredential` gives, printed in the start line for other clients. */
export const EMULATOR_TOKEN = 'fogpilot-emulator-token';

/** A JSON Web Token's shape: what Microsoft Entra ID issues (header.payload.signature, base64url). */
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** ARM's 401 for a request, or undefined when its token is accepted. */
export interface AuthenticationRefusal {
  code: string;
  message: string;
  /** The `WWW-Authenticate` header ARM sends with it. */
  challenge: string;
}

const challenge = (description: string) =>
  `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${description}"`;

/**
 * Checks the Authorization header as ARM does (codes and messages as ARM answers them: AuthenticationFailed with "The
 * 'Authorization' header is missing." — hashicorp/terraform-provider-azurerm#3612; "… is provided in an invalid
 * format." — Azure/azure-sdk-for-python#4124; InvalidAuthenticationToken "The access token is invalid." —
 * Azure/azure-powershell#27882). The emulator verifies no signature: it accepts its own token and any JWT-shaped
 * token, so a client with a real credential (Azure CLI, azure-identity) or a static token works unchanged.
 */
export function checkAuthorization(header: string | undefined): AuthenticationRefusal | undefined {
  if (header === undefined || header.trim() === '') {
    return {
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is missing.",
      challenge: challenge("The authentication failed because of missing 'Authorization' header."),
    };
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    return {
      code: 'AuthenticationFailed',
      message: "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      challenge: challenge("The 'Authorization' header is provided in an invalid format."),
    };
  }
  const token = match[1]!;
  if (token === EMULATOR_TOKEN || JWT.test(token)) return undefined;
  return {
    code: 'InvalidAuthenticationToken',
    message: `The access token is invalid. The emulator accepts the token '${EMULATOR_TOKEN}' (EmulatorCredential) or any JWT.`,
    challenge: challenge('The access token is invalid.'),
  };
}

/** The admin API is the emulator's own, not ARM's: it needs no token. */
export const isAdminPath = (url: string) =>
  url === '/_admin' || url.startsWith('/_admin/') || url.startsWith('/_admin?');

/** `/subscriptions/:subscription/…/:group` as a regular expression over a path (any value for each parameter). */
function patternOf(route: string): RegExp {
  const escaped = route
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`, 'i');
}

/**
 * Installs the front door on the ARM server: authentication (`onRequest`, so unknown routes need a token too, as on
 * ARM), `x-ms-correlation-request-id` on every answer (the client's when it sent one — ARM echoes it; otherwise a new
 * one), and ARM's `{error:{code,message}}` for a path no route serves (404 InvalidResourceType, or ResourceNotFound
 * outside a provider) or a method the path does not take (405 MethodNotAllowed). Call before registering routes.
 */
export function installFrontDoor(
  app: FastifyInstance,
  send: (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<FastifyReply | undefined>,
): void {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    if (isAdminPath(route.url)) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((method) => method.toUpperCase());
    routes.push({ pattern: patternOf(route.url), methods: new Set(methods) });
  });

  app.addHook('onRequest', async (request, reply) => {
    if (isAdminPath(request.url)) return;
    const sent = request.headers['x-ms-correlation-request-id'];
    reply.header('x-ms-correlation-request-id', typeof sent === 'string' && sent !== '' ? sent : randomUUID());
    const refusal = checkAuthorization(request.headers.authorization);
    if (refusal) {
      await send(request, reply, 401, armErrorBody(refusal.code, refusal.message), {
        'WWW-Authenticate': refusal.challenge,
      });
      return reply;
    }
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const method = request.method.toUpperCase();
    const served = routes.filter((route) => route.pattern.test(path));
    if (served.length > 0) {
      const allowed = [...new Set(served.flatMap((route) => [...route.methods]))].sort();
      return send(
        request,
        reply,
        405,
        armErrorBody('MethodNotAllowed', `The requested resource does not support http method '${method}'.`),
        { Allow: allowed.join(', ') },
      );
    }
    const provider = /\/providers\/([^/]+)\/(.+)$/i.exec(path);
    if (provider) {
      const segments = provider[2]!.split('/');
      const type = segments.filter((_, index) => index % 2 === 0).join('/');
      const version = (request.query as Record<string, string | undefined>)['api-version'] ?? '';
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'InvalidResourceType',
          `The resource type '${type}' could not be found in the namespace '${provider[1]}' for api version '${version}'.`,
        ),
      );
    }
    return send(
      request,
      reply,
      404,
      armErrorBody(
        'ResourceNotFound',
        `No resource is served at '${path}'. The emulator serves Microsoft.Sql and Microsoft.Network routes only.`,
      ),
    );
  });
}
