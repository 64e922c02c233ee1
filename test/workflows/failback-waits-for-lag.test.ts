/**
 * A drill never strands production in the DR region (issue 11, item 9): before a failback, a drill, a plannedFailover
 * with `failback` and the failback runbook wait until the group is synchronizing and every database's replication lag
 * is within `maxLagSeconds`; past their bound a drill or a failover ends `failbackPending` with the exact command. On
 * Temporal's time-skipping test server with the real activities over a scripted Azure. Each test here failed before:
 * the failback preflight ran at once, failed its lag gate, and left the primary in the DR region.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { Outcomes, type StepRecord } from '../../src/workflows/definitions';
import {
  boundedIt,
  timeSkippingFrame,
  reportOf,
  saveHistory,
  scriptedScenario,
  stepOf,
} from '../support/runbook-harness';
import type { ScriptedAzure } from '../support/scripted-azure';

const frame = timeSkippingFrame();
const it = boundedIt(120_000);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const accepted = (azure: ScriptedAzure) => azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`);
const durationMs = (step: StepRecord) => Date.parse(step.endedAt!) - Date.parse(step.startedAt!);

/**
 * From the moment Azure accepts the first failover, `sales` lags 120 s (above the default 30 s) — for `forMs` of
 * simulated time, or for ever. Records when the lag dropped.
 */
function lagAfterFailover(azure: ScriptedAzure, forMs = Infinity): { droppedAt?: number } {
  const seen: { raisedAt?: number; droppedAt?: number } = {};
  azure.onCall = async (method) => {
    const now = await frame.env.currentTimeMs();
    if (method === 'beginFailover' && seen.raisedAt === undefined) {
      seen.raisedAt = now;
      azure.lagSeconds.sales = 120;
    }
    if (seen.raisedAt !== undefined && seen.droppedAt === undefined && now >= seen.raisedAt + forMs) {
      seen.droppedAt = now;
      azure.lagSeconds.sales = 1;
    }
  };
  return seen;
}

function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  return scriptedScenario(frame.env, frame.started, (azure) => {
    azure.roleSwitchMs = 30_000;
    configure?.(azure);
  });
}

describe('a drill waits for replication to catch up before it fails back', { concurrency: 1 }, () => {
  it('with the lag above maxLagSeconds after the soak, it waits, then fails back once the lag drops: one failover each way, the group home', async () => {
    let lag!: { droppedAt?: number };
    const s = scenario((azure) => {
      lag = lagAfterFailover(azure, 40 * MINUTE);
    });
    const { report, failure } = await s.run('drDrill', { soak: '10 minutes', smoke: { write: false } });
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    assert.deepEqual(accepted(s.azure), ['planned→westus', 'planned→eastus'], 'one failover each way');
    assert.equal(s.azure.primaryLocation, 'eastus');
    assert.deepEqual(report.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    const wait = stepOf(report, 'failback/await-catch-up');
    assert.equal(wait.state, 'succeeded');
    assert.ok((wait.evidence?.looks as number) > 1, `looked ${String(wait.evidence?.looks)} times`);
    assert.ok(durationMs(wait) >= 25 * MINUTE, `waited ${durationMs(wait)} ms after the soak`);
    assert.ok(lag.droppedAt !== undefined);
    const failbackSent = s.azure.acceptedFailovers[1]!.at;
    assert.ok(failbackSent >= lag.droppedAt, 'the failback was sent only once the lag had dropped');
    assert.equal(stepOf(report, 'failback/preflight').state, 'succeeded');
    assert.ok((report.drill?.rtoFailbackSeconds ?? 0) > 0);
  });

  it('with the lag never dropping, it ends failbackPending after failbackWaitTimeout, the exact failback command in its report and warnings, the group still in the DR region', async () => {
    const s = scenario((azure) => {
      lagAfterFailover(azure);
    });
    const { report, failure, handle } = await s.run('drDrill', { soak: '10 minutes', smoke: { write: false } });
    assert.equal(report?.outcome, Outcomes.failbackPending, failure?.message);
    assert.deepEqual(accepted(s.azure), ['planned→westus'], 'exactly one failover sent');
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.deepEqual(report.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    const command = `fogpilot failback ${s.name}`;
    assert.deepEqual(
      { ...report.failbackPending, reason: undefined },
      { primary: 'westus', home: 'eastus', command, reason: undefined, waitedSeconds: 3600 },
    );
    assert.match(report.failbackPending!.reason, /sales lags 120s/);
    const warning = report.warnings.find((entry) => entry.includes(`\`${command}\``));
    assert.ok(warning, report.warnings.join('\n'));
    assert.match(warning, /did not fail back: replication had not caught up after 1h/);
    assert.match(warning, /The primary is still in westus/);
    const wait = stepOf(report, 'failback/await-catch-up');
    assert.equal(wait.state, 'failed');
    assert.ok(durationMs(wait) >= HOUR, 'it waited the default failbackWaitTimeout of 1 hour');
    assert.ok(!report.steps.some((entry) => entry.name === 'failback/preflight'), 'no failback was attempted');
    await saveHistory(handle, 'dr-drill-failback-pending');
  });

  it('names the target region and the lag bound in the command when they are not the failback defaults', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
      lagAfterFailover(azure);
    });
    const { report, failure } = await s.run('drDrill', {
      soak: '1 minute',
      smoke: { write: false },
      maxLagSeconds: 10,
      failbackWaitTimeout: '20 minutes',
    });
    assert.equal(report?.outcome, Outcomes.failbackPending, failure?.message);
    assert.equal(
      report.failbackPending?.command,
      `fogpilot failback ${s.name} --target-location westus --max-lag-seconds 10`,
    );
    assert.equal(report.failbackPending?.waitedSeconds, 1200);
    assert.equal(s.azure.primaryLocation, 'eastus');
  });
});

