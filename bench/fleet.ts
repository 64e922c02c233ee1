/**
 * Fleet: `fleetFailover` of a region's groups (1, 25, 100 and 200) on one `fogpilot worker` process, against an
 * emulator that throttles ARM as a subscription does (reads: 250 burst, 25/s sustained), with the worker's own ARM
 * budget at its defaults. Measures wall time against one group's, the worker's peak RSS, history events per child
 * run, ARM reads per second and 429s met. Each size gets a fresh emulator and a fresh worker.
 *
 *   node dist/bench/fleet.js [--sizes 1,25,100,200] [--concurrency 100] [--speed 10] [--out docs/results]
 *                            [--emulator-load 1000]
 *
 * `--emulator-load N` adds a read-only load on a world of N groups (a failover of 1,000 groups takes too long here):
 * every group's and instance's GETs from a separate process, with no client budget, while the bench process (the
 * emulator alone) measures its CPU time against the wall time.
 */
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FogpilotClient, type RunbookReport } from '../src/client';
import { DEFAULT_RATE_LIMITS, READ_TRANSIT_JITTER_MS } from '../src/azure/rate-limiter';
import { startEmulator, type Emulator } from '../src/emulator';
import type { WorldSpecInput } from '../src/emulator/world-spec';
import type { ArmRequestRecord } from '../src/emulator/arm-server';
import {
  DEFAULT_RESULTS_DIR,
  flag,
  heapPeaks,
  isRead,
  machineInfo,
  markdownTable,
  median,
  printTable,
  readRate,
  requestsBetween,
  round,
  seconds,
  startBenchTemporal,
  startWorkerProcess,
  writeResults,
  writeWorkerConfig,
  type BenchResults,
  type BenchTemporal,
  type ReadRate,
  type TargetResult,
} from './bench-rig';

export interface FleetOptions {
  sizes: number[];
  /** fleetFailover's `concurrency`: children at once (the input allows 1-100). */
  concurrency: number;
  speed: number;
  roleSwitchSeconds: number;
  outDir: string | false;
  /** The results' file name (`<outDir>/<name>.md` and `.json`). */
  name: string;
  /** Groups of the read-only emulator load (`--emulator-load`); none by default. */
  emulatorLoad?: number;
  /** NODE_OPTIONS for the worker process; none by default (as `fogpilot worker` ships). */
  workerNodeOptions?: string;
  command: string;
  log: (line: string) => void;
}

export const DEFAULT_FLEET_OPTIONS: FleetOptions = {
  sizes: [1, 25, 100, 200],
  concurrency: 100,
  speed: 10,
  roleSwitchSeconds: 30,
  outDir: DEFAULT_RESULTS_DIR,
  name: 'fleet',
  command: 'node dist/bench/fleet.js --sizes 1,25,100,200 --concurrency 100 --speed 10',
  log: (line) => process.stderr.write(`${line}\n`),
};

/** Azure's per-subscription ARM budget (see the reference notes): the emulator enforces it with 429 + Retry-After. */
export const SUBSCRIPTION_THROTTLING = {
  enabled: true,
  readCapacity: 250,
  readsPerSecond: 25,
  writeCapacity: 200,
  writesPerSecond: 10,
};

/** `size` groups, each a pair eastus → westus with one database, in one subscription and resource group. */
export function fleetWorld(size: number, roleSwitchSeconds: number): WorldSpecInput {
  const names = Array.from({ length: size }, (_, index) => `fleet-${index + 1}`);
  return {
    instances: names.flatMap((name) => [
      { name: `${name}-eastus`, resourceGroup: 'rg-fleet', location: 'eastus' },
      { name: `${name}-westus`, resourceGroup: 'rg-fleet', location: 'westus' },
    ]),
    groups: names.map((name) => ({
      name,
      resourceGroup: 'rg-fleet',
      primaryInstance: `${name}-eastus`,
      secondaryInstance: `${name}-westus`,
      databases: [{ name: 'orders' }],
    })),
    timings: { roleSwitchSeconds },
    throttling: SUBSCRIPTION_THROTTLING,
  };
}

