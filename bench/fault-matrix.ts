/**
 * Fault storms: every fault kind of the emulator (src/emulator/faults.ts) during every runbook, each run with the real
 * workflow and the real activities (@azure/arm-sql over HTTP, mssql over TDS) against a freshly loaded emulator world,
 * on the time-skipping test server. Each cell is judged by the emulator, not by the runbook: it must end `succeeded`,
 * or failed with a documented failure type whose report names the failed step and states where the group stands, and
 * that statement must match the emulator's world; never two accepted failover POSTs in one direction, never a rule
 * violation, never lost commits without a forced failover, never a hang — and, judged from the clients' side by writers
 * through each instance's own endpoint (bench/endpoint-writers.ts), never two instances accepting writes at once and
 * never an acknowledged write lost beyond the emulator's own count of discarded commits.
 *
 * Shared by `bench/fault-storm.ts` (the full matrix, `npm run chaos`) and `test/reliability/fault-storm.test.ts`
 * (a subset, in `npm test`).
 */
import { emulatorFetch } from '../src/emulator/emulator-fetch';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import type { ActivityDependencies } from '../src/activities';
import { Inventory, type InventoryEntry } from '../src/config/inventory';
import { lockWorkflowId } from '../src/domain/group-ref';
import { emulatorAdapters } from '../src/emulator/adapters';
import { startEmulator, type Emulator } from '../src/emulator';
import { SpeedClock, type WorldClock } from '../src/emulator/clock';
import type { FaultSpecInput } from '../src/emulator/faults';
import { defaultWorldSpec, type WorldSpecInput } from '../src/emulator/world-spec';
import { FailureTypes, statusQuery, type RunbookReport } from '../src/workflows/definitions';
import {
  createTestWorker,
  createTimeSkippingEnvironment,
  uniqueTaskQueue,
  workflowBundle,
} from '../test/support/temporal';
import { EndpointWriters, type EndpointChecks } from './endpoint-writers';

/** Simulated seconds per real second: a 30-second role switch takes 50 ms, a 2-minute scale 200 ms. */
export const DEFAULT_SPEED = 600;
/** Real time a cell may take before it is recorded as hung and its workflow terminated. */
export const DEFAULT_CELL_BOUND_MS = 120_000;

const GROUP = 'fog-sales';
const RESOURCE_GROUP = 'rg-fogpilot';
const EAST = 'fog-sales-eastus';
const WEST = 'fog-sales-westus';

// ── the runbooks ──────────────────────────────────────────────────────────────────────────────────────────────────

export type RunbookId =
  'plannedFailover' | 'forcedFailover' | 'failback' | 'scaleGroup' | 'drDrill' | 'readinessCheck' | 'fleetFailover';

/** What a runbook's write request looks like, so a fault can be aimed at it. */
type WriteTarget = { method: string; path: string; busyCode: string } | undefined;

export interface RunbookCase {
  id: RunbookId;
  /** The column header: the runbook and how it is run. */
  title: string;
  workflowType: string;
  input: Record<string, unknown>;
  /** The groups of its world and inventory; a fault aimed at one group aims at `faultGroup`. */
  groups: string[];
  faultGroup: string;
  /** Its workflow id when not the group's lock id (a fleet runs each group as a child under the group's lock id). */
  workflowId?: string;
  /** The world it starts from (before the fault's own tweak). */
  world: () => WorldSpecInput;
  /** Where the group's home primary is (the inventory's `primaryLocation`). */
  home: { primaryLocation: string; secondaryLocation: string };
  /** Which region its failover (if any) goes to first, and which instance it scales first. */
  firstTarget?: { location: string; instance: string };
  /** The request that changes Azure (the failover POST, the scale PATCH); none for a read-only runbook. */
  write: WriteTarget;
  uses: { sql: boolean; copySync: boolean; failover: boolean; scale: 'always' | 'if-secondary-smaller' | 'never' };
  /** Whether a forced failover may lose commits (only the forced runbook). */
  mayLoseData: boolean;
}

const TIMINGS = { roleSwitchSeconds: 30, forcedSwitchSeconds: 15, vCoreScaleSeconds: 120, storageScaleSeconds: 60 };

function baseWorld(primary = EAST, secondary = WEST): WorldSpecInput {
  const spec = defaultWorldSpec();
  return {
    ...spec,
    groups: [{ ...spec.groups![0]!, primaryInstance: primary, secondaryInstance: secondary }],
    timings: TIMINGS,
    // Throttling is a fault of its own here: the budget's 429s would blur which fault a cell shows.
    throttling: { enabled: false },
  };
}

/** Three groups in the same two regions, for a fleet failover of eastus. */
function fleetWorld(): WorldSpecInput {
  return {
    instances: FLEET.flatMap((name) => [
      { name: `${name}-eastus`, resourceGroup: RESOURCE_GROUP, location: 'eastus' },
      { name: `${name}-westus`, resourceGroup: RESOURCE_GROUP, location: 'westus' },
    ]),
    groups: FLEET.map((name) => ({
      name,
      resourceGroup: RESOURCE_GROUP,
      primaryInstance: `${name}-eastus`,
      secondaryInstance: `${name}-westus`,
      databases: [{ name: 'orders' }],
    })),
    timings: TIMINGS,
    throttling: { enabled: false },
  };
}

const FLEET = ['fleet-1', 'fleet-2', 'fleet-3'];

const failoverPost = { method: 'POST', path: '/failover', busyCode: 'InstanceFailoverGroupBusy' };