describe('a plannedFailover with failback waits for replication to catch up', { concurrency: 1 }, () => {
  it('past failbackWaitTimeout it ends failbackPending with the failback command, having sent one failover', async () => {
    const s = scenario((azure) => {
      lagAfterFailover(azure);
    });
    const { report, failure, handle } = await s.run('plannedFailover', {
      failback: { after: '30 minutes' },
      failbackWaitTimeout: '30 minutes',
    });
    assert.equal(report?.outcome, Outcomes.failbackPending, failure?.message);
    assert.equal(report.failbackPending?.command, `fogpilot failback ${s.name}`);
    assert.equal(report.failbackPending?.waitedSeconds, 1800);
    assert.ok(report.warnings.some((warning) => warning.includes(`\`fogpilot failback ${s.name}\``)));
    assert.deepEqual(accepted(s.azure), ['planned→westus']);
    assert.equal(s.azure.primaryLocation, 'westus');
    await saveHistory(handle, 'planned-failover-failback-pending');
  });

  it('fails back once the lag drops within the bound', async () => {
    const s = scenario((azure) => {
      lagAfterFailover(azure, 45 * MINUTE);
    });
    const { report, failure } = await s.run('plannedFailover', { failback: { after: '0 seconds' } });
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    assert.deepEqual(accepted(s.azure), ['planned→westus', 'planned→eastus']);
    assert.equal(stepOf(report, 'failback/await-catch-up').state, 'succeeded');
  });
});

describe('failback waits for replication to catch up', { concurrency: 1 }, () => {
  it('waits while the group is synchronizing but a database lags above maxLagSeconds, then fails back once it drops', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.lagSeconds.sales = 120;
    });
    const dropsAt = (await frame.env.currentTimeMs()) + 2 * HOUR;
    s.azure.onCall = async () => {
      if ((await frame.env.currentTimeMs()) >= dropsAt) s.azure.lagSeconds.sales = 1;
    };
    const { report, failure, handle } = await s.run('failback', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    assert.deepEqual(accepted(s.azure), ['planned→eastus']);
    assert.equal(s.azure.primaryLocation, 'eastus');
    const wait = stepOf(report, 'await-synchronizing');
    assert.ok(durationMs(wait) >= 2 * HOUR - MINUTE, `waited ${durationMs(wait)} ms`);
    assert.ok(s.azure.acceptedFailovers[0]!.at >= dropsAt);
    await saveHistory(handle, 'failback-waited-for-lag');
  });

  it('past waitTimeout it ends NotSynchronizing, saying the group synchronizes but lags, and changes nothing', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.lagSeconds.sales = 120;
    });
    const { failure } = await s.run('failback', { waitTimeout: '1 hour' });
    assert.equal(failure?.type, 'NotSynchronizing');
    assert.match(failure.message, /is synchronizing, but replication had not caught up after waiting 1h/);
    assert.match(failure.message, /sales lags 120s/);
    assert.equal(reportOf(failure).outcome, 'failed');
    s.assertNothingChanged();
  });
});
