/**
 * How a `scaleGroup` run that stops says where it stopped: each instance's size now, what completed, whether the pair
 * is safe to fail over as it stands, and what to do next. Nothing is rolled back.
 */
import { ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import type { InstanceReading } from '../../activities';
import { isServerGroup, type ResolvedGroup } from '../../domain/group-ref';
import { FailureTypes, type ScaleRecord } from '../definitions';
import { groupKindOf } from './group-kind';
import { readsCountingFailures } from './activity-presets';
import { type RunbookRun, describeFailure } from './runbook-run';
import {
  describeChange,
  describeSize,
  secondaryAtLeastPrimary,
  type InstanceSize,
  type PairMember,
  type PairRole,
  type PlannedScaleOperation,
  type ScalePlan,
} from './scale-plan';
import { operationListCommand, readRoles, sizeOfReading, type PairReading } from './scale-pair';

/** Between operations: the primary must still be where the plan assumed, or the order would be wrong. */
export async function checkRolesUnchanged(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  operation: PlannedScaleOperation,
  done: ScaleRecord['operations'],
): Promise<void> {
  const roles = await readRoles(run, group, 'check the roles before the next operation');
  const { summary } = roles;
  if (
    summary.consistent &&
    summary.status !== 'failover-in-progress' &&
    summary.primaryLocation === pair.primary.location
  )
    return;
  throw await stoppedFailure(run, group, pair, plan, done, {
    type: FailureTypes.GroupBusy,
    what:
      `The roles of ${group.displayName} changed while scaling (now: ${summary.detail}); stopped before scaling ` +
      `${operation.instanceName}, because the planned order assumed ${pair.primary.location} primary.`,
    operation,
    details: [{ roles: roles.views }],
    restartAdvice:
      'Once the group reads one Primary and one Secondary again, start scaleGroup again with the same input: it ' +
      'plans the order for the roles as they are then.',
  });
}

export interface StopReason {
  type: string;
  what: string;
  operation: PlannedScaleOperation;
  details: unknown[];
  stillRunning?: boolean;
  restartAdvice?: string;
}

/** Reads both instances as they are now, for a message that says where each stands. */
export async function sizesNow(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
): Promise<{ text: string; sizes?: Record<PairRole, InstanceSize> }> {
  try {
    const reading = await groupKindOf(group).readMembers(
      [pair.primary.instanceId, pair.secondary.instanceId],
      'read both instances after stopping',
      readsCountingFailures,
    );
    const find = (member: PairMember) =>
      reading.members.find((entry) => entry.instance.id.toLowerCase() === member.instanceId.toLowerCase());
    const primary = find(pair.primary);
    const secondary = find(pair.secondary);
    if (!primary || !secondary) return { text: 'the sizes could not be read' };
    const sizes = { primary: sizeOfReading(primary), secondary: sizeOfReading(secondary) };
    const line = (member: PairMember, found: InstanceReading, size: InstanceSize) =>
      `${member.instanceName} (${member.role}, ${member.location}) is at ${describeSize(size)}` +
      (found.operationsInFlight.length > 0 ? ' with an operation still running' : '');
    return {
      text: `${line(pair.primary, primary, sizes.primary)}; ${line(pair.secondary, secondary, sizes.secondary)}`,
      sizes,
    };
  } catch (error) {
    return { text: `the sizes could not be read (${describeFailure(error).message})` };
  }
}

/** The operations of this run that completed (`done` holds them in plan order), for people. */
export function describeDone(plan: ScalePlan, done: ScaleRecord['operations']): string {
  const completed = plan.operations.filter(
    (_, index) => done[index]?.state === 'Succeeded' || done[index]?.state === 'AlreadyAtTarget',
  );
  if (completed.length === 0) return 'No operation of this run completed.';
  return (
    'Completed in this run and left as they are (there is no automatic rollback): ' +
    `${completed.map((operation) => `${operation.instanceName} → ${describeTarget(operation)}`).join(', ')}.`
  );
}

/** Where an operation takes its member: a managed instance's whole size, or a server's changed databases and pools. */
export function describeTarget(operation: PlannedScaleOperation): string {
  if (!operation.to.members) return describeSize(operation.to);
  return operation.changes.map(describeChange).join(', ');
}

/**
 * The failure a stopped run ends with, saying where each instance stands now. Nothing is rolled back: undoing a completed
 * operation is another operation of up to hours that can fail the same way, and the order already guarantees that the
 * pair is safe where it stopped (the secondary at least the primary's size), so a person decides: finish, or go back.
 */
export async function stoppedFailure(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  done: ScaleRecord['operations'],
  reason: StopReason,
): Promise<ApplicationFailure> {
  const now = await CancellationScope.nonCancellable(() => sizesNow(run, group, pair));
  const safety = now.sizes
    ? secondaryAtLeastPrimary(now.sizes.primary, now.sizes.secondary)
      ? 'The secondary is at least the primary’s size, so the pair is safe to fail over as it stands.'
      : 'Warning: the secondary is now smaller than the primary in some dimension; scale it before any failover.'
    : '';
  const next =
    reason.restartAdvice ??
    (reason.stillRunning
      ? `Wait for the operation to end (\`${operationListCommand(group, reason.operation.instanceName)}\`), ` +
        'then start scaleGroup again with the same input to finish (instances already at the target are left alone), ' +
        'or with the old size to go back.'
      : isServerGroup(group)
        ? `Find the cause in the operation’s error (portal, or \`${operationListCommand(group, reason.operation.instanceName)}\`), ` +
          'then start scaleGroup again with the same input to finish (databases and pools already at the target are ' +
          'left alone), or with the old SKUs to go back; either way it orders the operations safely.'
        : 'Find the cause in the operation’s error (portal, or `az sql mi op list`), then start scaleGroup again with the ' +
          'same input to finish (instances already at the target are left alone), or with the old size to go back; ' +
          'either way it orders the operations safely.');
  const message = `${reason.what} Now: ${now.text}. ${describeDone(plan, done)} ${safety} ${next}`
    .replace(/\s+/g, ' ')
    .trim();
  return ApplicationFailure.create({
    type: reason.type,
    nonRetryable: true,
    message,
    details: [...reason.details, { sizesNow: now.sizes, plannedFinal: plan.final }],
  });
}

export async function reportSizesAfterAbort(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  done: ScaleRecord['operations'],
): Promise<void> {
  await run.step('read-after-abort', 'Read both instances after the abort', async (step) => {
    const now = await sizesNow(run, group, pair);
    step.evidence({ sizes: now.sizes, operationsDone: done.length, operationsPlanned: plan.operations.length });
    const remaining = plan.operations.slice(done.length).map((operation) => operation.step);
    run.warn(
      `Aborted by ${run.abort?.by ?? 'someone'} after ${done.length} of ${plan.operations.length} scaling operations` +
        `${remaining.length ? ` (not started: ${remaining.join(', ')})` : ''}. Now: ${now.text}. ${describeDone(plan, done)} ` +
        `To finish, start scaleGroup on ${group.displayName} again with the same input.`,
    );
  });
}
