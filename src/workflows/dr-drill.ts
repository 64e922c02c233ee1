import { ApplicationFailure, CancellationScope, patched, sleep, workflowInfo, setHandler } from '@temporalio/workflow';
import { DrDrillInputSchema, type DrDrillParams } from '../domain/inputs';
import { describeGroupRef, listenerHost, type ResolvedGroup } from '../domain/group-ref';
import { durationToMs, formatDuration } from '../domain/durations';
import type { SqlInstanceTarget } from '../sql/data-plane';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type DrDrillInput,
  type DrillProbeRecord,
  type DrillSummary,
  type FailoverLeg,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { PROBE_ACTIVITY_ID, checks, probes, reads } from './steps/activity-presets';
import { catchUpBeforeFailback } from './steps/failback-wait';
import { ALREADY_PRIMARY, runPlannedLeg } from './steps/planned-leg';
import { openRunbook } from './steps/opening';
import { RunbookRun, describeFailure, nowIso } from './steps/runbook-run';

/** How often the probe writes through the listener (real time): fine enough to measure downtime in seconds. */
const PROBE_INTERVAL_MS = 1_000;

interface ProbeTarget {
  listener: SqlInstanceTarget;
  database: string;
  label: string;
}

type ProbeTally = Awaited<ReturnType<typeof probes.probeListenerWrites>>;

/**
 * The write probe starts once the preflight gates pass, so a drill they refuse has written nothing; drills started
 * before this patch started it ahead of the preflight.
 */
export const DRILL_PROBE_AFTER_PREFLIGHT_PATCH = 'drill-probe-after-preflight';

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
      schema: DrDrillInputSchema,
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
    const soakMs = durationToMs(params.soak) ?? 0;
    if (params.dryRun) {
      await runPlannedLeg(run, group, params, { leg: 'failover', stepPrefix: '' });
      run.plan?.push(
        {
          step: 'soak',
          action: `stay ${formatDuration(soakMs)} in the secondary region with smoke checks (${describeSmoke(params)})`,
        },
        {
          step: 'failback',
          action:
            `once replication has caught up (every database within ${params.maxLagSeconds}s; at most ` +
            `${formatDuration(durationToMs(params.failbackWaitTimeout) ?? 0)}, else the drill ends failbackPending), ` +
            `the same runbook back to ${run.rolesBefore?.primary}, then the drill report`,
        },
      );
      return Outcomes.dryRun;
    }

    const drill: DrillSummary = {
      soakSeconds: soakMs / 1000,
      smokeChecks: [],
      dataLoss: 'not-measured',
      stepTimings: [],
    };
    run.extra.drill = drill;
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
    const probeAfterPreflight = probeTarget !== undefined && patched(DRILL_PROBE_AFTER_PREFLIGHT_PATCH);
    if (!probeAfterPreflight) startProbe();

    let outcome: typeof Outcomes.succeeded | typeof Outcomes.abortedAfterFailover | typeof Outcomes.failbackPending =
      Outcomes.succeeded;
    try {
      const failover = await runPlannedLeg(run, group, params, {
        leg: 'failover',
        stepPrefix: '',
        onPreflightPassed: probeAfterPreflight ? startProbe : undefined,
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
      if (!failover || run.abortRequested) {
        outcome = Outcomes.abortedAfterFailover;
        return outcome;
      }
      drill.rtoFailoverSeconds = failover.rtoSeconds;

      run.resetPointOfNoReturn();
      await run.beforePointOfNoReturn(() =>
        run.step('soak', `Soak ${formatDuration(soakMs)} in ${failover.to} with smoke checks`, async (step) => {
          await smokeChecks(run, drill, params, probeTarget, 'soak-start');
          run.setAwaiting('timer', `soaking in ${failover.to} until ${new Date(Date.now() + soakMs).toISOString()}`, {
            preemptible: true,
          });
          await sleep(soakMs, { summary: `soak ${formatDuration(soakMs)} in ${failover.to}` });
          run.clearAwaiting();
          await smokeChecks(run, drill, params, probeTarget, 'soak-end');
          step.evidence({ smokeChecks: drill.smokeChecks });
        }),
      );

      if (!(await catchUpBeforeFailback(run, group, failover, params, 'The drill'))) {
        outcome = Outcomes.failbackPending;
        return outcome;
      }
      const failback = await runPlannedLeg(
        run,
        group,
        { ...params, targetLocation: failover.from },
        { leg: 'failback', stepPrefix: 'failback/' },
      );
      if (!failback || run.abortRequested) {
        outcome = Outcomes.abortedAfterFailover;
        return outcome;
      }
      if (failback === ALREADY_PRIMARY)
        run.warn(`${failover.from} was primary again before the failback: none was sent.`);
      else drill.rtoFailbackSeconds = failback.rtoSeconds;
      await smokeChecks(run, drill, params, probeTarget, 'after-failback');
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
    return outcome;
  });
}

