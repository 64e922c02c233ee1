/** A fleet failover: how many groups ended how (headline), and each member's outcome, RTO and data loss. */
import type { RunbookReport } from '../../workflows/definitions';
import { code, text, toneOf, word, type Fact, type Section } from '../document';
import { formatSeconds } from '../format';

/** `2 succeeded, 1 failed`, the mode, the region and the concurrency; none without a fleet. */
export function fleetFact(report: RunbookReport): Fact | undefined {
  if (!report.fleet) return undefined;
  const counts = Object.entries(report.fleet.counts)
    .filter(([, count]) => count > 0)
    .map(([outcome, count]) => `${count} ${outcome}`);
  return {
    key: 'groups',
    label: 'Groups',
    value: counts.join(', ') || 'none',
    tone: toneOf(report.outcome),
    detail: `${report.fleet.mode} failover${report.fleet.region ? ` out of ${report.fleet.region}` : ''}, ${report.fleet.concurrency} at a time`,
  };
}

export function fleetSection(report: RunbookReport): Section | undefined {
  const fleet = report.fleet;
  if (!fleet) return undefined;
  return {
    id: 'fleet',
    title: 'Fleet members',
    blocks: [
      {
        kind: 'table',
        columns: ['Group', 'Outcome', 'RTO', 'Data loss', 'Detail', 'Workflow id'],
        rows: fleet.members.map((member) => [
          text(member.group),
          word(member.outcome),
          text(formatSeconds(member.rtoSeconds)),
          member.dataLoss ? word(member.dataLoss.kind) : text('—'),
          text(
            member.error ? `${member.error.type}: ${member.error.message}` : (member.detail ?? ''),
            member.error ? 'bad' : undefined,
          ),
          member.workflowId ? code(member.workflowId) : text('—'),
        ]),
      },
    ],
  };
}
