/**
 * scaleGroup on a SQL Database server failover group, on Temporal's time-skipping test server with the real
 * activities over ScriptedServerGroups: member databases and elastic pools are scaled secondary first going up and
 * primary first going down, each server's changes followed to their end before the next server's start. Tests in
 * this file run one at a time (time skipping is global).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { MUTATING_ACTIVITIES } from '../../src/activities';
import type { SqlSku } from '../../src/domain/azure-state';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { scaleFact } from '../../src/report/sections/scale';
import type { RunbookReport } from '../../src/workflows/definitions';
import { boundedIt, outcomeWithReportOf, stepOf, timeSkippingFrame, type RunOutcome } from '../support/runbook-harness';
import { ScriptedAzure } from '../support/scripted-azure';
import { ScriptedServerGroups } from '../support/scripted-server-groups';
import { Inventory, createTestWorker, testServerWatchClock, uniqueTaskQueue } from '../support/temporal';

const it = boundedIt(90_000);
const frame = timeSkippingFrame();

const GP = (capacity: number): SqlSku => ({ name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity });

let counter = 0;

/**
 * One server failover group: `orders` (standalone, GP_Gen5 2 vCores) and `billing` (in `orders-pool`, GP_Gen5 4
 * vCores) on a primary in eastus and a secondary in westus, in the worker's inventory with `kind: sqlDatabase`.
 */
function sqlScenario(configure?: (groups: ScriptedServerGroups) => void) {
  const env = frame.env;
  const name = `fog-sqlscale${++counter}`;
  const primaryServer = `${name}-eus`;
  const secondaryServer = `${name}-wus`;
  const clock = () => env.currentTimeMs();
  const groups = new ScriptedServerGroups({
    clock,
    groups: [
      {
        name,
        servers: [
          { name: primaryServer, location: 'eastus' },
          { name: secondaryServer, location: 'westus' },
        ],
        databases: ['orders', 'billing'],
        pools: { 'orders-pool': ['billing'] },
      },
    ],
  });
  configure?.(groups);
  // The Managed Instance script is the worker's control and data plane; no step of a server group's scale asks it.
  const azure = new ScriptedAzure({ clock, groupName: `${name}-unused` });
  const coordinates = groups.coordinates(name);
  const deps = {
    controlPlane: azure,
    dataPlane: azure,
    serverGroupPlane: groups,
    inventory: new Inventory({ [name]: coordinates }),
    watchClock: testServerWatchClock(env),
  };
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue();
  const lockId = lockWorkflowId(coordinates);
  const start = (input: Record<string, unknown>): Promise<WorkflowHandleWithFirstExecutionRunId> => {
    frame.started.add(lockId);
    return env.client.workflow.start('scaleGroup', {
      taskQueue,
      workflowId: lockId,
      workflowIdConflictPolicy: 'FAIL',
      args: [{ group: name, ...input }],
    });
  };
  return {
    name,
    groups,
    primaryServer,
    secondaryServer,
    called,
    /** Runs scaleGroup until it ends; a failed run's report is `report` too. */
    async run(input: Record<string, unknown>): Promise<RunOutcome> {
      const worker = await createTestWorker({ env, taskQueue, deps, called });
      return worker.runUntil(async () => outcomeWithReportOf(await start(input)));
    },
    /** Each accepted PATCH in order: which side, and which database or pool. */
    patches(): string[] {
      return groups.scaleRequests.map(
        (request) =>
          `${request.server === primaryServer ? 'primary' : 'secondary'} ` +
          `${/\/elasticPools\//i.test(request.resourceId) ? 'pool' : 'database'} ${request.name}`,
      );
    },
    sku(server: string, database: string): SqlSku {
      return groups.serverNamed(server).databases.find((entry) => entry.name === database)!.sku;
    },
    poolSku(server: string, pool: string): SqlSku {
      return groups.serverNamed(server).pools.find((entry) => entry.name === pool)!.sku;
    },
    assertNothingChanged(): void {
      for (const mutating of MUTATING_ACTIVITIES)
        assert.ok(!called.includes(mutating), `${mutating} must not be called`);
      assert.equal(groups.scaleRequests.length, 0, 'no SKU change may be requested');
      assert.equal(
        groups.calls.filter((call) => call.method === 'beginUpdateSku').length,
        0,
        'no PATCH may reach Azure',
      );
    },
  };
}