/** A URL as reports and logs show it: without its query, which may carry a token. */
function shownUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : `${url.slice(0, cut)}?…`;
}

function describeSmoke(params: DrDrillParams): string {
  const parts = [params.smoke.write ? 'a write through the read-write listener' : 'no write'];
  if (params.smoke.httpCheck)
    parts.push(`GET ${shownUrl(params.smoke.httpCheck.url)} expecting ${params.smoke.httpCheck.expectStatus}`);
  return parts.join(', ');
}

/** Finds the group's read-write listener and the database the probe writes to. */
async function locateProbe(run: RunbookRun, group: ResolvedGroup, params: DrDrillParams): Promise<ProbeTarget> {
  return run.step('locate-listener', "Find the group's read-write listener and the smoke database", async (step) => {
    const roles = await reads.readGroupRoles.executeWithOptions({ summary: `read ${group.name}` }, [
      { group, locations: [group.primaryLocation] },
    ]);
    const instances = await reads.readInstances.executeWithOptions({ summary: 'read the primary instance' }, [
      { instanceIds: [roles.views[0]!.primaryManagedInstanceId] },
    ]);
    const primary = instances.instances[0]!.instance;
    // Both instances of a failover group share one DNS zone; the listener lives in it under the group's name.
    const dnsZone = primary.dnsZone ?? primary.fullyQualifiedDomainName.split('.')[1] ?? '';
    const host = listenerHost(group.name, dnsZone);
    let database = params.smoke.database;
    if (!database) {
      const links = await reads.readReplicationLinks.executeWithOptions({ summary: 'list replicated databases' }, [
        { instance: { instanceId: primary.id, host: primary.fullyQualifiedDomainName, group: group.displayName } },
      ]);
      database = links.links[0]?.database;
      if (!database) {
        throw ApplicationFailure.create({
          type: FailureTypes.ReplicationLinkMissing,
          nonRetryable: true,
          message: `${primary.name} has no replicated database to probe; nothing was changed. Name one with smoke.database.`,
        });
      }
    }
    const target: ProbeTarget = {
      listener: { instanceId: `listener:${group.name}`, host, group: group.displayName },
      database,
      label: `drill:${run.groupLabel}:${Date.now()}`,
    };
    step.evidence({ listener: host, database, label: target.label });
    return target;
  });
}

