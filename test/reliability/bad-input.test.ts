/**
 * Bad input, across every surface, against one live emulator: the runbooks started as the Temporal CLI starts them
 * (plain JSON, no client-side checks) on a worker with the real activities, the typed client, the `fogpilot` CLI in
 * its own process, and the HTTP trigger on a real port. Each malformed input must end in a clear error that names the
 * field and says what to do, and Azure must see nothing: no ARM write, no failover POST, no mutating or data-writing
 * activity. The table of cases goes to `$FOGPILOT_RELIABILITY_OUT/bad-input.md` for docs/RELIABILITY.md.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { DATA_WRITING_ACTIVITIES, MUTATING_ACTIVITIES } from '../../src/activities';
import { FogpilotClient, InvalidRunbookInputError, type RunbookInputs, type RunbookType } from '../../src/client';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters, emulatorInventory } from '../../src/emulator/adapters';
import type { WorldSpecInput } from '../../src/emulator/world-spec';
import { createWebhookServer, signedRequestHeaders } from '../../src/webhook';
import { fogpilot, type CliRun } from '../cli/fogpilot-cli';
import { StartedWorkflows } from '../support/runbook-harness';
import { removeTempFile } from '../support/temp-files';
import { createTestWorker, createTimeSkippingEnvironment, uniqueTaskQueue, workflowBundle } from '../support/temporal';
import { markdownTable, writeEmulatorConfig, writeReliabilityResult } from '../support/reliability-proof';

const SPEED = 600;
const SUBSCRIPTION = '00000000-0000-4000-8000-0000000f0c05';
const HMAC_SECRET = 'bad-input-hmac-secret-0123456789abcdef';
const BEARER_TOKEN = 'bad-input-bearer-token-0123456789abcdef';

/** fog-sales, ready to fail over; fog-seeding, still seeding its secondary for as long as this file runs. */
const WORLD: WorldSpecInput = {
  subscriptionId: SUBSCRIPTION,
  instances: [
    { name: 'fog-sales-eastus', resourceGroup: 'rg-fogpilot', location: 'eastus' },
    { name: 'fog-sales-westus', resourceGroup: 'rg-fogpilot', location: 'westus' },
    { name: 'fog-seed-eastus', resourceGroup: 'rg-fogpilot', location: 'eastus' },
    { name: 'fog-seed-westus', resourceGroup: 'rg-fogpilot', location: 'westus' },
  ],
  groups: [
    {
      name: 'fog-sales',
      resourceGroup: 'rg-fogpilot',
      primaryInstance: 'fog-sales-eastus',
      secondaryInstance: 'fog-sales-westus',
    },
    {
      name: 'fog-seeding',
      resourceGroup: 'rg-fogpilot',
      primaryInstance: 'fog-seed-eastus',
      secondaryInstance: 'fog-seed-westus',
      seedingSeconds: 1e9,
    },
  ],
  timings: { roleSwitchSeconds: 30, vCoreScaleSeconds: 120, storageScaleSeconds: 60 },
  throttling: { enabled: false },
};

const coordinates = (overrides: Record<string, unknown> = {}) => ({
  subscriptionId: SUBSCRIPTION,
  resourceGroup: 'rg-fogpilot',
  name: 'fog-sales',
  primaryLocation: 'eastus',
  secondaryLocation: 'westus',
  ...overrides,
});

/** Every refusal a person reads ends with what to do next; these are the ways fogpilot says it. */
const NOTHING_CHANGED = /Nothing was changed in Azure; correct the input and start again\./;

interface Row {
  surface: 'runbook' | 'client' | 'cli' | 'webhook';
  name: string;
  result: string;
  message: string;
}
const rows: Row[] = [];

let env: TestWorkflowEnvironment;
let emulator: Emulator;
let worker: Worker;
let running: Promise<void>;
let closeDataPlane: () => Promise<void>;
let configDir: string;
let configFile: string;
const taskQueue = uniqueTaskQueue('bad-input');
const called: string[] = [];
const started = new StartedWorkflows();

before(async () => {
  [env] = await Promise.all([createTimeSkippingEnvironment(), workflowBundle()]);
  emulator = await startEmulator({ world: WORLD, speed: SPEED, tls: true });
  const { controlPlane, dataPlane } = emulatorAdapters(emulator, { requestTimeoutMs: 2_000 });
  closeDataPlane = () => dataPlane.close();
  worker = await createTestWorker({
    env,
    taskQueue,
    deps: { controlPlane, dataPlane, inventory: emulatorInventory(emulator) },
    called,
  });
  running = worker.run();
  configFile = writeEmulatorConfig(emulator, { taskQueue });
  // The CLI cases write their broken configs next to it, so they go with it.
  configDir = path.dirname(configFile);
});

after(async () => {
  await started.terminateAll(env).catch(() => undefined);
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await closeDataPlane?.();
  await emulator?.close();
  await env?.teardown();
  if (configFile) removeTempFile(configFile);
});

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