export const RUNBOOKS: readonly RunbookCase[] = [
  {
    id: 'plannedFailover',
    title: 'plannedFailover + failback',
    workflowType: 'plannedFailover',
    groups: [GROUP],
    faultGroup: GROUP,
    input: { group: GROUP, failback: { after: '10 minutes' } },
    world: () => baseWorld(),
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    firstTarget: { location: 'westus', instance: WEST },
    write: failoverPost,
    uses: { sql: true, copySync: true, failover: true, scale: 'if-secondary-smaller' },
    mayLoseData: false,
  },
  {
    id: 'forcedFailover',
    title: 'forcedFailover (pre-approved)',
    workflowType: 'forcedFailover',
    groups: [GROUP],
    faultGroup: GROUP,
    input: { group: GROUP, approval: { by: 'fault-storm', reason: 'bench: region outage rehearsal' } },
    world: () => baseWorld(),
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    firstTarget: { location: 'westus', instance: WEST },
    write: { method: 'POST', path: '/forceFailoverAllowDataLoss', busyCode: 'InstanceFailoverGroupBusy' },
    uses: { sql: true, copySync: false, failover: true, scale: 'never' },
    mayLoseData: true,
  },
  {
    id: 'failback',
    title: 'failback (from westus)',
    workflowType: 'failback',
    groups: [GROUP],
    faultGroup: GROUP,
    // The wait is bounded so a group that never synchronizes again ends NotSynchronizing within the bench.
    input: { group: GROUP, waitTimeout: '2 hours' },
    world: () => baseWorld(WEST, EAST),
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    firstTarget: { location: 'eastus', instance: EAST },
    write: failoverPost,
    uses: { sql: true, copySync: true, failover: true, scale: 'if-secondary-smaller' },
    mayLoseData: false,
  },
  {
    id: 'scaleGroup',
    title: 'scaleGroup (8 → 16 vCores)',
    workflowType: 'scaleGroup',
    groups: [GROUP],
    faultGroup: GROUP,
    input: { group: GROUP, vCores: 16 },
    world: () => baseWorld(),
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    firstTarget: { location: 'westus', instance: WEST },
    write: { method: 'PATCH', path: '/managedInstances/', busyCode: 'ConflictingManagedInstanceOperation' },
    uses: { sql: false, copySync: false, failover: false, scale: 'always' },
    mayLoseData: false,
  },
  {
    id: 'drDrill',
    title: 'drDrill',
    workflowType: 'drDrill',
    groups: [GROUP],
    faultGroup: GROUP,
    input: { group: GROUP, soak: '10 minutes', smoke: { write: false } },
    world: () => baseWorld(),
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    firstTarget: { location: 'westus', instance: WEST },
    write: failoverPost,
    uses: { sql: true, copySync: true, failover: true, scale: 'if-secondary-smaller' },
    mayLoseData: false,
  },
  {
    id: 'readinessCheck',
    title: 'readinessCheck',
    workflowType: 'readinessCheck',
    groups: [GROUP],
    faultGroup: GROUP,
    input: { group: GROUP },
    world: () => baseWorld(),
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    write: undefined,
    uses: { sql: true, copySync: false, failover: false, scale: 'never' },
    mayLoseData: false,
  },
  {
    id: 'fleetFailover',
    title: 'fleetFailover (3 groups)',
    workflowType: 'fleetFailover',
    input: { region: 'eastus', mode: 'planned', concurrency: 3 },
    groups: FLEET,
    faultGroup: 'fleet-2',
    workflowId: 'fleet/eastus/fault-storm',
    world: fleetWorld,
    home: { primaryLocation: 'eastus', secondaryLocation: 'westus' },
    firstTarget: { location: 'westus', instance: 'fleet-2-westus' },
    write: failoverPost,
    uses: { sql: true, copySync: true, failover: true, scale: 'if-secondary-smaller' },
    mayLoseData: false,
  },
];

// ── the faults ────────────────────────────────────────────────────────────────────────────────────────────────────

/** How a fault kind is set up for one runbook: the fault specs, a world tweak, or why it cannot touch the runbook. */
export type FaultPlan =
  | {
      faults: FaultSpecInput[];
      tweakWorld?: (spec: WorldSpecInput) => void;
      /** When to install: before the runbook starts (default), or the moment Azure accepts its first failover. */
      when?: 'before-start' | 'after-failover-accepted';
      aim: string;
    }
  | { notApplicable: string };

export interface FaultCase {
  id: string;
  /** The row header. */
  title: string;
  /** The `kind` in src/emulator/faults.ts (with its variant, e.g. throttle 429 / 503). */
  kind: string;
  plan: (runbook: RunbookCase) => FaultPlan;
  /** Whether the fault touched the run, from the emulator's counters before and after it. */
  hit: (seen: HitEvidence) => boolean;
}

export interface HitEvidence {
  armFaulted: number;
  armThrottled: number;
  sqlRequests: number;
  sqlLoginFailures: number;
  worldFaultsLeft: { failoverNeverCompletes: number; failoverFails: number; operationFails: number };
  sqlFaultsLeft: { resetDuringWait: number; loginFailures: number };
  events: string[];
}

const readFaultsOnly = (runbook: RunbookCase): boolean => runbook.write === undefined;

/** An HTTP fault kind aimed at the runbook's reads (GETs) and at its write request. */
function httpFault(
  id: string,
  title: string,
  kind: string,
  onReads: ((match: { method: string }) => FaultSpecInput) | undefined,
  onWrite: ((match: { method: string; path: string }, busyCode: string) => FaultSpecInput) | undefined,
  notForReads?: string,
): FaultCase {
  return {
    id,
    title,
    kind,
    plan(runbook) {
      if (readFaultsOnly(runbook) && notForReads) return { notApplicable: notForReads };
      const faults: FaultSpecInput[] = [];
      const aims: string[] = [];
      if (onReads) {
        faults.push(onReads({ method: 'GET' }));
        aims.push('ARM reads');
      }
      if (onWrite && runbook.write) {
        faults.push(onWrite({ method: runbook.write.method, path: runbook.write.path }, runbook.write.busyCode));
        aims.push(`${runbook.write.method} ${runbook.write.path.replace(/\//g, '')}`);
      }
      return { faults, aim: aims.join(' + ') };
    },
    hit: (seen) => seen.armFaulted > 0,
  };
}

/** Makes the instance the runbook scales first smaller than its partner, so the scale-up step runs (and can fail). */
function secondarySmaller(runbook: RunbookCase) {
  return (spec: WorldSpecInput): void => {
    const instance = spec.instances.find((entry) => entry.name === runbook.firstTarget?.instance);
    if (instance) instance.vCores = 4;
  };
}

const failoverOnly = 'sends no failover';
const noSql = 'uses no SQL (ARM only)';

