/** What people decided during the run: who approved it, and who asked it to abort, why, and what that did. */
import type { RunbookReport } from '../../workflows/definitions';
import { text, type Cell, type Section } from '../document';
import { formatTimestamp } from '../format';

/**
 * How an identity in a report was established, from its label's prefix: the entry points set `webhook:<caller>`,
 * `certificate:<subject>`, `api-key:<name>` or `os-user:<name>`; a signal's `by` is recorded as `claimed:<by>`.
 */
export function howAuthenticated(label: string): string {
  if (label.startsWith('webhook:')) return "the HTTP trigger's credential of that caller";
  if (label.startsWith('certificate:')) return "the subject of the CLI's Temporal client certificate";
  if (label.startsWith('api-key:')) return "the CLI's Temporal API key";
  if (label.startsWith('os-user:')) return 'the OS user running the CLI (not verified by Temporal)';
  if (label.startsWith('claimed:')) return 'a name written into a signal (not authenticated)';
  return 'as written in the input (not authenticated)';
}

function identity(label: string): string {
  return `${label} — ${howAuthenticated(label)}`;
}

export function approvalSection(report: RunbookReport): Section | undefined {
  const approval = report.approval;
  const refusals = report.refusals ?? [];
  if (!approval && refusals.length === 0) return undefined;
  const blocks: Section['blocks'] = [];
  if (approval) {
    const requestedBy = approval.requestedBy ?? report.requestedBy;
    // Records of runs from before approvals were judged carry a name as it was written: shown as it is.
    const judged =
      approval.requestedBy !== undefined ||
      approval.claimedBy !== undefined ||
      approval.via === 'update' ||
      approval.by.startsWith('claimed:');
    const approvedBy = !judged
      ? approval.by
      : approval.via === 'input'
        ? `pre-approved by ${approval.by} (preApprove)`
        : approval.via === 'fleet'
          ? `${approval.by} (the fleet's approval)`
          : identity(approval.by);
    const pairs: [string, Cell][] = [];
    if (judged && requestedBy) pairs.push(['Requested by', text(identity(requestedBy))]);
    pairs.push(['Approved by', text(approvedBy)]);
    if (approval.claimedBy !== undefined) pairs.push(['Approval named in the input', text(approval.claimedBy)]);
    pairs.push(
      ['Reason', text(approval.reason)],
      ['At', text(formatTimestamp(approval.at))],
      ['Via', text(approval.via)],
    );
    blocks.push({ kind: 'pairs', pairs });
  }
  if (refusals.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Refused', 'From', 'Via', 'Their reason', 'Why refused', 'At'],
      rows: refusals.map((refusal) => [
        text(refusal.decision),
        text(refusal.by),
        text(refusal.via),
        text(refusal.reason),
        text(`${refusal.refused}. ${refusal.remedy}`),
        text(formatTimestamp(refusal.at)),
      ]),
    });
  }
  return { id: 'approval', title: 'Approval', blocks };
}

export function abortSection(report: RunbookReport): Section | undefined {
  const abort = report.abort;
  if (!abort) return undefined;
  return {
    id: 'abort',
    title: 'Abort',
    blocks: [
      {
        kind: 'pairs',
        pairs: [
          ['Requested by', text(abort.by)],
          ['Reason', text(abort.reason)],
          ['Received', text(formatTimestamp(abort.receivedAt))],
          ['Effect', text(abort.effect)],
        ],
      },
    ],
  };
}
