/**
 * plannedFailover and failback end to end on the time-skipping server with the real activities against the emulator:
 * @azure/arm-sql over HTTP for ARM, the mssql driver over TDS for SQL. The emulator's counters and event log are the
 * judge.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator';
import type { WorldSpecInput } from '../../src/emulator/world-spec';
import type { FaultSpecInput } from '../../src/emulator/faults';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { plannedFailover } from '../../src/workflows';
import { endingOf } from '../support/runbook-harness';
import { emulatorFrame, emulatorWorker, fogSales, runbookWorld } from '../support/emulator-harness';

/**
 * The emulator runs in real time (sped up) while the workflow's timers skip: emulated durations stay short next to the
 * runbook's bounds (a 2-minute scale is 0.2 s here, against a 3-hour scaleTimeout that skipping can eat in seconds).
 */
const SPEED = 600;

let emulator: Emulator;
const frame = emulatorFrame({ world: runbookWorld(), speed: SPEED }, (started) => (emulator = started));
afterEach(() => emulator.arm.faults.remove());

interface RunbookOptions {
  world?: WorldSpecInput;
  faults?: FaultSpecInput[];
  /** Runs once the world is loaded, before the runbook starts. */
  beforeStart?: () => void;
}

async function runbook(input: Record<string, unknown>, options: RunbookOptions = {}) {
  const { env } = frame;
  emulator.world.load(options.world ?? runbookWorld());
  emulator.arm.faults.remove();
  for (const fault of options.faults ?? []) emulator.arm.addFault(fault);
  options.beforeStart?.();
  const { worker, taskQueue, called, close } = await emulatorWorker(env, emulator, { queuePrefix: 'emulator-e2e' });
  try {
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(plannedFailover, {
        taskQueue,
        workflowId: lockWorkflowId(fogSales(emulator)),
        workflowIdConflictPolicy: 'FAIL',
        args: [{ group: 'fog-sales', ...input }],
      });
      return { ...(await endingOf(handle)), called, handle };
    });
  } finally {
    await close();
  }
}

const counters = () => emulator.world.invariants().failovers['fog-sales'];
const eventKinds = () => emulator.world.events.map((event) => event.kind);

