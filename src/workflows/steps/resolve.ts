import { workflowInfo } from '@temporalio/workflow';
import type { GroupRef, ResolvedGroup } from '../../domain/group-ref';
import type { OutboundPlan } from '../../activities';
import { reads } from './activity-presets';
import { STATUS_MIRROR_MEMO } from './lock-delegation';
import type { RunbookRun } from './runbook-run';

/**
 * Runs recorded before it resolved the group again in the lock holder, though its starter had just resolved the same
 * reference: an activity and a workflow task on the way to the first read, for an answer the starter already had.
 */
export const RESOLVED_BY_STARTER_PATCH = 'lock-holder-gets-the-resolved-group';

/** Memo key on a lock holder started by `runUnderGroupLock`: the group's hooks and notifications, as its starter read them. */
export const OUTBOUND_PLAN_MEMO = 'fogpilotOutboundPlan';

/** Memo key on a lock holder started by `runUnderGroupLock`: the group as its starter resolved it. */
export const RESOLVED_GROUP_MEMO = 'fogpilotResolvedGroup';

/**
 * Resolves the input's group reference into coordinates and the group's lock id (in an activity: it needs the
 * inventory). A lock holder takes the resolution its starter made moments before from its memo: the same reference,
 * resolved once, so both runs act on the same coordinates (an ARM id resolves to the roles of the moment it is read).
 */
export async function resolveGroupStep(run: RunbookRun, ref: GroupRef): Promise<ResolvedGroup> {
  return run.step('resolve-group', 'Resolve the group reference', async (step) => {
    const fromStarter = resolvedByStarter();
    if (fromStarter) {
      run.identify(fromStarter.group);
      run.notifier.plan = workflowInfo().memo?.[OUTBOUND_PLAN_MEMO] as OutboundPlan | undefined;
      step.evidence({ ...fromStarter.group, resolvedBy: fromStarter.starter });
      return fromStarter.group;
    }
    const resolved = await reads.resolveGroup.executeWithOptions({ summary: 'resolve the group' }, [ref]);
    run.identify(resolved.group);
    run.notifier.plan = resolved.outbound;
    step.evidence({ ...resolved.group });
    return resolved.group;
  });
}

/** The group in this lock holder's memo, when its starter (its parent, which it mirrors its status to) put it there. */
function resolvedByStarter(): { group: ResolvedGroup; starter: string } | undefined {
  const info = workflowInfo();
  const starter = info.memo?.[STATUS_MIRROR_MEMO];
  const group = info.memo?.[RESOLVED_GROUP_MEMO] as ResolvedGroup | undefined;
  if (typeof starter !== 'string' || starter !== info.parent?.workflowId || !group) return undefined;
  // Only the group this workflow's id locks: a memo naming another group is never taken.
  return group.lockWorkflowId === info.workflowId ? { group, starter } : undefined;
}
