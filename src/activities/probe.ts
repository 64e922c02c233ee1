/**
 * Probe activities for DR drills: writes through the group's read-write listener (the application's view of a
 * failover), reading them back, and an optional HTTP health check. `probeListenerWrites` and `smokeWrite` WRITE rows to
 * `dbo.fogpilot_smoke`: they are in `DATA_WRITING_ACTIVITIES`, which dry runs and read-only runbooks never call.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import {
  closeProbeTally,
  emptyProbeTally,
  probeCheckpointFrom,
  probePayload,
  probePrefix,
  probeSeqOf,
  type ProbeCheckpoint,
  type ProbeTally,
} from '../domain/probe-tally';
import { errorText } from '../azure/errors';
import { SqlRequestError, type DataPlane, type SqlInstanceTarget } from '../sql/data-plane';
import { classifySqlError } from '../sql/errors';
import { FailureTypes } from '../workflows/definitions';
import { KEEP_ALIVE_INTERVAL_MS } from './keep-alive';

export interface ProbeActivityDependencies {
  dataPlane: Pick<DataPlane, 'insertSmokeRow' | 'findSmokeRows'>;
  /** How often the write probe heartbeats, a write in flight included; keep well under its heartbeat timeout. */
  probeHeartbeatIntervalMs?: number;
}

export interface ProbeWritesRequest {
  /** The group's read-write listener (`listenerHost(group, dnsZone)`), not an instance: it follows the failover. */
  listener: SqlInstanceTarget;
  database: string;
  /** Unique per probe run: payloads are `<label>:<seq>`, and the read-back finds them by this prefix. */
  label: string;
  /** Pause between writes. */
  intervalMs: number;
}

export interface VerifyProbeRequest {
  listener: SqlInstanceTarget;
  database: string;
  label: string;
  acknowledgedSeqs: number[];
  inDoubtSeqs: number[];
}

export interface ProbeVerification {
  /** Rows of this probe found in the database. */
  present: number;
  /** Acknowledged writes that are gone: data lost by the failover. */
  lostAcknowledgedSeqs: number[];
  /** In-doubt writes that did commit. */
  inDoubtCommittedSeqs: number[];
}

export interface SmokeWriteRequest {
  listener: SqlInstanceTarget;
  database: string;
  label: string;
}

export interface SmokeWriteResult {
  ok: boolean;
  latencyMs: number;
  /** The row's id, when the write was acknowledged. */
  id?: number;
  error?: string;
}

export interface ProbeCheckpointRequest {
  /** The workflow running the probe, and the `activityId` it gave the probe activity. */
  workflowId: string;
  runId?: string;
  activityId: string;
}

export interface ProbeCheckpointReading {
  /** Whether the probe activity is pending (running, or waiting to be retried). */
  pending: boolean;
  /** Its attempt number, when pending. */
  attempt?: number;
  /** The tally of its last heartbeat, closed now; undefined before the first heartbeat. */
  tally?: ProbeTally;
}

export interface HttpHealthCheckRequest {
  url: string;
  expectStatus: number;
  timeoutMs: number;
}

export interface HttpHealthCheckResult {
  ok: boolean;
  /** The status answered (redirects are not followed: a 302 to a login page is not healthy). */
  status?: number;
  latencyMs: number;
  error?: string;
}

/** `sql.NVarChar(200)`: the payload column's size. */
const MAX_PAYLOAD_LENGTH = 200;

function checkPayload(payload: string, field: string): void {
  if (payload.length > MAX_PAYLOAD_LENGTH) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: `${field}: "${payload.slice(0, 40)}…" makes payloads longer than ${MAX_PAYLOAD_LENGTH} characters; use a shorter label`,
    });
  }
}

/** `sql-<number>` when SQL answered, else the driver's code (`ECONNCLOSED`, `ETIMEOUT`), else the error's kind. */
function failureKey(error: unknown): string {
  if (error instanceof SqlRequestError) {
    if (error.number !== undefined) return `sql-${error.number}`;
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? code : error.kind;
  }
  return error instanceof Error ? error.name : 'error';
}

