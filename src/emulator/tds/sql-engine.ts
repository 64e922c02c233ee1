/**
 * What the emulated managed instances answer to SQL (the language itself is ./tsql-engine.ts): virtual system views
 * computed from the world (the seeding DMV is ./seeding-stats.ts), `DATABASEPROPERTYEX`, the
 * copy-sync wait, and writes to `dbo.fogpilot_workload` (the table every emulated user database has, for workloads) and
 * `dbo.fogpilot_smoke` (the table fogpilot's write probes use). Both tables share the database's commit log, so their
 * writes replicate, harden, get refused while read-only and get lost in a forced failover alike.
 *
 * Error numbers are SQL Server's where it has one for the situation (208, 207, 102, 911, 976, 2812, 3902, 3903, 3906,
 * 18456). Explicit transactions are ./transactions.ts; logins ./logins.ts; a Standby secondary's refusal ./standby.ts.
 * `sp_wait_for_database_copy_sync` runs as ./copy-sync.ts does on every server, over the group's link.
 */
import { SqlError, type Statement } from './sql-parser';
import type { WriteTarget } from './transactions';
import { serverPrincipals } from './logins';
import { standbyReadRefusal } from './standby';
import { seedingStats } from './seeding-stats';
import { LINK_STATUS_COLUMNS, databasesTable, linkStatusRow, replicationState } from './system-views';
import type { CopySyncLink } from './copy-sync';
import { TsqlEngine, type EngineSession, type ReadSource, type StatementResult, type Table } from './tsql-engine';
import { isSeeded } from '../world/seeding';
import { isRestoring } from '../world/database-restores';
import { latestBackups } from '../world/backups';
import { linkGuid, type DatabaseState, type GroupState, type InstanceState } from '../world';

export type { Execution, ResultSet, StatementResult } from './tsql-engine';

export { EmulatorSqlErrors } from './copy-sync';

/** A session on a managed instance. */
export interface Session extends EngineSession {
  instance: InstanceState;
}

const SYSTEM_DATABASES = ['master', 'tempdb', 'model', 'msdb'];

export class SqlEngine extends TsqlEngine<Session> {
  /** The group and database behind a database name on an instance, when it is a replicated user database. */
  private locate(
    instance: InstanceState,
    database: string,
  ): { group: GroupState; database: DatabaseState } | undefined {
    const group = this.world.groupOfInstance(instance.id);
    const state = group && this.world.databaseOf(group, database);
    return group && state && !isRestoring(state, this.world.now()) ? { group, database: state } : undefined;
  }

  /**
   * The instance's user databases: its group's, or, in no group, its own (world spec `instances[].databases`); one
   * still being restored is not there yet for SQL.
   */
  private userDatabases(instance: InstanceState): string[] {
    const group = this.world.groupOfInstance(instance.id);
    const now = this.world.now();
    if (group)
      return group.databases.filter((database) => !isRestoring(database, now)).map((database) => database.name);
    return instance.databases
      .filter((database) => !database.retained || !isRestoring(database.retained, now))
      .map((database) => database.name);
  }

  /** The database's name as the instance spells it, if the instance has it. */
  databaseExists(instance: InstanceState, name: string): string | undefined {
    return [...SYSTEM_DATABASES, ...this.userDatabases(instance)].find(
      (database) => database.toLowerCase() === name.toLowerCase(),
    );
  }

  protected serverName(session: Session): string {
    return session.instance.name;
  }

  protected versionText(): string {
    return 'Microsoft SQL Azure (RTM) - 12.0.2000.8 (fogpilot emulator of Azure SQL Managed Instance)';
  }

  protected engineEdition(): string {
    return '8';
  }

  protected collation(session: Session): string {
    return session.instance.collation;
  }

  protected databaseNames(session: Session): string[] {
    return [...SYSTEM_DATABASES, ...this.userDatabases(session.instance)];
  }

  protected resolveDatabase(session: Session, name: string): string | undefined {
    return this.databaseExists(session.instance, name);
  }

  protected updateabilityOf(session: Session, database: string): string | null {
    return this.updateability(session.instance, database);
  }

  protected use(session: Session, database: string): StatementResult {
    const found = this.databaseExists(session.instance, database);
    if (!found)
      throw new SqlError(911, `Database '${database}' does not exist. Make sure that the name is entered correctly.`);
    const from = session.database;
    session.database = found;
    return { changedDatabase: { from, to: found } };
  }

