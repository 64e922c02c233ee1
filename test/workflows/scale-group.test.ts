/**
 * scaleGroup on Temporal's time-skipping test server, with the real activities over a scripted Azure. Simulated scaling
 * operations of minutes to hours pass in milliseconds; tests in this file run one at a time (time skipping is global).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { abortSignal, statusQuery, type RunbookReport, type RunbookStatus } from '../../src/workflows/definitions';
import type { ScriptedAzure } from '../support/scripted-azure';
import {
  boundedIt,
  outcomeWithReportOf,
  saveHistory,
  stepOf,
  timeSkippingFrame,
  waitFor,
  type RunOutcome,
} from '../support/runbook-harness';

/** Every test gets a bound, so a hang fails one test instead of stalling the file. */
const it = boundedIt(90_000);

const frame = timeSkippingFrame();

/**
 * The harness's scripted scenario (eastus primary, westus secondary, both 8 vCores / 256 GB GP_Gen5), its `start` and
 * `run` bound to scaleGroup; `run` reports a failed run's report as `report` too.
 */
function scenario(configure?: (azure: ScriptedAzure) => void) {
  const s = frame.scenario(configure);
  return {
    ...s,
    primary: s.azure.instances.eastus!,
    secondary: s.azure.instances.westus!,
    start: (input: Record<string, unknown>) => s.start('scaleGroup', input),
    run: async (input: Record<string, unknown>): Promise<RunOutcome> => {
      const worker = await s.worker();
      return worker.runUntil(outcomeWithReportOf(await s.start('scaleGroup', input)));
    },
  };
}

function scaleSteps(report: RunbookReport): string[] {
  return report.steps.filter((entry) => /(^|\/)scale-/.test(entry.name)).map((entry) => entry.name);
}

/** Which instance each PATCH went to, in order: 'primary' or 'secondary'. */
function patchedRoles(s: ReturnType<typeof scenario>): string[] {
  return s.azure.scaleRequests.map((request) => (request.instanceId === s.primary.id ? 'primary' : 'secondary'));
}

