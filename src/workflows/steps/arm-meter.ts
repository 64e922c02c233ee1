/**
 * The ARM calls a run cost, metered where its activities are called rather than by each step: every activity that
 * talks to ARM returns its count in its result envelope (`armCalls`), and a failed attempt carries it in its details.
 * The activity proxies of {@link ./activity-presets} are wrapped with {@link metered}, so a step cannot forget to count.
 *
 * The tally is module state: the SDK gives each workflow run its own instance of the workflow modules (its own
 * module cache, also in a reused V8 context), so it is this run's and nobody else's.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { Metered } from '../../activities/arm';
import type { ArmCallCount } from '../definitions';

/** The activities whose result says what ARM calls they made. */
type MeteredActivity = {
  [K in keyof Activities]: Awaited<ReturnType<Activities[K]>> extends Metered ? K : never;
}[keyof Activities];

// Every activity with a metered result, and only those: the compiler keeps this list whole.
const METERED: Record<MeteredActivity, true> = {
  resolveGroup: true,
  readGroupRoles: true,
  readInstances: true,
  readRetentionPolicies: true,
  startInstanceScale: true,
  readOperationProgress: true,
  readFailoverProgress: true,
  sendFailover: true,
  readServerGroupRoles: true,
  readServerSides: true,
  startServerSideScale: true,
  readServerSideScaleProgress: true,
  sendServerFailover: true,
  readServerFailoverProgress: true,
  readPairEvidence: true,
  resolveNewGroup: true,
  readSeedingState: true,
  sendCreateGroup: true,
  sendDeleteGroup: true,
  lookAtGroups: true,
  readRestoreSource: true,
  sendRestore: true,
  readDatabaseState: true,
  sendDropDatabase: true,
  findDroppedDatabase: true,
  readGroupRecoveryPoints: true,
  readWorkloadRecoveryPoints: true,
  readWorkloadBackupPolicy: true,
  readVmProtection: true,
  discoverProtectableVm: true,
  readCosmosAccount: true,
  readRestorableCosmosAccount: true,
  sendProtectVm: true,
  readVmBackupJobs: true,
  sendVmBackup: true,
  readWorkloadOperation: true,
  readBackupJob: true,
  readRecoveryPoints: true,
  sendMigrateToContinuous: true,
};

const tally: ArmCallCount = { reads: 0, writes: 0, throttled: 0 };

/** The ARM calls this workflow run's activities have reported so far (a live object: it keeps counting). */
export function armCallsOfThisRun(): ArmCallCount {
  return tally;
}

function add(count: ArmCallCount | undefined): void {
  if (!count) return;
  tally.reads += count.reads;
  tally.writes += count.writes;
  tally.throttled += count.throttled;
}

/** The count a failed activity carried in its details (the first detail that has one), if any. */
function countOfFailure(error: unknown): ArmCallCount | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  for (const detail of cause.details ?? []) {
    if (detail && typeof detail === 'object' && 'armCalls' in detail) return (detail as Metered).armCalls;
  }
  return undefined;
}

export interface MeterOptions {
  /**
   * Count the ARM calls of a failed activity too (from its details). Only where a run has always reported them: the
   * failover request, the scale requests of `scaleGroup` and its last read of the sizes; elsewhere a failed read's
   * calls are not in the report, and metering keeps the figures as they were.
   */
  failures?: boolean;
}

/**
 * `proxy` (from `proxyActivities`) with each ARM activity metered as it settles. The caller gets the very promise the
 * SDK returned: the count is taken in a reaction registered before the caller's own, so it is in the tally when the
 * caller resumes, and nothing about when the caller resumes changes (no extra turn of the event loop).
 */
export function metered<P extends object>(proxy: P, options: MeterOptions = {}): P {
  const observe = (promise: Promise<unknown>): Promise<unknown> => {
    promise.then(
      (result) => add((result as Partial<Metered> | undefined)?.armCalls),
      (error: unknown) => {
        if (options.failures) add(countOfFailure(error));
      },
    );
    return promise;
  };
  return new Proxy(proxy, {
    get(target, name, receiver) {
      const activity = Reflect.get(target, name, receiver) as unknown;
      if (typeof name !== 'string' || !Object.hasOwn(METERED, name) || typeof activity !== 'function') return activity;
      const call = activity as ((...args: unknown[]) => Promise<unknown>) & {
        executeWithOptions: (options: unknown, args: unknown[]) => Promise<unknown>;
      };
      const wrapped = (...args: unknown[]) => observe(call(...args));
      wrapped.executeWithOptions = (activityOptions: unknown, args: unknown[]) =>
        observe(call.executeWithOptions(activityOptions, args));
      return wrapped;
    },
  });
}
