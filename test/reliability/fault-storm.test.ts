/**
 * The fast part of the fault storms (the full matrix is `node dist/bench/fault-storm.js`, in `npm run chaos`): every
 * emulator fault kind during a planned failover with failback, and a few cells of scaleGroup, drDrill, forcedFailover,
 * failback and fleetFailover, each with the real activities against the emulator on the time-skipping server. The
 * emulator judges every cell (see bench/fault-matrix.ts): succeeded, or a stated safe state. A planted split brain
 * (fault `split-brain`) shows the storm's client-side checks catch what they exist for; the other planted violations
 * (a rogue failover POST straight to ARM, a falsified report, the emulator's own records written through a seam) show
 * each of the judge's other checks can fail.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emulatorFetch } from '../../src/emulator/emulator-fetch';
import type { RunbookReport } from '../../src/workflows/definitions';
import {
  CONTROLS,
  FAULTS,
  RUNBOOKS,
  createRig,
  runCell,
  type CellResult,
  type FaultCase,
  type Plant,
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
    assert.match(result.failure.message, /failover to westus was sent\b.*do not send another\./);
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

  // The controls below run a cell the storm judges safe (the baseline plannedFailover with failback, which ends with
  // one accepted POST per direction and eastus primary), plant one violation, and expect the same judgement to name it.
  const baseline = (plant: Plant) =>
    runCell(rig, fault('none'), runbook('plannedFailover'), { boundMs: 150_000, plant });

  it('a failover POST sent straight to ARM by a rogue script during the cell makes it UNSAFE: two accepted toward westus', async () => {
    const result = await baseline({ afterRun: (cellRig) => rogueFailover(cellRig, 'westus') });
    assert.deepEqual(result.acceptedTo, { westus: 2, eastus: 1 });
    assert.equal(result.verdict, 'UNSAFE');
    assert.match(result.problems.join('\n'), /2 failover POSTs accepted toward westus \(at most 1 per direction\)/);
  });

  it('a report that does not record a failover the emulator accepted makes the cell UNSAFE', async () => {
    const result = await baseline({
      report: (report) => ({
        ...report,
        legs: report.legs.map((leg) => (leg.to === 'westus' ? { ...leg, failoverSent: false } : leg)),
      }),
    });
    assert.equal(result.verdict, 'UNSAFE');
    assert.deepEqual(result.problems, [
      'the emulator accepted a failover toward westus that the report does not record as sent',
    ]);
  });

  it('a report whose final roles are falsified makes the cell UNSAFE: the report says westus, the emulator has eastus', async () => {
    const result = await baseline({ report: (report) => withPrimary(report, 'westus') });
    assert.equal(result.verdict, 'UNSAFE');
    assert.deepEqual(result.problems, ['the report says westus is primary; the emulator has eastus']);
  });

  it('a violation of Azure’s rules the emulator recorded during the cell makes it UNSAFE, quoted as the emulator said it', async () => {
    // The seam: the world's rule check (one primary per group after each switch) cannot be made to trip from outside,
    // so its record is written as the check would write it.
    const result = await baseline({
      afterRun: (cellRig) => {
        cellRig.emulator.world.violations.push('fog-sales: 2 primaries at 2026-01-01T00:00:00.000Z');
        return Promise.resolve();
      },
    });
    assert.equal(result.verdict, 'UNSAFE');
    assert.deepEqual(result.problems, ['emulator violation: fog-sales: 2 primaries at 2026-01-01T00:00:00.000Z']);
  });

  it('commits the emulator discarded during a runbook that sends no forced failover make the cell UNSAFE', async () => {
    // The seam: a planned failover never discards, so the emulator's record of a discard is written directly.
    const result = await baseline({
      afterRun: (cellRig) => {
        cellRig.emulator.world.lostCommits.push({
          group: 'fog-sales',
          database: 'planted',
          lsns: [1],
          payloads: ['planted-lost-commit'],
          at: 0,
        });
        return Promise.resolve();
      },
    });
    assert.equal(result.verdict, 'UNSAFE');
    assert.equal(result.problems.length, 1, result.problems.join('\n'));
    assert.match(result.problems[0]!, /^commits lost without a forced failover: .*planted-lost-commit/);
  });

  it('a failure whose report names no failed step makes the cell UNSAFE', async () => {
    const result = await runCell(rig, fault('failover-fails'), runbook('plannedFailover'), {
      boundMs: 150_000,
      plant: {
        report: (report) => ({
          ...report,
          steps: report.steps.map((step) => (step.state === 'failed' ? { ...step, state: 'succeeded' } : step)),
        }),
      },
    });
    assert.equal(result.failure?.type, 'FailoverFailed');
    assert.equal(result.verdict, 'UNSAFE');
    assert.match(result.problems.join('\n'), /the failure names no failed step/);
  });

  it('a fleet report that calls a group failed over while the emulator has it where it was makes the cell UNSAFE', async () => {
    const result = await runCell(rig, fault('failover-fails'), runbook('fleetFailover'), {
      boundMs: 150_000,
      plant: {
        report: (report) => ({
          ...report,
          fleet: {
            ...report.fleet!,
            members: report.fleet!.members.map((member) =>
              member.group === 'fleet-2' ? { ...member, outcome: 'succeeded', error: undefined } : member,
            ),
          },
        }),
      },
    });
    assert.equal(result.verdict, 'UNSAFE');
    assert.deepEqual(result.problems, ['fleet-2 reported succeeded; the emulator has eastus primary']);
  });
});

/** The report with its final roles rewritten to name `primary`. */
function withPrimary(report: RunbookReport, primary: string): RunbookReport {
  assert.ok(report.rolesAfter, 'the baseline report states its final roles');
  const secondary = primary === 'westus' ? 'eastus' : 'westus';
  return { ...report, rolesAfter: { ...report.rolesAfter, primary, secondary } };
}

/**
 * A failover of fog-sales toward `location`, POSTed straight to the emulator's ARM with the emulator's token, as an
 * operator or script outside fogpilot would; Azure must accept it (202) for the control to plant anything.
 */
async function rogueFailover(cellRig: Rig, location: string): Promise<void> {
  const { emulator } = cellRig;
  const url =
    `${emulator.armEndpoint}/subscriptions/${emulator.world.spec.subscriptionId}/resourceGroups/rg-fogpilot/providers/` +
    `Microsoft.Sql/locations/${location}/instanceFailoverGroups/fog-sales/failover?api-version=2022-05-01-preview`;
  const response = await emulatorFetch(emulator, url, {
    method: 'POST',
    headers: { authorization: 'Bearer fogpilot-emulator-token' },
  });
  assert.equal(response.status, 202, `the rogue failover was refused: ${await response.text()}`);
}
