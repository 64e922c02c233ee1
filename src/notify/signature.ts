/**
 * The signature on every notification fogpilot sends with a key, and its check for receivers.
 *
 * `X-Fogpilot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")>`
 *
 * The timestamp is inside what is signed, so a receiver that refuses timestamps older than a few minutes refuses a
 * captured request replayed later; the delivery id (`X-Fogpilot-Delivery`, also in a JSON body) lets it drop the
 * repeats a retried delivery may bring. A receiver rotating keys checks each of its keys; a header may carry several
 * `v1=` values.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const NOTIFICATION_SIGNATURE_HEADER = 'X-Fogpilot-Signature';
export const NOTIFICATION_EVENT_HEADER = 'X-Fogpilot-Event';
export const NOTIFICATION_DELIVERY_HEADER = 'X-Fogpilot-Delivery';

/** How far a signature's timestamp may be from the receiver's clock, by default. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const UNIX_SECONDS = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

function hmac(secret: string | Buffer, timestampSeconds: number | string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest();
}

/** The `X-Fogpilot-Signature` value of `body` sent at `timestampSeconds`. */
export function signBody(secret: string | Buffer, body: string | Uint8Array, timestampSeconds: number): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError(`timestampSeconds must be whole Unix seconds, not ${timestampSeconds}`);
  }
  return `t=${timestampSeconds},v1=${hmac(secret, timestampSeconds, body).toString('hex')}`;
}

export interface VerifySignatureOptions {
  /** How far the timestamp may be from now, either way (default 300). */
  toleranceSeconds?: number;
  /** The receiver's clock (default: now). */
  nowSeconds?: number;
}

/** Why a signature was refused: a header not in the `t=…,v1=…` form, a timestamp outside the tolerance, or no match. */
export type SignatureRefusal = 'malformed' | 'stale' | 'mismatch';

export type SignatureCheck =
  { ok: true; timestampSeconds: number } | { ok: false; reason: SignatureRefusal; message: string };

/**
 * Checks an `X-Fogpilot-Signature` header against the raw body as received (the exact bytes: re-serialized JSON does
 * not match). Constant-time comparison; a timestamp more than `toleranceSeconds` from now is refused even when the
 * signature matches. Never throws for what a sender controls; the message never holds the key or the expected value.
 */
export function verifySignature(
  secret: string | Buffer,
  headerValue: string | string[] | undefined | null,
  rawBody: string | Uint8Array,
  { toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS, nowSeconds }: VerifySignatureOptions = {},
): SignatureCheck {
  const refuse = (reason: SignatureRefusal, message: string): SignatureCheck => ({ ok: false, reason, message });
  const value = Array.isArray(headerValue) ? headerValue.join(',') : headerValue;
  if (typeof value !== 'string' || value.trim() === '') {
    return refuse('malformed', `no ${NOTIFICATION_SIGNATURE_HEADER} header`);
  }
  let timestamp: string | undefined;
  const candidates: Buffer[] = [];
  for (const part of value.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) return refuse('malformed', `${NOTIFICATION_SIGNATURE_HEADER} is not t=<seconds>,v1=<hex>`);
    const key = part.slice(0, separator).trim();
    const field = part.slice(separator + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !UNIX_SECONDS.test(field)) {
        return refuse('malformed', `${NOTIFICATION_SIGNATURE_HEADER} needs one t=<unix seconds>`);
      }
      timestamp = field;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(field)) {
        return refuse('malformed', `${NOTIFICATION_SIGNATURE_HEADER}: v1 must be 64 lowercase hex digits`);
      }
      candidates.push(Buffer.from(field, 'hex'));
    }
    // Other schemes (v2=…) are for other receivers: ignored.
  }
  if (timestamp === undefined || candidates.length === 0) {
    return refuse('malformed', `${NOTIFICATION_SIGNATURE_HEADER} needs t=<unix seconds> and v1=<hex>`);
  }
  const sent = Number(timestamp);
  const now = nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - sent) > toleranceSeconds) {
    return refuse(
      'stale',
      `the signature's timestamp is ${Math.abs(now - sent)} s from this receiver's clock (at most ${toleranceSeconds} s): a replay, or a clock to fix`,
    );
  }
  const expected = hmac(secret, timestamp, rawBody);
  // Check every candidate, so the time taken does not tell which one (or whether an earlier one) matched.
  let matched = false;
  for (const candidate of candidates) matched = timingSafeEqual(candidate, expected) || matched;
  return matched
    ? { ok: true, timestampSeconds: sent }
    : refuse('mismatch', 'the signature does not match the body with this key (a changed body, or another key)');
}
