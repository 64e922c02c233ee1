/**
 * The group lock: every mutating runbook on a group runs under the workflow id `fogpilot/<sub>/<rg>/<group>`, started
 * with conflict policy FAIL, so at most one runs at a time. A runbook started under another id (the Temporal CLI with
 * any id, a schedule, a drill, a fleet) runs its mutating part as a child under the lock id instead, so the lock holds
 * whoever starts it.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  deprecatePatch,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
  type Workflow,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ResolvedGroup } from '../../domain/group-ref';
import { formatDuration } from '../../domain/durations';
import type { LockHolderEnd, LockHolderReading } from '../../activities';
import {
  FailureTypes,
  abortSignal,
  approveSignal,
  rejectSignal,
  type ActorMessage,
  type RunbookReport,
} from '../definitions';
import { LOCK_HOLDER_STATUS_PATCH, STATUS_MIRROR_MEMO } from './lock-delegation';
import { describeFailure } from './report';
import { OUTBOUND_PLAN_MEMO, RESOLVED_BY_STARTER_PATCH, RESOLVED_GROUP_MEMO } from './resolve';
import type { RunbookRun } from './runbook-run';
import { RunbookAborted, nowIso, type StepHandle } from './step-log';
import { lockHolderReads, lockHolderWaits } from './activity-presets';

/**
 * Deprecated patch: a runbook that may pre-empt (a forcedFailover) and finds the lock held by one that only waits asks
 * it to stand down and takes the lock. Runs recorded before it failed `GroupBusy` at once; no kept history met a held
 * lock without the marker, so only the pre-emption is left.
 */
export const PREEMPT_WAITING_HOLDER_PATCH = 'forced-failover-preempts-waiting-holder';

/** How long a pre-empting runbook waits for the lock holder it asked to stand down to end, before `GroupBusy`. */
export const PREEMPTION_WAIT_MS = 2 * 60_000;

export interface GroupLockOptions {
  /**
   * When the lock holder only waits (its status says `preemptible`: an approval, `failback.after`, a soak, a
   * failback's wait for synchronizing), send it an abort (`by: 'fogpilot'`, reason `pre-empted by <runbook> <id>`),
   * wait up to {@link PREEMPTION_WAIT_MS} for it to end, then take the lock. A holder doing anything else — above all
   * one past its point of no return — is never disturbed: `GroupBusy` naming it and its phase.
   */
  preemptWaitingHolder?: boolean;
}

export function holdsGroupLock(group: ResolvedGroup): boolean {
  return workflowInfo().workflowId === group.lockWorkflowId;
}

/**
 * Runs `workflowType` with `args` as a child under the group's lock id and returns its report. Fails `GroupBusy` at
 * once when another runbook holds the lock (unless `options.preemptWaitingHolder` lets it pre-empt a waiting one).
 * An abort sent to this workflow is forwarded to the child.
 */
