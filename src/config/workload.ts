/**
 * `workload:` in fogpilot.yaml: the resources around the databases whose backups the readiness check proves: VMs
 * protected by a Recovery Services vault, and Cosmos DB accounts, each kind with its recovery point objective.
 */
import { z } from 'zod';
import { optionalDuration } from '../hooks/schema';

const ARM_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/([^/]+\/[^/]+)\/[^/]+$/i;

/** The ARM id of a top-level resource of `type` (`Microsoft.Compute/virtualMachines`). */
function armIdOf(key: string, type: string, example: string) {
  return z
    .string({ error: `${key} must be the ARM id of a ${type}` })
    .trim()
    .refine((value) => ARM_ID.exec(value)?.[1]?.toLowerCase() === type.toLowerCase(), {
      error: `${key} must be the ARM id of a ${type}, such as "/subscriptions/<id>/resourceGroups/<rg>/providers/${type}/${example}"`,
    });
}

export const WorkloadSchema = z
  .strictObject({
    /** The Recovery Services vault that backs up the VMs. */
    vault: armIdOf('workload.vault', 'Microsoft.RecoveryServices/vaults', 'vault-app').optional(),
    vms: z
      .array(armIdOf('workload.vms[]', 'Microsoft.Compute/virtualMachines', 'vm-app-1'), {
        error: 'workload.vms must be a list of VM ARM ids',
      })
      .default([]),
    cosmosAccounts: z
      .array(armIdOf('workload.cosmosAccounts[]', 'Microsoft.DocumentDB/databaseAccounts', 'cosmos-app'), {
        error: 'workload.cosmosAccounts must be a list of Cosmos DB account ARM ids',
      })
      .default([]),
    /** The newest recovery point of each VM is at most this old. */
    vmRpo: optionalDuration('workload.vmRpo', '1 day'),
    /** Each Cosmos DB account can restore to a point at most this old (a periodic account: its backup interval). */
    cosmosRpo: optionalDuration('workload.cosmosRpo', '4 hours'),
  })
  .refine((workload) => workload.vms.length === 0 || workload.vault !== undefined, {
    error: 'workload.vault must name the Recovery Services vault that backs up workload.vms',
    path: ['vault'],
  });

export type WorkloadConfig = z.output<typeof WorkloadSchema>;

/** The subscription, resource group and name of a top-level resource's ARM id (validated by {@link WorkloadSchema}). */
export function resourceOf(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const parts = id.split('/');
  return { subscriptionId: parts[2] ?? '', resourceGroup: parts[4] ?? '', name: parts.at(-1) ?? id };
}
