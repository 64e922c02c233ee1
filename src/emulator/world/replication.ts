/**
 * A failover group's databases and their geo-replication: commits on the primary get an LSN and harden on the
 * secondary after the database's lag; a lost link hardens nothing; a planned failover first hardens everything; a
 * forced one keeps only what was hardened. The SQL engine's system views and copy-sync wait read these.
 */
import type { GroupSpec, WorldSpec } from '../world-spec';
import type { WorldContext } from './context';
import { takeRowId } from './rows';
import type { CommitRecord, DatabaseState, GroupState, RowChange } from './state';

/** A database as a world description declares it: empty, with the world's default lag unless it names its own. */
export function databaseFromSpec(database: GroupSpec['databases'][number], spec: WorldSpec): DatabaseState {
  return {
    name: database.name,
    sizeGB: database.sizeGB,
    lagMs: database.lagMs ?? spec.timings.replicationLagMs,
    nextLsn: 1,
    commits: [],
    readOnlyUntil: 0,
  };
}

/** The fixed `link_guid` of a database's geo-replication link. */
export function linkGuid(group: GroupState, database: string): string {
  let hash = 0x811c9dc5;
  for (const char of `${group.key}/${database}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-f0c0-4000-8000-${hex}${hex.slice(0, 4)}`.toUpperCase();
}

/** The group's database by name, case-insensitively. */
export function databaseOf(group: GroupState, name: string): DatabaseState | undefined {
  return group.databases.find((database) => database.name.toLowerCase() === name.toLowerCase());
}

/** The lag a commit made at `now` would have. */
export function currentLagMs(database: DatabaseState, now: number): number {
  if (database.lagSpike && now < database.lagSpike.until) return database.lagSpike.lagMs;
  return database.lagMs;
}

/** Whether the instance's copy of the database accepts writes: the primary, outside the role-switch window. */
export function acceptsWrites(
  world: WorldContext,
  group: GroupState,
  instanceId: string,
  database: DatabaseState,
  now: number,
): boolean {
  const instance = world.instanceById(instanceId);
  if (!instance || world.isDark(instance.location)) return false;
  return instance.id === group.primaryInstanceId && now >= database.readOnlyUntil;
}

/** What a commit writes besides an insert's payload: an UPDATE or DELETE, and which table. */
export interface CommitOptions {
  change?: RowChange;
  smoke?: boolean;
}

/**
 * One committed transaction on the primary at `now`: it gets the next LSN and hardens on the secondary after the lag
 * (at once while a planned failover runs synchronous replication; never while the link is lost). An insert gets the
 * next row id; an UPDATE or DELETE names the rows it changes.
 */
export function commit(
  group: GroupState,
  database: DatabaseState,
  payload: string,
  now: number,
  redoQueueMsPerCommit = 0,
  options: CommitOptions = {},
): CommitRecord {
  const synchronous = group.failover?.kind === 'planned' && !group.failover.switched;
  let hardenedAt =
    database.linkLostSince !== undefined
      ? Number.POSITIVE_INFINITY
      : synchronous
        ? now
        : now + currentLagMs(database, now);
  // An undersized secondary replays commits one after another (managed-instances.ts `redoQueueMsPerCommit`).
  // A database still seeding to the secondary has no copy there to harden on until its seeding ends.
  if (
    database.seeding &&
    !synchronous &&
    hardenedAt < database.seeding.endsAt &&
    database.seeding.canceledAt === undefined
  )
    hardenedAt = database.seeding.endsAt;
  const previous = database.commits.at(-1)?.hardenedAt ?? 0;
  if (redoQueueMsPerCommit > 0 && !synchronous && Number.isFinite(hardenedAt) && Number.isFinite(previous))
    hardenedAt = Math.max(hardenedAt, previous) + redoQueueMsPerCommit;
  const record: CommitRecord = { lsn: database.nextLsn++, committedAt: now, hardenedAt, payload };
  if (options.change) record.change = options.change;
  else record.rowId = takeRowId(database);
  if (options.smoke) record.smoke = true;
  database.commits.push(record);
  return record;
}

/** The LSN of the newest commit on the primary (0: none). */
export function lastCommittedLsn(database: DatabaseState): number {
  return database.commits.at(-1)?.lsn ?? 0;
}

/** The LSN up to which the secondary has hardened the log at `now` (0: nothing). */
export function hardenedLsn(database: DatabaseState, now: number): number {
  let hardened = 0;
  for (const record of database.commits) {
    if (record.hardenedAt <= now) hardened = record.lsn;
    else break;
  }
  return hardened;
}

/** The newest commit the secondary holds: log hardens in order, so the last of the hardened prefix. */
export function lastHardenedCommit(database: DatabaseState, now: number): CommitRecord | undefined {
  let hardened: CommitRecord | undefined;
  for (const record of database.commits) {
    if (record.hardenedAt <= now) hardened = record;
    else break;
  }
  return hardened;
}

/** What `replication_lag_sec` reports on the primary: how far behind the oldest unhardened commit is. */
export function replicationLagSeconds(database: DatabaseState, now: number): number {
  const pending = database.commits.find((record) => record.hardenedAt > now);
  if (pending) return Math.max(0, Math.floor((now - pending.committedAt) / 1000));
  return Math.floor(currentLagMs(database, now) / 1000);
}

/** Loses the link to the partner: nothing more hardens on the secondary, including what was in flight. */
export function loseLink(database: DatabaseState, now: number): void {
  database.linkLostSince ??= now;
  for (const record of database.commits) if (record.hardenedAt > now) record.hardenedAt = Number.POSITIVE_INFINITY;
}

/** Restores a lost link: what was committed meanwhile hardens after the lag from now. */
export function restoreLink(database: DatabaseState, now: number): void {
  if (database.linkLostSince === undefined) return;
  database.linkLostSince = undefined;
  for (const record of database.commits)
    if (!Number.isFinite(record.hardenedAt)) record.hardenedAt = now + database.lagMs;
}

/** A planned failover switches replication to synchronous: everything committed is hardened by the switch. */
export function hardenEverythingBy(group: GroupState, at: number): void {
  for (const database of group.databases) {
    for (const record of database.commits) record.hardenedAt = Math.min(record.hardenedAt, at);
  }
}

/** A number in (0, 1] drawn from `key`: the same key, the same number (FNV-1a, then a 32-bit finalizer). */
function fraction(key: string): number {
  let hash = 0x811c9dc5;
  for (const char of key) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x7feb352d) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 15), 0x846ca68b) >>> 0;
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return (hash + 1) / 2 ** 32;
}

