/**
 * The chaos rig: the real Temporal dev server, the Azure emulator in this process, and the fogpilot worker as a separate
 * process (`bin/fogpilot.js worker`, configured like a user's) that is killed with SIGKILL at chosen moments and started
 * again. The emulator is the judge: every runbook must complete, Azure must accept exactly one failover POST per
 * direction, and the pair must never have two writable primaries — judged from the clients' side too, by writers
 * through each instance's own endpoint (bench/endpoint-writers.ts), which also check that no acknowledged write is lost
 * beyond the emulator's own count.
 *
 * `bench/chaos.ts` (`npm run chaos`) drives it for many drills in a row; `test/reliability/chaos.test.ts` for a few.
 *
 * Three moments to kill at, each watched on the emulator rather than guessed from the clock:
 * - `in-activity`: an ARM read of the group arrives, or a SQL write commits (an activity is waiting for its answer);
 * - `after-failover-post`: Azure has just accepted the failover POST (at once, before the answer is written, or a few
 *   milliseconds later);
 * - `while-polling`: the failover Azure accepted is still in progress (the runbook is polling for the role switch).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify as toYaml } from 'yaml';
import { FogpilotClient, type RunbookReport } from '../src/client';
import { findTemporalCli, freePort, packageRoot, startDevServerProcess } from '../src/dev-server';
import { lockWorkflowId } from '../src/domain/group-ref';
import { startEmulator, type Emulator } from '../src/emulator';
import type { FailoverCounters, GroupState } from '../src/emulator/world';
import type { WorldSpecInput } from '../src/emulator/world-spec';
import { PREBUILT_BUNDLE_PATH, prebuiltWorkflowBundle } from '../src/workflow-bundle';
import { FOGPILOT_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { EndpointWriters, isEndpointCheckPayload, type EndpointChecks } from './endpoint-writers';
import { recoveryOf, type Recovery } from './recovery';

export const KillClasses = {
  inActivity: 'in-activity',
  afterFailoverPost: 'after-failover-post',
  whilePolling: 'while-polling',
} as const;
export type KillClass = (typeof KillClasses)[keyof typeof KillClasses];
export const KILL_CLASSES: readonly KillClass[] = Object.values(KillClasses);

/** The leg of a runbook a kill aims at: the failover, the way back, or whichever comes first while the worker is up. */
export type Leg = 'failover' | 'failback' | 'any';

/** When to kill the worker during one runbook. */
export type KillPlan =
  | {
      class: typeof KillClasses.inActivity;
      /**
       * What the activity is doing: `arm-read` (default) kills when an ARM read of the group arrives; `sql-write` when a
       * write through the group's listener (the drill's probe or smoke check) has committed and before its answer is
       * sent (an in-doubt write); `probe-write` the same for the drill's write probe only.
       */
      target?: 'arm-read' | 'sql-write' | 'probe-write';
      /** Only while Azure's failover of the group is in progress (the runbook waits on a poll timer meanwhile). */
      duringFailover?: boolean;
      /** Kill on the first such request this long after the plan is armed. */
      afterMs: number;
    }
  | {
      class: typeof KillClasses.afterFailoverPost;
      leg: Leg;
      /** 0: inside the emulator's handling of the POST, before the answer is written; otherwise that many ms later. */
      delayMs: number;
    }
  | {
      class: typeof KillClasses.whilePolling;
      leg: Leg;
      /** How long after the accepted POST, while Azure's failover is still in progress. */
      delayMs: number;
    };

export interface KillRecord {
  class: KillClass;
  group: string;
  /** Milliseconds since the runbook was started. */
  atMs: number;
  /** Epoch milliseconds of the SIGKILL. */
  at: number;
  /** What the emulator saw at that moment. */
  detail: string;
  /** The worker process killed (1 = the first one started). */
  incarnation: number;
  /** How long the worker stayed down before a new one was started. */
  restartDelayMs: number;
  /** How long until the run was wholly running again on workers started after the kill (from its histories). */
  recovery?: Recovery;
}

/** Mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class SeededRandom {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
}

/** One group per name, primary in eastus and secondary in westus, one database each; Azure's default timings. */
export function chaosWorld(groups: readonly string[]): WorldSpecInput {
  return {
    instances: groups.flatMap((name) => [
      { name: `${name}-eastus`, resourceGroup: 'rg-chaos', location: 'eastus' },
      { name: `${name}-westus`, resourceGroup: 'rg-chaos', location: 'westus' },
    ]),
    groups: groups.map((name) => ({
      name,
      resourceGroup: 'rg-chaos',
      primaryInstance: `${name}-eastus`,
      secondaryInstance: `${name}-westus`,
      databases: [{ name: 'orders' }],
    })),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ── the code the workers run ──────────────────────────────────────────────────────────────────────────────────

/**
 * A copy of the compiled fogpilot (bin/, dist/src/, the workflow bundle) that every worker of the run starts from, so
 * all incarnations run the same workflow code even if dist/ is rebuilt meanwhile (a worker replaying a history with
 * other code fails on nondeterminism, which is a deployment fault, not what chaos measures). It lives under
 * node_modules/.cache, so it resolves the project's dependencies, and is removed at the end.
 */
async function snapshotWorkerCode(): Promise<{ root: string; remove(): void }> {
  const root = path.join(packageRoot, 'node_modules', '.cache', 'fogpilot-chaos', `${process.pid}-${Date.now()}`);
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    mkdirSync(path.join(root, 'dist'), { recursive: true });
    const bundleFresh = prebuiltWorkflowBundle() !== undefined;
    cpSync(path.join(packageRoot, 'package.json'), path.join(root, 'package.json'));
    cpSync(path.join(packageRoot, 'bin'), path.join(root, 'bin'), { recursive: true });
    cpSync(path.join(packageRoot, 'dist', 'src'), path.join(root, 'dist', 'src'), { recursive: true });
    // Written after the sources, so the workers take it as current.
    const bundleFile = path.join(root, 'dist', path.basename(PREBUILT_BUNDLE_PATH));
    if (bundleFresh) cpSync(PREBUILT_BUNDLE_PATH, bundleFile);
    else {
      const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
      const bundle = await bundleWorkflowCode({
        workflowsPath: path.join(root, 'dist', 'src', 'workflows'),
        logger: new DefaultLogger('WARN'),
      });
      writeFileSync(bundleFile, bundle.code);
    }
    return { root, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

// ── the worker process ───────────────────────────────────────────────────────────────────────────────────────────

export interface UnexpectedExit {
  incarnation: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  tail: string;
}

/**
 * `node bin/fogpilot.js worker` as a child process, started again and again. Its output (every incarnation) goes to
 * one log file. Exits not caused by `kill()` are recorded: a worker that dies by itself is a finding.
 */
export class WorkerProcess {
  incarnation = 0;
  /** The process id of each incarnation (index 0: the first); histories name workers `<pid>@<host>`. */
  readonly pids: number[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private child?: ChildProcess;
  /** The child that has reported polling its task queue. */
  private pollingChild?: ChildProcess;
  private readonly killedByUs = new WeakSet<ChildProcess>();
  private readonly log: WriteStream;
  private pendingStart?: Promise<void>;
  private closed = false;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  constructor(
    /** The fogpilot copy to run (`<codeRoot>/bin/fogpilot.js worker`). */
    private readonly codeRoot: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    private readonly readyTimeoutMs = 60_000,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    process.on('exit', this.killOnExit);
  }

  /** Whether a worker process is running (started; it may still be connecting). */
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether a worker process is up and polling its task queue (not merely starting). */
  get polling(): boolean {
    return this.alive && this.pollingChild === this.child;
  }

  /** Starts a worker and waits until it polls its task queue. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the rig is closed'));
    if (this.alive) return this.pendingStart ?? Promise.resolve();
    const incarnation = ++this.incarnation;
    const child = spawn(process.execPath, [path.join(this.codeRoot, 'bin', 'fogpilot.js'), 'worker'], {
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.pids[incarnation - 1] = child.pid ?? -1;
    this.log.write(`\n── worker ${incarnation} (pid ${child.pid}) started ${new Date().toISOString()}\n`);
    let tail = '';
    let ready = false;
    const started = new Promise<void>((resolve, reject) => {
      const onOutput = (chunk: Buffer) => {
        const text = chunk.toString();
        this.log.write(text);
        tail = (tail + text).slice(-4000);
        if (!ready && /"state":"RUNNING"[^\n]*Worker state changed|Worker state changed[^\n]*RUNNING/.test(tail)) {
          ready = true;
          this.pollingChild = child;
          resolve();
        }
      };
      child.stdout.on('data', onOutput);
      child.stderr.on('data', onOutput);
      child.once('exit', (code, signal) => {
        this.log.write(`── worker ${incarnation} exited (${code ?? signal}) ${new Date().toISOString()}\n`);
        if (this.child === child) {
          this.child = undefined;
          this.pendingStart = undefined;
        }
        if (!this.killedByUs.has(child)) {
          this.unexpectedExits.push({ incarnation, code, signal, tail });
          reject(new Error(`worker ${incarnation} exited by itself (${code ?? signal}):\n${tail}`));
        } else resolve(); // killed while starting: nothing to wait for
      });
    });
    this.pendingStart = withTimeout(started, this.readyTimeoutMs, `worker ${incarnation} polling its task queue`).catch(
      (error: unknown) => {
        if (this.child === child) this.kill();
        throw error;
      },
    );
    return this.pendingStart;
  }

  /** SIGKILL now. Returns the incarnation killed, or undefined when no worker was running. */
  kill(): number | undefined {
    const child = this.child;
    if (!child || !this.alive) return undefined;
    this.killedByUs.add(child);
    child.kill('SIGKILL');
    this.child = undefined;
    this.pendingStart = undefined;
    return this.incarnation;
  }

  /** Starts a new worker after `delayMs` (in the background; `ready()` waits for it). */
  restartAfter(delayMs: number): void {
    this.pendingStart = sleep(delayMs).then(() => this.start());
    // Failures surface through ready(); keep the rejection from going unhandled meanwhile.
    this.pendingStart.catch(() => undefined);
  }

  /** Resolves when a worker is polling (waits for a pending restart). */
  async ready(): Promise<void> {
    for (;;) {
      const pending = this.pendingStart;
      if (pending) await pending;
      if (this.alive && this.pendingStart === pending) return;
      if (!this.alive && !this.pendingStart) await this.start();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child && this.alive) {
      this.killedByUs.add(child);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await withTimeout(exited, 10_000, 'the worker exiting').catch(() => undefined);
    }
    await this.pendingStart?.catch(() => undefined);
    process.removeListener('exit', this.killOnExit);
    await new Promise((resolve) => this.log.end(resolve));
  }
}

// ── watching the emulator ────────────────────────────────────────────────────────────────────────────────────────

export interface ArmRequest {
  method: string;
  url: string;
  /** `GET instanceFailoverGroups`, `POST failover`, `GET instanceFailoverGroupAzureAsyncOperation`… */
  route: string;
}

export interface AcceptedPost {
  group: GroupState;
  location: string;
  kind: 'planned' | 'forced';
}

export interface CommittedWrite {
  group: GroupState;
  database: string;
  payload: string;
}

export interface TwoPrimaries {
  group: string;
  at: string;
  instances: string[];
}

function routeOf(method: string, url: string): string {
  const segments = url.split('?')[0]!.split('/');
  // ARM paths alternate type/name: /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Sql/{type}/{name}/…
  const types = segments.filter((_, index) => index % 2 === 1);
  return `${method} ${types.at(-1) ?? url}`;
}

/**
 * Watches the emulator: ARM requests as they arrive, failover POSTs the moment the world accepts them (before the answer
 * is written), and — sampled every few milliseconds and at every role change — whether both instances of a group accept
 * writes at once (two primaries) or both report Primary (the role-flip skew Azure shows after a switch; expected).
 */
export class ChaosMonitor {
  readonly twoPrimaries: TwoPrimaries[] = [];
  samples = 0;
  /** Samples in which both locations of a group answered Primary: the documented skew right after a switch. */
  bothReportPrimarySamples = 0;
  private readonly postListeners = new Set<(post: AcceptedPost) => void>();
  private readonly requestListeners = new Set<(request: ArmRequest) => void>();
  private readonly commitListeners = new Set<(write: CommittedWrite) => void>();
  private readonly timer: NodeJS.Timeout;
  private readonly restore: () => void;

  constructor(
    private readonly emulator: Emulator,
    sampleEveryMs = 5,
  ) {
    const world = emulator.world;
    const original = world.requestFailover.bind(world);
    world.requestFailover = (group, location, kind) => {
      const operation = original(group, location, kind);
      for (const listener of [...this.postListeners]) listener({ group, location: location.toLowerCase(), kind });
      return operation;
    };
    const commit = world.commit.bind(world);
    // Every argument passes through: a commit's options say which table it writes and what it changes.
    world.commit = (...args: Parameters<typeof commit>) => {
      const record = commit(...args);
      const [group, database, payload] = args;
      for (const listener of [...this.commitListeners]) listener({ group, database: database.name, payload });
      return record;
    };
    const onRequest = (request: IncomingMessage) => {
      const url = request.url ?? '';
      if (url.startsWith('/_admin')) return;
      const method = request.method ?? 'GET';
      const arm = { method, url, route: routeOf(method, url) };
      for (const listener of [...this.requestListeners]) listener(arm);
    };
    emulator.arm.app.server.on('request', onRequest);
    const onChange = () => this.sample();
    world.on('change', onChange);
    this.timer = setInterval(() => this.sample(), sampleEveryMs);
    this.restore = () => {
      Reflect.deleteProperty(world, 'requestFailover');
      Reflect.deleteProperty(world, 'commit');
      emulator.arm.app.server.removeListener('request', onRequest);
      world.removeListener('change', onChange);
    };
  }

  onFailoverAccepted(listener: (post: AcceptedPost) => void): () => void {
    this.postListeners.add(listener);
    return () => this.postListeners.delete(listener);
  }

  /** Called when a write has committed, before the SQL answer is sent. */
  onCommit(listener: (write: CommittedWrite) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  onArmRequest(listener: (request: ArmRequest) => void): () => void {
    this.requestListeners.add(listener);
    return () => this.requestListeners.delete(listener);
  }

  private sample(): void {
    const world = this.emulator.world;
    world.advance();
    this.samples += 1;
    for (const group of world.groups.values()) {
      const instances = group.instanceIds.map((id) => world.instanceById(id)!);
      const writable = instances.filter((instance) =>
        group.databases.some((database) => world.acceptsWrites(group, instance.id, database)),
      );
      if (writable.length > 1) {
        this.twoPrimaries.push({
          group: group.name,
          at: new Date(world.now()).toISOString(),
          instances: writable.map((instance) => instance.name),
        });
      }
      const claims = instances.filter((instance) => world.reportedRole(group, instance.location) === 'Primary');
      if (claims.length > 1) this.bothReportPrimarySamples += 1;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.restore();
  }
}

// ── the rig ──────────────────────────────────────────────────────────────────────────────────────────────────────

export interface ChaosRigOptions {
  /** Failover groups of the emulated world (each eastus → westus). */
  groups: readonly string[];
  /** Emulated seconds per real second: 10 makes Azure's 30-second role switch take 3 s. */
  speed?: number;
  /** Restart delay after a kill, drawn from [min, max] ms. */
  restartDelayMs?: [number, number];
  random: SeededRandom;
  /** Progress lines. */
  log?: (line: string) => void;
}

interface TemporalServer {
  address: string;
  version: string;
  stop(): Promise<void>;
}

async function startTemporal(): Promise<TemporalServer> {
  const cli = findTemporalCli();
  if (cli) {
    const server = await startDevServerProcess(cli, { readyTimeoutMs: 60_000 });
    return {
      address: server.address,
      version: `temporal CLI at ${path.relative(packageRoot, cli)}`,
      stop: () => server.stop(),
    };
  }
  // No CLI on this machine: the SDK downloads its own dev server, with the same search attributes.
  const port = await freePort();
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port, searchAttributes: [...FOGPILOT_SEARCH_ATTRIBUTES] },
  });
  return { address: `127.0.0.1:${port}`, version: "the SDK's downloaded dev server", stop: () => env.teardown() };
}

/** Everything started for a chaos run; `close()` stops it all (the worker first). */
export class ChaosRig {
  private constructor(
    readonly emulator: Emulator,
    readonly temporal: TemporalServer,
    readonly connection: Connection,
    readonly fogpilot: FogpilotClient,
    readonly worker: WorkerProcess,
    readonly monitor: ChaosMonitor,
    readonly workDir: string,
    readonly options: ChaosRigOptions,
    private readonly cleanups: (() => Promise<void>)[],
  ) {}

  static async start(options: ChaosRigOptions): Promise<ChaosRig> {
    const cleanups: (() => Promise<void>)[] = [];
    const stopAll = async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    };
    try {
      const workDir = mkdtempSync(path.join(tmpdir(), 'fogpilot-chaos-'));
      const code = await snapshotWorkerCode();
      cleanups.push(() => Promise.resolve(code.remove()));
      const temporal = await startTemporal();
      cleanups.push(() => temporal.stop());
      // TLS and tokens on, as against Azure: the worker trusts the emulator's CA from a file, as an operator's would.
      const emulator = await startEmulator({
        world: chaosWorld(options.groups),
        speed: options.speed ?? 10,
        tls: true,
      });
      cleanups.push(() => emulator.close());
      const monitor = new ChaosMonitor(emulator);
      cleanups.push(() => Promise.resolve(monitor.close()));

      const line = emulator.startLine();
      const configFile = path.join(workDir, 'fogpilot.yaml');
      const caFile = path.join(workDir, 'emulator-ca.pem');
      writeFileSync(caFile, line.tls!.ca);
      writeFileSync(
        configFile,
        toYaml({
          azure: { caFile },
          sql: {
            encrypt: true,
            auth: { auth: 'sql-login', userEnv: 'CHAOS_SQL_USER', passwordEnv: 'CHAOS_SQL_PASSWORD' },
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
        }),
      );
      const taskQueue = `chaos-${process.pid}`;
      // A clean environment, as a user's: no Temporal profile or key, no fogpilot settings but these.
      const inherited = Object.fromEntries(
        Object.entries(process.env).filter(([key]) => !key.startsWith('TEMPORAL_') && !key.startsWith('FOGPILOT_')),
      );
      const worker = new WorkerProcess(
        code.root,
        {
          ...inherited,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_NAMESPACE: 'default',
          FOGPILOT_CONFIG: configFile,
          FOGPILOT_TASK_QUEUE: taskQueue,
          ...line.use,
          CHAOS_SQL_USER: line.sql.login.user,
          CHAOS_SQL_PASSWORD: line.sql.login.password,
          FOGPILOT_LOG_FORMAT: 'json',
          FOGPILOT_LOG_LEVEL: 'info',
          // Metrics off: a fixed port would collide with any other worker on the machine.
          FOGPILOT_METRICS_PORT: '0',
        },
        path.join(workDir, 'worker.log'),
      );
      cleanups.push(() => worker.close());
      const connection = await Connection.connect({ address: temporal.address });
      cleanups.push(() => connection.close());
      const fogpilot = new FogpilotClient(new Client({ connection }), taskQueue);
      await worker.start();
      return new ChaosRig(emulator, temporal, connection, fogpilot, worker, monitor, workDir, options, cleanups);
    } catch (error) {
      await stopAll();
      throw error;
    }
  }

  private closing?: Promise<void>;

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const cleanup of [...this.cleanups].reverse()) await cleanup().catch(() => undefined);
    })();
    return this.closing;
  }

  group(name: string): GroupState {
    const group = this.emulator.world.findGroup(name);
    if (!group) throw new Error(`no group ${name} in the chaos world`);
    return group;
  }

  /** Kills the worker now and starts a new one after a random delay; undefined when no worker was polling. */
  crash(record: Omit<KillRecord, 'incarnation' | 'restartDelayMs' | 'at'>): KillRecord | undefined {
    // A worker still starting has no task to lose: wait for the next moment.
    if (!this.worker.polling) return undefined;
    const incarnation = this.worker.kill();
    if (incarnation === undefined) return undefined;
    const at = Date.now();
    const [min, max] = this.options.restartDelayMs ?? [200, 2_000];
    const restartDelayMs = this.options.random.int(min, max);
    this.worker.restartAfter(restartDelayMs);
    const kill = { ...record, at, incarnation, restartDelayMs };
    this.options.log?.(
      `    ✕ SIGKILL worker ${incarnation} [${kill.class}] ${kill.detail}; restart in ${restartDelayMs} ms`,
    );
    return kill;
  }

  /**
   * Arms one kill plan for `groupName`. Resolves with the kill when it happened; `disarm()` resolves it with undefined.
   * A trigger that finds the worker already down (another kill) waits for the next chance.
   */
  armKill(
    plan: KillPlan,
    groupName: string,
    startedAt: number,
    /** Where the group's primary was when the runbook started (default: where it is now). */
    startLocation?: string,
  ): { fired: Promise<KillRecord | undefined>; disarm(): void } {
    const group = this.group(groupName);
    const world = this.emulator.world;
    // The failover leg goes from the runbook's starting primary to its partner, the failback leg back.
    const start =
      (startLocation && world.instanceAt(group, startLocation)) || world.instanceById(group.primaryInstanceId)!;
    const home = start.location;
    const away = world.partnerInstance(group, start.id).location;
    const legOf = (location: string): Leg => (location === away ? 'failover' : location === home ? 'failback' : 'any');
    const disposers: (() => void)[] = [];
    let settle!: (kill: KillRecord | undefined) => void;
    const fired = new Promise<KillRecord | undefined>((resolve) => (settle = resolve));
    let done = false;
    const finish = (kill: KillRecord | undefined) => {
      if (done) return;
      done = true;
      for (const dispose of disposers) dispose();
      settle(kill);
    };
    const tryCrash = (detail: string): boolean => {
      const kill = this.crash({ class: plan.class, group: group.name, atMs: Date.now() - startedAt, detail });
      if (kill) finish(kill);
      return kill !== undefined;
    };
    const armedAt = Date.now();

    if (plan.class === KillClasses.inActivity && (plan.target === 'sql-write' || plan.target === 'probe-write')) {
      const failoverInProgress = () => group.failover !== undefined && !group.failover.switched;
      disposers.push(
        this.monitor.onCommit((write) => {
          if (write.group.key !== group.key || Date.now() - armedAt < plan.afterMs) return;
          // The invariant checkers' own writes are no activity of the runbook's.
          if (isEndpointCheckPayload(write.payload)) return;
          // Probe payloads are `<label>:<seq>`; smoke checks write `<label>:smoke:<moment>`.
          const probe = /:\d+$/.test(write.payload) && !write.payload.includes(':smoke:');
          if (plan.target === 'probe-write' && !probe) return;
          if (plan.duringFailover && !failoverInProgress()) return;
          tryCrash(
            `${probe ? 'probe' : 'smoke'} write to ${write.database} committed, its answer not yet sent` +
              (failoverInProgress() ? ' (failover in progress)' : ''),
          );
        }),
      );
    } else if (plan.class === KillClasses.inActivity) {
      // A read of the group or its instances names them; a poll of a failover operation names the operation.
      const isAbout = (url: string): boolean => {
        const path = url.split('?')[0]!.toLowerCase();
        if (path.includes(`/${group.name.toLowerCase()}`)) return true;
        const operation = world.asyncOperations.get(path.split('/').at(-1) ?? '');
        return operation?.result.type === 'group' && operation.result.groupKey === group.key;
      };
      disposers.push(
        this.monitor.onArmRequest((request) => {
          if (request.method !== 'GET' || Date.now() - armedAt < plan.afterMs) return;
          if (!isAbout(request.url)) return;
          tryCrash(`${request.route} in flight`);
        }),
      );
    } else {
      const timers = new Set<NodeJS.Timeout>();
      disposers.push(() => timers.forEach((timer) => clearTimeout(timer)));
      disposers.push(
        this.monitor.onFailoverAccepted((post) => {
          if (post.group.key !== group.key) return;
          const leg = legOf(post.location);
          if (plan.leg !== 'any' && plan.leg !== leg) return;
          const postedAt = Date.now();
          if (plan.class === KillClasses.afterFailoverPost && plan.delayMs === 0) {
            tryCrash(`${leg} POST to ${post.location} accepted; killed before the answer was written`);
            return;
          }
          const later = (ms: number, action: () => void) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              action();
            }, ms);
            timers.add(timer);
          };
          const whilePolling = () => {
            const waited = Date.now() - postedAt;
            const inProgress = group.failover !== undefined && !group.failover.switched;
            const killed = tryCrash(
              `${leg} to ${post.location} ${inProgress ? 'in progress (roles not yet switched)' : 'switched, operation finishing'}` +
                ` ${(waited / 1000).toFixed(1)} s after the POST`,
            );
            // The worker was down (another kill) or still starting: try again while Azure's failover still runs.
            if (!killed && group.failover !== undefined) later(100, whilePolling);
          };
          later(plan.delayMs, () => {
            if (plan.class === KillClasses.afterFailoverPost)
              tryCrash(`${leg} POST to ${post.location} accepted; killed ${Date.now() - postedAt} ms after`);
            else whilePolling();
          });
        }),
      );
    }
    return { fired, disarm: () => finish(undefined) };
  }
}

