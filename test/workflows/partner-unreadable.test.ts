/**
 * A planned leg whose target's partner region does not answer (issue 13: Azure's automatic failover leaves the old
 * primary dark): only the target's own answer may say the intent is met. On Temporal's time-skipping test server with
 * the real activities over a scripted Azure.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { boundedIt, stepOf, timeSkippingFrame } from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(120_000);

describe('a planned leg while the other region does not answer', { concurrency: 1 }, () => {
  it('plannedFailover ends alreadyPrimary, sending nothing, when its target reads Primary alone', async () => {
    const s = frame.scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.darkLocations.add('eastus');
    });
    const { report, failure } = await s.run('plannedFailover', { targetLocation: 'westus' });
    assert.equal(report?.outcome, 'alreadyPrimary', failure?.message);
    s.assertNothingChanged();
    assert.deepEqual(report.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    const preflight = stepOf(report, 'preflight');
    assert.match(JSON.stringify(preflight.evidence?.unreadable), /eastus/, 'the failed read is in the evidence');
    assert.equal(stepOf(report, 'failover').state, 'skipped');
    assert.ok(
      report.warnings.some(
        (warning) => /eastus could not be read/.test(warning) && /roles were changed outside this run/.test(warning),
      ),
      report.warnings.join(' | '),
    );
  });

  it('plannedFailover still ends AzureUnavailable, sending nothing, when its target reads Secondary alone', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const { report, failure } = await s.run('plannedFailover', { targetLocation: 'westus' });
    assert.equal(report, undefined);
    assert.equal(failure?.type, 'AzureUnavailable', failure?.message);
    assert.match(failure.message, /No failover was sent/);
    s.assertNothingChanged();
  });

  it('failback ends alreadyPrimary, sending nothing, when home reads Primary alone', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('westus'));
    const { report, failure } = await s.run('failback', { waitTimeout: '2 hours' });
    assert.equal(report?.outcome, 'alreadyPrimary', failure?.message);
    s.assertNothingChanged();
    assert.ok(
      report.warnings.some((warning) => /westus could not be read/.test(warning)),
      report.warnings.join(' | '),
    );
  });
});
