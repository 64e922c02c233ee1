/**
 * The ARM half of the emulator: an HTTP server for the Microsoft.Sql (and the Microsoft.Network) endpoints fogpilot uses, answering from the
 * world with the ARM async protocol as Microsoft.Sql speaks it (202 with Azure-AsyncOperation, Location and
 * Retry-After; a status resource going InProgress → Succeeded/Failed; a Location answering 202, then the result),
 * ARM throttling, faults on demand, and an admin API under `/_admin`.
 *
 * This module is the request pipeline every ARM request goes through (the world advances; a dark region hangs; HTTP
 * faults; per-subscription throttling; the api-version check per resource type) and the request log; ./arm/front-door.ts
 * is what ARM checks before that (the bearer token, the correlation id, unknown routes and methods). The routes live by resource type
 * under ./arm/: failover-groups, managed-instances, instance-resources (TDE protector, keys, databases),
 * management-operations, retention-policies, async-operations, networks (Microsoft.Network), and admin;
 * ./arm/context.ts is how they answer.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { normalizeLocation } from '../domain/locations';
import { registerAdminRoutes } from './arm/admin';
import { registerAsyncOperationRoutes } from './arm/async-operations';
import { registerComputeRoutes } from './arm/compute';
import { registerCosmosDbRoutes } from './arm/cosmos-db';
import { resourceTypeOfRoute, refuseApiVersion } from './arm/api-versions';
import { armContext, stateOf, type ArmStats, type Params } from './arm/context';
import { registerFailoverGroupRoutes } from './arm/failover-groups';
import { installFrontDoor, isAdminPath } from './arm/front-door';
import { registerInstanceResourceRoutes } from './arm/instance-resources';
import { registerManagedInstanceRoutes } from './arm/managed-instances';
import { registerManagedDatabaseRoutes } from './arm/managed-databases';
import { registerManagementOperationRoutes } from './arm/management-operations';
import { registerNetworkRoutes } from './arm/networks';
import { registerRecoveryServicesRoutes } from './arm/recovery-services';
import { registerResourceGroupCheck } from './arm/resource-groups';
import { registerRetentionPolicyRoutes } from './arm/retention-policies';
import { registerSqlFailoverGroupRoutes } from './arm/sql-failover-groups';
import { registerSqlServerRoutes } from './arm/sql-servers';
import { armErrorBody } from './arm-bodies';
import { HttpFaults } from './faults';
import { TokenBucket } from './throttle';
import type { World } from './world';
import { networkLocation } from './world/networks';

export type { ArmStats } from './arm/context';

/** One ARM request as the emulator answered it: what benchmarks need to see request rates and who noticed what when. */
export interface ArmRequestRecord {
  /** Real epoch milliseconds when the request arrived. */
  at: number;
  method: string;
  /** The route it matched, e.g. `/subscriptions/:subscription/…/instanceFailoverGroups/:group`. */
  route: string;
  /** The path without the query. */
  path: string;
  status: number;
}

/** The request log keeps this many of the latest requests. */
const REQUEST_LOG_LIMIT = 100_000;

export interface ArmServer {
  app: FastifyInstance;
  /** e.g. `http://127.0.0.1:41234`, or `https://…` with TLS */
  url: string;
  port: number;
  faults: HttpFaults;
  stats: ArmStats;
  /** The latest requests (admin API excluded), oldest first. */
  requestLog: ArmRequestRecord[];
  /** Adds a fault of any kind (HTTP or world). */
  addFault(spec: unknown): { id?: string; kind: string };
  close(): Promise<void>;
}

export interface ArmServerOptions {
  world: World;
  host?: string;
  port?: number;
  /** Serve HTTPS with this certificate (signed by the emulator's CA) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startArmServer({
  world,
  host = '127.0.0.1',
  port = 0,
  tls,
}: ArmServerOptions): Promise<ArmServer> {
  const app = Fastify({
    ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}),
    logger: false,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    forceCloseConnections: true,
  });
  const faults = new HttpFaults();
  const stats: ArmStats = { reads: 0, writes: 0, throttled: 0, faulted: 0, byRoute: {} };
  const requestLog: ArmRequestRecord[] = [];
  const readBuckets = new Map<string, TokenBucket>();
  const writeBuckets = new Map<string, TokenBucket>();
  /** How long a dark region holds a request before dropping it, per region. */
  const darkHangMs = new Map<string, number>();

  // ARM sends POSTs with no body; accept an empty JSON body rather than refusing it.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const context = armContext(world, host, port);
  const { send } = context;
  installFrontDoor(app, send);

  /** The region an ARM request is about, for faults and dark regions. */
  const locationOf = (request: FastifyRequest): string | undefined => {
    const params = request.params as Params;
    if (params.location) return normalizeLocation(params.location);
    if (params.instance && params.subscription && params.resourceGroup) {
      return world.instanceByName(params.subscription, params.resourceGroup, params.instance)?.location;
    }
    // A logical server lives in its region: a dark region's servers (and their databases, groups) answer nothing.
    if (params.server && params.subscription && params.resourceGroup) {
      return world.sqlServerByName(params.subscription, params.resourceGroup, params.server)?.location;
    }
    // A network resource lives in its region: a dark region's vnets and NSGs answer nothing either.
    if (params.subscription && params.resourceGroup && (params.vnet || params.nsg)) {
      return params.vnet
        ? networkLocation(world, params.subscription, params.resourceGroup, 'vnet', params.vnet)
        : networkLocation(world, params.subscription, params.resourceGroup, 'nsg', params.nsg!);
    }
    return undefined;
  };

