import { patched, sleep, setHandler } from '@temporalio/workflow';
import { PlannedFailoverInputSchema } from '../domain/inputs';
import { describeGroupRef } from '../domain/group-ref';
import { durationToMs, formatDuration } from '../domain/durations';
import {
  Outcomes,
  RunbookTypes,
  type PlannedFailoverInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { catchUpBeforeFailback } from './steps/failback-wait';
import { intendedPrimary, statesIntent } from './steps/intent';
import { ALREADY_PRIMARY, runPlannedLeg } from './steps/planned-leg';
import { openRunbook } from './steps/opening';
import { RunbookRun } from './steps/runbook-run';

/** Runs recorded before it waited a zero `failback.after` with a timer. */
export const NO_ZERO_TIMER_PATCH = 'failback-after-zero-without-timer';

/**
 * **plannedFailover**: makes `targetLocation` — by default the group's home secondary, fixed when the run starts —
 * the primary of an instance failover group with no data loss, step by step: preflight gates, scale the secondary
 * first, verify sync, fail over, await roles and writability, post-checks, and optionally fail back after
 * `failback.after`.
 *
 * Side effects: PATCHes the secondary's size when smaller (undone if the runbook stops before the failover), POSTs
 * one planned failover per direction. States an intent, so running it again is safe: when the target already is
 * primary with the group synchronizing it sends nothing and ends `alreadyPrimary` (no failback either). The way home
 * is `failback`. Holds the group's lock for its whole run. `dryRun` reads and evaluates only.
 *
 * With `failback`, after `failback.after` it waits, durably, until the group is synchronizing and every database's
 * replication lag is within `maxLagSeconds`, for at most `failbackWaitTimeout` (default 1 hour); past that it ends
 * `failbackPending`, the primary still in the target region, with the exact `fogpilot failback` command in its report.
 *
 * Fails with `InvalidInput`, `GroupNotFound`, `GroupBusy`, `PreflightFailed`, `ScaleFailed`, `SyncTimeout`,
 * `FailoverNotSent`, `RoleSwitchTimeout` or `WritableTimeout`; the failure's details carry the report.
 */
export async function plannedFailover(input: PlannedFailoverInput): Promise<RunbookReport> {
  const run = new RunbookRun(
    RunbookTypes.plannedFailover,
    describeGroupRef((input as { group?: unknown } | undefined)?.group),
  );
  // Handlers before anything else, so a query, an abort or a lock holder's status sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    const opened = await openRunbook(run, {
      schema: PlannedFailoverInputSchema,
      input,
      group: (params) => params.group,
      // Fixed before anything is read: the target never follows the roles a run happens to find.
      fix: (params, group) =>
        statesIntent()
          ? intendedPrimary(run, group, params.targetLocation, 'home-secondary').primary
          : params.targetLocation,
      lock: (params) => (params.dryRun ? undefined : { workflowType: RunbookTypes.plannedFailover, args: [input] }),
    });
    if ('ended' in opened) return opened.ended;
    const { params, group, fixed: target } = opened;

    const failover = await runPlannedLeg(
      run,
      group,
      { ...params, targetLocation: target },
      // A failback of this run evens the sizes by going home; without one, the pair is made ready for the way back.
      { leg: 'failover', stepPrefix: '', sizesAfterSwitch: params.failback ? 'warn' : 'match' },
    );
    // Met already: no failover, and no failback either, which would move the group away from where it was asked to be.
    if (failover === ALREADY_PRIMARY) return params.dryRun ? Outcomes.dryRun : Outcomes.alreadyPrimary;
    if (params.dryRun) {
      if (params.failback) {
        run.plan?.push({
          step: 'failback',
          action:
            `after ${formatDuration(durationToMs(params.failback.after) ?? 0)} and once replication has caught up ` +
            `(every database within ${params.maxLagSeconds}s; at most ` +
            `${formatDuration(durationToMs(params.failbackWaitTimeout) ?? 0)}, else it ends failbackPending), the ` +
            `same runbook back to ${run.rolesBefore?.primary}`,
        });
      }
      return Outcomes.dryRun;
    }
    if (!failover || run.abortRequested) return Outcomes.abortedAfterFailover;
    if (!params.failback) return Outcomes.succeeded;

    const afterMs = durationToMs(params.failback.after) ?? 0;
    run.resetPointOfNoReturn();
    await run.beforePointOfNoReturn(() =>
      run.step('wait-before-failback', `Wait ${formatDuration(afterMs)} before failing back`, async () => {
        // A zero wait is no wait: a timer, even of 0, fires only on the server's next tick (about a second).
        if (afterMs === 0 && patched(NO_ZERO_TIMER_PATCH)) return;
        run.setAwaiting('timer', `failing back to ${failover.from} after ${formatDuration(afterMs)}`, {
          preemptible: true,
        });
        await sleep(afterMs, { summary: `wait ${formatDuration(afterMs)} before failing back to ${failover.from}` });
        run.clearAwaiting();
      }),
    );
    if (!(await catchUpBeforeFailback(run, group, failover, params, 'The failover'))) return Outcomes.failbackPending;
    const failback = await runPlannedLeg(
      run,
      group,
      { ...params, targetLocation: failover.from, dryRun: false },
      {
        leg: 'failback',
        stepPrefix: 'failback/',
      },
    );
    if (!failback || run.abortRequested) return Outcomes.abortedAfterFailover;
    if (failback === ALREADY_PRIMARY)
      run.warn(`${failover.from} was primary again before the failback: none was sent.`);
    return Outcomes.succeeded;
  });
}