export const FAULTS: readonly FaultCase[] = [
  {
    id: 'none',
    title: 'no fault (baseline)',
    kind: '—',
    plan: () => ({ faults: [], aim: 'nothing (baseline)' }),
    hit: () => true,
  },
  httpFault(
    'throttle-429',
    'throttle 429 (Retry-After 1 s)',
    'throttle',
    (match) => ({ kind: 'throttle', status: 429, match, count: 6, retryAfterSeconds: 1 }),
    (match) => ({ kind: 'throttle', status: 429, match, count: 2, retryAfterSeconds: 1 }),
  ),
  httpFault(
    'throttle-503',
    'throttle 503 (Retry-After 1 s)',
    'throttle',
    (match) => ({ kind: 'throttle', status: 503, match, count: 6, retryAfterSeconds: 1 }),
    (match) => ({ kind: 'throttle', status: 503, match, count: 2, retryAfterSeconds: 1 }),
  ),
  httpFault(
    'error-5xx',
    'error 500',
    'error',
    (match) => ({ kind: 'error', status: 500, match, count: 3 }),
    (match) => ({ kind: 'error', status: 500, match, count: 1 }),
  ),
  httpFault(
    'reset-before',
    'reset before the request takes effect',
    'reset',
    (match) => ({ kind: 'reset', when: 'before', match, count: 3 }),
    (match) => ({ kind: 'reset', when: 'before', match, count: 1 }),
  ),
  httpFault(
    'reset-after',
    'reset after the request took effect',
    'reset',
    (match) => ({ kind: 'reset', when: 'after', match, count: 3 }),
    (match) => ({ kind: 'reset', when: 'after', match, count: 1 }),
  ),
  httpFault(
    'latency',
    'latency (reads 300 ms; the write 2.2 s, past the client timeout)',
    'latency',
    (match) => ({ kind: 'latency', ms: 300, match, count: 4 }),
    // Past the client's 2-second timeout: the request takes effect after the runbook gave up on its answer. Only just
    // past it: the time-skipping server compresses the runbook's 45-second look for an earlier request into
    // milliseconds, so a later arrival would meet a failback real time would not have reached.
    (match) => ({ kind: 'latency', ms: 2_200, match, count: 1 }),
  ),
  httpFault(
    'busy-409',
    'busy 409 on the write',
    'busy',
    undefined,
    (match, code) => ({ kind: 'busy', code, match, count: 1 }),
    'Azure answers 409 busy to writes; readinessCheck sends none',
  ),
  {
    id: 'failover-never-completes',
    title: 'failover never completes',
    kind: 'failover-never-completes',
    plan: (runbook) =>
      runbook.uses.failover
        ? {
            faults: [{ kind: 'failover-never-completes', group: runbook.faultGroup }],
            aim: `the first failover of ${runbook.faultGroup} accepted`,
          }
        : { notApplicable: failoverOnly },
    hit: (seen) => seen.worldFaultsLeft.failoverNeverCompletes === 0,
  },
  {
    id: 'failover-fails',
    title: 'failover fails (PlannedFailoverTimedOut)',
    kind: 'failover-fails',
    plan: (runbook) =>
      runbook.uses.failover
        ? {
            faults: [{ kind: 'failover-fails', group: runbook.faultGroup }],
            aim: `the first failover of ${runbook.faultGroup} accepted`,
          }
        : { notApplicable: failoverOnly },
    hit: (seen) => seen.events.includes('failover-failed'),
  },
  {
    id: 'operation-fails',
    title: 'scale operation fails',
    kind: 'operation-fails',
    plan: (runbook) => {
      if (runbook.uses.scale === 'never')
        return { notApplicable: runbook.id === 'forcedFailover' ? 'scales nothing' : 'changes nothing' };
      const faults: FaultSpecInput[] = [{ kind: 'operation-fails', instance: runbook.firstTarget!.instance }];
      if (runbook.uses.scale === 'always') return { faults, aim: `the scale of ${runbook.firstTarget!.instance}` };
      return {
        faults,
        tweakWorld: secondarySmaller(runbook),
        aim: `the scale-up of a smaller ${runbook.firstTarget!.instance} (4 vCores) before the failover`,
      };
    },
    hit: (seen) => seen.events.includes('scale-failed'),
  },
  {
    id: 'region-dark',
    title: 'region dark (eastus) from the start',
    kind: 'region-dark',
    plan: () => ({
      faults: [{ kind: 'region-dark', location: 'eastus', hangMs: 100 }],
      aim: 'eastus (ARM and SQL) answers nothing',
    }),
    hit: () => true,
  },
  {
    id: 'region-dark-mid-failover',
    title: 'region dark (the old primary’s) once the failover is accepted',
    kind: 'region-dark',
    plan: (runbook) => {
      if (!runbook.uses.failover) return { notApplicable: failoverOnly };
      const from = runbook.firstTarget!.location === 'westus' ? 'eastus' : 'westus';
      return {
        faults: [{ kind: 'region-dark', location: from, hangMs: 100 }],
        when: 'after-failover-accepted',
        aim: `${from} (the region the failover leaves) goes dark right after Azure accepts the failover`,
      };
    },
    hit: (seen) => seen.events.includes('failover-requested'),
  },
  {
    id: 'sql-reset-during-wait',
    title: 'SQL reset during copy-sync wait (×2)',
    kind: 'sql-reset-during-wait',
    plan: (runbook) =>
      runbook.uses.copySync
        ? {
            faults: [{ kind: 'sql-reset-during-wait', instance: '*', count: 2 }],
            aim: 'sp_wait_for_database_copy_sync',
          }
        : { notApplicable: runbook.uses.sql ? 'runs no copy-sync wait' : noSql },
    hit: (seen) => seen.sqlFaultsLeft.resetDuringWait === 0,
  },
  {
    id: 'sql-latency',
    title: 'SQL latency 200 ms',
    kind: 'sql-latency',
    plan: (runbook) =>
      runbook.uses.sql
        ? { faults: [{ kind: 'sql-latency', instance: '*', ms: 200 }], aim: 'every TDS message' }
        : { notApplicable: noSql },
    hit: (seen) => seen.sqlRequests > 0,
  },
  {
    id: 'sql-login-fails',
    title: 'SQL login refused once (18456)',
    kind: 'sql-login-fails',
    plan: (runbook) =>
      runbook.uses.sql
        ? {
            faults: [{ kind: 'sql-login-fails', instance: '*', count: 1, app: 'fogpilot' }],
            aim: 'the first SQL login',
          }
        : { notApplicable: noSql },
    hit: (seen) => seen.sqlFaultsLeft.loginFailures === 0 && seen.sqlLoginFailures > 0,
  },
  {
    id: 'link-lost',
    title: 'replication link lost',
    kind: 'link-lost',
    plan: (runbook) =>
      runbook.uses.sql
        ? { faults: [{ kind: 'link-lost', group: runbook.faultGroup }], aim: `every database of ${runbook.faultGroup}` }
        : { notApplicable: noSql },
    hit: (seen) => seen.sqlRequests > 0,
  },
  {
    id: 'lag-spike',
    title: 'lag spike (2 min for 1 h)',
    kind: 'lag-spike',
    plan: (runbook) =>
      runbook.uses.sql
        ? {
            faults: [{ kind: 'lag-spike', group: runbook.faultGroup, lagMs: 120_000, seconds: 3_600 }],
            aim: `every database of ${runbook.faultGroup}`,
          }
        : { notApplicable: noSql },
    hit: (seen) => seen.sqlRequests > 0,
  },
];

