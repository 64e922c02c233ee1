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
  /**
   * Which Azure resource the group is: `managedInstance` (`locations/{l}/instanceFailoverGroups/{g}`, the default when
   * absent) or `sqlDatabase` (Azure SQL Database's `servers/{s}/failoverGroups/{g}`).
   */
  kind?: GroupKindName;
  /**
   * `sqlDatabase` only: the logical server of the group in each location, by location (normalized): the home primary's,
   * the home secondary's, and any further secondary's. ARM addresses a server failover group through a server.
   */
  servers?: Record<string, string>;
}

/** The kinds of failover group fogpilot runs runbooks on. */
export type GroupKindName = 'managedInstance' | 'sqlDatabase';

export const GROUP_KIND_NAMES: readonly GroupKindName[] = ['managedInstance', 'sqlDatabase'];

/**
 * What names a group in ARM, independent of roles. A server failover group also carries its kind and servers: ARM
 * addresses it through one of them.
 */
export type GroupIdentity = Pick<GroupCoordinates, 'subscriptionId' | 'resourceGroup' | 'name' | 'kind' | 'servers'>;

/** The group's kind (`managedInstance` when the reference predates kinds). */
export function groupKindNameOf(group: Pick<GroupCoordinates, 'kind'>): GroupKindName {
  return group.kind ?? 'managedInstance';
}

/** Whether the group is an Azure SQL Database (server) failover group. */
export function isServerGroup(group: Pick<GroupCoordinates, 'kind'>): boolean {
  return group.kind === 'sqlDatabase';
}

/**
 * The logical server of a server failover group at `location`. Throws a message that names the locations the group has
 * when it has none there (the caller turns it into its failure).
 */
export function serverAt(group: Pick<GroupCoordinates, 'name' | 'servers'>, location: string): string {
  const wanted = normalizeLocation(location);
  for (const [at, server] of Object.entries(group.servers ?? {})) if (normalizeLocation(at) === wanted) return server;
  const known = Object.keys(group.servers ?? {});
  throw new Error(
    `group ${group.name} has no server in ${wanted}` +
      (known.length ? ` (its servers are in ${known.join(', ')})` : ' (no servers are known for it)'),
  );
}

/** The location of `server` in a server failover group, or undefined when it is not one of its servers. */
export function locationOfServer(group: Pick<GroupCoordinates, 'servers'>, server: string): string | undefined {
  for (const [at, name] of Object.entries(group.servers ?? {}))
    if (name.toLowerCase() === server.toLowerCase()) return normalizeLocation(at);
  return undefined;
}

/** The locations of every server of a server failover group (empty for a Managed Instance group). */
export function serverLocations(group: Pick<GroupCoordinates, 'servers'>): string[] {
  return Object.keys(group.servers ?? {}).map(normalizeLocation);
}

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
  if (isServerGroup(group)) return serverFailoverGroupId(group, serverAt(group, group.primaryLocation));
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

const ARM_SERVER_GROUP_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/servers\/([^/]+)\/failoverGroups\/([^/]+)\/?$/i;

export interface ParsedServerGroupId {
  subscriptionId: string;
  resourceGroup: string;
  server: string;
  name: string;
}

/** Parses `/subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/servers/…/failoverGroups/…`. */
export function parseServerFailoverGroupId(id: string): ParsedServerGroupId | undefined {
  const match = ARM_SERVER_GROUP_ID.exec(id.trim());
  if (!match) return undefined;
  const [, subscriptionId, resourceGroup, server, name] = match as unknown as [string, string, string, string, string];
  return {
    subscriptionId: decodeURIComponent(subscriptionId),
    resourceGroup: decodeURIComponent(resourceGroup),
    server: decodeURIComponent(server),
    name: decodeURIComponent(name),
  };
}

/** A server failover group's ARM id as seen from one of its servers. */
export function serverFailoverGroupId(
  group: Pick<GroupIdentity, 'subscriptionId' | 'resourceGroup' | 'name'>,
  server: string,
): string {
  return `${logicalServerId(group.subscriptionId, group.resourceGroup, server)}/failoverGroups/${group.name}`;
}

/** A logical server's ARM id. */
export function logicalServerId(subscriptionId: string, resourceGroup: string, server: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/servers/${server}`;
}

/** The name of the server an ARM id (of the server or of anything under it) names. */
export function serverNameOfId(id: string): string | undefined {
  return /\/providers\/Microsoft\.Sql\/servers\/([^/]+)/i.exec(id)?.[1];
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

/**
 * The read-write listener of a server failover group (Azure SQL Database): `<group>.database.windows.net`, a CNAME
 * Azure points at the current primary server. The read-only one is `<group>.secondary.database.windows.net`.
 */
export function serverGroupListenerHost(groupName: string): string {
  return `${groupName}.database.windows.net`;
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
    // Only a server group says its kind: a Managed Instance group's resolution is as it was before kinds.
    ...(coordinates.kind === 'sqlDatabase'
      ? {
          kind: coordinates.kind,
          servers: Object.fromEntries(
            Object.entries(coordinates.servers ?? {}).map(([location, server]) => [
              normalizeLocation(location),
              server,
            ]),
          ),
        }
      : {}),
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
