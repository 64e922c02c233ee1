/**
 * protectWorkload on Temporal's time-skipping test server, with the real activities over the scripted recovery plane:
 * backup jobs of half an hour and migrations of hours pass in seconds. Tests run one at a time.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, rejectSignal, statusQuery } from '../../src/workflows/definitions';
import {
  boundedIt,
  outcomeWithReportOf,
  reportOf,
  saveHistory,
  stepOf,
  timeSkippingFrame,
  type RunOutcome,
  type ScriptedScenario,
} from '../support/runbook-harness';

const it = boundedIt(120_000);
const frame = timeSkippingFrame();

const DAY = 86_400_000;
const SUB = '00000000-1111-2222-3333-444444444444';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-app/providers`;
const VAULT = `${RG}/Microsoft.RecoveryServices/vaults/rsv-app`;
const POLICY_ID = `${VAULT}/backupPolicies/DailyPolicy`;
const vmId = (name: string) => `${RG}/Microsoft.Compute/virtualMachines/${name}`;
const accountId = (name: string) => `${RG}/Microsoft.DocumentDB/databaseAccounts/${name}`;

/** A scenario whose vault has `DailyPolicy` (and `HourlySql`, a SQL policy), VMs and Cosmos DB accounts as asked. */
async function workload(
  options: {
    vms?: { name: string; protectedWith?: string; discoverable?: boolean; pointsDaysAgo?: number[] }[];
    accounts?: { name: string; type: 'Periodic' | 'Continuous'; tier?: string }[];
  } = {},
): Promise<ScriptedScenario> {
  const s = frame.scenario();
  const now = await frame.env.currentTimeMs();
  s.recovery.backupPolicies.DailyPolicy = {
    id: POLICY_ID,
    name: 'DailyPolicy',
    backupManagementType: 'AzureIaasVM',
    scheduleRunFrequency: 'Daily',
    dailyRetentionDays: 30,
  };
  s.recovery.backupPolicies.HourlySql = {
    id: `${VAULT}/backupPolicies/HourlySql`,
    name: 'HourlySql',
    backupManagementType: 'AzureWorkload',
  };
  for (const vm of options.vms ?? []) {
    s.recovery.vms.push({
      id: vmId(vm.name),
      discoverable: vm.discoverable ?? true,
      ...(vm.protectedWith ? { protectedWith: vm.protectedWith } : {}),
      recoveryPoints: (vm.pointsDaysAgo ?? []).map((days) => now - days * DAY),
    });
  }
  for (const account of options.accounts ?? []) {
    s.recovery.cosmos.push({
      id: accountId(account.name),
      name: account.name,
      location: 'eastus',
      type: account.type,
      ...(account.tier ? { tier: account.tier } : {}),
      createdAt: now - 90 * DAY,
    });
  }
  return s;
}

let runs = 0;

/** Runs protectWorkload on the scenario's worker; `during` acts on the run before its end is awaited. */
async function protect(
  s: ScriptedScenario,
  input: Record<string, unknown>,
  during?: (handle: WorkflowHandle) => Promise<void>,
): Promise<RunOutcome> {
  const worker = await s.worker();
  const workflowId = `fogpilot/protectWorkload/test-${++runs}`;
  frame.started.add(workflowId);
  return worker.runUntil(async () => {
    const handle = await frame.env.client.workflow.start('protectWorkload', {
      taskQueue: s.taskQueue,
      workflowId,
      args: [input],
    });
    await during?.(handle);
    return outcomeWithReportOf(handle);
  });
}

/** Moves the clock on a minute at a time until the run waits for the approval (queries do not skip time). */
async function untilAwaitingApproval(handle: WorkflowHandle): Promise<string> {
  for (let step = 0; step < 120; step++) {
    const status = await handle.query(statusQuery);
    if (status.awaiting?.kind === 'approval') return status.awaiting.detail;
    await frame.env.sleep(60_000);
  }
  assert.fail('the run never waited for the approval within 120 simulated minutes');
}

