/**
 * The bounds of one activity attempt, for requests that must never go out late. Temporal ends an attempt on the server
 * when its timeout passes and the workflow may then try again, but the worker keeps running the old attempt's code:
 * a request still queued there would reach Azure after the workflow has moved on. An attempt bounded here stops at its
 * own deadline (a little before the server's) or at its cancellation, whichever comes first, and heartbeats meanwhile
 * so that a lost worker is noticed by the heartbeat timeout and the server's cancellation reaches the attempt.
 */
import { Context, type Info } from '@temporalio/activity';

/** Share of a timeout kept back, so the attempt's own failure reaches the workflow before the server's timeout. */
const DEADLINE_MARGIN_FRACTION = 0.1;
/** Enough for clock reading and delivery delays; more would only cut into the time an attempt has. */
const MAX_DEADLINE_MARGIN_MS = 10_000;

function margin(timeoutMs: number): number {
  return Math.min(MAX_DEADLINE_MARGIN_MS, timeoutMs * DEADLINE_MARGIN_FRACTION);
}

/**
 * When this attempt must stop sending, in epoch milliseconds, or undefined when it has no timeout. Start-to-close
 * counts from `startedAt`, the worker's own reading when the attempt began (later than the server's start, by the
 * delivery delay the margin covers); schedule-to-close counts from the server's schedule time. A timeout of 0 means
 * none.
 */
export function attemptDeadline(
  info: Pick<Info, 'startToCloseTimeoutMs' | 'scheduleToCloseTimeoutMs' | 'scheduledTimestampMs'>,
  startedAt: number,
): number | undefined {
  const ends: number[] = [];
  if (info.startToCloseTimeoutMs > 0) {
    ends.push(startedAt + info.startToCloseTimeoutMs - margin(info.startToCloseTimeoutMs));
  }
  if (info.scheduleToCloseTimeoutMs > 0) {
    ends.push(info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - margin(info.scheduleToCloseTimeoutMs));
  }
  return ends.length > 0 ? Math.min(...ends) : undefined;
}

export interface AttemptBounds {
  /**
   * Aborts when the attempt is cancelled (by the workflow, the server's timeout, a worker shutdown) or its deadline
   * passes; pass it as `abortSignal` to every request of the attempt. Undefined outside an activity.
   */
  readonly signal: AbortSignal | undefined;
  /** The attempt's deadline in epoch milliseconds, when it has one. */
  readonly deadline: number | undefined;
  /** Stops the heartbeats and the deadline's timer; call it when the attempt ends. */
  close(): void;
}

export interface BoundAttemptOptions {
  /** How often to heartbeat while the attempt runs; keep well under the activity's heartbeat timeout. */
  heartbeatIntervalMs: number;
}

/**
 * Bounds the current activity attempt: one signal for its cancellation and its deadline, and heartbeats until
 * {@link AttemptBounds.close}. Outside an activity (a direct call, the CLI) nothing bounds the call.
 */
export function boundAttempt({ heartbeatIntervalMs }: BoundAttemptOptions): AttemptBounds {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return { signal: undefined, deadline: undefined, close: () => undefined };
  }
  const startedAt = Date.now();
  const controller = new AbortController();
  const cancellation = context.cancellationSignal;
  const onCancel = (): void => {
    const reason: unknown = cancellation.reason;
    const what = reason instanceof Error ? reason.message : String(reason);
    controller.abort(new Error(`the attempt was cancelled (${what})`, { cause: reason }));
  };
  if (cancellation.aborted) onCancel();
  else cancellation.addEventListener('abort', onCancel, { once: true });

  const { startToCloseTimeoutMs, scheduleToCloseTimeoutMs } = context.info;
  const deadline = attemptDeadline(context.info, startedAt);
  let deadlineTimer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    const passed = (): void => {
      const timeouts = [
        startToCloseTimeoutMs > 0 ? `start-to-close ${startToCloseTimeoutMs} ms` : '',
        scheduleToCloseTimeoutMs > 0 ? `schedule-to-close ${scheduleToCloseTimeoutMs} ms` : '',
      ].filter(Boolean);
      const reason = new Error(
        `the attempt's deadline passed at ${new Date(deadline).toISOString()}, ahead of its timeout on the server ` +
          `(${timeouts.join(', ')})`,
      );
      reason.name = 'TimeoutError';
      controller.abort(reason);
    };
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) passed();
    else deadlineTimer = setTimeout(passed, remainingMs);
  }

  const beat = (): void => context.heartbeat();
  beat();
  const heartbeats = setInterval(beat, heartbeatIntervalMs);
  return {
    signal: controller.signal,
    deadline,
    close: () => {
      clearInterval(heartbeats);
      clearTimeout(deadlineTimer);
      cancellation.removeEventListener('abort', onCancel);
    },
  };
}
