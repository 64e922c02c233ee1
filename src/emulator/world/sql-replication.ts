/**
 * Geo-replication of Azure SQL Database databases: one commit log per database (a ./state.ts `DatabaseState`, held on
 * the current primary), hardened per partner. Each commit records when each secondary hardens it
 * (`CommitRecord.hardenedAtBy`, by lower-case server id) and, in `hardenedAt`, when every partner holds it, so the
 * managed-instance functions of ./replication.ts read a SQL database's log too: on `replication.data` they answer for
 * every partner at once, on `partnerView(replication, serverId)` for one partner.
 *
 * Sources: Learn "Active geo-replication" (https://learn.microsoft.com/en-us/azure/azure-sql/database/active-geo-replication-overview):
 * the log is replicated asynchronously to every geo-secondary; up to four secondaries; "When a secondary is promoted
 * to the primary role, all other secondaries are automatically linked to the new primary". A secondary with less
 * compute than its primary falls behind under write load (same page, "Configure secondary database"; the model is
 * ./managed-instances.ts `redoQueueMsPerCommit`'s).
 */
import { randomUUID } from 'node:crypto';
import type { WorldContext } from './context';
import { currentLagMs, type CommitOptions } from './replication';
import { takeRowId } from './rows';
import type { CommitRecord, DatabaseState } from './state';
import type { SqlDatabaseState, SqlGeoReplication, SqlPartnerLink, SqlSku } from './sql-state';
import { sameId } from './sql-state';

const GB = 1024 ** 3;
const HOUR_MS = 3_600_000;

/** When `serverId` hardens the commit (the primary holds it from its commit). */
export function hardenedAtFor(record: CommitRecord, serverId: string): number {
  return record.hardenedAtBy?.[serverId.toLowerCase()] ?? record.hardenedAt;
}

/** `hardenedAt` is when every partner holds the commit (its commit time when there are none). */
function settle(record: CommitRecord): void {
  const times = Object.values(record.hardenedAtBy ?? {});
  record.hardenedAt = times.length > 0 ? Math.max(...times) : record.committedAt;
}

/** The partner link of `serverId`, if it is a secondary of the database. */
export function partnerLink(replication: SqlGeoReplication, serverId: string): SqlPartnerLink | undefined {
  return replication.partners.find((partner) => sameId(partner.serverId, serverId));
}

/**
 * The log as `serverId` holds it: a copy of the database's state whose commits' `hardenedAt` is that partner's, for
 * ./replication.ts's readers (`hardenedLsn`, `lastHardenedCommit`, `replicationLagSeconds`). Read-only.
 */
export function partnerView(replication: SqlGeoReplication, serverId: string): DatabaseState {
  const link = partnerLink(replication, serverId);
  return {
    ...replication.data,
    linkLostSince: link?.linkLostSince,
    seeding: link?.seeding,
    commits: replication.data.commits.map((record) => ({ ...record, hardenedAt: hardenedAtFor(record, serverId) })),
  };
}

/** Whether the partner's copy is seeded at `now`. */
export function isPartnerSeeded(link: SqlPartnerLink, now: number): boolean {
  return !link.seeding || now >= link.seeding.endsAt;
}

/** How far the partner's copy has been seeded at `now` (0-100). */
export function seedingPercent(link: SqlPartnerLink, now: number): number {
  const seeding = link.seeding;
  if (!seeding || now >= seeding.endsAt) return 100;
  if (now <= seeding.startsAt) return 0;
  return Math.floor(((now - seeding.startsAt) / (seeding.endsAt - seeding.startsAt)) * 100);
}

/**
 * The compute a copy has, in vCores: a database in an elastic pool gets at most the pool's per-database maximum; DTU
 * tiers count 100 DTUs as one vCore (Learn "Migrate Azure SQL Database from the DTU-based model to the vCore-based
 * model": every 100 DTUs in the Basic and Standard tiers need at least 1 vCore).
 */
export function effectiveVCores(world: WorldContext, database: SqlDatabaseState): number {
  const server = world.sqlServers.get(database.serverId.toLowerCase());
  const pool =
    database.elasticPoolName !== undefined
      ? server?.elasticPools.find((entry) => sameId(entry.name, database.elasticPoolName!))
      : undefined;
  const sku: SqlSku = pool ? { ...pool.sku, capacity: pool.perDatabaseSettings.maxCapacity } : database.sku;
  return isDtuTier(sku.tier) ? sku.capacity / 100 : sku.capacity;
}

