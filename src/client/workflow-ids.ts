/**
 * The part of a workflow id (and of a drill schedule's id) that names what a runbook runs on: a group, a region, every
 * group, or a list of groups. Two different targets never get the same text, so two runs started under one idempotency
 * key on two groups never land on one workflow id.
 *
 * The forms, chosen so no two overlap:
 * - an inventory name, as written (`fog-sales`): letters, digits, `.`, `_`, `-`, starting with a letter or digit;
 * - a group named by coordinates or a full ARM id: `<subscription>/<resource group>/<group>` in lower case (ARM names
 *   are case-insensitive, and the location in an ARM id is left out: a group seen from either of its regions is one
 *   group), the same three parts as its lock id;
 * - anything whose readable text could be ambiguous or too long (a part that is not a subscription GUID, a resource
 *   group or a group name as Azure writes them): a readable prefix, `~`, and 32 hex characters of the SHA-256 of the
 *   full identity;
 * - `region-<region>` (fleets), `groups-<count>~<hash>` (a fleet's list of groups), `_all` (every group), each with
 *   `forced-` in front for a forced fleet;
 * - `workload-<count>~<hash>` (protectWorkload: its VMs and Cosmos DB accounts, no group).
 *
 * The client cannot read the worker's inventory, so an inventory name stands for itself: it is unique within the
 * inventory (the keys of one YAML map) that every worker on the task queue serves. The same group named once by its
 * inventory name and once by its ARM id gets two ids; two different groups never share one.
 */
import { createHash } from 'node:crypto';
import { isArmGroupId, parseInstanceFailoverGroupId, type GroupIdentity } from '../domain/group-ref';
import { normalizeLocation } from '../domain/locations';

const INVENTORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const SUBSCRIPTION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RESOURCE_GROUP = /^[-a-z0-9_.()]{1,90}$/;
const GROUP_NAME = /^[a-z0-9-]{1,63}$/;

/**
 * Hex characters of SHA-256 kept: 128 bits, so finding two identities with one hash (a birthday search, 2^64 work) is
 * out of reach even for someone who can name groups to order.
 */
export const TARGET_HASH_LENGTH = 32;

/** The longest readable text kept in front of a hash. */
const READABLE_PREFIX_LENGTH = 60;

function hashOf(identity: unknown): string {
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, TARGET_HASH_LENGTH);
}

function readable(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .slice(0, READABLE_PREFIX_LENGTH);
  return cleaned === '' ? 'group' : cleaned;
}

function hashed(readableText: string, identity: unknown): string {
  return `${readable(readableText)}~${hashOf(identity)}`;
}

/** The group's identity in ARM (lower case), when the reference names one: an ARM id or coordinates. */
function armIdentityOf(ref: unknown): GroupIdentity | undefined {
  if (typeof ref === 'string') {
    const parsed = isArmGroupId(ref) ? parseInstanceFailoverGroupId(ref) : undefined;
    return parsed && identity(parsed.subscriptionId, parsed.resourceGroup, parsed.name);
  }
  if (ref && typeof ref === 'object') {
    const { subscriptionId, resourceGroup, name } = ref as Record<string, unknown>;
    if (typeof subscriptionId === 'string' && typeof resourceGroup === 'string' && typeof name === 'string') {
      return identity(subscriptionId, resourceGroup, name);
    }
  }
  return undefined;
}

function identity(subscriptionId: string, resourceGroup: string, name: string): GroupIdentity {
  return {
    subscriptionId: subscriptionId.trim().toLowerCase(),
    resourceGroup: resourceGroup.trim().toLowerCase(),
    name: name.trim().toLowerCase(),
  };
}

/** What a group reference names, as plain data a hash is taken of: `['arm', sub, rg, name]` or `['inventory', name]`. */
function identityKey(ref: unknown): readonly string[] {
  const arm = armIdentityOf(ref);
  if (arm) return ['arm', arm.subscriptionId, arm.resourceGroup, arm.name];
  if (typeof ref === 'string') return ['inventory', ref.trim()];
  return ['unknown', JSON.stringify(ref) ?? ''];
}

/**
 * The text naming one group in a workflow id or a schedule id: its inventory name, `<sub>/<rg>/<name>` (lower case), or
 * a readable prefix with a hash of the full identity when either could be ambiguous or too long. ASCII, and at most
 * 191 characters (a GUID, a 90-character resource group and a 63-character group name, with two slashes).
 */
export function groupTarget(ref: unknown): string {
  const arm = armIdentityOf(ref);
  if (arm) {
    const { subscriptionId, resourceGroup, name } = arm;
    if (SUBSCRIPTION.test(subscriptionId) && RESOURCE_GROUP.test(resourceGroup) && GROUP_NAME.test(name)) {
      return `${subscriptionId}/${resourceGroup}/${name}`;
    }
    return hashed(name, identityKey(ref));
  }
  if (typeof ref === 'string' && INVENTORY_NAME.test(ref.trim())) return ref.trim();
  return hashed(typeof ref === 'string' ? ref : 'unknown-group', identityKey(ref));
}

/**
 * The text naming what a runbook input runs on: {@link groupTarget} of its `group`, `region-<region>`, `_all` for
 * every group, or `groups-<count>~<hash>` for a list of groups (the same groups in any order, or repeated, are one
 * list); a forced fleet's with `forced-` in front.
 */
export function runbookTarget(input: unknown): string {
  const raw = input as
    | {
        group?: unknown;
        mode?: unknown;
        name?: unknown;
        primaryInstance?: unknown;
        vms?: unknown;
        cosmosAccounts?: unknown;
      }
    | undefined;
  if (raw?.group !== undefined) return groupTarget(raw.group);
  // protectWorkload runs on no group: its VMs and Cosmos DB accounts are its target.
  if (raw?.group === undefined && (Array.isArray(raw?.vms) || Array.isArray(raw?.cosmosAccounts))) {
    return workloadTarget(input);
  }
  // establishGroup names the group it creates by `name`.
  if (typeof raw?.name === 'string' && raw.primaryInstance !== undefined) return groupTarget(raw.name);
  // A forced fleet is a different decision from a planned one over the same groups: escalating under the incident's
  // key must start it, not answer with the planned run.
  return raw?.mode === 'forced' ? `forced-${fleetTarget(input)}` : fleetTarget(input);
}

/**
 * `workload-<count>~<hash>`: the VMs and Cosmos DB accounts of a protectWorkload input, as lower-case ARM ids (ARM ids
 * are case-insensitive), sorted and without repeats; the same resources in any order are one target.
 */
function workloadTarget(input: unknown): string {
  const raw = input as { vms?: unknown; cosmosAccounts?: unknown };
  const ids = [raw.vms, raw.cosmosAccounts]
    .flatMap((list): unknown[] => (Array.isArray(list) ? list : []))
    .map((id) => (typeof id === 'string' ? id.trim().toLowerCase() : JSON.stringify(id)));
  const members = [...new Set(ids)].sort();
  return `workload-${members.length}~${hashOf(members)}`;
}

function fleetTarget(input: unknown): string {
  const raw = input as { region?: unknown; all?: unknown; groups?: unknown } | undefined;
  if (typeof raw?.region === 'string') return `region-${readable(normalizeLocation(raw.region))}`;
  if (raw?.all === true) return '_all';
  if (Array.isArray(raw?.groups)) {
    const members = [...new Set(raw.groups.map((ref) => JSON.stringify(identityKey(ref))))].sort();
    return `groups-${members.length}~${hashOf(members)}`;
  }
  return 'fleet';
}
