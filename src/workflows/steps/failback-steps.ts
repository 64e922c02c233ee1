/**
 * The steps of a failback, each declared once. `failback` (failback.ts) runs them in order: the wait until the group
 * is synchronizing again (and, since `FAILBACK_WAITS_FOR_LAG_PATCH`, caught up), then the planned failover home. The
 * wait is not in the dry-run plan: a dry run reads the group as it is now and plans the way back.
 */
import { ApplicationFailure, continueAsNew, patched, sleep } from '@temporalio/workflow';
import type { GroupRolesReading } from '../../activities';
import { formatDuration } from '../../domain/durations';
import type { ResolvedGroup } from '../../domain/group-ref';
import type { FailbackInput, FailbackParams } from '../../domain/inputs';
import { FailureTypes, type RunbookReport } from '../definitions';
import { FAILBACK_WAITS_FOR_LAG_PATCH, readCatchUp, type CatchUpReading, type InstanceCache } from './failback-wait';
import { groupKindOf } from './group-kind';
import { describeFailure, type RunbookRun } from './runbook-run';
import { declareStep } from './step-declaration';

/** Polls per run while waiting; past this the wait continues as a new run, so history stays small over days. */
const POLLS_PER_RUN = 100;
const MAX_POLL_INTERVAL_MS = 15 * 60_000;

/** What the failback's wait is given. */
export interface FailbackWait {
  run: RunbookRun;
  /** The runbook's input as given, for the run the wait continues as. */
  input: FailbackInput;
  params: FailbackParams;
  group: ResolvedGroup;
  /** Where the primary role goes back to. */
  home: string;
  /** The group's two locations, both read at each poll. */
  locations: string[];
  /** When the wait began, in the first run of a wait that continued as new runs. */
  waitingSince: string;
}

/**
 * Waits, durably and bounded by `waitTimeout`, until the group is synchronizing (and every database within
 * `maxLagSeconds`); returns the roles then read. Past `POLLS_PER_RUN` polls it continues as a new run.
 */
export const awaitSynchronizingStep = declareStep<unknown, FailbackWait, GroupRolesReading>({
  name: 'await-synchronizing',
  title: ({ waitingSince }) => `Wait until the group is synchronizing again (since ${waitingSince})`,
  body: async ({ run, input, params, group, home, locations, waitingSince }, step) => {
    const waitTimeoutMs = params.waitTimeout;
    const pollIntervalMs = params.pollInterval;
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
        // The same workflow type (failback), named by its signature: importing failback.ts here would be a cycle.
        await continueAsNew<(input: FailbackInput) => Promise<RunbookReport>>({
          ...input,
          resume: { waitingSince, polls: totalPolls },
        });
      }
      await sleep(Math.min(intervalMs, waitTimeoutMs - waitedMs), {
        summary: 'wait for the group to synchronize',
      });
      intervalMs = Math.min(intervalMs * 2, Math.max(MAX_POLL_INTERVAL_MS, pollIntervalMs));
    }
  },
});
