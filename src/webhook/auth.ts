/**
 * Authentication of the HTTP trigger: an HMAC-SHA256 signature over `<timestamp>.<raw body>` with a replay window, or a
 * bearer token. Comparisons are timing-safe; no answer ever contains a secret or the expected signature.
 *
 * A signed request carries `X-Fogpilot-Timestamp: <unix seconds>` and
 * `X-Fogpilot-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. A timestamp outside the
 * replay window is refused, and the signature of a request that changes something (a start, a signal) is accepted once
 * within the window, so a captured request cannot be sent again. Reads (GET, whose body is empty) are not remembered:
 * their signature covers only the timestamp, and a status poller may read twice in the same second.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-fogpilot-timestamp';
export const SIGNATURE_HEADER = 'x-fogpilot-signature';
const SIGNATURE_PREFIX = 'sha256=';
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/** Default replay window: a signed request is accepted when its timestamp is at most this far from the server's clock. */
export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60_000;

export interface WebhookAuthOptions {
  /** Shared secret for HMAC-signed requests (`FOGPILOT_WEBHOOK_HMAC_SECRET`). */
  hmacSecret?: string;
  /** Token for `Authorization: Bearer <token>` (`FOGPILOT_WEBHOOK_TOKEN`). */
  bearerToken?: string;
}

/** Thrown when the trigger is given no way to authenticate requests: it never serves unauthenticated. */
export class WebhookAuthConfigError extends Error {
  override readonly name = 'WebhookAuthConfigError';
}

/** `sha256=<hex>`: the signature of `body` sent at `timestampSeconds`. */
export function signWebhookBody(secret: string, timestampSeconds: number | string, body: string | Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(body);
  return `${SIGNATURE_PREFIX}${mac.digest('hex')}`;
}

/** The two headers of a signed request, for callers written in TypeScript (and the tests). */
export function signedRequestHeaders(
  secret: string,
  body: string | Buffer,
  nowMs: number = Date.now(),
): Record<typeof TIMESTAMP_HEADER | typeof SIGNATURE_HEADER, string> {
  const timestamp = Math.floor(nowMs / 1000).toString();
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signWebhookBody(secret, timestamp, body) };
}

/** A refusal: the HTTP status, a stable error code and a message for the person reading it. */
export interface AuthRefusal {
  ok: false;
  statusCode: 401 | 409;
  error: string;
  message: string;
}

export type AuthCheck =
  | { ok: true; method: 'bearer' | 'hmac' }
  /** The headers of a signed request are in order; the signature is checked once the body has been read. */
  | { ok: 'needs-body' }
  | AuthRefusal;

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Compares two secrets in time independent of where they differ and of their lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface RequestAuthenticatorOptions extends WebhookAuthOptions {
  replayWindowMs?: number;
  /** The server's clock, in ms (tests move it). */
  now?: () => number;
}

/**
 * Decides whether a request may reach a `/v1` route. `checkHeaders` runs before the body is read (so an
 * unauthenticated request is refused without reading it); `verifySignature` runs after, over the exact bytes received.
 */
export class RequestAuthenticator {
  readonly replayWindowMs: number;
  private readonly hmacSecret?: string;
  private readonly bearerToken?: string;
  private readonly now: () => number;
  /** Signatures accepted within the window, with when they may be forgotten (their timestamp has left the window). */
  private readonly seen = new Map<string, number>();
  private lastPrunedAt = 0;

  constructor(options: RequestAuthenticatorOptions) {
    this.hmacSecret = options.hmacSecret || undefined;
    this.bearerToken = options.bearerToken || undefined;
    if (!this.hmacSecret && !this.bearerToken) {
      throw new WebhookAuthConfigError(
        'The webhook needs a credential to check requests against: set FOGPILOT_WEBHOOK_HMAC_SECRET (signed requests) ' +
          'and/or FOGPILOT_WEBHOOK_TOKEN (bearer token).',
      );
    }
    this.replayWindowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    if (!(this.replayWindowMs >= 1000)) throw new WebhookAuthConfigError('replayWindowMs must be at least 1000 ms');
    this.now = options.now ?? Date.now;
  }

  /** The methods this server accepts, for messages and the start line. */
  get methods(): ('hmac' | 'bearer')[] {
    return [...(this.hmacSecret ? (['hmac'] as const) : []), ...(this.bearerToken ? (['bearer'] as const) : [])];
  }

  /** What to send, in words; used in every refusal so the caller knows how to fix it. */
  private howToAuthenticate(): string {
    const ways: string[] = [];
    if (this.hmacSecret) {
      ways.push(
        'sign it: X-Fogpilot-Timestamp: <unix seconds> and X-Fogpilot-Signature: sha256=<hex HMAC-SHA256 of ' +
          '"<timestamp>.<raw body>" with the shared secret>',
      );
    }
    if (this.bearerToken) ways.push('send Authorization: Bearer <token>');
    return ways.join(', or ');
  }

  private refuse(error: string, message: string, statusCode: 401 | 409 = 401): AuthRefusal {
    return { ok: false, statusCode, error, message };
  }

