/**
 * Azure Backup of virtual machines in a Recovery Services vault, as the REST API runs it (Microsoft Learn, "Back up an
 * Azure VM using Azure Backup via REST API" and "Track backup and restore jobs using REST API"; azure-rest-api-specs
 * recoveryservicesbackup stable/2023-06-01 examples RefreshContainers, Compute_ProtectedItem_Get, RecoveryPoints_Get,
 * ProtectionPolicies_Get):
 * - discovery: `refreshContainers` (long-running) caches the VMs a vault may protect: those of its subscription in its
 *   region that no vault protects; the protectable items list shows the cached ones not protected yet;
 * - protection: the protected item's PUT (long-running, with a ConfigureBackup job) protects a cached VM under a
 *   policy; the item is `IRPending` until its first backup completes, then `Protected`;
 * - backups: an on-demand backup (long-running; its operation names the job) and the policy's daily schedule each run a
 *   job, a snapshot phase then a transfer to the vault, both by the VM's disk size; a completed job leaves a recovery
 *   point with its snapshot tier (instant restore, the policy's days) and vault tier, which expires by the policy's
 *   retention (scheduled) or the request's expiry (on demand, 30 days by default);
 * - the fault `backup-job-fails` ends a VM's next backup job Failed.
 *
 * Inferred (no public source gives them): the durations (`workloadTimings`), the refusal codes of an unknown policy
 * and of a VM another vault protected meanwhile, scheduled backups at the policy's UTC time (its `timeZone` is UTC).
 */
import { createHash, randomUUID } from 'node:crypto';
import { normalizeLocation } from '../../domain/locations';
import { EmulatedArmError } from './state';
import type {
  BackupJob,
  BackupOperation,
  ProtectedItemState,
  VaultState,
  VirtualMachineState,
  WorkloadWorld,
} from './workload-state';

const DAY = 86_400_000;

/** `IaasVMContainer;iaasvmcontainerv2;{rg};{vm}` and `VM;iaasvmcontainerv2;{rg};{vm}` of a VM. */
export function vmBackupNames(vm: Pick<VirtualMachineState, 'resourceGroup' | 'name'>): {
  containerName: string;
  itemName: string;
} {
  const suffix = `iaasvmcontainerv2;${vm.resourceGroup};${vm.name}`;
  return { containerName: `IaasVMContainer;${suffix}`, itemName: `VM;${suffix}` };
}

/** The VM a container or item name names (`…;iaasvmcontainerv2;{rg};{vm}`), in the vault's subscription. */
export function vmOfBackupName(world: WorkloadWorld, vault: VaultState, name: string): VirtualMachineState | undefined {
  const parts = name.split(';');
  if (parts.length !== 4 || parts[1]!.toLowerCase() !== 'iaasvmcontainerv2') return undefined;
  return [...world.workload.virtualMachines.values()].find(
    (vm) =>
      vm.subscriptionId.toLowerCase() === vault.subscriptionId.toLowerCase() &&
      vm.resourceGroup.toLowerCase() === parts[2]!.toLowerCase() &&
      vm.name.toLowerCase() === parts[3]!.toLowerCase(),
  );
}

/** The vault that protects the VM, if any. */
export function protectingVault(world: WorkloadWorld, vmId: string): VaultState | undefined {
  return [...world.workload.vaults.values()].find((vault) =>
    [...vault.protectedItems.values()].some((item) => item.vmId.toLowerCase() === vmId.toLowerCase()),
  );
}

function newOperation(
  world: WorkloadWorld,
  vault: VaultState,
  fields: Partial<BackupOperation> & Pick<BackupOperation, 'kind' | 'endsAt'>,
): BackupOperation {
  const operation: BackupOperation = {
    id: randomUUID(),
    vaultId: vault.id,
    status: 'InProgress',
    startTime: world.now(),
    ...fields,
  };
  world.workload.backupOperations.set(operation.id, operation);
  return operation;
}