/** Basic, Standard and Premium are the DTU tiers. */
export function isDtuTier(tier: string): boolean {
  return ['basic', 'standard', 'premium'].includes(tier.toLowerCase());
}

/** The database `name` on the server `serverId`. */
export function databaseOn(world: WorldContext, serverId: string, name: string): SqlDatabaseState | undefined {
  return world.sqlServers.get(serverId.toLowerCase())?.databases.find((database) => sameId(database.name, name));
}

/** The copy of the replicated database on `serverId`. */
export function copyOn(world: WorldContext, replication: SqlGeoReplication, serverId: string) {
  return databaseOn(world, serverId, replication.name);
}

/**
 * How long `partnerServerId` spends replaying each commit beyond the lag when its copy has less compute than the
 * primary's: `undersizedSecondaryRedoMsPerCommit × (primary / secondary − 1)`, 0 when it has as much.
 */
export function redoMsPerCommit(world: WorldContext, replication: SqlGeoReplication, partnerServerId: string): number {
  const primary = copyOn(world, replication, replication.primaryServerId);
  const secondary = copyOn(world, replication, partnerServerId);
  if (!primary || !secondary) return 0;
  const primaryVCores = effectiveVCores(world, primary);
  const secondaryVCores = effectiveVCores(world, secondary);
  if (secondaryVCores <= 0 || secondaryVCores >= primaryVCores) return 0;
  return world.timings.undersizedSecondaryRedoMsPerCommit * (primaryVCores / secondaryVCores - 1);
}

/**
 * One committed transaction on the primary at `now`: the next LSN, and when each partner hardens it — after the lag
 * (plus an undersized partner's redo queue), at once while a planned failover to it synchronizes, after its seeding
 * when its copy is still being seeded, never while its link is lost.
 */
export function commitSql(
  world: WorldContext,
  replication: SqlGeoReplication,
  payload: string,
  now: number,
  options: CommitOptions & { synchronousTo?: string } = {},
): CommitRecord {
  const data = replication.data;
  const previous = data.commits.at(-1);
  const hardenedAtBy: Record<string, number> = {};
  for (const link of replication.partners) {
    const id = link.serverId.toLowerCase();
    const synchronous = options.synchronousTo !== undefined && sameId(options.synchronousTo, link.serverId);
    let at =
      link.linkLostSince !== undefined ? Number.POSITIVE_INFINITY : synchronous ? now : now + currentLagMs(data, now);
    if (link.seeding && !synchronous && at < link.seeding.endsAt) at = link.seeding.endsAt;
    const redoMs = synchronous ? 0 : redoMsPerCommit(world, replication, link.serverId);
    const before = previous ? hardenedAtFor(previous, id) : 0;
    if (redoMs > 0 && Number.isFinite(at) && Number.isFinite(before)) at = Math.max(at, before) + redoMs;
    hardenedAtBy[id] = at;
  }
  const record: CommitRecord = { lsn: data.nextLsn++, committedAt: now, hardenedAt: now, payload, hardenedAtBy };
  settle(record);
  if (options.change) record.change = options.change;
  else record.rowId = takeRowId(data);
  if (options.smoke) record.smoke = true;
  data.commits.push(record);
  return record;
}

/** What `replication_lag_sec` reports for the link to `partnerServerId`: how old its oldest unhardened commit is. */
export function replicationLagSecondsTo(replication: SqlGeoReplication, partnerServerId: string, now: number): number {
  const pending = replication.data.commits.find((record) => hardenedAtFor(record, partnerServerId) > now);
  if (pending) return Math.max(0, Math.floor((now - pending.committedAt) / 1000));
  return Math.floor(currentLagMs(replication.data, now) / 1000);
}

/** The LSN up to which `serverId` holds the log at `now` (the primary: the newest). */
export function hardenedLsnOn(replication: SqlGeoReplication, serverId: string, now: number): number {
  if (sameId(serverId, replication.primaryServerId)) return replication.data.commits.at(-1)?.lsn ?? 0;
  let hardened = 0;
  for (const record of replication.data.commits) {
    if (hardenedAtFor(record, serverId) <= now) hardened = record.lsn;
    else break;
  }
  return hardened;
}

/** Nothing more hardens on the partner, what was in flight included. */
export function losePartnerLink(replication: SqlGeoReplication, serverId: string, now: number): void {
  const link = partnerLink(replication, serverId);
  if (!link) return;
  link.linkLostSince ??= now;
  const id = serverId.toLowerCase();
  for (const record of replication.data.commits) {
    if (record.hardenedAtBy && record.hardenedAtBy[id]! > now) record.hardenedAtBy[id] = Number.POSITIVE_INFINITY;
    settle(record);
  }
}

