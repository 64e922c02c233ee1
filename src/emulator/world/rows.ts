/**
 * A database's tables as the fold of its log: every commit is an insert (a row with its own id), an UPDATE of rows'
 * payload or a DELETE of rows (`RowChange`), and the rows a reader sees are the commits it can see, applied in LSN
 * order. Row ids are data, kept apart from LSNs: a restored copy shows the ids its source had at that point.
 */
import type { CommitRecord, DatabaseState } from './state';

/** A row of `fogpilot_workload` or `fogpilot_smoke`. */
export interface TableRow {
  id: number;
  payload: string;
  /** When the insert committed (an UPDATE changes the payload only). */
  committedAt: number;
}

/** The id of the row an insert made (older records: their LSN). */
export function rowIdOf(commit: CommitRecord): number {
  return commit.rowId ?? commit.lsn;
}

/** The rows of one table (`smoke` or the workload's) after the commits `visible` lets through, by id. */
export function foldRows(
  commits: readonly CommitRecord[],
  smoke: boolean,
  visible: (commit: CommitRecord) => boolean = () => true,
): TableRow[] {
  const rows = new Map<number, TableRow>();
  for (const commit of commits) {
    if (Boolean(commit.smoke) !== smoke || !visible(commit)) continue;
    const change = commit.change;
    if (!change) {
      const id = rowIdOf(commit);
      rows.set(id, { id, payload: commit.payload ?? '', committedAt: commit.committedAt });
    } else if (change.kind === 'update') {
      for (const { id, payload } of change.rows) {
        const row = rows.get(id);
        if (row) rows.set(id, { ...row, payload });
      }
    } else {
      for (const id of change.rowIds) rows.delete(id);
    }
  }
  return [...rows.values()].sort((a, b) => a.id - b.id);
}

/** Takes the id the database's next inserted row gets (after the largest id its log ever gave). */
export function takeRowId(database: DatabaseState): number {
  if (database.nextRowId === undefined) {
    let largest = 0;
    for (const commit of database.commits) if (!commit.change) largest = Math.max(largest, rowIdOf(commit));
    database.nextRowId = largest + 1;
  }
  return database.nextRowId++;
}

/** The id the database's next inserted row will get, without taking it. */
export function peekRowId(database: DatabaseState): number {
  const next = takeRowId(database);
  database.nextRowId = next;
  return next;
}

/** The commits of a database up to `at` (inclusive), copied: what a restore to that point holds. */
export function commitsUpTo(commits: readonly CommitRecord[], at: number): CommitRecord[] {
  return commits
    .filter((commit) => commit.committedAt <= at)
    .map((commit) => {
      const copy: CommitRecord = { ...commit };
      if (!commit.change) copy.rowId = rowIdOf(commit);
      return copy;
    });
}
