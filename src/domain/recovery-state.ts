/**
 * What the recovery runbooks read of Azure, as plain data: managed databases as a restore sees them, restorable dropped
 * databases and long-term-retention backups (Microsoft.Sql), VM protection in a Recovery Services vault, and Cosmos DB
 * accounts' backup policies. Times are ISO strings, so views cross activity boundaries unchanged.
 */

/** A managed database as a restore reads it (`managedInstances/{mi}/databases/{db}`). */
export interface ManagedDatabaseDetail {
  id: string;
  name: string;
  /** `Online`, `Creating`, `Restoring`, `Inaccessible`, … */
  status: string;
  creationDate?: string;
  /** The oldest point a point-in-time restore accepts: the start of the short-term retention window. */
  earliestRestorePoint?: string;
  createMode?: string;
}

/** A database dropped from an instance, restorable until its retention ends (`…/restorableDroppedDatabases`). */
export interface RestorableDroppedDatabaseView {
  id: string;
  databaseName: string;
  creationDate?: string;
  deletionDate?: string;
  earliestRestoreDate?: string;
}

/** One long-term-retention backup of a managed database. */
export interface LongTermBackupView {
  id: string;
  databaseName: string;
  backupTime: string;
  backupExpirationTime?: string;
}

/** Where a restored database's contents come from. */
export type RestoreSource =
  | { mode: 'pointInTime'; sourceDatabaseId: string; pointInTime: string }
  | { mode: 'droppedPointInTime'; restorableDroppedDatabaseId: string; pointInTime: string }
  | { mode: 'longTermBackup'; backupId: string };

/** A Recovery Services vault by name. */
export interface VaultRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** An Azure VM backup policy of a vault. */
export interface BackupPolicyView {
  id: string;
  name: string;
  /** `AzureIaasVM` for VM policies. */
  backupManagementType: string;
  scheduleRunFrequency?: string;
  scheduleRunTimes?: string[];
  dailyRetentionDays?: number;
}

/** Whether and how a VM is protected by a vault. */
export interface VmProtectionView {
  vmId: string;
  /** A protected item exists for the VM in this vault. */
  protected: boolean;
  containerName?: string;
  itemName?: string;
  /** `Protected`, `IRPending`, `ProtectionStopped`, `ProtectionPaused`, … */
  protectionState?: string;
  policyId?: string;
  policyName?: string;
  lastBackupStatus?: string;
  lastBackupTime?: string;
  lastRecoveryPoint?: string;
  healthStatus?: string;
}

/** A backup job of a vault (`backupJobs/{jobId}`). */
export interface BackupJobView {
  jobId: string;
  operation: string;
  /** `InProgress`, `Completed`, `Failed`, `CompletedWithWarnings`, `Cancelled`, … */
  status: string;
  entityFriendlyName?: string;
  startTime?: string;
  endTime?: string;
  errorMessage?: string;
}

/** One recovery point of a protected VM. */
export interface RecoveryPointView {
  id: string;
  name: string;
  time: string;
  type?: string;
}

/** A Cosmos DB account's backup policy, as `databaseAccounts/{account}` reports it. */
export interface CosmosAccountView {
  id: string;
  name: string;
  location: string;
  provisioningState?: string;
  instanceId?: string;
  /** `Periodic` or `Continuous` (empty when ARM gave none). */
  backupPolicyType: string;
  /** `Continuous7Days` or `Continuous30Days`, for continuous accounts. */
  tier?: string;
  periodic?: { intervalInMinutes?: number; retentionInHours?: number; storageRedundancy?: string };
  /** A migration to continuous backup, while one runs and after it ends. */
  migration?: { status: string; targetType?: string; startTime?: string };
}

/** A continuous-backup account as the restorable accounts list gives it. */
export interface RestorableCosmosAccountView {
  id: string;
  accountName: string;
  instanceId: string;
  creationTime?: string;
  oldestRestorableTime?: string;
  deletionTime?: string;
}