async function smokeChecks(
  run: RunbookRun,
  drill: DrillSummary,
  params: DrDrillParams,
  probeTarget: ProbeTarget | undefined,
  moment: string,
): Promise<void> {
  if (probeTarget) {
    const result = await checks.smokeWrite.executeWithOptions({ summary: `smoke write (${moment})` }, [
      { listener: probeTarget.listener, database: probeTarget.database, label: `${probeTarget.label}:smoke:${moment}` },
    ]);
    drill.smokeChecks.push({
      name: `write/${moment}`,
      status: result.ok ? 'pass' : 'fail',
      at: nowIso(),
      detail: result.ok
        ? `wrote row ${result.id} into ${probeTarget.database} through ${probeTarget.listener.host} in ${result.latencyMs} ms`
        : `write through ${probeTarget.listener.host} failed: ${result.error}`,
    });
  }
  const http = params.smoke.httpCheck;
  if (http) {
    const result = await checks.httpHealthCheck.executeWithOptions({ summary: `health check (${moment})` }, [
      { url: http.url, expectStatus: http.expectStatus, timeoutMs: durationToMs(http.timeout) ?? 10_000 },
    ]);
    drill.smokeChecks.push({
      name: `http/${moment}`,
      status: result.ok ? 'pass' : 'fail',
      at: nowIso(),
      detail: result.ok
        ? `GET ${shownUrl(http.url)} answered ${result.status} in ${result.latencyMs} ms`
        : `GET ${shownUrl(http.url)}: ${result.error ?? `answered ${result.status}, expected ${http.expectStatus}`}`,
    });
  }
  const failed = drill.smokeChecks.filter((check) => check.status === 'fail' && check.name.endsWith(moment));
  for (const check of failed) run.warn(`Smoke check ${check.name} failed: ${check.detail}`);
}

/** Stops the probe, takes its tally and reads back every acknowledged write. */
async function finishProbe(
  run: RunbookRun,
  drill: DrillSummary,
  target: ProbeTarget,
  scope: CancellationScope,
  probeRun: Promise<ProbeTally>,
): Promise<void> {
  await run.step('verify-writes', 'Stop the write probe and read back every acknowledged write', async (step) => {
    // Cancelled between two attempts, no probe is running to hand back its tally: its last heartbeat, read first,
    // stands in for it. The read is optional; stopping the probe is not.
    const { workflowId, runId } = workflowInfo();
    let checkpoint: { tally?: ProbeTally } = {};
    try {
      checkpoint = await checks.readProbeCheckpoint.executeWithOptions({ summary: "read the probe's last heartbeat" }, [
        { workflowId, runId, activityId: PROBE_ACTIVITY_ID },
      ]);
    } catch (error) {
      step.evidence({ checkpointUnreadable: describeFailure(error).message });
    } finally {
      scope.cancel();
    }
    let tally: ProbeTally;
    try {
      tally = await probeRun;
    } catch (error) {
      if (!checkpoint.tally) {
        run.warn(
          `The write probe did not hand back its tally (${describeFailure(error).message}); downtime not measured.`,
        );
        return;
      }
      tally = checkpoint.tally;
      step.evidence({ tallyFrom: 'last heartbeat (the probe was between attempts when stopped)' });
    }
    const verified = await reads.verifyProbeWrites.executeWithOptions({ summary: 'read back the probe writes' }, [
      {
        listener: target.listener,
        database: target.database,
        label: target.label,
        acknowledgedSeqs: tally.acknowledgedSeqs,
        inDoubtSeqs: tally.inDoubtSeqs,
      },
    ]);
    const windows = tally.windows.map((window) => ({
      from: new Date(window.fromMs).toISOString(),
      to: new Date(window.toMs).toISOString(),
      seconds: Math.round((window.toMs - window.fromMs) / 100) / 10,
    }));
    const probe: DrillProbeRecord = {
      database: target.database,
      listener: target.listener.host,
      attempted: tally.attempted,
      acknowledged: tally.acknowledgedSeqs.length,
      inDoubt: tally.inDoubtSeqs.length,
      refused: tally.refused,
      downtimeSeconds: Math.round(windows.reduce((sum, window) => sum + window.seconds, 0) * 10) / 10,
      windows,
      lostAcknowledged: verified.lostAcknowledgedSeqs.length,
      errors: tally.errors,
    };
    drill.probe = probe;
    step.evidence({ ...probe, present: verified.present, inDoubtCommitted: verified.inDoubtCommittedSeqs.length });
  });
}

function verdictOnLoss(legs: FailoverLeg[], probe: DrillProbeRecord | undefined): DrillSummary['dataLoss'] {
  if (probe) return probe.lostAcknowledged > 0 ? 'lost' : 'none';
  // Without a probe, zero loss rests on the copy sync each planned failover proved before it was sent.
  return legs.length > 0 && legs.every((leg) => leg.dataLoss.kind === 'none-proven') ? 'none' : 'not-measured';
}
