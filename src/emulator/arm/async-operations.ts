/**
 * ARM's async protocol for both resource families: the `…AzureAsyncOperation` status resource (InProgress →
 * Succeeded/Failed, with Retry-After while in progress) and the `…OperationResults` Location (202 while in progress,
 * then the resulting resource, 204 when there is none, or the operation's error).
 */
import type { FastifyInstance } from 'fastify';
import { armErrorBody, failoverGroupBody, managedDatabaseBody, managedInstanceBody } from '../arm-bodies';
import { liveDatabases } from '../world/database-restores';
import type { AsyncOperation } from '../world';
import { asyncPath, type ArmContext, type Params } from './context';
import { sameId } from '../world/sql-state';
import { shapeOf } from './sql-failover-groups';
import { elasticPoolBody, sqlDatabaseBody, sqlFailoverGroupBody } from './sql-bodies';

/**
 * Registers the status and result URLs of the families (`instanceFailoverGroup…`, `managedInstance…`,
 * `managedDatabase…`; for SQL Database `failoverGroup…`, `database…`, `elasticPool…`, as the spec's FailoverGroupUpdate
 * example names its Location `…/locations/{l}/failoverGroupOperationResults/{id}`).
 */
export function registerAsyncOperationRoutes(app: FastifyInstance, { world, baseUrl, send }: ArmContext) {
  for (const family of [
    'instanceFailoverGroup',
    'managedInstance',
    'managedDatabase',
    'failoverGroup',
    'database',
    'elasticPool',
  ] as const) {
    app.get(`${asyncPath}/${family}AzureAsyncOperation/:operationId`, async (request, reply) => {
      const operation = world.asyncOperations.get((request.params as Params).operationId!);
      if (!operation)
        return send(request, reply, 404, armErrorBody('ResourceNotFound', 'The async operation was not found.'));
      const headers: Record<string, string> =
        operation.status === 'InProgress' ? { 'Retry-After': String(world.timings.asyncRetryAfterSeconds) } : {};
      return send(request, reply, 200, asyncOperationBody(operation, request.url.split('?')[0]!), headers);
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
      if (result.type === 'database') {
        const instance = world.instanceById(result.instanceId);
        const database = instance && liveDatabases(world, instance).find((entry) => entry.name === result.databaseName);
        if (!instance || !database) return send(request, reply, 204);
        return send(
          request,
          reply,
          200,
          managedDatabaseBody(world, instance, database, world.groupOfInstance(instance.id)),
        );
      }
      if (result.type === 'sql-group') {
        const group = world.sqlFailoverGroups.get(result.groupKey);
        const server = world.sqlServerById(result.serverId);
        if (!group || !server) return send(request, reply, 204);
        return send(request, reply, 200, sqlFailoverGroupBody(world, group, server, shapeOf(request)));
      }
      if (result.type === 'sql-database' || result.type === 'sql-elastic-pool') {
        const server = world.sqlServerById(result.serverId);
        if (!server) return send(request, reply, 204);
        if (result.type === 'sql-database') {
          const database = server.databases.find((entry) => sameId(entry.name, result.databaseName));
          return database
            ? send(request, reply, 200, sqlDatabaseBody(world, server, database))
            : send(request, reply, 204);
        }
        const pool = server.elasticPools.find((entry) => sameId(entry.name, result.poolName));
        return pool ? send(request, reply, 200, elasticPoolBody(server, pool)) : send(request, reply, 204);
      }
      if (result.type === 'instance')
        return send(request, reply, 200, managedInstanceBody(world.instanceById(result.instanceId)!));
      return send(request, reply, 204);
    });
  }
}

/**
 * The status resource of a long-running operation, as ARM's common types define it (azure-rest-api-specs
 * `common-types/resource-management/v5/types.json#/definitions/OperationStatusResult`: id, name, status, startTime,
 * endTime, error) and ../shared/reference/azure-sql-mi-failover.md describes Microsoft.Sql's: `id` is the status URL's
 * path, `name` the operation's id; `error` only once it ended Failed or Canceled.
 */
export function asyncOperationBody(operation: AsyncOperation, statusPath: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: statusPath,
    name: operation.id,
    status: operation.status,
    startTime: new Date(operation.startTime).toISOString(),
  };
  if (operation.endTime !== undefined) body.endTime = new Date(operation.endTime).toISOString();
  if (operation.error) body.error = { code: operation.error.code, message: operation.error.message };
  return body;
}
