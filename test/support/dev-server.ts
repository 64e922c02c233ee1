/**
 * The real Temporal dev server (`temporal server start-dev`) for tests that need what the time-skipping server lacks:
 * Schedules, visibility, real time. In memory, headless, on a free port, with fogpilot's search attributes
 * registered. One per test process: on a small machine several at once start slowly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { defineSearchAttributeKey } from '@temporalio/common';
import { findTemporalCli, installQuietRuntime } from './temporal';

/** The search attributes the runbooks set, registered as Keyword. */
export const FOGPILOT_SEARCH_ATTRIBUTES = ['FogpilotGroup', 'FogpilotRunbook', 'FogpilotPhase'] as const;

export interface DevServer {
  /** Client, native connection and namespace for workers and assertions (no time skipping). */
  env: TestWorkflowEnvironment;
  /** `host:port` of the frontend: give it to child processes as TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  teardown(): Promise<void>;
}

export interface DevServerOptions {
  /** How long to wait for the server to answer (a cold start on a busy 2-core machine takes seconds). */
  readyTimeoutMs?: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`temporal server start-dev exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      try {
        // The frontend answers before the default namespace is registered; wait for both.
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `temporal server start-dev did not answer at ${address} in ${timeoutMs} ms: ${String(error)}\n${output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Starts `temporal server start-dev` (the binary from findTemporalCli(): FOGPILOT_TEMPORAL_CLI, the .tools venv, or
 * PATH). Where there is none, the SDK downloads and runs its own dev server with the same search attributes.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  installQuietRuntime();
  const binary = findTemporalCli();
  if (!binary) {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        searchAttributes: FOGPILOT_SEARCH_ATTRIBUTES.map((name) => defineSearchAttributeKey(name, 'KEYWORD')),
      },
    });
    return { env, address: env.address, namespace: 'default', teardown: () => env.teardown() };
  }
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'error',
  ];
  for (const name of FOGPILOT_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${name}=Keyword`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A test process that dies must not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilServing(address, child, () => output, options.readyTimeoutMs ?? 30_000);
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
    return {
      env,
      address,
      namespace: 'default',
      teardown: async () => {
        await env.teardown();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
