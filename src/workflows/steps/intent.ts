/**
 * A runbook states an intent — "make region X primary" — fixed when it starts, never derived from the roles it finds.
 * Running it again is therefore safe: once X is primary there is nothing to send. Without this, "fail over to the
 * current secondary" swings a group back and forth each time it runs.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import { homeIsKnown, type ResolvedGroup } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import { FailureTypes, type IntentRecord } from '../definitions';
import type { RunbookRun } from './runbook-run';

/**
 * Runs recorded before runbooks stated an intent: a planned failover without `targetLocation` went to the current
 * secondary, a target already primary failed its preflight, and a forced failover of a target already primary
 * succeeded without sending anything.
 */
export const RUNBOOK_INTENT_PATCH = 'runbook-intent-not-toggle';

/** Whether this run states an intent (every run started since the patch). */
export function statesIntent(): boolean {
  return patched(RUNBOOK_INTENT_PATCH);
}

/**
 * The region the runbook is to make primary: `targetLocation`, or the group's home `secondary` (a failover) or home
 * `primary` (a failback). Recorded on the run for the report. Fails `InvalidInput` when the target is not a location of
 * the group, or when no target was given for a group whose home is not known (named by an ARM id the inventory lacks).
 */
export function intendedPrimary(
  run: RunbookRun,
  group: ResolvedGroup,
  targetLocation: string | undefined,
  byDefault: 'home-secondary' | 'home-primary',
): IntentRecord {
  const locations = [group.primaryLocation, group.secondaryLocation];
  if (targetLocation === undefined && !homeIsKnown(group)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: required for ${group.displayName}, named by its ARM id and not in the worker's inventory, so ` +
        `its home regions are not known (when resolved, ${group.primaryLocation} was primary and ` +
        `${group.secondaryLocation} secondary). Nothing was changed. Name the region that is to be primary ` +
        `(${locations.join(' or ')}), or add the group to the inventory with its home regions.`,
      details: [{ field: 'targetLocation', locations }],
    });
  }
  const primary = targetLocation
    ? normalizeLocation(targetLocation)
    : byDefault === 'home-secondary'
      ? group.secondaryLocation
      : group.primaryLocation;
  if (!locations.includes(primary)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: ${primary} is not a location of group ${group.displayName} (${locations.join(', ')}); ` +
        `nothing was changed. Name one of its regions, or leave targetLocation out for the ${byDefault.replace('-', ' ')}.`,
      details: [{ field: 'targetLocation', locations }],
    });
  }
  const intent: IntentRecord = {
    primary,
    source: targetLocation ? 'targetLocation' : byDefault,
    detail: `make ${primary} primary (${targetLocation ? 'targetLocation' : `the group's ${byDefault.replace('-', ' ')}`})`,
  };
  run.intent = intent;
  return intent;
}
