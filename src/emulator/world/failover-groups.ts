/**
 * Failover groups: a pair of managed instances in two regions, one primary. Their creation from a world description
 * (a PUT's is ./group-creation.ts, a DELETE's ./group-deletion.ts), seeding (per database: ./seeding.ts), and the roles
 * and replication state ARM reports at each location. The failover itself is ./failovers.ts.
 *
 * Inferred behaviour (no public source states it; fogpilot is built so that being wrong is safe):
 * - while a failover runs, the group's `replicationState` reads `FAILOVER_IN_PROGRESS` at both locations;
 * - right after the switch the old primary's location keeps answering `Primary` for `roleFlipSkewSeconds`.
 */
import type { GroupSpec, WorldSpec } from '../world-spec';
import type { WorldContext } from './context';
import { cancelStaleCreation } from './group-creation';
import { databaseFromSpec } from './replication';
import { scheduleSeedingWindow } from './seeding';
import { groupKey, type GroupState } from './state';

export { createGroup, type GroupRequest } from './group-creation';
export { advanceDeletion, requestGroupDeletion } from './group-deletion';

/** A group as a world description declares it; its instances must already be in the world, in two regions. */
export function groupFromSpec(world: WorldContext, group: GroupSpec, spec: WorldSpec, now: number): GroupState {
  const subscriptionId = group.subscriptionId ?? spec.subscriptionId;
  const primary = world.instanceByName(subscriptionId, group.resourceGroup, group.primaryInstance);
  const secondary = world.instanceByName(subscriptionId, group.resourceGroup, group.secondaryInstance);
  if (!primary || !secondary) {
    throw new Error(
      `group ${group.name}: instances ${group.primaryInstance} and ${group.secondaryInstance} must be in the world, in resource group ${group.resourceGroup}`,
    );
  }
  if (primary.location === secondary.location)
    throw new Error(`group ${group.name}: its instances must be in different regions`);
  const databases = group.databases.map((database) => databaseFromSpec(database, spec));
  const seedingUntil = group.seedingSeconds > 0 ? now + group.seedingSeconds * 1000 : undefined;
  if (seedingUntil !== undefined) scheduleSeedingWindow(databases, now, seedingUntil);
  return {
    key: groupKey(subscriptionId, group.resourceGroup, group.name),
    subscriptionId,
    resourceGroup: group.resourceGroup,
    name: group.name,
    instanceIds: [primary.id, secondary.id],
    primaryInstanceId: primary.id,
    readWriteFailoverPolicy: group.readWriteFailoverPolicy,
    gracePeriodMinutes: group.readWriteFailoverPolicy === 'Automatic' ? (group.gracePeriodMinutes ?? 60) : undefined,
    readOnlyFailoverPolicy: group.readOnlyFailoverPolicy,
    secondaryType: group.secondaryType,
    seedingUntil,
    databases,
  };
}

/** Whether the group's initial seeding still runs at `now` (a failover is refused meanwhile). */
export function isSeeding(group: GroupState, now: number): boolean {
  return group.seedingUntil !== undefined && now < group.seedingUntil;
}

/**
 * Ends the initial seeding once it is due, dated when it was due; a creation still seeding 6 days after it was asked
 * for is cancelled instead (the group is removed: returns false then).
 */
export function advanceSeeding(world: WorldContext, group: GroupState, now: number): boolean {
  if (group.deletion) return true;
  if (cancelStaleCreation(world, group, now)) return false;
  if (group.seedingUntil !== undefined && now >= group.seedingUntil) {
    world.record('seeding-completed', { group: group.name }, group.seedingUntil);
    const creation = group.creationOperationId && world.asyncOperations.get(group.creationOperationId);
    if (creation && creation.status === 'InProgress')
      Object.assign(creation, { status: 'Succeeded', endTime: group.seedingUntil });
    group.seedingUntil = undefined;
  }
  return true;
}

/** Ends the old primary's claim to the role once its skew has passed. */
export function expireStaleClaim(group: GroupState, now: number): void {
  if (group.staleClaim && now >= group.staleClaim.until) group.staleClaim = undefined;
}

/** The role ARM reports at `location` (with the inferred skew right after a switch). */
export function reportedRole(
  world: WorldContext,
  group: GroupState,
  location: string,
  now: number,
): 'Primary' | 'Secondary' {
  const instance = world.instanceAt(group, location);
  if (!instance) return 'Secondary';
  if (instance.id === group.primaryInstanceId) return 'Primary';
  if (group.staleClaim && group.staleClaim.instanceId === instance.id && now < group.staleClaim.until) return 'Primary';
  return 'Secondary';
}

/** The `replicationState` ARM reports: `FAILOVER_IN_PROGRESS`, `SEEDING` or `CATCH_UP`. */
export function reportedReplicationState(group: GroupState, now: number): string {
  if (group.failover) return 'FAILOVER_IN_PROGRESS';
  if (isSeeding(group, now)) return 'SEEDING';
  return 'CATCH_UP';
}
