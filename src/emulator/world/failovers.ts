/**
 * A failover group's failover, planned or forced: the rules that refuse one (with the codes Azure documents), and its
 * course on the world's clock. Accepted, it switches the roles after `roleSwitchSeconds` (`forcedSwitchSeconds` when
 * forced) and completes `roleFlipSkewSeconds` later; armed faults make it fail or never complete, and a planned one
 * times out when the primary's region is dark.
 */
import { normalizeLocation } from '../../domain/locations';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { isSeeding } from './failover-groups';
import { takeFailoverFault } from './faults';
import { checkSinglePrimary, failoverCountersOf } from './invariants';
import { isRunning } from './operation-course';
import { dropUnhardened, hardenEverythingBy, startReadOnlyWindow } from './replication';
import { beginSplitBrain } from './split-brain';
import { EmulatedArmError, type AsyncOperation, type FailoverState, type GroupState } from './state';

/**
 * A planned or forced failover sent to `location`. Refused, with the documented codes, when sent to the primary's
 * location, while seeding, while another failover runs, or while an instance of the pair is being scaled.
 */
export function requestFailover(
  world: WorldContext,
  group: GroupState,
  location: string,
  kind: 'planned' | 'forced',
): AsyncOperation {
  world.advance();
  const now = world.now();
  const counters = failoverCountersOf(world, group);
  counters.received += 1;
  const refuse = (status: number, code: string, message: string): never => {
    counters.refused += 1;
    world.record('failover-refused', {
      group: group.name,
      detail: { location: normalizeLocation(location), kind, code },
    });
    throw new EmulatedArmError(status, code, message);
  };
  const target = world.instanceAt(group, location);
  if (!target) refuse(404, 'ResourceNotFound', `The failover group ${group.name} does not exist at ${location}.`);
  if (group.failover)
    refuse(409, 'InstanceFailoverGroupBusy', 'Instance failover group is busy with another operation.');
  if (target!.id === group.primaryInstanceId) {
    if (kind === 'planned')
      refuse(
        400,
        'InstanceFailoverGroupFailoverRequestOnPrimary',
        'The failover request should be initiated on the secondary server of instance failover group.',
      );
    refuse(
      400,
      'InstanceFailoverGroupNotSecondary',
      'Failover cannot be initiated from the primary server in a instance failover group.',
    );
  }
  if (isSeeding(group, world.now()))
    refuse(
      400,
      'IncorrectReplicationLinkState',
      'The operation expects the database to be in an expected state on the replication link.',
    );
  const scaling = world.operations.find(
    (operation) =>
      isRunning(operation) && group.instanceIds.some((id) => id.toLowerCase() === operation.instanceId.toLowerCase()),
  );
  if (scaling)
    refuse(
      409,
      'UpdateSloInProgress',
      'User tried to initiate an incompatible operation while a SLO update was in progress.',
    );

  const asyncOperation = startAsyncOperation(world, 'failover', group.subscriptionId, location, {
    type: 'group',
    groupKey: group.key,
    location: target!.location,
  });
  const primary = world.instanceById(group.primaryInstanceId)!;
  const failover: FailoverState = {
    asyncOperationId: asyncOperation.id,
    kind,
    targetInstanceId: target!.id,
    requestedAt: now,
    switched: false,
  };
  const armed = takeFailoverFault(world.faults, group);
  if (armed && 'fails' in armed) {
    failover.failAt = now + world.timings.roleSwitchSeconds * 500;
    failover.failCode = armed.fails.code;
    failover.failMessage = armed.fails.message;
  } else if (armed) {
    // Never completes: no switch, no end.
  } else if (kind === 'planned' && world.isDark(primary.location)) {
    // A planned failover needs the primary: with its region dark it times out, as Azure's does.
    failover.failAt = now + world.timings.plannedFailoverTimeoutSeconds * 1000;
    failover.failCode = 'PlannedFailoverTimedOut';
  } else {
    const switchMs = (kind === 'forced' ? world.timings.forcedSwitchSeconds : world.timings.roleSwitchSeconds) * 1000;
    failover.switchAt = now + switchMs;
    failover.completeAt = failover.switchAt + world.timings.roleFlipSkewSeconds * 1000;
    if (kind === 'planned') hardenEverythingBy(group, failover.switchAt);
  }
  group.failover = failover;
  counters.accepted += 1;
  counters.acceptedTo[target!.location] = (counters.acceptedTo[target!.location] ?? 0) + 1;
  world.record('failover-requested', {
    group: group.name,
    instance: target!.name,
    detail: { kind, location: target!.location, asyncOperationId: asyncOperation.id },
  });
  world.advance();
  return asyncOperation;
}

/** Applies the failover's transitions that have come due by `now`, each dated when it was due. */
export function advanceFailover(world: WorldContext, group: GroupState, failover: FailoverState, now: number): void {
  const operation = world.asyncOperations.get(failover.asyncOperationId)!;
  if (failover.failAt !== undefined && now >= failover.failAt) {
    operation.status = 'Failed';
    operation.endTime = failover.failAt;
    operation.error = {
      code: failover.failCode ?? 'PlannedFailoverTimedOut',
      message:
        failover.failMessage ??
        'User invoked planned failover, and it timed out while trying to contact the partner management service.',
    };
    group.failover = undefined;
    world.record('failover-failed', { group: group.name, detail: { code: operation.error.code } }, failover.failAt);
    world.emit('change', 'failover-failed', group);
    return;
  }
  if (!failover.switched && failover.switchAt !== undefined && now >= failover.switchAt) {
    const oldPrimary = group.primaryInstanceId;
    // A split-brain fault keeps the old primary accepting writes; it takes the LSNs its log had before the drop.
    if (failover.kind === 'forced') beginSplitBrain(world, group, oldPrimary, failover.switchAt);
    if (failover.kind === 'forced') dropUnhardened(world, group, failover.switchAt);
    group.primaryInstanceId = failover.targetInstanceId;
    failover.switched = true;
    group.staleClaim = { instanceId: oldPrimary, until: failover.switchAt + world.timings.roleFlipSkewSeconds * 1000 };
    startReadOnlyWindow(group, failover.switchAt + world.timings.readOnlyAfterSwitchSeconds * 1000);
    const target = world.instanceById(failover.targetInstanceId)!;
    world.record(
      'roles-switched',
      { group: group.name, instance: target.name, detail: { kind: failover.kind, primaryLocation: target.location } },
      failover.switchAt,
    );
    checkSinglePrimary(world, group);
    world.emit('change', 'roles-switched', group, failover);
  }
  if (failover.switched && failover.completeAt !== undefined && now >= failover.completeAt) {
    operation.status = 'Succeeded';
    operation.endTime = failover.completeAt;
    group.failover = undefined;
    world.record('failover-completed', { group: group.name, detail: { kind: failover.kind } }, failover.completeAt);
    world.emit('change', 'failover-completed', group);
  }
}
