/**
 * fleetFailover on Temporal's time-skipping test server, over several scripted groups behind one Azure.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { instanceFailoverGroupId, lockWorkflowId } from '../../src/domain/group-ref';
import { FogpilotClient } from '../../src/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  approveSignal,
  approveUpdate,
  isRunbookSummary,
  rejectSignal,
  statusQuery,
  type RunbookReport,
  type RunbookSummary,
} from '../../src/workflows/definitions';
import { Inventory, createTestWorker, uniqueTaskQueue } from '../support/temporal';
import {
  boundedIt,
  outcomeOf,
  reportOf,
  saveHistory,
  timeSkippingFrame,
  waitFor,
  type RunOutcome,
} from '../support/runbook-harness';
import { ScriptedFleet } from '../support/scripted-fleet';
import type { ScriptedAzure } from '../support/scripted-azure';
import { childEndings, measureFleetHistory } from '../support/fleet-history';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();
let fleetCounter = 0;

function fleetScenario(
  size: number,
  configure?: (azure: ScriptedAzure, index: number) => void,
  /** Indexes of groups the worker's inventory does not have (named to the fleet by their ARM id). */
  notInInventory: number[] = [],
) {
  const prefix = `fleet${++fleetCounter}`;
  const names = Array.from({ length: size }, (_, index) => `${prefix}-g${index + 1}`);
  const fleet = new ScriptedFleet(
    () => frame.env.currentTimeMs(),
    names,
    (azure, name) => configure?.(azure, names.indexOf(name)),
  );
  const inventory = new Inventory(
    Object.fromEntries(
      [...fleet.members]
        .filter(([name]) => !notInInventory.includes(names.indexOf(name)))
        .map(([name, azure]) => [name, azure.coordinates]),
    ),
  );
  const planes = fleet.planes();
  const deps = { controlPlane: planes, dataPlane: planes, inventory };
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue();
  const lockIds = [...fleet.members.values()].map((azure) => lockWorkflowId(azure.coordinates));
  const workflowId = `fleet/${prefix}`;
  return {
    names,
    fleet,
    called,
    workflowId,
    lockIds,
    worker: () => createTestWorker({ env: frame.env, taskQueue, deps, called }),
    start(input: Record<string, unknown>) {
      frame.started.add(workflowId, ...lockIds);
      return frame.env.client.workflow.start('fleetFailover', { taskQueue, workflowId, args: [input] });
    },
    async run(input: Record<string, unknown>): Promise<RunOutcome> {
      const worker = await createTestWorker({ env: frame.env, taskQueue, deps, called });
      const handle = await this.start(input);
      return worker.runUntil(outcomeOf(handle));
    },
    accepted(): string[] {
      return [...fleet.members].flatMap(([name, azure]) =>
        azure.acceptedFailovers.map((entry) => `${name}:${entry.kind}→${entry.location}`),
      );
    },
  };
}

function member(report: RunbookReport, group: string) {
  const found = report.fleet?.members.find((entry) => entry.group === group);
  assert.ok(found, `${group} not in the fleet report`);
  return found;
}

