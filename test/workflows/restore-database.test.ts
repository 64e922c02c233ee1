/**
 * restoreDatabase on Temporal's time-skipping test server, with the real activities over the scripted group and its
 * scripted recovery plane: restores and seeding of simulated hours pass in seconds. Tests run one at a time.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, rejectSignal, statusQuery } from '../../src/workflows/definitions';
import { boundedIt, outcomeOf, reportOf, saveHistory, stepOf, timeSkippingFrame } from '../support/runbook-harness';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();

const HOUR = 3_600_000;

/** The checks a good restore of `sales` passes, and the answers the scripted databases give them. */
const verify = {
  queries: [{ name: 'orders before the damage', sql: 'SELECT COUNT(*) FROM dbo.orders', expect: 120 }],
  rowCounts: [{ table: 'dbo.customers', atLeast: 10 }],
};
const goodAnswers = { 'orders before the damage': 120, 'rows of dbo.customers': 42 };

/**
 * Moves the test server's clock on (the restore before the approval takes simulated minutes, and nothing awaits the
 * result yet to skip them) until the run waits for the approval. Bounded in simulated time, never in real time.
 */
async function untilAwaitingApproval(handle: WorkflowHandle): Promise<void> {
  for (let step = 0; step < 200; step++) {
    if ((await handle.query(statusQuery)).awaiting?.kind === 'approval') return;
    await frame.env.sleep(5 * 60_000);
  }
  assert.fail('the run never waited for the approval within 1000 simulated minutes');
}

/** An hour before the test server's now, as ISO. */
async function anHourAgo(): Promise<string> {
  return new Date((await frame.env.currentTimeMs()) - HOUR).toISOString();
}

