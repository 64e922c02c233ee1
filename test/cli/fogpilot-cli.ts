/** Runs `bin/fogpilot.js` as an operator would: a separate process pointed at a Temporal server by environment. */
import { execFile, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../support/temporal';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command; `env` adds to (and overrides) a clean Temporal environment: no profile, no API key. */
export function fogpilot(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  return startFogpilot(args, env, timeoutMs).ended;
}

/** A command still running: what it has printed so far, and its end. */
export interface RunningCli {
  readonly stdout: () => string;
  /** Resolves once the command has printed something matching `pattern` on stdout; rejects if it ends first. */
  printed(pattern: RegExp): Promise<void>;
  readonly ended: Promise<CliRun>;
  /** Sends the command a signal (SIGTERM by default), as an operator stopping it would. */
  kill(signal?: NodeJS.Signals): void;
}

/** Starts one command and lets the test follow what it prints while it runs (e.g. a wait the command shows). */
export function startFogpilot(args: string[], env: Record<string, string>, timeoutMs = 60_000): RunningCli {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
  );
  let stdout = '';
  const watchers = new Set<() => void>();
  let child!: ChildProcess;
  const ended = new Promise<CliRun>((resolve) => {
    child = execFile(
      process.execPath,
      [path.join(repoRoot, 'bin', 'fogpilot.js'), ...args],
      { env: { ...inherited, TEMPORAL_NAMESPACE: 'default', ...env }, timeout: timeoutMs },
      (error, out, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: out, stderr });
      },
    );
  });
  child.stdout?.on('data', (chunk: Buffer | string) => {
    stdout += String(chunk);
    for (const watcher of [...watchers]) watcher();
  });
  return {
    stdout: () => stdout,
    printed: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stdout)) return false;
          watchers.delete(check);
          resolve();
          return true;
        };
        if (check()) return;
        watchers.add(check);
        void ended.then((run) => {
          if (check()) return;
          watchers.delete(check);
          reject(
            new Error(
              `the command ended (exit ${run.code}) without printing ${pattern}:\n${run.stdout}\n${run.stderr}`,
            ),
          );
        });
      }),
    ended,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/** The one JSON object a `--json` command prints. */
export function jsonOf<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`expected one JSON object on stdout (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
