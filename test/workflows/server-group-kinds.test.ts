/**
 * SQL Database failover groups (`kind: sqlDatabase`) beside Managed Instance ones, on Temporal's time-skipping test
 * server: a fleet over a region holding one group of each kind (each child on its own kind's plane), failback started
 * on its own on a SQL Database group away from home, the runbooks not made for SQL Database refusing one at once, and
 * a drill's recovery points saying they do not apply to it.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { FogpilotClient } from '../../src/client';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { FailureTypes, approveSignal, statusQuery } from '../../src/workflows/definitions';
import {
  boundedIt,
  outcomeOf,
  reportOf,
  stepOf,
  timeSkippingFrame,
  waitFor,
  type RunOutcome,
} from '../support/runbook-harness';
import { serverGroupScenario } from '../support/server-group-harness';
import { ScriptedAzure } from '../support/scripted-azure';
import { ScriptedServerGroups } from '../support/scripted-server-groups';
import { ScriptedServerData, dataPlaneByKind } from '../support/scripted-server-data';
import { Inventory, createTestWorker, testServerWatchClock, uniqueTaskQueue } from '../support/temporal';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();
let counter = 0;

/** A region (eastus) whose inventory holds a Managed Instance group and a SQL Database group, both primary there. */
function mixedRegion() {
  const prefix = `mixed${++counter}`;
  const clock = () => frame.env.currentTimeMs();
  const miName = `${prefix}-mi`;
  const sqlName = `${prefix}-sqldb`;
  const azure = new ScriptedAzure({ clock, groupName: miName });
  const groups = new ScriptedServerGroups({
    clock,
    groups: [
      {
        name: sqlName,
        servers: [
          { name: `${sqlName}-eus`, location: 'eastus' },
          { name: `${sqlName}-wus`, location: 'westus' },
        ],
        databases: ['orders', 'billing'],
      },
    ],
  });
  const sql = new ScriptedServerData(groups, clock);
  // A child watches its new primary become writable in an activity, while the test server's clock runs in real time:
  // short switches keep the fleet to seconds.
  azure.roleSwitchMs = 2_000;
  groups.roleSwitchMs = 2_000;
  sql.readOnlyAfterSwitchMs = 1_000;
  const inventory = new Inventory({ [miName]: azure.coordinates, [sqlName]: groups.coordinates(sqlName) });
  const deps = {
    controlPlane: azure,
    dataPlane: dataPlaneByKind(azure, sql),
    serverGroupPlane: groups,
    inventory,
    watchClock: testServerWatchClock(frame.env),
  };
  const taskQueue = uniqueTaskQueue();
  const called: string[] = [];
  const lockIds = [lockWorkflowId(azure.coordinates), lockWorkflowId(groups.coordinates(sqlName))];
  const workflowId = `fleet/${prefix}`;
  return {
    miName,
    sqlName,
    azure,
    groups,
    sql,
    called,
    worker: () => createTestWorker({ env: frame.env, taskQueue, deps, called }),
    start(input: Record<string, unknown>) {
      frame.started.add(workflowId, ...lockIds);
      return frame.env.client.workflow.start('fleetFailover', { taskQueue, workflowId, args: [input] });
    },
    lockIds,
    /** Each child's report (Managed Instance first), read by its workflow id: call it while the worker runs. */
    childReports: () =>
      Promise.all(lockIds.map(async (id) => (await new FogpilotClient(frame.env.client).result(id)).report)),
  };
}

