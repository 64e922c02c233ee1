/**
 * Recovery time after a worker is killed, read from the runs' histories and the worker identities in them (not from
 * the rig's clock guesses). Temporal records which worker picked each task up: `identity` (`<pid>@<host>`, the SDK's
 * default) on WorkflowTaskStarted and ActivityTaskStarted, at the moment it did (the started event of a retried
 * activity is written when the attempt ends, with the attempt's own start time).
 *
 * The work a kill strands is what the run had at the killed worker, or sent to it, that a replacement must pick up:
 * - every activity in flight at the kill (scheduled before it, not closed before it) that a worker started after the
 *   kill then ran: stranded from the kill until that worker started it; one that instead ended timed out (an activity
 *   Temporal does not retry, the failover send): until a new worker's workflow task took the timeout in hand;
 * - the first workflow task a worker started after the kill ran: stranded from the kill, or from the moment the task
 *   fell due if that was later (a poll timer firing while the worker was down), until it was started. A task that went
 *   to the dead worker's sticky queue first and timed out there counts from when it first fell due.
 *
 * The recovery time of a kill is the longest of these: from the kill until the last stranded piece of work had been
 * picked up by a replacement worker, i.e. until the run was wholly running again. Also reported: from the kill to the
 * first event a replacement worker produced for the run (it says when the run showed life, not that it was whole
 * again: a write probe's retry may come first while the runbook's own read still waits). Both include the rig's
 * restart delay and the new worker's start-up.
 *
 * A history keeps only the last attempt of an activity. When a later kill hit the same activity again (the drill's
 * write probe runs throughout), its pick-up after the earlier kill is not on record; the attempt on record, by a later
 * replacement, is then used, which can only overstate that recovery: `upperBound` says so.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One kill as the recovery reads it. */
export interface KillMoment {
  /** Epoch milliseconds of the SIGKILL. */
  at: number;
  /** Process ids of the workers started after the kill, in order: the replacement first, then any started after it. */
  replacementPids: readonly number[];
}

export interface Recovery {
  /** From the kill until every stranded piece of work was picked up by a replacement worker. */
  ms: number;
  /** From the kill until the first event a replacement worker produced for the run. */
  firstEventMs?: number;
  /** The piece picked up last, e.g. `activity readFailoverProgress (attempt 2)` or `workflow task`. */
  last: string;
  /** How many pieces of work the kill stranded. */
  stranded: number;
  /** `ms` rests on an attempt by a later replacement (a later kill hit the same activity): the real figure is lower. */
  upperBound: boolean;
  /** Each stranded piece: when it was there to be done and when it was picked up, in ms after the kill. */
  pieces: { what: string; fromMs: number; pickedUpMs: number }[];
}

function idOf(value: unknown): number {
  // Event ids are Longs (their toString is the number) or numbers.
  return value === null || value === undefined ? 0 : Number((value as { toString(): string }).toString());
}

/** An event's time in epoch milliseconds. */
export function eventTimeMs(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return NaN;
  return idOf(time.seconds) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}

function pidOf(identity: string | null | undefined): number | undefined {
  const match = /^(\d+)@/.exec(identity ?? '');
  return match ? Number(match[1]) : undefined;
}

interface Stranded {
  what: string;
  pickedUpAt: number;
  /** When the work was there to be done: the kill, or later when it fell due later. */
  from: number;
  upperBound?: boolean;
}

