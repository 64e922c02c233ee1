/**
 * Before a failback: wait until replication has caught up. Right after a failover (a drill's soak, `failback.after`)
 * the old primary may still be catching up; a failback preflight run then fails its lag gate and leaves production in
 * the DR region. Waiting — durably, bounded — for what that gate needs turns a lag spike into a delay, not a stranding.
 */
import { isCancellation, patched, sleep } from '@temporalio/workflow';
import type { GroupRolesReading, InstanceReading } from '../../activities';
import type { DatabaseReplicationLink } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import type { Milliseconds } from '../../domain/inputs';
import type { ResolvedGroup } from '../../domain/group-ref';
import { failbackCommand } from '../../domain/next-steps';
import { partnerReads, reads } from './activity-presets';
import { groupKindOf } from './group-kind';
import { lagGate } from './preflight';
import {
  FAILBACK_READ_PLAN_PATCH,
  READ_PLAN_PATCH,
  knownInstances,
  recentLinks,
  recentRoles,
  rememberLinks,
  rememberRoles,
} from './recent-reads';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';
import { ALREADY_PRIMARY_PARTNER_UNREADABLE_PATCH, readTargetOnly, readsPrimary } from './target-side';

/**
 * Runs recorded before a failback waited for replication to catch up: a drill and a plannedFailover with `failback`
 * ran the failback preflight at once, and `failback` waited for synchronizing only, not for the lag.
 */
export const FAILBACK_WAITS_FOR_LAG_PATCH = 'failback-waits-for-lag';

/** The first pause between two looks while a drill or a failover waits to fail back; it doubles up to the cap. */
const FIRST_LOOK_INTERVAL_MS = 30_000;
const MAX_LOOK_INTERVAL_MS = 5 * 60_000;

/** One look at whether a failback toward `home` may start. */
export interface CatchUpReading {
  /** Synchronizing, and every database's lag within `maxLagSeconds` (or `home` already primary). */
  ready: boolean;
  /** The roles, when ARM answered. */
  roles?: GroupRolesReading;
  /** What was read, in a line a person can act on. */
  detail: string;
  /** Each database's lag as read on the current primary, when it was read. */
  lags?: { database: string; lagSeconds: number | null }[];
  /** The roles were not read for this look: a reading of this run this many ms old answered (the read plan). */
  rolesReadMsAgo?: number;
  /** The links were not read for this look: the post-checks' reading, this many ms old, answered. */
  linksReadMsAgo?: number;
}

/** Instance readings by id: a failback wait reads the primary instance once, not at every look. */
export type InstanceCache = Map<string, InstanceReading>;

/**
 * Reads the group at both locations and, when it is synchronizing with `home` still secondary, the replication links on
 * the current primary (as the preflight does). A read that fails is a "not yet": the wait goes on.
 */
