/**
 * scaleGroup end to end on the time-skipping server with the real ARM activities (@azure/arm-sql over HTTP) against the
 * emulator. The emulator's event log is the judge of the order in which the instances were scaled.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { lockWorkflowId } from '../../src/domain/group-ref';
import type { DataPlane } from '../../src/sql/data-plane';
import { scaleGroup } from '../../src/workflows';
import { endingOf } from '../support/runbook-harness';
import { emulatorFrame, emulatorWorker, fogSales } from '../support/emulator-harness';

let emulator: Emulator;

/**
 * The emulator runs in sped-up real time while the workflow's timers skip: a 2-minute vCore scale is 0.2 s here, well
 * inside the 3-hour scaleTimeout that skipping passes in seconds.
 */
const SPEED = 600;
function worldSpec(configure?: (spec: WorldSpecInput) => void): WorldSpecInput {
  const spec: WorldSpecInput = {
    ...defaultWorldSpec(),
    timings: { vCoreScaleSeconds: 120, storageScaleSeconds: 60 },
    throttling: { enabled: false },
  };
  configure?.(spec);
  return spec;
}

/** scaleGroup reads and changes ARM only: any SQL call is a bug. */
const noSql = new Proxy(
  {},
  {
    get: (_target, method) => () => Promise.reject(new Error(`scaleGroup must not call SQL (${String(method)})`)),
  },
) as DataPlane;

const frame = emulatorFrame({ world: worldSpec(), speed: SPEED }, (started) => (emulator = started));

async function runScale(input: Record<string, unknown>, world: WorldSpecInput) {
  const { env } = frame;
  emulator.world.load(world);
  emulator.arm.faults.remove();
  const { worker, taskQueue, called } = await emulatorWorker(env, emulator, {
    queuePrefix: 'scale-emulator',
    planes: { dataPlane: noSql },
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(scaleGroup, {
      taskQueue,
      workflowId: lockWorkflowId(fogSales(emulator)),
      workflowIdConflictPolicy: 'FAIL',
      args: [{ group: 'fog-sales', ...input }],
    });
    return { ...(await endingOf(handle)), called };
  });
}

/** The emulator's scale events, in order, as `kind instance`. */
function scaleEvents(): string[] {
  return emulator.world.events
    .filter((event) => event.kind.startsWith('scale-'))
    .map((event) => `${event.kind} ${event.instance}`);
}

function instance(name: string) {
  return emulator.world.instanceByName(emulator.world.spec.subscriptionId, 'rg-fogpilot', name)!;
}

describe('scaleGroup with the real ARM activities against the emulator', { concurrency: 1, timeout: 120_000 }, () => {
  it('scales up the secondary to the end before it starts the primary, and both end at the target SKU and size', async () => {
    const { report, failure } = await runScale({ vCores: 16, sku: 'BC_Gen5' }, worldSpec());
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(scaleEvents(), [
      'scale-requested fog-sales-westus',
      'scale-completed fog-sales-westus',
      'scale-requested fog-sales-eastus',
      'scale-completed fog-sales-eastus',
    ]);
    for (const name of ['fog-sales-eastus', 'fog-sales-westus']) {
      const state = instance(name);
      assert.deepEqual(
        [state.vCores, state.skuName, state.tier, state.family],
        [16, 'BC_Gen5', 'BusinessCritical', 'Gen5'],
        name,
      );
    }
    assert.equal(report.scale?.direction, 'up');
    assert.equal(report.armCalls.writes, 2, 'one PATCH per instance');
    assert.equal(emulator.world.violations.length, 0);
  });

  it('scales down the primary to the end before it starts the secondary, and both end at the target', async () => {
    const world = worldSpec((spec) => {
      for (const entry of spec.instances) Object.assign(entry, { vCores: 16, storageSizeInGB: 512 });
    });
    const { report, failure } = await runScale({ vCores: 8, storageSizeInGB: 256 }, world);
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(scaleEvents(), [
      'scale-requested fog-sales-eastus',
      'scale-completed fog-sales-eastus',
      'scale-requested fog-sales-westus',
      'scale-completed fog-sales-westus',
    ]);
    for (const name of ['fog-sales-eastus', 'fog-sales-westus']) {
      const state = instance(name);
      assert.deepEqual([state.vCores, state.storageSizeInGB], [8, 256], name);
    }
    assert.equal(report.scale?.direction, 'down');
  });
});