/** The link answers again: what the partner lacks hardens after the lag from now. */
export function restorePartnerLink(replication: SqlGeoReplication, serverId: string, now: number): void {
  const link = partnerLink(replication, serverId);
  if (!link || link.linkLostSince === undefined) return;
  link.linkLostSince = undefined;
  const id = serverId.toLowerCase();
  for (const record of replication.data.commits) {
    if (record.hardenedAtBy && !Number.isFinite(record.hardenedAtBy[id]!))
      record.hardenedAtBy[id] = now + replication.data.lagMs;
    settle(record);
  }
}

/** A planned failover synchronizes the target: everything committed is hardened there by `at`. */
export function hardenOnBy(replication: SqlGeoReplication, serverId: string, at: number): void {
  const id = serverId.toLowerCase();
  for (const record of replication.data.commits) {
    record.hardenedAtBy ??= {};
    record.hardenedAtBy[id] = Math.min(record.hardenedAtBy[id] ?? record.hardenedAt, at);
    settle(record);
  }
}

/**
 * Seeds a new copy on `serverId` from `from`, its size at `timings.seedingGBPerHour`: a link whose commits harden
 * when the seeding ends (those after it, after the lag). Returns when it is seeded.
 */
export function addPartner(
  world: WorldContext,
  replication: SqlGeoReplication,
  serverId: string,
  from: number,
  sizeGB: number,
): number {
  const durationMs = Math.round((sizeGB / world.timings.seedingGBPerHour) * HOUR_MS);
  const link: SqlPartnerLink = {
    serverId,
    linkId: randomUUID(),
    startedAt: world.now(),
    seeding: { startsAt: from, endsAt: from + durationMs, bytes: Math.round(sizeGB * GB) },
  };
  replication.partners.push(link);
  const id = serverId.toLowerCase();
  for (const record of replication.data.commits) {
    record.hardenedAtBy ??= {};
    record.hardenedAtBy[id] = from + durationMs;
    settle(record);
  }
  return from + durationMs;
}

/**
 * Makes `targetServerId` the database's primary at `at`. Forced: the commits the target had not hardened are lost,
 * and recorded as lost (the count a workload's own count must match). The old primary becomes a partner holding the
 * whole surviving log (its link lost while its region is dark), the other partners follow the new primary with what
 * they had hardened. Returns how many commits were lost.
 */
export function switchPrimary(
  world: WorldContext,
  replication: SqlGeoReplication,
  targetServerId: string,
  kind: 'planned' | 'forced',
  at: number,
  groupName: string,
): number {
  const data = replication.data;
  const oldPrimary = replication.primaryServerId;
  let lost: CommitRecord[] = [];
  if (kind === 'forced') {
    lost = data.commits.filter((record) => hardenedAtFor(record, targetServerId) > at);
    if (lost.length > 0) {
      data.commits = data.commits.filter((record) => hardenedAtFor(record, targetServerId) <= at);
      data.nextLsn = (data.commits.at(-1)?.lsn ?? 0) + 1;
      data.nextRowId = undefined;
      world.lostCommits.push({
        group: groupName,
        database: replication.name,
        lsns: lost.map((record) => record.lsn),
        payloads: lost.map((record) => record.payload ?? ''),
        at,
      });
      world.record(
        'commits-lost',
        { group: groupName, detail: { database: replication.name, count: lost.length } },
        at,
      );
    }
  }
  const target = targetServerId.toLowerCase();
  const old = oldPrimary.toLowerCase();
  const oldServer = world.sqlServers.get(old);
  const oldDark = oldServer !== undefined && world.isDark(oldServer.location);
  for (const record of data.commits) {
    const by = { ...(record.hardenedAtBy ?? {}) };
    delete by[target];
    by[old] = Math.min(record.committedAt, at);
    record.hardenedAtBy = by;
    settle(record);
  }
  replication.partners = replication.partners.filter((link) => !sameId(link.serverId, targetServerId));
  replication.partners.unshift({
    serverId: oldPrimary,
    linkId: randomUUID(),
    startedAt: at,
    ...(oldDark ? { linkLostSince: at } : {}),
  });
  replication.primaryServerId = world.sqlServers.get(target)?.id ?? targetServerId;
  return lost.length;
}
