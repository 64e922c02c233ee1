/**
 * The steps of `protectWorkload`: read the vault's policy, each VM's protection and each Cosmos DB account's backup
 * policy and refuse what cannot work (nothing changed); wait for a person's approval of the migrations (irreversible);
 * protect the VMs, back each up on demand and follow the jobs to a recovery point; then migrate the periodic accounts
 * to continuous backup and follow them to the end. Every wait is a workflow timer, so hours of backup and days of
 * migration cost no worker.
 */
import { ApplicationFailure, sleep } from '@temporalio/workflow';
import { formatDuration } from '../../domain/durations';
import type { BackupJobView, BackupPolicyView, CosmosAccountView, VaultRef } from '../../domain/recovery-state';
import { resourceName, sameResource, vaultRefOf } from '../../domain/workload-resources';
import {
  FailureTypes,
  type CosmosProtectionRecord,
  type PlanItem,
  type ProtectionRecord,
  type ProtectWorkloadParams,
  type VmProtectionRecord,
} from '../definitions';
import { groupChanges, reads } from './activity-presets';
import type { Decision } from './approval';
import { awaitDecisionStep } from './decision-step';
import { type RunbookRun, type StepHandle } from './runbook-run';

/** The first look at a running request or job after this long, doubling to the look's own maximum. */
const POLL_FIRST_MS = 15_000;
/** Backup jobs run for minutes to hours: looked at every 5 minutes at most. */
const BACKUP_POLL_MAX_MS = 5 * 60_000;
/** Migrations run for hours to days: looked at every 10 minutes at most. */
const MIGRATION_POLL_MAX_MS = 10 * 60_000;
/** Enabling protection and the start of a backup (its job named) take seconds to minutes. */
const REQUEST_POLL_MAX_MS = 60_000;

/** What the reads found: the vault and its policy, and what is to be done with each resource. */
export interface WorkloadFindings {
  vault?: VaultRef;
  policy?: BackupPolicyView;
  record: ProtectionRecord;
}

function refuse(what: string, problems: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.PreflightFailed,
    nonRetryable: true,
    message: `${what}: ${problems.join(' ')} Nothing was changed.`,
  });
}

const isContinuous = (account: CosmosAccountView) => account.backupPolicyType.toLowerCase() === 'continuous';
const migrationRuns = (account: CosmosAccountView) =>
  account.migration !== undefined && account.migration.status.toLowerCase() !== 'failed';

/** Reads the vault's policy: it must exist and be an Azure VM policy. */
export function readPolicyStep(run: RunbookRun, params: ProtectWorkloadParams): Promise<BackupPolicyView> {
  const vaultId = params.vault!;
  const vault = vaultRefOf(vaultId);
  const policyName = params.policy!;
  return run.step('read-policy', `Read backup policy ${policyName} of vault ${vault.name}`, async (step) => {
    const { policy } = await reads.readWorkloadBackupPolicy.executeWithOptions({ summary: `read ${policyName}` }, [
      { vault, policy: policyName },
    ]);
    step.evidence({ policy: policy ?? null });
    if (!policy) {
      throw refuse(`Vault ${vault.name} has no backup policy ${policyName}`, [
        'Name a policy the vault has (Backup policies in the vault), or create an Azure Virtual Machine policy of that name.',
      ]);
    }
    if (policy.backupManagementType.toLowerCase() !== 'azureiaasvm') {
      throw refuse(`Backup policy ${policyName} of vault ${vault.name} is not a VM policy`, [
        `It backs up ${policy.backupManagementType || 'something else'}, not Azure VMs (AzureIaasVM).`,
        'Name an Azure Virtual Machine policy of the vault.',
      ]);
    }
    return policy;
  });
}

/**
 * Reads each VM's protection in the vault: protected under the policy → left as it is; under another policy → left
 * as it is, with a warning; unprotected → the vault must find it among the VMs it can protect, or the run is refused.
 */
