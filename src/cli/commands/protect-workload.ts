import { Option, type Command } from 'commander';
import { RunbookTypes } from '../../client';
import { registerRunbookCommand, type RunbookCommandSpec } from '../runbook-command';
import { approvalFromFlags } from './force-failover';

interface ProtectWorkloadFlags {
  vm?: string[];
  vault?: string;
  policy?: string;
  keepOnDemandFor?: string;
  backupTimeout?: string;
  cosmosAccount?: string[];
  continuousTier?: string;
  migrationTimeout?: string;
  approveBy?: string;
  approveReason?: string;
  approvalTimeout?: string;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [
  ...previous,
  ...value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== ''),
];

/** `fogpilot protect-workload --vm <id> --vault <id> --policy <name> --cosmos-account <id>`: the workload's backups. */
export const protectWorkloadCommand: RunbookCommandSpec<ProtectWorkloadFlags> = {
  name: 'protect-workload',
  runbook: RunbookTypes.protectWorkload,
  summary:
    'back up the workload: VMs in a Recovery Services vault, Cosmos DB accounts on continuous backup (protectWorkload)',
  description:
    'Reads the vault policy, each VM and each Cosmos DB account first and changes nothing until every read passed. ' +
    'Protects each unprotected VM under the policy, backs it up on demand and waits for its recovery point; migrates ' +
    'periodic accounts to continuous backup (cannot be undone) only after approval by a second person ' +
    '(`fogpilot approve <workflow id>`, or --approve-by/--approve-reason). Protected VMs and continuous accounts are ' +
    'left as they are.',
  examples: [
    'fogpilot protect-workload --vm /subscriptions/…/virtualMachines/vm-app --vault /subscriptions/…/vaults/rsv-app --policy DefaultPolicy',
    'fogpilot protect-workload --cosmos-account /subscriptions/…/databaseAccounts/cosmos-orders --continuous-tier Continuous30Days --dry-run',
    'fogpilot protect-workload --vm …/vm-a,…/vm-b --vault … --policy DefaultPolicy --cosmos-account … --idempotency-key CHG-17',
  ],
  flags: (command) =>
    command
      .option('--vm <ids>', 'a VM to protect, by ARM id (repeat, or comma-separated)', collect)
      .option('--vault <id>', 'the Recovery Services vault, by ARM id (with --vm)')
      .option('--policy <name>', "the vault's backup policy the VMs are protected under (with --vm)")
      .option('--keep-on-demand-for <duration>', 'how long the on-demand recovery point is kept (default 30 days)')
      .option('--backup-timeout <duration>', 'how long one backup job may run (default 6 hours)')
      .option('--cosmos-account <ids>', 'a Cosmos DB account, by ARM id (repeat, or comma-separated)', collect)
      .addOption(
        new Option(
          '--continuous-tier <tier>',
          'the tier a periodic account migrates to (default Continuous7Days)',
        ).choices(['Continuous7Days', 'Continuous30Days']),
      )
      .option('--migration-timeout <duration>', 'how long a migration may run (default 2 days)')
      .option('--approve-by <who>', 'pre-approved migration: who approves (with --approve-reason)')
      .option('--approve-reason <why>', 'pre-approved migration: why (a change id)')
      .option('--approval-timeout <duration>', 'end without change when nobody approves within this (default 1 hour)')
      .option('--dry-run', 'read and check everything and print the plan; change nothing'),
  toInput: (_group, options) => ({
    vms: options.vm,
    vault: options.vault,
    policy: options.policy,
    keepOnDemandFor: options.keepOnDemandFor,
    backupTimeout: options.backupTimeout,
    cosmosAccounts: options.cosmosAccount,
    continuousTier: options.continuousTier,
    migrationTimeout: options.migrationTimeout,
    approval: approvalFromFlags(options.approveBy, options.approveReason),
    approvalTimeout: options.approvalTimeout,
    dryRun: options.dryRun,
  }),
  fieldFlags: {
    vms: '--vm',
    vault: '--vault',
    policy: '--policy',
    keepOnDemandFor: '--keep-on-demand-for',
    backupTimeout: '--backup-timeout',
    cosmosAccounts: '--cosmos-account',
    continuousTier: '--continuous-tier',
    migrationTimeout: '--migration-timeout',
    'approval.by': '--approve-by',
    'approval.reason': '--approve-reason',
    approvalTimeout: '--approval-timeout',
  },
};

export function registerProtectWorkload(program: Command): Command {
  return registerRunbookCommand(program, protectWorkloadCommand);
}
