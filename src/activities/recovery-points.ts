/**
 * Read-only activities of the "trusted recovery points" part of readiness: what each database of a group can be
 * restored to (its restore window, its newest long-term-retention backup), and the workload's recovery points named in
 * the worker's configuration (VMs in a Recovery Services vault, Cosmos DB accounts' backup policies).
 *
 * A part that cannot be read (a 404, a refused credential, a worker without a recovery plane) comes back as `error` in
 * its slot for the check to report; only what a retry can cure (throttling, an outage) fails the activity, so the
 * workflow's retry policy waits it out. Nothing secret enters the results: resource ids, names, times and policies.
 */
import type { ControlPlane } from '../azure/control-plane';
import { classifyArmError } from '../azure/errors';
import { withArmMeter } from '../azure/arm-call-meter';
import type { RecoveryPlane } from '../azure/recovery-plane';
import type { FogpilotConfig } from '../config/config';
import { resourceOf } from '../config/workload';
import type { Metered } from './arm';

export interface RecoveryPointsDependencies {
  controlPlane: ControlPlane;
  recoveryPlane?: RecoveryPlane;
  outbound?: { config: Partial<Pick<FogpilotConfig, 'inventory' | 'workload'>> };
}

/** One database of the primary, as a restore could use it. */
export interface DatabaseRecoveryReading {
  database: string;
  /** The start of its point-in-time restore window. */
  earliestRestorePoint?: string;
  /** Its newest long-term-retention backup, and how many it has. */
  newestLtrBackup?: string;
  ltrBackups?: number;
  /** Why the database, or its LTR backups, could not be read. */
  errors?: string[];
}

export interface GroupRecoveryPointsReading extends Metered {
  /** The group's `objectives.backupRpo` (ms); absent when not configured. */
  backupRpoMs?: number;
  /** The primary's user databases; a string says why they could not be listed. */
  databases: DatabaseRecoveryReading[] | string;
  readAt: string;
}

export interface VmRecoveryReading {
  vmId: string;
  name: string;
  protected?: boolean;
  protectionState?: string;
  policy?: string;
  lastBackupStatus?: string;
  lastBackupTime?: string;
  /** The newest recovery point in the vault. */
  newestRecoveryPoint?: string;
  recoveryPoints?: number;
  error?: string;
}

export interface CosmosRecoveryReading {
  accountId: string;
  name: string;
  location?: string;
  /** `Periodic` or `Continuous`. */
  policyType?: string;
  tier?: string;
  migrationStatus?: string;
  /** A periodic account's backup interval, in minutes: the most it can lose. */
  periodicIntervalMinutes?: number;
  periodicRetentionHours?: number;
  /** A continuous account's oldest restorable time (from the restorable accounts at its location). */
  oldestRestorableTime?: string;
  error?: string;
}

export interface WorkloadRecoveryPointsReading extends Metered {
  /** False when the worker's configuration has no `workload:` section (nothing else is set then). */
  configured: boolean;
  vault?: string;
  vmRpoMs?: number;
  cosmosRpoMs?: number;
  vms: VmRecoveryReading[];
  cosmosAccounts: CosmosRecoveryReading[];
  readAt: string;
}

const NO_RECOVERY_PLANE =
  'this worker has no recovery plane (the Recovery Services and Cosmos DB clients): restart it with this version of fogpilot';

/** The value, or the reason as `{ error }` when retrying cannot help; transient failures are thrown to be retried. */
async function part<T>(doing: string, read: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await read();
  } catch (error) {
    const failure = classifyArmError(error, { doing });
    if (!failure.nonRetryable) throw failure;
    return { error: failure.message };
  }
}

function failed<T>(value: T | { error: string }): value is { error: string } {
  return typeof value === 'object' && value !== null && 'error' in value && Object.keys(value).length === 1;
}

function newest(times: (string | undefined)[]): string | undefined {
  const parsed = times.map((time) => (time ? Date.parse(time) : NaN)).filter((time) => Number.isFinite(time));
  return parsed.length ? new Date(Math.max(...parsed)).toISOString() : undefined;
}