export function readVmsStep(
  run: RunbookRun,
  params: ProtectWorkloadParams,
  policy: BackupPolicyView,
): Promise<VmProtectionRecord[]> {
  const vault = vaultRefOf(params.vault!);
  return run.step(
    'read-vms',
    `Read the protection of ${params.vms.length} VM(s) in vault ${vault.name}`,
    async (step) => {
      const records: VmProtectionRecord[] = [];
      const problems: string[] = [];
      for (const vmId of params.vms) {
        const name = resourceName(vmId);
        const { protection } = await reads.readVmProtection.executeWithOptions({ summary: `read ${name}` }, [
          { vault, vmId },
        ]);
        const before = protection.protected ? (protection.protectionState ?? 'Protected') : 'unprotected';
        const policyBefore =
          protection.policyName ?? (protection.policyId ? resourceName(protection.policyId) : undefined);
        const base = { vmId, name, before, ...(policyBefore ? { policyBefore } : {}) };
        if (protection.protected) {
          const same =
            sameResource(protection.policyId, policy.id) ||
            (protection.policyName ?? '').toLowerCase() === policy.name.toLowerCase();
          records.push({
            ...base,
            action: same ? 'already-protected' : 'other-policy',
            after: before,
            policy: policyBefore ?? policy.name,
            ...(protection.lastRecoveryPoint ? { lastRecoveryPoint: protection.lastRecoveryPoint } : {}),
          });
          if (!same) {
            run.warn(
              `${name} is protected by vault ${vault.name} under policy ${policyBefore ?? 'another policy'}, not ` +
                `${policy.name}: left as it is. Change its policy in the vault (Backup items → ${name} → Backup policy) ` +
                'if it should follow the workload’s.',
            );
          }
          continue;
        }
        const { found } = await reads.discoverProtectableVm.executeWithOptions({ summary: `find ${name}` }, [
          { vault, vmId },
        ]);
        if (!found) {
          problems.push(
            `${name} is not among the VMs vault ${vault.name} can protect: it is in another region than the vault ` +
              '(a vault protects VMs of its own region), another vault protects it already (stop its protection there ' +
              'first), or it does not exist.',
          );
        }
        records.push({ ...base, action: 'protected', policy: policy.name });
      }
      step.evidence({
        vms: records.map((record) => ({ vm: record.name, before: record.before, action: record.action })),
      });
      if (problems.length > 0) throw refuse(`${problems.length} VM(s) cannot be protected`, problems);
      return records;
    },
  );
}

/**
 * Reads each Cosmos DB account's backup policy: continuous → left as it is (its tier and oldest restorable time
 * reported); migrating → followed; periodic → to migrate, after approval.
 */
export function readAccountsStep(run: RunbookRun, params: ProtectWorkloadParams): Promise<CosmosProtectionRecord[]> {
  return run.step(
    'read-accounts',
    `Read the backup policy of ${params.cosmosAccounts.length} Cosmos DB account(s)`,
    async (step) => {
      const records: CosmosProtectionRecord[] = [];
      const problems: string[] = [];
      for (const accountId of params.cosmosAccounts) {
        const name = resourceName(accountId);
        const { account } = await reads.readCosmosAccount.executeWithOptions({ summary: `read ${name}` }, [
          { accountId },
        ]);
        if (!account) {
          problems.push(
            `Cosmos DB account ${name} was not found (${accountId}): check the id and the worker's access.`,
          );
          continue;
        }
        const base = {
          accountId,
          name: account.name || name,
          location: account.location,
          policyBefore: account.backupPolicyType || 'unknown',
          ...(account.tier ? { tier: account.tier } : {}),
          ...(account.migration
            ? { migrationStatus: account.migration.status, migrationStartedAt: account.migration.startTime }
            : {}),
        };
        if (isContinuous(account)) {
          const record: CosmosProtectionRecord = { ...base, action: 'already-continuous', policyAfter: 'Continuous' };
          await readOldestRestorable(record, account);
          records.push(record);
        } else if (account.backupPolicyType.toLowerCase() === 'periodic') {
          records.push({ ...base, action: migrationRuns(account) ? 'followed' : 'migrate' });
        } else {
          problems.push(
            `Cosmos DB account ${name} reports backup policy "${account.backupPolicyType}", neither Periodic nor ` +
              'Continuous: check it in the portal (Backup & Restore).',
          );
        }
      }
      step.evidence({
        accounts: records.map((record) => ({
          account: record.name,
          policy: record.policyBefore,
          tier: record.tier ?? null,
          action: record.action,
          oldestRestorableTime: record.oldestRestorableTime ?? null,
        })),
      });
      if (problems.length > 0) throw refuse(`${problems.length} Cosmos DB account(s) cannot be checked`, problems);
      return records;
    },
  );
}