/** POST `backupFabrics/Azure/refreshContainers`: the vault caches the VMs it may protect when the operation ends. */
export function refreshContainers(world: WorkloadWorld, vault: VaultState): BackupOperation {
  world.advance();
  const operation = newOperation(world, vault, {
    kind: 'refresh',
    endsAt: world.now() + world.workload.timings.refreshContainersSeconds * 1000,
  });
  world.record('backup-refresh-containers', { detail: { vault: vault.name, operation: operation.id } });
  return operation;
}

/** The VMs a refresh of the vault discovers now: its subscription's, in its region, protected by no vault. */
function discoverable(world: WorkloadWorld, vault: VaultState): VirtualMachineState[] {
  return [...world.workload.virtualMachines.values()].filter(
    (vm) =>
      vm.subscriptionId.toLowerCase() === vault.subscriptionId.toLowerCase() &&
      vm.location === vault.location &&
      !protectingVault(world, vm.id),
  );
}

/** The protectable items list: VMs the vault has discovered that no vault protects. */
export function protectableVms(world: WorkloadWorld, vault: VaultState): VirtualMachineState[] {
  return [...world.workload.virtualMachines.values()].filter(
    (vm) => vault.discovered.has(vm.id.toLowerCase()) && !protectingVault(world, vm.id),
  );
}

/** A request body's `properties`, or a 400 as the service answers a body it cannot read. */
function propertiesOf(body: unknown): Record<string, unknown> {
  const properties = (body as { properties?: unknown } | undefined)?.properties;
  if (!properties || typeof properties !== 'object') {
    throw new EmulatedArmError(
      400,
      'BMSUserErrorInvalidInput',
      'Input provided for the call is invalid: the request has no properties.',
    );
  }
  return properties as Record<string, unknown>;
}

/** The policy a `policyId` names in this vault, or undefined. */
function policyOf(vault: VaultState, policyId: string) {
  const match = /\/vaults\/([^/]+)\/backupPolicies\/([^/]+)$/i.exec(policyId.trim());
  if (!match || match[1]!.toLowerCase() !== vault.name.toLowerCase()) return undefined;
  return vault.policies.find((policy) => policy.name.toLowerCase() === match[2]!.toLowerCase());
}

const INVALID_CONFIGURE =
  'Input for configure protection is not in proper format\r\nPlease ensure that container exists and other parameters are in valid format';

/**
 * PUT of a protected item: refused at once (400) when the body is not an IaaS VM item, names a policy the vault does
 * not have, or a VM the vault has not discovered (not refreshed, another region, another subscription); otherwise
 * long-running, with a ConfigureBackup job. A VM another vault has protected since it was discovered fails the
 * operation. On an item the vault already protects, it changes the policy.
 */