function scaleSteps(report: RunbookReport): string[] {
  return report.steps.filter((entry) => /(^|\/)scale-/.test(entry.name)).map((entry) => entry.name);
}

describe('scaleGroup on a SQL Database failover group', { concurrency: 1 }, () => {
  it('scales a member database up on the secondary server first, and on the primary only after the secondary finished', async () => {
    const s = sqlScenario();
    const { report, failure } = await s.run({ databases: { orders: 'GP_Gen5_4' } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(s.patches(), ['secondary database orders', 'primary database orders']);
    const [first, second] = s.groups.scaleRequests;
    assert.deepEqual(first!.sku, GP(4));
    assert.ok(second!.at >= s.groups.operations[0]!.endsAt, 'the primary waits for the secondary to finish');
    assert.deepEqual(s.sku(s.primaryServer, 'orders'), GP(4));
    assert.deepEqual(s.sku(s.secondaryServer, 'orders'), GP(4));
    assert.equal(s.sku(s.primaryServer, 'billing').name, 'ElasticPool', 'the pooled database is left alone');
    assert.deepEqual(s.poolSku(s.primaryServer, 'orders-pool'), GP(4), 'its pool too');

    assert.deepEqual(scaleSteps(report), ['scale-secondary', 'scale-primary']);
    assert.equal(stepOf(report, 'verify').state, 'succeeded');
    const evidence = stepOf(report, 'scale-secondary').evidence!;
    assert.deepEqual(evidence.changes, ['database orders GP_Gen5 (2) → GP_Gen5 (4)']);
    assert.equal(evidence.state, 'Succeeded');
    assert.ok(Number(evidence.polls) >= 2, 'the operation was followed while it ran');

    const scale = report.scale!;
    assert.equal(scale.direction, 'up');
    assert.deepEqual(scale.target, { databases: { orders: GP(4) } });
    assert.equal(scaleFact(report)?.detail, 'to database orders GP_Gen5 (4)', 'the rendered report names it');
    assert.match(scale.why ?? '', /growing: the secondary first/);
    assert.deepEqual(
      scale.operations.map((operation) => [operation.step, operation.instance, operation.role, operation.state]),
      [
        ['scale-secondary', s.secondaryServer, 'secondary', 'Succeeded'],
        ['scale-primary', s.primaryServer, 'primary', 'Succeeded'],
      ],
    );
    assert.deepEqual(scale.operations[0]!.changes, [
      { type: 'database', name: 'orders', from: GP(2), to: GP(4), direction: 'up' },
    ]);
    assert.deepEqual(scale.operations[0]!.from, {
      databases: { orders: GP(2) },
      elasticPools: { 'orders-pool': GP(4) },
    });
    assert.deepEqual(scale.operations[0]!.to, { databases: { orders: GP(4) }, elasticPools: { 'orders-pool': GP(4) } });
    assert.equal(report.armCalls.writes, 2, 'one PATCH per server');
  });

  it('scales a member database down on the primary server first, then the secondary', async () => {
    const s = sqlScenario((groups) => {
      for (const server of Object.values(groups.servers))
        server.databases.find((entry) => entry.name === 'orders')!.sku = GP(8);
    });
    const { report, failure } = await s.run({ databases: { orders: { name: 'GP_Gen5', capacity: 4 } } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(s.patches(), ['primary database orders', 'secondary database orders']);
    assert.ok(s.groups.scaleRequests[1]!.at >= s.groups.operations[0]!.endsAt, 'the secondary waits for the primary');
    assert.deepEqual(scaleSteps(report), ['scale-primary', 'scale-secondary']);
    assert.equal(report.scale?.direction, 'down');
    assert.match(report.scale?.why ?? '', /shrinking: the primary first/);
    assert.deepEqual(s.sku(s.primaryServer, 'orders'), GP(4));
    assert.deepEqual(s.sku(s.secondaryServer, 'orders'), GP(4));
  });

  it('scales an elastic pool through its name, secondary first, leaving its databases in it', async () => {
    const s = sqlScenario();
    const { report, failure } = await s.run({ elasticPools: { 'orders-pool': 'GP_Gen5_8' } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(s.patches(), ['secondary pool orders-pool', 'primary pool orders-pool']);
    assert.deepEqual(s.poolSku(s.primaryServer, 'orders-pool'), GP(8));
    assert.deepEqual(s.poolSku(s.secondaryServer, 'orders-pool'), GP(8));
    assert.equal(s.sku(s.secondaryServer, 'billing').name, 'ElasticPool');
    assert.deepEqual(report.scale?.target, { elasticPools: { 'orders-pool': GP(8) } });
    assert.deepEqual(report.scale?.operations[1]!.changes, [
      { type: 'elasticPool', name: 'orders-pool', from: GP(4), to: GP(8), direction: 'up' },
    ]);
  });

  it('runs a request that grows a database and shrinks a pool as an up pass, then a down pass', async () => {
    const s = sqlScenario();
    const { report, failure } = await s.run({
      databases: { orders: 'GP_Gen5_4' },
      elasticPools: { 'orders-pool': 'GP_Gen5_2' },
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(report.scale?.direction, 'mixed');
    assert.deepEqual(scaleSteps(report), [
      'up/scale-secondary',
      'up/scale-primary',
      'down/scale-primary',
      'down/scale-secondary',
    ]);
    assert.deepEqual(s.patches(), [
      'secondary database orders',
      'primary database orders',
      'primary pool orders-pool',
      'secondary pool orders-pool',
    ]);
    for (let index = 1; index < s.groups.scaleRequests.length; index++) {
      assert.ok(
        s.groups.scaleRequests[index]!.at >= s.groups.operations[index - 1]!.endsAt,
        `PATCH ${index + 1} waits for the operation before it`,
      );
    }
    assert.deepEqual(s.poolSku(s.primaryServer, 'orders-pool'), GP(2));
    assert.deepEqual(s.poolSku(s.secondaryServer, 'orders-pool'), GP(2));
    assert.deepEqual(s.sku(s.primaryServer, 'orders'), GP(4));
    assert.deepEqual(s.sku(s.secondaryServer, 'orders'), GP(4));
  });

  it('sends nothing when every database and pool named is already at its SKU', async () => {
    const s = sqlScenario();
    const { report, failure } = await s.run({
      databases: { Orders: 'GP_Gen5_2' },
      elasticPools: { 'orders-pool': 'GP_Gen5_4' },
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    s.assertNothingChanged();
    assert.equal(report.scale?.direction, 'none');
    assert.deepEqual(report.scale?.operations, []);
    assert.equal(stepOf(report, 'scale').state, 'skipped');
    assert.deepEqual(scaleSteps(report), []);
  });

  it('plans without changing anything on a dry run, saying which database goes from which SKU to which', async () => {
    const s = sqlScenario();
    const { report, failure } = await s.run({ databases: { orders: 'BC_Gen5_2' }, dryRun: true });
    assert.equal(report?.outcome, 'dry-run', failure?.message);
    s.assertNothingChanged();
    const plan = report.plan!.map((item) => `${item.step}: ${item.action}`);
    assert.match(plan.find((line) => line.startsWith('plan:')) ?? '', /growing: the secondary first/);
    assert.match(
      plan.find((line) => line.startsWith('scale-secondary:')) ?? '',
      new RegExp(
        `on ${s.secondaryServer} \\(secondary, westus\\) scale database orders GP_Gen5 \\(2\\) → BC_Gen5 \\(2\\)`,
      ),
    );
    assert.ok(
      plan.findIndex((line) => line.startsWith('scale-secondary:')) <
        plan.findIndex((line) => line.startsWith('scale-primary:')),
    );
  });

  it('stops with GroupBusy when Azure refuses the first PATCH, saying so, with nothing scaled', async () => {
    const s = sqlScenario((groups) => {
      groups.failNext('beginUpdateSku', {
        statusCode: 409,
        code: 'UpdateSloInProgress',
        message: 'User tried to initiate an incompatible operation while a SLO update was in progress.',
      });
    });
    const { failure, report } = await s.run({ databases: { orders: 'GP_Gen5_4' } });
    assert.equal(failure?.type, 'GroupBusy', failure?.message);
    assert.match(failure.message, new RegExp(`Azure did not accept scaling ${s.secondaryServer} \\(secondary\\)`));
    assert.match(failure.message, /database orders GP_Gen5 \(2\) → GP_Gen5 \(4\)/);
    assert.match(failure.message, /UpdateSloInProgress/);
    assert.match(failure.message, /No operation of this run completed/);
    assert.equal(report?.outcome, 'failed');
    assert.deepEqual(s.groups.scaleRequests, [], 'the refused PATCH changed nothing');
    assert.deepEqual(s.sku(s.primaryServer, 'orders'), GP(2));
  });

  it('stops with ScaleFailed when the secondary’s change ends Failed, never touching the primary', async () => {
    const s = sqlScenario((groups) => {
      groups.scaleOutcome = 'Failed';
    });
    const { failure } = await s.run({ databases: { orders: 'GP_Gen5_4' } });
    assert.equal(failure?.type, 'ScaleFailed', failure?.message);
    assert.match(
      failure.message,
      new RegExp(`Scaling ${s.secondaryServer} \\(secondary, westus\\) to database orders`),
    );
    assert.match(failure.message, /ended Failed/);
    assert.match(failure.message, /az sql db op list/);
    assert.deepEqual(s.patches(), ['secondary database orders']);
    assert.deepEqual(s.sku(s.primaryServer, 'orders'), GP(2));
  });

  it('refuses a Managed Instance field on a SQL Database group, naming it and what to give, before reading anything', async () => {
    const s = sqlScenario();
    const { failure } = await s.run({ vCores: 16 });
    assert.equal(failure?.type, 'InvalidInput');
    assert.match(failure.message, /^vCores: .* is a SQL Database failover group/);
    assert.match(failure.message, /Give databases/);
    assert.match(failure.message, /Nothing was changed/);
    s.assertNothingChanged();
    assert.deepEqual(s.groups.calls, [], 'refused before any read');
  });

  it('refuses a database that is not a member of the group, and a pooled one named alone, changing nothing', async () => {
    const s = sqlScenario((groups) => {
      groups.addDatabase(groups.groupNamed().primary, 'scratch');
    });
    const stranger = await s.run({ databases: { scratch: 'GP_Gen5_4', orders: 'GP_Gen5_4' } });
    assert.equal(stranger.failure?.type, 'InvalidInput');
    assert.match(stranger.failure.message, /^databases\.scratch: scratch is not a member database/);
    assert.match(stranger.failure.message, /the failover group does not replicate it/);
    assert.match(
      stranger.failure.message,
      /Its member databases: orders, billing|Its member databases: billing, orders/,
    );
    s.assertNothingChanged();

    const pooled = await s.run({ databases: { billing: 'GP_Gen5_4' } });
    assert.equal(pooled.failure?.type, 'InvalidInput');
    assert.match(pooled.failure.message, /^databases\.billing: billing is in elastic pool orders-pool/);
    assert.match(pooled.failure.message, /elasticPools: \{ "orders-pool": "<SKU>" \}/);
    s.assertNothingChanged();

    const pool = await s.run({ elasticPools: { 'other-pool': 'GP_Gen5_4' } });
    assert.equal(pool.failure?.type, 'InvalidInput');
    assert.match(pool.failure.message, /^elasticPools\.other-pool: no elastic pool named other-pool/);
    assert.match(pool.failure.message, /Pools that do: orders-pool/);
    s.assertNothingChanged();
  });
});

describe('scaleGroup on a Managed Instance failover group', { concurrency: 1 }, () => {
  it('refuses databases and elasticPools, naming the field and what to give, changing nothing', async () => {
    const s = frame.scenario();
    const worker = await s.worker();
    const { failure } = await worker.runUntil(async () =>
      outcomeWithReportOf(await s.start('scaleGroup', { databases: { orders: 'S3' } })),
    );
    assert.equal(failure?.type, 'InvalidInput');
    assert.match(failure.message, /^databases: .* is a Managed Instance failover group/);
    assert.match(failure.message, /Give vCores, storageSizeInGB and\/or sku/);
    s.assertNothingChanged();
  });
});
