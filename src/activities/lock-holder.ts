/**
 * Activities about the runbook that holds a group's lock (workflow id `fogpilot/<sub>/<rg>/<group>`): what it is
 * doing, read with its `status` query, and waiting for it to end. Workflows cannot query other workflows; these use
 * the worker's own Temporal client (the activity context's). Read-only: they change nothing, in Azure or in Temporal.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import { statusQuery, type RunbookStatus } from '../workflows/definitions';
import { KEEP_ALIVE_INTERVAL_MS } from './keep-alive';

export interface LockHolderRequest {
  /** The group's lock id. */
  workflowId: string;
}

/** The part of a lock holder's `status` that decides whether it may be asked to stand down. */
export type LockHolderStatus = Pick<
  RunbookStatus,
  'runbook' | 'workflowId' | 'phase' | 'awaiting' | 'preemptible' | 'pastPointOfNoReturn'
>;

export interface LockHolderReading {
  /** False when no run under the id is running: the lock is free. */
  running: boolean;
  runId?: string;
  workflowType?: string;
  /** How the latest run ended (`COMPLETED`, `FAILED`, …), when it is not running. */
  closeStatus?: string;
  /** Its answer to `status`, when it answered. */
  status?: LockHolderStatus;
  /** Why `status` did not answer (a workflow that is not a runbook, an old worker, no worker at all). */
  statusError?: string;
}

export interface AwaitLockHolderEndRequest extends LockHolderRequest {
  /** How long to wait, in real time, before answering that it still runs. */
  timeoutMs: number;
  /** Pause between two reads of the holder. */
  pollIntervalMs?: number;
}

export interface LockHolderEnd {
  /** True once no run under the id is running. */
  ended: boolean;
  /** How the last run ended (`COMPLETED`, `FAILED`, …), when it ended. */
  closeStatus?: string;
  waitedMs: number;
  /** What it was doing when the wait gave up. */
  last?: LockHolderReading;
}

/** How often `awaitLockHolderEnd` reads the holder, and heartbeats. */
const DEFAULT_POLL_INTERVAL_MS = 1_000;

export function createLockHolderActivities() {
  /** The latest run under the id: running or not, and, when running, what its `status` says. */
  async function describeLockHolder(request: LockHolderRequest): Promise<LockHolderReading> {
    const { client } = Context.current();
    // No run id: the latest run holds the lock (a failback that continued as new is still the same holder).
    const handle = client.workflow.getHandle(request.workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { running: false };
      throw error;
    }
    if (description.status.name !== 'RUNNING') {
      return { running: false, runId: description.runId, closeStatus: description.status.name };
    }
    const reading: LockHolderReading = {
      running: true,
      runId: description.runId,
      workflowType: description.type,
    };
    try {
      const status = await handle.query(statusQuery);
      reading.status = {
        runbook: status.runbook,
        workflowId: status.workflowId,
        phase: status.phase,
        awaiting: status.awaiting,
        preemptible: status.preemptible === true,
        pastPointOfNoReturn: status.pastPointOfNoReturn,
      };
    } catch (error) {
      reading.statusError = error instanceof Error ? error.message : String(error);
    }
    return reading;
  }

  return {
    /**
     * Reads the group's lock holder: whether a run holds the lock and, if so, its runbook, phase, what it waits for
     * and whether it may be pre-empted. Read-only and idempotent; a `status` query that fails is reported, not thrown.
     */
    describeLockHolder,

    /**
     * Waits, heartbeating, until no run under the lock id is running, or `timeoutMs` has passed. Read-only; a
     * cancelled wait stops at once. Retrying it starts the wait again.
     */
    async awaitLockHolderEnd(request: AwaitLockHolderEndRequest): Promise<LockHolderEnd> {
      const context = Context.current();
      const startedAt = Date.now();
      const intervalMs = request.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
      let phase: string | undefined;
      // Also while a read is slow (a `status` query waits for the holder's worker): the heartbeat timeout is seconds.
      const beat = (): void => context.heartbeat({ waitedMs: Date.now() - startedAt, phase });
      const heartbeats = setInterval(beat, KEEP_ALIVE_INTERVAL_MS);
      try {
        for (;;) {
          const reading = await describeLockHolder(request);
          const waitedMs = Date.now() - startedAt;
          if (!reading.running) return { ended: true, closeStatus: reading.closeStatus, waitedMs };
          if (waitedMs >= request.timeoutMs) return { ended: false, waitedMs, last: reading };
          phase = reading.status?.phase;
          beat();
          await context.sleep(Math.min(intervalMs, request.timeoutMs - waitedMs));
        }
      } finally {
        clearInterval(heartbeats);
      }
    },
  };
}
