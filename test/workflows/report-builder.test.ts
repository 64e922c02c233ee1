/**
 * The report and the failure a person reads, built as pure functions of the step log and the run's facts: no
 * workflow, no worker, no clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, documentedFailure, type ReportFacts } from '../../src/workflows/steps/report';
import { Outcomes, type FailoverLeg, type StepRecord } from '../../src/workflows/definitions';
import type { ResolvedGroup } from '../../src/domain/group-ref';

const group: ResolvedGroup = {
  subscriptionId: 'sub-1',
  resourceGroup: 'rg-1',
  name: 'fog-sales',
  primaryLocation: 'eastus',
  secondaryLocation: 'westus',
  displayName: 'sales',
  lockWorkflowId: 'fogpilot/sub-1/rg-1/fog-sales',
  resolvedFrom: 'inventory',
};

const step = (name: string, state: StepRecord['state']): StepRecord => ({
  name,
  title: name,
  state,
  startedAt: '2030-01-01T00:00:00.000Z',
  endedAt: '2030-01-01T00:00:01.000Z',
});

const leg = (fields: Partial<FailoverLeg>): FailoverLeg => ({
  name: 'failover',
  from: 'eastus',
  to: 'westus',
  failoverSent: true,
  dataLoss: { kind: 'none-proven', detail: 'copy sync returned' },
  ...fields,
});

function facts(overrides: Partial<ReportFacts> = {}): ReportFacts {
  return {
    runbook: 'plannedFailover',
    workflowId: 'wf-1',
    runId: 'run-1',
    groupLabel: 'sales',
    outcome: Outcomes.succeeded,
    startedAt: '2030-01-01T00:00:00.000Z',
    endedAt: '2030-01-01T00:10:00.000Z',
    legs: [],
    steps: [],
    armCalls: { reads: 3, writes: 1, throttled: 0 },
    warnings: [],
    extra: {},
    ...overrides,
  };
}

describe('buildReport', () => {
  it('names the resolved group with its home regions, and takes the RTO from the first leg', () => {
    const report = buildReport(
      facts({ group, legs: [leg({ rtoSeconds: 42 }), leg({ name: 'failback', rtoSeconds: 7 })] }),
    );
    assert.deepEqual(report.group, {
      displayName: 'sales',
      subscriptionId: 'sub-1',
      resourceGroup: 'rg-1',
      name: 'fog-sales',
      homePrimary: 'eastus',
      homeSecondary: 'westus',
    });
    assert.equal(report.rtoSeconds, 42);
    assert.deepEqual(report.armCalls, { reads: 3, writes: 1, throttled: 0 });
  });

  it('names a group that was never resolved by the label the run started with', () => {
    const report = buildReport(facts({ groupLabel: 'fog-unknown', outcome: Outcomes.failed }));
    assert.deepEqual(report.group, { displayName: 'fog-unknown' });
    assert.equal(report.outcome, 'failed');
  });

  it('carries the intent only when the run stated one, and the runbook-specific parts as top-level fields', () => {
    const without = buildReport(facts());
    assert.equal('intent' in without, false);
    const withIntent = buildReport(
      facts({
        intent: { primary: 'westus', source: 'home-secondary', detail: 'the home secondary' },
        extra: { readiness: { verdict: 'pass', groups: [] } },
      }),
    );
    assert.deepEqual(withIntent.intent, { primary: 'westus', source: 'home-secondary', detail: 'the home secondary' });
    assert.deepEqual(withIntent.readiness, { verdict: 'pass', groups: [] });
  });

  it("shares the run's step list, so the report is the step log rather than a copy of it", () => {
    const steps = [step('resolve-group', 'succeeded')];
    assert.equal(buildReport(facts({ steps })).steps, steps);
  });
});

describe('documentedFailure', () => {
  const context = { runbook: 'plannedFailover' as const, steps: [], legs: [], group, pastPointOfNoReturn: false };

  it('leaves a failure of a documented type as it is', () => {
    const failure = { type: 'PreflightFailed', message: 'a gate failed', details: [{ gate: 'sync' }] };
    assert.equal(documentedFailure(failure, context), failure);
  });

  it('turns an undocumented failure before any failover into AzureUnavailable that says nothing was sent', () => {
    const rewritten = documentedFailure(
      { type: 'ArmThrottled', message: '429 for 15 minutes', details: [{ armCalls: {} }] },
      { ...context, steps: [step('resolve-group', 'succeeded'), step('preflight', 'failed')] },
    );
    assert.equal(rewritten.type, 'AzureUnavailable');
    assert.match(
      rewritten.message,
      /^Step preflight: Azure did not answer within the retry budget \(last error, ArmThrottled: 429 for 15 minutes\)\./,
    );
    assert.match(rewritten.message, /No failover was sent by this run: start it again once Azure answers\./);
    assert.deepEqual(rewritten.details, [
      { lastError: { type: 'ArmThrottled', message: '429 for 15 minutes' } },
      { armCalls: {} },
    ]);
  });

  it('says a sent failover completed, and forbids a second one, when the last sent leg was writable', () => {
    const rewritten = documentedFailure(
      { type: 'Timeout', message: 'timed out (START_TO_CLOSE)', details: [] },
      { ...context, legs: [leg({ allWritableAt: '2030-01-01T00:05:00.000Z' })], pastPointOfNoReturn: true },
    );
    assert.match(
      rewritten.message,
      /The failover to westus completed \(every database writable at 2030-01-01T00:05:00.000Z\); westus is primary\./,
    );
    assert.match(rewritten.message, /A planned failover to westus was sent: do not send another\./);
  });

  it('says a failover request may have reached Azure when the run was past its point of no return with no leg sent', () => {
    const rewritten = documentedFailure(
      { type: 'ArmUnavailable', message: 'reset', details: [] },
      { ...context, runbook: 'forcedFailover', legs: [leg({ failoverSent: false })], pastPointOfNoReturn: true },
    );
    assert.match(rewritten.message, /A failover request may have reached Azure\. A forced failover to westus was sent/);
  });
});
