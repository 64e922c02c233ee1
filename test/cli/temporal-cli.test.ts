/**
 * The plain Temporal CLI path an operator takes without fogpilot's own CLI: `temporal workflow start --type … --input`
 * with plain JSON, `temporal workflow query --name status`, `temporal workflow signal --name approve`, and
 * `temporal workflow list --query` by fogpilot's search attributes. Against the real dev server, a fogpilot worker with
 * the real adapters, and the emulator, whose counters judge what Azure was asked to do.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Worker } from '@temporalio/worker';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters, emulatorInventory } from '../../src/emulator/adapters';
import { createFogpilotWorker } from '../../src/worker';
import type { RunbookReport, RunbookStatus } from '../../src/workflows/definitions';
import { startDevServer, type DevServer } from '../support/dev-server';
import { StartedWorkflows, waitFor } from '../support/runbook-harness';
import { findTemporalCli, uniqueTaskQueue, workflowBundle } from '../support/temporal';

const temporalCli = findTemporalCli();
const run = promisify(execFile);

let server: DevServer;
let emulator: Emulator;
let worker: Worker;
let running: Promise<void>;
let closeDataPlane: () => Promise<void>;
const taskQueue = uniqueTaskQueue('temporal-cli');
const started = new StartedWorkflows();

/** `temporal <args>` against the dev server, JSON out; resolves to the parsed output. */
async function temporal<T>(...args: string[]): Promise<T> {
  const { stdout } = await run(
    temporalCli!,
    [...args, '--address', server.address, '--namespace', server.namespace, '--output', 'json'],
    { timeout: 30_000 },
  );
  const text = stdout.trim();
  // `signal` prints nothing; `list` an array (or, in some versions, one object per line); the others one object.
  if (text === '') return (args[1] === 'list' ? [] : undefined) as T;
  if (args[1] === 'list' && !text.startsWith('[')) {
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as unknown) as T;
  }
  return JSON.parse(text) as T;
}

function primaryLocationOf(groupName: string): string {
  const group = emulator.world.findGroup(groupName)!;
  return emulator.world.instanceById(group.primaryInstanceId)!.location;
}

async function statusOf(workflowId: string): Promise<RunbookStatus> {
  const answer = await temporal<{ queryResult: RunbookStatus[] }>(
    'workflow',
    'query',
    '--workflow-id',
    workflowId,
    '--name',
    'status',
  );
  return answer.queryResult[0]!;
}

async function resultOf(workflowId: string): Promise<RunbookReport> {
  return (await server.env.client.workflow.getHandle(workflowId).result()) as RunbookReport;
}

interface ListedExecution {
  execution: { workflowId: string };
  type: { name: string };
}

/** Visibility is eventually consistent: list until `expected` ids are all there. */
async function listUntil(query: string, expected: string[]): Promise<string[]> {
  let ids: string[] = [];
  await waitFor(
    async () => {
      const listed = await temporal<ListedExecution[]>('workflow', 'list', '--query', query);
      ids = listed.map((entry) => entry.execution.workflowId);
      return expected.every((id) => ids.includes(id));
    },
    `${query} to list ${expected.join(', ')}`,
    15_000,
  );
  return ids;
}

before(async () => {
  if (!temporalCli) return;
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
  // Sixty emulated seconds a second: a 30-second role switch takes half a second.
  emulator = await startEmulator({ speed: 60 });
  const { controlPlane, dataPlane } = emulatorAdapters(emulator, { requestTimeoutMs: 5_000 });
  closeDataPlane = () => dataPlane.close();
  worker = await createFogpilotWorker({
    connection: server.env.nativeConnection,
    taskQueue,
    dependencies: { controlPlane, dataPlane, inventory: emulatorInventory(emulator) },
  });
  running = worker.run();
});
afterEach(async () => {
  await started.terminateAll(server.env);
});
after(async () => {
  if (!temporalCli) return;
  worker.shutdown();
  await running;
  await closeDataPlane();
  await emulator.close();
  await server.teardown();
});

const cliSkip = !temporalCli && 'no temporal CLI found';

