/**
 * The ARM half of the emulator: an HTTP server for the Microsoft.Sql endpoints fogpilot uses, answering from the
 * world with the ARM async protocol as Microsoft.Sql speaks it (202 with Azure-AsyncOperation, Location and
 * Retry-After; a status resource going InProgress → Succeeded/Failed; a Location answering 202, then the result),
 * ARM throttling, faults on demand, and an admin API under `/_admin`.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { skuParts, UNCONFIGURED_RETENTION } from '../domain/azure-state';
import { normalizeLocation } from '../domain/locations';
import { armErrorBody, asyncOperationBody, failoverGroupBody, managedInstanceBody, operationBody } from './arm-bodies';
import { FaultSpecSchema, HttpFaults, type FaultSpec } from './faults';
import { TokenBucket } from './throttle';
import { EmulatedArmError, instanceResourceId, type AsyncOperation, type InstanceState, type World } from './world';
import { InstanceSpecSchema, LoginSpecSchema } from './world-spec';

const API = {
  groups: '2022-05-01-preview',
  instances: '2022-08-01-preview',
  operations: '2020-11-01-preview',
};

export interface ArmStats {
  reads: number;
  writes: number;
  throttled: number;
  faulted: number;
  byRoute: Record<string, number>;
}

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
  /** e.g. `http://127.0.0.1:41234` */
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
}

type Params = Record<string, string>;

interface RequestState {
  resetAfter?: boolean;
  routeName?: string;
}

const requestState = new WeakMap<FastifyRequest, RequestState>();

