/**
 * "Trusted recovery points" (readinessCheck and drDrill): per group, each database's restore window, newest backups and
 * LTR policy; for the workload, each VM's protection and newest recovery point and each Cosmos DB account's backup
 * policy; every entry against its RPO, met, missed or unknown with why.
 */
import type { RecoveryPointJudgement, RecoveryPointsSection, RunbookReport } from '../../workflows/definitions';
import { code, text, type Block, type Cell, type Section } from '../document';

const dash = (value: string | null | undefined): Cell => text(value ?? '—', value ? undefined : 'muted');

function stateCell(entry: RecoveryPointJudgement): Cell {
  const tone = entry.state === 'met' ? 'good' : entry.state === 'missed' ? 'bad' : 'warn';
  return text(entry.why ? `${entry.state}: ${entry.why}` : entry.state, tone);
}

/** The recovery-points section of a readiness check or a drill; none when the run read none. */
export function recoveryPointsSection(report: RunbookReport): Section | undefined {
  const section: RecoveryPointsSection | undefined = report.readiness?.recoveryPoints ?? report.drill?.recoveryPoints;
  if (!section || (section.groups.length === 0 && !section.workload)) return undefined;
  const blocks: Block[] = [];
  for (const group of section.groups) {
    blocks.push({
      kind: 'text',
      text: text(`${group.group}: databases of the primary, backupRpo ${group.backupRpo ?? 'not configured'}`),
    });
    if (group.unreadable?.startsWith('not applicable to ')) {
      // A kind without trusted recovery points to read (SQL Database): a fact about the kind, not a failed read.
      blocks.push({ kind: 'text', text: text(`N${group.unreadable.slice(1)}`, 'muted') });
      continue;
    }
    if (group.unreadable !== undefined) {
      blocks.push({ kind: 'text', text: text(`Not read: ${group.unreadable}`, 'warn') });
      continue;
    }
    blocks.push({
      kind: 'table',
      columns: [
        'Database',
        'Earliest restore point',
        'Newest backup',
        'Backup age',
        'LTR policy',
        'Newest LTR backup',
        'RPO',
        'Verdict',
      ],
      rows: group.databases.map((entry) => [
        code(entry.database),
        dash(entry.earliestRestorePoint),
        dash(entry.newestBackup),
        dash(entry.newestBackupAge),
        text(entry.ltrPolicy),
        dash(entry.newestLtrBackup),
        dash(entry.rpo),
        stateCell(entry),
      ]),
    });
  }
  const workload = section.workload;
  if (workload) {
    blocks.push({
      kind: 'text',
      text: text(
        `Workload: vault ${workload.vault ?? 'not configured'}, vmRpo ${workload.vmRpo ?? 'not configured'}, ` +
          `cosmosRpo ${workload.cosmosRpo ?? 'not configured'}`,
      ),
    });
    if (workload.unreadable !== undefined)
      blocks.push({ kind: 'text', text: text(`Not read: ${workload.unreadable}`, 'warn') });
    if (workload.vms.length > 0)
      blocks.push({
        kind: 'table',
        columns: [
          'VM',
          'Protected',
          'Policy',
          'Last successful backup',
          'Newest recovery point',
          'Age',
          'RPO',
          'Verdict',
        ],
        rows: workload.vms.map((vm) => [
          code(vm.name),
          text(
            vm.protected === null ? '—' : vm.protected ? (vm.protectionState ?? 'yes') : 'no',
            vm.protected === false ? 'bad' : undefined,
          ),
          dash(vm.policy),
          dash(vm.lastSuccessfulBackup),
          dash(vm.newestRecoveryPoint),
          dash(vm.age),
          dash(vm.rpo),
          stateCell(vm),
        ]),
      });
    if (workload.cosmosAccounts.length > 0)
      blocks.push({
        kind: 'table',
        columns: ['Cosmos DB account', 'Policy', 'Tier or interval', 'Earliest restorable time', 'RPO', 'Verdict'],
        rows: workload.cosmosAccounts.map((account) => [
          code(account.name),
          text(
            `${account.policyType ?? '—'}${account.migrationStatus ? ` (migration ${account.migrationStatus})` : ''}`,
          ),
          dash(account.tier ?? (account.backupInterval ? `every ${account.backupInterval}` : null)),
          dash(account.earliestRestorableTime),
          dash(account.rpo),
          stateCell(account),
        ]),
      });
  }
  return { id: 'recovery-points', title: 'Trusted recovery points', blocks };
}