/**
 * Faults that are not Azure's behaviour but a planted violation, to show the storm's checks catch it (a cell with one
 * must end UNSAFE): `split-brain`, an old primary that keeps accepting writes after a forced failover.
 */
export const CONTROLS: readonly FaultCase[] = [
  {
    id: 'split-brain',
    title: 'split brain (the old primary keeps accepting writes after a forced failover)',
    kind: 'split-brain',
    plan: (runbook) =>
      runbook.id === 'forcedFailover'
        ? {
            faults: [{ kind: 'split-brain', group: runbook.faultGroup }],
            aim: `the old primary of ${runbook.faultGroup}, once the forced failover switched the roles`,
          }
        : { notApplicable: 'only a forced failover leaves the old primary behind' },
    hit: (seen) => seen.events.includes('split-brain-began'),
  },
];

// ── the rig ───────────────────────────────────────────────────────────────────────────────────────────────────────

export interface Rig {
  env: TestWorkflowEnvironment;
  emulator: Emulator;
  speed: number;
  close(): Promise<void>;
  /** @internal The worker all cells share, and the adapters of the cell that runs now. */
  cells: CellWorker;
  /** Moves the emulator's clock forward to the test server's time (between cells). */
  catchUpClock(): Promise<void>;
  /** ARM requests the emulator has received and not yet answered (a delayed or dark-held one may outlive its run). */
  armInFlight(): number;
}

type CellDeps = Pick<ActivityDependencies, 'controlPlane' | 'dataPlane' | 'inventory'>;

/**
 * One worker for every cell (creating one costs a second): its activities reach the adapters of the cell running now
 * through forwarding objects. A cell that hangs gets the worker replaced, so nothing it left running reaches the next.
 */
class CellWorker {
  readonly taskQueue = uniqueTaskQueue('fault-storm');
  readonly called: string[] = [];
  private current?: CellDeps;
  private worker?: Worker;
  private running?: Promise<void>;

  constructor(
    private readonly env: TestWorkflowEnvironment,
    private readonly clock: WorldClock,
  ) {}