/**
 * When each database of the new primary becomes writable after a switch at `at`. Azure: "After the DNS switch, role
 * switching can take up to 5 minutes, and some databases on the new primary stay read-only until it completes: check
 * every database" (../shared/reference/azure-sql-mi-failover.md, T-SQL; Learn: failover-group-sql-mi). The bound is
 * `readOnlyAfterSwitchSeconds`; with the world's `seed` each database draws its own moment within it (reproducibly:
 * seed, group, database and the group's switch count), without one every database waits the whole bound.
 */
export function writableMoments(world: WorldContext, group: GroupState, at: number): Map<string, number> {
  const boundMs = world.timings.readOnlyAfterSwitchSeconds * 1000;
  const seed = world.spec.seed;
  const moments = new Map<string, number>();
  for (const database of group.databases) {
    const share = seed === undefined ? 1 : fraction(`${seed}/${group.key}/${database.name}/${group.switches ?? 0}`);
    moments.set(database.name, at + Math.round(boundMs * share));
  }
  return moments;
}

/** A new primary refuses writes to each database until its moment (see {@link writableMoments}). */
export function startReadOnlyWindow(group: GroupState, moments: Map<string, number>): void {
  for (const database of group.databases) database.readOnlyUntil = moments.get(database.name) ?? 0;
}

/**
 * A forced failover keeps only what the secondary had hardened at `at`; the rest is lost, and recorded. Returns how
 * many commits each database lost (databases that lost none are absent).
 */
export function dropUnhardened(world: WorldContext, group: GroupState, at: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const database of group.databases) {
    const lost = database.commits.filter((record) => record.hardenedAt > at);
    if (lost.length === 0) continue;
    database.commits = database.commits.filter((record) => record.hardenedAt <= at);
    database.nextLsn = (database.commits.at(-1)?.lsn ?? 0) + 1;
    database.nextRowId = undefined;
    world.lostCommits.push({
      group: group.name,
      database: database.name,
      lsns: lost.map((record) => record.lsn),
      payloads: lost.map((record) => record.payload ?? ''),
      at,
    });
    world.record('commits-lost', { group: group.name, detail: { database: database.name, count: lost.length } }, at);
    counts[database.name] = lost.length;
  }
  return counts;
}
