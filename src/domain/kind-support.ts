/**
 * Which runbooks run on which kind of failover group. Every runbook runs on Managed Instance groups; those not yet
 * made for Azure SQL Database's server failover groups refuse one at once (`InvalidInput`, naming the field), before
 * anything is read from the group or changed, rather than reading Managed Instance APIs for it.
 */
import { isServerGroup, type GroupCoordinates } from './group-ref';

/** The runbooks that work on a `kind: sqlDatabase` group (through the group-kind seam). */
export const SQL_DATABASE_RUNBOOKS: readonly string[] = [
  'plannedFailover',
  'forcedFailover',
  'failback',
  'drDrill',
  'fleetFailover',
  'readinessCheck',
  'scaleGroup',
];

/** Whether `runbook` runs on groups of `group`'s kind. */
export function runbookSupportsKind(runbook: string, group: Pick<GroupCoordinates, 'kind'>): boolean {
  return !isServerGroup(group) || SQL_DATABASE_RUNBOOKS.includes(runbook);
}

/**
 * Why `runbook` refuses `group`, or undefined when it runs on the group's kind: the kind, what the runbook supports and
 * which runbooks do run on the group (no closing full stop: the caller names the field before it and says what was
 * left unchanged after it).
 */
export function unsupportedKindReason(
  runbook: string,
  group: Pick<GroupCoordinates, 'kind'> & { displayName?: string; name: string },
): string | undefined {
  if (runbookSupportsKind(runbook, group)) return undefined;
  return (
    `${group.displayName ?? group.name} is an Azure SQL Database failover group (kind sqlDatabase), and ${runbook} ` +
    'supports Managed Instance failover groups only (kind managedInstance); on a SQL Database group run ' +
    SQL_DATABASE_RUNBOOKS.join(', ')
  );
}