// ── one runbook under chaos ──────────────────────────────────────────────────────────────────────────────────────

export interface PostCount {
  received: number;
  accepted: number;
  refused: number;
  acceptedTo: Record<string, number>;
  /** Refusal codes, e.g. `InstanceFailoverGroupBusy` for a repeat while a failover runs (counts as sent). */
  refusedCodes: string[];
}

export interface ChaosRunResult {
  runbook: 'drDrill' | 'plannedFailover';
  group: string;
  workflowId: string;
  /** `succeeded`, `failed`, `incomplete` (timed out; terminated by the rig). */
  outcome: string;
  failure?: string;
  wallMs: number;
  kills: KillRecord[];
  /** Kill plans whose moment never came (the runbook ended first). */
  unfired: KillClass[];
  posts: PostCount;
  /** How each `sendFailover` activity ended (`completed`, `timed-out`…), per direction, from the runbook's history. */
  sendActivities: string[];
  /** Outcome of each failover step (`sent`, `sent-by-earlier-attempt`, `already-primary`…), from the report. */
  sendOutcomes: string[];
  /** Retried activity attempts, activities and workflow tasks timed out, from the histories: the cost of the kills. */
  recoveries: Record<string, number>;
  newViolations: string[];
  twoPrimaries: TwoPrimaries[];
  primaryAfter: string;
  failoverInProgressAfter: boolean;
  dataLoss?: string;
  /** The client-side checks: writes through each instance's own endpoint during the run, and what they found. */
  endpointChecks: EndpointChecks;
  /** Everything that breaks the rules for this run; empty when it passed. */
  violations: string[];
  report?: RunbookReport;
}

