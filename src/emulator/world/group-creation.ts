/**
 * PUT of a failover group at its primary's location: an update of an existing group's policies, or a new group, which
 * is a long-running operation: its `Azure-AsyncOperation` stays InProgress while the primary's databases seed to the
 * secondary, and the group reports `replicationState: SEEDING` meanwhile (a failover is refused then).
 *
 * Sources:
 * - REST spec `InstanceFailoverGroups.json` (stable/2023-08-01), operation InstanceFailoverGroups_CreateOrUpdate:
 *   `x-ms-long-running-operation`, 200/201/202; example InstanceFailoverGroupCreateOrUpdate
 *   (../shared/reference/arm-examples/2022-05-01-preview_InstanceFailoverGroupCreateOrUpdate.json).
 * - The refusals and their codes are the spec's "Error Responses" list: InstanceFailoverGroupBusy (409),
 *   InvalidFailoverGroupRegion, FailoverGroupRegionMismatch, DnsZoneMismatch, GeoDrInstanceSizeMismatch,
 *   GeoDrSecondaryInstanceNotEmpty, InstanceFailoverGroupCreateOrUpdateRequestUnsupportedPairCount (400) and
 *   InstanceFailoverGroupAlreadyExists (409), with the spec's messages.
 * - Seeding time by size: up to 360 GB/h ("Limits that become validation errors" in
 *   ../shared/reference/azure-sql-mi-failover.md), `timings.seedingGBPerHour`.
 *
 * Knowingly simplified: the databases seed one after the other at the full rate and the group reports SEEDING until
 * the last is done (Azure reports seeding per database); the order of the checks is the emulator's.
 */
