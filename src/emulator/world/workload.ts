/**
 * The workload around the databases, composed: its state from the world description, its clock-driven transitions,
 * its faults, and the resource groups it adds to the world. The rules are ./vm-backup.ts and ./cosmos-accounts.ts.
 */
import { createHash } from 'node:crypto';
import { normalizeLocation } from '../../domain/locations';
import type { WorldSpec } from '../world-spec';
import { WorkloadTimingsSchema, type WorkloadTimings } from '../world-spec-workload';
import { advanceCosmosAccounts } from './cosmos-accounts';
import { advanceBackups } from './vm-backup';
import {
  cosmosAccountResourceId,
  vaultResourceId,
  virtualMachineResourceId,
  type WorkloadState,
  type WorkloadWorld,
} from './workload-state';

const DAY = 86_400_000;

/** A stable GUID-shaped id from a resource id (a VM's `vmId`, an account's `instanceId`). */
export function stableGuid(seed: string): string {
  const hex = createHash('sha256').update(seed.toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A workload with nothing in it (the defaults' timings until a world description gives its own). */
export function emptyWorkload(timings: WorkloadTimings = WorkloadTimingsSchema.parse({})): WorkloadState {
  return {
    timings,
    virtualMachines: new Map(),
    vaults: new Map(),
    backupOperations: new Map(),
    cosmosAccounts: new Map(),
    cosmosOperations: new Map(),
    faults: { backupJobFails: new Map() },
  };
}

/** Fills `workload` from the world description (replacing what it held). Throws for names used twice. */
export function loadWorkload(workload: WorkloadState, spec: WorldSpec, now: number): void {
  Object.assign(workload, emptyWorkload(spec.workloadTimings));
  const unique = (map: Map<string, unknown>, id: string, what: string) => {
    if (map.has(id.toLowerCase())) throw new Error(`${what} ${id} is declared twice`);
  };
  for (const vm of spec.virtualMachines) {
    const subscriptionId = vm.subscriptionId ?? spec.subscriptionId;
    const id = virtualMachineResourceId(subscriptionId, vm.resourceGroup, vm.name);
    unique(workload.virtualMachines, id, 'virtual machine');
    workload.virtualMachines.set(id.toLowerCase(), {
      ...vm,
      id,
      subscriptionId,
      location: normalizeLocation(vm.location),
      vmId: stableGuid(id),
    });
  }
  for (const vault of spec.recoveryServicesVaults) {
    const subscriptionId = vault.subscriptionId ?? spec.subscriptionId;
    const id = vaultResourceId(subscriptionId, vault.resourceGroup, vault.name);
    unique(workload.vaults, id, 'Recovery Services vault');
    workload.vaults.set(id.toLowerCase(), {
      id,
      name: vault.name,
      subscriptionId,
      resourceGroup: vault.resourceGroup,
      location: normalizeLocation(vault.location),
      policies: vault.policies.map((policy) => ({ ...policy, scheduleRunTimes: [...policy.scheduleRunTimes] })),
      discovered: new Set(),
      protectedItems: new Map(),
      jobs: new Map(),
    });
  }
  for (const account of spec.cosmosDbAccounts) {
    const subscriptionId = account.subscriptionId ?? spec.subscriptionId;
    const id = cosmosAccountResourceId(subscriptionId, account.resourceGroup, account.name);
    unique(workload.cosmosAccounts, id, 'Cosmos DB account');
    const creationTime = now - account.createdDaysAgo * DAY;
    const policy = account.backupPolicy;
    workload.cosmosAccounts.set(id.toLowerCase(), {
      id,
      name: account.name,
      subscriptionId,
      resourceGroup: account.resourceGroup,
      locations: [account.location, ...account.readLocations].map(normalizeLocation),
      kind: account.kind,
      dataSizeGB: account.dataSizeGB,
      instanceId: stableGuid(id),
      creationTime,
      backupPolicy:
        policy.type === 'Periodic'
          ? {
              type: 'Periodic',
              backupIntervalInMinutes: policy.backupIntervalInMinutes,
              backupRetentionIntervalInHours: policy.backupRetentionIntervalInHours,
              backupStorageRedundancy: policy.backupStorageRedundancy,
            }
          : { type: 'Continuous', tier: policy.tier },
      continuousSince: policy.type === 'Continuous' ? creationTime : undefined,
    });
  }
}

/** Applies the workload's transitions that have come due. */
export function advanceWorkload(world: WorkloadWorld, now: number): void {
  advanceBackups(world, now);
  advanceCosmosAccounts(world, now);
}

/** The resource groups the workload's resources are in, as `subscription/resourceGroup`, lower case. */
export function workloadResourceGroups(workload: WorkloadState): Set<string> {
  const groups = new Set<string>();
  for (const resource of [
    ...workload.virtualMachines.values(),
    ...workload.vaults.values(),
    ...workload.cosmosAccounts.values(),
  ]) {
    groups.add(`${resource.subscriptionId}/${resource.resourceGroup}`.toLowerCase());
  }
  return groups;
}

/** Fault `backup-job-fails`: the VM's next backup job (on demand or scheduled) ends Failed. */
export function armBackupJobFailure(
  world: WorkloadWorld,
  vm: string,
  failure: { code: string; message: string },
): void {
  const found = [...world.workload.virtualMachines.values()].find(
    (entry) => entry.name.toLowerCase() === vm.toLowerCase() || entry.id.toLowerCase() === vm.toLowerCase(),
  );
  if (!found) throw new Error(`no virtual machine ${vm} in the world`);
  world.workload.faults.backupJobFails.set(found.id.toLowerCase(), failure);
}
