/**
 * `npm run chaos`: DR drills back to back on the real Temporal dev server while the fogpilot worker process is killed
 * with SIGKILL — inside activities, right after the failover POST, while polling for the role switch — and started
 * again. The emulator decides: every drill completes, exactly one failover POST per direction per drill, never two
 * primaries. Writes docs/results/chaos.md and chaos.json; exits 1 on any violation or incomplete drill.
 *
 *   node dist/bench/chaos.js [--drills 50] [--seed N] [--speed 10] [--soak "2 seconds"] [--out docs/results]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findTemporalCli, packageRoot } from '../src/dev-server';
import {
  ChaosRig,
  KILL_CLASSES,
  KillClasses,
  SeededRandom,
  runUnderChaos,
  type ChaosRunResult,
  type KillClass,
  type KillPlan,
} from './chaos-rig';
import { percentile } from './recovery';

/** The target of issue 15: a SIGKILLed worker's runs resume on another worker within this. */
const RECOVERY_TARGET_MS = 15_000;

const GROUP = 'fog-chaos';

interface Options {
  drills: number;
  seed: number;
  speed: number;
  soak: string;
  out: string;
  drillTimeoutMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      drills: { type: 'string', default: '50' },
      seed: { type: 'string' },
      speed: { type: 'string', default: '10' },
      soak: { type: 'string', default: '2 seconds' },
      out: { type: 'string', default: path.join(packageRoot, 'docs', 'results') },
      'drill-timeout-minutes': { type: 'string', default: '10' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'node dist/bench/chaos.js [--drills 50] [--seed N] [--speed 10] [--soak "2 seconds"] [--out docs/results] ' +
        '[--drill-timeout-minutes 10]\n',
    );
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, min: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`--${name} must be a whole number ≥ ${min} (got ${raw})`);
    return value;
  };
  return {
    drills: number('drills', values.drills, 1),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', values.seed, 0),
    speed: number('speed', values.speed, 1),
    soak: values.soak,
    out: path.resolve(values.out),
    drillTimeoutMs: number('drill-timeout-minutes', values['drill-timeout-minutes'], 1) * 60_000,
  };
}

/**
 * The kills of one drill: one of `first` (the classes take turns), and in about a third of the drills a second one
 * once the worker is back. Moments are random: how far into the drill, which leg, how long after the POST.
 */
function planKills(random: SeededRandom, first: KillClass, switchRealMs: number): KillPlan[] {
  const plan = (kind: KillClass, leg: 'failover' | 'failback' | 'any', maxAfterMs: number): KillPlan => {
    switch (kind) {
      case KillClasses.inActivity:
        return { class: kind, afterMs: random.int(0, maxAfterMs) };
      case KillClasses.afterFailoverPost:
        return { class: kind, leg, delayMs: random.chance(0.5) ? 0 : random.int(1, 40) };
      case KillClasses.whilePolling:
        return { class: kind, leg, delayMs: random.int(100, Math.max(200, switchRealMs - 200)) };
    }
  };
  const firstLeg = random.pick(['failover', 'failback'] as const);
  const kills = [plan(first, firstLeg, 15_000)];
  if (random.chance(1 / 3)) {
    // After a kill on the way back there is no POST left to aim at: only an activity.
    const second =
      first !== KillClasses.inActivity && firstLeg === 'failback' ? KillClasses.inActivity : random.pick(KILL_CLASSES);
    kills.push(plan(second, 'any', 8_000));
  }
  return kills;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function describeKills(result: ChaosRunResult): string {
  const fired = result.kills.map(
    (kill) =>
      `${kill.class} at ${seconds(kill.atMs)} s (${kill.detail}; ` +
      `${kill.recovery ? `recovered in ${seconds(kill.recovery.ms)} s` : 'recovery not seen in the histories'})`,
  );
  const unfired = result.unfired.map((kind) => `${kind}: moment never came`);
  return [...fired, ...unfired].join('; ') || 'none';
}

function temporalVersion(): string {
  const cli = findTemporalCli();
  if (!cli) return "the SDK's downloaded dev server";
  try {
    return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return cli;
  }
}

interface Summary {
  generatedAt: string;
  command: string;
  seed: number;
  speed: number;
  soak: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; node: string; temporal: string };
  drillsPlanned: number;
  drillsRun: number;
  drillsCompleted: number;
  drillsWithExactlyOnePostPerDirection: number;
  kills: Record<KillClass, number> & { total: number; unfired: number };
  posts: { received: number; accepted: number; refused: number; acceptedTo: Record<string, number> };
  refusedCodes: Record<string, number>;
  sendActivities: Record<string, number>;
  sendOutcomes: Record<string, number>;
  recoveries: Record<string, number>;
  violations: string[];
  /** Drills whose write probe proved no acknowledged write was lost. */
  drillsWithNoDataLoss: number;
  twoPrimaries: number;
  primarySamples: number;
  /** The client-side checks: writes accepted through each instance's endpoint, overlaps, loss accounts that differ. */
  clientSide: { accepted: number; refused: number; splitBrain: number; lossMiscounted: number; lossUnverified: number };
  bothReportPrimarySamples: number;
  workerStarts: number;
  wallSeconds: number;
  baseline?: { wallSeconds: number; outcome: string };
  drillWallSeconds: { byFirstKillClass: Record<string, { drills: number; median: number; max: number }> };
  recovery: RecoverySummary;
  workerLog: string;
  drills: Omit<ChaosRunResult, 'report'>[];
}

