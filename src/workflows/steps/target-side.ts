/**
 * Reading one side of a group alone: the side that is to be (or already is) primary, when the other may be dark. A
 * forced failover reads only this side from the start; a planned leg or a failback falls back to it when the group
 * could not be read at both locations, so a failover Azure made by itself (Automatic policy, the old primary's region
 * dark past the grace period) is recognised rather than reported as Azure not answering.
 */
import { isCancellation, patched } from '@temporalio/workflow';
import type { GroupRolesReading, InstanceReading } from '../../activities';
import type { FailoverGroupView } from '../../domain/azure-state';
import { groupCommandArgument, type ResolvedGroup } from '../../domain/group-ref';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import { awaitDatabasesWritable } from './await-writable';
import { groupKindOf, type ReadPreset } from './group-kind';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';

/**
 * Runs recorded before a planned leg (and a failback's wait) read the target alone when the group could not be read at
 * both locations: they ended `AzureUnavailable` even when the target was already primary by its own answer.
 */
export const ALREADY_PRIMARY_PARTNER_UNREADABLE_PATCH = 'already-primary-with-partner-unreadable';

/** The group as `target` alone reports it (the other location may not answer). */
export async function readTargetOnly(
  group: ResolvedGroup,
  target: string,
  preset?: ReadPreset,
): Promise<{ roles: GroupRolesReading; view: FailoverGroupView }> {
  const roles = await groupKindOf(group).readRoles(group, [target], `read ${group.name} at ${target} only`, preset);
  return { roles, view: roles.views[0]! };
}

/** Whether a location's own ARM answer says it holds the primary role. */
export function readsPrimary(view: FailoverGroupView): boolean {
  return view.replicationRole.toLowerCase() === 'primary';
}

/** The member at the location `view` was read at, and where it answers SQL. */
export async function memberAt(
  group: ResolvedGroup,
  view: FailoverGroupView,
  location: string,
): Promise<{ member: InstanceReading; endpoint: SqlInstanceTarget }> {
  const kind = groupKindOf(group);
  const members = await kind.readMembers([kind.memberIdAt(view)], `read the instance at ${location}`);
  const member = members.members[0]!;
  return { member, endpoint: kind.sqlEndpoint(member, group) };
}

/** What a leg learnt when the group could not be read at both locations but its target answered Primary alone. */
export interface PartnerUnreadable {
  target: string;
  from: string;
  /** What the target reported alone. */
  rolesDetail: string;
  /** The failed read of both locations, as its last error said. */
  failedRead: string;
}

/**
 * After a read of the group at both locations failed: whether the target is primary by its own ARM answer, with every
 * database on it writable through the data plane (waited for as a forced failover waits, at most `writableTimeoutMs`).
 * Returns what was found when so (and warns that the roles were changed outside this run); otherwise rethrows the
 * failed read, so the run ends `AzureUnavailable` as before. Only runs that state an intent call it: their target is
 * fixed, not read from the roles.
 */
export async function targetPrimaryAlone(
  run: RunbookRun,
  step: StepHandle,
  request: { group: ResolvedGroup; target: string; from: string; writableTimeoutMs: number; failed: unknown },
): Promise<PartnerUnreadable> {
  const { group, target, from, failed } = request;
  if (isCancellation(failed) || !patched(ALREADY_PRIMARY_PARTNER_UNREADABLE_PATCH)) throw failed;
  const failedRead = describeFailure(failed).message;
  step.evidence({ unreadable: { locations: [group.primaryLocation, group.secondaryLocation], error: failedRead } });
  let alone: Awaited<ReturnType<typeof readTargetOnly>>;
  try {
    alone = await readTargetOnly(group, target);
  } catch (error) {
    if (isCancellation(error)) throw error;
    step.evidence({ targetAlone: { location: target, error: describeFailure(error).message } });
    throw failed;
  }
  step.evidence({ targetAlone: { location: target, roles: alone.roles.summary.detail } });
  // Only the target's own answer counts: a partner's claim about it is what could not be read.
  if (!readsPrimary(alone.view)) throw failed;
  try {
    const { member, endpoint } = await memberAt(group, alone.view, target);
    await awaitDatabasesWritable(run, step, {
      instance: endpoint,
      instanceName: member.instance.name,
      expected: [],
      timeoutMs: request.writableTimeoutMs,
    });
  } catch (error) {
    if (isCancellation(error)) throw error;
    run.clearAwaiting();
    step.evidence({ targetWritable: { location: target, error: describeFailure(error).message } });
    throw failed;
  }
  run.warn(
    `${target} is already primary by its own answer (${alone.roles.summary.detail}; every database READ_WRITE), but ` +
      `${from} could not be read (${failedRead}): the roles were changed outside this run (Azure failing the group ` +
      "over by itself under the Automatic policy, or another actor's forced failover). Nothing was sent. " +
      `${from} is unreachable; when its region returns, Azure demotes it to secondary and reseeds it, and whatever it ` +
      `had not replicated is gone. Watch it with \`fogpilot status ${groupCommandArgument(group)}\`.`,
  );
  return { target, from, rolesDetail: alone.roles.summary.detail, failedRead };
}
