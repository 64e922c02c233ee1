/**
 * What restoring a managed database goes through in ARM:
 * - PUT and DELETE of `managedInstances/{mi}/databases/{db}` (ManagedDatabases.json, api-version 2022-05-01-preview in
 *   @azure/arm-sql 10): long-running, 202 with `Azure-AsyncOperation` and `Location` (../world/database-restores.ts);
 *   a PUT of a database that exists, asking for no restore, answers 200 with it; a DELETE of one that does not, 204;
 * - `managedInstances/{mi}/restorableDroppedDatabases` and `…/{name,time}` (RestorableDroppedManagedDatabases.json,
 *   2021-05-01-preview in @azure/arm-sql 10);
 * - `[resourceGroups/{rg}/]providers/Microsoft.Sql/locations/{l}/longTermRetentionManagedInstances/{mi}/
 *   longTermRetentionDatabases/{db}/longTermRetentionManagedInstanceBackups[/{backup}]`
 *   (LongTermRetentionManagedInstanceBackups.json, 2021-05-01-preview in @azure/arm-sql 10,
 *   `longTermRetentionManagedInstanceBackups.listByDatabase` / `get`, and the `…ByResourceGroup…` forms).
 * A missing instance is the children's missing parent (`ParentResourceNotFound`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normalizeLocation } from '../../domain/locations';
import { armErrorBody, managedDatabaseBody } from '../arm-bodies';
import { idLocation, type InstanceState } from '../world';
import { earliestRestoreDate, liveDatabases, restorableDropped } from '../world/database-restores';
import { ltrBackupsOf, type LtrBackup } from '../world/ltr-backups';
import type { DroppedDatabase } from '../world/state';
import { instancePath, type ArmContext, type Params } from './context';
import { instanceParentOf } from './instance-resources';

const iso = (at: number) => new Date(at).toISOString();

/** A restorable dropped database as RestorableDroppedManagedDatabases.json answers it. */
export function restorableDroppedBody(
  context: ArmContext,
  instance: InstanceState,
  dropped: DroppedDatabase,
): Record<string, unknown> {
  return {
    id: `${instance.id}/restorableDroppedDatabases/${dropped.id}`,
    name: dropped.id,
    type: 'Microsoft.Sql/managedInstances/restorableDroppedDatabases',
    location: instance.location,
    properties: {
      databaseName: dropped.database.name,
      creationDate: iso(dropped.creationDate),
      deletionDate: iso(dropped.deletionDate),
      earliestRestoreDate: iso(earliestRestoreDate(context.world, dropped, instance)),
    },
  };
}

/** An LTR backup as LongTermRetentionManagedInstanceBackups.json answers it (with or without a resource group). */
export function ltrBackupBody(backup: LtrBackup, withResourceGroup: boolean): Record<string, unknown> {
  const { instance } = backup;
  const scope = withResourceGroup
    ? `/subscriptions/${instance.subscriptionId}/resourceGroups/${instance.resourceGroup}`
    : `/subscriptions/${instance.subscriptionId}`;
  return {
    id: `${scope}/providers/Microsoft.Sql/locations/${idLocation(instance.displayLocation)}/longTermRetentionManagedInstances/${instance.name}/longTermRetentionDatabases/${backup.databaseName}/longTermRetentionManagedInstanceBackups/${backup.name}`,
    name: backup.name,
    type: 'Microsoft.Sql/locations/longTermRetentionManagedInstances/longTermRetentionDatabases/longTermRetentionManagedInstanceBackups',
    properties: {
      managedInstanceName: instance.name,
      managedInstanceCreateTime: iso(instance.createdAt),
      databaseName: backup.databaseName,
      databaseDeletionTime: backup.databaseDeletionTime === undefined ? null : iso(backup.databaseDeletionTime),
      backupTime: iso(backup.backupTime),
      backupExpirationTime: iso(backup.expiresAt),
      backupStorageRedundancy: instance.backupStorageRedundancy,
    },
  };
}

