/**
 * Client-side ARM throttling, per subscription. Azure meters a subscription's requests with token buckets (reads and
 * writes apart); every runbook a worker runs — a fleet's dozens of children included — shares the subscription's
 * budget. Spending it evenly keeps the worker under the sustained rate instead of bursting into 429s, and a 429's
 * Retry-After pauses every request of that subscription, not only the one that met it.
 */

export interface RateLimits {
  /**
   * Reads per second, sustained and in any 1-s window: the read bucket refills at this rate, and no sliding 1000 ms
   * ever sees more reads leave the worker than this (Azure refills 25 per second per subscription; stay under it).
   * A token bucket alone would let its burst and a second's refill go within one second.
   */
  readsPerSecond: number;
  readBurst: number;
  writesPerSecond: number;
  writeBurst: number;
}

/**
 * No 1-s window ever sees more than 20 reads from this worker (the read bucket's window cap), under Azure's 25/s with
 * room for arrival jitter and other clients, so a fleet never spends the subscription's shared bucket (250) that
 * other clients and the portal also draw on.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  readsPerSecond: 20,
  readBurst: 20,
  writesPerSecond: 4,
  writeBurst: 20,
};

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
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private pausedUntil = 0;
  /** Requests waiting, in order: a waiter takes a token only when those before it have. */
  private queue: Promise<void> = Promise.resolve();
  /** When the latest tokens were granted (at most `maxInAnySecond` kept), oldest first. */
  private readonly granted: number[] = [];
  private readonly maxInAnySecond: number | undefined;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
    options: TokenBucketOptions = {},
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
    this.maxInAnySecond =
      options.maxInAnySecond !== undefined ? Math.max(1, Math.floor(options.maxInAnySecond)) : undefined;
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
    if (this.maxInAnySecond !== undefined && this.granted.length >= this.maxInAnySecond) {
      // The window is full until its oldest grant is 1000 ms old.
      const windowWait = this.granted[this.granted.length - this.maxInAnySecond]! + 1000 - now;
      if (windowWait > 0) return windowWait;
    }
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  private grant(): void {
    this.tokens -= 1;
    if (this.maxInAnySecond === undefined) return;
    this.granted.push(this.now());
    if (this.granted.length > this.maxInAnySecond) this.granted.shift();
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
    });
    this.writes = new TokenBucket(limits.writeBurst, limits.writesPerSecond, now);
  }

  bucketFor(method: string): TokenBucket {
    const upper = method.toUpperCase();
    return upper === 'GET' || upper === 'HEAD' ? this.reads : this.writes;
  }
}
