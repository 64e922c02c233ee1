/**
 * The SQL data plane as the runbooks need it: read-only T-SQL on each instance, the blocking copy-sync wait, and the
 * write probe's inserts into `dbo.fogpilot_smoke` (DR drills only). The real implementation (over `mssql`) and the
 * scripted one used by workflow tests both implement this.
 *
 * Methods throw {@link SqlRequestError} with a `kind` the activity classifies (transient faults retry; login failures
 * and missing links do not).
 */
import type { DatabaseReplicationLink, DatabaseUpdateability, SeedingProgress } from '../domain/azure-state';
import type { GroupIdentity } from '../domain/group-ref';

/** An instance to connect to. Credentials are the adapter's business (from config), never part of this. */
export interface SqlInstanceTarget {
  instanceId: string;
  /** The instance's FQDN, from ARM. */
  host: string;
  /** How people name its group (the inventory name when it has one): for messages only, never to choose credentials. */
  group?: string;
  /**
   * The ARM identity of its group, resolved by the workflow: the adapter chooses the SQL login by it, so a foreign
   * group that shares an inventory group's name never gets that group's login. Absent in activities scheduled before
   * it was introduced.
   */
  groupId?: GroupIdentity;
  /**
   * `sqlDatabase`: a logical server of Azure SQL Database, where a connection opens one database and stays in it (no
   * `USE`, no three-part names): every per-database query connects to that database. Absent: a managed instance.
   */
  kind?: 'sqlDatabase';
  /** `sqlDatabase` only: the group's member databases on this server, the ones the per-database methods visit. */
  databases?: string[];
}

export interface UserDatabase {
  name: string;
  state: string;
}

/**
 * A server login, or (SQL Database only) a user of one database. On a managed instance every entry is a login of
 * `sys.server_principals`. On a logical server of SQL Database the logins of its `master` (`sys.sql_logins`) come
 * without `database`, then each member database's users (`sys.database_principals`) with `database` and
 * `authenticationType`: logins are not replicated (they must exist on every partner server with the same SID), while
 * a database's users travel with the database.
 */
export interface LoginInfo {
  name: string;
  /** `0x…` hex: logins must match by SID across the pair. */
  sid: string;
  /** `sys.server_principals.type` / `sys.database_principals.type`: `S` SQL, `E`/`X` Microsoft Entra user/group, … */
  type: string;
  /** SQL Database: the database this user is in; absent for a login (of the server's `master`). */
  database?: string;
  /**
   * SQL Database, a database user's `authentication_type_desc`: `INSTANCE` (mapped to a server login by SID: that login
   * must exist on every partner server with this SID, or the user cannot log in after a failover), `DATABASE` (a
   * contained user with a password), `EXTERNAL` (Microsoft Entra), `NONE` (no login: a user without login).
   */
  authenticationType?: string;
}

export interface AgentJobInfo {
  name: string;
  enabled: boolean;
}

/** A check of a restored database: the caller's query (its first cell is the value), or a table's row count. */
export type RestoreCheck =
  { kind: 'query'; name: string; sql: string } | { kind: 'rowCount'; name: string; table: string };

/** What a check read: the first cell (`null` for no rows), or SQL's error. */
export type RestoreCheckResult = RestoreCheck & {
  value?: string | number | boolean | null;
  rows?: number;
  error?: string;
  number?: number;
};

export interface BackupInfo {
  database: string;
  lastFullBackup?: string;
  lastLogBackup?: string;
}

export interface SqlRequestOptions {
  abortSignal?: AbortSignal;
  /**
   * Fail at the first transient error instead of retrying it (a read's default waits 5 s, then longer): for a caller
   * that polls every few hundred milliseconds anyway, such as the data-plane watch of a failover's target.
   */
  noRetry?: boolean;
}

/** A row to write to `dbo.fogpilot_smoke` in `database` (see `Queries` for the table). */
export interface SmokeRowWrite {
  database: string;
  /** Unique per write, so a read-back proves exactly which writes survived. At most 200 characters. */
  payload: string;
}

export interface SmokeRowWritten {
  id: number;
  /** ISO 8601, the server's commit time. */
  committedAt: string;
}

export interface SmokeRowQuery {
  database: string;
  /** Matched literally (no wildcards). */
  prefix: string;
}

export interface CopySyncTarget {
  database: string;
  partnerServer: string;
  partnerDatabase: string;
}

