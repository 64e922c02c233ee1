/**
 * The switch of a forced failover: a planned attempt first (with `tryPlannedFirst`), and the wait for the target to
 * report Primary after the forced request.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { groupCommandArgument, partnerOf, type ResolvedGroup } from '../../domain/group-ref';
import { formatDuration } from '../../domain/durations';
import type { FailoverGroupView } from '../../domain/azure-state';
import { FailureTypes, type FailoverLeg } from '../definitions';
import { groupKindOf } from './group-kind';
import { ROLE_POLLING, pollUntil } from './poll';
import { afterSentFailover, sameIntentCommand } from '../../domain/next-steps';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';
import { REFUSED_BUSY_IS_NOT_SENT_PATCH, followFailoverOperation, sendFailoverOnce } from './send-failover';

/**
 * A planned failover bounded by `timeoutMs`. True when the roles switched; false when it cannot complete (refused, or
 * ended Failed — the primary's region did not answer). Azure accepts no other failover while one runs, so when the
 * planned one is still running at the timeout the run ends `RoleSwitchTimeout` with nothing forced: forcing once it
 * ends is a new decision.
 */
export async function tryPlanned(
  run: RunbookRun,
  group: ResolvedGroup,
  target: string,
  timeoutMs: number,
  step: StepHandle,
  leg: FailoverLeg,
): Promise<boolean> {
  let sent;
  try {
    sent = await sendFailoverOnce(run, step, group, target, 'planned');
  } catch (error) {
    step.evidence({ planned: 'not accepted', error: describeFailure(error).message });
    run.warn(`Azure did not accept the planned failover to ${target}; escalated to a forced failover.`);
    return false;
  }
  step.evidence({ planned: sent.outcome });
  if (sent.outcome === 'already-primary') return true;
  leg.failoverSent = patched(REFUSED_BUSY_IS_NOT_SENT_PATCH) ? sent.byThisRun : true;
  const startedAt = Date.now();
  const targetIsPrimary = (reading: { views: FailoverGroupView[] }) =>
    reading.views[0]?.replicationRole.toLowerCase() === 'primary';
  const readTarget = () => groupKindOf(group).readRoles(group, [target], `read ${group.name} at ${target}`);

  let ended: 'succeeded' | 'failed' | 'running' | undefined;
  if (sent.trackingId) {
    // Azure's own account of the operation: a failure shows at once, and nothing is guessed from the roles.
    const trackingId = sent.trackingId;
    const follow = (limitMs: number) =>
      followFailoverOperation(run, step, group, trackingId, limitMs, 'planned failover');
    const operation = await follow(timeoutMs);
    // An operation that cannot be read leaves the roles to tell (below).
    if (!('unreadable' in operation)) {
      ended = !operation.done ? 'running' : operation.value.state === 'Succeeded' ? 'succeeded' : 'failed';
    }
  }
  if (ended === undefined) {
    // Sent by an earlier attempt whose answer was lost: only the roles tell.
    const settled = (reading: Awaited<ReturnType<typeof readTarget>>) =>
      targetIsPrimary(reading) || reading.summary.status !== 'failover-in-progress';
    const watch = (limitMs: number) =>
      pollUntil({
        read: readTarget,
        done: settled,
        timeoutMs: limitMs,
        interval: ROLE_POLLING,
        retryAfterMs: (reading) => reading.retryAfterMs,
        summary: 'wait for the planned failover',
        onRead: (reading, poll) => {
          step.evidence({ polls: poll, roles: reading.summary.detail });
        },
      });
    const watched = await watch(Math.max(timeoutMs - (Date.now() - startedAt), 0));
    ended = !watched.done ? 'running' : targetIsPrimary(watched.value) ? 'succeeded' : 'failed';
  }

  if (ended === 'running') {
    throw ApplicationFailure.create({
      type: FailureTypes.RoleSwitchTimeout,
      nonRetryable: true,
      message:
        `The planned failover to ${target} was still running after ${formatDuration(Date.now() - startedAt)} ` +
        `(tryPlannedFirst.timeout); Azure refuses a forced failover while it runs, so none was sent. ` +
        `${afterSentFailover(group, { to: target, from: partnerOf(group, target), kind: 'planned' })} If it ends ` +
        `without switching, forcing ${target} is a new decision: \`${sameIntentCommand(group, { to: target, kind: 'forced' })}\`.`,
    });
  }
  if (ended === 'succeeded') {
    // The operation said Succeeded; the roles confirm before the runbook moves on.
    const confirmed = await pollUntil({
      read: readTarget,
      done: targetIsPrimary,
      timeoutMs: 10 * 60_000,
      interval: ROLE_POLLING,
      retryAfterMs: (reading) => reading.retryAfterMs,
      summary: `wait for ${target} to report Primary`,
    });
    if (confirmed.done) return true;
  }
  step.evidence({
    escalated: true,
    plannedEndedAfter: formatDuration(Date.now() - startedAt),
    why: 'the planned failover could not complete',
  });
  run.warn(`The planned failover to ${target} could not complete; escalated to a forced failover.`);
  return false;
}

export async function awaitNewPrimary(
  run: RunbookRun,
  group: ResolvedGroup,
  target: string,
  timeoutMs: number,
  step: StepHandle,
  trackingId: string | undefined,
  sentBy: string,
): Promise<void> {
  run.setAwaiting('azure', `waiting for ${target} to become primary`);
  if (trackingId) {
    const operation = await followFailoverOperation(run, step, group, trackingId, timeoutMs, 'forced failover');
    if (operation.done && operation.value.state !== 'Succeeded') {
      const error = operation.value.error;
      throw ApplicationFailure.create({
        type: FailureTypes.FailoverFailed,
        nonRetryable: true,
        message:
          `Azure reports the forced failover to ${target} ended ${operation.value.state}` +
          `${error ? ` (${error.code ? `${error.code}: ` : ''}${error.message})` : ''}. The failover this run sent has ` +
          `ended. Check the group with \`fogpilot status ${groupCommandArgument(group)}\` before anything else; ` +
          `\`${sameIntentCommand(group, { to: target, kind: 'forced' })}\` sends nothing if ${target} is primary, and ` +
          'asks for a fresh approval if it is not.',
        details: [{ operation: operation.value }],
      });
    }
  }
  const result = await pollUntil({
    read: () => groupKindOf(group).readRoles(group, [target], `read the role at ${target}`),
    done: (reading) => reading.views[0]!.replicationRole.toLowerCase() === 'primary',
    timeoutMs: Math.max(timeoutMs, 60_000),
    interval: ROLE_POLLING,
    retryAfterMs: (reading) => reading.retryAfterMs,
    summary: `wait for ${target} to report Primary`,
    onRead: (reading, poll) => {
      step.evidence({ polls: poll, roles: reading.summary.detail });
      step.detail(`poll ${poll}: ${reading.summary.detail}`);
    },
  });
  run.clearAwaiting();
  if (!result.done) {
    throw ApplicationFailure.create({
      type: FailureTypes.RoleSwitchTimeout,
      nonRetryable: true,
      message:
        `The failover to ${target} was ${sentBy}, but after ${formatDuration(timeoutMs)} ${target} reads ` +
        `"${result.value.summary.detail}". ${afterSentFailover(group, { to: target, from: partnerOf(group, target), kind: 'forced' })}`,
      details: [{ views: result.value.views }],
    });
  }
}