/** A write whose delivery is not known to have failed before sending is in doubt: it may have committed. */
function countFailedWrite(checkpoint: ProbeCheckpoint, seq: number, error: unknown): void {
  const key = failureKey(error);
  checkpoint.errors[key] = (checkpoint.errors[key] ?? 0) + 1;
  const delivery = error instanceof SqlRequestError ? (error.delivery ?? 'unknown') : 'unknown';
  if (delivery === 'answered') checkpoint.refused += 1;
  else if (delivery === 'unknown') checkpoint.inDoubtSeqs.push(seq);
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks the signal). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Where a (retried) attempt starts: the last heartbeat's checkpoint, or nothing. Sequence numbers skip past every write
 * the previous attempt could have sent after its checkpoint (one per `intervalMs` at most), so no payload is reused.
 */
function resumeCheckpoint(details: unknown, intervalMs: number, now: number): ProbeCheckpoint {
  const previous = probeCheckpointFrom(details);
  if (!previous) return { ...emptyProbeTally(), lastSeq: 0, checkpointAtMs: now };
  const unseen = previous.checkpointAtMs > 0 ? Math.ceil((now - previous.checkpointAtMs) / Math.max(1, intervalMs)) : 0;
  return { ...previous, lastSeq: previous.lastSeq + Math.max(0, unseen) + 1, checkpointAtMs: now };
}

