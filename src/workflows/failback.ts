import { ApplicationFailure, continueAsNew, patched, sleep, setHandler } from '@temporalio/workflow';
import { FailbackInputSchema } from '../domain/inputs';
import { describeGroupRef } from '../domain/group-ref';
import { formatDuration } from '../domain/durations';
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
import type { GroupRolesReading } from '../activities';
import {
  FAILBACK_WAITS_FOR_LAG_PATCH,
  readCatchUp,
  type CatchUpReading,
  type InstanceCache,
} from './steps/failback-wait';
import { groupKindOf } from './steps/group-kind';
import { intendedPrimary, statesIntent } from './steps/intent';
import { runPlannedLeg } from './planned-failover';
import { ALREADY_PRIMARY } from './steps/planned-leg';
import { openRunbook } from './steps/opening';
import { RunbookRun, describeFailure, nowIso } from './steps/runbook-run';

/** Polls per run while waiting; past this the wait continues as a new run, so history stays small over days. */
const POLLS_PER_RUN = 100;
const MAX_POLL_INTERVAL_MS = 15 * 60_000;

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
    const waitTimeoutMs = params.waitTimeout;
    const pollIntervalMs = params.pollInterval;
    // Nothing is changed while waiting: an abort (or a cancellation) ends the wait at once, and the runbook aborted.
    const roles = await run.beforePointOfNoReturn(() =>
      run.step(
        'await-synchronizing',
        `Wait until the group is synchronizing again (since ${waitingSince})`,
        async (step) => {
          const waitsForLag = patched(FAILBACK_WAITS_FOR_LAG_PATCH);
          run.setAwaiting(
            'azure',
            waitsForLag
              ? `waiting for the group to be synchronizing with every database within ${params.maxLagSeconds}s`
              : 'waiting for the group to be synchronizing again',
            { preemptible: true },
          );
          const instances: InstanceCache = new Map();
          let intervalMs = pollIntervalMs;
          for (let poll = 1; ; poll++) {
            let reading: GroupRolesReading | undefined;
            let catchUp: CatchUpReading | undefined;
            if (waitsForLag) {
              catchUp = await readCatchUp(run, group, home, params.maxLagSeconds, instances);
              reading = catchUp.roles;
              step.evidence({ detail: catchUp.detail, lags: catchUp.lags });
            } else {
              try {
                reading = await groupKindOf(group).readRoles(group, locations, 'read the group at both locations');
              } catch (error) {
                // A region still dark after a forced failover answers nothing: keep waiting, that is what this step is for.
                step.evidence({ lastError: describeFailure(error).message });
              }
            }
            const totalPolls = (params.resume?.polls ?? 0) + poll;
            step.evidence({ polls: totalPolls, roles: reading?.summary.detail, status: reading?.summary.status });
            const ready = catchUp
              ? catchUp.ready
              : reading !== undefined && reading.summary.consistent && reading.summary.status === 'synchronizing';
            if (reading && ready) {
              run.clearAwaiting();
              return reading;
            }
            const waitedMs = Date.now() - Date.parse(waitingSince);
            if (waitedMs >= waitTimeoutMs) {
              const synchronizing = reading?.summary.consistent && reading.summary.status === 'synchronizing';
              throw ApplicationFailure.create({
                type: FailureTypes.NotSynchronizing,
                nonRetryable: true,
                message:
                  catchUp && synchronizing
                    ? `${group.displayName} is synchronizing, but replication had not caught up after waiting ` +
                      `${formatDuration(waitedMs)} (last read: ${catchUp.detail}). Nothing was changed. Find what ` +
                      'holds the secondary back (log rate, network), then start failback again, with ' +
                      '--max-lag-seconds raised if this lag is acceptable.'
                    : `${group.displayName} was not synchronizing after waiting ${formatDuration(waitedMs)} ` +
                      `(last read: ${catchUp?.detail ?? reading?.summary.detail ?? 'no answer'}). Nothing was changed. Repair replication, then start failback again.`,
              });
            }
            if (poll >= POLLS_PER_RUN) {
              await continueAsNew<typeof failback>({ ...input, resume: { waitingSince, polls: totalPolls } });
            }
            await sleep(Math.min(intervalMs, waitTimeoutMs - waitedMs), {
              summary: 'wait for the group to synchronize',
            });
            intervalMs = Math.min(intervalMs * 2, Math.max(MAX_POLL_INTERVAL_MS, pollIntervalMs));
          }
        },
      ),
    );

    if (roles.summary.primaryLocation === home) {
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