async function readOldestRestorable(record: CosmosProtectionRecord, account: CosmosAccountView): Promise<void> {
  const { restorable } = await reads.readRestorableCosmosAccount.executeWithOptions(
    { summary: `read the restore window of ${record.name}` },
    [{ accountId: record.accountId, location: account.location, instanceId: account.instanceId }],
  );
  if (restorable?.oldestRestorableTime) record.oldestRestorableTime = restorable.oldestRestorableTime;
}

/** The plan a dry run returns: what the run would change, in order. */
export function planOf(params: ProtectWorkloadParams, record: ProtectionRecord): PlanItem[] {
  const plan: PlanItem[] = [];
  const toMigrate = record.accounts.filter((account) => account.action === 'migrate');
  if (toMigrate.length > 0) {
    plan.push({
      step: 'await-approval',
      action: `approval to migrate ${toMigrate.map((account) => account.name).join(', ')} to continuous backup (cannot be undone)`,
    });
  }
  for (const vm of record.vms) {
    if (vm.action !== 'protected') {
      plan.push({
        step: 'leave-vm',
        action: `leave ${vm.name} as it is (${vm.before}, policy ${vm.policyBefore ?? '?'})`,
      });
      continue;
    }
    plan.push({ step: 'protect-vms', action: `protect ${vm.name} under ${record.policy}` });
    plan.push({
      step: 'back-up-vms',
      action: `back up ${vm.name} on demand, kept ${formatDuration(params.keepOnDemandFor)}, and wait for its recovery point`,
    });
  }
  for (const account of record.accounts) {
    plan.push(
      account.action === 'migrate'
        ? { step: 'migrate-accounts', action: `migrate ${account.name} to ${params.continuousTier}` }
        : account.action === 'followed'
          ? { step: 'await-migrations', action: `follow the running migration of ${account.name}` }
          : { step: 'leave-account', action: `leave ${account.name} as it is (${account.tier ?? 'Continuous'})` },
    );
  }
  return plan;
}

/**
 * Waits for a person's approval of the migrations (or takes `approval` from the input). Nothing has been changed
 * when it waits: a rejection or a timeout ends the run with nothing changed at all.
 */
export async function approveMigrationsStep(
  run: RunbookRun,
  params: ProtectWorkloadParams,
  record: ProtectionRecord,
  decision: () => Decision | undefined,
): Promise<void> {
  const toMigrate = record.accounts.filter((account) => account.action === 'migrate');
  const names = toMigrate.map((account) => account.name).join(', ');
  const vms = record.vms.filter((vm) => vm.action === 'protected').map((vm) => vm.name);
  await awaitDecisionStep(
    run,
    {
      title: `Approve migrating ${names} to continuous backup`,
      what: `migrating ${names} to continuous backup`,
      question:
        `approve or reject: migrate the backup of Cosmos DB account(s) ${toMigrate
          .map((account) => `${account.name} (${account.accountId})`)
          .join(
            ', ',
          )} from periodic to continuous (${params.continuousTier}). This cannot be undone: an account never ` +
        'returns to periodic backup, and its other changes wait until the migration ends.' +
        (vms.length > 0
          ? ` The run then also protects ${vms.join(', ')} under ${record.policy} and backs them up.`
          : '') +
        ' Nothing is changed before the decision.',
      standing:
        'nothing was changed (no VM protected, no account migrated). Start again and approve, or leave the periodic ' +
        'accounts out to protect the rest.',
      ...(params.approval ? { approval: params.approval } : {}),
      approvalTimeout: params.approvalTimeout,
    },
    decision,
  );
}

