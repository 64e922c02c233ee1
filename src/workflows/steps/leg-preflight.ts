/**
 * The first step of a planned failover leg: read the group at both locations, then check every gate. Nothing is
 * changed; a gate that fails stops the leg (a dry run reports it instead).
 */
import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import type { GroupRolesReading, InstanceReading } from '../../activities';
import type { DatabaseReplicationLink } from '../../domain/azure-state';
import { isServerGroup, partnerOf, serverAt, serverLocations } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import { FailureTypes, type GateResult } from '../definitions';
import { reads } from './activity-presets';
import { groupKindOf } from './group-kind';
import { statesIntent } from './intent';
import type { AlreadyPrimaryReading, LegStart, LegView, PreflightResult } from './planned-leg';
import { evaluatePlannedFailoverGates, type PreflightSnapshot } from './preflight';
import {
  PREFLIGHT_DRIFT_PATCH,
  judgePreflightDrift,
  preflightDriftChecks,
  readPreflightDrift,
} from './readiness-collect';
import type { DriftReadings } from './readiness';
import {
  FAILBACK_READ_PLAN_PATCH,
  READ_PLAN_PATCH,
  answersPreflight,
  driftCheckedMsAgo,
  recentLinks,
  rememberDriftChecked,
  rememberLinks,
  recentRoles,
  rememberInstances,
  rememberRoles,
  type TimedRoles,
} from './recent-reads';
import type { RunbookRun, StepHandle } from './runbook-run';
import { declareStep } from './step-declaration';
import { targetPrimaryAlone } from './target-side';

/**
 * Runs recorded before a target found already primary while the group reseeds counted as "met": Azure's automatic
 * failover (or anyone's forced one) leaves the old primary to be reseeded when its region returns, and the run then
 * stopped at the seeding gate instead of saying the roles had been changed outside it.
 */
export const ALREADY_PRIMARY_WHILE_RESEEDING_PATCH = 'already-primary-while-reseeding';

export const preflightStep = declareStep<LegView, LegStart, PreflightResult | AlreadyPrimaryReading>({
  name: 'preflight',
  title: () => 'Read the group at both locations and check every gate',
  plan: ({ preflight }) => {
    const blocked = preflight?.gates.filter((entry) => entry.status === 'fail') ?? [];
    if (blocked.length === 0) return undefined;
    return {
      stopsHere: `blocked by ${blocked.map((entry) => entry.name).join(', ')}: the runbook would stop here and change nothing`,
    };
  },
  body: readAndEvaluate,
});