export async function readCatchUp(
  run: RunbookRun,
  group: ResolvedGroup,
  home: string,
  maxLagSeconds: number,
  instances: InstanceCache,
): Promise<CatchUpReading> {
  const kind = groupKindOf(group);
  let roles: GroupRolesReading;
  // The read plan: roles this run read moments ago (the failover's post-checks) answer this look as well.
  const recent = patched(READ_PLAN_PATCH) ? recentRoles() : undefined;
  try {
    if (recent?.reading.summary.consistent && recent.reading.summary.status === 'synchronizing') {
      roles = recent.reading;
    } else {
      roles = await kind.readRoles(
        group,
        [group.primaryLocation, group.secondaryLocation],
        'read the group at both locations',
        reads,
      );
      if (patched(READ_PLAN_PATCH)) rememberRoles(roles);
    }
  } catch (error) {
    if (isCancellation(error)) throw error;
    const detail = `the group could not be read (${describeFailure(error).message})`;
    // Home may answer alone, primary already (a failover outside this run while the other region is dark): the
    // failback's preflight then decides on home's own answer. A dark home answers nothing: waiting is what this is for.
    if (!patched(ALREADY_PRIMARY_PARTNER_UNREADABLE_PATCH)) return { ready: false, detail };
    try {
      const alone = await readTargetOnly(group, home, partnerReads);
      if (readsPrimary(alone.view)) {
        return {
          ready: true,
          roles: alone.roles,
          detail: `${detail}; ${home} alone reads ${alone.roles.summary.detail}`,
        };
      }
    } catch (homeError) {
      if (isCancellation(homeError)) throw homeError;
    }
    return { ready: false, detail };
  }
  const summary = roles.summary;
  if (!summary.consistent || summary.status !== 'synchronizing') {
    return { ready: false, roles, detail: `not synchronizing (${summary.detail})` };
  }
  // Home already primary: nothing will be sent, so the lag does not matter.
  if (summary.primaryLocation === home) return { ready: true, roles, detail: summary.detail };

  let links: DatabaseReplicationLink[];
  let linksReadMsAgo: number | undefined;
  try {
    const primaryId = kind.primaryMemberId(roles.views[0]!);
    // The failback read plan: links the failover's post-checks read on this primary moments ago answer this look.
    const known = patched(FAILBACK_READ_PLAN_PATCH) ? recentLinks(primaryId) : undefined;
    if (known) {
      links = known.links;
      linksReadMsAgo = Date.now() - known.atMs;
    } else {
      let primary = instances.get(primaryId.toLowerCase());
      if (!primary) {
        const reading = await kind.readMembers([primaryId], 'read the primary instance', reads);
        primary = reading.members[0]!;
        instances.set(primaryId.toLowerCase(), primary);
      }
      const reading = await reads.readReplicationLinks.executeWithOptions(
        { summary: `read replication lag on ${primary.instance.name}` },
        [{ instance: kind.sqlEndpoint(primary, group) }],
      );
      links = reading.links;
      if (patched(FAILBACK_READ_PLAN_PATCH)) rememberLinks(primary.instance.id, links);
    }
  } catch (error) {
    if (isCancellation(error)) throw error;
    return { ready: false, roles, detail: `replication lag could not be read (${describeFailure(error).message})` };
  }
  const lag = lagGate(links, maxLagSeconds);
  const lags = links.map((link) => ({ database: link.database, lagSeconds: link.lagSeconds }));
  const reused = {
    ...(roles === recent?.reading ? { rolesReadMsAgo: Date.now() - recent.atMs } : {}),
    ...(linksReadMsAgo !== undefined ? { linksReadMsAgo } : {}),
  };
  return { ready: lag.status === 'pass', roles, lags, detail: `${summary.detail}; ${lag.message}`, ...reused };
}

/** The failback wait ran out: what it read last and how long it waited. */
export interface CatchUpTimedOut {
  ready: false;
  last: CatchUpReading;
  waitedMs: number;
}

/** Thrown inside the wait step so the step reads `failed`; caught by {@link awaitCatchUp}. */
class CatchUpWaitExpired extends Error {}

/**
 * Waits, durably and for at most `timeoutMs`, until a failback toward `home` may start: the group synchronizing and
 * every database's replication lag within `maxLagSeconds`. Looks every 30 s at first, backing off to every 5 minutes.
 * Records a step named `stepName`; it reads `failed` when the wait ran out, and the runbook decides what then.
 */