/** Follows a workload request's operation until it ends (or names its job), bounded by `timeoutMs`. */
async function followOperation(
  step: StepHandle,
  request: { subscriptionId: string; trackingId: string; doing: string; timeoutMs: number; untilJob?: boolean },
): Promise<{ state: string; jobId?: string; error?: string }> {
  const deadline = Date.now() + request.timeoutMs;
  let interval = POLL_FIRST_MS;
  for (let polls = 1; ; polls++) {
    const { progress, retryAfterMs } = await reads.readWorkloadOperation.executeWithOptions(
      { summary: request.doing },
      [{ subscriptionId: request.subscriptionId, trackingId: request.trackingId }],
    );
    step.detail(`${request.doing}: ${progress.state} (look ${polls})`);
    const error = progress.error ? `${progress.error.code ?? 'no code'}: ${progress.error.message}` : undefined;
    if (progress.state !== 'InProgress' || (request.untilJob && progress.jobId)) {
      return {
        state: progress.state,
        ...(progress.jobId ? { jobId: progress.jobId } : {}),
        ...(error ? { error } : {}),
      };
    }
    if (Date.now() >= deadline) return { state: 'TimedOut' };
    await sleep(Math.max(retryAfterMs ?? 0, interval));
    interval = Math.min(interval * 2, REQUEST_POLL_MAX_MS);
  }
}

/** The failure that ends the run when a VM did not reach a recovery point, with what each VM reached. */
function backupFailed(record: ProtectionRecord, failed: string[]): ApplicationFailure {
  const reached = record.vms
    .map((vm) =>
      vm.backup?.recoveryPointTime
        ? `${vm.name}: recovery point ${vm.backup.recoveryPointTime}`
        : vm.backup
          ? `${vm.name}: ${vm.backup.jobStatus ?? 'no job'}`
          : `${vm.name}: ${vm.after ?? vm.before}`,
    )
    .join('; ');
  const migrating = record.accounts.some((account) => account.action === 'migrate');
  return ApplicationFailure.create({
    type: FailureTypes.BackupFailed,
    nonRetryable: true,
    message:
      `${failed.join(' ')} Each VM reached: ${reached}.` +
      (migrating ? ' No Cosmos DB account was migrated.' : '') +
      ' Fix the cause (the job’s error in the vault’s Backup jobs), then run protectWorkload again: what is protected ' +
      'stays as it is and only the missing backups are taken.',
  });
}

