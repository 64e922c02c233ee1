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
import { sqlTargetGroup, type GroupIdentity, type ResolvedGroup } from '../../domain/group-ref';
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
  /** The kind, as reports and logs name it. */
  readonly kind: string;
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
  /** Sends one planned or forced failover toward `targetLocation` (never retried by Temporal: see `sendFailoverOnce`). */
  sendFailover(
    group: GroupIdentity,
    targetLocation: string,
    kind: 'planned' | 'forced',
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
  /** Where to reach a member over SQL (copy sync, replication links, updateability, drift checks). */
  sqlEndpoint(
    member: Member,
    group: Pick<ResolvedGroup, 'displayName' | 'subscriptionId' | 'resourceGroup' | 'name'>,
  ): SqlInstanceTarget;
}

/** Managed Instance failover groups (`instanceFailoverGroups`): each location holds one managed instance. */
export const managedInstanceGroups: FailoverGroupKind<InstanceReading> = {
  kind: 'managed-instance',
  readRoles: (group, locations, summary, preset = reads) =>
    preset.readGroupRoles.executeWithOptions({ summary }, [{ group, locations }]),
  memberIdsOf: (roles) => [
    ...new Set(roles.views.flatMap((view) => [view.primaryManagedInstanceId, view.partnerManagedInstanceId])),
  ],
  primaryMemberId: (view) => view.primaryManagedInstanceId,
  memberIdAt: (view) =>
    view.replicationRole.toLowerCase() === 'primary' ? view.primaryManagedInstanceId : view.partnerManagedInstanceId,
  readMembers: async (memberIds, summary, preset = reads) => {
    const reading = await preset.readInstances.executeWithOptions({ summary }, [{ instanceIds: memberIds }]);
    return { members: reading.instances, armCalls: reading.armCalls };
  },
  describeMember: (member) => ({
    id: member.instance.id,
    name: member.instance.name,
    location: member.instance.location,
  }),
  sendFailover: (group, targetLocation, kind, summary, targetView) =>
    failoverSends.sendFailover.executeWithOptions({ summary }, [
      targetView ? { group, targetLocation, kind, targetView } : { group, targetLocation, kind },
    ]),
  readFailoverProgress: (group, trackingId, summary) =>
    reads.readFailoverProgress.executeWithOptions({ summary }, [{ group, trackingId }]),
  startScale: (memberId, target, summary, preset = scaleStarts) =>
    preset.startInstanceScale.executeWithOptions({ summary }, [{ instanceId: memberId, target }]),
  readScaleProgress: (memberId, trackingId, summary) =>
    reads.readOperationProgress.executeWithOptions({ summary }, [{ instanceId: memberId, trackingId }]),
  sqlEndpoint: (member, group) => ({
    instanceId: member.instance.id,
    host: member.instance.fullyQualifiedDomainName,
    ...sqlTargetGroup(group),
  }),
};

/** The kind of a group. Every group is a Managed Instance group today; a server failover group will be told apart here. */
export function groupKindOf(group: GroupIdentity): FailoverGroupKind<InstanceReading> {
  void group;
  return managedInstanceGroups;
}
