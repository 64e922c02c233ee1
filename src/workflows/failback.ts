import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { FailbackInputSchema } from '../domain/inputs';
import { describeGroupRef } from '../domain/group-ref';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type FailbackInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { awaitSynchronizingStep } from './steps/failback-steps';
import { intendedPrimary, statesIntent } from './steps/intent';
import { runPlannedLeg } from './planned-failover';
import { ALREADY_PRIMARY } from './steps/planned-leg';
import { openRunbook } from './steps/opening';
import { RunbookRun, nowIso } from './steps/runbook-run';
import { runStep } from './steps/step-declaration';

/**
 * **failback**: returns the primary role to the group's home region (or `targetLocation`). Waits durably — hours or
 * days if needed, at most `waitTimeout` — until the group is synchronizing again (after a forced failover, until the
 * old region is back and reseeded) and every database's replication lag, read on the current primary, is within
 * `maxLagSeconds`; then runs the planned failover toward it.
 *
 * Side effects: those of a planned failover, once the wait ends. States an intent: when the home region (or
 * `targetLocation`) already is primary it sends nothing and ends `alreadyPrimary`. A group named by an ARM id the
 * inventory does not know has no known home: it needs `targetLocation`. Holds the group's lock, also while waiting.
 *
 * Fails with `InvalidInput`, `GroupNotFound`, `GroupBusy`, `NotSynchronizing` (the wait ran out: not synchronizing,
 * or still lagging) or any failure of `plannedFailover`.
 */
export async function failback(input: FailbackInput): Promise<RunbookReport> {
  const run = new RunbookRun(
    RunbookTypes.failback,
    describeGroupRef((input as { group?: unknown } | undefined)?.group),
  );
  // Handlers before anything else, so a query, an abort or a lock holder's status sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    const opened = await openRunbook(run, {
      schema: FailbackInputSchema,
      input,
      group: (params) => params.group,
      fix: (params, group) => {
        const intent = statesIntent();
        // Fixed before anything is read; a group whose home is not known needs targetLocation.
        const intended = intent
          ? intendedPrimary(run, group, params.targetLocation, 'home-primary').primary
          : undefined;
        return { intent, intended };
      },
      lock: (params) => (params.dryRun ? undefined : { workflowType: RunbookTypes.failback, args: [input] }),
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;
    const { intent, intended } = opened.fixed;
    const home = intended ?? params.targetLocation ?? group.primaryLocation;
    const locations = [group.primaryLocation, group.secondaryLocation];
    if (!locations.includes(home)) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message:
          `targetLocation: ${home} is not a location of group ${group.displayName} (${locations.join(', ')}); ` +
          'nothing was changed. Name one of its regions, or leave targetLocation out to fail back to the home primary.',
      });
    }

    const waitingSince = params.resume?.waitingSince ?? nowIso();
    // Nothing is changed while waiting: an abort (or a cancellation) ends the wait at once, and the runbook aborted.
    const roles = await run.beforePointOfNoReturn(() =>
      runStep(run, awaitSynchronizingStep, { run, input, params, group, home, locations, waitingSince }),
    );

    // Home read alone (the other region did not answer) is for the leg's preflight to decide on, with its evidence.
    if (roles.summary.primaryLocation === home && roles.views.length > 1) {
      run.rolesBefore = run.rolesAfter = { primary: home, secondary: roles.summary.secondaryLocation! };
      run.skipStep('failback', `Fail back to ${home}`, `${home} is already primary: nothing to do`);
      return intent ? Outcomes.alreadyPrimary : Outcomes.succeeded;
    }
    const leg = await runPlannedLeg(
      run,
      group,
      { ...params, targetLocation: home },
      { leg: 'failback', stepPrefix: '', sizesAfterSwitch: 'match' },
    );
    if (params.dryRun) return Outcomes.dryRun;
    if (leg === ALREADY_PRIMARY) return Outcomes.alreadyPrimary;
    if (!leg || run.abortRequested) return Outcomes.abortedAfterFailover;
    return Outcomes.succeeded;
  });
}
