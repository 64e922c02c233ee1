/**
 * Authentication of the HTTP trigger: an HMAC-SHA256 signature that binds the method, the path, the idempotency key and
 * the body, with a replay window, or a bearer token. Each credential belongs to one caller, and a request authenticates
 * as the caller whose credential it presents. Comparisons are timing-safe; no answer ever contains a secret or the
 * expected signature.
 *
 * A signed request carries `X-Fogpilot-Timestamp: <unix seconds>` and
 * `X-Fogpilot-Signature: sha256=<hex of HMAC-SHA256(key, canonical request)>`, where the canonical request is
 * (see {@link canonicalRequest}):
 *
 * ```
 * <timestamp>\n<METHOD>\n<path with query, as sent>\n<Idempotency-Key header, or empty>\n<sha256 hex of the raw body>
 * ```
 *
 * so a signed body sent to another route, with another idempotency key, or as another signal does not match. A
 * timestamp outside the replay window is refused, and the signature of a request that changes something (a start, a
 * signal) is accepted once within the window (`replay-store.ts`). Reads (GET) are not remembered: a status poller may
 * read twice in the same second.
 */
import { registerSecret } from '../secrets';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { MemoryReplayStore, type ReplayStore } from './replay-store';
import { legacyCredentials, type WebhookAuthOptions, type WebhookCredential } from './settings';

export const TIMESTAMP_HEADER = 'x-fogpilot-timestamp';
export const SIGNATURE_HEADER = 'x-fogpilot-signature';
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const SIGNATURE_PREFIX = 'sha256=';
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^\d{1,12}$/;

/** Default replay window: a signed request is accepted when its timestamp is at most this far from the server's clock. */
export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60_000;

export type { WebhookAuthOptions } from './settings';

/** Thrown when the trigger is given no way to authenticate requests: it never serves unauthenticated. */
export class WebhookAuthConfigError extends Error {
  override readonly name = 'WebhookAuthConfigError';
}

/** What a signature covers besides the timestamp. */
export interface SignedRequestParts {
  /** `GET`, `POST`; upper-cased when signed. */
  method: string;
  /** The path and query exactly as sent, e.g. `/v1/runbooks/plannedFailover`. */
  path: string;
  /** The `Idempotency-Key` header, when sent. */
  idempotencyKey?: string;
  /** The raw body as sent; empty for a GET. */
  body?: string | Buffer;
}

/** The string a signature is made over (the lines joined with `\n`, no trailing newline). */
export function canonicalRequest(timestampSeconds: number | string, parts: SignedRequestParts): string {
  const bodyDigest = createHash('sha256')
    .update(parts.body ?? '')
    .digest('hex');
  return [timestampSeconds, parts.method.toUpperCase(), parts.path, parts.idempotencyKey ?? '', bodyDigest].join('\n');
}

/** `sha256=<hex>`: the signature of a request sent at `timestampSeconds`. */
export function signWebhookRequest(
  secret: string,
  timestampSeconds: number | string,
  parts: SignedRequestParts,
): string {
  return `${SIGNATURE_PREFIX}${createHmac('sha256', secret).update(canonicalRequest(timestampSeconds, parts)).digest('hex')}`;
}

/** The headers of a signed request (and its Idempotency-Key, when given), for callers written in TypeScript and tests. */
export function signedRequestHeaders(
  secret: string,
  parts: SignedRequestParts,
  nowMs: number = Date.now(),
): Record<typeof TIMESTAMP_HEADER | typeof SIGNATURE_HEADER, string> & { [IDEMPOTENCY_KEY_HEADER]?: string } {
  const timestamp = Math.floor(nowMs / 1000).toString();
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signWebhookRequest(secret, timestamp, parts),
    ...(parts.idempotencyKey === undefined ? {} : { [IDEMPOTENCY_KEY_HEADER]: parts.idempotencyKey }),
  };
}

/** A refusal: the HTTP status, a stable error code and a message for the person reading it. */
export interface AuthRefusal {
  ok: false;
  statusCode: 401 | 409;
  error: string;
  message: string;
}

