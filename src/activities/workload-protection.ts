/**
 * Activities of `protectWorkload`: reading a vault's backup policy, a VM's protection and backups in it, Cosmos DB
 * accounts' backup policies and restorable windows; and the three requests it sends: protecting a VM under a policy,
 * an on-demand backup, and a Cosmos DB account's one-way migration to continuous backup.
 *
 * Each send reads first and sends nothing when its effect is already there (the VM protected under the policy, a
 * backup job of the VM this run has not seen before, a migration running or done), so an attempt whose answer was
 * lost finds its own request's effect on the next attempt instead of sending again. Throttling and outages retry;
 * Azure's refusals fail `AzureRequestRejected` (or the failure `classifyArmError` names).
 */
import { ApplicationFailure } from '@temporalio/common';
import { withArmMeter } from '../azure/arm-call-meter';
import { classifyArmError, isArmRequestError } from '../azure/errors';
import type { RecoveryPlane } from '../azure/recovery-plane';
import type { OperationProgress } from '../domain/azure-state';
import type {
  BackupJobView,
  BackupPolicyView,
  CosmosAccountView,
  RecoveryPointView,
  RestorableCosmosAccountView,
  VaultRef,
  VmProtectionView,
} from '../domain/recovery-state';
import { parseResourceId, resourceName, sameResource } from '../domain/workload-resources';
import { FailureTypes } from '../workflows/definitions';
import type { Metered } from './arm';
import { recoveryPlaneOf } from './recovery';

export interface WorkloadProtectionDependencies {
  /** Absent on a worker built without the recovery SDKs: `protectWorkload` then fails at its first read. */
  recoveryPlane?: RecoveryPlane;
}

/** A long-running request the workload's sends started (absent `trackingId`: Azure answered it done). */
export interface WorkloadSendResult extends Metered {
  /** `sent`: this attempt sent it; `exists`: its effect was already there (nothing sent). */
  outcome: 'sent' | 'exists';
  trackingId?: string;
}

export interface VmBackupSendResult extends Metered {
  /** `sent`: this attempt triggered it; `adopted`: a backup job of the VM already ran or runs (nothing sent). */
  outcome: 'sent' | 'adopted';
  trackingId?: string;
  /** The job, when it is known already (an adopted one). */
  job?: BackupJobView;
}

export interface MigrationSendResult extends Metered {
  /** `sent`: this attempt sent the PATCH; `migrating`: a migration runs or ran; `continuous`: nothing to migrate. */
  outcome: 'sent' | 'migrating' | 'continuous';
  trackingId?: string;
  account: CosmosAccountView;
}

