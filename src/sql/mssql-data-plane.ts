/**
 * The SQL data plane over the `mssql` driver (tedious underneath). One pool per instance host for reads (on a logical
 * server of SQL Database, one per host and database: a connection there stays in the database it opened), built
 * lazily and reused, one for long copy-sync waits (no driver timeout: each wait has its own bound and is cancelled with the
 * activity), and one for the write probe's inserts (short timeouts, so a write through a listener that is failing over
 * fails fast and the probe counts it). Microsoft Entra tokens from a `TokenCredential` by default; SQL logins read from environment variables
 * named in the config. Failures become {@link SqlRequestError}s with a kind the activities classify.
 */
import { rootCertificates } from 'node:tls';
import sql from 'mssql';
import type { TokenCredential } from '@azure/core-auth';
import type { DatabaseReplicationLink, DatabaseUpdateability, SeedingProgress } from '../domain/azure-state';
import {
  SqlRequestError,
  type AgentJobInfo,
  type BackupInfo,
  type CopySyncTarget,
  type DataPlane,
  type LoginInfo,
  type RestoreCheck,
  type RestoreCheckResult,
  type SmokeRowQuery,
  type SmokeRowWrite,
  type SmokeRowWritten,
  type SqlInstanceTarget,
  type SqlRequestOptions,
  type UserDatabase,
} from './data-plane';
import { LoginErrorNumbers, READ_RETRY_DEFAULTS, sleep, toSqlRequestError, type ReadRetry } from './mssql-errors';
import { likePrefix, Queries, SqlDatabaseQueries } from './queries';

export { READ_RETRY_DEFAULTS, toSqlRequestError, type ReadRetry } from './mssql-errors';

export type SqlAuthentication =
  { kind: 'entra'; credential: TokenCredential } | { kind: 'sql-login'; user: string; password: string };

export interface MssqlDataPlaneOptions {
  /** How to authenticate to the instance of `target` (its group's settings, or the default). */
  authenticationFor(target: SqlInstanceTarget): SqlAuthentication;
  /** Where to connect for an FQDN: itself on 1433, or an override (the emulator, a private DNS gap). */
  resolve(host: string): { server: string; port: number };
  /** `strict` (TDS 8, TLS first) or `true` against Azure and the emulator with TLS; `false` for a plain emulator. */
  encrypt: boolean | 'strict';
  trustServerCertificate?: boolean;
  /**
   * Extra CA certificates (PEM) to trust for the instances' TLS certificates, e.g. the emulator's `tls.ca`
   * (fogpilot.yaml `azure.caFile`). The certificate's names are still checked against the instance's FQDN.
   */
  ca?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxPoolSize?: number;
  /** Connect timeout of the write pool (default 5 s): a probe must see an unreachable listener quickly. */
  writeConnectTimeoutMs?: number;
  /** Request timeout of the write pool (default 5 s). */
  writeRequestTimeoutMs?: number;
  /** How reads are retried on transient errors (defaults: {@link READ_RETRY_DEFAULTS}). */
  readRetry?: Partial<ReadRetry>;
}

type PoolPurpose = 'reads' | 'waits' | 'writes';

function hex(value: unknown): string {
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex').toUpperCase()}`;
  return typeof value === 'string' ? value : '';
}

function isoOrUndefined(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : undefined;
}

/** A logical server of Azure SQL Database: every per-database query connects to its database. */
function isSqlDatabase(target: SqlInstanceTarget): boolean {
  return target.kind === 'sqlDatabase';
}

/**
 * Whether two names are the same server, case-insensitively, the short name (`partner_server` as SQL Database reports
 * it) matching its FQDN too (`<name>.database.windows.net`, or an instance's `<name>.<zone>.database.windows.net`).
 */
function sameServer(a: string, b: string): boolean {
  const [left, right] = [a.toLowerCase(), b.toLowerCase()];
  if (left === right) return true;
  const short = (name: string) => name.split('.')[0]!;
  return (!left.includes('.') || !right.includes('.')) && short(left) === short(right);
}