  protected writeTarget(session: Session, database: string): WriteTarget | undefined {
    const located = this.locate(session.instance, database);
    if (!located) return undefined;
    const { group, database: state } = located;
    const instanceId = session.instance.id;
    return {
      database: state,
      acceptsWrites: () => this.world.acceptsWrites(group, instanceId, state),
      commit: (payload, options) => this.world.commit(group, state, payload, instanceId, options),
    };
  }

  protected readSource(session: Session, database: string): ReadSource | undefined {
    const located = this.locate(session.instance, database);
    if (!located) return undefined;
    const refusal = standbyReadRefusal(located.group, session.instance, located.database.name);
    if (refusal) throw refusal;
    return { log: located.database, isPrimary: located.group.primaryInstanceId === session.instance.id };
  }

  // ── the copy-sync wait (./copy-sync.ts) ─────────────────────────────────────────────────────────────────────────

  /** The group's link of the session's database, when the target is the partner instance and the same database. */
  protected copySyncLink(session: Session, targetServer: string, targetDatabase: string): CopySyncLink | undefined {
    const located = this.locate(session.instance, session.database);
    const partner = located && this.world.partnerInstance(located.group, session.instance.id);
    const serverMatches =
      partner &&
      [partner.name, partner.fullyQualifiedDomainName].some(
        (name) => name.toLowerCase() === targetServer.toLowerCase(),
      );
    if (!located || !serverMatches || targetDatabase.toLowerCase() !== located.database.name.toLowerCase())
      return undefined;
    const { group, database } = located;
    return {
      database: database.name,
      lastCommittedLsn: () => this.world.lastCommittedLsn(database),
      hardened: (lsn, now) => this.world.hardenedLsn(database, now) >= lsn,
      linkLostSince: () => database.linkLostSince,
      isPrimary: () => group.primaryInstanceId === session.instance.id,
      partnerLabel: 'the partner',
      noted: { group: group.name, instance: session.instance.name, detail: { database: database.name } },
    };
  }

