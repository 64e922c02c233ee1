/**
 * What a person may safely do next after a runbook that sent a failover stopped before it saw the end: the exact
 * commands, with the group and the target named. Runbooks state an intent ("make X primary"), so running the same
 * runbook again toward the same target sends nothing while X is primary: that, not a bare "run it again", is safe.
 */
import { groupCommandArgument, homeIsKnown, type ResolvedGroup } from './group-ref';
import { DEFAULT_MAX_LAG_SECONDS } from './inputs';

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

/**
 * The command that fails back to `home`: `fogpilot failback <group>`, with `--target-location` unless `home` is the
 * group's configured home primary (the failback's default), and the lag bound when it is not the default. The failback
 * runbook waits until replication has caught up, then fails over; it sends nothing if `home` already is primary.
 */
export function failbackCommand(group: ResolvedGroup, home: string, maxLagSeconds = DEFAULT_MAX_LAG_SECONDS): string {
  const parts = ['fogpilot', 'failback', quoteArgument(groupCommandArgument(group))];
  if (!homeIsKnown(group) || group.primaryLocation !== home) parts.push('--target-location', home);
  if (maxLagSeconds !== DEFAULT_MAX_LAG_SECONDS) parts.push('--max-lag-seconds', String(maxLagSeconds));
  return parts.join(' ');
}

/** Shell-quotes an argument that is not a plain word (an ARM id is, so most need nothing). */
function quoteArgument(argument: string): string {
  return /^[\w./:@-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}
