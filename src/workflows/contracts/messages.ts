/** Messages people send to a running runbook: who sent them and why, and the signals and updates that carry them. */
import { defineSignal, defineUpdate } from '@temporalio/workflow';

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

/** The prefix of a signal's `by` in the records: a name the sender wrote, which nobody authenticated. */
export const CLAIMED_PREFIX = 'claimed:';

/**
 * `{ reason, identity }`: a decision sent as an update. `identity` is the principal label of whoever sends it, as
 * fogpilot's entry points authenticated it: `webhook:<caller>`, `certificate:<subject>`, `api-key:<name>` or
 * `os-user:<name>` (see `principalLabel` in src/config/access.ts and `fogpilot whoami`).
 */
export interface ApprovalRequest {
  reason: string;
  identity: string;
}

/** What an accepted `approve` / `reject` update answers: the decision as the run recorded it. */
export interface ApprovalReceipt {
  decision: 'approve' | 'reject';
  by: string;
  at: string;
}

/**
 * Approve a runbook that waits for a human, as an update: the run asks the worker's access rules (the two-person rule,
 * and with an `access` section the approver's `approve` grant on the group) before it records the decision. Refused:
 * the update fails `ApprovalRefused` with the reason and what to do, the refusal is recorded in the run's status, and
 * the run keeps waiting. Temporal keeps signals and updates apart, so the update shares the `approve` signal's name.
 */
export const approveUpdate = defineUpdate<ApprovalReceipt, [ApprovalRequest]>('approve');
/** Reject a runbook that waits for a human, as an update judged like {@link approveUpdate}; it ends without change. */
export const rejectUpdate = defineUpdate<ApprovalReceipt, [ApprovalRequest]>('reject');
