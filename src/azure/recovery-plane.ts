/**
 * The ARM requests of the recovery runbooks: restoring managed databases (Microsoft.Sql), protecting VMs in a Recovery
 * Services vault (Microsoft.RecoveryServices) and Cosmos DB accounts' backup policies (Microsoft.DocumentDB). The real
 * implementation (./arm-recovery-plane.ts) shares the control plane's credential, request budget and meter; workflow
 * tests script it.
 *
 * Same rules as {@link ControlPlane}: one ARM request (or one page walk) per method, failures as `ArmRequestError`
 * saying whether the request may have reached Azure, `begin…` methods return once Azure accepted the request.
 */
import type { OperationProgress } from '../domain/azure-state';
import type {
  BackupJobView,
  BackupPolicyView,
  CosmosAccountView,
  LongTermBackupView,
  ManagedDatabaseDetail,
  RecoveryPointView,
  RestorableCosmosAccountView,
  RestorableDroppedDatabaseView,
  RestoreSource,
  VaultRef,
  VmProtectionView,
} from '../domain/recovery-state';
import type { ArmAnswer, ArmRequestOptions } from './control-plane';

/** An accepted long-running request: its Azure-AsyncOperation (or Location) to follow, and the HTTP status. */
export interface Accepted {
  trackingId?: string;
  status: number;
}

export interface RecoveryPlane {
  // ── Microsoft.Sql: managed databases ─────────────────────────────────────────────────────────────────────────

  /** GET `managedInstances/{mi}/databases/{db}`; a database the instance does not have is a 404. */
  getManagedDatabase(
    instanceId: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<ManagedDatabaseDetail>>;

  /**
   * PUT a new managed database restored from `source` (`PointInTimeRestore` or `RestoreLongTermRetentionBackup`).
   * Answered 201/202 with the operation to follow, or 200 when a database of that name exists (Azure then changes
   * nothing about its contents: callers check it is the one they restored).
   */
  beginRestoreDatabase(
    instanceId: string,
    location: string,
    database: string,
    source: RestoreSource,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>>;

  /** DELETE a managed database; 204 when there is none. */
  beginDeleteManagedDatabase(
    instanceId: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>>;

  /** The databases dropped from an instance that can still be restored (all pages). */
  listRestorableDroppedDatabases(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RestorableDroppedDatabaseView[]>>;

  /** The long-term-retention backups of one database of an instance (all pages), oldest first. */
  listLongTermBackups(
    instanceId: string,
    location: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<LongTermBackupView[]>>;

  /** One read of an accepted request's progress (the `trackingId` a `begin…` method returned). */
  getOperationProgress(
    subscriptionId: string,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress & { jobId?: string }>>;

  // ── Microsoft.RecoveryServices: VM backup ────────────────────────────────────────────────────────────────────

  getBackupPolicy(vault: VaultRef, policy: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupPolicyView>>;

  /** The VM's protected item in the vault (`protected: false` when there is none). */
  getVmProtection(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<VmProtectionView>>;

  /**
   * Makes the vault see the VM: refreshes the Azure fabric's containers (an operation this call follows to its end)
   * and lists the protectable VMs. `found: false` when the VM is not protectable from this vault (another region,
   * or protected elsewhere).
   */
  discoverVm(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<{ found: boolean }>>;

  /** PUT the VM's protected item under the policy. */
  beginProtectVm(
    vault: VaultRef,
    vmId: string,
    policyId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>>;

  /** POST an on-demand backup, its recovery point kept until `keepUntil`; the operation's result names the job. */
  beginVmBackup(
    vault: VaultRef,
    vmId: string,
    keepUntil: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>>;

  getBackupJob(vault: VaultRef, jobId: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupJobView>>;

  /**
   * The vault's on-demand and scheduled backup jobs of one VM (by its name, as jobs name their entity), newest first:
   * how a request whose answer was lost finds the job it started.
   */
  listVmBackupJobs(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupJobView[]>>;

  /** The VM's recovery points in the vault, newest first. */
  listRecoveryPoints(
    vault: VaultRef,
    vmId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RecoveryPointView[]>>;

  // ── Microsoft.DocumentDB ─────────────────────────────────────────────────────────────────────────────────────

  getCosmosAccount(accountId: string, options?: ArmRequestOptions): Promise<ArmAnswer<CosmosAccountView>>;

  /** PATCH the account's backup policy to continuous (`Continuous7Days` or `Continuous30Days`): one-way. */
  beginMigrateToContinuous(accountId: string, tier: string, options?: ArmRequestOptions): Promise<ArmAnswer<Accepted>>;

  /** The restorable accounts at a location (continuous accounts only). */
  listRestorableCosmosAccounts(
    subscriptionId: string,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RestorableCosmosAccountView[]>>;
}

/**
 * What an accepted request's answer says to follow: its Azure-AsyncOperation, else its Location (read as ARM defines a
 * Location poll), else nothing (the answer was final).
 */
export function accepted(response: { status: number; headers: { get(name: string): string | undefined } }): Accepted {
  const asyncOperation = response.headers.get('azure-asyncoperation');
  const location = response.headers.get('location');
  const trackingId = asyncOperation ?? (location ? `location:${location}` : undefined);
  return { status: response.status, ...(trackingId ? { trackingId } : {}) };
}
