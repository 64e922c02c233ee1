/**
 * `Microsoft.Sql/managedInstances/operations`: an instance's management operations (scales), newest first, in pages of
 * two so clients must follow `nextLink` as they must against Azure; and one operation by name.
 */
import type { FastifyInstance } from 'fastify';
import { armErrorBody, operationBody } from '../arm-bodies';
import { instanceResourceId } from '../world';
import { API, instancePath, type ArmContext, type Params } from './context';

/** Registers the list (paged) and the get of an instance's management operations. */
export function registerManagementOperationRoutes(
  app: FastifyInstance,
  { world, baseUrl, send, notFound }: ArmContext,
) {
  app.get(`${instancePath}/operations`, async (request, reply) => {
    const { subscription, resourceGroup, instance: name } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance) return notFound(request, reply, `Microsoft.Sql/managedInstances/${name}`);
    const operations = world.operations
      .filter((operation) => operation.instanceId === instance.id)
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((operation) => operationBody(world, operation));
    const skip = Number((request.query as Record<string, string>).$skiptoken ?? 0);
    const page = operations.slice(skip, skip + 2);
    const nextLink =
      skip + 2 < operations.length
        ? `${baseUrl(request)}${instanceResourceId(instance.subscriptionId, instance.resourceGroup, instance.name)}/operations?api-version=${API.operations}&$skiptoken=${skip + 2}`
        : undefined;
    return send(request, reply, 200, nextLink ? { value: page, nextLink } : { value: page });
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
}
