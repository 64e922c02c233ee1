/**
 * Invariant checks judged from the clients' side, from the writes a client made through each instance's own endpoint
 * (bench/endpoint-writers.ts), not from the world's fields:
 * - never two writable primaries: no two instances of a group accepted writes during overlapping time;
 * - data loss matches Azure's own account: the acknowledged writes missing from the primary after a failover are
 *   exactly the commits the emulator says it discarded (`world.lostCommits`).
 *
 * Pure functions over records, so each can be shown a planted violation (test/reliability/invariant-checks.test.ts).
 */
import type { LostCommits } from '../src/emulator/world';

/** One write a client sent through one instance's own TDS endpoint, with what came back. */
export interface EndpointWrite {
  group: string;
  instance: string;
  database: string;
  seq: number;
  payload: string;
  /** Client time (epoch ms, monotonic) when the INSERT was sent, and when its answer (or failure) came. */
  sentAt: number;
  answeredAt: number;
  /**
   * `accepted`: the INSERT returned success; `refused`: the server answered an error (e.g. 3906, read-only);
   * `in-doubt`: sent, then the connection dropped with no answer; `not-sent`: no session to send it on.
   */
  outcome: 'accepted' | 'refused' | 'in-doubt' | 'not-sent';
  /** For an accepted write: the LSN the server gave it (`OUTPUT INSERTED.id`) and its commit time as the server says. */
  lsn?: number;
  committedAt?: string;
  error?: string;
}

/** An unbroken run of accepted writes on one instance: no refusal or failure between its first and its last. */
export interface AcceptedRun {
  instance: string;
  writes: number;
  first: EndpointWrite;
  last: EndpointWrite;
}

/** Two instances of one group that accepted writes during the same stretch of time, with the evidence. */
export interface SplitBrainFinding {
  group: string;
  runs: [AcceptedRun, AcceptedRun];
  /** How long (client ms) both were certainly accepting writes. */
  overlapMs: number;
  message: string;
}

/** The runs of accepted writes of one instance's writer (its writes in the order sent). */
export function acceptedRuns(writes: readonly EndpointWrite[]): AcceptedRun[] {
  const runs: AcceptedRun[] = [];
  let current: AcceptedRun | undefined;
  for (const write of writes) {
    if (write.outcome !== 'accepted') {
      current = undefined;
      continue;
    }
    if (current) {
      current.last = write;
      current.writes += 1;
    } else {
      current = { instance: write.instance, writes: 1, first: write, last: write };
      runs.push(current);
    }
  }
  return runs;
}

/**
 * The stretch in which the instance was certainly accepting writes during a run: from the first write's answer (it
 * committed by then) to the last write's sending (it committed after). Empty for a run of one write.
 */