/** Protects each VM that is not protected, following each request to its end. */
export function protectVmsStep(
  run: RunbookRun,
  params: ProtectWorkloadParams,
  record: ProtectionRecord,
): Promise<void> {
  const vault = vaultRefOf(params.vault!);
  const toProtect = record.vms.filter((vm) => vm.action === 'protected');
  return run.step(
    'protect-vms',
    `Protect ${toProtect.map((vm) => vm.name).join(', ')} under ${record.policy}`,
    async (step) => {
      const failed: string[] = [];
      for (const vm of toProtect) {
        const sent = await groupChanges.sendProtectVm.executeWithOptions({ summary: `protect ${vm.name}` }, [
          { vault, vmId: vm.vmId, policyId: record.policyId! },
        ]);
        vm.protection = sent.outcome;
        step.evidence({ [vm.name]: { request: sent.outcome } });
        if (sent.trackingId) {
          const ended = await followOperation(step, {
            subscriptionId: vault.subscriptionId,
            trackingId: sent.trackingId,
            doing: `protecting ${vm.name}`,
            timeoutMs: params.backupTimeout,
          });
          step.evidence({ [vm.name]: { request: sent.outcome, operation: ended.state, error: ended.error ?? null } });
          if (ended.state !== 'Succeeded') {
            vm.after = 'unprotected';
            failed.push(
              `Protecting ${vm.name} ${ended.state === 'TimedOut' ? `did not end within ${formatDuration(params.backupTimeout)}` : `ended ${ended.state}`}` +
                `${ended.error ? ` (${ended.error})` : ''}.`,
            );
            continue;
          }
        }
        const { protection } = await reads.readVmProtection.executeWithOptions({ summary: `read ${vm.name}` }, [
          { vault, vmId: vm.vmId },
        ]);
        vm.after = protection.protected ? (protection.protectionState ?? 'Protected') : 'unprotected';
      }
      if (failed.length > 0) throw backupFailed(record, failed);
    },
  );
}

/**
 * Triggers an on-demand backup of each VM the run protected, and follows every job (one loop of workflow timers,
 * doubling to 5 minutes) until it ends or outlives `backupTimeout`; then confirms each left a recovery point newer
 * than the job's start. Fails `BackupFailed` with what each VM reached.
 */
