/**
 * VM backup in a Recovery Services vault over `@azure/arm-recoveryservicesbackup`, as the portal does it: refresh the
 * Azure fabric's containers, find the VM among the protectable items, PUT its protected item under a policy, trigger an
 * on-demand backup, read the job, list recovery points. A VM's container and item are named after its resource group
 * and name (`iaasvmcontainer;iaasvmcontainerv2;{rg};{vm}`, `vm;iaasvmcontainerv2;{rg};{vm}`).
 */
import type {
  AzureIaaSVMJob,
  AzureIaaSVMProtectedItem,
  AzureIaaSVMProtectionPolicy,
  IaasVMRecoveryPoint,
  IaaSVMProtectableItem,
  LongTermRetentionPolicy,
  SimpleSchedulePolicy,
} from '@azure/arm-recoveryservicesbackup';
import type {
  BackupJobView,
  BackupPolicyView,
  RecoveryPointView,
  VaultRef,
  VmProtectionView,
} from '../domain/recovery-state';
import type { ArmControlPlane } from './arm-control-plane';
import type { ArmAnswer, ArmRequestOptions } from './control-plane';
import { ArmRequestError, isArmRequestError } from './errors';
import { accepted, type Accepted } from './recovery-plane';

/** Backups of Azure VMs live in the vault's one fabric, `Azure`. */
const FABRIC = 'Azure';
/** How long a container refresh is followed before the read is given up (and retried by its activity). */
const REFRESH_BOUND_MS = 60_000;

const VM_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;

/** The container and protected item names of an Azure VM. */
export function vmBackupNames(vmId: string): { container: string; item: string } {
  const match = VM_ID.exec(vmId);
  if (!match)
    throw new ArmRequestError(`not a virtual machine id: ${vmId}`, {
      statusCode: 400,
      code: 'InvalidResourceId',
      delivery: 'not-sent',
    });
  const [, , resourceGroup, name] = match;
  const suffix = `iaasvmcontainerv2;${resourceGroup!.toLowerCase()};${name!.toLowerCase()}`;
  return { container: `iaasvmcontainer;${suffix}`, item: `vm;${suffix}` };
}