import { normalizeLocation } from '../../domain/locations';
import { completedAsyncOperation, startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { EmulatedArmError, groupKey, type AsyncOperation, type DatabaseState, type GroupState } from './state';

/** What a PUT of a failover group asks for. */
export interface GroupRequest {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  name: string;
  primaryInstanceId: string;
  partnerInstanceId: string;
  /** `partnerRegions[0].location`, when the request names it. */
  partnerRegion?: string;
  readWriteFailoverPolicy: string;
  gracePeriodMinutes?: number;
  readOnlyFailoverPolicy: string;
  secondaryType: string;
}

const onSecondary = () =>
  new EmulatedArmError(
    400,
    'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
    'Modifications to the instance failover group are not allowed on a secondary server. Execute the request on the primary server.',
  );

/** A new group's creation time: its floor, plus every database's size at the seeding rate (simulated ms). */
export function seedingMs(world: WorldContext, databases: { sizeGB: number }[]): number {
  const totalGB = databases.reduce((sum, database) => sum + database.sizeGB, 0);
  return world.timings.groupCreateSeconds * 1000 + (totalGB / world.timings.seedingGBPerHour) * 3_600_000;
}

export function createGroup(
  world: WorldContext,
  params: GroupRequest,
): { group: GroupState; asyncOperation: AsyncOperation; created: boolean } {
  world.advance();
  const existing = world.groups.get(groupKey(params.subscriptionId, params.resourceGroup, params.name));
  if (existing) return updateGroup(world, existing, params);
  const primary = world.instanceById(params.primaryInstanceId);
  const partner = world.instanceById(params.partnerInstanceId);
  if (!primary || !partner)
    throw new EmulatedArmError(404, 'ResourceNotFound', 'The managed instances of the pair must exist.');
  if (primary.location !== normalizeLocation(params.location)) {
    throw new EmulatedArmError(
      400,
      'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
      `The group must be created at the location of its primary instance (${primary.location}), not at ${params.location}.`,
    );
  }
  if (primary.location === partner.location) {
    throw new EmulatedArmError(
      400,
      'InvalidFailoverGroupRegion',
      `Servers specified in an Instance Failover Group need to reside in different regions to provide isolation. ${primary.name} and ${partner.name} are both in ${primary.location}.`,
    );
  }
  if (params.partnerRegion !== undefined && normalizeLocation(params.partnerRegion) !== partner.location) {
    throw new EmulatedArmError(
      400,
      'FailoverGroupRegionMismatch',
      `Partner region specified in Failover Group need to match the region of the partner managed instance indicated: partnerRegions names ${params.partnerRegion}, ${partner.name} is in ${partner.location}.`,
    );
  }
  for (const instance of [primary, partner]) {
    const group = world.groupOfInstance(instance.id);
    if (group) {
      throw new EmulatedArmError(
        409,
        'InstanceFailoverGroupAlreadyExists',
        `Failover group already exists on a given server: ${instance.name} is in failover group ${group.name}, and an instance can be in one group only.`,
      );
    }
  }
  if (primary.dnsZone !== partner.dnsZone) {
    throw new EmulatedArmError(
      400,
      'DnsZoneMismatch',
      `The DNSZone on the partner server is different from the DNSZone on the source server. This breaks InstanceFailoverGroup functionality. ${primary.name} is in zone ${primary.dnsZone}, ${partner.name} in ${partner.dnsZone}: create the secondary with dnsZonePartner set to the primary.`,
    );
  }
  if (primary.storageSizeInGB !== partner.storageSizeInGB) {
    throw new EmulatedArmError(
      400,
      'GeoDrInstanceSizeMismatch',
      'Primary managed instance and partner managed instance do not have the same storage size.',
    );
  }
  if (partner.databases.length > 0) {
    throw new EmulatedArmError(
      400,
      'GeoDrSecondaryInstanceNotEmpty',
      `Secondary managed instance has user databases. To create an instance failover group the secondary managed instance needs to be empty. ${partner.name} has ${partner.databases.map((database) => database.name).join(', ')}.`,
    );
  }
  const databases: DatabaseState[] = primary.databases.map((database) => ({
    name: database.name,
    sizeGB: database.sizeGB,
    lagMs: database.lagMs ?? world.timings.replicationLagMs,
    nextLsn: 1,
    commits: [],
    readOnlyUntil: 0,
  }));
  const asyncOperation = startAsyncOperation(world, 'group-create', params.subscriptionId, params.location, {
    type: 'group',
    groupKey: groupKey(params.subscriptionId, params.resourceGroup, params.name),
    location: primary.location,
  });
  const group: GroupState = {
    key: groupKey(params.subscriptionId, params.resourceGroup, params.name),
    subscriptionId: params.subscriptionId,
    resourceGroup: params.resourceGroup,
    name: params.name,
    instanceIds: [primary.id, partner.id],
    primaryInstanceId: primary.id,
    readWriteFailoverPolicy: params.readWriteFailoverPolicy,
    gracePeriodMinutes: params.gracePeriodMinutes,
    readOnlyFailoverPolicy: params.readOnlyFailoverPolicy,
    secondaryType: params.secondaryType,
    seedingUntil: world.now() + seedingMs(world, databases),
    creationOperationId: asyncOperation.id,
    databases,
  };
  // The primary's databases are the group's from now on (and the secondary's once seeded).
  primary.databases = [];
  world.groups.set(group.key, group);
  world.record('group-created', {
    group: group.name,
    detail: { seedingUntil: group.seedingUntil, databases: databases.map((database) => database.name) },
  });
  return { group, asyncOperation, created: true };
}

/** PUT of an existing group: its policies, at the primary's location, not while a failover of it runs. */
function updateGroup(
  world: WorldContext,
  existing: GroupState,
  params: GroupRequest,
): { group: GroupState; asyncOperation: AsyncOperation; created: boolean } {
  if (world.instanceById(existing.primaryInstanceId)!.location !== normalizeLocation(params.location))
    throw onSecondary();
  if (existing.failover) {
    throw new EmulatedArmError(
      409,
      'InstanceFailoverGroupBusy',
      `Instance failover group is busy with another operation: a ${existing.failover.kind} failover of ${existing.name} is running. Wait for it to end (fogpilot status shows it), then send the update again.`,
    );
  }
  existing.readWriteFailoverPolicy = params.readWriteFailoverPolicy;
  existing.gracePeriodMinutes = params.gracePeriodMinutes;
  existing.readOnlyFailoverPolicy = params.readOnlyFailoverPolicy;
  const asyncOperation = completedAsyncOperation(world, 'group-create', params.subscriptionId, params.location, {
    type: 'group',
    groupKey: existing.key,
    location: normalizeLocation(params.location),
  });
  return { group: existing, asyncOperation, created: false };
}
