/**
 * A scripted group, a worker for it, and helpers to start any runbook against it on the time-skipping test server:
 * the shared frame of the workflow tests whose subject is a runbook's logic.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, it } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MUTATING_ACTIVITIES, type WatchClock } from '../../src/activities';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { statusQuery, type RunbookReport, type RunbookStatus, type StepRecord } from '../../src/workflows/definitions';
import { ScriptedRecovery } from './scripted-recovery';
import { ScriptedAzure } from './scripted-azure';
import {
  Inventory,
  createTestWorker,
  createTimeSkippingEnvironment,
  repoRoot,
  testServerWatchClock,
  uniqueTaskQueue,
  workflowBundle,
} from './temporal';

export interface RunOutcome {
  report?: RunbookReport;
  failure?: ApplicationFailure;
  /** The `status` query answered after the end (a replay on the worker, so the worker must still run). */
  status: RunbookStatus;
  handle: WorkflowHandle;
}

/** Waits for the runbook to end; call it inside `worker.runUntil` so the final status query can be answered. */
export async function outcomeOf(handle: WorkflowHandle): Promise<RunOutcome> {
  let report: RunbookReport | undefined;
  let failure: ApplicationFailure | undefined;
  try {
    report = (await handle.result()) as RunbookReport;
  } catch (error) {
    if (!(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure)) throw error;
    failure = error.cause;
  }
  return { report, failure, status: await handle.query(statusQuery), handle };
}

/**
 * {@link outcomeOf}, with `report` set when the run failed too: the report its failure carries (undefined if none), for
 * tests that read a failed run's steps and sizes from `report` as they do a successful run's.
 */
export async function outcomeWithReportOf(handle: WorkflowHandle): Promise<RunOutcome> {
  const outcome = await outcomeOf(handle);
  return { ...outcome, report: outcome.report ?? (outcome.failure?.details?.[0] as RunbookReport | undefined) };
}

/** How a run ended: its report, and the failure it ended with (whose details carry the report) if it failed. */
export interface RunEnding {
  report: RunbookReport;
  failure?: ApplicationFailure;
}

/**
 * Waits for the runbook to end, with no status query after (for workers that may stop first). On an error that is not
 * the runbook's own failure it terminates the run, so a broken test leaves nothing running, and rethrows.
 */
export async function endingOf(handle: WorkflowHandle): Promise<RunEnding> {
  try {
    return { report: (await handle.result()) as RunbookReport };
  } catch (error) {
    if (error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure) {
      return { failure: error.cause, report: error.cause.details?.[0] as RunbookReport };
    }
    await handle.terminate('test failed').catch(() => undefined);
    throw error;
  }
}

export function reportOf(failure: ApplicationFailure | undefined): RunbookReport {
  assert.ok(failure, 'expected the runbook to fail');
  return failure.details?.[0] as RunbookReport;
}

export function stepOf(report: RunbookReport, name: string): StepRecord {
  const found = report.steps.find((entry) => entry.name === name);
  assert.ok(found, `step ${name} not in ${report.steps.map((entry) => entry.name).join(', ')}`);
  return found;
}

export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One event of a run's history, as `fetchHistory` gives it. */
type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * Waits until the run has taken in the first event `isEvent` picks (an activity's failure, a signal): a workflow task
 * completed after it. What the run did with it can be read then, not guessed at.
 */
export async function waitForTaskAfter(
  handle: WorkflowHandle,
  isEvent: (event: HistoryEvent) => boolean,
  what: string,
): Promise<void> {
  await waitFor(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const at = events.findIndex(isEvent);
    return at >= 0 && events.slice(at).some((event) => event.workflowTaskCompletedEventAttributes);
  }, `a workflow task after ${what}`);
}

/** Terminates what a test left running: one left running would hold time skipping for every other test. */
export class StartedWorkflows {
  private readonly ids = new Set<string>();
  add(...ids: string[]): void {
    for (const id of ids) this.ids.add(id);
  }
  async terminateAll(env: TestWorkflowEnvironment): Promise<void> {
    for (const workflowId of this.ids) {
      const handle = env.client.workflow.getHandle(workflowId);
      const { status } = await handle.describe().catch(() => ({ status: { name: 'UNKNOWN' } }));
      if (status.name === 'RUNNING') await handle.terminate('test ended').catch(() => undefined);
    }
    this.ids.clear();
  }
}