interface RecoveryFigures {
  kills: number;
  /** Kills whose recovery the histories show (a kill that stranded nothing has none). */
  measured: number;
  /** Recovery time in seconds (until every stranded piece of work was picked up again). */
  p50: number;
  p95: number;
  max: number;
  /** Until the first event a new worker produced for the run (median): when the run first showed life. */
  firstEventP50: number;
  /** Figures that rest on an attempt of a later replacement (see bench/recovery.ts): upper bounds. */
  upperBounds: number;
  /** The slowest recovery measured exactly (no upper bound among them): what the target is judged on. */
  exactMax: number;
  /** The largest upper bound, when there are any: the history cannot say how much of it the first kill cost. */
  upperBoundMax?: number;
  /** What was picked up last in the slowest recovery. */
  slowest?: string;
  met: boolean;
}

interface RecoverySummary {
  targetSeconds: number;
  byKillClass: Record<KillClass, RecoveryFigures>;
  restartDelaySeconds: { min: number; max: number };
  met: boolean;
}

function recoverySummary(results: ChaosRunResult[]): RecoverySummary {
  const kills = results.flatMap((result) => result.kills);
  const byKillClass = {} as Record<KillClass, RecoveryFigures>;
  for (const kind of KILL_CLASSES) {
    const ofKind = kills.filter((kill) => kill.class === kind);
    const measured = ofKind.filter((kill) => kill.recovery !== undefined);
    const times = measured.map((kill) => kill.recovery!.ms / 1000);
    const slowest = measured.reduce<(typeof measured)[number] | undefined>(
      (worst, kill) => (!worst || kill.recovery!.ms > worst.recovery!.ms ? kill : worst),
      undefined,
    );
    const max = Math.max(0, ...times);
    const exact = measured.filter((kill) => !kill.recovery!.upperBound).map((kill) => kill.recovery!.ms / 1000);
    const bounds = measured.filter((kill) => kill.recovery!.upperBound).map((kill) => kill.recovery!.ms / 1000);
    const exactMax = Math.max(0, ...exact);
    byKillClass[kind] = {
      kills: ofKind.length,
      measured: measured.length,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      max,
      firstEventP50: percentile(
        measured.flatMap((kill) =>
          kill.recovery!.firstEventMs === undefined ? [] : [kill.recovery!.firstEventMs / 1000],
        ),
        50,
      ),
      upperBounds: bounds.length,
      exactMax,
      upperBoundMax: bounds.length > 0 ? Math.max(...bounds) : undefined,
      slowest: slowest?.recovery?.last,
      // Judged on the exact figures: an upper bound includes the next kill's own recovery, so it is not this kill's.
      met: exact.length > 0 && exactMax * 1000 <= RECOVERY_TARGET_MS,
    };
  }
  const delays = kills.map((kill) => kill.restartDelayMs / 1000);
  return {
    targetSeconds: RECOVERY_TARGET_MS / 1000,
    byKillClass,
    restartDelaySeconds: { min: Math.min(...delays), max: Math.max(...delays) },
    met: KILL_CLASSES.every((kind) => byKillClass[kind].kills === 0 || byKillClass[kind].met),
  };
}

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function clientSide(results: ChaosRunResult[]): Summary['clientSide'] {
  const sum = (values: Record<string, number>) => Object.values(values).reduce((total, value) => total + value, 0);
  const checks = results.map((result) => result.endpointChecks);
  const verdicts = checks.flatMap((check) => check.dataLoss);
  return {
    accepted: checks.reduce((total, check) => total + sum(check.accepted), 0),
    refused: checks.reduce((total, check) => total + sum(check.refused), 0),
    splitBrain: checks.reduce((total, check) => total + check.splitBrain.length, 0),
    lossMiscounted: verdicts.filter((verdict) => !verdict.ok).length,
    lossUnverified: verdicts.filter((verdict) => verdict.unverified !== undefined).length,
  };
}

