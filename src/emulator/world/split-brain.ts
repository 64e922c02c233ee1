/**
 * Fault `split-brain`: a misbehaving region whose old primary keeps accepting writes after a forced failover. Azure
 * never does this — after a geo-failover every database of the group has one primary, which the listener follows, and
 * an old primary that comes back rejoins as the secondary (https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/failover-group-sql-mi?view=azuresql;
 * ../shared/reference/azure-sql-mi-failover.md, "Automatic policy") — so it exists as the positive control of the
 * client-side "never two writable primaries" check (bench/invariant-checks.ts).
 *
 * Knowingly simplified: the old primary accepts writes through its own endpoint only (the listener follows the new
 * primary); its accepted commits continue its own LSNs in a log nobody reads (reads there still show the new primary's
 * hardened rows), and each is counted among the lost commits at once (cause `split-brain`), since the new primary
 * never receives it.
 */
import type { WorldContext } from './context';
import type { CommitRecord, DatabaseState, GroupState, SplitBrain } from './state';

/** Arms the fault for the group's next forced failover (admin API `POST /_admin/faults`, kind `split-brain`). */
export function armSplitBrain(world: WorldContext, groupName: string, seconds?: number): void {
  const group = world.findGroup(groupName);
  if (!group) throw new Error(`no group ${groupName} in the world`);
  world.faults.splitBrain.set(group.key, { seconds });
}

/**
 * Called at a forced failover's switch, before the unhardened commits are dropped: with the fault armed, the old
 * primary becomes a rogue that keeps accepting writes, continuing its LSNs from where its own log ended.
 */
export function beginSplitBrain(world: WorldContext, group: GroupState, oldPrimaryId: string, at: number): void {
  const armed = world.faults.splitBrain.get(group.key);
  if (!armed || armed.rogue) return;
  armed.rogue = {
    instanceId: oldPrimaryId,
    since: at,
    until: armed.seconds === undefined ? undefined : at + armed.seconds * 1000,
    nextLsn: new Map(group.databases.map((database) => [database.name.toLowerCase(), database.nextLsn])),
  };
  const instance = world.instanceById(oldPrimaryId);
  world.record('split-brain-began', { group: group.name, instance: instance?.name, detail: { since: at } }, at);
}

function rogueOf(world: WorldContext, group: GroupState, instanceId: string, now: number): SplitBrain['rogue'] {
  const rogue = world.faults.splitBrain.get(group.key)?.rogue;
  if (!rogue || rogue.instanceId.toLowerCase() !== instanceId.toLowerCase()) return undefined;
  // It stops when its time is up, when it is the primary again (a failback), or when its region answers nothing.
  if (rogue.until !== undefined && now >= rogue.until) return undefined;
  if (group.primaryInstanceId.toLowerCase() === instanceId.toLowerCase()) return undefined;
  const instance = world.instanceById(instanceId);
  if (!instance || world.isDark(instance.location)) return undefined;
  return rogue;
}

/** Whether the instance is an old primary still accepting writes in split brain. */
export function splitBrainAccepts(world: WorldContext, group: GroupState, instanceId: string, now: number): boolean {
  return rogueOf(world, group, instanceId, now) !== undefined;
}

/**
 * A write the rogue old primary accepted: it gets the rogue's next LSN and never reaches the new primary, so it is
 * counted as lost (cause `split-brain`). Undefined when the instance is not a rogue.
 */
export function splitBrainCommit(
  world: WorldContext,
  group: GroupState,
  instanceId: string,
  database: DatabaseState,
  payload: string,
  now: number,
): CommitRecord | undefined {
  const rogue = rogueOf(world, group, instanceId, now);
  if (!rogue) return undefined;
  const key = database.name.toLowerCase();
  const lsn = rogue.nextLsn.get(key) ?? database.nextLsn;
  rogue.nextLsn.set(key, lsn + 1);
  const record: CommitRecord = { lsn, committedAt: now, hardenedAt: Number.POSITIVE_INFINITY, payload };
  let entry = world.lostCommits.find(
    (lost) =>
      lost.cause === 'split-brain' &&
      lost.group === group.name &&
      lost.database === database.name &&
      lost.at === rogue.since,
  );
  if (!entry) {
    entry = {
      group: group.name,
      database: database.name,
      lsns: [],
      payloads: [],
      at: rogue.since,
      cause: 'split-brain',
    };
    world.lostCommits.push(entry);
  }
  entry.lsns.push(lsn);
  entry.payloads.push(payload);
  return record;
}