export function requestProtection(
  world: WorkloadWorld,
  vault: VaultState,
  containerName: string,
  itemName: string,
  body: unknown,
): BackupOperation {
  world.advance();
  const properties = propertiesOf(body);
  if (
    (typeof properties.protectedItemType === 'string' ? properties.protectedItemType : '').toLowerCase() !==
    'microsoft.compute/virtualmachines'
  ) {
    throw new EmulatedArmError(400, 'BMSUserErrorInvalidConfigureProtectionRequest', INVALID_CONFIGURE);
  }
  const policyId = typeof properties.policyId === 'string' ? properties.policyId : '';
  const policy = policyOf(vault, policyId);
  if (!policy) {
    throw new EmulatedArmError(
      400,
      'BMSUserErrorPolicyNotFound',
      `The backup policy '${policyId}' was not found in vault ${vault.name}. Its policies: ${vault.policies.map((entry) => entry.name).join(', ')}. Pass the id of one of them (backupPolicies list).`,
    );
  }
  const vm = vmOfBackupName(world, vault, itemName);
  const sourceResourceId = typeof properties.sourceResourceId === 'string' ? properties.sourceResourceId : '';
  const names = vm && vmBackupNames(vm);
  const existing = vault.protectedItems.get(itemName.toLowerCase());
  const discovered = vm && vault.discovered.has(vm.id.toLowerCase());
  if (
    !vm ||
    !names ||
    names.containerName.toLowerCase() !== containerName.toLowerCase() ||
    (sourceResourceId !== '' && sourceResourceId.toLowerCase() !== vm.id.toLowerCase()) ||
    (!existing && !discovered)
  ) {
    const why = !vm
      ? `no virtual machine in the vault's subscription is named by '${itemName}'`
      : vm.location !== vault.location
        ? `virtual machine ${vm.name} is in ${vm.location} and vault ${vault.name} in ${vault.location}; a vault protects VMs of its own region`
        : !discovered
          ? `vault ${vault.name} has not discovered virtual machine ${vm.name}: refresh its containers (backupFabrics/Azure/refreshContainers) first`
          : 'the container, item and sourceResourceId do not name the same virtual machine';
    throw new EmulatedArmError(400, 'BMSUserErrorInvalidConfigureProtectionRequest', `${INVALID_CONFIGURE} (${why})`);
  }
  const other = protectingVault(world, vm.id);
  const failure =
    other && other.id !== vault.id
      ? {
          code: 'UserErrorVmAlreadyRegistered',
          message: `Virtual machine is already registered\\registering with another recovery services vault Please select a different virtual machine for registration. (${vm.name} is protected by vault ${other.name})`,
        }
      : undefined;
  const now = world.now();
  const endsAt = now + world.workload.timings.configureProtectionSeconds * 1000;
  const job: BackupJob = {
    id: randomUUID(),
    vaultId: vault.id,
    operation: 'ConfigureBackup',
    vmId: vm.id,
    entityFriendlyName: vm.name,
    itemName: names.itemName,
    status: 'InProgress',
    startTime: now,
    snapshotEndsAt: endsAt,
    endsAt,
    activityId: randomUUID(),
    expiresAt: endsAt,
    scheduled: false,
    fails: failure,
  };
  vault.jobs.set(job.id, job);
  const operation = newOperation(world, vault, {
    kind: 'protect',
    itemName: names.itemName,
    containerName: names.containerName,
    endsAt,
    jobId: job.id,
    protect: { vmId: vm.id, policyName: policy.name, failure },
  });
  world.record('backup-protect', {
    detail: { vault: vault.name, vm: vm.name, policy: policy.name, operation: operation.id },
  });
  return operation;
}

/** The moment a backup job of this VM ends its snapshot and its transfer, from `start`. */
function jobPhases(world: WorkloadWorld, vm: VirtualMachineState, start: number) {
  const timings = world.workload.timings;
  const snapshotEndsAt =
    start + (timings.backupSnapshotBaseSeconds + vm.diskSizeGB * timings.backupSnapshotSecondsPerGB) * 1000;
  return { snapshotEndsAt, endsAt: snapshotEndsAt + vm.diskSizeGB * timings.backupTransferSecondsPerGB * 1000 };
}

/** The failure a new backup job of the VM is armed with (fault `backup-job-fails`), consumed. */
function takeBackupFault(world: WorkloadWorld, vm: VirtualMachineState) {
  const faults = world.workload.faults.backupJobFails;
  const fails = faults.get(vm.id.toLowerCase()) ?? faults.get(vm.name.toLowerCase());
  faults.delete(vm.id.toLowerCase());
  faults.delete(vm.name.toLowerCase());
  return fails;
}

function startBackupJob(
  world: WorkloadWorld,
  vault: VaultState,
  item: ProtectedItemState,
  start: number,
  expiresAt: number,
  scheduled: boolean,
): BackupJob {
  const vm = world.workload.virtualMachines.get(item.vmId.toLowerCase())!;
  const job: BackupJob = {
    id: randomUUID(),
    vaultId: vault.id,
    operation: 'Backup',
    vmId: vm.id,
    entityFriendlyName: vm.name,
    itemName: item.name,
    status: 'InProgress',
    startTime: start,
    ...jobPhases(world, vm, start),
    activityId: randomUUID(),
    expiresAt,
    scheduled,
    fails: takeBackupFault(world, vm),
  };
  vault.jobs.set(job.id, job);
  world.record('backup-job-started', { detail: { vault: vault.name, vm: vm.name, job: job.id, scheduled } }, start);
  return job;
}

