/**
 * Explicit transactions of a TDS session: `BEGIN TRAN` opens one (nested BEGINs count, as `@@TRANCOUNT` does), the
 * writes inside it wait in the session, `COMMIT` of the outermost level commits them to the database's log (each gets
 * its LSN then, and replicates from then on) and `ROLLBACK` discards them: no row, no LSN, nothing replicated. A session
 * that ends with a transaction open rolls it back, as SQL Server does when the connection closes.
 *
 * Source: SQL Server's transaction statements (learn.microsoft.com/sql/t-sql/language-elements/begin-transaction-
 * transact-sql, rollback-transaction-transact-sql, commit-transaction-transact-sql); errors 3902 and 3903 are SQL
 * Server's for a COMMIT or ROLLBACK with no BEGIN.
 *
 * Knowingly simplified: no isolation (other sessions never see the pending rows, which is READ COMMITTED's answer, but
 * nothing is locked); a failed statement leaves the transaction open whatever `SET XACT_ABORT` says; the id an
 * `OUTPUT INSERTED.id` shows inside a transaction is provisional (the LSN is given at COMMIT); no savepoints.
 */
import type { CellValue } from './protocol';
import { SqlError } from './sql-parser';
import type { CommitRecord, DatabaseState, World } from '../world';
import { peekRowId } from '../world/rows';
import type { RowChange } from '../world/state';

/**
 * Where a session's write goes: a database's log as the copy the session is on holds it, whether that copy accepts
 * writes now, and how a write commits there (a managed instance's group database, or a SQL database's replication).
 */
export interface WriteTarget {
  /** The database's log (the one a commit appends to). */
  database: DatabaseState;
  acceptsWrites(): boolean;
  commit(payload: string, options: { change?: RowChange; smoke?: boolean }): CommitRecord;
}

/** A write waiting for its transaction's COMMIT. */
export interface PendingWrite {
  /** Where it commits. */
  target: WriteTarget;
  database: DatabaseState;
  payload: string;
  /** A row of `fogpilot_smoke` (else `fogpilot_workload`). */
  smoke: boolean;
  /** An UPDATE or DELETE (absent: an insert); its rows were matched when the statement ran. */
  change?: RowChange;
  /** The provisional id the session sees. */
  id: number;
  at: number;
}

/** A session's transaction state; shared by reference with every copy of the session. */
export interface TransactionState {
  /** `@@TRANCOUNT`: 0 outside a transaction. */
  depth: number;
  writes: PendingWrite[];
  /** The descriptor a transaction manager request gave the open transaction (./transaction-manager.ts). */
  descriptor?: Buffer;
}

export function newTransactionState(): TransactionState {
  return { depth: 0, writes: [] };
}

/** Runs `BEGIN TRAN`, `COMMIT` or `ROLLBACK`; `committed` hears of each commit COMMIT makes. */
export function bracket(
  world: World,
  state: TransactionState,
  action: 'begin' | 'commit' | 'rollback',
  committed: (commit: CommitRecord, write: PendingWrite) => void,
): void {
  if (action === 'begin') {
    state.depth += 1;
    return;
  }
  if (state.depth === 0) {
    throw action === 'commit'
      ? new SqlError(3902, 'The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.')
      : new SqlError(3903, 'The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.');
  }
  if (action === 'rollback') {
    discard(state);
    return;
  }
  state.depth -= 1;
  if (state.depth > 0) return;
  const writes = state.writes;
  state.writes = [];
  world.advance();
  // A switch since the write may have made the database read-only here: the whole transaction fails, as a commit on a
  // database that stopped being writable does.
  const refused = writes.find((write) => !write.target.acceptsWrites());
  if (refused) {
    throw new SqlError(
      3906,
      `Failed to update database "${refused.database.name}" because the database is read-only. The transaction was rolled back.`,
    );
  }
  for (const write of writes)
    committed(write.target.commit(write.payload, { change: write.change, smoke: write.smoke }), write);
}

/** Forgets the open transaction and its writes (ROLLBACK, or the session's end). */
export function discard(state: TransactionState): void {
  state.depth = 0;
  state.writes = [];
}

/** Holds a write for COMMIT when a transaction is open; returns undefined when the write should autocommit. */
export function holdWrite(state: TransactionState, write: Omit<PendingWrite, 'id'>): PendingWrite | undefined {
  if (state.depth === 0) return undefined;
  const earlier = state.writes.filter((entry) => entry.database === write.database && !entry.change).length;
  const pending: PendingWrite = { ...write, id: peekRowId(write.database) + earlier };
  state.writes.push(pending);
  return pending;
}

/** The session's own pending rows of a table, which it reads as if committed. */
export function pendingRows(
  state: TransactionState,
  database: DatabaseState,
  smoke: boolean,
): Record<string, CellValue>[] {
  return state.writes
    .filter((write) => write.database === database && write.smoke === smoke && !write.change)
    .map((write) => ({ id: write.id, payload: write.payload, committed_at: new Date(write.at) }));
}