function countersOf(counters: FailoverCounters | undefined): FailoverCounters {
  return counters
    ? { ...counters, acceptedTo: { ...counters.acceptedTo } }
    : { received: 0, accepted: 0, refused: 0, acceptedTo: {} };
}

function idOf(value: unknown): string {
  // Event ids are Longs (their toString is the number) or numbers.
  return value === null || value === undefined ? '' : (value as { toString(): string }).toString();
}

/**
 * What the runbook (and its lock-holding child) did with its activities, from the histories: how each `sendFailover`
 * ended, and the recoveries the kills cost — activity attempts beyond the first (a lost attempt is retried after its
 * timeout), activities that ended timed out, workflow tasks that timed out. Sets each kill's `recovery` (bench/recovery).
 */
async function historyFacts(
  rig: ChaosRig,
  workflowId: string,
  kills: KillRecord[],
): Promise<{ sendActivities: string[]; recoveries: Record<string, number> }> {
  const client = rig.fogpilot.client;
  const histories = [await client.workflow.getHandle(workflowId).fetchHistory()];
  for (const event of histories[0]!.events ?? []) {
    const child = event.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (child?.workflowId)
      histories.push(await client.workflow.getHandle(child.workflowId, child.runId ?? undefined).fetchHistory());
  }
  for (const kill of kills) {
    // Every worker started after this one was killed is a replacement (a later kill's too).
    const replacementPids = rig.worker.pids.slice(kill.incarnation);
    kill.recovery = recoveryOf(
      histories.map((history) => history.events ?? []),
      { at: kill.at, replacementPids },
    );
  }
  const sendActivities: string[] = [];
  const recoveries: Record<string, number> = {};
  const add = (key: string, count = 1) => {
    if (count > 0) recoveries[key] = (recoveries[key] ?? 0) + count;
  };
  for (const history of histories) {
    const scheduled = new Map<string, string>();
    const nameOf = (id: unknown) => scheduled.get(idOf(id)) ?? '?';
    for (const event of history.events ?? []) {
      const attributes = event.activityTaskScheduledEventAttributes;
      if (attributes) scheduled.set(idOf(event.eventId), attributes.activityType?.name ?? '?');
      const startedEvent = event.activityTaskStartedEventAttributes;
      if (startedEvent) add(`retried ${nameOf(startedEvent.scheduledEventId)}`, (startedEvent.attempt ?? 1) - 1);
      const ended: [string, { scheduledEventId?: unknown } | null | undefined][] = [
        ['completed', event.activityTaskCompletedEventAttributes],
        ['timed-out', event.activityTaskTimedOutEventAttributes],
        ['failed', event.activityTaskFailedEventAttributes],
        ['cancelled', event.activityTaskCanceledEventAttributes],
      ];
      for (const [how, detail] of ended) {
        if (!detail) continue;
        const name = nameOf(detail.scheduledEventId);
        if (name === 'sendFailover') sendActivities.push(how);
        if (how === 'timed-out') add(`timed out ${name}`);
      }
      if (event.workflowTaskTimedOutEventAttributes) add('workflow task timed out');
    }
  }
  return { sendActivities, recoveries };
}

