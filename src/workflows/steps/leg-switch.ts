/**
 * The point of no return of a planned failover leg: send the failover once, then wait until the roles have switched.
 * From the send on, the leg finishes what it sent before it heeds an abort.
 */
import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';
import type { FailoverProgressReading, GroupRolesReading } from '../../activities';
import type { FailoverGroupView } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import { groupCommandArgument, type ResolvedGroup } from '../../domain/group-ref';
import { afterSentFailover, sameIntentCommand } from '../../domain/next-steps';
import { FailureTypes, type FailoverLeg } from '../definitions';
import { reads, readsUntil } from './activity-presets';
import { groupKindOf, type ReadPreset } from './group-kind';
import { alreadyPrimaryWhy, expectedDatabases, type LegRun, type LegView } from './planned-leg';
import { ROLE_POLLING, pollUntil, type PollResult } from './poll';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';
import {
  REFUSED_BUSY_IS_NOT_SENT_PATCH,
  followFailoverOperation,
  sendFailoverOnce,
  type SendOutcome,
} from './send-failover';
import { declareStep } from './step-declaration';
import { DATA_PLANE_SWITCH_PATCH, watchSwitchFromDataPlane } from './switch-from-data-plane';
import { FRESH_ENOUGH_MS, READ_PLAN_PATCH, forgetRoles, rememberRoles, viewAt } from './recent-reads';

export const sendPlannedFailoverStep = declareStep<LegView, LegRun, SendOutcome>({
  name: 'failover',
  title: ({ leg }) => `Send the planned failover to ${leg.to} (the point of no return)`,
  plan: ({ preflight, met }) =>
    met
      ? { stopsHere: `none: ${alreadyPrimaryWhy(met)} (outcome alreadyPrimary)` }
      : `POST failover at ${preflight.target} (planned: synchronous, no data loss)`,
  body: async ({ run, group, leg, preflight }, step) => {
    let knownView: FailoverGroupView | undefined;
    if (patched(READ_PLAN_PATCH) && preflight.rolesReadAtMs !== undefined) {
      const ageMs = Date.now() - preflight.rolesReadAtMs;
      knownView = ageMs <= FRESH_ENOUGH_MS ? viewAt(preflight.snapshot, leg.to) : undefined;
      if (knownView) step.evidence({ targetViewReadMsAgo: ageMs, targetRoleBefore: knownView.replicationRole });
    }
    const outcome = await sendFailoverOnce(run, step, group, leg.to, 'planned', knownView);
    // Whatever was read before the request says nothing about the roles after it.
    if (patched(READ_PLAN_PATCH)) forgetRoles();
    step.evidence({ outcome: outcome.outcome });
    return outcome;
  },
});

/** Records on the leg what the failover step found: sent by this run, or another operation's failover followed. */
export function recordWhatWasSent(context: LegRun, sent: SendOutcome): void {
  const { run, leg } = context;
  const sentAtMs = Date.now();
  const busyIsNotSent = patched(REFUSED_BUSY_IS_NOT_SENT_PATCH);
  context.sent = sent;
  context.sentAtMs = busyIsNotSent ? sentAtMs : undefined;
  leg.failoverSent = busyIsNotSent ? sent.byThisRun : sent.outcome !== 'already-primary';
  if (busyIsNotSent && !sent.byThisRun && sent.failoverUnderWay) {
    leg.switchedBy = 'another-operation';
    run.warn(
      sent.outcome === 'refused-busy'
        ? `Azure refused the failover to ${leg.to} (409: another operation runs on the group); this run follows it.`
        : `A failover was already under way on the group; this run sent none and follows it.`,
    );
  }
  if (leg.failoverSent) {
    leg.dataLoss = { kind: 'unknown', detail: 'the failover was sent; the runbook has not yet seen it complete' };
  }
}

