import { CancellationScope, setHandler } from '@temporalio/workflow';
import { ProtectWorkloadInputSchema } from '../domain/inputs';
import {
  Outcomes,
  RunbookTypes,
  type ProtectionRecord,
  type ProtectWorkloadInput,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { listenForDecisions } from './steps/approval';
import { openRunbook } from './steps/opening';
import {
  approveMigrationsStep,
  awaitMigrationsStep,
  backUpVmsStep,
  migrateAccountsStep,
  planOf,
  protectVmsStep,
  readAccountsStep,
  readPolicyStep,
  readVmsStep,
} from './steps/protect-steps';
import { RunbookRun } from './steps/runbook-run';

/** `workload (2 VMs, 1 Cosmos DB account)`: what the run is about, before its input is validated. */
function workloadLabel(input: unknown): string {
  const raw = input as { vms?: unknown; cosmosAccounts?: unknown } | undefined;
  const count = (list: unknown) => (Array.isArray(list) ? list.length : 0);
  return `workload (${count(raw?.vms)} VM(s), ${count(raw?.cosmosAccounts)} Cosmos DB account(s))`;
}

/**
 * **protectWorkload**: puts the workload around the databases under trusted recovery points: its VMs backed up to a
 * Recovery Services vault under a policy, with a fresh recovery point; its Cosmos DB accounts on continuous backup.
 *
 * Reads first and changes nothing until every read passed: the vault's policy (an Azure VM policy), each VM's
 * protection (a VM the vault cannot protect is refused `PreflightFailed`, naming why), each Cosmos DB account's backup
 * policy. A VM protected under the policy and a continuous account are left as they are (idempotent); a VM protected
 * under another policy is left as it is, with a warning.
 *
 * Migrating a periodic account to continuous backup cannot be undone, so when one is to be migrated the run waits for
 * a person's approval (a second person: `approve` / `reject`), or takes `approval` from the input, **before any
 * change**: a rejection or a timeout changes nothing at all. Then it protects each unprotected VM, triggers an
 * on-demand backup (its point kept `keepOnDemandFor`), follows every job durably (bounded by `backupTimeout`) and
 * confirms a recovery point newer than the job's start; then migrates the periodic accounts to `continuousTier` and
 * follows them until Completed (bounded by `migrationTimeout`). A migration already running is followed, not sent again.
 *
 * Side effects: one protection request and one on-demand backup per unprotected VM, one PATCH per periodic account;
 * each read before it is sent, so a retried attempt adopts its own. No failover group, so no group lock: its workflow
 * id names the workload (`workload-<count>~<hash>`). `dryRun` reads and checks only (the vault's discovery of a VM,
 * a refresh of what it can protect, runs in a dry run too). An abort before the migrations are sent stops the run (a
 * protection or backup already sent completes in Azure); the migrations and their wait run whatever arrives.
 *
 * Fails with `InvalidInput`, `PreflightFailed`, `ApprovalRejected`, `ApprovalTimeout`, `BackupFailed` or
 * `AzureRequestRejected`.
 */
export async function protectWorkload(input: ProtectWorkloadInput): Promise<RunbookReport> {
  const run = new RunbookRun(RunbookTypes.protectWorkload, workloadLabel(input));
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  const decision = listenForDecisions(run);

  return run.execute(async () => {
    const opened = await openRunbook(run, { schema: ProtectWorkloadInputSchema, input });
    if ('ended' in opened) return opened.ended;
    const { params } = opened;
    // No group: decisions are judged by the two-person rule and grants on every group ('*').
    run.approvalDesk?.judgeHere({ requester: run.requestedBy, groups: [] });

    const record: ProtectionRecord = {
      ...(params.vault ? { vault: params.vault } : {}),
      ...(params.policy ? { policy: params.policy } : {}),
      vms: [],
      accounts: [],
    };
    run.extra.protection = record;

    await run.beforePointOfNoReturn(async () => {
      if (params.vms.length > 0) {
        const policy = await readPolicyStep(run, params);
        record.policy = policy.name;
        record.policyId = policy.id;
        record.vms = await readVmsStep(run, params, policy);
      }
      if (params.cosmosAccounts.length > 0) record.accounts = await readAccountsStep(run, params);
    });
    if (params.dryRun) {
      run.plan = planOf(params, record);
      return Outcomes.dryRun;
    }

    await run.beforePointOfNoReturn(async () => {
      if (record.accounts.some((account) => account.action === 'migrate')) {
        await approveMigrationsStep(run, params, record, decision);
      }
      if (record.vms.some((vm) => vm.action === 'protected')) {
        await protectVmsStep(run, params, record);
        await backUpVmsStep(run, params, record);
      } else if (params.vms.length > 0) {
        run.skipStep('protect-vms', 'Protect the VMs', 'every VM is protected already', {
          vms: record.vms.map((vm) => ({ vm: vm.name, action: vm.action })),
        });
      }
    });

    if (record.accounts.some((account) => account.action === 'migrate' || account.action === 'followed')) {
      if (record.accounts.some((account) => account.action === 'migrate')) run.passPointOfNoReturn();
      // Past here a one-way change is being made: the requests and their wait run whatever arrives meanwhile.
      await CancellationScope.nonCancellable(async () => {
        if (record.accounts.some((account) => account.action === 'migrate')) {
          await migrateAccountsStep(run, params, record);
        }
        await awaitMigrationsStep(run, params, record);
      });
    }
    return Outcomes.succeeded;
  });
}
