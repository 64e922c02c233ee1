/**
 * Polling from the workflow: a read, then durable timers between reads, backing off, never sooner than the server's
 * Retry-After, bounded by a timeout. Time-skipping tests pass simulated hours in milliseconds.
 */
import { sleep } from '@temporalio/workflow';

export interface PollInterval {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const ROLE_POLLING: PollInterval = { initialMs: 5_000, maxMs: 30_000, factor: 1.5 };
export const SQL_POLLING: PollInterval = { initialMs: 5_000, maxMs: 15_000, factor: 1.5 };
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
    const waitMs = Math.min(Math.max(intervalMs, options.retryAfterMs?.(value) ?? 0), remainingMs);
    await sleep(waitMs, { summary: options.summary });
    intervalMs = Math.min(options.interval.maxMs, Math.round(intervalMs * options.interval.factor));
  }
}
