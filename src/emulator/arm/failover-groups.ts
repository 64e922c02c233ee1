/**
 * `Microsoft.Sql/locations/instanceFailoverGroups`: list and get at a location, create or update (PUT) and delete at
 * the primary's location (both long-running), and the two failover actions (`failover`, `forceFailoverAllowDataLoss`)
 * at the secondary's.
 */
import type { FastifyInstance } from 'fastify';
import { failoverGroupBody } from '../arm-bodies';
import { EmulatedArmError } from '../world';
import { groupsPath, type ArmContext, type Params } from './context';
import { missingLocationParent, parentNotFound } from './resource-groups';

/** Registers list, get, PUT, DELETE, `failover` and `forceFailoverAllowDataLoss`. */
export function registerFailoverGroupRoutes(app: FastifyInstance, context: ArmContext) {
  const { world, send, fail, notFound, asyncHeaders } = context;
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
    const parent = missingLocationParent(world, subscription!, resourceGroup!, location!);
    if (parent) return parentNotFound(context, request, reply, 'locations/instanceFailoverGroups', parent);
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
      if (pairs.length > 1) {
        throw new EmulatedArmError(
          400,
          'InstanceFailoverGroupCreateOrUpdateRequestUnsupportedPairCount',
          `Only one managed instance pair is supported; the request names ${pairs.length}.`,
        );
      }
      const partnerRegions = (properties.partnerRegions as { location?: string }[] | undefined) ?? [];
      if (partnerRegions.length > 1) {
        throw new EmulatedArmError(
          400,
          'InstanceFailoverGroupCreateOrUpdateRequestUnsupportedPartnerCount',
          `Only one partner region is supported; the request names ${partnerRegions.length}.`,
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
      const { group, created, asyncOperation } = world.createGroup({
        subscriptionId: subscription!,
        resourceGroup: resourceGroup!,
        location: location!,
        name: name!,
        primaryInstanceId: pair.primaryManagedInstanceId,
        partnerInstanceId: pair.partnerManagedInstanceId,
        partnerRegion: partnerRegions[0]?.location,
        readWriteFailoverPolicy: readWrite.failoverPolicy ?? 'Manual',
        gracePeriodMinutes: readWrite.failoverWithDataLossGracePeriodMinutes,
        readOnlyFailoverPolicy: readOnly.failoverPolicy ?? 'Disabled',
        secondaryType: (properties.secondaryType as string | undefined) ?? 'Geo',
      });
      // A creation is long-running (it ends when the seeding does): 201 with the operation to poll, as the REST
      // spec's InstanceFailoverGroups_CreateOrUpdate (x-ms-long-running-operation) answers; an update is done at once.
      if (created) {
        return send(
          request,
          reply,
          201,
          failoverGroupBody(world, group, location!),
          asyncHeaders(request, asyncOperation, 'instanceFailoverGroup'),
        );
      }
      return send(request, reply, 200, failoverGroupBody(world, group, location!));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  // Long-running, as InstanceFailoverGroups_Delete is (x-ms-long-running-operation; 200/202/204): 202 with the
  // operation to poll, the group gone when it ends; 204 for a group that is not there.
  app.delete(`${groupsPath}/:group`, async (request, reply) => {
    const { subscription, resourceGroup, location, group: name } = request.params as Params;
    const group = world.groupAt(subscription!, resourceGroup!, location!, name!);
    if (!group) return send(request, reply, 204);
    try {
      const operation = world.deleteGroup(group, location!);
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'instanceFailoverGroup'));
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
      const parent = missingLocationParent(world, subscription!, resourceGroup!, location!);
      if (parent) return parentNotFound(context, request, reply, 'locations/instanceFailoverGroups', parent);
      if (!group) return notFound(request, reply, `Microsoft.Sql/locations/${location}/instanceFailoverGroups/${name}`);
      try {
        const operation = world.requestFailover(group, location!, kind);
        return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'instanceFailoverGroup'));
      } catch (error) {
        return fail(request, reply, error);
      }
    });
  }
}
