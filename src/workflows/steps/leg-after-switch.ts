/**
 * The steps of a planned failover leg after the roles switched: wait until the new primary accepts writes, check that
 * replication runs again toward the old primary, and even out the sizes for the way back.
 */
import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { classifyReplicationState, type FailoverGroupView } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import type { GroupRolesReading } from '../../activities';
import { FailureTypes, type DataLossRecord, type FailoverLeg } from '../definitions';
import { reads } from './activity-presets';
import { awaitDatabasesWritable } from './await-writable';
import { groupKindOf } from './group-kind';
import { expectedDatabases, type LegRun, type LegView } from './planned-leg';
import { ROLE_POLLING, pollUntil, type PollResult } from './poll';
import { describeScaleTarget, describeSize, scaleTargetForSecondary } from './member-size';
import { describeFailure } from './runbook-run';
import {
  FAILBACK_READ_PLAN_PATCH,
  READ_PLAN_PATCH,
  combineRoles,
  recentRoles,
  rememberLinks,
  rememberRoles,
  viewAt,
} from './recent-reads';
import { followOperation } from './scale-operations';
import { declareStage, declareStep } from './step-declaration';

/** How long post-checks wait for replication to settle before they only warn. */
const POST_CHECK_TIMEOUT_MS = 10 * 60_000;

export const awaitWritableStep = declareStep<LegView, LegRun>({
  name: 'await-writable',
  title: ({ preflight }) => `Wait until every database on ${preflight.secondary.instance.name} is READ_WRITE`,
  plan: ({ preflight, params }) =>
    preflight &&
    `poll until every database on ${preflight.secondary.instance.name} is READ_WRITE (at most ${formatDuration(params.writableTimeout)})`,
  body: async ({ run, group, params, preflight, writableSeen }, step) => {
    if (writableSeen) {
      // Proven already by await-roles' data-plane watch: its last read is this step's evidence.
      step.evidence({
        readOnly: [],
        seenBy: 'await-roles (data-plane watch)',
        polls: writableSeen.polls,
        databases: writableSeen.databases,
      });
      step.detail('all READ_WRITE (seen by await-roles)');
      return;
    }
    await awaitDatabasesWritable(run, step, {
      instance: groupKindOf(group).sqlEndpoint(preflight.secondary, preflight.group),
      instanceName: preflight.secondary.instance.name,
      expected: expectedDatabases(preflight),
      timeoutMs: params.writableTimeout,
    });
  },
});

/**
 * The target's view from the last reading of the roles (await-roles' confirmation) when it says the switch is over:
 * Primary, and a replication state that is neither a failover in progress nor anything unknown.
 */
function recentTargetView(target: string): { view: FailoverGroupView; atMs: number } | undefined {
  const recent = recentRoles(Number.POSITIVE_INFINITY);
  return recent && settledPrimary(viewAt(recent.reading, target), recent.atMs);
}

function settledPrimary(
  view: FailoverGroupView | undefined,
  atMs: number,
): { view: FailoverGroupView; atMs: number } | undefined {
  if (!view || view.replicationRole.toLowerCase() !== 'primary') return undefined;
  return classifyReplicationState(view.replicationState) === 'synchronizing' ? { view, atMs } : undefined;
}

/** What the leg lost: nothing, proven by the copy sync before a failover this run sent; else why it is not known. */
export function dataLossOfPlannedLeg(leg: FailoverLeg, synced: Set<string>): DataLossRecord {
  if (leg.switchedBy === 'another-operation') {
    return {
      kind: 'unknown',
      detail:
        `${leg.to} became primary through another operation, not a failover this run sent after its copy-sync proof: ` +
        'whether that operation lost data is not known here (a forced failover may have).',
    };
  }
  if (!leg.failoverSent) {
    return { kind: 'not-applicable', detail: `${leg.to} was already primary: this runbook sent no failover` };
  }
  return {
    kind: 'none-proven',
    detail:
      "Every database's sp_wait_for_database_copy_sync returned before the planned failover, and Azure runs a planned " +
      'failover synchronously: no committed transaction was lost.',
    databases: [...synced].map((database) => ({ database, evidence: 'copy sync returned before the failover' })),
  };
}

