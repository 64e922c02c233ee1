/**
 * Failover groups: a pair of managed instances in two regions, one primary. Their creation from a world description
 * (a PUT's is ./group-creation.ts), deletion, seeding, and the roles and replication state ARM reports at each
 * location. The failover itself is ./failovers.ts.
 *
 * Inferred behaviour (no public source states it; fogpilot is built so that being wrong is safe):
 * - while a failover runs, the group's `replicationState` reads `FAILOVER_IN_PROGRESS` at both locations;
 * - right after the switch the old primary's location keeps answering `Primary` for `roleFlipSkewSeconds`.
 */
import { normalizeLocation } from '../../domain/locations';
import type { GroupSpec, WorldSpec } from '../world-spec';
import { completedAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { databaseFromSpec } from './replication';
import { EmulatedArmError, groupKey, type AsyncOperation, type GroupState } from './state';

export { createGroup, type GroupRequest } from './group-creation';

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
    seedingUntil: group.seedingSeconds > 0 ? now + group.seedingSeconds * 1000 : undefined,
    databases: group.databases.map((database) => databaseFromSpec(database, spec)),
  };
}

/** Whether the group's initial seeding still runs at `now` (a failover is refused meanwhile). */
export function isSeeding(group: GroupState, now: number): boolean {
  return group.seedingUntil !== undefined && now < group.seedingUntil;
}

/** Ends the initial seeding once it is due, dated when it was due. */
export function advanceSeeding(world: WorldContext, group: GroupState, now: number): void {
  if (group.seedingUntil !== undefined && now >= group.seedingUntil) {
    world.record('seeding-completed', { group: group.name }, group.seedingUntil);
    const creation = group.creationOperationId && world.asyncOperations.get(group.creationOperationId);
    if (creation && creation.status === 'InProgress')
      Object.assign(creation, { status: 'Succeeded', endTime: group.seedingUntil });
    group.seedingUntil = undefined;
  }
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

/** DELETE of a failover group at its primary's location; refused at the secondary's, or while a failover runs. */
export function deleteGroup(world: WorldContext, group: GroupState, location: string): AsyncOperation {
  world.advance();
  if (world.instanceById(group.primaryInstanceId)!.location !== normalizeLocation(location)) {
    throw new EmulatedArmError(
      400,
      'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
      'Modifications to the instance failover group are not allowed on a secondary server. Execute the request on the primary server.',
    );
  }
  if (group.failover)
    throw new EmulatedArmError(
      409,
      'InstanceFailoverGroupBusy',
      'Instance failover group is busy with another operation.',
    );
  world.groups.delete(group.key);
  const asyncOperation = completedAsyncOperation(world, 'group-delete', group.subscriptionId, location, {
    type: 'none',
  });
  world.record('group-deleted', { group: group.name });
  return asyncOperation;
}
