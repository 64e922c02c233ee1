/**
 * Data-plane activities: read-only T-SQL, plus the blocking copy-sync wait, which heartbeats and stops when cancelled.
 */
import { Context } from '@temporalio/activity';
import type {
  AgentJobInfo,
  BackupInfo,
  CopySyncTarget,
  DataPlane,
  LoginInfo,
  SqlInstanceTarget,
  UserDatabase,
} from '../sql/data-plane';
import { classifySqlError } from '../sql/errors';
import { KEEP_ALIVE_INTERVAL_MS } from './keep-alive';
import type { DatabaseReplicationLink, DatabaseUpdateability } from '../domain/azure-state';

export interface SqlActivityDependencies {
  dataPlane: DataPlane;
  /** How often the copy-sync wait heartbeats; keep well under the workflow's heartbeat timeout. */
  syncHeartbeatIntervalMs?: number;
}

export interface CopySyncResult {
  database: string;
  partnerServer: string;
  partnerDatabase: string;
  waitedMs: number;
}

export function createSqlActivities({
  dataPlane,
  syncHeartbeatIntervalMs = KEEP_ALIVE_INTERVAL_MS,
}: SqlActivityDependencies) {
  return {
    /** Every user database on the instance with its replication link as this side sees it. Read-only. */
    async readReplicationLinks(request: {
      instance: SqlInstanceTarget;
    }): Promise<{ links: DatabaseReplicationLink[] }> {
      try {
        return { links: await dataPlane.listReplicationLinks(request.instance) };
      } catch (error) {
        throw classifySqlError(error, `reading replication links on ${request.instance.host}`);
      }
    },

    /**
     * Blocks in `sys.sp_wait_for_database_copy_sync` until the secondary has hardened the last committed
     * transaction of `link.database`, or `timeoutMs` passes (`SyncTimeout`). Heartbeats while waiting; a cancelled
     * activity cancels the T-SQL request. Read-only for the data: it waits, it writes nothing.
     */
    async waitForCopySync(request: {
      instance: SqlInstanceTarget;
      link: CopySyncTarget;
      timeoutMs: number;
    }): Promise<CopySyncResult> {
      const context = Context.current();
      const startedAt = Date.now();
      const beat = (): void => context.heartbeat({ database: request.link.database, waitedMs: Date.now() - startedAt });
      beat();
      const heartbeats = setInterval(beat, syncHeartbeatIntervalMs);
      try {
        await dataPlane.waitForCopySync(request.instance, request.link, {
          timeoutInMs: request.timeoutMs,
          abortSignal: context.cancellationSignal,
        });
      } catch (error) {
        throw classifySqlError(
          error,
          `waiting for copy sync of ${request.link.database} to ${request.link.partnerServer}`,
        );
      } finally {
        clearInterval(heartbeats);
        context.metricMeter
          .createHistogram('fogpilot_copy_sync_wait', 'float', 's', 'Time spent in sp_wait_for_database_copy_sync')
          .record((Date.now() - startedAt) / 1000);
      }
      return { ...request.link, waitedMs: Date.now() - startedAt };
    },

    /** User databases on the instance. Read-only. */
    async listUserDatabases(request: { instance: SqlInstanceTarget }): Promise<{ databases: UserDatabase[] }> {
      try {
        return { databases: await dataPlane.listUserDatabases(request.instance) };
      } catch (error) {
        throw classifySqlError(error, `listing databases on ${request.instance.host}`);
      }
    },

    /** Server logins with their SIDs, for drift checks (logins are not replicated). Read-only. */
    async readLogins(request: { instance: SqlInstanceTarget }): Promise<{ logins: LoginInfo[] }> {
      try {
        return { logins: await dataPlane.listLogins(request.instance) };
      } catch (error) {
        throw classifySqlError(error, `listing logins on ${request.instance.host}`);
      }
    },

    /** SQL Agent jobs, for drift checks (jobs are not replicated). Read-only. */
    async readAgentJobs(request: { instance: SqlInstanceTarget }): Promise<{ jobs: AgentJobInfo[] }> {
      try {
        return { jobs: await dataPlane.listAgentJobs(request.instance) };
      } catch (error) {
        throw classifySqlError(error, `listing SQL Agent jobs on ${request.instance.host}`);
      }
    },

    /** Latest full and log backup per database. Read-only. */
    async readLatestBackups(request: { instance: SqlInstanceTarget }): Promise<{ backups: BackupInfo[] }> {
      try {
        return { backups: await dataPlane.latestBackups(request.instance) };
      } catch (error) {
        throw classifySqlError(error, `reading backup history on ${request.instance.host}`);
      }
    },

    /** Updateability (READ_WRITE / READ_ONLY) of every user database on the instance. Read-only. */
    async readUpdateability(request: { instance: SqlInstanceTarget }): Promise<{ databases: DatabaseUpdateability[] }> {
      try {
        return { databases: await dataPlane.getUpdateability(request.instance) };
      } catch (error) {
        throw classifySqlError(error, `reading updateability on ${request.instance.host}`);
      }
    },
  };
}
