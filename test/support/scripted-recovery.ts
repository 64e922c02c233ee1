/**
 * A scripted recovery plane for workflow tests: the scripted group's instances hold managed databases that restores
 * create and drops remove on the test server's clock, with restorable dropped databases, LTR backups, and a Recovery
 * Services vault and Cosmos DB accounts whose operations take simulated time. Knobs script Azure's answers; records
 * say what was sent.
 */
import type { ArmAnswer } from '../../src/azure/control-plane';
import { ArmRequestError } from '../../src/azure/errors';
import { recordArmCall } from '../../src/azure/arm-call-meter';
import type { Accepted, RecoveryPlane } from '../../src/azure/recovery-plane';
import type { OperationProgress } from '../../src/domain/azure-state';
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
} from '../../src/domain/recovery-state';
import type { ScriptedAzure } from './scripted-azure';

interface ScriptedDatabase {
  instanceId: string;
  name: string;
  createdAt: number;
  /** Online from then (a restore in progress before). */
  onlineAt: number;
  createMode?: string;
  /** The restore's operation: ends at `onlineAt`, or fails there. */
  operation?: string;
  /** What it was restored from (for assertions). */
  source?: RestoreSource;
}

interface ScriptedOperationState {
  id: string;
  endsAt: number;
  outcome: 'Succeeded' | 'Failed';
  jobId?: string;
}

interface ScriptedVm {
  id: string;
  discoverable: boolean;
  protectedWith?: string;
  protectionRequestedAt?: number;
  recoveryPoints: number[];
}

interface ScriptedJob {
  id: string;
  vmId: string;
  startedAt: number;
  endsAt: number;
  outcome: 'Completed' | 'Failed';
}

interface ScriptedCosmos {
  id: string;
  name: string;
  location: string;
  type: 'Periodic' | 'Continuous';
  tier?: string;
  createdAt: number;
  migration?: { startedAt: number; endsAt: number; tier: string; operation: string };
}

const DAY = 86_400_000;

export class ScriptedRecovery implements RecoveryPlane {
  // Knobs.
  /** Simulated time a restore takes. */
  restoreMs = 40 * 60_000;
  /** Simulated time from a restore being online on the primary to its copy being online on the secondary. */
  seedMs = 20 * 60_000;
  /** Simulated time a drop takes. */
  dropMs = 2 * 60_000;
  /** The next restore ends Failed in Azure. */
  failNextRestore = false;
  /** The next restore PUT is accepted and its answer lost (a reset), once. */
  loseNextRestoreAnswer = false;
  /** Short-term retention: earliestRestorePoint is this long before now (or the creation, when later). */
  retentionMs = 7 * DAY;
  /** A backup job's simulated duration. */
  backupMs = 30 * 60_000;
  failNextBackup = false;
  /** A Cosmos DB migration's simulated duration. */
  migrationMs = 3 * 3_600_000;
  backupPolicies: Record<string, BackupPolicyView> = {};

  // State and records.
  readonly databases: ScriptedDatabase[] = [];
  readonly dropped: (RestorableDroppedDatabaseView & { instanceId: string })[] = [];
  readonly longTermBackups: (LongTermBackupView & { instanceId: string })[] = [];
  readonly restoreRequests: { instanceId: string; database: string; source: RestoreSource; at: number }[] = [];
  readonly dropRequests: { instanceId: string; database: string; at: number }[] = [];
  readonly vms: ScriptedVm[] = [];
  readonly jobs: ScriptedJob[] = [];
  readonly cosmos: ScriptedCosmos[] = [];
  readonly migrationRequests: { accountId: string; tier: string; at: number }[] = [];
  readonly protectRequests: { vmId: string; policyId: string; at: number }[] = [];
  readonly backupRequests: { vmId: string; at: number }[] = [];
  private readonly operations = new Map<string, ScriptedOperationState>();
  private counter = 0;

