/**
 * Headless Chromium for tests that check what a page shows. The binary is `FOGPILOT_CHROMIUM`, else `chromium` or
 * `chromium-browser` on PATH (Debian's `chromium` package; `.ci/run` installs it). Without one the tests fail and say
 * how to install it, unless `FOGPILOT_SKIP_BROWSER=1` asks to skip them.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CHROMIUM_NAMES = ['chromium', 'chromium-browser'] as const;

export const INSTALL_HINT =
  "Install Debian's chromium package (as root: `apt-get update && apt-get install -y chromium`), or set " +
  'FOGPILOT_CHROMIUM to a Chromium or Chrome binary. To run the suite without a browser, set FOGPILOT_SKIP_BROWSER=1.';

export type ChromiumLookup = { binary: string } | { skip: string } | { missing: string };

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Finds the browser the way the tests do; `env` is the environment to read (the process's by default). */
export function lookUpChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  let problem: string;
  const configured = env.FOGPILOT_CHROMIUM;
  if (configured) {
    if (isExecutableFile(configured)) return { binary: configured };
    problem = `FOGPILOT_CHROMIUM=${configured} is not an executable file.`;
  } else {
    const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
    for (const name of CHROMIUM_NAMES) {
      for (const dir of dirs) {
        const candidate = path.join(dir, name);
        if (isExecutableFile(candidate)) return { binary: candidate };
      }
    }
    problem = `No Chromium found: FOGPILOT_CHROMIUM is not set and neither ${CHROMIUM_NAMES.join(' nor ')} is on PATH.`;
  }
  if (env.FOGPILOT_SKIP_BROWSER === '1') return { skip: `${problem} Skipped: FOGPILOT_SKIP_BROWSER=1.` };
  return { missing: `${problem} ${INSTALL_HINT}` };
}

/** The binary, or an error that says how to get one. */
export function requireChromium(lookup: ChromiumLookup): string {
  if ('binary' in lookup) return lookup.binary;
  throw new Error('missing' in lookup ? lookup.missing : lookup.skip);
}

export interface RenderOptions {
  /** Viewport in CSS pixels (device scale factor 1). */
  width?: number;
  height?: number;
  timeoutMs?: number;
}

async function headless(binary: string, args: string[], timeoutMs: number): Promise<string> {
  // A profile of its own, so parallel runs do not contend for a lock, and nothing is left behind.
  const profile = mkdtempSync(path.join(tmpdir(), 'fogpilot-chromium-'));
  try {
    const { stdout } = await run(
      binary,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-extensions',
        '--hide-scrollbars',
        '--force-color-profile=srgb',
        '--force-device-scale-factor=1',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM Chromium built from the file, serialized (`--dump-dom`). */
export function dumpDom(binary: string, file: string, options: RenderOptions = {}): Promise<string> {
  return headless(
    binary,
    [`--window-size=${options.width ?? 1280},${options.height ?? 1200}`, '--dump-dom', pathToFileURL(file).href],
    options.timeoutMs ?? 20_000,
  );
}

/** Writes a PNG of the viewport as Chromium painted it (`--screenshot`). */
export async function screenshot(
  binary: string,
  file: string,
  png: string,
  options: RenderOptions = {},
): Promise<void> {
  await headless(
    binary,
    [
      `--window-size=${options.width ?? 1280},${options.height ?? 1200}`,
      `--screenshot=${png}`,
      pathToFileURL(file).href,
    ],
    options.timeoutMs ?? 20_000,
  );
}
