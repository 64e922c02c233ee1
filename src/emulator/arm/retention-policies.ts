/**
 * `Microsoft.Sql/managedInstances/databases/backupLongTermRetentionPolicies` (api-version 2020-11-01-preview in
 * @azure/arm-sql 10): one policy, `default`, per database of an instance's failover group. A missing instance or
 * database is the policy's missing parent (`ParentResourceNotFound`, see ./resource-groups.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UNCONFIGURED_RETENTION } from '../../domain/azure-state';
import { instanceResourceId, type InstanceState } from '../world';
import { instancePath, type ArmContext, type Params } from './context';
import { parentNotFound } from './resource-groups';

/** Registers the list and the get of a database's long-term retention policies. */
export function registerRetentionPolicyRoutes(app: FastifyInstance, context: ArmContext) {
  const { world, send, notFound } = context;
  const retentionPath = `${instancePath}/databases/:database/backupLongTermRetentionPolicies`;
  /** The instance and the database's name as the world spells it, or the 404 ARM answers. */
  const retentionTarget = (
    request: FastifyRequest,
  ): { missing: string } | { instance: InstanceState; database: string } => {
    const { subscription, resourceGroup, instance: name, database } = request.params as Params;
    // The policy's parent is the database: a missing instance or database is a missing parent.
    const parent = `${instanceResourceId(subscription!, resourceGroup!, name!)}/databases/${database}`;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance) return { missing: parent };
    const group = world.groupOfInstance(instance.id);
    const state = group && world.databaseOf(group, database!);
    if (!state) return { missing: parent };
    return { instance, database: state.name };
  };
  const missingParent = (request: FastifyRequest, reply: FastifyReply, parent: string) =>
    parentNotFound(context, request, reply, 'managedInstances/databases/backupLongTermRetentionPolicies', parent);

  app.get(retentionPath, async (request, reply) => {
    const target = retentionTarget(request);
    if ('missing' in target) return missingParent(request, reply, target.missing);
    return send(request, reply, 200, { value: [retentionPolicyBody(target.instance, target.database)] });
  });

  app.get(`${retentionPath}/:policy`, async (request, reply) => {
    const target = retentionTarget(request);
    if ('missing' in target) return missingParent(request, reply, target.missing);
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
