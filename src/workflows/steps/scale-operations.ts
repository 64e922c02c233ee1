/**
 * Following a management operation (a scale) to its end from the workflow, and undoing a scale: shared by the planned
 * failover (which scales the secondary up first) and `scaleGroup`.
 */
import type { ScaleTarget } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import type { FailoverGroupKind } from './group-kind';
import { OPERATION_POLLING, pollUntil } from './poll';
import type { StepHandle } from './runbook-run';

/** How a followed operation ended: Azure's `Succeeded`, `Failed` or `Canceled`, or `TimedOut` when still running. */
export interface OperationEnd {
  state: string;
  message?: string;
  percentComplete?: number;
}

/**
 * Polls a tracked operation (durable timers, honouring Retry-After) until it leaves `InProgress` or `timeoutMs`
 * passes. Its progress shows in the step's evidence (`operation`, `state`, `percentComplete`, `polls`) and live detail.
 * Never throws for the operation's own end: the caller decides what a `Failed` or `TimedOut` means.
 */
export async function followOperation<Member>(
  kind: FailoverGroupKind<Member>,
  step: StepHandle,
  memberId: string,
  trackingId: string,
  timeoutMs: number,
  label = 'scaling',
): Promise<OperationEnd> {
  const result = await pollUntil({
    read: () => kind.readScaleProgress(memberId, trackingId, `progress of ${trackingId}`),
    done: (progress) => progress.state !== 'InProgress',
    timeoutMs,
    interval: OPERATION_POLLING,
    retryAfterMs: (progress) => progress.retryAfterMs,
    summary: 'wait for the scaling operation to progress',
    onRead: (progress, poll) => {
      step.evidence({
        operation: trackingId,
        state: progress.state,
        percentComplete: progress.percentComplete,
        polls: poll,
      });
      step.detail(`${label}: ${progress.state} ${progress.percentComplete ?? 0}%`);
    },
  });
  if (!result.done) {
    return {
      state: 'TimedOut',
      message: `still running after ${formatDuration(timeoutMs)}`,
      percentComplete: result.value.percentComplete,
    };
  }
  return {
    state: result.value.state,
    message: result.value.error?.message,
    percentComplete: result.value.percentComplete,
  };
}

/**
 * Undoes a scale this runbook started: lets the operation end first (Azure refuses a PATCH while it runs), then scales
 * the member back to `before` and follows that to its end. Throws when scaling back does not succeed.
 */
export async function scaleBack<Member>(
  kind: FailoverGroupKind<Member>,
  step: StepHandle,
  memberId: string,
  trackingId: string,
  before: ScaleTarget,
  timeoutMs: number,
): Promise<void> {
  // Azure refuses a PATCH while the scale-up still runs; let it end first.
  await followOperation(kind, step, memberId, trackingId, timeoutMs);
  const back = await kind.startScale(memberId, before, 'scale the secondary back');
  step.evidence({ scaleBack: back.status, to: before });
  if (back.status !== 'already-at-target' && back.trackingId) {
    const end = await followOperation(kind, step, memberId, back.trackingId, timeoutMs);
    if (end.state !== 'Succeeded') throw new Error(`scaling back ended ${end.state}`);
  }
}
