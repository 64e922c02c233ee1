/**
 * The two ends of a delegation to the group's lock holder (see `runUnderGroupLock` in `group-lock`): the lock holder
 * relays its live status to the workflow that started it, and that starter shows the holder's status as its own and
 * ends in the holder's outcome.
 */
import {
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { lockHolderStatusSignal, type RunbookStatus } from '../definitions';

/**
 * Deprecated patch: a lock holder reports its live status to the workflow that started it, and that workflow ends in
 * the holder's outcome phase. Histories recorded before it have neither those signals nor upserts; no kept history
 * delegated to a lock holder without the marker, so only the new path is left.
 */
export const LOCK_HOLDER_STATUS_PATCH = 'fogpilot-lock-holder-status';
/**
 * Runs recorded before a lock holder paced its status: it sent each change as soon as the last one was delivered,
 * some fifteen signals in a planned failover with failback, each a workflow task for both workflows, most of them in
 * the seconds between a copy sync and a POST; and it ended only once its last status was delivered.
 */
export const PACED_STATUS_PATCH = 'lock-holder-paces-its-status';

/**
 * A paced lock holder sends its status at most once a second: the first change at once, later ones at least this long
 * after the previous send, together. A person watching the starter sees the holder's step a second late at worst; a
 * run's quick steps (reads and the POST, tens of milliseconds each) send no signal of their own.
 */
export const STATUS_PACE_MS = 1_000;

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
  /** Paced: when the last send began (workflow time), and the wait before the next one, which `drain` cuts short. */
  private lastSentAtMs?: number;
  private paceWait?: CancellationScope;
  /** Set by `drain`: the run is ending, and a paced send not yet sent is not sent. */
  private draining = false;
  /** A change for a person is waiting to go: the next send does not wait its turn. */
  private unpaced = false;

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
   * one; paced, at most one send a second ({@link STATUS_PACE_MS}), unless the change is `forPerson` (a refusal of
   * their decision, a wait for their approval): that goes as soon as the send before it was delivered.
   */
  mirror(forPerson = false): void {
    if (!this.mirrorTarget) return;
    this.mirrorDirty = true;
    if (forPerson) {
      this.unpaced = true;
      this.paceWait?.cancel();
    }
    if (this.mirrorSend) return;
    this.mirrorSend = this.sendMirror(this.mirrorTarget);
  }

  private async sendMirror(target: string): Promise<void> {
    try {
      while (this.mirrorDirty) {
        // Let the rest of this activation change the status first: its changes travel together.
        await Promise.resolve();
        if (patched(PACED_STATUS_PATCH)) {
          if (this.draining) break;
          const waitMs = this.lastSentAtMs === undefined ? 0 : this.lastSentAtMs + STATUS_PACE_MS - Date.now();
          // Changes made during the wait travel with this send. The wait is not the run's to cancel, only `drain`'s
          // and a change for a person's: a scope of its own, shielded from the run's cancellation by a
          // non-cancellable one around it.
          if (waitMs > 0 && !this.unpaced) {
            try {
              await CancellationScope.nonCancellable(() => {
                this.paceWait = new CancellationScope();
                return this.paceWait.run(() => sleep(waitMs));
              });
            } catch (error) {
              if (!isCancellation(error)) throw error;
            } finally {
              this.paceWait = undefined;
            }
            if (this.draining) break;
          }
          this.unpaced = false;
          this.lastSentAtMs = Date.now();
        }
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

  /**
   * A lock holder ends only once the signal it sent its starter has been delivered: no signal is left in flight at the
   * end. A paced send still waiting is dropped: the report reaches the starter as this run's result.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.paceWait?.cancel();
    const sending = this.mirrorSend;
    if (sending) await CancellationScope.nonCancellable(() => sending);
  }
}
