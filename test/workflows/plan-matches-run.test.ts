/**
 * A dry run's plan is what a run does (issue 12, "declare each step once"): for each runbook with a plan, a dry run and
 * a real run of the same scripted scenario, and the plan's step names found, in the plan's order, among the steps the
 * run recorded. A step a runbook runs but its plan list lacks does not show here (a plan may leave steps out); a step
 * planned but run under another name, not at all, or in another order does. On Temporal's time-skipping test server,
 * with the real activities over a scripted Azure.
 */
import { describe, it as plainIt } from 'node:test';
import assert from 'node:assert/strict';
import type { RunbookReport } from '../../src/workflows/definitions';
import { boundedIt, scriptedScenario, timeSkippingFrame } from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(180_000);

function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  return scriptedScenario(frame.env, frame.started, configure);
}

/**
 * The plan's step names missing from the run's, in order: each plan name is looked for after the run step that matched
 * the one before it. A plan item may stand for a stage that records no step of its own but the steps it runs under a
 * prefix (`failback` for `failback/…`): such a name matches the first run step under that prefix.
 */
export function unmatchedPlanSteps(plan: readonly string[], run: readonly string[]): string[] {
  const missing: string[] = [];
  let from = 0;
  for (const name of plan) {
    const at = run.findIndex((step, index) => index >= from && (step === name || step.startsWith(`${name}/`)));
    if (at < 0) {
      missing.push(name);
      continue;
    }
    from = at + 1;
  }
  return missing;
}

/** Runs `runbook` dry, then for real, on the same scenario; asserts the plan's steps are run in the plan's order. */
async function assertPlanIsRun(
  s: ReturnType<typeof scenario>,
  runbook: string,
  input: Record<string, unknown>,
): Promise<{ plan: string[]; run: string[]; report: RunbookReport }> {
  const dry = await s.run(runbook, { dryRun: true, ...input });
  assert.equal(dry.report?.outcome, 'dry-run', dry.failure?.message);
  s.assertNothingChanged();
  const plan = (dry.report.plan ?? []).map((item) => item.step);
  assert.ok(plan.length > 0, `the dry run of ${runbook} planned nothing`);
  const real = await s.run(runbook, input);
  const report = real.report ?? (real.failure?.details?.[0] as RunbookReport);
  assert.ok(report, `${runbook} ended with neither a report nor a failure carrying one: ${real.failure?.message}`);
  const run = report.steps.map((step) => step.name);
  assert.deepEqual(
    unmatchedPlanSteps(plan, run),
    [],
    `${runbook}: the plan [${plan.join(', ')}] is not run in its order by [${run.join(', ')}]`,
  );
  return { plan, run, report };
}

describe('the check of a plan against a run', () => {
  plainIt('finds nothing missing when the plan is run in order, stages standing for their prefixed steps', () => {
    assert.deepEqual(
      unmatchedPlanSteps(
        ['verify-sync', 'failover', 'failback'],
        ['preflight', 'verify-sync', 'failover', 'failback/failover'],
      ),
      [],
    );
  });

  plainIt('names a planned step the run does not have', () => {
    assert.deepEqual(unmatchedPlanSteps(['verify-sync', 'drain', 'failover'], ['verify-sync', 'failover']), ['drain']);
  });

  plainIt("names a planned step the run has only out of the plan's order", () => {
    assert.deepEqual(unmatchedPlanSteps(['failover', 'verify-sync'], ['verify-sync', 'failover']), ['verify-sync']);
  });

  plainIt('does not take a step whose name only begins like the planned one', () => {
    assert.deepEqual(unmatchedPlanSteps(['failback'], ['failback-preflight']), ['failback']);
  });
});

describe('a dry run plans the steps a run runs, in the same order', { concurrency: 1 }, () => {
  it('plannedFailover with failback', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.vCores = 4;
    });
    await assertPlanIsRun(s, 'plannedFailover', { failback: { after: '2 hours' } });
  });

  it('failback away from home', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    await assertPlanIsRun(s, 'failback', {});
  });

  it('drDrill', async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 2_000;
    });
    await assertPlanIsRun(s, 'drDrill', { soak: '3 seconds' });
  });

  it('forcedFailover trying a planned failover first, pre-approved', async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    await assertPlanIsRun(s, 'forcedFailover', {
      approval: { by: 'incident-bot', reason: 'INC-1' },
      tryPlannedFirst: { timeout: '5 minutes' },
    });
  });

  it('scaleGroup growing', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.storageSizeInGB = 512;
    });
    await assertPlanIsRun(s, 'scaleGroup', { vCores: 16 });
  });
});
