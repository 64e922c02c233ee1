import { normalizeLocation } from './locations';

/**
 * Where an instance failover group lives, and which region is its home primary.
 *
 * `primaryLocation` / `secondaryLocation` are the *configured* roles (the inventory's, or the caller's): the region the
 * group normally runs in and its DR partner. The roles at this moment are always read from ARM.
 */
export interface GroupCoordinates {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  primaryLocation: string;
  secondaryLocation: string;
}

/** What names a group in ARM, independent of roles. */
export type GroupIdentity = Pick<GroupCoordinates, 'subscriptionId' | 'resourceGroup' | 'name'>;

/** A group reference as it appears in workflow input: an inventory name, coordinates, or a full ARM id. */
export type GroupRef = string | GroupCoordinates;

/** A group after resolution: coordinates with normalized locations, plus the ids derived from them. */
export interface ResolvedGroup extends GroupCoordinates {
  /** How people refer to the group: the inventory name when it has one, else the ARM group name. */
  displayName: string;
  /** The workflow id that holds the group's lock: at most one mutating runbook runs under it. */
  lockWorkflowId: string;
  /**
   * Where the locations came from. `inventory` and `coordinates` name the group's home (its configured primary and
   * secondary); `arm-id` means a full ARM id the inventory does not know, whose locations are the roles ARM reported
   * when it was resolved: no home is known, so a runbook that goes "home" or to "the home secondary" needs a
   * `targetLocation`. Absent in results recorded before it was introduced (read as a known home).
   */
  resolvedFrom?: 'inventory' | 'coordinates' | 'arm-id';
}

/** Whether the group's home regions are known (configured), rather than read from its roles at some moment. */
export function homeIsKnown(group: Pick<ResolvedGroup, 'resolvedFrom'>): boolean {
  return group.resolvedFrom !== 'arm-id';
}

/**
 * How to name the group on the `fogpilot` command line: its inventory name, or else its full ARM id (which every
 * command accepts), so a command quoted in a message works as it is.
 */
export function groupCommandArgument(group: ResolvedGroup): string {
  if (group.resolvedFrom === 'inventory' || group.resolvedFrom === undefined) return group.displayName;
  return instanceFailoverGroupId(group, group.primaryLocation);
}

const ARM_GROUP_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/locations\/([^/]+)\/instanceFailoverGroups\/([^/]+)\/?$/i;

export interface ParsedGroupId {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  name: string;
}

/** Parses `/subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/locations/…/instanceFailoverGroups/…`. */
export function parseInstanceFailoverGroupId(id: string): ParsedGroupId | undefined {
  const match = ARM_GROUP_ID.exec(id.trim());
  if (!match) return undefined;
  const [, subscriptionId, resourceGroup, location, name] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    subscriptionId: decodeURIComponent(subscriptionId),
    resourceGroup: decodeURIComponent(resourceGroup),
    location: normalizeLocation(decodeURIComponent(location)),
    name: decodeURIComponent(name),
  };
}

export function isArmGroupId(ref: string): boolean {
  return ref.trim().toLowerCase().startsWith('/subscriptions/');
}

/** The group's ARM id as seen from one of its locations. */
export function instanceFailoverGroupId(group: GroupIdentity, location: string): string {
  return (
    `/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}` +
    `/providers/Microsoft.Sql/locations/${normalizeLocation(location)}/instanceFailoverGroups/${group.name}`
  );
}

/**
 * The FQDN of a group's read-write listener: `<group>.<dnsZone>.database.windows.net`, where `dnsZone` is the zone the
 * instances of the pair share. Azure points it (a CNAME) at the current primary, so writes through it follow failovers.
 */
export function listenerHost(groupName: string, dnsZone: string): string {
  return `${groupName}.${dnsZone}.database.windows.net`;
}

/** `fogpilot/<subscriptionId>/<resourceGroup>/<groupName>`: the id every mutating runbook on the group runs under. */
export function lockWorkflowId(group: GroupIdentity): string {
  return `fogpilot/${group.subscriptionId.toLowerCase()}/${group.resourceGroup.toLowerCase()}/${group.name.toLowerCase()}`;
}

export function resolvedGroup(
  coordinates: GroupCoordinates,
  displayName?: string,
  resolvedFrom?: ResolvedGroup['resolvedFrom'],
): ResolvedGroup {
  const normalized: GroupCoordinates = {
    subscriptionId: coordinates.subscriptionId,
    resourceGroup: coordinates.resourceGroup,
    name: coordinates.name,
    primaryLocation: normalizeLocation(coordinates.primaryLocation),
    secondaryLocation: normalizeLocation(coordinates.secondaryLocation),
  };
  return {
    ...normalized,
    displayName: displayName ?? coordinates.name,
    lockWorkflowId: lockWorkflowId(normalized),
    ...(resolvedFrom ? { resolvedFrom } : {}),
  };
}

/**
 * What an SQL target carries about its group: the display name for messages and the ARM identity the worker chooses
 * the SQL login by.
 */
export function sqlTargetGroup(
  group: Pick<ResolvedGroup, 'displayName' | 'subscriptionId' | 'resourceGroup' | 'name'>,
): { group: string; groupId: GroupIdentity } {
  return {
    group: group.displayName,
    groupId: { subscriptionId: group.subscriptionId, resourceGroup: group.resourceGroup, name: group.name },
  };
}

/** Whether two identities name the same group: ARM compares names case-insensitively. */
export function sameGroupIdentity(a: GroupIdentity, b: GroupIdentity): boolean {
  const same = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  return same(a.subscriptionId, b.subscriptionId) && same(a.resourceGroup, b.resourceGroup) && same(a.name, b.name);
}

/** The other location of the pair. */
export function partnerOf(group: GroupCoordinates, location: string): string {
  return normalizeLocation(location) === normalizeLocation(group.primaryLocation)
    ? normalizeLocation(group.secondaryLocation)
    : normalizeLocation(group.primaryLocation);
}

/** A short label for logs and UI: the display name, or `name` when the reference is coordinates. */
export function describeGroupRef(ref: unknown): string {
  if (typeof ref === 'string') return ref;
  if (ref && typeof ref === 'object' && 'name' in ref && typeof ref.name === 'string') return ref.name;
  return '(unknown group)';
}