export interface FleetRun {
  size: number;
  wallMs: number;
  outcome: string;
  counts: Record<string, number>;
  allSucceeded: boolean;
  /** Groups whose failover POSTs accepted were not exactly one, to westus. */
  postProblems: string[];
  violations: string[];
  armReads: number;
  armWrites: number;
  readsPerGroup: number;
  /** Reads by the emulator route they matched, most first: where the reads per group go. */
  readsByRoute: { route: string; reads: number }[];
  readRate: ReadRate;
  /** 429 answers the emulator gave (its token buckets plus any fault). */
  throttled: number;
  /** 429s as counted by the runbooks' own reports (the fleet's armCalls). */
  throttledSeenByRunbooks?: number;
  workerPeakRssMiB: number;
  workerRssAtEndMiB: number;
  /** The most V8 heap each thread of the worker used and reserved (0: main, activities; 1: workflows), MiB. */
  workerHeaps: { threadId: number; heapUsedMiB: number; heapTotalMiB: number }[];
  historyEvents: { max: number; median: number; min: number; parent: number; children: number };
  /** Each child's run time (first to last history event), and when it started after the fleet did. */
  childSeconds: { median: number; max: number; min: number };
  childStartSpreadSeconds: number;
  /** Where the children's time went: each step's duration across children (median and max, s). */
  childSteps: { name: string; median: number; max: number }[];
  /** The slowest child's steps (s), and its report's ARM calls and warnings. */
  slowestChild?: {
    group: string;
    seconds: number;
    steps: { name: string; seconds: number }[];
    armCalls: unknown;
    warnings: string[];
  };
}

async function historyOf(
  temporal: BenchTemporal,
  workflowId: string,
): Promise<{ events: number; startedAt: number; endedAt: number }> {
  const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const time = (index: number) => {
    const eventTime = events[index]?.eventTime;
    return eventTime ? Number(eventTime.seconds ?? 0) * 1000 + Math.floor((eventTime.nanos ?? 0) / 1e6) : NaN;
  };
  return { events: events.length, startedAt: time(0), endedAt: time(events.length - 1) };
}

async function inBatches<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** One fleet of `size` groups: a fresh emulator and worker, the fleet started through fogpilot's client. */
export async function runFleet(temporal: BenchTemporal, size: number, options: FleetOptions): Promise<FleetRun> {
  const emulator: Emulator = await startEmulator({
    world: fleetWorld(size, options.roleSwitchSeconds),
    speed: options.speed,
  });
  const config = writeWorkerConfig(emulator, DEFAULT_RATE_LIMITS);
  const heapLog = path.join(path.dirname(config.file), 'heap.jsonl');
  try {
    const worker = await startWorkerProcess({ temporal, config, nodeOptions: options.workerNodeOptions, heapLog });
    try {
      const fogpilot = new FogpilotClient(temporal.client, worker.taskQueue);
      const stats = { ...emulator.arm.stats };
      const startedAt = Date.now();
      const started = await fogpilot.start('fleetFailover', {
        region: 'eastus',
        concurrency: options.concurrency,
        requestedBy: 'bench/fleet',
      });
      const result = await fogpilot.result(started.workflowId);
      const endedAt = Date.now();
      const workerPeakRssKb = worker.peakRssKb();
      const workerRssAtEndKb = worker.samples.at(-1)?.rssKb ?? NaN;
      const report: RunbookReport | undefined = result.report;
      const members = report?.fleet?.members ?? [];

      const invariants = emulator.world.invariants();
      const postProblems: string[] = [];
      for (const group of emulator.world.groups.values()) {
        const counters = invariants.failovers[group.name];
        if (counters?.accepted !== 1 || counters.acceptedTo.westus !== 1)
          postProblems.push(`${group.name}: ${JSON.stringify(counters ?? 'no failover POST')}`);
      }
      const requests = requestsBetween(emulator, startedAt, endedAt);
      const reads = requests.filter(isRead).length;
      const histories = await inBatches(
        members.filter((member) => member.workflowId),
        10,
        (member) => historyOf(temporal, member.workflowId!),
      );
      const parent = await historyOf(temporal, started.workflowId);
      const eventCounts = histories.map((history) => history.events);
      const childMs = histories.map((history) => history.endedAt - history.startedAt);
      const childStarts = histories.map((history) => history.startedAt);
      const counts = report?.fleet?.counts ?? {};
      const childReports = await inBatches(
        members.filter((member) => member.workflowId),
        10,
        async (member) => ({
          group: member.group,
          report: (await fogpilot.result(member.workflowId!)).report,
        }),
      );
      const stepSeconds = (child: RunbookReport | undefined) =>
        (child?.steps ?? [])
          .filter((step) => step.startedAt && step.endedAt)
          .map((step) => ({
            name: step.name,
            seconds: seconds(Date.parse(step.endedAt!) - Date.parse(step.startedAt!)),
          }));
      const stepNames = [
        ...new Set(childReports.flatMap((child) => stepSeconds(child.report).map((step) => step.name))),
      ];
      const childSteps = stepNames.map((name) => {
        const values = childReports.map(
          (child) => stepSeconds(child.report).find((step) => step.name === name)?.seconds ?? 0,
        );
        return { name, median: median(values), max: Math.max(...values) };
      });
      const slowestIndex = childMs.indexOf(Math.max(...childMs));
      const slowest = childReports[slowestIndex];
      return {
        size,
        wallMs: endedAt - startedAt,
        outcome: result.failure
          ? `failed: ${result.failure.type}: ${result.failure.message}`
          : (report?.outcome ?? '?'),
        counts,
        allSucceeded: members.length === size && members.every((member) => member.outcome === 'succeeded'),
        postProblems,
        violations: invariants.violations,
        armReads: emulator.arm.stats.reads - stats.reads,
        armWrites: emulator.arm.stats.writes - stats.writes,
        readsPerGroup: round(reads / size, 1),
        readsByRoute: readsByRoute(requests),
        readRate: readRate(requests, startedAt, endedAt),
        throttled: emulator.arm.stats.throttled - stats.throttled,
        throttledSeenByRunbooks: report?.armCalls.throttled,
        workerPeakRssMiB: round(workerPeakRssKb / 1024, 1),
        workerRssAtEndMiB: round(workerRssAtEndKb / 1024, 1),
        workerHeaps: heapPeaks(heapLog),
        historyEvents: {
          max: Math.max(0, ...eventCounts),
          median: median(eventCounts),
          min: Math.min(...eventCounts),
          parent: parent.events,
          children: eventCounts.length,
        },
        childSeconds: {
          median: seconds(median(childMs)),
          max: seconds(Math.max(...childMs)),
          min: seconds(Math.min(...childMs)),
        },
        childStartSpreadSeconds: seconds(Math.max(...childStarts) - Math.min(...childStarts)),
        childSteps,
        slowestChild: slowest && {
          group: slowest.group,
          seconds: seconds(childMs[slowestIndex]!),
          steps: stepSeconds(slowest.report),
          armCalls: slowest.report?.armCalls,
          warnings: slowest.report?.warnings ?? [],
        },
      };
    } finally {
      await worker.stop();
    }
  } finally {
    config.cleanup();
    await emulator.close();
  }
}

