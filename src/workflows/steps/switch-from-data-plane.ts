/**
 * Seeing a failover's switch from the data plane: after the POST, the target instance's databases are read over TDS
 * every few hundred milliseconds (no ARM budget) until every one is READ_WRITE, then ONE ARM read confirms the target
 * is primary. A secondary's databases are never writable, so the data plane sees the switch as soon as an application
 * can use it, rather than at the next ARM poll. Anything unexpected (the data plane cannot be read, the confirmation
 * disagrees) hands the wait back to ARM polling, which is what ran before.
 */
import { ActivityFailure } from '@temporalio/workflow';
import type { FailoverProgressReading, GroupRolesReading, WritableWatch } from '../../activities';
import type { ResolvedGroup } from '../../domain/group-ref';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import { dataPlaneWatches, readsUntil } from './activity-presets';
import { groupKindOf } from './group-kind';
import { describeFailure, type StepHandle } from './runbook-run';

/**
 * Runs recorded before a planned leg watched the target's databases after the POST: they followed the failover
 * operation, then polled the roles at both locations, then polled updateability in await-writable.
 */
export const DATA_PLANE_SWITCH_PATCH = 'switch-seen-from-the-data-plane';

/**
 * The watch: a read every 250 ms (an application sees the database writable within a quarter second of the runbook);
 * between slices of 15 s, one ARM read of the failover operation, so a failed failover shows within 15 s as it did
 * with ROLE_POLLING's longest interval; no answer from the instance for 30 s hands the wait to ARM polling.
 */
export const DATA_PLANE_WATCH = { intervalMs: 250, sliceMs: 15_000, unreadableAfterMs: 30_000 } as const;

export interface SwitchWatchRequest {
  group: ResolvedGroup;
  step: StepHandle;
  target: string;
  instance: SqlInstanceTarget;
  instanceName: string;
  expected: string[];
  /** Workflow time: the POST plus roleSwitchTimeout. */
  deadline: number;
  /** The failover's operation, when this run's request started it. */
  trackingId?: string;
}

/** What the watch ended with: the switch seen and confirmed, the failover's operation failed, or ARM must decide. */
export type SwitchWatchResult =
  | { seen: true; roles: GroupRolesReading; watch: WritableWatch; polls: number }
  | { seen: false; failed: FailoverProgressReading; why?: undefined }
  | {
      seen: false;
      failed?: undefined;
      why: string;
      /** The operation could not be read: the roles decide, with no second try at it. */
      operationUnreadable?: boolean;
      /** The deadline passed: what Azure said of the operation at its last read between slices. */
      lastOperation?: FailoverProgressReading;
    };

export async function watchSwitchFromDataPlane(request: SwitchWatchRequest): Promise<SwitchWatchResult> {
  const { group, step, target, deadline, trackingId } = request;
  const kind = groupKindOf(group);
  const fallBack = (
    why: string,
    more: { operationUnreadable?: boolean; lastOperation?: FailoverProgressReading } = {},
  ): SwitchWatchResult => {
    step.evidence({ dataPlaneFallback: why });
    step.detail(`falling back to ARM polling: ${why}`);
    return { seen: false, why, ...more };
  };
  let polls = 0;
  let operationPolls = 0;
  let lastOperation: FailoverProgressReading | undefined;
  for (let slice = 1; Date.now() < deadline; slice++) {
    const sliceMs = Math.min(DATA_PLANE_WATCH.sliceMs, Math.max(deadline - Date.now(), 1_000));
    let watch: WritableWatch;
    try {
      watch = await dataPlaneWatches(deadline, sliceMs).watchWritable.executeWithOptions(
        { summary: `watch the databases on ${request.instanceName}` },
        [
          {
            instance: request.instance,
            expected: request.expected,
            sliceMs,
            intervalMs: DATA_PLANE_WATCH.intervalMs,
            unreadableAfterMs: DATA_PLANE_WATCH.unreadableAfterMs,
          },
        ],
      );
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      return fallBack(`the data-plane watch failed: ${describeFailure(error).message}`);
    }
    polls += watch.polls;
    step.evidence({ dataPlanePolls: polls, dataPlaneSlices: slice, databases: watch.databases });
    if (watch.outcome === 'unreadable') return fallBack(`${request.instanceName} could not be read: ${watch.reason}`);
    if (watch.outcome === 'writable') {
      // The confirmation reads the group at the target's location only. Right after a switch the OLD primary's
      // location keeps answering Primary for a while (the role-flip skew), so its answer proves nothing, and the
      // target's view may name its partner Primary too for that moment; but the target claims Primary only once the
      // switch has happened, and its databases answering READ_WRITE say the same from the data plane. Both
      // perspectives agreeing is what post-checks waits for, before anything else reads the roles.
      let roles: GroupRolesReading;
      try {
        roles = await kind.readRoles(group, [target], `confirm ${target} is primary`, readsUntil(deadline));
      } catch (error) {
        // ARM unreadable until the deadline: the fallback's last look at the roles decides, as it did before.
        if (!(error instanceof ActivityFailure)) throw error;
        return fallBack(`the confirmation at ${target} could not be read: ${describeFailure(error).message}`);
      }
      const view = roles.views[0];
      step.evidence({ confirmation: roles.summary.detail });
      if (view?.replicationRole.toLowerCase() === 'primary') return { seen: true, roles, watch, polls };
      return fallBack(
        `every database on ${request.instanceName} is READ_WRITE, but ARM at ${target} says ` +
          `${view ? view.replicationRole : 'nothing'} (${roles.summary.detail})`,
      );
    }
    if (trackingId && Date.now() < deadline) {
      // Azure's account of the operation between slices: a failed failover never makes the target writable.
      let progress: FailoverProgressReading;
      try {
        progress = await kind.readFailoverProgress(group, trackingId, 'read the failover operation');
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        // As when following the operation: an operation that cannot be read (a 4xx, or reads that ran out of
        // time) leaves the roles to tell, with no second try at the operation.
        const reason = describeFailure(error).message;
        step.evidence({ operationUnreadable: reason, fallback: 'following the roles' });
        return fallBack(`the failover operation could not be read: ${reason}`, { operationUnreadable: true });
      }
      lastOperation = progress;
      step.evidence({ operationPolls: ++operationPolls, operation: progress.state });
      if (progress.state !== 'InProgress' && progress.state !== 'Succeeded') return { seen: false, failed: progress };
    }
  }
  return fallBack('the deadline passed before every database was writable', lastOperation ? { lastOperation } : {});
}
