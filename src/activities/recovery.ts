/**
 * Activities of the recovery runbooks' database side: reading what a restore stands on (the damaged database, its
 * restore window, the LTR backup, the name the restore will take), sending the restore and the drop once each, reading
 * their progress, running the caller's checks on a restored database, and reading its copy on the geo-secondary.
 *
 * Sends are idempotent the way the failover group's are: each reads first, so an attempt whose answer was lost finds
 * its own request's effect on the next attempt instead of sending again.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ArmAnswer } from '../azure/control-plane';
import { classifyArmError, isArmRequestError } from '../azure/errors';
import { withArmMeter } from '../azure/arm-call-meter';
import type { RecoveryPlane } from '../azure/recovery-plane';
import type { OperationProgress } from '../domain/azure-state';
import type {
  LongTermBackupView,
  ManagedDatabaseDetail,
  RestorableDroppedDatabaseView,
  RestoreSource,
} from '../domain/recovery-state';
import { parseManagedInstanceId } from '../azure/arm-control-plane';
import type { DataPlane, RestoreCheck, RestoreCheckResult, SqlInstanceTarget } from '../sql/data-plane';
import { FailureTypes } from '../workflows/definitions';
import type { Metered } from './arm';
import { classifySqlError } from '../sql/errors';

export interface RecoveryDependencies {
  /** Absent on a worker built without the recovery SDKs' configuration: the recovery runbooks then refuse to start. */
  recoveryPlane?: RecoveryPlane;
  dataPlane: DataPlane;
}

/** What a restore stands on, read on the primary before anything is sent. */
export interface RestoreSourceReading extends Metered {
  /** The damaged database on the primary; absent when the primary has no database of that name. */
  source?: ManagedDatabaseDetail;
  /** What already holds the name the restore is to take (absent: the name is free). */
  target?: ManagedDatabaseDetail;
  /** The LTR backup named by the input, when one was named and the database's LTR backups list it. */
  backup?: LongTermBackupView;
  /** How many LTR backups the database has (when one was named). */
  backupsListed?: number;
  /** When the reads were made (the activity's clock): the restore window is judged against it. */
  readAt: string;
}

export interface RestoreSendResult extends Metered {
  /** `sent`: the PUT was accepted; `exists`: this run's restore already created the database (adopted). */
  outcome: 'sent' | 'exists';
  trackingId?: string;
}

export interface DatabaseStateReading extends Metered {
  /** The database as ARM reports it; absent when the instance has no database of that name. */
  database?: ManagedDatabaseDetail;
  /** The operation's own state, when it was followed by its tracking id. */
  progress?: OperationProgress;
  retryAfterMs?: number;
}

export interface DatabaseDropResult extends Metered {
  outcome: 'sent' | 'absent';
  trackingId?: string;
}

/**
 * The worker's recovery plane, or a failure saying the worker was built without one (the recovery runbooks then
 * refuse to start their Azure work).
 */
export function recoveryPlaneOf(recoveryPlane: RecoveryPlane | undefined): () => RecoveryPlane {
  return () => {
    if (recoveryPlane) return recoveryPlane;
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        'This worker has no recovery plane (the Recovery Services and Cosmos DB clients): restart it with this ' +
        'version of fogpilot, whose worker builds one from the azure section of fogpilot.yaml.',
    });
  };
}

