/**
 * Per-caller rate limits of the HTTP trigger: a token bucket per caller, holding `burst` requests and refilled at
 * `perMinute`. One caller that loops (a misfiring alert rule, a stolen credential) is held back while the others go on.
 */
import { DEFAULT_CALLER_RATE_LIMIT, type CallerRateLimit } from '../config/access';

/** The answer for one request: go ahead, or wait `retryAfterSeconds` before the next. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; limit: CallerRateLimit };

interface Bucket {
  tokens: number;
  at: number;
}

export class CallerRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /**
   * @param limitOf each caller's limit (its `access.callers.<name>.rateLimit`), or undefined for the default
   * @param now the clock in ms (tests move it)
   */
  constructor(
    private readonly limitOf: (caller: string) => CallerRateLimit | undefined,
    private readonly now: () => number = Date.now,
    private readonly fallback: CallerRateLimit = DEFAULT_CALLER_RATE_LIMIT,
  ) {}

  /** The limit that applies to `caller`. */
  limitFor(caller: string): CallerRateLimit {
    return this.limitOf(caller) ?? this.fallback;
  }

  /** Takes one request from `caller`'s bucket. */
  take(caller: string): RateDecision {
    const limit = this.limitFor(caller);
    const capacity = limit.burst ?? limit.perMinute;
    const perMs = limit.perMinute / 60_000;
    const now = this.now();
    const bucket = this.buckets.get(caller) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)), limit };
  }
}