  private forward<K extends keyof CellDeps>(key: K): CellDeps[K] {
    return new Proxy({} as CellDeps[K], {
      get: (_target, property) => {
        const target = this.current?.[key] as unknown as Record<PropertyKey, unknown> | undefined;
        if (!target) throw new Error(`fault-storm: no cell is running (${String(key)}.${String(property)})`);
        const value = target[property];
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  async start(): Promise<void> {
    const deps = {
      controlPlane: this.forward('controlPlane'),
      dataPlane: this.forward('dataPlane'),
      inventory: this.forward('inventory'),
      // The data-plane watch keeps the emulator's pace: its slices, its quiet minute and its reads of the operation
      // every 15 s are the world's seconds, as in a real run, not real seconds the time-skipping server cannot skip.
      watchClock: {
        now: () => this.clock.now(),
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, this.clock.toRealMs(ms))),
      },
    };
    this.worker = await createTestWorker({ env: this.env, taskQueue: this.taskQueue, deps, called: this.called });
    this.running = this.worker.run();
  }

  use(deps: CellDeps | undefined): void {
    this.current = deps;
    this.called.length = 0;
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    if (this.worker.getState() === 'RUNNING') this.worker.shutdown();
    await this.running?.catch(() => undefined);
    this.worker = undefined;
  }

  async replace(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/**
 * The emulator's sped-up clock, moved forward between cells to the test server's time. The time-skipping server runs
 * workflow time far ahead (when a run ends it skips to a ten-year timer of its own), while restore-point ages and
 * replication times are workflow time minus emulator time: without this a readiness check would see backups ten
 * years old.
 */
class CellClock implements WorldClock {
  private readonly base: SpeedClock;
  private offset = 0;
  constructor(readonly speed: number) {
    this.base = new SpeedClock(speed);
  }
  now(): number {
    return this.base.now() + this.offset;
  }
  toRealMs(simulatedMs: number): number {
    return this.base.toRealMs(simulatedMs);
  }
  /** Forward only, and only between cells (a new world is loaded right after). */
  catchUp(at: number): void {
    const behind = at - this.now();
    if (behind > 0) this.offset += behind;
  }
}

export async function createRig(options: { speed?: number } = {}): Promise<Rig> {
  const speed = options.speed ?? DEFAULT_SPEED;
  const env = await createTimeSkippingEnvironment();
  await workflowBundle();
  const clock = new CellClock(speed);
  const emulator = await startEmulator({ world: baseWorld(), clock, tls: true });
  const cells = new CellWorker(env, clock);
  await cells.start();
  let inFlight = 0;
  emulator.arm.app.server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight += 1;
    response.once('close', () => (inFlight -= 1));
  });
  return {
    env,
    emulator,
    speed,
    cells,
    armInFlight: () => inFlight,
    catchUpClock: async () => clock.catchUp(await env.currentTimeMs()),
    async close() {
      await cells.stop();
      await emulator.close();
      await env.teardown();
    },
  };
}

/** The groups, once the SQL endpoints of a newly loaded world's instances listen (the emulator opens them as it loads). */
async function sqlEndpointsOf(rig: Rig, groups: readonly string[]): Promise<readonly string[]> {
  const deadline = Date.now() + 10_000;
  const names = groups.flatMap((name) =>
    rig.emulator.world.findGroup(name)!.instanceIds.map((id) => rig.emulator.world.instanceById(id)!.name),
  );
  const listening = () =>
    names.every((name) => (rig.emulator.startLine().sql.instances.find((entry) => entry.name === name)?.port ?? 0) > 0);
  while (!listening() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return groups;
}

async function drainArm(rig: Rig, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (rig.armInFlight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The emulator's admin API: how an operator (or this bench) loads a world and injects faults. */
async function admin(rig: Rig, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await emulatorFetch(rig.emulator, `${rig.emulator.armEndpoint}/_admin/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /_admin/${path}: HTTP ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

// ── one cell ──────────────────────────────────────────────────────────────────────────────────────────────────────

export type Verdict = 'safe' | 'UNSAFE' | 'n/a';

export interface CellResult {
  fault: string;
  runbook: RunbookId;
  verdict: Verdict;
  /** The short text of the table cell. */
  cell: string;
  /** `succeeded`, a failure type, `hung`, or `n/a`. */
  outcome: string;
  notApplicable?: string;
  aim?: string;
  faultHit?: boolean;
  /**
   * Failed activity attempts, from the history: Temporal's retries, plus activities that failed for good (after which
   * a run that succeeded went on: the workflow's own recovery, e.g. a failover request checked and sent again).
   */
  activityRetries?: number;
  /** Faulted ARM answers (HTTP faults) during the run. */
  armFaulted?: number;
  /** What the report says about where the group stands. */
  stated?: string;
  failure?: { type: string; message: string; failedStep?: string };
  readinessVerdict?: string;
  /** Accepted failover POSTs by target region (emulator). */
  acceptedTo?: Record<string, number>;
  /** Where the emulator has the primary after the run, and whether a failover is still in progress there. */
  primaryAfter?: string;
  failoverInProgress?: boolean;
  /** What the report adds: its warnings, and a readiness check's non-passing checks. */
  notes: string[];
  /** The client-side checks: writes through each instance's own endpoint during the cell, and what they found. */
  endpointChecks?: EndpointChecks;
  /** Checks that failed (any makes the cell UNSAFE). */
  problems: string[];
  wallMs: number;
}

interface RunOutcome {
  report?: RunbookReport;
  failure?: ApplicationFailure;
  hung?: { reason: string; phase?: string };
  unexpected?: string;
}

const KNOWN_FAILURES = new Set<string>(Object.values(FailureTypes));

function sqlCounters(emulator: Emulator): { requests: number; loginFailures: number } {
  let requests = 0;
  let loginFailures = 0;
  for (const server of emulator.tds.values()) {
    requests += server.requests.batches + server.requests.rpcs;
    loginFailures += server.requests.loginFailures;
  }
  return { requests, loginFailures };
}

function inventoryFor(rig: Rig, runbook: RunbookCase): Inventory {
  const entries: Record<string, InventoryEntry> = {};
  for (const name of runbook.groups) {
    entries[name] = {
      subscriptionId: rig.emulator.world.spec.subscriptionId,
      resourceGroup: RESOURCE_GROUP,
      name,
      ...runbook.home,
    };
  }
  return new Inventory(entries);
}

async function waitOutcome(handle: WorkflowHandle, boundMs: number): Promise<RunOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), boundMs);
  });
  try {
    const result = handle.result().then(
      (report) => ({ report: report as RunbookReport }),
      (error: unknown) => ({ error }),
    );
    let ended = await Promise.race([result, bound]);
    if (ended === 'hung') {
      const describe = await handle.describe().catch(() => undefined);
      // Ended just as the bound ran out: that is an end, not a hang.
      if (describe && describe.status.name !== 'RUNNING') ended = await result;
    }
    if (ended === 'hung') {
      const status = await handle.query(statusQuery).catch(() => undefined);
      const pending = (await pendingWork(handle)).join('; ');
      await handle.terminate('fault-storm: the cell ran past its bound').catch(() => undefined);
      return {
        hung: {
          reason: `no end within ${Math.round(boundMs / 1000)} s${pending ? ` (activities pending: ${pending})` : ''}`,
          phase: status?.phase,
        },
      };
    }
    if ('report' in ended) return { report: ended.report };
    const error = ended.error;
    if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
      const report = error.cause.details?.[0] as RunbookReport | undefined;
      return { failure: error.cause, report: report && Array.isArray(report.steps) ? report : undefined };
    }
    if (error instanceof WorkflowFailedError && error.cause instanceof TimeoutFailure)
      return { hung: { reason: 'workflow execution timeout' } };
    if (error instanceof WorkflowFailedError && error.cause instanceof TerminatedFailure)
      return { hung: { reason: 'terminated' } };
    return { unexpected: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a hung run is waiting on, its children's included (a runbook under the group lock does its work in the lock
 * holder, a child): each pending activity with its workflow, state and attempt. A time-skipping server does not skip
 * while an activity runs, so this names what held a sleep to real time.
 */
async function pendingWork(handle: WorkflowHandle, depth = 0): Promise<string[]> {
  const describe = await handle.describe().catch(() => undefined);
  if (!describe) return [];
  const found = (describe.raw.pendingActivities ?? []).map(
    (activity) =>
      `${handle.workflowId}: ${activity.activityType?.name ?? '?'} ` +
      `(state ${activity.state ?? '?'}, attempt ${activity.attempt ?? '?'})`,
  );
  if (depth >= 3) return found;
  for (const child of describe.raw.pendingChildren ?? []) {
    if (!child.workflowId) continue;
    found.push(...(await pendingWork(handle.client.getHandle(child.workflowId, child.runId ?? undefined), depth + 1)));
  }
  return found;
}

/** Activity retries and workflow-task failures, from the run's history. */
async function historyFacts(handle: WorkflowHandle): Promise<{ retries: number; workflowTaskFailures: string[] }> {
  const history = await handle.fetchHistory().catch(() => undefined);
  let retries = 0;
  const workflowTaskFailures: string[] = [];
  for (const event of history?.events ?? []) {
    const attempt = event.activityTaskStartedEventAttributes?.attempt;
    if (attempt && attempt > 1) retries += attempt - 1;
    // An activity that failed for good, and after which the run went on: a fault the workflow itself recovered from.
    if (event.activityTaskFailedEventAttributes || event.activityTaskTimedOutEventAttributes) retries += 1;
    const failed = event.workflowTaskFailedEventAttributes?.failure?.message;
    if (failed) workflowTaskFailures.push(failed);
  }
  return { retries, workflowTaskFailures };
}

interface StatedPosition {
  /** The region the report says is primary now; undefined when the report says the switch is in doubt. */
  primary?: string;
  inDoubt: boolean;
  text: string;
}

function lastStep(report: RunbookReport, suffixes: string[]) {
  return [...report.steps].reverse().find((step) => suffixes.some((suffix) => step.name.endsWith(suffix)));
}

/**
 * Where the report says the group stands: the roles it read at the end, or what follows from the legs it records
 * (nothing sent: as before; sent and the roles awaited: switched), or, for a failover Azure did not finish, in doubt
 * as its message says. Undefined when the report leaves it unsaid.
 */
function statedPosition(report: RunbookReport, failureType: string | undefined): StatedPosition | undefined {
  if (report.rolesAfter)
    return { primary: report.rolesAfter.primary, inDoubt: false, text: `${report.rolesAfter.primary} primary` };
  const sent = report.legs.filter((leg) => leg.failoverSent);
  if (sent.length === 0) {
    const primary = report.rolesBefore?.primary;
    return { primary, inDoubt: false, text: `nothing sent${primary ? `; ${primary} primary` : ''}` };
  }
  const leg = sent.at(-1)!;
  const awaited = lastStep(report, ['await-roles', 'await-new-primary', 'try-planned']);
  if (awaited?.state === 'succeeded') return { primary: leg.to, inDoubt: false, text: `switched; ${leg.to} primary` };
  if (failureType === FailureTypes.FailoverFailed)
    return { primary: leg.from, inDoubt: false, text: `failover failed in Azure; ${leg.from} primary` };
  if (failureType === FailureTypes.AzureUnavailable)
    return { inDoubt: true, text: `sent to ${leg.to}; Azure unreachable, end not confirmed, "do not send another"` };
  if (failureType === FailureTypes.RoleSwitchTimeout)
    return { inDoubt: true, text: `sent to ${leg.to}; switch not seen, "do not send another"` };
  return undefined;
}

/** Failure types that end a group's runbook before any failover was sent. */
const BEFORE_SEND: ReadonlySet<string> = new Set([
  FailureTypes.InvalidInput,
  FailureTypes.GroupNotFound,
  FailureTypes.PreflightFailed,
  FailureTypes.NotSecondary,
  FailureTypes.GroupBusy,
  FailureTypes.FailoverNotSent,
  FailureTypes.SyncTimeout,
  FailureTypes.ReplicationLinkMissing,
  FailureTypes.ScaleFailed,
  FailureTypes.SqlLoginFailed,
]);

/**
 * A fleet's report against the emulator, group by group: each member succeeded (and is primary in the target
 * region), was skipped, or failed with a documented type whose meaning matches the emulator (a failure before the
 * send: nothing accepted and the roles as they were; `FailoverFailed`: the roles as they were; the rest: in doubt).
 */
function judgeFleet(
  report: RunbookReport,
  runbook: RunbookCase,
  failovers: Record<string, { accepted: number }>,
  primaryOf: (name: string) => { location: string; inProgress: boolean },
  problems: string[],
): StatedPosition {
  const members = report.fleet!.members;
  const parts: string[] = [];
  for (const name of runbook.groups) {
    const member = members.find((entry) => entry.group === name);
    const accepted = failovers[name]?.accepted ?? 0;
    const now = primaryOf(name);
    if (!member) {
      problems.push(`the fleet report does not list ${name}`);
      continue;
    }
    const type = member.error?.type;
    if (member.outcome === 'succeeded') {
      if (now.location !== runbook.home.secondaryLocation)
        problems.push(`${name} reported succeeded; the emulator has ${now.location} primary`);
      continue;
    }
    parts.push(`${name} ${type ?? member.outcome}`);
    if (member.outcome === 'skipped') {
      if (accepted > 0) problems.push(`${name} reported skipped; the emulator accepted ${accepted} failover(s)`);
      continue;
    }
    if (!type || !KNOWN_FAILURES.has(type)) {
      problems.push(`${name} ended ${member.outcome} with an undocumented failure type "${type}"`);
      continue;
    }
    const unchanged = BEFORE_SEND.has(type) || type === FailureTypes.FailoverFailed;
    if (BEFORE_SEND.has(type) && accepted > 0)
      problems.push(`${name} failed ${type} (before any send); the emulator accepted ${accepted} failover(s)`);
    if (unchanged && (now.inProgress || now.location !== runbook.home.primaryLocation))
      problems.push(
        `${name} failed ${type}, which says the roles are as they were; the emulator has ${now.location} primary`,
      );
  }
  const succeeded = members.filter((member) => member.outcome === 'succeeded').length;
  return {
    inDoubt: false,
    primary: undefined,
    text: `${succeeded}/${runbook.groups.length} failed over${parts.length ? `; ${parts.join(', ')}` : ''}`,
  };
}

/**
 * A violation planted in one cell, for a positive control of the judgement (test/reliability/fault-storm.test.ts):
 * the cell runs and is judged exactly as in the storm, with this done to the world or to what the judge reads.
 */
export interface Plant {
  /**
   * Done once the run has ended and before the cell is judged, with the cell's world still loaded: what a rogue
   * operator or script would do behind fogpilot's back (an extra failover POST straight to ARM), or a test seam on
   * the emulator's own records.
   */
  afterRun?: (rig: Rig, runbook: RunbookCase) => Promise<void>;
  /** Rewrites the report the judge reads (a copy: the run's own is untouched), as a falsified report would read. */
  report?: (report: RunbookReport) => RunbookReport;
}

/** Runs one cell: a fresh world, the fault installed, the runbook with the real activities, then the judgement. */
export async function runCell(
  rig: Rig,
  fault: FaultCase,
  runbook: RunbookCase,
  options: { boundMs?: number; plant?: Plant } = {},
): Promise<CellResult> {
  const startedAt = performance.now();
  const plan = fault.plan(runbook);
  if ('notApplicable' in plan) {
    return {
      fault: fault.id,
      runbook: runbook.id,
      verdict: 'n/a',
      cell: 'n/a',
      outcome: 'n/a',
      notApplicable: plan.notApplicable,
      notes: [],
      problems: [],
      wallMs: 0,
    };
  }
  const { emulator, env } = rig;
  const world = runbook.world();
  plan.tweakWorld?.(world);
  await rig.catchUpClock();
  await admin(rig, 'PUT', 'world', world);
  await admin(rig, 'DELETE', 'faults');
  // Logged in before the faults go in, so a refused login is the runbook's to meet.
  const writers = new EndpointWriters({ emulator, groups: await sqlEndpointsOf(rig, runbook.groups) });
  await writers.start();
  const install = async (): Promise<void> => {
    for (const spec of plan.faults) await admin(rig, 'POST', 'faults', spec);
  };
  let watcher: NodeJS.Timeout | undefined;
  let installing: Promise<void> | undefined;
  if (plan.when === 'after-failover-accepted') {
    // The world logs each accepted failover; the fault goes in through the admin API within milliseconds of it.
    watcher = setInterval(() => {
      if (installing || !emulator.world.events.some((event) => event.kind === 'failover-requested')) return;
      clearInterval(watcher);
      installing = install();
    }, 2);
  } else {
    await install().catch(async (error: unknown) => {
      await writers.stop();
      throw error;
    });
  }
  const armBefore = { ...emulator.arm.stats };
  const sqlBefore = sqlCounters(emulator);
  const faultGroupSpec = world.groups!.find((entry) => entry.name === runbook.faultGroup)!;
  const initialPrimary = world.instances.find((entry) => entry.name === faultGroupSpec.primaryInstance)!.location;

  const { controlPlane, dataPlane } = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
  const inventory = inventoryFor(rig, runbook);
  const lockIds = runbook.groups.map((name) => lockWorkflowId(inventory.get(name)!));
  const workflowId = runbook.workflowId ?? lockIds[0]!;
  let outcome: RunOutcome;
  const facts = { retries: 0, workflowTaskFailures: [] as string[] };
  rig.cells.use({ controlPlane, dataPlane, inventory });
  try {
    const handle = await env.client.workflow.start(runbook.workflowType, {
      taskQueue: rig.cells.taskQueue,
      workflowId,
      workflowIdConflictPolicy: 'FAIL',
      args: [runbook.input],
    });
    outcome = await waitOutcome(handle, options.boundMs ?? DEFAULT_CELL_BOUND_MS);
    const children = runbook.workflowId ? lockIds.map((id) => env.client.workflow.getHandle(id)) : [];
    for (const run of [handle, ...children]) {
      const seen = await historyFacts(run);
      facts.retries += seen.retries;
      facts.workflowTaskFailures.push(...seen.workflowTaskFailures);
    }
    if (outcome.hung) {
      for (const child of children)
        await child.terminate('fault-storm: the fleet ran past its bound').catch(() => undefined);
      // What a hung run left running must not reach the next cell.
      await rig.cells.replace();
    }
  } catch (error) {
    await writers.stop();
    throw error;
  } finally {
    clearInterval(watcher);
    await installing?.catch(() => undefined);
    rig.cells.use(undefined);
    await dataPlane.close().catch(() => undefined);
  }

  await options.plant?.afterRun?.(rig, runbook);
  // A request the run gave up on (a latency longer than the client's timeout) still takes effect when it arrives:
  // it belongs to this cell's world, and must not land in the next one.
  await drainArm(rig);
  // Written on until every endpoint answered twice more, with the faults still in: the world as the run left it.
  await writers.settle();
  await writers.stop();

  // ── the judgement ──
  const invariants = emulator.world.invariants();
  const counters = invariants.failovers[runbook.faultGroup];
  const acceptedTo: Record<string, number> = {};
  for (const name of runbook.groups) {
    for (const [location, accepted] of Object.entries(invariants.failovers[name]?.acceptedTo ?? {}))
      acceptedTo[runbook.groups.length > 1 ? `${name}→${location}` : location] = accepted;
  }
  const group = emulator.world.findGroup(runbook.faultGroup)!;
  const primaryAfter = emulator.world.instanceById(group.primaryInstanceId)!.location;
  const failoverInProgress = group.failover !== undefined && !group.failover.switched;
  const sqlAfter = sqlCounters(emulator);
  const hitEvidence: HitEvidence = {
    armFaulted: emulator.arm.stats.faulted - armBefore.faulted,
    armThrottled: emulator.arm.stats.throttled - armBefore.throttled,
    // The runbook's requests: those of the endpoint writers that reached the engine are not its.
    sqlRequests:
      sqlAfter.requests -
      sqlBefore.requests -
      writers.writes.filter((write) => write.outcome === 'accepted' || write.outcome === 'refused').length,
    sqlLoginFailures: sqlAfter.loginFailures - sqlBefore.loginFailures,
    worldFaultsLeft: {
      failoverNeverCompletes: emulator.world.faults.failoverNeverCompletes.size,
      failoverFails: emulator.world.faults.failoverFails.size,
      operationFails: emulator.world.faults.operationFails.size,
    },
    sqlFaultsLeft: {
      resetDuringWait: emulator.world.faults.sql.resetDuringWait.size,
      loginFailures: emulator.world.faults.sql.loginFailures.size,
    },
    events: invariants.events.map((event) => event.kind),
  };
  await admin(rig, 'DELETE', 'faults');
  // Read back with the faults out (a dark region answers again), so the loss account can be checked.
  const endpointChecks = await writers.judge();

  const problems: string[] = [];
  const notes: string[] = [];
  for (const violation of invariants.violations) problems.push(`emulator violation: ${violation}`);
  problems.push(...endpointChecks.violations);
  for (const verdict of endpointChecks.dataLoss)
    if (verdict.unverified) notes.push(`loss account unverified: ${verdict.unverified}`);
  for (const [location, accepted] of Object.entries(acceptedTo)) {
    if (accepted > 1) problems.push(`${accepted} failover POSTs accepted toward ${location} (at most 1 per direction)`);
  }
  if (!runbook.mayLoseData && emulator.world.lostCommits.length > 0)
    problems.push(`commits lost without a forced failover: ${JSON.stringify(emulator.world.lostCommits)}`);
  if (!runbook.uses.failover && (counters?.received ?? 0) > 0)
    problems.push(`${runbook.id} sent ${counters!.received} failover request(s)`);
  const primaryOf = (name: string) => {
    const state = emulator.world.findGroup(name)!;
    return {
      location: emulator.world.instanceById(state.primaryInstanceId)!.location,
      inProgress: state.failover !== undefined && !state.failover.switched,
    };
  };

  const { failure } = outcome;
  const report =
    outcome.report && options.plant?.report ? options.plant.report(structuredClone(outcome.report)) : outcome.report;
  let stated: StatedPosition | undefined;
  let failedStep: string | undefined;
  let readinessVerdict: string | undefined;
  let resultText: string;
  if (outcome.hung) {
    problems.push(`hung: ${outcome.hung.reason}${outcome.hung.phase ? ` in phase ${outcome.hung.phase}` : ''}`);
    for (const message of [...new Set(facts.workflowTaskFailures)].slice(0, 3))
      problems.push(`workflow task failed: ${message}`);
    resultText = 'hung';
  } else if (outcome.unexpected) {
    problems.push(`ended with an unexpected error: ${outcome.unexpected}`);
    resultText = 'error';
  } else {
    resultText = failure ? (failure.type ?? 'Error') : (report?.outcome ?? 'no report');
    if (failure && !KNOWN_FAILURES.has(failure.type ?? ''))
      problems.push(`failure type "${failure.type}" is not one of the documented failure types: ${failure.message}`);
    if (!report) problems.push('no report in the result or the failure details');
    if (report) {
      readinessVerdict = report.readiness?.verdict;
      for (const check of report.readiness?.groups.flatMap((entry) => entry.checks) ?? [])
        if (check.status !== 'pass') notes.push(`readiness ${check.status}: [${check.name}] ${check.message}`);
      for (const warning of report.warnings) notes.push(`warning: ${warning}`);
      failedStep = [...report.steps].reverse().find((step) => step.state === 'failed')?.name;
      // A fleet's statement is its member list (checked below), not one step.
      if (failure && !failedStep && !report.fleet) problems.push('the failure names no failed step');
      if (!failure && report.outcome !== 'succeeded' && !(report.fleet && report.outcome === 'partial'))
        problems.push(`ended ${report.outcome}, not succeeded`);
      if (report.fleet) {
        stated = judgeFleet(report, runbook, invariants.failovers, primaryOf, problems);
      } else {
        stated = statedPosition(report, failure?.type ?? undefined);
        if (!stated && runbook.uses.failover) problems.push('the report does not say where the group stands');
      }
      // The report's statement must be the emulator's truth.
      const statedPrimary = stated?.primary ?? (stated && !stated.inDoubt ? initialPrimary : undefined);
      if (
        !report.fleet &&
        stated &&
        !stated.inDoubt &&
        statedPrimary &&
        !failoverInProgress &&
        statedPrimary !== primaryAfter
      )
        problems.push(`the report says ${statedPrimary} is primary; the emulator has ${primaryAfter}`);
      if (!report.fleet && stated && !stated.inDoubt && failoverInProgress)
        problems.push('the report states a settled group while the emulator still runs its failover');
      for (const [location, accepted] of Object.entries(report.fleet ? {} : acceptedTo)) {
        if (accepted > 0 && !report.legs.some((leg) => leg.to === location && leg.failoverSent))
          problems.push(`the emulator accepted a failover toward ${location} that the report does not record as sent`);
      }
      if (runbook.id === 'scaleGroup') {
        const [primary, secondary] = [
          group.primaryInstanceId,
          emulator.world.partnerInstance(group, group.primaryInstanceId).id,
        ].map((id) => emulator.world.instanceById(id)!);
        if (secondary!.vCores < primary!.vCores || secondary!.storageSizeInGB < primary!.storageSizeInGB) {
          if (!/secondary is now smaller/i.test(failure?.message ?? ''))
            problems.push('the secondary ended smaller than the primary and the report does not warn of it');
        }
      }
    }
  }

  const faultHit = fault.hit(hitEvidence);
  const verdict: Verdict = problems.length === 0 ? 'safe' : 'UNSAFE';
  const cell = describeCell(verdict, resultText, {
    retries: facts.retries,
    armFaulted: hitEvidence.armFaulted,
    faultHit,
    stated,
    readinessVerdict,
    failedStep,
  });
  return {
    fault: fault.id,
    runbook: runbook.id,
    verdict,
    cell,
    outcome: resultText,
    aim: plan.aim,
    faultHit,
    activityRetries: facts.retries,
    armFaulted: hitEvidence.armFaulted,
    stated: stated?.text,
    failure: failure ? { type: failure.type ?? 'Error', message: failure.message, failedStep } : undefined,
    readinessVerdict,
    acceptedTo,
    primaryAfter,
    failoverInProgress,
    endpointChecks,
    notes,
    problems,
    wallMs: Math.round(performance.now() - startedAt),
  };
}

function describeCell(
  verdict: Verdict,
  outcome: string,
  facts: {
    retries: number;
    armFaulted: number;
    faultHit: boolean;
    stated?: StatedPosition;
    readinessVerdict?: string;
    failedStep?: string;
  },
): string {
  if (verdict === 'UNSAFE') return `**UNSAFE** (${outcome})`;
  const notes: string[] = [];
  if (!facts.faultHit) notes.push('fault not hit');
  if (outcome === 'succeeded') {
    if (facts.retries > 0) notes.push(`${facts.retries} ${facts.retries === 1 ? 'retry' : 'retries'}`);
    if (facts.readinessVerdict) notes.push(`verdict ${facts.readinessVerdict}`);
    return notes.length ? `ok (${notes.join(', ')})` : 'ok';
  }
  if (facts.failedStep) notes.unshift(`at ${facts.failedStep}`);
  if (facts.stated) notes.push(facts.stated.text);
  return `${outcome} · safe${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

// ── the matrix ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface MatrixOptions {
  faults?: readonly FaultCase[];
  runbooks?: readonly RunbookCase[];
  /** Only these (fault id, runbook id) pairs, when given. */
  only?: (fault: FaultCase, runbook: RunbookCase) => boolean;
  boundMs?: number;
  onCell?: (result: CellResult) => void;
}

export async function runMatrix(rig: Rig, options: MatrixOptions = {}): Promise<CellResult[]> {
  const results: CellResult[] = [];
  for (const fault of options.faults ?? FAULTS) {
    for (const runbook of options.runbooks ?? RUNBOOKS) {
      if (options.only && !options.only(fault, runbook)) continue;
      const result = await runCell(rig, fault, runbook, { boundMs: options.boundMs });
      results.push(result);
      options.onCell?.(result);
    }
  }
  return results;
}

export interface MatrixTotals {
  cells: number;
  succeeded: number;
  safeFailures: number;
  unsafe: number;
  notApplicable: number;
  faultNotHit: number;
}

export function totalsOf(results: readonly CellResult[]): MatrixTotals {
  return {
    cells: results.length,
    succeeded: results.filter((result) => result.verdict === 'safe' && result.outcome === 'succeeded').length,
    safeFailures: results.filter((result) => result.verdict === 'safe' && result.outcome !== 'succeeded').length,
    unsafe: results.filter((result) => result.verdict === 'UNSAFE').length,
    notApplicable: results.filter((result) => result.verdict === 'n/a').length,
    faultNotHit: results.filter((result) => result.verdict !== 'n/a' && result.faultHit === false).length,
  };
}

/** The fault × runbook table as Markdown. */
export function markdownTable(results: readonly CellResult[]): string {
  const faults = FAULTS.filter((fault) => results.some((result) => result.fault === fault.id));
  const runbooks = RUNBOOKS.filter((runbook) => results.some((result) => result.runbook === runbook.id));
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    `| fault \\ runbook | ${runbooks.map((runbook) => runbook.title).join(' | ')} |`,
    `|---|${runbooks.map(() => '---').join('|')}|`,
  ];
  for (const fault of faults) {
    const cells = runbooks.map((runbook) => {
      const result = results.find((entry) => entry.fault === fault.id && entry.runbook === runbook.id);
      return result ? escape(result.cell) : '';
    });
    lines.push(`| ${escape(fault.title)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