describe('restoreDatabase', { concurrency: 1 }, () => {
  it('restores to a new database, checks it, and waits until the geo-secondary holds it', async () => {
    const s = frame.scenario();
    const pointInTime = await anHourAgo();
    const restoredName = 'sales_restored';
    s.azure.restoreCheckAnswers.set(restoredName, goodAnswers);
    const { report, failure, handle } = await s.run('restoreDatabase', {
      database: 'sales',
      pointInTime,
      restoredName,
      verify,
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    await saveHistory(handle, 'restore-database');
    assert.equal(s.recovery.restoreRequests.length, 1, 'one restore sent');
    const [request] = s.recovery.restoreRequests;
    assert.equal(request!.database, restoredName);
    assert.deepEqual(request!.source, {
      mode: 'pointInTime',
      sourceDatabaseId: `${s.azure.instances.eastus!.id}/databases/sales`,
      pointInTime,
    });
    assert.equal(s.recovery.dropRequests.length, 0, 'the damaged database is not touched without swap');
    assert.deepEqual(
      report.restore?.checks.map((check) => [check.name, check.read, check.passed]),
      [
        ['orders before the damage', 120, true],
        ['rows of dbo.customers', 42, true],
      ],
    );
    assert.equal(report.restore?.secondary?.status, 'Online');
    assert.ok(report.restore?.secondary?.seededAt, 'the secondary holds the restore');
    assert.equal(stepOf(report, 'await-secondary').state, 'succeeded');
  });

  it('a restore whose check fails ends VerificationFailed and leaves the damaged database untouched', async () => {
    const s = frame.scenario();
    s.azure.restoreCheckAnswers.set('sales_restored', { ...goodAnswers, 'orders before the damage': 97 });
    const { failure } = await s.run('restoreDatabase', {
      database: 'sales',
      pointInTime: await anHourAgo(),
      restoredName: 'sales_restored',
      verify,
      swap: true,
      approval: { by: 'dba-on-call', reason: 'INC-9: orders truncated' },
    });
    assert.equal(failure?.type, 'VerificationFailed', failure?.message);
    assert.match(failure.message, /orders before the damage expected = 120, read 97/);
    assert.match(failure.message, /sales was not touched/);
    assert.equal(s.recovery.restoreRequests.length, 1, 'only the restore to check');
    assert.equal(s.recovery.dropRequests.length, 0, 'nothing dropped');
    assert.ok(!s.called.includes('sendDropDatabase'));
    assert.equal(reportOf(failure).restore?.checks.find((check) => !check.passed)?.read, 97);
  });

  it('refuses a point before the earliest restore point, and restores nothing', async () => {
    const s = frame.scenario();
    s.recovery.retentionMs = 2 * HOUR;
    const { failure } = await s.run('restoreDatabase', {
      database: 'sales',
      pointInTime: new Date((await frame.env.currentTimeMs()) - 3 * HOUR).toISOString(),
    });
    assert.equal(failure?.type, 'PreflightFailed', failure?.message);
    assert.match(failure.message, /before sales's earliest restore point/);
    s.assertNothingChanged();
  });

  it('refuses a restore name that exists, and restores nothing', async () => {
    const s = frame.scenario();
    const { failure } = await s.run('restoreDatabase', {
      database: 'sales',
      pointInTime: await anHourAgo(),
      restoredName: 'billing',
    });
    assert.equal(failure?.type, 'PreflightFailed', failure?.message);
    assert.match(failure.message, /billing already exists on the primary/);
    s.assertNothingChanged();
  });

  it('with swap and approval: drops the damaged database, restores the point under its name, keeps the damage aside', async () => {
    const s = frame.scenario();
    const pointInTime = await anHourAgo();
    s.azure.restoreCheckAnswers.set('sales_restored', goodAnswers);
    s.azure.restoreCheckAnswers.set('sales', goodAnswers);
    const worker = await s.worker();
    const { report, failure, handle } = await worker.runUntil(async () => {
      const handle = await s.start('restoreDatabase', {
        database: 'sales',
        pointInTime,
        restoredName: 'sales_restored',
        verify,
        swap: true,
        requestedBy: 'dba-a',
      });
      await untilAwaitingApproval(handle);
      const status = await handle.query(statusQuery);
      assert.match(status.awaiting?.detail ?? '', /drop sales .* restore the contents checked in sales_restored/);
      assert.equal(s.recovery.dropRequests.length, 0, 'nothing dropped before the approval');
      await handle.signal(approveSignal, { by: 'dba-b', reason: 'checked the restore' });
      return outcomeOf(handle);
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    await saveHistory(handle, 'restore-database-swap');
    assert.deepEqual(
      s.recovery.restoreRequests.map((entry) => [entry.database, entry.source.mode]),
      [
        ['sales_restored', 'pointInTime'],
        ['sales', 'droppedPointInTime'],
        [report.restore!.swap!.damagedAside!.name, 'droppedPointInTime'],
      ],
    );
    const [, inPlace, aside] = s.recovery.restoreRequests;
    assert.equal((inPlace!.source as { pointInTime: string }).pointInTime, pointInTime, 'the same point, in place');
    assert.equal(
      (aside!.source as { pointInTime: string }).pointInTime,
      report.restore!.swap!.droppedAt,
      'the damaged contents as of the drop',
    );
    assert.match(report.restore!.swap!.damagedAside!.name, /^sales_damaged_\d{12}$/);
    assert.equal(s.recovery.dropRequests.length, 1);
    assert.equal(s.recovery.dropRequests[0]!.database, 'sales');
    assert.ok(report.restore!.swap!.unavailable?.to, 'the downtime is bounded and reported');
    assert.equal(report.restore?.secondary?.database, 'sales');
    assert.match(report.approval?.by ?? '', /dba-b/, 'the second person approved (as the signal claims)');
    assert.ok(report.warnings.some((warning) => /did not exist from/.test(warning)));
  });

  it('a rejected swap leaves the damaged database and keeps the checked restore', async () => {
    const s = frame.scenario();
    s.azure.restoreCheckAnswers.set('sales_restored', goodAnswers);
    const worker = await s.worker();
    const { failure } = await worker.runUntil(async () => {
      const handle = await s.start('restoreDatabase', {
        database: 'sales',
        pointInTime: await anHourAgo(),
        restoredName: 'sales_restored',
        verify,
        swap: true,
        requestedBy: 'dba-a',
      });
      await untilAwaitingApproval(handle);
      await handle.signal(rejectSignal, { by: 'dba-b', reason: 'the app team will repair by hand' });
      return outcomeOf(handle);
    });
    assert.equal(failure?.type, 'ApprovalRejected', failure?.message);
    assert.match(failure.message, /sales was not touched; sales_restored holds the checked restore/);
    assert.equal(s.recovery.dropRequests.length, 0);
  });

  it('a restore Azure ends Failed ends RestoreFailed with the damaged database untouched', async () => {
    const s = frame.scenario();
    s.recovery.failNextRestore = true;
    const { failure } = await s.run('restoreDatabase', { database: 'sales', pointInTime: await anHourAgo() });
    assert.equal(failure?.type, 'RestoreFailed', failure?.message);
    assert.match(failure.message, /ended Failed .*sales was not touched/);
    assert.equal(s.recovery.dropRequests.length, 0);
  });

  it('a restore whose answer was lost is adopted on the retry, not sent twice', async () => {
    const s = frame.scenario();
    s.recovery.loseNextRestoreAnswer = true;
    s.azure.restoreCheckAnswers.set('sales_restored', goodAnswers);
    const { report, failure } = await s.run('restoreDatabase', {
      database: 'sales',
      pointInTime: await anHourAgo(),
      restoredName: 'sales_restored',
      verify,
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.recovery.restoreRequests.length, 1, 'one restore reached Azure');
    assert.equal(report.restore?.restored?.creation, 'adopted');
  });

  it('an LTR restore names a backup the database has; an unknown one is refused', async () => {
    const s = frame.scenario();
    const instance = s.azure.instances.eastus!;
    const backupId = `/subscriptions/${s.azure.coordinates.subscriptionId}/resourceGroups/rg-fog/providers/Microsoft.Sql/locations/eastus/longTermRetentionManagedInstances/${instance.name}/longTermRetentionDatabases/sales/longTermRetentionManagedInstanceBackups/ltr-1`;
    const backupTime = new Date((await frame.env.currentTimeMs()) - 20 * 24 * HOUR).toISOString();
    s.recovery.longTermBackups.push({ instanceId: instance.id, id: backupId, databaseName: 'sales', backupTime });
    const unknown = await s.run('restoreDatabase', { database: 'sales', longTermBackupId: `${backupId}x` });
    assert.equal(unknown.failure?.type, 'PreflightFailed', unknown.failure?.message);
    assert.match(unknown.failure.message, /No long-term-retention backup .* among the 1 of sales/);
    assert.equal(s.recovery.restoreRequests.length, 0);

    const s2 = frame.scenario();
    s2.recovery.longTermBackups.push({
      instanceId: s2.azure.instances.eastus!.id,
      id: backupId,
      databaseName: 'sales',
      backupTime,
    });
    const { report, failure } = await s2.run('restoreDatabase', { database: 'sales', longTermBackupId: backupId });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(s2.recovery.restoreRequests[0]!.source, { mode: 'longTermBackup', backupId });
    assert.equal(report.restore?.pointInTime, backupTime);
    assert.match(s2.recovery.restoreRequests[0]!.database, /^sales_restored_\d{12}$/);
  });
});