  constructor(private readonly azure: ScriptedAzure) {
    const now = Date.now();
    for (const name of azure.databases) {
      for (const instance of Object.values(azure.instances))
        this.databases.push({ instanceId: instance.id, name, createdAt: now - 30 * DAY, onlineAt: now - 30 * DAY });
    }
  }

  private async now(method: string, args: unknown, httpMethod = 'GET'): Promise<number> {
    const now = await this.azure.recordCall(method, args);
    recordArmCall(httpMethod, 200);
    return now;
  }

  private primaryInstanceId(): string {
    return this.azure.instances[this.azure.primaryLocation]!.id;
  }

  private secondaryInstanceId(): string {
    return this.azure.instances[this.azure.secondaryLocation]!.id;
  }

  private notFound(what: string): ArmRequestError {
    return new ArmRequestError(`${what} was not found`, {
      statusCode: 404,
      code: 'ResourceNotFound',
      delivery: 'answered',
    });
  }

  private find(instanceId: string, name: string): ScriptedDatabase | undefined {
    return this.databases.find(
      (entry) =>
        entry.instanceId.toLowerCase() === instanceId.toLowerCase() && entry.name.toLowerCase() === name.toLowerCase(),
    );
  }

  /** What the secondary's copy reads: online once the primary's database was seeded. */
  private status(database: ScriptedDatabase, now: number): string {
    const onPrimary = database.instanceId.toLowerCase() === this.primaryInstanceId().toLowerCase();
    if (onPrimary) return now >= database.onlineAt ? 'Online' : 'Creating';
    return now >= database.onlineAt ? 'Online' : 'Restoring';
  }

  private operation(endsAt: number, outcome: 'Succeeded' | 'Failed' = 'Succeeded', jobId?: string): string {
    const id = `https://management.azure.com/scripted/operations/${++this.counter}`;
    this.operations.set(id, { id, endsAt, outcome, ...(jobId ? { jobId } : {}) });
    return id;
  }

  // ── Microsoft.Sql ─────────────────────────────────────────────────────────────────────────────────────────────

  async getManagedDatabase(instanceId: string, database: string): Promise<ArmAnswer<ManagedDatabaseDetail>> {
    const now = await this.now('getManagedDatabase', { instanceId, database });
    const found = this.find(instanceId, database);
    if (!found || now < found.createdAt) throw this.notFound(`database ${database}`);
    return {
      value: {
        id: `${found.instanceId}/databases/${found.name}`,
        name: found.name,
        status: this.status(found, now),
        creationDate: new Date(found.createdAt).toISOString(),
        earliestRestorePoint: new Date(Math.max(found.createdAt, now - this.retentionMs)).toISOString(),
        ...(found.createMode ? { createMode: found.createMode } : {}),
      },
    };
  }

  async beginRestoreDatabase(
    instanceId: string,
    _location: string,
    database: string,
    source: RestoreSource,
  ): Promise<ArmAnswer<Accepted>> {
    const now = await this.now('beginRestoreDatabase', { instanceId, database, source }, 'PUT');
    if (this.find(instanceId, database))
      throw new ArmRequestError(`Database '${database}' already exists.`, {
        statusCode: 409,
        code: 'DatabaseAlreadyExists',
        delivery: 'answered',
      });
    this.restoreRequests.push({ instanceId, database, source, at: now });
    const outcome = this.failNextRestore ? 'Failed' : 'Succeeded';
    this.failNextRestore = false;
    const onlineAt = now + this.restoreMs;
    const operation = this.operation(onlineAt, outcome);
    const createMode = source.mode === 'longTermBackup' ? 'RestoreLongTermRetentionBackup' : 'PointInTimeRestore';
    if (outcome === 'Succeeded') {
      this.databases.push({ instanceId, name: database, createdAt: now, onlineAt, createMode, operation, source });
      // In a failover group the new database is seeded to the secondary once it is online.
      this.databases.push({
        instanceId: this.secondaryInstanceId(),
        name: database,
        createdAt: onlineAt,
        onlineAt: onlineAt + this.seedMs,
      });
    }
    if (this.loseNextRestoreAnswer) {
      this.loseNextRestoreAnswer = false;
      throw new ArmRequestError('socket hang up', { code: 'ECONNRESET', delivery: 'unknown' });
    }
    return { value: { status: 201, trackingId: operation } };
  }