describe('protectWorkload', { concurrency: 1 }, () => {
  it('protects an unprotected VM under the policy, backs it up and waits for its recovery point', async () => {
    const s = await workload({ vms: [{ name: 'vm-app' }] });
    const { report, failure, handle } = await protect(s, {
      vms: [vmId('vm-app')],
      vault: VAULT,
      policy: 'DailyPolicy',
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    await saveHistory(handle, 'protect-workload-vm');
    assert.deepEqual(
      s.recovery.protectRequests.map((request) => [request.vmId, request.policyId]),
      [[vmId('vm-app'), POLICY_ID]],
    );
    assert.equal(s.recovery.backupRequests.length, 1, 'one on-demand backup');
    const [vm] = report.protection!.vms;
    assert.equal(vm!.action, 'protected');
    assert.equal(vm!.before, 'unprotected');
    assert.equal(vm!.protection, 'sent');
    assert.equal(vm!.backup?.request, 'sent');
    assert.equal(vm!.backup?.jobStatus, 'Completed');
    assert.ok(vm!.backup?.jobId, 'the job is named');
    assert.ok(vm!.backup?.recoveryPointTime, 'a recovery point exists');
    assert.ok(
      Date.parse(vm!.backup.recoveryPointTime) >= Date.parse(vm!.backup.startTime!),
      'the recovery point is newer than the trigger',
    );
    assert.ok(
      Date.parse(vm!.backup.keepUntil) - Date.parse(report.startedAt) >= 29 * DAY,
      'the point is kept 30 days by default',
    );
    assert.equal(stepOf(report, 'confirm-recovery-points').state, 'succeeded');
    assert.equal(report.approval, undefined, 'no approval is needed to protect VMs');
  });

  it('leaves a VM protected under the policy as it is, and one under another policy too, with a warning', async () => {
    const s = await workload({
      vms: [
        { name: 'vm-done', protectedWith: POLICY_ID, pointsDaysAgo: [1] },
        { name: 'vm-other', protectedWith: `${VAULT}/backupPolicies/WeeklyPolicy`, pointsDaysAgo: [3] },
      ],
    });
    const { report, failure } = await protect(s, {
      vms: [vmId('vm-done'), vmId('vm-other')],
      vault: VAULT,
      policy: 'DailyPolicy',
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(
      report.protection!.vms.map((vm) => [vm.name, vm.action, vm.policyBefore]),
      [
        ['vm-done', 'already-protected', 'DailyPolicy'],
        ['vm-other', 'other-policy', 'WeeklyPolicy'],
      ],
    );
    assert.equal(s.recovery.protectRequests.length + s.recovery.backupRequests.length, 0, 'nothing sent');
    assert.ok(!s.called.includes('sendProtectVm') && !s.called.includes('sendVmBackup'));
    assert.ok(
      report.warnings.some((warning) => /vm-other .* under policy WeeklyPolicy, not DailyPolicy/.test(warning)),
    );
    assert.equal(stepOf(report, 'protect-vms').state, 'skipped');
  });

  it('a backup job that ends Failed ends the run BackupFailed, saying what each VM reached', async () => {
    const s = await workload({ vms: [{ name: 'vm-app' }] });
    s.recovery.failNextBackup = true;
    const { failure } = await protect(s, { vms: [vmId('vm-app')], vault: VAULT, policy: 'DailyPolicy' });
    assert.equal(failure?.type, 'BackupFailed', failure?.message);
    assert.match(failure.message, /backup job job-\d+ of vm-app ended Failed \(The snapshot of the VM failed/);
    assert.match(failure.message, /Each VM reached: vm-app: Failed/);
    const vm = reportOf(failure).protection!.vms[0]!;
    assert.equal(vm.backup?.jobStatus, 'Failed');
    assert.equal(vm.backup?.recoveryPointTime, undefined);
    assert.equal(s.recovery.backupRequests.length, 1, 'the backup was not sent again');
  });

  it('refuses a VM the vault cannot protect and a policy that is not a VM policy, changing nothing', async () => {
    const s = await workload({ vms: [{ name: 'vm-west', discoverable: false }] });
    const lost = await protect(s, { vms: [vmId('vm-west')], vault: VAULT, policy: 'DailyPolicy' });
    assert.equal(lost.failure?.type, 'PreflightFailed', lost.failure?.message);
    assert.match(
      lost.failure.message,
      /vm-west is not among the VMs vault rsv-app can protect: it is in another region/,
    );
    assert.match(lost.failure.message, /another vault protects it already/);
    const sql = await protect(s, { vms: [vmId('vm-west')], vault: VAULT, policy: 'HourlySql' });
    assert.equal(sql.failure?.type, 'PreflightFailed', sql.failure?.message);
    assert.match(sql.failure.message, /HourlySql of vault rsv-app is not a VM policy/);
    s.assertNothingChanged();
  });

  it('does not migrate a periodic Cosmos DB account when the approval is rejected: nothing is changed at all', async () => {
    const s = await workload({ vms: [{ name: 'vm-app' }], accounts: [{ name: 'cosmos-orders', type: 'Periodic' }] });
    const { failure } = await protect(
      s,
      {
        vms: [vmId('vm-app')],
        vault: VAULT,
        policy: 'DailyPolicy',
        cosmosAccounts: [accountId('cosmos-orders')],
        requestedBy: 'ops-a',
      },
      async (handle) => {
        const question = await untilAwaitingApproval(handle);
        assert.match(question, /cosmos-orders \(.*databaseAccounts\/cosmos-orders\) from periodic to continuous/);
        assert.match(question, /cannot be undone/);
        await handle.signal(rejectSignal, { by: 'ops-b', reason: 'the app team has not signed off' });
      },
    );
    assert.equal(failure?.type, 'ApprovalRejected', failure?.message);
    assert.match(failure.message, /nothing was changed/);
    assert.deepEqual(s.recovery.migrationRequests, []);
    s.assertNothingChanged();
  });

  it('does not migrate a periodic Cosmos DB account when nobody approves in time', async () => {
    const s = await workload({ accounts: [{ name: 'cosmos-orders', type: 'Periodic' }] });
    const { failure } = await protect(s, {
      cosmosAccounts: [accountId('cosmos-orders')],
      approvalTimeout: '30 minutes',
    });
    assert.equal(failure?.type, 'ApprovalTimeout', failure?.message);
    assert.match(failure.message, /within 30m;/);
    assert.deepEqual(s.recovery.migrationRequests, []);
    s.assertNothingChanged();
  });

  it('migrates a periodic account after a second person approves, and follows the migration to Completed', async () => {
    const s = await workload({ accounts: [{ name: 'cosmos-orders', type: 'Periodic' }] });
    const { report, failure, handle } = await protect(
      s,
      { cosmosAccounts: [accountId('cosmos-orders')], continuousTier: 'Continuous30Days', requestedBy: 'ops-a' },
      async (handle) => {
        await untilAwaitingApproval(handle);
        assert.deepEqual(s.recovery.migrationRequests, [], 'nothing migrated before the approval');
        await handle.signal(approveSignal, { by: 'ops-b', reason: 'CHG-12' });
      },
    );
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    await saveHistory(handle, 'protect-workload-migration');
    assert.deepEqual(
      s.recovery.migrationRequests.map((request) => [request.accountId, request.tier]),
      [[accountId('cosmos-orders'), 'Continuous30Days']],
    );
    const [account] = report.protection!.accounts;
    assert.equal(account!.action, 'migrated');
    assert.equal(account!.policyBefore, 'Periodic');
    assert.equal(account!.policyAfter, 'Continuous');
    assert.equal(account!.tier, 'Continuous30Days');
    assert.equal(account!.migrationStatus, 'Completed');
    assert.ok(account!.oldestRestorableTime, 'restorable from the migration on');
    assert.match(report.approval?.by ?? '', /ops-b/);
  });

  it('follows a migration already running instead of sending another, without asking', async () => {
    const s = await workload({ accounts: [{ name: 'cosmos-orders', type: 'Periodic' }] });
    await s.recovery.beginMigrateToContinuous(accountId('cosmos-orders'), 'Continuous7Days');
    const { report, failure } = await protect(s, { cosmosAccounts: [accountId('cosmos-orders')] });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.recovery.migrationRequests.length, 1, 'only the migration that was running');
    assert.equal(report.protection!.accounts[0]!.action, 'followed');
    assert.equal(report.protection!.accounts[0]!.migrationStatus, 'Completed');
    assert.ok(!report.steps.some((step) => step.name === 'await-approval'));
  });

  it('leaves a continuous account as it is and reports its tier and oldest restorable time', async () => {
    const s = await workload({ accounts: [{ name: 'cosmos-catalog', type: 'Continuous', tier: 'Continuous7Days' }] });
    const { report, failure } = await protect(s, { cosmosAccounts: [accountId('cosmos-catalog')] });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const [account] = report.protection!.accounts;
    assert.equal(account!.action, 'already-continuous');
    assert.equal(account!.tier, 'Continuous7Days');
    const oldest = Date.parse(account!.oldestRestorableTime ?? '');
    assert.ok(Math.abs(Date.parse(report.startedAt) - 7 * DAY - oldest) < DAY, 'seven days back');
    s.assertNothingChanged();
  });

  it('a dry run reads, checks and returns the plan, changing nothing', async () => {
    const s = await workload({
      vms: [{ name: 'vm-app' }],
      accounts: [
        { name: 'cosmos-orders', type: 'Periodic' },
        { name: 'cosmos-catalog', type: 'Continuous', tier: 'Continuous30Days' },
      ],
    });
    const { report, failure } = await protect(s, {
      vms: [vmId('vm-app')],
      vault: VAULT,
      policy: 'DailyPolicy',
      cosmosAccounts: [accountId('cosmos-orders'), accountId('cosmos-catalog')],
      dryRun: true,
    });
    assert.equal(report?.outcome, 'dry-run', failure?.message);
    assert.deepEqual(
      report.plan?.map((item) => item.step),
      ['await-approval', 'protect-vms', 'back-up-vms', 'migrate-accounts', 'leave-account'],
    );
    s.assertNothingChanged();
  });

  it('refuses bad input, naming the field', async () => {
    const s = await workload();
    const noVault = await protect(s, { vms: [vmId('vm-app')], policy: 'DailyPolicy' });
    assert.equal(noVault.failure?.type, 'InvalidInput');
    assert.match(noVault.failure.message, /vault: protecting vms needs vault/);
    const badId = await protect(s, { cosmosAccounts: ['cosmos-orders'] });
    assert.equal(badId.failure?.type, 'InvalidInput');
    assert.match(badId.failure.message, /cosmosAccounts\.0: cosmosAccounts\[\] must be ARM ids/);
    const nothing = await protect(s, {});
    assert.equal(nothing.failure?.type, 'InvalidInput');
    assert.match(nothing.failure.message, /vms: give vms/);
    s.assertNothingChanged();
  });
});
