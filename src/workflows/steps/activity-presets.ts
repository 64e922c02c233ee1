/**
 * Activity proxies with named timeout and retry presets. Workflows see activity *types* only.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';

/**
 * Reads of ARM and SQL: short attempts, retried through throttling and outages for up to 15 minutes. Bounded by time,
 * not by a count of attempts: a 429 storm is Azure asking to wait (Retry-After is honoured via nextRetryDelay), and
 * fogpilot waits.
 */
export const reads = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Starting a scale: idempotent (adopts an identical running operation), so retrying is safe; bounded by time. */
export const scaleStarts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The failover request: never retried by Temporal. The workflow retries it itself, and only after checking that an
 * earlier request did not reach Azure (see `sendFailoverOnce`).
 */
export const failoverSends = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 1 },
});

/**
 * The blocking copy-sync wait: heartbeats, so a lost worker is noticed in 30 seconds and the wait resumes elsewhere;
 * a cancelled wait is awaited until the T-SQL request has really stopped.
 */
export function copySyncWaits(timeoutMs: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: timeoutMs + 120_000,
    heartbeatTimeout: '30 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
  });
}
