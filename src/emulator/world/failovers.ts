/**
 * A failover group's failover, planned or forced: the rules that refuse one (with the codes Azure documents), and its
 * course on the world's clock. Accepted, the read-write listener's DNS points at the target at once; the roles switch
 * after `roleSwitchSeconds` (`forcedSwitchSeconds` when forced), dropping the old primary's sessions, and the failover
 * completes `roleFlipSkewSeconds` later (the switch "runs" meanwhile: clients see 40613 and 40197); each database of
 * the new primary becomes writable at its own moment. Armed faults make a failover fail or never complete, and a
 * planned one times out when the primary's region is dark. The automatic failover (Automatic policy, primary region
 * dark past the grace period) and the demotion of a returning old primary are ./automatic-failover.ts.
 *
 * Sources: ../shared/reference/azure-sql-mi-failover.md ("Timeline of a user-initiated failover": the DNS record is
 * pointed at the new primary when the failover starts, the role switch completes afterwards, up to about 5 minutes;
 * 40613/40197/3906 meanwhile); https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/failover-group-sql-mi?view=azuresql
 * ("Endpoint redirection").
 */
import { normalizeLocation } from '../../domain/locations';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { isSeeding } from './failover-groups';
import { takeFailoverFault } from './faults';
import { checkSinglePrimary, failoverCountersOf } from './invariants';
import { isRunning } from './operation-course';
import { dropUnhardened, hardenEverythingBy, startReadOnlyWindow, writableMoments } from './replication';
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
  if (group.deletion)
    refuse(
      409,
      'InstanceFailoverGroupBusy',
      `Instance failover group is busy with another operation: ${group.name} is being deleted.`,
    );
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
    failover.listenerMovedAt = now;
  }
  group.failover = failover;
  counters.accepted += 1;
  counters.acceptedTo[target!.location] = (counters.acceptedTo[target!.location] ?? 0) + 1;
  world.record('failover-requested', {
    group: group.name,
    instance: target!.name,
    detail: { kind, location: target!.location, asyncOperationId: asyncOperation.id },
  });
  if (failover.listenerMovedAt !== undefined) {
    world.record('listener-moved', { group: group.name, instance: target!.name, detail: { kind } });
    world.emit('change', 'listener-moved', group);
  }
  world.advance();
  return asyncOperation;
}

/** The instance the group's read-write listener points at: the target of an accepted failover from its start. */
export function listenerInstanceId(group: GroupState): string {
  const failover = group.failover;
  return failover?.listenerMovedAt !== undefined ? failover.targetInstanceId : group.primaryInstanceId;
}

/** Whether the group's role switch is running at `now`: switched, not yet completed (clients see 40613/40197). */
export function switchRunning(group: GroupState, now: number): boolean {
  const failover = group.failover;
  return failover !== undefined && failover.switched && failover.completeAt !== undefined && now < failover.completeAt;
}

/**
 * Makes `targetInstanceId` the primary at `at`: a forced switch first drops what the secondary had not hardened (and,
 * when the old primary's region is dark, leaves it to be demoted when it returns); each database becomes writable at
 * its own moment. Tells the listeners (`roles-switched`, with the old primary's id) so they drop its sessions.
 */
export function switchRoles(
  world: WorldContext,
  group: GroupState,
  targetInstanceId: string,
  kind: 'planned' | 'forced',
  at: number,
  detail: Record<string, unknown> = {},
): void {
  const oldPrimary = group.primaryInstanceId;
  if (kind === 'forced') {
    // A split-brain fault keeps the old primary accepting writes; it takes the LSNs its log had before the drop.
    beginSplitBrain(world, group, oldPrimary, at);
    const discarded = dropUnhardened(world, group, at);
    const old = world.instanceById(oldPrimary);
    if (old && world.isDark(old.location)) group.awaitingDemotion = { instanceId: oldPrimary, since: at, discarded };
  }
  group.primaryInstanceId = targetInstanceId;
  group.staleClaim = { instanceId: oldPrimary, until: at + world.timings.roleFlipSkewSeconds * 1000 };
  const moments = writableMoments(world, group, at);
  group.switches = (group.switches ?? 0) + 1;
  startReadOnlyWindow(group, moments);
  const target = world.instanceById(targetInstanceId)!;
  world.record(
    'roles-switched',
    {
      group: group.name,
      instance: target.name,
      detail: {
        kind,
        primaryLocation: target.location,
        ...detail,
        writableAt: Object.fromEntries([...moments].map(([name, moment]) => [name, new Date(moment).toISOString()])),
      },
    },
    at,
  );
  checkSinglePrimary(world, group);
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
    failover.switched = true;
    switchRoles(world, group, failover.targetInstanceId, failover.kind, failover.switchAt);
    world.emit('change', 'roles-switched', group, failover, oldPrimary);
  }
  if (failover.switched && failover.completeAt !== undefined && now >= failover.completeAt) {
    operation.status = 'Succeeded';
    operation.endTime = failover.completeAt;
    group.failover = undefined;
    world.record('failover-completed', { group: group.name, detail: { kind: failover.kind } }, failover.completeAt);
    world.emit('change', 'failover-completed', group);
  }
}
