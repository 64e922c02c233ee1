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
 *   ../shared/reference/azure-sql-mi-failover.md), `timings.seedingGBPerHour`, per database (./seeding.ts).
 * - `KeyMaterialNotFoundOnRemoteServer` ("Remote server does not have access to key material used as a TDE protector",
 *   the Microsoft.Sql specs' error lists) when the primary's TDE protector is a Key Vault key the partner does not
 *   have; `InstanceFailoverGroupIncorrectNetworkingConfiguration` when the subnets overlap or their network security
 *   groups block replication (./network-check.ts); both named in ../shared/reference/azure-sql-mi-failover.md, "Group
 *   creation refusals".
 * - Azure cancels a creation still seeding after 6 days (same file, "Limits that become validation errors"): the
 *   operation ends Failed with `InstanceFailoverGroupSeedingTimedOut` (the code is inferred; Azure documents none) and
 *   the group is removed, its databases left on the primary and the secondary left empty (inferred).
 *
 * Knowingly simplified: the order of the checks is the emulator's; the messages are Azure's where the spec gives one,
 * followed by the evidence.
 */
import { normalizeLocation } from '../../domain/locations';
import { completedAsyncOperation, startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { networkRefusal } from './network-check';
import { isSeeded, scheduleCreationSeeding } from './seeding';
import {
  EmulatedArmError,
  groupKey,
  type AsyncOperation,
  type DatabaseState,
  type GroupState,
  type InstanceState,
  type OwnDatabase,
} from './state';

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

/** Azure cancels the creation of a group still seeding this long after it was asked for. */
export const CREATION_SEEDING_LIMIT_MS = 6 * 24 * 3_600_000;

const onSecondary = () =>
  new EmulatedArmError(
    400,
    'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
    'Modifications to the instance failover group are not allowed on a secondary server. Execute the request on the primary server.',
  );

/** The Key Vault keys registered on an instance: its `keys` and its protector's. */
export function registeredKeys(instance: InstanceState): string[] {
  const keys = [...instance.keys];
  const protector = instance.tdeProtector?.keyUri;
  if (protector && !keys.some((key) => key.toLowerCase() === protector.toLowerCase())) keys.push(protector);
  return keys;
}

/** The database an instance's own database becomes in a new group: its log, if it has one, seeded afresh. */
function groupDatabase(world: WorldContext, own: OwnDatabase): DatabaseState {
  const database: DatabaseState = own.retained ?? {
    name: own.name,
    sizeGB: own.sizeGB,
    lagMs: own.lagMs ?? world.timings.replicationLagMs,
    nextLsn: 1,
    commits: [],
    readOnlyUntil: 0,
  };
  Object.assign(database, {
    name: own.name,
    sizeGB: own.sizeGB,
    readOnlyUntil: 0,
    lagSpike: undefined,
    linkLostSince: undefined,
    seeding: undefined,
  });
  return database;
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
        `Failover group already exists on a given server: ${instance.name} is in failover group ${group.name}${group.deletion ? ' (being deleted)' : ''}, and an instance can be in one group only.`,
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
      `Primary managed instance and partner managed instance do not have the same storage size. ${primary.name} has ${primary.storageSizeInGB} GB, ${partner.name} ${partner.storageSizeInGB} GB.`,
    );
  }
  if (partner.databases.length > 0) {
    throw new EmulatedArmError(
      400,
      'GeoDrSecondaryInstanceNotEmpty',
      `Secondary managed instance has user databases. To create an instance failover group the secondary managed instance needs to be empty. ${partner.name} has ${partner.databases.map((database) => database.name).join(', ')}.`,
    );
  }
  const protector = primary.tdeProtector?.keyUri;
  if (protector && !registeredKeys(partner).some((key) => key.toLowerCase() === protector.toLowerCase())) {
    const theirs = registeredKeys(partner);
    throw new EmulatedArmError(
      400,
      'KeyMaterialNotFoundOnRemoteServer',
      `Remote server does not have access to key material used as a TDE protector. ${primary.name}'s TDE protector is the Key Vault key ${protector}; ${partner.name} has ${theirs.length > 0 ? `only ${theirs.join(', ')}` : 'no Key Vault key'} registered. Add that key to ${partner.name} (managedInstances/keys) first.`,
    );
  }
  const network = networkRefusal(world, primary, partner);
  if (network) throw new EmulatedArmError(400, 'InstanceFailoverGroupIncorrectNetworkingConfiguration', network);

  const now = world.now();
  const databases = primary.databases.map((own) => groupDatabase(world, own));
  const seedingUntil = scheduleCreationSeeding(world, databases, now);
  // The new secondary holds none of the log until the database is seeded, then all of it.
  for (const database of databases) for (const record of database.commits) record.hardenedAt = database.seeding!.endsAt;
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
    seedingUntil,
    creationOperationId: asyncOperation.id,
    createdAt: now,
    databases,
  };
  // The primary's databases are the group's from now on (and the secondary's once seeded).
  primary.databases = [];
  world.groups.set(group.key, group);
  world.record('group-created', {
    group: group.name,
    detail: {
      seedingUntil: group.seedingUntil,
      databases: databases.map((database) => ({
        name: database.name,
        seedingFrom: database.seeding!.startsAt,
        seedingUntil: database.seeding!.endsAt,
      })),
    },
  });
  world.emit('change', 'group-created', group);
  return { group, asyncOperation, created: true };
}