/**
 * POST `…/protectedItems/{item}/backup` (`IaasVMBackupRequest`): long-running; its operation succeeds at once with
 * the job it started (`OperationStatusJobExtendedInfo.jobId`). The recovery point expires at
 * `recoveryPointExpiryTimeInUTC`, or 30 days after the request.
 */
export function triggerBackup(
  world: WorkloadWorld,
  vault: VaultState,
  itemName: string,
  body: unknown,
): BackupOperation {
  world.advance();
  const item = vault.protectedItems.get(itemName.toLowerCase());
  if (!item)
    throw new EmulatedArmError(
      404,
      'BMSUserErrorItemNotFound',
      `Item not found: vault ${vault.name} protects no item '${itemName}'.`,
    );
  const properties = propertiesOf(body);
  if (properties.objectType !== 'IaasVMBackupRequest') {
    throw new EmulatedArmError(
      400,
      'BMSUserErrorInvalidInput',
      `Input provided for the call is invalid: objectType must be IaasVMBackupRequest for a virtual machine (got ${JSON.stringify(properties.objectType)}).`,
    );
  }
  const now = world.now();
  const running = [...vault.jobs.values()].find(
    (job) =>
      job.itemName.toLowerCase() === item.name.toLowerCase() &&
      job.operation === 'Backup' &&
      job.status === 'InProgress',
  );
  if (running) {
    throw new EmulatedArmError(
      400,
      'UserErrorBackupOperationInProgress',
      `Another backup operation is in progress on ${running.entityFriendlyName} (job ${running.id}). Wait for it to end (backupJobs/${running.id}) and trigger the backup again.`,
    );
  }
  const expiry = properties.recoveryPointExpiryTimeInUTC;
  let expiresAt = now + 30 * DAY;
  if (expiry !== undefined) {
    expiresAt = typeof expiry === 'string' ? Date.parse(expiry) : Number.NaN;
    if (!Number.isFinite(expiresAt) || expiresAt <= now) {
      throw new EmulatedArmError(
        400,
        'BMSUserErrorInvalidInput',
        `recoveryPointExpiryTimeInUTC ${JSON.stringify(expiry)} must be a UTC time after now (${new Date(now).toISOString()}).`,
      );
    }
  }
  const job = startBackupJob(world, vault, item, now, expiresAt, false);
  const operation = newOperation(world, vault, {
    kind: 'backup',
    itemName: item.name,
    containerName: item.containerName,
    endsAt: now,
    jobId: job.id,
  });
  Object.assign(operation, { status: 'Succeeded', endTime: now });
  return operation;
}

/** The times of a policy's daily runs in (from, to]. */
function scheduledRuns(run: string, from: number, to: number): number[] {
  const [hours, minutes] = run.split(':').map(Number) as [number, number];
  const runs: number[] = [];
  const first = new Date(from);
  let at = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate(), hours, minutes);
  if (at <= from) at += DAY;
  for (; at <= to; at += DAY) runs.push(at);
  return runs;
}

function itemOfJob(vault: VaultState, job: BackupJob) {
  return vault.protectedItems.get(job.itemName.toLowerCase());
}

function recoveryPointName(time: number, vmId: string): string {
  const digest = createHash('sha256').update(`${vmId}|${time}`).digest();
  return String(digest.readUInt32BE(0)) + String(time % 100_000).padStart(5, '0');
}

