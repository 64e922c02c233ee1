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
 * The watch: a read every 100 ms (the runbook sees every database writable within a tenth of a second of the switch),
 * in activities of at most 4 s each; every 15 s of watching, one ARM read of the failover operation, so a failed
 * failover shows within 15 s as it did with ROLE_POLLING's longest interval; no answer from the instance for 30 s (over
 * slices) hands the wait to ARM polling.
 *
 * A slice is shorter than the watch's heartbeat timeout (5 s, dataPlaneWatches): an attempt then ends before that
 * timeout could pass without a heartbeat reaching the server, whatever delays heartbeats (a loaded worker; on the
 * time-skipping test server, the watch's own pauses move the clock faster than heartbeats travel), so an attempt is
 * never retried while it still runs.
 *
 * The watch runs only where it beats ARM, and the workflow's own timers carry the long waits:
 * - `afterSucceededMs`: once Azure reports the operation Succeeded, the databases still read-only get 10 s more of
 *   watching (the emulator makes each database writable up to 10 s after the switch, the operation ending 2 s after
 *   it); past that, await-writable waits for them on timers, however many minutes Azure takes.
 * - `quietAfterMs`: a watch that has seen nothing of the switch (every database read-only, no session dropped) for
 *   60 s after the POST hands the wait to ARM polling of the operation. 60 s covers the emulator's switch (30 s, then
 *   up to 10 s of per-database writability) at real speed; a slower switch, up to the 5 minutes Azure allows, is seen
 *   at the operation's next poll, which is what the naive script waits for too.
 */
export const DATA_PLANE_WATCH = {
  intervalMs: 100,
  sliceMs: 4_000,
  operationEveryMs: 15_000,
  unreadableAfterMs: 30_000,
  afterSucceededMs: 10_000,
  quietAfterMs: 60_000,
} as const;

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
      /** Azure reported the operation Succeeded: the roles decide, with no need to read the operation again. */
      operationSucceeded?: FailoverProgressReading;
    };

function isWritable(entry: { updateability: string }): boolean {
  return entry.updateability.toUpperCase() === 'READ_WRITE';
}

export async function watchSwitchFromDataPlane(request: SwitchWatchRequest): Promise<SwitchWatchResult> {
  const { group, step, target, deadline, trackingId } = request;
  const kind = groupKindOf(group);
  const fallBack = (
    why: string,
    more: {
      operationUnreadable?: boolean;
      lastOperation?: FailoverProgressReading;
      operationSucceeded?: FailoverProgressReading;
    } = {},
  ): SwitchWatchResult => {
    step.evidence({ dataPlaneFallback: why });
    step.detail(`falling back to ARM polling: ${why}`);
    return { seen: false, why, ...more };
  };
  let polls = 0;
  let operationPolls = 0;
  let lastOperation: FailoverProgressReading | undefined;
  // Time is the watcher's own account (the sum of the slices' watchedMs), so the watch's rules keep the pace of the
  // clock the watch reads the data plane by; the deadline is workflow time.
  let watchedMs = 0;
  let operationReadAt = 0;
  let silentForMs = 0;
  // Whether any slice saw the switch under way (a session dropped, a database writable): then its end is near.
  let switchShowed = false;
  // When Azure reported the operation Succeeded (watched time): the watch ends afterSucceededMs later.
  let succeededSeenAt: number | undefined;
  for (let slice = 1; Date.now() < deadline; slice++) {
    const left = Math.min(
      deadline - Date.now(),
      succeededSeenAt === undefined ? Infinity : succeededSeenAt + DATA_PLANE_WATCH.afterSucceededMs - watchedMs,
    );
    const sliceMs = Math.min(DATA_PLANE_WATCH.sliceMs, Math.max(left, 1_000));
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
            silentForMs,
          },
        ],
      );
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      return fallBack(`the data-plane watch failed: ${describeFailure(error).message}`);
    }
    polls += watch.polls;
    watchedMs += watch.watchedMs;
    silentForMs = watch.silentMs ?? 0;
    switchShowed ||= watch.transientErrors > 0 || watch.databases.some(isWritable);
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
    if (
      succeededSeenAt !== undefined &&
      lastOperation &&
      watchedMs >= succeededSeenAt + DATA_PLANE_WATCH.afterSucceededMs
    ) {
      const seconds = Math.round((watchedMs - succeededSeenAt) / 1000);
      return fallBack(
        `Azure reports the failover operation Succeeded, and ${seconds} s later not every database on ` +
          `${request.instanceName} is writable: the roles are read from ARM, and await-writable waits for the databases`,
        { operationSucceeded: lastOperation },
      );
    }
    const operationDue =
      succeededSeenAt === undefined && watchedMs - operationReadAt >= DATA_PLANE_WATCH.operationEveryMs;
    if (trackingId && operationDue && Date.now() < deadline) {
      operationReadAt = watchedMs;
      // Azure's account of the operation every operationEveryMs: a failed failover never makes the target writable.
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
      if (progress.state === 'Succeeded') succeededSeenAt = watchedMs;
    }
    if (succeededSeenAt === undefined && !switchShowed && watchedMs >= DATA_PLANE_WATCH.quietAfterMs) {
      return fallBack(
        `nothing of the switch showed on ${request.instanceName} in ${Math.round(watchedMs / 1000)} s after the ` +
          'failover was sent (every database read-only, no session dropped): ARM polling carries the longer wait',
      );
    }
  }
  return fallBack('the deadline passed before every database was writable', lastOperation ? { lastOperation } : {});
}
