/**
 * DELETE of a failover group, long-running as the REST spec's InstanceFailoverGroups_Delete is
 * (`x-ms-long-running-operation`, 200/202/204; example InstanceFailoverGroupDelete,
 * ../shared/reference/arm-examples/2023-08-01_InstanceFailoverGroupDelete.json): accepted at the primary's location
 * only, refused while a failover runs; the group stays until the deletion ends `timings.groupDeleteSeconds` later.
 * It needs only the primary's region: it works while the partner's region is dark, which is how a group that lost a
 * region is taken apart before it is re-established elsewhere.
 *
 * What the instances keep (inferred; Azure documents the group's removal, not the databases' fate beyond "the
 * databases are not deleted"):
 * - the primary keeps the group's databases as its own, with their log, so a new group from it takes them;
 * - the former secondary keeps standalone copies of the databases it had seeded, holding what it had hardened when the
 *   deletion ended — or, if its region is dark, when its region went dark;
 * - a deletion of a group still seeding cancels its creation: the creation's operation ends Canceled
 *   (`OperationCancelled`), and the secondary keeps only the databases that had finished seeding.
 */
import { normalizeLocation } from '../../domain/locations';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { ownCopy } from './group-creation';
import { isSeeded } from './seeding';
import { EmulatedArmError, type AsyncOperation, type DatabaseState, type GroupState, type OwnDatabase } from './state';

/** DELETE of a failover group at `location`: its long-running operation (the one already running, if any). */
export function requestGroupDeletion(world: WorldContext, group: GroupState, location: string): AsyncOperation {
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
  if (group.deletion) return world.asyncOperations.get(group.deletion.asyncOperationId)!;
  const now = world.now();
  const creation = group.creationOperationId ? world.asyncOperations.get(group.creationOperationId) : undefined;
  if (creation?.status === 'InProgress') {
    Object.assign(creation, {
      status: 'Canceled',
      endTime: now,
      error: {
        code: 'OperationCancelled',
        message: `The operation has been cancelled: instance failover group ${group.name} was deleted while it was seeding.`,
      },
    });
    for (const database of group.databases) {
      if (database.seeding && now < database.seeding.endsAt) database.seeding.canceledAt = now;
    }
    world.record('group-creation-cancelled', { group: group.name, detail: { by: 'delete' } });
  }
  const operation = startAsyncOperation(world, 'group-delete', group.subscriptionId, location, { type: 'none' });
  group.deletion = {
    asyncOperationId: operation.id,
    requestedAt: now,
    endsAt: now + world.timings.groupDeleteSeconds * 1000,
  };
  world.record('group-delete-requested', { group: group.name, detail: { endsAt: group.deletion.endsAt } });
  return operation;
}

/** A copy of the database as the secondary holds it at `at`: what it had hardened by then. */
function secondaryCopy(database: DatabaseState, at: number): OwnDatabase {
  const commits = database.commits.filter((record) => record.hardenedAt <= at).map((record) => ({ ...record }));
  return {
    name: database.name,
    sizeGB: database.sizeGB,
    lagMs: database.lagMs,
    retained: {
      name: database.name,
      sizeGB: database.sizeGB,
      lagMs: database.lagMs,
      nextLsn: (commits.at(-1)?.lsn ?? 0) + 1,
      commits,
      readOnlyUntil: 0,
    },
  };
}

/** Ends a deletion once it is due (dated when it was due): the group is gone, the instances keep their databases. */
export function advanceDeletion(world: WorldContext, group: GroupState, now: number): void {
  const deletion = group.deletion;
  if (!deletion || now < deletion.endsAt) return;
  const at = deletion.endsAt;
  const primary = world.instanceById(group.primaryInstanceId)!;
  const partner = world.partnerInstance(group, primary.id);
  const keep = (instance: typeof primary, copies: OwnDatabase[]) => {
    const names = new Set(instance.databases.map((database) => database.name.toLowerCase()));
    instance.databases = [...instance.databases, ...copies.filter((copy) => !names.has(copy.name.toLowerCase()))];
  };
  keep(primary, group.databases.map(ownCopy));
  const partnerCutoff = world.isDark(partner.location) ? (world.faults.darkSince.get(partner.location) ?? at) : at;
  keep(
    partner,
    group.databases
      .filter((database) => isSeeded(database, partnerCutoff))
      .map((database) => secondaryCopy(database, partnerCutoff)),
  );
  world.groups.delete(group.key);
  const operation = world.asyncOperations.get(deletion.asyncOperationId);
  if (operation?.status === 'InProgress') Object.assign(operation, { status: 'Succeeded', endTime: at });
  world.record(
    'group-deleted',
    {
      group: group.name,
      detail: {
        primary: primary.name,
        kept: group.databases.map((database) => database.name),
        partner: partner.name,
        partnerKept: partner.databases.map((database) => database.name),
        partnerDark: world.isDark(partner.location),
      },
    },
    at,
  );
  world.emit('change', 'group-deleted', group);
}
