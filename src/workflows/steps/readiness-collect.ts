/**
 * Reads everything the readiness checks judge, once, with read-only activities: the group at both locations, both
 * instances with their operations in flight, the replication links on the primary, logins and SQL Agent jobs on both
 * instances, backups on the primary, and long-term retention policies on both. The planned failover's preflight reuses
 * the drift half ({@link collectDriftReadings}) on top of what it has already read.
 */
import { isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, InstanceReading } from '../../activities';
import type { DatabaseReplicationLink, ManagedInstanceView } from '../../domain/azure-state';
import type { ResolvedGroup } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import type { GateResult } from '../definitions';
import type { PreflightSnapshot } from './preflight';
import {
  DEFAULT_MAX_RESTORE_POINT_AGE_MS,
  evaluateDriftChecks,
  type DriftReadings,
  type PairReading,
  type RetentionPolicyReading,
} from './readiness';
import { metered } from './arm-meter';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './activity-presets';
import { groupKindOf } from './group-kind';
import { describeFailure, nowIso, type RunbookRun, type StepHandle } from './runbook-run';

const RETRY = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' } as const;

/**
 * Reads of the group and its instances for a readiness check: bounded to 5 minutes, so one unreachable group ends
 * as a `fail` verdict instead of holding a check of the whole inventory for the 15 minutes a runbook waits.
 */
const readinessReads = metered(
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: '5 minutes',
    retry: RETRY,
  }),
);

/** Drift reads only inform (they never decide a failover): a short bound, then the check reports "not compared". */
const driftReads = metered(
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: '2 minutes',
    retry: RETRY,
  }),
);

/** The value, or what went wrong as one line (cancellation still cancels). */
async function settle<T>(read: Promise<T>): Promise<T | string> {
  try {
    return await read;
  } catch (error) {
    if (isCancellation(error)) throw error;
    const failure = describeFailure(error);
    return `${failure.type}: ${failure.message}`;
  }
}

async function pair<T>(primary: Promise<T[]>, secondary: Promise<T[]>): Promise<PairReading<T>> {
  const [onPrimary, onSecondary] = await Promise.all([settle(primary), settle(secondary)]);
  return { primary: onPrimary, secondary: onSecondary };
}

export interface DriftReadOptions {
  /** Read the long-term retention policies (one ARM read per database and instance; Managed Instance groups only). */
  retention: boolean;
}

/**
 * Reads logins and SQL Agent jobs on both instances, the backup history of the primary and, when asked, the LTR
 * policies of both, all at once. SQL reads only unless `retention`. Never fails: a read that fails is reported in its
 * slot as a string, and the check that needs it says it could not compare.
 */
export async function collectDriftReadings(
  run: RunbookRun,
  group: ResolvedGroup,
  primaryMember: InstanceReading,
  secondaryMember: InstanceReading,
  links: DatabaseReplicationLink[] | string,
  options: DriftReadOptions,
): Promise<DriftReadings> {
  const kind = groupKindOf(group);
  const primary = primaryMember.instance;
  const secondary = secondaryMember.instance;
  const onPrimary = { instance: kind.sqlEndpoint(primaryMember, group) };
  const onSecondary = { instance: kind.sqlEndpoint(secondaryMember, group) };
  const linked = typeof links === 'string' ? [] : links;
  const retention = async (): Promise<PairReading<RetentionPolicyReading> | undefined> => {
    // Server groups' LTR policies are per database and not read (their ltr-policy check says so).
    if (!options.retention || kind.kind === 'sqlDatabase') return undefined;
    if (typeof links === 'string') {
      const why = `the databases are not known (${links})`;
      return { primary: why, secondary: why };
    }
    const read = async (instance: ManagedInstanceView, databases: string[]): Promise<RetentionPolicyReading[]> => {
      if (databases.length === 0) return [];
      const result = await driftReads.readRetentionPolicies.executeWithOptions(
        { summary: `long-term retention policies on ${instance.name}` },
        [{ instanceId: instance.id, databases }],
      );
      return result.policies;
    };
    return pair(
      read(
        primary,
        linked.map((link) => link.database),
      ),
      read(
        secondary,
        linked.map((link) => link.partnerDatabase || link.database),
      ),
    );
  };
  const [logins, jobs, backups, policies] = await Promise.all([
    pair(
      driftReads.readLogins
        .executeWithOptions({ summary: `logins on ${primary.name}` }, [onPrimary])
        .then((result) => result.logins),
      driftReads.readLogins
        .executeWithOptions({ summary: `logins on ${secondary.name}` }, [onSecondary])
        .then((result) => result.logins),
    ),
    pair(
      driftReads.readAgentJobs
        .executeWithOptions({ summary: `SQL Agent jobs on ${primary.name}` }, [onPrimary])
        .then((result) => result.jobs),
      driftReads.readAgentJobs
        .executeWithOptions({ summary: `SQL Agent jobs on ${secondary.name}` }, [onSecondary])
        .then((result) => result.jobs),
    ),
    settle(
      driftReads.readLatestBackups
        .executeWithOptions({ summary: `backup history on ${primary.name}` }, [onPrimary])
        .then((result) => result.backups),
    ),
    retention(),
  ]);
  return { logins, jobs, backups, ...(policies ? { retention: policies } : {}), readAt: nowIso() };
}

