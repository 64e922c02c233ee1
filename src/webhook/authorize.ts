/**
 * What a start through the trigger asks of the access rules: the groups a run would act on, as the rules see them
 * (inventory name and tags), and the `mayStart` decision for the caller who sent it.
 */
import { mayStart, type AccessDecision, type GroupForAccess, type Principal } from '../config/access';
import { groupForAccess, inventoryOf, type FogpilotConfig } from '../config/config';
import { isArmGroupId, parseInstanceFailoverGroupId, type GroupRef } from '../domain/group-ref';
import { sameLocation } from '../domain/locations';
import type { RunbookType } from '../workflows/contracts/runbooks';

/** A group the webhook's inventory does not name: only a grant of every group (`'*'`) covers it. */
const OUTSIDE_INVENTORY: GroupForAccess = {};

/** The inventory name of a group reference (name, coordinates or ARM id), when the inventory has the group. */
function inventoryNameOf(config: FogpilotConfig, ref: unknown): string | undefined {
  if (typeof ref === 'string') {
    if (!isArmGroupId(ref)) return ref;
    const parsed = parseInstanceFailoverGroupId(ref);
    return parsed ? inventoryOf(config).nameOf(parsed) : undefined;
  }
  if (ref !== null && typeof ref === 'object') {
    const { subscriptionId, resourceGroup, name } = ref as Partial<Exclude<GroupRef, string>>;
    if (typeof subscriptionId === 'string' && typeof resourceGroup === 'string' && typeof name === 'string')
      return inventoryOf(config).nameOf({ subscriptionId, resourceGroup, name });
  }
  return undefined;
}

/**
 * Every group a run of `runbook` with `input` would act on: its `group`; a fleet's `groups`; every inventory group with
 * a location in `region`; every inventory group for `all`. A selection that names no inventory group counts as a group
 * outside the inventory, so that a worker whose inventory differs from the trigger's is never reached by an empty grant.
 */
export function groupsOfInput(config: FogpilotConfig, input: Record<string, unknown>): GroupForAccess[] {
  const inventory = Object.entries(config.inventory);
  let names: (string | undefined)[] = [];
  if (input.group !== undefined) names = [inventoryNameOf(config, input.group)];
  // establishGroup names the group it creates by `name`.
  else if (typeof input.name === 'string' && input.primaryInstance !== undefined)
    names = [inventoryNameOf(config, input.name)];
  else if (Array.isArray(input.groups)) names = input.groups.map((ref) => inventoryNameOf(config, ref));
  else if (typeof input.region === 'string') {
    const region = input.region;
    names = inventory
      .filter(
        ([, entry]) => sameLocation(entry.primaryLocation, region) || sameLocation(entry.secondaryLocation, region),
      )
      .map(([name]) => name);
  } else if (input.all === true) names = inventory.map(([name]) => name);
  if (names.length === 0) return [OUTSIDE_INVENTORY];
  return names.map((name) => groupForAccess(config, name));
}

/** May `principal` start `runbook` with `input`? The access rules' answer, with the groups it was asked about. */
export function mayStartThroughTrigger(
  config: FogpilotConfig,
  principal: Principal,
  runbook: RunbookType,
  input: Record<string, unknown>,
): AccessDecision & { groups: GroupForAccess[] } {
  const groups = groupsOfInput(config, input);
  const decision = mayStart(config.access, principal, {
    runbook,
    groups,
    dryRun: input.dryRun === true,
    preApproved: input.approval !== undefined,
  });
  return { ...decision, groups };
}
