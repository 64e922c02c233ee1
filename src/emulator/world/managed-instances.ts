/**
 * Managed instances: their identity and DNS names, their size (vCores, storage, tier, hardware family) and the
 * management operation that changes it. Azure's rules for an update: one management operation at a time per instance,
 * none while the instance's failover group fails over, and only the vCore and storage values Azure accepts.
 */
import { skuNameOf } from '../../domain/azure-state';
import { normalizeLocation } from '../../domain/locations';
import type { InstanceSpec, WorldSpec } from '../world-spec';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { takeOperationFault } from './faults';
import { displayLocation } from './regions';
import {
  EmulatedArmError,
  instanceResourceId,
  type AsyncOperation,
  type InstanceState,
  type ManagementOperation,
} from './state';

/** The vCore counts a managed instance may have. */
const VALID_VCORES = new Set([4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128]);

/** What a PATCH of a managed instance asks to change. */
export interface InstanceUpdate {
  vCores?: number;
  storageSizeInGB?: number;
  tier?: string;
  family?: string;
  licenseType?: string;
}

/** An instance as a world description declares it, with the names Azure derives (id, DNS zone, FQDN). */
export function instanceFromSpec(instance: InstanceSpec, spec: WorldSpec): InstanceState {
  const subscriptionId = instance.subscriptionId ?? spec.subscriptionId;
  const id = instanceResourceId(subscriptionId, instance.resourceGroup, instance.name);
  const dnsZone = zoneFromSpec(instance, spec);
  return {
    ...instance,
    id,
    subscriptionId,
    location: normalizeLocation(instance.location),
    displayLocation: displayLocation(instance.location),
    dnsZone,
    fullyQualifiedDomainName: `${instance.name}.${dnsZone}.database.windows.net`,
    provisioningState: 'Succeeded',
  };
}

/**
 * PATCH of an instance's size. Returns undefined when nothing changes (ARM answers 200 at once). Refused while
 * another management operation runs on the instance, or for values Azure does not accept.
 */
export function requestScale(
  world: WorldContext,
  instance: InstanceState,
  update: InstanceUpdate,
): AsyncOperation | undefined {
  world.advance();
  const now = world.now();
  const running = world.operations.find(
    (operation) => operation.state === 'InProgress' && operation.instanceId === instance.id,
  );
  if (running) {
    world.record('scale-refused', { instance: instance.name, detail: { reason: 'operation in progress' } });
    throw new EmulatedArmError(
      409,
      'ConflictingManagedInstanceOperation',
      'An operation is currently in progress for the managed instance.',
    );
  }
  if (update.vCores !== undefined && !VALID_VCORES.has(update.vCores)) {
    throw new EmulatedArmError(
      405,
      'InvalidVcoreValue',
      `vCore value ${update.vCores} is not valid. Please specify a valid vCore value.`,
    );
  }
  if (
    update.storageSizeInGB !== undefined &&
    (update.storageSizeInGB % 32 !== 0 || update.storageSizeInGB < 32 || update.storageSizeInGB > 16_384)
  ) {
    throw new EmulatedArmError(
      405,
      'InvalidStorageSizeValue',
      `Invalid storage size: ${update.storageSizeInGB} GB. Storage size must be specified between 32 and 16384 gigabytes, in increments of 32 GB.`,
    );
  }
  const group = world.groupOfInstance(instance.id);
  if (group?.failover) {
    throw new EmulatedArmError(
      409,
      'ManagedInstanceIsBusy',
      `The server '${instance.name}' is currently busy. Please wait a few minutes before trying again.`,
    );
  }
  if (update.licenseType) instance.licenseType = update.licenseType;
  const current = {
    vCores: instance.vCores,
    storageSizeInGB: instance.storageSizeInGB,
    tier: instance.tier,
    family: instance.family,
  };
  const requested = {
    vCores: update.vCores ?? instance.vCores,
    storageSizeInGB: update.storageSizeInGB ?? instance.storageSizeInGB,
    tier: update.tier ?? instance.tier,
    family: update.family ?? instance.family,
  };
  if (JSON.stringify(current) === JSON.stringify(requested)) return undefined;
  const vCoreChange =
    requested.vCores !== current.vCores || requested.tier !== current.tier || requested.family !== current.family;
  const durationMs = (vCoreChange ? world.timings.vCoreScaleSeconds : world.timings.storageScaleSeconds) * 1000;
  const asyncOperation = startAsyncOperation(world, 'scale', instance.subscriptionId, instance.location, {
    type: 'instance',
    instanceId: instance.id,
  });
  const fails = takeOperationFault(world.faults, instance);
  const operation: ManagementOperation = {
    id: `${instance.id}/operations/${asyncOperation.id}`,
    name: asyncOperation.id,
    instanceId: instance.id,
    asyncOperationId: asyncOperation.id,
    operation: 'UpsertManagedServer',
    friendlyName: 'Updating managed instance',
    state: 'InProgress',
    startedAt: now,
    endsAt: now + durationMs,
    current,
    requested,
    fails,
  };
  world.operations.push(operation);
  instance.provisioningState = 'Updating';
  world.record('scale-requested', {
    instance: instance.name,
    group: group?.name,
    detail: { from: current, to: requested },
  });
  return asyncOperation;
}

