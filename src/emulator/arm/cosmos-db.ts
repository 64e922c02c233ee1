/**
 * Microsoft.DocumentDB, as @azure/arm-cosmosdb 17 calls it (api-version 2026-03-15): database accounts (GET, the lists
 * of a resource group and of the subscription) with their `backupPolicy` (Periodic with `periodicModeProperties`, or
 * Continuous with `continuousModeProperties.tier`, and `migrationState` once a migration began), `instanceId`,
 * `createMode`, `provisioningState` and locations; the account's update (PATCH), long-running as the SDK's poller
 * follows it: 200 with the account `Updating` and an `Azure-AsyncOperation` header
 * (`…/providers/Microsoft.DocumentDB/locations/{location}/operationsStatus/{id}`), the status `InProgress` then
 * `Succeeded`, then the poller's final GET of the account (no Location: the SDK's `resourceLocationConfig: "location"`
 * falls back to the request's URL for a PATCH); and the restorable accounts (by location, one by `instanceId`, the
 * subscription's).
 *
 * Sources: the SDK's operations (dist/commonjs/api/databaseAccounts/operations.js, restorableDatabaseAccounts,
 * static-helpers/pollingHelpers.js and @azure/core-lro 3's http/operation.js); its models (backupPolicy, migrationState,
 * restorable account and location shapes); Microsoft Learn "Migrate an Azure Cosmos DB account from periodic to
 * continuous backup mode". Inferred: the status resource's shape beyond `status` (ARM's common OperationStatusResult),
 * no Location header. The world's rules: ../world/cosmos-accounts.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import { displayLocation } from '../world';
import { oldestRestorableTime, restorableAccounts, updateCosmosAccount } from '../world/cosmos-accounts';
import { stableGuid } from '../world/workload';
import { cosmosAccountResourceId, type CosmosAccountState } from '../world/workload-state';
import type { ArmContext, Params } from './context';

const accountsPath =
  '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.DocumentDB/databaseAccounts';
const locationPath = '/subscriptions/:subscription/providers/Microsoft.DocumentDB/locations/:location';

const iso = (ms: number) => new Date(ms).toISOString();

/** Registers the database account, account operation and restorable account routes. */
export function registerCosmosDbRoutes(app: FastifyInstance, context: ArmContext): void {
  const { world, send, fail, baseUrl } = context;
  const version = (request: FastifyRequest) => String((request.query as Record<string, string>)['api-version']);

  const accountBody = (account: CosmosAccountState) => {
    const policy = account.backupPolicy;
    const migration = account.migration;
    const location = (name: string, index: number) => ({
      id: `${account.name}-${name}`,
      locationName: displayLocation(name),
      documentEndpoint: `https://${account.name}-${name}.documents.azure.com:443/`,
      provisioningState: 'Succeeded',
      failoverPriority: index,
      isZoneRedundant: false,
    });
    const locations = account.locations.map(location);
    const updating = migration?.status === 'InProgress' || account.pendingTier !== undefined;
    return {
      id: account.id,
      name: account.name,
      type: 'Microsoft.DocumentDB/databaseAccounts',
      location: displayLocation(account.locations[0]!),
      kind: account.kind,
      tags: {},
      systemData: { createdAt: iso(account.creationTime) },
      properties: {
        provisioningState: updating ? 'Updating' : 'Succeeded',
        documentEndpoint: `https://${account.name}.documents.azure.com:443/`,
        databaseAccountOfferType: 'Standard',
        instanceId: account.instanceId,
        createMode: 'Default',
        consistencyPolicy: { defaultConsistencyLevel: 'Session', maxIntervalInSeconds: 5, maxStalenessPrefix: 100 },
        enableAutomaticFailover: false,
        enableMultipleWriteLocations: false,
        locations,
        writeLocations: locations.slice(0, 1),
        readLocations: locations,
        failoverPolicies: locations.map(({ id, locationName, failoverPriority }) => ({
          id,
          locationName,
          failoverPriority,
        })),
        ...(account.kind === 'MongoDB' ? { apiProperties: { serverVersion: '4.2' } } : {}),
        backupPolicy: {
          type: policy.type,
          ...(policy.type === 'Periodic'
            ? {
                periodicModeProperties: {
                  backupIntervalInMinutes: policy.backupIntervalInMinutes,
                  backupRetentionIntervalInHours: policy.backupRetentionIntervalInHours,
                  backupStorageRedundancy: policy.backupStorageRedundancy,
                },
              }
            : { continuousModeProperties: { tier: policy.tier } }),
          ...(migration
            ? {
                migrationState: {
                  status: migration.status,
                  targetType: migration.targetType,
                  startTime: iso(migration.startTime),
                },
              }
            : {}),
        },
      },
    };
  };

  const restorableBody = (account: CosmosAccountState) => {
    const location = account.locations[0]!;
    return {
      id: `/subscriptions/${account.subscriptionId}/providers/Microsoft.DocumentDB/locations/${location}/restorableDatabaseAccounts/${account.instanceId}`,
      name: account.instanceId,
      type: 'Microsoft.DocumentDB/locations/restorableDatabaseAccounts',
      location: displayLocation(location),
      properties: {
        accountName: account.name,
        creationTime: iso(account.creationTime),
        oldestRestorableTime: iso(oldestRestorableTime(account, world.now())!),
        apiType: account.kind === 'MongoDB' ? 'MongoDB' : 'Sql',
        restorableLocations: account.locations.map((name) => ({
          locationName: displayLocation(name),
          regionalDatabaseAccountInstanceId: stableGuid(`${account.id}/${name}`),
          creationTime: iso(account.creationTime),
        })),
      },
    };
  };

  const accountOf = (request: FastifyRequest) => {
    const { subscription, resourceGroup, account } = request.params as Params;
    return world.workload.cosmosAccounts.get(
      cosmosAccountResourceId(subscription!, resourceGroup!, account!).toLowerCase(),
    );
  };
  const noAccount = (request: FastifyRequest, reply: Parameters<typeof send>[1]) => {
    const { resourceGroup, account } = request.params as Params;
    return send(
      request,
      reply,
      404,
      armErrorBody(
        'ResourceNotFound',
        `The Resource 'Microsoft.DocumentDB/databaseAccounts/${account}' under resource group '${resourceGroup}' was not found.`,
      ),
    );
  };
  const accountsWhere = (subscription: string, resourceGroup?: string) =>
    [...world.workload.cosmosAccounts.values()].filter(
      (account) =>
        account.subscriptionId.toLowerCase() === subscription.toLowerCase() &&
        (resourceGroup === undefined || account.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()),
    );

  app.get('/subscriptions/:subscription/providers/Microsoft.DocumentDB/databaseAccounts', async (request, reply) => {
    const { subscription } = request.params as Params;
    return send(request, reply, 200, { value: accountsWhere(subscription!).map(accountBody) });
  });

  app.get(accountsPath, async (request, reply) => {
    const { subscription, resourceGroup } = request.params as Params;
    return send(request, reply, 200, { value: accountsWhere(subscription!, resourceGroup).map(accountBody) });
  });

  app.get(`${accountsPath}/:account`, async (request, reply) => {
    const account = accountOf(request);
    if (!account) return noAccount(request, reply);
    return send(request, reply, 200, accountBody(account));
  });

  app.patch(`${accountsPath}/:account`, async (request, reply) => {
    const account = accountOf(request);
    if (!account) return noAccount(request, reply);
    try {
      const operation = updateCosmosAccount(world, account, request.body);
      if (!operation) return send(request, reply, 200, accountBody(account));
      return send(request, reply, 200, accountBody(account), {
        'Azure-AsyncOperation': `${baseUrl(request)}/subscriptions/${account.subscriptionId}/providers/Microsoft.DocumentDB/locations/${operation.location}/operationsStatus/${operation.id}?api-version=${version(request)}`,
        'Retry-After': String(world.timings.asyncRetryAfterSeconds),
      });
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get(`${locationPath}/operationsStatus/:operationId`, async (request, reply) => {
    const operation = world.workload.cosmosOperations.get((request.params as Params).operationId!);
    if (!operation) return send(request, reply, 404, armErrorBody('NotFound', 'The operation was not found.'));
    return send(
      request,
      reply,
      200,
      {
        id: request.url.split('?')[0],
        name: operation.id,
        status: operation.status,
        startTime: iso(operation.startTime),
        ...(operation.endTime !== undefined ? { endTime: iso(operation.endTime) } : {}),
        ...(operation.error ? { error: operation.error } : {}),
      },
      operation.status === 'InProgress' ? { 'Retry-After': String(world.timings.asyncRetryAfterSeconds) } : {},
    );
  });

  app.get(
    '/subscriptions/:subscription/providers/Microsoft.DocumentDB/restorableDatabaseAccounts',
    async (request, reply) => {
      const { subscription } = request.params as Params;
      return send(request, reply, 200, { value: restorableAccounts(world, subscription!).map(restorableBody) });
    },
  );

  app.get(`${locationPath}/restorableDatabaseAccounts`, async (request, reply) => {
    const { subscription, location } = request.params as Params;
    return send(request, reply, 200, {
      value: restorableAccounts(world, subscription!, location).map(restorableBody),
    });
  });

  app.get(`${locationPath}/restorableDatabaseAccounts/:instanceId`, async (request, reply) => {
    const { subscription, location, instanceId } = request.params as Params;
    const account = restorableAccounts(world, subscription!, location).find(
      (entry) => entry.instanceId.toLowerCase() === instanceId!.toLowerCase(),
    );
    if (!account)
      return send(
        request,
        reply,
        404,
        armErrorBody('NotFound', `No restorable database account with instance id '${instanceId}' at ${location}.`),
      );
    return send(request, reply, 200, restorableBody(account));
  });
}
