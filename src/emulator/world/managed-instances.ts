/**
 * Managed instances: their identity and DNS names, their size (vCores, storage, tier, hardware family) and the
 * management operation that changes it. Azure's rules for an update: one management operation at a time per instance,
 * none while the instance's failover group fails over, and only the values Azure accepts (the refusals below cite the
 * `ManagedInstances.json` PATCH error list, 2022-08-01-preview, and ../shared/reference/arm-error-codes.json).
 *
 * An update's course follows "Overview of Azure SQL Managed Instance management operations"
 * (https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/management-operations-overview?view=azuresql)
 * and the operation bodies of `ManagedInstanceOperations.json` (examples ListManagedInstanceOperations,
 * GetManagedInstanceOperation): `Pending`, then `InProgress` through its steps, then `Succeeded` or `Failed`; a cancel
 * moves it to `CancelInProgress`, then `Cancelled`, the instance keeping its old size. See ./operation-course.ts.
 */
import { skuNameOf } from '../../domain/azure-state';
import { normalizeLocation } from '../../domain/locations';
import type { InstanceSpec, WorldSpec } from '../world-spec';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import { takeOperationFault } from './faults';
import { isRunning, planUpdate, type SizeParameters } from './operation-course';
import { displayLocation } from './regions';
import {
  EmulatedArmError,
  instanceResourceId,
  type AsyncOperation,
  type GroupState,
  type InstanceState,
  type ManagementOperation,
} from './state';

export { isRunning } from './operation-course';

/** The vCore counts a managed instance may have. */
const VALID_VCORES = new Set([4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128]);

/**
 * The most vCores a hardware family offers ("Overview of Azure SQL Managed Instance resource limits",
 * https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/resource-limits?view=azuresql: standard-series
 * (Gen5) up to 80, premium-series up to 128). Families not listed are held only to `VALID_VCORES`.
 */
const MAX_VCORES_BY_FAMILY: Record<string, number> = { gen5: 80, g8im: 128, g8ih: 128 };

/** What a PATCH of a managed instance asks to change. */
export interface InstanceUpdate {
  vCores?: number;
  storageSizeInGB?: number;
  tier?: string;
  family?: string;
  licenseType?: string;
}

/** An instance as a world description declares it, with the names Azure derives (id, DNS zone, FQDN), made at `now`. */
export function instanceFromSpec(instance: InstanceSpec, spec: WorldSpec, now: number): InstanceState {
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
    databases: instance.databases.map((database) => ({ ...database })),
    keys: [...instance.keys],
    createdAt: now,
    droppedDatabases: [],
    explicitLtrBackups: instance.longTermRetentionBackups.map((backup) => {
      const backupTime = Date.parse(backup.backupTime);
      return {
        databaseName: backup.database,
        backupTime,
        expiresAt: backup.expiresAt ? Date.parse(backup.expiresAt) : backupTime + 365 * 86_400_000,
        commits: backup.rows.map((payload, index) => ({
          lsn: index + 1,
          rowId: index + 1,
          committedAt: backupTime,
          hardenedAt: backupTime,
          payload,
        })),
      };
    }),
  };
}

