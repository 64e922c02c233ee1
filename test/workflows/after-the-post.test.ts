/**
 * What a planned failover does once its request has gone to Azure, on Temporal's time-skipping test server with the
 * real activities over a scripted Azure: a 409 busy answer is not "sent" (issue 11, item 6), and after the point of no
 * return nothing ends the run by a classification alone (item 5). Each test here failed before those changes.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { Outcomes } from '../../src/workflows/definitions';
import {
  boundedIt,
  timeSkippingFrame,
  reportOf,
  saveHistory,
  scriptedScenario,
  stepOf,
} from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(120_000);

const MINUTE = 60_000;

function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  return scriptedScenario(frame.env, frame.started, (azure) => {
    azure.roleSwitchMs = 30_000;
    configure?.(azure);
  });
}

describe('a 409 busy answer to the failover POST is not "sent"', { concurrency: 1 }, () => {
  it("is recorded as refused; the run follows the other operation's failover and says it made the switch, with data loss unknown", async () => {
    const s = scenario((azure) => {
      // Someone else's failover starts between the send's own read of the group and its POST.
      azure.hideFailoverInProgress = true;
      azure.onCall = async (method) => {
        if (method === 'waitForCopySync' && azure.acceptedFailovers.length === 0) {
          await azure.startForeignFailover('westus');
        }
        if (method === 'beginFailover') {
          azure.onCall = undefined;
          azure.hideFailoverInProgress = false;
        }
      };
    });
    const { report, failure, handle } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const attempts = stepOf(report, 'failover').evidence?.attempts as { result?: string }[];
    assert.equal(attempts.at(-1)?.result, 'refused-busy');
    const leg = report.legs[0]!;
    assert.equal(leg.failoverSent, false, 'this run sent no failover');
    assert.equal(leg.switchedBy, 'another-operation');
    assert.equal(leg.dataLoss.kind, 'unknown', 'no copy-sync proof covers a switch this run did not send');
    assert.match(leg.dataLoss.detail, /another operation/);
    assert.ok(report.warnings.some((warning) => /refused the failover to westus \(409/.test(warning)));
    assert.equal(s.azure.failoverRequests, 1);
    assert.equal(s.azure.acceptedFailovers.length, 0, 'Azure accepted no request of this run');
    await saveHistory(handle, 'planned-failover-refused-busy');
  });

  it('ends FailoverNotSent at once, naming the exact command, when the busy operation leaves the roles where they were', async () => {
    const s = scenario((azure) => {
      azure.busyNextFailover = true;
    });
    const { failure } = await s.run('plannedFailover', { roleSwitchTimeout: '15 minutes' });
    assert.equal(failure?.type, 'FailoverNotSent', failure?.message);
    assert.match(failure.message, /Azure refused the failover to westus: another operation was running/);
    assert.match(failure.message, /This run sent no failover/);
    assert.ok(failure.message.includes(`\`fogpilot failover ${s.name} --target-location westus\``), failure.message);
    const report = reportOf(failure);
    const waited = Date.parse(report.endedAt) - Date.parse(report.startedAt);
    assert.ok(waited < 5 * MINUTE, `it did not wait out the role-switch timeout (${waited} ms)`);
    assert.equal(report.legs[0]?.failoverSent, false);
    assert.equal(s.azure.acceptedFailovers.length, 0);
    assert.equal(s.azure.primaryLocation, 'eastus');
  });
});

describe('after the point of no return, nothing ends the run by classification alone', { concurrency: 1 }, () => {
  for (const status of [404, 403] as const) {
    it(`a ${status} from the failover's operation URL falls back to polling the roles, and the run succeeds`, async () => {
      const s = scenario((azure) => {
        azure.failoverOperationStatus = status;
      });
      const { report, failure } = await s.run('plannedFailover', {});
      assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
      const awaitRoles = stepOf(report, 'await-roles');
      assert.match(String(awaitRoles.evidence?.operationUnreadable), status === 404 ? /not found/ : /authorization/);
      assert.equal(awaitRoles.evidence?.fallback, 'following the roles');
      assert.equal(report.legs[0]?.dataLoss.kind, 'none-proven');
      assert.deepEqual(
        s.azure.acceptedFailovers.map((entry) => entry.location),
        ['westus'],
      );
    });
  }

  it('ARM reads failing for 20 minutes after the POST end in a last look at the roles, not in AzureUnavailable', async () => {
    const s = scenario((azure) => {
      azure.onCall = async (method) => {
        if (method === 'beginFailover') {
          azure.onCall = undefined;
          azure.armReadsFailUntil = (await frame.env.currentTimeMs()) + 20 * MINUTE;
        }
      };
    });
    const { report, failure } = await s.run('plannedFailover', { roleSwitchTimeout: '15 minutes' });
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const awaitRoles = stepOf(report, 'await-roles');
    assert.equal(awaitRoles.evidence?.lastLook, true, 'the roles were read once more after the deadline');
    assert.equal(s.azure.acceptedFailovers.length, 1, 'one failover, and no other sent');
    assert.equal(s.azure.primaryLocation, 'westus');
  });
});
