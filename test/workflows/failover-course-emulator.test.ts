/**
 * Runbooks against the emulator's Azure-like failover course: databases that become writable one by one after the
 * switch (a runbook must wait for the last), and a failover Azure makes by itself (Automatic policy, primary region
 * dark past the grace period) that a runbook must recognise rather than add a second one to.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { Emulator } from '../../src/emulator';
import { SqlEngine } from '../../src/emulator/tds/sql-engine';
import type { InstanceState } from '../../src/emulator/world';
import { removeWorldFaults } from '../../src/emulator/world/faults';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { approveSignal, statusQuery } from '../../src/workflows/definitions';
import { endingOf, saveHistory, waitFor } from '../support/runbook-harness';
import { emulatorFrame, emulatorWorker, fogSales, runbookWorld } from '../support/emulator-harness';

/** A simulated hour is six real seconds. */
const SPEED = 600;

let emulator: Emulator;
const frame = emulatorFrame({ world: runbookWorld(), speed: SPEED }, (started) => (emulator = started));
afterEach(() => emulator.arm.faults.remove());

async function runbook(
  type: string,
  input: Record<string, unknown>,
  during?: (handle: WorkflowHandle) => Promise<void>,
  fixture?: string,
): Promise<Awaited<ReturnType<typeof endingOf>>> {
  const { env } = frame;
  const { worker, taskQueue, close } = await emulatorWorker(env, emulator, { queuePrefix: 'failover-course' });
  try {
    return await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(type, {
        taskQueue,
        workflowId: lockWorkflowId(fogSales(emulator)),
        args: [{ group: 'fog-sales', ...input }],
      });
      await during?.(handle);
      const ending = await endingOf(handle);
      if (fixture) await saveHistory(handle, fixture);
      return ending;
    });
  } finally {
    await close();
  }
}

/** Every updateability the SQL engine answered, with the simulated time and the instance's location. */
function recordUpdateabilityReads(): { reads: { at: number; location: string; database: string; value: string }[] } {
  const log = { reads: [] as { at: number; location: string; database: string; value: string }[] };
  // Kept to be called with the engine as `this` and put back after the test.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = SqlEngine.prototype.updateability;
  SqlEngine.prototype.updateability = function (this: SqlEngine, instance: InstanceState, database: string) {
    const value = original.call(this, instance, database);
    if (value !== null && !['master', 'tempdb', 'model', 'msdb'].includes(database.toLowerCase()))
      log.reads.push({ at: emulator.world.now(), location: instance.location, database, value });
    return value;
  };
  afterEach(() => void (SqlEngine.prototype.updateability = original));
  return log;
}

describe('plannedFailover on databases that become writable one by one', { concurrency: 1, timeout: 240_000 }, () => {
  const log = recordUpdateabilityReads();

  it('waits for the last database to become writable, past readings where some already were', async () => {
    emulator.world.load(
      runbookWorld((spec) => {
        spec.seed = 11;
        spec.groups![0]!.databases = [{ name: 'sales' }, { name: 'inventory' }, { name: 'billing' }];
        spec.timings = { ...spec.timings, readOnlyAfterSwitchSeconds: 300 };
      }),
    );
    log.reads.length = 0;
    const { report, failure } = await runbook('plannedFailover', {});
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const switched = emulator.world.events.find((event) => event.kind === 'roles-switched')!;
    const moments = Object.values(switched.detail!.writableAt as Record<string, string>).map(Date.parse);
    assert.equal(new Set(moments).size, moments.length, 'each database has its own moment');
    const last = Math.max(...moments);
    const afterSwitch = log.reads.filter((read) => read.location === 'westus' && read.at >= switched.at);
    const byPoll = new Map<number, string[]>();
    for (const read of afterSwitch) byPoll.set(read.at, [...(byPoll.get(read.at) ?? []), read.value]);
    assert.ok(
      [...byPoll.values()].some((values) => values.includes('READ_WRITE') && values.includes('READ_ONLY')),
      'the runbook read the new primary while some databases were writable and others not',
    );
    const writable = report.steps.find((step) => step.name === 'await-writable')!;
    assert.deepEqual(writable.evidence?.readOnly, [], 'the step ended on a reading with every database writable');
    assert.ok(
      afterSwitch.some((read) => read.at >= last),
      'the runbook was still reading when the last database became writable',
    );
  });
});

