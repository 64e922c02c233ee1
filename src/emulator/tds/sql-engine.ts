/**
 * What the emulated instances answer to SQL: virtual system views computed from the world (the seeding DMV is
 * ./seeding-stats.ts), `DATABASEPROPERTYEX`, the
 * copy-sync wait, and writes to `dbo.fogpilot_workload` (the table every emulated user database has, for workloads) and
 * `dbo.fogpilot_smoke` (the table fogpilot's write probes use). Both tables share the database's commit log, so their
 * writes replicate, harden, get refused while read-only and get lost in a forced failover alike.
 *
 * Error numbers are SQL Server's where it has one for the situation (208, 207, 102, 911, 976, 2812, 3902, 3903, 3906,
 * 18456). Explicit transactions are ./transactions.ts; logins ./logins.ts; a Standby secondary's refusal ./standby.ts.
 * `sp_wait_for_database_copy_sync` has no documented numbers; the emulator uses 51001 (no link to that partner),
 * 51002 (link connectivity lost) and 51003 (not the primary), which no client should rely on.
 */
import type { Column, CellValue, ColumnType, ParameterValue, RpcRequest } from './protocol';
import { SqlError, parseSql, type Condition, type Expr, type SelectItem, type Statement } from './sql-parser';
import { bracket, holdWrite, pendingRows, type TransactionState } from './transactions';
import { serverPrincipals } from './logins';
import { transactionManagerRequest } from './transaction-manager';
import { standbyReadRefusal } from './standby';
import { seedingStats } from './seeding-stats';
import { isSeeded } from '../world/seeding';
import { isRestoring } from '../world/database-restores';
import { latestBackups } from '../world/backups';
import { foldRows, rowIdOf } from '../world/rows';
import type { RowChange } from '../world/state';
import { linkGuid, type DatabaseState, type GroupState, type InstanceState, type World } from '../world';

export const EmulatorSqlErrors = { noLink: 51001, linkLost: 51002, notPrimary: 51003 } as const;

export interface Session {
  instance: InstanceState;
  database: string;
  user: string;
  /** The open transaction, shared by every copy of the session (./transactions.ts). */
  transaction: TransactionState;
  /** The client logged in with ApplicationIntent=ReadOnly. */
  readOnlyIntent?: boolean;
}

export interface ResultSet {
  columns: Column[];
  rows: CellValue[][];
}

export interface StatementResult {
  resultSet?: ResultSet;
  rowCount?: number;
  changedDatabase?: { from: string; to: string };
  returnStatus?: number;
}

export interface Execution {
  results: StatementResult[];
  error?: SqlError;
}

interface Table {
  columns: Column[];
  rows: Record<string, CellValue>[];
}