  async beginDeleteManagedDatabase(instanceId: string, database: string): Promise<ArmAnswer<Accepted>> {
    const now = await this.now('beginDeleteManagedDatabase', { instanceId, database }, 'DELETE');
    const found = this.find(instanceId, database);
    if (!found) return { value: { status: 204 } };
    this.dropRequests.push({ instanceId, database, at: now });
    const endsAt = now + this.dropMs;
    for (const copy of this.databases.filter((entry) => entry.name.toLowerCase() === database.toLowerCase()))
      this.databases.splice(this.databases.indexOf(copy), 1);
    this.dropped.push({
      instanceId,
      id: `${instanceId}/restorableDroppedDatabases/${database},${endsAt}`,
      databaseName: database,
      creationDate: new Date(found.createdAt).toISOString(),
      deletionDate: new Date(endsAt).toISOString(),
      earliestRestoreDate: new Date(Math.max(found.createdAt, endsAt - this.retentionMs)).toISOString(),
    });
    return { value: { status: 202, trackingId: this.operation(endsAt) } };
  }

  async listRestorableDroppedDatabases(instanceId: string): Promise<ArmAnswer<RestorableDroppedDatabaseView[]>> {
    const now = await this.now('listRestorableDroppedDatabases', { instanceId });
    return {
      value: this.dropped
        .filter((entry) => entry.instanceId.toLowerCase() === instanceId.toLowerCase())
        .filter((entry) => Date.parse(entry.deletionDate!) <= now)
        .map(({ instanceId: _, ...view }) => view),
    };
  }

  async listLongTermBackups(
    instanceId: string,
    _location: string,
    database: string,
  ): Promise<ArmAnswer<LongTermBackupView[]>> {
    await this.now('listLongTermBackups', { instanceId, database });
    return {
      value: this.longTermBackups
        .filter((entry) => entry.databaseName.toLowerCase() === database.toLowerCase())
        .map(({ instanceId: _, ...view }) => view),
    };
  }

  async getOperationProgress(
    _subscriptionId: string,
    trackingId: string,
  ): Promise<ArmAnswer<OperationProgress & { jobId?: string }>> {
    const now = await this.now('getOperationProgress', { trackingId });
    const operation = this.operations.get(trackingId);
    if (!operation) throw this.notFound(`operation ${trackingId}`);
    if (now < operation.endsAt)
      return { value: { state: 'InProgress', ...(operation.jobId ? { jobId: operation.jobId } : {}) } };
    return {
      value: {
        state: operation.outcome,
        ...(operation.jobId ? { jobId: operation.jobId } : {}),
        ...(operation.outcome === 'Failed'
          ? { error: { code: 'RestoreFailed', message: 'The restore failed in the scripted Azure.' } }
          : {}),
      },
    };
  }

  // ── Microsoft.RecoveryServices ──────────────────────────────────────────────────────────────────────────────

  private vm(vmId: string): ScriptedVm {
    const vm = this.vms.find((entry) => entry.id.toLowerCase() === vmId.toLowerCase());
    if (!vm) throw this.notFound(`virtual machine ${vmId}`);
    return vm;
  }

  async getBackupPolicy(vault: VaultRef, policy: string): Promise<ArmAnswer<BackupPolicyView>> {
    await this.now('getBackupPolicy', { vault: vault.name, policy });
    const found = this.backupPolicies[policy];
    if (!found) throw this.notFound(`backup policy ${policy}`);
    return { value: found };
  }

