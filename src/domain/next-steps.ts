/**
 * What a person may safely do next after a runbook that sent a failover stopped before it saw the end: the exact
 * commands, with the group and the target named. Runbooks state an intent ("make X primary"), so running the same
 * runbook again toward the same target sends nothing while X is primary: that, not a bare "run it again", is safe.
 */
import { groupCommandArgument, type ResolvedGroup } from './group-ref';

export interface SentFailover {
  /** The region the failover was sent to. */
  to: string;
  /** The region that was primary when it was sent. */
  from: string;
  kind: 'planned' | 'forced';
}

/** The command that states the same intent again: a no-op while `to` is primary. */
export function sameIntentCommand(group: ResolvedGroup, sent: Pick<SentFailover, 'to' | 'kind'>): string {
  const command = sent.kind === 'forced' ? 'force-failover' : 'failover';
  return `fogpilot ${command} ${quoteArgument(groupCommandArgument(group))} --target-location ${sent.to}`;
}

/** The sentence every failure after a sent failover ends with. */
export function afterSentFailover(group: ResolvedGroup, sent: SentFailover): string {
  const argument = quoteArgument(groupCommandArgument(group));
  return (
    `A ${sent.kind} failover to ${sent.to} was sent: do not send another. See where the group stands with ` +
    `\`fogpilot status ${argument}\`. Once it reads one Primary and one Secondary with no failover in progress, ` +
    `\`${sameIntentCommand(group, sent)}\` is safe: it sends nothing when ${sent.to} is primary` +
    (sent.kind === 'forced' ? ', and asks for a fresh approval when it is not.' : '.')
  );
}

/** Shell-quotes an argument that is not a plain word (an ARM id is, so most need nothing). */
function quoteArgument(argument: string): string {
  return /^[\w./:@-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}