function readsByRoute(requests: ArmRequestRecord[]): { route: string; reads: number }[] {
  const counts = new Map<string, number>();
  for (const request of requests.filter(isRead)) counts.set(request.route, (counts.get(request.route) ?? 0) + 1);
  return [...counts.entries()].map(([route, reads]) => ({ route, reads })).sort((a, b) => b.reads - a.reads);
}

/** What the emulator costs under a read-only load on a world of `groups` groups. */
export interface EmulatorLoad {
  groups: number;
  reads: number;
  failed: number;
  wallMs: number;
  /** CPU time of the bench process (user + system), which runs the emulator and nothing else meanwhile. */
  emulatorCpuMs: number;
  /** emulatorCpuMs / wallMs: the share of one core the emulator used while serving as fast as it was asked. */
  cpuShare: number;
  cpuMsPerRead: number;
  /** The share of one core the emulator would use serving Azure's sustained 25 reads/s. */
  shareAtSubscriptionRate: number;
}

/** Lanes of the load client: enough to keep the emulator busy on 2 cores. */
const EMULATOR_LOAD_CONCURRENCY = 32;

export async function runEmulatorLoad(groups: number, options: FleetOptions): Promise<EmulatorLoad> {
  const world = { ...fleetWorld(groups, options.roleSwitchSeconds), throttling: { enabled: false } };
  const emulator: Emulator = await startEmulator({ world, speed: options.speed });
  try {
    const cpuBefore = process.cpuUsage();
    const { stdout } = await promisify(execFile)(process.execPath, [
      path.join(__dirname, 'emulator-load-client.js'),
      emulator.armEndpoint,
      emulator.world.spec.subscriptionId,
      String(groups),
      '1',
      String(EMULATOR_LOAD_CONCURRENCY),
    ]);
    const cpu = process.cpuUsage(cpuBefore);
    const load = JSON.parse(stdout.trim().split('\n').at(-1)!) as { reads: number; failed: number; wallMs: number };
    const emulatorCpuMs = (cpu.user + cpu.system) / 1000;
    const cpuMsPerRead = emulatorCpuMs / Math.max(1, load.reads);
    return {
      groups,
      ...load,
      emulatorCpuMs: round(emulatorCpuMs, 0),
      cpuShare: round(emulatorCpuMs / Math.max(1, load.wallMs), 3),
      cpuMsPerRead: round(cpuMsPerRead, 3),
      shareAtSubscriptionRate: round((cpuMsPerRead * SUBSCRIPTION_THROTTLING.readsPerSecond) / 1000, 3),
    };
  } finally {
    await emulator.close();
  }
}