/** A request that authenticated, as whom, and (signed changes) what to remember so it is accepted once. */
export interface Authenticated {
  ok: true;
  method: 'bearer' | 'hmac';
  caller: string;
}

export type AuthCheck =
  | Authenticated
  /** The headers of a signed request are in order; the signature is checked once the body has been read. */
  | { ok: 'needs-body' }
  | AuthRefusal;

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export interface RequestAuthenticatorOptions extends WebhookAuthOptions {
  /** Every credential the trigger accepts, each with its caller; the legacy `hmacSecret`/`bearerToken` add caller `default`. */
  credentials?: WebhookCredential[];
  replayWindowMs?: number;
  /** Where accepted signed changes are remembered; in memory by default. */
  replayStore?: ReplayStore;
  /** The server's clock, in ms (tests move it). */
  now?: () => number;
}

/** What a signed request is, for checking its signature: the method and URL as received, the raw body. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Headers;
  rawBody: Buffer;
}

/**
 * Decides whether a request may reach a `/v1` route, and as which caller. `checkHeaders` runs before the body is read
 * (so an unauthenticated request is refused without reading it); `identify` runs after, over the exact bytes received,
 * and `remember` makes a signed change acceptable once.
 */
export class RequestAuthenticator {
  readonly replayWindowMs: number;
  readonly replayStore: ReplayStore;
  private readonly hmacKeys: WebhookCredential[];
  private readonly bearerTokens: { caller: string; digest: Buffer }[];
  private readonly now: () => number;

  constructor(options: RequestAuthenticatorOptions) {
    const credentials = [
      ...(options.credentials ?? []),
      ...legacyCredentials({
        hmacSecret: options.hmacSecret || undefined,
        bearerToken: options.bearerToken || undefined,
      }),
    ].filter((credential) => credential.secret !== '');
    for (const credential of credentials) registerSecret(credential.secret);
    if (credentials.length === 0) {
      throw new WebhookAuthConfigError(
        'The webhook needs a credential to check requests against: name callers with credentials in the access ' +
          'section of fogpilot.yaml, or set FOGPILOT_WEBHOOK_HMAC_SECRET (signed requests) and/or FOGPILOT_WEBHOOK_TOKEN (bearer token).',
      );
    }
    this.hmacKeys = credentials.filter((credential) => credential.method === 'hmac');
    this.bearerTokens = credentials
      .filter((credential) => credential.method === 'bearer')
      .map((credential) => ({ caller: credential.caller, digest: digestOf(credential.secret) }));
    this.replayWindowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    if (!(this.replayWindowMs >= 1000)) throw new WebhookAuthConfigError('replayWindowMs must be at least 1000 ms');
    this.replayStore = options.replayStore ?? new MemoryReplayStore();
    this.now = options.now ?? Date.now;
  }

  /** The methods this server accepts, for messages and the start line. */
  get methods(): ('hmac' | 'bearer')[] {
    return [
      ...(this.hmacKeys.length > 0 ? (['hmac'] as const) : []),
      ...(this.bearerTokens.length > 0 ? (['bearer'] as const) : []),
    ];
  }

  /** The callers that hold a credential, by name (never their secrets). */
  get callers(): string[] {
    return [...new Set([...this.hmacKeys, ...this.bearerTokens].map((credential) => credential.caller))].sort();
  }

  /** What to send, in words; used in every refusal so the caller knows how to fix it. */
  private howToAuthenticate(): string {
    const ways: string[] = [];
    if (this.hmacKeys.length > 0) {
      ways.push(
        'sign it: X-Fogpilot-Timestamp: <unix seconds> and X-Fogpilot-Signature: sha256=<hex HMAC-SHA256 with your key of ' +
          '"<timestamp>\\n<METHOD>\\n<path with query>\\n<Idempotency-Key or empty>\\n<sha256 hex of the raw body>">',
      );
    }
    if (this.bearerTokens.length > 0) ways.push('send Authorization: Bearer <token>');
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
      if (this.bearerTokens.length === 0) {
        return this.refuse(
          'bearer-not-accepted',
          `This server does not accept bearer tokens (no caller has one). ${this.howToAuthenticate()}.`,
        );
      }
      const given = digestOf(match[1]!);
      // Every token is compared, so the time taken does not say which caller came close.
      let caller: string | undefined;
      for (const token of this.bearerTokens) if (timingSafeEqual(given, token.digest)) caller ??= token.caller;
      if (caller === undefined) {
        return this.refuse(
          'invalid-token',
          'The bearer token is not valid. Send the token the webhook was started with for your caller.',
        );
      }
      return { ok: true, method: 'bearer', caller };
    }