  async getVmProtection(_vault: VaultRef, vmId: string): Promise<ArmAnswer<VmProtectionView>> {
    const now = await this.now('getVmProtection', { vmId });
    const vm = this.vms.find((entry) => entry.id.toLowerCase() === vmId.toLowerCase());
    if (!vm?.protectedWith) return { value: { vmId, protected: false } };
    const points = vm.recoveryPoints.filter((at) => at <= now);
    const last = points.at(-1);
    return {
      value: {
        vmId,
        protected: true,
        protectionState: last !== undefined ? 'Protected' : 'IRPending',
        policyId: vm.protectedWith,
        ...(last !== undefined
          ? {
              lastBackupStatus: 'Completed',
              lastBackupTime: new Date(last).toISOString(),
              lastRecoveryPoint: new Date(last).toISOString(),
            }
          : {}),
      },
    };
  }

  async discoverVm(_vault: VaultRef, vmId: string): Promise<ArmAnswer<{ found: boolean }>> {
    await this.now('discoverVm', { vmId }, 'POST');
    const vm = this.vms.find((entry) => entry.id.toLowerCase() === vmId.toLowerCase());
    return { value: { found: vm?.discoverable === true && !vm.protectedWith } };
  }

  async beginProtectVm(_vault: VaultRef, vmId: string, policyId: string): Promise<ArmAnswer<Accepted>> {
    const now = await this.now('beginProtectVm', { vmId, policyId }, 'PUT');
    const vm = this.vm(vmId);
    this.protectRequests.push({ vmId, policyId, at: now });
    vm.protectedWith = policyId;
    vm.protectionRequestedAt = now;
    return { value: { status: 202, trackingId: this.operation(now + 60_000) } };
  }

  async beginVmBackup(_vault: VaultRef, vmId: string): Promise<ArmAnswer<Accepted>> {
    const now = await this.now('beginVmBackup', { vmId }, 'POST');
    const vm = this.vm(vmId);
    this.backupRequests.push({ vmId, at: now });
    const jobId = `job-${++this.counter}`;
    const outcome = this.failNextBackup ? 'Failed' : 'Completed';
    this.failNextBackup = false;
    this.jobs.push({ id: jobId, vmId, startedAt: now, endsAt: now + this.backupMs, outcome });
    if (outcome === 'Completed') vm.recoveryPoints.push(now + this.backupMs);
    return { value: { status: 202, trackingId: this.operation(now + 30_000, 'Succeeded', jobId) } };
  }

  async getBackupJob(_vault: VaultRef, jobId: string): Promise<ArmAnswer<BackupJobView>> {
    const now = await this.now('getBackupJob', { jobId });
    const job = this.jobs.find((entry) => entry.id === jobId);
    if (!job) throw this.notFound(`job ${jobId}`);
    const done = now >= job.endsAt;
    return {
      value: {
        jobId,
        operation: 'Backup',
        status: done ? job.outcome : 'InProgress',
        startTime: new Date(job.startedAt).toISOString(),
        ...(done ? { endTime: new Date(job.endsAt).toISOString() } : {}),
        ...(done && job.outcome === 'Failed' ? { errorMessage: 'The snapshot of the VM failed (scripted).' } : {}),
      },
    };
  }

  async listVmBackupJobs(_vault: VaultRef, vmId: string): Promise<ArmAnswer<BackupJobView[]>> {
    const now = await this.now('listVmBackupJobs', { vmId });
    const jobs = this.jobs
      .filter((job) => job.vmId.toLowerCase() === vmId.toLowerCase() && job.startedAt <= now)
      .sort((a, b) => b.startedAt - a.startedAt);
    return {
      value: jobs.map((job) => ({
        jobId: job.id,
        operation: 'Backup',
        status: now >= job.endsAt ? job.outcome : 'InProgress',
        startTime: new Date(job.startedAt).toISOString(),
        ...(now >= job.endsAt ? { endTime: new Date(job.endsAt).toISOString() } : {}),
      })),
    };
  }