export function createRecoveryPointsActivities({ controlPlane, recoveryPlane, outbound }: RecoveryPointsDependencies) {
  return {
    /**
     * The recovery points of every user database on a group's primary instance: its earliest restore point and its
     * newest LTR backup, with the group's `objectives.backupRpo`. Read-only; one list of the databases, then two ARM
     * reads per database.
     */
    async readGroupRecoveryPoints(request: {
      /** The group's inventory name, for its objectives (outside the inventory: none). */
      group: string;
      instanceId: string;
      location: string;
    }): Promise<GroupRecoveryPointsReading> {
      const inventory = outbound?.config.inventory;
      const backupRpoMs =
        inventory && Object.hasOwn(inventory, request.group)
          ? inventory[request.group]?.objectives?.backupRpo
          : undefined;
      const { result, armCalls } = await withArmMeter(async () => {
        const listed = await part(`listing the databases of ${request.instanceId}`, async () => {
          const answer = await controlPlane.listManagedDatabases(request.instanceId);
          return answer.value;
        });
        if (failed(listed)) return listed.error;
        return Promise.all(
          listed
            .map((entry) => entry.name)
            .sort()
            .map(async (database): Promise<DatabaseRecoveryReading> => {
              if (!recoveryPlane) return { database, errors: [NO_RECOVERY_PLANE] };
              const [detail, backups] = await Promise.all([
                part(`reading ${database}`, () =>
                  recoveryPlane.getManagedDatabase(request.instanceId, database).then((answer) => answer.value),
                ),
                part(`listing the LTR backups of ${database}`, () =>
                  recoveryPlane
                    .listLongTermBackups(request.instanceId, request.location, database)
                    .then((answer) => answer.value),
                ),
              ]);
              const errors = [detail, backups].filter(failed).map((entry) => entry.error);
              const newestLtr = failed(backups) ? undefined : newest(backups.map((backup) => backup.backupTime));
              return {
                database,
                ...(!failed(detail) && detail.earliestRestorePoint
                  ? { earliestRestorePoint: detail.earliestRestorePoint }
                  : {}),
                ...(newestLtr ? { newestLtrBackup: newestLtr } : {}),
                ...(!failed(backups) ? { ltrBackups: backups.length } : {}),
                ...(errors.length ? { errors } : {}),
              };
            }),
        );
      });
      return {
        ...(backupRpoMs !== undefined ? { backupRpoMs } : {}),
        databases: result,
        readAt: new Date().toISOString(),
        armCalls,
      };
    },

    /**
     * The workload of the worker's configuration (`workload:`): each VM's protection in the vault, its policy, last
     * backup and newest recovery point; each Cosmos DB account's backup policy, tier, migration state and, for a
     * continuous account, its oldest restorable time; and the RPOs. Read-only. `configured: false` without a workload.
     */
    async readWorkloadRecoveryPoints(): Promise<WorkloadRecoveryPointsReading> {
      const workload = outbound?.config.workload;
      const readAt = (): string => new Date().toISOString();
      if (!workload) return { configured: false, vms: [], cosmosAccounts: [], readAt: readAt(), armCalls: none() };
      const vault = workload.vault ? resourceOf(workload.vault) : undefined;
      const { result, armCalls } = await withArmMeter(async () => {
        const vms = await Promise.all(
          workload.vms.map(async (vmId): Promise<VmRecoveryReading> => {
            const name = resourceOf(vmId).name;
            if (!recoveryPlane) return { vmId, name, error: NO_RECOVERY_PLANE };
            if (!vault) return { vmId, name, error: 'workload.vault is not configured' };
            const protection = await part(`reading the protection of ${name} in ${vault.name}`, () =>
              recoveryPlane.getVmProtection(vault, vmId).then((answer) => answer.value),
            );
            if (failed(protection)) return { vmId, name, error: protection.error };
            const base: VmRecoveryReading = {
              vmId,
              name,
              protected: protection.protected,
              ...(protection.protectionState ? { protectionState: protection.protectionState } : {}),
              ...(protection.policyName || protection.policyId
                ? { policy: protection.policyName ?? resourceOf(protection.policyId!).name }
                : {}),
              ...(protection.lastBackupStatus ? { lastBackupStatus: protection.lastBackupStatus } : {}),
              ...(protection.lastBackupTime ? { lastBackupTime: protection.lastBackupTime } : {}),
            };
            if (!protection.protected) return base;
            const points = await part(`listing the recovery points of ${name}`, () =>
              recoveryPlane.listRecoveryPoints(vault, vmId).then((answer) => answer.value),
            );
            if (failed(points)) return { ...base, error: points.error };
            const newestPoint = newest(points.map((point) => point.time));
            return {
              ...base,
              recoveryPoints: points.length,
              ...(newestPoint ? { newestRecoveryPoint: newestPoint } : {}),
            };
          }),
        );
        const cosmosAccounts = await Promise.all(
          workload.cosmosAccounts.map(async (accountId): Promise<CosmosRecoveryReading> => {
            const { subscriptionId, name } = resourceOf(accountId);
            if (!recoveryPlane) return { accountId, name, error: NO_RECOVERY_PLANE };
            const account = await part(`reading the Cosmos DB account ${name}`, () =>
              recoveryPlane.getCosmosAccount(accountId).then((answer) => answer.value),
            );
            if (failed(account)) return { accountId, name, error: account.error };
            const base: CosmosRecoveryReading = {
              accountId,
              name,
              location: account.location,
              policyType: account.backupPolicyType,
              ...(account.tier ? { tier: account.tier } : {}),
              ...(account.migration ? { migrationStatus: account.migration.status } : {}),
              ...(account.periodic?.intervalInMinutes !== undefined
                ? { periodicIntervalMinutes: account.periodic.intervalInMinutes }
                : {}),
              ...(account.periodic?.retentionInHours !== undefined
                ? { periodicRetentionHours: account.periodic.retentionInHours }
                : {}),
            };
            if (account.backupPolicyType.toLowerCase() !== 'continuous') return base;
            const restorable = await part(`listing the restorable Cosmos DB accounts at ${account.location}`, () =>
              recoveryPlane
                .listRestorableCosmosAccounts(subscriptionId, account.location)
                .then((answer) => answer.value),
            );
            if (failed(restorable)) return { ...base, error: restorable.error };
            const match = restorable.find(
              (entry) =>
                !entry.deletionTime &&
                ((account.instanceId !== undefined && entry.instanceId === account.instanceId) ||
                  entry.accountName.toLowerCase() === name.toLowerCase()),
            );
            return match?.oldestRestorableTime ? { ...base, oldestRestorableTime: match.oldestRestorableTime } : base;
          }),
        );
        return { vms, cosmosAccounts };
      });
      return {
        configured: true,
        ...(vault ? { vault: vault.name } : {}),
        ...(workload.vmRpo !== undefined ? { vmRpoMs: workload.vmRpo } : {}),
        ...(workload.cosmosRpo !== undefined ? { cosmosRpoMs: workload.cosmosRpo } : {}),
        ...result,
        readAt: readAt(),
        armCalls,
      };
    },
  };
}

function none(): Metered['armCalls'] {
  return { reads: 0, writes: 0, throttled: 0 };
}
