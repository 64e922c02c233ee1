import { ApplicationFailure, CancellationScope, condition, patched, setHandler } from '@temporalio/workflow';
import { ForcedFailoverInputSchema, type ForcedFailoverParams } from '../domain/inputs';
import { describeGroupRef, groupCommandArgument, partnerOf, type ResolvedGroup } from '../domain/group-ref';
import { durationToMs, formatDuration } from '../domain/durations';
import { normalizeLocation } from '../domain/locations';
import type { DatabaseReplicationLink, FailoverGroupView, ManagedInstanceView } from '../domain/azure-state';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type ActorMessage,
  type ApprovalRecord,
  type DataLossEstimate,
  type FailoverLeg,
  type ForcedFailoverInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
  approveSignal,
  rejectSignal,
} from './definitions';
import { checks, reads } from './steps/activity-presets';
import { decisionRecord, type Decision, type Decisions } from './steps/approval';
import { ROLE_POLLING, pollUntil } from './steps/poll';
import { awaitDatabasesWritable, sqlTarget } from './steps/await-writable';
import { intendedPrimary, statesIntent } from './steps/intent';
import { afterSentFailover, sameIntentCommand } from '../domain/next-steps';
import { openRunbook } from './steps/opening';
import { RunbookRun, describeFailure, nowIso, type StepHandle } from './steps/runbook-run';
import { REFUSED_BUSY_IS_NOT_SENT_PATCH, followFailoverOperation, sendFailoverOnce } from './steps/send-failover';
import {
  FORCED_FAILOVER_ESTIMATE_PATCH,
  describeDataLossEstimate,
  lossEvidence,
  readDataLossEstimate,
} from './steps/data-loss-estimate';

/** The estimate's SQL read: short, since an unanswered one only leaves the estimate unknown. */
const estimateReads = checks;

/** What the secondary's side of the group looked like before anything was sent. */
interface Assessment {
  view: FailoverGroupView;
  target: string;
  from: string;
  targetInstance: ManagedInstanceView;
  databases: string[];
  estimate: DataLossEstimate;
}

/**
 * A group still seeding is refused before the approval wait, with nothing sent (Azure would refuse the failover);
 * runs started before this patch sent it and ended with Azure's refusal.
 */
export const FORCED_FAILOVER_REFUSES_SEEDING_PATCH = 'forced-failover-refuses-seeding';

/**
 * **forcedFailover**: for a region that is down. Makes the secondary the primary with
 * `forceFailoverAllowDataLoss`, accepting the loss of what the secondary had not hardened.
 *
 * Reads only the secondary's location (the primary's may not answer), estimates the data at risk from the last
 * replication the secondary saw, and shows it while it waits for a person: the `approve` or `reject` signal, for at
 * most `approvalTimeout` (durably: a worker restart does not lose the wait). Incident tooling that already approved
 * passes `approval` in the input. With `tryPlannedFirst` it first tries a planned (lossless) failover, and escalates
 * to the forced one only when that cannot complete — what Azure offers for SQL Database but not for Managed Instance.
 *
 * Side effects: at most one forced failover POST (and, with `tryPlannedFirst`, at most one planned POST before it).
 * Nothing is sent before approval; a rejection, an approval timeout or an abort before the POST changes nothing.
 *
 * An emergency does not queue behind a wait: started under any id but the lock id, when the group's lock holder only
 * waits (an approval, `failback.after`, a drill's soak, a failback's wait for synchronizing — status `preemptible`),
 * it sends that runbook an abort (`by: 'fogpilot'`, reason `pre-empted by forcedFailover <this workflow id>`), waits
 * up to two minutes for it to end, then takes the lock. This happens before this run's own approval. A holder past
 * its point of no return, or doing anything but such a wait, is never disturbed: `GroupBusy` naming it and its phase.
 *
 * Fails with `InvalidInput`, `GroupNotFound`, `GroupBusy`, `PreflightFailed` (the group is still seeding),
 * `ApprovalRejected`, `ApprovalTimeout`, `FailoverNotSent`, `FailoverFailed`, `RoleSwitchTimeout` or `WritableTimeout`;
 * the failure's details carry the report.
 */