describe('SQL Database groups beside Managed Instance groups', { concurrency: 1 }, () => {
  it('fleetFailover (planned) over a region with both kinds fails each over on its own kind and lists both', async () => {
    const s = mixedRegion();
    const worker = await s.worker();
    // The children's reports are read while the worker runs (a finished run's report is answered by a query).
    const { report, failure, children } = await worker.runUntil(async () => {
      const ending = await outcomeOf(await s.start({ region: 'eastus' }));
      return { ...ending, children: await s.childReports() };
    });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(report.fleet?.members.map((entry) => [entry.group, entry.outcome]).sort(), [
      [s.miName, 'succeeded'],
      [s.sqlName, 'succeeded'],
    ]);
    // The Managed Instance child went through instanceFailoverGroups, the SQL Database child through its servers.
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => [entry.kind, entry.location]),
      [['planned', 'westus']],
    );
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [[`${s.sqlName}-wus`, 'failover']],
    );
    // The SQL Database child proved sync per member database, in the database, against its servers.
    const waits = s.sql.calls.filter((call) => call.method === 'waitForCopySync');
    assert.deepEqual(waits.map((call) => call.database).sort(), ['billing', 'orders']);
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.equal(s.groups.groupNamed(s.sqlName).primary, `${s.sqlName}-wus`);
    for (const child of children) {
      assert.equal(child?.outcome, 'succeeded');
      assert.deepEqual(child.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    }
    assert.deepEqual(
      children.map((child) => child?.group.displayName),
      [s.miName, s.sqlName],
    );
  });

  it('fleetFailover (forced) with eastus dark: one approval covers both kinds, each forced on its own plane', async () => {
    const s = mixedRegion();
    s.azure.darkLocations.add('eastus');
    s.groups.darkServers.add(`${s.sqlName}-eus`);
    const worker = await s.worker();
    const { report, failure, children } = await worker.runUntil(async () => {
      const handle = await s.start({ region: 'eastus', mode: 'forced' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the fleet approval');
      assert.equal(s.azure.acceptedFailovers.length + s.groups.acceptedFailovers.length, 0, 'nothing before approval');
      await handle.signal(approveSignal, { by: 'incident-commander', reason: 'eastus down' });
      const ending = await outcomeOf(handle);
      return { ...ending, children: await s.childReports() };
    });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(report.fleet?.members.map((entry) => [entry.group, entry.outcome]).sort(), [
      [s.miName, 'succeeded'],
      [s.sqlName, 'succeeded'],
    ]);
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => [entry.kind, entry.location]),
      [['forced', 'westus']],
    );
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [[`${s.sqlName}-wus`, 'forceFailoverAllowDataLoss']],
    );
    for (const child of children) {
      assert.equal(child?.approval?.via, 'fleet');
      assert.equal(child.approval.by, 'claimed:incident-commander');
    }
  });

  it('failback on its own waits while the SQL Database group is seeding, then fails back home with one POST', async () => {
    // Each failover watches its new primary become writable in an activity (the clock then runs in real time).
    const s = serverGroupScenario(frame.env, frame.started, {}, (groups, sql) => {
      groups.roleSwitchMs = 2_000;
      sql.readOnlyAfterSwitchMs = 1_000;
    });
    const away = await s.run('plannedFailover');
    assert.equal(away.report?.outcome, 'succeeded', away.failure?.message);
    assert.equal(s.groups.groupNamed(s.name).primary, `${s.name}-wus`);

    const group = s.groups.groupNamed(s.name);
    group.replicationState = 'SEEDING';
    let seedingReads = 0;
    s.groups.onCall = (method) => {
      if (method === 'getServerFailoverGroup' && group.replicationState === 'SEEDING') seedingReads++;
    };
    const worker = await s.worker();
    const { report, failure }: RunOutcome = await worker.runUntil(async () => {
      const handle = await s.start('failback', {});
      // Observed, not timed: the failback read the group seeding and now waits for Azure.
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.awaiting?.kind === 'azure' && seedingReads > 0;
      }, 'the failback waiting for the group to synchronize');
      assert.equal(s.groups.acceptedFailovers.length, 1, 'nothing is sent toward home while seeding');
      group.replicationState = 'CATCH_UP';
      return outcomeOf(handle);
    });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    const wait = stepOf(report, 'await-synchronizing');
    assert.equal(wait.state, 'succeeded');
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [
        [`${s.name}-wus`, 'failover'],
        [`${s.name}-eus`, 'failover'],
      ],
    );
    // Sync proven per member database against the home server before the POST toward it.
    const homeWaits = s.sql.calls.filter(
      (call) => call.method === 'waitForCopySync' && call.host === `${s.name}-wus.database.windows.net`,
    );
    assert.deepEqual(homeWaits.map((call) => call.database).sort(), ['billing', 'orders']);
    assert.equal(group.primary, `${s.name}-eus`);
    assert.deepEqual(report.rolesAfter, { primary: 'eastus', secondary: 'westus' });
  });

  const refusals: [string, (name: string) => Record<string, unknown>, string][] = [
    ['restoreDatabase', (name) => ({ group: name, database: 'orders', pointInTime: '2026-01-01T00:00:00Z' }), 'group'],
    ['reprotect', (name) => ({ group: name, newSecondaryInstance: 'mi-new-secondary' }), 'group'],
    ['establishGroup', (name) => ({ name, primaryInstance: 'mi-primary', secondaryInstance: 'mi-secondary' }), 'name'],
    ['watchGroups', (name) => ({ groups: [name] }), 'groups\\[0\\]'],
  ];
  for (const [runbook, input, field] of refusals)
    it(`${runbook} refuses a SQL Database group at once with InvalidInput naming ${field.replace(/\\/g, '')}`, async () => {
      const s = serverGroupScenario(frame.env, frame.started);
      const worker = await s.worker();
      const workflowId = `${runbook}/${s.name}`;
      frame.started.add(workflowId, s.lockId);
      const { failure } = await worker.runUntil(async () =>
        outcomeOf(
          await frame.env.client.workflow.start(runbook, { taskQueue: s.taskQueue, workflowId, args: [input(s.name)] }),
        ),
      );
      assert.equal(failure?.type, FailureTypes.InvalidInput, failure?.message);
      assert.match(
        failure.message,
        new RegExp(
          `^${field}: ${s.name} is an Azure SQL Database failover group \\(kind sqlDatabase\\), and ${runbook} ` +
            'supports Managed Instance failover groups only \\(kind managedInstance\\); on a SQL Database group run ' +
            'plannedFailover, forcedFailover, failback, drDrill, fleetFailover, readinessCheck, scaleGroup\\.',
        ),
      );
      s.assertNothingChanged();
      // Nothing of the group was read through ARM either: the refusal comes from its inventory entry.
      assert.deepEqual(s.groups.calls, []);
    });

  it('a drill’s recovery points on a SQL Database group say they do not apply; requireRecoveryPoint refuses saying so', async () => {
    const s = serverGroupScenario(frame.env, frame.started);
    const { failure } = await s.run('drDrill', {
      soak: '1 minute',
      smoke: { database: 'orders' },
      requireRecoveryPoint: true,
    });
    assert.equal(failure?.type, FailureTypes.PreflightFailed, failure?.message);
    assert.match(
      failure.message,
      /^requireRecoveryPoint: not applicable to SQL Database: trusted recovery points are read from a managed instance's/,
    );
    assert.match(failure.message, /Start the drill without requireRecoveryPoint/);
    const part = reportOf(failure).drill?.recoveryPoints?.groups[0];
    assert.match(part?.unreadable ?? '', /^not applicable to SQL Database: /);
    assert.deepEqual(part?.databases, []);
    // No Managed Instance read was made for it.
    for (const read of ['readGroupRecoveryPoints', 'readLatestBackups'])
      assert.ok(!s.called.includes(read), `${read} must not be called`);
    s.assertNothingChanged();
  });
});
