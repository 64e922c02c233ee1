/**
 * What a write probe through a group's read-write listener counts while a drill fails the group over, and how to read
 * it back. Plain JSON and deterministic, so both the probe activity and the workflow that runs it use these.
 */

/** An interval of wall-clock time (epoch ms) with no successful write: from the first failure to the next success. */
export interface ProbeWindow {
  fromMs: number;
  toMs: number;
}

/** The probe's count of its writes, each identified by its sequence number (`<label>:<seq>` in the table). */
export interface ProbeTally {
  attempted: number;
  /** Writes SQL acknowledged: every one must still be there after a planned failover. */
  acknowledgedSeqs: number[];
  /** Writes sent whose connection dropped before an answer: committed or not, only a read-back can tell. */
  inDoubtSeqs: number[];
  /** Writes SQL answered with an error (read-only database, database unavailable): certainly not committed. */
  refused: number;
  /** Failures by kind: `sql-<number>` when SQL answered, else the driver's code (`ECONNCLOSED`, `ETIMEOUT`, …). */
  errors: Record<string, number>;
  windows: ProbeWindow[];
}

/**
 * What the probe heartbeats, so a retried attempt resumes where the last one stopped: the tally, the last sequence
 * number used, when the checkpoint was taken, and the start of a window still open.
 */
export interface ProbeCheckpoint extends ProbeTally {
  lastSeq: number;
  checkpointAtMs: number;
  failingSinceMs?: number;
}

export function emptyProbeTally(): ProbeTally {
  return { attempted: 0, acknowledgedSeqs: [], inDoubtSeqs: [], refused: 0, errors: {}, windows: [] };
}

/** The payload of the probe's write number `seq`. */
export function probePayload(label: string, seq: number): string {
  return `${label}:${seq}`;
}

/** The prefix every payload of the probe `label` starts with. */
export function probePrefix(label: string): string {
  return `${label}:`;
}

/** The sequence number of a payload written by the probe `label`, or undefined for anything else. */
export function probeSeqOf(label: string, payload: string): number | undefined {
  const prefix = probePrefix(label);
  if (!payload.startsWith(prefix)) return undefined;
  const rest = payload.slice(prefix.length);
  return /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
}

const isNumberArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'number');

/** A probe checkpoint read from heartbeat details (or a cancelled activity's details); undefined when it is not one. */
export function probeCheckpointFrom(value: unknown): ProbeCheckpoint | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const candidate = value as Partial<ProbeCheckpoint>;
  if (
    typeof candidate.attempted !== 'number' ||
    !isNumberArray(candidate.acknowledgedSeqs) ||
    !isNumberArray(candidate.inDoubtSeqs) ||
    typeof candidate.refused !== 'number' ||
    !candidate.errors ||
    typeof candidate.errors !== 'object' ||
    !Array.isArray(candidate.windows)
  ) {
    return undefined;
  }
  return {
    attempted: candidate.attempted,
    acknowledgedSeqs: [...candidate.acknowledgedSeqs],
    inDoubtSeqs: [...candidate.inDoubtSeqs],
    refused: candidate.refused,
    errors: { ...candidate.errors },
    windows: candidate.windows.map((window) => ({ fromMs: window.fromMs, toMs: window.toMs })),
    lastSeq: typeof candidate.lastSeq === 'number' ? candidate.lastSeq : candidate.attempted,
    checkpointAtMs: typeof candidate.checkpointAtMs === 'number' ? candidate.checkpointAtMs : 0,
    failingSinceMs: typeof candidate.failingSinceMs === 'number' ? candidate.failingSinceMs : undefined,
  };
}

/**
 * The tally a checkpoint adds up to when the probe stops at `stoppedAtMs`: a window still open closes there, since no
 * write succeeded between its first failure and the stop.
 */
export function closeProbeTally(checkpoint: ProbeCheckpoint, stoppedAtMs: number): ProbeTally {
  const windows = [...checkpoint.windows];
  if (checkpoint.failingSinceMs !== undefined) {
    windows.push({ fromMs: checkpoint.failingSinceMs, toMs: Math.max(checkpoint.failingSinceMs, stoppedAtMs) });
  }
  return {
    attempted: checkpoint.attempted,
    acknowledgedSeqs: [...checkpoint.acknowledgedSeqs],
    inDoubtSeqs: [...checkpoint.inDoubtSeqs],
    refused: checkpoint.refused,
    errors: { ...checkpoint.errors },
    windows,
  };
}

/** Total time with no successful write. */
export function probeDowntimeMs(tally: Pick<ProbeTally, 'windows'>): number {
  return tally.windows.reduce((total, window) => total + (window.toMs - window.fromMs), 0);
}
