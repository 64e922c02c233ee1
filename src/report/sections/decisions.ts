/** What people decided during the run: who approved it, and who asked it to abort, why, and what that did. */
import type { RunbookReport } from '../../workflows/definitions';
import { text, type Section } from '../document';
import { formatTimestamp } from '../format';

export function approvalSection(report: RunbookReport): Section | undefined {
  const approval = report.approval;
  if (!approval) return undefined;
  return {
    id: 'approval',
    title: 'Approval',
    blocks: [
      {
        kind: 'pairs',
        pairs: [
          ['Approved by', text(approval.by)],
          ['Reason', text(approval.reason)],
          ['At', text(formatTimestamp(approval.at))],
          ['Via', text(approval.via)],
        ],
      },
    ],
  };
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
