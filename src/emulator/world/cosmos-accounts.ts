/**
 * Cosmos DB accounts' backup policies and the migration from periodic to continuous backup (Microsoft Learn, "Migrate
 * an Azure Cosmos DB account from periodic to continuous backup mode" and "Continuous backup with point in time
 * restore"):
 * - a PATCH with a continuous `backupPolicy` on a periodic account starts a migration: `migrationState` InProgress
 *   (`targetType` Continuous, `startTime`), the policy still Periodic, until it ends, by the account's data size times
 *   its regions (Microsoft: one region with 1 TB takes roughly an hour and a half); then the policy is Continuous and
 *   `migrationState` Completed. The account's update (long-running) succeeds then;
 * - the migration is one-way: a PATCH back to Periodic is refused; so is changing the backup policy while a migration
 *   runs ("changing backup policy … can't be run while the migration is in progress");
 * - a continuous account may change tier (7 ↔ 30 days), alone: "Cannot update Continuous Mode Tier and other
 *   properties at the same time." (Azure/terraform-azurerm-cosmosdb#33 quotes the answer);
 * - a continuous account is restorable from when it became continuous (creation or migration's end), no further back
 *   than its tier's 7 or 30 days.
 *
 * Inferred: the codes and wording of the refusals other than the tier one (400 `BadRequest`, Cosmos DB's usual code),
 * the tier change's duration (`workloadTimings.cosmosUpdateSeconds`).
 */
import { randomUUID } from 'node:crypto';
import { normalizeLocation } from '../../domain/locations';
import { EmulatedArmError } from './state';
import type { CosmosAccountState, CosmosOperation, WorkloadWorld } from './workload-state';

const DAY = 86_400_000;
const TIERS = ['Continuous7Days', 'Continuous30Days'] as const;

function startOperation(world: WorkloadWorld, account: CosmosAccountState): CosmosOperation {
  const operation: CosmosOperation = {
    id: randomUUID(),
    accountId: account.id,
    location: account.locations[0]!,
    status: 'InProgress',
    startTime: world.now(),
  };
  world.workload.cosmosOperations.set(operation.id, operation);
  return operation;
}

const badRequest = (message: string) => new EmulatedArmError(400, 'BadRequest', message);

/**
 * PATCH of an account. Returns the operation that runs it, or undefined when nothing changes (the account's answer is
 * final). Only `backupPolicy` is applied; other properties are accepted and left as they are.
 */
export function updateCosmosAccount(
  world: WorkloadWorld,
  account: CosmosAccountState,
  body: unknown,
): CosmosOperation | undefined {
  world.advance();
  const properties = (body as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const policy = properties.backupPolicy as
    { type?: unknown; continuousModeProperties?: { tier?: unknown } } | undefined;
  if (policy === undefined) return undefined;
  if (account.migration?.status === 'InProgress' || account.pendingTier) {
    throw badRequest(
      `Operation not allowed: account ${account.name} is being updated (${account.migration?.status === 'InProgress' ? `migration to continuous backup since ${new Date(account.migration.startTime).toISOString()}` : 'continuous tier change'}); its backup policy cannot change until that ends.`,
    );
  }
  const type = typeof policy.type === 'string' ? policy.type : '';
  if (type === 'Periodic') {
    if (account.backupPolicy.type === 'Continuous') {
      throw badRequest(
        `Account ${account.name} has continuous backup: a backup policy cannot be changed from Continuous to Periodic. Migration from periodic to continuous backup is one-way and cannot be reversed.`,
      );
    }
    return undefined; // periodic settings are not modelled beyond what the world gives
  }
  if (type !== 'Continuous') throw badRequest(`backupPolicy.type must be Periodic or Continuous (got '${type}').`);
  const tierRaw = policy.continuousModeProperties?.tier;
  const tier = tierRaw === undefined ? 'Continuous30Days' : TIERS.find((entry) => entry === tierRaw);
  if (!tier)
    throw badRequest(`continuousModeProperties.tier must be one of ${TIERS.join(', ')} (got '${String(tierRaw)}').`);
  const timings = world.workload.timings;
  const now = world.now();
  if (account.backupPolicy.type === 'Continuous') {
    if (account.backupPolicy.tier === tier) return undefined;
    const others = Object.keys(properties).filter((key) => key !== 'backupPolicy');
    if (others.length > 0)
      throw badRequest('Cannot update Continuous Mode Tier and other properties at the same time.');
    const operation = startOperation(world, account);
    account.pendingTier = { tier, endsAt: now + timings.cosmosUpdateSeconds * 1000, operationId: operation.id };
    world.record('cosmos-tier-change', { detail: { account: account.name, tier } });
    return operation;
  }
  const gigabytes = account.dataSizeGB * account.locations.length;
  const seconds = Math.max(timings.cosmosMigrationMinSeconds, (gigabytes / timings.cosmosMigrationGBPerHour) * 3600);
  const operation = startOperation(world, account);
  account.migration = {
    status: 'InProgress',
    targetType: 'Continuous',
    tier,
    startTime: now,
    endsAt: now + seconds * 1000,
    operationId: operation.id,
  };
  world.record('cosmos-migration-started', {
    detail: { account: account.name, tier, endsAt: account.migration.endsAt },
  });
  return operation;
}

/** Ends the migrations and tier changes that have come due. */
export function advanceCosmosAccounts(world: WorkloadWorld, now: number): void {
  for (const account of world.workload.cosmosAccounts.values()) {
    const migration = account.migration;
    if (migration?.status === 'InProgress' && now >= migration.endsAt) {
      migration.status = 'Completed';
      account.backupPolicy = { type: 'Continuous', tier: migration.tier };
      account.continuousSince = migration.endsAt;
      const operation = world.workload.cosmosOperations.get(migration.operationId);
      if (operation) Object.assign(operation, { status: 'Succeeded', endTime: migration.endsAt });
      world.record('cosmos-migration-completed', { detail: { account: account.name } }, migration.endsAt);
    }
    const pending = account.pendingTier;
    if (pending && now >= pending.endsAt) {
      account.pendingTier = undefined;
      account.backupPolicy = { type: 'Continuous', tier: pending.tier };
      const operation = world.workload.cosmosOperations.get(pending.operationId);
      if (operation) Object.assign(operation, { status: 'Succeeded', endTime: pending.endsAt });
    }
  }
}

/** The oldest time a continuous account can be restored to now, or undefined for one that is not restorable. */
export function oldestRestorableTime(account: CosmosAccountState, now: number): number | undefined {
  if (account.backupPolicy.type !== 'Continuous' || account.continuousSince === undefined) return undefined;
  const days = account.backupPolicy.tier === 'Continuous7Days' ? 7 : 30;
  return Math.max(account.continuousSince, now - days * DAY);
}

/** The restorable accounts at a location (their write region). */
export function restorableAccounts(
  world: WorkloadWorld,
  subscriptionId: string,
  location?: string,
): CosmosAccountState[] {
  const now = world.now();
  return [...world.workload.cosmosAccounts.values()].filter(
    (account) =>
      account.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
      (location === undefined || account.locations[0] === normalizeLocation(location)) &&
      oldestRestorableTime(account, now) !== undefined,
  );
}