  /** Bearer tokens are checked in full; a signed request's headers and timestamp are checked, its signature not yet. */
  checkHeaders(headers: Headers): AuthCheck {
    const authorization = header(headers, 'authorization');
    const signature = header(headers, SIGNATURE_HEADER);
    const timestamp = header(headers, TIMESTAMP_HEADER);

    if (authorization !== undefined && signature === undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) {
        return this.refuse(
          'invalid-authorization',
          `The Authorization header is not a bearer token. To authenticate, ${this.howToAuthenticate()}.`,
        );
      }
      if (!this.bearerToken) {
        return this.refuse(
          'bearer-not-accepted',
          `This server does not accept bearer tokens (FOGPILOT_WEBHOOK_TOKEN is not set on it). ${this.howToAuthenticate()}.`,
        );
      }
      if (!sameSecret(match[1]!, this.bearerToken)) {
        return this.refuse(
          'invalid-token',
          'The bearer token is not valid. Send the token the webhook was started with.',
        );
      }
      return { ok: true, method: 'bearer' };
    }

    if (signature === undefined && timestamp === undefined) {
      return this.refuse(
        'authentication-required',
        `This request is not authenticated. To authenticate, ${this.howToAuthenticate()}.`,
      );
    }
    if (!this.hmacSecret) {
      return this.refuse(
        'hmac-not-accepted',
        `This server does not accept signed requests (FOGPILOT_WEBHOOK_HMAC_SECRET is not set on it). ${this.howToAuthenticate()}.`,
      );
    }
    if (signature === undefined) {
      return this.refuse(
        'signature-missing',
        `X-Fogpilot-Timestamp was sent without X-Fogpilot-Signature; ${this.howToAuthenticate()}.`,
      );
    }
    if (timestamp === undefined) {
      return this.refuse(
        'timestamp-missing',
        'X-Fogpilot-Signature was sent without X-Fogpilot-Timestamp: send the unix time in seconds the signature was made with.',
      );
    }
    if (!UNIX_SECONDS.test(timestamp)) {
      return this.refuse(
        'timestamp-invalid',
        'X-Fogpilot-Timestamp must be the unix time in whole seconds (e.g. the output of `date +%s`).',
      );
    }
    const skewMs = this.now() - Number(timestamp) * 1000;
    if (Math.abs(skewMs) > this.replayWindowMs) {
      const seconds = Math.round(Math.abs(skewMs) / 1000);
      return this.refuse(
        'timestamp-outside-window',
        `X-Fogpilot-Timestamp is ${seconds} s ${skewMs > 0 ? 'in the past' : 'in the future'} by this server's clock; ` +
          `it must be within ${Math.round(this.replayWindowMs / 1000)} s. A request is refused when it is replayed ` +
          "later or when the caller's clock is wrong: sign each request when you send it, and check the caller's clock (NTP).",
      );
    }
    if (!signature.startsWith(SIGNATURE_PREFIX) || !HEX_SIGNATURE.test(signature.slice(SIGNATURE_PREFIX.length))) {
      return this.refuse(
        'signature-invalid',
        'X-Fogpilot-Signature must be "sha256=" followed by 64 lowercase hex digits (HMAC-SHA256 of "<timestamp>.<raw body>").',
      );
    }
    return { ok: 'needs-body' };
  }

  /**
   * Checks a signed request's signature over the bytes received. A signature that `changes` something (a start or a
   * signal) is accepted once; a read (`changes: false`) is not remembered, so a poller may read twice within a second.
   */
  verifySignature(headers: Headers, rawBody: Buffer, { changes = true }: { changes?: boolean } = {}): AuthCheck {
    const first = this.checkHeaders(headers);
    if (first.ok !== 'needs-body') return first;
    const timestamp = header(headers, TIMESTAMP_HEADER)!;
    const given = Buffer.from(header(headers, SIGNATURE_HEADER)!.slice(SIGNATURE_PREFIX.length), 'hex');
    const expected = Buffer.from(
      signWebhookBody(this.hmacSecret!, timestamp, rawBody).slice(SIGNATURE_PREFIX.length),
      'hex',
    );
    if (!timingSafeEqual(given, expected)) {
      return this.refuse(
        'signature-mismatch',
        'X-Fogpilot-Signature does not match the request. Sign the exact bytes of the body as sent, as ' +
          '"<X-Fogpilot-Timestamp>.<body>", with HMAC-SHA256 and the shared secret, and send it as sha256=<hex>.',
      );
    }
    if (!changes) return { ok: true, method: 'hmac' };
    const key = expected.toString('hex');
    const now = this.now();
    this.forgetExpired(now);
    const until = this.seen.get(key);
    if (until !== undefined && until > now) {
      return this.refuse(
        'replayed-request',
        'This signed request was already received: each signature is accepted once. To retry, sign the request again ' +
          'with the current timestamp (an idempotency key makes a retried start return the same run).',
        409,
      );
    }
    this.seen.set(key, Number(timestamp) * 1000 + this.replayWindowMs);
    return { ok: true, method: 'hmac' };
  }

  private forgetExpired(now: number): void {
    if (now - this.lastPrunedAt < 1000) return;
    this.lastPrunedAt = now;
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
  }
}
