/**
 * Test-only workflow: runs the write probe in a cancellation scope until signalled, then cancels the scope and says how
 * the probe's tally reached it. It is the pattern a DR drill uses to stop its probe:
 * - `WAIT_CANCELLATION_COMPLETED`, so the workflow waits for the activity's own answer to the cancellation, which is
 *   to return its tally as the activity's result;
 * - optionally, the probe's last heartbeat read just before cancelling, for the one case with no activity running to
 *   answer: cancelled between two attempts, Temporal ends it cancelled and the tally is not in the cancellation.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createProbeActivities, ProbeWritesRequest } from '../../src/activities/probe';
import type { ProbeTally } from '../../src/domain/probe-tally';

type ProbeActivities = ReturnType<typeof createProbeActivities>;

export const stopProbeSignal = defineSignal('stopProbe');

/** The probe's activity id, so its pending state can be found in the workflow's description. */
export const PROBE_ACTIVITY_ID = 'probe-listener-writes';

export interface ProbeRunInput extends ProbeWritesRequest {
  /** Delay before a failed attempt is retried; long enough and a test can cancel the probe between attempts. */
  retryInitialInterval: string;
  /** Read the probe's last heartbeat before cancelling it. */
  readCheckpointBeforeCancel: boolean;
}

export interface ProbeRunResult {
  /**
   * `returned`: the activity answered the cancellation by returning its tally. `checkpoint`: the cancellation came
   * back without one, and the tally is the last heartbeat read before cancelling. `lost`: no tally at all.
   */
  delivery: 'returned' | 'checkpoint' | 'lost';
  tally?: ProbeTally;
  /** What the cancellation carried when it came back as a failure (its `details`), for the record. */
  cancellationDetails?: unknown[];
}

export async function probeUntilStopped(input: ProbeRunInput): Promise<ProbeRunResult> {
  const { probeListenerWrites } = proxyActivities<ProbeActivities>({
    activityId: PROBE_ACTIVITY_ID,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: '2 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: input.retryInitialInterval, backoffCoefficient: 1, maximumAttempts: 10 },
  });
  const { readProbeCheckpoint } = proxyActivities<ProbeActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  });
  let stopRequested = false;
  setHandler(stopProbeSignal, () => {
    stopRequested = true;
  });
  const { retryInitialInterval: _retry, readCheckpointBeforeCancel, ...request } = input;
  const scope = new CancellationScope();
  const probe = scope.run(() => probeListenerWrites(request));
  // The probe ends only when cancelled; should it fail first, stop waiting for the signal.
  await Promise.race([condition(() => stopRequested), probe.catch(() => undefined)]);
  const checkpoint = readCheckpointBeforeCancel
    ? await readProbeCheckpoint({
        workflowId: workflowInfo().workflowId,
        runId: workflowInfo().runId,
        activityId: PROBE_ACTIVITY_ID,
      })
    : undefined;
  scope.cancel();
  try {
    return { delivery: 'returned', tally: await probe };
  } catch (error) {
    if (!isCancellation(error)) throw error;
    const cause = (error as { cause?: { details?: unknown[] } }).cause;
    const cancellationDetails = [...(cause?.details ?? [])];
    if (checkpoint?.tally) return { delivery: 'checkpoint', tally: checkpoint.tally, cancellationDetails };
    return { delivery: 'lost', cancellationDetails };
  }
}
