/**
 * What a logical server of Azure SQL Database answers to SQL (the language itself is ./tsql-engine.ts), from the
 * world's SQL Database state (../world/sql-state.ts): a session is in one database for its whole life, its `master` or
 * one of the server's databases, as the login asked.
 *
 * - `USE` of another database fails with 40508 and a three-part name in another database with 40515, as Azure SQL
 *   Database refuses them (Learn, "USE (Transact-SQL)": "If a database other than the current database is provided,
 *   the USE statement doesn't switch between databases, and error code 40508 is returned"; "T-SQL differences between
 *   SQL Server and Azure SQL Database": three-part names only for the current database or tempdb). There is no `msdb`
 *   (no SQL Agent): `msdb.dbo.sysjobs` is such a reference, 40515.
 * - `master`: `sys.databases` (every database of the server), `sys.sql_logins` (the server's SQL logins, its admin and
 *   the rehearsal login), `sys.geo_replication_links` (one row per link of the server's databases).
 * - A database: `sys.databases` (master and itself, as Azure shows it there), `sys.dm_geo_replication_link_status`
 *   (on the primary one row per partner, on a secondary one row for its primary), `sys.database_principals`,
 *   `sys.dm_database_backups`, `DATABASEPROPERTYEX(DB_NAME(), 'Updateability')`, the workload and smoke tables, and
 *   `sys.sp_wait_for_database_copy_sync @target_server, @target_database` run in the primary database until the named
 *   partner has hardened the last commit (Learn, "sp_wait_for_database_copy_sync": "Run … on only the primary
 *   database"; the target server is named as the link names it, the server's name without `.database.windows.net`,
 *   and its FQDN is accepted too).
 * - Writes on a secondary copy, and on a new primary until its role switch has reached the database, fail with 3906.
 *
 * Knowingly simplified: a database's users are the logins of the server holding its primary copy, mapped by SID
 * (`INSTANCE`), plus `dbo`: users travel with the database, so every copy lists the same ones, and a login missing on
 * a partner server with that SID is the drift to find. `sys.dm_database_backups` lists the newest full and log backup
 * of the primary copy only. The copy-sync wait's error numbers are the emulator's (Azure documents none), as for
 * managed instances (./copy-sync.ts `EmulatorSqlErrors`).
 */
import type { Column } from './protocol';
import { SqlError, type Statement } from './sql-parser';
import type { WriteTarget } from './transactions';
import type { CopySyncLink } from './copy-sync';
import { REHEARSAL_LOGIN_SID, loginsTable, sidBuffer } from './logins';
import {
  GEO_REPLICATION_LINKS_COLUMNS,
  LINK_STATUS_COLUMNS,
  databasesTable,
  linkCells,
  linkStatusRow,
  replicationState,
  type LinkSeen,
} from './system-views';
import {
  TsqlEngine,
  sameName,
  type EngineSession,
  type ReadSource,
  type StatementResult,
  type Table,
} from './tsql-engine';
import { latestBackups } from '../world/backups';
import { currentLagMs, lastHardenedCommit } from '../world/replication';
import {
  hardenedLsnOn,
  isPartnerSeeded,
  partnerLink,
  partnerView,
  replicationLagSecondsTo,
} from '../world/sql-replication';
import type { InstanceState, SqlDatabaseState, SqlGeoReplication, SqlPartnerLink, SqlServerState } from '../world';

/** A session on a logical server: in `master` or in one of its databases, for its whole life. */
export interface SqlDatabaseSession extends EngineSession {
  server: SqlServerState;
}

/** Azure SQL Database's refusals of a reach into another database. */
export const SqlDatabaseErrors = {
  /** `USE` of another database. */
  useNotSupported: 40508,
  /** A three-part name (or a procedure) in another database. */
  crossDatabaseReference: 40515,
} as const;

/** A SID for the server admin login, stable per server. */
function adminSid(server: SqlServerState): string {
  let hash = 0x811c9dc5;
  for (const char of server.id.toLowerCase()) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return `0x01060000000000640000000000000000${hash.toString(16).padStart(8, '0').toUpperCase()}`;
}

export class SqlDatabaseEngine extends TsqlEngine<SqlDatabaseSession> {
  /** The database `name` on the server, when SQL can open it (a copy still being seeded cannot be). */
  database(server: SqlServerState, name: string): SqlDatabaseState | undefined {
    return server.databases.find((database) => sameName(database.name, name));
  }