function stateOf(request: FastifyRequest): RequestState {
  let state = requestState.get(request);
  if (!state) {
    state = {};
    requestState.set(request, state);
  }
  return state;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startArmServer({ world, host = '127.0.0.1', port = 0 }: ArmServerOptions): Promise<ArmServer> {
  const app = Fastify({
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

  const asyncHeaders = (
    request: FastifyRequest,
    operation: AsyncOperation,
    family: 'instanceFailoverGroup' | 'managedInstance',
  ): Record<string, string> => {
    const version = family === 'managedInstance' ? API.instances : API.groups;
    const root = `${baseUrl(request)}/subscriptions/${operation.subscriptionId}/providers/Microsoft.Sql/locations/${operation.location}`;
    return {
      'Azure-AsyncOperation': `${root}/${family}AzureAsyncOperation/${operation.id}?api-version=${version}`,
      Location: `${root}/${family}OperationResults/${operation.id}?api-version=${version}`,
      'Retry-After': String(world.timings.asyncRetryAfterSeconds),
    };
  };

  /** The region an ARM request is about, for faults and dark regions. */
  const locationOf = (request: FastifyRequest): string | undefined => {
    const params = request.params as Params;
    if (params.location) return normalizeLocation(params.location);
    if (params.instance && params.subscription && params.resourceGroup) {
      return world.instanceByName(params.subscription, params.resourceGroup, params.instance)?.location;
    }
    return undefined;
  };

  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/_admin')) return;
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
    if (request.url.startsWith('/_admin')) return;
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
    if (!(request.query as Record<string, string>)['api-version']) {
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
  });

  const groupsPath =
    '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/locations/:location/instanceFailoverGroups';
  const instancePath =
    '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/managedInstances/:instance';
  const asyncPath = '/subscriptions/:subscription/providers/Microsoft.Sql/locations/:location';

  const notFound = (request: FastifyRequest, reply: FastifyReply, what: string) =>
    send(request, reply, 404, armErrorBody('ResourceNotFound', `The Resource '${what}' was not found.`));

  app.get(groupsPath, async (request, reply) => {
    const { subscription, resourceGroup, location } = request.params as Params;
    const value = world
      .groupsAt(subscription!, resourceGroup!, location!)
      .map((group) => failoverGroupBody(world, group, location!));
    return send(request, reply, 200, { value });
  });

  app.get(`${groupsPath}/:group`, async (request, reply) => {
    const { subscription, resourceGroup, location, group: name } = request.params as Params;
    const group = world.groupAt(subscription!, resourceGroup!, location!, name!);
    if (!group) return notFound(request, reply, `Microsoft.Sql/locations/${location}/instanceFailoverGroups/${name}`);
    return send(request, reply, 200, failoverGroupBody(world, group, location!));
  });

  app.put(`${groupsPath}/:group`, async (request, reply) => {
    const { subscription, resourceGroup, location, group: name } = request.params as Params;
    const body = (request.body ?? {}) as { properties?: Record<string, unknown> };
    const properties = body.properties ?? {};
    const pairs =
      (properties.managedInstancePairs as
        { primaryManagedInstanceId?: string; partnerManagedInstanceId?: string }[] | undefined) ?? [];
    const readWrite = (properties.readWriteEndpoint ?? {}) as {
      failoverPolicy?: string;
      failoverWithDataLossGracePeriodMinutes?: number;
    };
    const readOnly = (properties.readOnlyEndpoint ?? {}) as { failoverPolicy?: string };
    try {
      if (readWrite.failoverPolicy === 'Automatic' && readWrite.failoverWithDataLossGracePeriodMinutes === undefined) {
        throw new EmulatedArmError(
          400,
          'InstanceFailoverGroupCreateOrUpdateRequestInvalidReadWriteEndpointFields',
          'The property failoverWithDataLossGracePeriodMinutes must be provided when failover policy Automatic is selected for the read-write endpoint.',
        );
      }
      if (readWrite.failoverPolicy === 'Manual' && readWrite.failoverWithDataLossGracePeriodMinutes !== undefined) {
        throw new EmulatedArmError(
          400,
          'InstanceFailoverGroupCreateOrUpdateRequestInvalidReadWriteEndpointFieldsForManualPolicy',
          'Grace period value should not be provided when failover policy Manual is selected for the read-write endpoint.',
        );
      }
      if (
        readWrite.failoverWithDataLossGracePeriodMinutes !== undefined &&
        readWrite.failoverWithDataLossGracePeriodMinutes < 60
      ) {
        throw new EmulatedArmError(
          400,
          'InstanceFailoverGroupCreateOrUpdateRequestLessThanMinimumGracePeriodValues',
          "Grace period value for the instance failover group must be greater than or equal to the '60' minutes minimum grace period",
        );
      }
      const pair = pairs[0];
      if (!pair?.primaryManagedInstanceId || !pair.partnerManagedInstanceId) {
        throw new EmulatedArmError(
          400,
          'InvalidParameterValue',
          'managedInstancePairs must name the primary and the partner managed instance.',
        );
      }
      const { group, created } = world.createGroup({
        subscriptionId: subscription!,
        resourceGroup: resourceGroup!,
        location: location!,
        name: name!,
        primaryInstanceId: pair.primaryManagedInstanceId,
        partnerInstanceId: pair.partnerManagedInstanceId,
        readWriteFailoverPolicy: readWrite.failoverPolicy ?? 'Manual',
        gracePeriodMinutes: readWrite.failoverWithDataLossGracePeriodMinutes,
        readOnlyFailoverPolicy: readOnly.failoverPolicy ?? 'Disabled',
        secondaryType: (properties.secondaryType as string | undefined) ?? 'Geo',
      });
      return send(request, reply, created ? 201 : 200, failoverGroupBody(world, group, location!));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.delete(`${groupsPath}/:group`, async (request, reply) => {
    const { subscription, resourceGroup, location, group: name } = request.params as Params;
    const group = world.groupAt(subscription!, resourceGroup!, location!, name!);
    if (!group) return send(request, reply, 204);
    try {
      world.deleteGroup(group, location!);
      return send(request, reply, 200);
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  for (const [action, kind] of [
    ['failover', 'planned'],
    ['forceFailoverAllowDataLoss', 'forced'],
  ] as const) {
    app.post(`${groupsPath}/:group/${action}`, async (request, reply) => {
      const { subscription, resourceGroup, location, group: name } = request.params as Params;
      const group = world.groupAt(subscription!, resourceGroup!, location!, name!);
      if (!group) return notFound(request, reply, `Microsoft.Sql/locations/${location}/instanceFailoverGroups/${name}`);
      try {
        const operation = world.requestFailover(group, location!, kind);
        return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'instanceFailoverGroup'));
      } catch (error) {
        return fail(request, reply, error);
      }
    });
  }

  app.get(instancePath, async (request, reply) => {
    const { subscription, resourceGroup, instance: name } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance) return notFound(request, reply, `Microsoft.Sql/managedInstances/${name}`);
    return send(request, reply, 200, managedInstanceBody(instance));
  });

  app.patch(instancePath, async (request, reply) => {
    const { subscription, resourceGroup, instance: name } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance) return notFound(request, reply, `Microsoft.Sql/managedInstances/${name}`);
    const body = (request.body ?? {}) as {
      sku?: { name?: string; capacity?: number; tier?: string; family?: string };
      properties?: { vCores?: number; storageSizeInGB?: number; licenseType?: string };
    };
    try {
      // A SKU name carries the tier and the hardware family (`BC_G8IM`); explicit tier and family win.
      const named = body.sku?.name !== undefined ? skuParts(body.sku.name) : undefined;
      if (body.sku?.name !== undefined && !named && !(body.sku.tier && body.sku.family)) {
        throw new EmulatedArmError(
          400,
          'InvalidParameterValue',
          `'${body.sku.name}' is not a valid SKU name for a managed instance (e.g. GP_Gen5, BC_Gen5, GP_G8IM).`,
        );
      }
      const operation = world.requestScale(instance, {
        vCores: body.properties?.vCores ?? body.sku?.capacity,
        storageSizeInGB: body.properties?.storageSizeInGB,
        tier: body.sku?.tier ?? named?.tier,
        family: body.sku?.family ?? named?.family,
        licenseType: body.properties?.licenseType,
      });
      if (!operation) return send(request, reply, 200, managedInstanceBody(instance));
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'managedInstance'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get(`${instancePath}/operations`, async (request, reply) => {
    const { subscription, resourceGroup, instance: name } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance) return notFound(request, reply, `Microsoft.Sql/managedInstances/${name}`);
    const operations = world.operations
      .filter((operation) => operation.instanceId === instance.id)
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((operation) => operationBody(world, operation));
    // Pages of 2, so clients must follow nextLink as they must against Azure.
    const skip = Number((request.query as Record<string, string>).$skiptoken ?? 0);
    const page = operations.slice(skip, skip + 2);
    const nextLink =
      skip + 2 < operations.length
        ? `${baseUrl(request)}${instanceResourceId(instance.subscriptionId, instance.resourceGroup, instance.name)}/operations?api-version=${API.operations}&$skiptoken=${skip + 2}`
        : undefined;
    return send(request, reply, 200, nextLink ? { value: page, nextLink } : { value: page });
  });

  // Long-term retention (api-version 2020-11-01-preview in @azure/arm-sql 10): one policy, `default`, per database.
  const retentionPath = `${instancePath}/databases/:database/backupLongTermRetentionPolicies`;
  /** The instance and the database's name as the world spells it, or the 404 ARM answers. */
  const retentionTarget = (
    request: FastifyRequest,
  ): { missing: string } | { instance: InstanceState; database: string } => {
    const { subscription, resourceGroup, instance: name, database } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance) return { missing: `Microsoft.Sql/managedInstances/${name}` };
    const group = world.groupOfInstance(instance.id);
    const state = group && world.databaseOf(group, database!);
    if (!state) return { missing: `Microsoft.Sql/managedInstances/${instance.name}/databases/${database}` };
    return { instance, database: state.name };
  };

  app.get(retentionPath, async (request, reply) => {
    const target = retentionTarget(request);
    if ('missing' in target) return notFound(request, reply, target.missing);
    return send(request, reply, 200, { value: [retentionPolicyBody(target.instance, target.database)] });
  });

  app.get(`${retentionPath}/:policy`, async (request, reply) => {
    const target = retentionTarget(request);
    if ('missing' in target) return notFound(request, reply, target.missing);
    const { policy } = request.params as Params;
    if (policy!.toLowerCase() !== 'default') {
      return notFound(
        request,
        reply,
        `Microsoft.Sql/managedInstances/${target.instance.name}/databases/${target.database}/backupLongTermRetentionPolicies/${policy}`,
      );
    }
    return send(request, reply, 200, retentionPolicyBody(target.instance, target.database));
  });

  app.get(`${instancePath}/operations/:operationId`, async (request, reply) => {
    const { subscription, resourceGroup, instance: name, operationId } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    const operation = world.operations.find(
      (entry) => entry.instanceId === instance?.id && entry.name.toLowerCase() === operationId!.toLowerCase(),
    );
    if (!operation)
      return send(request, reply, 404, armErrorBody('OperationIdNotFound', 'The operation with Id does not exist.'));
    return send(request, reply, 200, operationBody(world, operation));
  });

  for (const family of ['instanceFailoverGroup', 'managedInstance'] as const) {
    app.get(`${asyncPath}/${family}AzureAsyncOperation/:operationId`, async (request, reply) => {
      const operation = world.asyncOperations.get((request.params as Params).operationId!);
      if (!operation)
        return send(request, reply, 404, armErrorBody('ResourceNotFound', 'The async operation was not found.'));
      const headers: Record<string, string> =
        operation.status === 'InProgress' ? { 'Retry-After': String(world.timings.asyncRetryAfterSeconds) } : {};
      return send(request, reply, 200, asyncOperationBody(operation), headers);
    });
    app.get(`${asyncPath}/${family}OperationResults/:operationId`, async (request, reply) => {
      const operation = world.asyncOperations.get((request.params as Params).operationId!);
      if (!operation)
        return send(request, reply, 404, armErrorBody('ResourceNotFound', 'The operation result was not found.'));
      if (operation.status === 'InProgress')
        return send(request, reply, 202, undefined, {
          'Retry-After': String(world.timings.asyncRetryAfterSeconds),
          Location: `${baseUrl(request)}${request.url}`,
        });
      if (operation.status !== 'Succeeded') {
        return send(
          request,
          reply,
          400,
          armErrorBody(operation.error?.code ?? 'OperationFailed', operation.error?.message ?? 'The operation failed.'),
        );
      }
      const result = operation.result;
      if (result.type === 'group') {
        const group = world.groups.get(result.groupKey);
        if (!group) return send(request, reply, 204);
        return send(request, reply, 200, failoverGroupBody(world, group, result.location));
      }
      if (result.type === 'instance')
        return send(request, reply, 200, managedInstanceBody(world.instanceById(result.instanceId)!));
      return send(request, reply, 204);
    });
  }

  // ── admin API ──────────────────────────────────────────────────────────────────────────────────────────────────

  const addFault = (raw: unknown): { id?: string; kind: string } => {
    const spec: FaultSpec = FaultSpecSchema.parse(raw);
    switch (spec.kind) {
      case 'failover-never-completes':
        world.faults.failoverNeverCompletes.add(world.findGroup(spec.group)?.key ?? spec.group.toLowerCase());
        return { kind: spec.kind };
      case 'failover-fails':
        world.faults.failoverFails.set(world.findGroup(spec.group)?.key ?? spec.group.toLowerCase(), {
          code: spec.code,
          message: spec.message,
        });
        return { kind: spec.kind };
      case 'operation-fails':
        world.faults.operationFails.set(spec.instance.toLowerCase(), { code: spec.code, message: spec.message });
        return { kind: spec.kind };
      case 'region-dark':
        world.faults.darkRegions.add(normalizeLocation(spec.location));
        darkHangMs.set(normalizeLocation(spec.location), spec.hangMs);
        world.emit('change', 'region-dark', normalizeLocation(spec.location));
        return { kind: spec.kind };
      case 'sql-reset-during-wait':
        world.faults.sql.resetDuringWait.set(spec.instance.toLowerCase(), spec.count);
        return { kind: spec.kind };
      case 'sql-latency':
        world.faults.sql.latencyMs.set(spec.instance.toLowerCase(), spec.ms);
        return { kind: spec.kind };
      case 'sql-login-fails':
        world.faults.sql.loginFailures.set(spec.instance.toLowerCase(), spec.count);
        return { kind: spec.kind };
      case 'link-lost':
      case 'lag-spike': {
        const group = world.findGroup(spec.group);
        if (!group) throw new Error(`no group ${spec.group} in the world`);
        const databases = group.databases.filter(
          (database) => !spec.database || database.name.toLowerCase() === spec.database.toLowerCase(),
        );
        if (databases.length === 0) throw new Error(`no database ${spec.database} in group ${spec.group}`);
        for (const database of databases) {
          if (spec.kind === 'link-lost') world.loseLink(database);
          else database.lagSpike = { lagMs: spec.lagMs, until: world.now() + spec.seconds * 1000 };
        }
        return { kind: spec.kind };
      }
      default:
        return { id: faults.add(spec).id, kind: spec.kind };
    }
  };

  app.get('/_admin/world', (_request, reply) =>
    reply.send({
      now: new Date(world.now()).toISOString(),
      speed: world.clock.speed,
      spec: world.spec,
      groups: [...world.groups.values()].map((group) => ({
        name: group.name,
        primary: world.instanceById(group.primaryInstanceId)!.name,
        primaryLocation: world.instanceById(group.primaryInstanceId)!.location,
        replicationState: world.reportedReplicationState(group),
        failover: group.failover ?? null,
      })),
    }),
  );
  app.put('/_admin/world', (request, reply) => {
    try {
      world.load(request.body);
      faults.remove();
      darkHangMs.clear();
      return reply.send({ loaded: true });
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
  app.get('/_admin/faults', (_request, reply) =>
    reply.send({
      http: faults.list(),
      world: {
        failoverNeverCompletes: [...world.faults.failoverNeverCompletes],
        failoverFails: Object.fromEntries(world.faults.failoverFails),
        operationFails: Object.fromEntries(world.faults.operationFails),
        darkRegions: [...world.faults.darkRegions],
      },
    }),
  );
  app.post('/_admin/faults', (request, reply) => {
    try {
      return reply.code(201).send(addFault(request.body));
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
  app.delete('/_admin/faults', (_request, reply) => {
    faults.remove();
    world.faults.failoverNeverCompletes.clear();
    world.faults.failoverFails.clear();
    world.faults.operationFails.clear();
    world.faults.darkRegions.clear();
    world.faults.sql.loginFailures.clear();
    world.faults.sql.latencyMs.clear();
    world.faults.sql.resetDuringWait.clear();
    for (const group of world.groups.values()) {
      for (const database of group.databases) {
        world.restoreLink(database);
        database.lagSpike = undefined;
      }
    }
    darkHangMs.clear();
    return reply.send({ cleared: true });
  });
  app.delete('/_admin/faults/:id', (request, reply) => {
    const { id } = request.params as Params;
    faults.remove(id);
    if (world.faults.darkRegions.delete(normalizeLocation(id!))) darkHangMs.delete(normalizeLocation(id!));
    return reply.send({ removed: id });
  });
  app.get('/_admin/invariants', (_request, reply) => reply.send(world.invariants()));
  app.get('/_admin/stats', (_request, reply) => reply.send(stats));
  app.patch('/_admin/instances/:name', (request, reply) => {
    const { name } = request.params as Params;
    const matches = [...world.instances.values()].filter(
      (instance) => instance.name.toLowerCase() === name!.toLowerCase(),
    );
    if (matches.length === 0) return reply.code(404).send({ error: `no instance named ${name} in the world` });
    if (matches.length > 1) {
      return reply.code(400).send({
        error: `${matches.length} instances are named ${name}: ${matches.map((match) => match.id).join(', ')}`,
      });
    }
    const parsed = InstancePatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`,
      );
      return reply.code(400).send({ error: `Invalid change to instance ${name}: ${problems.join('; ')}` });
    }
    const instance = matches[0]!;
    const changed = applyInstancePatch(instance, parsed.data);
    world.note('instance-patched', { instance: instance.name, detail: { changed } });
    return reply.send({ instance: instance.name, changed });
  });

  const address = await app.listen({ host, port });
  const actualPort = Number(new URL(address).port);
  return {
    app,
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    faults,
    stats,
    requestLog,
    addFault,
    close: () => app.close(),
  };
}

/**
 * What `PATCH /_admin/instances/:name` may change at once, for tests that inject drift between the two instances of a
 * pair: the fields a readiness check compares. `longTermRetention: null` removes the policy.
 */
const InstancePatchSchema = z
  .strictObject({
    logins: z.array(LoginSpecSchema).optional(),
    agentJobs: z.array(z.string().min(1)).optional(),
    vCores: z.number().int().positive().optional(),
    storageSizeInGB: z.number().int().positive().optional(),
    licenseType: z.string().min(1).optional(),
    backupStorageRedundancy: z.string().min(1).optional(),
    longTermRetention: InstanceSpecSchema.shape.longTermRetention.unwrap().nullable().optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    error:
      'name at least one of logins, agentJobs, vCores, storageSizeInGB, licenseType, backupStorageRedundancy, longTermRetention',
  });

type InstancePatch = z.output<typeof InstancePatchSchema>;

/** Applies the change in place: the ARM and TDS servers read these fields on every request, so it shows at once. */
function applyInstancePatch(instance: InstanceState, patch: InstancePatch): string[] {
  const changed: string[] = [];
  if (patch.logins !== undefined) instance.logins = patch.logins;
  if (patch.agentJobs !== undefined) instance.agentJobs = patch.agentJobs;
  if (patch.vCores !== undefined) instance.vCores = patch.vCores;
  if (patch.storageSizeInGB !== undefined) instance.storageSizeInGB = patch.storageSizeInGB;
  if (patch.licenseType !== undefined) instance.licenseType = patch.licenseType;
  if (patch.backupStorageRedundancy !== undefined) instance.backupStorageRedundancy = patch.backupStorageRedundancy;
  if (patch.longTermRetention !== undefined) instance.longTermRetention = patch.longTermRetention ?? undefined;
  for (const [field, value] of Object.entries(patch)) if (value !== undefined) changed.push(field);
  return changed;
}

/**
 * A managed database's long-term retention policy as ARM answers it. The world keeps one policy per instance and
 * applies it to every database of the instance's group; unconfigured reads as `PT0S`, as Azure answers.
 */
function retentionPolicyBody(instance: InstanceState, database: string): Record<string, unknown> {
  const policy = instance.longTermRetention ?? UNCONFIGURED_RETENTION;
  return {
    id: `${instance.id}/databases/${database}/backupLongTermRetentionPolicies/default`,
    name: 'default',
    type: 'Microsoft.Sql/managedInstances/databases/backupLongTermRetentionPolicies',
    properties: {
      weeklyRetention: policy.weeklyRetention,
      monthlyRetention: policy.monthlyRetention,
      yearlyRetention: policy.yearlyRetention,
      weekOfYear: policy.weekOfYear,
    },
  };
}
