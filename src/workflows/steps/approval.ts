/**
 * A person's decision on a runbook that waits for one (`approve` / `reject`). The workflow sets the handlers as it
 * starts (`setHandler(approveSignal, decisions.approve)`), so a decision sent before the runbook reaches its approval
 * step is kept, not lost; the first one counts.
 */
import type { ActorMessage } from '../definitions';
import { actorOf } from './change-guard';
import { nowIso } from './step-log';

export interface Decision {
  approved: boolean;
  message: ActorMessage;
  at: string;
}

/** The first decision (the one that answers the approval wait), and every decision in the order they arrived. */
export interface Decisions {
  (): Decision | undefined;
  /** Every decision received, first to last: a later `reject` still counts when the runbook decides again. */
  readonly all: readonly Decision[];
  /** The decisions received after `at` (workflow time, ISO). */
  since(at: string): Decision[];
  /** The `approve` signal's handler. */
  readonly approve: (message: ActorMessage) => void;
  /** The `reject` signal's handler. */
  readonly reject: (message: ActorMessage) => void;
}

/** An empty record of decisions; the function gives the decision once there is one. */
export function decisionRecord(): Decisions {
  const received: Decision[] = [];
  const decide = (approved: boolean) => (message: ActorMessage) => {
    received.push({ approved, message: actorOf(message), at: nowIso() });
  };
  return Object.assign(() => received[0], {
    all: received,
    since: (at: string) => received.filter((entry) => Date.parse(entry.at) > Date.parse(at)),
    approve: decide(true),
    reject: decide(false),
  });
}