export async function forcedFailover(input: ForcedFailoverInput): Promise<RunbookReport> {
  const run = new RunbookRun(
    RunbookTypes.forcedFailover,
    describeGroupRef((input as { group?: unknown } | undefined)?.group),
  );
  // Handlers before anything else, so a query, an abort, a lock holder's status or a decision sent early is
  // never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  const decision = decisionRecord();
  setHandler(approveSignal, decision.approve);
  setHandler(rejectSignal, decision.reject);

  return run.execute(async () => {
    const opened = await openRunbook(run, {
      schema: ForcedFailoverInputSchema,
      input,
      group: (params) => params.group,
      // Fixed before anything is read: a forced failover never guesses its target from the roles it finds.
      fix: (params, group) =>
        statesIntent() ? intendedPrimary(run, group, params.targetLocation, 'home-secondary') : undefined,
      lock: (params) => {
        if (params.dryRun) return undefined;
        // A decision that reached this workflow before the lock holder existed travels with its input.
        const early = decision();
        if (early && !early.approved) throw rejection(run, early.message, early.at);
        const delegated = early && !params.approval ? { ...input, approval: early.message } : input;
        // An emergency does not queue behind a runbook that only waits: that one is asked to stand down.
        return {
          workflowType: RunbookTypes.forcedFailover,
          args: [delegated],
          options: { preemptWaitingHolder: true },
        };
      },
    });
    if ('ended' in opened) return opened.ended;
    const { params, group, fixed: intent } = opened;

    const assessment = await run.step(
      'assess',
      "Read the group at the secondary's location only and estimate the data at risk",
      (step) => assess(run, group, params, step),
    );
    const { target, from } = assessment;
    run.rolesBefore = { primary: from, secondary: target };
    run.extra.dataLossEstimate = assessment.estimate;

    if (assessment.view.replicationRole.toLowerCase() === 'primary' && intent) {
      if (intent.source !== 'targetLocation') {
        // The group is not at home: which region the operator wants primary is theirs to say, not ours to guess.
        throw ApplicationFailure.create({
          type: FailureTypes.InvalidInput,
          nonRetryable: true,
          message:
            `targetLocation: required, because ${group.displayName} is not at home: ${target} (its home secondary) ` +
            `reads Primary, so ${from} (its home primary) is the secondary or unreachable. Nothing was sent. If ` +
            `${target} is to stay primary there is nothing to do; to force ${from} to be primary, start again with ` +
            `targetLocation ${from} (\`${sameIntentCommand(group, { to: from, kind: 'forced' })}\`).`,
          details: [
            { field: 'targetLocation', roles: { [target]: assessment.view.replicationRole, [from]: 'unknown' } },
          ],
        });
      }
      run.rolesBefore = run.rolesAfter = { primary: target, secondary: from };
      run.skipStep(
        'force-failover',
        `Force the failover to ${target}`,
        `${target} is already primary: nothing to send`,
      );
      return params.dryRun ? Outcomes.dryRun : Outcomes.alreadyPrimary;
    }
    if (assessment.view.replicationRole.toLowerCase() === 'primary') {
      run.rolesAfter = { primary: target, secondary: from };
      run.warn(`${target} already reports Primary: no failover was sent.`);
      run.skipStep('force-failover', `Force the failover to ${target}`, `${target} is already primary: nothing to do`);
      return params.dryRun ? Outcomes.dryRun : Outcomes.succeeded;
    }

    if (params.dryRun) {
      run.plan = planOf(assessment, params);
      return Outcomes.dryRun;
    }

    await run.beforePointOfNoReturn(() =>
      run.step('await-approval', `Wait for approval to fail over to ${target} with possible data loss`, (step) =>
        awaitApproval(run, params, assessment, step, decision),
      ),
    );

    run.passPointOfNoReturn();
    const leg: FailoverLeg = {
      name: 'failover',
      from,
      to: target,
      failoverSent: false,
      dataLoss: { kind: 'unknown', detail: 'the failover has not been sent' },
    };
    run.legs.push(leg);
    // Escalating after a planned attempt is a decision of its own, made on what is true then (runs before this patch
    // went on with the approval given before the attempt, and followed a planned attempt for up to six hours).
    const escalationIsDecided = params.tryPlannedFirst !== undefined && patched(ESCALATION_IS_A_NEW_DECISION_PATCH);
    let stopped: 'aborted' | undefined;
    await CancellationScope.nonCancellable(async () => {
      leg.requestedAt = nowIso();
      const requestedAtMs = Date.now();
      let planned = false;
      if (params.tryPlannedFirst) {
        planned = await run.step('try-planned', `Try a planned (lossless) failover to ${target} first`, (step) =>
          tryPlanned(
            run,
            group,
            target,
            durationToMs(params.tryPlannedFirst!.timeout) ?? 0,
            step,
            leg,
            escalationIsDecided,
          ),
        );
      }
      if (!planned && escalationIsDecided) {
        const decided = await run.step(
          'decide-escalation',
          `Decide again before forcing ${target}: re-read the group, heed an abort or reject, refresh an old approval`,
          (step) => decideEscalation(run, group, params, assessment, step, decision),
        );
        if (decided === 'aborted') {
          stopped = 'aborted';
          return;
        }
        if (decided === 'already-primary') planned = true;
      }
      if (!planned) {
        const sent = await run.step(
          'force-failover',
          `Send forceFailoverAllowDataLoss to ${target} (the point of no return)`,
          async (step) => {
            const outcome = await sendFailoverOnce(run, step, group, target, 'forced');
            step.evidence({ outcome: outcome.outcome });
            return outcome;
          },
        );
        const busyIsNotSent = patched(REFUSED_BUSY_IS_NOT_SENT_PATCH);
        leg.failoverSent = leg.failoverSent || (busyIsNotSent ? sent.byThisRun : sent.outcome !== 'already-primary');
        if (busyIsNotSent && !sent.byThisRun && sent.failoverUnderWay) leg.switchedBy = 'another-operation';
        const sentBy =
          sent.outcome === 'refused-busy' && !sent.byThisRun
            ? 'refused by Azure because another operation runs (nothing was sent)'
            : sent.outcome === 'in-progress'
              ? 'found under way (nothing was sent)'
              : 'sent';
        await run.step('await-new-primary', `Wait until ${target} reports Primary`, (step) =>
          awaitNewPrimary(
            run,
            group,
            target,
            durationToMs(params.roleSwitchTimeout) ?? 0,
            step,
            sent.trackingId,
            sentBy,
          ),
        );
      }
      await run.step(
        'await-writable',
        `Wait until every database on ${assessment.targetInstance.name} is READ_WRITE`,
        (step) =>
          awaitDatabasesWritable(run, step, {
            instance: sqlTarget(assessment.targetInstance, group),
            instanceName: assessment.targetInstance.name,
            expected: assessment.databases,
            timeoutMs: durationToMs(params.writableTimeout) ?? 0,
          }),
      );
      leg.allWritableAt = nowIso();
      leg.rtoSeconds = Math.round((Date.now() - requestedAtMs) / 100) / 10;
      leg.dataLoss = planned
        ? escalationIsDecided
          ? {
              // "None proven" is kept for a planned POST sent after this run's own copy-sync proof, which this path has not.
              kind: 'unknown',
              detail:
                'The planned failover completed. Azure synchronizes fully before a planned failover switches the roles, ' +
                'so no loss is expected, but this run did not prove it with sp_wait_for_database_copy_sync.',
            }
          : {
              kind: 'none-proven',
              detail:
                'The planned failover completed: Azure runs it synchronously, so no committed transaction was lost.',
            }
        : {
            kind: 'estimated',
            detail:
              `Forced failover: what ${from} committed after the secondary last hardened it is lost. ` +
              describeDataLossEstimate(assessment.estimate),
            databases: lossEvidence(assessment.estimate),
          };
      run.rolesAfter = { primary: target, secondary: from };
    });
    if (stopped || run.abortRequested) return leg.failoverSent ? Outcomes.abortedAfterFailover : Outcomes.aborted;
    if (intent && !leg.failoverSent) {
      // The target turned primary without a request of this run (another operation, or in a race with it).
      leg.dataLoss = {
        kind: 'unknown',
        detail: `${target} became primary without a failover sent by this run: the loss is not this run's to measure`,
      };
      run.warn(`${target} became primary without a failover sent by this run; none was sent.`);
      return Outcomes.alreadyPrimary;
    }
    return Outcomes.succeeded;
  });
}

