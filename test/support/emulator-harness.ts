/**
 * Runbooks on the time-skipping test server with fogpilot's real adapters against the emulator: the shared frame of
 * the *-emulator workflow tests. The emulator runs in sped-up real time while the workflows' timers skip.
 */
import { ArmRecoveryPlane } from '../../src/azure/arm-recovery-plane';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { ActivityDependencies } from '../../src/activities';
import { Inventory } from '../../src/config/inventory';
import type { GroupCoordinates } from '../../src/domain/group-ref';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';
import { emulatorAdapters } from '../../src/emulator/adapters';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { timeSkippingFrame, type TimeSkippingFrame } from './runbook-harness';
import { createTestWorker, uniqueTaskQueue } from './temporal';

/** What {@link emulatorFrame} gives a test file. */
export interface EmulatorFrame extends TimeSkippingFrame {
  /** The file's emulator; read it inside a test or hook (it starts in the `before` hook). */
  readonly emulator: Emulator;
}

/**
 * {@link timeSkippingFrame} plus one emulator for the file, started in a `before` hook and closed after the tests. Call
 * it at the top of the file. The emulator runs with TLS (HTTPS for ARM, encrypted TDS) unless `options.tls` is false,
 * so the runbooks go through the SDK's bearer policy and `encrypt: true`, as against Azure. `onStart` receives the emulator once it runs: Node 20 runs a file's top-level `before`
 * hooks as they are registered, so a hook of the file's own cannot read `frame.emulator` yet.
 */
export function emulatorFrame(options: EmulatorOptions, onStart?: (emulator: Emulator) => void): EmulatorFrame {
  const frame = timeSkippingFrame();
  let emulator: Emulator | undefined;
  before(async () => {
    emulator = await startEmulator({ tls: true, ...options });
    onStart?.(emulator);
  });
  after(async () => {
    await emulator?.close();
  });
  return {
    get env(): TestWorkflowEnvironment {
      return frame.env;
    },
    started: frame.started,
    scenario: (configure) => frame.scenario(configure),
    get emulator(): Emulator {
      assert.ok(emulator, 'the emulator starts in the before hook');
      return emulator;
    },
  };
}

/** fog-sales, the group of the emulator's default world: eastus primary, westus secondary. */
export function fogSales(emulator: Emulator): GroupCoordinates {
  return {
    subscriptionId: emulator.world.spec.subscriptionId,
    resourceGroup: 'rg-fogpilot',
    name: 'fog-sales',
    primaryLocation: 'eastus',
    secondaryLocation: 'westus',
  };
}

export interface EmulatorWorkerOptions {
  /** Prefix of the worker's fresh task queue, naming the test file in the server's records. */
  queuePrefix: string;
  /** Replaces a real adapter (a plane that must not be called, say). */
  planes?: Partial<Pick<ActivityDependencies, 'controlPlane' | 'dataPlane'>>;
  /** The groups the worker knows; fog-sales by default. */
  inventory?: Inventory;
}

export interface EmulatorWorker {
  worker: Worker;
  taskQueue: string;
  /** The activities the worker ran, in order. */
  called: string[];
  /** Closes the real SQL data plane's connections; call it when the worker has stopped. */
  close: () => Promise<void>;
}

/** A worker on a fresh task queue with fogpilot's real adapters over the emulator (2-second ARM request timeout). */
export async function emulatorWorker(
  env: TestWorkflowEnvironment,
  emulator: Emulator,
  { queuePrefix, planes = {}, inventory }: EmulatorWorkerOptions,
): Promise<EmulatorWorker> {
  const adapters = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue(queuePrefix);
  const worker = await createTestWorker({
    env,
    taskQueue,
    deps: {
      controlPlane: planes.controlPlane ?? adapters.controlPlane,
      // Restores, VM backup and Cosmos DB accounts over the same ARM client (the real SDKs against the emulator).
      recoveryPlane: new ArmRecoveryPlane(adapters.controlPlane),
      serverGroupPlane: adapters.serverGroupPlane,
      dataPlane: planes.dataPlane ?? adapters.dataPlane,
      inventory: inventory ?? new Inventory({ 'fog-sales': fogSales(emulator) }),
    },
    called,
  });
  return { worker, taskQueue, called, close: () => adapters.dataPlane.close() };
}

export { emulatorFetch } from '../../src/emulator/emulator-fetch';

/**
 * The default world with the timings the end-to-end runbook tests use (a 30-s role switch, 2-minute vCore and 1-minute
 * storage scales) and no ARM throttling; `configure` changes it further for one test.
 */
export function runbookWorld(configure?: (spec: WorldSpecInput) => void): WorldSpecInput {
  const spec: WorldSpecInput = {
    ...defaultWorldSpec(),
    timings: { roleSwitchSeconds: 30, vCoreScaleSeconds: 120, storageScaleSeconds: 60 },
    throttling: { enabled: false },
  };
  configure?.(spec);
  return spec;
}
