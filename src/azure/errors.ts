/**
 * ARM errors, and their classification at the activity boundary into Temporal failures: passing faults retry
 * (honouring `Retry-After`), answers that state a fact end the runbook with a named failure type.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, TransientFailureTypes } from '../workflows/definitions';

/** Whether the request may have reached Azure: decides if a non-idempotent request can be repeated blindly. */
export type RequestDelivery = 'not-sent' | 'answered' | 'unknown';

export interface ArmRequestErrorInit {
  statusCode?: number;
  /** ARM's `error.code`, or a Node error code (`ECONNRESET`, `ETIMEDOUT`) when no answer came. */
  code?: string;
  retryAfterMs?: number;
  delivery: RequestDelivery;
  method?: string;
  url?: string;
  cause?: unknown;
}

export class ArmRequestError extends Error {
  override readonly name = 'ArmRequestError';
  readonly statusCode?: number;
  readonly code?: string;
  readonly retryAfterMs?: number;
  readonly delivery: RequestDelivery;
  readonly method?: string;
  readonly url?: string;

  constructor(message: string, init: ArmRequestErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.statusCode = init.statusCode;
    this.code = init.code;
    this.retryAfterMs = init.retryAfterMs;
    this.delivery = init.delivery;
    this.method = init.method;
    this.url = init.url;
  }
}

export function isArmRequestError(error: unknown): error is ArmRequestError {
  return error instanceof ArmRequestError;
}

/**
 * A request its caller stopped before it left the worker: `reason` is the abort signal's reason (an error named
 * `TimeoutError` for a deadline, code `DeadlineExceeded`; anything else is a cancellation, code `Cancelled`).
 */
export function stoppedBeforeSending(method: string, reason: unknown, cause: unknown = reason): ArmRequestError {
  const deadline = reason instanceof Error && reason.name === 'TimeoutError';
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'it was cancelled';
  return new ArmRequestError(`${method} not sent: stopped before it left the worker, as ${why}`, {
    code: deadline ? 'DeadlineExceeded' : 'Cancelled',
    delivery: 'not-sent',
    method,
    cause,
  });
}

/**
 * Codes that mean the target location is the primary, not the secondary: Managed Instance's and, for Azure SQL
 * Database's server failover groups (FailoverGroups.json), the same refusals without the `Instance` prefix.
 */
const NOT_SECONDARY_CODES = new Set([
  'InstanceFailoverGroupNotSecondary',
  'InstanceFailoverGroupFailoverRequestOnPrimary',
  'FailoverGroupNotSecondary',
  'FailoverGroupFailoverRequestOnPrimary',
]);

/**
 * Codes that say the group does not exist where it was addressed. Azure answers them 400, not 404: a server failover
 * group's action at a server the group is not on is `FailoverGroupDoesNotExist`.
 */
const GROUP_MISSING_CODES = new Set(['InstanceFailoverGroupDoesNotExist', 'FailoverGroupDoesNotExist']);

/**
 * A server group's member database refused a change because of its replication: a service-tier change in the wrong
 * order (secondaries first going up, the primary first going down), or a change while a geo-failover runs.
 */
const REPLICATION_ORDER_CODES = new Set(['UnableToAlterDatabaseInReplication']);

/** 409s and 400s that mean "busy with something else right now". */
const BUSY_CODES = new Set([
  'InstanceFailoverGroupBusy',
  'ConflictingServerOperation',
  'ConflictingManagedInstanceOperation',
  'ConflictingSystemOperationInProgress',
  'ManagedInstanceIsBusy',
  'ManagedInstanceOperationInProgress',
  'ManagedInstanceUpdateSloInProgress',
  'ManagedInstanceUpdateSloOngoing',
  'UpdateSloInProgress',
  // Azure SQL Database: the server failover group, a database or a pool busy with another operation.
  'FailoverGroupBusy',
  'ConflictingDatabaseOperation',
  'SimultaneousSkuChangeNotAllowed',
  'UpdateNotAllowedIfGeoDrOperationInProgress',
]);