/** Applies what has come due in the vaults: discoveries, protections, scheduled runs, jobs, expiries. */
export function advanceBackups(world: WorkloadWorld, now: number): void {
  const { workload } = world;
  for (const operation of workload.backupOperations.values()) {
    if (operation.status !== 'InProgress' || now < operation.endsAt) continue;
    const vault = [...workload.vaults.values()].find((entry) => entry.id === operation.vaultId);
    if (!vault) continue;
    if (operation.kind === 'refresh') {
      for (const vm of discoverable(world, vault)) vault.discovered.add(vm.id.toLowerCase());
      Object.assign(operation, { status: 'Succeeded', endTime: operation.endsAt });
      continue;
    }
    if (operation.kind === 'protect' && operation.protect) {
      const failure = operation.protect.failure;
      if (failure) {
        Object.assign(operation, { status: 'Failed', endTime: operation.endsAt, error: failure });
        continue;
      }
      const vm = workload.virtualMachines.get(operation.protect.vmId.toLowerCase())!;
      const names = vmBackupNames(vm);
      const existing = vault.protectedItems.get(names.itemName.toLowerCase());
      if (existing) existing.policyName = operation.protect.policyName;
      else {
        vault.protectedItems.set(names.itemName.toLowerCase(), {
          ...names,
          name: names.itemName,
          vmId: vm.id,
          policyName: operation.protect.policyName,
          protectedAt: operation.endsAt,
          scheduledThrough: operation.endsAt,
          recoveryPoints: [],
          protectedItemDataId: String(createHash('sha256').update(vm.id).digest().readUInt32BE(0)),
        });
      }
      Object.assign(operation, { status: 'Succeeded', endTime: operation.endsAt });
      world.record(
        'backup-protected',
        { detail: { vault: vault.name, vm: vm.name, policy: operation.protect.policyName } },
        operation.endsAt,
      );
    }
  }

  for (const vault of workload.vaults.values()) {
    // Scheduled runs, each a job from its own time (a world left alone for days has its days of backups).
    for (const item of vault.protectedItems.values()) {
      const policy = vault.policies.find((entry) => entry.name === item.policyName);
      if (!policy) continue;
      for (const at of scheduledRuns(policy.scheduleRunTimes[0]!, item.scheduledThrough, now)) {
        const busy = [...vault.jobs.values()].some(
          (job) =>
            job.itemName === item.name &&
            job.operation === 'Backup' &&
            job.startTime <= at &&
            (job.endTime ?? job.endsAt) > at,
        );
        if (!busy) startBackupJob(world, vault, item, at, at + policy.dailyRetentionDays * DAY, true);
      }
      item.scheduledThrough = Math.max(item.scheduledThrough, now);
    }
    for (const job of [...vault.jobs.values()].sort((a, b) => a.endsAt - b.endsAt)) {
      if (job.status !== 'InProgress' || now < job.endsAt) continue;
      job.endTime = job.endsAt;
      if (job.fails) {
        job.status = 'Failed';
        job.error = job.fails;
      } else job.status = 'Completed';
      if (job.operation !== 'Backup') continue;
      const item = itemOfJob(vault, job);
      if (!item) continue;
      item.lastBackupStatus = job.status === 'Completed' ? 'Completed' : 'Failed';
      item.lastBackupTime = job.startTime;
      if (job.status === 'Completed') {
        const policy = vault.policies.find((entry) => entry.name === item.policyName);
        item.recoveryPoints.push({
          name: recoveryPointName(job.snapshotEndsAt, item.vmId),
          time: job.snapshotEndsAt,
          expiresAt: job.expiresAt,
          instantUntil: job.snapshotEndsAt + (policy?.instantRpRetentionRangeInDays ?? 2) * DAY,
          jobId: job.id,
        });
      }
      world.record(
        'backup-job-ended',
        { detail: { vault: vault.name, vm: job.entityFriendlyName, job: job.id, status: job.status } },
        job.endsAt,
      );
    }
    for (const item of vault.protectedItems.values()) {
      item.recoveryPoints = item.recoveryPoints
        .filter((point) => point.expiresAt > now)
        .sort((a, b) => b.time - a.time);
    }
  }
}

/** The item's state as the protected item's GET reports it. */
export function protectionStateOf(item: ProtectedItemState): 'IRPending' | 'Protected' {
  return item.recoveryPoints.length > 0 || item.lastBackupStatus === 'Completed' ? 'Protected' : 'IRPending';
}

/** A vault of the world by subscription, resource group and name. */
export function vaultByName(world: WorkloadWorld, subscriptionId: string, resourceGroup: string, name: string) {
  return [...world.workload.vaults.values()].find(
    (vault) =>
      vault.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
      vault.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
      vault.name.toLowerCase() === name.toLowerCase(),
  );
}

export const sameLocation = (a: string, b: string): boolean => normalizeLocation(a) === normalizeLocation(b);