  async listRecoveryPoints(_vault: VaultRef, vmId: string): Promise<ArmAnswer<RecoveryPointView[]>> {
    const now = await this.now('listRecoveryPoints', { vmId });
    const vm = this.vm(vmId);
    return {
      value: vm.recoveryPoints
        .filter((at) => at <= now)
        .sort((a, b) => b - a)
        .map((at) => ({
          id: `${vmId}/recoveryPoints/${at}`,
          name: String(at),
          time: new Date(at).toISOString(),
          type: 'AppConsistent',
        })),
    };
  }

  // ── Microsoft.DocumentDB ────────────────────────────────────────────────────────────────────────────────────

  private account(accountId: string): ScriptedCosmos {
    const found = this.cosmos.find((entry) => entry.id.toLowerCase() === accountId.toLowerCase());
    if (!found) throw this.notFound(`Cosmos DB account ${accountId}`);
    return found;
  }

  /** Applies a migration that has ended by `now`. */
  private settle(account: ScriptedCosmos, now: number): void {
    if (account.migration && now >= account.migration.endsAt) {
      account.type = 'Continuous';
      account.tier = account.migration.tier;
    }
  }

  async getCosmosAccount(accountId: string): Promise<ArmAnswer<CosmosAccountView>> {
    const now = await this.now('getCosmosAccount', { accountId });
    const account = this.account(accountId);
    this.settle(account, now);
    return {
      value: {
        id: account.id,
        name: account.name,
        location: account.location,
        provisioningState: 'Succeeded',
        instanceId: `instance-${account.name}`,
        backupPolicyType: account.type,
        ...(account.tier ? { tier: account.tier } : {}),
        ...(account.type === 'Periodic' ? { periodic: { intervalInMinutes: 240, retentionInHours: 8 } } : {}),
        ...(account.migration
          ? {
              migration: {
                status: now >= account.migration.endsAt ? 'Completed' : 'InProgress',
                targetType: 'Continuous',
                startTime: new Date(account.migration.startedAt).toISOString(),
              },
            }
          : {}),
      },
    };
  }

  async beginMigrateToContinuous(accountId: string, tier: string): Promise<ArmAnswer<Accepted>> {
    const now = await this.now('beginMigrateToContinuous', { accountId, tier }, 'PATCH');
    const account = this.account(accountId);
    this.settle(account, now);
    this.migrationRequests.push({ accountId, tier, at: now });
    if (account.migration && now < account.migration.endsAt)
      throw new ArmRequestError('A backup policy migration is already in progress.', {
        statusCode: 400,
        code: 'BadRequest',
        delivery: 'answered',
      });
    const endsAt = now + this.migrationMs;
    const operation = this.operation(endsAt);
    account.migration = { startedAt: now, endsAt, tier, operation };
    return { value: { status: 202, trackingId: operation } };
  }

  async listRestorableCosmosAccounts(
    _subscriptionId: string,
    location: string,
  ): Promise<ArmAnswer<RestorableCosmosAccountView[]>> {
    const now = await this.now('listRestorableCosmosAccounts', { location });
    return {
      value: this.cosmos
        .filter((account) => account.location === location)
        .map((account) => {
          this.settle(account, now);
          return account;
        })
        .filter((account) => account.type === 'Continuous')
        .map((account) => {
          const since = account.migration ? account.migration.endsAt : account.createdAt;
          const window = account.tier === 'Continuous30Days' ? 30 * DAY : 7 * DAY;
          return {
            id: `/subscriptions/s/providers/Microsoft.DocumentDB/locations/${location}/restorableDatabaseAccounts/instance-${account.name}`,
            accountName: account.name,
            instanceId: `instance-${account.name}`,
            creationTime: new Date(account.createdAt).toISOString(),
            oldestRestorableTime: new Date(Math.max(since, now - window)).toISOString(),
          };
        }),
    };
  }
}
