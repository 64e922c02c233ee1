/**
 * One outbound HTTP request for hooks and notifications: bounded by a timeout (an `AbortSignal`, so no timer races the
 * request), classified when it fails, and shown only in redacted form. Runs in activities (Node), never in workflows.
 */
import { ApplicationFailure } from '@temporalio/common';
import { REDACTED } from '../secrets';

/**
 * Why an outbound request failed. `timeout` and `network` are retried; `status` is retried only for 408, 429 and 5xx;
 * `configuration` (an environment variable missing, a URL from the environment that cannot be used) and `cancelled`
 * (the activity was cancelled) are not.
 */
export const OutboundFailureKinds = {
  timeout: 'timeout',
  network: 'network',
  status: 'status',
  configuration: 'configuration',
  cancelled: 'cancelled',
} as const;
export type OutboundFailureKind = (typeof OutboundFailureKinds)[keyof typeof OutboundFailureKinds];

/** `ApplicationFailure.type` of a failed hook or notification, for the workflow to tell them apart. */
export const OutboundFailureTypes = {
  /** A hook's request failed; details: `[HookRecord]` of the attempt. */
  HookFailed: 'HookFailed',
  /** A notification was not delivered; details: `[NotificationDelivery]` of the attempt. */
  NotificationNotDelivered: 'NotificationNotDelivered',
} as const;
export type OutboundFailureType = (typeof OutboundFailureTypes)[keyof typeof OutboundFailureTypes];

/** An answer worth trying again: 408 Request Timeout, 429 Too Many Requests, any 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface OutboundRequestErrorInit {
  kind: OutboundFailureKind;
  /** The status answered, for `kind: 'status'`. */
  status?: number;
  /** The answer's `Retry-After`, when it had one (at most 5 minutes). */
  retryAfterMs?: number;
}

/**
 * A hook or notification request that failed, classified. `retryable` says whether another attempt may succeed;
 * {@link OutboundRequestError.toApplicationFailure} turns it into the failure an activity throws. The message names
 * the request without its query string or any secret.
 */
export abstract class OutboundRequestError extends Error {
  readonly kind: OutboundFailureKind;
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** Whether another attempt may succeed: timeouts, network errors, 408/429/5xx. */
  readonly retryable: boolean;

  constructor(message: string, init: OutboundRequestErrorInit) {
    super(message);
    this.kind = init.kind;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    this.retryable =
      init.kind === 'timeout' ||
      init.kind === 'network' ||
      (init.kind === 'status' && init.status !== undefined && isRetryableStatus(init.status));
  }

  /** The `ApplicationFailure.type` the activity fails with. */
  abstract readonly failureType: OutboundFailureType;
  /** The redacted record of the attempt, the failure's only detail. */
  abstract readonly failureDetails: unknown;

  /**
   * The failure an activity throws: non-retryable unless {@link retryable}; a `Retry-After` becomes the next retry's
   * delay; the details carry the redacted record of this attempt so the workflow can report the last one.
   */
  toApplicationFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      type: this.failureType,
      message: this.message,
      nonRetryable: !this.retryable,
      details: [this.failureDetails],
      nextRetryDelay: this.retryable && this.retryAfterMs !== undefined ? this.retryAfterMs : undefined,
    });
  }
}

/** Whether `error` is a classified outbound failure another attempt may fix. */
export function isRetryableOutboundError(error: unknown): boolean {
  return error instanceof OutboundRequestError && error.retryable;
}

/**
 * The forms a secret value takes in text: itself, trimmed, inside a JSON string, URL-encoded, and each
 * whitespace-separated part of 8 characters or more (the token of `Bearer <token>`). Longest first.
 */
export function secretForms(values: readonly string[]): string[] {
  const forms = new Set<string>();
  const add = (candidate: string) => {
    if (candidate === '') return;
    forms.add(candidate);
    forms.add(JSON.stringify(candidate).slice(1, -1));
    forms.add(encodeURIComponent(candidate));
  };
  for (const value of values) {
    add(value);
    add(value.trim());
    for (const part of value.split(/\s+/)) if (part.length >= 8) add(part);
  }
  forms.delete('');
  return [...forms].sort((a, b) => b.length - a.length);
}

