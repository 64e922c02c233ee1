import { CancellationScope, deprecatePatch, patched, setHandler, sleep } from '@temporalio/workflow';
import { PlannedFailoverInputSchema, type PlannedFailoverParams } from '../domain/inputs';
import { describeGroupRef, type ResolvedGroup } from '../domain/group-ref';
import { formatDuration } from '../domain/durations';
import {
  Outcomes,
  RunbookTypes,
  type FailoverLeg,
  type Outcome,
  type PlanItem,
  type PlannedFailoverInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { catchUpBeforeFailback } from './steps/failback-wait';
import { intendedPrimary, statesIntent } from './steps/intent';
import {
  awaitWritableStep,
  dataLossOfPlannedLeg,
  postChecksStep,
  scaleNewSecondaryStage,
} from './steps/leg-after-switch';
import { scaleSecondaryStep, verifySyncStep } from './steps/leg-before-switch';
import { preflightStep } from './steps/leg-preflight';
import { awaitRolesStep, recordWhatWasSent, sendPlannedFailoverStep } from './steps/leg-switch';
import {
  ALREADY_PRIMARY,
  SIZES_AFTER_SWITCH_PATCH,
  alreadyPrimaryWhy,
  type LegRun,
  type LegView,
  type PlannedLegOptions,
  type PlannedLegParams,
} from './steps/planned-leg';
import { openRunbook } from './steps/opening';
import { runHooks } from './steps/hooks';
import { RunbookRun, nowIso } from './steps/runbook-run';
import { declareStage, declareStep, planOf, runStep, type PlannedStep } from './steps/step-declaration';

/**
 * Deprecated patch: a zero `failback.after` waits with no timer. Runs recorded before it waited with one; no kept history
 * takes that path any more, so only the new path is left, and `deprecatePatch` still writes (and accepts) its marker.
 */
export const NO_ZERO_TIMER_PATCH = 'failback-after-zero-without-timer';

/**
 * The steps of one planned failover, in the order `runPlannedLeg` runs them: preflight gates, scale the secondary
 * first, verify sync, fail over (the point of no return), await roles, await writability, post-checks, then even out
 * the sizes for the way back. A dry run's plan is made of the same declarations.
 */
export const plannedLegSteps: readonly PlannedStep<LegView>[] = [
  preflightStep,
  scaleSecondaryStep,
  verifySyncStep,
  sendPlannedFailoverStep,
  awaitRolesStep,
  awaitWritableStep,
  postChecksStep,
  scaleNewSecondaryStage,
];

/** The dry-run plan of one planned failover leg, given what its preflight read. */
export function plannedLegPlan(view: LegView, prefix = '', steps = plannedLegSteps): PlanItem[] {
  return planOf(steps, view, prefix);
}

/**
 * One planned failover of a group, step by step as an operator would run it. `plannedFailover` runs it once (and again
 * in reverse for its failback); `failback` runs it toward the home region; `drDrill` there and back. Returns the leg
 * (also recorded on the run), `ALREADY_PRIMARY` when the target already was primary with the group synchronizing
 * (nothing sent, on a dry run too), or `undefined` for a dry run.
 */
export async function runPlannedLeg(
  run: RunbookRun,
  group: ResolvedGroup,
  params: PlannedLegParams,
  options: PlannedLegOptions,
): Promise<FailoverLeg | typeof ALREADY_PRIMARY | undefined> {
  const prefix = options.stepPrefix;
  const preflight = await runStep(run, preflightStep, { run, group, params }, prefix);
  if (preflight.alreadyPrimary) {
    const roles = { primary: preflight.target, secondary: preflight.from };
    if (options.leg === 'failover' || !run.rolesBefore) run.rolesBefore = roles;
    run.rolesAfter = roles;
    if (params.dryRun) {
      run.plan = [...(run.plan ?? []), ...plannedLegPlan({ params, met: preflight }, prefix)];
    } else {
      run.skipStep(
        `${prefix}${sendPlannedFailoverStep.name}`,
        `Fail over to ${preflight.target}`,
        alreadyPrimaryWhy(preflight),
        { roles: preflight.rolesDetail },
      );
    }
    return ALREADY_PRIMARY;
  }
  if (options.leg === 'failover' || !run.rolesBefore) {
    run.rolesBefore = { primary: preflight.from, secondary: preflight.target };
  }
  if (params.dryRun) {
    run.plan = [...(run.plan ?? []), ...plannedLegPlan({ params, preflight }, prefix)];
    return undefined;
  }
  options.onPreflightPassed?.();

  const leg: FailoverLeg = {
    name: options.leg,
    from: preflight.from,
    to: preflight.target,
    failoverSent: false,
    dataLoss: { kind: 'unknown', detail: 'the failover has not been sent' },
  };
  const context: LegRun = { run, group, params, options, preflight, leg, synced: new Set() };
  context.synced = await run.beforePointOfNoReturn(async () => {
    await runHooks(run, 'before', leg, prefix);
    await runStep(run, scaleSecondaryStep, context, prefix);
    return runStep(run, verifySyncStep, context, prefix);
  });

  run.passPointOfNoReturn();
  run.legs.push(leg);
  // From here the runbook finishes what it sent before it heeds an abort or a cancellation.
  await CancellationScope.nonCancellable(async () => {
    await run.notifier.notify(
      'pointOfNoReturn',
      {
        message: `${run.runbook} of ${group.displayName}: sending the planned failover from ${leg.from} to ${leg.to}`,
        fromLocation: leg.from,
        toLocation: leg.to,
      },
      prefix,
    );
    leg.requestedAt = nowIso();
    const requestedAtMs = Date.now();
    recordWhatWasSent(context, await runStep(run, sendPlannedFailoverStep, context, prefix));
    await runStep(run, awaitRolesStep, context, prefix);
    await runStep(run, awaitWritableStep, context, prefix);
    leg.allWritableAt = nowIso();
    leg.rtoSeconds = Math.round((Date.now() - requestedAtMs) / 100) / 10;
    leg.dataLoss = dataLossOfPlannedLeg(leg, context.synced);
  });
  if (run.abortRequested) return leg;

  await runStep(run, postChecksStep, context, prefix);
  const hookFailure = leg.failoverSent ? await runHooks(run, 'after', leg, prefix, { deferFailure: true }) : undefined;
  if (leg.failoverSent && patched(SIZES_AFTER_SWITCH_PATCH)) await scaleNewSecondaryStage.body(context);
  if (hookFailure) throw hookFailure;
  return leg;
}

/** What a plannedFailover's failback is planned from: its input, and the region it would go back to. */
interface FailbackView {
  params: PlannedFailoverParams;
  home?: string;
}

/** A plannedFailover's failback as it runs, after its failover leg. */
interface FailbackRun extends FailbackView {
  run: RunbookRun;
  group: ResolvedGroup;
  failover: FailoverLeg;
}

const waitBeforeFailbackStep = declareStep<FailbackView, FailbackRun>({
  name: 'wait-before-failback',
  title: ({ params }) => `Wait ${formatDuration(params.failback?.after ?? 0)} before failing back`,
  body: async ({ run, params, failover }) => {
    const afterMs = params.failback?.after ?? 0;
    // A zero wait is no wait: a timer, even of 0, fires only on the server's next tick (about a second).
    if (afterMs === 0) {
      deprecatePatch(NO_ZERO_TIMER_PATCH);
      return;
    }
    run.setAwaiting('timer', `failing back to ${failover.from} after ${formatDuration(afterMs)}`, {
      preemptible: true,
    });
    await sleep(afterMs, { summary: `wait ${formatDuration(afterMs)} before failing back to ${failover.from}` });
    run.clearAwaiting();
  },
});

const failbackStage = declareStage<FailbackView, FailbackRun, Outcome>({
  name: 'failback',
  plan: ({ params, home }) =>
    params.failback
      ? `after ${formatDuration(params.failback.after)} and once replication has caught up ` +
        `(every database within ${params.maxLagSeconds}s; at most ` +
        `${formatDuration(params.failbackWaitTimeout)}, else it ends failbackPending), the ` +
        `same runbook back to ${home}`
      : undefined,
  body: async ({ run, group, params, failover }) => {
    if (!(await catchUpBeforeFailback(run, group, failover, params, 'The failover'))) return Outcomes.failbackPending;
    const failback = await runPlannedLeg(
      run,
      group,
      { ...params, targetLocation: failover.from, dryRun: false },
      { leg: 'failback', stepPrefix: 'failback/' },
    );
    if (!failback || run.abortRequested) return Outcomes.abortedAfterFailover;
    if (failback === ALREADY_PRIMARY)
      run.warn(`${failover.from} was primary again before the failback: none was sent.`);
    return Outcomes.succeeded;
  },
});

/** What a plannedFailover does after its failover leg, in order; the dry-run plan lists those that say what they do. */
export const plannedFailoverAfterLeg: readonly PlannedStep<FailbackView>[] = [waitBeforeFailbackStep, failbackStage];

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
      run.plan?.push(...planOf(plannedFailoverAfterLeg, { params, home: run.rolesBefore?.primary }));
      return Outcomes.dryRun;
    }
    if (!failover || run.abortRequested) return Outcomes.abortedAfterFailover;
    if (!params.failback) return Outcomes.succeeded;

    const failback: FailbackRun = { run, group, params, failover };
    run.resetPointOfNoReturn();
    await run.beforePointOfNoReturn(() => runStep(run, waitBeforeFailbackStep, failback));
    return failbackStage.body(failback);
  });
}