function strandedIn(events: readonly HistoryEvent[], kill: KillMoment): Stranded[] {
  const replacement = (identity: string | null | undefined) => {
    const pid = pidOf(identity);
    return pid !== undefined && kill.replacementPids.includes(pid);
  };
  const byId = new Map<number, HistoryEvent>();
  for (const event of events) byId.set(idOf(event.eventId), event);
  const stranded: Stranded[] = [];

  const activities = new Map<
    number,
    { name: string; scheduledAt: number; closedAt?: number; startedByReplacement?: boolean }
  >();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      activities.set(idOf(event.eventId), {
        name: scheduled.activityType?.name ?? '?',
        scheduledAt: eventTimeMs(event),
      });
    }
    const closed =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (closed) {
      const activity = activities.get(idOf(closed.scheduledEventId));
      if (activity) activity.closedAt = eventTimeMs(event);
    }
  }
  for (const event of events) {
    const started = event.activityTaskStartedEventAttributes;
    if (!started || !replacement(started.identity)) continue;
    const activity = activities.get(idOf(started.scheduledEventId));
    if (!activity || activity.scheduledAt >= kill.at) continue;
    if (activity.closedAt !== undefined && activity.closedAt < kill.at) continue;
    activity.startedByReplacement = true;
    stranded.push({
      what: `activity ${activity.name} (attempt ${started.attempt ?? 1})`,
      pickedUpAt: eventTimeMs(event),
      from: kill.at,
      upperBound: pidOf(started.identity) !== kill.replacementPids[0],
    });
  }

  // An activity Temporal does not retry itself (the failover send) ends timed out: the workflow takes it over.
  for (const [index, event] of events.entries()) {
    const timedOut = event.activityTaskTimedOutEventAttributes;
    if (!timedOut || eventTimeMs(event) < kill.at) continue;
    const activity = activities.get(idOf(timedOut.scheduledEventId));
    // An attempt a replacement ran that then timed out was lost to a later kill, not this one.
    if (!activity || activity.scheduledAt >= kill.at || activity.startedByReplacement) continue;
    const handled = events
      .slice(index + 1)
      .find(
        (later) =>
          later.workflowTaskStartedEventAttributes && replacement(later.workflowTaskStartedEventAttributes.identity),
      );
    if (handled) {
      stranded.push({
        what: `activity ${activity.name} (timed out, taken over by the workflow)`,
        pickedUpAt: eventTimeMs(handled),
        from: kill.at,
      });
    }
  }

  const firstTask = events.find(
    (event) =>
      event.workflowTaskStartedEventAttributes && replacement(event.workflowTaskStartedEventAttributes.identity),
  );
  if (firstTask) {
    // Back along the chain of attempts (timed out on the dead worker's sticky queue, or while it ran) to the first.
    let scheduled = byId.get(idOf(firstTask.workflowTaskStartedEventAttributes!.scheduledEventId));
    const lost: string[] = [];
    for (;;) {
      const before = scheduled && byId.get(idOf(scheduled.eventId) - 1);
      const timedOut = before?.workflowTaskTimedOutEventAttributes;
      const ended = timedOut ?? before?.workflowTaskFailedEventAttributes;
      const earlier = ended && byId.get(idOf(ended.scheduledEventId));
      if (!earlier?.workflowTaskScheduledEventAttributes) break;
      // TIMEOUT_TYPE_SCHEDULE_TO_START = 2 (on a sticky queue), START_TO_CLOSE = 1 (taken, never answered).
      lost.unshift(
        !timedOut
          ? 'failed'
          : Number(timedOut.timeoutType) === 2
            ? 'not taken from the sticky queue'
            : 'taken, never answered',
      );
      scheduled = earlier;
    }
    const dueAt = scheduled ? eventTimeMs(scheduled) : kill.at;
    stranded.push({
      what: `workflow task${lost.length ? ` (${lost.join(', then ')})` : ''}`,
      pickedUpAt: eventTimeMs(firstTask),
      from: Math.max(kill.at, dueAt),
    });
  }
  return stranded;
}

/**
 * The recovery of one kill from the histories of the run (the runbook and its children), or undefined when the kill
 * stranded nothing the histories show (the run had finished, or its work was all picked up by workers started before).
 */
export function recoveryOf(histories: readonly (readonly HistoryEvent[])[], kill: KillMoment): Recovery | undefined {
  const stranded = histories.flatMap((events) => strandedIn(events, kill));
  if (stranded.length === 0) return undefined;
  const delays = stranded.map((entry) => ({ ...entry, ms: Math.max(0, entry.pickedUpAt - entry.from) }));
  const last = delays.reduce((longest, entry) => (entry.ms > longest.ms ? entry : longest));
  const firstEvent = Math.min(...histories.map((events) => firstEventAfter(events, kill)));
  return {
    ms: last.ms,
    firstEventMs: Number.isFinite(firstEvent) ? firstEvent - kill.at : undefined,
    last: last.what,
    stranded: stranded.length,
    upperBound: last.upperBound === true,
    pieces: delays.map((entry) => ({
      what: entry.what,
      fromMs: entry.from - kill.at,
      pickedUpMs: entry.pickedUpAt - kill.at,
    })),
  };
}

/** When a replacement worker first started a workflow task or an activity attempt of the run (epoch ms), or ∞. */
function firstEventAfter(events: readonly HistoryEvent[], kill: KillMoment): number {
  let first = Infinity;
  for (const event of events) {
    const identity =
      event.workflowTaskStartedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity;
    const pid = pidOf(identity);
    if (pid === undefined || !kill.replacementPids.includes(pid)) continue;
    const at = eventTimeMs(event);
    if (at >= kill.at) first = Math.min(first, at);
  }
  return first;
}

/** The value at percentile `p` (0–100) of `values`, by the nearest-rank method; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
