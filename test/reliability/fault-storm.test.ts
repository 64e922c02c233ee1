/**
 * The fast part of the fault storms (the full matrix is `node dist/bench/fault-storm.js`, in `npm run chaos`): every
 * emulator fault kind during a planned failover with failback, and a few cells of scaleGroup, drDrill, forcedFailover,
 * failback and fleetFailover, each with the real activities against the emulator on the time-skipping server. The
 * emulator judges every cell (see bench/fault-matrix.ts): succeeded, or a stated safe state. A planted split brain
 * (fault `split-brain`) shows the storm's client-side checks catch what they exist for.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONTROLS,
  FAULTS,
  RUNBOOKS,
  createRig,
  runCell,
  type CellResult,
  type FaultCase,
  type Rig,
  type RunbookId,
} from '../../bench/fault-matrix';

/** Faults a runbook must absorb: it ends succeeded, not merely safe. */
const ABSORBED = new Set([
  'none',
  'throttle-429',
  'throttle-503',
  'error-5xx',
  'reset-before',
  'reset-after',
  'latency',
  'sql-reset-during-wait',
  'sql-latency',
]);

const runbook = (id: RunbookId) => RUNBOOKS.find((entry) => entry.id === id)!;
const fault = (id: string): FaultCase => {
  const found = FAULTS.find((entry) => entry.id === id);
  assert.ok(found, `no fault ${id}`);
  return found;
};

const CELLS: [FaultCase, RunbookId][] = [
  ...FAULTS.map((entry): [FaultCase, RunbookId] => [entry, 'plannedFailover']),
  [fault('reset-after'), 'scaleGroup'],
  [fault('busy-409'), 'scaleGroup'],
  [fault('operation-fails'), 'scaleGroup'],
  [fault('failover-fails'), 'drDrill'],
  [fault('sql-reset-during-wait'), 'drDrill'],
  [fault('region-dark'), 'forcedFailover'],
  [fault('failover-never-completes'), 'failback'],
  [fault('failover-fails'), 'fleetFailover'],
];

/** What some cells must show beyond being safe: the behaviours the storms exist to pin down. */
const SPECIFIC: Record<string, (result: CellResult) => void> = {
  'reset-after/plannedFailover': (result) =>
    assert.deepEqual(result.acceptedTo, { westus: 1, eastus: 1 }, 'a lost answer is not a reason to send again'),
  'failover-fails/plannedFailover': (result) => {
    assert.equal(result.failure?.type, 'FailoverFailed');
    assert.equal(result.primaryAfter, 'eastus');
  },
  'region-dark/plannedFailover': (result) => {
    assert.equal(result.failure?.type, 'AzureUnavailable');
    assert.match(result.failure.message, /No failover was sent/);
    assert.deepEqual(result.acceptedTo, {});
  },
  'region-dark-mid-failover/plannedFailover': (result) => {
    assert.equal(result.failure?.type, 'AzureUnavailable');
    assert.match(result.failure.message, /failover to westus was sent .*do not send another\./);
    assert.match(result.failure.message, /`fogpilot failover fog-sales --target-location westus` is safe/);
    assert.deepEqual(result.acceptedTo, { westus: 1 });
  },
  'region-dark/forcedFailover': (result) => {
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.primaryAfter, 'westus');
  },
  'failover-fails/fleetFailover': (result) => {
    assert.equal(result.outcome, 'partial');
    assert.match(result.stated ?? '', /2\/3 failed over; fleet-2 FailoverFailed/);
  },
};

let rig: Rig;

before(async () => {
  rig = await createRig();
});
after(async () => {
  await rig?.close();
});

describe(
  'fault storms: each fault kind during a runbook ends succeeded or in a stated safe state',
  { concurrency: 1 },
  () => {
    for (const [faultCase, runbookId] of CELLS) {
      const expectation = ABSORBED.has(faultCase.id)
        ? 'absorbs it and succeeds'
        : 'ends succeeded or in a stated safe state';
      it(`${runbookId} under "${faultCase.title}" ${expectation}`, async () => {
        // The bound only tells a hang from a slow cell: a cell that waits out a 15-minute role-switch bound takes
        // about 45 s of real time on an idle two-core machine, more when other test files run beside it.
        const result = await runCell(rig, faultCase, runbook(runbookId), { boundMs: 150_000 });
        assert.notEqual(result.verdict, 'n/a', result.notApplicable);
        assert.deepEqual(result.problems, [], `${result.cell}: ${result.failure?.message ?? ''}`);
        assert.equal(result.verdict, 'safe');
        assert.ok(result.faultHit, `the fault was installed (${result.aim}) but the run never met it`);
        for (const [location, accepted] of Object.entries(result.acceptedTo ?? {}))
          assert.ok(accepted <= 1, `${accepted} failovers accepted toward ${location}`);
        if (ABSORBED.has(faultCase.id)) assert.equal(result.outcome, 'succeeded', result.failure?.message);
        else if (result.outcome !== 'succeeded') {
          // A fleet states each group's end in its member list; a single runbook names the step it stopped at.
          if (runbookId !== 'fleetFailover') assert.ok(result.failure?.failedStep, 'a failure names its step');
          assert.ok(result.stated ?? runbookId === 'scaleGroup', 'a failure states where the group stands');
        }
        SPECIFIC[`${faultCase.id}/${runbookId}`]?.(result);
      });
    }
  },
);

describe('fault storms: a planted violation is caught', () => {
  it('forcedFailover whose old primary keeps accepting writes (fault split-brain) ends UNSAFE, caught by the writes through each instance', async () => {
    const control = CONTROLS.find((entry) => entry.id === 'split-brain')!;
    const result = await runCell(rig, control, runbook('forcedFailover'), { boundMs: 150_000 });
    assert.ok(result.faultHit, 'the forced failover left the old primary accepting writes');
    assert.equal(result.verdict, 'UNSAFE');
    assert.match(
      result.problems.join('\n'),
      /two writable primaries \(client-side\): fog-sales: two instances accepted writes at the same time/,
    );
  });
});