    if (signature === undefined && timestamp === undefined) {
      return this.refuse(
        'authentication-required',
        `This request is not authenticated. To authenticate, ${this.howToAuthenticate()}.`,
      );
    }
    if (this.hmacKeys.length === 0) {
      return this.refuse(
        'hmac-not-accepted',
        `This server does not accept signed requests (no caller has an HMAC key). ${this.howToAuthenticate()}.`,
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
        'X-Fogpilot-Signature must be "sha256=" followed by 64 lowercase hex digits (HMAC-SHA256 of the canonical request).',
      );
    }
    return { ok: 'needs-body' };
  }

  /** The caller whose key made a signed request's signature over the method, URL, idempotency key and bytes received. */
  identify(request: ReceivedRequest): AuthCheck {
    const first = this.checkHeaders(request.headers);
    if (first.ok !== 'needs-body') return first;
    const timestamp = header(request.headers, TIMESTAMP_HEADER)!;
    const given = Buffer.from(header(request.headers, SIGNATURE_HEADER)!.slice(SIGNATURE_PREFIX.length), 'hex');
    const canonical = canonicalRequest(timestamp, {
      method: request.method,
      path: request.url,
      idempotencyKey: header(request.headers, IDEMPOTENCY_KEY_HEADER),
      body: request.rawBody,
    });
    // Every key is tried, so the time taken does not say which caller's key came close.
    let caller: string | undefined;
    for (const key of this.hmacKeys) {
      const expected = createHmac('sha256', key.secret).update(canonical).digest();
      if (timingSafeEqual(given, expected)) caller ??= key.caller;
    }
    if (caller === undefined) {
      return this.refuse(
        'signature-mismatch',
        'X-Fogpilot-Signature does not match the request. Sign the exact bytes of the body as sent, with the method, ' +
          'path and idempotency key: HMAC-SHA256 with your key of "<X-Fogpilot-Timestamp>\\n<METHOD>\\n<path with query ' +
          'as sent>\\n<Idempotency-Key header or empty>\\n<sha256 hex of the body>", sent as sha256=<hex>. A signature ' +
          'made for another route, method, idempotency key or body does not match.',
      );
    }
    return { ok: true, method: 'hmac', caller };
  }

  /**
   * Accepts a signed change once: the same signature again within the window is refused 409. Bearer requests carry no
   * signature and are not remembered.
   */
  remember(headers: Headers, check: Authenticated): AuthCheck {
    if (check.method !== 'hmac') return check;
    const timestamp = Number(header(headers, TIMESTAMP_HEADER));
    const signature = header(headers, SIGNATURE_HEADER)!;
    if (!this.replayStore.claim(`${check.caller}\n${signature}`, timestamp * 1000 + this.replayWindowMs, this.now())) {
      return this.refuse(
        'replayed-request',
        'This signed request was already received: each signature is accepted once. To retry, sign the request again ' +
          'with the current timestamp (an idempotency key makes a retried start return the same run).',
        409,
      );
    }
    return check;
  }

  /**
   * Checks a signed request's signature; one that `changes` something (a start or a signal) is accepted once, a read
   * (`changes: false`) is not remembered, so a poller may read twice within a second.
   */
  verifySignature(request: ReceivedRequest, { changes = true }: { changes?: boolean } = {}): AuthCheck {
    const check = this.identify(request);
    if (check.ok !== true || !changes) return check;
    return this.remember(request.headers, check);
  }
}
