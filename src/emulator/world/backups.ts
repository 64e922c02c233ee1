/**
 * Automated backups of a managed database, and the restore window they give: a full backup when the database is
 * created (for one the world began with, daily at midnight UTC), log backups every `timings.logBackupMinutes` after
 * (for one the world began with, on the clock's multiples of the cadence), taken on the primary only. A point can be
 * restored from `earliestRestorePoint` (creation, or the instance's short-term retention ago, whichever is later) up to
 * the newest log backup.
 *
 * Sources: ManagedDatabases.json (`earliestRestorePoint`, `PitrPointInTimeInvalid`); Learn
 * https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/automated-backups-overview (full, differential
 * and log backups; log backups about every 10 minutes; retention 1-35 days, 7 by default).
 */
import type { WorldContext } from './context';
import type { DatabaseState, InstanceState } from './state';

const DAY_MS = 86_400_000;

/** When the database came online on its instance: a restore's end, or the instance's creation. */
export function onlineSince(database: DatabaseState, instance: InstanceState): number {
  return database.restore?.endsAt ?? database.createdAt ?? instance.createdAt;
}

/** The database's newest full and log backups at `now` (start times; `log` absent before the first one). */
export function latestBackups(
  world: WorldContext,
  database: DatabaseState,
  instance: InstanceState,
  now: number,
): { full: number; log?: number } {
  const intervalMs = world.timings.logBackupMinutes * 60_000;
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  if (database.restore === undefined && database.createdAt === undefined) {
    // A database the world began with has backed up since long before: on the clock's multiples of the cadence.
    return { full: midnight, log: Math.floor(now / intervalMs) * intervalMs };
  }
  const created = onlineSince(database, instance);
  const full = Math.max(created, midnight);
  const logs = Math.floor((now - created) / intervalMs);
  return logs >= 1 ? { full, log: created + logs * intervalMs } : { full };
}

/** The short-term retention of the instance's databases (days). */
export function retentionDays(instance: InstanceState): number {
  return instance.shortTermRetentionDays ?? 7;
}

/** The restore window of a live database at `now`: from its earliest restore point to its newest log backup. */
export function restoreWindow(
  world: WorldContext,
  database: DatabaseState,
  instance: InstanceState,
  now: number,
): { earliest: number; latest: number } {
  const created = onlineSince(database, instance);
  const earliest = Math.max(created, now - retentionDays(instance) * DAY_MS);
  const backups = latestBackups(world, database, instance, now);
  return { earliest, latest: Math.max(earliest, backups.log ?? created) };
}

/** A time as a Windows file time (100 ns since 1601), as the spec's ids of dropped databases and LTR backups carry. */
export function fileTime(at: number): string {
  return (BigInt(at) * 10_000n + 116_444_736_000_000_000n).toString();
}
