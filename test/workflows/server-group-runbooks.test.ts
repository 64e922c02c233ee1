/**
 * The failover runbooks on an Azure SQL Database server failover group (`kind: sqlDatabase`), on Temporal's
 * time-skipping test server: the same workflows as for Managed Instance, through the group-kind seam, with the real
 * activities over a scripted SQL Database (ARM: ScriptedServerGroups; SQL: ScriptedServerData).
 */
import { describe, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { FailureTypes } from '../../src/workflows/definitions';
import { serverFailoverGroupId } from '../../src/domain/group-ref';
import { Inventory } from '../../src/config/inventory';
import { saveHistory, stepOf, timeSkippingFrame } from '../support/runbook-harness';
import { serverGroupScenario, type ServerGroupScenarioOptions } from '../support/server-group-harness';
import type { ScriptedServerGroups } from '../support/scripted-server-groups';
import type { ScriptedServerData } from '../support/scripted-server-data';

function it(name: string, fn: () => Promise<void>): void {
  nodeIt(name, { timeout: 90_000 }, fn);
}

const frame = timeSkippingFrame();
const approval = { by: 'incident-bot', reason: 'INC-5150: eastus outage' };

function scenario(
  options: ServerGroupScenarioOptions = {},
  configure?: (groups: ScriptedServerGroups, sql: ScriptedServerData) => void,
) {
  return serverGroupScenario(frame.env, frame.started, options, configure);
}

describe('runbooks on a SQL Database failover group', { concurrency: 1 }, () => {
  it('plannedFailover proves sync per database against the target server, posts failover at it once, and waits for the roles', async () => {
    const s = scenario();
    const { report, failure, handle } = await s.run('plannedFailover');
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    await saveHistory(handle, 'planned-failover-sql-database');
    assert.deepEqual(
      report.steps.map((entry) => [entry.name, entry.state]),
      [
        ['resolve-group', 'succeeded'],
        ['preflight', 'succeeded'],
        ['scale-secondary', 'skipped'],
        ['verify-sync', 'succeeded'],
        ['failover', 'succeeded'],
        ['await-roles', 'succeeded'],
        ['await-writable', 'succeeded'],
        ['post-checks', 'succeeded'],
      ],
    );
    // One copy-sync wait per member database, in that database, against the server that becomes primary.
    const waits = s.sql.calls.filter((call) => call.method === 'waitForCopySync');
    assert.deepEqual(waits.map((call) => call.database).sort(), ['billing', 'orders']);
    assert.ok(waits.every((call) => call.host === `${s.name}-eus.database.windows.net`));
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [[`${s.name}-wus`, 'failover']],
    );
    const lastWait = Math.max(...waits.map((call) => call.at));
    assert.ok(s.groups.acceptedFailovers[0]!.acceptedAt >= lastWait, 'the failover is posted after every sync proof');
    assert.equal(s.groups.groupNamed(s.name).primary, `${s.name}-wus`);
    assert.deepEqual(report.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    assert.equal(report.legs[0]!.dataLoss.kind, 'none-proven');
    assert.deepEqual(report.legs[0]!.dataLoss.databases?.map((entry) => entry.database).sort(), ['billing', 'orders']);
  });

  it('plannedFailover with failback goes there and back, one failover POST each way', async () => {
    const s = scenario();
    const { report, failure } = await s.run('plannedFailover', { failback: { after: '2 minutes' } });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [
        [`${s.name}-wus`, 'failover'],
        [`${s.name}-eus`, 'failover'],
      ],
    );
    assert.equal(s.groups.groupNamed(s.name).primary, `${s.name}-eus`);
  });

  it('scales a smaller secondary database (and pool) up to the primary’s before failing over, secondary first', async () => {
    const s = scenario({ pools: { 'shared-pool': ['billing'] }, databases: ['orders', 'billing'] }, (groups) => {
      const group = groups.groupNamed();
      const primary = groups.serverNamed(group.primary);
      const secondary = groups.serverNamed(group.secondaries[0]!);
      primary.databases.find((database) => database.name === 'orders')!.sku = {
        name: 'GP_Gen5',
        tier: 'GeneralPurpose',
        family: 'Gen5',
        capacity: 8,
      };
      primary.pools.find((pool) => pool.name === 'shared-pool')!.sku = {
        name: 'GP_Gen5',
        tier: 'GeneralPurpose',
        family: 'Gen5',
        capacity: 6,
      };
      void secondary;
    });
    const { report, failure } = await s.run('plannedFailover');
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(stepOf(report, 'scale-secondary').state, 'succeeded');
    assert.deepEqual(
      s.groups.scaleRequests.map((request) => [request.server, request.name, request.sku.capacity]).sort(),
      [
        [`${s.name}-wus`, 'orders', 8],
        [`${s.name}-wus`, 'shared-pool', 6],
      ].sort(),
    );
    const lastScaleEnds = Math.max(...s.groups.operations.map((operation) => operation.endsAt));
    assert.ok(s.groups.acceptedFailovers[0]!.acceptedAt >= lastScaleEnds, 'the failover waits for every scale to end');
  });

  it('forcedFailover with tryPlannedFirst sends Azure’s own tryPlannedBeforeForcedFailover once where the api-version offers it', async () => {
    const s = scenario({}, (groups) => groups.darkServers.add(`${groups.groupNamed().primary}`));
    const { report, failure, handle } = await s.run('forcedFailover', {
      approval,
      tryPlannedFirst: { timeout: '5 minutes' },
    });
    assert.equal(failure, undefined, failure?.message);
    await saveHistory(handle, 'forced-failover-sql-database-azure-try-planned');
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.action, entry.ranAs]),
      [['tryPlannedBeforeForcedFailover', 'forced']],
    );
    assert.equal(report.legs[0]!.tryPlannedBy, 'azure');
    assert.ok(report.steps.some((entry) => entry.name === 'azure-try-planned' && entry.state === 'succeeded'));
    assert.ok(!report.steps.some((entry) => entry.name === 'try-planned' || entry.name === 'force-failover'));
    assert.equal(s.groups.groupNamed(s.name).primary, `${s.name}-wus`);
    assert.equal(report.legs[0]!.dataLoss.kind, 'estimated');
  });

  it('forcedFailover with tryPlannedFirst escalates itself where the api-version has no tryPlannedBeforeForcedFailover', async () => {
    const s = scenario({ apiVersion: '2021-11-01' }, (groups) => groups.darkServers.add(groups.groupNamed().primary));
    const { report, failure } = await s.run('forcedFailover', { approval, tryPlannedFirst: { timeout: '5 minutes' } });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => entry.action),
      ['failover', 'forceFailoverAllowDataLoss'],
    );
    assert.equal(report.legs[0]!.tryPlannedBy, 'fogpilot');
    assert.equal(stepOf(report, 'try-planned').evidence?.escalated, true);
    assert.equal(s.groups.groupNamed(s.name).primary, `${s.name}-wus`);
  });

  it('with several secondaries a failover must name its target, and a named third region becomes primary', async () => {
    const servers = (name: string) => [
      { name: `${name}-eus`, location: 'eastus' },
      { name: `${name}-wus`, location: 'westus' },
      { name: `${name}-neu`, location: 'northeurope' },
    ];
    const unnamed = scenario({ servers: servers(`fog-sqldb-multi-a`) });
    const refused = await unnamed.run('plannedFailover');
    assert.equal(refused.failure?.type, FailureTypes.InvalidInput);
    assert.match(refused.failure.message, /targetLocation: required.*several secondaries/);
    unnamed.assertNothingChanged();

    const named = scenario({ servers: servers(`fog-sqldb-multi-b`) });
    const { report, failure } = await named.run('plannedFailover', { targetLocation: 'northeurope' });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      named.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [['fog-sqldb-multi-b-neu', 'failover']],
    );
    const waits = named.sql.calls.filter((call) => call.method === 'waitForCopySync');
    assert.equal(waits.length, 2, 'one wait per database, against the named target only');
    assert.deepEqual(report.rolesAfter, { primary: 'northeurope', secondary: 'eastus' });
  });

  it('forcedFailover estimates the loss from the links on both servers, the primary read as a server', async () => {
    const s = scenario({}, (_groups, sql) => {
      sql.lagSeconds.orders = 3;
    });
    const { report, failure } = await s.run('forcedFailover', { approval });
    assert.equal(failure, undefined, failure?.message);
    const onPrimary = s.sql.calls.filter(
      (call) => call.method === 'listReplicationLinks' && call.host === `${s.name}-eus.database.windows.net`,
    );
    assert.ok(onPrimary.length > 0, 'the primary server was asked for its links');
    assert.equal(report?.legs[0]!.dataLoss.kind, 'estimated');
    assert.doesNotMatch(JSON.stringify(report ?? {}), new RegExp(`${s.name} did not answer`));
  });

  it('from a further secondary, a planned failover home reads the roles from the primary it finds and goes home', async () => {
    const name = 'fog-sqldb-multi-c';
    const s = scenario({
      servers: [
        { name: `${name}-eus`, location: 'eastus' },
        { name: `${name}-wus`, location: 'westus' },
        { name: `${name}-neu`, location: 'northeurope' },
      ],
    });
    const away = await s.run('plannedFailover', { targetLocation: 'northeurope' });
    assert.equal(away.report?.outcome, 'succeeded', away.failure?.message);
    const home = await s.run('plannedFailover', { targetLocation: 'eastus' });
    assert.equal(home.report?.outcome, 'succeeded', home.failure?.message);
    assert.deepEqual(home.report.rolesBefore, { primary: 'northeurope', secondary: 'eastus' });
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => entry.server),
      [`${name}-neu`, `${name}-eus`],
    );
    const homeWaits = s.sql.calls.filter((call) => call.method === 'waitForCopySync').slice(-2);
    assert.ok(
      homeWaits.every((call) => call.host === `${name}-neu.database.windows.net`),
      'the proof runs on the primary it fails over from',
    );
  });

  it('takes a group by the ARM id of its server failover group, outside the inventory: servers and roles from Azure', async () => {
    const s = scenario();
    (s.deps as { inventory: Inventory }).inventory = new Inventory({});
    const armId = serverFailoverGroupId(s.coordinates, `${s.name}-wus`);
    const { report, failure } = await s.run('plannedFailover', { group: armId, targetLocation: 'westus' });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    const resolved = stepOf(report, 'resolve-group').evidence as Record<string, unknown>;
    assert.equal(resolved.resolvedFrom, 'arm-id');
    assert.equal(resolved.kind, 'sqlDatabase');
    assert.deepEqual(resolved.servers, { eastus: `${s.name}-eus`, westus: `${s.name}-wus` });
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => [entry.server, entry.action]),
      [[`${s.name}-wus`, 'failover']],
    );
  });

  it('drDrill fails over and back, writing through <group>.database.windows.net, and loses nothing', async () => {
    // The write probe runs all through the drill, so the test server's clock moves in real time meanwhile: short
    // switches keep the drill to seconds.
    const s = scenario({}, (groups, sql) => {
      groups.roleSwitchMs = 2_000;
      sql.readOnlyAfterSwitchMs = 1_000;
    });
    const { report, failure } = await s.run('drDrill', { soak: '1 minute', smoke: { database: 'orders' } });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.groups.acceptedFailovers.map((entry) => entry.server),
      [`${s.name}-wus`, `${s.name}-eus`],
    );
    const listenerWrites = s.sql.calls.filter(
      (call) => call.method === 'insertSmokeRow' && call.host === `${s.name}.database.windows.net`,
    );
    assert.ok(listenerWrites.length > 0, 'the probe writes through the group listener');
    assert.ok(
      s.sql.smokeRows.some((row) => row.server === `${s.name}-wus`),
      'some writes reached the new primary',
    );
    assert.equal(report.drill?.probe?.lostAcknowledged, 0);
    assert.equal(report.drill?.dataLoss, 'none');
  });

  it('a dry run of plannedFailover reads both servers and changes nothing', async () => {
    const s = scenario();
    const { report, failure } = await s.run('plannedFailover', { dryRun: true });
    assert.equal(failure, undefined, failure?.message);
    assert.equal(report?.outcome, 'dry-run');
    s.assertNothingChanged();
  });
});