/** Refuses, with Azure's code, a size Azure does not accept (values checked before any state). */
function refuseInvalidSize(instance: InstanceState, update: InstanceUpdate, requested: SizeParameters): void {
  if (update.vCores !== undefined) {
    const max = MAX_VCORES_BY_FAMILY[requested.family.toLowerCase()];
    if (!VALID_VCORES.has(update.vCores) || (max !== undefined && update.vCores > max)) {
      throw new EmulatedArmError(
        405,
        'InvalidVcoreValue',
        `vCore value ${update.vCores} is not valid. Please specify a valid vCore value.` +
          (max !== undefined ? ` ${requested.family} hardware offers up to ${max} vCores.` : ''),
      );
    }
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
  if (update.storageSizeInGB !== undefined && update.storageSizeInGB < instance.storageUsedInGB) {
    // Azure's message, typo included.
    throw new EmulatedArmError(
      400,
      'ManagedInstanceInvalidStorageSizeLessThenCurrentSizeUsed',
      `Invalid storage size: Storage size limit (${update.storageSizeInGB} GB) is less that current storage used (${instance.storageUsedInGB} GB). Please specify higher storage size limit.`,
    );
  }
  if (update.family !== undefined && /^gen4$/i.test(update.family) && !/^gen4$/i.test(instance.family)) {
    throw new EmulatedArmError(
      400,
      'ManagedInstanceDeprecatedHardwareFamily',
      'Changing the hardware generation to deprecated Gen4 generation is not possible.',
    );
  }
}

/**
 * PATCH of an instance's size. Returns undefined when nothing changes (ARM answers 200 at once). Refused while
 * another management operation runs on the instance, while its group fails over, or for values Azure does not accept.
 */
export function requestScale(
  world: WorldContext,
  instance: InstanceState,
  update: InstanceUpdate,
): AsyncOperation | undefined {
  world.advance();
  const now = world.now();
  const running = world.operations.find((operation) => isRunning(operation) && operation.instanceId === instance.id);
  if (running) {
    world.record('scale-refused', { instance: instance.name, detail: { reason: 'operation in progress' } });
    throw new EmulatedArmError(
      409,
      'ConflictingManagedInstanceOperation',
      'An operation is currently in progress for the managed instance.',
    );
  }
  const current: SizeParameters = {
    vCores: instance.vCores,
    storageSizeInGB: instance.storageSizeInGB,
    tier: instance.tier,
    family: instance.family,
  };
  const requested: SizeParameters = {
    vCores: update.vCores ?? instance.vCores,
    storageSizeInGB: update.storageSizeInGB ?? instance.storageSizeInGB,
    tier: update.tier ?? instance.tier,
    family: update.family ?? instance.family,
  };
  refuseInvalidSize(instance, update, requested);
  const group = world.groupOfInstance(instance.id);
  if (group?.failover) {
    throw new EmulatedArmError(
      409,
      'ManagedInstanceIsBusy',
      `The server '${instance.name}' is currently busy. Please wait a few minutes before trying again.`,
    );
  }
  if (update.licenseType) instance.licenseType = update.licenseType;
  if (JSON.stringify(current) === JSON.stringify(requested)) return undefined;
  const plan = planUpdate(world.timings, instance, current, requested, now);
  const asyncOperation = startAsyncOperation(world, 'scale', instance.subscriptionId, instance.location, {
    type: 'instance',
    instanceId: instance.id,
  });
  const operation: ManagementOperation = {
    id: `${instance.id}/operations/${asyncOperation.id}`,
    name: asyncOperation.id,
    instanceId: instance.id,
    asyncOperationId: asyncOperation.id,
    operation: 'UpsertManagedServer',
    friendlyName: 'UPDATE MANAGED SERVER',
    state: plan.runsAt > now ? 'Pending' : 'InProgress',
    startedAt: now,
    runsAt: plan.runsAt,
    endsAt: plan.endsAt,
    steps: plan.steps,
    cancellable: plan.cancellable,
    current,
    requested,
    fails: takeOperationFault(world.faults, instance),
  };
  world.operations.push(operation);
  instance.provisioningState = 'Updating';
  world.record('scale-requested', {
    instance: instance.name,
    group: group?.name,
    detail: { from: current, to: requested, durationMs: plan.endsAt - now },
  });
  return asyncOperation;
}

/**
 * POST `…/operations/{id}/cancel`. Azure refuses an operation that has ended or cannot be cancelled (a General
 * Purpose storage-only change) with 409 `CannotCancelOperation` ("Canceling Azure SQL Managed Instance management
 * operations", https://docs.microsoft.com/cs-cz/azure/azure-sql/managed-instance/management-operations-cancel?view=azuresql,
 * and the Cancel error list of ManagedInstanceOperations.json); the cancel itself takes `operationCancelSeconds`.
 */
export function cancelOperation(world: WorldContext, operation: ManagementOperation): void {
  world.advance();
  if (!isRunning(operation) || operation.state === 'CancelInProgress' || !operation.cancellable) {
    world.record('cancel-refused', { instance: operation.name, detail: { state: operation.state } });
    throw new EmulatedArmError(
      409,
      'CannotCancelOperation',
      `The management operation is in a state that cannot be cancelled (${operation.state}` +
        `${operation.cancellable ? '' : '; a General Purpose storage change cannot be cancelled'}).`,
    );
  }
  const now = world.now();
  operation.state = 'CancelInProgress';
  operation.cancelRequestedAt = now;
  operation.cancelEndsAt = now + world.timings.operationCancelSeconds * 1000;
  world.record('scale-cancel-requested', { instance: world.instanceById(operation.instanceId)?.name });
}

/** Moves the management operations on to what has come due by `now`. */
export function advanceOperations(world: WorldContext, now: number): void {
  for (const operation of world.operations) {
    if (operation.state === 'Pending' && now >= operation.runsAt) operation.state = 'InProgress';
    if (operation.state === 'CancelInProgress' && now >= operation.cancelEndsAt!) endCancelled(world, operation);
    else if (operation.state === 'InProgress' && now >= operation.endsAt) finishOperation(world, operation);
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

/** A cancel's end: the instance keeps its old size; the ARM operation ends `Canceled`. */
function endCancelled(world: WorldContext, operation: ManagementOperation): void {
  const instance = world.instanceById(operation.instanceId)!;
  const at = operation.cancelEndsAt!;
  operation.state = 'Cancelled';
  const asyncOperation = world.asyncOperations.get(operation.asyncOperationId);
  if (asyncOperation) {
    Object.assign(asyncOperation, {
      status: 'Canceled',
      endTime: at,
      error: { code: 'OperationCancelled', message: 'The operation has been cancelled by user.' },
    });
  }
  instance.provisioningState = 'Succeeded';
  world.record('scale-cancelled', { instance: instance.name, detail: { kept: operation.current } }, at);
  world.emit('change', 'operation-ended', operation);
}

/**
 * How long the group's geo-secondary spends replaying each commit beyond the link's lag, when it has fewer vCores
 * than the primary (0 otherwise). The model: a secondary's redo runs at a speed proportional to its vCores, and Azure
 * does not refuse an undersized secondary (it only recommends scaling the secondary up first and down last:
 * "Failover groups overview & best practices", section "Scaling instances",
 * https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/failover-group-sql-mi?view=azuresql; the
 * support article "Lag on geo-secondary instance": a heavy write workload plus a smaller secondary makes it fall
 * behind). Each commit costs `undersizedSecondaryRedoMsPerCommit × (primary vCores / secondary vCores − 1)`, and the
 * commits queue (replication.ts `commit`): while the write rate exceeds what the secondary replays, the lag grows with
 * every commit; when writes stop, the queue drains.
 */
export function redoQueueMsPerCommit(world: WorldContext, group: GroupState): number {
  const primary = world.instanceById(group.primaryInstanceId);
  const secondaryId = group.instanceIds.find((id) => id.toLowerCase() !== group.primaryInstanceId.toLowerCase());
  const secondary = secondaryId ? world.instanceById(secondaryId) : undefined;
  if (!primary || !secondary || secondary.vCores >= primary.vCores) return 0;
  return world.timings.undersizedSecondaryRedoMsPerCommit * (primary.vCores / secondary.vCores - 1);
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
