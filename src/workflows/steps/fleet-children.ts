/**
 * The fleet's children: one `plannedFailover` or `forcedFailover` per group, under the group's lock id, at most
 * `concurrency` at once; an abort stops starting more and is forwarded to those running. Each child's outcome goes into
 * the fleet report as it ends.
 */
import { ParentClosePolicy, patched, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { FleetFailoverParams } from '../../domain/inputs';
import {
  FailureTypes,
  RunbookTypes,
  abortSignal,
  isRunbookSummary,
  type ActorMessage,
  type FleetMember,
  type FleetSummary,
  type RunbookReport,
  type RunbookSummary,
} from '../definitions';
import { RESULT_SHAPE_MEMO } from './report-summary';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';
import { countOutcomes, inBatches, type Candidate } from './fleet-selection';

/**
 * Runs recorded before the fleet's children returned a summary (their full report stays with them) took each child's
 * whole report into the fleet's history.
 */
export const FLEET_CHILD_SUMMARIES_PATCH = 'fleet-children-return-summaries';

/** Starts a child runbook per group to run (none once the fleet is aborted) and records each one's outcome as it ends. */
export async function runChildren(
  run: RunbookRun,
  params: FleetFailoverParams,
  toRun: Candidate[],
  fleet: FleetSummary,
  approval: ActorMessage | undefined,
  step: StepHandle,
): Promise<void> {
  const info = workflowInfo();
  // Otherwise a 500-group fleet of 50 databases each carries every child's timeline (about 15 MB of history), and its
  // report lists every database of every group (about 2 MB, Temporal's limit for one payload).
  const summaries = patched(FLEET_CHILD_SUMMARIES_PATCH);
  const running = new Set<ChildWorkflowHandle<() => Promise<RunbookReport | RunbookSummary>>>();
  run.onAbort((message) => {
    for (const child of running) child.signal(abortSignal, message).catch(() => undefined);
  });
  const reason = `fleet ${info.workflowId}${params.reason ? `: ${params.reason}` : ''}`;
  const childType = params.mode === 'forced' ? RunbookTypes.forcedFailover : RunbookTypes.plannedFailover;
  let finished = 0;
  const progress = (): void => {
    fleet.counts = countOutcomes(fleet.members);
    step.evidence({ started: finished + running.size, finished, counts: fleet.counts });
    step.detail(`${finished}/${toRun.length} done, ${running.size} running`);
  };

  await inBatches(toRun, params.concurrency, async (candidate) => {
    const member = fleet.members.find((entry) => entry.group === candidate.group.displayName)!;
    if (run.abortRequested) {
      member.detail = 'not started: the fleet was aborted';
      return;
    }
    const childInput =
      params.mode === 'forced'
        ? {
            group: candidate.ref,
            targetLocation: candidate.target,
            ...(approval ? { approval: { by: approval.by, reason: `fleet approval: ${approval.reason}` } } : {}),
            dryRun: params.dryRun,
            requestedBy: params.requestedBy,
            reason,
          }
        : {
            group: candidate.ref,
            targetLocation: candidate.target,
            maxLagSeconds: params.maxLagSeconds,
            dryRun: params.dryRun,
            requestedBy: params.requestedBy,
            reason,
          };
    // A dry run takes no lock, so it gets its own id; a real child runs under the group's lock id.
    const workflowId = params.dryRun
      ? `${info.workflowId}/dry-run/${candidate.group.lockWorkflowId}`
      : candidate.group.lockWorkflowId;
    member.workflowId = workflowId;
    let child: ChildWorkflowHandle<() => Promise<RunbookReport | RunbookSummary>>;
    try {
      child = await startChild<() => Promise<RunbookReport | RunbookSummary>>(childType, {
        workflowId,
        args: [childInput] as unknown as [],
        taskQueue: info.taskQueue,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `${childType} of ${candidate.group.displayName} for fleet ${info.workflowId}`,
        ...(summaries ? { memo: { [RESULT_SHAPE_MEMO]: 'summary' } } : {}),
      });
    } catch (error) {
      member.outcome = 'failed';
      member.error =
        error instanceof WorkflowExecutionAlreadyStartedError
          ? {
              type: FailureTypes.GroupBusy,
              message: `another runbook holds ${candidate.group.displayName} (${workflowId}); this group was left as it is`,
            }
          : describeFailure(error);
      finished += 1;
      progress();
      return;
    }
    running.add(child);
    // An abort that arrived while this child was starting missed the forwarding above.
    if (run.abort) child.signal(abortSignal, { by: run.abort.by, reason: run.abort.reason }).catch(() => undefined);
    progress();
    try {
      const result = await child.result();
      member.outcome = result.outcome;
      member.rtoSeconds = result.rtoSeconds;
      member.dataLoss = isRunbookSummary(result) ? dataLossOf(result) : result.legs[0]?.dataLoss;
    } catch (error) {
      const failure = describeFailure(error);
      const childResult = failure.details[0] as RunbookReport | RunbookSummary | undefined;
      member.outcome = 'failed';
      member.error = { type: failure.type, message: failure.message };
      member.dataLoss = isRunbookSummary(childResult) ? dataLossOf(childResult) : childResult?.legs?.[0]?.dataLoss;
    } finally {
      running.delete(child);
      finished += 1;
      progress();
    }
  });
}

/** A child's data-loss verdict as the fleet's report lists it: kind and detail (the child's report has the rest). */
function dataLossOf(summary: RunbookSummary): FleetMember['dataLoss'] {
  return summary.dataLoss && { kind: summary.dataLoss.kind, detail: summary.dataLoss.detail };
}
