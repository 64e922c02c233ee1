import { ActivityFailure, condition, continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { formatDuration } from '../domain/durations';
import { WatchGroupsInputSchema } from '../domain/inputs';
import {
  Outcomes,
  RunbookTypes,
  type RunbookReport,
  type WatchGroupsInput,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
  watchStatusQuery,
} from './definitions';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './steps/activity-presets';
import { metered } from './steps/arm-meter';
import { RunbookRun, describeFailure, nowIso } from './steps/runbook-run';
import {
  GroupWatch,
  WATCH_LOOKS_PER_RUN,
  WatchNotifier,
  applyReading,
  describeUnexplainedChange,
  logChange,
  resolveWatchedGroupsStep,
  startFailbackFor,
} from './steps/watch-steps';

/**
 * One look at every group: short attempts, retried for at most two minutes. A look that still fails is recorded and
 * the watch looks again at the next interval: a watch never ends on Azure's or a worker's trouble.
 */
const looks = metered(
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: '2 minutes',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  }),
);

/**
 * **watchGroups**: notices role changes fogpilot did not make — Azure's own failover (the Automatic policy, once an
 * outage outlasts its grace period) or a click in the portal — records each, and tells of it. Every `interval` (default
 * 1 minute) one activity reads the roles of every watched group (the input's `groups`, or every inventory group) with
 * one ARM list call per subscription, resource group and location, shared by the groups there; a group whose primary
 * differs from the last one read is a change. The change is fogpilot's when the group's lock holder (a runbook that
 * may switch roles) was running, or ended after the previous look; otherwise it is logged, recorded in the
 * `watchStatus` query and the report, and notified (`azureFailoverSeen`). A region that does not answer is reported;
 * a group read from its surviving region alone counts when that region says Primary.
 *
 * Side effects: none in Azure, unless `startFailback`: then, for a change fogpilot did not make away from the group's
 * home primary, it starts `failback` under the group's lock id (abandoned: it outlives the watch), which waits durably
 * until the group synchronizes and fails back. A run already holding the lock means someone is on it: recorded,
 * nothing started. Takes no lock itself.
 *
 * Runs until an `abort` (or a cancellation), continuing as new every 30 looks with the last roles and the recent
 * changes, so each run's history stays a few hundred events. Ends `succeeded` with the report's `watch`. Fails only
 * with `InvalidInput`.
 */
export async function watchGroups(input: WatchGroupsInput = {}): Promise<RunbookReport> {
  const raw = input as { groups?: unknown } | undefined;
  const run = new RunbookRun(
    RunbookTypes.watchGroups,
    Array.isArray(raw?.groups) ? `${raw.groups.length} group${raw.groups.length === 1 ? '' : 's'}` : 'all groups',
  );
  let watch: GroupWatch | undefined;
  // Handlers before anything else, so a query or an abort sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(watchStatusQuery, () => {
    if (watch) return watch.status();
    return {
      watchingSince: run.startedAt,
      intervalMs: 0,
      startFailback: false,
      looks: 0,
      groups: [],
      unresolved: [],
      changes: [],
      unansweredScopes: [],
    };
  });
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    const params = run.validateInput(WatchGroupsInputSchema, input);
    run.requestedBy = params.requestedBy;
    run.reason = params.reason;
    const { resume } = params;
    if (resume) {
      watch = GroupWatch.resumed(params, resume);
      if (resume.armCalls) {
        run.armCalls.reads += resume.armCalls.reads;
        run.armCalls.writes += resume.armCalls.writes;
        run.armCalls.throttled += resume.armCalls.throttled;
      }
      run.skipStep('resolve-groups', 'Resolve the groups to watch', 'done by the run this one continues', {
        groups: watch.entries.map((entry) => entry.group.displayName),
        watchingSince: watch.watchingSince,
      });
    } else {
      watch = GroupWatch.fresh(params, await resolveWatchedGroupsStep(run, params.groups));
    }
    const current = watch;
    const only = current.entries.length === 1 ? current.entries[0] : undefined;
    if (only) run.identify(only.group);
    for (const unresolved of resume ? [] : current.unresolved)
      run.warn(`${unresolved.group} is not watched: ${unresolved.error}`);
    if (current.entries.length === 0) {
      run.warn(
        params.groups
          ? 'None of the groups resolved: nothing is watched. Correct the groups and start the watch again.'
          : "The worker's inventory has no groups: nothing is watched. Add the groups to fogpilot.yaml.",
      );
      run.extra.watch = current.status();
      return Outcomes.succeeded;
    }

    const notifier = new WatchNotifier(RunbookTypes.watchGroups);
    const waitTimeout = input.failbackWaitTimeout ?? '7 days';
    const title = `Watch ${current.entries.length} group${current.entries.length === 1 ? '' : 's'} every ${formatDuration(params.interval)}`;
    // The report tells what the watch saw however it ends (an abort, a cancellation).
    try {
      await watchStep();
    } finally {
      run.extra.watch = current.status();
    }
    return Outcomes.succeeded;

    function watchStep(): Promise<void> {
      return run.step('watch', title, async (step) => {
        for (let look = 1; ; look++) {
          const lookAt = nowIso();
          try {
            const seen = await looks.lookAtGroups.executeWithOptions({ summary: 'look at the groups' }, [
              { groups: current.targets() },
            ]);
            current.looks += 1;
            current.lastLookAt = lookAt;
            current.lastLookError = undefined;
            current.unansweredScopes = seen.unansweredScopes;
            for (const [index, entry] of current.entries.entries()) {
              const change = applyReading(entry, seen.groups[index]!, lookAt);
              if (!change) continue;
              if (!change.byFogpilot) {
                if (params.startFailback) change.failback = await startFailbackFor(entry, change, waitTimeout);
                const message = describeUnexplainedChange(entry.group.displayName, change);
                change.notified = notifier.takes(entry, 'azureFailoverSeen');
                await notifier.notify(
                  entry,
                  'azureFailoverSeen',
                  {
                    message,
                    fromLocation: change.from,
                    toLocation: change.to,
                    details: {
                      seenAt: change.seenAt,
                      previousReadAt: change.previousReadAt ?? null,
                      read: change.read,
                      explanation: change.explanation,
                      lockWorkflowId: entry.group.lockWorkflowId,
                      ...(change.failback
                        ? { failback: change.failback.outcome, failbackWorkflowId: change.failback.workflowId }
                        : {}),
                    },
                  },
                  `${entry.group.lockWorkflowId}@${change.seenAt}`,
                );
                run.warn(message);
              }
              logChange(change);
              current.record(change);
            }
          } catch (error) {
            if (!(error instanceof ActivityFailure)) throw error;
            current.lastLookError = describeFailure(error).message;
            run.warn(`The look at ${lookAt} did not happen: ${current.lastLookError}. The watch looks again.`);
          }
          const unexplained = current.changes.filter((change) => !change.byFogpilot).length;
          step.evidence({ looks: current.looks, changes: current.changes.length, unexplained, lastLookAt: lookAt });
          step.detail(
            `${current.looks} looks, ${current.changes.length} changes (${unexplained} not fogpilot's); last ${lookAt}`,
          );
          if (run.abortRequested) return;
          if (look >= WATCH_LOOKS_PER_RUN) {
            await continueAsNew<typeof watchGroups>({ ...input, resume: current.resume(run.armCalls) });
          }
          run.setAwaiting('next-look', `next look in ${formatDuration(params.interval)}`);
          const aborted = await condition(() => run.abortRequested, params.interval);
          run.clearAwaiting();
          if (aborted) return;
        }
      });
    }
  });
}