/** Everything a readiness check of one group judges. */
export interface ReadinessCollection {
  snapshot: PreflightSnapshot;
  /** Absent when the roles do not say which instance is primary. */
  drift?: DriftReadings;
}

/**
 * Reads one group for a readiness check, as a planned failover to its current secondary would see it, plus the drift
 * readings. Read-only. ARM reads that fail (group not found, ARM down beyond 5 minutes) fail the collection; SQL
 * reads that fail are reported in the snapshot, where the gates and checks that need them fail or warn.
 */
export async function collectReadiness(
  run: RunbookRun,
  group: ResolvedGroup,
  params: { maxLagSeconds: number },
  step: StepHandle,
): Promise<ReadinessCollection> {
  const locations = [group.primaryLocation, group.secondaryLocation];
  const kind = groupKindOf(group);
  const roles = await kind.readRoles(
    group,
    locations,
    `read ${group.name} at ${locations.join(' and ')}`,
    readinessReads,
  );
  step.evidence({ roles: roles.summary.detail });
  const instances = await kind.readMembers(
    kind.memberIdsOf(roles),
    `read the instances of ${group.name}`,
    readinessReads,
  );
  const at = (location: string | undefined): InstanceReading | undefined =>
    location ? instances.members.find((entry) => normalizeLocation(entry.instance.location) === location) : undefined;
  const primary = at(roles.summary.primaryLocation);
  const secondary = at(roles.summary.secondaryLocation);

  let links: DatabaseReplicationLink[] | string = 'the primary is not known while the roles disagree';
  if (primary) {
    const reading = await settle(
      readinessReads.readReplicationLinks.executeWithOptions(
        { summary: `read replication links on ${primary.instance.name}` },
        [{ instance: kind.sqlEndpoint(primary, group) }],
      ),
    );
    links = typeof reading === 'string' ? reading : reading.links;
  }
  const drift =
    primary && secondary
      ? await collectDriftReadings(run, group, primary, secondary, links, { retention: true })
      : undefined;
  step.evidence({
    primary: primary?.instance.name ?? null,
    secondary: secondary?.instance.name ?? null,
    databases: typeof links === 'string' ? links : links.map((link) => link.database),
    unread: drift ? unreadSlots(drift) : [],
  });
  return {
    snapshot: {
      views: roles.views,
      summary: roles.summary,
      targetLocation: roles.summary.secondaryLocation ?? group.secondaryLocation,
      primary,
      secondary,
      links,
      maxLagSeconds: params.maxLagSeconds,
      scaleSecondary: 'match',
    },
    drift,
  };
}

/** Which drift readings failed, for the step's evidence. */
function unreadSlots(drift: DriftReadings): string[] {
  const slots: [string, unknown][] = [
    ['logins on the primary', drift.logins.primary],
    ['logins on the secondary', drift.logins.secondary],
    ['jobs on the primary', drift.jobs.primary],
    ['jobs on the secondary', drift.jobs.secondary],
    ['backups on the primary', drift.backups],
    ['LTR policies on the primary', drift.retention?.primary],
    ['LTR policies on the secondary', drift.retention?.secondary],
  ];
  return slots.filter(([, value]) => typeof value === 'string').map(([name, value]) => `${name}: ${String(value)}`);
}

/** Runs started before the drift checks joined the preflight replay without their reads. */
export const PREFLIGHT_DRIFT_PATCH = 'preflight-drift-checks';

/**
 * The drift checks in a planned failover's preflight: SQL reads only (logins, jobs, backups; the configuration and the
 * failover policy come from the ARM reads the preflight already made; LTR policies are left to `readinessCheck`).
 * They never block a failover: each check that does not pass becomes a warning of the run and a `warn` entry among
 * its gates (its own verdict kept in `evidence.readinessStatus`). Sizes are left to the `secondary-size` gate.
 */
export async function preflightDriftChecks(
  run: RunbookRun,
  group: ResolvedGroup,
  snapshot: PreflightSnapshot,
): Promise<GateResult[]> {
  if (!snapshot.primary || !snapshot.secondary || !patched(PREFLIGHT_DRIFT_PATCH)) return [];
  const drift = await readPreflightDrift(run, group, snapshot.primary, snapshot.secondary, snapshot.links);
  return judgePreflightDrift(run, snapshot, drift);
}

/** The drift readings of a preflight (no retention policies: those are `readinessCheck`'s). */
export function readPreflightDrift(
  run: RunbookRun,
  group: ResolvedGroup,
  primary: InstanceReading,
  secondary: InstanceReading,
  links: DatabaseReplicationLink[] | string,
): Promise<DriftReadings> {
  return collectDriftReadings(run, group, primary, secondary, links, { retention: false });
}

/** The drift checks of a preflight, judged on readings made while the preflight read its links. */
export function judgePreflightDrift(run: RunbookRun, snapshot: PreflightSnapshot, drift: DriftReadings): GateResult[] {
  const checks = evaluateDriftChecks(snapshot, drift, {
    maxRestorePointAgeMs: DEFAULT_MAX_RESTORE_POINT_AGE_MS,
    sizes: false,
  });
  const notPassing = checks.filter((check) => check.status !== 'pass');
  for (const check of notPassing) {
    run.warn(`[${check.name}] ${check.message}${check.action ? ` → ${check.action}` : ''}`);
  }
  return notPassing.map((check) => ({
    ...check,
    status: 'warn',
    evidence: { ...check.evidence, readinessStatus: check.status },
  }));
}