/** Saves a run's history as a replay fixture when FOGPILOT_RECORD_HISTORIES=1 (see test/histories/README.md). */
export async function saveHistory(handle: WorkflowHandle, fixture: string): Promise<void> {
  if (process.env.FOGPILOT_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const dir = path.join(repoRoot, 'test', 'histories');
  mkdirSync(dir, { recursive: true });
  // The id matters on replay: a runbook compares its own id with the group's lock id.
  writeFileSync(
    path.join(dir, `${fixture}.json`),
    `{"workflowId":${JSON.stringify(handle.workflowId)},"history":${historyToJSON(history)}}\n`,
  );
}

let groupCounter = 0;

/** What a scenario starts runbooks with: its group's name, task queue, lock id and the worker's dependencies. */
export interface StarterSetup {
  name: string;
  taskQueue: string;
  lockId: string;
  deps: Parameters<typeof createTestWorker>[0]['deps'];
  called: string[];
}

/** A scenario's worker and starters for any runbook type, on its group (the input's `group` is its name). */
export function runbookStarters(
  env: TestWorkflowEnvironment,
  started: StartedWorkflows,
  { name, taskQueue, lockId, deps, called }: StarterSetup,
) {
  const start = (
    workflowType: string,
    input: Record<string, unknown>,
    workflowId = lockId,
  ): Promise<WorkflowHandleWithFirstExecutionRunId> => {
    started.add(workflowId, lockId);
    return env.client.workflow.start(workflowType, {
      taskQueue,
      workflowId,
      workflowIdConflictPolicy: 'FAIL',
      args: [{ group: name, ...input }],
    });
  };
  return {
    worker: () => createTestWorker({ env, taskQueue, deps, called }),
    start,
    /** Runs a worker until the runbook ends; returns its report, or the failure it ended with. */
    async run(workflowType: string, input: Record<string, unknown> = {}, workflowId = lockId): Promise<RunOutcome> {
      const worker = await createTestWorker({ env, taskQueue, deps, called });
      const handle = await start(workflowType, input, workflowId);
      return worker.runUntil(outcomeOf(handle));
    },
  };
}

/** One group in a scripted world (one inventory entry), a task queue, and starters for any runbook type. */
export function scriptedScenario(
  env: TestWorkflowEnvironment,
  started: StartedWorkflows,
  configure?: (azure: ScriptedAzure) => void,
) {
  const name = `fog-h${++groupCounter}`;
  const azure = new ScriptedAzure({ clock: () => env.currentTimeMs(), groupName: name });
  configure?.(azure);
  const inventory = new Inventory({ [name]: azure.coordinates });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue();
  // The data-plane watch pauses on the test server's clock, so its reads see the scripted switch happen.
  const watchClock: WatchClock = testServerWatchClock(env);
  // Restores, VM backup and Cosmos DB accounts, on the same clock and call records.
  const recovery = new ScriptedRecovery(azure);
  const deps = { controlPlane: azure, dataPlane: azure, recoveryPlane: recovery, inventory, watchClock };
  const lockId = lockWorkflowId(azure.coordinates);
  return {
    name,
    azure,
    recovery,
    called,
    taskQueue,
    lockId,
    deps,
    ...runbookStarters(env, started, { name, taskQueue, lockId, deps, called }),
    assertNothingChanged(): void {
      for (const mutating of MUTATING_ACTIVITIES)
        assert.ok(!called.includes(mutating), `${mutating} must not be called`);
      assert.equal(azure.acceptedFailovers.length, 0, 'no failover may be posted');
      assert.equal(azure.scaleRequests.length, 0, 'no scale may be requested');
      assert.equal(
        recovery.restoreRequests.length + recovery.dropRequests.length,
        0,
        'no database restored or dropped',
      );
      assert.equal(recovery.migrationRequests.length, 0, 'no Cosmos DB account migrated');
      assert.equal(recovery.protectRequests.length + recovery.backupRequests.length, 0, 'no VM protected or backed up');
    },
  };
}

/** What {@link timeSkippingFrame} gives a test file. */
export interface TimeSkippingFrame {
  /** The file's test server; read it inside a test or hook (it starts in the `before` hook). */
  readonly env: TestWorkflowEnvironment;
  /** Add the ids a test starts by hand; the frame terminates those still running after each test. */
  readonly started: StartedWorkflows;
  /** {@link scriptedScenario} on this frame's server, its workflows terminated after the test. */
  scenario(configure?: (azure: ScriptedAzure) => void): ScriptedScenario;
}

/** A scripted group and its starters, as {@link scriptedScenario} makes them. */
export type ScriptedScenario = ReturnType<typeof scriptedScenario>;

/**
 * The frame of a test file whose tests run runbooks on the time-skipping test server: one server for the file (its tests
 * run one at a time: time skipping is global), the workflow bundle, and every workflow a test started terminated after
 * it (one left running would hold time skipping for the tests after it). Call it at the top of the file.
 */
export function timeSkippingFrame(): TimeSkippingFrame {
  let env: TestWorkflowEnvironment | undefined;
  const started = new StartedWorkflows();
  before(async () => {
    env = await createTimeSkippingEnvironment();
    await workflowBundle();
  });
  after(async () => {
    await env?.teardown();
  });
  afterEach(async () => {
    if (env) await started.terminateAll(env);
  });
  return {
    get env(): TestWorkflowEnvironment {
      assert.ok(env, 'the time-skipping environment starts in the before hook');
      return env;
    },
    started,
    scenario(configure) {
      return scriptedScenario(this.env, started, configure);
    },
  };
}

/** `it` with a bound on each test, so a hang fails that test instead of stalling the file. */
export function boundedIt(timeoutMs: number): (name: string, fn: () => Promise<void>) => void {
  return (name, fn) => {
    it(name, { timeout: timeoutMs }, fn);
  };
}
