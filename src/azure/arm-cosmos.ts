/**
 * Cosmos DB accounts' backup over `@azure/arm-cosmosdb`: the account's backup policy (and a migration to continuous
 * backup while it runs), the PATCH that starts that migration, and the restorable accounts a location lists.
 */
import type {
  ContinuousModeBackupPolicy,
  DatabaseAccountGetResults,
  PeriodicModeBackupPolicy,
} from '@azure/arm-cosmosdb';
import type { CosmosAccountView, RestorableCosmosAccountView } from '../domain/recovery-state';
import { normalizeLocation } from '../domain/locations';
import type { ArmControlPlane } from './arm-control-plane';
import type { ArmAnswer, ArmRequestOptions } from './control-plane';
import { ArmRequestError } from './errors';
import { accepted, type Accepted } from './recovery-plane';

const ACCOUNT_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/([^/]+)$/i;

export function parseCosmosAccountId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const match = ACCOUNT_ID.exec(id);
  if (!match)
    throw new ArmRequestError(`not a Cosmos DB account id: ${id}`, {
      statusCode: 400,
      code: 'InvalidResourceId',
      delivery: 'not-sent',
    });
  return { subscriptionId: match[1]!, resourceGroup: match[2]!, name: match[3]! };
}

function toAccountView(body: DatabaseAccountGetResults, fallbackName: string): CosmosAccountView {
  const policy = body.backupPolicy;
  const periodic =
    policy?.type === 'Periodic' ? (policy as PeriodicModeBackupPolicy).periodicModeProperties : undefined;
  const continuous =
    policy?.type === 'Continuous' ? (policy as ContinuousModeBackupPolicy).continuousModeProperties : undefined;
  const migration = policy?.migrationState;
  return {
    id: body.id ?? '',
    name: body.name ?? fallbackName,
    location: normalizeLocation(body.location ?? ''),
    ...(body.provisioningState ? { provisioningState: body.provisioningState } : {}),
    ...(body.instanceId ? { instanceId: body.instanceId } : {}),
    backupPolicyType: policy?.type ?? '',
    ...(continuous?.tier ? { tier: continuous.tier } : {}),
    ...(periodic
      ? {
          periodic: {
            ...(periodic.backupIntervalInMinutes !== undefined
              ? { intervalInMinutes: periodic.backupIntervalInMinutes }
              : {}),
            ...(periodic.backupRetentionIntervalInHours !== undefined
              ? { retentionInHours: periodic.backupRetentionIntervalInHours }
              : {}),
            ...(periodic.backupStorageRedundancy ? { storageRedundancy: periodic.backupStorageRedundancy } : {}),
          },
        }
      : {}),
    ...(migration?.status
      ? {
          migration: {
            status: migration.status,
            ...(migration.targetType ? { targetType: migration.targetType } : {}),
            ...(migration.startTime ? { startTime: migration.startTime.toISOString() } : {}),
          },
        }
      : {}),
  };
}

export class CosmosPart {
  constructor(private readonly arm: ArmControlPlane) {}

  async getAccount(accountId: string, options?: ArmRequestOptions): Promise<ArmAnswer<CosmosAccountView>> {
    const id = parseCosmosAccountId(accountId);
    const answer = await this.arm.call(`reading Cosmos DB account ${id.name}`, options, (callOptions) =>
      this.arm.cosmosClient(id.subscriptionId).databaseAccounts.get(id.resourceGroup, id.name, callOptions),
    );
    return { value: toAccountView(answer.value, id.name), retryAfterMs: answer.retryAfterMs };
  }

  async beginMigrateToContinuous(
    accountId: string,
    tier: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    const id = parseCosmosAccountId(accountId);
    const { response, retryAfterMs } = await this.arm.sendAccepted(
      `migrating Cosmos DB account ${id.name} to continuous backup`,
      'PATCH',
      options,
      async (callOptions) => {
        const poller = this.arm
          .cosmosClient(id.subscriptionId)
          .databaseAccounts.update(
            id.resourceGroup,
            id.name,
            { backupPolicy: { type: 'Continuous', continuousModeProperties: { tier } } },
            callOptions,
          );
        // The initial PATCH only: the workflow follows the migration durably, not this poller.
        await poller.submitted();
      },
    );
    return { value: accepted(response), retryAfterMs };
  }

  async listRestorableAccounts(
    subscriptionId: string,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RestorableCosmosAccountView[]>> {
    return this.arm.call(`listing the restorable Cosmos DB accounts at ${location}`, options, async (callOptions) => {
      const views: RestorableCosmosAccountView[] = [];
      for await (const entry of this.arm
        .cosmosClient(subscriptionId)
        .restorableDatabaseAccounts.listByLocation(location, callOptions)) {
        views.push({
          id: entry.id ?? '',
          accountName: entry.accountName ?? '',
          instanceId: entry.name ?? '',
          ...(entry.creationTime ? { creationTime: entry.creationTime.toISOString() } : {}),
          ...(entry.oldestRestorableTime ? { oldestRestorableTime: entry.oldestRestorableTime.toISOString() } : {}),
          ...(entry.deletionTime ? { deletionTime: entry.deletionTime.toISOString() } : {}),
        });
      }
      return views;
    });
  }
}
