/**
 * Azure SQL Database resources: `Microsoft.Sql/servers` (list by subscription and resource group, get), their
 * `databases` (list, with `master` as Azure lists it; get; PATCH of the SKU, pool or size: a scale, long-running),
 * `elasticPools` (list, get, PATCH), the scales as `databases/{db}/operations` and `elasticPools/{p}/operations` list
 * them, and `databases/{db}/replicationLinks` (list, get). A server that does not exist is its children's missing
 * parent (`ParentResourceNotFound`).
 *
 * Sources: spec Servers.json, Databases.json (Databases_Update: 200 or 202, x-ms-long-running-operation),
 * ElasticPools.json (ElasticPools_Update likewise), DatabaseOperations.json, ElasticPoolOperations.json,
 * ReplicationLinks.json; the bodies are ./sql-bodies.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import { EmulatedArmError, sqlServerResourceId, type SqlServerState, type World } from '../world';
import { sameId, type SqlSku } from '../world/sql-state';
import type { ArmContext, Params } from './context';
import { parentNotFound } from './resource-groups';
import {
  elasticPoolBody,
  masterDatabaseBody,
  replicationLinkBodies,
  sqlDatabaseBody,
  sqlOperationBody,
  sqlServerBody,
} from './sql-bodies';

/** `…/providers/Microsoft.Sql/servers/:server` (Fastify syntax). */
export const serverPath =
  '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/servers/:server';

/** The server a route names, or undefined after answering 404 (`ResourceNotFound` for itself, else the parent's). */
export async function serverOf(
  context: ArmContext,
  request: FastifyRequest,
  reply: FastifyReply,
  childType?: string,
): Promise<SqlServerState | undefined> {
  const { subscription, resourceGroup, server: name } = request.params as Params;
  const server = context.world.sqlServerByName(subscription!, resourceGroup!, name!);
  if (server) return server;
  if (childType)
    await parentNotFound(context, request, reply, childType, sqlServerResourceId(subscription!, resourceGroup!, name!));
  else
    await context.send(
      request,
      reply,
      404,
      armErrorBody(
        'ResourceNotFound',
        `The Resource 'Microsoft.Sql/servers/${name}' under resource group '${resourceGroup}' was not found.`,
      ),
    );
  return undefined;
}

const serversOf = (world: World, subscription: string, resourceGroup?: string) =>
  [...world.sqlServers.values()]
    .filter(
      (server) =>
        sameId(server.subscriptionId, subscription) &&
        (resourceGroup === undefined || sameId(server.resourceGroup, resourceGroup)),
    )
    .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));

/** A PATCH body's `sku`, checked for shape. */
function skuOf(body: { sku?: Partial<SqlSku> }): Partial<SqlSku> | undefined {
  const sku = body.sku;
  if (sku === undefined) return undefined;
  if (typeof sku !== 'object' || sku === null || (sku.capacity !== undefined && typeof sku.capacity !== 'number'))
    throw new EmulatedArmError(400, 'InvalidSku', 'The user specified an invalid sku.');
  const parsed: Partial<SqlSku> = {};
  if (sku.name !== undefined) parsed.name = sku.name;
  if (sku.tier !== undefined) parsed.tier = sku.tier;
  if (sku.capacity !== undefined) parsed.capacity = sku.capacity;
  if (sku.family !== undefined) parsed.family = sku.family;
  return parsed;
}

