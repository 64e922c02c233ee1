import { ApplicationFailure, CancellationScope, deprecatePatch, patched, setHandler } from '@temporalio/workflow';
import { ForcedFailoverInputSchema } from '../domain/inputs';
import { describeGroupRef, isServerGroup } from '../domain/group-ref';
import { reads } from './steps/activity-presets';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type FailoverLeg,
  type ForcedFailoverInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { listenForDecisions } from './steps/approval';
import { describeDataLossEstimate, lossEvidence } from './steps/data-loss-estimate';
import { rejection } from './steps/forced-approval';
import {
  assessStep,
  awaitApprovalStep,
  azureTryPlannedStep,
  awaitNewPrimaryStep,
  awaitTargetWritableStep,
  decideEscalationStep,
  forceFailoverStep,
  forcedFailoverSteps,
  tryPlannedStep,
  type ForcedDecide,
  type ForcedRun,
} from './steps/forced-steps';
import { intendedPrimary, statesIntent } from './steps/intent';
import { sameIntentCommand } from '../domain/next-steps';
import { openRunbook } from './steps/opening';
import { runHooks } from './steps/hooks';
import { RunbookRun, nowIso } from './steps/runbook-run';
import { REFUSED_BUSY_IS_NOT_SENT_PATCH } from './steps/send-failover';
import { planOf, runStep } from './steps/step-declaration';
import { readsPrimary } from './steps/target-side';

export { FORCED_FAILOVER_REFUSES_SEEDING_PATCH } from './steps/forced-assess';
export { JUDGED_APPROVALS_PATCH } from './steps/approval';

/**
 * Deprecated patch: escalating after a failed planned attempt is a decision of its own. Runs recorded before it forced
 * with the approval given before the attempt, whatever happened meanwhile, and followed a planned attempt for up to six
 * hours; no kept history took that path, so only the new one is left.
 */
export const ESCALATION_IS_A_NEW_DECISION_PATCH = 'forced-escalation-is-a-new-decision';

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
  const decision = listenForDecisions(run);

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
    run.approvalDesk?.judgeHere({ requester: run.requestedBy, groups: [group] });

    const assessment = await runStep(run, assessStep, { run, group, params });
    const { target, from } = assessment;
    // Asked only for a server group with tryPlannedFirst: a Managed Instance run's history is as it was.
    const azureTriesPlanned =
      params.tryPlannedFirst !== undefined && isServerGroup(group)
        ? (await reads.serverGroupApi.executeWithOptions({ summary: 'what the api-version offers' }, []))
            .tryPlannedBeforeForcedFailover
        : undefined;
    run.rolesBefore = { primary: from, secondary: target };
    run.extra.dataLossEstimate = assessment.estimate;

    if (readsPrimary(assessment.view) && intent) {
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
    if (readsPrimary(assessment.view)) {
      run.rolesAfter = { primary: target, secondary: from };
      run.warn(`${target} already reports Primary: no failover was sent.`);
      run.skipStep('force-failover', `Force the failover to ${target}`, `${target} is already primary: nothing to do`);
      return params.dryRun ? Outcomes.dryRun : Outcomes.succeeded;
    }

    if (params.dryRun) {
      run.plan = planOf(forcedFailoverSteps, { params, assessment, azureTriesPlanned });
      return Outcomes.dryRun;
    }

    const deciding: ForcedDecide = { run, group, params, assessment, decision, azureTriesPlanned };
    await run.beforePointOfNoReturn(async () => {
      await runStep(run, awaitApprovalStep, deciding);
      await runHooks(run, 'before', { from, to: target });
    });

    run.passPointOfNoReturn();
    const leg: FailoverLeg = {
      name: 'failover',
      from,
      to: target,
      failoverSent: false,
      dataLoss: { kind: 'unknown', detail: 'the failover has not been sent' },
    };
    run.legs.push(leg);
    // Escalating after a planned attempt is a decision of its own, made on what is true then.
    const escalationIsDecided = params.tryPlannedFirst !== undefined;
    if (escalationIsDecided) deprecatePatch(ESCALATION_IS_A_NEW_DECISION_PATCH);
    const context: ForcedRun = { ...deciding, leg, escalationIsDecided };
    let stopped: 'aborted' | undefined;
    await CancellationScope.nonCancellable(async () => {
      await run.notifier.notify('pointOfNoReturn', {
        message: `forcedFailover of ${group.displayName}: forcing ${target} to be primary (${from} may lose data)`,
        fromLocation: from,
        toLocation: target,
      });
      leg.requestedAt = nowIso();
      const requestedAtMs = Date.now();
      let planned = false;
      if (params.tryPlannedFirst) leg.tryPlannedBy = azureTriesPlanned ? 'azure' : 'fogpilot';
      if (params.tryPlannedFirst && !azureTriesPlanned) {
        planned = await runStep(run, tryPlannedStep, context);
      }
      if (!planned && escalationIsDecided && !azureTriesPlanned) {
        const decided = await runStep(run, decideEscalationStep, context);
        if (decided === 'aborted') {
          stopped = 'aborted';
          return;
        }
        if (decided === 'already-primary') planned = true;
      }
      if (!planned) {
        const sent = await runStep(run, azureTriesPlanned ? azureTryPlannedStep : forceFailoverStep, context);
        const busyIsNotSent = patched(REFUSED_BUSY_IS_NOT_SENT_PATCH);
        leg.failoverSent = leg.failoverSent || (busyIsNotSent ? sent.byThisRun : sent.outcome !== 'already-primary');
        if (busyIsNotSent && !sent.byThisRun && sent.failoverUnderWay) leg.switchedBy = 'another-operation';
        const sentBy =
          sent.outcome === 'refused-busy' && !sent.byThisRun
            ? 'refused by Azure because another operation runs (nothing was sent)'
            : sent.outcome === 'in-progress'
              ? 'found under way (nothing was sent)'
              : 'sent';
        context.sent = sent;
        context.sentBy = sentBy;
        await runStep(run, awaitNewPrimaryStep, context);
      }
      await runStep(run, awaitTargetWritableStep, context);
      leg.allWritableAt = nowIso();
      leg.rtoSeconds = Math.round((Date.now() - requestedAtMs) / 100) / 10;
      leg.dataLoss = planned
        ? {
            // "None proven" is kept for a planned POST sent after this run's own copy-sync proof, which this path has not.
            kind: 'unknown',
            detail:
              'The planned failover completed. Azure synchronizes fully before a planned failover switches the roles, ' +
              'so no loss is expected, but this run did not prove it with sp_wait_for_database_copy_sync.',
          }
        : azureTriesPlanned
          ? {
              kind: 'estimated',
              detail:
                `Azure's tryPlannedBeforeForcedFailover: no loss if its planned part completed (${from} answered); ` +
                `if Azure forced, what ${from} committed after the secondary last hardened it is lost. ` +
                describeDataLossEstimate(assessment.estimate),
              databases: lossEvidence(assessment.estimate),
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
      await runHooks(run, 'after', leg);
      return Outcomes.alreadyPrimary;
    }
    await runHooks(run, 'after', leg);
    return Outcomes.succeeded;
  });
}