/** Waits (bounded) until the emulator has no failover of the group in progress, e.g. after a terminated run. */
async function settle(rig: ChaosRig, group: GroupState): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (group.failover !== undefined && Date.now() < deadline) {
    rig.emulator.world.advance();
    await sleep(100);
  }
}

/** What a run under chaos left behind, as the judge reads it (from the emulator, the writers and the report). */
export interface ChaosRunFacts {
  outcome: string;
  failure?: string;
  /** Where the group's primary was before the run, and its partner's region. */
  home: string;
  away: string;
  posts: Pick<PostCount, 'acceptedTo'>;
  /** Rule violations the emulator recorded during the run. */
  newViolations: readonly string[];
  twoPrimaries: readonly TwoPrimaries[];
  /** The client-side checks' findings (writes through each instance's own endpoint). */
  endpointViolations: readonly string[];
  primaryAfter: string;
  failoverInProgressAfter: boolean;
  probeLostAcknowledged: number;
  unexpectedExits: readonly UnexpectedExit[];
}

/**
 * The rules a runbook under chaos keeps, each broken one as a sentence: it completed, Azure accepted exactly one
 * failover POST per direction, no emulator rule violation, never two writable primaries (sampled and client-side), the
 * primary back home with no failover in progress, no acknowledged probe write lost, no worker exit the rig did not
 * cause. `runUnderChaos` judges every run with it; its positive controls are in test/reliability/chaos-judge.test.ts.
 */
