/**
 * Polling from the workflow: a read, then durable timers between reads, backing off, never sooner than the server's
 * Retry-After (role polling follows a positive Retry-After as its cadence), bounded by a timeout. Time-skipping tests pass simulated hours in milliseconds.
 */
import { deprecatePatch, patched, sleep } from '@temporalio/workflow';

export interface PollInterval {
  initialMs: number;
  maxMs: number;
  factor: number;
  /**
   * Poll at the server's positive Retry-After (at least {@link MIN_RETRY_AFTER_CADENCE_MS}, at most `maxMs`) rather
   * than the backoff: Azure knows when its operation is worth asking about again. Without one, the backoff applies.
   */
  followRetryAfter?: boolean;
  /**
   * For waits that can last days: once `fraction` of the time already waited exceeds the backoff, wait that long
   * instead (at most `maxMs`), so the number of polls, and with it the history, grows with the logarithm of the wait
   * rather than with the wait itself.
   */
  stretch?: { fraction: number; maxMs: number };
}

/** The shortest wait between two polls that follow Retry-After. */
export const MIN_RETRY_AFTER_CADENCE_MS = 1_000;
/** Runs recorded before role polling followed a positive Retry-After waited the longer of it and the backoff. */
export const RETRY_AFTER_CADENCE_PATCH = 'role-polling-follows-retry-after';

/**
 * Waiting for a role switch: first reads at the SDK's own pace (2 s), backing off to 15 s, so a switch is seen within
 * seconds, not half a minute, of Azure finishing it; at most a read every few seconds per group keeps a fleet's reads
 * inside the subscription's budget.
 */
export const ROLE_POLLING: PollInterval = { initialMs: 2_000, maxMs: 15_000, factor: 1.5, followRetryAfter: true };
/**
 * Waiting for the new primary to accept writes: SQL reads cost no ARM budget, so they come every second at first — the
 * database is writable to the application then, and the runbook should not see it seconds later.
 */
export const SQL_POLLING: PollInterval = { initialMs: 1_000, maxMs: 5_000, factor: 1.25 };
/**
 * Following a management operation (a scale): every 2 minutes at most for the first 40 minutes, then every 5% of the
 * time it has run, at most hourly. A Business Critical scale that reseeds for days (about 220 GB/h) is read about 145
 * times in 3 days and 241 times in 7 (11 history events each, about 2,700 events), against 5,044 reads (55,000 events,
 * over Temporal's 51,200 limit) at a fixed 2 minutes; its end is seen at most 5% of its duration (and 1 hour) late.
 */
export const OPERATION_POLLING: PollInterval = {
  initialMs: 15_000,
  maxMs: 120_000,
  factor: 2,
  stretch: { fraction: 0.05, maxMs: 3_600_000 },
};
/**
 * Deprecated patch: operation polling stretches with the time waited. Runs recorded before it polled at most every 2
 * minutes throughout; no kept history waited long enough to stretch without it, so only the stretching path is left.
 */
export const STRETCHED_POLLING_PATCH = 'operation-polling-stretches-with-elapsed';

export interface PollOptions<T> {
  read: () => Promise<T>;
  done: (value: T) => boolean;
  timeoutMs: number;
  interval: PollInterval;
  /** Shown on each timer in the Temporal UI. */
  summary: string;
  retryAfterMs?: (value: T) => number | undefined;
  onRead?: (value: T, poll: number, elapsedMs: number) => void;
}

export interface PollResult<T> {
  value: T;
  done: boolean;
  polls: number;
  elapsedMs: number;
}

export async function pollUntil<T>(options: PollOptions<T>): Promise<PollResult<T>> {
  const startedAt = Date.now();
  let intervalMs = options.interval.initialMs;
  for (let poll = 1; ; poll++) {
    const value = await options.read();
    const elapsedMs = Date.now() - startedAt;
    options.onRead?.(value, poll, elapsedMs);
    if (options.done(value)) return { value, done: true, polls: poll, elapsedMs };
    const remainingMs = options.timeoutMs - elapsedMs;
    if (remainingMs <= 0) return { value, done: false, polls: poll, elapsedMs };
    const retryAfterMs = options.retryAfterMs?.(value) ?? 0;
    const cadenceMs =
      options.interval.followRetryAfter && retryAfterMs > 0 && patched(RETRY_AFTER_CADENCE_PATCH)
        ? Math.min(Math.max(retryAfterMs, MIN_RETRY_AFTER_CADENCE_MS), options.interval.maxMs)
        : Math.max(intervalMs, retryAfterMs);
    const stretchedMs = stretchedCadenceMs(options.interval, elapsedMs);
    const stretches = stretchedMs > cadenceMs;
    if (stretches) deprecatePatch(STRETCHED_POLLING_PATCH);
    const waitMs = Math.min(stretches ? stretchedMs : cadenceMs, remainingMs);
    await sleep(waitMs, { summary: options.summary });
    intervalMs = Math.min(options.interval.maxMs, Math.round(intervalMs * options.interval.factor));
  }
}

/** The wait a long poll may stretch to after `elapsedMs` (0 when the interval does not stretch). */
function stretchedCadenceMs(interval: PollInterval, elapsedMs: number): number {
  if (!interval.stretch) return 0;
  return Math.min(interval.stretch.maxMs, Math.round(elapsedMs * interval.stretch.fraction));
}