export async function backUpVmsStep(
  run: RunbookRun,
  params: ProtectWorkloadParams,
  record: ProtectionRecord,
): Promise<void> {
  const vault = vaultRefOf(params.vault!);
  const toBackUp = record.vms.filter((vm) => vm.action === 'protected');
  const jobs = new Map<VmProtectionRecord, { deadline: number }>();
  const failed: string[] = [];
  await run.step('back-up-vms', `Back up ${toBackUp.map((vm) => vm.name).join(', ')} on demand`, async (step) => {
    for (const vm of toBackUp) {
      const keepUntil = new Date(Date.now() + params.keepOnDemandFor).toISOString();
      const deadline = Date.now() + params.backupTimeout;
      const { jobs: before } = await reads.readVmBackupJobs.executeWithOptions({ summary: `list ${vm.name}'s jobs` }, [
        { vault, vmId: vm.vmId },
      ]);
      const sent = await groupChanges.sendVmBackup.executeWithOptions({ summary: `back up ${vm.name}` }, [
        { vault, vmId: vm.vmId, keepUntil, knownJobIds: before.map((job) => job.jobId) },
      ]);
      vm.backup = { request: sent.outcome, keepUntil, ...(sent.job ? jobFields(sent.job) : {}) };
      if (!sent.job && sent.trackingId) {
        const ended = await followOperation(step, {
          subscriptionId: vault.subscriptionId,
          trackingId: sent.trackingId,
          doing: `starting the backup of ${vm.name}`,
          timeoutMs: params.backupTimeout,
          untilJob: true,
        });
        if (ended.jobId) vm.backup.jobId = ended.jobId;
        else {
          vm.backup.jobStatus = ended.state;
          failed.push(
            `The backup of ${vm.name} ${ended.state === 'TimedOut' ? 'named no job in time' : `ended ${ended.state} without a job`}${ended.error ? ` (${ended.error})` : ''}.`,
          );
        }
      } else if (!sent.job) {
        vm.backup.jobStatus = 'unknown';
        failed.push(`Azure accepted the backup of ${vm.name} without an operation to follow, so its job is unknown.`);
      }
      step.evidence({ [vm.name]: { ...vm.backup } });
      if (vm.backup.jobId) jobs.set(vm, { deadline });
    }
  });
  await run.step(
    'await-backups',
    `Wait for the backup jobs of ${[...jobs.keys()].map((vm) => vm.name).join(', ') || 'no VM'}`,
    async (step) => {
      let interval = POLL_FIRST_MS;
      for (let polls = 1; jobs.size > 0; polls++) {
        for (const [vm, { deadline }] of [...jobs]) {
          const { job } = await reads.readBackupJob.executeWithOptions({ summary: `read ${vm.name}'s backup job` }, [
            { vault, jobId: vm.backup!.jobId! },
          ]);
          Object.assign(vm.backup!, jobFields(job), { polls });
          const status = job.status.toLowerCase();
          if (status === 'completed' || status === 'completedwithwarnings') {
            jobs.delete(vm);
          } else if (status === 'failed' || status === 'cancelled' || status === 'canceled') {
            jobs.delete(vm);
            failed.push(
              `The backup job ${job.jobId} of ${vm.name} ended ${job.status}${job.errorMessage ? ` (${job.errorMessage})` : ''}.`,
            );
          } else if (Date.now() >= deadline) {
            jobs.delete(vm);
            failed.push(
              `The backup job ${job.jobId} of ${vm.name} was still ${job.status} after ${formatDuration(params.backupTimeout)}: ` +
                'it may still complete in Azure (see the vault’s Backup jobs).',
            );
          }
        }
        step.evidence({
          polls,
          jobs: toBackUp.map((vm) => ({
            vm: vm.name,
            job: vm.backup?.jobId ?? null,
            status: vm.backup?.jobStatus ?? null,
          })),
        });
        step.detail(
          `backup jobs: ${toBackUp.map((vm) => `${vm.name} ${vm.backup?.jobStatus ?? '—'}`).join(', ')} (look ${polls})`,
        );
        if (jobs.size === 0) break;
        await sleep(interval);
        interval = Math.min(interval * 2, BACKUP_POLL_MAX_MS);
      }
    },
  );
  const completed = toBackUp.filter((vm) => /^completed/i.test(vm.backup?.jobStatus ?? ''));
  if (completed.length > 0) {
    await run.step(
      'confirm-recovery-points',
      `Confirm the recovery points of ${completed.map((vm) => vm.name).join(', ')}`,
      async (step) => {
        for (const vm of completed) {
          const { points } = await reads.readRecoveryPoints.executeWithOptions(
            { summary: `list ${vm.name}'s points` },
            [{ vault, vmId: vm.vmId }],
          );
          // Azure's clock, not the workflow's: the point must be newer than the job's start as Azure recorded it.
          const since = Date.parse(vm.backup!.startTime ?? '');
          const point = points.find((entry) => !Number.isFinite(since) || Date.parse(entry.time) >= since);
          if (points[0]) vm.lastRecoveryPoint = points[0].time;
          if (point) vm.backup!.recoveryPointTime = point.time;
          else
            failed.push(
              `The backup job ${vm.backup!.jobId} of ${vm.name} completed, but the vault lists no recovery point of it ` +
                `(newest: ${points[0]?.time ?? 'none'}).`,
            );
          step.evidence({ [vm.name]: { recoveryPoint: point?.time ?? null, points: points.length } });
        }
      },
    );
  }
  if (failed.length > 0) throw backupFailed(record, failed);
}

function jobFields(job: BackupJobView): Partial<NonNullable<VmProtectionRecord['backup']>> {
  return {
    jobId: job.jobId,
    jobStatus: job.status,
    ...(job.startTime ? { startTime: job.startTime } : {}),
    ...(job.endTime ? { endTime: job.endTime } : {}),
    ...(job.errorMessage ? { error: job.errorMessage } : {}),
  };
}