export function judgeChaosRun(facts: ChaosRunFacts): string[] {
  const { outcome, failure, home, away, posts } = facts;
  const violations: string[] = [];
  if (outcome !== 'succeeded') violations.push(`did not complete: ${outcome}${failure ? ` (${failure})` : ''}`);
  for (const [location, direction] of [
    [away, `${home} → ${away}`],
    [home, `${away} → ${home}`],
  ] as const) {
    const count = posts.acceptedTo[location] ?? 0;
    if (count !== 1) violations.push(`${count} accepted failover POSTs ${direction} (expected exactly 1)`);
  }
  violations.push(...facts.newViolations.map((violation) => `emulator: ${violation}`));
  if (facts.twoPrimaries.length > 0)
    violations.push(
      `two writable primaries in ${facts.twoPrimaries.length} sample(s), first at ${facts.twoPrimaries[0]!.at}`,
    );
  violations.push(...facts.endpointViolations);
  if (outcome === 'succeeded' && facts.primaryAfter !== home)
    violations.push(`the primary ended in ${facts.primaryAfter}`);
  if (facts.failoverInProgressAfter) violations.push('a failover was still in progress after the run');
  if (facts.probeLostAcknowledged > 0) violations.push(`${facts.probeLostAcknowledged} acknowledged probe writes lost`);
  for (const exit of facts.unexpectedExits)
    violations.push(`worker ${exit.incarnation} exited by itself (${exit.code ?? exit.signal})`);
  return violations;
}

