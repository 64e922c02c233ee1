/**
 * The group-kind seam: what a runbook needs from "a failover group", whatever Azure resource it is. Steps ask
 * `groupKindOf(group)` rather than calling the activities of one kind, so a second kind — Azure SQL Database's server
 * failover groups (`servers/{s}/failoverGroups`, member databases, `partnerServers[]`) — plugs in as a second
 * implementation without copying the runbooks. Managed Instance (`instanceFailoverGroups`) is the first.
 */
import type {
  FailoverProgressReading,
  FailoverSendResult,
  GroupRolesReading,
  InstanceReading,
  OperationProgressReading,
  StartScaleResult,
} from '../../activities';
import type { FailoverGroupView, ScaleTarget } from '../../domain/azure-state';
import {
  isServerGroup,
  listenerHost,
  serverGroupListenerHost,
  sqlTargetGroup,
  type GroupIdentity,
  type ResolvedGroup,
} from '../../domain/group-ref';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import { failoverSends, reads, scaleStarts } from './activity-presets';

/** The activity proxies a read goes through (e.g. `readsUntil(deadline)` after a failover was sent). */
export type ReadPreset = typeof reads;
/** The activity preset a scale request goes through (one that also meters failed attempts, for scaleGroup). */
export type ScaleStartPreset = typeof scaleStarts;

/** The members a group's locations hold, with the ARM calls it took. */
export interface MembersReading<Member> {
  members: Member[];
  armCalls?: StartScaleResult['armCalls'];
}

/**
 * What a runbook needs from a failover group of one kind. `Member` is what each location holds and what is scaled:
 * an instance, or (for a server failover group) the databases or elastic pools of a server.
 */
export interface FailoverGroupKind<Member> {
  /** The kind, as the inventory and reports name it. */
  readonly kind: 'managedInstance' | 'sqlDatabase';
  /** What a member is, for messages: "managed instance", "server". */
  readonly memberNoun: string;
  /** Reads the roles the group reports at `locations` (a location that does not answer is left out of the views). */
  readRoles(
    group: GroupIdentity,
    locations: string[],
    summary: string,
    preset?: ReadPreset,
  ): Promise<GroupRolesReading>;
  /** The ids of the members the roles read name, primary and partner, each once. */
  memberIdsOf(roles: GroupRolesReading): string[];
  /** The id of the member `view` names primary (as the location it was read at reports it). */
  primaryMemberId(view: FailoverGroupView): string;
  /** The id of the member at the location `view` was read at, whichever its role. */
  memberIdAt(view: FailoverGroupView): string;
  /** Reads members by id, with their sizes and the management operations running on them. */
  readMembers(memberIds: string[], summary: string, preset?: ReadPreset): Promise<MembersReading<Member>>;
  /** The member's id, name and location (lower-case, as ARM writes it). */
  describeMember(member: Member): { id: string; name: string; location: string };
  /**
   * Sends one planned or forced failover toward `targetLocation` (never retried by Temporal: see `sendFailoverOnce`);
   * `try-planned` (server groups whose api-version offers it) is Azure's own planned-then-forced.
   */
  sendFailover(
    group: GroupIdentity,
    targetLocation: string,
    kind: 'planned' | 'forced' | 'try-planned',
    summary: string,
    targetView?: FailoverGroupView,
  ): Promise<FailoverSendResult>;
  /** One read of a failover's async operation. */
  readFailoverProgress(group: GroupIdentity, trackingId: string, summary: string): Promise<FailoverProgressReading>;
  /** Starts scaling a member to `target` (idempotent: an identical running operation is adopted). */
  startScale(
    memberId: string,
    target: ScaleTarget,
    summary: string,
    preset?: ScaleStartPreset,
  ): Promise<StartScaleResult>;
  /** One read of a member's scaling operation. */
  readScaleProgress(memberId: string, trackingId: string, summary: string): Promise<OperationProgressReading>;
  /**
   * The group's read-write listener, which follows the primary (`<group>.<zone>.database.windows.net` for a Managed
   * Instance group, `<group>.database.windows.net` for a server group), given the primary member.
   */
  readWriteListener(
    primary: Member,
    group: Pick<ResolvedGroup, 'displayName' | 'subscriptionId' | 'resourceGroup' | 'name'>,
  ): SqlInstanceTarget;
  /** Where to reach a member over SQL (copy sync, replication links, updateability, drift checks). */
  sqlEndpoint(
    member: Member,
    group: Pick<ResolvedGroup, 'displayName' | 'subscriptionId' | 'resourceGroup' | 'name'>,
  ): SqlInstanceTarget;
}

/** The member ids the views name, primary and partner, each once (an instance's, or a group's side's at a server). */
function memberIdsOfViews(roles: GroupRolesReading): string[] {
  return [...new Set(roles.views.flatMap((view) => [view.primaryManagedInstanceId, view.partnerManagedInstanceId]))];
}

function memberIdAtView(view: FailoverGroupView): string {
  return view.replicationRole.toLowerCase() === 'primary'
    ? view.primaryManagedInstanceId
    : view.partnerManagedInstanceId;
}

function describeReading(member: InstanceReading): { id: string; name: string; location: string } {
  return { id: member.instance.id, name: member.instance.name, location: member.instance.location };
}

