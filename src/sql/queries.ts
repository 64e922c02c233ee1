/**
 * The T-SQL fogpilot issues, in one place: what a DBA would run by hand. Per-database views run through
 * `EXEC [db].sys.sp_executesql`, which evaluates them in that database without changing the pooled connection's context.
 */

/** `[name]` with `]` doubled, as QUOTENAME does. */
export function quoteName(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`;
}

export const Queries = {
  userDatabases: 'SELECT name, state_desc FROM sys.databases WHERE database_id > 4 ORDER BY name',
  replicationLink: (database: string) =>
    `EXEC ${quoteName(database)}.sys.sp_executesql N'SELECT partner_server, partner_database, replication_lag_sec, ` +
    `replication_state_desc, role_desc, last_replication FROM sys.dm_geo_replication_link_status'`,
  updateability:
    "SELECT name, CAST(DATABASEPROPERTYEX(name, 'Updateability') AS nvarchar(128)) AS updateability " +
    'FROM sys.databases WHERE database_id > 4 ORDER BY name',
  copySyncProcedure: (database: string) => `${quoteName(database)}.sys.sp_wait_for_database_copy_sync`,
  logins:
    "SELECT name, sid, type FROM sys.server_principals WHERE type IN ('S', 'U', 'G', 'E', 'X') AND name NOT LIKE '##%' ORDER BY name",
  agentJobs: 'SELECT name, enabled FROM msdb.dbo.sysjobs ORDER BY name',
  latestBackups:
    'SELECT database_name, type, MAX(backup_finish_date) AS last_finish FROM msdb.dbo.backupset ' +
    'GROUP BY database_name, type ORDER BY database_name',
} as const;
