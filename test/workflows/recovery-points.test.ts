/**
 * Trusted recovery points in readinessCheck and drDrill, on Temporal's time-skipping test server, over the scripted
 * group and its scripted recovery plane: databases with backups and LTR backups, VMs in a vault with and without
 * recovery points, periodic and continuous Cosmos DB accounts. Tests run one at a time.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '../../src/config/config';
import { ArmRequestError } from '../../src/azure/errors';
import type { GateResult, RunbookReport } from '../../src/workflows/definitions';
import { renderMarkdown } from '../../src/report/markdown';
import { boundedIt, outcomeOf, reportOf, saveHistory, timeSkippingFrame } from '../support/runbook-harness';
import type { ScriptedScenario } from '../support/runbook-harness';
import { createTestWorker } from '../support/temporal';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ARM = '/subscriptions/sub-1/resourceGroups/rg-app/providers';
const VAULT = `${ARM}/Microsoft.RecoveryServices/vaults/vault-app`;
const POLICY = `${VAULT}/backupPolicies/DailyPolicy`;
const vm = (name: string) => `${ARM}/Microsoft.Compute/virtualMachines/${name}`;
const cosmos = (name: string) => `${ARM}/Microsoft.DocumentDB/databaseAccounts/${name}`;

interface Setup {
  objectives?: Record<string, unknown>;
  workload?: Record<string, unknown>;
}

/** The worker's configuration for the scenario's group: its objectives, and a workload when given. */
function configOf(s: ScriptedScenario, setup: Setup) {
  const { name: _name, ...coordinates } = s.azure.coordinates;
  return ConfigSchema.parse({
    inventory: { [s.name]: { ...coordinates, ...(setup.objectives ? { objectives: setup.objectives } : {}) } },
    ...(setup.workload ? { workload: setup.workload } : {}),
  });
}

/** Runs `workflowType` with the configuration on the worker; returns how it ended. */
async function run(s: ScriptedScenario, setup: Setup, workflowType: string, input: Record<string, unknown> = {}) {
  const worker = await createTestWorker({
    env: frame.env,
    taskQueue: s.taskQueue,
    deps: { ...s.deps, outbound: { config: configOf(s, setup) } },
    called: s.called,
  });
  const handle = await s.start(workflowType, input);
  return worker.runUntil(outcomeOf(handle));
}

function checksOf(report: RunbookReport | undefined, group: string): GateResult[] {
  const found = report?.readiness?.groups.find((entry) => entry.group === group);
  assert.ok(found, `no readiness result for ${group}`);
  return found.checks;
}

function statusOf(checks: GateResult[], name: string): GateResult['status'] {
  const found = checks.find((entry) => entry.name === name);
  assert.ok(found, `check ${name} not in ${checks.map((entry) => entry.name).join(', ')}`);
  return found.status;
}

/** A backup history whose newest backup of `database` is `ageMs` old (the others' five minutes). */
function plantBackupAge(s: ScriptedScenario, database: string, ageMs: number): void {
  const original = s.azure.latestBackups.bind(s.azure);
  s.azure.latestBackups = async (target) =>
    (await original(target)).map((entry) =>
      entry.database === database
        ? {
            ...entry,
            lastFullBackup: new Date(Date.parse(entry.lastLogBackup!) - ageMs).toISOString(),
            lastLogBackup: new Date(Date.parse(entry.lastLogBackup!) + 300_000 - ageMs).toISOString(),
          }
        : entry,
    );
}

async function nowMs(): Promise<number> {
  return frame.env.currentTimeMs();
}