/** Ends the management operations that have come due by `now`. */
export function advanceOperations(world: WorldContext, now: number): void {
  for (const operation of world.operations) {
    if (operation.state === 'InProgress' && now >= operation.endsAt) finishOperation(world, operation);
  }
}

/** The operation's end, at `endsAt`: the new size applies, or an armed failure leaves the old one. */
function finishOperation(world: WorldContext, operation: ManagementOperation): void {
  const instance = world.instanceById(operation.instanceId)!;
  const asyncOperation = world.asyncOperations.get(operation.asyncOperationId);
  if (operation.fails) {
    operation.state = 'Failed';
    operation.error = operation.fails;
    if (asyncOperation)
      Object.assign(asyncOperation, { status: 'Failed', endTime: operation.endsAt, error: operation.fails });
    world.record('scale-failed', { instance: instance.name, detail: { code: operation.fails.code } }, operation.endsAt);
  } else {
    operation.state = 'Succeeded';
    instance.vCores = operation.requested.vCores;
    instance.storageSizeInGB = operation.requested.storageSizeInGB;
    instance.tier = operation.requested.tier;
    instance.family = operation.requested.family;
    instance.skuName = skuNameOf(instance.tier, instance.family) ?? instance.skuName;
    if (asyncOperation) Object.assign(asyncOperation, { status: 'Succeeded', endTime: operation.endsAt });
    world.record('scale-completed', { instance: instance.name, detail: { ...operation.requested } }, operation.endsAt);
  }
  instance.provisioningState = 'Succeeded';
  world.emit('change', 'operation-ended', operation);
}

/**
 * The instance's DNS zone: its own, its `dnsZonePartner`'s (an instance of the world named by name or resource id:
 * Azure's ManagedInstances REST spec, `dnsZonePartner`: "The resource id of another managed instance whose DNS zone
 * this managed instance will share after creation"), or a new name-derived one.
 */
function zoneFromSpec(instance: InstanceSpec, spec: WorldSpec, seen = new Set<string>()): string {
  if (instance.dnsZone) return instance.dnsZone;
  const partnerName = instance.dnsZonePartner?.split('/').at(-1)?.toLowerCase();
  if (!partnerName) return stableZone(instance.name);
  const partner = spec.instances.find((entry) => entry.name.toLowerCase() === partnerName);
  if (!partner) {
    throw new Error(
      `instance ${instance.name}: dnsZonePartner ${instance.dnsZonePartner} is not an instance of the world; name one of ${spec.instances.map((entry) => entry.name).join(', ')}`,
    );
  }
  if (seen.has(partner.name)) return stableZone(instance.name);
  return zoneFromSpec(partner, spec, seen.add(instance.name));
}

/** A stable, name-derived DNS zone, as Azure assigns one per instance. */
function stableZone(name: string): string {
  let hash = 2166136261;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return hash.toString(16).padStart(8, '0').slice(0, 12) + 'f0c';
}