  /** Whether `server`'s copy of `database` is seeded (a database of its own, or the primary, always is). */
  isSeeded(server: SqlServerState, database: SqlDatabaseState): boolean {
    const link = database.replication && partnerLink(database.replication, server.id);
    return !link || isPartnerSeeded(link, this.world.now());
  }

  private isPrimary(server: SqlServerState, database: SqlDatabaseState): boolean {
    return !database.replication || sameName(database.replication.primaryServerId, server.id);
  }

  private serverById(id: string): SqlServerState | undefined {
    return this.world.sqlServerById(id);
  }

  private current(session: SqlDatabaseSession): SqlDatabaseState | undefined {
    return sameName(session.database, 'master') ? undefined : this.database(session.server, session.database);
  }

  protected serverName(session: SqlDatabaseSession): string {
    return session.server.name;
  }

  protected versionText(): string {
    return 'Microsoft SQL Azure (RTM) - 12.0.2000.8 (fogpilot emulator of Azure SQL Database)';
  }

  protected engineEdition(): string {
    return '5';
  }

  protected collation(session: SqlDatabaseSession): string {
    return this.current(session)?.collation ?? 'SQL_Latin1_General_CP1_CI_AS';
  }

  protected databaseNames(session: SqlDatabaseSession): string[] {
    return ['master', ...session.server.databases.map((database) => database.name)];
  }

  protected resolveDatabase(session: SqlDatabaseSession, name: string): string | undefined {
    if (sameName(name, session.database)) return session.database;
    if (sameName(name, 'master')) return 'master';
    return this.database(session.server, name)?.name;
  }

  protected updateabilityOf(session: SqlDatabaseSession, name: string): string | null {
    if (sameName(name, 'master')) return 'READ_WRITE';
    const database = this.database(session.server, name);
    if (!database) return null;
    return this.world.sqlAcceptsWrites(database) ? 'READ_WRITE' : 'READ_ONLY';
  }

  protected use(session: SqlDatabaseSession, database: string): StatementResult {
    if (sameName(database, session.database)) return {};
    throw new SqlError(
      SqlDatabaseErrors.useNotSupported,
      'USE statement is not supported to switch between databases. Use a new connection to connect to a different database.',
    );
  }

  protected override crossDatabase(session: SqlDatabaseSession, _database: string, object: string): string {
    throw new SqlError(
      SqlDatabaseErrors.crossDatabaseReference,
      `Reference to database and/or server name in '${object}' is not supported in this version of SQL Server.`,
      15,
    );
  }

  protected renameDatabase(
    session: SqlDatabaseSession,
    statement: Extract<Statement, { kind: 'rename-database' }>,
  ): StatementResult {
    const database = this.database(session.server, statement.database);
    if (!database)
      throw new SqlError(
        911,
        `Database '${statement.database}' does not exist. Make sure that the name is entered correctly.`,
      );
    throw new SqlError(
      database.replication ? 1468 : 50000,
      database.replication
        ? `The operation cannot be performed on database "${database.name}" because it is involved in a geo-replication link.`
        : 'The emulator does not rename SQL databases.',
    );
  }

  protected writeTarget(session: SqlDatabaseSession, name: string): WriteTarget | undefined {
    const database = sameName(name, 'master') ? undefined : this.database(session.server, name);
    if (!database) return undefined;
    return {
      database: database.data,
      acceptsWrites: () => this.world.sqlAcceptsWrites(database),
      commit: (payload, options) => this.world.sqlCommit(database, payload, options),
    };
  }

  protected readSource(session: SqlDatabaseSession, name: string): ReadSource | undefined {
    const database = sameName(name, 'master') ? undefined : this.database(session.server, name);
    if (!database) return undefined;
    if (this.isPrimary(session.server, database)) return { log: database.data, isPrimary: true };
    return { log: partnerView(database.replication!, session.server.id), isPrimary: false };
  }

  // ── the copy-sync wait (./copy-sync.ts) ─────────────────────────────────────────────────────────────────────────

