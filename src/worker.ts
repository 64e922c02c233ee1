/**
 * The fogpilot worker: the only place that builds credentials, SDK clients and pools, injects them into
 * `createActivities(deps)` and runs the workflows on the `fogpilot` task queue.
 */
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { createActivities, type ActivityDependencies, type ApprovalRules } from './activities';
import type { Inventory } from './config/inventory';
import { ArmControlPlane } from './azure/arm-control-plane';
import { ArmRecoveryPlane } from './azure/arm-recovery-plane';
import { ArmServerGroupPlane } from './azure/arm-server-group-plane';
import { createCredential } from './azure/credentials';
import { groupForAccess, inventoryOf, loadConfig, type FogpilotConfig } from './config/config';
import { createDataPlane } from './sql';
import { taskQueueFromEnvironment, taskQueueMismatch } from './config/task-queue';
import { PREBUILT_ENCODED_FAILURES_BUNDLE_PATH, prebuiltWorkflowBundle } from './workflow-bundle';
import { createLogger, installRuntime, metricsBindAddressFromEnvironment } from './runtime';
import { ensureSearchAttributes } from './search-attributes';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFromEnvironment, encodesFailures, EncryptionCodec } from './codec';

export interface FogpilotWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  /** Default: `FOGPILOT_TASK_QUEUE`, else `fogpilot` (see src/config/task-queue). */
  taskQueue?: string;
  dependencies: ActivityDependencies;
  /**
   * A prebuilt workflow bundle; without one the prebuilt bundle under dist/ that matches `dataConverter` runs, else the
   * workflows are bundled at start. A bundle given here must have been built with the data converter's
   * `failureConverterPath`, or the failures its workflows write are not encoded.
   */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /**
   * Payload codecs and failure converter (with FOGPILOT_PAYLOAD_KEYS set, `dataConverterFromEnvironment()` from
   * src/codec: the encryption codec, and failure messages and stack traces handed to it). The codecs run in the
   * worker's main thread, outside the workflow sandbox. Default: none, payloads and failures stored in plaintext.
   */
  dataConverter?: DataConverter;
}

function workflowCodeOption(given: WorkflowBundleWithSourceMap | undefined, dataConverter: DataConverter | undefined) {
  if (given) return { workflowBundle: given };
  // The failure converter of the workflows is part of their bundle: one prebuilt without it would write plain messages.
  const prebuilt = !dataConverter?.failureConverterPath
    ? prebuiltWorkflowBundle()
    : encodesFailures(dataConverter)
      ? prebuiltWorkflowBundle(PREBUILT_ENCODED_FAILURES_BUNDLE_PATH)
      : undefined;
  // Bundling at start, the SDK builds the data converter's failureConverterPath into the bundle.
  return prebuilt ? { workflowBundle: prebuilt } : { workflowsPath: require.resolve('./workflows') };
}

/**
 * How long a workflow task waits on the sticky queue of the worker that ran the workflow last before it goes to the
 * task queue every worker polls. A worker that died holds its workflows' next tasks for this long (the SDK default is
 * 10 s); a live worker picks its sticky tasks up in milliseconds, and one that is merely slow costs a replay elsewhere.
 */
export const STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT = '2 seconds';

/**
 * The longest the worker holds back an activity's heartbeat (the SDK sends one per 80% of the heartbeat timeout by
 * default, i.e. every 4 s for the presets' 5 s: too little slack on a busy worker). Activities heartbeat every second.
 */
export const MAX_HEARTBEAT_THROTTLE_INTERVAL = '1 second';

export async function createFogpilotWorker(options: FogpilotWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? taskQueueFromEnvironment(),
    activities: createActivities(options.dependencies),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
    maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE_INTERVAL,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...workflowCodeOption(options.workflowBundle, options.dataConverter),
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
  // First: a bad FOGPILOT_PAYLOAD_KEYS stops the worker before it could write a payload in plaintext.
  const dataConverter = dataConverterFromEnvironment();
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
      sqlDatabaseApiVersion: config.azure.sqlDatabaseApiVersion,
      credential: config.azure.credential,
      groups: inventoryOf(config).names(),
      metrics: metricsBindAddress ? `http://${metricsBindAddress}/metrics` : 'off',
      payloadEncryption: encryptionKeyIdOf(dataConverter) ?? 'off',
    },
    'fogpilot worker starting',
  );
  if (!dataConverter) {
    logger.warn(
      'FOGPILOT_PAYLOAD_KEYS is not set: inputs, approvals and reports are stored in plaintext in Temporal; ' +
        'see docs/production.md, "Encrypted history"',
    );
  }
  const inventory = inventoryOf(config);
  const mismatch = taskQueueMismatch(config.temporal.taskQueue);
  if (mismatch) logger.warn({ taskQueue: config.temporal.taskQueue }, mismatch);
  try {
    const worker = await createFogpilotWorker({
      connection,
      namespace: namespace ?? 'default',
      taskQueue: config.temporal.taskQueue,
      dependencies: {
        controlPlane,
        // Restores, VM backup and Cosmos DB accounts, over the control plane's credential and request budget.
        recoveryPlane: new ArmRecoveryPlane(controlPlane),
        // SQL Database server failover groups, over the same clients, with the configured api-version.
        serverGroupPlane: new ArmServerGroupPlane(controlPlane, {
          endpoint: config.armEndpoint,
          apiVersion: config.azure.sqlDatabaseApiVersion,
        }),
        dataPlane,
        inventory,
        approvalRules: approvalRulesOf(config, inventory),
        // Hooks, notification endpoints and objectives stay on the worker; runs see their non-secret plan.
        outbound: { config },
      },
      dataConverter,
    });
    await worker.run();
  } finally {
    await dataPlane.close();
    await connection.close();
  }
}

function encryptionKeyIdOf(dataConverter: DataConverter | undefined): string | undefined {
  const codec = dataConverter?.payloadCodecs?.find((c) => c instanceof EncryptionCodec);
  return codec instanceof EncryptionCodec ? `aes-256-gcm, key id ${codec.currentKeyId}` : undefined;
}
