/**
 * The drill's write probe and smoke checks: find the group's read-write listener, write through it for the whole drill,
 * check it at set moments (and an optional HTTP health check), then read back every acknowledged write.
 */
import { ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import type { DrDrillParams } from '../../domain/inputs';
import type { ResolvedGroup } from '../../domain/group-ref';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import { FailureTypes, type DrillProbeRecord, type DrillSummary, type FailoverLeg } from '../definitions';
import { PROBE_ACTIVITY_ID, checks, type probes, reads } from './activity-presets';
import { groupKindOf } from './group-kind';
import { describeFailure, nowIso, type RunbookRun } from './runbook-run';

/** How often the probe writes through the listener (real time): fine enough to measure downtime in seconds. */
export const PROBE_INTERVAL_MS = 1_000;

export interface ProbeTarget {
  listener: SqlInstanceTarget;
  database: string;
  label: string;
}

export type ProbeTally = Awaited<ReturnType<typeof probes.probeListenerWrites>>;

/** A URL as reports and logs show it: without its query, which may carry a token. */
function shownUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : `${url.slice(0, cut)}?…`;
}

export function describeSmoke(params: DrDrillParams): string {
  const parts = [params.smoke.write ? 'a write through the read-write listener' : 'no write'];
  if (params.smoke.httpCheck)
    parts.push(`GET ${shownUrl(params.smoke.httpCheck.url)} expecting ${params.smoke.httpCheck.expectStatus}`);
  return parts.join(', ');
}

/** Finds the group's read-write listener and the database the probe writes to. */
export async function locateProbe(run: RunbookRun, group: ResolvedGroup, params: DrDrillParams): Promise<ProbeTarget> {
  return run.step('locate-listener', "Find the group's read-write listener and the smoke database", async (step) => {
    const kind = groupKindOf(group);
    const roles = await kind.readRoles(group, [group.primaryLocation], `read ${group.name}`, reads);
    const instances = await kind.readMembers(
      [kind.primaryMemberId(roles.views[0]!)],
      'read the primary instance',
      reads,
    );
    const primaryMember = instances.members[0]!;
    const primary = primaryMember.instance;
    const listener = kind.readWriteListener(primaryMember, group);
    const host = listener.host;
    let database = params.smoke.database;
    if (!database) {
      const links = await reads.readReplicationLinks.executeWithOptions({ summary: 'list replicated databases' }, [
        { instance: kind.sqlEndpoint(primaryMember, group) },
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
      listener,
      database,
      label: `drill:${run.groupLabel}:${Date.now()}`,
    };
    step.evidence({ listener: host, database, label: target.label });
    return target;
  });
}

/**
 * Runs recorded before smoke checks ran to their end whatever happened meanwhile: an abort during one cancelled it. A
 * smoke write cancelled mid-way is a write in doubt; and on the time-skipping test server a cancel that meets the
 * check's own completion in one workflow task is refused (ACTIVITY_UNKNOWN), and the run stalls there.
 */
export const SMOKE_CHECKS_RUN_TO_THEIR_END_PATCH = 'drill-smoke-checks-run-to-their-end';

/** The smoke checks at `moment`; short and bounded, they end before an abort or cancellation takes effect. */
export async function smokeChecks(
  run: RunbookRun,
  drill: DrillSummary,
  params: DrDrillParams,
  probeTarget: ProbeTarget | undefined,
  moment: string,
): Promise<void> {
  if (patched(SMOKE_CHECKS_RUN_TO_THEIR_END_PATCH)) {
    await CancellationScope.nonCancellable(() => runSmokeChecks(run, drill, params, probeTarget, moment));
  } else {
    await runSmokeChecks(run, drill, params, probeTarget, moment);
  }
}

async function runSmokeChecks(
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
      { url: http.url, expectStatus: http.expectStatus, timeoutMs: http.timeout },
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
export async function finishProbe(
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

export function verdictOnLoss(legs: FailoverLeg[], probe: DrillProbeRecord | undefined): DrillSummary['dataLoss'] {
  if (probe) return probe.lostAcknowledged > 0 ? 'lost' : 'none';
  // Without a probe, zero loss rests on the copy sync each planned failover proved before it was sent.
  return legs.length > 0 && legs.every((leg) => leg.dataLoss.kind === 'none-proven') ? 'none' : 'not-measured';
}