export const awaitRolesStep = declareStep<LegView, LegRun>({
  name: 'await-roles',
  title: ({ leg }) => `Wait until ${leg.to} reports Primary and ${leg.from} Secondary`,
  plan: ({ preflight, params }) =>
    preflight &&
    `poll ARM until ${preflight.target} is Primary and ${preflight.from} Secondary (at most ${formatDuration(params.roleSwitchTimeout)})`,
  body: awaitRoles,
});

async function awaitRoles(context: LegRun, step: StepHandle): Promise<void> {
  const { run, group, leg, params, sent, sentAtMs } = context;
  const trackingId = sent?.trackingId;
  const timeoutMs = params.roleSwitchTimeout;
  const ours = leg.failoverSent;
  run.setAwaiting('azure', `waiting for ${leg.to} to become primary`);
  const startedAt = Date.now();
  const deadline = sentAtMs === undefined ? undefined : sentAtMs + timeoutMs;
  const timedOut = (detail: string, details: unknown): never => {
    throw ApplicationFailure.create({
      type: FailureTypes.RoleSwitchTimeout,
      nonRetryable: true,
      message:
        `The failover to ${leg.to} was ${ours ? 'requested' : 'under way, started by another operation,'} at ` +
        `${leg.requestedAt}, but after ${formatDuration(timeoutMs)} ${detail}. Azure may still be switching. ` +
        (ours
          ? afterSentFailover(group, { to: leg.to, from: leg.from, kind: 'planned' })
          : 'This run sent no failover: do not send one while that operation runs. See where the group stands with ' +
            `\`fogpilot status ${groupCommandArgument(group)}\`; once it settles, ` +
            `\`${sameIntentCommand(group, { to: leg.to, kind: 'planned' })}\` sends nothing if ${leg.to} is primary.`),
      details: [details],
    });
  };
  let operationUnreadable = false;
  // The watch already read the operation Succeeded: reading it again would say the same.
  let operationSucceeded = false;
  if (ours && deadline !== undefined && patched(DATA_PLANE_SWITCH_PATCH)) {
    const { preflight } = context;
    const kind = groupKindOf(group);
    const watched = await watchSwitchFromDataPlane({
      group,
      step,
      target: leg.to,
      instance: kind.sqlEndpoint(preflight.secondary, preflight.group),
      instanceName: preflight.secondary.instance.name,
      expected: expectedDatabases(preflight),
      deadline,
      trackingId,
    });
    if (watched.seen) {
      rememberRoles(watched.roles);
      context.writableSeen = { polls: watched.polls, databases: watched.watch.databases, atMs: Date.now() };
      step.evidence({ roles: watched.roles.summary.detail, seenFrom: 'data plane, confirmed by ARM at the target' });
      run.clearAwaiting();
      return;
    }
    if (watched.failed) await failoverFailed(run, group, leg, step, watched.failed);
    operationUnreadable = watched.why !== undefined && watched.operationUnreadable === true;
    operationSucceeded = watched.why !== undefined && watched.operationSucceeded !== undefined;
    const last = watched.why !== undefined ? watched.lastOperation : undefined;
    if (last?.state === 'InProgress') {
      timedOut(`Azure still reports the failover operation ${last.state}`, { operation: last });
    }
  }
  if (trackingId && !operationUnreadable && !operationSucceeded) {
    // One read per poll of the operation Azure is running, rather than two of the roles; and a failure shows at once.
    const operation = await followFailoverOperation(
      run,
      step,
      group,
      trackingId,
      deadline === undefined ? timeoutMs : Math.max(deadline - Date.now(), 0),
      'failover',
    );
    if (!('unreadable' in operation)) {
      if (!operation.done)
        timedOut(`Azure still reports the failover operation ${operation.value.state}`, {
          operation: operation.value,
        });
      if (operation.value.state !== 'Succeeded') await failoverFailed(run, group, leg, step, operation.value);
    }
  }
  // Another operation's failover is followed until it ends, wherever it leaves the roles.
  const settled = (reading: GroupRolesReading) =>
    reading.summary.consistent &&
    (reading.summary.primaryLocation === leg.to || (!ours && reading.summary.status !== 'failover-in-progress'));
  const readRoles = (preset: ReadPreset) =>
    groupKindOf(group).readRoles(group, [leg.to, leg.from], `read roles at ${leg.to} and ${leg.from}`, preset);
  let result: PollResult<GroupRolesReading> | undefined;
  while (!result) {
    try {
      result = await pollUntil({
        // After the POST, reads retry until the deadline rather than for their own budget: a worker outage meanwhile
        // ends in a last look at the roles, not in "Azure unavailable".
        read: () => readRoles(deadline === undefined ? reads : readsUntil(deadline)),
        done: settled,
        timeoutMs:
          deadline === undefined
            ? Math.max(timeoutMs - (Date.now() - startedAt), 60_000)
            : Math.max(deadline - Date.now(), 0),
        interval: ROLE_POLLING,
        retryAfterMs: (reading) => reading.retryAfterMs,
        summary: 'wait for the roles to switch',
        onRead: (reading, poll, elapsedMs) => {
          step.evidence({ polls: poll, elapsedMs, roles: reading.summary.detail });
          step.detail(`poll ${poll}: ${reading.summary.detail}`);
        },
      });
    } catch (error) {
      // Reads bounded by the deadline ran out of time (Temporal stops retrying before a retry would pass it): one
      // more look at the roles, with a read's own budget, decides — or, before the deadline, polling goes on.
      if (deadline === undefined || !(error instanceof ActivityFailure)) throw error;
      step.evidence({ readsUntilDeadline: describeFailure(error).message, lastLook: true });
      const reading = await readRoles(reads);
      step.evidence({ roles: reading.summary.detail });
      if (settled(reading) || Date.now() >= deadline) {
        result = { value: reading, done: settled(reading), polls: 0, elapsedMs: Date.now() - startedAt };
      }
    }
  }
  run.clearAwaiting();
  rememberRoles(result.value);
  if (!result.done)
    timedOut(`the roles read: ${result.value.summary.detail}`, { polls: result.polls, roles: result.value.views });
  if (result.value.summary.primaryLocation !== leg.to) {
    throw ApplicationFailure.create({
      type: FailureTypes.FailoverNotSent,
      nonRetryable: true,
      message:
        `Azure refused the failover to ${leg.to}: another operation was running on the group. It has ended with ` +
        `${result.value.summary.detail}. This run sent no failover. Once you know what that operation was, ` +
        `\`${sameIntentCommand(group, { to: leg.to, kind: 'planned' })}\` makes ${leg.to} primary (and sends ` +
        'nothing if it already is).',
      details: [{ roles: result.value.views }],
    });
  }
}

async function failoverFailed(
  run: RunbookRun,
  group: ResolvedGroup,
  leg: FailoverLeg,
  step: StepHandle,
  operation: FailoverProgressReading,
): Promise<never> {
  const roles = await groupKindOf(group).readRoles(
    group,
    [leg.to, leg.from],
    'read the roles after the failed failover',
  );
  step.evidence({ roles: roles.summary.detail });
  const error = operation.error;
  throw ApplicationFailure.create({
    type: FailureTypes.FailoverFailed,
    nonRetryable: true,
    message:
      `Azure reports the failover to ${leg.to} ended ${operation.state}` +
      `${error ? ` (${error.code ? `${error.code}: ` : ''}${error.message})` : ''}. The roles now read: ${roles.summary.detail}. ` +
      'The failover this run sent has ended and no other is under way. Find the cause (a region health event, the ' +
      `databases' state); then \`${sameIntentCommand(group, { to: leg.to, kind: 'planned' })}\` makes ${leg.to} ` +
      'primary, and sends nothing if it already is.',
    details: [{ operation, roles: roles.views }],
  });
}
