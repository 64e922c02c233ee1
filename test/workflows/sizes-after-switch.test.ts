/**
 * Sizes after the switch (issue 11, item 7): when the old secondary was larger than the old primary, the new secondary
 * is smaller after a planned failover. On Temporal's time-skipping test server, with the real activities over a
 * scripted Azure. Each test here failed before the change (no warning, no scaling).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { boundedIt, timeSkippingFrame, stepOf, scriptedScenario } from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(90_000);

/** The DR instance (westus) has 16 vCores, the home primary (eastus) 8. */
function largerSecondary() {
  return scriptedScenario(frame.env, frame.started, (azure) => {
    azure.instances.westus!.vCores = 16;
  });
}

describe('plannedFailover: sizes after the switch', { concurrency: 1 }, () => {
  it('with scaleSecondary "match", scales the new secondary up to the new primary after the switch, ready for the way back', async () => {
    const s = largerSecondary();
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.deepEqual(
      s.azure.scaleRequests.map((request) => [request.instanceId.split('/').at(-1), request.target.vCores]),
      [[`${s.name}-mi-eastus`, 16]],
      'only the new secondary, and only after the switch',
    );
    const scaled = stepOf(report, 'scale-new-secondary');
    assert.equal(scaled.state, 'succeeded');
    assert.ok(
      report.steps.findIndex((entry) => entry.name === 'scale-new-secondary') >
        report.steps.findIndex((entry) => entry.name === 'await-roles'),
    );
    assert.equal(s.azure.instances.eastus!.vCores, 16);
  });

  it('with scaleSecondary "skip", warns that the new secondary is smaller and changes no size', async () => {
    const s = largerSecondary();
    const { report, failure } = await s.run('plannedFailover', { scaleSecondary: 'skip' });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.ok(
      report.warnings.some((warning) => /After the switch the secondary is smaller than the primary/.test(warning)),
      report.warnings.join('\n'),
    );
    assert.equal(stepOf(report, 'scale-new-secondary').state, 'skipped');
    assert.equal(s.azure.scaleRequests.length, 0);
  });

  it('a drill, which comes back by itself, only warns after its failover (its failback scales the secondary first)', async () => {
    const s = largerSecondary();
    const { report, failure } = await s.run('drDrill', { soak: '1 minute', smoke: { write: false } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.ok(report.warnings.some((warning) => /the secondary is smaller/.test(warning)));
    assert.equal(stepOf(report, 'scale-new-secondary').state, 'skipped');
    assert.equal(stepOf(report, 'failback/scale-secondary').state, 'succeeded');
  });
});
