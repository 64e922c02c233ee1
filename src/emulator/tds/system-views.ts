/**
 * The system views both kinds of server show alike, with the columns Learn documents for them: `sys.databases` (the
 * columns the emulator keeps), and a geo-replication link as `sys.dm_geo_replication_link_status` (on a managed
 * instance and in a SQL database) and `sys.geo_replication_links` (in a logical server's master) show it. Which rows
 * they hold is the server's (./sql-engine.ts, ./sql-database-engine.ts).
 */
import type { CellValue, Column } from './protocol';
import type { Table } from './tsql-engine';

/** A row of `sys.databases`. */
export type DatabaseRow = {
  name: string;
  database_id: number;
  state_desc: string;
  is_read_only: boolean;
  recovery_model_desc: string;
};

/** `sys.databases` with these rows. */
export function databasesTable(rows: DatabaseRow[]): Table {
  return {
    columns: [
      { name: 'name', type: 'nvarchar' },
      { name: 'database_id', type: 'int' },
      { name: 'state_desc', type: 'nvarchar' },
      { name: 'is_read_only', type: 'bit' },
      { name: 'recovery_model_desc', type: 'nvarchar' },
    ],
    rows,
  };
}

/** A link's `replication_state`: 1 SEEDING until the copy is seeded, 4 SUSPENDED while the link is lost, else 2. */
export function replicationState(seeding: boolean, suspended: boolean): { code: number; desc: string } {
  return seeding
    ? { code: 1, desc: 'SEEDING' }
    : suspended
      ? { code: 4, desc: 'SUSPENDED' }
      : { code: 2, desc: 'CATCH_UP' };
}

/** A geo-replication link as one side sees it. */
export interface LinkSeen {
  linkGuid: string;
  partnerServer: string;
  partnerDatabase: string;
  /** This side holds the primary. */
  isPrimary: boolean;
  state: { code: number; desc: string };
}

const PARTNER_COLUMNS: Column[] = [
  { name: 'link_guid', type: 'nvarchar' },
  { name: 'partner_server', type: 'nvarchar' },
  { name: 'partner_database', type: 'nvarchar' },
];

const ROLE_COLUMNS: Column[] = [
  { name: 'replication_state', type: 'tinyint' },
  { name: 'replication_state_desc', type: 'nvarchar' },
  { name: 'role', type: 'tinyint' },
  { name: 'role_desc', type: 'nvarchar' },
  { name: 'secondary_allow_connections', type: 'tinyint' },
  { name: 'secondary_allow_connections_desc', type: 'nvarchar' },
];

/** The cells every link view has: the partner, the state and the role (a geo-secondary allows ALL connections). */
export function linkCells(link: LinkSeen): Record<string, CellValue> {
  return {
    link_guid: link.linkGuid,
    partner_server: link.partnerServer,
    partner_database: link.partnerDatabase,
    replication_state: link.state.code,
    replication_state_desc: link.state.desc,
    role: link.isPrimary ? 0 : 1,
    role_desc: link.isPrimary ? 'PRIMARY' : 'SECONDARY',
    secondary_allow_connections: 2,
    secondary_allow_connections_desc: 'ALL',
  };
}

/** `sys.geo_replication_links`' columns. */
export const GEO_REPLICATION_LINKS_COLUMNS: Column[] = [
  { name: 'database_id', type: 'int' },
  { name: 'start_date', type: 'datetime2' },
  { name: 'modify_date', type: 'datetime2' },
  ...PARTNER_COLUMNS,
  ...ROLE_COLUMNS,
];

/** `sys.dm_geo_replication_link_status`' columns. */
export const LINK_STATUS_COLUMNS: Column[] = [
  ...PARTNER_COLUMNS,
  { name: 'last_replication', type: 'datetime2' },
  { name: 'replication_lag_sec', type: 'int' },
  ...ROLE_COLUMNS,
  { name: 'last_commit', type: 'datetime2' },
];

/**
 * A row of `sys.dm_geo_replication_link_status`: `last_replication` and `replication_lag_sec` on the primary only
 * (null on a copy), `last_commit` as the side knows it.
 */
export function linkStatusRow(
  link: LinkSeen,
  primaryOnly: { lastReplication: () => Date; lagSeconds: () => number },
  lastCommit: { committedAt: number } | undefined,
): Record<string, CellValue> {
  return {
    ...linkCells(link),
    last_replication: link.isPrimary ? primaryOnly.lastReplication() : null,
    replication_lag_sec: link.isPrimary ? primaryOnly.lagSeconds() : null,
    last_commit: lastCommit ? new Date(lastCommit.committedAt) : null,
  };
}