export async function runUnderGroupLock<W extends Workflow>(
  run: RunbookRun,
  group: ResolvedGroup,
  workflowType: string,
  args: Parameters<W>,
  options: GroupLockOptions = {},
): Promise<RunbookReport> {
  const info = workflowInfo();
  if (run.abortRequested) throw new RunbookAborted('abort received before the lock holder was started');
  // Decisions that arrive while the lock holder is being started are kept and handed over once it exists. A run
  // with an approval desk keeps its own handlers: the desk holds decisions until it knows where they belong.
  const desk = run.approvalDesk;
  const pending: { signal: typeof approveSignal; message: ActorMessage }[] = [];
  let deliver = (signal: typeof approveSignal, message: ActorMessage): void => {
    pending.push({ signal, message });
  };
  if (!desk) {
    for (const signal of [approveSignal, rejectSignal]) setHandler(signal, (message) => deliver(signal, message));
  }
  // The holder tells this workflow its status as it goes, so `status` here shows the real progress.
  deprecatePatch(LOCK_HOLDER_STATUS_PATCH);
  const resolvedGroupGoesAlong = patched(RESOLVED_BY_STARTER_PATCH);
  let child;
  try {
    child = await run.step(
      'acquire-group-lock',
      `Run under the group's lock (${group.lockWorkflowId})`,
      async (step) => {
        const start = () =>
          startChild(workflowType, {
            workflowId: group.lockWorkflowId,
            args: args as unknown[],
            taskQueue: info.taskQueue,
            // Cancelling this workflow asks the child to stop at its next safe point; it is never killed mid-failover.
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            staticSummary: `${workflowType} of ${group.displayName}, started by ${info.workflowId}`,
            memo: {
              [STATUS_MIRROR_MEMO]: info.workflowId,
              ...(resolvedGroupGoesAlong ? { [RESOLVED_GROUP_MEMO]: group } : {}),
              ...(resolvedGroupGoesAlong && run.notifier.plan ? { [OUTBOUND_PLAN_MEMO]: run.notifier.plan } : {}),
            },
          });
        let started: ChildWorkflowHandle<Workflow>;
        try {
          started = await start();
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !options.preemptWaitingHolder) throw error;
          deprecatePatch(PREEMPT_WAITING_HOLDER_PATCH);
          started = await preemptWaitingHolder(run, group, step, start);
        }
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
  desk?.forwardTo(group.lockWorkflowId);
  return run.step(
    'run-under-lock',
    `Wait for ${workflowType} under the lock`,
    async () => (await child.result()) as RunbookReport,
  );
}

/** What a person needs to know of a lock holder: which runbook, where it is, what it waits for. */
function holderEvidence(holder: LockHolderReading): Record<string, unknown> {
  return {
    runId: holder.runId,
    workflowType: holder.workflowType,
    runbook: holder.status?.runbook,
    phase: holder.status?.phase,
    awaiting: holder.status?.awaiting,
    preemptible: holder.status?.preemptible,
    pastPointOfNoReturn: holder.status?.pastPointOfNoReturn,
    statusError: holder.statusError,
  };
}

function holderBusy(group: ResolvedGroup, what: string, details: Record<string, unknown>): ApplicationFailure {
  const lockId = group.lockWorkflowId;
  return ApplicationFailure.create({
    type: FailureTypes.GroupBusy,
    nonRetryable: true,
    message:
      `Another runbook holds ${group.displayName}: ${what}. Nothing was changed. Watch it with ` +
      `\`temporal workflow query --workflow-id ${lockId} --name status\` and start again when it has ended.`,
    details: [{ lockWorkflowId: lockId, ...details }],
  });
}

/** Why a holder that answered is not pre-empted, in words. */
function notPreemptible(holder: LockHolderReading, lockId: string): string {
  const status = holder.status;
  if (!status) {
    return (
      `workflow ${lockId} (${holder.workflowType ?? 'unknown type'}) is running and did not answer its status ` +
      `query (${holder.statusError ?? 'no answer'}), so it was not disturbed`
    );
  }
  const where = `${status.runbook} ${lockId} is in phase ${status.phase}`;
  if (status.pastPointOfNoReturn) {
    return (
      `${where}, past its point of no return: it follows a failover it sent until the group is stable and is never ` +
      'pre-empted there'
    );
  }
  const waiting = status.awaiting ? ` (${status.awaiting.kind}: ${status.awaiting.detail})` : '';
  return `${where}${waiting}, not in a wait it can leave safely, so it was not disturbed`;
}

/**
 * The lock is held: when its holder only waits, asks it to stand down (an abort, which it heeds at once there), waits
 * a bounded time for it to end, and starts the lock holder again. Otherwise, or when it does not end in time,
 * `GroupBusy` naming the holder and its phase.
 */
async function preemptWaitingHolder(
  run: RunbookRun,
  group: ResolvedGroup,
  step: StepHandle,
  start: () => Promise<ChildWorkflowHandle<Workflow>>,
): Promise<ChildWorkflowHandle<Workflow>> {
  const lockId = group.lockWorkflowId;
  let holder: LockHolderReading;
  try {
    holder = await lockHolderReads.describeLockHolder.executeWithOptions(
      { summary: `read the runbook holding ${group.displayName}` },
      [{ workflowId: lockId }],
    );
  } catch (error) {
    throw holderBusy(
      group,
      `workflow ${lockId} is running and could not be read (${describeFailure(error).message}), so it was not disturbed`,
      {},
    );
  }
  step.evidence({ holder: holderEvidence(holder) });
  if (holder.running) {
    const status = holder.status;
    if (!status?.preemptible)
      throw holderBusy(group, notPreemptible(holder, lockId), { holder: holderEvidence(holder) });
    const reason = `pre-empted by ${run.runbook} ${workflowInfo().workflowId}`;
    const waitText = formatDuration(PREEMPTION_WAIT_MS);
    step.evidence({ preemption: { reason, sentAt: nowIso(), waitAtMost: waitText } });
    run.setAwaiting(
      'lock-holder',
      `asked ${status.runbook} ${lockId} (waiting in ${status.phase}) to stand down; waiting up to ${waitText} for it to end`,
    );
    try {
      await getExternalWorkflowHandle(lockId).signal(abortSignal, { by: 'fogpilot', reason });
    } catch {
      // It ended between the read and the signal: the lock is free.
    }
    let end: LockHolderEnd;
    try {
      end = await lockHolderWaits(PREEMPTION_WAIT_MS).awaitLockHolderEnd.executeWithOptions(
        { summary: `wait up to ${waitText} for ${status.runbook} ${lockId} to stand down` },
        [{ workflowId: lockId, timeoutMs: PREEMPTION_WAIT_MS }],
      );
    } catch (error) {
      if (isCancellation(error)) throw error;
      end = {
        ended: false,
        waitedMs: PREEMPTION_WAIT_MS,
        last: { running: true, statusError: describeFailure(error).message },
      };
    }
    run.clearAwaiting();
    step.evidence({ holderEnded: end.ended, holderCloseStatus: end.closeStatus, waitedMs: end.waitedMs });
    if (!end.ended) {
      const now = end.last?.status?.phase ? ` (now in phase ${end.last.status.phase})` : '';
      throw holderBusy(
        group,
        `${status.runbook} ${lockId} was asked to stand down (it was waiting in ${status.phase}) and had not ended ` +
          `after ${waitText}${now}. The abort stands: it stops at its next safe point, finishing any failover it ` +
          'sent first',
        { holder: holderEvidence(holder), preemption: { reason, ended: false } },
      );
    }
  }
  if (run.abortRequested) throw new RunbookAborted('abort received while the lock holder was standing down');
  return start();
}
