/**
 * What both benchmarks stand on: a Temporal dev server, the emulator, fogpilot's worker as an operator runs it (a
 * separate `fogpilot worker` process configured by a generated fogpilot.yaml), its memory sampled from /proc, and the
 * figures written to docs/results as Markdown and JSON with the machine they were measured on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import type { RateLimits } from '../src/azure/rate-limiter';
import { findTemporalCli, packageRoot, startDevServerProcess } from '../src/dev-server';
import { PREBUILT_BUNDLE_PATH, prebuiltWorkflowBundle } from '../src/workflow-bundle';
import type { Emulator } from '../src/emulator';
import type { ArmRequestRecord } from '../src/emulator/arm-server';
import type { WorldEvent } from '../src/emulator/world';
import type { HeapSample } from './heap-probe-rig';
import { FOGPILOT_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ── Temporal ─────────────────────────────────────────────────────────────────────────────────────────────────────

export interface BenchTemporal {
  address: string;
  client: Client;
  stop(): Promise<void>;
}

/** `temporal server start-dev` (from findTemporalCli), or the SDK's download of it where there is no CLI. */
export async function startBenchTemporal(): Promise<BenchTemporal> {
  const binary = findTemporalCli();
  let address: string;
  let stopServer: () => Promise<void>;
  if (binary) {
    const server = await startDevServerProcess(binary, { readyTimeoutMs: 60_000 });
    address = server.address;
    stopServer = () => server.stop();
  } else {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: { searchAttributes: [...FOGPILOT_SEARCH_ATTRIBUTES] },
    });
    address = env.address;
    stopServer = () => env.teardown();
  }
  const connection = await Connection.connect({ address });
  return {
    address,
    client: new Client({ connection, namespace: 'default' }),
    async stop() {
      await connection.close();
      await stopServer();
    },
  };
}

// ── the worker, as an operator runs it ───────────────────────────────────────────────────────────────────────────

/** The SQL login's environment variables: the config names them, the worker's environment holds them. */
const SQL_USER_ENV = 'FOGPILOT_BENCH_SQL_USER';
const SQL_PASSWORD_ENV = 'FOGPILOT_BENCH_SQL_PASSWORD';

export interface WorkerConfig {
  file: string;
  /** What the worker's environment needs besides the Temporal connection. */
  env: Record<string, string>;
  cleanup(): void;
}

/**
 * fogpilot.yaml for the emulator: its ARM endpoint with the emulator credential, every group in the inventory, its
 * TDS endpoints as SQL host overrides with its rehearsal SQL login, and the ARM budget given.
 */
