/**
 * What a managed instance holds that a failover group's checks read: its TDE protector
 * (`managedInstances/{mi}/encryptionProtector/current`, and the list of the one protector,
 * ManagedInstanceEncryptionProtectors.json), the keys registered
 * on it (`managedInstances/{mi}/keys`, ManagedInstanceKeys.json) and its databases (`managedInstances/{mi}/databases`
 * and `…/databases/{db}`, ManagedDatabases.json ManagedDatabases_ListByInstance and _Get). An instance in a group lists
 * the group's databases on both sides; on the secondary, one not seeded yet reads `Restoring` (see
 * ../arm-bodies.ts `managedDatabaseBody`). A missing instance is the children's missing parent
 * (`ParentResourceNotFound`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { armErrorBody, encryptionProtectorBody, instanceKeysBody, managedDatabaseBody } from '../arm-bodies';
import { instanceResourceId, type InstanceState } from '../world';
import { registeredKeys } from '../world/group-creation';
import { instancePath, type ArmContext, type Params } from './context';
import { parentNotFound } from './resource-groups';

/**
 * The instance a child route's URL names (`…/managedInstances/{instance}/…`), or undefined after answering
 * `ParentResourceNotFound` for `childType`.
 */
export function instanceParentOf(context: ArmContext) {
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
    childType: string,
  ): Promise<InstanceState | undefined> => {
    const { subscription, resourceGroup, instance: name } = request.params as Params;
    const instance = context.world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance)
      await parentNotFound(
        context,
        request,
        reply,
        childType,
        instanceResourceId(subscription!, resourceGroup!, name!),
      );
    return instance;
  };
}

/** Registers the encryption protector, keys and databases of a managed instance. */
export function registerInstanceResourceRoutes(app: FastifyInstance, context: ArmContext): void {
  const { world, send } = context;

  const parentOf = instanceParentOf(context);

  app.get(`${instancePath}/encryptionProtector`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/encryptionProtector');
    if (!instance) return reply;
    return send(request, reply, 200, { value: [encryptionProtectorBody(instance)] });
  });

  app.get(`${instancePath}/encryptionProtector/:protector`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/encryptionProtector');
    if (!instance) return reply;
    const { protector } = request.params as Params;
    if (protector!.toLowerCase() !== 'current') {
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'ResourceNotFound',
          `The Resource 'Microsoft.Sql/managedInstances/${instance.name}/encryptionProtector/${protector}' was not found: the encryption protector is named 'current'.`,
        ),
      );
    }
    return send(request, reply, 200, encryptionProtectorBody(instance));
  });

  app.get(`${instancePath}/keys`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/keys');
    if (!instance) return reply;
    return send(request, reply, 200, instanceKeysBody(instance, registeredKeys(instance)));
  });

  app.get(`${instancePath}/keys/:key`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/keys');
    if (!instance) return reply;
    const { key } = request.params as Params;
    const listed = (instanceKeysBody(instance, registeredKeys(instance)).value as { name: string }[]).find(
      (entry) => entry.name.toLowerCase() === key!.toLowerCase(),
    );
    if (!listed)
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'ResourceNotFound',
          `The Resource 'Microsoft.Sql/managedInstances/${instance.name}/keys/${key}' was not found.`,
        ),
      );
    return send(request, reply, 200, listed);
  });

  /** The databases the instance lists: its group's, or, in none, its own. */
  const databasesOf = (instance: InstanceState) => {
    const group = world.groupOfInstance(instance.id);
    return { group, databases: group ? group.databases : instance.databases };
  };

  app.get(`${instancePath}/databases`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/databases');
    if (!instance) return reply;
    const { group, databases } = databasesOf(instance);
    return send(request, reply, 200, {
      value: databases.map((database) => managedDatabaseBody(world, instance, database, group)),
    });
  });

  app.get(`${instancePath}/databases/:database`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/databases');
    if (!instance) return reply;
    const { database: name } = request.params as Params;
    const { group, databases } = databasesOf(instance);
    const database = databases.find((entry) => entry.name.toLowerCase() === name!.toLowerCase());
    if (!database)
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'ResourceNotFound',
          `The Resource 'Microsoft.Sql/managedInstances/${instance.name}/databases/${name}' was not found.`,
        ),
      );
    return send(request, reply, 200, managedDatabaseBody(world, instance, database, group));
  });
}
