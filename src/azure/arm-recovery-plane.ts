/**
 * The recovery runbooks' ARM requests over the real SDKs: `@azure/arm-sql` for managed database restores,
 * `@azure/arm-recoveryservicesbackup` for VM backup and `@azure/arm-cosmosdb` for Cosmos DB accounts. Every client
 * comes from the {@link ArmControlPlane}, so they share its credential, per-subscription request budget and meter.
 * `begin…` methods send the initial request only: the workflow follows the operation durably.
 */
import type { ManagedDatabase } from '@azure/arm-sql';
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
import { parseManagedInstanceId, type ArmControlPlane } from './arm-control-plane';
import type { ArmAnswer, ArmRequestOptions } from './control-plane';
import { accepted, type Accepted, type RecoveryPlane } from './recovery-plane';
import { RecoveryServicesPart } from './arm-recovery-services';
import { CosmosPart } from './arm-cosmos';

const iso = (date: Date | undefined): string | undefined => date?.toISOString();

function toDatabaseDetail(body: ManagedDatabase, fallbackName: string): ManagedDatabaseDetail {
  return {
    id: body.id ?? '',
    name: body.name ?? fallbackName,
    status: body.status ?? '',
    ...(body.creationDate ? { creationDate: iso(body.creationDate) } : {}),
    ...(body.earliestRestorePoint ? { earliestRestorePoint: iso(body.earliestRestorePoint) } : {}),
    ...(body.createMode ? { createMode: body.createMode } : {}),
  };
}

/** The body of a restore's PUT: where its contents come from. */
function restoreBody(location: string, source: RestoreSource): ManagedDatabase {
  switch (source.mode) {
    case 'pointInTime':
      return {
        location,
        createMode: 'PointInTimeRestore',
        sourceDatabaseId: source.sourceDatabaseId,
        restorePointInTime: new Date(source.pointInTime),
      };
    case 'droppedPointInTime':
      return {
        location,
        createMode: 'PointInTimeRestore',
        restorableDroppedDatabaseId: source.restorableDroppedDatabaseId,
        restorePointInTime: new Date(source.pointInTime),
      };
    case 'longTermBackup':
      return {
        location,
        createMode: 'RestoreLongTermRetentionBackup',
        longTermRetentionBackupResourceId: source.backupId,
      };
  }
}

export class ArmRecoveryPlane implements RecoveryPlane {
  private readonly vaults: RecoveryServicesPart;
  private readonly cosmos: CosmosPart;

  constructor(private readonly arm: ArmControlPlane) {
    this.vaults = new RecoveryServicesPart(arm);
    this.cosmos = new CosmosPart(arm);
  }

  // ── Microsoft.Sql ───────────────────────────────────────────────────────────────────────────────────────────

