/**
 * A small T-SQL dialect: enough for what fogpilot issues and for a person poking at the emulator with a standard client.
 * SELECT [TOP n] … [FROM …] [WHERE …] [GROUP BY …] [ORDER BY …]; INSERT … [OUTPUT INSERTED.…] VALUES (…);
 * UPDATE … SET col = … [WHERE …]; DELETE [FROM] … [WHERE …]; ALTER DATABASE … MODIFY NAME = …; USE; EXEC; SET.
 */

export class SqlError extends Error {
  constructor(
    readonly number: number,
    message: string,
    readonly severity = 16,
    readonly state = 1,
  ) {
    super(message);
  }
}

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'symbol' | 'variable';
interface Token {
  kind: TokenKind;
  text: string;
  /** Upper-case text of a bare word, for keyword checks. */
  upper: string;
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, text: string) =>
    tokens.push({ kind, text, upper: kind === 'word' ? text.toUpperCase() : text });
  while (i < sql.length) {
    const char = sql[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (char === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if ((char === 'N' || char === 'n') && sql[i + 1] === "'") {
      i++;
    } else if (char === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= sql.length)
          throw new SqlError(105, `Unclosed quotation mark after the character string '${text}'.`, 15);
        if (sql[i] === "'" && sql[i + 1] === "'") {
          text += "'";
          i += 2;
        } else if (sql[i] === "'") {
          i++;
          break;
        } else text += sql[i++];
      }
      push('string', text);
    } else if (char === '[' || char === '"') {
      const close = char === '[' ? ']' : '"';
      const end = sql.indexOf(close, i + 1);
      if (end < 0) throw new SqlError(105, `Unclosed quotation mark after the identifier.`, 15);
      push('quoted', sql.slice(i + 1, end));
      i = end + 1;
    } else if (/[0-9]/.test(char)) {
      const match = /^[0-9]+(\.[0-9]+)?/.exec(sql.slice(i))![0];
      push('number', match);
      i += match.length;
    } else if (char === '@') {
      const match = /^@@?[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i));
      if (!match) throw new SqlError(102, `Incorrect syntax near '@'.`, 15);
      push('variable', match[0]);
      i += match[0].length;
    } else if (/[A-Za-z_#]/.test(char)) {
      const match = /^[A-Za-z_#][A-Za-z0-9_#$]*/.exec(sql.slice(i))![0];
      push('word', match);
      i += match.length;
    } else {
      const two = sql.slice(i, i + 2);
      if (['<>', '!=', '<=', '>='].includes(two)) {
        push('symbol', two);
        i += 2;
      } else {
        push('symbol', char);
        i++;
      }
    }
  }
  return tokens;
}

export type Expr =
  | { kind: 'literal'; value: string | number | null }
  | { kind: 'column'; parts: string[] }
  | { kind: 'variable'; name: string }
  | { kind: 'call'; name: string; args: Expr[]; star: boolean }
  | { kind: 'cast'; expr: Expr; type: string };

export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; condition: Condition }
  | { kind: 'compare'; op: string; left: Expr; right: Expr }
  | { kind: 'in'; expr: Expr; list: Expr[]; not: boolean }
  | { kind: 'like'; expr: Expr; pattern: Expr; not: boolean }
  | { kind: 'isnull'; expr: Expr; not: boolean };

export interface SelectItem {
  expr: Expr | '*';
  alias?: string;
}

export type Statement =
  | {
      kind: 'select';
      top?: number;
      items: SelectItem[];
      from?: string[];
      where?: Condition;
      groupBy: Expr[];
      orderBy: { expr: Expr; descending: boolean }[];
    }
  | { kind: 'insert'; table: string[]; columns?: string[]; output: string[]; values: Expr[] }
  | { kind: 'update'; table: string[]; assignments: { column: string; value: Expr }[]; where?: Condition }
  | { kind: 'delete'; table: string[]; where?: Condition }
  | { kind: 'rename-database'; database: string; newName: string }
  | { kind: 'use'; database: string }
  | { kind: 'exec'; procedure: string[]; args: { name?: string; value: Expr }[] }
  | { kind: 'set' }
  | { kind: 'transaction'; action: 'begin' | 'commit' | 'rollback' }
  | { kind: 'noop' };