/**
 * Runs recorded before the post-checks read the new primary's replication links while they looked at the roles: they
 * read them after the roles had settled, one read after the other.
 */
export const LINKS_WITH_ROLES_PATCH = 'post-checks-read-links-with-roles';

export const postChecksStep = declareStep<LegView, LegRun>({
  name: 'post-checks',
  title: () => 'Check that replication is synchronizing again toward the old primary',
  plan: ({ preflight }) => preflight && 'check that replication is synchronizing again toward the old primary',
  body: async ({ run, group, preflight }, step) => {
    const { target, from } = preflight;
    const kind = groupKindOf(group);
    // The read plan: the target's view, just read Primary by await-roles, stands while it says the switch is over;
    // the old primary's view is read until it agrees (it may claim Primary a little longer: the role-flip skew).
    let targetView = patched(READ_PLAN_PATCH) ? recentTargetView(target) : undefined;
    const readRoles = async () => {
      if (targetView) {
        const older = targetView;
        const reading = combineRoles([older.view], await kind.readRoles(group, [from], `read roles at ${from}`));
        return rememberRoles(reading, older.atMs).reading;
      }
      const reading = await kind.readRoles(group, [target, from], 'read roles after the failover');
      if (patched(READ_PLAN_PATCH)) {
        rememberRoles(reading);
        targetView = settledPrimary(viewAt(reading, target), Date.now());
      }
      return reading;
    };
    const newPrimary = preflight.secondary.instance;
    const readLinks = () =>
      reads.readReplicationLinks.executeWithOptions({ summary: `replication links on ${newPrimary.name}` }, [
        { instance: kind.sqlEndpoint(preflight.secondary, group) },
      ]);
    // The new primary's links go out with the first look at the roles: it is writable already (await-writable), so
    // its links read Primary now. Should one not, they are read again once the roles have settled.
    const timedLinks = () => readLinks().then((reading) => ({ reading, atMs: Date.now() }));
    const early = patched(LINKS_WITH_ROLES_PATCH) ? timedLinks() : undefined;
    early?.catch(() => undefined);
    let roles: PollResult<GroupRolesReading>;
    try {
      roles = await pollUntil({
        read: readRoles,
        done: (reading) =>
          reading.summary.consistent &&
          reading.summary.primaryLocation === target &&
          reading.summary.status === 'synchronizing',
        timeoutMs: POST_CHECK_TIMEOUT_MS,
        interval: ROLE_POLLING,
        retryAfterMs: (reading) => reading.retryAfterMs,
        summary: 'wait for replication to settle',
      });
    } catch (error) {
      // The step fails once its links read has ended too: no read outlives the step that sent it.
      if (early && !isCancellation(error)) await early.catch(() => undefined);
      throw error;
    }
    run.rolesAfter = roles.value.summary.consistent
      ? { primary: roles.value.summary.primaryLocation!, secondary: roles.value.summary.secondaryLocation! }
      : run.rolesAfter;
    let read = early ? await early : await timedLinks();
    if (early && read.reading.links.some((link) => link.role.toUpperCase() !== 'PRIMARY')) read = await timedLinks();
    const links = read.reading;
    // For the failback's catch-up look and preflight, moments from now: the same links, read after the switch.
    if (patched(FAILBACK_READ_PLAN_PATCH)) rememberLinks(newPrimary.id, links.links, read.atMs);
    const notReplicating = links.links.filter((link) => link.role.toUpperCase() !== 'PRIMARY');
    step.evidence({
      roles: roles.value.summary.detail,
      groupStatus: roles.value.summary.status,
      links: links.links.map((link) => ({
        database: link.database,
        role: link.role,
        state: link.replicationState,
        lagSeconds: link.lagSeconds,
      })),
    });
    if (!roles.done) {
      run.warn(
        `After the failover the group reads "${roles.value.summary.detail}" rather than synchronizing; check it in the portal.`,
      );
    }
    if (notReplicating.length > 0) {
      run.warn(
        `Databases on the new primary without a primary-side link: ${notReplicating.map((link) => link.database).join(', ')}.`,
      );
    }
  },
});