/** `schema.table` or `table` (dbo) between brackets; names were validated as plain identifiers. */
function quoteTable(table: string): string {
  const [first, second] = table.split('.');
  return second === undefined ? `[dbo].[${first}]` : `[${first}].[${second}]`;
}

/** A cell as JSON can carry it: numbers (bigint counts too), text, booleans, null; dates as ISO text. */
function cellValue(value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') {
    // COUNT_BIG and bigint columns arrive as text: a whole number within JavaScript's range reads as one.
    if (typeof value === 'string' && /^-?\d{1,15}$/.test(value)) return Number(value);
    return value;
  }
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex').toUpperCase()}`;
  return JSON.stringify(value) ?? null;
}

export class MssqlDataPlane implements DataPlane {
  private readonly pools = new Map<string, Promise<sql.ConnectionPool>>();
  private readonly readRetry: ReadRetry;
  private readonly loginErrors = new LoginErrorNumbers();

  constructor(private readonly options: MssqlDataPlaneOptions) {
    this.readRetry = { ...READ_RETRY_DEFAULTS, ...options.readRetry };
  }

  /**
   * The pool for `purpose` on `target`; `database`: logged into that database (SQL Database, where a connection stays in
   * the database it opened), else into the login's default.
   */
  private pool(target: SqlInstanceTarget, purpose: PoolPurpose, database?: string): Promise<sql.ConnectionPool> {
    // Keyed by what chooses the login (the group's ARM identity), so two groups that share a name never share a pool.
    const group = target.groupId
      ? `${target.groupId.subscriptionId}/${target.groupId.resourceGroup}/${target.groupId.name}`.toLowerCase()
      : (target.group ?? '');
    const key = `${target.host.toLowerCase()}|${group}|${purpose}${database === undefined ? '' : `|${database}`}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const created = new sql.ConnectionPool(this.connectionConfig(target, purpose, database));
      // A pool error (a dropped idle connection) is handled on the next request; an unhandled 'error' would crash.
      created.on('error', () => undefined);
      const where = database === undefined ? target.host : `${database} on ${target.host}`;
      pool = created.connect().catch((error: unknown) => {
        this.pools.delete(key);
        throw this.failure(error, `connecting to ${where}`);
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** How to connect to `target` for `purpose`; `database`: the login's database (default: the login's default). */
  private connectionConfig(target: SqlInstanceTarget, purpose: PoolPurpose, database?: string): sql.config {
    {
      const { server, port } = this.options.resolve(target.host);
      const authentication = this.options.authenticationFor(target);
      const config: sql.config = {
        server,
        port,
        options: {
          encrypt: this.options.encrypt as boolean,
          trustServerCertificate: this.options.trustServerCertificate ?? false,
          // TLS names the instance by its FQDN even when connecting through an override.
          serverName: target.host,
          // After Node's own CAs: a `ca` alone would replace them, and Azure's certificates would fail.
          ...(this.options.ca ? { cryptoCredentialsDetails: { ca: [...rootCertificates, this.options.ca] } } : {}),
          appName: 'fogpilot',
        },
        connectionTimeout: this.connectTimeoutMs(purpose),
        requestTimeout: this.requestTimeoutMs(purpose),
        pool:
          purpose === 'writes'
            ? // One write at a time per probe; a dead connection is replaced rather than waited for.
              { min: 0, max: 2, idleTimeoutMillis: 60_000, acquireTimeoutMillis: this.connectTimeoutMs(purpose) }
            : { min: 0, max: this.options.maxPoolSize ?? 4, idleTimeoutMillis: 60_000 },
        // A socket check, not a `SELECT 1` per checkout: a slow server then fails the real request with its own
        // timeout instead of stalling the pool until its acquire timeout.
        validateConnection: 'socket',
        beforeConnect: (connection: {
          on(event: 'errorMessage', listener: (token: { message: string; number: number }) => void): void;
        }) => connection.on('errorMessage', (token) => this.loginErrors.remember(token.message, token.number)),
        ...(authentication.kind === 'sql-login'
          ? { user: authentication.user, password: authentication.password }
          : {
              authentication: {
                type: 'token-credential',
                options: { credential: authentication.credential },
              } as unknown as sql.config['authentication'],
            }),
      };
      return database === undefined ? config : { ...config, database };
    }
  }

  /** A driver failure as a {@link SqlRequestError}, with the number of a refused login when SQL sent one. */
  private failure(error: unknown, doing: string): SqlRequestError {
    return toSqlRequestError(error, doing, this.loginErrors.of(error));
  }

  private connectTimeoutMs(purpose: PoolPurpose): number {
    return purpose === 'writes'
      ? (this.options.writeConnectTimeoutMs ?? 5_000)
      : (this.options.connectTimeoutMs ?? 15_000);
  }

  private requestTimeoutMs(purpose: PoolPurpose): number {
    if (purpose === 'waits') return 0;
    return purpose === 'writes'
      ? (this.options.writeRequestTimeoutMs ?? 5_000)
      : (this.options.requestTimeoutMs ?? 30_000);
  }

  /**
   * A read, retried on transient errors with backoff within the read budget (see {@link READ_RETRY_DEFAULTS});
   * `database`: on a connection logged into that database.
   */
  private async query<T>(
    target: SqlInstanceTarget,
    text: string,
    doing: string,
    options?: SqlRequestOptions,
    bind?: (request: sql.Request) => void,
    database?: string,
  ): Promise<T[]> {
    const startedAt = Date.now();
    let delayMs = this.readRetry.initialDelayMs;
    for (;;) {
      try {
        return await this.queryOnce<T>(target, text, doing, options, bind, database);
      } catch (error) {
        const failure = this.failure(error, `${doing} on ${target.host}`);
        const spentMs = Date.now() - startedAt;
        if (
          failure.kind !== 'transient' ||
          options?.noRetry ||
          options?.abortSignal?.aborted ||
          spentMs + delayMs > this.readRetry.budgetMs
        )
          throw failure;
        await sleep(delayMs, options?.abortSignal);
        if (options?.abortSignal?.aborted) throw failure;
        delayMs = Math.min(delayMs * 2, this.readRetry.maxDelayMs);
      }
    }
  }

  private async queryOnce<T>(
    target: SqlInstanceTarget,
    text: string,
    doing: string,
    options?: SqlRequestOptions,
    bind?: (request: sql.Request) => void,
    database?: string,
  ): Promise<T[]> {
    const pool = await this.pool(target, 'reads', database);
    const request = pool.request();
    bind?.(request);
    const onAbort = () => request.cancel();
    options?.abortSignal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await request.query<T>(text);
      return result.recordset ?? [];
    } catch (error) {
      throw this.failure(error, `${doing} on ${target.host}`);
    } finally {
      options?.abortSignal?.removeEventListener('abort', onAbort);
    }
  }

  async listUserDatabases(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<UserDatabase[]> {
    const sqlDatabase = isSqlDatabase(target);
    const rows = await this.query<{ name: string; state_desc: string }>(
      target,
      sqlDatabase ? SqlDatabaseQueries.serverDatabases : Queries.userDatabases,
      'listing databases',
      options,
      undefined,
      sqlDatabase ? 'master' : undefined,
    );
    return rows.map((row) => ({ name: row.name, state: row.state_desc }));
  }

  /** The rows of `sys.dm_geo_replication_link_status` for `database`: one per partner (none: no link). */
  private async linksOf(
    target: SqlInstanceTarget,
    database: string,
    options?: SqlRequestOptions,
  ): Promise<DatabaseReplicationLink[]> {
    const sqlDatabase = isSqlDatabase(target);
    const rows = await this.query<{
      partner_server: string;
      partner_database: string;
      replication_lag_sec: number | null;
      replication_state_desc: string;
      role_desc: string;
      last_replication: Date | null;
      last_commit: Date | null;
    }>(
      target,
      sqlDatabase ? SqlDatabaseQueries.replicationLinks : Queries.replicationLink(database),
      `reading the replication link of ${database}`,
      options,
      undefined,
      sqlDatabase ? database : undefined,
    );
    // A managed instance's database has one partner: its first row is its link, as it always was.
    return (sqlDatabase ? rows : rows.slice(0, 1)).map((row) => ({
      database,
      partnerServer: row.partner_server,
      partnerDatabase: row.partner_database,
      role: row.role_desc,
      replicationState: row.replication_state_desc,
      lagSeconds: row.replication_lag_sec,
      lastReplication: isoOrUndefined(row.last_replication),
      lastCommit: isoOrUndefined(row.last_commit),
    }));
  }

  /** The databases a per-database method visits: the user databases of an instance, or a server's `databases`. */
  private async databasesOf(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<string[]> {
    if (isSqlDatabase(target)) return [...(target.databases ?? [])];
    return (await this.listUserDatabases(target, options)).map((database) => database.name);
  }

  async listReplicationLinks(
    target: SqlInstanceTarget,
    options?: SqlRequestOptions,
  ): Promise<DatabaseReplicationLink[]> {
    const databases = await this.databasesOf(target, options);
    const links = await Promise.all(databases.map((database) => this.linksOf(target, database, options)));
    return databases.flatMap((database, index) =>
      links[index]!.length > 0
        ? links[index]!
        : [
            {
              database,
              partnerServer: '',
              partnerDatabase: '',
              role: 'NONE',
              replicationState: 'NONE',
              lagSeconds: null,
            },
          ],
    );
  }

  async waitForCopySync(
    target: SqlInstanceTarget,
    link: CopySyncTarget,
    options: SqlRequestOptions & { timeoutInMs: number },
  ): Promise<void> {
    const sqlDatabase = isSqlDatabase(target);
    const linkTo = (links: DatabaseReplicationLink[]) =>
      links.find(
        (candidate) =>
          sameServer(candidate.partnerServer, link.partnerServer) &&
          candidate.partnerDatabase.toLowerCase() === link.partnerDatabase.toLowerCase(),
      );
    const current = linkTo(await this.linksOf(target, link.database, options));
    if (!current) {
      throw new SqlRequestError(
        `database ${link.database} on ${target.host} has no replication link to ${link.partnerServer}/${link.partnerDatabase}`,
        'link-missing',
      );
    }
    // SQL Database: connected to the database itself, naming the partner as its link does (the server's name).
    const pool = await this.pool(target, 'waits', sqlDatabase ? link.database : undefined);
    const request = pool.request();
    request.input('target_server', sql.NVarChar(256), sqlDatabase ? current.partnerServer : link.partnerServer);
    request.input('target_database', sql.NVarChar(128), link.partnerDatabase);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.cancel();
    }, options.timeoutInMs);
    const onAbort = () => request.cancel();
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });
    try {
      await request.execute(
        sqlDatabase ? SqlDatabaseQueries.copySyncProcedure : Queries.copySyncProcedure(link.database),
      );
    } catch (error) {
      if (timedOut) {
        throw new SqlRequestError(
          `the copy of ${link.database} was not synchronized within ${Math.round(options.timeoutInMs / 1000)}s`,
          'sync-timeout',
          undefined,
          error,
        );
      }
      if (options.abortSignal?.aborted)
        throw new SqlRequestError(
          `waiting for copy sync of ${link.database} was cancelled`,
          'transient',
          undefined,
          error,
        );
      const failure = this.failure(error, `waiting for copy sync of ${link.database}`);
      if (failure.kind !== 'rejected') throw failure;
      // SQL ended the wait with an error: say whether the link is gone, down, or just had a hiccup.
      const after = await this.linksOf(target, link.database).then(linkTo, () => current);
      if (!after)
        throw new SqlRequestError(
          `${failure.message} — the replication link is gone`,
          'link-missing',
          failure.number,
          error,
        );
      if (after.replicationState.toUpperCase() === 'SUSPENDED') {
        throw new SqlRequestError(
          `${failure.message} — the replication link is SUSPENDED (connectivity to the partner lost)`,
          'sync-timeout',
          failure.number,
          error,
        );
      }
      throw new SqlRequestError(failure.message, 'transient', failure.number, error);
    } finally {
      clearTimeout(timer);
      options.abortSignal?.removeEventListener('abort', onAbort);
    }
  }

  async getUpdateability(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<DatabaseUpdateability[]> {
    const read = (text: string, database?: string) =>
      this.query<{ name: string; updateability: string | null }>(
        target,
        text,
        database === undefined ? 'reading updateability' : `reading the updateability of ${database}`,
        options,
        undefined,
        database,
      );
    const rows = isSqlDatabase(target)
      ? (
          await Promise.all(
            (target.databases ?? []).map((database) => read(SqlDatabaseQueries.updateability, database)),
          )
        ).flat()
      : await read(Queries.updateability);
    return rows.map((row) => ({ database: row.name, updateability: row.updateability ?? 'UNKNOWN' }));
  }

  async listLogins(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<LoginInfo[]> {
    const sqlDatabase = isSqlDatabase(target);
    const rows = await this.query<{ name: string; sid: Buffer; type: string }>(
      target,
      sqlDatabase ? SqlDatabaseQueries.logins : Queries.logins,
      'listing logins',
      options,
      undefined,
      sqlDatabase ? 'master' : undefined,
    );
    const logins = rows.map((row) => ({ name: row.name, sid: hex(row.sid), type: row.type.trim() }));
    if (!sqlDatabase) return logins;
    const users = await Promise.all(
      (target.databases ?? []).map(async (database) =>
        (
          await this.query<{ name: string; sid: Buffer | null; type: string; authentication_type_desc: string | null }>(
            target,
            SqlDatabaseQueries.databaseUsers,
            `listing the users of ${database}`,
            options,
            undefined,
            database,
          )
        ).map((row): LoginInfo => ({
          name: row.name,
          sid: hex(row.sid),
          type: row.type.trim(),
          database,
          authenticationType: row.authentication_type_desc ?? 'NONE',
        })),
      ),
    );
    return [...logins, ...users.flat()];
  }

  async listAgentJobs(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<AgentJobInfo[]> {
    // Azure SQL Database has no SQL Agent and no msdb to ask (a reference to msdb is refused, 40515): scheduled work
    // there lives outside the servers (elastic jobs, Automation), so there is nothing on a server to drift.
    if (isSqlDatabase(target)) return [];
    const rows = await this.query<{ name: string; enabled: number | boolean }>(
      target,
      Queries.agentJobs,
      'listing SQL Agent jobs',
      options,
    );
    return rows.map((row) => ({ name: row.name, enabled: Boolean(row.enabled) }));
  }

  async listSeedingProgress(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<SeedingProgress[]> {
    if (isSqlDatabase(target)) return this.linkSeeding(target, options);
    const rows = await this.query<{
      local_database_name: string;
      role_desc: string | null;
      internal_state_desc: string | null;
      transferred_size_bytes: number | string | null;
      database_size_bytes: number | string | null;
      start_time_utc: Date | null;
      estimate_time_complete_utc: Date | null;
      end_time_utc: Date | null;
    }>(target, Queries.seedingStats, 'reading seeding progress', options);
    const byDatabase = new Map<string, SeedingProgress>();
    for (const row of rows) {
      const entry: SeedingProgress = {
        database: row.local_database_name,
        state: row.internal_state_desc ?? undefined,
        transferredBytes: row.transferred_size_bytes === null ? undefined : Number(row.transferred_size_bytes),
        databaseBytes: row.database_size_bytes === null ? undefined : Number(row.database_size_bytes),
        startedAt: isoOrUndefined(row.start_time_utc),
        estimatedCompletionAt: isoOrUndefined(row.estimate_time_complete_utc),
        endedAt: isoOrUndefined(row.end_time_utc),
      };
      const known = byDatabase.get(entry.database);
      // A database seeded more than once (a retry) keeps its newest seeding.
      if (!known || (entry.startedAt ?? '') >= (known.startedAt ?? '')) byDatabase.set(entry.database, entry);
    }
    return [...byDatabase.values()].sort((a, b) => a.database.localeCompare(b.database));
  }

  /**
   * SQL Database has no seeding DMV (sys.dm_hadr_physical_seeding_stats is Managed Instance's): the state of each link
   * from `master`'s sys.geo_replication_links, PENDING or SEEDING while the copy is made, `Completed` once it catches
   * up. No bytes: the view has none. Only `target.databases` when it names them.
   */
  private async linkSeeding(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<SeedingProgress[]> {
    const [links, ids] = await Promise.all([
      this.query<{ database_id: number; replication_state_desc: string | null; start_date: Date | null }>(
        target,
        SqlDatabaseQueries.geoReplicationLinks,
        'reading geo-replication links',
        options,
        undefined,
        'master',
      ),
      this.query<{ database_id: number; name: string }>(
        target,
        SqlDatabaseQueries.databaseIds,
        'listing databases',
        options,
        undefined,
        'master',
      ),
    ]);
    const names = new Map(ids.map((row) => [row.database_id, row.name]));
    const members = target.databases?.map((name) => name.toLowerCase());
    const byDatabase = new Map<string, SeedingProgress>();
    for (const link of links) {
      const database = names.get(link.database_id);
      if (database === undefined || (members && !members.includes(database.toLowerCase()))) continue;
      const state = (link.replication_state_desc ?? '').toUpperCase();
      const entry: SeedingProgress = {
        database,
        state: state === 'SEEDING' || state === 'PENDING' ? state : 'Completed',
        startedAt: isoOrUndefined(link.start_date),
      };
      // With several partners, a database still seeding to any of them is still seeding.
      const known = byDatabase.get(database);
      if (!known || known.state === 'Completed') byDatabase.set(database, entry);
    }
    return [...byDatabase.values()].sort((a, b) => a.database.localeCompare(b.database));
  }

  async latestBackups(target: SqlInstanceTarget, options?: SqlRequestOptions): Promise<BackupInfo[]> {
    if (isSqlDatabase(target)) {
      return Promise.all(
        (target.databases ?? []).map(async (database) => {
          const rows = await this.query<{ backup_type: string; last_finish: Date | null }>(
            target,
            SqlDatabaseQueries.latestBackups,
            `reading the backups of ${database}`,
            options,
            undefined,
            database,
          );
          const entry: BackupInfo = { database };
          for (const row of rows) {
            if (row.backup_type.trim() === 'D') entry.lastFullBackup = isoOrUndefined(row.last_finish);
            if (row.backup_type.trim() === 'L') entry.lastLogBackup = isoOrUndefined(row.last_finish);
          }
          return entry;
        }),
      );
    }
    const rows = await this.query<{ database_name: string; type: string; last_finish: Date | null }>(
      target,
      Queries.latestBackups,
      'reading backup history',
      options,
    );
    const byDatabase = new Map<string, BackupInfo>();
    for (const row of rows) {
      const entry = byDatabase.get(row.database_name) ?? { database: row.database_name };
      if (row.type.trim() === 'D') entry.lastFullBackup = isoOrUndefined(row.last_finish);
      if (row.type.trim() === 'L') entry.lastLogBackup = isoOrUndefined(row.last_finish);
      byDatabase.set(row.database_name, entry);
    }
    return [...byDatabase.values()];
  }

  async insertSmokeRow(
    target: SqlInstanceTarget,
    row: SmokeRowWrite,
    options?: SqlRequestOptions,
  ): Promise<SmokeRowWritten> {
    const sqlDatabase = isSqlDatabase(target);
    const doing = `writing a smoke row to ${row.database} on ${target.host}`;
    const pool = await this.pool(target, 'writes', sqlDatabase ? row.database : undefined);
    const request = pool.request();
    request.input('payload', sql.NVarChar(200), row.payload);
    const onAbort = () => request.cancel();
    options?.abortSignal?.addEventListener('abort', onAbort, { once: true });
    let written: { id: number | string; committed_at: Date | string | null } | undefined;
    try {
      written = (
        await request.query<{ id: number | string; committed_at: Date | string | null }>(
          sqlDatabase ? SqlDatabaseQueries.insertSmokeRow : Queries.insertSmokeRow(row.database),
        )
      ).recordset?.[0];
    } catch (error) {
      throw this.failure(error, doing);
    } finally {
      options?.abortSignal?.removeEventListener('abort', onAbort);
    }
    if (!written) {
      throw new SqlRequestError(
        `${doing}: SQL answered without the inserted row`,
        'rejected',
        undefined,
        undefined,
        'answered',
      );
    }
    return {
      id: Number(written.id),
      committedAt: isoOrUndefined(written.committed_at) ?? new Date().toISOString(),
    };
  }

  async findSmokeRows(target: SqlInstanceTarget, query: SmokeRowQuery, options?: SqlRequestOptions): Promise<string[]> {
    const sqlDatabase = isSqlDatabase(target);
    const rows = await this.query<{ payload: string }>(
      target,
      sqlDatabase ? SqlDatabaseQueries.smokeRowsLike : Queries.smokeRowsLike(query.database),
      `reading smoke rows of ${query.database}`,
      options,
      (request) => request.input('pattern', sql.NVarChar(4000), likePrefix(query.prefix)),
      sqlDatabase ? query.database : undefined,
    );
    return rows.map((row) => row.payload);
  }

  async runRestoreChecks(
    target: SqlInstanceTarget,
    database: string,
    checks: RestoreCheck[],
    options?: SqlRequestOptions,
  ): Promise<RestoreCheckResult[]> {
    // A connection of its own, logged into the database: the checks' text names tables as the application does, and
    // no pooled connection is ever left in another database or inside a transaction.
    const pool = new sql.ConnectionPool({
      ...this.connectionConfig(target, 'reads', database),
      pool: { min: 0, max: 1, idleTimeoutMillis: 1_000 },
    });
    pool.on('error', () => undefined);
    try {
      await pool.connect();
    } catch (error) {
      throw this.failure(error, `connecting to ${database} on ${target.host}`);
    }
    try {
      const results: RestoreCheckResult[] = [];
      for (const check of checks) {
        const text =
          check.kind === 'query' ? check.sql : `SELECT COUNT_BIG(*) AS row_count FROM ${quoteTable(check.table)}`;
        const transaction = new sql.Transaction(pool);
        const onAbort = () => void transaction.rollback().catch(() => undefined);
        options?.abortSignal?.addEventListener('abort', onAbort, { once: true });
        try {
          await transaction.begin();
          const answer = await new sql.Request(transaction).query<Record<string, unknown>>(text);
          const first = answer.recordset?.[0];
          const value = first === undefined ? undefined : Object.values(first)[0];
          results.push({ ...check, value: cellValue(value), rows: answer.recordset?.length ?? 0 });
        } catch (error) {
          const failure = this.failure(error, `checking ${database} on ${target.host}`);
          // A connection that failed is the data plane's fault, retried by the activity; SQL's answer is the check's.
          if (failure.kind === 'transient' || failure.kind === 'login-failed') throw failure;
          results.push({
            ...check,
            error: failure.message,
            ...(failure.number !== undefined ? { number: failure.number } : {}),
          });
        } finally {
          options?.abortSignal?.removeEventListener('abort', onAbort);
          await transaction.rollback().catch(() => undefined);
        }
      }
      return results;
    } finally {
      await pool.close().catch(() => undefined);
    }
  }

  /** Closes every pool (worker shutdown). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(async (pool) => (await pool.catch(() => undefined))?.close()));
  }
}