const STATEMENT_KEYWORDS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'ALTER',
  'USE',
  'EXEC',
  'EXECUTE',
  'SET',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'PRINT',
]);
const CLAUSE_KEYWORDS = new Set([
  'FROM',
  'WHERE',
  'GROUP',
  'ORDER',
  'AS',
  'AND',
  'OR',
  'ON',
  'OUTPUT',
  'VALUES',
  ...STATEMENT_KEYWORDS,
]);

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.position + offset];
  }
  private next(): Token {
    const token = this.tokens[this.position++];
    if (!token) throw new SqlError(102, 'Incorrect syntax near the end of the batch.', 15);
    return token;
  }
  private isWord(upper: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.kind === 'word' && token.upper === upper;
  }
  private isSymbol(text: string): boolean {
    const token = this.peek();
    return token?.kind === 'symbol' && token.text === text;
  }
  private expectWord(upper: string): void {
    const token = this.next();
    if (token.kind !== 'word' || token.upper !== upper) throw syntax(token);
  }
  private expectSymbol(text: string): void {
    const token = this.next();
    if (token.kind !== 'symbol' || token.text !== text) throw syntax(token);
  }

  statements(): Statement[] {
    const statements: Statement[] = [];
    while (this.peek()) {
      if (this.isSymbol(';')) {
        this.position++;
        continue;
      }
      statements.push(this.statement());
    }
    return statements;
  }

  private statement(): Statement {
    const token = this.next();
    if (token.kind !== 'word') throw syntax(token);
    switch (token.upper) {
      case 'SELECT':
        return this.select();
      case 'INSERT':
        return this.insert();
      case 'UPDATE':
        return this.update();
      case 'DELETE':
        return this.delete();
      case 'ALTER':
        return this.alterDatabase();
      case 'USE':
        return { kind: 'use', database: this.name() };
      case 'EXEC':
      case 'EXECUTE':
        return this.exec();
      case 'SET':
      case 'BEGIN':
      case 'COMMIT':
      case 'ROLLBACK':
      case 'PRINT': {
        // BEGIN TRAN, COMMIT and ROLLBACK bracket a transaction (./transactions.ts); session options and PRINT are
        // accepted with no effect.
        const bracketsTransaction =
          token.upper === 'COMMIT' ||
          token.upper === 'ROLLBACK' ||
          (token.upper === 'BEGIN' && (this.isWord('TRAN') || this.isWord('TRANSACTION')));
        while (
          this.peek() &&
          !this.isSymbol(';') &&
          !(this.peek()!.kind === 'word' && STATEMENT_KEYWORDS.has(this.peek()!.upper) && this.peek()!.upper !== 'TRAN')
        ) {
          this.position++;
        }
        if (bracketsTransaction)
          return { kind: 'transaction', action: token.upper.toLowerCase() as 'begin' | 'commit' | 'rollback' };
        return { kind: token.upper === 'SET' ? 'set' : 'noop' };
      }
      default:
        throw syntax(token);
    }
  }

  /** A possibly qualified name: a.b.c with [quoted] parts. */
  private qualifiedName(): string[] {
    const parts = [this.name()];
    while (this.isSymbol('.')) {
      this.position++;
      parts.push(this.name());
    }
    return parts;
  }

  private name(): string {
    const token = this.next();
    if (token.kind === 'word' || token.kind === 'quoted') return token.text;
    throw syntax(token);
  }

  private select(): Statement {
    let top: number | undefined;
    if (this.isWord('TOP')) {
      this.position++;
      const parenthesized = this.isSymbol('(');
      if (parenthesized) this.position++;
      top = Number(this.next().text);
      if (parenthesized) this.expectSymbol(')');
    }
    const items: SelectItem[] = [];
    do {
      if (items.length) this.expectSymbol(',');
      if (this.isSymbol('*')) {
        this.position++;
        items.push({ expr: '*' });
        continue;
      }
      const expr = this.expression();
      let alias: string | undefined;
      if (this.isWord('AS')) {
        this.position++;
        alias = this.aliasName();
      } else if (
        this.peek() &&
        (this.peek()!.kind === 'quoted' || (this.peek()!.kind === 'word' && !CLAUSE_KEYWORDS.has(this.peek()!.upper)))
      ) {
        alias = this.aliasName();
      }
      items.push({ expr, alias });
    } while (this.isSymbol(','));
    let from: string[] | undefined;
    if (this.isWord('FROM')) {
      this.position++;
      from = this.qualifiedName();
      if (this.peek()?.kind === 'word' && !CLAUSE_KEYWORDS.has(this.peek()!.upper)) this.position++; // table alias
    }
    let where: Condition | undefined;
    if (this.isWord('WHERE')) {
      this.position++;
      where = this.condition();
    }
    const groupBy: Expr[] = [];
    if (this.isWord('GROUP')) {
      this.position++;
      this.expectWord('BY');
      do {
        if (groupBy.length) this.expectSymbol(',');
        groupBy.push(this.expression());
      } while (this.isSymbol(','));
    }
    const orderBy: { expr: Expr; descending: boolean }[] = [];
    if (this.isWord('ORDER')) {
      this.position++;
      this.expectWord('BY');
      do {
        if (orderBy.length) this.expectSymbol(',');
        const expr = this.expression();
        let descending = false;
        if (this.isWord('DESC') || this.isWord('ASC')) descending = this.next().upper === 'DESC';
        orderBy.push({ expr, descending });
      } while (this.isSymbol(','));
    }
    return { kind: 'select', top, items, from, where, groupBy, orderBy };
  }

  private aliasName(): string {
    const token = this.next();
    if (token.kind === 'word' || token.kind === 'quoted' || token.kind === 'string') return token.text;
    throw syntax(token);
  }

  private insert(): Statement {
    if (this.isWord('INTO')) this.position++;
    const table = this.qualifiedName();
    let columns: string[] | undefined;
    if (this.isSymbol('(')) {
      this.position++;
      columns = [];
      do {
        if (columns.length) this.expectSymbol(',');
        columns.push(this.name());
      } while (this.isSymbol(','));
      this.expectSymbol(')');
    }
    const output: string[] = [];
    if (this.isWord('OUTPUT')) {
      this.position++;
      do {
        if (output.length) this.expectSymbol(',');
        const parts = this.qualifiedName();
        if (parts.length !== 2 || parts[0]!.toUpperCase() !== 'INSERTED')
          throw new SqlError(
            102,
            `Incorrect syntax near '${parts.join('.')}': OUTPUT supports INSERTED.<column> here.`,
            15,
          );
        output.push(parts[1]!);
      } while (this.isSymbol(','));
    }
    this.expectWord('VALUES');
    this.expectSymbol('(');
    const values: Expr[] = [];
    do {
      if (values.length) this.expectSymbol(',');
      values.push(this.expression());
    } while (this.isSymbol(','));
    this.expectSymbol(')');
    return { kind: 'insert', table, columns, output, values };
  }

  private update(): Statement {
    const table = this.qualifiedName();
    this.expectWord('SET');
    const assignments: { column: string; value: Expr }[] = [];
    do {
      if (assignments.length) this.expectSymbol(',');
      const column = this.qualifiedName().at(-1)!;
      this.expectSymbol('=');
      assignments.push({ column, value: this.expression() });
    } while (this.isSymbol(','));
    return { kind: 'update', table, assignments, where: this.optionalWhere() };
  }

  private delete(): Statement {
    if (this.isWord('FROM')) this.position++;
    const table = this.qualifiedName();
    return { kind: 'delete', table, where: this.optionalWhere() };
  }

  private optionalWhere(): Condition | undefined {
    if (!this.isWord('WHERE')) return undefined;
    this.position++;
    return this.condition();
  }

  /** `ALTER DATABASE a MODIFY NAME = b`, the one ALTER DATABASE this dialect takes. */
  private alterDatabase(): Statement {
    this.expectWord('DATABASE');
    const database = this.name();
    this.expectWord('MODIFY');
    this.expectWord('NAME');
    this.expectSymbol('=');
    return { kind: 'rename-database', database, newName: this.name() };
  }

  private exec(): Statement {
    const procedure = this.qualifiedName();
    const args: { name?: string; value: Expr }[] = [];
    while (
      this.peek() &&
      !this.isSymbol(';') &&
      !(this.peek()!.kind === 'word' && STATEMENT_KEYWORDS.has(this.peek()!.upper))
    ) {
      if (args.length) this.expectSymbol(',');
      if (this.peek()?.kind === 'variable' && this.peek(1)?.text === '=') {
        const name = this.next().text;
        this.position++;
        args.push({ name, value: this.expression() });
      } else {
        args.push({ value: this.expression() });
      }
    }
    return { kind: 'exec', procedure, args };
  }

  condition(): Condition {
    let left = this.conjunction();
    while (this.isWord('OR')) {
      this.position++;
      left = { kind: 'or', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.predicate();
    while (this.isWord('AND')) {
      this.position++;
      left = { kind: 'and', left, right: this.predicate() };
    }
    return left;
  }

  private predicate(): Condition {
    if (this.isWord('NOT')) {
      this.position++;
      return { kind: 'not', condition: this.predicate() };
    }
    if (this.isSymbol('(') && !this.isWord('SELECT', 1)) {
      // A parenthesized condition (expressions in parentheses are not needed by this dialect).
      this.position++;
      const inner = this.condition();
      this.expectSymbol(')');
      return inner;
    }
    const expr = this.expression();
    const not = this.isWord('NOT');
    if (not) this.position++;
    if (this.isWord('IN')) {
      this.position++;
      this.expectSymbol('(');
      const list: Expr[] = [];
      do {
        if (list.length) this.expectSymbol(',');
        list.push(this.expression());
      } while (this.isSymbol(','));
      this.expectSymbol(')');
      return { kind: 'in', expr, list, not };
    }
    if (this.isWord('LIKE')) {
      this.position++;
      return { kind: 'like', expr, pattern: this.expression(), not };
    }
    if (this.isWord('IS')) {
      this.position++;
      const isNot = this.isWord('NOT');
      if (isNot) this.position++;
      this.expectWord('NULL');
      return { kind: 'isnull', expr, not: isNot };
    }
    const operator = this.next();
    if (operator.kind !== 'symbol' || !['=', '<>', '!=', '<', '>', '<=', '>='].includes(operator.text))
      throw syntax(operator);
    return { kind: 'compare', op: operator.text, left: expr, right: this.expression() };
  }

  expression(): Expr {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { kind: 'literal', value: token.text };
      case 'number':
        return { kind: 'literal', value: Number(token.text) };
      case 'variable':
        return { kind: 'variable', name: token.text };
      case 'symbol':
        if (token.text === '-' && this.peek()?.kind === 'number')
          return { kind: 'literal', value: -Number(this.next().text) };
        if (token.text === '(') {
          const inner = this.expression();
          this.expectSymbol(')');
          return inner;
        }
        throw syntax(token);
      case 'word':
      case 'quoted': {
        if (token.kind === 'word' && token.upper === 'NULL') return { kind: 'literal', value: null };
        if (token.kind === 'word' && token.upper === 'CAST' && this.isSymbol('(')) {
          this.position++;
          const expr = this.expression();
          this.expectWord('AS');
          let type = this.name();
          if (this.isSymbol('(')) {
            while (!this.isSymbol(')')) this.position++;
            this.position++;
            type += '(…)';
          }
          this.expectSymbol(')');
          return { kind: 'cast', expr, type: type.toLowerCase() };
        }
        if (this.isSymbol('(')) {
          this.position++;
          const args: Expr[] = [];
          let star = false;
          if (this.isSymbol('*')) {
            this.position++;
            star = true;
          } else if (!this.isSymbol(')')) {
            do {
              if (args.length) this.expectSymbol(',');
              args.push(this.expression());
            } while (this.isSymbol(','));
          }
          this.expectSymbol(')');
          return { kind: 'call', name: token.text.toUpperCase(), args, star };
        }
        const parts = [token.text];
        while (this.isSymbol('.')) {
          this.position++;
          parts.push(this.name());
        }
        return { kind: 'column', parts };
      }
    }
  }
}

function syntax(token: Token): SqlError {
  return new SqlError(102, `Incorrect syntax near '${token.text}'.`, 15);
}

export function parseSql(sql: string): Statement[] {
  return new Parser(tokenize(sql)).statements();
}
