/**
 * Transaction manager requests (TDS packet type 0x0E, MS-TDS 2.2.6.9): how drivers such as tedious (the `mssql`
 * package's `Transaction`) begin, commit and roll back a transaction instead of sending `BEGIN TRAN` as SQL. They drive
 * the same session transaction as the SQL statements (./transactions.ts); the answer carries the ENVCHANGE the driver
 * waits for (type 8 begin, 9 commit, 10 rollback, with the 8-byte transaction descriptor, MS-TDS 2.2.7.9).
 *
 * Knowingly simplified: isolation levels and transaction names are accepted and ignored; savepoints (TM_SAVE_XACT) and
 * distributed transactions are refused.
 */
import { DoneStatus, TokenWriter } from './protocol';
import { SqlError } from './sql-parser';
import { bracket, type PendingWrite, type TransactionState } from './transactions';
import type { CommitRecord, World } from '../world';

const ENVCHANGE = 0xe3;
const REQUESTS: Record<number, 'begin' | 'commit' | 'rollback'> = { 5: 'begin', 7: 'commit', 8: 'rollback' };

/** Runs one transaction manager request on the session's transaction; returns the response's tokens. */
export function transactionManagerRequest(
  world: World,
  state: TransactionState,
  data: Buffer,
  serverName: string,
  committed: (commit: CommitRecord, write: PendingWrite) => void,
): Buffer {
  const headers = data.length >= 4 ? data.readUInt32LE(0) : 0;
  const offset = headers >= 4 && headers <= data.length - 2 ? headers : 0;
  const action = REQUESTS[data.readUInt16LE(offset)];
  try {
    if (!action)
      throw new SqlError(8180, 'The emulator supports only begin, commit and rollback transaction requests.');
    const descriptor = state.descriptor ?? Buffer.alloc(8);
    const wasOpen = state.depth > 0;
    bracket(world, state, action, committed);
    let envChange: Buffer | undefined;
    if (action === 'begin' && !wasOpen) {
      state.descriptor = Buffer.alloc(8);
      state.descriptor.writeBigUInt64LE(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000)));
      envChange = Buffer.concat([Buffer.from([8, 8]), state.descriptor, Buffer.from([0])]);
    } else if (action !== 'begin' && state.depth === 0) {
      state.descriptor = undefined;
      envChange = Buffer.concat([Buffer.from([action === 'commit' ? 9 : 10, 0, 8]), descriptor]);
    }
    const header = envChange ? Buffer.alloc(3) : Buffer.alloc(0);
    if (envChange) {
      header[0] = ENVCHANGE;
      header.writeUInt16LE(envChange.length, 1);
    }
    return Buffer.concat([header, envChange ?? Buffer.alloc(0), new TokenWriter().done(DoneStatus.final).toBuffer()]);
  } catch (error) {
    const sqlError = error instanceof SqlError ? error : new SqlError(8180, String(error));
    return new TokenWriter()
      .error(sqlError.number, sqlError.state, sqlError.severity, sqlError.message, serverName)
      .done(DoneStatus.error)
      .toBuffer();
  }
}