  /**
   * The link of the session's database to the partner named (by its name or FQDN). Once this server is no longer the
   * primary, the partner's hardening and link state count for nothing: the wait ends with "stopped being the primary".
   */
  protected copySyncLink(
    session: SqlDatabaseSession,
    targetServer: string,
    targetDatabase: string,
  ): CopySyncLink | undefined {
    const database = this.current(session);
    const replication = database?.replication;
    const partner = replication?.partners
      .map((link) => ({ link, server: this.serverById(link.serverId) }))
      .find(
        ({ link, server }) =>
          !sameName(link.serverId, session.server.id) &&
          server !== undefined &&
          [server.name, server.fullyQualifiedDomainName].some((name) => sameName(name, targetServer)),
      );
    if (!database || !replication || !partner || !sameName(targetDatabase, database.name)) return undefined;
    const partnerId = partner.link.serverId;
    const partnerName = partner.server!.name;
    const isPrimary = () => sameName(replication.primaryServerId, session.server.id);
    return {
      database: database.name,
      lastCommittedLsn: () => replication.data.commits.at(-1)?.lsn ?? 0,
      hardened: (lsn, now) =>
        isPrimary() &&
        partnerLink(replication, partnerId) !== undefined &&
        hardenedLsnOn(replication, partnerId, now) >= lsn,
      linkLostSince: () => (isPrimary() ? partnerLink(replication, partnerId)?.linkLostSince : undefined),
      isPrimary,
      partnerLabel: `partner '${partnerName}'`,
      noted: { instance: session.server.name, detail: { database: database.name, partner: partnerName } },
    };
  }

  // ── system views ───────────────────────────────────────────────────────────────────────────────────────────────

  protected systemTable(
    session: SqlDatabaseSession,
    schema: string | undefined,
    name: string,
    _database: string,
  ): Table | undefined {
    if (schema !== 'sys') return undefined;
    const inMaster = sameName(session.database, 'master');
    switch (name) {
      case 'databases':
        return this.databasesView(session, inMaster);
      case 'sql_logins':
        return inMaster ? this.sqlLogins(session.server) : undefined;
      case 'geo_replication_links':
        return inMaster ? this.geoReplicationLinks(session.server) : undefined;
      case 'dm_geo_replication_link_status':
        return this.linkStatus(session);
      case 'database_principals':
        return inMaster ? undefined : this.databasePrincipals(session);
      case 'dm_database_backups':
        return inMaster ? undefined : this.databaseBackups(session);
      default:
        return undefined;
    }
  }

  /** The database id SQL shows for a database of the server (master is 1). */
  private databaseId(server: SqlServerState, name: string): number {
    const index = server.databases.findIndex((database) => sameName(database.name, name));
    return index < 0 ? 1 : index + 5;
  }

  private databasesView(session: SqlDatabaseSession, inMaster: boolean): Table {
    const { server } = session;
    const shown = server.databases.filter((database) => inMaster || sameName(database.name, session.database));
    return databasesTable([
      { name: 'master', database_id: 1, state_desc: 'ONLINE', is_read_only: false, recovery_model_desc: 'FULL' },
      ...shown.map((database) => ({
        name: database.name,
        database_id: this.databaseId(server, database.name),
        // A geo-secondary being seeded is a copy in the making (inferred: COPYING is sys.databases' state for one).
        state_desc: this.isSeeded(server, database) ? 'ONLINE' : 'COPYING',
        is_read_only: !this.world.sqlAcceptsWrites(database),
        recovery_model_desc: 'FULL',
      })),
    ]);
  }

  /** `sys.sql_logins` in master: the server admin, the rehearsal login and the server's own SQL logins. */
  private sqlLogins(server: SqlServerState): Table {
    return loginsTable([
      { name: server.administratorLogin, sid: adminSid(server), type: 'S' },
      { name: this.world.spec.sqlLogin.user, sid: REHEARSAL_LOGIN_SID, type: 'S' },
      ...server.logins.filter((login) => login.type === 'S'),
    ]);
  }

  /**
   * The links of `database` seen from `server`: one per partner on the primary, one (to the primary) on a copy, with
   * the link itself.
   */
  private linksSeenFrom(
    server: SqlServerState,
    database: SqlDatabaseState,
    replication: SqlGeoReplication,
  ): (LinkSeen & { link: SqlPartnerLink })[] {
    const now = this.world.now();
    const isPrimary = sameName(replication.primaryServerId, server.id);
    const links = isPrimary
      ? replication.partners
      : replication.partners.filter((link) => sameName(link.serverId, server.id));
    return links.map((link) => {
      const partner = this.serverById(isPrimary ? link.serverId : replication.primaryServerId);
      return {
        link,
        linkGuid: link.linkId,
        partnerServer: partner?.name ?? '',
        partnerDatabase: database.name,
        isPrimary,
        state: replicationState(!isPartnerSeeded(link, now), link.linkLostSince !== undefined),
      };
    });
  }

