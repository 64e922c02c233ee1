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

/** Starts listening; the returned function gives the decision once there is one. */
export function listenForDecision(): () => Decision | undefined {
  let decision: Decision | undefined;
  const decide = (approved: boolean) => (message: ActorMessage) => {
    decision ??= { approved, message: actorOf(message), at: nowIso() };
  };
  setHandler(approveSignal, decide(true));
  setHandler(rejectSignal, decide(false));
  return () => decision;
}
