/**
 * The switch of a planned failover seen from the data plane (issue 15): after the POST the target's databases are
 * watched over TDS, and one ARM read at the target confirms. On Temporal's time-skipping test server with the real
 * activities over a scripted Azure; the watch pauses on the test server's clock.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { Outcomes } from '../../src/workflows/definitions';
import { DATA_PLANE_WATCH } from '../../src/workflows/steps/switch-from-data-plane';
import { TEST_SERVER_WATCH_INTERVAL_MS } from '../support/temporal';
import { SqlRequestError, type SqlInstanceTarget } from '../../src/sql/data-plane';
import { boundedIt, timeSkippingFrame, saveHistory, stepOf } from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(120_000);

const scenario = frame.scenario.bind(frame);

describe('a planned failover sees the switch from the data plane', { concurrency: 1 }, () => {
  it('watches the target over TDS and confirms with one ARM read, without polling the operation or the roles', async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 30_000;
      azure.readOnlyAfterSwitchMs = 5_000;
    });
    const { report, failure, handle } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(String(roles.seenFrom), /data plane/);
    assert.match(String(roles.confirmation), /westus says Primary/);
    assert.ok(Number(roles.dataPlanePolls) > 1, `the watch read more than once (${String(roles.dataPlanePolls)})`);
    const methods = s.azure.methods();
    const sent = methods.indexOf('beginFailover');
    // The post-checks' links read (SQL) goes out with their roles read: everything after the POST, less SQL reads.
    const after = methods.slice(sent + 1).filter((method) => method !== 'listReplicationLinks');
    // One read of the operation every 15 s of watching (35 simulated s: two); no polling of the roles.
    assert.equal(after.filter((method) => method === 'getFailoverProgress').length, 2, after.join(', '));
    assert.deepEqual(
      after.filter((method) => method !== 'getUpdateability' && method !== 'getFailoverProgress'),
      ['getFailoverGroup', 'getFailoverGroup'],
      `after the POST, ARM is read by the confirmation (at westus) and post-checks (at eastus, the old primary) only: ${[...new Set(after)].join(', ')}`,
    );
    const writable = stepOf(report, 'await-writable').evidence ?? {};
    assert.match(String(writable.seenBy), /await-roles/);
    assert.ok(report.legs[0]?.allWritableAt, 'the leg records when every database was writable');
    await saveHistory(handle, 'planned-failover-data-plane-switch');
  });

  it('falls back to ARM polling when the databases answer READ_WRITE but ARM at the target does not say Primary', async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 30_000;
      // A data plane that says writable before any switch: the confirmation must not take its word.
      azure.getUpdateability = () =>
        Promise.resolve(azure.databases.map((database) => ({ database, updateability: 'READ_WRITE' })));
    });
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(String(roles.dataPlaneFallback), /READ_WRITE, but ARM at westus says Secondary/);
    assert.equal(roles.seenFrom, undefined);
    assert.ok(s.azure.methods().includes('getFailoverProgress'), 'ARM polling of the operation decided the switch');
    assert.equal(s.azure.primaryLocation, 'westus');
  });

  it('falls back to ARM polling when the target refuses the login, and await-writable still proves writability', async () => {
    let refusals = 0;
    const s = scenario((azure) => {
      azure.roleSwitchMs = 30_000;
      const read = azure.getUpdateability.bind(azure);
      azure.getUpdateability = async (target: SqlInstanceTarget) => {
        if (refusals === 0) {
          refusals++;
          throw new SqlRequestError("Login failed for user 'fogpilot'", 'login-failed', 18456);
        }
        return read(target);
      };
    });
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(String(roles.dataPlaneFallback), /could not be read: .*Login failed/);
    const writable = stepOf(report, 'await-writable').evidence ?? {};
    assert.equal(writable.seenBy, undefined, 'await-writable polled for itself');
    assert.ok(Number(writable.polls) >= 1);
  });
  it('stops watching 60 s after the POST when nothing of the switch shows, and ARM polling follows the operation', async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 3 * 60_000;
    });
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(
      String(roles.dataPlaneFallback),
      /nothing of the switch showed on .* in 6\d s after the failover was sent/,
    );
    // 60 s at a read every interval (the test server's clock reads less often), not the 3 minutes until the switch.
    const polls = Number(roles.dataPlanePolls);
    const expected =
      DATA_PLANE_WATCH.quietAfterMs / Math.max(DATA_PLANE_WATCH.intervalMs, TEST_SERVER_WATCH_INTERVAL_MS);
    assert.ok(
      polls >= expected * 0.8 && polls <= expected * 1.1,
      `the watch read ${polls} times, ~${expected} expected`,
    );
    assert.ok(Number(roles.operationPolls) >= 1, 'the operation was followed from ARM');
    assert.equal(s.azure.primaryLocation, 'westus');
  });

  it("counts its quiet minute on the watcher's own clock, not on workflow time", async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 3 * 60_000;
    });
    // A watcher whose seconds pass ten times faster than workflow time (as the fault storm's emulator clock does).
    let watcherMs = 0;
    s.deps.watchClock = {
      now: () => watcherMs,
      sleep: async (ms: number) => {
        await frame.env.sleep(ms / 10);
        watcherMs += ms;
      },
    };
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(String(roles.dataPlaneFallback), /nothing of the switch showed on .* in 6\d s after/);
    // A minute of the watcher's reads, not a minute of workflow time (which would be ten times as many).
    const polls = Number(roles.dataPlanePolls);
    const expected = DATA_PLANE_WATCH.quietAfterMs / DATA_PLANE_WATCH.intervalMs;
    assert.ok(
      polls >= expected * 0.8 && polls <= expected * 1.1,
      `the watch read ${polls} times, ~${expected} expected`,
    );
    assert.equal(s.azure.primaryLocation, 'westus');
  });

  it('stops watching 10 s after Azure reports the failover Succeeded, and await-writable waits for the databases', async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 30_000;
      azure.readOnlyAfterSwitchMs = 3 * 60_000;
    });
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(String(roles.dataPlaneFallback), /reports the failover operation Succeeded, and 1\d s later/);
    const polls = Number(roles.dataPlanePolls);
    // The switch at 30 s, Succeeded 2 s later, then 10 s: about 45 s of watching, not the 3 minutes until writable.
    const bound = 45_000 / Math.max(DATA_PLANE_WATCH.intervalMs, TEST_SERVER_WATCH_INTERVAL_MS);
    assert.ok(polls <= bound, `the watch stopped soon after Succeeded (${polls} reads, at most ${bound})`);
    const methods = s.azure.methods();
    const sent = methods.indexOf('beginFailover');
    const operationReads = methods.slice(sent + 1).filter((method) => method === 'getFailoverProgress');
    assert.equal(operationReads.length, 2, 'the operation read Succeeded once is not followed again');
    const writable = stepOf(report, 'await-writable').evidence ?? {};
    assert.equal(writable.seenBy, undefined, 'await-writable polled for itself');
    assert.ok(Number(writable.polls) > 2, `await-writable polled ${String(writable.polls)} times`);
  });

  it('falls back to ARM polling when the target has not answered for 30 s, counted across slices of the watch', async () => {
    const s = scenario((azure) => {
      azure.roleSwitchMs = 3 * 60_000;
      const read = azure.getUpdateability.bind(azure);
      // Unreachable until the roles switch (3 minutes), then answering for await-writable.
      azure.getUpdateability = async (target: SqlInstanceTarget) => {
        const answer = await read(target);
        if (azure.primaryLocation !== 'westus') {
          throw new SqlRequestError('Failed to connect to the instance in 15000ms', 'transient');
        }
        return answer;
      };
    });
    const { report, failure } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const roles = stepOf(report, 'await-roles').evidence ?? {};
    assert.match(String(roles.dataPlaneFallback), /could not be read: .* has not answered for 3\d s/);
    assert.ok(Number(roles.dataPlaneSlices) > 1, 'the silence spanned slices');
  });
});
