/** Messages people send to a running runbook: who sent them and why, and the signals that carry them. */
import { defineSignal } from '@temporalio/workflow';

/** `{ by, reason }`: who sent a message and why; recorded in the report. */
export interface ActorMessage {
  by: string;
  reason: string;
}

/** Approve a runbook that waits for a human (forced failover). */
export const approveSignal = defineSignal<[ActorMessage]>('approve');
/** Reject a runbook that waits for a human; it ends without change. */
export const rejectSignal = defineSignal<[ActorMessage]>('reject');
/**
 * Stop a runbook at the next safe point. Before the failover is sent, compensations run (a scaled-up secondary is
 * scaled back) and the runbook ends `aborted`. After it, the abort waits until the group is stable and the runbook ends
 * `aborted-after-failover`.
 */
export const abortSignal = defineSignal<[ActorMessage]>('abort');
