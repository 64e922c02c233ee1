/**
 * The T-SQL fogpilot issues, in one place: what a DBA would run by hand. Per-database views run through
 * `EXEC [db].sys.sp_executesql`, which evaluates them in that database without changing the pooled connection's context.
 */

/** `[name]` with `]` doubled, as QUOTENAME does. */
export function quoteName(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`;
}

/** A LIKE pattern matching every value that starts with `prefix` literally (`%`, `_` and `[` in it match themselves). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[[%_]/g, (char) => `[${char}]`)}%`;
}

/*
 * Write probes (DR drills, smoke checks) write to a table the user creates in every database of the group:
 *
 *   CREATE TABLE dbo.fogpilot_smoke (id bigint IDENTITY PRIMARY KEY, payload nvarchar(200) NOT NULL,
 *     committed_at datetime2 NOT NULL DEFAULT SYSUTCDATETIME())
 *
 * fogpilot only inserts rows and reads them back by payload prefix; it never creates, alters or deletes anything.
 */
export const SMOKE_TABLE = 'dbo.fogpilot_smoke';

export const Queries = {
  userDatabases: 'SELECT name, state_desc FROM sys.databases WHERE database_id > 4 ORDER BY name',
  replicationLink: (database: string) =>
    `EXEC ${quoteName(database)}.sys.sp_executesql N'SELECT partner_server, partner_database, replication_lag_sec, ` +
    `replication_state_desc, role_desc, last_replication, last_commit FROM sys.dm_geo_replication_link_status'`,
  updateability:
    "SELECT name, CAST(DATABASEPROPERTYEX(name, 'Updateability') AS nvarchar(128)) AS updateability " +
    'FROM sys.databases WHERE database_id > 4 ORDER BY name',
  copySyncProcedure: (database: string) => `${quoteName(database)}.sys.sp_wait_for_database_copy_sync`,
  logins:
    "SELECT name, sid, type FROM sys.server_principals WHERE type IN ('S', 'U', 'G', 'E', 'X') AND name NOT LIKE '##%' ORDER BY name",
  agentJobs: 'SELECT name, enabled FROM msdb.dbo.sysjobs ORDER BY name',
  /** Parameter `@payload` (nvarchar(200)); answers the row's id and commit time. */
  insertSmokeRow: (database: string) =>
    `INSERT INTO ${quoteName(database)}.${SMOKE_TABLE} (payload) OUTPUT INSERTED.id, INSERTED.committed_at VALUES (@payload)`,
  /** Parameter `@pattern` (a {@link likePrefix}). */
  smokeRowsLike: (database: string) =>
    `SELECT payload FROM ${quoteName(database)}.${SMOKE_TABLE} WHERE payload LIKE @pattern`,
  /**
   * Initial seeding of each database into this instance (or from it), one row per seeding: Managed Instance's seeding
   * DMV. Server-wide, so it answers for databases the instance does not list yet.
   */
  seedingStats:
    'SELECT local_database_name, role_desc, internal_state_desc, transferred_size_bytes, database_size_bytes, ' +
    'start_time_utc, estimate_time_complete_utc, end_time_utc FROM sys.dm_hadr_physical_seeding_stats',
  latestBackups:
    'SELECT database_name, type, MAX(backup_finish_date) AS last_finish FROM msdb.dbo.backupset ' +
    'GROUP BY database_name, type ORDER BY database_name',
} as const;

/**
 * The T-SQL for a logical server of Azure SQL Database, where a connection stays in the database it logged into: `USE`
 * of another database is refused (40508) and so is a three-part name in another database (40515). Each query below
 * runs on a connection to the database it names (`master`, or a member database), never reaching across. Sources:
 * Learn, "USE (Transact-SQL)" (40508); "T-SQL differences between SQL Server and Azure SQL Database" (three-part names
 * only for the current database or tempdb).
 */
export const SqlDatabaseQueries = {
  /** In `master`: every database of the server but master itself (database ids carry no meaning there). */
  serverDatabases: "SELECT name, state_desc FROM sys.databases WHERE name <> N'master' ORDER BY name",
  /** In the database: one row per partner (a database with several secondaries has several links). */
  replicationLinks:
    'SELECT partner_server, partner_database, replication_lag_sec, replication_state_desc, role_desc, ' +
    'last_replication, last_commit FROM sys.dm_geo_replication_link_status ORDER BY partner_server',
  /** In the database. */
  updateability:
    "SELECT DB_NAME() AS name, CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(128)) AS updateability",
  /** In the database: it runs where it is connected (Learn: "Run sys.sp_wait_for_database_copy_sync on only the primary database"). */
  copySyncProcedure: 'sys.sp_wait_for_database_copy_sync',
  /** In `master`: the server's SQL logins (Microsoft Entra logins have no password to drift and are not listed here). */
  logins: "SELECT name, sid, type FROM sys.sql_logins WHERE name NOT LIKE '##%' ORDER BY name",
  /** In the database: its users (not dbo, guest, INFORMATION_SCHEMA, sys: principal ids 1 to 4), with how they authenticate. */
  databaseUsers:
    'SELECT name, sid, type, authentication_type_desc FROM sys.database_principals ' +
    "WHERE type IN ('S', 'U', 'G', 'E', 'X') AND principal_id > 4 AND name NOT LIKE '##%' ORDER BY name",
  /** In `master`: one row per geo-replication link of the server's databases (joined to names by database_id). */
  geoReplicationLinks:
    'SELECT database_id, partner_server, partner_database, replication_state_desc, role_desc, start_date, modify_date ' +
    'FROM sys.geo_replication_links',
  /** In `master`: names by id, for the links above. */
  databaseIds: 'SELECT database_id, name FROM sys.databases',
  /** In the database: its automatic backups (Learn, sys.dm_database_backups; backup_type D full, I differential, L log). */
  latestBackups:
    'SELECT backup_type, MAX(backup_finish_date) AS last_finish FROM sys.dm_database_backups ' +
    'WHERE logical_database_name = DB_NAME() GROUP BY backup_type',
  /** In the database. Parameter `@payload` (nvarchar(200)); answers the row's id and commit time. */
  insertSmokeRow: `INSERT INTO ${SMOKE_TABLE} (payload) OUTPUT INSERTED.id, INSERTED.committed_at VALUES (@payload)`,
  /** In the database. Parameter `@pattern` (a {@link likePrefix}). */
  smokeRowsLike: `SELECT payload FROM ${SMOKE_TABLE} WHERE payload LIKE @pattern`,
} as const;
