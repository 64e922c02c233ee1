/**
 * The CLI's Temporal connection: the same settings the Temporal CLI and the worker use (`@temporalio/envconfig`:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables, temporal.toml profiles), and the task queue
 * from FOGPILOT_TASK_QUEUE.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DrillSchedules, FogpilotClient } from '../client';
import { taskQueueFromEnvironment } from '../config/task-queue';
import { PayloadKeysError, dataConverterFromEnvironment } from '../codec';
import { CliError, ExitCodes } from './errors';

export interface FogpilotSession {
  fogpilot: FogpilotClient;
  schedules: DrillSchedules;
  client: Client;
  address: string;
  namespace: string;
  taskQueue: string;
  close(): Promise<void>;
}

/** Connects to Temporal; a server that cannot be reached is a CliError that says which address and what to check. */
export async function connectFogpilot(): Promise<FogpilotSession> {
  let config;
  try {
    config = loadClientConnectConfig();
  } catch (error) {
    throw new CliError(
      `The Temporal connection settings could not be read: ${(error as Error).message}`,
      ExitCodes.usage,
      'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, the TLS variables and temporal.toml.',
    );
  }
  let dataConverter;
  try {
    dataConverter = dataConverterFromEnvironment();
  } catch (error) {
    if (error instanceof PayloadKeysError) throw new CliError(error.message, ExitCodes.usage, error.action);
    throw error;
  }
  const { address = 'localhost:7233', tls, apiKey, metadata } = config.connectionOptions;
  const namespace = config.namespace ?? 'default';
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, tls, apiKey, metadata, connectTimeout: '5 seconds' });
  } catch (error) {
    throw new CliError(
      `Cannot reach the Temporal server at ${address}: ${(error as Error).message}`,
      ExitCodes.failure,
      'Start one (`temporal server start-dev`) or point TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS) at yours.',
    );
  }
  // With FOGPILOT_PAYLOAD_KEYS set, inputs, messages, schedule actions and memos are encrypted, results decrypted.
  const client = new Client({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) });
  const taskQueue = taskQueueFromEnvironment();
  return {
    fogpilot: new FogpilotClient(client, taskQueue),
    schedules: new DrillSchedules(client, taskQueue),
    client,
    address,
    namespace,
    taskQueue,
    close: () => connection.close(),
  };
}

/** Runs `work` with a session and always closes it. */
export async function withFogpilot<T>(work: (session: FogpilotSession) => Promise<T>): Promise<T> {
  const session = await connectFogpilot();
  try {
    return await work(session);
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** The workflow's state, or exit 3 when Temporal does not know it. */
export async function describeOrNotFound(session: FogpilotSession, workflowId: string) {
  try {
    return await session.fogpilot.handle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CliError(
        `No workflow ${workflowId} in namespace ${session.namespace} at ${session.address}.`,
        ExitCodes.notFound,
        'Check the id (the start command printed it; `temporal workflow list` shows recent ones) and TEMPORAL_NAMESPACE.',
      );
    }
    throw error;
  }
}