/** Registers servers, databases, elastic pools, their operations and replication links. */
export function registerSqlServerRoutes(app: FastifyInstance, context: ArmContext) {
  const { world, send, fail, asyncHeaders } = context;

  app.get('/subscriptions/:subscription/providers/Microsoft.Sql/servers', async (request, reply) => {
    const { subscription } = request.params as Params;
    return send(request, reply, 200, { value: serversOf(world, subscription!).map(sqlServerBody) });
  });
  app.get(
    '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/servers',
    async (request, reply) => {
      const { subscription, resourceGroup } = request.params as Params;
      return send(request, reply, 200, { value: serversOf(world, subscription!, resourceGroup).map(sqlServerBody) });
    },
  );
  app.get(serverPath, async (request, reply) => {
    const server = await serverOf(context, request, reply);
    if (!server) return reply;
    return send(request, reply, 200, sqlServerBody(server));
  });

  // ── databases ─────────────────────────────────────────────────────────────────────────────────────────────────
  app.get(`${serverPath}/databases`, async (request, reply) => {
    const server = await serverOf(context, request, reply, 'servers/databases');
    if (!server) return reply;
    const value = [
      masterDatabaseBody(server),
      ...server.databases.map((database) => sqlDatabaseBody(world, server, database)),
    ];
    return send(request, reply, 200, { value });
  });

  const databaseOf = async (request: FastifyRequest, reply: FastifyReply, childType = 'servers/databases') => {
    const server = await serverOf(context, request, reply, childType);
    if (!server) return undefined;
    const { database: name } = request.params as Params;
    const database = server.databases.find((entry) => sameId(entry.name, name!));
    if (!database && !(childType === 'servers/databases' && sameId(name!, 'master'))) {
      await context.notFound(request, reply, `Microsoft.Sql/servers/${server.name}/databases/${name}`);
      return undefined;
    }
    return { server, database };
  };

  app.get(`${serverPath}/databases/:database`, async (request, reply) => {
    const found = await databaseOf(request, reply);
    if (!found) return reply;
    const { server, database } = found;
    return send(request, reply, 200, database ? sqlDatabaseBody(world, server, database) : masterDatabaseBody(server));
  });

  // Databases_Update: a SKU or pool change is a scale (202 and the async protocol); a size alone applies at once.
  app.patch(`${serverPath}/databases/:database`, async (request, reply) => {
    const found = await databaseOf(request, reply);
    if (!found) return reply;
    const { server, database } = found;
    if (!database)
      return send(
        request,
        reply,
        400,
        armErrorBody('CannotUseReservedDatabaseName', 'Cannot use reserved database name in this operation.'),
      );
    const body = (request.body ?? {}) as {
      sku?: Partial<SqlSku>;
      properties?: { elasticPoolId?: string | null; maxSizeBytes?: number };
    };
    try {
      const poolId = body.properties?.elasticPoolId;
      const operation = world.scaleSqlDatabase(server, database, {
        sku: skuOf(body),
        elasticPoolName: poolId === undefined ? undefined : poolId === null ? null : poolId.split('/').at(-1)!,
        maxSizeBytes: body.properties?.maxSizeBytes,
      });
      if (!operation) return send(request, reply, 200, sqlDatabaseBody(world, server, database));
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'database'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get(`${serverPath}/databases/:database/operations`, async (request, reply) => {
    const found = await databaseOf(request, reply, 'servers/databases/operations');
    if (!found) return reply;
    const { server, database } = found;
    const value = world.sqlOperations
      .filter(
        (operation) =>
          operation.kind === 'database' &&
          sameId(operation.serverId, server.id) &&
          sameId(operation.name, database!.name),
      )
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((operation) => sqlOperationBody(world, server, operation));
    return send(request, reply, 200, { value });
  });

  app.get(`${serverPath}/databases/:database/replicationLinks`, async (request, reply) => {
    const found = await databaseOf(request, reply, 'servers/databases/replicationLinks');
    if (!found) return reply;
    return send(request, reply, 200, { value: replicationLinkBodies(world, found.server, found.database!) });
  });

  app.get(`${serverPath}/databases/:database/replicationLinks/:linkId`, async (request, reply) => {
    const found = await databaseOf(request, reply, 'servers/databases/replicationLinks');
    if (!found) return reply;
    const { linkId } = request.params as Params;
    const link = replicationLinkBodies(world, found.server, found.database!).find((entry) =>
      sameId(String(entry.name), linkId!),
    );
    if (!link)
      return context.notFound(
        request,
        reply,
        `Microsoft.Sql/servers/${found.server.name}/databases/${found.database!.name}/replicationLinks/${linkId}`,
      );
    return send(request, reply, 200, link);
  });

  // ── elastic pools ─────────────────────────────────────────────────────────────────────────────────────────────
  app.get(`${serverPath}/elasticPools`, async (request, reply) => {
    const server = await serverOf(context, request, reply, 'servers/elasticPools');
    if (!server) return reply;
    return send(request, reply, 200, { value: server.elasticPools.map((pool) => elasticPoolBody(server, pool)) });
  });

  const poolOf = async (request: FastifyRequest, reply: FastifyReply, childType = 'servers/elasticPools') => {
    const server = await serverOf(context, request, reply, childType);
    if (!server) return undefined;
    const { pool: name } = request.params as Params;
    const pool = server.elasticPools.find((entry) => sameId(entry.name, name!));
    if (!pool) {
      await context.notFound(request, reply, `Microsoft.Sql/servers/${server.name}/elasticPools/${name}`);
      return undefined;
    }
    return { server, pool };
  };

  app.get(`${serverPath}/elasticPools/:pool`, async (request, reply) => {
    const found = await poolOf(request, reply);
    if (!found) return reply;
    return send(request, reply, 200, elasticPoolBody(found.server, found.pool));
  });

  app.patch(`${serverPath}/elasticPools/:pool`, async (request, reply) => {
    const found = await poolOf(request, reply);
    if (!found) return reply;
    const body = (request.body ?? {}) as {
      sku?: Partial<SqlSku>;
      properties?: { perDatabaseSettings?: { minCapacity?: number; maxCapacity?: number }; maxSizeBytes?: number };
    };
    try {
      const operation = world.scaleElasticPool(found.server, found.pool, {
        sku: skuOf(body),
        perDatabaseSettings: body.properties?.perDatabaseSettings,
        maxSizeBytes: body.properties?.maxSizeBytes,
      });
      if (!operation) return send(request, reply, 200, elasticPoolBody(found.server, found.pool));
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'elasticPool'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get(`${serverPath}/elasticPools/:pool/operations`, async (request, reply) => {
    const found = await poolOf(request, reply, 'servers/elasticPools/operations');
    if (!found) return reply;
    const value = world.sqlOperations
      .filter(
        (operation) =>
          operation.kind === 'elasticPool' &&
          sameId(operation.serverId, found.server.id) &&
          sameId(operation.name, found.pool.name),
      )
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((operation) => sqlOperationBody(world, found.server, operation));
    return send(request, reply, 200, { value });
  });
}