function summarize(
  options: Options,
  rig: ChaosRig,
  results: ChaosRunResult[],
  baseline: ChaosRunResult | undefined,
  wallMs: number,
  command: string,
): Summary {
  const cpus = os.cpus();
  const killsOf = (kind: KillClass) => results.flatMap((result) => result.kills).filter((kill) => kill.class === kind);
  const acceptedTo: Record<string, number> = {};
  for (const result of results)
    for (const [location, count] of Object.entries(result.posts.acceptedTo))
      acceptedTo[location] = (acceptedTo[location] ?? 0) + count;
  const byFirstKillClass: Summary['drillWallSeconds']['byFirstKillClass'] = {};
  for (const kind of KILL_CLASSES) {
    const walls = results.filter((result) => result.kills[0]?.class === kind).map((result) => result.wallMs / 1000);
    byFirstKillClass[kind] = { drills: walls.length, median: median(walls), max: Math.max(0, ...walls) };
  }
  const recoveries: Record<string, number> = {};
  for (const result of results)
    for (const [name, count] of Object.entries(result.recoveries)) recoveries[name] = (recoveries[name] ?? 0) + count;
  return {
    generatedAt: new Date().toISOString(),
    command,
    seed: options.seed,
    speed: options.speed,
    soak: options.soak,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      temporal: temporalVersion(),
    },
    drillsPlanned: options.drills,
    drillsRun: results.length,
    drillsCompleted: results.filter((result) => result.outcome === 'succeeded').length,
    drillsWithExactlyOnePostPerDirection: results.filter((result) =>
      Object.values(result.posts.acceptedTo).every((count) => count === 1),
    ).length,
    kills: {
      total: results.reduce((sum, result) => sum + result.kills.length, 0),
      unfired: results.reduce((sum, result) => sum + result.unfired.length, 0),
      [KillClasses.inActivity]: killsOf(KillClasses.inActivity).length,
      [KillClasses.afterFailoverPost]: killsOf(KillClasses.afterFailoverPost).length,
      [KillClasses.whilePolling]: killsOf(KillClasses.whilePolling).length,
    },
    posts: {
      received: results.reduce((sum, result) => sum + result.posts.received, 0),
      accepted: results.reduce((sum, result) => sum + result.posts.accepted, 0),
      refused: results.reduce((sum, result) => sum + result.posts.refused, 0),
      acceptedTo,
    },
    refusedCodes: tally(results.flatMap((result) => result.posts.refusedCodes)),
    sendActivities: tally(results.flatMap((result) => result.sendActivities)),
    sendOutcomes: tally(results.flatMap((result) => result.sendOutcomes)),
    recoveries,
    violations: results.flatMap((result, index) =>
      result.violations.map((violation) => `drill ${index + 1}: ${violation}`),
    ),
    drillsWithNoDataLoss: results.filter((result) => result.dataLoss === 'none').length,
    twoPrimaries: rig.monitor.twoPrimaries.length,
    primarySamples: rig.monitor.samples,
    clientSide: clientSide(results),
    bothReportPrimarySamples: rig.monitor.bothReportPrimarySamples,
    workerStarts: rig.worker.incarnation,
    wallSeconds: Math.round(wallMs / 1000),
    baseline: baseline && { wallSeconds: baseline.wallMs / 1000, outcome: baseline.outcome },
    drillWallSeconds: { byFirstKillClass },
    recovery: recoverySummary(results),
    workerLog: rig.worker.logFile,
    drills: results.map(({ report: _report, ...rest }) => rest),
  };
}

