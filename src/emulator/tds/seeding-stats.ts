/**
 * `sys.dm_hadr_physical_seeding_stats` on an emulated instance: one row per database of its failover group that is
 * being or has been seeded to the group's secondary in this world's life — `DESTINATION` on the secondary, `SOURCE` on
 * the primary — with its progress by the simulated clock. A server-scoped view: it answers the same in any database.
 *
 * Columns as Microsoft documents the view (learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/
 * sys-dm-hadr-physical-seeding-stats-transact-sql): `local_database_name`, `role_desc`, `internal_state_desc`,
 * `transferred_size_bytes`, `database_size_bytes`, `start_time_utc`, `estimate_time_complete_utc`, `end_time_utc`, and
 * `remote_machine_name`, `transfer_rate_bytes_per_second`, `failure_code`, `failure_message`,
 * `is_compression_enabled`.
 *
 * Inferred: a database waiting its turn (the emulator seeds one database after another, ../world/seeding.ts) has no row
 * yet; a running seeding is `Transferring` with `end_time_utc` NULL, a finished one `Completed`; a seeding cut short by
 * the group's deletion leaves no row (the group, and with it the view's rows, are gone). Bytes grow linearly at the
 * seeding rate. Sizes are GiB (`sizeGB × 1024³` bytes).
 */
import type { CellValue, Column } from './protocol';
import type { InstanceState, World } from '../world';
import { transferredBytes } from '../world/seeding';

const COLUMNS: Column[] = [
  { name: 'local_database_name', type: 'nvarchar' },
  { name: 'remote_machine_name', type: 'nvarchar' },
  { name: 'role_desc', type: 'nvarchar' },
  { name: 'internal_state_desc', type: 'nvarchar' },
  { name: 'transfer_rate_bytes_per_second', type: 'bigint' },
  { name: 'transferred_size_bytes', type: 'bigint' },
  { name: 'database_size_bytes', type: 'bigint' },
  { name: 'start_time_utc', type: 'datetime2' },
  { name: 'end_time_utc', type: 'datetime2' },
  { name: 'estimate_time_complete_utc', type: 'datetime2' },
  { name: 'failure_code', type: 'int' },
  { name: 'failure_message', type: 'nvarchar' },
  { name: 'is_compression_enabled', type: 'bit' },
];

/** The view's rows on `instance` at `now`. */
export function seedingStats(
  world: World,
  instance: InstanceState,
  now: number,
): { columns: Column[]; rows: Record<string, CellValue>[] } {
  const group = world.groupOfInstance(instance.id);
  if (!group) return { columns: COLUMNS, rows: [] };
  const isPrimary = group.primaryInstanceId === instance.id;
  const partner = world.partnerInstance(group, instance.id);
  const rows: Record<string, CellValue>[] = [];
  for (const database of group.databases) {
    const seeding = database.seeding;
    if (!seeding || now < seeding.startsAt) continue;
    const done = now >= seeding.endsAt;
    const spanSeconds = Math.max(1, (seeding.endsAt - seeding.startsAt) / 1000);
    rows.push({
      local_database_name: database.name,
      remote_machine_name: partner.fullyQualifiedDomainName,
      role_desc: isPrimary ? 'SOURCE' : 'DESTINATION',
      internal_state_desc: done ? 'Completed' : 'Transferring',
      transfer_rate_bytes_per_second: Math.round(seeding.bytes / spanSeconds),
      transferred_size_bytes: transferredBytes(database, now),
      database_size_bytes: seeding.bytes,
      start_time_utc: new Date(seeding.startsAt),
      end_time_utc: done ? new Date(seeding.endsAt) : null,
      estimate_time_complete_utc: new Date(seeding.endsAt),
      failure_code: null,
      failure_message: null,
      is_compression_enabled: false,
    });
  }
  return { columns: COLUMNS, rows };
}