/** Azure saw nothing: no ARM write of any kind, no failover POST, no scale, and no activity that changes or writes. */
function assertAzureUntouched(stage: string): void {
  const stats = emulator.arm.stats;
  assert.equal(stats.writes, 0, `${stage}: ARM writes reached the emulator: ${JSON.stringify(stats.byRoute)}`);
  const { failovers, violations, events } = emulator.world.invariants();
  for (const [group, counters] of Object.entries(failovers)) {
    assert.equal(counters.received, 0, `${stage}: a failover POST reached ${group}`);
  }
  assert.deepEqual(violations, [], `${stage}: emulator invariants`);
  const changes = events.filter((event) => /failover|scale/.test(event.kind));
  assert.deepEqual(changes, [], `${stage}: the world changed`);
  for (const activity of [...MUTATING_ACTIVITIES, ...DATA_WRITING_ACTIVITIES]) {
    assert.ok(!called.includes(activity), `${stage}: ${activity} ran`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Runbooks started with plain JSON, as `temporal workflow start --input …` does: the workflow is the only check.

interface RunbookCase {
  name: string;
  runbook: RunbookType;
  input: unknown;
  type: 'InvalidInput' | 'GroupNotFound' | 'PreflightFailed';
  /** What the message must name (the field, or the group). */
  names: string;
  /** What the message must say to do. */
  says: RegExp;
}

const runbookCases: RunbookCase[] = [
  {
    name: 'no input at all',
    runbook: 'plannedFailover',
    input: {},
    type: 'InvalidInput',
    names: 'group',
    says: NOTHING_CHANGED,
  },
  {
    name: 'input is a bare string, not an object',
    runbook: 'plannedFailover',
    input: 'fog-sales',
    type: 'InvalidInput',
    names: '(input)',
    says: NOTHING_CHANGED,
  },
  {
    name: 'malformed group name',
    runbook: 'plannedFailover',
    input: { group: 'fog sales!' },
    type: 'InvalidInput',
    names: 'group',
    says: NOTHING_CHANGED,
  },
  {
    name: 'malformed ARM id (a server, not a failover group)',
    runbook: 'plannedFailover',
    input: { group: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-fogpilot/providers/Microsoft.Sql/servers/fog` },
    type: 'InvalidInput',
    names: 'group',
    says: NOTHING_CHANGED,
  },
  {
    name: 'oversized ARM id (600 characters)',
    runbook: 'plannedFailover',
    input: {
      group: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${'r'.repeat(500)}/providers/Microsoft.Sql/locations/eastus/instanceFailoverGroups/fog-sales`,
    },
    type: 'InvalidInput',
    names: 'group',
    says: NOTHING_CHANGED,
  },
  {
    name: 'subscriptionId not a GUID',
    runbook: 'plannedFailover',
    input: { group: coordinates({ subscriptionId: 'not-a-guid' }) },
    type: 'InvalidInput',
    names: 'group.subscriptionId',
    says: NOTHING_CHANGED,
  },
  {
    name: 'coordinates with the same region twice',
    runbook: 'plannedFailover',
    input: { group: coordinates({ primaryLocation: 'East US', secondaryLocation: 'eastus' }) },
    type: 'InvalidInput',
    names: 'group.secondaryLocation',
    says: NOTHING_CHANGED,
  },
  {
    name: 'group name with upper case in coordinates',
    runbook: 'plannedFailover',
    input: { group: coordinates({ name: 'Fog_Sales' }) },
    type: 'InvalidInput',
    names: 'group.name',
    says: NOTHING_CHANGED,
  },
  {
    name: 'unknown group (not in the inventory)',
    runbook: 'plannedFailover',
    input: { group: 'fog-nowhere' },
    type: 'GroupNotFound',
    names: 'fog-nowhere',
    says: /Add it to fogpilot\.yaml, or pass the group as coordinates/,
  },
  {
    name: 'unknown group by ARM id (Azure answers 404)',
    runbook: 'plannedFailover',
    input: {
      group: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-fogpilot/providers/Microsoft.Sql/locations/eastus/instanceFailoverGroups/fog-ghost`,
    },
    type: 'GroupNotFound',
    names: 'fog-ghost',
    says: /Check the subscription, resource group, name and region\./,
  },
  {
    name: 'unknown group by coordinates (Azure answers 404)',
    runbook: 'plannedFailover',
    input: { group: coordinates({ name: 'fog-ghost' }) },
    type: 'GroupNotFound',
    names: 'fog-ghost',
    says: /Check the subscription, resource group, name and region\./,
  },
  {
    name: 'a seeding group',
    runbook: 'plannedFailover',
    input: { group: 'fog-seeding' },
    type: 'PreflightFailed',
    names: 'replication-synchronizing',
    says: /nothing was changed.*→/s,
  },
  {
    // A target that already is primary is no longer bad input: the intent is met, and the run ends alreadyPrimary.
    name: 'approvalMaxAge of 10 seconds (under a minute)',
    runbook: 'forcedFailover',
    input: { group: 'fog-sales', approvalMaxAge: '10 seconds' },
    type: 'InvalidInput',
    names: 'approvalMaxAge',
    says: NOTHING_CHANGED,
  },
  {
    name: 'target is a region outside the group',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', targetLocation: 'westeurope' },
    type: 'InvalidInput',
    names: 'targetLocation',
    says: /Name one of its regions, or leave targetLocation out for the home secondary/,
  },
  {
    name: 'maxLagSeconds as text (wrong type)',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', maxLagSeconds: 'ten' },
    type: 'InvalidInput',
    names: 'maxLagSeconds',
    says: NOTHING_CHANGED,
  },
  {
    name: 'dryRun as "yes" (wrong type)',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', dryRun: 'yes' },
    type: 'InvalidInput',
    names: 'dryRun',
    says: NOTHING_CHANGED,
  },
  {
    name: 'oversized requestedBy (5000 characters)',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', requestedBy: 'x'.repeat(5000) },
    type: 'InvalidInput',
    names: 'requestedBy',
    says: NOTHING_CHANGED,
  },
  {
    name: 'failback.after not a duration',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', failback: { after: 'soon' } },
    type: 'InvalidInput',
    names: 'failback.after',
    says: NOTHING_CHANGED,
  },
  {
    name: 'a mistyped field (dryrun)',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', dryrun: true },
    type: 'InvalidInput',
    names: 'did you mean "dryRun"',
    says: NOTHING_CHANGED,
  },
  {
    name: 'approval with an empty approver',
    runbook: 'forcedFailover',
    input: { group: 'fog-sales', approval: { by: ' ', reason: 'INC-1' } },
    type: 'InvalidInput',
    names: 'approval.by',
    says: NOTHING_CHANGED,
  },
  {
    name: 'approvalTimeout below a minute',
    runbook: 'forcedFailover',
    input: { group: 'fog-sales', approvalTimeout: '5 seconds' },
    type: 'InvalidInput',
    names: 'approvalTimeout',
    says: NOTHING_CHANGED,
  },
  {
    name: 'target is a region outside the group',
    runbook: 'forcedFailover',
    input: { group: 'fog-sales', targetLocation: 'japaneast', approval: { by: 'bot', reason: 'INC-2' } },
    type: 'InvalidInput',
    names: 'targetLocation',
    says: /Name one of its regions, or leave targetLocation out for the home secondary/,
  },
  {
    name: 'a seeding group, pre-approved',
    runbook: 'forcedFailover',
    input: { group: 'fog-seeding', approval: { by: 'incident-bot', reason: 'INC-3' } },
    type: 'PreflightFailed',
    names: 'is still seeding',
    says: /nothing was sent\. Wait for seeding to finish/,
  },
  {
    name: 'waitTimeout of 90 days (beyond 30)',
    runbook: 'failback',
    input: { group: 'fog-sales', waitTimeout: '90 days' },
    type: 'InvalidInput',
    names: 'waitTimeout',
    says: NOTHING_CHANGED,
  },
  {
    name: 'pollInterval of 1 ms',
    runbook: 'failback',
    input: { group: 'fog-sales', pollInterval: 1 },
    type: 'InvalidInput',
    names: 'pollInterval',
    says: NOTHING_CHANGED,
  },
  {
    name: 'target is a region outside the group',
    runbook: 'failback',
    input: { group: 'fog-sales', targetLocation: 'brazilsouth' },
    type: 'InvalidInput',
    names: 'targetLocation',
    says: /leave targetLocation out for the home primary/,
  },
  {
    name: 'odd vCores (6)',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales', vCores: 6 },
    type: 'InvalidInput',
    names: 'vCores',
    says: NOTHING_CHANGED,
  },
  {
    name: 'vCores as text (wrong type)',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales', vCores: '16' },
    type: 'InvalidInput',
    names: 'vCores',
    says: NOTHING_CHANGED,
  },
  {
    name: 'storage not a multiple of 32 (100 GB)',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales', storageSizeInGB: 100 },
    type: 'InvalidInput',
    names: 'storageSizeInGB',
    says: NOTHING_CHANGED,
  },
  {
    name: 'storage beyond 16 TB',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales', storageSizeInGB: 32_768 },
    type: 'InvalidInput',
    names: 'storageSizeInGB',
    says: NOTHING_CHANGED,
  },
  {
    name: 'an unknown SKU',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales', sku: 'Premium_P15' },
    type: 'InvalidInput',
    names: 'sku',
    says: NOTHING_CHANGED,
  },
  {
    name: 'nothing to scale to',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales' },
    type: 'InvalidInput',
    names: 'vCores',
    says: NOTHING_CHANGED,
  },
  {
    name: 'failback: false',
    runbook: 'drDrill',
    input: { group: 'fog-sales', failback: false },
    type: 'InvalidInput',
    names: 'failback',
    says: NOTHING_CHANGED,
  },
  {
    name: 'health URL with credentials in it',
    runbook: 'drDrill',
    input: { group: 'fog-sales', smoke: { httpCheck: { url: 'https://ops:hunter2@app.example.com/health' } } },
    type: 'InvalidInput',
    names: 'smoke.httpCheck.url',
    says: NOTHING_CHANGED,
  },
  {
    name: 'health URL with a token in its query string',
    runbook: 'drDrill',
    input: { group: 'fog-sales', smoke: { httpCheck: { url: 'https://app.example.com/health?access_token=abc123' } } },
    type: 'InvalidInput',
    names: 'smoke.httpCheck.url',
    says: NOTHING_CHANGED,
  },
  {
    name: 'smoke database with SQL in its name',
    runbook: 'drDrill',
    input: { group: 'fog-sales', smoke: { database: 'sales;DROP TABLE x' } },
    type: 'InvalidInput',
    names: 'smoke.database',
    says: NOTHING_CHANGED,
  },
  {
    name: 'a seeding group',
    runbook: 'drDrill',
    input: { group: 'fog-seeding', soak: '1 minute' },
    type: 'PreflightFailed',
    names: 'replication-synchronizing',
    says: /nothing was changed.*→/s,
  },
  {
    name: 'neither groups nor region',
    runbook: 'fleetFailover',
    input: {},
    type: 'InvalidInput',
    names: 'region',
    says: NOTHING_CHANGED,
  },
  {
    name: 'a region no group lives in',
    runbook: 'fleetFailover',
    input: { region: 'australiaeast' },
    type: 'InvalidInput',
    names: 'region',
    says: /Check the region name, or pass groups explicitly/,
  },
  {
    name: 'concurrency 0',
    runbook: 'fleetFailover',
    input: { region: 'eastus', concurrency: 0 },
    type: 'InvalidInput',
    names: 'concurrency',
    says: NOTHING_CHANGED,
  },
  {
    name: 'an unknown mode',
    runbook: 'fleetFailover',
    input: { region: 'eastus', mode: 'yolo' },
    type: 'InvalidInput',
    names: 'mode',
    says: NOTHING_CHANGED,
  },
  {
    name: 'groups as a string (wrong type)',
    runbook: 'fleetFailover',
    input: { groups: 'fog-sales,fog-seeding' },
    type: 'InvalidInput',
    names: 'groups',
    says: NOTHING_CHANGED,
  },
  {
    name: 'both a group and all: true',
    runbook: 'readinessCheck',
    input: { group: 'fog-sales', all: true },
    type: 'InvalidInput',
    names: 'group',
    says: NOTHING_CHANGED,
  },
  {
    name: 'maxRestorePointAge not a duration',
    runbook: 'readinessCheck',
    input: { group: 'fog-sales', maxRestorePointAge: 'forever' },
    type: 'InvalidInput',
    names: 'maxRestorePointAge',
    says: NOTHING_CHANGED,
  },
];

/**
 * Runs each case's workflow to its end and returns how it failed (or that it did not). Cases that would take the same
 * group's lock run one after the other; the rest run side by side.
 */
async function runRunbookCases(cases: RunbookCase[]): Promise<(ApplicationFailure | Error | undefined)[]> {
  const lockOf = (input: unknown, index: number): string => {
    const group = (input as { group?: unknown } | undefined)?.group;
    return typeof group === 'string' && /^fog-(sales|seeding)$/.test(group) ? group : `case-${index}`;
  };
  const queues = new Map<string, number[]>();
  cases.forEach((testCase, index) => {
    const key = lockOf(testCase.input, index);
    queues.set(key, [...(queues.get(key) ?? []), index]);
  });
  // A plain client: waiting on a result through it does not skip time, so many runs at once cannot let the test
  // server leap past a run's timeouts while its workflow task waits for the worker. None of these runs needs a timer.
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const outcomes = new Array<ApplicationFailure | Error | undefined>(cases.length);
  const runOne = async (index: number): Promise<void> => {
    const testCase = cases[index]!;
    const workflowId = `bad-input/runbook-${index}`;
    started.add(workflowId);
    try {
      const handle = await client.workflow.start(testCase.runbook, { taskQueue, workflowId, args: [testCase.input] });
      await handle.result();
      outcomes[index] = undefined;
    } catch (error) {
      outcomes[index] =
        error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure
          ? error.cause
          : (error as Error);
    }
  };
  await inBatches([...queues.values()], 6, async (queue) => {
    for (const index of queue) await runOne(index);
  });
  return outcomes;
}

describe('bad input to the runbooks, started with plain JSON', { concurrency: 1, timeout: 120_000 }, () => {
  let outcomes: (ApplicationFailure | Error | undefined)[];
  before(async () => {
    outcomes = await runRunbookCases(runbookCases);
  });

  for (const [index, testCase] of runbookCases.entries()) {
    it(`${testCase.runbook}: ${testCase.name} → ${testCase.type}`, () => {
      const failure = outcomes[index];
      assert.ok(failure, `${testCase.runbook} accepted ${JSON.stringify(testCase.input).slice(0, 120)}`);
      assert.ok(failure instanceof ApplicationFailure, `ended with ${String(failure)}`);
      assert.equal(failure.type, testCase.type, failure.message);
      assert.equal(failure.nonRetryable, true);
      assert.ok(failure.message.includes(testCase.names), `"${failure.message}" names ${testCase.names}`);
      assert.match(failure.message, testCase.says);
      rows.push({
        surface: 'runbook',
        name: `${testCase.runbook}: ${testCase.name}`,
        result: failure.type,
        message: failure.message,
      });
    });
  }

  it('changed nothing in Azure', () => {
    assertAzureUntouched('after the runbook cases');
    assert.ok(emulator.arm.stats.reads > 0, 'the runbooks that got past validation did read Azure');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The typed client: refused before anything reaches Temporal.

interface ClientCase {
  name: string;
  runbook: RunbookType;
  input: unknown;
  idempotencyKey?: string;
  field: string;
}

const clientCases: ClientCase[] = [
  { name: 'vCores 7', runbook: 'scaleGroup', input: { group: 'fog-sales', vCores: 7 }, field: 'vCores' },
  {
    name: 'storage 1000 GB (not a multiple of 32)',
    runbook: 'scaleGroup',
    input: { group: 'fog-sales', storageSizeInGB: 1000 },
    field: 'storageSizeInGB',
  },
  {
    name: 'health check expecting status 700',
    runbook: 'drDrill',
    input: { group: 'fog-sales', smoke: { httpCheck: { url: 'https://app.example.com/health', expectStatus: 700 } } },
    field: 'smoke.httpCheck.expectStatus',
  },
  {
    name: 'an idempotency key with spaces and slashes',
    runbook: 'forcedFailover',
    input: { group: 'fog-sales' },
    idempotencyKey: 'INC 1/../2',
    field: 'idempotencyKey',
  },
  {
    name: 'oversized reason (2000 characters)',
    runbook: 'plannedFailover',
    input: { group: 'fog-sales', reason: 'r'.repeat(2000) },
    field: 'reason',
  },
  {
    name: 'tryPlannedFirst without a timeout',
    runbook: 'forcedFailover',
    input: { group: 'fog-sales', tryPlannedFirst: {} },
    field: 'tryPlannedFirst.timeout',
  },
];

describe('bad input to the typed client (fogpilot/client)', { concurrency: 1 }, () => {
  const client = () => new FogpilotClient(env.client, taskQueue);
  for (const [index, testCase] of clientCases.entries()) {
    it(`${testCase.runbook}: ${testCase.name} → InvalidRunbookInputError naming ${testCase.field}`, async () => {
      const workflowId = `bad-input/client-${index}`;
      const error = await client()
        .start(testCase.runbook, testCase.input as RunbookInputs[typeof testCase.runbook], {
          workflowId,
          idempotencyKey: testCase.idempotencyKey,
        })
        .then(
          () => undefined,
          (caught: unknown) => caught,
        );
      assert.ok(error instanceof InvalidRunbookInputError, `refused: ${String(error)}`);
      assert.ok(
        error.problems.some((problem) => problem.field === testCase.field),
        JSON.stringify(error.problems),
      );
      assert.ok(error.message.includes(`${testCase.field}:`), error.message);
      if (testCase.field !== 'idempotencyKey') assert.match(error.message, NOTHING_CHANGED);
      await assert.rejects(client().handle(workflowId).describe(), WorkflowNotFoundError, 'nothing reached Temporal');
      rows.push({
        surface: 'client',
        name: `${testCase.runbook}: ${testCase.name}`,
        result: 'InvalidRunbookInputError',
        message: error.message,
      });
    });
  }

  it('changed nothing in Azure', () => assertAzureUntouched('after the client cases'));
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI, as an operator runs it: its own process, pointed at this Temporal server and at the emulator's config.

interface CliCase {
  name: string;
  args: string[];
  /** Extra environment (a config file of its own). */
  env?: Record<string, string>;
  code: number;
  /** What stderr must say: the field and flag, and what to do. */
  says: RegExp[];
  /** What stderr must not contain (a value that must not be echoed). */
  hides?: string;
}

const GHOST_GROUP = JSON.stringify(coordinates({ name: 'fog-ghost' }));

function cliCases(): CliCase[] {
  const badConfig = (name: string, yaml: string) => {
    const file = path.join(configDir, name);
    writeFileSync(file, yaml);
    return { FOGPILOT_CONFIG: file };
  };
  const inventoryEntry = (extra: Record<string, unknown>) =>
    JSON.stringify({
      azure: { armEndpoint: emulator.armEndpoint, credential: 'emulator' },
      inventory: {
        'fog-sales': {
          subscriptionId: SUBSCRIPTION,
          resourceGroup: 'rg-fogpilot',
          primaryLocation: 'eastus',
          secondaryLocation: 'westus',
          ...extra,
        },
      },
    });
  return [
    {
      name: 'scale --vcores 6',
      args: ['scale', 'fog-sales', '--vcores', '6'],
      code: 2,
      says: [/vCores \(--vcores\): vCores must be one of 4, 8, 16/, /Nothing was started/, /→ Correct the value/],
    },
    {
      name: 'scale --storage-gb 100',
      args: ['scale', 'fog-sales', '--storage-gb', '100'],
      code: 2,
      says: [/storageSizeInGB \(--storage-gb\): storageSizeInGB must be a multiple of 32/, /Nothing was started/],
    },
    {
      name: 'failover of a malformed group name',
      args: ['failover', 'fog sales!'],
      code: 2,
      says: [/group \(<group>\): group must be an inventory name/, /Nothing was started/],
    },
    {
      name: 'failover --max-lag-seconds ten',
      args: ['failover', 'fog-sales', '--max-lag-seconds', 'ten'],
      code: 2,
      says: [/maxLagSeconds \(--max-lag-seconds\): maxLagSeconds must be a number of seconds/],
    },
    {
      name: 'failover with broken JSON coordinates',
      args: ['failover', '{"subscriptionId": "x",'],
      code: 2,
      says: [/group: looks like JSON coordinates but is not valid JSON/, /→ Give an inventory name, a full ARM id/],
    },
    {
      name: 'failover with same-region coordinates',
      args: ['failover', JSON.stringify(coordinates({ secondaryLocation: 'eastus' }))],
      code: 2,
      says: [/group\.secondaryLocation: secondaryLocation must be a different region from primaryLocation/],
    },
    {
      name: 'failover --input that is not JSON',
      args: ['failover', 'fog-sales', '--input', '{maxLagSeconds: 10'],
      code: 2,
      says: [/--input is not valid JSON/, /→ Give a JSON object/],
    },
    {
      name: 'force-failover --approve-by without a reason',
      args: ['force-failover', 'fog-sales', '--approve-by', 'alice'],
      code: 2,
      says: [/pre-approval needs both --approve-by and --approve-reason/, /→ Give both/],
    },
    {
      name: 'drill --http-check with credentials',
      args: ['drill', 'fog-sales', '--http-check', 'https://ops:hunter2@app.example.com/health'],
      code: 2,
      says: [/smoke\.httpCheck\.url \(--http-check\): smoke\.httpCheck\.url must not carry credentials/],
    },
    {
      name: 'fleet-failover with neither --region nor --groups',
      args: ['fleet-failover'],
      code: 2,
      says: [/region \(--region or --groups\): region is required: region: give either region/],
    },
    {
      name: 'readiness of a group and --all',
      args: ['readiness', 'fog-sales', '--all'],
      code: 2,
      says: [/group \(<group> or --all\): group: give either group/],
    },
    {
      name: 'failover of an unknown group (reaches the worker)',
      args: ['failover', 'fog-nowhere'],
      code: 5,
      says: [/GroupNotFound: Group "fog-nowhere" is not in the worker's inventory/, /Add it to fogpilot\.yaml/],
    },
    {
      name: 'failover of a seeding group (reaches the worker)',
      args: ['failover', 'fog-seeding'],
      code: 5,
      says: [/PreflightFailed: Preflight failed for fog-seeding; nothing was changed/, /replication-synchronizing/],
    },
    {
      name: 'status of a group Azure does not have',
      args: ['status', GHOST_GROUP],
      code: 3,
      says: [/fog-ghost/],
    },
    {
      name: 'worker with a password in passwordEnv',
      args: ['worker'],
      env: badConfig(
        'password-in-config.yaml',
        inventoryEntry({ sql: { auth: 'sql-login', userEnv: 'FOGPILOT_SQL_USER', passwordEnv: 'Hunter2-literal!' } }),
      ),
      code: 2,
      says: [/inventory\.fog-sales\.sql\.passwordEnv: passwordEnv must name an environment variable/],
      hides: 'Hunter2-literal!',
    },
    {
      name: 'webhook with a 6-character HMAC secret',
      args: ['webhook', '--port', '0'],
      env: { FOGPILOT_WEBHOOK_HMAC_SECRET: 'abc123' },
      code: 2,
      says: [
        /FOGPILOT_WEBHOOK_HMAC_SECRET is too short \(6 characters\)/,
        /→ Generate one with `openssl rand -hex 32`/,
      ],
      hides: 'abc123',
    },
  ];
}

describe('bad input to the fogpilot CLI', { concurrency: 1, timeout: 180_000 }, () => {
  let cases: CliCase[];
  let runs: CliRun[];
  before(async () => {
    cases = cliCases();
    const base = {
      TEMPORAL_ADDRESS: env.address,
      FOGPILOT_TASK_QUEUE: taskQueue,
      FOGPILOT_CONFIG: configFile,
      FOGPILOT_METRICS_PORT: '0',
    };
    // Processes that only validate end in a second; the two that reach the worker follow their run to its end.
    runs = await inBatches(cases, 2, (testCase) => fogpilot(testCase.args, { ...base, ...testCase.env }, 90_000));
  });

  it('refuses every bad command line with its exit code, naming the field or flag and what to do', () => {
    for (const [index, testCase] of cases.entries()) {
      const run = runs[index]!;
      const label = `fogpilot ${testCase.name}`;
      assert.equal(run.code, testCase.code, `${label}: exit ${run.code}\n${run.stderr}`);
      for (const pattern of testCase.says) assert.match(run.stderr, pattern, label);
      if (testCase.hides) {
        assert.ok(!run.stderr.includes(testCase.hides) && !run.stdout.includes(testCase.hides), `${label} echoes it`);
      }
      const message = run.stderr.replace(/^fogpilot: /, '').trim();
      rows.push({ surface: 'cli', name: `fogpilot ${testCase.name}`, result: `exit ${run.code}`, message });
    }
  });

  it('changed nothing in Azure', () => assertAzureUntouched('after the CLI cases'));
});

// ---------------------------------------------------------------------------------------------------------------
// The HTTP trigger on a real port, over the same Temporal server and worker.

describe('bad requests to the HTTP trigger', { concurrency: 1, timeout: 60_000 }, () => {
  let app: FastifyInstance;
  let url: string;
  /** The server's clock runs this far ahead of real time (moved to replay a request after its window). */
  let skewMs = 0;

  before(async () => {
    app = createWebhookServer({
      client: new FogpilotClient(env.client, taskQueue),
      auth: { hmacSecret: HMAC_SECRET, bearerToken: BEARER_TOKEN },
      namespace: env.namespace ?? 'default',
      now: () => Date.now() + skewMs,
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await app?.close();
  });

  interface Sent {
    status: number;
    body: { error?: string; message?: string; problems?: { field: string; message: string }[] };
  }

  async function send(
    route: string,
    payload: string | undefined,
    headers: Record<string, string>,
    method = 'POST',
  ): Promise<Sent> {
    const response = await fetch(`${url}${route}`, { method, headers, body: payload });
    const text = await response.text();
    let body: Sent['body'] = {};
    try {
      body = JSON.parse(text) as Sent['body'];
    } catch {
      body = { message: text };
    }
    return { status: response.status, body };
  }

  const json = { 'content-type': 'application/json' };
  const signed = (route: string, payload: string, at = Date.now(), secret = HMAC_SECRET, idempotencyKey?: string) => ({
    ...json,
    ...signedRequestHeaders(secret, { method: 'POST', path: route, body: payload, idempotencyKey }, at),
  });
  const start = (input: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ input, ...extra });

  function record(name: string, sent: Sent, status: number, error: string, says: RegExp): void {
    assert.equal(sent.status, status, `${name}: ${JSON.stringify(sent.body)}`);
    assert.equal(sent.body.error, error, name);
    assert.match(sent.body.message ?? '', says, name);
    rows.push({ surface: 'webhook', name, result: `${sent.status} ${error}`, message: sent.body.message ?? '' });
  }

  it('refuses an unsigned start, saying how to authenticate', async () => {
    const payload = start({ group: 'fog-sales' });
    const sent = await send('/v1/runbooks/plannedFailover', payload, json);
    record('unsigned start', sent, 401, 'authentication-required', /X-Fogpilot-Signature: sha256=/);
  });

  it('refuses a start signed with the wrong secret', async () => {
    const payload = start({ group: 'fog-sales' });
    const sent = await send(
      '/v1/runbooks/plannedFailover',
      payload,
      signed('/v1/runbooks/plannedFailover', payload, Date.now(), 'not-the-secret-0123456789'),
    );
    record('signed with the wrong secret', sent, 401, 'signature-mismatch', /Sign the exact bytes of the body as sent/);
  });

  it('refuses a start whose body was changed after signing', async () => {
    const original = start({ group: 'fog-sales', dryRun: true });
    const tampered = start({ group: 'fog-sales', dryRun: false });
    const sent = await send('/v1/runbooks/plannedFailover', tampered, signed('/v1/runbooks/plannedFailover', original));
    record('body changed after signing', sent, 401, 'signature-mismatch', /Sign the exact bytes/);
  });

  it('refuses a malformed signature header', async () => {
    const payload = start({ group: 'fog-sales' });
    const headers = { ...signed('/v1/runbooks/plannedFailover', payload), 'x-fogpilot-signature': 'sha256=not-hex' };
    const sent = await send('/v1/runbooks/plannedFailover', payload, headers);
    record('malformed signature header', sent, 401, 'signature-invalid', /64 lowercase hex digits/);
  });

  it('refuses a signature without its timestamp', async () => {
    const payload = start({ group: 'fog-sales' });
    const { 'x-fogpilot-timestamp': _dropped, ...headers } = signed('/v1/runbooks/plannedFailover', payload);
    const sent = await send('/v1/runbooks/plannedFailover', payload, headers);
    record('signature without a timestamp', sent, 401, 'timestamp-missing', /send the unix time in seconds/);
  });

  it('refuses a stale request (signed 10 minutes ago)', async () => {
    const payload = start({ group: 'fog-sales' });
    const sent = await send(
      '/v1/runbooks/plannedFailover',
      payload,
      signed('/v1/runbooks/plannedFailover', payload, Date.now() - 10 * 60_000),
    );
    record(
      'stale timestamp (10 minutes old)',
      sent,
      401,
      'timestamp-outside-window',
      /sign each request when you send it/,
    );
  });

  it('refuses a timestamp that is not unix seconds', async () => {
    const payload = start({ group: 'fog-sales' });
    const headers = {
      ...signed('/v1/runbooks/plannedFailover', payload),
      'x-fogpilot-timestamp': '2025-01-01T00:00:00Z',
    };
    const sent = await send('/v1/runbooks/plannedFailover', payload, headers);
    record('timestamp not unix seconds', sent, 401, 'timestamp-invalid', /date \+%s/);
  });

  it('accepts a signed read-only start once, then refuses the same request replayed, inside and after the window', async () => {
    const payload = start({ group: 'fog-sales' }, { idempotencyKey: 'REPLAY-1' });
    const headers = signed('/v1/runbooks/readinessCheck', payload);
    const first = await send('/v1/runbooks/readinessCheck', payload, headers);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const { workflowId } = first.body as unknown as { workflowId: string };
    started.add(workflowId);
    const replayed = await send('/v1/runbooks/readinessCheck', payload, headers);
    record(
      'replayed within the window',
      replayed,
      409,
      'replayed-request',
      /sign the request again with the current timestamp/,
    );
    skewMs = 6 * 60_000;
    try {
      const late = await send('/v1/runbooks/readinessCheck', payload, headers);
      record('replayed after the window (6 minutes later)', late, 401, 'timestamp-outside-window', /in the past/);
    } finally {
      skewMs = 0;
    }
    // The one accepted request ran a readiness check: it reads and changes nothing.
    const outcome = await new FogpilotClient(env.client, taskQueue).result(workflowId);
    assert.ok(outcome.report, JSON.stringify(outcome.failure));
  });

  it('refuses a wrong bearer token and a malformed Authorization header', async () => {
    const payload = start({ group: 'fog-sales' });
    const wrong = await send('/v1/runbooks/plannedFailover', payload, {
      ...json,
      authorization: 'Bearer guessed-token',
    });
    record('wrong bearer token', wrong, 401, 'invalid-token', /Send the token the webhook was started with/);
    const basic = await send('/v1/runbooks/plannedFailover', payload, {
      ...json,
      authorization: 'Basic b3BzOmh1bnRlcjI=',
    });
    record('Basic instead of Bearer', basic, 401, 'invalid-authorization', /send Authorization: Bearer <token>/);
  });

  it('refuses malformed JSON, an empty body, a non-JSON content type and an oversized body', async () => {
    const broken = '{"input": {"group": "fog-sales"';
    record(
      'malformed JSON',
      await send('/v1/runbooks/plannedFailover', broken, signed('/v1/runbooks/plannedFailover', broken)),
      400,
      'malformed-json',
      /not valid JSON/,
    );
    const proto = '{"input": {"group": "fog-sales", "__proto__": {"dryRun": false}}}';
    record(
      'JSON with a __proto__ key',
      await send('/v1/runbooks/plannedFailover', proto, signed('/v1/runbooks/plannedFailover', proto)),
      400,
      'malformed-json',
      /__proto__/,
    );
    const text = 'group=fog-sales';
    const form = await send('/v1/runbooks/plannedFailover', text, {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${BEARER_TOKEN}`,
    });
    record('form-encoded body', form, 415, 'unsupported-media-type', /send JSON with Content-Type: application\/json/);
    const huge = start({ group: 'fog-sales', reason: 'x'.repeat(100_000) });
    record(
      'oversized body (100 kB)',
      await send('/v1/runbooks/plannedFailover', huge, signed('/v1/runbooks/plannedFailover', huge)),
      413,
      'body-too-large',
      /a runbook request is a small JSON object/,
    );
  });

  it('refuses an unknown runbook, listing the known ones', async () => {
    const payload = start({ group: 'fog-sales' });
    const sent = await send('/v1/runbooks/deleteRegion', payload, signed('/v1/runbooks/deleteRegion', payload));
    record('unknown runbook', sent, 404, 'unknown-runbook', /Known runbooks: plannedFailover, forcedFailover/);
  });

  it('refuses wrong types and malformed inputs, naming each field under input', async () => {
    const cases: { name: string; runbook: string; body: string; field: string }[] = [
      { name: 'group as a number', runbook: 'plannedFailover', body: start({ group: 42 }), field: 'input.group' },
      {
        name: 'input as a list',
        runbook: 'plannedFailover',
        body: JSON.stringify({ input: ['fog-sales'] }),
        field: 'input',
      },
      {
        name: 'odd vCores',
        runbook: 'scaleGroup',
        body: start({ group: 'fog-sales', vCores: 6 }),
        field: 'input.vCores',
      },
      {
        name: 'an empty targetLocation',
        runbook: 'plannedFailover',
        body: start({ group: 'fog-sales', targetLocation: '' }),
        field: 'input.targetLocation',
      },
      {
        name: 'an unknown body field',
        runbook: 'plannedFailover',
        body: JSON.stringify({ input: { group: 'fog-sales' }, runAs: 'root' }),
        field: 'runAs',
      },
    ];
    for (const testCase of cases) {
      const sent = await send(
        `/v1/runbooks/${testCase.runbook}`,
        testCase.body,
        signed(`/v1/runbooks/${testCase.runbook}`, testCase.body),
      );
      assert.equal(sent.status, 400, `${testCase.name}: ${JSON.stringify(sent.body)}`);
      assert.equal(sent.body.error, 'invalid-request');
      assert.ok(
        sent.body.problems?.some((problem) => problem.field === testCase.field),
        `${testCase.name}: ${JSON.stringify(sent.body.problems)}`,
      );
      assert.match(sent.body.message ?? '', /Nothing was started|not a start request/);
      rows.push({
        surface: 'webhook',
        name: testCase.name,
        result: '400 invalid-request',
        message: sent.body.message ?? '',
      });
    }
  });

  it('refuses an Idempotency-Key header that contradicts the body', async () => {
    const payload = start({ group: 'fog-sales' }, { idempotencyKey: 'INC-1' });
    const sent = await send(
      '/v1/runbooks/forcedFailover',
      payload,
      signed('/v1/runbooks/forcedFailover', payload, Date.now(), HMAC_SECRET, 'INC-2'),
    );
    record(
      'Idempotency-Key header differs from the body',
      sent,
      400,
      'invalid-request',
      /send one, or the same in both/,
    );
  });

  it("refuses a decision without why (who decides is the credential's caller)", async () => {
    const payload = JSON.stringify({});
    const sent = await send(
      '/v1/runbooks/fogpilot%2FforcedFailover%2Ffog-sales%2FINC-1/signals/approve',
      payload,
      signed('/v1/runbooks/fogpilot%2FforcedFailover%2Ffog-sales%2FINC-1/signals/approve', payload),
    );
    record('approve without a reason', sent, 400, 'invalid-request', /reason/);
  });

  it('changed nothing in Azure', () => assertAzureUntouched('after the webhook cases'));
});