/**
 * Azure's end to a creation that is still seeding 6 days after it was asked for: the operation ends Failed, the group
 * is removed, its databases stay on the primary (as its own) and the secondary is left empty. Dated when it was due.
 */
export function cancelStaleCreation(world: WorldContext, group: GroupState, now: number): boolean {
  if (group.createdAt === undefined || group.seedingUntil === undefined || group.deletion) return false;
  const dueAt = group.createdAt + CREATION_SEEDING_LIMIT_MS;
  if (now < dueAt || group.seedingUntil <= dueAt) return false;
  const creation = group.creationOperationId ? world.asyncOperations.get(group.creationOperationId) : undefined;
  if (!creation || creation.status !== 'InProgress') return false;
  const waiting = group.databases.filter((database) => !isSeeded(database, dueAt));
  Object.assign(creation, {
    status: 'Failed',
    endTime: dueAt,
    error: {
      code: 'InstanceFailoverGroupSeedingTimedOut',
      message:
        `The creation of instance failover group ${group.name} was cancelled after 6 days of seeding; ` +
        `${waiting.map((database) => database.name).join(', ')} had not finished seeding (${group.databases.length - waiting.length} of ${group.databases.length} databases had). ` +
        'The group was removed and its databases stay on the primary. Seeding runs at up to 360 GB/h: make the databases smaller or the network faster, then create the group again.',
    },
  });
  const primary = world.instanceById(group.primaryInstanceId)!;
  primary.databases = [...primary.databases, ...group.databases.map(ownCopy)];
  world.groups.delete(group.key);
  world.record(
    'group-creation-cancelled',
    { group: group.name, detail: { after: '6 days', waiting: waiting.map((database) => database.name) } },
    dueAt,
  );
  world.emit('change', 'group-deleted', group);
  return true;
}

/** A group's database as its instance's own, keeping its log. */
export function ownCopy(database: DatabaseState): OwnDatabase {
  return {
    name: database.name,
    sizeGB: database.sizeGB,
    lagMs: database.lagMs,
    retained: { ...database, seeding: undefined },
  };
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
  if (existing.deletion) {
    throw new EmulatedArmError(
      409,
      'InstanceFailoverGroupBusy',
      `Instance failover group is busy with another operation: ${existing.name} is being deleted. Wait for the deletion to end, then create the group again.`,
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
