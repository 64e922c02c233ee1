/**
 * establishGroup on Temporal's time-skipping test server, with the real activities over a scripted pair whose group
 * does not exist yet. Seeding of simulated days passes in seconds; tests run one at a time (time skipping is global).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { abortSignal, statusQuery, type RunbookReport } from '../../src/workflows/definitions';
import { SEEDING_POLLS_PER_RUN } from '../../src/workflows/steps/establish-steps';
import {
  boundedIt,
  outcomeWithReportOf,
  saveHistory,
  stepOf,
  timeSkippingFrame,
  waitFor,
  type RunOutcome,
} from '../support/runbook-harness';
import { ScriptedPairAzure } from '../support/scripted-pair-azure';
import { Inventory, createTestWorker, uniqueTaskQueue } from '../support/temporal';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();

let counter = 0;

/** A pair whose group is named in the inventory (by its Azure name) but not created yet. */
function scenario(configure?: (azure: ScriptedPairAzure) => void) {
  const name = `fog-new${++counter}`;
  const azure = new ScriptedPairAzure({ clock: () => frame.env.currentTimeMs(), groupName: name });
  configure?.(azure);
  const inventory = new Inventory({ [name]: azure.coordinates });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue();
  const deps = { controlPlane: azure, dataPlane: azure, inventory };
  const lockId = lockWorkflowId(azure.coordinates);
  const input = (extra: Record<string, unknown> = {}) => ({
    name,
    primaryInstance: azure.instances.eastus!.id,
    secondaryInstance: azure.instances.westus!.name,
    ...extra,
  });
  return {
    name,
    azure,
    called,
    lockId,
    input,
    worker: () => createTestWorker({ env: frame.env, taskQueue, deps, called }),
    async start(extra: Record<string, unknown> = {}, workflowId = lockId): Promise<WorkflowHandle> {
      frame.started.add(workflowId, lockId);
      return frame.env.client.workflow.start('establishGroup', {
        taskQueue,
        workflowId,
        workflowIdConflictPolicy: 'FAIL',
        args: [input(extra)],
      });
    },
    async run(extra: Record<string, unknown> = {}, workflowId = lockId): Promise<RunOutcome> {
      const worker = await this.worker();
      const handle = await this.start(extra, workflowId);
      return worker.runUntil(outcomeWithReportOf(handle));
    },
  };
}

function gate(report: RunbookReport | undefined, name: string) {
  const found = report?.gates?.find((entry) => entry.name === name);
  assert.ok(found, `gate ${name} in ${report?.gates?.map((entry) => entry.name).join(', ')}`);
  return found;
}

