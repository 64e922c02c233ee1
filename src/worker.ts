/**
 * The fogpilot worker: the only place that builds credentials, SDK clients and pools, injects them into
 * `createActivities(deps)` and runs the workflows on the `fogpilot` task queue.
 */
import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from './activities';
import { DEFAULT_TASK_QUEUE } from './workflows/definitions';

export interface FogpilotWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  /** Default `fogpilot` (or `FOGPILOT_TASK_QUEUE`). */
  taskQueue?: string;
  dependencies: ActivityDependencies;
  /** A prebuilt workflow bundle; without one the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

export function taskQueueFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  return env.FOGPILOT_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE;
}

export async function createFogpilotWorker(options: FogpilotWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? taskQueueFromEnvironment(),
    activities: createActivities(options.dependencies),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
  });
}
