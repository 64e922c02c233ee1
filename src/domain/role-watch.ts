/**
 * Reading many groups' roles from list calls: which list calls a set of groups needs (one per subscription, resource
 * group and location, shared by every group of that scope), and what one group's roles are from the answers. Pure, so
 * the watch activity and its tests share it.
 */
import { summarizeGroupRoles, type FailoverGroupView, type ReplicationStatus } from './azure-state';
import type { GroupCoordinates } from './group-ref';
import { normalizeLocation } from './locations';

/** Where one ARM list call looks: `instanceFailoverGroups` of a resource group at a location. */
export interface ListScope {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

/**
 * How a group's roles were read in one look:
 * - `both`: both locations answered and agree (one Primary, one Secondary);
 * - `survivor`: one location did not answer (a dark region, which is when Azure fails over) and the other says it is
 *   Primary, which is taken as the roles;
 * - `ambiguous`: answers came, but they do not name one primary (they disagree, or the only one says Secondary, or one
 *   location does not list the group);
 * - `unread`: no location answered with the group (its scopes failed, or neither lists it).
 */
export type RoleReadKind = 'both' | 'survivor' | 'ambiguous' | 'unread';

/** One group's roles as one look read them. */
export interface GroupRoleReading {
  read: RoleReadKind;
  /** Set for `both` and `survivor`. */
  primaryLocation?: string;
  secondaryLocation?: string;
  /** The replication state the answers add up to (`unknown` when nothing answered). */
  replicationStatus: ReplicationStatus;
  /** One line a person reads: what each location said. */
  detail: string;
}

/** What one list call answered: the groups it lists, or why it failed. */
export type ScopeAnswer = { views: FailoverGroupView[] } | { error: string };

/** The key of a scope: ARM compares subscription and resource group names case-insensitively. */
export function scopeKey(scope: ListScope): string {
  return `${scope.subscriptionId.toLowerCase()}/${scope.resourceGroup.toLowerCase()}/${normalizeLocation(scope.location)}`;
}

/** The scopes a set of groups is read from: both locations of each, each scope once, in first-seen order. */
export function scopesOf(groups: readonly GroupCoordinates[]): ListScope[] {
  const scopes = new Map<string, ListScope>();
  for (const group of groups) {
    for (const location of [group.primaryLocation, group.secondaryLocation]) {
      const scope = {
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        location: normalizeLocation(location),
      };
      if (!scopes.has(scopeKey(scope))) scopes.set(scopeKey(scope), scope);
    }
  }
  return [...scopes.values()];
}

/** The group's roles from the answers of its two scopes (keyed by {@link scopeKey}). */
export function readRolesFromScopes(
  group: GroupCoordinates,
  answers: ReadonlyMap<string, ScopeAnswer>,
): GroupRoleReading {
  const views: FailoverGroupView[] = [];
  const silent: string[] = [];
  const lines: string[] = [];
  for (const location of [normalizeLocation(group.primaryLocation), normalizeLocation(group.secondaryLocation)]) {
    const answer = answers.get(
      scopeKey({ subscriptionId: group.subscriptionId, resourceGroup: group.resourceGroup, location }),
    );
    if (!answer || 'error' in answer) {
      silent.push(location);
      lines.push(`${location} did not answer${answer ? `: ${answer.error}` : ''}`);
      continue;
    }
    const view = answer.views.find((entry) => entry.name.toLowerCase() === group.name.toLowerCase());
    if (!view) {
      lines.push(`${location} does not list ${group.name}`);
      continue;
    }
    views.push(view);
    lines.push(`${location} says ${view.replicationRole} (${view.replicationState || 'no state'})`);
  }
  const detail = lines.join('; ');
  if (views.length === 0) return { read: 'unread', replicationStatus: 'unknown', detail };
  const summary = summarizeGroupRoles(views);
  if (views.length === 2) {
    return summary.consistent && summary.primaryLocation
      ? {
          read: 'both',
          primaryLocation: summary.primaryLocation,
          secondaryLocation: summary.secondaryLocation,
          replicationStatus: summary.status,
          detail,
        }
      : { read: 'ambiguous', replicationStatus: summary.status, detail };
  }
  // One answer. Only a location that did not answer at all leaves room for the survivor's word: a location that
  // answered without the group is a group half created or half deleted, not a dark region.
  const [view] = views as [FailoverGroupView];
  if (silent.length === 1 && view.replicationRole.toLowerCase() === 'primary') {
    return {
      read: 'survivor',
      primaryLocation: normalizeLocation(view.location),
      secondaryLocation: normalizeLocation(view.partnerLocation),
      replicationStatus: summary.status,
      detail,
    };
  }
  return { read: 'ambiguous', replicationStatus: summary.status, detail };
}
