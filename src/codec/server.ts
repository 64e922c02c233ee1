/**
 * `fogpilot codec-server`: Temporal's remote codec protocol over HTTP, so the Temporal UI and the Temporal CLI show
 * encrypted payloads in clear to people holding the codec token.
 *
 * - `POST /encode` and `POST /decode`: body `{ "payloads": [{ "metadata": { key: base64 }, "data": base64 }] }` (the
 *   protobuf JSON form of `temporal.api.common.v1.Payloads`), answer of the same form. The `X-Namespace` header is
 *   logged with the request, never the payloads.
 * - Authentication: `Authorization: Bearer <FOGPILOT_CODEC_TOKEN>`, compared in constant time; anything else is 401.
 * - CORS for the Temporal UI: only the origins given answer a preflight (`OPTIONS`) and get
 *   `Access-Control-Allow-Origin`; any other origin gets 403 on preflight and no CORS headers.
 */
import { registerSecret } from '../secrets';
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { fogpilotVariable, type FogpilotVariable } from '../config/environment';

export const CODEC_TOKEN_ENV = 'FOGPILOT_CODEC_TOKEN' satisfies FogpilotVariable;
/** Shorter tokens are refused: they can be guessed. */
export const MIN_CODEC_TOKEN_LENGTH = 16;
/** Headers a browser may send cross-origin: the UI sends X-Namespace, and Authorization when it passes a token. */
export const CODEC_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-Namespace'] as const;
/** A history's payloads in one request; Temporal limits one payload to 2 MiB, a batch holds several. */
const BODY_LIMIT_IN_BYTES = 16 * 1024 * 1024;

/** A setting that stops the codec server from starting; `action` says what to do. */
export class CodecServerSettingsError extends Error {
  override readonly name = 'CodecServerSettingsError';
  constructor(
    message: string,
    readonly action: string,
  ) {
    super(message);
  }
}

/** Reads FOGPILOT_CODEC_TOKEN: the server does not start without one (it would decrypt for anyone who can reach it). */
export function codecTokenFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const token = fogpilotVariable(CODEC_TOKEN_ENV, env)?.trim();
  const action =
    `Make one with \`openssl rand -hex 32\` and export ${CODEC_TOKEN_ENV}; callers send ` +
    '`Authorization: Bearer <token>` (Temporal CLI: --codec-auth "Bearer <token>").';
  if (!token) {
    throw new CodecServerSettingsError(
      `The codec server will not start without ${CODEC_TOKEN_ENV}: it decrypts histories for whoever calls it.`,
      action,
    );
  }
  if (token.length < MIN_CODEC_TOKEN_LENGTH) {
    throw new CodecServerSettingsError(
      `${CODEC_TOKEN_ENV} is too short (${token.length} characters); it must have at least ${MIN_CODEC_TOKEN_LENGTH}.`,
      action,
    );
  }
  registerSecret(token);
  return token;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer token callers must send. */
  token: string;
  /** Origins (scheme://host[:port]) allowed to call from a browser, e.g. the Temporal UI's. Default none. */
  allowOrigins?: readonly string[];
  /** A pino logger; silent without one. Headers and payloads are never logged. */
  logger?: FastifyBaseLogger;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

class BadRequest extends Error {}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bytesOf(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new BadRequest(`${where} must be a base64 string`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function payloadsOf(body: unknown): Payload[] {
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new BadRequest('the body must be {"payloads": [...]}');
  return payloads.map((raw: unknown, index) => {
    if (typeof raw !== 'object' || raw === null) throw new BadRequest(`payloads[${index}] must be an object`);
    const { metadata = {}, data = '' } = raw as JsonPayload;
    if (typeof metadata !== 'object' || metadata === null)
      throw new BadRequest(`payloads[${index}].metadata must be an object`);
    return {
      metadata: Object.fromEntries(
        Object.entries(metadata).map(([key, value]) => [key, bytesOf(value, `payloads[${index}].metadata.${key}`)]),
      ),
      data: bytesOf(data, `payloads[${index}].data`),
    };
  });
}

function jsonOf(payloads: Payload[]): { payloads: JsonPayload[] } {
  const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
  return {
    payloads: payloads.map((payload) => ({
      metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, base64(value)])),
      data: base64(payload.data),
    })),
  };
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Builds the codec server, not yet listening: call `listen` (the CLI does) or `inject` (tests do). */
export function createCodecServer(options: CodecServerOptions): FastifyInstance {
  const expected = digest(`Bearer ${options.token}`);
  const origins = new Set((options.allowOrigins ?? []).map((origin) => new URL(origin).origin));
  const app = Fastify({
    bodyLimit: BODY_LIMIT_IN_BYTES,
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
  });

  // Before authentication: a browser's preflight carries no credentials, and a 401 needs CORS headers to be readable.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    const allowed = origin !== undefined && origins.has(origin);
    if (allowed) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Access-Control-Allow-Credentials', 'true');
    }
    reply.header('Vary', 'Origin');
    if (request.method === 'OPTIONS') {
      if (!allowed) {
        return reply.code(403).send({
          error: `origin ${origin ?? '(none)'} is not allowed; start the codec server with --allow-origin <that origin>`,
        });
      }
      return reply
        .code(204)
        .header('Access-Control-Allow-Methods', 'POST, OPTIONS')
        .header('Access-Control-Allow-Headers', CODEC_ALLOWED_HEADERS.join(', '))
        .header('Access-Control-Max-Age', '600')
        .send();
    }
    const given = request.headers.authorization;
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      request.log.warn(
        { namespace: request.headers['x-namespace'], url: request.url },
        'codec request refused: bad token',
      );
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({ error: 'send Authorization: Bearer <the codec token>' });
    }
  });
  // Preflights are answered by the hook above; these routes only make OPTIONS a known method on each path.
  app.options('/encode', (_request, reply: FastifyReply) => reply.code(204).send());
  app.options('/decode', (_request, reply: FastifyReply) => reply.code(204).send());

  for (const operation of ['encode', 'decode'] as const) {
    app.post(`/${operation}`, async (request, reply) => {
      let payloads: Payload[];
      try {
        payloads = payloadsOf(request.body);
      } catch (error) {
        if (error instanceof BadRequest) return reply.code(400).send({ error: error.message });
        throw error;
      }
      try {
        const result = await options.codec[operation](payloads);
        request.log.info(
          { namespace: request.headers['x-namespace'], operation, payloads: payloads.length },
          'codec request',
        );
        return reply.send(jsonOf(result));
      } catch (error) {
        // The codec's messages name key ids and the variable, never key material or payload content.
        request.log.warn({ namespace: request.headers['x-namespace'], operation }, (error as Error).message);
        return reply.code(422).send({ error: (error as Error).message });
      }
    });
  }
  return app;
}
