/**
 * Delivers one notification to one endpoint: one POST, bounded by the endpoint's timeout. Called by the notification
 * activity, which lets Temporal retry a {@link NotificationDeliveryError} whose `retryable` is true; a runbook never
 * waits on it.
 *
 * Secrets: the HMAC key (`secretEnv`) and a URL from `urlEnv` are read here, on the worker, and go nowhere else: the
 * result names the endpoint only, error messages show such a URL as its scheme and host, and both are registered with
 * the log redaction (`src/secrets.ts`).
 */
import { performance } from 'node:perf_hooks';
import { registerSecret } from '../secrets';
import {
  isRetryableStatus,
  OutboundFailureTypes,
  OutboundRequestError,
  retryAfterMs,
  secretForms,
  sendOutbound,
  type OutboundFailureKind,
} from '../hooks/outbound';
import { isCallableUrl, urlOrigin, urlWithoutQuery } from '../hooks/urls';
import type { NotificationEndpoint } from './schema';
import type { RunbookNotification } from './events';
import { notificationDeliveryId, renderNotification } from './render';
import {
  NOTIFICATION_DELIVERY_HEADER,
  NOTIFICATION_EVENT_HEADER,
  NOTIFICATION_SIGNATURE_HEADER,
  signBody,
} from './signature';

/** How much of an unexpected answer's body an error quotes (Slack answers `invalid_payload`, `no_service`, …). */
const ANSWER_EXCERPT_BYTES = 200;

/** The result of one delivery: the endpoint by name only, never its URL. */
export interface NotificationDelivery {
  endpoint: string;
  deliveryId: string;
  /** The status answered; absent when no answer came. */
  status?: number;
  ok: boolean;
  durationMs: number;
  error?: string;
}

/**
 * A delivery that failed, classified (`OutboundRequestError`): `delivery` is its result. The message names the
 * endpoint and, unless the URL came from `urlEnv`, its URL without the query string; never the key.
 */
export class NotificationDeliveryError extends OutboundRequestError {
  override readonly name = 'NotificationDeliveryError';
  readonly failureType = OutboundFailureTypes.NotificationNotDelivered;
  readonly delivery: NotificationDelivery;

  constructor(
    message: string,
    init: { kind: OutboundFailureKind; status?: number; retryAfterMs?: number; delivery: NotificationDelivery },
  ) {
    super(message, init);
    this.delivery = init.delivery;
  }

  get failureDetails(): NotificationDelivery {
    return this.delivery;
  }
}

export interface DeliverNotificationOptions {
  /** Where `urlEnv` and `secretEnv` are read (the worker's environment). */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** The clock the signature's timestamp is read from, in ms (default `Date.now`). */
  now?: () => number;
  /** Default: {@link notificationDeliveryId} of the payload and endpoint, the same on every attempt. */
  deliveryId?: string;
  /** The activity's cancellation signal. */
  abortSignal?: AbortSignal;
}

/**
 * POSTs `payload` to `endpoint` in its format, signed when it has a key (`X-Fogpilot-Signature`, with
 * `X-Fogpilot-Event` and `X-Fogpilot-Delivery`). Returns the delivery on a 2xx; otherwise throws a
 * {@link NotificationDeliveryError}: retryable for a timeout, a network error, or 408, 429 or 5xx; not for another
 * answer, a missing environment variable or URL from the environment that cannot be used, or a cancellation.
 */
export async function deliverNotification(
  endpoint: NotificationEndpoint,
  payload: RunbookNotification,
  options: DeliverNotificationOptions = {},
): Promise<NotificationDelivery> {
  const env = options.env ?? process.env;
  const started = performance.now();
  const deliveryId = options.deliveryId ?? notificationDeliveryId(payload, endpoint.name);
  const result = (fields: Partial<NotificationDelivery>): NotificationDelivery => ({
    endpoint: endpoint.name,
    deliveryId,
    ok: false,
    durationMs: Math.round(performance.now() - started),
    ...fields,
  });
  const fail = (
    where: string,
    error: string,
    init: { kind: OutboundFailureKind; status?: number; retryAfterMs?: number },
  ): NotificationDeliveryError =>
    new NotificationDeliveryError(
      `Could not deliver the ${payload.event} notification to ${endpoint.name} (${where}): ${error}`,
      {
        ...init,
        delivery: result({ status: init.status, error }),
      },
    );

  const fromEnv = endpoint.urlEnv !== undefined;
  const url = fromEnv ? env[endpoint.urlEnv!] : endpoint.url;
  if (url === undefined || url.trim() === '') {
    throw fail(
      `$${endpoint.urlEnv}`,
      `the environment variable ${endpoint.urlEnv} (urlEnv) is not set on this worker; set it to the receiver's URL on every worker`,
      { kind: 'configuration' },
    );
  }
  if (fromEnv) registerSecret(url);
  const where = fromEnv ? urlOrigin(url) : urlWithoutQuery(url);
  if (fromEnv && !isCallableUrl(url)) {
    throw fail(
      where,
      `${endpoint.urlEnv} must hold an absolute https URL (plain http only to localhost or 127.0.0.1) without user:password@`,
      { kind: 'configuration' },
    );
  }

  let secret: string | undefined;
  if (endpoint.secretEnv !== undefined) {
    secret = env[endpoint.secretEnv];
    if (secret === undefined || secret === '') {
      throw fail(
        where,
        `the environment variable ${endpoint.secretEnv} (secretEnv) is not set on this worker; set it to the HMAC key on every worker`,
        { kind: 'configuration' },
      );
    }
    registerSecret(secret);
  }
  const forms = secretForms([...(secret === undefined ? [] : [secret]), ...(fromEnv ? hiddenParts(url) : [])]);

  const body = JSON.stringify(renderNotification(payload, endpoint.format, { deliveryId }));
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'fogpilot',
    [NOTIFICATION_EVENT_HEADER]: payload.event,
    [NOTIFICATION_DELIVERY_HEADER]: deliveryId,
  };
  if (secret !== undefined) {
    headers[NOTIFICATION_SIGNATURE_HEADER] = signBody(secret, body, Math.floor((options.now ?? Date.now)() / 1000));
  }

  const attempt = await sendOutbound(
    {
      url,
      method: 'POST',
      headers,
      body,
      timeoutMs: endpoint.timeout,
      abortSignal: options.abortSignal,
      fetch: options.fetch,
    },
    ANSWER_EXCERPT_BYTES,
    forms,
  );
  if (!attempt.answered) {
    throw fail(
      where,
      attempt.kind === 'cancelled' ? attempt.detail : `${attempt.detail}; retried while attempts remain`,
      {
        kind: attempt.kind,
      },
    );
  }
  if (attempt.status >= 200 && attempt.status < 300) return result({ status: attempt.status, ok: true });
  const quoted = attempt.excerpt.replace(/\s+/g, ' ').trim();
  throw fail(
    where,
    `answered ${attempt.status}${quoted === '' ? '' : ` (${quoted})`}` +
      (isRetryableStatus(attempt.status)
        ? '; retried while attempts remain'
        : `; not retried: check the endpoint's URL${endpoint.secretEnv ? ', key' : ''} and format (${endpoint.format})`),
    { kind: 'status', status: attempt.status, retryAfterMs: retryAfterMs(attempt.headers.get('retry-after')) },
  );
}

/** What of a secret URL must not be shown: the whole of it, its path and its query (only scheme and host may be). */
function hiddenParts(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [url, parsed.href, `${parsed.pathname}${parsed.search}`, parsed.search.slice(1), parsed.pathname].filter(
      (part) => part.length > 1,
    );
  } catch {
    return [url];
  }
}
