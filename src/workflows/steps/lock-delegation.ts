/**
 * The two ends of a delegation to the group's lock holder (see `runUnderGroupLock` in `group-lock`): the lock holder
 * relays its live status to the workflow that started it, and that starter shows the holder's status as its own and
 * ends in the holder's outcome.
 */
import { CancellationScope, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { lockHolderStatusSignal, type RunbookStatus } from '../definitions';

/**
 * Deprecated patch: a lock holder reports its live status to the workflow that started it, and that workflow ends in
 * the holder's outcome phase. Histories recorded before it have neither those signals nor upserts; no kept history
 * delegated to a lock holder without the marker, so only the new path is left.
 */
export const LOCK_HOLDER_STATUS_PATCH = 'fogpilot-lock-holder-status';
/** Memo key on a lock holder started by `runUnderGroupLock`: the id of the workflow to send its status to. */
export const STATUS_MIRROR_MEMO = 'fogpilotStatusTo';

export class LockDelegation {
  /** On a starter: the lock holder's workflow id, once it runs the mutating part. */
  delegatedTo?: string;
  /** On a starter that delegated: the lock holder's latest status. */
  private holderStatus?: RunbookStatus;
  /** Set on a lock holder whose starter delegated to it: where its status goes as it changes. */
  private mirrorTarget?: string;
  private mirrorDirty = false;
  /** The status send under way, if any; it never rejects. */
  private mirrorSend?: Promise<void>;

  /** `status`: this run's own status, sent to the starter when this run is a lock holder. */
  constructor(private readonly status: () => RunbookStatus) {
    const info = workflowInfo();
    const target = info.memo?.[STATUS_MIRROR_MEMO];
    if (typeof target === 'string' && target === info.parent?.workflowId) this.mirrorTarget = target;
  }

  /** The `lockHolderStatus` signal: the lock holder's status as it changed. */
  receiveHolderStatus(status: RunbookStatus): void {
    this.holderStatus = status;
  }

  /**
   * The status to show: this run's own, or, on a starter that delegated, the lock holder's progress in it. While the
   * holder works, its phase and what it waits for are this run's too; once ended, the holder's report has its whole
   * timeline (its last live update may still be on its way).
   */
  shown(own: RunbookStatus): RunbookStatus {
    const holder = this.holderStatus;
    const ended = own.report !== undefined;
    return {
      ...own,
      phase: holder && !ended ? holder.phase : own.phase,
      steps:
        this.delegatedTo && own.report
          ? [...own.steps, ...own.report.steps]
          : holder
            ? [...own.steps, ...holder.steps]
            : own.steps,
      awaiting: holder && !ended ? holder.awaiting : own.awaiting,
      preemptible: holder && !ended ? holder.preemptible === true : own.preemptible,
      pastPointOfNoReturn: holder && !ended ? holder.pastPointOfNoReturn === true : own.pastPointOfNoReturn,
      delegatedTo: this.delegatedTo,
      ...(holder && !ended && holder.refusals ? { refusals: holder.refusals } : {}),
      error: own.error ?? (ended ? undefined : holder?.error),
      report: own.report,
    };
  }

  /**
   * On a lock holder: sends the status to the starter that delegated to it. One signal at a time, each after the last
   * was delivered: Temporal does not keep separate signals to another workflow in order. Changes made meanwhile go as
   * one.
   */
  mirror(): void {
    if (!this.mirrorTarget) return;
    this.mirrorDirty = true;
    if (this.mirrorSend) return;
    this.mirrorSend = this.sendMirror(this.mirrorTarget);
  }

  private async sendMirror(target: string): Promise<void> {
    try {
      while (this.mirrorDirty) {
        // Let the rest of this activation change the status first: its changes travel together.
        await Promise.resolve();
        this.mirrorDirty = false;
        // The report goes to the starter as this workflow's result; the live view does not need it twice.
        await getExternalWorkflowHandle(target).signal(lockHolderStatusSignal, { ...this.status(), report: undefined });
      }
    } catch {
      // The starter has ended (terminated, timed out): nobody is left to show the status to.
      this.mirrorTarget = undefined;
    } finally {
      this.mirrorSend = undefined;
    }
  }

  /** A lock holder ends only once its starter has its last status: no signal is left in flight at the end. */
  async drain(): Promise<void> {
    const sending = this.mirrorSend;
    if (sending) await CancellationScope.nonCancellable(() => sending);
  }
}
