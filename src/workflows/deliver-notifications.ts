import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunbookNotification } from '../notify/events';

/**
 * Deliveries run apart from the runbook: retried for up to an hour (a receiver that is down for a while still hears
 * of the failover), each endpoint on its own.
 */
const deliveries = proxyActivities<Activities>({
  startToCloseTimeout: '6 minutes',
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const lookups = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

/** What one delivery ended as, by endpoint name. */
export interface NotificationOutcome {
  endpoint: string;
  ok: boolean;
  status?: number;
  error?: string;
}

/**
 * **deliverNotifications** (internal, started by runbooks): delivers one notification to every endpoint that takes its
 * event for its group, each by a retried activity. A runbook starts it as an abandoned child and does not wait for it,
 * so a slow or broken receiver never holds a runbook back, and a notification sent as a runbook ends still arrives.
 * Never fails: each endpoint's outcome is its result.
 */
export async function deliverNotifications(request: {
  payload: RunbookNotification;
  /** The group's inventory name (undefined outside the inventory). */
  group?: string;
}): Promise<NotificationOutcome[]> {
  const targets = await lookups.notificationTargets({ event: request.payload.event, group: request.group });
  const settled = await Promise.allSettled(
    targets.map((endpoint) => deliveries.deliverNotification({ endpoint, payload: request.payload })),
  );
  return settled.map((result, index) =>
    result.status === 'fulfilled'
      ? { endpoint: targets[index]!, ok: true, status: result.value.status }
      : { endpoint: targets[index]!, ok: false, error: String((result.reason as Error)?.message ?? result.reason) },
  );
}
