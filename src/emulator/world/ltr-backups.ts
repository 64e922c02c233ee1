/**
 * Long-term retention backups of managed databases (`locations/{l}/longTermRetentionManagedInstances/{mi}/
 * longTermRetentionDatabases/{db}/longTermRetentionManagedInstanceBackups/{backup}`): the ones the world spec lists
 * (`instances[].longTermRetentionBackups`) and the ones the instance's LTR policy (`instances[].longTermRetention`)
 * keeps as the clock runs. The policy's are weekly, a week apart from when the database came online; each is kept for
 * the longest retention that applies to it: the weekly one, the monthly one for the first of its month, the yearly one
 * for the first in week `weekOfYear`. A backup holds the database's rows as of its time. The backups of a group's
 * database are its current primary's; a dropped database's stay with the instance that dropped it
 * (`databaseDeletionTime`).
 *
 * Sources: spec 2021-05-01-preview/LongTermRetentionManagedInstanceBackups.json (example
 * ManagedInstanceLongTermRetentionBackupGet: the backup's name `<guid>;<file time>`, its properties); Learn
 * https://learn.microsoft.com/en-us/azure/azure-sql/database/long-term-retention-overview (LTR keeps copies of full
 * backups, weekly/monthly/yearly retention, W/M/Y and WeekOfYear).
 *
 * Knowingly simplified (inferred): the weekly backup's day; a failover does not move a database's backups.
 */
import { normalizeLocation } from '../../domain/locations';
import { fileTime, onlineSince } from './backups';
import type { WorldContext } from './context';
import { commitsUpTo } from './rows';
import type { CommitRecord, DatabaseState, InstanceState } from './state';

const WEEK_MS = 7 * 86_400_000;

/** One long-term retention backup of a database. */
export interface LtrBackup {
  name: string;
  instance: InstanceState;
  databaseName: string;
  backupTime: number;
  expiresAt: number;
  databaseDeletionTime?: number;
  sizeGB: number;
  /** Copies of the commits it holds. */
  commits: () => CommitRecord[];
}

/** `from` plus an ISO 8601 duration (`P4W`, `P12M`, `P5Y`, `P30D`); undefined for none (`PT0S`) or an unknown one. */
export function addDuration(from: number, duration: string | undefined): number | undefined {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/i.exec(duration ?? '');
  if (!match || match.slice(1).every((part) => part === undefined || Number(part) === 0)) return undefined;
  const date = new Date(from);
  date.setUTCFullYear(date.getUTCFullYear() + Number(match[1] ?? 0));
  date.setUTCMonth(date.getUTCMonth() + Number(match[2] ?? 0));
  return date.getTime() + (Number(match[3] ?? 0) * 7 + Number(match[4] ?? 0)) * 86_400_000;
}

/** ISO 8601 week number of a time (UTC). */
function isoWeek(at: number): number {
  const date = new Date(at);
  const day = (date.getUTCDay() + 6) % 7;
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
  const firstThursday = new Date(thursday);
  const yearStart = Date.UTC(firstThursday.getUTCFullYear(), 0, 1);
  return 1 + Math.floor((thursday - yearStart) / WEEK_MS);
}

function backupName(instance: InstanceState, database: string, since: number, at: number): string {
  let hash = 0x811c9dc5;
  for (const char of `${instance.id}/${database}/${since}`.toLowerCase())
    hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-1770-4000-8000-${hex}${hex.slice(0, 4)};${fileTime(at)}`;
}

/** The policy's backups of one database (live or dropped) on `instance`, unexpired at `now`. */
function policyBackups(
  instance: InstanceState,
  database: DatabaseState,
  now: number,
  deletionTime?: number,
): LtrBackup[] {
  const policy = instance.longTermRetention;
  if (!policy) return [];
  const since = onlineSince(database, instance);
  const until = Math.min(now, deletionTime ?? now);
  const backups: LtrBackup[] = [];
  let previous: number | undefined;
  for (let at = since + WEEK_MS; at <= until; at += WEEK_MS) {
    const candidates = [addDuration(at, policy.weeklyRetention)];
    if (previous === undefined || new Date(previous).getUTCMonth() !== new Date(at).getUTCMonth())
      candidates.push(addDuration(at, policy.monthlyRetention));
    if (isoWeek(at) === policy.weekOfYear) candidates.push(addDuration(at, policy.yearlyRetention));
    previous = at;
    const kept = candidates.filter((value): value is number => value !== undefined);
    if (kept.length === 0) continue;
    const expiresAt = Math.max(...kept);
    if (expiresAt <= now) continue;
    const backupTime = at;
    backups.push({
      name: backupName(instance, database.name, since, at),
      instance,
      databaseName: database.name,
      backupTime,
      expiresAt,
      databaseDeletionTime: deletionTime,
      sizeGB: database.sizeGB,
      commits: () => commitsUpTo(database.commits, backupTime),
    });
  }
  return backups;
}

/** Every unexpired LTR backup the instance holds, oldest first (of `databaseName` only, when given). */
export function ltrBackupsOf(world: WorldContext, instance: InstanceState, databaseName?: string): LtrBackup[] {
  const now = world.now();
  const group = world.groupOfInstance(instance.id);
  const live = group
    ? group.primaryInstanceId === instance.id
      ? group.databases
      : []
    : instance.databases.flatMap((own) => (own.retained ? [own.retained] : []));
  const backups: LtrBackup[] = [
    ...instance.explicitLtrBackups
      .filter((backup) => backup.expiresAt > now && backup.backupTime <= now)
      .map((backup) => ({
        name: backupName(instance, backup.databaseName, 0, backup.backupTime),
        instance,
        databaseName: backup.databaseName,
        backupTime: backup.backupTime,
        expiresAt: backup.expiresAt,
        sizeGB: 0,
        commits: () => commitsUpTo(backup.commits, backup.backupTime),
      })),
    ...live.flatMap((database) => policyBackups(instance, database, now)),
    ...instance.droppedDatabases.flatMap((dropped) =>
      policyBackups(instance, dropped.database, now, dropped.deletionDate),
    ),
  ];
  return backups
    .filter((backup) => !databaseName || backup.databaseName.toLowerCase() === databaseName.toLowerCase())
    .sort((a, b) => a.backupTime - b.backupTime);
}

/** The backup an LTR backup's resource id names (with or without a resource group), or `malformed`. */
export function findLtrBackup(world: WorldContext, id: string): LtrBackup | 'malformed' | undefined {
  const match =
    /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?\/providers\/Microsoft\.Sql\/locations\/([^/]+)\/longTermRetentionManagedInstances\/([^/]+)\/longTermRetentionDatabases\/([^/]+)\/longTermRetentionManagedInstanceBackups\/([^/]+)$/i.exec(
      id.trim(),
    );
  if (!match) return 'malformed';
  const [, subscriptionId, resourceGroup, location, instanceName, databaseName, name] = match;
  const instance = [...world.instances.values()].find(
    (candidate) =>
      candidate.subscriptionId.toLowerCase() === subscriptionId!.toLowerCase() &&
      candidate.name.toLowerCase() === instanceName!.toLowerCase() &&
      (!resourceGroup || candidate.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()) &&
      candidate.location === normalizeLocation(location!),
  );
  if (!instance) return undefined;
  const wanted = decodeURIComponent(name!).toLowerCase();
  return ltrBackupsOf(world, instance, decodeURIComponent(databaseName!)).find(
    (backup) => backup.name.toLowerCase() === wanted,
  );
}
