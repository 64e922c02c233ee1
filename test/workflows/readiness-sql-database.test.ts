/**
 * readinessCheck on an Azure SQL Database server failover group (`kind: sqlDatabase`), on Temporal's time-skipping test
 * server, with the real activities over a scripted SQL Database (ARM: ScriptedServerGroups; SQL: ScriptedServerData):
 * a clean pair passes, and each drift planted in the script is found with its evidence and what to do. The planned
 * failover's preflight warns about the same drift (the checks are shared) without being stopped by it. Tests in this
 * file run one at a time (time skipping is global).
 */
import { describe, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { DATA_WRITING_ACTIVITIES } from '../../src/activities';
import type { LoginInfo } from '../../src/sql/data-plane';
import type { GateResult, ReadinessGroupResult, RunbookReport } from '../../src/workflows/definitions';
import { timeSkippingFrame } from '../support/runbook-harness';
import { serverGroupScenario, type ServerGroupScenarioOptions } from '../support/server-group-harness';
import type { ScriptedServerGroups } from '../support/scripted-server-groups';
import type { ScriptedServerData } from '../support/scripted-server-data';

function it(name: string, fn: () => Promise<void>): void {
  nodeIt(name, { timeout: 120_000 }, fn);
}

const frame = timeSkippingFrame();

const login = (name: string, sid: string): LoginInfo => ({ name, sid, type: 'S' });
const user = (database: string, name: string, sid: string, authenticationType: string, type = 'S'): LoginInfo => ({
  name,
  sid,
  type,
  database,
  authenticationType,
});

/**
 * Two member databases, `orders` on its own SKU and `billing` in `orders-pool`, and on each server the login `app`
 * (SID 0x01AB) that `orders`' user `app` maps to, a contained user and a Microsoft Entra user in `billing`.
 */
function scenario(configure?: (groups: ScriptedServerGroups, sql: ScriptedServerData, name: string) => void) {
  const options: ServerGroupScenarioOptions = {
    databases: ['orders', 'billing'],
    pools: { 'orders-pool': ['billing'] },
  };
  let groupName = '';
  const s = serverGroupScenario(frame.env, frame.started, options, (groups, sql) => {
    groupName = groups.groupNamed().name;
    const users = [
      user('orders', 'app', '0x01AB', 'INSTANCE'),
      user('billing', 'reporting', '0x7777', 'DATABASE'),
      user('billing', 'ops@contoso.com', '0x9999', 'EXTERNAL', 'E'),
    ];
    for (const server of Object.keys(groups.servers)) sql.logins[server] = [login('app', '0x01AB'), ...users];
    configure?.(groups, sql, groupName);
  });
  return s;
}

type Scenario = ReturnType<typeof scenario>;

async function checkReadiness(s: Scenario): Promise<{ report: RunbookReport; group: ReadinessGroupResult }> {
  const { report, failure } = await s.run('readinessCheck', {}, `readiness-${s.name}`);
  assert.ok(report, failure?.message);
  assert.equal(report.outcome, 'succeeded');
  const group = report.readiness?.groups.find((entry) => entry.group === s.name);
  assert.ok(group, `the report has ${s.name}`);
  s.assertNothingChanged();
  for (const name of DATA_WRITING_ACTIVITIES) assert.ok(!s.called.includes(name), `${name} must not be called`);
  return { report, group };
}

function check(group: ReadinessGroupResult, name: string): GateResult {
  const found = group.checks.find((entry) => entry.name === name);
  assert.ok(found, `check ${name} not in ${group.checks.map((entry) => entry.name).join(', ')}`);
  return found;
}

const notPassing = (group: ReadinessGroupResult) =>
  group.checks.filter((entry) => entry.status !== 'pass').map((entry) => [entry.name, entry.status]);

describe('readinessCheck on a SQL Database failover group', { concurrency: 1 }, () => {
  it('passes a clean pair per member database, and says which instance checks do not apply', async () => {
    const s = scenario();
    const { group } = await checkReadiness(s);
    assert.deepEqual(notPassing(group), [], JSON.stringify(group.checks, null, 1));
    assert.equal(group.verdict, 'pass');
    for (const name of [
      'config-sku/orders',
      'config-sku/billing',
      'config-backup-redundancy/orders',
      'config-backup-redundancy/billing',
      'membership-outside-group',
      'membership-missing',
      'logins-match',
      'restore-point-age',
      'failover-policy',
      'pair-standby-reads',
    ])
      assert.doesNotMatch(check(group, name).message, /^Not applicable/, name);
    for (const name of [
      'config-vcores',
      'config-storage',
      'config-license',
      'ltr-policy',
      'agent-jobs-match',
      'pair-checks',
      'recovery-points',
    ])
      assert.match(check(group, name).message, /^Not applicable to SQL Database: /, name);
    assert.match(check(group, 'config-sku/billing').message, /through its elastic pool.*pool orders-pool/);
    assert.match(
      check(group, 'logins-match').message,
      /3 user\(s\).*1 mapped to a login.*2 contained or Microsoft Entra/,
    );
    // The instance-only reads are not made for a server group (they would ask ARM for managed instances).
    for (const name of ['readPairEvidence', 'readRetentionPolicies', 'readGroupRecoveryPoints'])
      assert.ok(!s.called.includes(name), `${name} must not be called`);
  });

  it('finds every planted drift, with evidence and what to do, and leaves the contained users alone', async () => {
    const s = scenario((groups, sql, name) => {
      const [primary, secondary] = [`${name}-eus`, `${name}-wus`];
      // orders: less compute on the secondary; billing's copy there keeps its backups on local storage.
      const onSecondary = groups.servers[secondary]!.databases;
      onSecondary.find((database) => database.name === 'orders')!.sku = {
        name: 'GP_Gen5',
        tier: 'GeneralPurpose',
        family: 'Gen5',
        capacity: 1,
      };
      onSecondary.find((database) => database.name === 'billing')!.backupStorageRedundancy = 'Local';
      // A database on the primary that the group does not list.
      groups.addDatabase(primary, 'reports');
      // The partner's master: app's SID is another, and etl's login is missing.
      const users = (sql.logins[primary] ?? []).filter((entry) => entry.database !== undefined);
      sql.logins[primary] = [
        login('app', '0x01AB'),
        login('etl', '0x0E71'),
        ...users,
        user('billing', 'etl', '0x0E71', 'INSTANCE'),
      ];
      sql.logins[secondary] = [login('app', '0x0BAD'), ...users];
    });
    const { group } = await checkReadiness(s);
    assert.equal(group.verdict, 'fail');
    assert.deepEqual(notPassing(group), [
      ['config-sku/orders', 'warn'],
      ['config-backup-redundancy/billing', 'warn'],
      ['membership-outside-group', 'warn'],
      ['logins-match', 'fail'],
    ]);
    const sku = check(group, 'config-sku/orders');
    assert.match(sku.message, /less compute on .*-wus \(GP_Gen5 \(1\).*than on .*-eus \(GP_Gen5 \(2\)/);
    assert.match(sku.action ?? '', /scaleGroup \{"databases": \{"orders": "GP_Gen5_2"\}\}/);
    const redundancy = check(group, 'config-backup-redundancy/billing');
    assert.deepEqual(redundancy.evidence.secondary, { server: `${s.name}-wus`, backupStorageRedundancy: 'Local' });
    assert.match(redundancy.action ?? '', /--backup-storage-redundancy Geo/);
    const outside = check(group, 'membership-outside-group');
    assert.deepEqual(outside.evidence.outsideGroup, ['reports']);
    assert.match(outside.action ?? '', /--add-db reports/);
    const logins = check(group, 'logins-match');
    assert.match(logins.message, /app in orders \(login app, SID 0x01AB; .*-wus has app with SID 0x0BAD\)/);
    assert.match(logins.message, /etl in billing \(login etl, SID 0x0E71\)/);
    assert.doesNotMatch(logins.message, /reporting|ops@contoso/, 'contained and Entra users are not flagged');
    assert.match(logins.action ?? '', /DROP LOGIN \[app\]; CREATE LOGIN \[app\] .*SID = 0x01AB;/);
    assert.match(logins.action ?? '', /CREATE LOGIN \[etl\] .*SID = 0x0E71;/);
    const verdicts = (logins.evidence.users as { user: string; verdict: string }[]).map((entry) => [
      entry.user,
      entry.verdict,
    ]);
    assert.deepEqual(verdicts, [
      ['app', 'login with another SID on the partner'],
      ['reporting', 'travels with the database'],
      ['ops@contoso.com', 'travels with the database'],
      ['etl', 'login missing on the partner'],
    ]);
  });

  it('fails a lower edition on the secondary and a member database without a copy there', async () => {
    const s = scenario((groups, _sql, name) => {
      const secondary = groups.servers[`${name}-wus`]!;
      groups.servers[`${name}-eus`]!.databases.find((database) => database.name === 'orders')!.sku = {
        name: 'BC_Gen5',
        tier: 'BusinessCritical',
        family: 'Gen5',
        capacity: 2,
      };
      secondary.databases.splice(
        secondary.databases.findIndex((database) => database.name === 'billing'),
        1,
      );
    });
    const { group } = await checkReadiness(s);
    const sku = check(group, 'config-sku/orders');
    assert.equal(sku.status, 'fail', sku.message);
    assert.match(sku.message, /lower edition/);
    const missing = check(group, 'membership-missing');
    assert.equal(missing.status, 'fail');
    assert.deepEqual(missing.evidence.secondary, { server: `${s.name}-wus`, missing: ['billing'] });
  });

  it('lets a planned failover warn about the same drift without blocking it', async () => {
    const s = scenario((groups, sql, name) => {
      const [primary, secondary] = [`${name}-eus`, `${name}-wus`];
      groups.addDatabase(primary, 'reports');
      sql.logins[secondary] = (sql.logins[secondary] ?? []).filter((entry) => entry.database !== undefined);
    });
    const { report, failure } = await s.run('plannedFailover');
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.groups.acceptedFailovers.length, 1);
    const drift = (report.gates ?? []).filter((entry) => entry.evidence.readinessStatus !== undefined);
    assert.deepEqual(
      drift.map((entry) => [entry.name, entry.status, entry.evidence.readinessStatus]),
      [
        ['membership-outside-group', 'warn', 'warn'],
        ['logins-match', 'warn', 'fail'],
      ],
    );
    assert.ok(report.warnings.some((line) => /^\[membership-outside-group\] .*reports/.test(line)));
    assert.ok(
      report.warnings.some((line) =>
        /^\[logins-match\] .*app in orders.* → In master on .*CREATE LOGIN \[app\]/.test(line),
      ),
    );
  });
});
