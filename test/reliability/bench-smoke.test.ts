/**
 * The benchmarks' quick mode: their machinery run once at small scale on a real dev server, a `fogpilot worker`
 * process and the emulator — the naive script and plannedFailover once each, a fleet of 5 — asserting that what they
 * measure is there and that the emulator's invariants hold. Speed targets are the benchmarks' business, not a test's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ArmRequestRecord } from '../../src/emulator/arm-server';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  assertFreshWorkflowBundle,
  readRate,
  startBenchTemporal,
  unionLength,
  type BenchTemporal,
} from '../../bench/bench-rig';
import {
  DEFAULT_OVERHEAD_OPTIONS,
  measureOverhead,
  ratioBound,
  startOverheadRig,
  summarizeOverhead,
  type OverheadOptions,
} from '../../bench/overhead';
import { DEFAULT_FLEET_OPTIONS, checkFleetRun, runFleet, summarizeFleet, type FleetOptions } from '../../bench/fleet';

const quiet = () => undefined;

describe('benchmark arithmetic', () => {
  it('refuses to measure a worker whose prebuilt workflow bundle is missing or older than the sources, naming the command that builds it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fogpilot-bundle-'));
    try {
      const bundle = path.join(dir, 'workflow-bundle.js');
      assert.throws(
        () => assertFreshWorkflowBundle(bundle),
        /missing or older than the compiled sources.*npm run build/s,
      );
      writeFileSync(bundle, '');
      utimesSync(bundle, new Date(0), new Date(0));
      assert.throws(() => assertFreshWorkflowBundle(bundle), /webpack at start/);
      // Newer than every compiled source: the worker would run it as it is.
      const later = new Date(Date.now() + 3_600_000);
      utimesSync(bundle, later, later);
      assert.doesNotThrow(() => assertFreshWorkflowBundle(bundle));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts overlapping intervals once and clips them to the window', () => {
    assert.equal(
      unionLength(
        [
          [0, 10],
          [5, 15],
          [20, 30],
        ],
        2,
        25,
      ),
      18,
    );
    assert.equal(unionLength([[10, 5]], 0, 100), 0);
  });

  it("states the ratio's bound: each side's time outside Azure, and how much earlier fogpilot saw every database writable", () => {
    const run = (side: 'script' | 'fogpilot', outsideAzureMs: number, rtoMs: number, actedMs: number) =>
      ({
        side,
        outsideAzureMs,
        directions: [
          { rtoMs, actedMs },
          { rtoMs, actedMs },
        ],
      }) as unknown as Parameters<typeof ratioBound>[0][number];
    const bound = ratioBound([run('script', 140, 4_100, 850), run('fogpilot', 900, 3_900, -150)]);
    assert.equal(bound.earlierMs, 200);
    assert.deepEqual(bound.wentOnMs, { script: 850, fogpilot: -150 });
    assert.match(bound.text, /script spends 0\.14 s outside Azure's operations per run, fogpilot 0\.90 s/);
    assert.match(bound.text, /0\.20 s earlier per direction/);
    assert.match(bound.text, /0\.90 s against 0\.14 s, MISSED by 0\.76 s$/);
  });

  it('finds the most reads in any 1000 ms, not only in fixed seconds', () => {
    const at = (ms: number, method = 'GET'): ArmRequestRecord => ({
      at: ms,
      method,
      route: 'r',
      path: 'p',
      status: 200,
    });
    // 3 reads late in one second and 3 early in the next: 6 within 1000 ms, never more than 3 in a fixed bin.
    const log = [at(700), at(800), at(900), at(1100), at(1200), at(1300), at(1350, 'POST')];
    const rate = readRate(log, 0, 2000);
    assert.equal(rate.total, 6);
    assert.equal(rate.maxInAnySecond, 6);
    assert.equal(rate.maxInFixedSecond, 3);
    assert.equal(rate.mean, 3);
  });
});

describe('benchmarks in quick mode', { concurrency: 1, timeout: 180_000 }, () => {
  let temporal: BenchTemporal;
  before(async () => {
    temporal = await startBenchTemporal();
  });
  after(async () => temporal?.stop());

  it('overhead: the script and fogpilot each fail over and back with one accepted POST per direction, measured against the emulator', async () => {
    const options: OverheadOptions = {
      ...DEFAULT_OVERHEAD_OPTIONS,
      repetitions: 1,
      warmup: 0,
      outDir: false,
      log: quiet,
    };
    const rig = await startOverheadRig(options, temporal);
    try {
      const runs = await measureOverhead(rig, options);
      assert.deepEqual(runs.map((run) => run.side).sort(), ['fogpilot', 'script']);
      for (const run of runs) {
        assert.ok(run.outcome.startsWith('succeeded'), `${run.side}: ${run.outcome}`);
        assert.equal(run.failoverPostsAccepted, 2, `${run.side}: accepted POSTs`);
        assert.equal(run.failoverPostsReceived, 2, `${run.side}: received POSTs`);
        assert.equal(run.armWrites, 2, `${run.side}: writes`);
        assert.deepEqual(run.violations, []);
        assert.deepEqual(
          run.directions.map((direction) => direction.to),
          ['westus', 'eastus'],
        );
        for (const direction of run.directions) {
          assert.ok(direction.switchedAt <= direction.completedAt, `${run.side}: switch before completion`);
          assert.ok((direction.noticeMs ?? -1) >= 0, `${run.side}: a read after Azure finished`);
          assert.ok((direction.actedMs ?? -1) >= 0, `${run.side}: went on after Azure finished`);
          assert.ok((direction.rtoMs ?? 0) > 0, `${run.side}: saw the databases writable after the request`);
        }
        assert.ok(
          run.azureMs > 0 && run.azureMs < run.wallMs,
          `${run.side}: inside Azure ${run.azureMs} of ${run.wallMs}`,
        );
        assert.ok(run.armReads > 0);
        assert.equal(
          Object.values(run.readsByRoute).reduce((sum, count) => sum + count, 0),
          run.armReads,
          'the request log and the counters agree',
        );
      }
      const fogpilot = runs.find((run) => run.side === 'fogpilot')!;
      const steps = fogpilot.steps?.map((step) => step.name) ?? [];
      assert.ok(steps.includes('await-roles') && steps.includes('failback/await-roles'), steps.join(', '));

      const results = summarizeOverhead(runs, options, 1000);
      assert.equal(results.targets.length, 3);
      for (const target of results.targets) {
        assert.ok(target.verdict === 'PASS' || target.reason, `${target.target}: a missed target says why`);
      }
      assert.equal(results.table.headings.length, 3);
    } finally {
      await rig.close();
    }
  });

  it('fleet: 5 groups all succeed on one worker process, each with one POST to westus, with history, memory and read rate measured', async () => {
    const options: FleetOptions = { ...DEFAULT_FLEET_OPTIONS, sizes: [5], outDir: false, log: quiet };
    const run = await runFleet(temporal, 5, options);
    assert.deepEqual(checkFleetRun(run), []);
    assert.equal(run.counts.succeeded, 5);
    assert.equal(run.historyEvents.children, 5);
    assert.ok(run.historyEvents.min > 0 && run.historyEvents.parent > 0);
    assert.equal(run.readRate.total, run.armReads, 'the request log and the counters agree');
    assert.ok(run.readRate.maxInAnySecond > 0);
    assert.equal(run.armWrites, 5);
    if (process.platform === 'linux') {
      assert.ok(run.workerPeakRssMiB > 0, 'the worker process was sampled');
      assert.ok(run.workerHeaps.length >= 1 && run.workerHeaps.every((heap) => heap.heapUsedMiB > 0), 'heap probe');
    }
    const results = summarizeFleet([run], options, 1000);
    assert.equal(results.targets.length, 5);
    for (const target of results.targets) {
      assert.ok(target.verdict === 'PASS' || target.reason, `${target.target}: a missed target says why`);
    }
  });
});