async function assess(
  run: RunbookRun,
  group: ResolvedGroup,
  params: ForcedFailoverParams,
  step: StepHandle,
): Promise<Assessment> {
  const target = params.targetLocation ? normalizeLocation(params.targetLocation) : group.secondaryLocation;
  const locations = [group.primaryLocation, group.secondaryLocation];
  if (!locations.includes(target)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: ${target} is not a location of group ${group.displayName} (${locations.join(', ')}). ` +
        'Name the region that is to become primary, or leave targetLocation out for the home secondary.',
    });
  }
  const from = partnerOf(group, target);
  const roles = await reads.readGroupRoles.executeWithOptions({ summary: `read ${group.name} at ${target} only` }, [
    { group, locations: [target] },
  ]);
  const view = roles.views[0]!;
  step.evidence({ target, role: view.replicationRole, replicationState: view.replicationState });
  if (roles.summary.status === 'failover-in-progress' && view.replicationRole.toLowerCase() !== 'primary') {
    throw ApplicationFailure.create({
      type: FailureTypes.GroupBusy,
      nonRetryable: true,
      message:
        `${target} reports a failover in progress (${roles.summary.detail}); nothing was sent. Azure accepts no other ` +
        'failover until it ends: watch it with `fogpilot status`, then start again if the roles did not switch.',
      details: [{ views: roles.views }],
    });
  }
  if (roles.summary.status === 'seeding' && patched(FORCED_FAILOVER_REFUSES_SEEDING_PATCH)) {
    throw ApplicationFailure.create({
      type: FailureTypes.PreflightFailed,
      nonRetryable: true,
      message:
        `${group.displayName} is still seeding (${roles.summary.detail}): ${target} does not hold a full copy of the ` +
        'databases yet and Azure accepts no failover, forced or planned, until seeding completes; nothing was sent. ' +
        'Wait for seeding to finish (`fogpilot status` shows Synchronizing), then start again.',
      details: [{ views: roles.views }],
    });
  }
  const targetInstanceId =
    view.replicationRole.toLowerCase() === 'primary' ? view.primaryManagedInstanceId : view.partnerManagedInstanceId;
  const instances = await reads.readInstances.executeWithOptions({ summary: `read the instance at ${target}` }, [
    { instanceIds: [targetInstanceId] },
  ]);
  const targetInstance = instances.instances[0]!.instance;
  if (patched(FORCED_FAILOVER_ESTIMATE_PATCH)) {
    const { estimate, databases } = await readDataLossEstimate(run, step, { group, view, targetInstance });
    return { view, target, from, targetInstance, databases, estimate };
  }
  // The estimate only informs the person approving: a SQL read that fails must not stand in the way of the failover.
  let links: { links: DatabaseReplicationLink[] };
  try {
    links = await estimateReads.readReplicationLinks.executeWithOptions(
      { summary: `replication links on ${targetInstance.name}` },
      [{ instance: sqlTarget(targetInstance, group) }],
    );
  } catch (error) {
    const reason = describeFailure(error).message;
    step.evidence({ instance: targetInstance.name, linksUnreadable: reason });
    run.warn(
      `The replication links on ${targetInstance.name} could not be read (${reason}): the loss is not estimated.`,
    );
    return {
      view,
      target,
      from,
      targetInstance,
      databases: [],
      estimate: { basis: `the links on ${targetInstance.name} could not be read: ${reason}`, databases: [] },
    };
  }
  const readAt = Date.now();
  const databases = links.links.map((link) => ({
    database: link.database,
    lagSeconds: link.lagSeconds,
    lastReplication: link.lastReplication,
  }));
  const ages = databases
    .map((entry) => (entry.lastReplication ? (readAt - Date.parse(entry.lastReplication)) / 1000 : undefined))
    .filter((age): age is number => age !== undefined && Number.isFinite(age));
  const knownLags = databases.map((entry) => entry.lagSeconds).filter((lag): lag is number => typeof lag === 'number');
  const estimate: DataLossEstimate =
    knownLags.length > 0
      ? {
          seconds: Math.max(...knownLags),
          basis: `the replication lag ${targetInstance.name} reported`,
          databases,
        }
      : ages.length > 0
        ? {
            seconds: Math.round(Math.max(0, ...ages) * 10) / 10,
            basis:
              `the time since ${targetInstance.name} last hardened a transaction (an upper bound: it also counts the ` +
              'time since the primary stopped)',
            databases,
          }
        : { basis: `${targetInstance.name} reported no replication times: the loss cannot be estimated`, databases };
  step.evidence({ instance: targetInstance.name, databases, estimate: describeDataLossEstimate(estimate) });
  return {
    view,
    target,
    from,
    targetInstance,
    databases: links.links.map((link) => link.database),
    estimate,
  };
}

async function awaitApproval(
  run: RunbookRun,
  params: ForcedFailoverParams,
  assessment: Assessment,
  step: StepHandle,
  decision: () => Decision | undefined,
): Promise<void> {
  const record = (approval: ApprovalRecord): void => {
    run.extra.approval = approval;
    step.evidence({ approval });
  };
  if (params.approval) {
    record({ ...params.approval, at: nowIso(), via: 'input' });
    return;
  }
  const timeoutMs = durationToMs(params.approvalTimeout) ?? 0;
  const question =
    `approve or reject: forced failover of ${run.groupLabel} to ${assessment.target}. ` +
    describeDataLossEstimate(assessment.estimate) +
    ` Waiting at most ${formatDuration(timeoutMs)}.`;
  run.setAwaiting('approval', question, { preemptible: true });
  step.evidence({ question, approvalTimeout: formatDuration(timeoutMs) });
  const decided = await condition(() => decision() !== undefined, timeoutMs);
  run.clearAwaiting();
  const answer = decision();
  if (!decided || !answer) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalTimeout,
      nonRetryable: true,
      message:
        `Nobody approved the forced failover of ${run.groupLabel} within ${formatDuration(timeoutMs)}; nothing was ` +
        'changed. Start it again when someone can decide, or pass `approval` if the incident process already approved.',
    });
  }
  if (!answer.approved) {
    step.evidence({ rejectedBy: answer.message.by, rejectedReason: answer.message.reason });
    throw rejection(run, answer.message, answer.at);
  }
  record({ ...answer.message, at: answer.at, via: 'signal' });
}

function rejection(run: RunbookRun, message: ActorMessage, at: string, what?: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.ApprovalRejected,
    nonRetryable: true,
    message:
      `${message.by} rejected the forced failover of ${run.groupLabel} (${message.reason});` +
      (what ?? ' nothing was changed.'),
    details: [{ rejectedBy: message.by, reason: message.reason, at }],
  });
}

/** How long a planned attempt may still run after its timeout before the runbook stops waiting for Azure to end it. */
const PLANNED_END_WAIT_MS = 6 * 60 * 60_000;

/**
 * A planned failover bounded by `timeoutMs`. True when the roles switched; false when it cannot complete (refused, or
 * ended Failed — the primary's region did not answer). Azure accepts no other failover while one runs, so when the
 * planned one is still running at the timeout this follows it until Azure ends it, and only then escalates.
 */
async function tryPlanned(
  run: RunbookRun,
  group: ResolvedGroup,
  target: string,
  timeoutMs: number,
  step: StepHandle,
  leg: FailoverLeg,
  /** Follow the planned attempt for `timeoutMs` only; a run before the patch followed it for up to six hours more. */
  bounded: boolean,
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
  const readTarget = () =>
    reads.readGroupRoles.executeWithOptions({ summary: `read ${group.name} at ${target}` }, [
      { group, locations: [target] },
    ]);

  let ended: 'succeeded' | 'failed' | 'running' | undefined;
  if (sent.trackingId) {
    // Azure's own account of the operation: a failure shows at once, and nothing is guessed from the roles.
    const trackingId = sent.trackingId;
    const follow = (limitMs: number) =>
      followFailoverOperation(run, step, group, trackingId, limitMs, 'planned failover');
    let operation = await follow(timeoutMs);
    if (!operation.done && !('unreadable' in operation) && !bounded) {
      step.detail('the planned failover is still running; a forced one is refused until Azure ends it');
      operation = await follow(PLANNED_END_WAIT_MS);
    }
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
    let watched = await watch(Math.max(timeoutMs - (Date.now() - startedAt), 0));
    if (!watched.done && !bounded) watched = await watch(PLANNED_END_WAIT_MS);
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

/**
 * Runs recorded before escalating after a failed planned attempt was a decision of its own: they forced with the
 * approval given before the attempt, whatever happened meanwhile, and followed a planned attempt for up to six hours.
 */
export const ESCALATION_IS_A_NEW_DECISION_PATCH = 'forced-escalation-is-a-new-decision';

/**
 * Before forcing after a planned attempt that did not complete: read the group at the target again (it may have
 * switched after all), heed an `abort` or `reject` that arrived meanwhile, and ask again for an approval older than
 * `approvalMaxAge`, showing the data-loss estimate read now.
 */
async function decideEscalation(
  run: RunbookRun,
  group: ResolvedGroup,
  params: ForcedFailoverParams,
  before: Assessment,
  step: StepHandle,
  decisions: Decisions,
): Promise<'force' | 'aborted' | 'already-primary'> {
  const now = await assess(run, group, params, step);
  run.extra.dataLossEstimate = now.estimate;
  if (now.view.replicationRole.toLowerCase() === 'primary') {
    step.evidence({ decision: `${now.target} reads Primary: nothing to force` });
    return 'already-primary';
  }
  if (run.abortRequested) {
    step.evidence({ decision: `aborted by ${run.abort!.by}: no forced failover` });
    run.warn(
      `${run.abort!.by} aborted while the planned attempt ran (${run.abort!.reason}): no forced failover was sent.`,
    );
    return 'aborted';
  }
  const approval = run.extra.approval;
  const rejected = decisions.all.find((entry) => !entry.approved);
  if (rejected) {
    step.evidence({ decision: 'rejected', rejectedBy: rejected.message.by });
    throw rejection(
      run,
      rejected.message,
      rejected.at,
      ` The planned failover to ${before.target} did not switch the roles; no forced failover was sent.`,
    );
  }
  const maxAgeMs = durationToMs(params.approvalMaxAge) ?? 0;
  const ageMs = approval ? Date.now() - Date.parse(approval.at) : Number.POSITIVE_INFINITY;
  step.evidence({
    approvalAge: formatDuration(ageMs),
    approvalMaxAge: formatDuration(maxAgeMs),
    estimate: describeDataLossEstimate(now.estimate),
  });
  if (ageMs <= maxAgeMs) return 'force';

  // Asked again: the question carries the estimate as it is now, not as it was before the planned attempt.
  const timeoutMs = durationToMs(params.approvalTimeout) ?? 0;
  const askedAt = nowIso();
  run.setAwaiting(
    'approval',
    `approve or reject again: the planned failover to ${now.target} did not complete, and the approval given at ` +
      `${approval?.at ?? 'the start'} is older than ${formatDuration(maxAgeMs)}. Force ${now.target} now? ` +
      `${describeDataLossEstimate(now.estimate)} Waiting at most ${formatDuration(timeoutMs)}.`,
  );
  const answered = await condition(() => decisions.since(askedAt).length > 0 || run.abortRequested, timeoutMs);
  run.clearAwaiting();
  if (run.abortRequested) return 'aborted';
  const answer = decisions.since(askedAt)[0];
  if (!answered || !answer) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalTimeout,
      nonRetryable: true,
      message:
        `The planned failover to ${now.target} did not complete, and nobody approved forcing it again within ` +
        `${formatDuration(timeoutMs)}; no forced failover was sent. Forcing it is a new decision: ` +
        `\`${sameIntentCommand(group, { to: now.target, kind: 'forced' })}\`.`,
    });
  }
  if (!answer.approved) {
    throw rejection(run, answer.message, answer.at, ' No forced failover was sent.');
  }
  run.extra.approval = { ...answer.message, at: answer.at, via: 'signal' };
  step.evidence({ approvedAgainBy: answer.message.by, approval: run.extra.approval });
  return 'force';
}

async function awaitNewPrimary(
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
    read: () =>
      reads.readGroupRoles.executeWithOptions({ summary: `read the role at ${target}` }, [
        { group, locations: [target] },
      ]),
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

function planOf(assessment: Assessment, params: ForcedFailoverParams) {
  const { target, from } = assessment;
  return [
    {
      step: 'await-approval',
      action: params.approval
        ? `pre-approved by ${params.approval.by} (${params.approval.reason})`
        : `wait at most ${formatDuration(durationToMs(params.approvalTimeout) ?? 0)} for approve/reject; ${describeDataLossEstimate(assessment.estimate)}`,
    },
    ...(params.tryPlannedFirst
      ? [
          {
            step: 'try-planned',
            action: `POST failover at ${target}; escalate if it cannot complete within ${formatDuration(durationToMs(params.tryPlannedFirst.timeout) ?? 0)}`,
          },
        ]
      : []),
    { step: 'force-failover', action: `POST forceFailoverAllowDataLoss at ${target} (once)` },
    { step: 'await-new-primary', action: `poll ${target} only until it reports Primary (${from} may not answer)` },
    {
      step: 'await-writable',
      action: `poll until every database on ${assessment.targetInstance.name} is READ_WRITE`,
    },
  ];
}
