/**
 * The real Temporal dev server (`temporal server start-dev`) for tests that need what the time-skipping server lacks:
 * Schedules, visibility, real time. In memory, headless, on a free port, with fogpilot's search attributes
 * registered. One per test process: on a small machine several at once start slowly.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findTemporalCli, freePort, startDevServerProcess } from '../../src/dev-server';
import { FOGPILOT_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { installQuietRuntime } from './temporal';

export interface DevServer {
  /** Client, native connection and namespace for workers and assertions (no time skipping). */
  env: TestWorkflowEnvironment;
  /** `host:port` of the frontend: give it to child processes as TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  /** The web UI (`http://127.0.0.1:<port>`), when started with `ui`. */
  uiUrl?: string;
  teardown(): Promise<void>;
}

export interface DevServerOptions {
  /** How long to wait for the server to answer (a cold start on a busy 2-core machine takes seconds). */
  readyTimeoutMs?: number;
  /** Serve the web UI too (default headless); `codecEndpoint` is the remote codec its pages call. */
  ui?: { codecEndpoint?: string };
}

/**
 * Starts `temporal server start-dev` (the binary from findTemporalCli(): FOGPILOT_TEMPORAL_CLI, the .tools venv, or
 * PATH). Where there is none, the SDK downloads and runs its own dev server with the same search attributes.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  installQuietRuntime();
  const binary = findTemporalCli();
  const codecEndpoint = options.ui?.codecEndpoint;
  if (!binary) {
    const uiPort = options.ui ? await freePort() : undefined;
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        searchAttributes: [...FOGPILOT_SEARCH_ATTRIBUTES],
        ...(uiPort ? { ui: true, uiPort, ip: '127.0.0.1' } : {}),
        ...(uiPort && codecEndpoint ? { extraArgs: ['--ui-codec-endpoint', codecEndpoint] } : {}),
      },
    });
    return {
      env,
      address: env.address,
      namespace: 'default',
      uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined,
      teardown: () => env.teardown(),
    };
  }
  const server = await startDevServerProcess(binary, {
    readyTimeoutMs: options.readyTimeoutMs,
    ui: options.ui !== undefined,
    uiCodecEndpoint: codecEndpoint,
  });
  try {
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: server.address,
      namespace: 'default',
    });
    return {
      env,
      address: server.address,
      namespace: 'default',
      uiUrl: server.uiUrl,
      teardown: async () => {
        await env.teardown();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
