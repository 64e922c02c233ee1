/**
 * How the `mssql` adapter reads the driver's failures: Azure's transient errors and connection drops (retry), 3906
 * (the database is not writable yet: wait), login refusals, and whether a failed request reached SQL; and how long an
 * idempotent read is retried. Source: Learn, "Troubleshoot transient connection errors"
 * (https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-connectivity-issues?view=azuresql).
 */
import { SqlRequestError, type SqlDelivery } from './data-plane';

/**
 * Retrying an idempotent read on a transient error: a fresh connection after a delay that starts at `initialDelayMs`
 * and doubles up to `maxDelayMs`, while the whole read stays within `budgetMs`.
 */
export interface ReadRetry {
  budgetMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Learn, "Troubleshoot transient connection errors"
 * (https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-connectivity-issues?view=azuresql):
 * wait at least 5 s before the first retry, grow the delay exponentially up to 60 s, and retry a failed command on a
 * freshly established connection. The budget keeps a read within the read activities' one-minute start-to-close (the
 * activity's own retry policy takes over after it).
 */
export const READ_RETRY_DEFAULTS: ReadRetry = { budgetMs: 20_000, initialDelayMs: 5_000, maxDelayMs: 60_000 };

/**
 * SQL errors that mean "the database is in transition or unreachable for now": retry (Learn, "Troubleshoot transient
 * connection errors": 40613 database not currently available, 40197 service error processing the request, 40501
 * service busy, 49918-49920 not enough resources / too many operations, 4060 cannot open database; connection drops).
 */
const TRANSIENT_SQL_NUMBERS = new Set([
  4060, 40613, 40197, 40501, 49918, 49919, 49920, 976, 978, 983, 1205, 233, 10053, 10054, 10060,
]);
const TRANSIENT_CODES = new Set([
  'ETIMEOUT',
  'ESOCKET',
  'ECONNCLOSED',
  'ENOTOPEN',
  'ECONNRESET',
  'ECONNREFUSED',
  'EINSTLOOKUP',
  'ENOCONN',
]);

/**
 * The adapter's reading of a driver failure. `loginErrorNumber`: the number SQL gave a refused login (tedious keeps only
 * its message, ELOGIN): Azure refuses logins with 40613 while a failover switches roles, which is transient, not a
 * credentials problem.
 */
/** Remembers the numbers of the login errors SQL sent, by message (bounded), so a refused login can be classified. */
export class LoginErrorNumbers {
  private readonly byMessage = new Map<string, number>();

  remember(message: string, number: number): void {
    this.byMessage.delete(message);
    this.byMessage.set(message, number);
    if (this.byMessage.size > 100) this.byMessage.delete(this.byMessage.keys().next().value!);
  }

  /** The number of the login error behind a failure (mssql's ConnectionError wraps tedious's, which has the message). */
  of(error: unknown): number | undefined {
    const failure = error as { message?: string; originalError?: { message?: string } };
    for (const message of [failure.originalError?.message, failure.message])
      if (message !== undefined && this.byMessage.has(message)) return this.byMessage.get(message);
    return undefined;
  }
}

export function toSqlRequestError(error: unknown, doing: string, loginErrorNumber?: number): SqlRequestError {
  if (error instanceof SqlRequestError) return error;
  const failure = error as {
    name?: string;
    code?: string;
    number?: unknown;
    message?: string;
    originalError?: { code?: string };
  };
  // mssql puts the socket's code in `number` when a connection drops mid-request ('ECONNRESET'): not SQL's answer.
  const number = typeof failure.number === 'number' ? failure.number : undefined;
  const message = `${doing}: ${failure.message ?? String(error)}`;
  const delivery = deliveryOf({ name: failure.name, code: failure.code, number });
  if (loginErrorNumber !== undefined && TRANSIENT_SQL_NUMBERS.has(loginErrorNumber))
    return new SqlRequestError(message, 'transient', loginErrorNumber, error, delivery);
  if (number === 18456 || failure.code === 'ELOGIN')
    return new SqlRequestError(message, 'login-failed', number, error, delivery);
  // A new primary's databases become writable one by one after the switch: 3906 then means "not yet", not "never".
  if (number === 3906) return new SqlRequestError(message, 'not-writable', number, error, delivery);
  if (
    (number !== undefined && TRANSIENT_SQL_NUMBERS.has(number)) ||
    TRANSIENT_CODES.has(failure.code ?? '') ||
    TRANSIENT_CODES.has(failure.originalError?.code ?? '')
  ) {
    return new SqlRequestError(message, 'transient', number, error, delivery);
  }
  if (failure.name === 'ConnectionError' || /acquire a connection from the pool/i.test(failure.message ?? '')) {
    return new SqlRequestError(message, 'transient', number, error, delivery);
  }
  return new SqlRequestError(message, 'rejected', number, error, delivery);
}

/** Request errors that mean the request never left the client (no open connection to send it on). */
const NOT_SENT_CODES = new Set(['EINVALIDSTATE', 'ENOTOPEN', 'ENOCONN', 'ECONNREFUSED', 'EINSTLOOKUP']);

/**
 * A SQL error number means SQL answered; a ConnectionError (from connecting or from the pool's acquire) means nothing
 * was sent; any other failure of a request (the socket closed, the request timed out) came after it was sent.
 */
function deliveryOf(failure: { name?: string; code?: string; number?: number }): SqlDelivery {
  if (failure.number !== undefined) return 'answered';
  if (failure.name === 'ConnectionError' || NOT_SENT_CODES.has(failure.code ?? '')) return 'not-sent';
  return 'unknown';
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