const DEFAULT_THROTTLE_DELAY_MS = 10_000;

export interface ClassifyContext {
  /** What was being done, for the message: "reading failover group fog-sales at westus". */
  doing: string;
  /** The failure type for a 404 (e.g. GroupNotFound when reading a group). */
  notFoundType?: string;
}

/**
 * Turns any error from the control plane into the failure Temporal should see. Retryable failures carry
 * `nextRetryDelay` from `Retry-After`, so the activity's retry waits exactly as long as Azure asked.
 */
export function classifyArmError(error: unknown, context: ClassifyContext): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (!isArmRequestError(error)) {
    return ApplicationFailure.create({
      type: TransientFailureTypes.ArmUnavailable,
      message: `${context.doing} failed: ${errorText(error)}`,
    });
  }
  const { statusCode, code } = error;
  const details = [{ statusCode, code, message: error.message, delivery: error.delivery }];
  const says = code ? `${code}: ${error.message}` : error.message;

  if (statusCode === 429 || statusCode === 503) {
    return ApplicationFailure.create({
      type: TransientFailureTypes.ArmThrottled,
      message: `${context.doing}: Azure asked to slow down (HTTP ${statusCode} ${says})`,
      nextRetryDelay: error.retryAfterMs ?? DEFAULT_THROTTLE_DELAY_MS,
      details,
    });
  }
  if (statusCode === undefined || statusCode >= 500 || statusCode === 408) {
    return ApplicationFailure.create({
      type: TransientFailureTypes.ArmUnavailable,
      message: `${context.doing}: ${statusCode ? `HTTP ${statusCode} ` : ''}${says}`,
      nextRetryDelay: error.retryAfterMs,
      details,
    });
  }
  if (statusCode === 401 || statusCode === 403) {
    return ApplicationFailure.create({
      type: FailureTypes.AzureAuthorizationFailed,
      nonRetryable: true,
      message:
        `${context.doing}: Azure refused the credential (HTTP ${statusCode} ${says}). ` +
        'Give the worker identity the SQL Managed Instance Contributor role on the resource group, then retry.',
      details,
    });
  }
  if (statusCode === 404) {
    return ApplicationFailure.create({
      type: context.notFoundType ?? FailureTypes.AzureRequestRejected,
      nonRetryable: true,
      message: `${context.doing}: not found (${says}). Check the subscription, resource group, name and region.`,
      details,
    });
  }
  if (code && GROUP_MISSING_CODES.has(code)) {
    return ApplicationFailure.create({
      type: FailureTypes.GroupNotFound,
      nonRetryable: true,
      message:
        `${context.doing}: Azure says the failover group does not exist there (${says}). ` +
        'Check the group name and, for a SQL Database group, the servers the inventory names.',
      details,
    });
  }
  if (code && REPLICATION_ORDER_CODES.has(code)) {
    return ApplicationFailure.create({
      type: FailureTypes.AzureRequestRejected,
      nonRetryable: true,
      message:
        `${context.doing}: Azure refused to change a geo-replicated database (${says}). A service tier goes up on ` +
        'the secondaries first and down on the primary first, and nothing changes while a failover runs.',
      details,
    });
  }
  if (code && NOT_SECONDARY_CODES.has(code)) {
    return ApplicationFailure.create({
      type: FailureTypes.NotSecondary,
      nonRetryable: true,
      message: `${context.doing}: Azure says the target is not the secondary (${says}).`,
      details,
    });
  }
  if (code && BUSY_CODES.has(code)) {
    return ApplicationFailure.create({
      type: FailureTypes.GroupBusy,
      nonRetryable: true,
      message: `${context.doing}: Azure reports an operation in progress (${says}). Wait for it to finish, then start again.`,
      details,
    });
  }
  return ApplicationFailure.create({
    type: FailureTypes.AzureRequestRejected,
    nonRetryable: true,
    message: `${context.doing}: Azure refused the request (HTTP ${statusCode} ${says}).`,
    details,
  });
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
