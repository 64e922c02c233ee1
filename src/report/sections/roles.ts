/** Which instance was primary and which secondary, before and after the run. */
import type { RunbookReport } from '../../workflows/definitions';
import { text, type Section } from '../document';

export function rolesSection(report: RunbookReport): Section | undefined {
  const { rolesBefore: before, rolesAfter: after } = report;
  if (!before && !after) return undefined;
  return {
    id: 'roles',
    title: 'Roles',
    blocks: [
      {
        kind: 'table',
        columns: ['Role', 'Before', 'After'],
        rows: [
          [text('Primary'), text(before?.primary ?? '—'), text(after?.primary ?? '—')],
          [text('Secondary'), text(before?.secondary ?? '—'), text(after?.secondary ?? '—')],
        ],
      },
    ],
  };
}