export function createProbeActivities({
  dataPlane,
  probeHeartbeatIntervalMs = KEEP_ALIVE_INTERVAL_MS,
}: ProbeActivityDependencies) {
  return {
    /**
     * WRITES one row to `dbo.fogpilot_smoke` through the listener every `intervalMs` (payload `<label>:<seq>`, `seq`
     * increasing per attempt), reconnecting after the listener drops connections, until the activity is CANCELLED by
     * its workflow; then it RETURNS the tally (it does not throw). Run it with `ActivityCancellationType.
     * WAIT_CANCELLATION_COMPLETED` so the workflow receives that result (the write in flight at cancellation is finished
     * and counted).
     *
     * Heartbeats the tally after every write and every `probeHeartbeatIntervalMs` (a write in flight included, counted
     * in doubt: it is, should this attempt die before its answer), so a heartbeat timeout of a few seconds notices a lost
     * worker even while a write waits out its timeouts. A retried attempt resumes from the last heartbeat, so nothing
     * counted is lost.
     * Stopped for any other reason (worker shutdown, heartbeat timeout), it rethrows the cancellation so Temporal
     * retries it rather than ending the probe early. Not idempotent (it writes), and never fails on a write's failure:
     * failures are what it measures.
     */
    async probeListenerWrites(request: ProbeWritesRequest): Promise<ProbeTally> {
      checkPayload(probePayload(request.label, Number.MAX_SAFE_INTEGER), 'label');
      const context = Context.current();
      const signal = context.cancellationSignal;
      const checkpoint = resumeCheckpoint(context.info.heartbeatDetails, request.intervalMs, Date.now());
      let inFlight: number | undefined;
      const beat = () => {
        checkpoint.checkpointAtMs = Date.now();
        context.heartbeat(
          inFlight === undefined ? checkpoint : { ...checkpoint, inDoubtSeqs: [...checkpoint.inDoubtSeqs, inFlight] },
        );
      };
      beat();
      const heartbeats = setInterval(beat, probeHeartbeatIntervalMs);
      try {
        while (!signal.aborted) {
          const seq = ++checkpoint.lastSeq;
          checkpoint.attempted += 1;
          inFlight = seq;
          try {
            // Not tied to the cancellation: the write in flight is finished (within the write timeout) and counted.
            await dataPlane.insertSmokeRow(request.listener, {
              database: request.database,
              payload: probePayload(request.label, seq),
            });
            checkpoint.acknowledgedSeqs.push(seq);
            if (checkpoint.failingSinceMs !== undefined) {
              checkpoint.windows.push({ fromMs: checkpoint.failingSinceMs, toMs: Date.now() });
              checkpoint.failingSinceMs = undefined;
            }
          } catch (error) {
            countFailedWrite(checkpoint, seq, error);
            checkpoint.failingSinceMs ??= Date.now();
          } finally {
            inFlight = undefined;
          }
          beat();
          await pause(request.intervalMs, signal);
        }
      } finally {
        clearInterval(heartbeats);
      }
      if (!context.cancellationDetails?.cancelRequested) throw signal.reason;
      return closeProbeTally(checkpoint, Date.now());
    },

    /**
     * The last heartbeat of a running probe, read from Temporal (the workflow's pending activities). Read-only.
     *
     * Why: a probe cancelled while it is *between attempts* (its last attempt failed, the retry not yet started) has
     * no code running to answer the cancellation, and Temporal ends it cancelled without its tally (the server's
     * details say `ACTIVITY_ID_NOT_STARTED`, not the heartbeat). A workflow that reads this just before cancelling
     * has the tally in every case: the probe's own answer when an attempt was running, else this reading.
     */
    async readProbeCheckpoint(request: ProbeCheckpointRequest): Promise<ProbeCheckpointReading> {
      const { client } = Context.current();
      const description = await client.workflow.getHandle(request.workflowId, request.runId).describe();
      const pending = description.raw.pendingActivities?.find((activity) => activity.activityId === request.activityId);
      if (!pending) return { pending: false };
      const details = pending.heartbeatDetails?.payloads;
      const checkpoint = details?.length
        ? probeCheckpointFrom(await decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, details))
        : undefined;
      return {
        pending: true,
        attempt: pending.attempt ?? undefined,
        tally: checkpoint ? closeProbeTally(checkpoint, Date.now()) : undefined,
      };
    },

    /**
     * Reads back the probe's rows through the listener (on the current primary) and compares them with the tally:
     * acknowledged writes missing are data lost; in-doubt writes present did commit. Read-only. SQL faults are
     * classified (transient ones retry).
     */
    async verifyProbeWrites(request: VerifyProbeRequest): Promise<ProbeVerification> {
      let payloads: string[];
      try {
        payloads = await dataPlane.findSmokeRows(request.listener, {
          database: request.database,
          prefix: probePrefix(request.label),
        });
      } catch (error) {
        throw classifySqlError(error, `reading back the probe ${request.label} in ${request.database}`);
      }
      const present = new Set(
        payloads.map((payload) => probeSeqOf(request.label, payload)).filter((seq) => seq !== undefined),
      );
      return {
        present: present.size,
        lostAcknowledgedSeqs: request.acknowledgedSeqs.filter((seq) => !present.has(seq)),
        inDoubtCommittedSeqs: request.inDoubtSeqs.filter((seq) => present.has(seq)),
      };
    },

    /**
     * WRITES one row through the listener and reports whether it was acknowledged and how long it took. A check: a
     * refusal (read-only database) or a connection failure is `ok: false` with the reason, never a failure.
     */
    async smokeWrite(request: SmokeWriteRequest): Promise<SmokeWriteResult> {
      const payload = `${request.label}:smoke:${new Date().toISOString()}`;
      checkPayload(payload, 'label');
      const started = performance.now();
      try {
        const written = await dataPlane.insertSmokeRow(request.listener, { database: request.database, payload });
        return { ok: true, latencyMs: Math.round(performance.now() - started), id: written.id };
      } catch (error) {
        return { ok: false, latencyMs: Math.round(performance.now() - started), error: errorText(error) };
      }
    },

    /**
     * GETs `url` once and compares the status with `expectStatus`. A check: a wrong status, no answer within
     * `timeoutMs` or a network failure is `ok: false` with the reason, never a failure. Reads nothing else; follows no
     * redirects.
     */
    async httpHealthCheck(request: HttpHealthCheckRequest): Promise<HttpHealthCheckResult> {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const response = await fetch(request.url, {
          signal: AbortSignal.timeout(request.timeoutMs),
          redirect: 'manual',
        });
        await response.body?.cancel().catch(() => undefined);
        const ok = response.status === request.expectStatus;
        return {
          ok,
          status: response.status,
          latencyMs: elapsed(),
          error: ok ? undefined : `expected HTTP ${request.expectStatus}, got ${response.status}`,
        };
      } catch (error) {
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        return {
          ok: false,
          latencyMs: elapsed(),
          error: timedOut ? `no answer within ${request.timeoutMs} ms` : `${errorText(error)}${cause}`,
        };
      }
    },
  };
}
