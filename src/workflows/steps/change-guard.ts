/**
 * The change guard of one runbook execution: the abort protocol (a signal or a Temporal cancellation), the point of
 * no return, and the compensations that undo what was changed before it. Before the point of no return an abort
 * cancels what runs and the compensations run; after it, the runbook finishes what it sent before it heeds an abort.
 */
import { CancellationScope, isCancellation, log } from '@temporalio/workflow';
import type { AbortRecord, ActorMessage } from '../definitions';
import { describeFailure } from './report';
import { RunbookAborted, nowIso, type StepHandle, type StepLog } from './step-log';

interface Compensation {
  name: string;
  title: string;
  undo: (step: StepHandle) => Promise<void>;
}

/** A signal's `{ by, reason }` as recorded: trimmed, bounded, never empty (signals are not validated by Temporal). */
export function actorOf(message: Partial<ActorMessage> | undefined): ActorMessage {
  const text = (value: unknown, max: number) => (typeof value === 'string' ? value.trim().slice(0, max) : '');
  return { by: text(message?.by, 200) || 'unknown', reason: text(message?.reason, 1000) || '(no reason given)' };
}

export class ChangeGuard {
  abort?: AbortRecord;
  /** Set when the abort came from Temporal: the run then ends cancelled, at a safe point. */
  cancelRequested = false;
  /** Once true, a failover may have been sent: aborts and cancellation wait for a stable group. */
  private pastPointOfNoReturn = false;
  private preChangeScope?: CancellationScope;
  private compensations: Compensation[] = [];
  private readonly abortListeners: ((message: ActorMessage) => void)[] = [];

  /** `ended`: whether the run has its report (an abort then changes nothing). */
  constructor(
    private readonly steps: StepLog,
    private readonly ended: () => boolean,
  ) {
    // A Temporal cancellation request is an abort from the platform: same protocol, same safety.
    CancellationScope.current().cancelRequested.catch(() => {
      this.cancelRequested = true;
      this.receiveAbort({ by: 'temporal', reason: 'workflow cancellation requested' }, 'cancellation');
    });
  }

  /** True once an abort (signal or cancellation) has been received. */
  get abortRequested(): boolean {
    return this.abort !== undefined;
  }

  get isPastPointOfNoReturn(): boolean {
    return this.pastPointOfNoReturn;
  }

  /** Inside `beforePointOfNoReturn`, where an abort leaves nothing half done. */
  get changesUndoable(): boolean {
    return this.preChangeScope !== undefined && !this.pastPointOfNoReturn;
  }

  /** Calls `listener` on an abort; at once when one has already arrived. */
  onAbort(listener: (message: ActorMessage) => void): void {
    this.abortListeners.push(listener);
    if (this.abort && this.abort.effect !== 'ignored-already-finished') listener(this.abort);
  }

  /** An abort arrived (the `abort` signal, or a cancellation): the first one counts. */
  receiveAbort(message: ActorMessage, via: 'signal' | 'cancellation'): void {
    if (this.abort) {
      log.info('Abort already received; ignoring the repeat', { ...this.steps.logContext(), by: message.by });
      return;
    }
    this.abort = {
      ...actorOf(message),
      receivedAt: nowIso(),
      effect: this.ended()
        ? 'ignored-already-finished'
        : this.pastPointOfNoReturn
          ? 'deferred-until-stable'
          : 'compensated-before-failover',
    };
    log.warn('Abort received', { ...this.steps.logContext(), via, effect: this.abort.effect, by: this.abort.by });
    if (this.abort.effect === 'compensated-before-failover') this.preChangeScope?.cancel();
    for (const listener of this.abortListeners) listener(this.abort);
    this.steps.showDetails();
  }

  /** Registers an undo for a change made before the point of no return. */
  addCompensation(name: string, title: string, undo: (step: StepHandle) => Promise<void>): void {
    this.compensations.push({ name, title, undo });
  }

  /** See `RunbookRun.beforePointOfNoReturn`. */
  async beforePointOfNoReturn<T>(work: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope();
    this.preChangeScope = scope;
    if (this.abortRequested) scope.cancel();
    try {
      const value = await scope.run(work);
      if (this.abortRequested) throw new RunbookAborted('abort received before the failover was sent');
      return value;
    } catch (error) {
      await this.runCompensations();
      if (this.abortRequested && (isCancellation(error) || error instanceof RunbookAborted)) {
        throw new RunbookAborted('abort received before the failover was sent');
      }
      throw error;
    } finally {
      this.preChangeScope = undefined;
    }
  }

  /** See `RunbookRun.passPointOfNoReturn`. */
  passPointOfNoReturn(): void {
    if (this.abortRequested) throw new RunbookAborted('abort received before the failover was sent');
    this.pastPointOfNoReturn = true;
    this.compensations = [];
  }

  /** Back before the next point of no return (e.g. the failback leg, which has its own). */
  resetPointOfNoReturn(): void {
    this.pastPointOfNoReturn = false;
  }

  private async runCompensations(): Promise<void> {
    const pending = this.compensations.reverse();
    this.compensations = [];
    await CancellationScope.nonCancellable(async () => {
      for (const compensation of pending) {
        try {
          await this.steps.step(`compensate/${compensation.name}`, compensation.title, compensation.undo);
        } catch (error) {
          this.steps.warn(
            `Compensation "${compensation.title}" failed: ${describeFailure(error).message}. ` +
              'Undo it by hand; the failover was not sent.',
          );
        }
      }
    });
  }
}
