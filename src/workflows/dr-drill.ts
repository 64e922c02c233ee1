import {
  ApplicationFailure,
  CancellationScope,
  deprecatePatch,
  patched,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { DrDrillInputSchema, DrDrillInputSchemaBeforeCredentialQueryRule, type DrDrillParams } from '../domain/inputs';
import { describeGroupRef, type ResolvedGroup } from '../domain/group-ref';
import { formatDuration } from '../domain/durations';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type DrDrillInput,
  type DrillSummary,
  type FailoverLeg,
  type Outcome,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { probes } from './steps/activity-presets';
import {
  PROBE_INTERVAL_MS,
  describeSmoke,
  finishProbe,
  locateProbe,
  smokeChecks,
  verdictOnLoss,
  type ProbeTally,
  type ProbeTarget,
} from './steps/drill-probe';
import { catchUpBeforeFailback } from './steps/failback-wait';
import { DRILL_RECOVERY_POINTS_PATCH, drillRecoveryPointsStep } from './steps/recovery-points';
import { runPlannedLeg } from './planned-failover';
import { ALREADY_PRIMARY } from './steps/planned-leg';
import { openRunbook } from './steps/opening';
import { RunbookRun } from './steps/runbook-run';
import { declareStage, declareStep, planOf, runStep, type PlannedStep } from './steps/step-declaration';

/**
 * Deprecated patch: the write probe starts once the preflight gates pass, so a drill they refuse has written nothing.
 * Drills started before it started the probe ahead of the preflight; no kept history ran a probe without the marker, so
 * only the new order is left.
 */
export const DRILL_PROBE_AFTER_PREFLIGHT_PATCH = 'drill-probe-after-preflight';

/**
 * A health-check URL whose query string carries a credential-like parameter is refused as InvalidInput. Drills
 * accepted before the rule keep running with the URL they were given (the check happens when the input is validated,
 * first thing in the run, so their replay must not apply it).
 */
export const DRILL_REFUSES_CREDENTIAL_QUERY_PATCH = 'drill-refuses-credential-query';

/**
 * **drDrill**: rehearses disaster recovery end to end and proves it: a planned failover, a soak in the secondary
 * region with smoke checks (a write through the read-write listener; an optional HTTP health check), the failback, and
 * a drill report: RTO each way, application-visible downtime measured by a write probe through the listener, data
 * loss (must be zero: every acknowledged probe write is read back), step timings and ARM calls.
 *
 * Meant for schedules. Its mutating part runs as a child under the group's lock id, so a scheduled drill never
 * overlaps another runbook on the group (it fails `GroupBusy` instead).
 *
 * Side effects: those of two planned failovers (scale-up of a smaller secondary included), plus small writes into
 * `dbo.fogpilot_smoke` of the smoke database through the listener (turn off with `smoke.write: false`).
 *
 * Before the failback it waits, durably, until the group is synchronizing and every database's replication lag is
 * within `maxLagSeconds`, for at most `failbackWaitTimeout` (default 1 hour): a lag after the soak delays the failback
 * rather than failing its preflight. Past that bound the drill ends `failbackPending` — the primary still in the
 * drill's region — with the exact `fogpilot failback` command in its report and warnings.
 *
 * Fails with the failures of `plannedFailover`, or `DrillCheckFailed` when the drill completed (the primary is back
 * home) but a smoke check failed or an acknowledged write was missing.
 */
export async function drDrill(input: DrDrillInput): Promise<RunbookReport> {
  const run = new RunbookRun(RunbookTypes.drDrill, describeGroupRef((input as { group?: unknown } | undefined)?.group));
  // Handlers before anything else, so a query, an abort or a lock holder's status sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    const opened = await openRunbook(run, {
      schema: patched(DRILL_REFUSES_CREDENTIAL_QUERY_PATCH)
        ? DrDrillInputSchema
        : DrDrillInputSchemaBeforeCredentialQueryRule,
      input,
      group: (params) => params.group,
      lock: (params) =>
        params.dryRun
          ? undefined
          : {
              workflowType: RunbookTypes.drDrill,
              args: [input],
              whenBusy:
                params.ifGroupBusy === 'skip'
                  ? (busy) => {
                      run.warn(`${busy.message} The drill was skipped; the next one runs as scheduled.`);
                      return Outcomes.skipped;
                    }
                  : undefined,
            },
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;
    const soakMs = params.soak;
    if (params.dryRun) {
      await runPlannedLeg(run, group, params, { leg: 'failover', stepPrefix: '' });
      run.plan?.push(...planOf(drillAfterFailover, { params, home: run.rolesBefore?.primary }));
      return Outcomes.dryRun;
    }

    const drill: DrillSummary = {
      soakSeconds: soakMs / 1000,
      smokeChecks: [],
      dataLoss: 'not-measured',
      stepTimings: [],
    };
    run.extra.drill = drill;
    if (patched(DRILL_RECOVERY_POINTS_PATCH)) {
      // Before anything changes: with requireRecoveryPoint, a group without a trusted recovery point is not drilled.
      await drillRecoveryPointsStep(run, group, params.requireRecoveryPoint, (part) => {
        drill.recoveryPoints = { groups: [part] };
      });
    }
    const probeTarget = params.smoke.write ? await locateProbe(run, group, params) : undefined;
    const probeScope = new CancellationScope();
    const probe: { run?: Promise<ProbeTally> } = {};
    const startProbe = (): void => {
      if (!probeTarget || probe.run) return;
      probe.run = probeScope.run(() =>
        probes.probeListenerWrites.executeWithOptions({ summary: `write probe through ${probeTarget.listener.host}` }, [
          { ...probeTarget, intervalMs: PROBE_INTERVAL_MS },
        ]),
      );
      // The probe must not outlive the drill, whatever way the drill ends.
      probe.run.catch(() => undefined);
    };
    if (probeTarget) deprecatePatch(DRILL_PROBE_AFTER_PREFLIGHT_PATCH);

    try {
      const failover = await runPlannedLeg(run, group, params, {
        leg: 'failover',
        stepPrefix: '',
        onPreflightPassed: probeTarget ? startProbe : undefined,
      });
      if (failover === ALREADY_PRIMARY) {
        // Only a targetLocation naming the current primary gets here: there is nothing to rehearse from there.
        throw ApplicationFailure.create({
          type: FailureTypes.PreflightFailed,
          nonRetryable: true,
          message:
            `targetLocation: ${run.rolesBefore?.primary} is already primary, so a drill has no failover to rehearse; ` +
            'nothing was changed. Leave targetLocation out: the drill fails over to the current secondary and back.',
        });
      }
      if (!failover || run.abortRequested) return Outcomes.abortedAfterFailover;
      drill.rtoFailoverSeconds = failover.rtoSeconds;

      const after: DrillRun = { run, group, params, failover, drill, probeTarget };
      run.resetPointOfNoReturn();
      await run.beforePointOfNoReturn(() => runStep(run, soakStep, after));
      const ended = await failbackStage.body(after);
      if (ended !== Outcomes.succeeded) return ended;
    } finally {
      await CancellationScope.nonCancellable(async () => {
        if (probeTarget && probe.run) await finishProbe(run, drill, probeTarget, probeScope, probe.run);
        drill.dataLoss = verdictOnLoss(run.legs, drill.probe);
        drill.stepTimings = run.steps
          .filter((entry) => entry.startedAt && entry.endedAt)
          .map((entry) => ({
            name: entry.name,
            seconds: (Date.parse(entry.endedAt!) - Date.parse(entry.startedAt!)) / 1000,
          }));
      });
    }

    const failedChecks = drill.smokeChecks.filter((check) => check.status === 'fail');
    const lost = drill.probe?.lostAcknowledged ?? 0;
    if (failedChecks.length > 0 || lost > 0) {
      throw ApplicationFailure.create({
        type: FailureTypes.DrillCheckFailed,
        nonRetryable: true,
        message:
          `The drill of ${group.displayName} completed and the primary is back in ${run.rolesBefore?.primary}, but ` +
          [
            ...failedChecks.map((check) => `smoke check ${check.name} failed (${check.detail})`),
            ...(lost > 0 ? [`${lost} acknowledged write(s) were missing afterwards`] : []),
          ].join('; ') +
          '. Investigate before relying on this failover path.',
        details: [{ drill }],
      });
    }
    return Outcomes.succeeded;
  });
}

