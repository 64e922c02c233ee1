/**
 * Headless Chromium for tests that check what a page shows. The binary is `FOGPILOT_CHROMIUM`, else `chromium` or
 * `chromium-browser` on PATH (Debian's `chromium` package; `.ci/run` installs it). Without one the tests fail and say
 * how to install it, unless `FOGPILOT_SKIP_BROWSER=1` asks to skip them.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
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

/** A page open in headless Chromium, read through the DevTools protocol while its scripts run. */
export interface OpenPage {
  /** The text the page shows now (`document.body.innerText`). */
  text(): Promise<string>;
  /**
   * Reads the page's text until `done` accepts it, and returns that text; fails after `timeoutMs` with the last text
   * seen. For single-page apps, whose content arrives after the load event that `--dump-dom` waits for.
   */
  waitForText(done: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

interface DevToolsMessage {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/**
 * Opens `url` in headless Chromium driven over `--remote-debugging-pipe` (DevTools protocol messages on fds 3 and 4,
 * each ended by a NUL): no port to find, no WebSocket client needed.
 */
export async function openPage(binary: string, url: string, options: RenderOptions = {}): Promise<OpenPage> {
  const profile = mkdtempSync(path.join(tmpdir(), 'fogpilot-chromium-'));
  const child = spawn(
    binary,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      `--user-data-dir=${profile}`,
      `--window-size=${options.width ?? 1280},${options.height ?? 1200}`,
      '--remote-debugging-pipe',
      url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve: (message: DevToolsMessage) => void; reject: (error: Error) => void }>();
  void exited.then(() => {
    for (const { reject } of pending.values()) reject(new Error(`Chromium exited:\n${stderr}`));
    pending.clear();
  });
  let buffered = '';
  fromBrowser.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
      const message = JSON.parse(buffered.slice(0, end)) as DevToolsMessage;
      buffered = buffered.slice(end + 1);
      const waiting = message.id === undefined ? undefined : pending.get(message.id);
      if (!waiting) continue;
      pending.delete(message.id!);
      if (message.error) waiting.reject(new Error(`DevTools: ${message.error.message}`));
      else waiting.resolve(message);
    }
  });
  let lastId = 0;
  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<DevToolsMessage>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`Chromium exited:\n${stderr}`));
        return;
      }
      const id = ++lastId;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // Browser.close lets Chromium end its helper processes before the profile is removed; a kill may not.
      await send('Browser.close').catch(() => child.kill('SIGKILL'));
      await exited;
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 10 });
  };
  try {
    const { result: targets } = await send('Target.getTargets');
    const page = (targets!.targetInfos as { targetId: string; type: string }[]).find((info) => info.type === 'page');
    if (!page) throw new Error(`Chromium opened no page for ${url}`);
    const { result: attached } = await send('Target.attachToTarget', { targetId: page.targetId, flatten: true });
    const sessionId = attached!.sessionId as string;
    const text = async () => {
      const { result } = await send(
        'Runtime.evaluate',
        { expression: 'document.body ? document.body.innerText : ""', returnByValue: true },
        sessionId,
      );
      const { value } = result!.result as { value?: unknown };
      return typeof value === 'string' ? value : '';
    };
    const waitForText = async (done: (text: string) => boolean, what: string, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = await text();
        if (done(seen)) return seen;
        if (Date.now() > deadline)
          throw new Error(`${url} did not show ${what} within ${timeoutMs} ms; it showed:\n${seen}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    return { text, waitForText, close };
  } catch (error) {
    await close();
    throw error;
  }
}
