/**
 * The T-SQL an emulated SQL endpoint answers, whatever serves it: statements and batches, `sp_executesql`, SELECT
 * over a table (filters, aggregates, grouping, ordering), expressions and built-in functions, and writes to
 * `dbo.fogpilot_workload` and `dbo.fogpilot_smoke` through the session's transaction (./transactions.ts). What a
 * database is, where its rows live and which system views exist is the server's: a managed instance (./sql-engine.ts)
 * or a logical server of SQL Database (./sql-database-engine.ts) answer the hooks below from the world.
 */
import type { Column, CellValue, ColumnType, ParameterValue, ProcedureArgs, RpcRequest } from './protocol';
import { SqlError, parseSql, type Condition, type Expr, type SelectItem, type Statement } from './sql-parser';
import { bracket, holdWrite, pendingRows, type TransactionState, type WriteTarget } from './transactions';
import { transactionManagerRequest } from './transaction-manager';
import { copySyncArguments, waitForCopySync, type CopySyncLink } from './copy-sync';
import { foldRows, rowIdOf } from '../world/rows';
import type { RowChange } from '../world/state';
import type { DatabaseState, World } from '../world';

/** What every session has, wherever it is: the database it is in, its user and its transaction. */
export interface EngineSession {
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

export interface Table {
  columns: Column[];
  rows: Record<string, CellValue>[];
}

export const WORKLOAD_TABLE = 'fogpilot_workload';
export const SMOKE_TABLE = 'fogpilot_smoke';
export const WRITABLE_TABLES = new Set([WORKLOAD_TABLE, SMOKE_TABLE]);

/** A user database's rows as a session reads them: its log, and whether this copy is the primary (else: hardened only). */
export interface ReadSource {
  log: DatabaseState;
  isPrimary: boolean;
}

/** A procedure's arguments, named or by position. */
export type { ProcedureArgs } from './protocol';

export abstract class TsqlEngine<S extends EngineSession> {
  constructor(protected readonly world: World) {}

  // ── what the server answers ────────────────────────────────────────────────────────────────────────────────────

  /** `@@SERVERNAME`, SERVERPROPERTY('ServerName'). */
  protected abstract serverName(session: S): string;
  /** `@@VERSION`. */
  protected abstract versionText(): string;
  /** SERVERPROPERTY('EngineEdition'): 5 SQL Database, 8 Managed Instance. */
  protected abstract engineEdition(): string;
  protected abstract collation(session: S): string;
  /** Every database name the session can see, in database_id order (DB_NAME(n), DB_ID). */
  protected abstract databaseNames(session: S): string[];
  /** The database's name as the server spells it, if the session may name it. */
  protected abstract resolveDatabase(session: S, name: string): string | undefined;
  /** DATABASEPROPERTYEX(name, 'Updateability'). */
  protected abstract updateabilityOf(session: S, database: string): string | null;
  /** `USE database`. */
  protected abstract use(session: S, database: string): StatementResult;
  /**
   * The geo-replication link of `session.database` to `targetServer`'s `targetDatabase` (./copy-sync.ts), as
   * `sp_wait_for_database_copy_sync` names it; undefined when there is no such link.
   */
  protected abstract copySyncLink(session: S, targetServer: string, targetDatabase: string): CopySyncLink | undefined;
  /** `ALTER DATABASE a MODIFY NAME = b`. */
  protected abstract renameDatabase(
    session: S,
    statement: Extract<Statement, { kind: 'rename-database' }>,
  ): StatementResult;
  /** A system view of the server or of `database` (lower case parts), or undefined when it has none by that name. */
  protected abstract systemTable(
    session: S,
    schema: string | undefined,
    name: string,
    database: string,
  ): Table | undefined;
  /** Where a write to the workload or smoke table of `database` goes; undefined when there is no such table there. */
  protected abstract writeTarget(session: S, database: string): WriteTarget | undefined;
  /** The rows of the workload or smoke table of `database` as this copy holds them; undefined: no such table. */
  protected abstract readSource(session: S, database: string): ReadSource | undefined;

  /** A stored procedure other than sp_executesql, run in `session.database`: the copy-sync wait is the only one. */
  protected async procedure(
    session: S,
    procedure: string,
    args: ProcedureArgs,
    signal: AbortSignal,
  ): Promise<StatementResult> {
    if (procedure !== 'sp_wait_for_database_copy_sync')
      throw new SqlError(2812, `Could not find stored procedure '${procedure}'.`);
    const { targetServer, targetDatabase } = copySyncArguments(args);
    const link = this.copySyncLink(session, targetServer, targetDatabase);
    await waitForCopySync(this.world, session, { server: targetServer, database: targetDatabase }, link, signal);
    return { returnStatus: 0 };
  }