export interface ChaosRunOptions {
  runbook: 'drDrill' | 'plannedFailover';
  group: string;
  input: Record<string, unknown>;
  workflowId: string;
  /** Armed one after the other: the next once the worker killed by the previous is back. */
  kills: KillPlan[];
  /** A runbook not done by then is `incomplete` (and terminated). */
  timeoutMs: number;
}

/**
 * Runs one runbook while killing the worker as planned, then judges it by the emulator: completed, exactly one accepted
 * failover POST per direction, no new world violation, never two writable primaries, the primary back home and no
 * failover in progress.
 */
export async function runUnderChaos(rig: ChaosRig, options: ChaosRunOptions): Promise<ChaosRunResult> {
  const world = rig.emulator.world;
  const group = rig.group(options.group);
  await withTimeout(rig.worker.ready(), 90_000, 'a worker polling before the run');
  await settle(rig, group);
  const home = world.instanceById(group.primaryInstanceId)!.location;
  const away = world.partnerInstance(group, group.primaryInstanceId).location;
  const before = countersOf(world.failoverCounters.get(group.key));
  const violationsBefore = world.violations.length;
  const twoPrimariesBefore = rig.monitor.twoPrimaries.length;
  const lastSeqBefore = world.events.at(-1)?.seq ?? 0;
  const exitsBefore = rig.worker.unexpectedExits.length;

  const writers = new EndpointWriters({ emulator: rig.emulator, groups: [group.name] });
  await writers.start();
  const startedAt = Date.now();
  const kills: KillRecord[] = [];
  const unfired: KillClass[] = [];
  let stopped = false;
  let current: { disarm(): void } | undefined;
  const killing = (async () => {
    for (const [index, planned] of options.kills.entries()) {
      if (stopped) {
        unfired.push(...options.kills.slice(index).map((entry) => entry.class));
        return;
      }
      // A later kill aimed at a POST when both POSTs are already behind: an activity is the moment left.
      const postsSoFar = countersOf(world.failoverCounters.get(group.key)).accepted - before.accepted;
      const plan: KillPlan =
        index > 0 && planned.class !== KillClasses.inActivity && postsSoFar >= 2
          ? { class: KillClasses.inActivity, afterMs: 0 }
          : planned;
      const armed = rig.armKill(plan, group.name, startedAt, home);
      current = armed;
      const kill = await armed.fired;
      if (!kill) {
        unfired.push(...options.kills.slice(index).map((entry) => entry.class));
        return;
      }
      kills.push(kill);
      await rig.worker.ready().catch(() => undefined);
    }
  })();

  const started = await rig.fogpilot
    .start(options.runbook, options.input as never, { workflowId: options.workflowId })
    .catch(async (error: unknown) => {
      stopped = true;
      current?.disarm();
      await writers.stop();
      throw error;
    });
  let outcome: string;
  let failure: string | undefined;
  let report: RunbookReport | undefined;
  try {
    const result = await withTimeout(
      rig.fogpilot.result(started.workflowId),
      options.timeoutMs,
      `${options.runbook} ${started.workflowId} completing`,
    );
    report = result.report;
    outcome = result.failure ? 'failed' : (report?.outcome ?? 'unknown');
    if (result.failure) failure = `${result.failure.type}: ${result.failure.message}`;
  } catch (error) {
    outcome = 'incomplete';
    failure = (error as Error).message;
    const description = await rig.fogpilot
      .handle(started.workflowId)
      .describe()
      .catch(() => undefined);
    if (description) failure += ` (status ${description.status.name})`;
    // The lock holder outlives its starter (it finishes what it sent): end it too, so the next run can take the lock.
    for (const id of [started.workflowId, lockWorkflowId(group)]) {
      await rig.fogpilot
        .handle(id)
        .terminate('chaos: did not complete in time')
        .catch(() => undefined);
    }
  }
  stopped = true;
  current?.disarm();
  await killing;
  const wallMs = Date.now() - startedAt;
  await withTimeout(rig.worker.ready(), 90_000, 'a worker polling after the run').catch(() => undefined);

  // Write on until every endpoint has answered twice more: what the world did last is then on record.
  await writers.settle();
  const endpointChecks = await writers.judge();
  world.advance();
  const after = countersOf(world.failoverCounters.get(group.key));
  const posts: PostCount = {
    received: after.received - before.received,
    accepted: after.accepted - before.accepted,
    refused: after.refused - before.refused,
    acceptedTo: Object.fromEntries(
      [home, away].map((location) => [
        location,
        (after.acceptedTo[location] ?? 0) - (before.acceptedTo[location] ?? 0),
      ]),
    ),
    refusedCodes: world.events
      .filter((event) => event.seq > lastSeqBefore && event.kind === 'failover-refused' && event.group === group.name)
      .map((event) => (typeof event.detail?.code === 'string' ? event.detail.code : '?')),
  };
  const facts = await historyFacts(rig, started.workflowId, kills).catch(() => ({
    sendActivities: [],
    recoveries: {},
  }));
  const sendOutcomes = (report?.steps ?? [])
    .filter((step) => step.name === 'failover' || step.name === 'failback/failover')
    .map((step) => {
      const outcome = (step.evidence as { outcome?: unknown } | undefined)?.outcome;
      return typeof outcome === 'string' ? outcome : step.state;
    });
  const newViolations = world.violations.slice(violationsBefore);
  const twoPrimaries = rig.monitor.twoPrimaries.slice(twoPrimariesBefore).filter((entry) => entry.group === group.name);
  const primaryAfter = world.instanceById(group.primaryInstanceId)!.location;
  const failoverInProgressAfter = group.failover !== undefined;

  const violations = judgeChaosRun({
    outcome,
    failure,
    home,
    away,
    posts,
    newViolations,
    twoPrimaries,
    endpointViolations: endpointChecks.violations,
    primaryAfter,
    failoverInProgressAfter,
    probeLostAcknowledged: report?.drill ? (report.drill.probe?.lostAcknowledged ?? 0) : 0,
    unexpectedExits: rig.worker.unexpectedExits.slice(exitsBefore),
  });
  const dataLoss = report?.drill?.dataLoss;

  return {
    runbook: options.runbook,
    group: group.name,
    workflowId: started.workflowId,
    outcome,
    failure,
    wallMs,
    kills,
    unfired,
    posts,
    sendActivities: facts.sendActivities,
    sendOutcomes,
    recoveries: facts.recoveries,
    newViolations,
    twoPrimaries,
    primaryAfter,
    failoverInProgressAfter,
    dataLoss,
    endpointChecks,
    violations,
    report,
  };
}
