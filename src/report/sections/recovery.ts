/**
 * The parts of a report that belong to the recovery runbooks: what a `restoreDatabase` run restored, checked and
 * swapped, and what a `protectWorkload` run found and did per VM and per Cosmos DB account.
 */
import type { RestoreCheckRecord, RestoredDatabaseRecord, RunbookReport } from '../../workflows/definitions';
import { code, text, type Block, type Cell, type Section } from '../document';

function restoredRow(label: string, record: RestoredDatabaseRecord | undefined): Cell[] {
  if (!record) return [text(label), text('—'), text('not restored', 'muted'), text('—')];
  return [
    text(label),
    code(record.name),
    text(record.from),
    text(record.onlineAt ? `online ${record.onlineAt}` : 'not online', record.onlineAt ? 'good' : 'warn'),
  ];
}

function checksTable(title: string, checks: RestoreCheckRecord[]): Block[] {
  return [
    { kind: 'text', text: text(title) },
    {
      kind: 'table',
      columns: ['Check', 'Reads', 'Expected', 'Read', 'Verdict'],
      rows: checks.map((check) => [
        text(check.name),
        code(check.reads),
        text(check.expected),
        text(check.error ?? JSON.stringify(check.read ?? null), check.error ? 'bad' : undefined),
        text(check.passed ? 'passed' : 'failed', check.passed ? 'good' : 'bad'),
      ]),
    },
  ];
}

/** A restore: the point, the databases created, each check, the swap and the secondary's copy. */
export function restoreSection(report: RunbookReport): Section | undefined {
  const restore = report.restore;
  if (!restore) return undefined;
  const swap = restore.swap;
  const blocks: Block[] = [
    {
      kind: 'pairs',
      pairs: [
        ['Database', code(restore.database)],
        [
          'Restored to',
          text(`${restore.pointInTime} (${restore.mode === 'longTermBackup' ? 'LTR backup' : 'point in time'})`),
        ],
        ['Earliest restore point', text(restore.earliestRestorePoint ?? '—')],
        ['Primary', code(restore.primaryInstanceId)],
        [
          'On the secondary',
          restore.secondary
            ? text(
                `${restore.secondary.database}: ${restore.secondary.status}`,
                restore.secondary.status.toLowerCase() === 'online' ? 'good' : 'warn',
              )
            : text('not read', 'muted'),
        ],
        ...(swap?.unavailable
          ? ([
              ['Database missing', text(`${swap.unavailable.from} → ${swap.unavailable.to ?? 'not back'}`, 'warn')],
            ] as [string, Cell][])
          : []),
      ],
    },
    {
      kind: 'table',
      columns: ['Database', 'Name', 'From', 'State'],
      rows: [
        restoredRow('restored', restore.restored),
        ...(swap ? [restoredRow('in place', swap.inPlace), restoredRow('damage aside', swap.damagedAside)] : []),
      ],
    },
  ];
  if (restore.checks.length > 0) blocks.push(...checksTable('Checks of the restore', restore.checks));
  if (swap?.checks && swap.checks.length > 0) blocks.push(...checksTable('Checks in place', swap.checks));
  return { id: 'restore', title: 'Restore', blocks };
}

/** What a workload's protection found and did, per VM and per Cosmos DB account. */
export function protectionSection(report: RunbookReport): Section | undefined {
  const protection = report.protection;
  if (!protection) return undefined;
  const blocks: Block[] = [];
  if (protection.vms.length > 0) {
    blocks.push({
      kind: 'text',
      text: text(`VMs in ${protection.vault ?? 'the vault'} under ${protection.policy ?? 'the policy'}`),
    });
    blocks.push({
      kind: 'table',
      columns: ['VM', 'Before', 'Did', 'Backup job', 'Recovery point'],
      rows: protection.vms.map((vm) => [
        code(vm.name),
        text(vm.policyBefore ? `${vm.before} (${vm.policyBefore})` : vm.before),
        text(vm.action, vm.action === 'other-policy' ? 'warn' : undefined),
        text(
          vm.backup ? `${vm.backup.jobId ?? '—'}: ${vm.backup.jobStatus ?? 'not read'}` : '—',
          vm.backup?.jobStatus === 'Completed' ? 'good' : vm.backup?.error ? 'bad' : undefined,
        ),
        text(
          vm.backup?.recoveryPointTime ?? vm.lastRecoveryPoint ?? 'none',
          vm.backup?.recoveryPointTime ? 'good' : undefined,
        ),
      ]),
    });
  }
  if (protection.accounts.length > 0) {
    blocks.push({ kind: 'text', text: text('Cosmos DB accounts') });
    blocks.push({
      kind: 'table',
      columns: ['Account', 'Before', 'Did', 'After', 'Oldest restorable'],
      rows: protection.accounts.map((account) => [
        code(account.name),
        text(account.policyBefore),
        text(account.action),
        text(
          `${account.policyAfter ?? account.policyBefore}${account.tier ? ` (${account.tier})` : ''}${account.migrationStatus ? `, migration ${account.migrationStatus}` : ''}`,
          account.policyAfter === 'Continuous' ? 'good' : undefined,
        ),
        text(account.oldestRestorableTime ?? '—'),
      ]),
    });
  }
  return { id: 'protection', title: 'Protection', blocks };
}