describe('scaleGroup', { concurrency: 1 }, () => {
  it('scales up the secondary first, and starts the primary only after the secondary has finished', async () => {
    const s = scenario();
    const { report, failure, handle } = await s.run({ vCores: 16 });
    await saveHistory(handle, 'scale-group-up');
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(patchedRoles(s), ['secondary', 'primary']);
    const [secondaryOperation] = s.azure.operations;
    assert.ok(s.azure.scaleRequests[1]!.at >= secondaryOperation!.endsAt, 'the primary waits for the secondary');
    assert.equal(s.primary.vCores, 16);
    assert.equal(s.secondary.vCores, 16);

    assert.deepEqual(scaleSteps(report), ['scale-secondary', 'scale-primary']);
    assert.equal(stepOf(report, 'verify').state, 'succeeded');
    const evidence = stepOf(report, 'scale-secondary').evidence!;
    assert.deepEqual(evidence.from, { vCores: 8, storageSizeInGB: 256, skuName: 'GP_Gen5' });
    assert.deepEqual(evidence.to, { vCores: 16, storageSizeInGB: 256, skuName: 'GP_Gen5' });
    assert.equal(evidence.operation, s.azure.operations[0]!.name);
    assert.equal(evidence.state, 'Succeeded');
    assert.equal(evidence.percent, 100);
    assert.ok(Number(evidence.polls) >= 2, 'the operation was followed while it ran');

    assert.equal(report.scale?.direction, 'up');
    assert.deepEqual(report.scale?.target, { vCores: 16 });
    assert.deepEqual(
      report.scale?.operations.map((operation) => [operation.role, operation.location, operation.state]),
      [
        ['secondary', 'westus', 'Succeeded'],
        ['primary', 'eastus', 'Succeeded'],
      ],
    );
    assert.deepEqual(report.rolesBefore, { primary: 'eastus', secondary: 'westus' });
    assert.deepEqual(report.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    assert.equal(report.armCalls.writes, 2, 'one PATCH per instance');
    assert.ok(report.armCalls.reads > 4);
  });

  it('scales down the primary first, then the secondary', async () => {
    const s = scenario((azure) => {
      azure.instances.eastus!.vCores = 16;
      azure.instances.westus!.vCores = 16;
    });
    const { report, failure } = await s.run({ vCores: 8 });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(patchedRoles(s), ['primary', 'secondary']);
    assert.ok(s.azure.scaleRequests[1]!.at >= s.azure.operations[0]!.endsAt, 'the secondary waits for the primary');
    assert.deepEqual(scaleSteps(report), ['scale-primary', 'scale-secondary']);
    assert.equal(report.scale?.direction, 'down');
    assert.equal(s.primary.vCores, 8);
    assert.equal(s.secondary.vCores, 8);
  });

  it('changes nothing when both instances are already at the requested size', async () => {
    const s = scenario();
    const { report, failure } = await s.run({ vCores: 8, storageSizeInGB: 256, sku: 'GP_Gen5' });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    s.assertNothingChanged();
    assert.equal(report.scale?.direction, 'none');
    assert.deepEqual(report.scale?.operations, []);
    assert.equal(stepOf(report, 'plan').state, 'succeeded');
    assert.equal(stepOf(report, 'scale').state, 'skipped');
    assert.deepEqual(scaleSteps(report), []);
  });

  it('brings the storage of both instances to the larger size when storageSizeInGB is not given, and says so', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.storageSizeInGB = 512;
    });
    const { report, failure } = await s.run({ vCores: 16 });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.primary.storageSizeInGB, 512);
    assert.equal(s.secondary.storageSizeInGB, 512);
    assert.equal(s.primary.vCores, 16);
    assert.equal(s.secondary.vCores, 16);
    assert.deepEqual(patchedRoles(s), ['secondary', 'primary']);
    assert.deepEqual(s.azure.scaleRequests[1]!.target, { vCores: 16, storageSizeInGB: 512 });
    assert.deepEqual(report.scale?.target, { vCores: 16, storageSizeInGB: 512 });
    assert.ok(
      report.warnings.some((warning) => /storage sizes differ.*both go to the larger, 512 GB/.test(warning)),
      report.warnings.join('\n'),
    );
  });

  it('ends with equal storage on both instances when storageSizeInGB is given', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.storageSizeInGB = 512;
    });
    const { report, failure } = await s.run({ storageSizeInGB: 1024 });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.primary.storageSizeInGB, 1024);
    assert.equal(s.secondary.storageSizeInGB, 1024);
    assert.deepEqual(patchedRoles(s), ['secondary', 'primary']);
  });

  it('splits a request that grows vCores and shrinks storage into an up pass, then a down pass', async () => {
    const s = scenario((azure) => {
      azure.instances.eastus!.storageSizeInGB = 512;
      azure.instances.westus!.storageSizeInGB = 512;
    });
    const { report, failure } = await s.run({ vCores: 16, storageSizeInGB: 256 });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(report.scale?.direction, 'mixed');
    assert.deepEqual(scaleSteps(report), [
      'up/scale-secondary',
      'up/scale-primary',
      'down/scale-primary',
      'down/scale-secondary',
    ]);
    assert.deepEqual(
      s.azure.scaleRequests.map((request) => request.target),
      [
        { vCores: 16, storageSizeInGB: 512 },
        { vCores: 16, storageSizeInGB: 512 },
        { vCores: 16, storageSizeInGB: 256 },
        { vCores: 16, storageSizeInGB: 256 },
      ],
      'the up pass keeps the storage; the down pass keeps the new vCores',
    );
    assert.deepEqual(patchedRoles(s), ['secondary', 'primary', 'primary', 'secondary']);
    assert.deepEqual(
      [s.primary, s.secondary].map((instance) => [instance.vCores, instance.storageSizeInGB]),
      [
        [16, 256],
        [16, 256],
      ],
    );
  });

  it('changes the service tier with the secondary first, sending the SKU name', async () => {
    const s = scenario();
    const { report, failure } = await s.run({ sku: 'BC_Gen5' });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(report.scale?.direction, 'up');
    assert.deepEqual(patchedRoles(s), ['secondary', 'primary']);
    assert.deepEqual(s.azure.scaleRequests[0]!.target, { vCores: 8, storageSizeInGB: 256, skuName: 'BC_Gen5' });
    assert.equal(s.primary.skuName, 'BC_Gen5');
    assert.equal(s.secondary.skuName, 'BC_Gen5');
  });

  it('refuses with GroupBusy during a failover, changing nothing, and says what to do', async () => {
    const s = scenario();
    await s.azure.startForeignFailover('westus');
    const { failure, report } = await s.run({ vCores: 16 });
    assert.equal(failure?.type, 'GroupBusy');
    assert.match(failure.message, /failover .* is in progress/);
    assert.match(failure.message, /nothing was changed/);
    assert.match(failure.message, /start scaleGroup again/);
    assert.equal(report?.outcome, 'failed');
    s.assertNothingChanged();
  });

  it('refuses with GroupBusy while a management operation runs on an instance, changing nothing', async () => {
    const s = scenario();
    await s.azure.startUnrelatedOperation('westus', 3_600_000);
    const { failure } = await s.run({ vCores: 16 });
    assert.equal(failure?.type, 'GroupBusy');
    assert.match(failure.message, new RegExp(`${s.secondary.name} \\(secondary, westus\\) is busy`));
    assert.match(failure.message, /nothing was changed/);
    s.assertNothingChanged();
  });

  it('ends ScaleFailed naming the size of each instance when the second operation ends Failed', async () => {
    const s = scenario();
    s.azure.onCall = (method, args) => {
      // The primary's operation (the second, scaling up) is the one that fails.
      if (method === 'beginScaleManagedInstance' && (args as { instanceId: string }).instanceId === s.primary.id) {
        s.azure.scaleOutcome = 'Failed';
      }
    };
    const { failure, report } = await s.run({ vCores: 16 });
    assert.equal(failure?.type, 'ScaleFailed');
    assert.match(failure.message, new RegExp(`Scaling ${s.primary.name} \\(primary, eastus\\) .* ended Failed`));
    assert.match(failure.message, new RegExp(`${s.primary.name} \\(primary, eastus\\) is at 8 vCores / 256 GB`));
    assert.match(failure.message, new RegExp(`${s.secondary.name} \\(secondary, westus\\) is at 16 vCores / 256 GB`));
    assert.match(failure.message, /no automatic rollback/);
    assert.match(failure.message, /start scaleGroup again with the same input/);
    assert.equal(s.secondary.vCores, 16, 'the completed secondary is left as it is');
    assert.equal(s.azure.scaleRequests.length, 2, 'nothing is rolled back');
    assert.ok(report);
    assert.deepEqual(
      report.scale?.operations.map((operation) => [operation.role, operation.state]),
      [
        ['secondary', 'Succeeded'],
        ['primary', 'Failed'],
      ],
    );
    assert.equal(stepOf(report, 'scale-primary').state, 'failed');
  });

  it('ends ScaleFailed when an operation outlives scaleTimeout, saying it still runs in Azure', async () => {
    const s = scenario((azure) => {
      azure.scaleDurationMs = 3 * 3_600_000;
    });
    const { failure, handle } = await s.run({ vCores: 16, scaleTimeout: '1 hour' });
    // Past 40 minutes the reads stretch to 5% of the time waited: this history records that path.
    await saveHistory(handle, 'scale-group-timed-out');
    assert.equal(failure?.type, 'ScaleFailed');
    assert.match(
      failure.message,
      new RegExp(`Scaling ${s.secondary.name} .* is still running after 1h \\(scaleTimeout`),
    );
    assert.match(failure.message, /with an operation still running/);
    assert.equal(s.azure.scaleRequests.length, 1, 'the primary is not touched');
  });

  it('follows a 3-day scale to its end under a 4-day scaleTimeout, showing its progress in the step evidence while it runs, with the history bounded', async () => {
    const day = 86_400_000;
    const s = scenario((azure) => {
      azure.scaleDurationMs = 3 * day;
    });
    const worker = await s.worker();
    const handle = await s.start({ vCores: 16, scaleTimeout: '4 days' });
    const { report, failure, running } = await worker.runUntil(
      async (): Promise<RunOutcome & { running: RunbookStatus }> => {
        // A day of Azure time passes (the workflow's timers fire as it does); then the scale is a third done.
        await frame.env.sleep('1 day');
        const status = await handle.query(statusQuery);
        return { ...(await outcomeWithReportOf(handle)), running: status };
      },
    );
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const scaling = running.steps.find((entry) => entry.name === 'scale-secondary');
    assert.ok(scaling, 'the status lists the scale-secondary step');
    assert.equal(scaling.state, 'running');
    assert.equal(scaling.evidence?.state, 'InProgress');
    const percent = Number(scaling.evidence?.percentComplete);
    assert.ok(percent > 0 && percent < 100, `percentComplete a day into 3 days: ${percent}`);
    assert.equal(scaling.evidence?.operation, s.azure.operations[0]!.name);

    assert.equal(s.secondary.vCores, 16);
    assert.equal(s.primary.vCores, 16);
    for (const name of ['scale-secondary', 'scale-primary']) {
      const evidence: Record<string, unknown> = stepOf(report, name).evidence!;
      assert.equal(evidence.state, 'Succeeded');
      assert.ok(Number(evidence.polls) <= 160, `${name}: ${String(evidence.polls)} reads over 3 days`);
    }
    const events = (await handle.fetchHistory()).events?.length ?? 0;
    console.log(`scaleGroup following two 3-day operations: ${events} history events; ${percent}% a day in`);
    assert.ok(events < 4_000, `${events} history events for two 3-day operations`);
  });

  it('dry run calls nothing mutating and returns the operations in order', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.storageSizeInGB = 512;
    });
    const { report, failure } = await s.run({ vCores: 16, dryRun: true });
    assert.equal(report?.outcome, 'dry-run', failure?.message);
    s.assertNothingChanged();
    assert.deepEqual(
      report.plan?.map((item) => item.step),
      ['plan', 'scale-secondary', 'scale-primary', 'verify'],
    );
    assert.match(report.plan[0]!.action, /both go to the larger, 512 GB/);
    assert.match(report.plan[1]!.action, new RegExp(`scale ${s.secondary.name} .* to 16 vCores / 512 GB`));
    assert.equal(report.scale?.direction, 'up');
  });

  it('stops cleanly on an abort during an operation: waits for it to end, starts no other, and reports the sizes', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.start({ vCores: 16 });
    const { report } = await worker.runUntil(async () => {
      await waitFor(async () => {
        const scaling = (await handle.query(statusQuery)).steps.find((entry) => entry.name === 'scale-secondary');
        return scaling?.state === 'running' && Number(scaling.evidence?.polls ?? 0) >= 1;
      }, 'the secondary to be scaling');
      await handle.signal(abortSignal, { by: 'dba@contoso', reason: 'change freeze' });
      return outcomeWithReportOf(handle);
    });
    assert.equal(report?.outcome, 'aborted');
    assert.equal(report.abort?.by, 'dba@contoso');
    assert.deepEqual(patchedRoles(s), ['secondary'], 'the primary was not started');
    assert.equal(s.secondary.vCores, 16, 'the running operation ended');
    assert.equal(stepOf(report, 'scale-secondary').state, 'succeeded');
    assert.ok(!report.steps.some((entry) => entry.name === 'scale-primary'));
    assert.ok(
      report.warnings.some((warning) =>
        new RegExp(
          `after 1 of 2 scaling operations .*${s.secondary.name} \\(secondary, westus\\) is at 16 vCores`,
        ).test(warning),
      ),
      report.warnings.join('\n'),
    );
  });

  it('fails InvalidInput naming the field, before any activity, for each malformed input', async () => {
    const cases: { input: Record<string, unknown>; field: string; says: RegExp }[] = [
      { input: { vCores: 6 }, field: 'vCores', says: /one of 4, 8, 16/ },
      { input: { storageSizeInGB: 100 }, field: 'storageSizeInGB', says: /multiple of 32/ },
      { input: { storageSizeInGB: 40_000 }, field: 'storageSizeInGB', says: /at most 16384/ },
      { input: { sku: 'HS_Gen5' }, field: 'sku', says: /GP_Gen5/ },
      { input: {}, field: 'vCores', says: /vCores, storageSizeInGB or sku/ },
      { input: { vCores: '16' }, field: 'vCores', says: /must be a number/ },
      { input: { vCores: 16, dryRun: 'yes' }, field: 'dryRun', says: /true or false/ },
    ];
    for (const { input, field, says } of cases) {
      const s = scenario();
      const { failure } = await s.run(input);
      const label = JSON.stringify(input);
      assert.equal(failure?.type, 'InvalidInput', label);
      assert.match(failure.message, new RegExp(`\\b${field}: `), label);
      assert.match(failure.message, says, label);
      assert.deepEqual(s.called, [], `${label}: no activity may run`);
    }
  });
});
