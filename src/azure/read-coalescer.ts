/**
 * Per-worker read coalescing: while many runbooks are in flight, one ARM list call answers the reads of one scope
 * (the failover groups of a resource group at a location, the managed instances of a resource group) instead of one
 * GET each. A read with no other read of its scope around stays a direct GET, at once: a lone runbook neither waits
 * nor reads more.
 *
 * The rule, per scope:
 * - A read joins a list call of its scope whose request has not gone out yet (its answer is then newer than the read),
 *   or went out no more than `windowMs` before the read was asked: a shared answer is at most `windowMs` older than
 *   the read that receives it.
 * - Otherwise, when at least `minConcurrent` other reads of the scope are in flight (under way, or waiting for the
 *   request budget, as a fleet's are), the read opens a new list call, which the next reads join; else it is a
 *   direct GET. A runbook alone, whose reads of one scope seldom overlap, keeps its GETs.
 * - The walk over the list's pages (`nextLink`) stops as soon as every waiting read is answered, and never costs more
 *   reads than the direct GETs would: it stops when the pages walked plus the reads still unanswered reach the number
 *   of reads that joined, or when the pages left (known from an earlier full walk) outnumber the reads unanswered.
 * - A read the list does not answer (not in the pages walked, or the list was refused with 401, 403 or 404) is a
 *   direct GET: its answer, a 404 included, is its own. A 403 also stops listing that scope (the principal may hold
 *   rights on single resources only). Any other failure of the list (a 429, a 5xx, no answer) is each waiting read's
 *   answer, and each retries it as its own GET's failure.
 */
import { ArmRequestError, isArmRequestError } from './errors';
import type { ArmAnswer } from './control-plane';

/** How long a list answer may serve reads asked after its request went out. */
export const DEFAULT_COALESCING_WINDOW_MS = 250;

/** Other reads of a scope in flight that make the next read a list call rather than a GET. */
export const DEFAULT_MIN_CONCURRENT_READS = 2;

/** One page of a scope's list, its items keyed as reads ask for them. */
export interface ListedPage<T> {
  items: { key: string; value: T }[];
  /** The page's `nextLink`, when there are more. */
  continuationToken?: string;
  /** When the page's request went out (after the request budget's wait), epoch ms. */
  sentAt: number;
}

/** Walks one scope's list, a page at a time; `return()` it to stop early. */
export type ListPages<T> = (scope: string) => AsyncIterator<ListedPage<T>>;

export interface ReadCoalescerOptions {
  /** Default {@link DEFAULT_COALESCING_WINDOW_MS}. */
  windowMs?: number;
  /** Default {@link DEFAULT_MIN_CONCURRENT_READS}. */
  minConcurrent?: number;
  now?: () => number;
}

/** How one read was answered: `direct` (its own GET) or `list` (a shared list call). */
export type ReadVia = 'direct' | 'list';

export interface CoalescedReadOptions {
  /** Stops waiting for the shared answer (the list call goes on for the other reads). */
  abortSignal?: AbortSignal;
  /** `false`: always a direct GET (a read that must not share). Default true. */
  coalesce?: boolean;
}

interface Waiter<T> {
  key: string;
  direct: () => Promise<ArmAnswer<T>>;
  resolve: (answer: ArmAnswer<T>) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

interface Batch<T> {
  firstSentAt?: number;
  done: boolean;
  failed: boolean;
  seen: Map<string, { value: T; sentAt: number }>;
  waiters: Waiter<T>[];
  joined: number;
  pages: number;
}

interface ScopeState<T> {
  /** Reads of the scope under way: direct GETs and list walks (a read waiting for the request budget included). */
  inFlight: number;
  batch?: Batch<T>;
  /** Pages of the last full walk. */
  knownPages?: number;
  listable: boolean;
}

/** Counts of what the coalescer did, for tests and benchmarks. */
export interface CoalescerStats {
  direct: number;
  listCalls: number;
  listPages: number;
  shared: number;
}

export class ReadCoalescer<T> {
  readonly stats: CoalescerStats = { direct: 0, listCalls: 0, listPages: 0, shared: 0 };
  private readonly scopes = new Map<string, ScopeState<T>>();
  private readonly windowMs: number;
  private readonly minConcurrent: number;
  private readonly now: () => number;

  constructor(
    private readonly listPages: ListPages<T>,
    options: ReadCoalescerOptions = {},
  ) {
    this.windowMs = options.windowMs ?? DEFAULT_COALESCING_WINDOW_MS;
    this.minConcurrent = options.minConcurrent ?? DEFAULT_MIN_CONCURRENT_READS;
    this.now = options.now ?? Date.now;
  }

