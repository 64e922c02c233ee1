/**
 * A person's decision on a runbook that waits for one (`approve` / `reject`). Handlers are set as the workflow
 * starts, so a decision sent before the runbook reaches its approval step is kept, not lost; the first one counts.
 */
import { setHandler } from '@temporalio/workflow';
import { approveSignal, rejectSignal, type ActorMessage } from '../definitions';
import { actorOf, nowIso } from './runbook-run';

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
}

/** Starts listening; the returned function gives the decision once there is one. */
export function listenForDecision(): Decisions {
  const received: Decision[] = [];
  const decide = (approved: boolean) => (message: ActorMessage) => {
    received.push({ approved, message: actorOf(message), at: nowIso() });
  };
  setHandler(approveSignal, decide(true));
  setHandler(rejectSignal, decide(false));
  return Object.assign(() => received[0], {
    all: received,
    since: (at: string) => received.filter((entry) => Date.parse(entry.at) > Date.parse(at)),
  });
}
