/**
 * Seeding a group's databases to its secondary, one database after another, in the primary's order, each at the whole
 * seeding rate (the emulator's choice: Azure does not say how it orders or shares the rate; a database later in line
 * stays unseeded for longer, which a runbook that checks every database copes with either way). A group is `SEEDING`
 * until the last of its databases is seeded; each database's geo-replication link reports `SEEDING` until its own
 * seeding ends, and `sys.dm_hadr_physical_seeding_stats` shows its progress.
 *
 * Sources: ../shared/reference/azure-sql-mi-failover.md ("Limits that become validation errors": seeding runs at up to
 * 360 GB/h; "Group creation refusals": seeding runs per database).
 */
import type { WorldContext } from './context';
import type { DatabaseState } from './state';

const GB = 1024 ** 3;
const HOUR_MS = 3_600_000;

/**
 * Seeds `databases` one after another from `from + timings.groupCreateSeconds` (a creation takes at least that long,
 * even with nothing to seed), each at `timings.seedingGBPerHour`. Returns when the last is seeded.
 */
export function scheduleCreationSeeding(world: WorldContext, databases: DatabaseState[], from: number): number {
  let at = from + world.timings.groupCreateSeconds * 1000;
  for (const database of databases) {
    const durationMs = Math.round((database.sizeGB / world.timings.seedingGBPerHour) * HOUR_MS);
    database.seeding = { startsAt: at, endsAt: at + durationMs, bytes: Math.round(database.sizeGB * GB) };
    at += durationMs;
  }
  return at;
}

/**
 * Seeds `databases` one after another within [from, until]: each gets a share by its size (equal shares when none has
 * a size). For a world that starts with a group still seeding (`seedingSeconds`) and for a returning old primary's
 * reseed.
 */
export function scheduleSeedingWindow(databases: DatabaseState[], from: number, until: number): void {
  const total = databases.reduce((sum, database) => sum + database.sizeGB, 0);
  let at = from;
  databases.forEach((database, index) => {
    const share = total > 0 ? database.sizeGB / total : 1 / databases.length;
    const endsAt = index === databases.length - 1 ? until : Math.round(at + (until - from) * share);
    database.seeding = { startsAt: at, endsAt, bytes: Math.round(database.sizeGB * GB) };
    at = endsAt;
  });
}

/** Whether the database's copy on the secondary is seeded at `now` (a seeding cancelled before it ended never is). */
export function isSeeded(database: DatabaseState, now: number): boolean {
  const seeding = database.seeding;
  if (!seeding) return true;
  if (seeding.canceledAt !== undefined && seeding.canceledAt < seeding.endsAt) return false;
  return now >= seeding.endsAt;
}

/** The bytes of the database the secondary has received at `now`. */
export function transferredBytes(database: DatabaseState, now: number): number {
  const seeding = database.seeding;
  if (!seeding) return 0;
  const stop = Math.min(now, seeding.canceledAt ?? Number.POSITIVE_INFINITY);
  if (stop >= seeding.endsAt) return seeding.bytes;
  if (stop <= seeding.startsAt) return 0;
  return Math.floor(seeding.bytes * ((stop - seeding.startsAt) / (seeding.endsAt - seeding.startsAt)));
}
