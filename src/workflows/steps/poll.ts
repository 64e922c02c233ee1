/**
 * Polling from the workflow: a read, then durable timers between reads, backing off, never sooner than the server's
 * Retry-After (role polling follows a positive Retry-After as its cadence), bounded by a timeout. Time-skipping tests pass simulated hours in milliseconds.
 */
import { patched, sleep } from '@temporalio/workflow';

export interface PollInterval {
  initialMs: number;
  maxMs: number;
  factor: number;
  /**
   * Poll at the server's positive Retry-After (at least {@link MIN_RETRY_AFTER_CADENCE_MS}, at most `maxMs`) rather
   * than the backoff: Azure knows when its operation is worth asking about again. Without one, the backoff applies.
   */
  followRetryAfter?: boolean;
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
export const OPERATION_POLLING: PollInterval = { initialMs: 15_000, maxMs: 120_000, factor: 2 };

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
    const waitMs = Math.min(cadenceMs, remainingMs);
    await sleep(waitMs, { summary: options.summary });
    intervalMs = Math.min(options.interval.maxMs, Math.round(intervalMs * options.interval.factor));
  }
}
