/**
 * What every ARM route module shares: the world, the API versions, and the way the emulator answers (ARM's
 * headers, error bodies, the async-operation headers, a reset after the request took effect).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import { EmulatedArmError, type AsyncOperation, type World } from '../world';

/** The api-version each resource family's URLs carry, as @azure/arm-sql 10 sends them. */
export const API = {
  groups: '2022-05-01-preview',
  instances: '2022-08-01-preview',
  operations: '2020-11-01-preview',
  databases: '2022-05-01-preview',
};

/** Route paths of the failover groups, managed instances, and async operations (Fastify syntax). */
export const groupsPath =
  '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/locations/:location/instanceFailoverGroups';
export const instancePath =
  '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/managedInstances/:instance';
export const asyncPath = '/subscriptions/:subscription/providers/Microsoft.Sql/locations/:location';

/** The families of Microsoft.Sql's async-operation URLs (`…/locations/{l}/<family>AzureAsyncOperation/{id}`). */
export type AsyncFamily =
  'instanceFailoverGroup' | 'managedInstance' | 'managedDatabase' | 'failoverGroup' | 'database' | 'elasticPool';

/** The families of Azure SQL Database's operations, whose URLs carry the version of the request that started them. */
export const SQL_DATABASE_FAMILIES: readonly AsyncFamily[] = ['failoverGroup', 'database', 'elasticPool'];

/** Route parameters, all strings. */
export type Params = Record<string, string>;

interface RequestState {
  resetAfter?: boolean;
}

const requestState = new WeakMap<FastifyRequest, RequestState>();

/** Per-request flags the request pipeline sets for the answer (a `reset` fault `when: after`). */
export function stateOf(request: FastifyRequest): RequestState {
  let state = requestState.get(request);
  if (!state) {
    state = {};
    requestState.set(request, state);
  }
  return state;
}

/** Request counts of an ARM server (admin API `GET /_admin/stats`). */
export interface ArmStats {
  reads: number;
  writes: number;
  throttled: number;
  faulted: number;
  /** By `METHOD route`. */
  byRoute: Record<string, number>;
}

/** The world and the answering helpers, as each route module receives them. */
export interface ArmContext {
  world: World;
  /** `http://host:port` as the client addressed the server, for URLs in answers. */
  baseUrl: (request: FastifyRequest) => string;
  /** Answers with ARM's request-id headers (or drops the connection when a fault says the answer is lost). */
  send: (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<FastifyReply | undefined>;
  /** Answers a refusal of the world as ARM's error body; rethrows anything else. */
  fail: (request: FastifyRequest, reply: FastifyReply, error: unknown) => Promise<FastifyReply | undefined>;
  /** ARM's 404 for a resource that is not there. */
  notFound: (request: FastifyRequest, reply: FastifyReply, what: string) => Promise<FastifyReply | undefined>;
  /** Azure-AsyncOperation, Location and Retry-After for a long-running operation the request started. */
  asyncHeaders: (request: FastifyRequest, operation: AsyncOperation, family: AsyncFamily) => Record<string, string>;
}

/** The context of the server at `host:port` (the port is used only when a request has no Host header). */
export function armContext(world: World, host: string, port: number): ArmContext {
  const baseUrl = (request: FastifyRequest): string =>
    `${request.protocol}://${request.headers.host ?? `${host}:${port}`}`;

  const send = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (stateOf(request).resetAfter) {
      // The request took effect; its answer is lost, as when a connection drops at the wrong moment.
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    const clientRequestId = request.headers['x-ms-client-request-id'];
    reply.header('x-ms-request-id', randomUUID());
    if (typeof clientRequestId === 'string') reply.header('x-ms-client-request-id', clientRequestId);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    reply.code(status);
    if (body === undefined) return reply.send();
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
  };

  const fail = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    if (error instanceof EmulatedArmError)
      return send(request, reply, error.status, armErrorBody(error.code, error.message));
    throw error;
  };

  const notFound = (request: FastifyRequest, reply: FastifyReply, what: string) =>
    send(request, reply, 404, armErrorBody('ResourceNotFound', `The Resource '${what}' was not found.`));

  const asyncHeaders = (
    request: FastifyRequest,
    operation: AsyncOperation,
    family: AsyncFamily,
  ): Record<string, string> => {
    const sent = (request.query as Record<string, string | undefined>)['api-version'];
    const version = SQL_DATABASE_FAMILIES.includes(family)
      ? (sent ?? API.groups)
      : family === 'managedInstance'
        ? API.instances
        : family === 'managedDatabase'
          ? API.databases
          : API.groups;
    const root = `${baseUrl(request)}/subscriptions/${operation.subscriptionId}/providers/Microsoft.Sql/locations/${operation.location}`;
    return {
      'Azure-AsyncOperation': `${root}/${family}AzureAsyncOperation/${operation.id}?api-version=${version}`,
      Location: `${root}/${family}OperationResults/${operation.id}?api-version=${version}`,
      'Retry-After': String(world.timings.asyncRetryAfterSeconds),
    };
  };

  return { world, baseUrl, send, fail, notFound, asyncHeaders };
}