/** Sends the migration of each approved periodic account to continuous backup, once. Past the point of no return. */
export function migrateAccountsStep(
  run: RunbookRun,
  params: ProtectWorkloadParams,
  record: ProtectionRecord,
): Promise<void> {
  const toMigrate = record.accounts.filter((account) => account.action === 'migrate');
  return run.step(
    'migrate-accounts',
    `Migrate ${toMigrate.map((account) => account.name).join(', ')} to ${params.continuousTier}`,
    async (step) => {
      for (const account of toMigrate) {
        const sent = await groupChanges.sendMigrateToContinuous.executeWithOptions(
          { summary: `migrate ${account.name}` },
          [{ accountId: account.accountId, tier: params.continuousTier }],
        );
        account.action = sent.outcome === 'sent' ? 'migrated' : 'followed';
        step.evidence({ [account.name]: { request: sent.outcome } });
      }
    },
  );
}

/**
 * Follows every migrating account (reading its backup policy and migration state, doubling to 10 minutes) until it
 * reads Continuous with the migration Completed, bounded by `migrationTimeout`. Fails `BackupFailed` when one fails or
 * outlives it.
 */
export async function awaitMigrationsStep(
  run: RunbookRun,
  params: ProtectWorkloadParams,
  record: ProtectionRecord,
): Promise<void> {
  const following = record.accounts.filter((account) => account.action === 'migrated' || account.action === 'followed');
  const failed: string[] = [];
  await run.step(
    'await-migrations',
    `Wait for the migration of ${following.map((account) => account.name).join(', ')}`,
    async (step) => {
      const deadline = Date.now() + params.migrationTimeout;
      const open = new Set(following);
      let interval = POLL_FIRST_MS;
      for (let polls = 1; open.size > 0; polls++) {
        for (const entry of [...open]) {
          const { account } = await reads.readCosmosAccount.executeWithOptions({ summary: `read ${entry.name}` }, [
            { accountId: entry.accountId },
          ]);
          if (!account) {
            open.delete(entry);
            failed.push(`Cosmos DB account ${entry.name} could no longer be read during its migration.`);
            continue;
          }
          entry.policyAfter = account.backupPolicyType;
          if (account.tier) entry.tier = account.tier;
          if (account.migration) {
            entry.migrationStatus = account.migration.status;
            if (account.migration.startTime) entry.migrationStartedAt = account.migration.startTime;
          }
          const status = account.migration?.status.toLowerCase();
          if (isContinuous(account) && (status === undefined || status === 'completed')) {
            entry.migrationStatus ??= 'Completed';
            open.delete(entry);
            await readOldestRestorable(entry, account);
          } else if (status === 'failed') {
            open.delete(entry);
            failed.push(
              `The migration of ${entry.name} to continuous backup ended Failed: it stays periodic; see its Activity log.`,
            );
          } else if (Date.now() >= deadline) {
            open.delete(entry);
            failed.push(
              `The migration of ${entry.name} was still ${account.migration?.status ?? 'running'} after ` +
                `${formatDuration(params.migrationTimeout)}: it goes on in Azure; run protectWorkload again to follow it.`,
            );
          }
        }
        step.evidence({
          polls,
          accounts: following.map((entry) => ({
            account: entry.name,
            policy: entry.policyAfter ?? null,
            migration: entry.migrationStatus ?? null,
          })),
        });
        step.detail(
          `migrations: ${following.map((entry) => `${entry.name} ${entry.migrationStatus ?? '—'}`).join(', ')} (look ${polls})`,
        );
        if (open.size === 0) break;
        await sleep(interval);
        interval = Math.min(interval * 2, MIGRATION_POLL_MAX_MS);
      }
    },
  );
  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: FailureTypes.BackupFailed,
      nonRetryable: true,
      message:
        `${failed.join(' ')} Each account reached: ${record.accounts
          .map(
            (account) =>
              `${account.name}: ${account.policyAfter ?? account.policyBefore}${account.migrationStatus ? ` (migration ${account.migrationStatus})` : ''}`,
          )
          .join('; ')}.` + (record.vms.length > 0 ? ' The VMs are protected and backed up (see the report).' : ''),
    });
  }
}
