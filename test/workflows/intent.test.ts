/**
 * A runbook states an intent — "make region X primary" — and never swings a group back: on Temporal's time-skipping
 * test server, with the real activities over a scripted Azure. Each test here failed before runbooks stated an intent
 * (issue 11, item 1 and item 10).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { instanceFailoverGroupId } from '../../src/domain/group-ref';
import { Outcomes } from '../../src/workflows/definitions';
import { Inventory, createTestWorker } from '../support/temporal';
import {
  boundedIt,
  timeSkippingFrame,
  outcomeOf,
  reportOf,
  saveHistory,
  scriptedScenario,
  stepOf,
} from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(90_000);

const approval = { by: 'incident-bot', reason: 'INC-11' };
const accepted = (s: ReturnType<typeof scenario>) =>
  s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`);

function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  return scriptedScenario(frame.env, frame.started, (azure) => {
    azure.roleSwitchMs = 30_000;
    configure?.(azure);
  });
}

describe('plannedFailover states an intent', { concurrency: 1 }, () => {
  it('run twice with no target, it moves the group to the home secondary once and then ends alreadyPrimary, sending nothing', async () => {
    const s = scenario();
    const first = await s.run('plannedFailover', { reason: 'CHG-1' });
    assert.equal(first.report?.outcome, Outcomes.succeeded, first.failure?.message);
    assert.deepEqual(first.report?.intent, {
      primary: 'westus',
      source: 'home-secondary',
      detail: "make westus primary (the group's home secondary)",
    });

    const second = await s.run('plannedFailover', { reason: 'CHG-1, retried' });
    assert.equal(second.report?.outcome, Outcomes.alreadyPrimary, second.failure?.message);
    assert.equal(second.report?.intent?.primary, 'westus');
    assert.equal(stepOf(second.report, 'failover').state, 'skipped');
    assert.match(String(stepOf(second.report, 'failover').evidence?.why), /westus is already primary/);
    assert.deepEqual(second.report?.legs, [], 'no leg: nothing was sent');
    assert.deepEqual(second.report?.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.deepEqual(accepted(s), ['planned→westus'], 'Azure accepted exactly one failover');
    await saveHistory(second.handle, 'planned-failover-already-primary');
  });

  it('with failback set and the target already primary, ends alreadyPrimary and does not fail back', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    const { report, failure } = await s.run('plannedFailover', { failback: { after: '1 minute' } });
    assert.equal(report?.outcome, Outcomes.alreadyPrimary, failure?.message);
    assert.ok(!report.steps.some((entry) => entry.name.startsWith('failback/')), 'no failback leg');
    s.assertNothingChanged();
  });

  it('a dry run of a target already primary plans nothing to send', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    const { report } = await s.run('plannedFailover', { dryRun: true });
    assert.equal(report?.outcome, Outcomes.dryRun);
    assert.match(
      report.plan?.map((item) => item.action).join('\n') ?? '',
      /none: westus is already primary.*alreadyPrimary/,
    );
    s.assertNothingChanged();
  });

  it('a failure after the failover was sent names the exact command that is safe next, with the target', async () => {
    const s = scenario((azure) => {
      azure.failoverNeverCompletes = true;
    });
    const { failure } = await s.run('plannedFailover', { roleSwitchTimeout: '5 minutes' });
    assert.equal(failure?.type, 'RoleSwitchTimeout');
    assert.match(failure.message, /do not send another/);
    assert.ok(
      failure.message.includes(`\`fogpilot failover ${s.name} --target-location westus\` is safe`),
      failure.message,
    );
    assert.doesNotMatch(failure.message, /run the runbook again/);
  });

  it('refuses a group named by an ARM id the inventory does not know, without targetLocation: its home is not known', async () => {
    const s = scenario();
    const worker = await createTestWorker({
      env: frame.env,
      taskQueue: s.taskQueue,
      deps: { ...s.deps, inventory: new Inventory({}) },
      called: s.called,
    });
    const armId = instanceFailoverGroupId(s.azure.coordinates, 'eastus');
    const outcome = await worker.runUntil(async () =>
      outcomeOf(await s.start('plannedFailover', { group: armId }, `planned-by-arm-id-${s.name}`)),
    );
    assert.equal(outcome.failure?.type, 'InvalidInput');
    assert.match(outcome.failure.message, /^targetLocation: required for .* named by its ARM id/);
    assert.match(outcome.failure.message, /eastus was primary and westus secondary/);
    s.assertNothingChanged();
  });
});

describe('failback states an intent', { concurrency: 1 }, () => {
  it('ends alreadyPrimary, sending nothing, when the home region already is primary', async () => {
    const s = scenario();
    const { report, failure } = await s.run('failback', {});
    assert.equal(report?.outcome, Outcomes.alreadyPrimary, failure?.message);
    assert.equal(report.intent?.source, 'home-primary');
    s.assertNothingChanged();
  });

  it('refuses, with InvalidInput asking for targetLocation, a group named by an ARM id the inventory does not know', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    const worker = await createTestWorker({
      env: frame.env,
      taskQueue: s.taskQueue,
      deps: { ...s.deps, inventory: new Inventory({}) },
      called: s.called,
    });
    const armId = instanceFailoverGroupId(s.azure.coordinates, 'westus');
    const [outcome, named] = await worker.runUntil(async () => {
      const refused = await outcomeOf(await s.start('failback', { group: armId }));
      assert.equal(s.azure.acceptedFailovers.length, 0, 'nothing sent before the target is named');
      // Named, the target is a fresh and explicit decision: it fails back there.
      const withTarget = await outcomeOf(
        await s.start('failback', { group: armId, targetLocation: 'eastus' }, `failback-named-${s.name}`),
      );
      return [refused, withTarget] as const;
    });
    assert.equal(outcome.failure?.type, 'InvalidInput', 'it used to succeed having done nothing');
    assert.match(outcome.failure.message, /^targetLocation: required/);
    assert.equal(reportOf(outcome.failure).outcome, 'failed');
    assert.equal(named.report?.outcome, Outcomes.succeeded, named.failure?.message);
    assert.deepEqual(accepted(s), ['planned→eastus']);
  });
});

describe('forcedFailover states an intent', { concurrency: 1 }, () => {
  it('refuses without targetLocation when the group is not at home, naming the field and the roles, and sends nothing', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.darkLocations.add('eastus');
    });
    const { report, failure } = await s.run('forcedFailover', { approval });
    assert.equal(report, undefined, 'it used to report succeeded having sent nothing');
    assert.equal(failure?.type, 'InvalidInput');
    assert.match(
      failure.message,
      /^targetLocation: required, because .* is not at home: westus \(its home secondary\) reads Primary/,
    );
    assert.ok(failure.message.includes(`fogpilot force-failover ${s.name} --target-location eastus`), failure.message);
    s.assertNothingChanged();
  });

  it('with targetLocation naming the region already primary, ends alreadyPrimary and sends nothing', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.darkLocations.add('eastus');
    });
    const { report, failure } = await s.run('forcedFailover', { approval, targetLocation: 'westus' });
    assert.equal(report?.outcome, Outcomes.alreadyPrimary, failure?.message);
    assert.equal(report.intent?.source, 'targetLocation');
    assert.equal(stepOf(report, 'force-failover').state, 'skipped');
    s.assertNothingChanged();
  });
});
