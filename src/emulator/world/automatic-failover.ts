/**
 * What Azure does to a failover group by itself, with no request from anyone:
 * - with the `Automatic` read-write policy, once the primary's region has been dark longer than the grace period
 *   (`failoverWithDataLossGracePeriodMinutes`), it fails the group over, with data loss (a forced switch: what the
 *   secondary had not hardened is lost, and counted in `lostCommits`);
 * - when a region that was dark returns after a forced (or automatic) failover left its instance behind, that old
 *   primary rejoins as the secondary: it is reseeded (the group shows seeding for a time by its size) and the commits
 *   it held that never reached the new primary are discarded (the same count as `lostCommits`, per database, in the
 *   event log).
 *
 * Sources: ../shared/reference/azure-sql-mi-failover.md ("Automatic policy": "Azure fails the group over by itself only
 * after an outage outlasts the grace period … When the old primary's region recovers, that instance rejoins as the
 * secondary and is reseeded; commits it held that never reached the new primary are gone"; seeding "up to 360 GB/h").
 * Knowingly simplified: the automatic switch is instantaneous (no async operation: nobody sent it), and the reseed
 * takes the instance's storage size at `reseedGBPerHour`, whatever its data.
 */
import type { WorldContext } from './context';
import { switchRoles } from './failovers';
import { scheduleSeedingWindow } from './seeding';
import type { GroupState } from './state';

/** When the group's automatic failover is due, if its policy is Automatic and its primary's region is dark. */
export function automaticFailoverDueAt(world: WorldContext, group: GroupState): number | undefined {
  if (group.readWriteFailoverPolicy !== 'Automatic' || group.failover) return undefined;
  const primary = world.instanceById(group.primaryInstanceId);
  if (!primary || !world.isDark(primary.location)) return undefined;
  const darkSince = world.faults.darkSince.get(primary.location);
  if (darkSince === undefined) return undefined;
  return darkSince + (group.gracePeriodMinutes ?? 60) * 60_000;
}

/** Fails the group over by itself once its automatic failover is due (dated when it was due). */
export function advanceAutomaticFailover(world: WorldContext, group: GroupState, now: number): void {
  const dueAt = automaticFailoverDueAt(world, group);
  if (dueAt === undefined || now < dueAt) return;
  const oldPrimary = world.instanceById(group.primaryInstanceId)!;
  const target = world.partnerInstance(group, oldPrimary.id);
  if (world.isDark(target.location)) return; // nowhere to go
  const lostBefore = world.lostCommits.reduce((total, lost) => total + lost.lsns.length, 0);
  switchRoles(world, group, target.id, 'forced', dueAt, { automatic: true });
  const lost = world.lostCommits.reduce((total, entry) => total + entry.lsns.length, 0) - lostBefore;
  world.record(
    'automatic-failover',
    {
      group: group.name,
      instance: target.name,
      detail: {
        from: oldPrimary.location,
        to: target.location,
        gracePeriodMinutes: group.gracePeriodMinutes ?? 60,
        lostCommits: lost,
      },
    },
    dueAt,
  );
  world.emit('change', 'roles-switched', group, undefined, oldPrimary.id);
}

/** Demotes and reseeds an old primary left behind in a dark region, once the region answers again. */
export function advanceDemotion(world: WorldContext, group: GroupState, now: number): void {
  const pending = group.awaitingDemotion;
  if (!pending) return;
  const instance = world.instanceById(pending.instanceId);
  if (!instance) {
    group.awaitingDemotion = undefined;
    return;
  }
  if (world.isDark(instance.location)) return;
  group.awaitingDemotion = undefined;
  if (group.primaryInstanceId === instance.id) return;
  const seedingMs = Math.round((instance.storageSizeInGB / world.timings.reseedGBPerHour) * 3_600_000);
  group.seedingUntil = Math.max(group.seedingUntil ?? 0, now + seedingMs);
  // Every database is seeded to the demoted instance again, one after another (./seeding.ts).
  scheduleSeedingWindow(group.databases, now, group.seedingUntil);
  for (const database of group.databases)
    for (const record of database.commits) record.hardenedAt = Math.max(record.hardenedAt, database.seeding!.endsAt);
  const total = Object.values(pending.discarded).reduce((sum, count) => sum + count, 0);
  world.record('old-primary-demoted', {
    group: group.name,
    instance: instance.name,
    detail: {
      location: instance.location,
      discardedCommits: total,
      discardedByDatabase: pending.discarded,
      reseedingUntil: new Date(group.seedingUntil).toISOString(),
    },
  });
  world.emit('change', 'old-primary-demoted', group, instance.id);
}