const iso = (date: Date | undefined): string | undefined => date?.toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RecoveryServicesPart {
  constructor(private readonly arm: ArmControlPlane) {}

  private client(vault: VaultRef) {
    return this.arm.backupClient(vault.subscriptionId);
  }

  async getBackupPolicy(
    vault: VaultRef,
    policy: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<BackupPolicyView>> {
    const answer = await this.arm.call(
      `reading backup policy ${policy} of vault ${vault.name}`,
      options,
      (callOptions) => this.client(vault).protectionPolicies.get(vault.name, vault.resourceGroup, policy, callOptions),
    );
    const properties = (answer.value.properties ?? {}) as Partial<AzureIaaSVMProtectionPolicy>;
    const schedule = properties.schedulePolicy as SimpleSchedulePolicy | undefined;
    const retention = properties.retentionPolicy as LongTermRetentionPolicy | undefined;
    const daily = retention?.dailySchedule?.retentionDuration;
    return {
      value: {
        id: answer.value.id ?? '',
        name: answer.value.name ?? policy,
        backupManagementType: properties.backupManagementType ?? '',
        ...(schedule?.scheduleRunFrequency ? { scheduleRunFrequency: schedule.scheduleRunFrequency } : {}),
        ...(schedule?.scheduleRunTimes
          ? { scheduleRunTimes: schedule.scheduleRunTimes.map((time) => time.toISOString()) }
          : {}),
        ...(daily?.count !== undefined && (daily.durationType ?? 'Days') === 'Days'
          ? { dailyRetentionDays: daily.count }
          : {}),
      },
      retryAfterMs: answer.retryAfterMs,
    };
  }

  async getVmProtection(
    vault: VaultRef,
    vmId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<VmProtectionView>> {
    const { container, item } = vmBackupNames(vmId);
    try {
      const answer = await this.arm.call(
        `reading the protection of ${vmId} in vault ${vault.name}`,
        options,
        (callOptions) =>
          this.client(vault).protectedItems.get(vault.name, vault.resourceGroup, FABRIC, container, item, callOptions),
      );
      const properties = (answer.value.properties ?? {}) as Partial<AzureIaaSVMProtectedItem>;
      return {
        value: {
          vmId,
          protected: true,
          containerName: container,
          itemName: item,
          ...(properties.protectionState ? { protectionState: properties.protectionState } : {}),
          ...(properties.policyId ? { policyId: properties.policyId } : {}),
          ...(properties.policyName ? { policyName: properties.policyName } : {}),
          ...(properties.lastBackupStatus ? { lastBackupStatus: properties.lastBackupStatus } : {}),
          ...(properties.lastBackupTime ? { lastBackupTime: iso(properties.lastBackupTime) } : {}),
          ...(properties.lastRecoveryPoint ? { lastRecoveryPoint: iso(properties.lastRecoveryPoint) } : {}),
          ...(properties.healthStatus ? { healthStatus: properties.healthStatus } : {}),
        },
        retryAfterMs: answer.retryAfterMs,
      };
    } catch (error) {
      if (isArmRequestError(error) && error.statusCode === 404) return { value: { vmId, protected: false } };
      throw error;
    }
  }

  async discoverVm(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<{ found: boolean }>> {
    const doing = `refreshing the containers of vault ${vault.name}`;
    const refresh = await this.arm.sendAccepted(doing, 'POST', options, (callOptions) =>
      this.client(vault).protectionContainers.refresh(vault.name, vault.resourceGroup, FABRIC, callOptions),
    );
    const tracking = accepted(refresh.response).trackingId;
    if (tracking) {
      const until = Date.now() + REFRESH_BOUND_MS;
      for (;;) {
        const progress = tracking.startsWith('location:')
          ? await this.arm.readAsyncOperation(
              vault.subscriptionId,
              tracking.slice('location:'.length),
              options,
              'location',
            )
          : await this.arm.readAsyncOperation(vault.subscriptionId, tracking, options);
        if (progress.value.state !== 'InProgress') break;
        if (Date.now() >= until)
          throw new ArmRequestError(`${doing}: still running after ${REFRESH_BOUND_MS / 1000} s`, {
            code: 'RefreshStillRunning',
            statusCode: 503,
            delivery: 'answered',
          });
        await sleep(Math.min(progress.retryAfterMs ?? 2_000, 5_000));
      }
    }
    const wanted = vmId.toLowerCase();
    const answer = await this.arm.call(
      `listing the protectable VMs of vault ${vault.name}`,
      options,
      async (callOptions) => {
        for await (const entry of this.client(vault).backupProtectableItems.list(vault.name, vault.resourceGroup, {
          ...callOptions,
          filter: "backupManagementType eq 'AzureIaasVM'",
        })) {
          const properties = (entry.properties ?? {}) as Partial<IaaSVMProtectableItem>;
          if ((properties.virtualMachineId ?? '').toLowerCase() === wanted) return true;
        }
        return false;
      },
    );
    return { value: { found: answer.value }, retryAfterMs: answer.retryAfterMs };
  }

  async beginProtectVm(
    vault: VaultRef,
    vmId: string,
    policyId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    const { container, item } = vmBackupNames(vmId);
    const { response, retryAfterMs } = await this.arm.sendAccepted(
      `protecting ${vmId} in vault ${vault.name}`,
      'PUT',
      options,
      (callOptions) =>
        this.client(vault).protectedItems.createOrUpdate(
          vault.name,
          vault.resourceGroup,
          FABRIC,
          container,
          item,
          { properties: { protectedItemType: 'Microsoft.Compute/virtualMachines', sourceResourceId: vmId, policyId } },
          callOptions,
        ),
    );
    return { value: accepted(response), retryAfterMs };
  }

  async beginVmBackup(
    vault: VaultRef,
    vmId: string,
    keepUntil: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    const { container, item } = vmBackupNames(vmId);
    const { response, retryAfterMs } = await this.arm.sendAccepted(
      `backing up ${vmId} in vault ${vault.name}`,
      'POST',
      options,
      (callOptions) =>
        this.client(vault).backups.trigger(
          vault.name,
          vault.resourceGroup,
          FABRIC,
          container,
          item,
          { properties: { objectType: 'IaasVMBackupRequest', recoveryPointExpiryTimeInUTC: new Date(keepUntil) } },
          callOptions,
        ),
    );
    return { value: accepted(response), retryAfterMs };
  }

  async getBackupJob(vault: VaultRef, jobId: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupJobView>> {
    const answer = await this.arm.call(`reading backup job ${jobId} of vault ${vault.name}`, options, (callOptions) =>
      this.client(vault).jobDetails.get(vault.name, vault.resourceGroup, jobId, callOptions),
    );
    const properties = (answer.value.properties ?? {}) as Partial<AzureIaaSVMJob>;
    const errors = properties.errorDetails?.map((detail) => detail.errorString).filter(Boolean) ?? [];
    return {
      value: {
        jobId,
        operation: properties.operation ?? '',
        status: properties.status ?? '',
        ...(properties.entityFriendlyName ? { entityFriendlyName: properties.entityFriendlyName } : {}),
        ...(properties.startTime ? { startTime: iso(properties.startTime) } : {}),
        ...(properties.endTime ? { endTime: iso(properties.endTime) } : {}),
        ...(errors.length > 0 ? { errorMessage: errors.join('; ') } : {}),
      },
      retryAfterMs: answer.retryAfterMs,
    };
  }

  async listVmBackupJobs(
    vault: VaultRef,
    vmId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<BackupJobView[]>> {
    const name = (VM_ID.exec(vmId)?.[3] ?? '').toLowerCase();
    return this.arm.call(`listing the backup jobs of ${vmId} in vault ${vault.name}`, options, async (callOptions) => {
      const jobs: BackupJobView[] = [];
      // Filtered by operation only: the service's time filter wants both ends in its own format; the list covers days.
      for await (const entry of this.client(vault).backupJobs.list(vault.name, vault.resourceGroup, {
        ...callOptions,
        filter: "operation eq 'Backup' and backupManagementType eq 'AzureIaasVM'",
      })) {
        const properties = (entry.properties ?? {}) as Partial<AzureIaaSVMJob>;
        if ((properties.entityFriendlyName ?? '').toLowerCase() !== name) continue;
        jobs.push({
          jobId: entry.name ?? '',
          operation: properties.operation ?? '',
          status: properties.status ?? '',
          entityFriendlyName: properties.entityFriendlyName,
          ...(properties.startTime ? { startTime: iso(properties.startTime) } : {}),
          ...(properties.endTime ? { endTime: iso(properties.endTime) } : {}),
        });
      }
      return jobs.sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''));
    });
  }

  async listRecoveryPoints(
    vault: VaultRef,
    vmId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RecoveryPointView[]>> {
    const { container, item } = vmBackupNames(vmId);
    return this.arm.call(
      `listing the recovery points of ${vmId} in vault ${vault.name}`,
      options,
      async (callOptions) => {
        const points: RecoveryPointView[] = [];
        for await (const entry of this.client(vault).recoveryPoints.list(
          vault.name,
          vault.resourceGroup,
          FABRIC,
          container,
          item,
          callOptions,
        )) {
          const properties = (entry.properties ?? {}) as Partial<IaasVMRecoveryPoint>;
          if (!properties.recoveryPointTime) continue;
          points.push({
            id: entry.id ?? '',
            name: entry.name ?? '',
            time: properties.recoveryPointTime.toISOString(),
            ...(properties.recoveryPointType ? { type: properties.recoveryPointType } : {}),
          });
        }
        return points.sort((a, b) => b.time.localeCompare(a.time));
      },
    );
  }
}
