/**
 * Sending a failover at most once. Temporal never retries the send activity by itself: when a send fails, the workflow
 * decides whether the request may have reached Azure (no answer, a reset, a timeout, a lost worker) and, if so, looks
 * at the group before sending again. A failover once started is visible (the target turns Primary, or the group shows
 * a failover in progress), and a request repeated while one runs is answered 409. A 409 is not "sent": it is this
 * run's failover only when an earlier attempt of this run may have reached Azure; otherwise another operation runs.
 */
import { ActivityFailure, ApplicationFailure, deprecatePatch, sleep } from '@temporalio/workflow';
import type { FailoverProgressReading, FailoverSendOutcome } from '../../activities';
import type { FailoverGroupView } from '../../domain/azure-state';
import type { GroupIdentity } from '../../domain/group-ref';
import { FailureTypes, type Evidence } from '../definitions';
import { groupKindOf } from './group-kind';
import { ROLE_POLLING, pollUntil, type PollResult } from './poll';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';

/**
 * Runs recorded before a 409 busy answer stopped counting as sent (and, in a planned failover, before the waits after
 * the POST were bounded by `roleSwitchTimeout` from the POST rather than by each read's own retry budget).
 */
export const REFUSED_BUSY_IS_NOT_SENT_PATCH = 'failover-refused-busy-is-not-sent';

/** How long to keep trying to get a failover request accepted before giving up with the roles unchanged. */
const SEND_WINDOW_MS = 10 * 60_000;
/** How long to look for the effect of a request whose answer was lost before sending again. */
const SETTLE_WINDOW_MS = 45_000;

export interface SendOutcome {
  outcome: FailoverSendOutcome | 'sent-by-earlier-attempt';
  /** Whether a failover is (now) known to have been requested by this runbook or be under way. */
  failoverUnderWay: boolean;
  /**
   * Whether the failover under way is this run's own request: accepted now, or an earlier attempt of this run whose
   * answer was lost. False when Azure refused the request (409 busy) or a failover was found under way with no
   * earlier attempt of this run that could have started it: another operation's, whose result is not this run's.
   */
  byThisRun: boolean;
  /** The failover's async operation, when this runbook's request started it. */
  trackingId?: string;
  attempts: Evidence[];
}

function failureCause(error: unknown): unknown {
  return error instanceof ActivityFailure ? error.cause : error;
}

/** Whether a failed send may nonetheless have reached Azure and been accepted. */
export function mayHaveReachedAzure(error: unknown): boolean {
  const cause = failureCause(error);
  if (!(cause instanceof ApplicationFailure)) return true; // timeouts, lost workers: no way to know
  const detail = (cause.details?.[0] ?? {}) as { delivery?: string; statusCode?: number };
  if (detail.delivery === 'not-sent') return false;
  if (detail.statusCode === 429 || detail.statusCode === 503) return false; // refused before any work began
  return true;
}

function isFinal(error: unknown): boolean {
  const cause = failureCause(error);
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}

function retryDelayMs(error: unknown, fallbackMs: number): number {
  const cause = failureCause(error);
  if (cause instanceof ApplicationFailure && typeof cause.nextRetryDelay === 'number') {
    return Math.max(cause.nextRetryDelay, 1_000);
  }
  return fallbackMs;
}