function markdown(summary: Summary): string {
  const k = summary.kills;
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([key, count]) => `${key} ${count}`)
      .join(', ') || 'none';
  const pass = summary.violations.length === 0 && summary.drillsCompleted === summary.drillsPlanned;
  const lines = [
    '# Chaos: DR drills while the worker is killed',
    '',
    `Generated on ${summary.generatedAt} by \`${summary.command}\` (after \`npm run build\`). The same seed draws the same`,
    'kill plans; the moments they land on still depend on timing.',
    '',
    `Machine: ${summary.machine.cpus} CPUs (${summary.machine.cpuModel}), ${summary.machine.memoryGiB} GiB, ${summary.machine.os}, ` +
      `Node ${summary.machine.node}, ${summary.machine.temporal.split('\n')[0]}. Wall times are indicative: the machine is shared.`,
    '',
    `Setup: the Temporal dev server; the emulator in the bench's process at speed ${summary.speed} (Azure's 30-second role`,
    `switch takes ${(30 / summary.speed).toFixed(1)} s); the worker a separate process (\`bin/fogpilot.js worker\`) killed`,
    `with SIGKILL and restarted 0.2–2 s later; drDrill (soak ${summary.soak}, write probe on) of one group, back to back.`,
    '',
    `**Result: ${pass ? 'target met' : 'target MISSED'}** — ${summary.drillsCompleted}/${summary.drillsPlanned} drills completed, ` +
      `${summary.violations.length} violations. **Recovery within ${summary.recovery.targetSeconds} s: ` +
      `${summary.recovery.met ? 'met' : 'MISSED'}** (see "Recovery after a kill").`,
    '',
    '| Measure | Value |',
    '| --- | --- |',
    `| Drills run / completed | ${summary.drillsRun} / ${summary.drillsCompleted} |`,
    `| Worker kills (SIGKILL) | ${k.total}: in an activity ${k['in-activity']}, right after the failover POST ${k['after-failover-post']}, while polling ${k['while-polling']} |`,
    `| Kill moments that never came (the drill ended first) | ${k.unfired} |`,
    `| Worker processes started | ${summary.workerStarts} |`,
    `| Failover POSTs accepted | ${summary.posts.accepted} (${list(summary.posts.acceptedTo)}) |`,
    `| Drills with exactly one accepted POST per direction | ${summary.drillsWithExactlyOnePostPerDirection} / ${summary.drillsRun} |`,
    `| Failover POSTs refused by Azure | ${summary.posts.refused}${summary.posts.refused ? ` (${list(summary.refusedCodes)})` : ''} |`,
    `| Invariant violations | ${summary.violations.length} |`,
    `| Two writable primaries (world sampled) | ${summary.twoPrimaries} in ${summary.primarySamples} samples |`,
    `| Two writable primaries (client-side: overlapping accepted writes through each instance's endpoint) | ${summary.clientSide.splitBrain} (${summary.clientSide.accepted} writes accepted, ${summary.clientSide.refused} refused) |`,
    `| Loss accounts differing from the emulator's count (unverified) | ${summary.clientSide.lossMiscounted} (${summary.clientSide.lossUnverified}) |`,
    `| Drills whose write probe proved no data loss | ${summary.drillsWithNoDataLoss} / ${summary.drillsRun} |`,
    `| Both locations answering Primary (Azure's role-flip skew, expected) | ${summary.bothReportPrimarySamples} samples |`,
    `| sendFailover activities | ${list(summary.sendActivities)} |`,
    `| Failover steps ended as | ${list(summary.sendOutcomes)} |`,
    `| Recoveries in the histories (the cost of the kills) | ${list(summary.recoveries)} |`,
    `| Recovery after a kill (target ≤ ${summary.recovery.targetSeconds} s, every kill measured exactly) | ${summary.recovery.met ? 'met' : 'MISSED'}: slowest exact ${Math.max(...KILL_CLASSES.map((kind) => summary.recovery.byKillClass[kind].exactMax)).toFixed(1)} s; ${KILL_CLASSES.reduce((sum, kind) => sum + summary.recovery.byKillClass[kind].upperBounds, 0)} upper bounds up to ${Math.max(0, ...KILL_CLASSES.map((kind) => summary.recovery.byKillClass[kind].upperBoundMax ?? 0)).toFixed(1)} s |`,
    `| Wall time | ${summary.wallSeconds} s |`,
    '',
    '## Drill wall time by the class of its first kill',
    '',
    summary.baseline
      ? `A drill with no kill (run first, not counted above): ${summary.baseline.wallSeconds.toFixed(1)} s (${summary.baseline.outcome}).`
      : '',
    '',
    '| First kill | Drills | Median s | Max s |',
    '| --- | --- | --- | --- |',
    ...Object.entries(summary.drillWallSeconds.byFirstKillClass).map(
      ([kind, figures]) =>
        `| ${kind} | ${figures.drills} | ${Number.isNaN(figures.median) ? '–' : figures.median.toFixed(1)} | ${figures.max.toFixed(1)} |`,
    ),
    '',
    ...recoveryMarkdown(summary.recovery),
  ];
  if (summary.violations.length > 0) {
    lines.push('## Violations', '', ...summary.violations.map((violation) => `- ${violation}`), '');
  }
  lines.push(
    '## Drills',
    '',
    '| # | Kills | Outcome | POSTs accepted | Failover steps | sendFailover | Recoveries | Wall s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summary.drills.map(
      (drill, index) =>
        `| ${index + 1} | ${describeKills(drill as ChaosRunResult).replace(/\|/g, '/')} | ${drill.outcome} | ` +
        `${list(drill.posts.acceptedTo)} | ${drill.sendOutcomes.join(', ')} | ${drill.sendActivities.join(', ')} | ` +
        `${list(drill.recoveries)} | ${seconds(drill.wallMs)} |`,
    ),
    '',
  );
  return lines.join('\n');
}

