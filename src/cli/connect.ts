/**
 * The CLI's Temporal connection: the same settings the Temporal CLI and the worker use (`@temporalio/envconfig`:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables, temporal.toml profiles), and the task queue
 * from FOGPILOT_TASK_QUEUE.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import { Client, Connection, WorkflowNotFoundError, type ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { OperatorIdentityKind } from '../config/access';
import { DrillSchedules, FogpilotClient } from '../client';
import { taskQueueFromEnvironment } from '../config/task-queue';
import { PayloadKeysError, dataConverterFromEnvironment } from '../codec';
import { CliError, ExitCodes } from './errors';

/**
 * Who the CLI acts as: the identity of its Temporal connection, labelled by how it was established. Approvals and the
 * runs it starts carry `label` (`requestedBy`), and `access.operators[].identity` names it.
 */
export interface ConnectionIdentity {
  /** `certificate:<subject>`, `api-key:sha256:<fingerprint>` or `os-user:<name>`. */
  label: string;
  kind: OperatorIdentityKind;
  /** Where it came from, for people (`fogpilot whoami`). */
  source: string;
}

/** How many hex digits of the API key's SHA-256 name it: enough to tell keys apart, nothing of the key itself. */
const API_KEY_FINGERPRINT_HEX = 16;

/**
 * The identity of a connection made with `options`: the client certificate's subject when there is one (mutual TLS:
 * the server verified it), else the API key's fingerprint (the key itself is a secret and never shown), else the OS
 * user running the CLI, which Temporal does not verify.
 */
export function connectionIdentity(
  options: Pick<ConnectionOptions, 'tls' | 'apiKey'>,
  osUser: () => string = () => userInfo().username,
): ConnectionIdentity {
  const crt = typeof options.tls === 'object' && options.tls !== null ? options.tls.clientCertPair?.crt : undefined;
  if (crt) {
    let subject: string;
    try {
      subject = new X509Certificate(crt).subject.split('\n').join(',');
    } catch (error) {
      throw new CliError(
        `The Temporal client certificate could not be read: ${(error as Error).message}`,
        ExitCodes.usage,
        "Check TEMPORAL_TLS_CLIENT_CERT_PATH (or the profile's client_cert): it must be a PEM certificate.",
      );
    }
    return {
      label: `certificate:${subject}`,
      kind: 'certificate',
      source: 'the subject of the Temporal client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH or the profile)',
    };
  }
  if (typeof options.apiKey === 'string' && options.apiKey !== '') {
    const fingerprint = createHash('sha256').update(options.apiKey).digest('hex').slice(0, API_KEY_FINGERPRINT_HEX);
    return {
      label: `api-key:sha256:${fingerprint}`,
      kind: 'api-key',
      source: `the SHA-256 fingerprint of the Temporal API key (TEMPORAL_API_KEY or the profile; first ${API_KEY_FINGERPRINT_HEX} hex digits)`,
    };
  }
  return {
    label: `os-user:${osUser()}`,
    kind: 'os-user',
    source:
      'the OS user running fogpilot: no client certificate or API key is configured, and Temporal does not verify it',
  };
}

function connectConfig() {
  try {
    return loadClientConnectConfig();
  } catch (error) {
    throw new CliError(
      `The Temporal connection settings could not be read: ${(error as Error).message}`,
      ExitCodes.usage,
      'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, the TLS variables and temporal.toml.',
    );
  }
}

/** The CLI's identity from the same settings it connects with (nothing is contacted). */
export function cliIdentity(): ConnectionIdentity {
  return connectionIdentity(connectConfig().connectionOptions);
}

export interface FogpilotSession {
  /** Who this session acts as (see {@link connectionIdentity}). */
  identity: ConnectionIdentity;
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
  const config = connectConfig();
  const identity = connectionIdentity(config.connectionOptions);
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
    identity,
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