export function createRecoveryActivities({ recoveryPlane, dataPlane }: RecoveryDependencies) {
  const plane = recoveryPlaneOf(recoveryPlane);

  /** The database, or undefined when ARM answers 404 (an instance's missing database). */
  const databaseOrAbsent = async (instanceId: string, database: string): Promise<ManagedDatabaseDetail | undefined> => {
    try {
      return (await plane().getManagedDatabase(instanceId, database)).value;
    } catch (error) {
      if (isArmRequestError(error) && error.statusCode === 404) return undefined;
      throw error;
    }
  };

  const armFailure = (doing: string) => (error: unknown) => {
    throw classifyArmError(error, { doing });
  };

  return {
    /**
     * Reads the damaged database, the database holding the restore's name (if any) and, for an LTR restore, the
     * database's LTR backups. Read-only; throttling and outages retry.
     */
    async readRestoreSource(request: {
      instanceId: string;
      location: string;
      database: string;
      restoredName: string;
      longTermBackupId?: string;
    }): Promise<RestoreSourceReading> {
      const { result, armCalls } = await withArmMeter(async () => {
        const [source, target, backups] = await Promise.all([
          databaseOrAbsent(request.instanceId, request.database),
          databaseOrAbsent(request.instanceId, request.restoredName),
          request.longTermBackupId
            ? plane()
                .listLongTermBackups(request.instanceId, request.location, request.database)
                .then((answer: ArmAnswer<LongTermBackupView[]>) => answer.value)
            : Promise.resolve(undefined),
        ]).catch(armFailure(`reading ${request.database} and its restore window`));
        const wanted = request.longTermBackupId?.toLowerCase();
        const backup = backups?.find((entry) => entry.id.toLowerCase() === wanted);
        return {
          ...(source ? { source } : {}),
          ...(target ? { target } : {}),
          ...(backup ? { backup } : {}),
          ...(backups ? { backupsListed: backups.length } : {}),
          readAt: new Date().toISOString(),
        };
      });
      return { ...result, armCalls };
    },

    /**
     * Creates the restored database once. When a database of that name exists: adopted (`exists`) if it was created
     * at or after `createdNoEarlierThan` with the expected create mode (this run's own restore, whose answer was lost),
     * else refused `AzureRequestRejected` with nothing sent. Azure's refusals fail `AzureRequestRejected` with its
     * message; throttling and outages retry.
     */
    async sendRestore(request: {
      instanceId: string;
      location: string;
      database: string;
      source: RestoreSource;
      createdNoEarlierThan: string;
    }): Promise<RestoreSendResult> {
      const doing = `restoring ${request.database} on ${parseManagedInstanceId(request.instanceId).name}`;
      const { result, armCalls } = await withArmMeter(async (): Promise<Omit<RestoreSendResult, 'armCalls'>> => {
        const existing = await databaseOrAbsent(request.instanceId, request.database).catch(armFailure(doing));
        if (existing) {
          const created = Date.parse(existing.creationDate ?? '');
          const mode =
            request.source.mode === 'longTermBackup' ? 'RestoreLongTermRetentionBackup' : 'PointInTimeRestore';
          const ours =
            Number.isFinite(created) &&
            created >= Date.parse(request.createdNoEarlierThan) &&
            (existing.createMode === undefined || existing.createMode.toLowerCase() === mode.toLowerCase());
          if (ours) return { outcome: 'exists' };
          throw ApplicationFailure.create({
            type: FailureTypes.AzureRequestRejected,
            nonRetryable: true,
            message:
              `${request.database} already exists on the instance (created ${existing.creationDate ?? 'at an unknown time'}, ` +
              `${existing.status}), and not by this run: nothing was restored. Choose another restoredName, or drop it.`,
          });
        }
        try {
          const { value } = await plane().beginRestoreDatabase(
            request.instanceId,
            request.location,
            request.database,
            request.source,
          );
          return { outcome: 'sent', trackingId: value.trackingId };
        } catch (error) {
          throw classifyArmError(error, { doing });
        }
      });
      return { ...result, armCalls };
    },

    /** One look at a database being created or dropped: its operation (when tracked) and the database itself. */
    async readDatabaseState(request: {
      instanceId: string;
      database: string;
      trackingId?: string;
    }): Promise<DatabaseStateReading> {
      const { subscriptionId } = parseManagedInstanceId(request.instanceId);
      const { result, armCalls } = await withArmMeter(async () => {
        const [database, progress] = await Promise.all([
          databaseOrAbsent(request.instanceId, request.database),
          request.trackingId
            ? plane().getOperationProgress(subscriptionId, request.trackingId)
            : Promise.resolve(undefined),
        ]).catch(armFailure(`reading ${request.database}`));
        return {
          ...(database ? { database } : {}),
          ...(progress ? { progress: progress.value, retryAfterMs: progress.retryAfterMs } : {}),
        };
      });
      return { ...result, armCalls };
    },

    /** Drops a database once: one already gone is `absent`. Azure's refusals fail `AzureRequestRejected`. */
    async sendDropDatabase(request: { instanceId: string; database: string }): Promise<DatabaseDropResult> {
      const doing = `dropping ${request.database} from ${parseManagedInstanceId(request.instanceId).name}`;
      const { result, armCalls } = await withArmMeter(async (): Promise<Omit<DatabaseDropResult, 'armCalls'>> => {
        const existing = await databaseOrAbsent(request.instanceId, request.database).catch(armFailure(doing));
        if (!existing) return { outcome: 'absent' };
        try {
          const { value } = await plane().beginDeleteManagedDatabase(request.instanceId, request.database);
          return value.status === 204 ? { outcome: 'absent' } : { outcome: 'sent', trackingId: value.trackingId };
        } catch (error) {
          throw classifyArmError(error, { doing });
        }
      });
      return { ...result, armCalls };
    },

    /**
     * The newest restorable dropped database of that name dropped at or after `droppedNoEarlierThan`: what a drop
     * left behind. Read-only.
     */
    async findDroppedDatabase(request: {
      instanceId: string;
      database: string;
      droppedNoEarlierThan: string;
    }): Promise<{ dropped?: RestorableDroppedDatabaseView } & Metered> {
      const { result, armCalls } = await withArmMeter(async () => {
        const { value } = await plane()
          .listRestorableDroppedDatabases(request.instanceId)
          .catch(armFailure(`listing the restorable dropped databases`));
        const floor = Date.parse(request.droppedNoEarlierThan);
        const candidates = value
          .filter((entry) => entry.databaseName.toLowerCase() === request.database.toLowerCase())
          .filter((entry) => Date.parse(entry.deletionDate ?? '') >= floor)
          .sort((a, b) => Date.parse(b.deletionDate ?? '') - Date.parse(a.deletionDate ?? ''));
        return candidates[0] ? { dropped: candidates[0] } : {};
      });
      return { ...result, armCalls };
    },

    /**
     * Runs the caller's checks in `database`, each inside a transaction that is rolled back (a check never changes
     * the database, whatever its text). A check that errors is a result, not a failure; a connection that fails
     * retries.
     */
    async runRestoreChecks(request: {
      target: SqlInstanceTarget;
      database: string;
      checks: RestoreCheck[];
    }): Promise<{ results: RestoreCheckResult[] }> {
      try {
        return { results: await dataPlane.runRestoreChecks(request.target, request.database, request.checks) };
      } catch (error) {
        throw classifySqlError(error, `checking ${request.database}`);
      }
    },
  };
}

export type RecoveryActivities = ReturnType<typeof createRecoveryActivities>;