  /**
   * `ALTER DATABASE a MODIFY NAME = b`: refused for a database of a failover group (Azure: groups and their databases
   * cannot be renamed), with SQL Server's error for a database in an availability group; an instance's own database is
   * renamed.
   */
  protected renameDatabase(
    session: Session,
    statement: Extract<Statement, { kind: 'rename-database' }>,
  ): StatementResult {
    const found = this.databaseExists(session.instance, statement.database);
    if (!found)
      throw new SqlError(
        911,
        `Database '${statement.database}' does not exist. Make sure that the name is entered correctly.`,
      );
    if (SYSTEM_DATABASES.includes(found.toLowerCase()))
      throw new SqlError(50000, `The database '${found}' is a system database and cannot be renamed.`);
    const located = this.locate(session.instance, found);
    if (located) {
      throw new SqlError(
        1468,
        `The operation cannot be performed on database "${found}" because it is involved in a database mirroring session or an availability group. Some operations are not allowed on a database that is participating in a database mirroring session or in an availability group: ${found} is in failover group ${located.group.name}, and a failover group's databases cannot be renamed.`,
      );
    }
    if (this.databaseExists(session.instance, statement.newName))
      throw new SqlError(1801, `Database '${statement.newName}' already exists. Choose a different database name.`);
    const own = session.instance.databases.find((entry) => entry.name === found)!;
    own.name = statement.newName;
    if (own.retained) own.retained.name = statement.newName;
    return {};
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────────────────────────

  protected systemTable(
    session: Session,
    schema: string | undefined,
    name: string,
    database: string,
  ): Table | undefined {
    const { instance } = session;
    const now = this.world.now();
    if (schema === 'sys' && name === 'databases') {
      const names = [...SYSTEM_DATABASES, ...this.userDatabases(instance)];
      // A group's database not seeded yet is RESTORING on the secondary, as a seeding database is on SQL Server.
      const stateOf = (databaseName: string) => {
        const located = this.locate(instance, databaseName);
        return located && located.group.primaryInstanceId !== instance.id && !isSeeded(located.database, now)
          ? 'RESTORING'
          : 'ONLINE';
      };
      return databasesTable(
        names.map((databaseName, index) => ({
          name: databaseName,
          database_id: index + 1,
          state_desc: stateOf(databaseName),
          is_read_only: this.updateability(instance, databaseName) === 'READ_ONLY',
          recovery_model_desc: index < 4 ? 'SIMPLE' : 'FULL',
        })),
      );
    }
    if (schema === 'sys' && name === 'dm_geo_replication_link_status') {
      const located = this.locate(instance, database);
      const columns = LINK_STATUS_COLUMNS;
      if (!located) return { columns, rows: [] };
      const { group, database: state } = located;
      const isPrimary = group.primaryInstanceId === instance.id;
      const partner = this.world.partnerInstance(group, instance.id);
      // Per database: SEEDING until its own seeding to the secondary has ended (../world/seeding.ts).
      const seeding = state.seeding ? !isSeeded(state, now) : this.world.isSeeding(group);
      const suspended = state.linkLostSince !== undefined;
      // Each column as Microsoft documents it for this side (learn.microsoft.com/sql/relational-databases/
      // system-dynamic-management-views/sys-dm-geo-replication-link-status-azure-sql-database):
      // - last_replication and replication_lag_sec: "available on the primary database only", so NULL on the secondary;
      // - last_commit: on the primary, its last commit; on the secondary, the last commit it holds, which is "until
      //   what point the secondary has caught up" when the primary is down — here the last commit hardened there.
      // While seeding the secondary holds no consistent copy (state 1: "the two databases aren't synchronized yet"),
      // so it reports no last_commit (inferred: Microsoft does not say what the column holds then).
      const lastCommit = isPrimary
        ? state.commits.at(-1)
        : seeding
          ? undefined
          : this.world.lastHardenedCommit(state, now);
      return {
        columns,
        rows: [
          linkStatusRow(
            {
              linkGuid: linkGuid(group, state.name),
              partnerServer: partner.name,
              partnerDatabase: state.name,
              isPrimary,
              state: replicationState(seeding, suspended),
            },
            {
              lastReplication: () => new Date(now - this.world.currentLagMs(state, now)),
              lagSeconds: () => this.world.replicationLagSeconds(state, now),
            },
            lastCommit,
          ),
        ],
      };
    }
    if (schema === 'sys' && name === 'dm_hadr_physical_seeding_stats') return seedingStats(this.world, instance, now);
    if (schema === 'sys' && name === 'server_principals') return serverPrincipals(this.world, instance);
    if (database === 'msdb' && name === 'sysjobs') {
      return {
        columns: [
          { name: 'job_id', type: 'nvarchar' },
          { name: 'name', type: 'nvarchar' },
          { name: 'enabled', type: 'tinyint' },
        ],
        rows: instance.agentJobs.map((job) => ({
          job_id: stableGuid(`${instance.name}/${job}`),
          name: job,
          enabled: 1,
        })),
      };
    }
    if (database === 'msdb' && name === 'backupset') {
      // Automated backups run on the primary only: a full one at creation and daily at midnight, the log every
      // `timings.logBackupMinutes` (../world/backups.ts); a restored database's history starts at its creation.
      const group = this.world.groupOfInstance(instance.id);
      const onPrimary = group?.primaryInstanceId === instance.id;
      const rows = onPrimary
        ? group.databases
            .filter((state) => !isRestoring(state, now))
            .flatMap((state) => {
              const backups = latestBackups(this.world, state, instance, now);
              const full = {
                database_name: state.name,
                type: 'D',
                backup_start_date: new Date(backups.full),
                backup_finish_date: new Date(Math.min(backups.full + 300_000, now)),
              };
              if (backups.log === undefined) return [full];
              return [
                full,
                {
                  database_name: state.name,
                  type: 'L',
                  backup_start_date: new Date(backups.log),
                  backup_finish_date: new Date(Math.min(backups.log + 20_000, now)),
                },
              ];
            })
        : [];
      return {
        columns: [
          { name: 'database_name', type: 'nvarchar' },
          { name: 'type', type: 'nvarchar' },
          { name: 'backup_start_date', type: 'datetime2' },
          { name: 'backup_finish_date', type: 'datetime2' },
        ],
        rows,
      };
    }
    return undefined;
  }

  updateability(instance: InstanceState, databaseName: string): string | null {
    if (SYSTEM_DATABASES.includes(databaseName.toLowerCase())) return 'READ_WRITE';
    const located = this.locate(instance, databaseName);
    if (!located) return null;
    return this.world.acceptsWrites(located.group, instance.id, located.database) ? 'READ_WRITE' : 'READ_ONLY';
  }
}

function stableGuid(seed: string): string {
  let hash = 0x811c9dc5;
  for (const char of seed) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex}0000`.toUpperCase();
}
