/** Runs `bin/fogpilot.js` as an operator would: a separate process pointed at a Temporal server by environment. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../support/temporal';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command; `env` adds to (and overrides) a clean Temporal environment: no profile, no API key. */
export function fogpilot(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
  );
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin', 'fogpilot.js'), ...args],
      { env: { ...inherited, TEMPORAL_NAMESPACE: 'default', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The one JSON object a `--json` command prints. */
export function jsonOf<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`expected one JSON object on stdout (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