describe('a failover Azure made by itself', { concurrency: 1, timeout: 240_000 }, () => {
  const automaticWorld = () =>
    runbookWorld((spec) => {
      spec.groups![0]!.readWriteFailoverPolicy = 'Automatic';
      spec.groups![0]!.gracePeriodMinutes = 60;
      // Reseeding 1 TB at 360 GB/h takes about 3 simulated hours (17 real seconds): the runbook reads it seeding.
      for (const instance of spec.instances) instance.storageSizeInGB = 1024;
    });
  const primaryLocation = () => {
    const group = emulator.world.findGroup('fog-sales')!;
    return emulator.world.instanceById(group.primaryInstanceId)!.location;
  };
  const received = () => emulator.world.invariants().failovers['fog-sales']?.received ?? 0;

  it('is recognised by a forced failover waiting for approval: it sends nothing and ends alreadyPrimary', async () => {
    emulator.world.load(automaticWorld());
    const { report, failure } = await runbook('forcedFailover', { approvalTimeout: '7 days' }, async (handle) => {
      await waitFor(async () => (await handle.query(statusQuery)).awaiting?.kind === 'approval', 'the approval wait');
      emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 10 });
      await waitFor(
        () => emulator.world.events.some((event) => event.kind === 'automatic-failover'),
        'Azure to fail the group over by itself',
      );
      await handle.signal(approveSignal, { by: 'oncall', reason: 'eastus is down' });
    });
    assert.equal(report?.outcome, 'alreadyPrimary', failure?.message);
    assert.equal(received(), 0, 'no failover was sent');
    assert.equal(primaryLocation(), 'westus');
    assert.ok(
      report.warnings.some((warning) => /without a failover sent by this run/.test(warning)),
      report.warnings.join(' | '),
    );
  });

  it('is recognised by a planned failover started once the dark region returned: alreadyPrimary, the roles changed outside the run', async () => {
    emulator.world.load(automaticWorld());
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 10 });
    await waitFor(
      () => emulator.world.events.some((event) => event.kind === 'automatic-failover'),
      'Azure to fail the group over by itself',
    );
    emulator.arm.faults.remove();
    removeWorldFaults(emulator.world);
    assert.ok(emulator.world.events.some((event) => event.kind === 'old-primary-demoted'));
    const { report, failure } = await runbook(
      'plannedFailover',
      { targetLocation: 'westus' },
      undefined,
      'planned-failover-already-primary-reseeding',
    );
    assert.equal(received(), 0, 'no failover was sent');
    assert.equal(report?.outcome, 'alreadyPrimary', failure?.message);
    assert.ok(
      report.warnings.some((warning) => /roles were changed outside this run/.test(warning)),
      report.warnings.join(' | '),
    );
  });

  it('is recognised by a planned failover started while the old primary is still dark: alreadyPrimary, saying the other region could not be read', async () => {
    emulator.world.load(automaticWorld());
    emulator.arm.addFault({ kind: 'region-dark', location: 'eastus', hangMs: 10 });
    await waitFor(
      () => emulator.world.events.some((event) => event.kind === 'automatic-failover'),
      'Azure to fail the group over by itself',
    );
    const { report, failure } = await runbook(
      'plannedFailover',
      { targetLocation: 'westus' },
      undefined,
      'planned-failover-already-primary-partner-dark',
    );
    assert.equal(report?.outcome, 'alreadyPrimary', failure?.message);
    assert.equal(received(), 0, 'no failover was sent');
    assert.equal(primaryLocation(), 'westus');
    const warning = report.warnings.find((entry) => /could not be read/.test(entry)) ?? '';
    assert.match(warning, /roles were changed outside this run/);
    assert.match(warning, /eastus/);
    assert.match(warning, /demotes it to secondary and reseeds it/);
  });

  it('is recognised by a failback started while the region it left is dark: alreadyPrimary, nothing sent', async () => {
    emulator.world.load(automaticWorld());
    const away = await runbook('plannedFailover', { targetLocation: 'westus' });
    assert.equal(away.report?.outcome, 'succeeded', away.failure?.message);
    const sentBefore = received();
    emulator.arm.addFault({ kind: 'region-dark', location: 'westus', hangMs: 10 });
    await waitFor(
      () => emulator.world.events.some((event) => event.kind === 'automatic-failover'),
      'Azure to fail the group over by itself',
    );
    assert.equal(primaryLocation(), 'eastus');
    const { report, failure } = await runbook(
      'failback',
      { waitTimeout: '2 hours' },
      undefined,
      'failback-already-primary-partner-dark',
    );
    assert.equal(report?.outcome, 'alreadyPrimary', failure?.message);
    assert.equal(received(), sentBefore, 'no failover was sent');
    const warning = report.warnings.find((entry) => /could not be read/.test(entry)) ?? '';
    assert.match(warning, /roles were changed outside this run/);
    assert.match(warning, /westus/);
  });
});
