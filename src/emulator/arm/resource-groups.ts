/**
 * Resource groups and parents, as ARM checks them before a resource provider sees a request:
 * - a request naming a resource group the subscription does not have answers 404 `ResourceGroupNotFound`,
 *   "Resource group '{name}' could not be found." (../shared/reference/azure-sql-mi-failover.md, "ARM front door";
 *   the message as ARM sends it, e.g. https://gist.github.com/errygg/f5ae7758873ab01a41fe62424c20d876; "Resolve errors
 *   for resource not found", https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/azure-resource-manager/troubleshooting/error-not-found.md);
 * - a child resource whose parent does not exist answers 404 `ParentResourceNotFound`, "Failed to perform '{action}'
 *   on resource(s) of type '{parent type}/{child type}', because the parent resource '{parent id}' could not be
 *   found." ("Resolve errors for parent resources",
 *   https://learn.microsoft.com/en-us/AZURE/azure-resource-manager/troubleshooting/error-parent-resource; the page
 *   quotes an older wording, the form here is ARM's current one as clients record it).
 *
 * The world's resource groups are those of its instances, groups, virtual networks and network security groups, VMs,
 * vaults and Cosmos DB accounts, plus the empty ones a world spec declares
 * (`resourceGroups`). Knowingly simplified: an unknown subscription reads as one without that resource group (Azure
 * answers `SubscriptionNotFound`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeLocation } from '../../domain/locations';
import { armErrorBody } from '../arm-bodies';
import type { World } from '../world';
import { workloadResourceGroups } from '../world/workload';
import type { ArmContext, Params } from './context';

/** Whether the subscription has the resource group (names compare case-insensitively, as ARM's do). */
export function resourceGroupExists(world: World, subscriptionId: string, resourceGroup: string): boolean {
  const same = (sub: string, rg: string) =>
    sub.toLowerCase() === subscriptionId.toLowerCase() && rg.toLowerCase() === resourceGroup.toLowerCase();
  return (
    [...world.instances.values()].some((instance) => same(instance.subscriptionId, instance.resourceGroup)) ||
    [...world.groups.values()].some((group) => same(group.subscriptionId, group.resourceGroup)) ||
    [...world.sqlServers.values()].some((server) => same(server.subscriptionId, server.resourceGroup)) ||
    [...world.virtualNetworks.values(), ...world.securityGroups.values()].some((resource) =>
      same(resource.subscriptionId, resource.resourceGroup),
    ) ||
    world.spec.resourceGroups.some((declared) =>
      same(declared.subscriptionId ?? world.spec.subscriptionId, declared.name),
    ) ||
    workloadResourceGroups(world.workload).has(`${subscriptionId}/${resourceGroup}`.toLowerCase())
  );
}

/**
 * The `Microsoft.Sql/locations/{location}` parent of instance failover groups in a resource group, when the resource
 * group has neither a managed instance nor a group at that location: its id, for `ParentResourceNotFound`.
 */
export function missingLocationParent(
  world: World,
  subscriptionId: string,
  resourceGroup: string,
  location: string,
): string | undefined {
  const wanted = normalizeLocation(location);
  const present = [...world.instances.values()].some(
    (instance) =>
      instance.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
      instance.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
      instance.location === wanted,
  );
  // A group's instances may live in other resource groups than the group: its location counts too.
  if (present || world.groupsAt(subscriptionId, resourceGroup, location).length > 0) return undefined;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/locations/${location}`;
}

/** ARM's verb for a request's method in a `ParentResourceNotFound` message. */
function actionOf(method: string): string {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      return 'read';
    case 'DELETE':
      return 'delete';
    case 'POST':
      return 'action';
    default:
      return 'write';
  }
}

/** Answers 404 `ParentResourceNotFound` for a child of type `childType` (e.g. `managedInstances/operations`). */
export function parentNotFound(
  { send }: ArmContext,
  request: FastifyRequest,
  reply: FastifyReply,
  childType: string,
  parentId: string,
): Promise<FastifyReply | undefined> {
  return send(
    request,
    reply,
    404,
    armErrorBody(
      'ParentResourceNotFound',
      `Failed to perform '${actionOf(request.method)}' on resource(s) of type '${childType}', because the parent resource '${parentId}' could not be found.`,
    ),
  );
}

/**
 * Answers 404 `ResourceGroupNotFound` for any ARM request naming a resource group the world does not have. Register
 * it after the request pipeline's own preHandler (auth, throttling, api-version come first, as in ARM).
 */
export function registerResourceGroupCheck(app: FastifyInstance, { world, send }: ArmContext): void {
  app.addHook('preHandler', async (request, reply) => {
    if (request.url.startsWith('/_admin')) return;
    const { subscription, resourceGroup } = (request.params ?? {}) as Params;
    if (!subscription || !resourceGroup || resourceGroupExists(world, subscription, resourceGroup)) return;
    await send(
      request,
      reply,
      404,
      armErrorBody('ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`),
    );
    return reply;
  });
}
