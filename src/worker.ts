/**
 * The fogpilot worker: the only place that builds credentials, SDK clients and pools, injects them into
 * `createActivities(deps)` and runs the workflows on the `fogpilot` task queue.
 */
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { createActivities, type ActivityDependencies, type ApprovalRules } from './activities';
import type { Inventory } from './config/inventory';
import { ArmControlPlane } from './azure/arm-control-plane';
import { createCredential } from './azure/credentials';
import { groupForAccess, inventoryOf, loadConfig, type FogpilotConfig } from './config/config';
import { createDataPlane } from './sql';
import { taskQueueFromEnvironment, taskQueueMismatch } from './config/task-queue';
import { prebuiltWorkflowBundle } from './workflow-bundle';
import { createLogger, installRuntime, metricsBindAddressFromEnvironment } from './runtime';
import { ensureSearchAttributes } from './search-attributes';

export interface FogpilotWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  /** Default: `FOGPILOT_TASK_QUEUE`, else `fogpilot` (see src/config/task-queue). */
  taskQueue?: string;
  dependencies: ActivityDependencies;
  /** A prebuilt workflow bundle; without one the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

function workflowCodeOption(given: WorkflowBundleWithSourceMap | undefined) {
  if (given) return { workflowBundle: given };
  const prebuilt = prebuiltWorkflowBundle();
  return prebuilt ? { workflowBundle: prebuilt } : { workflowsPath: require.resolve('./workflows') };
}

export async function createFogpilotWorker(options: FogpilotWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? taskQueueFromEnvironment(),
    activities: createActivities(options.dependencies),
    ...workflowCodeOption(options.workflowBundle),
  });
}

/** The access rules approvals are judged by: the `access` section, and each group's inventory name and tags. */
export function approvalRulesOf(config: FogpilotConfig, inventory: Inventory): ApprovalRules {
  return {
    access: config.access,
    groupForAccess: (group) => groupForAccess(config, inventory.nameOf(group)),
  };
}

/**
 * Builds everything from configuration and runs until SIGINT/SIGTERM: the ARM and SQL adapters (one credential, one
 * client per subscription, one pool per instance), the Temporal connection from the same settings as the Temporal CLI
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles), and the worker.
 */
export async function runWorker(config: FogpilotConfig = loadConfig()): Promise<void> {
  const logger = createLogger();
  const metricsBindAddress = metricsBindAddressFromEnvironment();
  installRuntime({ logger, metricsBindAddress });
  const credential = createCredential(config.azure.credential);
  const controlPlane = new ArmControlPlane({
    credential,
    endpoint: config.armEndpoint,
    requestTimeoutMs: config.azure.requestTimeout,
    rateLimits: config.azure.rateLimits,
    ca: config.ca,
  });
  const dataPlane = createDataPlane(config, credential);
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  const registered = await ensureSearchAttributes(connection, namespace ?? 'default');
  if (registered.length > 0) logger.info({ searchAttributes: registered }, 'registered search attributes');
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: namespace ?? 'default',
      armEndpoint: config.armEndpoint,
      credential: config.azure.credential,
      groups: inventoryOf(config).names(),
      metrics: metricsBindAddress ? `http://${metricsBindAddress}/metrics` : 'off',
    },
    'fogpilot worker starting',
  );
  const inventory = inventoryOf(config);
  const mismatch = taskQueueMismatch(config.temporal.taskQueue);
  if (mismatch) logger.warn({ taskQueue: config.temporal.taskQueue }, mismatch);
  try {
    const worker = await createFogpilotWorker({
      connection,
      namespace: namespace ?? 'default',
      taskQueue: config.temporal.taskQueue,
      dependencies: { controlPlane, dataPlane, inventory, approvalRules: approvalRulesOf(config, inventory) },
    });
    await worker.run();
  } finally {
    await dataPlane.close();
    await connection.close();
  }
}