function certainSpan(run: AcceptedRun): [number, number] {
  return [run.first.answeredAt, run.last.sentAt];
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

function describeRun(run: AcceptedRun): string {
  return (
    `${run.instance} accepted ${run.writes} writes, first #${run.first.seq} (LSN ${run.first.lsn}, answered ` +
    `${clock(run.first.answeredAt)}), last #${run.last.seq} (LSN ${run.last.lsn}, sent ${clock(run.last.sentAt)})`
  );
}

/**
 * Never two writable primaries, judged by the writes: any two runs of accepted writes on two instances of the group
 * whose certain spans overlap. A correct failover cannot produce one — the old primary's last accepted write commits
 * before the switch and the new primary's first after it — whatever the network delays, since the spans only count
 * time the client knows the instance was accepting.
 */
export function findSplitBrain(group: string, writes: readonly EndpointWrite[]): SplitBrainFinding[] {
  const byInstance = new Map<string, EndpointWrite[]>();
  for (const write of writes) {
    if (write.group !== group) continue;
    const list = byInstance.get(write.instance) ?? [];
    list.push(write);
    byInstance.set(write.instance, list);
  }
  const instances = [...byInstance.keys()].sort();
  const findings: SplitBrainFinding[] = [];
  for (const [index, a] of instances.entries()) {
    for (const b of instances.slice(index + 1)) {
      for (const runA of acceptedRuns(byInstance.get(a)!)) {
        for (const runB of acceptedRuns(byInstance.get(b)!)) {
          const [startA, endA] = certainSpan(runA);
          const [startB, endB] = certainSpan(runB);
          const from = Math.max(startA, startB);
          const to = Math.min(endA, endB);
          if (startA > endA || startB > endB || from > to) continue;
          findings.push({
            group,
            runs: [runA, runB],
            overlapMs: to - from,
            message:
              `${group}: two instances accepted writes at the same time for ${to - from} ms ` +
              `(${clock(from)}–${clock(to)}): ${describeRun(runA)}; ${describeRun(runB)}`,
          });
        }
      }
    }
  }
  return findings;
}

/** The client's account of a group's data against the emulator's, after a failover. */
export interface DataLossVerdict {
  group: string;
  database: string;
  acknowledged: number;
  /** Acknowledged writes not on the primary after the switch (read back through the listener). */
  lostByClient: string[];
  /** Acknowledged writes the emulator says it discarded (`world.lostCommits`). */
  lostByEmulator: string[];
  /** Lost, and not in the emulator's count: a silent loss. */
  silentlyLost: string[];
  /** In the emulator's count, yet read back: a wrong count. */
  countedButPresent: string[];
  /** Why no verdict could be made (the primary could not be read); `ok` is then true. */
  unverified?: string;
  ok: boolean;
  message?: string;
}

/**
 * Compares what the client had acknowledged with what the primary holds (`present`, the payloads read back) and with
 * the emulator's count of discarded commits for the group's database. In-doubt writes count on neither side.
 */
export function judgeDataLoss(input: {
  group: string;
  database: string;
  writes: readonly EndpointWrite[];
  present: ReadonlySet<string> | { unverified: string };
  lostCommits: readonly LostCommits[];
}): DataLossVerdict {
  const acknowledged = input.writes
    .filter((write) => write.group === input.group && write.database === input.database)
    .filter((write) => write.outcome === 'accepted')
    .map((write) => write.payload);
  const base = { group: input.group, database: input.database, acknowledged: acknowledged.length };
  if ('unverified' in input.present) {
    return {
      ...base,
      lostByClient: [],
      lostByEmulator: [],
      silentlyLost: [],
      countedButPresent: [],
      unverified: input.present.unverified,
      ok: true,
    };
  }
  const present = input.present;
  const discarded = new Set(
    input.lostCommits
      .filter((lost) => lost.group === input.group && lost.database.toLowerCase() === input.database.toLowerCase())
      .flatMap((lost) => lost.payloads),
  );
  const lostByClient = acknowledged.filter((payload) => !present.has(payload));
  const lostByEmulator = acknowledged.filter((payload) => discarded.has(payload));
  const silentlyLost = lostByClient.filter((payload) => !discarded.has(payload));
  const countedButPresent = lostByEmulator.filter((payload) => present.has(payload));
  const ok = silentlyLost.length === 0 && countedButPresent.length === 0;
  const sample = (payloads: string[]) => payloads.slice(0, 3).join(', ') + (payloads.length > 3 ? ', …' : '');
  return {
    ...base,
    lostByClient,
    lostByEmulator,
    silentlyLost,
    countedButPresent,
    ok,
    message: ok
      ? undefined
      : `${input.group}/${input.database}: ${lostByClient.length} acknowledged writes missing from the primary, the ` +
        `emulator counts ${lostByEmulator.length} discarded` +
        (silentlyLost.length ? `; lost without being counted: ${sample(silentlyLost)}` : '') +
        (countedButPresent.length ? `; counted as discarded yet read back: ${sample(countedButPresent)}` : ''),
  };
}
