/** The report as Markdown (CommonMark with GFM tables): readable raw in a terminal, and rendered in a wiki or an issue. */
import type { RunbookReport } from '../workflows/definitions';
import { escapeMarkdown, markdownCode } from './format';
import { buildDocument, type Block, type Cell } from './model';

function cell(value: Cell): string {
  return value.code ? markdownCode(value.text) : escapeMarkdown(value.text);
}

function block(value: Block): string {
  switch (value.kind) {
    case 'table': {
      const header = `| ${value.columns.map(escapeMarkdown).join(' | ')} |`;
      const rule = `| ${value.columns.map(() => '---').join(' | ')} |`;
      const rows = value.rows.map((row) => `| ${row.map(cell).join(' | ')} |`);
      return [header, rule, ...rows].join('\n');
    }
    case 'list':
      return value.items.map((item) => `- ${cell(item)}`).join('\n');
    case 'pairs':
      return value.pairs.map(([label, item]) => `- **${escapeMarkdown(label)}:** ${cell(item)}`).join('\n');
    case 'text':
      return cell(value.text);
  }
}

/** Renders the report as Markdown. */
export function renderMarkdown(report: RunbookReport): string {
  const document = buildDocument(report);
  const parts = [`# ${escapeMarkdown(document.title)}`, escapeMarkdown(document.subtitle)];
  parts.push(
    document.facts
      .map((fact) => {
        const detail = fact.detail ? ` — ${escapeMarkdown(fact.detail)}` : '';
        return `- **${escapeMarkdown(fact.label)}:** ${escapeMarkdown(fact.value)}${detail}`;
      })
      .join('\n'),
  );
  if (document.error) {
    parts.push(`> **${escapeMarkdown(document.error.type)}:** ${escapeMarkdown(document.error.message)}`);
  }
  for (const section of document.sections) {
    parts.push(`## ${escapeMarkdown(section.title)}`, ...section.blocks.map(block));
  }
  return `${parts.join('\n\n')}\n`;
}
