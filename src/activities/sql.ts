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
import { SqlRequestError } from '../sql/data-plane';
import { classifySqlError } from '../sql/errors';
import { errorText } from '../azure/errors';
import { KEEP_ALIVE_INTERVAL_MS } from './keep-alive';
import type { DatabaseReplicationLink, DatabaseUpdateability } from '../domain/azure-state';

export interface SqlActivityDependencies {
  dataPlane: DataPlane;
  /** How often the copy-sync wait heartbeats; keep well under the workflow's heartbeat timeout. */
  syncHeartbeatIntervalMs?: number;
  /**
   * The clock of the data-plane watch (default: real time, and the activity's cancellable sleep). A time-skipping
   * test passes the test server's, so the watch's pauses move the simulated clock the scripted Azure switches by.
   */
  watchClock?: WatchClock;
}

/** What the data-plane watch tells time by. */
export interface WatchClock {
  now(): number | Promise<number>;
  sleep(ms: number): Promise<void>;
  /**
   * The shortest pause between reads this clock affords (a test server's sleep is a call to it): the watch reads every
   * `intervalMs` or every `minIntervalMs`, whichever is longer. Absent: `intervalMs`.
   */
  minIntervalMs?: number;
}

/**
 * What one slice of a data-plane watch of a failover's target saw: every expected database writable, not yet, or the
 * instance could not be read at all (a refused login, or no answer for {@link WatchWritableRequest.unreadableAfterMs}).
 */
export interface WritableWatch {
  outcome: 'writable' | 'not-yet' | 'unreadable';
  /** The last updateability read (empty when none answered). */
  databases: DatabaseUpdateability[];
  polls: number;
  watchedMs: number;
  /** Reads that failed transiently (sessions dropped during the switch, 40613/40197). */
  transientErrors: number;
  /** Why the data plane is unreadable (outcome `unreadable`). */
  reason?: string;
  /**
   * How long the instance had not answered when the slice ended (about 0: its last read answered). Absent from
   * results recorded before the watch carried silence over slices.
   */
  silentMs?: number;
}

export interface WatchWritableRequest {
  /** The target instance's own endpoint: the listener's DNS moves at acceptance, before the switch. */
  instance: SqlInstanceTarget;
  /** Databases that must be there and READ_WRITE; empty: whatever the instance has (at least one). */
  expected: string[];
  /** How long this slice watches before it answers `not-yet`. */
  sliceMs: number;
  intervalMs: number;
  /** No read answering for this long (connections refused, timeouts) makes the data plane unreadable. */
  unreadableAfterMs: number;
  /** How long the instance had already not answered when this slice starts (the last slice's `silentMs`). */
  silentForMs?: number;
}

/** Whether every expected database (at least one) is READ_WRITE. */
export function allWritable(databases: DatabaseUpdateability[], expected: string[]): boolean {
  const writable = (entry: DatabaseUpdateability) => entry.updateability.toUpperCase() === 'READ_WRITE';
  return (
    databases.length > 0 &&
    expected.every((database) => databases.some((entry) => entry.database === database)) &&
    databases.every(writable)
  );
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
  watchClock,
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

    /**
     * Watches a failover's target over TDS until every expected database is READ_WRITE, for at most `sliceMs`: a
     * read every `intervalMs`, heartbeating each. Costs no ARM call. Read-only. Transient errors (the switch drops
     * sessions) are waited through; a refused login, or no answer for `unreadableAfterMs` (counting the
     * `silentForMs` of earlier slices), ends it `unreadable` so
     * the workflow falls back to ARM. Cancellation stops it between reads.
     */
    async watchWritable(request: WatchWritableRequest): Promise<WritableWatch> {
      const context = Context.current();
      const clock: WatchClock = watchClock ?? { now: () => Date.now(), sleep: (ms) => context.sleep(ms) };
      const intervalMs = Math.max(request.intervalMs, clock.minIntervalMs ?? 0);
      const startedAt = await clock.now();
      let lastAnswerAt = startedAt - (request.silentForMs ?? 0);
      let databases: DatabaseUpdateability[] = [];
      let transientErrors = 0;
      const result = async (outcome: WritableWatch['outcome'], polls: number, reason?: string) => {
        const endedAt = await clock.now();
        return {
          outcome,
          databases,
          polls,
          watchedMs: endedAt - startedAt,
          transientErrors,
          silentMs: endedAt - lastAnswerAt,
          ...(reason === undefined ? {} : { reason }),
        };
      };
      for (let poll = 1; ; poll++) {
        try {
          databases = await dataPlane.getUpdateability(request.instance, { noRetry: true });
          lastAnswerAt = await clock.now();
          if (allWritable(databases, request.expected)) return await result('writable', poll);
        } catch (error) {
          const kind = error instanceof SqlRequestError ? error.kind : 'transient';
          if (kind !== 'transient' && kind !== 'not-writable') {
            return await result('unreadable', poll, `${request.instance.host}: ${errorText(error)}`);
          }
          transientErrors++;
          const silentMs = (await clock.now()) - lastAnswerAt;
          if (silentMs >= request.unreadableAfterMs) {
            return await result(
              'unreadable',
              poll,
              `${request.instance.host} has not answered for ${Math.round(silentMs / 1000)} s: ${errorText(error)}`,
            );
          }
        }
        context.heartbeat({ polls: poll });
        if ((await clock.now()) - startedAt + intervalMs > request.sliceMs) return await result('not-yet', poll);
        await clock.sleep(intervalMs);
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