  async getManagedDatabase(
    instanceId: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<ManagedDatabaseDetail>> {
    const id = parseManagedInstanceId(instanceId);
    const answer = await this.arm.call(`reading database ${database} of ${id.name}`, options, (callOptions) =>
      this.arm.client(id.subscriptionId).managedDatabases.get(id.resourceGroup, id.name, database, callOptions),
    );
    return { value: toDatabaseDetail(answer.value, database), retryAfterMs: answer.retryAfterMs };
  }

  async beginRestoreDatabase(
    instanceId: string,
    location: string,
    database: string,
    source: RestoreSource,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    const id = parseManagedInstanceId(instanceId);
    const { response, retryAfterMs } = await this.arm.sendAccepted(
      `restoring ${database} on ${id.name}`,
      'PUT',
      options,
      (callOptions) =>
        this.arm
          .client(id.subscriptionId)
          .managedDatabases.beginCreateOrUpdate(
            id.resourceGroup,
            id.name,
            database,
            restoreBody(location, source),
            callOptions,
          ),
    );
    return { value: accepted(response), retryAfterMs };
  }

  async beginDeleteManagedDatabase(
    instanceId: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    const id = parseManagedInstanceId(instanceId);
    const { response, retryAfterMs } = await this.arm.sendAccepted(
      `dropping ${database} from ${id.name}`,
      'DELETE',
      options,
      (callOptions) =>
        this.arm
          .client(id.subscriptionId)
          .managedDatabases.beginDelete(id.resourceGroup, id.name, database, callOptions),
    );
    return { value: accepted(response), retryAfterMs };
  }

  async listRestorableDroppedDatabases(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RestorableDroppedDatabaseView[]>> {
    const id = parseManagedInstanceId(instanceId);
    return this.arm.call(`listing the restorable dropped databases of ${id.name}`, options, async (callOptions) => {
      const views: RestorableDroppedDatabaseView[] = [];
      for await (const body of this.arm
        .client(id.subscriptionId)
        .restorableDroppedManagedDatabases.listByInstance(id.resourceGroup, id.name, callOptions)) {
        views.push({
          id: body.id ?? '',
          databaseName: body.databaseName ?? '',
          ...(body.creationDate ? { creationDate: iso(body.creationDate) } : {}),
          ...(body.deletionDate ? { deletionDate: iso(body.deletionDate) } : {}),
          ...(body.earliestRestoreDate ? { earliestRestoreDate: iso(body.earliestRestoreDate) } : {}),
        });
      }
      return views;
    });
  }

  async listLongTermBackups(
    instanceId: string,
    location: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<LongTermBackupView[]>> {
    const id = parseManagedInstanceId(instanceId);
    return this.arm.call(`listing the LTR backups of ${database} on ${id.name}`, options, async (callOptions) => {
      const views: LongTermBackupView[] = [];
      for await (const body of this.arm
        .client(id.subscriptionId)
        .longTermRetentionManagedInstanceBackups.listByResourceGroupDatabase(
          id.resourceGroup,
          location,
          id.name,
          database,
          callOptions,
        )) {
        views.push({
          id: body.id ?? '',
          databaseName: body.databaseName ?? database,
          backupTime: iso(body.backupTime) ?? '',
          ...(body.backupExpirationTime ? { backupExpirationTime: iso(body.backupExpirationTime) } : {}),
        });
      }
      return views.sort((a, b) => a.backupTime.localeCompare(b.backupTime));
    });
  }

  async getOperationProgress(
    subscriptionId: string,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress & { jobId?: string }>> {
    if (trackingId.startsWith('location:'))
      return this.arm.readAsyncOperation(subscriptionId, trackingId.slice('location:'.length), options, 'location');
    return this.arm.readAsyncOperation(subscriptionId, trackingId, options);
  }

  // ── Microsoft.RecoveryServices ──────────────────────────────────────────────────────────────────────────────

  getBackupPolicy(vault: VaultRef, policy: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupPolicyView>> {
    return this.vaults.getBackupPolicy(vault, policy, options);
  }

  getVmProtection(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<VmProtectionView>> {
    return this.vaults.getVmProtection(vault, vmId, options);
  }

  discoverVm(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<{ found: boolean }>> {
    return this.vaults.discoverVm(vault, vmId, options);
  }

  beginProtectVm(
    vault: VaultRef,
    vmId: string,
    policyId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    return this.vaults.beginProtectVm(vault, vmId, policyId, options);
  }

  beginVmBackup(
    vault: VaultRef,
    vmId: string,
    keepUntil: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<Accepted>> {
    return this.vaults.beginVmBackup(vault, vmId, keepUntil, options);
  }

  getBackupJob(vault: VaultRef, jobId: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupJobView>> {
    return this.vaults.getBackupJob(vault, jobId, options);
  }

  listVmBackupJobs(vault: VaultRef, vmId: string, options?: ArmRequestOptions): Promise<ArmAnswer<BackupJobView[]>> {
    return this.vaults.listVmBackupJobs(vault, vmId, options);
  }

  listRecoveryPoints(
    vault: VaultRef,
    vmId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RecoveryPointView[]>> {
    return this.vaults.listRecoveryPoints(vault, vmId, options);
  }

  // ── Microsoft.DocumentDB ────────────────────────────────────────────────────────────────────────────────────

  getCosmosAccount(accountId: string, options?: ArmRequestOptions): Promise<ArmAnswer<CosmosAccountView>> {
    return this.cosmos.getAccount(accountId, options);
  }

  beginMigrateToContinuous(accountId: string, tier: string, options?: ArmRequestOptions): Promise<ArmAnswer<Accepted>> {
    return this.cosmos.beginMigrateToContinuous(accountId, tier, options);
  }

  listRestorableCosmosAccounts(
    subscriptionId: string,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RestorableCosmosAccountView[]>> {
    return this.cosmos.listRestorableAccounts(subscriptionId, location, options);
  }
}
