/** What the run warns about, one item each. */
import type { RunbookReport } from '../../workflows/definitions';
import { text, type Section } from '../document';

export function warningsSection(report: RunbookReport): Section | undefined {
  if (report.warnings.length === 0) return undefined;
  return {
    id: 'warnings',
    title: 'Warnings',
    blocks: [{ kind: 'list', items: report.warnings.map((warning) => text(warning, 'warn')) }],
  };
}