export async function awaitCatchUp(
  run: RunbookRun,
  group: ResolvedGroup,
  request: { home: string; maxLagSeconds: number; timeoutMs: number; stepName: string },
): Promise<{ ready: true; roles: GroupRolesReading } | CatchUpTimedOut> {
  const { home, maxLagSeconds, timeoutMs } = request;
  let expired: CatchUpTimedOut | undefined;
  try {
    return await run.step(
      request.stepName,
      `Wait until replication has caught up (every database within ${maxLagSeconds}s) before failing back to ${home}`,
      async (step: StepHandle) => {
        // Inside beforePointOfNoReturn (its callers'): an emergency may pre-empt it, as it may the soak before it.
        run.setAwaiting('azure', `waiting for replication to catch up before failing back to ${home}`, {
          preemptible: true,
        });
        const startedAt = Date.now();
        const instances: InstanceCache = new Map();
        // The instances' endpoints, which is all a look needs of them, are what the failover's preflight read.
        if (patched(READ_PLAN_PATCH)) {
          for (const known of knownInstances()) instances.set(known.instance.id.toLowerCase(), known);
        }
        let intervalMs = FIRST_LOOK_INTERVAL_MS;
        for (let look = 1; ; look++) {
          const reading = await readCatchUp(run, group, home, maxLagSeconds, instances);
          const waitedMs = Date.now() - startedAt;
          step.evidence({
            looks: look,
            waitedMs,
            detail: reading.detail,
            lags: reading.lags,
            ...(reading.rolesReadMsAgo === undefined ? {} : { rolesReadMsAgo: reading.rolesReadMsAgo }),
            ...(reading.linksReadMsAgo === undefined ? {} : { linksReadMsAgo: reading.linksReadMsAgo }),
          });
          if (reading.ready && reading.roles) {
            run.clearAwaiting();
            return { ready: true as const, roles: reading.roles };
          }
          if (waitedMs >= timeoutMs) {
            run.clearAwaiting();
            expired = { ready: false, last: reading, waitedMs };
            throw new CatchUpWaitExpired(
              `replication had not caught up after ${formatDuration(waitedMs)}: ${reading.detail}`,
            );
          }
          await sleep(Math.min(intervalMs, timeoutMs - waitedMs), {
            summary: `wait for replication to catch up before failing back to ${home}`,
          });
          intervalMs = Math.min(intervalMs * 2, MAX_LOOK_INTERVAL_MS);
        }
      },
    );
  } catch (error) {
    if (error instanceof CatchUpWaitExpired && expired) return expired;
    throw error;
  }
}

/**
 * Ends a run's failback as pending: records where the primary stays and the exact command that fails back, in the
 * report and as a warning. The run then ends `failbackPending`.
 */
export function failbackPending(
  run: RunbookRun,
  group: ResolvedGroup,
  pending: {
    primary: string;
    home: string;
    maxLagSeconds: number;
    reason: string;
    waitedMs: number;
    /** The run, as the warning names it: "The drill", "The failover". */
    what: string;
  },
): void {
  const command = failbackCommand(group, pending.home, pending.maxLagSeconds);
  run.rolesAfter = { primary: pending.primary, secondary: pending.home };
  run.extra.failbackPending = {
    primary: pending.primary,
    home: pending.home,
    command,
    reason: pending.reason,
    waitedSeconds: Math.round(pending.waitedMs / 1000),
  };
  run.warn(
    `${pending.what} failed over to ${pending.primary} but did not fail back: replication had not caught up after ` +
      `${formatDuration(pending.waitedMs)} (${pending.reason}). The primary is still in ${pending.primary}; nothing ` +
      `was sent toward ${pending.home}. Fail back with \`${command}\`: it waits until every database is within ` +
      `${pending.maxLagSeconds}s, then fails over, and sends nothing if ${pending.home} already is primary.`,
  );
}

/**
 * Before the failback leg of a drill or of a plannedFailover with `failback`: waits (preemptible, before the point of no
 * return) until replication has caught up, for at most `failbackWaitTimeout`. True when the failback may go; false when
 * the run ended its failback as pending ({@link failbackPending}) and is to end `failbackPending`. Runs recorded before
 * the wait went straight to the failback's preflight.
 */
export async function catchUpBeforeFailback(
  run: RunbookRun,
  group: ResolvedGroup,
  failover: { from: string; to: string },
  params: { maxLagSeconds: number; failbackWaitTimeout: Milliseconds },
  what: string,
): Promise<boolean> {
  if (!patched(FAILBACK_WAITS_FOR_LAG_PATCH)) return true;
  const caughtUp = await run.beforePointOfNoReturn(() =>
    awaitCatchUp(run, group, {
      home: failover.from,
      maxLagSeconds: params.maxLagSeconds,
      timeoutMs: params.failbackWaitTimeout,
      stepName: 'failback/await-catch-up',
    }),
  );
  if (caughtUp.ready) return true;
  failbackPending(run, group, {
    primary: failover.to,
    home: failover.from,
    maxLagSeconds: params.maxLagSeconds,
    reason: caughtUp.last.detail,
    waitedMs: caughtUp.waitedMs,
    what,
  });
  return false;
}
