/**
 * The workload around the databases as the world keeps it: virtual machines, Recovery Services vaults (policies,
 * discovered VMs, protected items, jobs, recovery points, their long-running operations) and Cosmos DB accounts. Plain
 * records, like ./state.ts; the rules live in ./virtual-machines.ts, ./vm-backup.ts and ./cosmos-accounts.ts.
 */
import type { WorldContext } from './context';
import type { BackupPolicySpec, CosmosAccountSpec, VirtualMachineSpec, WorkloadTimings } from '../world-spec-workload';

export interface VirtualMachineState extends Omit<VirtualMachineSpec, 'subscriptionId' | 'location'> {
  id: string;
  subscriptionId: string;
  location: string;
  /** `properties.vmId`. */
  vmId: string;
}

export type BackupPolicyState = BackupPolicySpec;

/** A long-running operation of a vault (a refresh, a protection, an on-demand backup), as its status URLs answer it. */
export interface BackupOperation {
  id: string;
  kind: 'refresh' | 'protect' | 'backup';
  vaultId: string;
  /** The protected item it is about (protect, backup). */
  itemName?: string;
  containerName?: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: number;
  endsAt: number;
  endTime?: number;
  error?: { code: string; message: string };
  /** The job the operation started (`OperationStatusJobExtendedInfo.jobId`). */
  jobId?: string;
  /** What a protection applies when it succeeds. */
  protect?: { vmId: string; policyName: string; failure?: { code: string; message: string } };
}

/** A backup job (`AzureIaaSVMJob`). */
export interface BackupJob {
  id: string;
  vaultId: string;
  operation: 'Backup' | 'ConfigureBackup';
  vmId: string;
  entityFriendlyName: string;
  itemName: string;
  status: 'InProgress' | 'Completed' | 'Failed';
  startTime: number;
  /** Backup: the snapshot is taken then (the recovery point's time), and the data is in the vault at `endsAt`. */
  snapshotEndsAt: number;
  endsAt: number;
  endTime?: number;
  activityId: string;
  /** When the recovery point it creates expires (on-demand: the request's, else 30 days; scheduled: the policy's). */
  expiresAt: number;
  scheduled: boolean;
  fails?: { code: string; message: string };
  error?: { code: string; message: string };
}

/** An IaaS VM recovery point. */
export interface RecoveryPoint {
  name: string;
  time: number;
  expiresAt: number;
  /** The snapshot (instant restore) tier is kept until then. */
  instantUntil: number;
  jobId: string;
}

/** A VM protected by a vault (`AzureIaaSComputeVMProtectedItem`). */
export interface ProtectedItemState {
  /** `VM;iaasvmcontainerv2;{rg};{vm}` */
  name: string;
  /** `IaasVMContainer;iaasvmcontainerv2;{rg};{vm}` */
  containerName: string;
  vmId: string;
  policyName: string;
  protectedAt: number;
  /** Scheduled backups have been started up to this moment. */
  scheduledThrough: number;
  lastBackupStatus?: 'Completed' | 'Failed';
  lastBackupTime?: number;
  recoveryPoints: RecoveryPoint[];
  protectedItemDataId: string;
}

export interface VaultState {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  policies: BackupPolicyState[];
  /** VM ids (lower case) the vault's latest refresh discovered. */
  discovered: Set<string>;
  /** Protected items by lower-case name. */
  protectedItems: Map<string, ProtectedItemState>;
  jobs: Map<string, BackupJob>;
}

export interface CosmosMigration {
  status: 'InProgress' | 'Completed' | 'Failed';
  targetType: 'Continuous';
  tier: 'Continuous7Days' | 'Continuous30Days';
  startTime: number;
  endsAt: number;
  operationId: string;
}

export interface CosmosAccountState {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Write region first, then read regions. */
  locations: string[];
  kind: CosmosAccountSpec['kind'];
  dataSizeGB: number;
  instanceId: string;
  creationTime: number;
  backupPolicy:
    | {
        type: 'Periodic';
        backupIntervalInMinutes: number;
        backupRetentionIntervalInHours: number;
        backupStorageRedundancy: string;
      }
    | { type: 'Continuous'; tier: 'Continuous7Days' | 'Continuous30Days' };
  /** Since when the account has been continuous (creation, or its migration's completion). */
  continuousSince?: number;
  migration?: CosmosMigration;
  /** A tier change being applied. */
  pendingTier?: { tier: 'Continuous7Days' | 'Continuous30Days'; endsAt: number; operationId: string };
}

/** A Cosmos DB account update (`operationsStatus`). */
export interface CosmosOperation {
  id: string;
  accountId: string;
  location: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: number;
  endTime?: number;
  error?: { code: string; message: string };
}

/** Faults armed on the workload (admin API). */
export interface WorkloadFaults {
  /** VMs (lower-case names or ids) whose next backup job ends Failed. */
  backupJobFails: Map<string, { code: string; message: string }>;
}

export interface WorkloadState {
  timings: WorkloadTimings;
  virtualMachines: Map<string, VirtualMachineState>;
  vaults: Map<string, VaultState>;
  backupOperations: Map<string, BackupOperation>;
  cosmosAccounts: Map<string, CosmosAccountState>;
  cosmosOperations: Map<string, CosmosOperation>;
  faults: WorkloadFaults;
}

/** The world as the workload rules see it. */
export type WorkloadWorld = WorldContext & { readonly workload: WorkloadState };

export const virtualMachineResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;

export const vaultResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.RecoveryServices/vaults/${name}`;

export const cosmosAccountResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${name}`;
