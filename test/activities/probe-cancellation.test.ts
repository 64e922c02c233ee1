/**
 * How the write probe's tally reaches its workflow when the workflow cancels it, on Temporal's time-skipping test
 * server: the probe runs in a cancellation scope with WAIT_CANCELLATION_COMPLETED and a heartbeat timeout, the
 * workflow cancels the scope, and the probe answers by returning its tally. Tests here run one at a time.
 */
import { after, afterEach, before, describe, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createProbeActivities } from '../../src/activities/probe';
import { SqlRequestError, type SmokeRowWrite, type SmokeRowWritten } from '../../src/sql/data-plane';
import { createTimeSkippingEnvironment, uniqueTaskQueue } from '../support/temporal';
import { PROBE_ACTIVITY_ID, probeUntilStopped, stopProbeSignal, type ProbeRunInput } from './probe-workflows';

function it(name: string, fn: () => Promise<void>): void {
  nodeIt(name, { timeout: 60_000 }, fn);
}

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  env = await createTimeSkippingEnvironment();
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./probe-workflows'),
    logger: new DefaultLogger('WARN'),
  });
});
after(async () => {
  await env?.teardown();
});

const started: string[] = [];
afterEach(async () => {
  for (const workflowId of started.splice(0)) {
    const handle = env.client.workflow.getHandle(workflowId);
    const { status } = await handle.describe().catch(() => ({ status: { name: 'UNKNOWN' } }));
    if (status.name === 'RUNNING') await handle.terminate('test ended').catch(() => undefined);
  }
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A data plane that records every write the probe makes; every fourth write drops its connection (in doubt). */
class RecordingWrites {
  readonly acknowledged: number[] = [];
  readonly inDoubt: number[] = [];
  attempts = 0;

  async insertSmokeRow(_target: unknown, row: SmokeRowWrite): Promise<SmokeRowWritten> {
    this.attempts += 1;
    const seq = Number(row.payload.split(':').at(-1));
    await sleep(2);
    if (this.attempts % 4 === 0) {
      this.inDoubt.push(seq);
      throw new SqlRequestError('socket hang up', 'transient', undefined, undefined, 'unknown');
    }
    this.acknowledged.push(seq);
    return { id: seq, committedAt: new Date().toISOString() };
  }

  findSmokeRows(): Promise<string[]> {
    return Promise.resolve([]);
  }

  async until(attempts: number): Promise<void> {
    for (let i = 0; i < 1_000 && this.attempts < attempts; i++) await sleep(10);
    assert.ok(this.attempts >= attempts, `the probe made ${this.attempts} writes`);
  }
}

function worker(taskQueue: string, writes: RecordingWrites): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    activities: createProbeActivities({ dataPlane: writes }),
    // Workers here are stopped and replaced mid-run. Without a cache there is no sticky queue: the time-skipping
    // server would otherwise hold the next workflow task on the stopped worker's sticky queue while time stands still.
    maxCachedWorkflows: 0,
    // The probe keeps writing through the grace time, then is cancelled with WORKER_SHUTDOWN and fails the attempt.
    shutdownGraceTime: '1 second',
  });
}

async function start(taskQueue: string, options: Partial<ProbeRunInput> = {}) {
  const input: ProbeRunInput = {
    listener: { instanceId: 'listener', host: 'fog-sales.abc123.database.windows.net' },
    database: 'sales',
    label: 'drill',
    intervalMs: 20,
    retryInitialInterval: '1 second',
    readCheckpointBeforeCancel: false,
    ...options,
  };
  const handle = await env.client.workflow.start(probeUntilStopped, {
    taskQueue,
    workflowId: `probe-${taskQueue}`,
    args: [input],
  });
  started.push(handle.workflowId);
  return handle;
}

/** The history events of the probe activity (not of other activities), by attribute name. */
async function probeEvents(handle: Awaited<ReturnType<typeof start>>): Promise<string[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find(
    (event) => event.activityTaskScheduledEventAttributes?.activityId === PROBE_ACTIVITY_ID,
  )?.eventId;
  assert.ok(scheduled, 'the probe was scheduled');
  const ofProbe = (event: (typeof events)[number]) =>
    [
      event.activityTaskStartedEventAttributes,
      event.activityTaskCompletedEventAttributes,
      event.activityTaskCanceledEventAttributes,
      event.activityTaskCancelRequestedEventAttributes,
      event.activityTaskFailedEventAttributes,
      event.activityTaskTimedOutEventAttributes,
    ].some((attributes) => attributes?.scheduledEventId?.toString() === scheduled.toString()) ||
    event.eventId?.toString() === scheduled.toString();
  return events
    .filter(ofProbe)
    .map((event) =>
      Object.keys(event).find((key) => key.endsWith('EventAttributes') && event[key as keyof typeof event] != null)!,
    );
}