function recoveryMarkdown(recovery: RecoverySummary): string[] {
  const figure = (value: number) => (Number.isNaN(value) ? '–' : value.toFixed(1));
  const delays = recovery.restartDelaySeconds;
  return [
    `## Recovery after a kill (target: within ${recovery.targetSeconds} s)`,
    '',
    "**Recovery time** of a kill: from the SIGKILL until every piece of the run's work the killed worker held or was sent",
    'was picked up by a worker started after the kill, read from the histories (the runbook and its children) by the',
    "worker identity (`<pid>@<host>`) on each WorkflowTaskStarted and ActivityTaskStarted event and that event's time:",
    'an activity in flight at the kill, until a new worker started its next attempt (or, for the failover send, which',
    "Temporal does not retry, until a new worker's workflow task handled its timeout); the first workflow task a new",
    'worker ran, from the kill or from when it fell due if later (a poll timer firing while the worker was down). The',
    `time includes the rig's restart delay (${figure(delays.min)}–${figure(delays.max)} s in this run; drawn from 0.2–2 s) and the new worker's`,
    'start-up until it polls. "First event": from the kill to the first event a new worker produced for the run (it',
    'shows life, not that the run is whole again). A history keeps only the last attempt of an activity: when a later',
    "kill hit the same activity, the earlier kill's figure rests on a later attempt and is an upper bound (counted",
    'below). See bench/recovery.ts.',
    '',
    'Expected bound: a lost activity is taken for lost 5 s (its heartbeat timeout) after its last heartbeat, which',
    'came at most 1 s before the kill, and retried after its first retry interval (2 s for reads and the write probe)',
    '≈ 5 + 2 = 7 s, if a new worker polls by then (restart ≤ 2 s plus start-up); a workflow task sent to the dead',
    "worker's sticky queue moves to the shared queue after 2 s. A kill while a workflow task runs costs that task's",
    '10-s timeout (the runbook start options; not changed here).',
    '',
    'The target is judged on the kills measured exactly. An upper bound (a second kill hit the same activity before',
    "it ran again) includes that second kill's own recovery, so the history cannot say what the first kill cost.",
    '',
    '| Kill | Kills | Measured (upper bounds) | p50 s | p95 s | Max s | Max s, exact | Largest upper bound s | First event p50 s | Slowest: picked up last | Target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...KILL_CLASSES.map((kind) => {
      const row = recovery.byKillClass[kind];
      const verdict = row.kills === 0 ? 'no kills' : row.met ? 'met' : 'MISSED';
      return (
        `| ${kind} | ${row.kills} | ${row.measured} (${row.upperBounds}) | ${figure(row.p50)} | ${figure(row.p95)} | ` +
        `${row.measured ? figure(row.max) : '–'} | ${row.measured ? figure(row.exactMax) : '–'} | ` +
        `${row.upperBoundMax === undefined ? '–' : figure(row.upperBoundMax)} | ${figure(row.firstEventP50)} | ` +
        `${row.slowest ?? '–'} | ${verdict} |`
      );
    }),
    '',
  ];
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const command = `node dist/bench/chaos.js --drills ${options.drills} --seed ${options.seed}${options.speed !== 10 ? ` --speed ${options.speed}` : ''}${options.soak !== '2 seconds' ? ` --soak "${options.soak}"` : ''}`;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const random = new SeededRandom(options.seed);
  say(`fogpilot chaos: ${options.drills} drills, seed ${options.seed} (reproduce: ${command})`);

  let rig: ChaosRig | undefined;
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    say(`\n${signal}: stopping the worker, the emulator and the dev server…`);
    void (rig?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  const startedAt = Date.now();
  try {
    rig = await ChaosRig.start({ groups: [GROUP], speed: options.speed, random, log: say });
    say(
      `· dev server at ${rig.temporal.address}; emulator at ${rig.emulator.armEndpoint}; worker log ${rig.worker.logFile}`,
    );
    const switchRealMs = (rig.emulator.world.timings.roleSwitchSeconds * 1000) / options.speed;
    const input = (index: number) => ({
      group: GROUP,
      soak: options.soak,
      requestedBy: 'fogpilot chaos',
      reason: `chaos drill ${index} (seed ${options.seed})`,
    });

    say('· baseline: one drill with no kill');
    const baseline = await runUnderChaos(rig, {
      runbook: 'drDrill',
      group: GROUP,
      input: input(0),
      workflowId: `chaos/${options.seed}/baseline`,
      kills: [],
      timeoutMs: options.drillTimeoutMs,
    });
    say(`  baseline ${baseline.outcome} in ${seconds(baseline.wallMs)} s`);

    const results: ChaosRunResult[] = [];
    let order: KillClass[] = [];
    for (let index = 1; index <= options.drills && !interrupted; index++) {
      if (order.length === 0) order = random.shuffle(KILL_CLASSES);
      const kills = planKills(random, order.shift()!, switchRealMs);
      say(`drill ${index}/${options.drills}: ${kills.map((kill) => kill.class).join(' + ')}`);
      const result = await runUnderChaos(rig, {
        runbook: 'drDrill',
        group: GROUP,
        input: input(index),
        workflowId: `chaos/${options.seed}/drill-${index}`,
        kills,
        timeoutMs: options.drillTimeoutMs,
      });
      results.push(result);
      say(
        `  ${result.outcome} in ${seconds(result.wallMs)} s; POSTs accepted ${JSON.stringify(result.posts.acceptedTo)}` +
          `${result.posts.refused ? `, refused ${result.posts.refused} (${result.posts.refusedCodes.join(', ')})` : ''}; ` +
          `failover steps: ${result.sendOutcomes.join(', ')}; sendFailover: ${result.sendActivities.join(', ')}; ` +
          `recoveries: ${JSON.stringify(result.recoveries)}; ` +
          `recovered in ${result.kills.map((kill) => (kill.recovery ? `${seconds(kill.recovery.ms)} s` : '?')).join(', ') || '–'}` +
          (result.unfired.length ? `; never came: ${result.unfired.join(', ')}` : '') +
          (result.violations.length ? `\n  VIOLATIONS: ${result.violations.join('; ')}` : ''),
      );
    }
    if (interrupted) return 130;
    const summary = summarize(options, rig, results, baseline, Date.now() - startedAt, command);
    mkdirSync(options.out, { recursive: true });
    writeFileSync(path.join(options.out, 'chaos.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(path.join(options.out, 'chaos.md'), markdown(summary));
    say('');
    say(
      markdown(summary)
        .split('\n')
        .filter((line) => line.startsWith('|') && !line.startsWith('| #') && !/^\| \d/.test(line))
        .join('\n'),
    );
    say(`\nwritten: ${path.join(options.out, 'chaos.md')} and chaos.json`);
    const failed = summary.violations.length > 0 || summary.drillsCompleted !== summary.drillsPlanned;
    say(failed ? `CHAOS FAILED: ${summary.violations.length} violation(s)` : 'chaos: 0 violations');
    return failed ? 1 : 0;
  } catch (error) {
    process.stderr.write(`chaos could not run: ${(error as Error).stack ?? String(error)}\n`);
    return 3;
  } finally {
    await rig?.close();
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