/**
 * After the switch the old primary is the secondary. Smaller than the new primary, it could not carry the load on the
 * way back: say so, and with `match` scale it up now (the secondary first, as a planned failover scales). Not in the
 * plan: what it does depends on the sizes after the switch.
 */
export const scaleNewSecondaryStage = declareStage<LegView, LegRun>({
  name: 'scale-new-secondary',
  body: async ({ run, group, params, options, preflight }) => {
    const stepName = `${options.stepPrefix}scale-new-secondary`;
    const newPrimaryMember = preflight.secondary;
    const newSecondaryMember = preflight.primary;
    const newPrimary = newPrimaryMember.instance;
    const newSecondary = newSecondaryMember.instance;
    // Scaled up before the switch, the old secondary matched the old primary: the pair is even now.
    if (scaleTargetForSecondary(newSecondaryMember, newPrimaryMember) !== undefined) return;
    const target = scaleTargetForSecondary(newPrimaryMember, newSecondaryMember);
    if (!target) return;
    const sizes = newSecondaryMember.serverSide
      ? `on ${newSecondary.name} (now secondary): ${describeSize(newSecondaryMember)}; on ${newPrimary.name} (now primary): ${describeSize(newPrimaryMember)}`
      : `${newSecondary.name} (now secondary) has ${newSecondary.vCores} vCores / ${newSecondary.storageSizeInGB} GB, ` +
        `${newPrimary.name} (now primary) ${newPrimary.vCores} / ${newPrimary.storageSizeInGB}`;
    const title = "Scale the new secondary up to the new primary's size, ready for the way back";
    if (params.scaleSecondary !== 'match' || options.sizesAfterSwitch !== 'match') {
      run.warn(
        `After the switch the secondary is smaller than the primary: ${sizes}. A failover back would have to scale it ` +
          `up first; \`scaleGroup\` with ${describeScaleTarget(target)} evens the pair now.`,
      );
      run.skipStep(stepName, title, params.scaleSecondary !== 'match' ? 'scaleSecondary is "skip"' : 'warned only', {
        sizes,
      });
      return;
    }
    const instanceId = newSecondary.id;
    const timeoutMs = params.scaleTimeout;
    try {
      await run.step(stepName, title, async (step) => {
        const kind = groupKindOf(group);
        const started = await kind.startScale(
          instanceId,
          target,
          `scale ${newSecondary.name} to ${describeScaleTarget(target)}`,
        );
        step.evidence({ instance: newSecondary.name, from: started.before, to: target, start: started.status });
        if (started.status === 'already-at-target' || !started.trackingId) return;
        const end = await followOperation(kind, step, instanceId, started.trackingId, timeoutMs);
        if (end.state !== 'Succeeded') {
          throw ApplicationFailure.create({
            type: FailureTypes.ScaleFailed,
            nonRetryable: true,
            message: `Scaling ${newSecondary.name} ended ${end.state}${end.message ? ` (${end.message})` : ''}`,
          });
        }
      });
    } catch (error) {
      // The failover is done and stays done: a scale that did not finish is for a person to finish, not a failure of it.
      run.warn(
        `The failover is done, but scaling the new secondary up did not finish (${describeFailure(error).message}): ` +
          `${sizes}. Finish it with \`scaleGroup\` (${describeScaleTarget(target)}).`,
      );
    }
  },
});