describe('establishGroup', { concurrency: 1 }, () => {
  it('checks every prerequisite, creates the group once, waits out days of seeding in a small history, then checks readiness', async () => {
    const s = scenario();
    const { report, failure, handle } = await s.run();
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    await saveHistory(handle, 'establish-group');

    // Every prerequisite passed, each with its evidence.
    for (const name of [
      'pair-instances-ready',
      'pair-regions',
      'pair-not-in-group',
      'pair-secondary-empty',
      'pair-sizes',
      'pair-dns-zone',
      'pair-network',
      'pair-tde-keys',
      'pair-collation',
      'pair-time-zone',
      'pair-maintenance-windows',
      'pair-standby-reads',
    ]) {
      assert.equal(gate(report, name).status, 'pass', `${name}: ${gate(report, name).message}`);
    }
    // One PUT, at the primary's location, with the pair and the defaults.
    assert.equal(s.azure.createRequests.length, 1);
    assert.equal(s.azure.createRequests[0]!.location, 'eastus');
    assert.deepEqual(s.azure.createRequests[0]!.definition, {
      primaryInstanceId: s.azure.instances.eastus!.id,
      partnerInstanceId: s.azure.instances.westus!.id,
      partnerLocation: 'westus',
      readWriteFailoverPolicy: 'Manual',
      readOnlyFailoverPolicy: 'Disabled',
      secondaryType: 'Geo',
    });

    // 600 GB at 5 GB/h: 120 simulated hours of seeding.
    const seededAfterMs = s.azure.created!.seededAt - s.azure.created!.at;
    assert.equal(seededAfterMs, 120 * 3_600_000);
    const record = report.establish!;
    assert.equal(record.creation, 'created');
    assert.ok(record.seeding.endedAt, 'seeding ended');
    assert.ok(Date.parse(record.seeding.endedAt) - s.azure.created!.at >= seededAfterMs);
    assert.deepEqual(
      record.seeding.databases.map((entry) => [entry.database, entry.state, entry.percent]),
      [
        ['sales', 'Completed', 100],
        ['billing', 'Completed', 100],
      ],
    );
    // The wait continued as new at least once, and no run's history grew past a few hundred events.
    assert.ok(record.seeding.polls > SEEDING_POLLS_PER_RUN, `polls ${record.seeding.polls}`);
    const runs = await runsOf(handle);
    assert.ok(runs.length >= 2, `runs: ${runs.length}`);
    for (const events of runs) assert.ok(events < 500, `a run's history had ${events} events`);

    // The last run ended with a readiness check of the new group.
    assert.equal(stepOf(report, 'check-readiness').state, 'succeeded');
    assert.ok(report.readiness, 'readiness verdict in the report');
    // The PUT went out in the first run; the report is the last run's, which only read.
    assert.equal(report.armCalls.writes, 0);
    assert.ok(report.armCalls.reads > 0);
  });

  it('refuses a secondary in another DNS zone before changing anything, naming the remedy', async () => {
    const s = scenario((azure) => {
      azure.secondaryDnsZone = 'zzz999';
    });
    const { report, failure } = await s.run();
    assert.equal(failure?.type, 'PreflightFailed');
    assert.match(failure.message, /pair-dns-zone/);
    assert.match(failure.message, /dnsZonePartner/);
    const dns = gate(report, 'pair-dns-zone');
    assert.equal(dns.status, 'fail');
    assert.deepEqual(dns.evidence, {
      primary: { instance: s.azure.instances.eastus!.name, dnsZone: 'abc123' },
      secondary: { instance: s.azure.instances.westus!.name, dnsZone: 'zzz999' },
    });
    assert.equal(s.azure.createRequests.length, 0, 'nothing was created');
    assert.ok(!s.called.includes('sendCreateGroup'));
  });

  it('refuses a secondary that has databases, and subnets that block the geo-replication ports', async () => {
    const s = scenario((azure) => {
      azure.secondaryDatabases = ['leftover'];
      azure.networkRules.westus = [
        {
          name: 'deny-redirect',
          priority: 100,
          direction: 'Inbound',
          access: 'Deny',
          protocol: 'Tcp',
          sourceAddressPrefixes: ['*'],
          destinationAddressPrefixes: ['*'],
          destinationPortRanges: ['11000-11999'],
        },
        ...azure.openGeoReplicationRules(),
      ];
    });
    const { report, failure } = await s.run();
    assert.equal(failure?.type, 'PreflightFailed');
    assert.equal(gate(report, 'pair-secondary-empty').status, 'fail');
    assert.match(gate(report, 'pair-secondary-empty').message, /leftover/);
    const network = gate(report, 'pair-network');
    assert.equal(network.status, 'fail');
    assert.match(network.message, /nsg-mi-westus blocks TCP 11000-11999 inbound/);
    assert.match(network.action ?? '', /Allow rules for TCP 5022 and 11000-11999/);
    assert.equal(s.azure.createRequests.length, 0);
  });

  it('adopts a group that already pairs the two instances: nothing sent, the seeding waited for', async () => {
    const s = scenario();
    const first = await s.run();
    assert.equal(first.report?.outcome, 'succeeded', first.failure?.message);
    const again = await s.run({}, `${s.lockId}-again`);
    assert.equal(again.report?.outcome, 'succeeded', again.failure?.message);
    assert.equal(s.azure.createRequests.length, 1, 'one PUT over both runs');
    assert.equal(again.report.establish?.creation, 'already-established');
    assert.equal(stepOf(again.report, 'create-group').state, 'skipped');
  });

  it('fails SeedingFailed when Azure ends the creation Failed, saying where the group stands', async () => {
    const s = scenario((azure) => {
      azure.creationFailsWith = 'OperationCancelled';
      azure.databaseSizesGB.sales = 10;
      azure.databaseSizesGB.billing = 10;
    });
    const { failure } = await s.run();
    assert.equal(failure?.type, 'SeedingFailed');
    assert.match(failure.message, /Failed \(OperationCancelled/);
  });

  it('stops waiting on an abort while seeding, and says the creation goes on in Azure', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.start();
    const outcome = await worker.runUntil(async () => {
      await waitFor(async () => (await handle.query(statusQuery)).awaiting?.kind === 'seeding', 'the seeding wait');
      await handle.signal(abortSignal, { by: 'oncall', reason: 'wrong pair' });
      return outcomeWithReportOf(handle);
    });
    assert.equal(outcome.report?.outcome, 'aborted', outcome.failure?.message);
    assert.ok(outcome.report.warnings.some((warning) => /Azure goes on creating the group/.test(warning)));
    assert.equal(s.azure.createRequests.length, 1);
  });

  it('validates its input before reading anything', async () => {
    const s = scenario();
    const { failure } = await s.run({ readWriteFailoverPolicy: 'Manual', gracePeriodMinutes: 90 });
    assert.equal(failure?.type, 'InvalidInput');
    assert.match(failure.message, /gracePeriodMinutes/);
    assert.equal(s.azure.calls.length, 0);
  });
});

type HistoryEvents = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;

/** The number of history events of each run of the workflow (continue-as-new chains runs under one id). */
async function runsOf(handle: WorkflowHandle): Promise<number[]> {
  const client = frame.env.client;
  const counts: number[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(handle.workflowId).describe()).runId;
  // Walk back from the last run through each run's continued-from link.
  for (let guard = 0; runId && guard < 100; guard++) {
    const events: HistoryEvents =
      (await client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
    counts.push(events.length);
    const continuedFrom: string | null | undefined =
      events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    runId = continuedFrom ?? undefined;
  }
  return counts;
}