describe('the plain Temporal CLI', { concurrency: 1, timeout: 120_000, skip: cliSkip }, () => {
  it('starts a forced failover that waits for a person: `query --name status` says so, `signal --name approve` lets it finish', async () => {
    const workflowId = 'cli-forced-fog-sales';
    started.add(workflowId);
    const before = emulator.world.invariants().failovers['fog-sales'] ?? { received: 0, accepted: 0 };
    await temporal(
      'workflow',
      'start',
      '--type',
      'forcedFailover',
      '--task-queue',
      taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      JSON.stringify({ group: 'fog-sales', approvalTimeout: '30 minutes', reason: 'INC-2093 eastus degraded' }),
    );

    // The id a person started shows what the group's lock holder waits for, with the data-loss estimate.
    let waiting: RunbookStatus | undefined;
    await waitFor(
      async () => {
        waiting = await statusOf(workflowId).catch(() => undefined);
        return waiting?.awaiting?.kind === 'approval';
      },
      'the forced failover to wait for approval',
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; its status: ${JSON.stringify(waiting)}`);
    });
    assert.equal(waiting!.runbook, 'forcedFailover');
    assert.match(waiting!.awaiting!.detail, /approve or reject: forced failover of fog-sales to westus/);
    assert.equal(
      emulator.world.invariants().failovers['fog-sales']?.received ?? 0,
      before.received,
      'nothing is sent before the approval',
    );

    await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ by: 'dba-oncall@contoso', reason: 'INC-2093: data at risk accepted' }),
    );
    const report = await resultOf(workflowId);
    assert.equal(report.outcome, 'succeeded');
    // A signal's `by` is only claimed: nobody authenticated it.
    assert.equal(report.approval?.by, 'claimed:dba-oncall@contoso');
    assert.equal(report.approval?.via, 'signal');
    const afterward = emulator.world.invariants().failovers['fog-sales']!;
    assert.equal(afterward.accepted - before.accepted, 1, 'one forced failover accepted');
    assert.equal(primaryLocationOf('fog-sales'), 'westus');
  });

  it('starts plannedFailover with plain JSON, answers `query --name status` when done, and `list --query` finds runs by the Fogpilot attributes', async () => {
    const workflowId = 'cli-planned-fog-sales';
    started.add(workflowId);
    const startOutput = await temporal<{ workflowId: string; runId: string }>(
      'workflow',
      'start',
      '--type',
      'plannedFailover',
      '--task-queue',
      taskQueue,
      '--workflow-id',
      workflowId,
      '--input',
      // The way home is named: without a target a planned failover goes to the home secondary, already primary here.
      JSON.stringify({
        group: 'fog-sales',
        targetLocation: 'eastus',
        maxLagSeconds: 10,
        requestedBy: 'sre@contoso',
        reason: 'CHG-4711',
      }),
    );
    assert.equal(startOutput.workflowId, workflowId);

    const report = await resultOf(workflowId);
    assert.equal(report.outcome, 'succeeded');
    assert.equal(primaryLocationOf('fog-sales'), 'eastus', 'back home after the forced failover');
    const { failovers, violations } = emulator.world.invariants();
    assert.deepEqual(failovers['fog-sales']!.acceptedTo, { westus: 1, eastus: 1 }, 'one forced over, one planned back');
    assert.deepEqual(violations, []);

    // A finished run still answers its status query: the phase it ended in and every step, the lock holder's too.
    const status = await statusOf(workflowId);
    assert.equal(status.runbook, 'plannedFailover');
    assert.equal(status.phase, 'succeeded');
    assert.ok(
      status.steps.some((step) => step.name === 'failover' && step.state === 'succeeded'),
      `steps: ${status.steps.map((step) => `${step.name}:${step.state}`).join(', ')}`,
    );

    const byGroup = await listUntil('FogpilotGroup="fog-sales"', [workflowId, 'cli-forced-fog-sales']);
    assert.ok(byGroup.length >= 4, `the two runs and their lock holders: ${byGroup.join(', ')}`);
    await listUntil('FogpilotRunbook="plannedFailover" AND FogpilotPhase="succeeded"', [workflowId]);
    const forcedRuns = await listUntil('FogpilotGroup="fog-sales" AND FogpilotRunbook="forcedFailover"', [
      'cli-forced-fog-sales',
    ]);
    assert.ok(!forcedRuns.includes(workflowId), 'the runbook attribute tells the runs apart');
    const otherGroup = await temporal<ListedExecution[]>('workflow', 'list', '--query', 'FogpilotGroup="fog-other"');
    assert.deepEqual(otherGroup, [], 'a group with no runs lists nothing');
  });
});