// ---------------------------------------------------------------------------------------------------------------

describe('the proof', () => {
  it(`has at least 40 cases across the four surfaces, and Azure saw zero writes`, () => {
    assertAzureUntouched('at the end');
    const bySurface = Object.fromEntries(
      (['runbook', 'client', 'cli', 'webhook'] as const).map((surface) => [
        surface,
        rows.filter((row) => row.surface === surface).length,
      ]),
    );
    assert.ok(rows.length >= 40, `${rows.length} cases`);
    for (const [surface, count] of Object.entries(bySurface)) assert.ok(count > 0, `no ${surface} case ran`);
    const stats = emulator.arm.stats;
    const table = markdownTable(
      ['#', 'surface', 'case', 'refused with', 'message (excerpt)'],
      rows.map((row, index) => [String(index + 1), row.surface, row.name, row.result, row.message]),
    );
    const markdown = [
      '## Bad input',
      '',
      `${rows.length} malformed inputs (${Object.entries(bySurface)
        .map(([surface, count]) => `${surface} ${count}`)
        .join(', ')}), each refused with a clear error against one live emulator.`,
      `The emulator saw **${stats.writes} ARM writes** and **0 failover POSTs** (${stats.reads} reads, from the cases that got`,
      'past validation and read the group before refusing); no mutating or data-writing activity ran.',
      '',
      'Reproduce: `npm run build && FOGPILOT_RELIABILITY_OUT=docs/results node --test dist/test/reliability/bad-input.test.js`',
      '',
      table,
      '',
    ].join('\n');
    const written = writeReliabilityResult('bad-input.md', markdown);
    console.log(
      `${rows.length} bad inputs refused; ARM writes ${stats.writes}, reads ${stats.reads}${written ? `; written to ${written}` : ''}`,
    );
    if (!written) console.log(table);
  });
});