  /**
   * The item `key` of `scope`: from a list call shared with concurrent reads of the scope, or from `direct` (its own
   * GET). The answer's `readAtMs` is when the request that carried it went out, `via` how it came.
   */
  read(
    scope: string,
    key: string,
    direct: () => Promise<ArmAnswer<T>>,
    options: CoalescedReadOptions = {},
  ): Promise<ArmAnswer<T>> {
    const state = this.stateOf(scope);
    const now = this.now();
    if (options.coalesce === false) return this.direct(state, direct);

    const batch = state.batch;
    if (batch && !batch.failed && (batch.firstSentAt === undefined || batch.firstSentAt >= now - this.windowMs)) {
      const seen = batch.seen.get(key);
      if (seen) {
        if (seen.sentAt < now - this.windowMs) return this.direct(state, direct);
        this.stats.shared += 1;
        return Promise.resolve({ value: seen.value, readAtMs: seen.sentAt, via: 'list' });
      }
      if (batch.done) return this.direct(state, direct);
      return this.wait(batch, key, direct, options.abortSignal);
    }
    if (state.listable && state.inFlight >= this.minConcurrent) {
      const fresh: Batch<T> = { done: false, failed: false, seen: new Map(), waiters: [], joined: 0, pages: 0 };
      state.batch = fresh;
      const answer = this.wait(fresh, key, direct, options.abortSignal);
      void this.walk(scope, state, fresh);
      return answer;
    }
    return this.direct(state, direct);
  }

  private stateOf(scope: string): ScopeState<T> {
    let state = this.scopes.get(scope);
    if (!state) {
      state = { inFlight: 0, listable: true };
      this.scopes.set(scope, state);
    }
    return state;
  }

  private async direct(state: ScopeState<T>, direct: () => Promise<ArmAnswer<T>>): Promise<ArmAnswer<T>> {
    this.stats.direct += 1;
    state.inFlight += 1;
    try {
      const answer = await direct();
      return { ...answer, via: 'direct' };
    } finally {
      state.inFlight -= 1;
    }
  }

  private wait(
    batch: Batch<T>,
    key: string,
    direct: () => Promise<ArmAnswer<T>>,
    abortSignal?: AbortSignal,
  ): Promise<ArmAnswer<T>> {
    return new Promise<ArmAnswer<T>>((resolve, reject) => {
      const waiter: Waiter<T> = { key, direct, resolve, reject, settled: false };
      if (abortSignal?.aborted) return reject(cancelledRead(abortSignal.reason));
      const onAbort = (): void => {
        if (waiter.settled) return;
        waiter.settled = true;
        batch.waiters = batch.waiters.filter((entry) => entry !== waiter);
        reject(cancelledRead(abortSignal?.reason));
      };
      abortSignal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        waiter.settled = true;
        abortSignal?.removeEventListener('abort', onAbort);
      };
      waiter.resolve = (answer) => {
        if (waiter.settled) return;
        settle();
        resolve(answer);
      };
      waiter.reject = (error) => {
        if (waiter.settled) return;
        settle();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      batch.waiters.push(waiter);
      batch.joined += 1;
    });
  }

  private async walk(scope: string, state: ScopeState<T>, batch: Batch<T>): Promise<void> {
    this.stats.listCalls += 1;
    state.inFlight += 1;
    const pages = this.listPages(scope);
    let complete = false;
    try {
      for (;;) {
        const next = await pages.next();
        if (next.done) {
          complete = true;
          break;
        }
        const page = next.value;
        batch.pages += 1;
        this.stats.listPages += 1;
        batch.firstSentAt ??= page.sentAt;
        for (const item of page.items) batch.seen.set(item.key, { value: item.value, sentAt: page.sentAt });
        this.answerSeen(batch);
        if (!page.continuationToken) {
          complete = true;
          break;
        }
        const unanswered = batch.waiters.length;
        const pagesLeft = state.knownPages !== undefined ? state.knownPages - batch.pages : undefined;
        const worthAnotherPage =
          unanswered >= 2 &&
          batch.pages + unanswered < batch.joined &&
          (pagesLeft === undefined || pagesLeft < unanswered);
        if (!worthAnotherPage) break;
      }
      if (complete) state.knownPages = batch.pages;
      batch.done = true;
      this.fallBackToDirect(state, batch);
    } catch (error) {
      batch.done = true;
      const status = isArmRequestError(error) ? error.statusCode : undefined;
      if (status === 401 || status === 403 || status === 404) {
        if (status === 403) state.listable = false;
        this.fallBackToDirect(state, batch);
      } else {
        batch.failed = true;
        const waiting = batch.waiters;
        batch.waiters = [];
        for (const waiter of waiting) waiter.reject(error);
      }
    } finally {
      state.inFlight -= 1;
      if (!complete) await pages.return?.().catch(() => undefined);
    }
  }

  private answerSeen(batch: Batch<T>): void {
    batch.waiters = batch.waiters.filter((waiter) => {
      const seen = batch.seen.get(waiter.key);
      if (!seen) return true;
      this.stats.shared += 1;
      waiter.resolve({ value: seen.value, readAtMs: seen.sentAt, via: 'list' });
      return false;
    });
  }

  private fallBackToDirect(state: ScopeState<T>, batch: Batch<T>): void {
    const waiting = batch.waiters;
    batch.waiters = [];
    for (const waiter of waiting) this.direct(state, waiter.direct).then(waiter.resolve, waiter.reject);
  }
}

function cancelledRead(reason: unknown): ArmRequestError {
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'it was cancelled';
  return new ArmRequestError(`stopped waiting for a shared ARM read, as ${why}`, {
    code: reason instanceof Error && reason.name === 'TimeoutError' ? 'DeadlineExceeded' : 'Cancelled',
    delivery: 'unknown',
    method: 'GET',
    cause: reason,
  });
}