/** Managed Instance failover groups (`instanceFailoverGroups`): each location holds one managed instance. */
export const managedInstanceGroups: FailoverGroupKind<InstanceReading> = {
  kind: 'managedInstance',
  memberNoun: 'managed instance',
  readRoles: (group, locations, summary, preset = reads) =>
    preset.readGroupRoles.executeWithOptions({ summary }, [{ group, locations }]),
  memberIdsOf: (roles) => memberIdsOfViews(roles),
  primaryMemberId: (view) => view.primaryManagedInstanceId,
  memberIdAt: (view) => memberIdAtView(view),
  readMembers: async (memberIds, summary, preset = reads) => {
    const reading = await preset.readInstances.executeWithOptions({ summary }, [{ instanceIds: memberIds }]);
    return { members: reading.instances, armCalls: reading.armCalls };
  },
  describeMember: (member) => describeReading(member),
  sendFailover: (group, targetLocation, kind, summary, targetView) => {
    // Only server groups have Azure's own planned-then-forced: a Managed Instance group escalates in the runbook.
    const sent = kind === 'try-planned' ? 'planned' : kind;
    return failoverSends.sendFailover.executeWithOptions({ summary }, [
      targetView ? { group, targetLocation, kind: sent, targetView } : { group, targetLocation, kind: sent },
    ]);
  },
  readFailoverProgress: (group, trackingId, summary) =>
    reads.readFailoverProgress.executeWithOptions({ summary }, [{ group, trackingId }]),
  startScale: (memberId, target, summary, preset = scaleStarts) =>
    preset.startInstanceScale.executeWithOptions({ summary }, [{ instanceId: memberId, target }]),
  readScaleProgress: (memberId, trackingId, summary) =>
    reads.readOperationProgress.executeWithOptions({ summary }, [{ instanceId: memberId, trackingId }]),
  readWriteListener: (primary, group) => {
    // Both instances of a failover group share one DNS zone; the listener lives in it under the group's name.
    const dnsZone = primary.instance.dnsZone ?? primary.instance.fullyQualifiedDomainName.split('.')[1] ?? '';
    return { instanceId: `listener:${group.name}`, host: listenerHost(group.name, dnsZone), ...sqlTargetGroup(group) };
  },
  sqlEndpoint: (member, group) => ({
    instanceId: member.instance.id,
    host: member.instance.fullyQualifiedDomainName,
    ...sqlTargetGroup(group),
  }),
};

/**
 * Azure SQL Database's server failover groups (`servers/{s}/failoverGroups`): each location holds a logical server,
 * and a member is the group's side on it (named by the group's id at that server), with the member databases and
 * their elastic pools (src/activities/server-groups.ts). SQL reaches each member database on a connection of its own.
 */
export const sqlDatabaseGroups: FailoverGroupKind<InstanceReading> = {
  kind: 'sqlDatabase',
  memberNoun: 'server',
  readRoles: (group, locations, summary, preset = reads) =>
    preset.readServerGroupRoles.executeWithOptions({ summary }, [{ group, locations }]),
  memberIdsOf: (roles) => memberIdsOfViews(roles),
  primaryMemberId: (view) => view.primaryManagedInstanceId,
  memberIdAt: (view) => memberIdAtView(view),
  readMembers: async (memberIds, summary, preset = reads) => {
    const reading = await preset.readServerSides.executeWithOptions({ summary }, [{ memberIds }]);
    return { members: reading.instances, armCalls: reading.armCalls };
  },
  describeMember: (member) => describeReading(member),
  sendFailover: (group, targetLocation, kind, summary, targetView) =>
    failoverSends.sendServerFailover.executeWithOptions({ summary }, [
      targetView ? { group, targetLocation, kind, targetView } : { group, targetLocation, kind },
    ]),
  readFailoverProgress: (group, trackingId, summary) =>
    reads.readServerFailoverProgress.executeWithOptions({ summary }, [{ group, trackingId }]),
  startScale: (memberId, target, summary, preset = scaleStarts) =>
    preset.startServerSideScale.executeWithOptions({ summary }, [{ memberId, target }]),
  readScaleProgress: (memberId, trackingId, summary) =>
    reads.readServerSideScaleProgress.executeWithOptions({ summary }, [{ memberId, trackingId }]),
  readWriteListener: (primary, group) => ({
    instanceId: `listener:${group.name}`,
    host: serverGroupListenerHost(group.name),
    kind: 'sqlDatabase',
    databases: (primary.serverSide?.databases ?? []).map((database) => database.name),
    ...sqlTargetGroup(group),
  }),
  sqlEndpoint: (member, group) => ({
    instanceId: member.instance.id,
    host: member.instance.fullyQualifiedDomainName,
    kind: 'sqlDatabase',
    databases: (member.serverSide?.databases ?? []).map((database) => database.name),
    ...sqlTargetGroup(group),
  }),
};

/** The kind of a group: its reference says (`kind: sqlDatabase`), else a Managed Instance group. */
export function groupKindOf(group: GroupIdentity): FailoverGroupKind<InstanceReading> {
  return isServerGroup(group) ? sqlDatabaseGroups : managedInstanceGroups;
}
