/**
 * scaleGroup end to end on the time-skipping server with the real ARM activities (@azure/arm-sql over HTTP) against the
 * emulator. The emulator's event log is the judge of the order in which the instances were scaled.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { Inventory } from '../../src/config/inventory';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { lockWorkflowId } from '../../src/domain/group-ref';
import type { DataPlane } from '../../src/sql/data-plane';
import type { RunbookReport } from '../../src/workflows/definitions';
import { scaleGroup } from '../../src/workflows';
import { createTestWorker, createTimeSkippingEnvironment, uniqueTaskQueue, workflowBundle } from '../support/temporal';

let env: TestWorkflowEnvironment;
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

before(async () => {
  env = await createTimeSkippingEnvironment();
  await workflowBundle();
  emulator = await startEmulator({ world: worldSpec(), speed: SPEED });
});
after(async () => {
  await emulator?.close();
  await env?.teardown();
});

async function runScale(input: Record<string, unknown>, world: WorldSpecInput) {
  emulator.world.load(world);
  emulator.arm.faults.remove();
  const coordinates = {
    subscriptionId: emulator.world.spec.subscriptionId,
    resourceGroup: 'rg-fogpilot',
    name: 'fog-sales',
    primaryLocation: 'eastus',
    secondaryLocation: 'westus',
  };
  const controlPlane = new ArmControlPlane({
    credential: new EmulatorCredential(),
    endpoint: emulator.armEndpoint,
    requestTimeoutMs: 2_000,
  });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue('scale-emulator');
  const worker = await createTestWorker({
    env,
    taskQueue,
    deps: { controlPlane, dataPlane: noSql, inventory: new Inventory({ 'fog-sales': coordinates }) },
    called,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(scaleGroup, {
      taskQueue,
      workflowId: lockWorkflowId(coordinates),
      workflowIdConflictPolicy: 'FAIL',
      args: [{ group: 'fog-sales', ...input }],
    });
    try {
      return { report: await handle.result(), called };
    } catch (error) {
      if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
        return { failure: error.cause, report: error.cause.details?.[0] as RunbookReport, called };
      }
      await handle.terminate('test failed').catch(() => undefined);
      throw error;
    }
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
