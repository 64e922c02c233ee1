/**
 * Runs one attempt of a hook: one HTTP request, bounded by the hook's timeout, and its redacted record. Called by the
 * hook activity, which lets Temporal retry a {@link HookError} whose `retryable` is true (up to the hook's `attempts`).
 *
 * Secrets: header values that name an environment variable are read here, on the worker, and appear nowhere else:
 * the record shows them as `[redacted]`, the answer's excerpt and every error message are scrubbed of them, and they
 * are registered with the log redaction (`src/secrets.ts`).
 */
import { performance } from 'node:perf_hooks';
import { REDACTED, registerSecret } from '../secrets';
import {
  isRetryableStatus,
  OutboundFailureTypes,
  OutboundRequestError,
  retryAfterMs,
  scrub,
  secretForms,
  sendOutbound,
  truncateUtf8,
  type OutboundFailureKind,
} from './outbound';
import type { HookConfig } from './schema';
import { HOOK_PLACEHOLDERS, type HookContext, type HookPlaceholder, type HookRecord } from './types';
import { urlWithoutQuery } from './urls';

/** How much of a request or answer body a record keeps. */
export const HOOK_BODY_EXCERPT_BYTES = 2048;
/** How much of an unexpected answer's body its error message quotes. */
const MESSAGE_EXCERPT_CHARS = 200;

/**
 * A hook attempt that failed: `kind` and `retryable` classify it (`OutboundRequestError`), `record` is the redacted
 * request and answer of this attempt, and the message says what happened and what to check, without any secret or
 * query string. Thrown by {@link runHook}.
 */
export class HookError extends OutboundRequestError {
  override readonly name = 'HookError';
  readonly failureType = OutboundFailureTypes.HookFailed;
  readonly record: HookRecord;

  constructor(
    message: string,
    init: { kind: OutboundFailureKind; status?: number; retryAfterMs?: number; record: HookRecord },
  ) {
    super(message, init);
    this.record = init.record;
  }

  get failureDetails(): HookRecord {
    return this.record;
  }
}

export interface RunHookOptions {
  /** Where `{ env: NAME }` header values are read (the worker's environment). */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** The activity's cancellation signal. */
  abortSignal?: AbortSignal;
}

/** A copy of a JSON value with each placeholder in its strings replaced (absent context fields become ""). */
export function fillPlaceholders(value: unknown, context: HookContext): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name: string) =>
      (HOOK_PLACEHOLDERS as readonly string[]).includes(name) ? (context[name as HookPlaceholder] ?? '') : whole,
    );
  }
  if (Array.isArray(value)) return value.map((item) => fillPlaceholders(item, context));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillPlaceholders(item, context)]));
  }
  return value;
}

/** `2xx`, or the listed statuses. */
function expected(hook: HookConfig): string {
  return hook.expectStatus === undefined ? '2xx' : hook.expectStatus.join(' or ');
}

/**
 * Sends the hook's request once (placeholders in its body filled from `context`, redirects not followed) and returns
 * its redacted record when the answer's status is expected (any 2xx unless `expectStatus` lists others). Otherwise
 * throws a {@link HookError} carrying the record: retryable for a timeout, a network error, or an answer of 408, 429
 * or 5xx; not retryable for any other answer, a header whose environment variable is not set, or a cancellation.
 */
export async function runHook(
  hook: HookConfig,
  context: HookContext,
  options: RunHookOptions = {},
): Promise<HookRecord> {
  const env = options.env ?? process.env;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const label = `Hook ${hook.name} (${context.phase}) ${hook.method} ${urlWithoutQuery(hook.url)}`;

  const headers: Record<string, string> = {};
  const shown: Record<string, string> = {};
  const secrets: string[] = [];
  const missing: string[] = [];
  for (const [name, value] of Object.entries(hook.headers ?? {})) {
    if (typeof value === 'string') {
      headers[name] = value;
      shown[name] = value;
      continue;
    }
    const secret = env[value.env];
    if (secret === undefined || secret === '') {
      missing.push(`${name} (from ${value.env})`);
      shown[name] = REDACTED;
      continue;
    }
    registerSecret(secret);
    secrets.push(secret);
    headers[name] = secret;
    shown[name] = REDACTED;
  }
  const forms = secretForms(secrets);

  let body: string | undefined;
  if (hook.body !== undefined) {
    body = JSON.stringify(fillPlaceholders(hook.body, context));
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
      shown['Content-Type'] = 'application/json';
    }
  }
  const shownBody = body === undefined ? undefined : truncateUtf8(scrub(body, forms), HOOK_BODY_EXCERPT_BYTES);
  const record: HookRecord = {
    name: hook.name,
    phase: context.phase,
    request: {
      method: hook.method,
      url: urlWithoutQuery(hook.url),
      headers: shown,
      ...(shownBody === undefined ? {} : { body: shownBody.text, ...(shownBody.truncated ? { truncated: true } : {}) }),
    },
    ok: false,
    durationMs: 0,
  };

  if (missing.length > 0) {
    const error = `the environment variable of header ${missing.join(', ')} is not set on this worker; set it on every worker (fogpilot.yaml names it, the value never goes there)`;
    throw new HookError(`${label} not sent: ${error}`, {
      kind: 'configuration',
      record: { ...record, error },
    });
  }

  const attempt = await sendOutbound(
    {
      url: hook.url,
      method: hook.method,
      headers,
      body,
      timeoutMs: hook.timeout,
      abortSignal: options.abortSignal,
      fetch: options.fetch,
    },
    HOOK_BODY_EXCERPT_BYTES,
    forms,
  );
  const durationMs = elapsed();

  if (!attempt.answered) {
    const error =
      attempt.kind === 'timeout'
        ? `${attempt.detail} (the hook's timeout); retried while attempts remain`
        : attempt.kind === 'cancelled'
          ? attempt.detail
          : `${attempt.detail}; retried while attempts remain`;
    throw new HookError(`${label}: ${error}`, {
      kind: attempt.kind,
      record: { ...record, ok: false, durationMs, error },
    });
  }

  const contentType = attempt.headers.get('content-type');
  const response: NonNullable<HookRecord['response']> = {
    status: attempt.status,
    headers: contentType === null ? {} : { 'content-type': contentType },
    body: attempt.excerpt,
    ...(attempt.truncated ? { truncated: true } : {}),
  };
  const ok =
    hook.expectStatus === undefined
      ? attempt.status >= 200 && attempt.status < 300
      : hook.expectStatus.includes(attempt.status);
  if (ok) return { ...record, response, ok: true, durationMs };

  const quoted = attempt.excerpt.replace(/\s+/g, ' ').trim().slice(0, MESSAGE_EXCERPT_CHARS);
  const error =
    `answered ${attempt.status}, expected ${expected(hook)}${quoted === '' ? '' : ` (${quoted})`}` +
    (isRetryableStatus(attempt.status)
      ? '; retried while attempts remain'
      : '; not retried: check the hook (url, method, headers, body) and the receiver');
  throw new HookError(`${label}: ${error}`, {
    kind: 'status',
    status: attempt.status,
    retryAfterMs: retryAfterMs(attempt.headers.get('retry-after')),
    record: { ...record, response, ok: false, durationMs, error },
  });
}
