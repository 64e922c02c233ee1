/**
 * drDrill on Temporal's time-skipping test server, with the real activities over a scripted Azure (the write probe
 * and smoke writes go through the scripted listener; the HTTP check hits a local server).
 *
 * The test server does not skip time while an activity runs, and the write probe runs for the whole drill: tests with
 * the probe use a fast role switch and a short soak and take real seconds; the others turn the probe off.
 */
import { after, afterEach, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DATA_WRITING_ACTIVITIES } from '../../src/activities';
import { abortSignal, statusQuery } from '../../src/workflows/definitions';
import {
  boundedIt,
  outcomeOf,
  reportOf,
  saveHistory,
  stepOf,
  timeSkippingFrame,
  waitFor,
  waitForTaskAfter,
} from '../support/runbook-harness';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();
let health: http.Server;
let healthUrl: string;
let healthStatus = 200;

before(async () => {
  health = http.createServer((_request, response) => {
    response.statusCode = healthStatus;
    response.end(healthStatus === 200 ? 'ok' : 'unhealthy');
  });
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
});
after(async () => {
  await new Promise((resolve) => health?.close(resolve));
});
afterEach(() => {
  healthStatus = 200;
});

describe('drDrill', { concurrency: 1 }, () => {
  it('fails over, soaks with smoke checks, fails back, and reports RTO each way, the probe and zero loss', async () => {
    const s = frame.scenario((azure) => {
      azure.roleSwitchMs = 2_000;
    });
    const { report } = await s.run('drDrill', { soak: '3 seconds', smoke: { httpCheck: { url: healthUrl } } });
    assert.ok(report, 'the drill succeeds');
    assert.equal(report.outcome, 'succeeded');
    const names = report.steps.map((entry) => entry.name);
    for (const expected of ['locate-listener', 'preflight', 'failover', 'soak', 'failback/failover', 'verify-writes']) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
    assert.ok(names.indexOf('failover') < names.indexOf('soak'));
    assert.ok(names.indexOf('soak') < names.indexOf('failback/failover'));
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→westus', 'planned→eastus'],
    );
    const drill = report.drill!;
    assert.ok((drill.rtoFailoverSeconds ?? 0) > 0 && (drill.rtoFailbackSeconds ?? 0) > 0);
    assert.equal(drill.soakSeconds, 3);
    const soak = stepOf(report, 'soak');
    assert.ok(Date.parse(soak.endedAt!) - Date.parse(soak.startedAt!) >= 3_000);
    assert.deepEqual(
      drill.smokeChecks.map((check) => `${check.name}:${check.status}`),
      [
        'write/soak-start:pass',
        'http/soak-start:pass',
        'write/soak-end:pass',
        'http/soak-end:pass',
        'write/after-failback:pass',
        'http/after-failback:pass',
      ],
    );
    assert.ok(drill.probe, 'the write probe ran');
    assert.ok(drill.probe.acknowledged >= 1);
    assert.equal(drill.probe.lostAcknowledged, 0);
    assert.equal(drill.dataLoss, 'none');
    assert.ok(drill.stepTimings.some((timing) => timing.name === 'soak' && timing.seconds >= 3));
    assert.ok(report.armCalls.reads > 0 && report.armCalls.writes === 2);
    assert.deepEqual(report.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    const smokeWrites = s.azure.smokeRows.filter((row) => row.payload.includes(':smoke:soak-start'));
    assert.equal(smokeWrites[0]?.location, 'westus', 'the soak write went through the listener to the new primary');
  });

  it('started by a schedule under another id, it runs under the group lock — and refuses while another runbook holds it', async () => {
    let release!: () => void;
    const s = frame.scenario((azure) => {
      azure.syncGate = new Promise<void>((resolve) => (release = resolve));
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      // Another runbook holds the lock: a planned failover waiting in verify-sync.
      const holder = await s.start('plannedFailover', {});
      await waitFor(async () => {
        const status = await holder.query(statusQuery).catch(() => undefined);
        return status?.phase === 'verify-sync';
      }, 'the other runbook to hold the group');
      const drill = await s.start('drDrill', { soak: '1 minute' }, `scheduled-drill-${s.name}`);
      const { failure } = await outcomeOf(drill);
      assert.equal(failure?.type, 'GroupBusy');
      assert.match(failure.message, /Another runbook holds/);
      release();
      assert.equal((await outcomeOf(holder)).report?.outcome, 'succeeded');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1, 'only the holder failed over');
    assert.ok(!s.called.includes('probeListenerWrites'), 'a refused drill writes nothing');
  });

  it('a failing HTTP health check still fails back, then ends DrillCheckFailed with the drill report', async () => {
    const s = frame.scenario();
    healthStatus = 503;
    const { failure } = await s.run('drDrill', {
      soak: '5 minutes',
      smoke: { write: false, httpCheck: { url: healthUrl } },
    });
    assert.equal(failure?.type, 'DrillCheckFailed');
    assert.match(failure.message, /back in eastus/);
    const report = reportOf(failure);
    assert.ok(report.drill?.smokeChecks.some((check) => check.name === 'http/soak-start' && check.status === 'fail'));
    assert.deepEqual(report.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    assert.equal(s.azure.acceptedFailovers.length, 2);
  });

  it('without smoke writes it writes nothing and rests zero loss on the copy-sync proof', async () => {
    const s = frame.scenario();
    const { report, handle } = await s.run('drDrill', { soak: '1 minute', smoke: { write: false } });
    await saveHistory(handle, 'dr-drill-without-probe');
    assert.equal(report?.outcome, 'succeeded');
    for (const writing of DATA_WRITING_ACTIVITIES) assert.ok(!s.called.includes(writing), `${writing} not called`);
    assert.equal(report?.drill?.probe, undefined);
    assert.equal(report?.drill?.dataLoss, 'none');
  });

  it('an abort during the soak stops it in the secondary region and says so', async () => {
    const s = frame.scenario((azure) => {
      azure.roleSwitchMs = 1_000;
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('drDrill', { soak: '2 hours' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.phase === 'soak';
      }, 'the soak');
      await handle.signal(abortSignal, { by: 'sre', reason: 'real incident elsewhere' });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'aborted-after-failover');
      assert.deepEqual(report?.rolesAfter, { primary: 'westus', secondary: 'eastus' });
      assert.ok(report?.drill?.probe, 'the probe was stopped and accounted for');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('an abort during a smoke check lets the check end, then stops: a smoke write is never left in doubt', async () => {
    let releaseSmokeWrite!: () => void;
    const smokeWriteHeld = new Promise<void>((resolve) => (releaseSmokeWrite = resolve));
    let smokeWriteStarted = false;
    const s = frame.scenario((azure) => {
      azure.roleSwitchMs = 1_000;
      azure.onCall = async (method, args) => {
        if (method !== 'insertSmokeRow' || !JSON.stringify(args).includes('smoke:soak-start')) return;
        smokeWriteStarted = true;
        await smokeWriteHeld;
      };
    });
    const worker = await s.worker();
    const { report, handle } = await worker.runUntil(async () => {
      const handle = await s.start('drDrill', { soak: '2 hours' });
      // Released whatever is asserted: the worker stops only once its activities end.
      try {
        await waitFor(() => smokeWriteStarted, 'the soak-start smoke write', 60_000);
        await handle.signal(abortSignal, { by: 'sre', reason: 'real incident elsewhere' });
        await waitForTaskAfter(handle, (event) => !!event.workflowExecutionSignaledEventAttributes, 'the abort');
      } finally {
        releaseSmokeWrite();
      }
      return { ...(await outcomeOf(handle)), handle };
    });
    assert.equal(report?.outcome, 'aborted-after-failover');
    await saveHistory(handle, 'dr-drill-abort-during-smoke-check');
    const check = report?.drill?.smokeChecks.find((entry) => entry.name === 'write/soak-start');
    assert.equal(check?.status, 'pass', 'the smoke write ran to its end and was recorded');
    assert.deepEqual(report?.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('a dry run returns the whole plan and changes and writes nothing', async () => {
    const s = frame.scenario();
    const { report } = await s.run('drDrill', { dryRun: true });
    assert.equal(report?.outcome, 'dry-run');
    const steps = report?.plan?.map((item) => item.step) ?? [];
    assert.ok(steps.includes('soak') && steps.includes('failback') && steps.includes('failover'), steps.join(', '));
    s.assertNothingChanged();
    for (const writing of DATA_WRITING_ACTIVITIES) assert.ok(!s.called.includes(writing));
  });

  for (const [field, input] of [
    ['failback', { failback: false }],
    ['soak', { soak: -5 }],
    ['smoke.httpCheck.url', { smoke: { httpCheck: { url: 'ftp://example.com' } } }],
    ['smoke.database', { smoke: { database: 'x; DROP TABLE y' } }],
    ['smoke.httpCheck.url', { smoke: { httpCheck: { url: 'https://user:secret@app.example.com/health' } } }],
    ['smoke.httpCheck.url', { smoke: { httpCheck: { url: 'https://app.example.com/health?code=abc' } } }],
  ] as const) {
    it(`refuses ${JSON.stringify(input)} with InvalidInput naming ${field}`, async () => {
      const s = frame.scenario();
      const { failure } = await s.run('drDrill', input);
      assert.equal(failure?.type, 'InvalidInput');
      assert.match(failure.message, new RegExp(field.replace(/\./g, '\\.')));
      assert.equal(s.azure.calls.length, 0);
    });
  }
});