export function checkFleetRun(run: FleetRun): string[] {
  const problems: string[] = [];
  if (run.outcome !== 'succeeded') problems.push(`outcome ${run.outcome}`);
  if (!run.allSucceeded) problems.push(`not every child succeeded: ${JSON.stringify(run.counts)}`);
  if (run.postProblems.length > 0) problems.push(`failover POSTs: ${run.postProblems.slice(0, 5).join('; ')}`);
  if (run.violations.length > 0) problems.push(`violations: ${run.violations.join('; ')}`);
  return problems;
}

const fmt = (value: number | undefined, digits = 2) =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : String(round(value, digits));

export function summarizeFleet(
  runs: FleetRun[],
  options: FleetOptions,
  benchWallMs: number,
  machine = machineInfo(),
  date = new Date().toISOString(),
  load?: EmulatorLoad,
): BenchResults {
  const base = runs.find((run) => run.size === 1) ?? runs[0]!;
  const largest = runs.reduce((best, run) => (run.size > best.size ? run : best), runs[0]!);
  const ratioOf = (run: FleetRun) => run.wallMs / base.wallMs;
  const rows: (string | number)[][] = [
    ['wall time (s)', ...runs.map((run) => fmt(seconds(run.wallMs)))],
    ['× one group’s wall time', ...runs.map((run) => fmt(ratioOf(run)))],
    ['outcome', ...runs.map((run) => `${run.outcome} ${JSON.stringify(run.counts)}`)],
    ['worker peak RSS (MiB)', ...runs.map((run) => fmt(run.workerPeakRssMiB, 1))],
    ['worker RSS at the end (MiB)', ...runs.map((run) => fmt(run.workerRssAtEndMiB, 1))],
    [
      'worker V8 heap used, most: main / workflow thread (MiB)',
      ...runs.map((run) => run.workerHeaps.map((heap) => fmt(heap.heapUsedMiB, 0)).join(' / ') || 'n/a'),
    ],
    ['history events per child: max', ...runs.map((run) => run.historyEvents.max)],
    ['history events per child: median', ...runs.map((run) => run.historyEvents.median)],
    ['history events of the fleet run', ...runs.map((run) => run.historyEvents.parent)],
    ['child run time: median / max (s)', ...runs.map((run) => `${run.childSeconds.median} / ${run.childSeconds.max}`)],
    ['last child started after the first (s)', ...runs.map((run) => run.childStartSpreadSeconds)],
    ['ARM reads', ...runs.map((run) => run.armReads)],
    ['ARM reads per group', ...runs.map((run) => run.readsPerGroup)],
    ['ARM writes', ...runs.map((run) => run.armWrites)],
    ['ARM reads/s: mean', ...runs.map((run) => run.readRate.mean)],
    ['ARM reads/s: most in any 1 s', ...runs.map((run) => run.readRate.maxInAnySecond)],
    ['ARM reads/s: most in a fixed 1-s bin', ...runs.map((run) => run.readRate.maxInFixedSecond)],
    ['ARM reads/s: highest 10-s average', ...runs.map((run) => run.readRate.maxTenSecondRate)],
    ['ARM reads/s: highest 60-s average', ...runs.map((run) => run.readRate.maxMinuteRate)],
    ['429s met (emulator)', ...runs.map((run) => run.throttled)],
    ['every group: one POST to westus; no violation', ...runs.map((run) => (checkFleetRun(run).length ? 'no' : 'yes'))],
  ];

  // The lower bound the read budget sets on the largest fleet's wall time.
  const reads = largest.armReads;
  const azureBoundS = Math.max(
    0,
    (reads - SUBSCRIPTION_THROTTLING.readCapacity) / SUBSCRIPTION_THROTTLING.readsPerSecond,
  );
  const limiterBoundS = Math.max(0, (reads - DEFAULT_RATE_LIMITS.readsPerSecond) / DEFAULT_RATE_LIMITS.readsPerSecond);
  const waves = Math.ceil(largest.size / options.concurrency);
  const largestRatio = ratioOf(largest);
  const peakRss = Math.max(...runs.map((run) => run.workerPeakRssMiB));
  const peakRssMB = (peakRss * 1024 * 1024) / 1e6;
  const maxEvents = Math.max(...runs.map((run) => run.historyEvents.max));
  const maxReadsInSecond = Math.max(...runs.map((run) => run.readRate.maxInAnySecond));
  const total429 = runs.reduce((sum, run) => sum + run.throttled, 0);
  const allAbsorbed = runs.every((run) => checkFleetRun(run).length === 0);
  const burstRun = runs.find((run) => run.readRate.maxInAnySecond === maxReadsInSecond)!;

  const readsPerSecond = DEFAULT_RATE_LIMITS.readsPerSecond;
  const ratioTarget = 3;
  const targetS = ratioTarget * seconds(base.wallMs);
  const readsPerGroupTarget = 3;
  const readsPerGroup = largest.readsPerGroup;
  const routesPerGroup = largest.readsByRoute
    .map((entry) => `${fmt(entry.reads / largest.size, 1)} ${entry.route.split('/').slice(-2).join('/')}`)
    .join(', ');
  const targets: TargetResult[] = [
    {
      target: `${largest.size} groups within ${ratioTarget}× one group's wall time`,
      measured: `${fmt(largestRatio)}× (${fmt(seconds(largest.wallMs))} s vs ${fmt(seconds(base.wallMs))} s for one group; ${ratioTarget}× is ${fmt(targetS)} s)`,
      verdict: largestRatio <= ratioTarget ? 'PASS' : 'MISSED',
      reason:
        largestRatio <= ratioTarget
          ? undefined
          : `the read budget bounds it: ${largest.size} groups cost ${reads} ARM reads (${readsPerGroup} per group). ` +
            `At the worker's ${readsPerSecond} reads in any 1 s that takes at least (${reads} − ${readsPerSecond}) / ` +
            `${readsPerSecond} = ${fmt(limiterBoundS, 1)} s; at Azure's sustained ${SUBSCRIPTION_THROTTLING.readsPerSecond}/s after ` +
            `its ${SUBSCRIPTION_THROTTLING.readCapacity}-read burst (${reads} − ${SUBSCRIPTION_THROTTLING.readCapacity}) / ` +
            `${SUBSCRIPTION_THROTTLING.readsPerSecond} = ${fmt(azureBoundS, 1)} s — against ${fmt(targetS)} s allowed. The ` +
            `measured ${fmt(seconds(largest.wallMs))} s is ${fmt(seconds(largest.wallMs) / Math.max(limiterBoundS, 1e-9))}× ` +
            `the worker-budget bound. Concurrency is capped at ${options.concurrency} by the input: ${waves} wave(s).`,
    },
    {
      target: `≤ ${readsPerGroupTarget} ARM reads per group on average`,
      measured: `${readsPerGroup} per group (${reads} reads, ${largest.size} groups): ${routesPerGroup}`,
      verdict: readsPerGroup <= readsPerGroupTarget ? 'PASS' : 'MISSED',
      reason:
        readsPerGroup <= readsPerGroupTarget
          ? undefined
          : `per group, by route: ${routesPerGroup}. Failover groups and managed instances are read through the ` +
            "worker's read coalescer (list calls shared by concurrent runbooks); the failover's async-operation polls and " +
            "each instance's operations list have no list call that answers many groups, and stay one read each.",
    },
    {
      target: `never more than ${SUBSCRIPTION_THROTTLING.readsPerSecond} reads in any 1 s`,
      measured:
        `most reads in any 1 s: ${maxReadsInSecond} (fleet of ${burstRun.size}); highest 10-s average ` +
        `${Math.max(...runs.map((run) => run.readRate.maxTenSecondRate))}/s; 429s met: ${total429}; ` +
        `${allAbsorbed ? 'every child succeeded' : 'NOT every child succeeded'}`,
      verdict: maxReadsInSecond <= SUBSCRIPTION_THROTTLING.readsPerSecond && allAbsorbed ? 'PASS' : 'MISSED',
      reason:
        maxReadsInSecond <= SUBSCRIPTION_THROTTLING.readsPerSecond && allAbsorbed
          ? undefined
          : maxReadsInSecond > SUBSCRIPTION_THROTTLING.readsPerSecond
            ? `the worker's read bucket (src/azure/rate-limiter.ts) sends at most ${readsPerSecond * 1.25} reads in any ` +
              `sliding 1.25 s, so more than that within 1 s at the emulator needs transit times differing by more ` +
              `than ${READ_TRANSIT_JITTER_MS} ms (a stalled event loop on either side) or another reader of the ` +
              `subscription; ${maxReadsInSecond} arrived within 1 s.`
            : 'not every child succeeded: see the outcomes in the table.',
    },
    {
      target: 'worker RSS ≤ 512 MB',
      measured: `peak ${fmt(peakRss, 1)} MiB = ${fmt(peakRssMB, 0)} MB (VmHWM / VmRSS samples of the worker process)`,
      verdict: peakRssMB <= 512 ? 'PASS' : 'MISSED',
      reason: peakRssMB <= 512 ? undefined : rssReason(runs, options),
    },
    {
      target: '≤ 300 history events per child run',
      measured: `max ${maxEvents} over every child of every fleet`,
      verdict: maxEvents <= 300 ? 'PASS' : 'MISSED',
      reason: maxEvents <= 300 ? undefined : 'see history events per child in the table.',
    },
    ...(load ? [emulatorTarget(load)] : []),
  ];

  return {
    benchmark: options.name,
    title: `Fleet failover at scale (concurrency ${options.concurrency})`,
    date,
    command: options.command,
    machine,
    benchWallSeconds: seconds(benchWallMs, 1),
    settings: {
      sizes: options.sizes.join(', '),
      concurrency: `${options.concurrency} (the most fleetFailover accepts: a region failover wants every group moving; the worker's ARM budget meters the reads)`,
      speed: `${options.speed}× (a ${options.roleSwitchSeconds}-s role switch takes ${round(options.roleSwitchSeconds / options.speed, 2)} s)`,
      world:
        'N groups eastus → westus, one database each, one subscription; emulator throttling reads 250 burst 25/s, writes 200 burst 10/s',
      worker: `one \`fogpilot worker\` process per size, default ARM budget ${JSON.stringify(DEFAULT_RATE_LIMITS)}`,
      input: `fleetFailover { region: 'eastus', concurrency: ${options.concurrency} } via fogpilot's client`,
    },
    table: { headings: ['figure', ...runs.map((run) => `${run.size} group${run.size === 1 ? '' : 's'}`)], rows },
    targets,
    definitions: [
      "Wall time: fogpilot's client starts the fleet → its result is received. One group's: the fleet of 1.",
      'Worker peak RSS: the larger of the worker process’s VmHWM at the end and its VmRSS sampled every 250 ms (/proc), ' +
        'in MiB; the verdict converts to MB (10^6 bytes) as the target is stated: 512 MB = 488.3 MiB. V8 heaps: sampled each second ' +
        'in each thread of the worker by bench/heap-probe-rig.ts, preloaded with NODE_OPTIONS=--require.',
      "History events per child: the length of each child plannedFailover's history (fetchHistory of its lock id).",
      'ARM reads/s: from the emulator’s request log (arrival times of GET/HEAD during the fleet run): the most in any ' +
        'sliding 1000-ms window, in any fixed 1-s bin, and the highest 10-s and 60-s averages (a run shorter than the ' +
        'window counts all its reads over the window’s length).',
      '429s met: 429 answers the emulator gave during the run; absorbed = every child still succeeded with one POST.',
    ],
    profile: [
      {
        heading: 'Where the largest fleet’s time went',
        lines: [
          `- Child runs: median ${largest.childSeconds.median} s, max ${largest.childSeconds.max} s ` +
            `(${base.childSeconds.median} s for a fleet of one): children wait on the shared ARM budget.`,
          `- Reads: ${reads} at a mean ${largest.readRate.mean}/s over the run; the budget bounds above are ` +
            `${fmt(azureBoundS, 1)} s (Azure) and ${fmt(limiterBoundS, 1)} s (worker default).`,
          `- Children started over ${largest.childStartSpreadSeconds} s (${waves} wave(s) at concurrency ${options.concurrency}).`,
          `- The fleet run's own history: ${largest.historyEvents.parent} events for ${largest.size} groups ` +
            `(${fmt(largest.historyEvents.parent / largest.size, 1)} per group); the input's maximum of 500 groups would ` +
            `make about ${fmt((500 * largest.historyEvents.parent) / largest.size, 0)}, against Temporal's warning at 10,240.`,
        ],
      },
      {
        heading: "Children's steps: median / max seconds per size",
        lines: markdownTable(
          ['step', ...runs.map((run) => `${run.size}`)],
          [...new Set(runs.flatMap((run) => run.childSteps.map((step) => step.name)))].map((name) => [
            name,
            ...runs.map((run) => {
              const step = run.childSteps.find((entry) => entry.name === name);
              return step ? `${fmt(step.median)} / ${fmt(step.max)}` : 'n/a';
            }),
          ]),
        ),
      },
      {
        heading: 'Per size',
        lines: markdownTable(
          ['size', 'wall (s)', 'reads', 'reads/group', 'mean reads/s', 'bound at 20/s (s)', 'bound at 25/s (s)'],
          runs.map((run) => [
            run.size,
            fmt(seconds(run.wallMs)),
            run.armReads,
            run.readsPerGroup,
            run.readRate.mean,
            fmt(Math.max(0, (run.armReads - DEFAULT_RATE_LIMITS.readBurst) / DEFAULT_RATE_LIMITS.readsPerSecond), 1),
            fmt(
              Math.max(
                0,
                (run.armReads - SUBSCRIPTION_THROTTLING.readCapacity) / SUBSCRIPTION_THROTTLING.readsPerSecond,
              ),
              1,
            ),
          ]),
        ),
      },
    ],
    raw: { runs, ...(load ? { emulatorLoad: load } : {}) },
  };
}