/** What the drill's soak and failback are planned from: its input, and the region it would go back to. */
interface DrillView {
  params: DrDrillParams;
  home?: string;
}

/** The drill after its failover leg. */
interface DrillRun extends DrillView {
  run: RunbookRun;
  group: ResolvedGroup;
  failover: FailoverLeg;
  drill: DrillSummary;
  probeTarget: ProbeTarget | undefined;
}

const soakStep = declareStep<DrillView, DrillRun>({
  name: 'soak',
  title: ({ params, failover }) => `Soak ${formatDuration(params.soak)} in ${failover.to} with smoke checks`,
  plan: ({ params }) =>
    `stay ${formatDuration(params.soak)} in the secondary region with smoke checks (${describeSmoke(params)})`,
  body: async ({ run, params, failover, drill, probeTarget }, step) => {
    const soakMs = params.soak;
    await smokeChecks(run, drill, params, probeTarget, 'soak-start');
    run.setAwaiting('timer', `soaking in ${failover.to} until ${new Date(Date.now() + soakMs).toISOString()}`, {
      preemptible: true,
    });
    await sleep(soakMs, { summary: `soak ${formatDuration(soakMs)} in ${failover.to}` });
    run.clearAwaiting();
    await smokeChecks(run, drill, params, probeTarget, 'soak-end');
    step.evidence({ smokeChecks: drill.smokeChecks });
  },
});

/** Waits for replication to catch up, fails back, and checks again: the drill's way home. */
const failbackStage = declareStage<DrillView, DrillRun, Outcome>({
  name: 'failback',
  plan: ({ params, home }) =>
    `once replication has caught up (every database within ${params.maxLagSeconds}s; at most ` +
    `${formatDuration(params.failbackWaitTimeout)}, else the drill ends failbackPending), ` +
    `the same runbook back to ${home}, then the drill report`,
  body: async ({ run, group, params, failover, drill, probeTarget }) => {
    if (!(await catchUpBeforeFailback(run, group, failover, params, 'The drill'))) return Outcomes.failbackPending;
    const failback = await runPlannedLeg(
      run,
      group,
      { ...params, targetLocation: failover.from },
      { leg: 'failback', stepPrefix: 'failback/' },
    );
    if (!failback || run.abortRequested) return Outcomes.abortedAfterFailover;
    if (failback === ALREADY_PRIMARY)
      run.warn(`${failover.from} was primary again before the failback: none was sent.`);
    else drill.rtoFailbackSeconds = failback.rtoSeconds;
    await smokeChecks(run, drill, params, probeTarget, 'after-failback');
    return Outcomes.succeeded;
  },
});

/** What the drill does after its failover leg, in order: the soak, then the way home. */
export const drillAfterFailover: readonly PlannedStep<DrillView>[] = [soakStep, failbackStage];