const SYSTEM_DATABASES = ['master', 'tempdb', 'model', 'msdb'];
const WORKLOAD_TABLE = 'fogpilot_workload';
const SMOKE_TABLE = 'fogpilot_smoke';
const WRITABLE_TABLES = new Set([WORKLOAD_TABLE, SMOKE_TABLE]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SqlEngine {
  constructor(private readonly world: World) {}

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

  async executeBatch(session: Session, sql: string, signal: AbortSignal): Promise<Execution> {
    const results: StatementResult[] = [];
    try {
      for (const statement of parseSql(sql)) results.push(await this.statement(session, statement, new Map(), signal));
      return { results };
    } catch (error) {
      return { results, error: toSqlError(error) };
    }
  }

  /** A transaction manager request (./transaction-manager.ts) on the session's transaction; the response's tokens. */
  transactionRequest(session: Session, data: Buffer, serverName: string): Buffer {
    return transactionManagerRequest(this.world, session.transaction, data, serverName, () => {});
  }

  async executeRpc(session: Session, request: RpcRequest, signal: AbortSignal): Promise<Execution> {
    const { database, procedure } = splitProcedure(request.procedure, session.database);
    const context: Session = { ...session, database };
    try {
      if (procedure === 'sp_executesql') {
        const [statement, , ...values] = request.parameters;
        if (typeof statement?.value !== 'string')
          throw new SqlError(214, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.");
        const variables = new Map(values.map((parameter) => [parameter.name.toLowerCase(), parameter.value]));
        const results: StatementResult[] = [];
        for (const parsed of parseSql(statement.value))
          results.push(await this.statement(context, parsed, variables, signal));
        return { results };
      }
      const args = request.parameters.map((parameter) => ({
        name: parameter.name || undefined,
        value: parameter.value,
      }));
      return { results: [await this.procedure(context, procedure, args, signal)] };
    } catch (error) {
      return { results: [], error: toSqlError(error) };
    }
  }

  private async statement(
    session: Session,
    statement: Statement,
    variables: Map<string, ParameterValue>,
    signal: AbortSignal,
  ): Promise<StatementResult> {
    switch (statement.kind) {
      case 'set':
      case 'noop':
        return {};
      case 'transaction':
        bracket(this.world, session.transaction, statement.action, () => {});
        return {};
      case 'use': {
        const found = this.databaseExists(session.instance, statement.database);
        if (!found)
          throw new SqlError(
            911,
            `Database '${statement.database}' does not exist. Make sure that the name is entered correctly.`,
          );
        const from = session.database;
        session.database = found;
        return { changedDatabase: { from, to: found } };
      }
      case 'exec': {
        const { database, procedure } = splitProcedure(statement.procedure.join('.'), session.database);
        const args = statement.args.map((arg) => ({
          name: arg.name,
          value: this.evaluate(arg.value, undefined, session, variables),
        }));
        if (procedure === 'sp_executesql') {
          const [text, , ...rest] = args;
          if (typeof text?.value !== 'string')
            throw new SqlError(214, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.");
          const inner = new Map(rest.filter((arg) => arg.name).map((arg) => [arg.name!.toLowerCase(), arg.value]));
          const context: Session = { ...session, database };
          let last: StatementResult = {};
          for (const parsed of parseSql(text.value)) last = await this.statement(context, parsed, inner, signal);
          return last;
        }
        return this.procedure({ ...session, database }, procedure, args, signal);
      }
      case 'insert':
        return this.insert(session, statement, variables);
      case 'update':
      case 'delete':
        return this.change(session, statement, variables);
      case 'rename-database':
        return this.renameDatabase(session, statement);
      case 'select':
        return { resultSet: this.select(session, statement, variables) };
    }
  }

  // ── procedures ─────────────────────────────────────────────────────────────────────────────────────────────────

  private async procedure(
    session: Session,
    procedure: string,
    args: { name?: string; value: ParameterValue }[],
    signal: AbortSignal,
  ): Promise<StatementResult> {
    if (procedure !== 'sp_wait_for_database_copy_sync')
      throw new SqlError(2812, `Could not find stored procedure '${procedure}'.`);
    const named = (name: string, position: number): ParameterValue | undefined =>
      args.find((arg) => arg.name?.toLowerCase() === `@${name}`)?.value ??
      args.filter((arg) => !arg.name)[position]?.value;
    const targetServer = named('target_server', 0);
    const targetDatabase = named('target_database', 1);
    if (typeof targetServer !== 'string' || typeof targetDatabase !== 'string') {
      throw new SqlError(
        201,
        "Procedure or function 'sp_wait_for_database_copy_sync' expects parameters '@target_server' and '@target_database', which were not supplied.",
      );
    }
    await this.waitForCopySync(session, targetServer, targetDatabase, signal);
    return { returnStatus: 0 };
  }

  /** Blocks until the secondary has hardened the LSN committed when the call began. */
  private async waitForCopySync(
    session: Session,
    targetServer: string,
    targetDatabase: string,
    signal: AbortSignal,
  ): Promise<void> {
    const located = this.locate(session.instance, session.database);
    const partner = located && this.world.partnerInstance(located.group, session.instance.id);
    const serverMatches =
      partner &&
      [partner.name, partner.fullyQualifiedDomainName].some(
        (name) => name.toLowerCase() === targetServer.toLowerCase(),
      );
    if (!located || !serverMatches || targetDatabase.toLowerCase() !== located.database.name.toLowerCase()) {
      throw new SqlError(
        EmulatorSqlErrors.noLink,
        `Database '${session.database}' has no geo-replication link to server '${targetServer}', database '${targetDatabase}'.`,
      );
    }
    const { group, database } = located;
    if (group.primaryInstanceId !== session.instance.id) {
      throw new SqlError(
        EmulatorSqlErrors.notPrimary,
        `Database '${database.name}' is not the primary of its geo-replication link; run sp_wait_for_database_copy_sync on the primary.`,
      );
    }
    const target = this.world.lastCommittedLsn(database);
    const startedAt = this.world.now();
    const linkTimeoutMs = this.world.timings.linkTimeoutSeconds * 1000;
    for (;;) {
      if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
      this.world.advance();
      const now = this.world.now();
      if (this.world.hardenedLsn(database, now) >= target) {
        this.world.note('copy-sync-waited', {
          group: group.name,
          instance: session.instance.name,
          detail: { database: database.name, targetLsn: target, waitedMs: now - startedAt },
        });
        return;
      }
      if (database.linkLostSince !== undefined && now - Math.max(database.linkLostSince, startedAt) >= linkTimeoutMs) {
        throw new SqlError(
          EmulatorSqlErrors.linkLost,
          `Connectivity to the partner of database '${database.name}' was lost; the copy could not be synchronized.`,
        );
      }
      if (group.primaryInstanceId !== session.instance.id) {
        throw new SqlError(
          EmulatorSqlErrors.notPrimary,
          `Database '${database.name}' stopped being the primary while waiting.`,
        );
      }
      await sleep(10);
    }
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────────────────────────

  private insert(
    session: Session,
    statement: Extract<Statement, { kind: 'insert' }>,
    variables: Map<string, ParameterValue>,
  ): StatementResult {
    const { database: databaseName, table } = splitTable(statement.table, session.database);
    const located = this.locate(session.instance, databaseName);
    if (!located || !WRITABLE_TABLES.has(table.toLowerCase()))
      throw new SqlError(208, `Invalid object name '${statement.table.join('.')}'.`);
    const columns = statement.columns ?? ['payload'];
    const payloadIndex = columns.findIndex((column) => column.toLowerCase() === 'payload');
    if (payloadIndex < 0 || columns.length !== statement.values.length) {
      throw new SqlError(
        110,
        'There are fewer columns in the INSERT statement than values specified in the VALUES clause, or the column is not payload.',
      );
    }
    const { group, database } = located;
    // Apply what has come due first: a switch that just happened must refuse this write on the old primary.
    this.world.advance();
    if (!this.world.acceptsWrites(group, session.instance.id, database)) {
      throw new SqlError(3906, `Failed to update database "${database.name}" because the database is read-only.`);
    }
    const value = this.evaluate(statement.values[payloadIndex]!, undefined, session, variables);
    const payload = value === null ? '' : String(value);
    const smoke = table.toLowerCase() === SMOKE_TABLE;
    const at = this.world.now();
    const held = holdWrite(session.transaction, {
      group,
      instanceId: session.instance.id,
      database,
      payload,
      smoke,
      at,
    });
    const commit = held ? undefined : this.world.commit(group, database, payload, session.instance.id, { smoke });
    if (statement.output.length === 0) return { rowCount: 1 };
    const row: Record<string, CellValue> = {
      id: commit ? rowIdOf(commit) : held!.id,
      payload,
      committed_at: new Date(commit?.committedAt ?? at),
    };
    const workload = this.workloadColumns();
    const output = statement.output.map((name) => {
      const column = workload.find((entry) => entry.name.toLowerCase() === name.toLowerCase());
      if (!column) throw new SqlError(207, `Invalid column name '${name}'.`);
      return column;
    });
    return { rowCount: 1, resultSet: { columns: output, rows: [output.map((column) => row[column.name] ?? null)] } };
  }

  /**
   * `UPDATE … SET payload = …` or `DELETE FROM …`, with WHERE over the rows the session sees: one commit naming the rows
   * it changes (none when nothing matches), refused on a read-only copy exactly as an insert is.
   */
  private change(
    session: Session,
    statement: Extract<Statement, { kind: 'update' | 'delete' }>,
    variables: Map<string, ParameterValue>,
  ): StatementResult {
    const { database: databaseName, table } = splitTable(statement.table, session.database);
    const located = this.locate(session.instance, databaseName);
    if (!located || !WRITABLE_TABLES.has(table.toLowerCase()))
      throw new SqlError(208, `Invalid object name '${statement.table.join('.')}'.`);
    const { group, database } = located;
    const smoke = table.toLowerCase() === SMOKE_TABLE;
    const assignments = statement.kind === 'update' ? statement.assignments : [];
    for (const { column } of assignments) {
      if (column.toLowerCase() === 'id') throw new SqlError(8102, "Cannot update identity column 'id'.");
      if (column.toLowerCase() !== 'payload') {
        if (!this.workloadColumns().some((entry) => entry.name.toLowerCase() === column.toLowerCase()))
          throw new SqlError(207, `Invalid column name '${column}'.`);
        throw new SqlError(50000, `The emulator updates payload only, not '${column}'.`);
      }
    }
    this.world.advance();
    if (!this.world.acceptsWrites(group, session.instance.id, database)) {
      throw new SqlError(3906, `Failed to update database "${database.name}" because the database is read-only.`);
    }
    const rows = this.tableRows(session, database, smoke, true).filter(
      (row) => !statement.where || this.test(statement.where, row, session, variables),
    );
    if (rows.length === 0) return { rowCount: 0 };
    let change: RowChange;
    if (statement.kind === 'delete') change = { kind: 'delete', rowIds: rows.map((row) => Number(row.id)) };
    else {
      const value = assignments.at(-1)!.value;
      change = {
        kind: 'update',
        rows: rows.map((row) => {
          const payload = this.evaluate(value, row, session, variables);
          return { id: Number(row.id), payload: payload === null ? '' : String(payload) };
        }),
      };
    }
    const held = holdWrite(session.transaction, {
      group,
      instanceId: session.instance.id,
      database,
      payload: '',
      smoke,
      change,
      at: this.world.now(),
    });
    if (!held) this.world.commit(group, database, '', session.instance.id, { change, smoke });
    return { rowCount: rows.length };
  }

  /**
   * `ALTER DATABASE a MODIFY NAME = b`: refused for a database of a failover group (Azure: groups and their databases
   * cannot be renamed), with SQL Server's error for a database in an availability group; an instance's own database is
   * renamed.
   */
  private renameDatabase(
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

  /** The rows of a table the session sees: the fold of the commits visible on its instance, plus its pending ones. */
  private tableRows(
    session: Session,
    database: DatabaseState,
    smoke: boolean,
    isPrimary: boolean,
  ): Record<string, CellValue>[] {
    const now = this.world.now();
    return [
      ...foldRows(database.commits, smoke, (commit) => isPrimary || commit.hardenedAt <= now).map((row) => ({
        id: row.id,
        payload: row.payload,
        committed_at: new Date(row.committedAt),
      })),
      ...pendingRows(session.transaction, database, smoke),
    ];
  }

  private workloadColumns(): Column[] {
    return [
      { name: 'id', type: 'bigint' },
      { name: 'payload', type: 'nvarchar' },
      { name: 'committed_at', type: 'datetime2' },
    ];
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────────────────────────

  private table(session: Session, parts: string[]): Table {
    const normalized = parts.map((part) => part.toLowerCase());
    const name = normalized.at(-1)!;
    const schema = normalized.at(-2);
    const database = normalized.length === 3 ? normalized[0]! : session.database.toLowerCase();
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
      return {
        columns: [
          { name: 'name', type: 'nvarchar' },
          { name: 'database_id', type: 'int' },
          { name: 'state_desc', type: 'nvarchar' },
          { name: 'is_read_only', type: 'bit' },
          { name: 'recovery_model_desc', type: 'nvarchar' },
        ],
        rows: names.map((databaseName, index) => ({
          name: databaseName,
          database_id: index + 1,
          state_desc: stateOf(databaseName),
          is_read_only: this.updateability(instance, databaseName) === 'READ_ONLY',
          recovery_model_desc: index < 4 ? 'SIMPLE' : 'FULL',
        })),
      };
    }
    if (schema === 'sys' && name === 'dm_geo_replication_link_status') {
      const located = this.locate(instance, database);
      const columns: Column[] = [
        { name: 'link_guid', type: 'nvarchar' },
        { name: 'partner_server', type: 'nvarchar' },
        { name: 'partner_database', type: 'nvarchar' },
        { name: 'last_replication', type: 'datetime2' },
        { name: 'replication_lag_sec', type: 'int' },
        { name: 'replication_state', type: 'tinyint' },
        { name: 'replication_state_desc', type: 'nvarchar' },
        { name: 'role', type: 'tinyint' },
        { name: 'role_desc', type: 'nvarchar' },
        { name: 'secondary_allow_connections', type: 'tinyint' },
        { name: 'secondary_allow_connections_desc', type: 'nvarchar' },
        { name: 'last_commit', type: 'datetime2' },
      ];
      if (!located) return { columns, rows: [] };
      const { group, database: state } = located;
      const isPrimary = group.primaryInstanceId === instance.id;
      const partner = this.world.partnerInstance(group, instance.id);
      // Per database: SEEDING until its own seeding to the secondary has ended (../world/seeding.ts).
      const seeding = state.seeding ? !isSeeded(state, now) : this.world.isSeeding(group);
      const suspended = state.linkLostSince !== undefined;
      const [replicationState, replicationStateDesc] = seeding
        ? [1, 'SEEDING']
        : suspended
          ? [4, 'SUSPENDED']
          : [2, 'CATCH_UP'];
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
          {
            link_guid: linkGuid(group, state.name),
            partner_server: partner.name,
            partner_database: state.name,
            last_replication: isPrimary ? new Date(now - this.world.currentLagMs(state, now)) : null,
            replication_lag_sec: isPrimary ? this.world.replicationLagSeconds(state, now) : null,
            replication_state: replicationState,
            replication_state_desc: replicationStateDesc,
            role: isPrimary ? 0 : 1,
            role_desc: isPrimary ? 'PRIMARY' : 'SECONDARY',
            secondary_allow_connections: 2,
            secondary_allow_connections_desc: 'ALL',
            last_commit: lastCommit ? new Date(lastCommit.committedAt) : null,
          },
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
    if (WRITABLE_TABLES.has(name)) {
      const located = this.locate(instance, database);
      const refusal = located && standbyReadRefusal(located.group, instance, located.database.name);
      if (refusal) throw refusal;
      if (located) {
        const isPrimary = located.group.primaryInstanceId === instance.id;
        return {
          columns: this.workloadColumns(),
          rows: this.tableRows(session, located.database, name === SMOKE_TABLE, isPrimary),
        };
      }
    }
    throw new SqlError(208, `Invalid object name '${parts.join('.')}'.`);
  }

  updateability(instance: InstanceState, databaseName: string): string | null {
    if (SYSTEM_DATABASES.includes(databaseName.toLowerCase())) return 'READ_WRITE';
    const located = this.locate(instance, databaseName);
    if (!located) return null;
    return this.world.acceptsWrites(located.group, instance.id, located.database) ? 'READ_WRITE' : 'READ_ONLY';
  }

  private select(
    session: Session,
    statement: Extract<Statement, { kind: 'select' }>,
    variables: Map<string, ParameterValue>,
  ): ResultSet {
    const table: Table = statement.from ? this.table(session, statement.from) : { columns: [], rows: [{}] };
    let rows = table.rows.filter((row) => !statement.where || this.test(statement.where, row, session, variables));
    const aggregate =
      statement.groupBy.length > 0 || statement.items.some((item) => item.expr !== '*' && containsAggregate(item.expr));
    const items: SelectItem[] = statement.items.flatMap((item) =>
      item.expr === '*' ? table.columns.map((column) => ({ expr: { kind: 'column', parts: [column.name] } })) : [item],
    );
    const columns: Column[] = items
      .map((item, index) => ({
        name: item.alias ?? (item.expr !== '*' && item.expr.kind === 'column' ? item.expr.parts.at(-1)! : ''),
        type: this.typeOf(item.expr as Expr, table) ?? 'nvarchar',
        index,
      }))
      .map(({ name, type }) => ({ name, type }));

    let output: { values: CellValue[]; source: Record<string, CellValue>[] }[];
    if (aggregate) {
      const groups = new Map<string, Record<string, CellValue>[]>();
      for (const row of rows) {
        const key = JSON.stringify(
          statement.groupBy.map((expr) => String(this.evaluate(expr, row, session, variables))),
        );
        groups.set(key, [...(groups.get(key) ?? []), row]);
      }
      if (groups.size === 0 && statement.groupBy.length === 0) groups.set('[]', []);
      output = [...groups.values()].map((members) => ({
        values: items.map((item) => this.evaluateAggregate(item.expr as Expr, members, session, variables)),
        source: members,
      }));
    } else {
      output = rows.map((row) => ({
        values: items.map((item) => this.evaluate(item.expr as Expr, row, session, variables)),
        source: [row],
      }));
    }
    if (statement.orderBy.length) {
      output.sort((a, b) => {
        for (const { expr, descending } of statement.orderBy) {
          const position =
            expr.kind === 'column'
              ? columns.findIndex((column) => column.name.toLowerCase() === expr.parts.at(-1)!.toLowerCase())
              : -1;
          const left = position >= 0 ? a.values[position] : this.evaluate(expr, a.source[0], session, variables);
          const right = position >= 0 ? b.values[position] : this.evaluate(expr, b.source[0], session, variables);
          const order = compareValues(left, right);
          if (order !== 0) return descending ? -order : order;
        }
        return 0;
      });
    }
    rows = [];
    const limited = statement.top !== undefined ? output.slice(0, statement.top) : output;
    return { columns, rows: limited.map((entry) => entry.values) };
  }

  private typeOf(expr: Expr, table: Table): ColumnType | undefined {
    switch (expr.kind) {
      case 'literal':
        return typeof expr.value === 'number' ? (Number.isInteger(expr.value) ? 'int' : 'float') : 'nvarchar';
      case 'column':
        return table.columns.find((column) => column.name.toLowerCase() === expr.parts.at(-1)!.toLowerCase())?.type;
      case 'variable':
        return /^@@(TRANCOUNT|SPID)$/i.test(expr.name) ? 'int' : 'nvarchar';
      case 'cast':
        if (/^(int|smallint)/.test(expr.type)) return 'int';
        if (expr.type.startsWith('tinyint')) return 'tinyint';
        if (expr.type.startsWith('bigint')) return 'bigint';
        if (expr.type.startsWith('bit')) return 'bit';
        if (/^(datetime|date)/.test(expr.type)) return 'datetime2';
        if (/^(float|real|decimal|numeric)/.test(expr.type)) return 'float';
        return 'nvarchar';
      case 'call':
        switch (expr.name) {
          case 'COUNT':
          case 'DB_ID':
            return 'int';
          case 'COUNT_BIG':
            return 'bigint';
          case 'MAX':
          case 'MIN':
          case 'ISNULL':
            return expr.args[0] ? this.typeOf(expr.args[0], table) : 'nvarchar';
          case 'GETUTCDATE':
          case 'SYSUTCDATETIME':
          case 'GETDATE':
          case 'SYSDATETIME':
            return 'datetime2';
          default:
            return 'nvarchar';
        }
    }
  }

  private evaluateAggregate(
    expr: Expr,
    rows: Record<string, CellValue>[],
    session: Session,
    variables: Map<string, ParameterValue>,
  ): CellValue {
    if (expr.kind === 'call' && ['COUNT', 'COUNT_BIG', 'MAX', 'MIN', 'SUM'].includes(expr.name)) {
      if (expr.name === 'COUNT' || expr.name === 'COUNT_BIG') {
        return expr.star
          ? rows.length
          : rows.filter((row) => this.evaluate(expr.args[0]!, row, session, variables) !== null).length;
      }
      const values = rows
        .map((row) => this.evaluate(expr.args[0]!, row, session, variables))
        .filter((value) => value !== null);
      if (values.length === 0) return null;
      if (expr.name === 'SUM') return values.reduce<number>((total, value) => total + Number(value), 0);
      return values.reduce((best, value) =>
        compareValues(value, best) * (expr.name === 'MAX' ? 1 : -1) > 0 ? value : best,
      );
    }
    return this.evaluate(expr, rows[0] ?? {}, session, variables);
  }

  private evaluate(
    expr: Expr,
    row: Record<string, CellValue> | undefined,
    session: Session,
    variables: Map<string, ParameterValue>,
  ): CellValue {
    switch (expr.kind) {
      case 'literal':
        return expr.value;
      case 'variable': {
        const name = expr.name.toUpperCase();
        if (name === '@@VERSION')
          return 'Microsoft SQL Azure (RTM) - 12.0.2000.8 (fogpilot emulator of Azure SQL Managed Instance)';
        if (name === '@@SERVERNAME') return session.instance.name;
        if (name === '@@SPID') return 51;
        if (name === '@@TRANCOUNT') return session.transaction.depth;
        if (!variables.has(expr.name.toLowerCase()))
          throw new SqlError(137, `Must declare the scalar variable "${expr.name}".`, 15);
        const value = variables.get(expr.name.toLowerCase());
        return value === undefined ? null : value;
      }
      case 'column': {
        const name = expr.parts.at(-1)!.toLowerCase();
        const key = row && Object.keys(row).find((candidate) => candidate.toLowerCase() === name);
        if (!row || key === undefined) throw new SqlError(207, `Invalid column name '${expr.parts.join('.')}'.`);
        return row[key] ?? null;
      }
      case 'cast': {
        const value = this.evaluate(expr.expr, row, session, variables);
        if (value === null) return null;
        if (/^(int|smallint|tinyint|bigint)/.test(expr.type)) return Number.parseInt(String(value), 10);
        if (expr.type.startsWith('bit')) return Boolean(Number(value));
        if (/^(n?varchar|n?char|sysname)/.test(expr.type))
          return value instanceof Date
            ? value.toISOString()
            : Buffer.isBuffer(value)
              ? `0x${value.toString('hex').toUpperCase()}`
              : String(value);
        return value;
      }
      case 'call':
        return this.call(expr, row, session, variables);
    }
  }

  private call(
    expr: Extract<Expr, { kind: 'call' }>,
    row: Record<string, CellValue> | undefined,
    session: Session,
    variables: Map<string, ParameterValue>,
  ): CellValue {
    const arg = (index: number): CellValue =>
      expr.args[index] ? this.evaluate(expr.args[index], row, session, variables) : null;
    const now = new Date(this.world.now());
    switch (expr.name) {
      case 'DB_NAME':
        return expr.args.length
          ? ([...SYSTEM_DATABASES, ...this.userDatabases(session.instance)][Number(arg(0)) - 1] ?? null)
          : session.database;
      case 'DB_ID': {
        const name = expr.args.length ? String(arg(0)) : session.database;
        const index = [...SYSTEM_DATABASES, ...this.userDatabases(session.instance)].findIndex(
          (database) => database.toLowerCase() === name.toLowerCase(),
        );
        return index < 0 ? null : index + 1;
      }
      case 'DATABASEPROPERTYEX': {
        const database = String(arg(0));
        const property = String(arg(1)).toLowerCase();
        if (!this.databaseExists(session.instance, database)) return null;
        if (property === 'updateability') return this.updateability(session.instance, database);
        if (property === 'status') return 'ONLINE';
        if (property === 'collation') return session.instance.collation;
        return null;
      }
      case 'SERVERPROPERTY': {
        const property = String(arg(0)).toLowerCase();
        if (property === 'engineedition') return '8';
        if (property === 'productversion') return '12.0.2000.8';
        if (property === 'servername') return session.instance.name;
        if (property === 'edition') return 'SQL Azure';
        return null;
      }
      case 'GETUTCDATE':
      case 'SYSUTCDATETIME':
      case 'GETDATE':
      case 'SYSDATETIME':
        return now;
      case 'ISNULL':
        return arg(0) ?? arg(1);
      case 'UPPER':
        return arg(0) === null ? null : String(arg(0)).toUpperCase();
      case 'LOWER':
        return arg(0) === null ? null : String(arg(0)).toLowerCase();
      case 'COUNT':
      case 'COUNT_BIG':
      case 'MAX':
      case 'MIN':
      case 'SUM':
        throw new SqlError(
          8120,
          `Column is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.`,
        );
      default:
        throw new SqlError(195, `'${expr.name}' is not a recognized built-in function name.`, 15);
    }
  }

  private test(
    condition: Condition,
    row: Record<string, CellValue>,
    session: Session,
    variables: Map<string, ParameterValue>,
  ): boolean {
    switch (condition.kind) {
      case 'and':
        return (
          this.test(condition.left, row, session, variables) && this.test(condition.right, row, session, variables)
        );
      case 'or':
        return (
          this.test(condition.left, row, session, variables) || this.test(condition.right, row, session, variables)
        );
      case 'not':
        return !this.test(condition.condition, row, session, variables);
      case 'isnull': {
        const isNull = this.evaluate(condition.expr, row, session, variables) === null;
        return condition.not ? !isNull : isNull;
      }
      case 'in': {
        const value = this.evaluate(condition.expr, row, session, variables);
        const found = condition.list.some(
          (item) => compareValues(value, this.evaluate(item, row, session, variables)) === 0,
        );
        return value !== null && (condition.not ? !found : found);
      }
      case 'like': {
        const value = this.evaluate(condition.expr, row, session, variables);
        const pattern = String(this.evaluate(condition.pattern, row, session, variables));
        if (value === null) return false;
        const matched = likeToRegExp(pattern).test(String(value));
        return condition.not ? !matched : matched;
      }
      case 'compare': {
        const left = this.evaluate(condition.left, row, session, variables);
        const right = this.evaluate(condition.right, row, session, variables);
        if (left === null || right === null) return false;
        const order = compareValues(left, right);
        switch (condition.op) {
          case '=':
            return order === 0;
          case '<>':
          case '!=':
            return order !== 0;
          case '<':
            return order < 0;
          case '>':
            return order > 0;
          case '<=':
            return order <= 0;
          default:
            return order >= 0;
        }
      }
    }
  }
}

/**
 * T-SQL LIKE as a regular expression: `%` any run, `_` any one character, `[…]` a set (`[^…]` its complement, `[%]` a
 * literal `%`), everything else literally, case-insensitively (the default collation is CI).
 */
function likeToRegExp(pattern: string): RegExp {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '%') source += '[\\s\\S]*';
    else if (char === '_') source += '[\\s\\S]';
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        source += literal(char);
        continue;
      }
      const body = pattern.slice(i + 1, close);
      const negated = body.startsWith('^') && body.length > 1;
      const members = (negated ? body.slice(1) : body).replace(/[\\\]^[]/g, '\\$&');
      source += `[${negated ? '^' : ''}${members}]`;
      i = close;
    } else source += literal(char);
  }
  return new RegExp(`^${source}$`, 'i');
}

function containsAggregate(expr: Expr): boolean {
  if (expr.kind === 'call')
    return ['COUNT', 'COUNT_BIG', 'MAX', 'MIN', 'SUM'].includes(expr.name) || expr.args.some(containsAggregate);
  if (expr.kind === 'cast') return containsAggregate(expr.expr);
  return false;
}

/** SQL comparison: numbers as numbers, dates as instants, text case-insensitively (the default collation is CI). */
function compareValues(
  left: CellValue | ParameterValue | undefined,
  right: CellValue | ParameterValue | undefined,
): number {
  if (left === right) return 0;
  if (left === null || left === undefined) return -1;
  if (right === null || right === undefined) return 1;
  if (left instanceof Date || right instanceof Date)
    return new Date(left as string).getTime() - new Date(right as string).getTime();
  if (typeof left === 'number' || typeof left === 'bigint' || typeof right === 'number' || typeof right === 'bigint') {
    const a = Number(left);
    const b = Number(right);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return a === b ? 0 : a < b ? -1 : 1;
  }
  if (Buffer.isBuffer(left) && Buffer.isBuffer(right)) return Buffer.compare(left, right);
  return String(left).localeCompare(String(right), 'en', { sensitivity: 'accent' });
}

/** `[db].sys.sp_x` → database and procedure name (schema dropped); `sp_x` runs in the session's database. */
function splitProcedure(name: string, database: string): { database: string; procedure: string } {
  const parts = name.split('.').map((part) => part.replace(/^\[|\]$/g, ''));
  const procedure = parts.at(-1)!.toLowerCase();
  return { database: parts.length === 3 ? parts[0]! : database, procedure };
}

function splitTable(parts: string[], database: string): { database: string; table: string } {
  return { database: parts.length === 3 ? parts[0]! : database, table: parts.at(-1)! };
}

function stableGuid(seed: string): string {
  let hash = 0x811c9dc5;
  for (const char of seed) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex}0000`.toUpperCase();
}

function toSqlError(error: unknown): SqlError {
  if (error instanceof SqlError) return error;
  if (error instanceof Error && error.name === 'AbortError') throw error;
  return new SqlError(50000, error instanceof Error ? error.message : String(error));
}