/** The emulator's CPU share: it must not be what bounds a fleet (half a core at Azure's sustained read rate). */
function emulatorTarget(load: EmulatorLoad): TargetResult {
  const bound = 0.5;
  const met = load.shareAtSubscriptionRate <= bound && load.failed === 0;
  return {
    target: `the emulator not the bottleneck at ${load.groups} groups (≤ ${bound * 100}% of a core at ${SUBSCRIPTION_THROTTLING.readsPerSecond} reads/s)`,
    measured:
      `read-only load (every group's and instance's GET, ${EMULATOR_LOAD_CONCURRENCY} lanes, no client budget): ` +
      `${load.reads} reads in ${fmt(load.wallMs / 1000)} s, emulator CPU ${load.emulatorCpuMs} ms = ` +
      `${fmt(load.cpuShare * 100, 1)}% of the wall time, ${load.cpuMsPerRead} ms per read → ` +
      `${fmt(load.shareAtSubscriptionRate * 100, 1)}% of a core at ${SUBSCRIPTION_THROTTLING.readsPerSecond} reads/s` +
      (load.failed ? `; ${load.failed} reads failed` : ''),
    verdict: met ? 'PASS' : 'MISSED',
    reason: met
      ? undefined
      : `${load.cpuMsPerRead} ms of CPU per read × ${SUBSCRIPTION_THROTTLING.readsPerSecond} reads/s = ` +
        `${fmt(load.shareAtSubscriptionRate * 100, 1)}% of a core, over the ${bound * 100}% bound` +
        (load.failed ? `; ${load.failed} reads failed` : ''),
  };
}