  app.addHook('onResponse', async (request, reply) => {
    if (isAdminPath(request.url)) return;
    requestLog.push({
      at: Math.round(Date.now() - reply.elapsedTime),
      method: request.method.toUpperCase(),
      route: request.routeOptions.url ?? 'unknown',
      path: request.url.split('?')[0]!,
      status: reply.statusCode,
    });
    if (requestLog.length > REQUEST_LOG_LIMIT) requestLog.splice(0, requestLog.length - REQUEST_LOG_LIMIT);
  });

  app.addHook('preHandler', async (request, reply) => {
    // The front door answers a path no route serves (its not-found handler runs these hooks too).
    if (isAdminPath(request.url) || request.is404) return;
    // ARM refuses a missing or unserved api-version before the request reaches the resource provider.
    const apiVersion = (request.query as Record<string, string | undefined>)['api-version'];
    if (!apiVersion) {
      await send(
        request,
        reply,
        400,
        armErrorBody(
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        ),
      );
      return reply;
    }
    const resourceType = resourceTypeOfRoute(request.routeOptions.url ?? '');
    const refusal = resourceType && refuseApiVersion(apiVersion, resourceType, locationOf(request));
    if (refusal) {
      await send(request, reply, 400, armErrorBody(refusal.code, refusal.message));
      return reply;
    }
    world.advance();
    const method = request.method.toUpperCase();
    const isRead = method === 'GET' || method === 'HEAD';
    if (isRead) stats.reads += 1;
    else stats.writes += 1;
    const route = request.routeOptions.url ?? 'unknown';
    stats.byRoute[`${method} ${route}`] = (stats.byRoute[`${method} ${route}`] ?? 0) + 1;

    const location = locationOf(request);
    if (location && world.isDark(location)) {
      await sleep(darkHangMs.get(location) ?? 3000);
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    for (const fault of faults.take({ method, path: request.url.split('?')[0]!, location })) {
      stats.faulted += 1;
      switch (fault.kind) {
        case 'latency':
          await sleep(fault.ms);
          break;
        case 'reset':
          if (fault.when === 'after') {
            stateOf(request).resetAfter = true;
            break;
          }
          reply.hijack();
          request.raw.socket.destroy();
          return reply;
        case 'throttle':
          stats.throttled += 1;
          await send(
            request,
            reply,
            fault.status,
            armErrorBody(
              fault.status === 429 ? 'SubscriptionTooManyRequests' : 'TooManyRequests',
              'Requests beyond max requests that can be processed by available resources.',
            ),
            {
              'Retry-After': String(fault.retryAfterSeconds),
            },
          );
          return reply;
        case 'error':
          await send(request, reply, fault.status, armErrorBody(fault.code, `Injected ${fault.status} ${fault.code}`));
          return reply;
        case 'busy':
          await send(
            request,
            reply,
            409,
            armErrorBody(fault.code, 'Instance failover group is busy with another operation.'),
          );
          return reply;
      }
    }
    const subscription = (request.params as Params).subscription;
    if (subscription && world.spec.throttling.enabled) {
      const { readCapacity, readsPerSecond, writeCapacity, writesPerSecond } = world.spec.throttling;
      const buckets = isRead ? readBuckets : writeBuckets;
      let bucket = buckets.get(subscription.toLowerCase());
      if (!bucket) {
        bucket = isRead
          ? new TokenBucket(readCapacity, readsPerSecond)
          : new TokenBucket(writeCapacity, writesPerSecond);
        buckets.set(subscription.toLowerCase(), bucket);
      }
      const taken = bucket.take();
      if (!taken.ok) {
        stats.throttled += 1;
        await send(
          request,
          reply,
          429,
          armErrorBody(
            isRead ? 'SubscriptionTooManyRequests' : 'SubscriptionTooManyCreateUpdateRequests',
            'Requests beyond max requests that can be processed by available resources.',
          ),
          {
            'Retry-After': String(taken.retryAfterSeconds),
          },
        );
        return reply;
      }
      reply.header(`x-ms-ratelimit-remaining-subscription-${isRead ? 'reads' : 'writes'}`, String(taken.remaining));
    }
  });

  registerResourceGroupCheck(app, context);
  registerFailoverGroupRoutes(app, context);
  registerManagedInstanceRoutes(app, context);
  registerInstanceResourceRoutes(app, context);
  registerManagedDatabaseRoutes(app, context);
  registerManagementOperationRoutes(app, context);
  registerRetentionPolicyRoutes(app, context);
  registerSqlServerRoutes(app, context);
  registerSqlFailoverGroupRoutes(app, context);
  registerAsyncOperationRoutes(app, context);
  registerNetworkRoutes(app, context);
  registerComputeRoutes(app, context);
  registerRecoveryServicesRoutes(app, context);
  registerCosmosDbRoutes(app, context);
  const addFault = registerAdminRoutes(app, { world, faults, stats, darkHangMs });

  const address = await app.listen({ host, port });
  const actualPort = Number(new URL(address).port);
  return {
    app,
    url: `${tls ? 'https' : 'http'}://${host}:${actualPort}`,
    port: actualPort,
    faults,
    stats,
    requestLog,
    addFault,
    close: () => app.close(),
  };
}