export async function sendFailoverOnce(
  run: RunbookRun,
  step: StepHandle,
  group: GroupIdentity,
  targetLocation: string,
  kind: 'planned' | 'forced' | 'try-planned',
  /**
   * The target's view, read recently enough to stand in for the look the request makes first (see
   * `FRESH_ENOUGH_MS`): used by the first attempt only; a retry always reads afresh.
   */
  knownTargetView?: FailoverGroupView,
): Promise<SendOutcome> {
  const deadline = Date.now() + SEND_WINDOW_MS;
  const attempts: Evidence[] = [];
  let uncertain = false;
  let backoffMs = 5_000;
  let lastError: unknown;
  for (let attempt = 1; Date.now() <= deadline; attempt++) {
    if (uncertain) {
      const seen = await pollUntil({
        read: () =>
          groupKindOf(group).readRoles(
            group,
            [targetLocation],
            `look for the effect of an earlier failover request at ${targetLocation}`,
          ),
        done: (reading) =>
          reading.summary.status === 'failover-in-progress' ||
          reading.views.some((view) => view.replicationRole.toLowerCase() === 'primary'),
        timeoutMs: SETTLE_WINDOW_MS,
        interval: { initialMs: 5_000, maxMs: 15_000, factor: 1.5 },
        retryAfterMs: (reading) => reading.retryAfterMs,
        summary: 'wait for an earlier failover request to show',
      });
      if (seen.done) {
        attempts.push({ attempt, result: 'an earlier request took effect', roles: seen.value.summary.detail });
        step.evidence({ attempts });
        return { outcome: 'sent-by-earlier-attempt', failoverUnderWay: true, byThisRun: true, attempts };
      }
      attempts.push({ attempt, result: 'no trace of an earlier request', roles: seen.value.summary.detail });
    }
    try {
      const result = await groupKindOf(group).sendFailover(
        group,
        targetLocation,
        kind,
        `${kind} failover to ${targetLocation}`,
        attempt === 1 ? knownTargetView : undefined,
      );
      attempts.push({
        attempt,
        result: result.outcome,
        targetRoleBefore: result.targetRoleBefore,
        replicationStateBefore: result.replicationStateBefore,
      });
      step.evidence({ attempts });
      const foundUnderWay = result.outcome === 'in-progress' || result.outcome === 'refused-busy';
      return {
        outcome: result.outcome,
        failoverUnderWay: result.outcome !== 'already-primary',
        // Found under way after an attempt of this run that may have reached Azure: most likely that attempt's.
        byThisRun:
          result.outcome === 'sent' || result.outcome === 'busy-counted-as-sent' || (foundUnderWay && uncertain),
        trackingId: result.trackingId,
        attempts,
      };
    } catch (error) {
      if (isFinal(error)) throw error;
      lastError = error;
      uncertain = uncertain || mayHaveReachedAzure(error);
      attempts.push({
        attempt,
        error: describeFailure(error).message,
        mayHaveReachedAzure: mayHaveReachedAzure(error),
      });
      step.evidence({ attempts });
      step.detail(`attempt ${attempt} failed: ${describeFailure(error).message}`);
      await sleep(retryDelayMs(error, backoffMs), { summary: 'wait before trying the failover request again' });
      backoffMs = Math.min(backoffMs * 2, 60_000);
    }
  }
  throw ApplicationFailure.create({
    type: FailureTypes.FailoverNotSent,
    nonRetryable: true,
    message:
      `Azure did not accept the ${kind} failover to ${targetLocation} within ${SEND_WINDOW_MS / 60_000} minutes ` +
      `(last error: ${describeFailure(lastError).message}). The group shows no failover under way, so the roles are ` +
      "unchanged. Check Azure's health, then start the runbook again.",
    details: [{ attempts }],
  });
}

/**
 * Deprecated patch: an operation that cannot be read leaves the roles to tell. Runs recorded before it failed with
 * Azure's refusal even though a failover had been sent; no kept history failed to read an operation, so only the
 * fallback is left.
 */
export const OPERATION_UNREADABLE_FALLBACK_PATCH = 'failover-operation-unreadable-falls-back-to-roles';

/** Following the operation ended without Azure's account of it: the record is gone or may not be read. */
export interface OperationUnreadable {
  unreadable: string;
  done: false;
}

/**
 * Follows a failover's Azure-AsyncOperation until Azure says it ended (or `timeoutMs` passes): one read per poll, and a
 * failure shows at once. `what` names it in the UI (`failover`, `forced failover`, `planned failover`).
 *
 * A 4xx from the operation URL (a record expired or unknown, 403 on the async-status path) says nothing about the
 * failover itself: it returns `unreadable`, and the caller follows the roles instead. Nothing after the point of no
 * return ends a run on such a classification alone.
 */
export async function followFailoverOperation(
  run: RunbookRun,
  step: StepHandle,
  group: GroupIdentity,
  trackingId: string,
  timeoutMs: number,
  what: string,
): Promise<PollResult<FailoverProgressReading> | OperationUnreadable> {
  try {
    return await pollOperation(run, step, group, trackingId, timeoutMs, what);
  } catch (error) {
    // Any failure to read the operation (a 4xx, or reads that ran out of time) leaves the roles as the truth.
    if (!(error instanceof ActivityFailure)) throw error;
    deprecatePatch(OPERATION_UNREADABLE_FALLBACK_PATCH);
    const reason = describeFailure(error).message;
    step.evidence({ operationUnreadable: reason, fallback: 'following the roles' });
    step.detail(`the ${what} operation could not be read (${reason}); following the roles instead`);
    return { unreadable: reason, done: false };
  }
}

function pollOperation(
  run: RunbookRun,
  step: StepHandle,
  group: GroupIdentity,
  trackingId: string,
  timeoutMs: number,
  what: string,
) {
  return pollUntil({
    read: () => groupKindOf(group).readFailoverProgress(group, trackingId, `read the ${what} operation`),
    done: (progress) => progress.state !== 'InProgress',
    timeoutMs,
    interval: ROLE_POLLING,
    retryAfterMs: (progress) => progress.retryAfterMs,
    summary: `wait for the ${what} operation`,
    onRead: (progress, poll, elapsedMs) => {
      step.evidence({ operationPolls: poll, elapsedMs, operation: progress.state });
      step.detail(`${what} operation: ${progress.state} (poll ${poll})`);
    },
  });
}
