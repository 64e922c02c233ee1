/**
 * Activity proxies with named timeout and retry presets. Workflows see activity *types* only. Every preset is metered
 * (see `arm-meter`): the ARM calls its activities report reach the run's report without a step counting them.
 */
import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { metered, type MeterOptions } from './arm-meter';

/**
 * How long Temporal waits for a heartbeat before it takes an activity's worker for lost and retries the activity
 * elsewhere. Every preset has it: every activity heartbeats at least every second while it runs (its own progress, or
 * the liveness heartbeats of src/activities/keep-alive; the worker sends them within a second, see `worker.ts`), so a
 * SIGKILLed worker's activities resume on another worker seconds later instead of after their start-to-close timeout.
 * Five seconds leave four heartbeats of slack for a busy worker.
 */
export const ACTIVITY_HEARTBEAT_TIMEOUT = '5 seconds';

/** An activity proxy whose ARM activities are metered. */
function proxy(options: ActivityOptions, meter?: MeterOptions) {
  return metered(proxyActivities<Activities>(options), meter);
}

/**
 * Reads of ARM and SQL: short attempts, retried through throttling and outages for up to 15 minutes. Bounded by time,
 * not by a count of attempts: a 429 storm is Azure asking to wait (Retry-After is honoured via nextRetryDelay), and
 * fogpilot waits.
 *
 * A lost worker is noticed by the heartbeat timeout, not the start-to-close: an attempt may rightly wait inside the
 * worker for the subscription's ARM budget (a 429's Retry-After pauses every request of the subscription) and then for
 * an answer (up to `azure.requestTimeout`, 30 s), heartbeating all the while; the minute bounds that whole attempt.
 */
const READS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
export const reads = proxy(READS);

/**
 * Reads after a failover was sent: retried until `deadlineMs` (workflow time: the POST plus `roleSwitchTimeout`), not
 * for a budget of their own, so a worker outage after the POST is bounded by the runbook's own deadline.
 */
export function readsUntil(deadlineMs: number) {
  return proxy({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: Math.max(deadlineMs - Date.now(), 60_000),
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
}

/**
 * Watching a failover's target over TDS after the POST (see `watchWritable`): one slice at a time, heartbeating every
 * read, so a lost worker is noticed in 5 seconds and the watch resumes elsewhere; retried until `deadlineMs` like
 * {@link readsUntil}. Not metered: it makes no ARM call.
 */
export function dataPlaneWatches(deadlineMs: number, sliceMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: sliceMs + 30_000,
    scheduleToCloseTimeout: Math.max(deadlineMs - Date.now(), 60_000),
    heartbeatTimeout: '5 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
  });
}

/** Starting a scale: idempotent (adopts an identical running operation), so retrying is safe; bounded by time. */
const SCALE_STARTS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
export const scaleStarts = proxy(SCALE_STARTS);

/**
 * Creating or deleting a failover group: each activity reads the group first and sends nothing when it is already as
 * asked (a request whose answer was lost is found by the next attempt's read), so retrying is safe; bounded by time.
 * The ARM calls of a failed attempt count.
 */
export const groupChanges = proxy(SCALE_STARTS, { failures: true });

/**
 * `scaleStarts` and `reads` for `scaleGroup`'s scale requests and its last read of the sizes after stopping: the ARM
 * calls of a failed attempt count too (see `MeterOptions.failures`).
 */
export const scaleStartsCountingFailures = proxy(SCALE_STARTS, { failures: true });
export const readsCountingFailures = proxy(READS, { failures: true });

/**
 * The failover request: never retried by Temporal. The workflow retries it itself, and only after checking that an
 * earlier request did not reach Azure (see `sendFailoverOnce`). It heartbeats, so a lost worker is noticed in 5
 * seconds rather than at the 2-minute timeout, and the server's cancellation reaches an attempt that is still waiting
 * for the request budget (it then never sends).
 */
export const failoverSends = proxy(
  {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 1 },
  },
  // A refused or lost request still cost ARM calls, and the report has always said so.
  { failures: true },
);

/**
 * The blocking copy-sync wait: heartbeats, so a lost worker is noticed in 5 seconds and the wait resumes elsewhere;
 * a cancelled wait is awaited until the T-SQL request has really stopped.
 */
export function copySyncWaits(timeoutMs: number) {
  return proxy({
    startToCloseTimeout: timeoutMs + 120_000,
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
}

/**
 * The drill's write probe: runs for the whole drill, heartbeating; a lost worker is noticed in 5 seconds and the
 * probe resumes elsewhere from its last heartbeat. Cancelling it is how the drill stops it, and the drill waits for
 * the probe to hand back its tally.
 */
export const PROBE_ACTIVITY_ID = 'drill-write-probe';
export const probes = proxy({
  // A fixed id, so the drill can read the probe's last heartbeat from its own description.
  activityId: PROBE_ACTIVITY_ID,
  startToCloseTimeout: '7 days',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Checks that report their own failures (a smoke write, an HTTP health check): one short attempt, a few retries. */
export const checks = proxy({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * A read of the partner in a region that may be down (the primary, during a forced failover): its failure is an answer
 * in itself, so two short attempts, then the caller moves on without it rather than keeping a person waiting.
 */
export const partnerReads = proxy({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '2 seconds', maximumAttempts: 2 },
});

/** Reading the group's lock holder from Temporal: short, a few attempts; a holder that cannot be read is not pre-empted. */
export const lockHolderReads = proxy({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * Waiting for a pre-empted lock holder to end: heartbeats, so a lost worker is noticed in 5 seconds; bounded in all
 * by `timeoutMs` plus a minute, whatever the retries.
 */
export function lockHolderWaits(timeoutMs: number) {
  return proxy({
    startToCloseTimeout: timeoutMs + 30_000,
    scheduleToCloseTimeout: timeoutMs + 60_000,
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1 second', maximumAttempts: 2 },
  });
}

/**
 * Judging an approval (configuration only) and handing one to the lock holder (an update it answers at once): short,
 * a few attempts, so the person who sent it hears back within a minute.
 */
export const approvalDesks = proxy({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});