/** Registers the PUT and DELETE of managed databases, the restorable dropped databases and the LTR backups. */
export function registerManagedDatabaseRoutes(app: FastifyInstance, context: ArmContext): void {
  const { world, send, fail, notFound, asyncHeaders } = context;

  const parentOf = instanceParentOf(context);

  const databaseBody = (instance: InstanceState, name: string) => {
    const database = liveDatabases(world, instance).find((entry) => entry.name.toLowerCase() === name.toLowerCase());
    return database && managedDatabaseBody(world, instance, database, world.groupOfInstance(instance.id));
  };

  app.put(`${instancePath}/databases/:database`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/databases');
    if (!instance) return reply;
    const { database: name } = request.params as Params;
    const body = (request.body ?? {}) as { properties?: Record<string, unknown> };
    const properties = body.properties ?? {};
    const text = (key: string) => (typeof properties[key] === 'string' ? properties[key] : undefined);
    try {
      const operation = world.createDatabase(instance, name!, {
        createMode: text('createMode'),
        sourceDatabaseId: text('sourceDatabaseId'),
        restorableDroppedDatabaseId: text('restorableDroppedDatabaseId'),
        restorePointInTime: text('restorePointInTime'),
        longTermRetentionBackupResourceId: text('longTermRetentionBackupResourceId'),
      });
      if (!operation) return send(request, reply, 200, databaseBody(instance, name!));
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'managedDatabase'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.delete(`${instancePath}/databases/:database`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/databases');
    if (!instance) return reply;
    const { database: name } = request.params as Params;
    try {
      const operation = world.deleteDatabase(instance, name!);
      if (!operation) return send(request, reply, 204);
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'managedDatabase'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get(`${instancePath}/restorableDroppedDatabases`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/restorableDroppedDatabases');
    if (!instance) return reply;
    return send(request, reply, 200, {
      value: restorableDropped(world, instance).map((dropped) => restorableDroppedBody(context, instance, dropped)),
    });
  });

  app.get(`${instancePath}/restorableDroppedDatabases/:dropped`, async (request, reply) => {
    const instance = await parentOf(request, reply, 'managedInstances/restorableDroppedDatabases');
    if (!instance) return reply;
    const { dropped: id } = request.params as Params;
    const dropped = restorableDropped(world, instance).find((entry) => entry.id.toLowerCase() === id!.toLowerCase());
    if (!dropped)
      return notFound(
        request,
        reply,
        `Microsoft.Sql/managedInstances/${instance.name}/restorableDroppedDatabases/${id}`,
      );
    return send(request, reply, 200, restorableDroppedBody(context, instance, dropped));
  });

  const ltrPaths = [
    '/subscriptions/:subscription/providers/Microsoft.Sql/locations/:location/longTermRetentionManagedInstances/:ltrInstance/longTermRetentionDatabases/:ltrDatabase/longTermRetentionManagedInstanceBackups',
    '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Sql/locations/:location/longTermRetentionManagedInstances/:ltrInstance/longTermRetentionDatabases/:ltrDatabase/longTermRetentionManagedInstanceBackups',
  ];
  /** The instance an LTR URL names (by subscription, location, name and, when given, resource group). */
  const ltrInstance = (request: FastifyRequest): InstanceState | undefined => {
    const { subscription, resourceGroup, location, ltrInstance: name } = request.params as Params;
    return [...world.instances.values()].find(
      (instance) =>
        instance.subscriptionId.toLowerCase() === subscription!.toLowerCase() &&
        instance.name.toLowerCase() === name!.toLowerCase() &&
        instance.location === normalizeLocation(location!) &&
        (!resourceGroup || instance.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()),
    );
  };
  const missingLtr = (request: FastifyRequest, reply: FastifyReply) => {
    const { location, ltrInstance: name } = request.params as Params;
    return send(
      request,
      reply,
      404,
      armErrorBody(
        'ResourceNotFound',
        `The Resource 'Microsoft.Sql/locations/${location}/longTermRetentionManagedInstances/${name}' was not found: no managed instance of that name at that location.`,
      ),
    );
  };
  for (const path of ltrPaths) {
    const withResourceGroup = path.includes('/resourceGroups/');
    app.get(path, async (request, reply) => {
      const instance = ltrInstance(request);
      if (!instance) return missingLtr(request, reply);
      const { ltrDatabase } = request.params as Params;
      return send(request, reply, 200, {
        value: ltrBackupsOf(world, instance, ltrDatabase).map((backup) => ltrBackupBody(backup, withResourceGroup)),
      });
    });
    app.get(`${path}/:backup`, async (request, reply) => {
      const instance = ltrInstance(request);
      if (!instance) return missingLtr(request, reply);
      const { ltrDatabase, backup: name } = request.params as Params;
      const backup = ltrBackupsOf(world, instance, ltrDatabase).find(
        (entry) => entry.name.toLowerCase() === name!.toLowerCase(),
      );
      if (!backup)
        return notFound(
          request,
          reply,
          `Microsoft.Sql/locations/${instance.location}/longTermRetentionManagedInstances/${instance.name}/longTermRetentionDatabases/${ltrDatabase}/longTermRetentionManagedInstanceBackups/${name}`,
        );
      return send(request, reply, 200, ltrBackupBody(backup, withResourceGroup));
    });
  }
}
