/**
 * Escalating from a failed planned attempt to a forced failover is a new decision (issue 11, item 2): on Temporal's
 * time-skipping test server, with the real activities over a scripted Azure whose primary region is dark, so the
 * planned attempt of `tryPlannedFirst` ends Failed after `roleSwitchMs`. Each test here failed before that change.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { abortSignal, approveSignal, rejectSignal, statusQuery } from '../../src/workflows/definitions';
import {
  boundedIt,
  timeSkippingFrame,
  outcomeOf,
  reportOf,
  saveHistory,
  scriptedScenario,
  stepOf,
  waitFor,
} from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(120_000);

const approval = { by: 'incident-bot', reason: 'INC-2: eastus outage' };
const kinds = (s: ReturnType<typeof scriptedScenario>) => s.azure.acceptedFailovers.map((entry) => entry.kind);

/** The primary region is dark: a planned attempt is accepted, then Azure ends it Failed after `roleSwitchMs`. */
function darkPrimary(roleSwitchMs = 40_000) {
  return scriptedScenario(frame.env, frame.started, (azure) => {
    azure.darkLocations.add('eastus');
    azure.roleSwitchMs = roleSwitchMs;
  });
}

describe('forcedFailover: escalating after tryPlannedFirst is a new decision', { concurrency: 1 }, () => {
  it('a reject that arrives while the planned attempt runs ends the run with no forced POST', async () => {
    const s = darkPrimary();
    const worker = await s.worker();
    const outcome = await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { approval, tryPlannedFirst: { timeout: '5 minutes' } });
      s.azure.onCall = async (method) => {
        if (method !== 'beginFailover') return;
        s.azure.onCall = undefined;
        await handle.signal(rejectSignal, { by: 'dba-on-call', reason: 'the region is coming back' });
      };
      return outcomeOf(handle);
    });
    assert.equal(outcome.failure?.type, 'ApprovalRejected', outcome.failure?.message);
    assert.match(outcome.failure.message, /^claimed:dba-on-call rejected .* no forced failover was sent/);
    assert.deepEqual(kinds(s), ['planned'], 'the planned attempt only');
    assert.equal(stepOf(reportOf(outcome.failure), 'decide-escalation').state, 'failed');
  });

  it('an abort that arrives while the planned attempt runs ends the run with no forced POST', async () => {
    const s = darkPrimary();
    const worker = await s.worker();
    const outcome = await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { approval, tryPlannedFirst: { timeout: '5 minutes' } });
      s.azure.onCall = async (method) => {
        if (method !== 'beginFailover') return;
        s.azure.onCall = undefined;
        await handle.signal(abortSignal, { by: 'incident-commander', reason: 'hold' });
      };
      return outcomeOf(handle);
    });
    assert.equal(outcome.report?.outcome, 'aborted-after-failover', outcome.failure?.message);
    assert.equal(outcome.report.abort?.by, 'incident-commander');
    assert.deepEqual(kinds(s), ['planned']);
    assert.equal(s.azure.primaryLocation, 'eastus');
  });

  it('an approval older than approvalMaxAge is asked for again with the estimate read anew, then forced once', async () => {
    // The planned attempt fails after 75 s, by which time the approval given at the start is older than a minute.
    const s = darkPrimary(75_000);
    const worker = await s.worker();
    const outcome = await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', {
        approval,
        approvalMaxAge: '1 minute',
        tryPlannedFirst: { timeout: '5 minutes' },
      });
      // Queries do not move the test server's clock: let the planned attempt's simulated minutes pass.
      await frame.env.sleep('5 minutes');
      let question = '';
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        question = status?.awaiting?.kind === 'approval' ? status.awaiting.detail : '';
        return question !== '';
      }, 'the approval asked again');
      assert.match(question, /^approve or reject again: the planned failover to westus did not complete/);
      assert.match(question, /Estimate: /);
      assert.deepEqual(kinds(s), ['planned'], 'nothing forced while it asks');
      await handle.signal(approveSignal, { by: 'dba-on-call', reason: 'still down, go' });
      const ended = await outcomeOf(handle);
      await saveHistory(handle, 'forced-failover-approval-asked-again');
      return ended;
    });
    assert.equal(outcome.report?.outcome, 'succeeded', outcome.failure?.message);
    assert.equal(outcome.report.approval?.by, 'claimed:dba-on-call', 'the fresh approval is the one on record');
    assert.equal(stepOf(outcome.report, 'decide-escalation').evidence?.approvedAgainBy, 'claimed:dba-on-call');
    assert.deepEqual(kinds(s), ['planned', 'forced']);
  });

  it('follows a planned attempt that does not end for tryPlannedFirst.timeout only, not for hours, and forces nothing', async () => {
    const s = scriptedScenario(frame.env, frame.started, (azure) => {
      azure.failoverNeverCompletes = true;
    });
    const { failure } = await s.run('forcedFailover', { approval, tryPlannedFirst: { timeout: '5 minutes' } });
    assert.equal(failure?.type, 'RoleSwitchTimeout');
    const report = reportOf(failure);
    const tookMs = Date.parse(report.endedAt) - Date.parse(report.startedAt);
    assert.ok(tookMs < 30 * 60_000, `ended after ${Math.round(tookMs / 60_000)} minutes`);
    assert.ok(failure.message.includes(`fogpilot force-failover ${s.name} --target-location westus`), failure.message);
    assert.deepEqual(kinds(s), ['planned']);
  });
});