export function createWorkloadProtectionActivities({ recoveryPlane }: WorkloadProtectionDependencies) {
  const plane = recoveryPlaneOf(recoveryPlane);

  /** `read()`'s value, or undefined when ARM answers 404. */
  const orAbsent = async <T>(read: () => Promise<{ value: T }>): Promise<T | undefined> => {
    try {
      return (await read()).value;
    } catch (error) {
      if (isArmRequestError(error) && error.statusCode === 404) return undefined;
      throw error;
    }
  };

  const metered = async <T extends object>(doing: string, work: () => Promise<T>): Promise<T & Metered> => {
    const { result, armCalls } = await withArmMeter(async () => {
      try {
        return await work();
      } catch (error) {
        throw classifyArmError(error, { doing });
      }
    });
    return { ...result, armCalls };
  };

  return {
    /** The vault's backup policy; absent when the vault has none of that name. Read-only. */
    readWorkloadBackupPolicy(request: {
      vault: VaultRef;
      policy: string;
    }): Promise<{ policy?: BackupPolicyView } & Metered> {
      return metered(`reading backup policy ${request.policy} of vault ${request.vault.name}`, async () => {
        const policy = await orAbsent(() => plane().getBackupPolicy(request.vault, request.policy));
        return policy ? { policy } : {};
      });
    },

    /** The VM's protected item in the vault (`protected: false` when it has none). Read-only. */
    readVmProtection(request: { vault: VaultRef; vmId: string }): Promise<{ protection: VmProtectionView } & Metered> {
      return metered(`reading the protection of ${resourceName(request.vmId)}`, async () => ({
        protection: (await plane().getVmProtection(request.vault, request.vmId)).value,
      }));
    },

    /**
     * Makes the vault see the VM (refreshes its containers, then lists what it can protect). Changes nothing of the
     * VM or the vault's items: the portal does the same when it opens "Backup". `found: false` when the vault cannot
     * protect the VM (another region, or protected by another vault).
     */
    discoverProtectableVm(request: { vault: VaultRef; vmId: string }): Promise<{ found: boolean } & Metered> {
      return metered(
        `finding ${resourceName(request.vmId)} among the VMs vault ${request.vault.name} can protect`,
        async () => ({
          found: (await plane().discoverVm(request.vault, request.vmId)).value.found,
        }),
      );
    },

    /** A Cosmos DB account's backup policy (and its migration, if any); absent when there is no such account. */
    readCosmosAccount(request: { accountId: string }): Promise<{ account?: CosmosAccountView } & Metered> {
      return metered(`reading Cosmos DB account ${resourceName(request.accountId)}`, async () => {
        const account = await orAbsent(() => plane().getCosmosAccount(request.accountId));
        return account ? { account } : {};
      });
    },

    /** The restorable entry of a continuous account at its location (absent while it is not restorable). */
    readRestorableCosmosAccount(request: {
      accountId: string;
      location: string;
      instanceId?: string;
    }): Promise<{ restorable?: RestorableCosmosAccountView } & Metered> {
      const { subscriptionId, name } = parseResourceId(request.accountId);
      return metered(`listing the restorable Cosmos DB accounts at ${request.location}`, async () => {
        const { value } = await plane().listRestorableCosmosAccounts(subscriptionId, request.location);
        const live = value.filter((entry) => !entry.deletionTime);
        const restorable =
          (request.instanceId ? live.find((entry) => sameResource(entry.instanceId, request.instanceId)) : undefined) ??
          live.find((entry) => entry.accountName.toLowerCase() === name.toLowerCase());
        return restorable ? { restorable } : {};
      });
    },

    /**
     * Protects the VM under the policy once: a VM the vault already protects under that policy is `exists`, nothing
     * sent. A VM protected under another policy is refused (`AzureRequestRejected`), nothing sent: the runbook never
     * moves a VM between policies.
     */
    sendProtectVm(request: { vault: VaultRef; vmId: string; policyId: string }): Promise<WorkloadSendResult> {
      const vm = resourceName(request.vmId);
      return metered(`protecting ${vm} in vault ${request.vault.name}`, async () => {
        const { value: now } = await plane().getVmProtection(request.vault, request.vmId);
        if (now.protected) {
          if (sameResource(now.policyId, request.policyId)) return { outcome: 'exists' as const };
          throw ApplicationFailure.create({
            type: FailureTypes.AzureRequestRejected,
            nonRetryable: true,
            message:
              `${vm} became protected under ${now.policyName ?? now.policyId ?? 'another policy'} meanwhile; nothing ` +
              'was sent. Change its policy in the vault if that is not what you want.',
          });
        }
        const { value } = await plane().beginProtectVm(request.vault, request.vmId, request.policyId);
        return { outcome: 'sent' as const, ...(value.trackingId ? { trackingId: value.trackingId } : {}) };
      });
    },

    /** The VM's backup jobs in the vault, newest first. Read-only. */
    readVmBackupJobs(request: { vault: VaultRef; vmId: string }): Promise<{ jobs: BackupJobView[] } & Metered> {
      return metered(`listing the backup jobs of ${resourceName(request.vmId)}`, async () => ({
        jobs: (await plane().listVmBackupJobs(request.vault, request.vmId)).value,
      }));
    },

    /**
     * Triggers one on-demand backup, its recovery point kept until `keepUntil`. Reads the VM's backup jobs first: one
     * the run had not seen (`knownJobIds`, read before this activity was scheduled: this run's own earlier attempt)
     * or one in progress (Azure runs one backup of a VM at a time) is adopted, nothing sent.
     */
    sendVmBackup(request: {
      vault: VaultRef;
      vmId: string;
      keepUntil: string;
      knownJobIds: string[];
    }): Promise<VmBackupSendResult> {
      return metered(`backing up ${resourceName(request.vmId)} in vault ${request.vault.name}`, async () => {
        const { value: jobs } = await plane().listVmBackupJobs(request.vault, request.vmId);
        const known = new Set(request.knownJobIds);
        const adopted =
          jobs.find((job) => !known.has(job.jobId)) ?? jobs.find((job) => job.status.toLowerCase() === 'inprogress');
        if (adopted) return { outcome: 'adopted' as const, job: adopted };
        const { value } = await plane().beginVmBackup(request.vault, request.vmId, request.keepUntil);
        return { outcome: 'sent' as const, ...(value.trackingId ? { trackingId: value.trackingId } : {}) };
      });
    },

    /** One read of a workload request's operation (its result names the backup job of an on-demand backup). */
    readWorkloadOperation(request: {
      subscriptionId: string;
      trackingId: string;
    }): Promise<{ progress: OperationProgress & { jobId?: string }; retryAfterMs?: number } & Metered> {
      return metered('reading the progress of a workload request', async () => {
        const answer = await plane().getOperationProgress(request.subscriptionId, request.trackingId);
        return {
          progress: answer.value,
          ...(answer.retryAfterMs !== undefined ? { retryAfterMs: answer.retryAfterMs } : {}),
        };
      });
    },

    /** One read of a backup job. */
    readBackupJob(request: { vault: VaultRef; jobId: string }): Promise<{ job: BackupJobView } & Metered> {
      return metered(`reading backup job ${request.jobId}`, async () => ({
        job: (await plane().getBackupJob(request.vault, request.jobId)).value,
      }));
    },

    /** The VM's recovery points in the vault, newest first. Read-only. */
    readRecoveryPoints(request: { vault: VaultRef; vmId: string }): Promise<{ points: RecoveryPointView[] } & Metered> {
      return metered(`listing the recovery points of ${resourceName(request.vmId)}`, async () => ({
        points: (await plane().listRecoveryPoints(request.vault, request.vmId)).value,
      }));
    },

    /**
     * Migrates a periodic account to continuous backup (`tier`) once: an account that is continuous already, or whose
     * migration runs or has run, is left as it is (nothing sent). Cannot be undone.
     */
    sendMigrateToContinuous(request: { accountId: string; tier: string }): Promise<MigrationSendResult> {
      const name = resourceName(request.accountId);
      return metered(`migrating ${name} to continuous backup`, async () => {
        const { value: account } = await plane().getCosmosAccount(request.accountId);
        if (account.backupPolicyType.toLowerCase() === 'continuous') return { outcome: 'continuous' as const, account };
        if (account.migration) return { outcome: 'migrating' as const, account };
        const { value } = await plane().beginMigrateToContinuous(request.accountId, request.tier);
        return {
          outcome: 'sent' as const,
          account,
          ...(value.trackingId ? { trackingId: value.trackingId } : {}),
        };
      });
    },
  };
}

export type WorkloadProtectionActivities = ReturnType<typeof createWorkloadProtectionActivities>;