/** Where the worker's memory went, from the heap probe's figures per thread. */
function rssReason(runs: FleetRun[], options: FleetOptions): string {
  const peak = runs.reduce((best, run) => (run.workerPeakRssMiB > best.workerPeakRssMiB ? run : best), runs[0]!);
  const base = runs.find((run) => run.size === 1) ?? runs[0]!;
  const heap = (run: FleetRun, threadId: number) => run.workerHeaps.find((entry) => entry.threadId === threadId);
  const main = heap(peak, 0);
  const workflows = heap(peak, 1);
  if (!main || !workflows) return `peak ${peak.workerPeakRssMiB} MiB with ${peak.size} groups (no heap figures).`;
  const atOnce = Math.min(options.concurrency, peak.size);
  const perRunbook = (workflows.heapUsedMiB - (heap(base, 1)?.heapUsedMiB ?? 0)) / atOnce;
  const heaps = main.heapTotalMiB + workflows.heapTotalMiB;
  const saturating = (DEFAULT_RATE_LIMITS.readsPerSecond * base.childSeconds.median) / base.readsPerGroup;
  return (
    `peak ${peak.workerPeakRssMiB} MiB with ${peak.size} groups, ${atOnce} runbooks at once. V8 heaps: the workflow ` +
    `thread used up to ${workflows.heapUsedMiB} MiB (${workflows.heapTotalMiB} reserved) — about ${fmt(perRunbook, 1)} MiB ` +
    `per running runbook over the ${heap(base, 1)?.heapUsedMiB ?? '?'} MiB of a one-group fleet; the main thread (activities, ` +
    `the SDK clients, SQL pools for ${2 * peak.size} instances, the workflow bundle read at start) up to ` +
    `${main.heapUsedMiB} MiB (${main.heapTotalMiB} reserved). The other ${fmt(peak.workerPeakRssMiB - heaps, 0)} MiB ` +
    `are native: Temporal's core, V8's code and the threads' stacks. A worker running one group already peaks at ` +
    `${base.workerPeakRssMiB} MiB. The memory follows the runbooks running at once, so a lower \`concurrency\` bounds it; ` +
    `and at the worker's ${DEFAULT_RATE_LIMITS.readsPerSecond} reads/s, with ${base.readsPerGroup} reads per group over a ` +
    `${base.childSeconds.median}-s child run, about ${fmt(saturating, 0)} runbooks at once already spend the whole budget.`
  );
}