async function readAndEvaluate(
  { run, group, params }: LegStart,
  step: StepHandle,
): Promise<PreflightResult | AlreadyPrimaryReading> {
  const kind = groupKindOf(group);
  const locations = [group.primaryLocation, group.secondaryLocation];
  let roles: GroupRolesReading;
  let rolesReadAtMs = Date.now();
  try {
    const planned = patched(READ_PLAN_PATCH) ? await rolesFromReadPlan(group, params, step) : undefined;
    if (planned) ({ reading: roles, atMs: rolesReadAtMs } = planned);
    else {
      roles = await kind.readRoles(group, locations, `read ${group.name} at ${locations.join(' and ')}`);
      rolesReadAtMs = Date.now();
    }
  } catch (failed) {
    // A target fixed by the run's intent may answer alone while the other region is dark: its own answer decides.
    const fixed = params.targetLocation ? normalizeLocation(params.targetLocation) : undefined;
    if (!statesIntent() || !fixed || !locations.includes(fixed)) throw failed;
    const from = partnerOf(group, fixed);
    const met = await targetPrimaryAlone(run, step, {
      group,
      target: fixed,
      from,
      writableTimeoutMs: params.writableTimeout,
      failed,
    });
    step.evidence({ roles: met.rolesDetail, target: fixed, alreadyPrimary: true });
    return {
      alreadyPrimary: true,
      target: fixed,
      from,
      rolesDetail: met.rolesDetail,
      partnerUnreadable: met.failedRead,
    };
  }
  const target = params.targetLocation
    ? normalizeLocation(params.targetLocation)
    : (roles.summary.secondaryLocation ?? group.secondaryLocation);
  if (!locations.includes(target)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: ${target} is not a location of group ${group.displayName} (${locations.join(', ')}). ` +
        'Name the secondary region, or leave targetLocation out to fail over to the current secondary.',
    });
  }
  const from = partnerOf(group, target);
  const targetIsPrimary = statesIntent() && roles.summary.consistent && roles.summary.primaryLocation === target;
  const reseeding =
    targetIsPrimary && roles.summary.status === 'seeding' && patched(ALREADY_PRIMARY_WHILE_RESEEDING_PATCH);
  if ((targetIsPrimary && roles.summary.status === 'synchronizing') || reseeding) {
    // The intent is met already; anything else about the group is for a readiness check, not for this run.
    step.evidence({ roles: roles.summary.detail, target, alreadyPrimary: true, reseeding });
    if (reseeding) {
      run.warn(
        `${target} is already primary and ${from} is being reseeded as its secondary: the roles were changed outside ` +
          'this run (a forced failover, or Azure failing the group over by itself under the Automatic policy), and ' +
          `whatever ${from} had not replicated is gone. Nothing was sent.`,
      );
    }
    return { alreadyPrimary: true, target, from, rolesDetail: roles.summary.detail, reseeding };
  }

  const instances = await kind.readMembers(kind.memberIdsOf(roles), 'read both managed instances');
  rememberRoles(roles, rolesReadAtMs);
  rememberInstances(instances.members);
  const at = (location: string | undefined): InstanceReading | undefined =>
    location
      ? instances.members.find((entry) => normalizeLocation(kind.describeMember(entry).location) === location)
      : undefined;
  const primary = at(roles.summary.primaryLocation);
  const secondary = at(roles.summary.secondaryLocation);

  // The failback read plan: the drift reads go out with the links read (they need only the endpoints), and the links
  // stand on a reading of this run made moments ago (the post-checks', after the switch) when there is one.
  const failbackPlan = patched(FAILBACK_READ_PLAN_PATCH);
  const drift = failbackPlan ? startDriftReads(run, group, primary, secondary, step) : undefined;
  let links: DatabaseReplicationLink[] | string = 'the primary is not known while the roles disagree';
  if (primary) {
    const known = failbackPlan ? recentLinks(primary.instance.id) : undefined;
    if (known) {
      links = linksToward(group, target, known.links);
      step.evidence({ linksReadMsAgo: Date.now() - known.atMs });
    } else {
      const reading = await settledWith(
        reads.readReplicationLinks.executeWithOptions(
          { summary: `read replication links on ${primary.instance.name}` },
          [{ instance: kind.sqlEndpoint(primary, group) }],
        ),
        drift,
      );
      links = linksToward(group, target, reading.links);
      if (failbackPlan) rememberLinks(primary.instance.id, links);
    }
  }

  const snapshot: PreflightSnapshot = {
    views: roles.views,
    summary: roles.summary,
    targetLocation: target,
    primary,
    secondary,
    links,
    maxLagSeconds: params.maxLagSeconds,
    scaleSecondary: params.scaleSecondary,
  };
  // The gates decide; the drift checks after them only warn.
  const driftGates = drift
    ? await judgeDriftReads(run, snapshot, drift)
    : await preflightDriftChecks(run, group, snapshot);
  const gates = [...evaluatePlannedFailoverGates(snapshot), ...driftGates];
  if (!run.gates) run.gates = gates;
  step.evidence({
    roles: roles.summary.detail,
    target,
    gates: gates.map((entry) => ({ name: entry.name, status: entry.status, message: entry.message })),
  });
  const failed = gates.filter((entry) => entry.status === 'fail');
  if (failed.length > 0 && !params.dryRun) {
    throw ApplicationFailure.create({
      type: FailureTypes.PreflightFailed,
      nonRetryable: true,
      message:
        `Preflight failed for ${group.displayName}; nothing was changed. ` +
        failed.map((entry) => `[${entry.name}] ${entry.message}${entry.action ? ` → ${entry.action}` : ''}`).join(' '),
      details: [{ gates }],
    });
  }
  if (!primary || !secondary) {
    // Only a dry run gets here with unknown instances: the failed gates say why.
    return {
      group,
      snapshot,
      gates,
      from,
      target,
      primary: primary ?? secondary!,
      secondary: secondary ?? primary!,
      links: [],
    };
  }
  return {
    group,
    snapshot,
    gates,
    from,
    target,
    primary,
    secondary,
    links: typeof links === 'string' ? [] : links,
    rolesReadAtMs,
  };
}

/**
 * The roles as the read plan gets them: a reading of this run at most {@link FRESH_ENOUGH_MS} old (the failback's
 * catch-up wait just read them), else one read at the target, whose view names the partner's role too. Either only
 * when it shows the target secondary and the group synchronizing: anything else (the target primary already, a
 * failover in progress, a view without the partner's role) is left to the read at both locations, as before, so that
 * "already primary" is never decided on the old primary's perspective alone during the role-flip skew.
 */
async function rolesFromReadPlan(
  group: LegStart['group'],
  params: LegStart['params'],
  step: StepHandle,
): Promise<TimedRoles | undefined> {
  if (!params.targetLocation) return undefined;
  const target = normalizeLocation(params.targetLocation);
  const recent = recentRoles();
  if (recent && answersPreflight(recent.reading, target)) {
    step.evidence({ rolesReadMsAgo: Date.now() - recent.atMs });
    return recent;
  }
  let reading: GroupRolesReading;
  try {
    reading = await groupKindOf(group).readRoles(group, [target], `read ${group.name} at ${target}`);
  } catch (error) {
    if (isCancellation(error)) throw error;
    return undefined;
  }
  return answersPreflight(reading, target) ? { reading, atMs: Date.now() } : undefined;
}

/**
 * Starts a preflight's drift reads, unless a leg of this run made them on this pair within
 * {@link DRIFT_FRESH_ENOUGH_MS} (a failback after its failover: they only warn, and the failover leg warned).
 * `undefined` readings: none were needed.
 */
function startDriftReads(
  run: RunbookRun,
  group: LegStart['group'],
  primary: InstanceReading | undefined,
  secondary: InstanceReading | undefined,
  step: StepHandle,
): Promise<DriftReadings | undefined> | undefined {
  if (!primary || !secondary || !patched(PREFLIGHT_DRIFT_PATCH)) return undefined;
  const pair: [string, string] = [primary.instance.id, secondary.instance.id];
  const checkedMsAgo = driftCheckedMsAgo(pair);
  if (checkedMsAgo !== undefined) {
    step.evidence({ driftCheckedMsAgo: checkedMsAgo });
    return Promise.resolve(undefined);
  }
  const reading = readPreflightDrift(run, group, primary, secondary, 'not needed: no retention policies here').then(
    (drift) => {
      rememberDriftChecked(pair);
      return drift;
    },
  );
  // Handled here too: should the run be cancelled while the links read is out, the step ends with that, and this
  // promise, never awaited then, is no unhandled rejection.
  reading.catch(() => undefined);
  return reading;
}

/**
 * The links read's answer; when it fails, the failure once the drift reads sent beside it have ended too. A step that
 * failed with reads still out would leave them running past it (past the workflow, should it end there), and a
 * time-skipping server then stops skipping until they end. Drift reads never fail (each slot says what went wrong),
 * and their bound is theirs: two minutes.
 */
async function settledWith<T>(read: Promise<T>, alongside: Promise<unknown> | undefined): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (alongside && !isCancellation(error)) await alongside.catch(() => undefined);
    throw error;
  }
}

async function judgeDriftReads(
  run: RunbookRun,
  snapshot: PreflightSnapshot,
  drift: Promise<DriftReadings | undefined>,
): Promise<GateResult[]> {
  const readings = await drift;
  return readings ? judgePreflightDrift(run, snapshot, readings) : [];
}

/**
 * The links a leg toward `target` stands on. A server group's primary links each database to every secondary; a leg
 * proves sync and judges lag toward the server it fails over to only. A Managed Instance group has one partner.
 */
function linksToward(
  group: LegStart['group'],
  target: string,
  links: DatabaseReplicationLink[],
): DatabaseReplicationLink[] {
  if (!isServerGroup(group) || serverLocations(group).length <= 2) return links;
  const server = serverAt(group, target).toLowerCase();
  return links.filter((link) => link.partnerServer.toLowerCase().split('.')[0] === server);
}
