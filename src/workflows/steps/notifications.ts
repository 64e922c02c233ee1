/**
 * A run's notifications: at most one per event and leg, each delivered by a `deliverNotifications` child the run starts
 * and abandons (it waits for the start, a moment, never for the delivery). Only the run that does the work sends them
 * (the group's lock holder, not a starter that delegated to it), never a dry run, and only for events a configured
 * endpoint takes for the group (`OutboundPlan.notifyOn`): with none configured, a run's history is as it was.
 */
import { ParentClosePolicy, log, patched, startChild, workflowInfo } from '@temporalio/workflow';
import type { OutboundPlan } from '../../activities';
import type { ResolvedGroup } from '../../domain/group-ref';
import { instanceFailoverGroupId } from '../../domain/group-ref';
import type { NotificationEvent, ObjectiveReading, RunbookNotification } from '../../notify/events';
import type { RunbookType } from '../definitions';
import type { deliverNotifications } from '../deliver-notifications';

/** Runs recorded before notifications started none; a run with endpoints configured starts them from this marker on. */
export const RUNBOOK_NOTIFICATIONS_PATCH = 'runbook-notifications';

export interface NotificationFields {
  message: string;
  outcome?: string;
  fromLocation?: string;
  toLocation?: string;
  details?: Record<string, unknown>;
  objectives?: { rto?: ObjectiveReading; rpo?: ObjectiveReading };
}

export class RunNotifier {
  /** What the group's configuration says (set when the group is resolved); undefined: nothing to notify. */
  plan?: OutboundPlan;
  /** Off for runs that do not do the work themselves (dry runs, starters that delegate). */
  enabled = false;
  private sent = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly runbook: RunbookType,
    private readonly group: () => ResolvedGroup | undefined,
  ) {}

  /** Sends `event` once per `key` (a leg, an approval), when an endpoint takes it. Never fails the run. */
  async notify(event: NotificationEvent, fields: NotificationFields, key = ''): Promise<void> {
    if (!this.enabled || !this.plan?.notifyOn.includes(event) || !patched(RUNBOOK_NOTIFICATIONS_PATCH)) return;
    const once = `${event}/${key}`;
    if (this.seen.has(once)) return;
    this.seen.add(once);
    const group = this.group();
    const info = workflowInfo();
    const payload: RunbookNotification = {
      event,
      occurredAt: new Date().toISOString(),
      runbook: this.runbook,
      workflowId: info.workflowId,
      runId: info.runId,
      group: group?.displayName ?? '(unresolved)',
      ...(group ? { groupId: instanceFailoverGroupId(group, group.primaryLocation) } : {}),
      ...fields,
    };
    const fromInventory = group?.resolvedFrom === 'inventory' || group?.resolvedFrom === undefined;
    const inventoryName = group && fromInventory ? group.displayName : undefined;
    try {
      await startChild<typeof deliverNotifications>('deliverNotifications', {
        workflowId: `${info.workflowId}/notify/${info.runId.slice(0, 8)}-${++this.sent}-${event}`,
        args: [{ payload, ...(inventoryName ? { group: inventoryName } : {}) }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
    } catch (error) {
      log.warn('A notification could not be started', { event, error: String(error) });
    }
  }
}
