/** `Microsoft.Sql/managedInstances`: get, and PATCH of the size (a scale: 202 and an async operation, or 200). */
import type { FastifyInstance } from 'fastify';
import { skuParts } from '../../domain/azure-state';
import { managedInstanceBody } from '../arm-bodies';
import { EmulatedArmError } from '../world';
import { instancePath, type ArmContext, type Params } from './context';

/** Registers GET and PATCH of a managed instance. */
export function registerManagedInstanceRoutes(
  app: FastifyInstance,
  { world, send, fail, notFound, asyncHeaders }: ArmContext,
) {
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