export function writeWorkerConfig(emulator: Emulator, rateLimits: RateLimits): WorkerConfig {
  const line = emulator.startLine();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fogpilot-bench-'));
  const file = path.join(dir, 'fogpilot.yaml');
  const config = {
    azure: { armEndpoint: line.armEndpoint, credential: 'emulator', requestTimeout: '30 seconds', rateLimits },
    sql: {
      auth: { auth: 'sql-login', userEnv: SQL_USER_ENV, passwordEnv: SQL_PASSWORD_ENV },
      encrypt: false,
      hosts: line.sql.hosts,
    },
    inventory: Object.fromEntries(
      line.groups.map((group) => [
        group.name,
        {
          subscriptionId: group.subscriptionId,
          resourceGroup: group.resourceGroup,
          primaryLocation: group.primaryLocation,
          secondaryLocation: group.secondaryLocation,
        },
      ]),
    ),
  };
  writeFileSync(file, toYaml(config));
  return {
    file,
    env: { [SQL_USER_ENV]: line.sql.login.user, [SQL_PASSWORD_ENV]: line.sql.login.password },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface MemoryReading {
  /** Resident set size now (kB). */
  rssKb: number;
  /** The process's peak resident set size so far (kB, VmHWM). */
  peakKb: number;
}

/** VmRSS and VmHWM of a process from /proc (Linux); undefined elsewhere or once it has exited. */
export function readMemory(pid: number): MemoryReading | undefined {
  const file = `/proc/${pid}/status`;
  if (!existsSync(file)) return undefined;
  try {
    const status = readFileSync(file, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const reading = { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
    return Number.isFinite(reading.rssKb) ? reading : undefined;
  } catch {
    return undefined;
  }
}

function nodeOptionsOf(options: WorkerProcessOptions): Record<string, string> {
  const parts = [options.nodeOptions ?? ''];
  if (options.heapLog) parts.push(`--require ${path.join(__dirname, 'heap-probe-rig.js')}`);
  const nodeOptions = parts.join(' ').trim();
  return {
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...(options.heapLog ? { FOGPILOT_BENCH_HEAP_LOG: options.heapLog } : {}),
  };
}

/** The heap samples a worker preloaded with bench/heap-probe-rig.js wrote: the most used and reserved, per thread. */
export function heapPeaks(file: string): { threadId: number; heapUsedMiB: number; heapTotalMiB: number }[] {
  if (!existsSync(file)) return [];
  const samples = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HeapSample);
  const threads = [...new Set(samples.map((sample) => sample.threadId))].sort((a, b) => a - b);
  return threads.map((threadId) => {
    const own = samples.filter((sample) => sample.threadId === threadId);
    return {
      threadId,
      heapUsedMiB: Math.max(...own.map((sample) => sample.heapUsedMiB)),
      heapTotalMiB: Math.max(...own.map((sample) => sample.heapTotalMiB)),
    };
  });
}

export interface WorkerProcess {
  pid: number;
  taskQueue: string;
  /** Samples of VmRSS taken every `sampleMs` since the worker started (kB). */
  samples: { at: number; rssKb: number }[];
  /** The highest of: every VmRSS sample, and VmHWM read now. */
  peakRssKb(): number;
  /** The last lines the worker wrote (for errors). */
  output(): string;
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  temporal: BenchTemporal;
  config: WorkerConfig;
  sampleMs?: number;
  readyTimeoutMs?: number;
  /** NODE_OPTIONS for the worker (e.g. `--max-old-space-size=256` to see how much of its RSS is heap headroom). */
  nodeOptions?: string;
  /** Preload bench/heap-probe-rig.js into the worker: each thread's V8 heap, every second, to `heapLog` (JSON lines). */
  heapLog?: string;
}

/**
 * Refuses to measure a worker that would bundle its workflows at start: without a fresh prebuilt bundle (a bare `tsc`
 * after `npm run build` leaves it older than the sources) the worker runs webpack, and its RSS includes webpack's
 * (peak RSS of a fleet of one measured 426.6 MiB with a stale bundle, 289.6 MiB with a fresh one, 2026-12-05).
 */
export function assertFreshWorkflowBundle(file = PREBUILT_BUNDLE_PATH): void {
  if (prebuiltWorkflowBundle(file)) return;
  throw new Error(
    `${file} is missing or older than the compiled sources: the worker would bundle its workflows with webpack at ` +
      "start, and the figures would include webpack's time and memory. Build it first: npm run build " +
      `(or, after a bare tsc: node -e "require('./dist/src/workflow-bundle').writeWorkflowBundle()").`,
  );
}

/**
 * Runs `node bin/fogpilot.js worker` on a task queue of its own, samples its memory, and waits until it polls both
 * the workflow and the activity side of its task queue.
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  assertFreshWorkflowBundle();
  const taskQueue = `fogpilot-bench-${randomUUID()}`;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
  );
  const child: ChildProcess = spawn(process.execPath, [path.join(packageRoot, 'bin', 'fogpilot.js'), 'worker'], {
    env: {
      ...inherited,
      TEMPORAL_ADDRESS: options.temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      FOGPILOT_CONFIG: options.config.file,
      FOGPILOT_TASK_QUEUE: taskQueue,
      FOGPILOT_METRICS_PORT: '0',
      FOGPILOT_LOG_FORMAT: 'json',
      ...nodeOptionsOf(options),
      ...options.config.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const pid = child.pid!;

  const samples: { at: number; rssKb: number }[] = [];
  let lastPeakKb = 0;
  const sample = () => {
    const reading = readMemory(pid);
    if (!reading) return;
    samples.push({ at: Date.now(), rssKb: reading.rssKb });
    lastPeakKb = Math.max(lastPeakKb, reading.peakKb);
  };
  const sampler = setInterval(sample, options.sampleMs ?? 250);
  sample();

  const stop = async () => {
    clearInterval(sampler);
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  const service = options.temporal.client.workflowService;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`the fogpilot worker exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    // 1: TASK_QUEUE_TYPE_WORKFLOW, 2: TASK_QUEUE_TYPE_ACTIVITY; kind 1: TASK_QUEUE_KIND_NORMAL.
    const pollers = await Promise.all(
      ([1, 2] as const).map(async (taskQueueType) => {
        const answer = await service.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue, kind: 1 },
          taskQueueType,
        });
        return answer.pollers?.length ?? 0;
      }),
    );
    if (pollers.every((count) => count > 0)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the fogpilot worker did not poll ${taskQueue} in time:\n${output}`);
    }
    await sleep(200);
  }
  return {
    pid,
    taskQueue,
    samples,
    peakRssKb() {
      sample();
      return Math.max(lastPeakKb, ...samples.map((entry) => entry.rssKb));
    },
    output: () => output,
    stop,
  };
}

// ── the emulator's view of time ──────────────────────────────────────────────────────────────────────────────────

/**
 * World events carry simulated time; this maps it to real epoch milliseconds, from one reading of both clocks (the
 * speed clock is linear, so one pair is enough; the error is under a millisecond).
 */
export function realTimeOf(emulator: Emulator): (simulatedMs: number) => number {
  const clock = emulator.world.clock;
  const real = Date.now();
  const simulated = clock.now();
  return (at) => real + (at - simulated) / clock.speed;
}

/** The world's events after `seq` (exclusive). */
export function eventsSince(emulator: Emulator, seq: number): WorldEvent[] {
  return emulator.world.events.filter((event) => event.seq > seq);
}

export function lastEventSeq(emulator: Emulator): number {
  return emulator.world.events.at(-1)?.seq ?? 0;
}

export const isRead = (record: ArmRequestRecord) => record.method === 'GET' || record.method === 'HEAD';

/** ARM requests that arrived in [from, to]. */
export function requestsBetween(emulator: Emulator, from: number, to: number): ArmRequestRecord[] {
  return emulator.arm.requestLog.filter((record) => record.at >= from && record.at <= to);
}

export interface ReadRate {
  total: number;
  /** Reads per second over the whole span. */
  mean: number;
  /** The most reads that arrived within any 1000 ms (a sliding window over arrival times). */
  maxInAnySecond: number;
  /** The most reads in any calendar second (fixed 1-s bins from the first request). */
  maxInFixedSecond: number;
  /** The most reads within any 10 s, divided by 10. */
  maxTenSecondRate: number;
  /** The most reads within any 60 s, divided by 60. */
  maxMinuteRate: number;
}

export function readRate(records: ArmRequestRecord[], from: number, to: number): ReadRate {
  const times = records
    .filter(isRead)
    .map((record) => record.at)
    .sort((a, b) => a - b);
  const maxWithin = (windowMs: number) => {
    let best = 0;
    for (let end = 0, start = 0; end < times.length; end++) {
      while (times[end]! - times[start]! >= windowMs) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  };
  const bins = new Map<number, number>();
  for (const at of times) bins.set(Math.floor((at - from) / 1000), (bins.get(Math.floor((at - from) / 1000)) ?? 0) + 1);
  return {
    total: times.length,
    mean: round(times.length / Math.max(0.001, (to - from) / 1000), 2),
    maxInAnySecond: maxWithin(1000),
    maxInFixedSecond: Math.max(0, ...bins.values()),
    maxTenSecondRate: round(maxWithin(10_000) / 10, 1),
    maxMinuteRate: round(maxWithin(60_000) / 60, 1),
  };
}

/** Total length of the union of intervals, clipped to [from, to]. */
export function unionLength(intervals: [number, number][], from: number, to: number): number {
  const clipped = intervals
    .map(([start, end]): [number, number] => [Math.max(start, from), Math.min(end, to)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const interval of clipped) {
    if (!current || interval[0] > current[1]) {
      if (current) total += current[1] - current[0];
      current = [...interval];
    } else current[1] = Math.max(current[1], interval[1]);
  }
  if (current) total += current[1] - current[0];
  return total;
}

// ── numbers ──────────────────────────────────────────────────────────────────────────────────────────────────────

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const seconds = (ms: number, digits = 2) => round(ms / 1000, digits);

// ── results ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface MachineInfo {
  os: string;
  cpus: number;
  cpuModel: string;
  totalMemoryGiB: number;
  node: string;
  /** 1-minute load average when the benchmark started: a busy machine slows every figure. */
  loadAverageAtStart: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    loadAverageAtStart: round(os.loadavg()[0] ?? 0, 2),
  };
}

export type Verdict = 'PASS' | 'MISSED';

export interface TargetResult {
  target: string;
  measured: string;
  verdict: Verdict;
  /** For a missed target: where the time (or the reads) went. */
  reason?: string;
}

export interface BenchResults {
  benchmark: string;
  title: string;
  date: string;
  command: string;
  machine: MachineInfo;
  benchWallSeconds: number;
  settings: Record<string, unknown>;
  /** Column headings and rows of the main table (the first column names the figure). */
  table: { headings: string[]; rows: (string | number)[][] };
  targets: TargetResult[];
  definitions: string[];
  /** Where the time went: free-form sections of the Markdown, each a heading and lines. */
  profile: { heading: string; lines: string[] }[];
  /** Everything measured, per run. */
  raw: unknown;
}

export function markdownTable(headings: string[], rows: (string | number)[][]): string[] {
  const cell = (value: string | number) => String(value).replace(/\|/g, '\\|');
  return [
    `| ${headings.map(cell).join(' | ')} |`,
    `|${headings.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

export function renderMarkdown(results: BenchResults): string {
  const { machine } = results;
  const lines = [
    `# ${results.title}`,
    '',
    `- Date: ${results.date}`,
    `- Command: \`${results.command}\` (after \`npm run build\`)`,
    `- Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, ${machine.os}, Node ${machine.node}; ` +
      `load average ${machine.loadAverageAtStart} at start`,
    `- Benchmark wall time: ${results.benchWallSeconds} s`,
    `- Settings: ${Object.entries(results.settings)
      .map(([key, value]) => `${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join('; ')}`,
    '',
    '## Figures',
    '',
    ...markdownTable(results.table.headings, results.table.rows),
    '',
    '## Targets',
    '',
    ...markdownTable(
      ['target', 'measured', 'verdict'],
      results.targets.map((target) => [target.target, target.measured, target.verdict]),
    ),
    '',
  ];
  const missed = results.targets.filter((target) => target.reason);
  if (missed.length > 0) {
    lines.push('### Why', '');
    for (const target of missed) lines.push(`- **${target.target}** — ${target.reason}`);
    lines.push('');
  }
  for (const section of results.profile) lines.push(`## ${section.heading}`, '', ...section.lines, '');
  lines.push('## Definitions', '', ...results.definitions.map((definition) => `- ${definition}`), '');
  lines.push(`Every figure and every run is in \`${results.benchmark}.json\` beside this file.`, '');
  return lines.join('\n');
}

/** Writes `<dir>/<name>.md` and `<dir>/<name>.json`; returns their paths. */
export function writeResults(results: BenchResults, dir: string): { markdown: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, `${results.benchmark}.md`);
  const json = path.join(dir, `${results.benchmark}.json`);
  writeFileSync(markdown, renderMarkdown(results));
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  return { markdown, json };
}

export function printTable(results: BenchResults): void {
  const widths = results.table.headings.map((heading, column) =>
    Math.max(heading.length, ...results.table.rows.map((row) => String(row[column] ?? '').length)),
  );
  const format = (row: (string | number)[]) =>
    row.map((value, column) => String(value).padEnd(widths[column]!)).join('  ');
  const out = [format(results.table.headings), widths.map((width) => '-'.repeat(width)).join('  ')];
  out.push(...results.table.rows.map(format), '');
  for (const target of results.targets) out.push(`${target.verdict.padEnd(6)} ${target.target}: ${target.measured}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** `--name value` flags of a benchmark's command line. */
export function flag(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}

export const DEFAULT_RESULTS_DIR = path.join(packageRoot, 'docs', 'results');
