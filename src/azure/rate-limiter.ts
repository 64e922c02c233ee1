/**
 * Client-side ARM throttling, per subscription. Azure meters a subscription's requests with token buckets (reads and
 * writes apart); every runbook a worker runs — a fleet's dozens of children included — shares the subscription's
 * budget. Spending it evenly keeps the worker under the sustained rate instead of bursting into 429s, and a 429's
 * Retry-After pauses every request of that subscription, not only the one that met it.
 */

export interface RateLimits {
  /**
   * Reads per second, sustained and over any sliding 1.25 s: the read bucket refills at this rate, and no 1.25 s ever
   * sees more than 1.25 × this leave the worker, so Azure, counting by the second, sees no more than that within any
   * 1 s while transit times differ by up to 250 ms ({@link READ_TRANSIT_JITTER_MS}). Azure refills 25 per second per
   * subscription: at the default 20, 25. A token bucket alone would let its burst and a second's refill go within 1 s.
   */
  readsPerSecond: number;
  readBurst: number;
  writesPerSecond: number;
  writeBurst: number;
}

/**
 * 20 reads per second, and no 1.25-s window ever sees more than 25 leave this worker, so Azure's side counts at most 25
 * in any 1 s while transit times differ by up to 250 ms ({@link READ_TRANSIT_JITTER_MS}); a fleet never spends the subscription's shared bucket (250) that
 * other clients and the portal also draw on.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  readsPerSecond: 20,
  readBurst: 20,
  writesPerSecond: 4,
  writeBurst: 20,
};

/**
 * The transit jitter the read budget allows for (see {@link TokenBucketOptions.transitJitterMs}): reads granted 1 s
 * apart can reach Azure closer together when the earlier ones are held up on the way. Measured on the emulator (fleet
 * of 100 groups on a loaded 2-core machine, 2026-12-05): with a cap of 20 reads in any 1000 ms the worker never
 * granted more than 20 in any 1 s, yet 26 arrived within one, the first six written on time and stamped 60-80 ms late;
 * request created → arrival p99 53 ms, max 92 ms. With 250 ms, the default 20 reads/s become at most 25 in any 1.25 s:
 * Azure counts at most 25 in any 1 s for any transit spread up to 250 ms, at the same sustained 20/s.
 */
export const READ_TRANSIT_JITTER_MS = 250;

/** The part of an abort signal waiting needs (the SDK's pipeline hands over its own signal type). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Thrown by {@link TokenBucket.take} when its signal aborts before a token was granted: the request it guarded was
 * never sent. `reason` is the signal's reason (a cancellation, a deadline).
 */
export class BudgetWaitAbortedError extends Error {
  override readonly name = 'BudgetWaitAbortedError';

  constructor(readonly reason: unknown) {
    super(`aborted while waiting for the ARM request budget${describeReason(reason)}`);
  }
}

function describeReason(reason: unknown): string {
  if (reason instanceof Error && reason.message) return `: ${reason.message}`;
  if (typeof reason === 'string' && reason) return `: ${reason}`;
  return '';
}

export interface TokenBucketOptions {
  /**
   * The most tokens granted within any sliding 1000 ms (a cap over every window, which the bucket alone does not
   * give: it grants its whole capacity and then a second's refill within one second). Default: no cap.
   */
  maxInAnySecond?: number;
  /**
   * With `maxInAnySecond`: how much later one granted request may reach Azure than another (transit and queueing on
   * either side), in ms. The cap then holds over windows of 1000 + this ms instead of 1000: no such window sees more
   * than `maxInAnySecond` × (1000 + this) / 1000 grants, so however transit times differ within this allowance, Azure,
   * counting by the second, sees no more than that within any 1 s. The sustained rate stays `maxInAnySecond`; a
   * cap of `maxInAnySecond` over 1000 ms kept as well would clump the grants and lower it. Default 0.
   */
  transitJitterMs?: number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private pausedUntil = 0;
  /** Requests waiting, in order: a waiter takes a token only when those before it have. */
  private queue: Promise<void> = Promise.resolve();
  /** When the latest tokens were granted (at most `window.max` kept), oldest first. */
  private readonly granted: number[] = [];
  /** The cap on grants within any sliding `ms` (none without `maxInAnySecond`). */
  private readonly window: { ms: number; max: number } | undefined;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    options: TokenBucketOptions = {},
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
    if (options.maxInAnySecond !== undefined) {
      const perSecond = Math.max(1, Math.floor(options.maxInAnySecond));
      const ms = 1000 + Math.max(0, options.transitJitterMs ?? 0);
      this.window = { ms, max: Math.max(1, Math.floor((perSecond * ms) / 1000)) };
    }
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
  }

  /** How long until a token is free (0: now). */
  private waitMs(): number {
    this.refill();
    const now = this.now();
    const paused = Math.max(0, this.pausedUntil - now);
    if (paused > 0) return paused;
    if (this.window && this.granted.length >= this.window.max) {
      // The window is full until the oldest of its grants is `ms` old.
      const windowWait = this.granted[this.granted.length - this.window.max]! + this.window.ms - now;
      if (windowWait > 0) return windowWait;
    }
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  private grant(): void {
    this.tokens -= 1;
    if (!this.window) return;
    this.granted.push(this.now());
    if (this.granted.length > this.window.max) this.granted.shift();
  }

  /**
   * Waits for a token, in arrival order. An aborted `signal` rejects at once with {@link BudgetWaitAbortedError},
   * wherever the waiter is in the queue, and its turn, when it comes, takes no token: a request whose caller gave up
   * never goes out late, and those behind it do not wait for it.
   */
  take(signal?: AbortSignalLike): Promise<void> {
    if (signal?.aborted) return Promise.reject(new BudgetWaitAbortedError(signal.reason));
    const turn = this.queue.then(async () => {
      for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await sleep(wait, signal);
      if (signal?.aborted) throw new BudgetWaitAbortedError(signal.reason);
      this.grant();
    });
    this.queue = turn.catch(() => undefined);
    return signal ? untilAborted(turn, signal) : turn;
  }

  /** Azure said to wait: nothing of this bucket goes out before then. */
  pauseFor(milliseconds: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + milliseconds);
  }
}

/** `work`, or a {@link BudgetWaitAbortedError} as soon as `signal` aborts, whichever comes first. */
function untilAborted(work: Promise<void>, signal: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new BudgetWaitAbortedError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function sleep(milliseconds: number, signal?: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new BudgetWaitAbortedError(signal.reason));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new BudgetWaitAbortedError(signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The read and write buckets of one subscription. */
export class SubscriptionRateLimiter {
  readonly reads: TokenBucket;
  readonly writes: TokenBucket;

  constructor(limits: RateLimits, now?: () => number) {
    this.reads = new TokenBucket(limits.readBurst, limits.readsPerSecond, now, {
      maxInAnySecond: limits.readsPerSecond,
      transitJitterMs: READ_TRANSIT_JITTER_MS,
    });
    this.writes = new TokenBucket(limits.writeBurst, limits.writesPerSecond, now);
  }

  bucketFor(method: string): TokenBucket {
    const upper = method.toUpperCase();
    return upper === 'GET' || upper === 'HEAD' ? this.reads : this.writes;
  }
}
