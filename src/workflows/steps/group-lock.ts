/**
 * The group lock: every mutating runbook on a group runs under the workflow id `fogpilot/<sub>/<rg>/<group>`, started
 * with conflict policy FAIL, so at most one runs at a time. A runbook started under another id (the Temporal CLI with
 * any id, a schedule, a drill, a fleet) runs its mutating part as a child under the lock id instead, so the lock holds
 * whoever starts it.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  workflowInfo,
  type Workflow,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ResolvedGroup } from '../../domain/group-ref';
import {
  FailureTypes,
  abortSignal,
  approveSignal,
  rejectSignal,
  type ActorMessage,
  type RunbookReport,
} from '../definitions';
import { LOCK_HOLDER_STATUS_PATCH, RunbookAborted, STATUS_MIRROR_MEMO, type RunbookRun } from './runbook-run';

export function holdsGroupLock(group: ResolvedGroup): boolean {
  return workflowInfo().workflowId === group.lockWorkflowId;
}

/**
 * Runs `workflowType` with `args` as a child under the group's lock id and returns its report. Fails `GroupBusy` at
 * once when another runbook holds the lock. An abort sent to this workflow is forwarded to the child.
 */
export async function runUnderGroupLock<W extends Workflow>(
  run: RunbookRun,
  group: ResolvedGroup,
  workflowType: string,
  args: Parameters<W>,
): Promise<RunbookReport> {
  const info = workflowInfo();
  if (run.abortRequested) throw new RunbookAborted('abort received before the lock holder was started');
  // Decisions that arrive while the lock holder is being started are kept and handed over once it exists.
  const pending: { signal: typeof approveSignal; message: ActorMessage }[] = [];
  let deliver = (signal: typeof approveSignal, message: ActorMessage): void => {
    pending.push({ signal, message });
  };
  for (const signal of [approveSignal, rejectSignal]) setHandler(signal, (message) => deliver(signal, message));
  // The holder tells this workflow its status as it goes, so `status` here shows the real progress.
  const mirrorStatus = patched(LOCK_HOLDER_STATUS_PATCH);
  let child;
  try {
    child = await run.step(
      'acquire-group-lock',
      `Run under the group's lock (${group.lockWorkflowId})`,
      async (step) => {
        const started = await startChild(workflowType, {
          workflowId: group.lockWorkflowId,
          args: args as unknown[],
          taskQueue: info.taskQueue,
          // Cancelling this workflow asks the child to stop at its next safe point; it is never killed mid-failover.
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `${workflowType} of ${group.displayName}, started by ${info.workflowId}`,
          ...(mirrorStatus ? { memo: { [STATUS_MIRROR_MEMO]: info.workflowId } } : {}),
        });
        step.evidence({ lockWorkflowId: group.lockWorkflowId, childRunId: started.firstExecutionRunId });
        return started;
      },
    );
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw ApplicationFailure.create({
        type: FailureTypes.GroupBusy,
        nonRetryable: true,
        message:
          `Another runbook holds ${group.displayName} (workflow ${group.lockWorkflowId} is running); nothing was changed. ` +
          `Watch it with \`temporal workflow describe --workflow-id ${group.lockWorkflowId}\` and start again when it ends.`,
        details: [{ lockWorkflowId: group.lockWorkflowId }],
      });
    }
    throw error;
  }
  run.delegatedTo = group.lockWorkflowId;
  // An abort that arrived while the child was starting is forwarded now (onAbort calls back at once for it).
  run.onAbort((message) => {
    child.signal(abortSignal, { by: message.by, reason: message.reason }).catch(() => undefined);
  });
  // People answer the workflow they started; the decision belongs to the lock holder that waits for it.
  deliver = (signal, message) => {
    child.signal(signal, message).catch(() => undefined);
  };
  for (const { signal, message } of pending.splice(0)) deliver(signal, message);
  return run.step(
    'run-under-lock',
    `Wait for ${workflowType} under the lock`,
    async () => (await child.result()) as RunbookReport,
  );
}