describe(
  'plannedFailover with the real ARM activities against the emulator',
  { concurrency: 1, timeout: 240_000 },
  () => {
    it('fails over and back: one accepted POST per direction, roles home again, every step recorded', async () => {
      const { report, failure } = await runbook({ failback: { after: '1 hour' } });
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      assert.deepEqual(counters(), { received: 2, accepted: 2, refused: 0, acceptedTo: { westus: 1, eastus: 1 } });
      assert.equal(
        emulator.world.instanceById(emulator.world.findGroup('fog-sales')!.primaryInstanceId)!.location,
        'eastus',
      );
      assert.deepEqual(
        eventKinds().filter((kind) => kind.startsWith('failover') || kind === 'roles-switched'),
        [
          'failover-requested',
          'roles-switched',
          'failover-completed',
          'failover-requested',
          'roles-switched',
          'failover-completed',
        ],
      );
      assert.deepEqual(
        report.legs.map((leg) => [leg.from, leg.to]),
        [
          ['eastus', 'westus'],
          ['westus', 'eastus'],
        ],
      );
      assert.equal(report.armCalls.writes, 2);
      assert.ok(report.armCalls.reads >= 10, `reads ${report.armCalls.reads}`);
      assert.equal(emulator.world.violations.length, 0);
    });

    it('scales the smaller secondary in the emulator before it sends the failover', async () => {
      const { report, failure } = await runbook(
        {},
        { world: runbookWorld((spec) => void (spec.instances[1]!.vCores = 4)) },
      );
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      const kinds = eventKinds();
      assert.ok(
        kinds.indexOf('scale-completed') >= 0 && kinds.indexOf('scale-completed') < kinds.indexOf('failover-requested'),
        kinds.join(' → '),
      );
      assert.equal(
        emulator.world.instanceByName(emulator.world.spec.subscriptionId, 'rg-fogpilot', 'fog-sales-westus')!.vCores,
        8,
      );
    });

    it('comes through a storm of 429s with Retry-After and still sends one failover', async () => {
      const { report, failure } = await runbook(
        {},
        { faults: [{ kind: 'throttle', match: { method: 'GET' }, count: 25, retryAfterSeconds: 1 }] },
      );
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      assert.ok(emulator.arm.stats.throttled >= 25, `throttled ${emulator.arm.stats.throttled}`);
      assert.deepEqual(counters()?.acceptedTo, { westus: 1 });
      assert.equal(counters()?.received, 1);
    });

    it('ends FailoverFailed when Azure fails the failover, with the roles as they were', async () => {
      const { failure } = await runbook(
        {},
        { faults: [{ kind: 'failover-fails', group: 'fog-sales', code: 'PlannedFailoverTimedOut' }] },
      );
      assert.equal(failure?.type, 'FailoverFailed');
      assert.match(failure.message, /PlannedFailoverTimedOut/);
      assert.equal(
        emulator.world.instanceById(emulator.world.findGroup('fog-sales')!.primaryInstanceId)!.location,
        'eastus',
      );
      assert.equal(counters()?.received, 1);
    });

    it('sends one POST when the answer to it is lost: the runbook finds the failover under way', async () => {
      const { report, failure } = await runbook(
        {},
        { faults: [{ kind: 'reset', when: 'after', match: { method: 'POST', path: '/failover' }, count: 1 }] },
      );
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      assert.equal(counters()?.received, 1, 'the emulator received one failover POST');
      const attempts = report.steps.find((step) => step.name === 'failover')?.evidence?.attempts as {
        result?: string;
      }[];
      assert.equal(attempts.at(-1)?.result, 'an earlier request took effect');
    });

    it("really waits: for every database's copy to be hardened before the failover, and for writability after it", async () => {
      const world = runbookWorld((spec) => {
        // An hour of lag is six real seconds at this speed: the commits below are still in flight when the copy-sync
        // wait starts, however long the worker takes to start on a busy machine (15 minutes, 1.5 s, were not).
        spec.groups![0]!.databases = [
          { name: 'sales', lagMs: 3_600_000 },
          { name: 'inventory', lagMs: 3_600_000 },
        ];
        spec.timings = { ...spec.timings, readOnlyAfterSwitchSeconds: 120 };
      });
      const { report, failure } = await runbook(
        { maxLagSeconds: 7_200, syncTimeout: '2 hours' },
        {
          world,
          beforeStart: () => {
            const group = emulator.world.findGroup('fog-sales')!;
            for (const database of group.databases)
              for (let i = 0; i < 3; i++) emulator.world.commit(group, database, `before-${i}`);
          },
        },
      );
      assert.equal(report?.outcome, 'succeeded', failure?.message);
      const events = emulator.world.events;
      const failoverAt = events.find((event) => event.kind === 'failover-requested')!.seq;
      const waits = events.filter((event) => event.kind === 'copy-sync-waited');
      assert.deepEqual(waits.map((event) => event.detail?.database).sort(), ['inventory', 'sales']);
      for (const wait of waits) {
        assert.ok(wait.seq < failoverAt, 'the copy was hardened before the failover was sent');
        assert.ok(
          (wait.detail?.waitedMs as number) >= 60_000,
          `${String(wait.detail?.database)} waited ${String(wait.detail?.waitedMs)} simulated ms for its lag`,
        );
      }
      const writable = report.steps.find((step) => step.name === 'await-writable')!;
      assert.ok(
        (writable.evidence?.polls as number) >= 2,
        `await-writable polled ${String(writable.evidence?.polls)} times while the new primary was read-only`,
      );
      assert.equal(report.legs[0]!.dataLoss.kind, 'none-proven');
      const switched = events.find((event) => event.kind === 'roles-switched')!;
      assert.ok(Date.parse(report.legs[0]!.allWritableAt!) > 0 && switched.at > 0);
    });

    it('stops at preflight, changing nothing, when the group is seeding in the emulator', async () => {
      const { failure } = await runbook(
        {},
        { world: runbookWorld((spec) => void (spec.groups![0]!.seedingSeconds = 86_400)) },
      );
      assert.equal(failure?.type, 'PreflightFailed');
      assert.equal(counters(), undefined, 'no failover request reached the emulator');
      assert.ok(!eventKinds().includes('scale-requested'));
    });
  },
);
