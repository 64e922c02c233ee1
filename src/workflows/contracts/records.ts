/** The records a runbook's report is made of: steps, gates, legs, and who decided what. */
import type { ActorMessage } from './messages';

export const StepStates = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'compensated'] as const;
export type StepState = (typeof StepStates)[number];

/** Evidence is plain JSON: what was read, decided or sent, so a person can check the runbook's reasoning. */
export type Evidence = Record<string, unknown>;

export interface StepRecord {
  /** Stable machine name, e.g. `verify-sync` or `failback/await-roles`. */
  name: string;
  /** What the step does, for people. */
  title: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  evidence?: Evidence;
  error?: string;
}

export interface RolesRecord {
  primary: string;
  secondary: string;
}

export interface ArmCallCount {
  reads: number;
  writes: number;
  /** Answers of 429 or 503 that were waited out. */
  throttled: number;
}

/** A preflight gate's verdict. */
export interface GateResult {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  message: string;
  /** What to do about it, when it did not pass. */
  action?: string;
  evidence: Evidence;
}

/** One direction of a role change: the failover, or the failback. */
export interface FailoverLeg {
  name: 'failover' | 'failback';
  from: string;
  to: string;
  /** When the failover request was made (workflow time). */
  requestedAt?: string;
  /** When every database on the new primary answered READ_WRITE. */
  allWritableAt?: string;
  /** Measured RTO: request → every database writable on the new primary. */
  rtoSeconds?: number;
  /** Whether this run's own failover request was accepted (a 409 busy answer is not). */
  failoverSent: boolean;
  /**
   * `another-operation`: Azure refused this run's request (409) or a failover was already under way, and that
   * operation made the switch; the data-loss verdict is then not this run's proof.
   */
  switchedBy?: 'this-run' | 'another-operation';
  dataLoss: DataLossRecord;
  /**
   * A forced failover with `tryPlannedFirst`: who tried the planned failover first. `azure`: one POST of Azure's own
   * `tryPlannedBeforeForcedFailover` (a server group whose api-version offers it), which forces by itself when the
   * planned part cannot complete; `fogpilot`: a planned POST, then (when it could not complete) a fresh decision and
   * a forced POST.
   */
  tryPlannedBy?: 'azure' | 'fogpilot';
}

export interface DataLossRecord {
  /** `none-proven`: every database's copy sync returned before a planned (synchronous) failover. */
  kind: 'none-proven' | 'estimated' | 'unknown' | 'not-applicable';
  detail: string;
  databases?: { database: string; evidence: string }[];
}

/** What a runbook set out to do, fixed when it started: the region to make primary, and why that one. */
export interface IntentRecord {
  primary: string;
  /** `targetLocation` from the input, or the group's configured home region the runbook defaults to. */
  source: 'targetLocation' | 'home-secondary' | 'home-primary';
  detail: string;
}

export interface PlanItem {
  step: string;
  action: string;
}

export interface AbortRecord extends ActorMessage {
  receivedAt: string;
  effect: 'compensated-before-failover' | 'deferred-until-stable' | 'ignored-already-finished';
}

/** Who allowed a forced failover, and how the approval arrived. */
export interface ApprovalRecord extends ActorMessage {
  at: string;
  /**
   * `update`: an `approve` update carrying the sender's authenticated identity; `signal`: an `approve` signal, whose
   * `by` is only claimed (`claimed:<by>`); `input`: pre-approved by the requester; `fleet`: the fleet's one approval.
   */
  via: 'signal' | 'update' | 'input' | 'fleet';
  /** Who started the run (its `requestedBy`), beside who approved it: the two-person rule's two identities. */
  requestedBy?: string;
  /** A pre-approved start: the `approval.by` its input named (the record's `by` is the requester who started it). */
  claimedBy?: string;
}

/** An approval or rejection the access rules refused: who sent it, why it was refused, and when. */
export interface RefusalRecord {
  /** The sender's principal label (`claimed:<by>` for a signal). */
  by: string;
  decision: 'approve' | 'reject';
  /** How it arrived: an update (authenticated identity) or a signal (claimed name). */
  via: 'update' | 'signal';
  /** The reason the sender gave. */
  reason: string;
  /** Why the access rules refused it. */
  refused: string;
  /** What would allow it. */
  remedy: string;
  at: string;
}
