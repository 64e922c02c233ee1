import { ApplicationFailure, CancellationScope, setHandler } from '@temporalio/workflow';
import { ReprotectInputSchema } from '../domain/inputs';
import { describeGroupRef } from '../domain/group-ref';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type ReprotectInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { listenForDecisions } from './steps/approval';
import { lockCarryingDecision } from './steps/decision-step';
import { checkPrerequisitesStep } from './steps/establish-steps';
import { openRunbook } from './steps/opening';
import {
  approveDeletionStep,
  deleteBrokenGroupStep,
  establishNewGroupStep,
  findSurvivorStep,
  resolveNewPairStep,
} from './steps/reprotect-steps';
import { RunbookRun } from './steps/runbook-run';

/**
 * **reprotect**: after a region is lost for good, protects the surviving primary again: deletes the broken failover
 * group on the surviving side and establishes a new one between the survivor and an instance in a third region
 * (`newSecondaryInstance`), waiting durably for its seeding.
 *
 * Before anything is changed it finds the surviving primary (the location that answers Primary; refused when none
 * does, or when the other region answers as a synchronizing secondary: nothing is lost then) and checks every
 * prerequisite of the new pair, as `establishGroup` does, the group it replaces aside. Deleting a group cannot be
 * undone, so it waits for a person's approval (`approve` / `reject`, judged by the access rules like a forced
 * failover's), or takes `approval` from the input.
 *
 * Side effects: one DELETE of the broken group at the survivor's location (followed to its end), then those of
 * `establishGroup` (one PUT, the seeding wait), run as its child under this run's lock. Holds the group's lock.
 * `dryRun` reads and checks only. An abort before the approval changes nothing.
 *
 * Fails with `InvalidInput`, `GroupNotFound`, `GroupBusy`, `PreflightFailed`, `ApprovalRejected`, `ApprovalTimeout`,
 * `AzureRequestRejected` or any failure of `establishGroup`.
 */
export async function reprotect(input: ReprotectInput): Promise<RunbookReport> {
  const run = new RunbookRun(
    RunbookTypes.reprotect,
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
      schema: ReprotectInputSchema,
      input,
      group: (params) => params.group,
      lock: (params) =>
        lockCarryingDecision(RunbookTypes.reprotect, input, params, decision, `the reprotect of ${run.groupLabel}`),
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;
    run.approvalDesk?.judgeHere({ requester: run.requestedBy, groups: [group] });

    const { survivor, newPair } = await run.beforePointOfNoReturn(async () => {
      const found = await findSurvivorStep(run, group);
      run.rolesBefore = { primary: found.location, secondary: found.lostLocation };
      const pair = await resolveNewPairStep(run, params, group, found);
      await checkPrerequisitesStep(run, pair, params, { replacing: group.name, stepName: 'check-new-pair' });
      return { survivor: found, newPair: pair };
    });
    if (params.dryRun) {
      run.plan = [
        { step: 'await-approval', action: `approval to delete ${group.displayName}` },
        { step: 'delete-group', action: `DELETE ${group.name} at ${survivor.location}` },
        {
          step: 'establish-group',
          action: `establishGroup ${newPair.group.name}: ${survivor.location} → ${newPair.group.secondaryLocation}`,
        },
      ];
      return Outcomes.dryRun;
    }
    await run.beforePointOfNoReturn(async () => {
      await approveDeletionStep(run, params, group, survivor, newPair, decision);
      // The decision may have taken hours: the survivor must still be the one it was about.
      const now = await findSurvivorStep(run, group, 'recheck-survivor');
      if (now.location !== survivor.location || now.instanceId.toLowerCase() !== survivor.instanceId.toLowerCase()) {
        throw ApplicationFailure.create({
          type: FailureTypes.PreflightFailed,
          nonRetryable: true,
          message:
            `While the deletion waited for approval, the surviving primary of ${group.displayName} changed ` +
            `(${survivor.location} then, ${now.location} now). Nothing was changed: start reprotect again.`,
        });
      }
    });
    run.passPointOfNoReturn();
    // Past here the group is being replaced: the deletion and the new group's start run whatever arrives meanwhile.
    await CancellationScope.nonCancellable(async () => {
      await deleteBrokenGroupStep(run, group, survivor);
      await establishNewGroupStep(run, params, survivor, newPair);
    });
    run.rolesAfter = { primary: survivor.location, secondary: newPair.group.secondaryLocation };
    run.warn(
      `${newPair.group.displayName} now pairs ${survivor.location} with ${newPair.group.secondaryLocation}: update its ` +
        'inventory entry (primaryLocation, secondaryLocation) in fogpilot.yaml so failovers and drills go there.',
    );
    return Outcomes.succeeded;
  });
}