describe('fleetFailover', { concurrency: 1 }, () => {
  it("fails over every inventory group of a region, at most `concurrency` at once, and reports each group's outcome", async () => {
    const s = fleetScenario(5);
    const { report } = await s.run({ region: 'eastus', concurrency: 2 });
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(report?.fleet?.members.length, 5);
    for (const name of s.names) {
      assert.equal(member(report, name).outcome, 'succeeded');
      assert.ok((member(report, name).rtoSeconds ?? 0) > 0);
    }
    assert.equal(s.accepted().length, 5);
    assert.ok(s.accepted().every((entry) => entry.endsWith('planned→westus')));

    const windows = await Promise.all(
      s.lockIds.map(async (id) => {
        const description = await frame.env.client.workflow.getHandle(id).describe();
        return [description.startTime.getTime(), description.closeTime!.getTime()] as const;
      }),
    );
    const mostAtOnce = Math.max(
      ...windows.map(([start]) => windows.filter(([from, to]) => from <= start && start < to).length),
    );
    assert.ok(mostAtOnce <= 2, `at most 2 children at once, saw ${mostAtOnce}`);
  });

  it('one group failing does not stop the others: the fleet ends partial and names the failure', async () => {
    const s = fleetScenario(4, (azure, index) => {
      if (index === 1) azure.replicationState = 'SEEDING';
    });
    const { report, handle } = await s.run({ region: 'eastus', concurrency: 4 });
    await saveHistory(handle, 'fleet-failover-partial');
    assert.equal(report?.outcome, 'partial');
    const failed = member(report, s.names[1]!);
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.error?.type, 'PreflightFailed');
    assert.equal(report?.fleet?.counts.succeeded, 3);
    assert.equal(s.accepted().length, 3);
    assert.ok(report?.warnings.some((warning) => warning.includes(s.names[1]!)));
  });

  it("each child returns only a summary into the fleet's history, and its full report is still read by its workflow id", async () => {
    const s = fleetScenario(3, (azure, index) => {
      if (index === 2) azure.replicationState = 'SEEDING';
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start({ region: 'eastus', concurrency: 3 });
      const { report } = await outcomeOf(handle);
      await saveHistory(handle, 'fleet-failover-summaries');
      await saveHistory(frame.env.client.workflow.getHandle(s.lockIds[0]!), 'planned-failover-fleet-child-summary');
      assert.equal(report?.outcome, 'partial');

      const endings = childEndings(await handle.fetchHistory());
      assert.deepEqual(endings.map((ending) => ending.type).sort(), ['completed', 'completed', 'failed']);
      for (const { type, value } of endings) {
        assert.ok(isRunbookSummary(value), `a ${type} child's payload is a summary: ${JSON.stringify(value)}`);
        assert.ok(!('steps' in value) && !('gates' in value), 'no timeline in the fleet history');
        assert.ok(s.lockIds.includes(value.workflowId));
        assert.equal(value.runbook, 'plannedFailover');
      }
      const summaries = endings.map((ending) => ending.value as RunbookSummary);
      const succeeded = summaries.filter((summary) => summary.outcome === 'succeeded');
      assert.equal(succeeded.length, 2);
      for (const summary of succeeded) {
        assert.ok((summary.rtoSeconds ?? 0) > 0);
        assert.deepEqual(summary.rolesAfter, { primary: 'westus', secondary: 'eastus' });
        assert.equal(summary.dataLoss?.kind, 'none-proven');
        assert.equal(summary.dataLoss?.databases, 2);
      }
      const failed = summaries.find((summary) => summary.outcome === 'failed');
      assert.equal(failed?.error?.type, 'PreflightFailed');

      const seeding = member(report, s.names[2]!);
      assert.equal(seeding.error?.type, 'PreflightFailed');
      assert.equal(seeding.workflowId, s.lockIds[2]);
      assert.equal(member(report, s.names[0]!).dataLoss?.kind, 'none-proven');

      // What `fogpilot report <childId>` reads: the whole report, from the child's status.
      const client = new FogpilotClient(frame.env.client);
      for (const [index, id] of s.lockIds.entries()) {
        const outcome = await client.result(id);
        assert.ok(outcome.summary, `${id} returned a summary`);
        assert.equal(outcome.report?.workflowId, id);
        assert.ok(outcome.report.steps.some((entry) => entry.name === 'preflight'));
        assert.equal(outcome.report.outcome, index === 2 ? 'failed' : 'succeeded');
        if (index === 2) assert.equal(outcome.failure?.type, 'PreflightFailed');
        else assert.equal(outcome.report.legs[0]?.dataLoss.databases?.length, 2);
      }
    });
  });

  it('a fleet of 40 groups with 50 databases each keeps its history and report small enough per group for 500 groups to stay far inside Temporal limits', async () => {
    const figures = await measureFleetHistory(frame.env, frame.started, {
      groups: 40,
      databases: 50,
      concurrency: 20,
      prefix: `fleet${++fleetCounter}`,
    });
    console.log(`fleet history: ${JSON.stringify(figures)}`);
    assert.equal(figures.outcome, 'succeeded');
    const at500 = { bytes: figures.perGroup.bytes * 500, events: figures.perGroup.events * 500 };
    // A tenth of Temporal's limits (50 MB, 51,200 events) at 500 groups leaves room for retries and a slower Azure.
    assert.ok(at500.bytes < 5_000_000, `${figures.perGroup.bytes} bytes per group: ${at500.bytes} at 500 groups`);
    assert.ok(at500.events < 25_600, `${figures.perGroup.events} events per group: ${at500.events} at 500 groups`);
    assert.ok(
      figures.reportBytesPerGroup * 500 < 1_000_000,
      `the fleet's report: ${figures.reportBytesPerGroup} bytes per group, ${figures.reportBytesPerGroup * 500} at 500`,
    );
    assert.ok(figures.fleet.largestEventPayloadBytes < 2_000_000 / 4);
  });

  it('skips a group already primary outside the region, so a repeated fleet does only what is left', async () => {
    const s = fleetScenario(3, (azure, index) => {
      if (index === 0) azure.primaryLocation = 'westus';
    });
    const { report } = await s.run({ region: 'eastus' });
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(member(report, s.names[0]!).outcome, 'skipped');
    assert.equal(s.accepted().length, 2);
  });

  it('refuses a group named by an ARM id the inventory does not know, in groups mode, rather than swing it back; the others proceed', async () => {
    // fleet-g1 is in westus now; without a known home its "home secondary" would be whatever is secondary: eastus.
    const s = fleetScenario(
      2,
      (azure, index) => {
        if (index === 0) azure.primaryLocation = 'westus';
      },
      [0],
    );
    const away = s.fleet.members.get(s.names[0]!)!;
    const { report, failure } = await s.run({
      groups: [instanceFailoverGroupId(away.coordinates, 'westus'), s.names[1]!],
    });
    assert.equal(report?.outcome, 'partial', failure?.message);
    const refused = member(report, s.names[0]!);
    assert.equal(refused.outcome, 'failed');
    assert.equal(refused.error?.type, 'InvalidInput');
    assert.match(refused.error?.message ?? '', /its home is not known: nothing was sent/);
    assert.deepEqual(s.accepted(), [`${s.names[1]}:planned→westus`], 'the group in westus was not sent back to eastus');
  });

  it('a group held by another runbook is reported GroupBusy and left alone while the rest proceed', async () => {
    const s = fleetScenario(2);
    const holder = lockWorkflowId(s.fleet.members.get(s.names[0]!)!.coordinates);
    frame.started.add(holder);
    // Something else holds the first group's lock (a workflow nobody serves on another queue).
    await frame.env.client.workflow.start('plannedFailover', {
      taskQueue: 'nobody-serves-this',
      workflowId: holder,
      args: [{ group: s.names[0] }],
    });
    const { report } = await s.run({ region: 'eastus' });
    assert.equal(report?.outcome, 'partial');
    assert.equal(member(report, s.names[0]!).error?.type, 'GroupBusy');
    assert.equal(member(report, s.names[1]!).outcome, 'succeeded');
  });

  it('in forced mode one approval covers the fleet, and every child records it', async () => {
    const s = fleetScenario(3, (azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start({ region: 'eastus', mode: 'forced' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the fleet approval');
      assert.equal(s.accepted().length, 0, 'nothing is sent before the approval');
      await handle.signal(approveSignal, { by: 'incident-commander', reason: 'eastus down' });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded');
      assert.equal(report?.approval?.by, 'claimed:incident-commander');
      for (const id of s.lockIds) {
        const child = (await new FogpilotClient(frame.env.client).result(id)).report;
        assert.ok(child, `the report of ${id}`);
        assert.equal(child.approval?.via, 'fleet');
        assert.equal(child.approval.by, 'claimed:incident-commander');
        assert.match(child.approval.reason, /fleet approval: eastus down/);
      }
    });
    assert.equal(s.accepted().length, 3);
    assert.ok(s.accepted().every((entry) => entry.endsWith('forced→westus')));
  });

  it("the fleet's requester cannot approve its forced failover; a second identity's approval covers every child", async () => {
    const s = fleetScenario(2, (azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start({ region: 'eastus', mode: 'forced', requestedBy: 'webhook:incident-bot' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the fleet approval');
      const refused = await handle
        .executeUpdate(approveUpdate, { args: [{ identity: 'webhook:incident-bot', reason: 'INC-3' }] })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(refused instanceof WorkflowUpdateFailedError, 'the requester is refused');
      assert.match(String(refused.cause?.message), /two-person rule/);
      assert.equal((await handle.query(statusQuery)).refusals?.length, 1);
      assert.equal(s.accepted().length, 0, 'a refused approval sends nothing');
      await handle.executeUpdate(approveUpdate, { args: [{ identity: 'webhook:oncall-lead', reason: 'INC-3' }] });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded');
      assert.deepEqual(report?.approval && { by: report.approval.by, requestedBy: report.approval.requestedBy }, {
        by: 'webhook:oncall-lead',
        requestedBy: 'webhook:incident-bot',
      });
      for (const id of s.lockIds) {
        const child = (await new FogpilotClient(frame.env.client).result(id)).report;
        assert.equal(child?.approval?.by, 'webhook:oncall-lead');
      }
    });
    assert.equal(s.accepted().length, 2);
  });

  it('a rejected fleet approval changes nothing on any group', async () => {
    const s = fleetScenario(2);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start({ region: 'eastus', mode: 'forced' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the fleet approval');
      await handle.signal(rejectSignal, { by: 'cto', reason: 'not yet' });
      const { failure } = await outcomeOf(handle);
      assert.equal(failure?.type, 'ApprovalRejected');
      assert.equal(reportOf(failure).fleet?.members.length, 2);
    });
    assert.equal(s.accepted().length, 0);
    assert.ok(!s.called.includes('sendFailover'));
  });

  it('a dry run evaluates every group as a dry-run child and changes nothing', async () => {
    const s = fleetScenario(3);
    const { report } = await s.run({ groups: s.names, dryRun: true });
    assert.equal(report?.outcome, 'dry-run');
    assert.ok(report?.fleet?.members.every((entry) => entry.outcome === 'dry-run'));
    assert.equal(s.accepted().length, 0);
    assert.ok(!s.called.includes('startInstanceScale') && !s.called.includes('sendFailover'));
  });

  it('fails FleetFailed when no group could be failed over', async () => {
    const s = fleetScenario(2, (azure) => {
      azure.replicationState = 'SEEDING';
    });
    const { failure } = await s.run({ groups: s.names });
    assert.equal(failure?.type, 'FleetFailed');
    assert.equal(reportOf(failure).fleet?.counts.failed, 2);
  });

  for (const [field, input] of [
    ['region', { region: 'eastus', groups: ['a'] }],
    ['region', {}],
    ['concurrency', { region: 'eastus', concurrency: 0 }],
    ['mode', { region: 'eastus', mode: 'sideways' }],
    ['groups', { groups: [] }],
  ] as const) {
    it(`refuses ${JSON.stringify(input)} with InvalidInput naming ${field}`, async () => {
      const s = fleetScenario(1);
      const { failure } = await s.run(input);
      assert.equal(failure?.type, 'InvalidInput');
      assert.match(failure.message, new RegExp(field));
      assert.equal(s.called.length, 0);
    });
  }
});
