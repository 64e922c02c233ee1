/**
 * `Microsoft.Sql/managedInstances`: list by subscription and by resource group (ManagedInstances.json,
 * `ManagedInstances_List` and `ManagedInstances_ListByResourceGroup`, examples ManagedInstanceList and
 * ManagedInstanceListByResourceGroup: `{value, nextLink}`, x-ms-pageable), get, and PATCH of the size (a scale: 202
 * and an async operation, or 200).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { skuParts } from '../../domain/azure-state';
import { managedInstanceBody } from '../arm-bodies';
import { EmulatedArmError, type InstanceState } from '../world';
import { API, instancePath, type ArmContext, type Params } from './context';

/**
 * Instances per page of a list. Knowingly simplified: smaller than Azure's pages, so that every client must follow
 * `nextLink` with a world of a few instances, as it must against a subscription of many.
 */
export const INSTANCE_PAGE_SIZE = 2;

/** Registers the two lists, GET and PATCH of a managed instance. */
export function registerManagedInstanceRoutes(app: FastifyInstance, context: ArmContext) {
  const { world, send, fail, notFound, asyncHeaders } = context;

  /** One page of `instances`, from `$skiptoken`, with a `nextLink` to the rest. */
  const page = (request: FastifyRequest, instances: InstanceState[]) => {
    const sorted = [...instances].sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
    const skip = Math.max(0, Number((request.query as Record<string, string>).$skiptoken ?? 0) || 0);
    const value = sorted.slice(skip, skip + INSTANCE_PAGE_SIZE).map(managedInstanceBody);
    if (skip + INSTANCE_PAGE_SIZE >= sorted.length) return { value };
    const path = request.url.split('?')[0]!;
    const nextLink = `${context.baseUrl(request)}${path}?api-version=${API.instances}&$skiptoken=${skip + INSTANCE_PAGE_SIZE}`;
    return { value, nextLink };
  };
  const sameSubscription = (instance: InstanceState, subscription: string) =>
    instance.subscriptionId.toLowerCase() === subscription.toLowerCase();

  app.get('/subscriptions/:subscription/providers/Microsoft.Sql/managedInstances', async (request, reply) => {
    const { subscription } = request.params as Params;
    const instances = [...world.instances.values()].filter((instance) => sameSubscription(instance, subscription!));
    return send(request, reply, 200, page(request, instances));
  });

  app.get(
    '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/managedInstances',
    async (request, reply) => {
      const { subscription, resourceGroup } = request.params as Params;
      const instances = [...world.instances.values()].filter(
        (instance) =>
          sameSubscription(instance, subscription!) &&
          instance.resourceGroup.toLowerCase() === resourceGroup!.toLowerCase(),
      );
      return send(request, reply, 200, page(request, instances));
    },
  );
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
      tags?: Record<string, string>;
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
      // A PATCH replaces the tags at once, scale or not: ManagedInstanceUpdateMin (2022-08-01-preview) answers 200
      // with the tags it was sent.
      if (body.tags !== undefined) instance.tags = body.tags;
      if (!operation) return send(request, reply, 200, managedInstanceBody(instance));
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'managedInstance'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });
}