export interface DataPlane {
  /** User databases (database_id > 4; SQL Database: every database of `master`'s sys.databases but master) and their state. */
  listUserDatabases(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<UserDatabase[]>;

  /**
   * Every user database on the instance with its geo-replication link, as this side sees it. SQL Database: each
   * database of `target.databases`, one link per partner (a database with several secondaries has several).
   */
  listReplicationLinks(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<DatabaseReplicationLink[]>;

  /**
   * `EXEC sys.sp_wait_for_database_copy_sync` inside `link.database`, against its partner. Resolves when the last
   * committed transaction is hardened on the secondary; rejects with kind `sync-timeout` after `timeoutInMs`.
   */
  waitForCopySync(
    target: SqlInstanceTarget,
    link: CopySyncTarget,
    options: SqlRequestOptions & { timeoutInMs: number },
  ): Promise<void>;

  /** `DATABASEPROPERTYEX(name, 'Updateability')` of every user database (SQL Database: of each of `target.databases`). */
  getUpdateability(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<DatabaseUpdateability[]>;

  /**
   * Server logins (`sys.server_principals`), for drift checks: they are not replicated. SQL Database: the logins of
   * `master` (`sys.sql_logins`), then the users of each of `target.databases` (see {@link LoginInfo}).
   */
  listLogins(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<LoginInfo[]>;

  /**
   * SQL Agent jobs (`msdb.dbo.sysjobs`), for drift checks: they are not replicated. SQL Database has no SQL Agent (and
   * no `msdb`): always empty there, without a query.
   */
  listAgentJobs(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<AgentJobInfo[]>;

  /**
   * The initial seeding of each database, from `sys.dm_hadr_physical_seeding_stats` (one entry per database, the
   * newest seeding when there were several). Empty when nothing was ever seeded to or from the instance. SQL Database
   * has no seeding DMV: the state of each geo-replication link from `master`'s `sys.geo_replication_links` (`PENDING`,
   * `SEEDING`, else `Completed`), without bytes.
   */
  listSeedingProgress(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<SeedingProgress[]>;

  /**
   * Latest full and log backup finish times per database (`msdb.dbo.backupset`). SQL Database: each of
   * `target.databases` from its `sys.dm_database_backups` (automatic backups; none listed on Hyperscale).
   */
  latestBackups(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<BackupInfo[]>;

  /**
   * Inserts one row into `dbo.fogpilot_smoke`, with short timeouts, on a pool of its own (writes never queue behind
   * reads). Not idempotent: a failure whose `delivery` is `unknown` may have committed. A read-only database is kind
   * `not-writable` (3906), with SQL's message.
   */
  insertSmokeRow(target: SqlInstanceTarget, row: SmokeRowWrite, options?: SqlRequestOptions): Promise<SmokeRowWritten>;

  /**
   * Runs checks of a restored database, connected to it, each in a transaction that is rolled back. A check SQL
   * answers with an error is a result (`error`); a connection that fails throws.
   */
  runRestoreChecks(
    target: SqlInstanceTarget,
    database: string,
    checks: RestoreCheck[],
    options?: SqlRequestOptions,
  ): Promise<RestoreCheckResult[]>;

  /** Payloads of the `dbo.fogpilot_smoke` rows that start with `query.prefix`. Read-only. */
  findSmokeRows(target: SqlInstanceTarget, query: SmokeRowQuery, options?: SqlRequestOptions): Promise<string[]>;
}

export type SqlErrorKind =
  /** Connection refused/reset, request timeout, database in transition: try again. */
  | 'transient'
  /** The login was refused: credentials or permissions. */
  | 'login-failed'
  /** The database has no replication link to the named partner. */
  | 'link-missing'
  /** The copy-sync wait did not finish within its bound. */
  | 'sync-timeout'
  /**
   * A write to a database that is read-only (3906): a secondary, or a new primary whose role switch has not reached it
   * yet. After a failover: wait and try again.
   */
  | 'not-writable'
  /** Anything else SQL stated as a fact. */
  | 'rejected';

/**
 * Whether a request reached SQL: `answered` (SQL stated an error), `not-sent` (no connection was made), `unknown` (sent,
 * and the connection failed before an answer: a write may have committed).
 */
export type SqlDelivery = 'answered' | 'not-sent' | 'unknown';

export class SqlRequestError extends Error {
  override readonly name = 'SqlRequestError';
  readonly kind: SqlErrorKind;
  /** SQL Server error number, when SQL answered. */
  readonly number?: number;
  /** When known: what a caller needs to count a non-idempotent write (see {@link SqlDelivery}). */
  readonly delivery?: SqlDelivery;

  constructor(message: string, kind: SqlErrorKind, number?: number, cause?: unknown, delivery?: SqlDelivery) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.number = number;
    this.delivery = delivery ?? (number !== undefined ? 'answered' : undefined);
  }
}