  private geoReplicationLinks(server: SqlServerState): Table {
    return {
      columns: GEO_REPLICATION_LINKS_COLUMNS,
      rows: server.databases.flatMap((database) =>
        database.replication
          ? this.linksSeenFrom(server, database, database.replication).map((seen) => ({
              database_id: this.databaseId(server, database.name),
              start_date: new Date(seen.link.startedAt),
              modify_date: new Date(seen.link.seeding?.endsAt ?? seen.link.startedAt),
              ...linkCells(seen),
            }))
          : [],
      ),
    };
  }

  /**
   * `sys.dm_geo_replication_link_status` in the session's database (empty in master). Columns as Learn documents them:
   * `last_replication` and `replication_lag_sec` on the primary only; `last_commit` the primary's last commit, or what
   * the copy has hardened.
   */
  private linkStatus(session: SqlDatabaseSession): Table {
    const columns = LINK_STATUS_COLUMNS;
    const database = this.current(session);
    const replication = database?.replication;
    if (!database || !replication) return { columns, rows: [] };
    const now = this.world.now();
    return {
      columns,
      rows: this.linksSeenFrom(session.server, database, replication).map((seen) => {
        const lastCommit = seen.isPrimary
          ? replication.data.commits.at(-1)
          : seen.state.code === 1
            ? undefined
            : lastHardenedCommit(partnerView(replication, session.server.id), now);
        return linkStatusRow(
          seen,
          {
            lastReplication: () => new Date(now - currentLagMs(replication.data, now)),
            lagSeconds: () => replicationLagSecondsTo(replication, seen.link.serverId, now),
          },
          lastCommit,
        );
      }),
    };
  }

  private databasePrincipals(session: SqlDatabaseSession): Table {
    const database = this.current(session);
    const home = database?.replication ? this.serverById(database.replication.primaryServerId) : session.server;
    const fixed = [
      { name: 'dbo', sid: adminSid(home ?? session.server), type: 'S', auth: 'INSTANCE' },
      { name: 'guest', sid: '0x00', type: 'S', auth: 'NONE' },
      { name: 'INFORMATION_SCHEMA', sid: '', type: 'S', auth: 'NONE' },
      { name: 'sys', sid: '', type: 'S', auth: 'NONE' },
    ];
    const users = [
      { name: this.world.spec.sqlLogin.user, sid: REHEARSAL_LOGIN_SID, type: 'S', auth: 'INSTANCE' },
      ...(home?.logins ?? []).map((login) => ({
        name: login.name,
        sid: login.sid,
        type: login.type,
        auth: login.type === 'E' || login.type === 'X' ? 'EXTERNAL' : 'INSTANCE',
      })),
    ];
    return {
      columns: [
        { name: 'name', type: 'nvarchar' },
        { name: 'principal_id', type: 'int' },
        { name: 'type', type: 'nvarchar' },
        { name: 'sid', type: 'varbinary' },
        { name: 'authentication_type_desc', type: 'nvarchar' },
      ],
      rows: [...fixed, ...users].map((principal, index) => ({
        name: principal.name,
        principal_id: index + 1,
        type: principal.type,
        sid: principal.sid ? sidBuffer(principal.sid) : null,
        authentication_type_desc: principal.auth,
      })),
    };
  }

  /** Automatic backups of the primary copy (../world/backups.ts's cadence), the newest full and log. */
  private databaseBackups(session: SqlDatabaseSession): Table {
    const columns: Column[] = [
      { name: 'logical_server_name', type: 'nvarchar' },
      { name: 'logical_database_name', type: 'nvarchar' },
      { name: 'backup_start_date', type: 'datetime2' },
      { name: 'backup_finish_date', type: 'datetime2' },
      { name: 'backup_type', type: 'nvarchar' },
      { name: 'in_retention', type: 'bit' },
    ];
    const database = this.current(session);
    if (!database || !this.isPrimary(session.server, database)) return { columns, rows: [] };
    const now = this.world.now();
    // Only the creation time of the "instance" is read: a database the world began with backs up on the clock.
    const backups = latestBackups(this.world, database.data, { createdAt: database.createdAt } as InstanceState, now);
    const row = (type: string, start: number, durationMs: number) => ({
      logical_server_name: session.server.name,
      logical_database_name: database.name,
      backup_start_date: new Date(start),
      backup_finish_date: new Date(Math.min(start + durationMs, now)),
      backup_type: type,
      in_retention: true,
    });
    return {
      columns,
      rows: [row('D', backups.full, 300_000), ...(backups.log === undefined ? [] : [row('L', backups.log, 20_000)])],
    };
  }
}