  /**
   * The database a name with a database part (`db.schema.object`, or a procedure's) refers to; by default any. A
   * server that refuses cross-database references (SQL Database, 40515) says so here.
   */
  protected crossDatabase(session: S, database: string, _object: string): string {
    return database;
  }

  async executeBatch(session: S, sql: string, signal: AbortSignal): Promise<Execution> {
    const results: StatementResult[] = [];
    try {
      for (const statement of parseSql(sql)) results.push(await this.statement(session, statement, new Map(), signal));
      return { results };
    } catch (error) {
      return { results, error: toSqlError(error) };
    }
  }

  /** A transaction manager request (./transaction-manager.ts) on the session's transaction; the response's tokens. */
  transactionRequest(session: S, data: Buffer, serverName: string): Buffer {
    return transactionManagerRequest(this.world, session.transaction, data, serverName, () => {});
  }

  async executeRpc(session: S, request: RpcRequest, signal: AbortSignal): Promise<Execution> {
    try {
      const { database, procedure } = this.procedureIn(session, request.procedure);
      const context: S = { ...session, database };
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

  /** `[db].[schema].proc` → the database it runs in and its lower-case name (`proc` alone: the session's database). */
  private procedureIn(session: S, name: string): { database: string; procedure: string } {
    const { database, procedure } = splitProcedure(name, session.database);
    return {
      database: sameName(database, session.database) ? session.database : this.crossDatabase(session, database, name),
      procedure,
    };
  }

  /** `[db].[schema].table` → its database and table name. */
  private tableIn(session: S, parts: string[]): { database: string; table: string } {
    const { database, table } = splitTable(parts, session.database);
    return {
      database: sameName(database, session.database)
        ? session.database
        : this.crossDatabase(session, database, parts.join('.')),
      table,
    };
  }

  protected async statement(
    session: S,
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
      case 'use':
        return this.use(session, statement.database);
      case 'exec': {
        const { database, procedure } = this.procedureIn(session, statement.procedure.join('.'));
        const args = statement.args.map((arg) => ({
          name: arg.name,
          value: this.evaluate(arg.value, undefined, session, variables),
        }));
        if (procedure === 'sp_executesql') {
          const [text, , ...rest] = args;
          if (typeof text?.value !== 'string')
            throw new SqlError(214, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.");
          const inner = new Map(rest.filter((arg) => arg.name).map((arg) => [arg.name!.toLowerCase(), arg.value]));
          const context: S = { ...session, database };
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

  protected insert(
    session: S,
    statement: Extract<Statement, { kind: 'insert' }>,
    variables: Map<string, ParameterValue>,
  ): StatementResult {
    const { database: databaseName, table } = this.tableIn(session, statement.table);
    const target = WRITABLE_TABLES.has(table.toLowerCase()) ? this.writeTarget(session, databaseName) : undefined;
    if (!target) throw new SqlError(208, `Invalid object name '${statement.table.join('.')}'.`);
    const columns = statement.columns ?? ['payload'];
    const payloadIndex = columns.findIndex((column) => column.toLowerCase() === 'payload');
    if (payloadIndex < 0 || columns.length !== statement.values.length) {
      throw new SqlError(
        110,
        'There are fewer columns in the INSERT statement than values specified in the VALUES clause, or the column is not payload.',
      );
    }
    const { database } = target;
    // Apply what has come due first: a switch that just happened must refuse this write on the old primary.
    this.world.advance();
    if (!target.acceptsWrites()) {
      throw new SqlError(3906, `Failed to update database "${database.name}" because the database is read-only.`);
    }
    const value = this.evaluate(statement.values[payloadIndex]!, undefined, session, variables);
    const payload = value === null ? '' : String(value);
    const smoke = table.toLowerCase() === SMOKE_TABLE;
    const at = this.world.now();
    const held = holdWrite(session.transaction, { target, database, payload, smoke, at });
    const commit = held ? undefined : target.commit(payload, { smoke });
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
  protected change(
    session: S,
    statement: Extract<Statement, { kind: 'update' | 'delete' }>,
    variables: Map<string, ParameterValue>,
  ): StatementResult {
    const { database: databaseName, table } = this.tableIn(session, statement.table);
    const target = WRITABLE_TABLES.has(table.toLowerCase()) ? this.writeTarget(session, databaseName) : undefined;
    if (!target) throw new SqlError(208, `Invalid object name '${statement.table.join('.')}'.`);
    const { database } = target;
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
    if (!target.acceptsWrites()) {
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
    const held = holdWrite(session.transaction, { target, database, payload: '', smoke, change, at: this.world.now() });
    if (!held) target.commit('', { change, smoke });
    return { rowCount: rows.length };
  }

  /** The rows of a table the session sees: the fold of the commits visible on its instance, plus its pending ones. */
  protected tableRows(
    session: S,
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

  protected workloadColumns(): Column[] {
    return [
      { name: 'id', type: 'bigint' },
      { name: 'payload', type: 'nvarchar' },
      { name: 'committed_at', type: 'datetime2' },
    ];
  }

  /** A table by name: the server's system views first, then a user database's workload and smoke tables. */
  protected table(session: S, parts: string[]): Table {
    const normalized = parts.map((part) => part.toLowerCase());
    const name = normalized.at(-1)!;
    const schema = normalized.at(-2);
    const database =
      parts.length === 3 && !sameName(parts[0]!, session.database)
        ? this.crossDatabase(session, parts[0]!, parts.join('.'))
        : session.database;
    const system = this.systemTable(session, schema, name, database.toLowerCase());
    if (system) return system;
    if (WRITABLE_TABLES.has(name)) {
      const source = this.readSource(session, database);
      if (source)
        return {
          columns: this.workloadColumns(),
          rows: this.tableRows(session, source.log, name === SMOKE_TABLE, source.isPrimary),
        };
    }
    throw new SqlError(208, `Invalid object name '${parts.join('.')}'.`);
  }

  protected select(
    session: S,
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

  protected typeOf(expr: Expr, table: Table): ColumnType | undefined {
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

  protected evaluateAggregate(
    expr: Expr,
    rows: Record<string, CellValue>[],
    session: S,
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

  protected evaluate(
    expr: Expr,
    row: Record<string, CellValue> | undefined,
    session: S,
    variables: Map<string, ParameterValue>,
  ): CellValue {
    switch (expr.kind) {
      case 'literal':
        return expr.value;
      case 'variable': {
        const name = expr.name.toUpperCase();
        if (name === '@@VERSION') return this.versionText();
        if (name === '@@SERVERNAME') return this.serverName(session);
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

  protected call(
    expr: Extract<Expr, { kind: 'call' }>,
    row: Record<string, CellValue> | undefined,
    session: S,
    variables: Map<string, ParameterValue>,
  ): CellValue {
    const arg = (index: number): CellValue =>
      expr.args[index] ? this.evaluate(expr.args[index], row, session, variables) : null;
    const now = new Date(this.world.now());
    switch (expr.name) {
      case 'DB_NAME':
        return expr.args.length ? (this.databaseNames(session)[Number(arg(0)) - 1] ?? null) : session.database;
      case 'DB_ID': {
        const name = expr.args.length ? String(arg(0)) : session.database;
        const index = this.databaseNames(session).findIndex(
          (database) => database.toLowerCase() === name.toLowerCase(),
        );
        return index < 0 ? null : index + 1;
      }
      case 'DATABASEPROPERTYEX': {
        const database = String(arg(0));
        const property = String(arg(1)).toLowerCase();
        if (!this.resolveDatabase(session, database)) return null;
        if (property === 'updateability') return this.updateabilityOf(session, database);
        if (property === 'status') return 'ONLINE';
        if (property === 'collation') return this.collation(session);
        return null;
      }
      case 'SERVERPROPERTY': {
        const property = String(arg(0)).toLowerCase();
        if (property === 'engineedition') return this.engineEdition();
        if (property === 'productversion') return '12.0.2000.8';
        if (property === 'servername') return this.serverName(session);
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

  protected test(
    condition: Condition,
    row: Record<string, CellValue>,
    session: S,
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
export function splitProcedure(name: string, database: string): { database: string; procedure: string } {
  const parts = name.split('.').map((part) => part.replace(/^\[|\]$/g, ''));
  const procedure = parts.at(-1)!.toLowerCase();
  return { database: parts.length === 3 ? parts[0]! : database, procedure };
}

function splitTable(parts: string[], database: string): { database: string; table: string } {
  return { database: parts.length === 3 ? parts[0]! : database, table: parts.at(-1)! };
}

/** Names as SQL compares them (the default collation is case-insensitive). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function toSqlError(error: unknown): SqlError {
  if (error instanceof SqlError) return error;
  if (error instanceof Error && error.name === 'AbortError') throw error;
  return new SqlError(50000, error instanceof Error ? error.message : String(error));
}