/** `text` with every form in `forms` (longest first, as {@link secretForms} orders them) replaced by `[redacted]`. */
export function scrub(text: string, forms: readonly string[]): string {
  let result = text;
  for (const form of forms) if (result.includes(form)) result = result.split(form).join(REDACTED);
  return result;
}

/** The first `maxBytes` bytes of `text` as UTF-8 (never half a character), and whether anything was cut. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  return {
    text: bytes
      .subarray(0, maxBytes)
      .toString('utf8')
      .replace(/\uFFFD+$/, ''),
    truncated: true,
  };
}

/** What an HTTP answer's `Retry-After` asks for, in ms (seconds or an HTTP date), at most 5 minutes. */
export function retryAfterMs(value: string | null, nowMs: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - nowMs;
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), 5 * 60_000) : undefined;
}

export interface OutboundRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The whole request, answer's headers and body excerpt included, is cut at this. */
  timeoutMs: number;
  /** The activity's cancellation signal: a cancelled request fails as `cancelled`, never retried. */
  abortSignal?: AbortSignal;
  fetch?: typeof fetch;
}

/** How one request went: an answer (its status, headers, the start of its body) or the kind of failure. */
export type OutboundAttempt =
  | {
      answered: true;
      status: number;
      headers: Headers;
      /** The body's first bytes, decoded; secrets are scrubbed by {@link readExcerpt}'s caller's forms. */
      excerpt: string;
      truncated: boolean;
    }
  | { answered: false; kind: 'timeout' | 'network' | 'cancelled'; detail: string };

/**
 * Sends one request, redirects not followed (a 3xx is an answer like any other), and reads at most `excerptBytes`
 * of its body with every form in `forms` scrubbed. Never throws: a failure comes back classified.
 */
export async function sendOutbound(
  request: OutboundRequest,
  excerptBytes: number,
  forms: readonly string[],
): Promise<OutboundAttempt> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.abortSignal ? AbortSignal.any([deadline, request.abortSignal]) : deadline;
  const classify = (error: unknown): OutboundAttempt => {
    if (deadline.aborted)
      return { answered: false, kind: 'timeout', detail: `no answer within ${request.timeoutMs} ms` };
    if (request.abortSignal?.aborted)
      return { answered: false, kind: 'cancelled', detail: 'the request was cancelled' };
    return { answered: false, kind: 'network', detail: scrub(networkErrorText(error), forms) };
  };
  let response: Response;
  try {
    response = await (request.fetch ?? fetch)(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    return classify(error);
  }
  try {
    const { text, truncated } = await readExcerpt(response, excerptBytes, forms);
    return { answered: true, status: response.status, headers: response.headers, excerpt: text, truncated };
  } catch (error) {
    return classify(error);
  }
}

/** `fetch failed: connect ECONNREFUSED 127.0.0.1:8080`: the error and its cause, one line. */
function networkErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`.replace(/\s+/g, ' ');
}

/**
 * The start of a body: read until `maxBytes` plus the longest secret form (so a secret straddling the cut is whole when
 * scrubbed), the rest cancelled; scrubbed; then cut to `maxBytes`, dropping any tail that could hold part of a secret.
 */
async function readExcerpt(
  response: Response,
  maxBytes: number,
  forms: readonly string[],
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const longest = forms.reduce((length, form) => Math.max(length, Buffer.byteLength(form)), 0);
  const limit = maxBytes + longest + 1;
  const chunks: Buffer[] = [];
  let read = 0;
  let more = false;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      read += value.byteLength;
      if (read >= limit) {
        more = true;
        break;
      }
    }
  } finally {
    if (more) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  let text = scrub(Buffer.concat(chunks).subarray(0, limit).toString('utf8'), forms);
  // A secret cut at the read limit was not scrubbed whole: it can only sit in the last `longest` characters.
  if (more && longest > 0) text = text.slice(0, Math.max(0, text.length - longest));
  const cut = truncateUtf8(text, maxBytes);
  return { text: cut.text, truncated: cut.truncated || more };
}