describe('trusted recovery points', { concurrency: 1 }, () => {
  it('judges databases, VMs and Cosmos DB accounts met, missed or unknown, and the report shows them', async () => {
    const s = frame.scenario();
    const now = await nowMs();
    s.recovery.retentionMs = DAY;
    s.recovery.longTermBackups.push({
      instanceId: s.azure.instances.eastus!.id,
      id: 'ltr-sales-1',
      databaseName: 'sales',
      backupTime: new Date(now - 2 * DAY).toISOString(),
    });
    s.recovery.vms.push(
      { id: vm('vm-fresh'), discoverable: true, protectedWith: POLICY, recoveryPoints: [now - 2 * HOUR] },
      { id: vm('vm-stale'), discoverable: true, protectedWith: POLICY, recoveryPoints: [now - 3 * DAY] },
      { id: vm('vm-bare'), discoverable: true, recoveryPoints: [] },
      { id: vm('vm-locked'), discoverable: true, protectedWith: POLICY, recoveryPoints: [now - HOUR] },
    );
    const readProtection = s.recovery.getVmProtection.bind(s.recovery);
    s.recovery.getVmProtection = (vault, vmId) =>
      vmId.endsWith('/vm-locked')
        ? Promise.reject(
            new ArmRequestError('no access', { statusCode: 403, code: 'AuthorizationFailed', delivery: 'answered' }),
          )
        : readProtection(vault, vmId);
    s.recovery.cosmos.push(
      {
        id: cosmos('cosmos-cont'),
        name: 'cosmos-cont',
        location: 'eastus',
        type: 'Continuous',
        tier: 'Continuous7Days',
        createdAt: now - 30 * DAY,
      },
      {
        id: cosmos('cosmos-periodic'),
        name: 'cosmos-periodic',
        location: 'eastus',
        type: 'Periodic',
        createdAt: now - 30 * DAY,
      },
    );
    const { report, failure, handle } = await run(
      s,
      {
        objectives: { backupRpo: '1 hour' },
        workload: {
          vault: VAULT,
          vms: ['vm-fresh', 'vm-stale', 'vm-bare', 'vm-locked'].map(vm),
          cosmosAccounts: [cosmos('cosmos-cont'), cosmos('cosmos-periodic'), cosmos('cosmos-gone')],
          vmRpo: '1 day',
          cosmosRpo: '1 hour',
        },
      },
      'readinessCheck',
    );
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    await saveHistory(handle, 'readiness-check-recovery-points');
    const group = checksOf(report, s.name);
    assert.equal(statusOf(group, 'recovery-point/sales'), 'pass');
    assert.equal(statusOf(group, 'recovery-point/billing'), 'pass');
    const workload = checksOf(report, 'workload');
    assert.deepEqual(
      workload.map((check) => [check.name, check.status]),
      [
        ['recovery-point/vm/vm-fresh', 'pass'],
        ['recovery-point/vm/vm-stale', 'fail'],
        ['recovery-point/vm/vm-bare', 'fail'],
        ['recovery-point/vm/vm-locked', 'warn'],
        ['recovery-point/cosmos/cosmos-cont', 'pass'],
        ['recovery-point/cosmos/cosmos-periodic', 'fail'],
        ['recovery-point/cosmos/cosmos-gone', 'warn'],
      ],
    );
    assert.equal(report.readiness?.verdict, 'fail', 'the missed workload points count in the verdict');

    const section = report.readiness?.recoveryPoints;
    assert.ok(section);
    const sales = section.groups[0]!.databases.find((entry) => entry.database === 'sales')!;
    assert.equal(section.groups[0]!.backupRpo, '1h');
    assert.equal(sales.state, 'met');
    assert.equal(sales.newestLtrBackup, new Date(now - 2 * DAY).toISOString());
    assert.ok(sales.earliestRestorePoint, 'the restore window is read');
    assert.ok(Date.parse(sales.earliestRestorePoint) >= now - DAY - 60_000, 'from the short retention');
    assert.ok(sales.newestBackup && sales.newestBackupAge, 'the msdb history is used');
    assert.notEqual(sales.ltrPolicy, 'not read');
    const vms = section.workload!.vms;
    assert.equal(vms.find((entry) => entry.name === 'vm-fresh')?.policy, 'DailyPolicy');
    assert.equal(vms.find((entry) => entry.name === 'vm-bare')?.protected, false);
    assert.match(vms.find((entry) => entry.name === 'vm-stale')!.why!, /older than the RPO of 1d/);
    assert.match(vms.find((entry) => entry.name === 'vm-locked')!.why!, /AuthorizationFailed|refused the credential/);
    const accounts = section.workload!.cosmosAccounts;
    const continuous = accounts.find((entry) => entry.name === 'cosmos-cont')!;
    assert.equal(continuous.tier, 'Continuous7Days');
    assert.ok(continuous.earliestRestorableTime, 'the oldest restorable time of a continuous account');
    assert.equal(accounts.find((entry) => entry.name === 'cosmos-periodic')?.backupInterval, '4h');
    assert.equal(accounts.find((entry) => entry.name === 'cosmos-gone')?.state, 'unknown');

    const markdown = renderMarkdown(report);
    assert.match(markdown, /Trusted recovery points/);
    assert.match(markdown, /vm-stale/);
    s.assertNothingChanged();
  });

  it('catches a planted stale recovery point (positive control), and an unreadable history is unknown, not met', async () => {
    const s = frame.scenario();
    plantBackupAge(s, 'billing', 3 * HOUR);
    const stale = await run(s, { objectives: { backupRpo: '1 hour' } }, 'readinessCheck');
    const checks = checksOf(stale.report, s.name);
    assert.equal(statusOf(checks, 'recovery-point/sales'), 'pass');
    assert.equal(statusOf(checks, 'recovery-point/billing'), 'fail');
    const billing = checks.find((check) => check.name === 'recovery-point/billing')!;
    assert.match(billing.message, /older than the RPO of 1h/);
    assert.equal(stale.report?.readiness?.verdict, 'fail');
    assert.equal(stale.report?.readiness?.recoveryPoints?.workload, undefined, 'no workload configured');

    const dark = frame.scenario();
    dark.azure.latestBackups = () => Promise.reject(new Error('msdb is not readable'));
    const unread = await run(dark, { objectives: { backupRpo: '1 hour' } }, 'readinessCheck');
    const entry = unread.report?.readiness?.recoveryPoints?.groups[0]?.databases[0];
    assert.equal(entry?.state, 'unknown');
    assert.match(entry.why!, /backup history could not be read/);
    assert.equal(statusOf(checksOf(unread.report, dark.name), `recovery-point/${entry.database}`), 'warn');
  });

  it('judges nothing when the group declares no backupRpo, and still shows each database in the section', async () => {
    const s = frame.scenario();
    const { report } = await run(s, {}, 'readinessCheck');
    const checks = checksOf(report, s.name);
    assert.deepEqual(
      checks.filter((entry) => entry.name.startsWith('recovery-point')).map((entry) => entry.name),
      [],
      'no recovery-point check without a declared RPO (as drill-recency without drillInterval)',
    );
    const databases = report?.readiness?.recoveryPoints?.groups[0]?.databases ?? [];
    assert.deepEqual(
      databases.map((entry) => [entry.database, entry.state]),
      [
        ['billing', 'unknown'],
        ['sales', 'unknown'],
      ],
    );
    assert.match(databases[0]!.why ?? '', /declares no objectives\.backupRpo/);
  });

  it('a drill with requireRecoveryPoint refuses to start when a database is older than the backupRpo, changing nothing', async () => {
    const s = frame.scenario();
    plantBackupAge(s, 'billing', 3 * HOUR);
    const { failure } = await run(s, { objectives: { backupRpo: '1 hour' } }, 'drDrill', {
      requireRecoveryPoint: true,
      soak: '1 minute',
    });
    assert.equal(failure?.type, 'PreflightFailed');
    assert.match(failure.message, /billing \(newest .*, 3h old\)/);
    assert.doesNotMatch(failure.message, /sales/);
    assert.match(failure.message, /nothing was changed/);
    const report = reportOf(failure);
    assert.equal(report.drill?.recoveryPoints?.groups[0]?.databases.length, 2, 'the drill report carries the section');
    s.assertNothingChanged();
    assert.ok(!s.called.includes('probeListenerWrites'), 'nothing written');
  });

  it('a drill with requireRecoveryPoint refuses to start when the group declares no backupRpo', async () => {
    const s = frame.scenario();
    const { failure } = await run(s, {}, 'drDrill', { requireRecoveryPoint: true });
    assert.equal(failure?.type, 'PreflightFailed');
    assert.match(failure.message, /objectives\.backupRpo must be configured/);
    s.assertNothingChanged();
  });

  it('a drill whose databases have fresh recovery points runs, and its report carries them', async () => {
    const s = frame.scenario();
    const { report, failure } = await run(s, { objectives: { backupRpo: '1 hour' } }, 'drDrill', {
      requireRecoveryPoint: true,
      soak: '1 minute',
      smoke: { write: false },
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(
      report.drill?.recoveryPoints?.groups[0]?.databases.map((entry) => [entry.database, entry.state]),
      [
        ['billing', 'met'],
        ['sales', 'met'],
      ],
    );
    assert.match(renderMarkdown(report), /Trusted recovery points/);
  });

  it('refuses requireRecoveryPoint that is not a boolean, naming the field', async () => {
    const s = frame.scenario();
    const { failure } = await run(s, {}, 'drDrill', { requireRecoveryPoint: 'yes' });
    assert.equal(failure?.type, 'InvalidInput');
    assert.match(failure.message, /requireRecoveryPoint must be true or false/);
  });
});