describe('a cancelled write probe delivers its tally to the workflow', { concurrency: 1 }, () => {
  it('returns the whole tally as the activity result when its scope is cancelled (WAIT_CANCELLATION_COMPLETED)', async () => {
    const taskQueue = uniqueTaskQueue('probe');
    const writes = new RecordingWrites();
    const running = await worker(taskQueue, writes);
    await running.runUntil(async () => {
      const handle = await start(taskQueue);
      await writes.until(10);
      await handle.signal(stopProbeSignal);
      const result = await handle.result();

      assert.equal(result.delivery, 'returned', JSON.stringify(result));
      const tally = result.tally!;
      assert.deepEqual(tally.acknowledgedSeqs, writes.acknowledged, 'every acknowledged write, the last ones too');
      assert.deepEqual(tally.inDoubtSeqs, writes.inDoubt);
      assert.equal(tally.attempted, writes.attempts);
      assert.deepEqual(tally.errors, { transient: writes.inDoubt.length });
      const events = await probeEvents(handle);
      assert.ok(events.includes('activityTaskCancelRequestedEventAttributes'), events.join(','));
      assert.ok(events.includes('activityTaskCompletedEventAttributes'), 'the activity completed with its tally');
      assert.ok(!events.includes('activityTaskCanceledEventAttributes'), 'it was not recorded as cancelled');
    });
  });

  it('keeps counting across a worker restart: the retried attempt resumes from the last heartbeat', async () => {
    const taskQueue = uniqueTaskQueue('probe');
    const writes = new RecordingWrites();
    const first = await worker(taskQueue, writes);
    const handle = await first.runUntil(async () => {
      const started = await start(taskQueue);
      await writes.until(10);
      return started;
    });
    const beforeRestart = { acknowledged: [...writes.acknowledged], inDoubt: [...writes.inDoubt] };
    const second = await worker(taskQueue, writes);
    await second.runUntil(async () => {
      await writes.until(beforeRestart.acknowledged.length + beforeRestart.inDoubt.length + 10);
      await handle.signal(stopProbeSignal);
      const result = await handle.result();

      assert.equal(result.delivery, 'returned', JSON.stringify(result));
      const tally = result.tally!;
      assert.deepEqual(
        tally.acknowledgedSeqs.slice(0, beforeRestart.acknowledged.length),
        beforeRestart.acknowledged,
        'nothing the first attempt counted is lost',
      );
      assert.deepEqual(tally.acknowledgedSeqs, writes.acknowledged, 'and nothing after it');
      assert.deepEqual(tally.inDoubtSeqs, writes.inDoubt);
      const all = [...writes.acknowledged, ...writes.inDoubt];
      assert.equal(new Set(all).size, all.length, 'no sequence number was used twice');
    });
  });

  /** Runs the probe on a worker that is then stopped; its retry is an hour away (time stands still meanwhile). */
  async function probeLeftBetweenAttempts(readCheckpointBeforeCancel: boolean) {
    const taskQueue = uniqueTaskQueue('probe');
    const writes = new RecordingWrites();
    const first = await worker(taskQueue, writes);
    const handle = await first.runUntil(async () => {
      const started = await start(taskQueue, { retryInitialInterval: '1 hour', readCheckpointBeforeCancel });
      await writes.until(10);
      return started;
    });
    const second = await worker(taskQueue, writes);
    const result = await second.runUntil(async () => {
      await handle.signal(stopProbeSignal);
      return handle.result();
    });
    const events = await probeEvents(handle);
    assert.ok(events.includes('activityTaskCanceledEventAttributes'), 'Temporal ended the probe cancelled');
    assert.ok(!events.includes('activityTaskCompletedEventAttributes'), 'no attempt was running to answer');
    return { result, writes };
  }

  it('gets no tally from the cancellation of a probe cancelled between attempts: the heartbeat is not in it', async () => {
    const { result } = await probeLeftBetweenAttempts(false);
    assert.equal(result.delivery, 'lost', JSON.stringify(result));
    assert.ok(
      (result.cancellationDetails ?? []).every(
        (detail) => !(detail && typeof detail === 'object' && 'attempted' in detail),
      ),
      `the cancellation carried ${JSON.stringify(result.cancellationDetails)}`,
    );
  });

  it('still has the whole tally between attempts when the workflow reads the last heartbeat before cancelling', async () => {
    const { result, writes } = await probeLeftBetweenAttempts(true);
    assert.equal(result.delivery, 'checkpoint', JSON.stringify(result));
    assert.deepEqual(result.tally!.acknowledgedSeqs, writes.acknowledged, 'every write of the failed attempt');
    assert.deepEqual(result.tally!.inDoubtSeqs, writes.inDoubt);
    assert.equal(result.tally!.attempted, writes.attempts);
  });
});