export async function runFleetBench(
  options: FleetOptions,
  temporal?: BenchTemporal,
): Promise<{ results: BenchResults; runs: FleetRun[] }> {
  const started = Date.now();
  const machine = machineInfo();
  const server = temporal ?? (await startBenchTemporal());
  try {
    const runs: FleetRun[] = [];
    for (const size of options.sizes) {
      const run = await runFleet(server, size, options);
      runs.push(run);
      options.log(
        `fleet of ${size}: ${seconds(run.wallMs)} s, ${run.outcome}, peak RSS ${run.workerPeakRssMiB} MiB, ` +
          `history ≤ ${run.historyEvents.max} events/child, ${run.armReads} reads (max ${run.readRate.maxInAnySecond} in 1 s), ` +
          `${run.throttled} 429s`,
      );
      options.log(`  reads by route: ${run.readsByRoute.map((entry) => `${entry.reads} ${entry.route}`).join('; ')}`);
      const problems = checkFleetRun(run);
      if (problems.length > 0) options.log(`  problems: ${problems.join('; ')}`);
    }
    let load: EmulatorLoad | undefined;
    if (options.emulatorLoad) {
      load = await runEmulatorLoad(options.emulatorLoad, options);
      options.log(
        `emulator load of ${load.groups} groups: ${load.reads} reads in ${load.wallMs} ms, emulator CPU ` +
          `${load.emulatorCpuMs} ms (${load.cpuMsPerRead} ms/read, ${load.shareAtSubscriptionRate * 100}% of a core at 25/s)`,
      );
    }
    const results = summarizeFleet(runs, options, Date.now() - started, machine, undefined, load);
    if (options.outDir !== false) {
      const written = writeResults(results, options.outDir);
      options.log(`wrote ${written.markdown} and ${written.json}`);
    }
    return { results, runs };
  } finally {
    if (!temporal) await server.stop();
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const options: FleetOptions = {
    ...DEFAULT_FLEET_OPTIONS,
    sizes: (flag(argv, 'sizes') ?? DEFAULT_FLEET_OPTIONS.sizes.join(',')).split(',').map(Number),
    concurrency: Number(flag(argv, 'concurrency') ?? DEFAULT_FLEET_OPTIONS.concurrency),
    speed: Number(flag(argv, 'speed') ?? DEFAULT_FLEET_OPTIONS.speed),
    outDir: flag(argv, 'out') ?? DEFAULT_FLEET_OPTIONS.outDir,
    workerNodeOptions: flag(argv, 'worker-node-options'),
    emulatorLoad: flag(argv, 'emulator-load') ? Number(flag(argv, 'emulator-load')) : undefined,
    name: flag(argv, 'name') ?? DEFAULT_FLEET_OPTIONS.name,
  };
  options.command =
    `node dist/bench/fleet.js --sizes ${options.sizes.join(',')} --concurrency ${options.concurrency} --speed ${options.speed}` +
    (options.workerNodeOptions ? ` --worker-node-options '${options.workerNodeOptions}'` : '') +
    (options.name !== DEFAULT_FLEET_OPTIONS.name ? ` --name ${options.name}` : '') +
    (options.emulatorLoad ? ` --emulator-load ${options.emulatorLoad}` : '');
  runFleetBench(options)
    .then(({ results }) => {
      printTable(results);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
