/**
 * The report as one self-contained HTML page: inline CSS, the timeline as inline SVG, no scripts and no external
 * resources (its Content-Security-Policy forbids both), so it can be mailed, attached to a ticket or opened offline.
 * Every string from the report is escaped.
 */
import type { RunbookReport, StepState } from '../workflows/definitions';
import { escapeHtml, formatTimestamp } from './format';
import { buildDocument, type Block, type Cell, type Fact } from './model';
import { STATE_COLOURS, renderTimelineSvg } from './timeline';

const STYLE = `
:root { color-scheme: light; --good: #276749; --bad: #9b2c2c; --warn: #975a16; --info: #2c5282; --muted: #4a5568; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 14px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  color: #1a202c; background: #f7fafc; }
main { max-width: 1100px; margin: 0 auto; }
header.headline { background: #fff; border: 1px solid #e2e8f0; border-left: 6px solid var(--muted);
  border-radius: 6px; padding: 16px 20px; }
header.headline.tone-good { border-left-color: var(--good); }
header.headline.tone-bad { border-left-color: var(--bad); }
header.headline.tone-warn { border-left-color: var(--warn); }
header.headline.tone-info { border-left-color: var(--info); }
.subtitle { margin: 0; color: var(--muted); font-size: 13px; }
h1 { margin: 4px 0 12px; font-size: 24px; }
h2 { margin: 0 0 8px; font-size: 18px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px; margin: 0; }
.fact { background: #f7fafc; border: 1px solid #e2e8f0; border-radius: 6px; padding: 8px 12px; }
.fact dt { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; }
.fact dd { margin: 0; overflow-wrap: anywhere; }
.fact .value { font-size: 20px; font-weight: 650; }
.fact .detail { font-size: 12px; color: var(--muted); }
.fact.tone-good .value { color: var(--good); }
.fact.tone-bad .value { color: var(--bad); }
.fact.tone-warn .value { color: var(--warn); }
.fact.tone-info .value { color: var(--info); }
.error { margin-top: 12px; padding: 10px 12px; border-radius: 6px; background: #fff5f5; border: 1px solid #feb2b2;
  color: var(--bad); white-space: pre-wrap; overflow-wrap: anywhere; }
section { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 14px 20px; margin-top: 16px; }
.timeline-wrap { overflow-x: auto; }
svg.timeline { display: block; max-width: none; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 8px 0 0; color: var(--muted); font-size: 12px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -2px; margin-right: 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #edf2f7; }
td { overflow-wrap: break-word; }
th { background: #f7fafc; color: var(--muted); font-weight: 600; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #edf2f7; padding: 1px 4px;
  border-radius: 3px; }
.tone-good { color: var(--good); } .tone-bad { color: var(--bad); } .tone-warn { color: var(--warn); }
.tone-info { color: var(--info); } .tone-muted { color: var(--muted); }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.tone-good { background: #c6f6d5; } .badge.tone-bad { background: #fed7d7; } .badge.tone-warn { background: #feebc8; }
.badge.tone-info { background: #bee3f8; } .badge.tone-muted { background: #edf2f7; }
dl.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 6px 0; }
dl.pairs dt { color: var(--muted); }
dl.pairs dd { margin: 0; overflow-wrap: anywhere; }
ul { margin: 6px 0; padding-left: 20px; }
footer { max-width: 1100px; margin: 16px auto 0; color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; padding: 0; } section, header.headline { break-inside: avoid; } }
`;

/** A state word shows as a badge; longer text in the tone's colour. */
function cell(value: Cell): string {
  const body = value.code ? `<code>${escapeHtml(value.text)}</code>` : escapeHtml(value.text);
  if (!value.tone) return body;
  const badge = !value.code && /^[\w-]{1,24}$/.test(value.text) ? 'badge ' : '';
  return `<span class="${badge}tone-${value.tone}">${body}</span>`;
}

function block(value: Block): string {
  switch (value.kind) {
    case 'table':
      return [
        '<table>',
        `<thead><tr>${value.columns.map((column) => `<th scope="col">${escapeHtml(column)}</th>`).join('')}</tr></thead>`,
        '<tbody>',
        ...value.rows.map((row) => `<tr>${row.map((item) => `<td>${cell(item)}</td>`).join('')}</tr>`),
        '</tbody>',
        '</table>',
      ].join('\n');
    case 'list':
      return `<ul>\n${value.items.map((item) => `<li>${cell(item)}</li>`).join('\n')}\n</ul>`;
    case 'pairs':
      return `<dl class="pairs">\n${value.pairs
        .map(([label, item]) => `<dt>${escapeHtml(label)}</dt><dd>${cell(item)}</dd>`)
        .join('\n')}\n</dl>`;
    case 'text':
      return `<p>${cell(value.text)}</p>`;
  }
}

function fact(value: Fact): string {
  return (
    `<div class="fact tone-${value.tone}" data-fact="${value.key}">` +
    `<dt>${escapeHtml(value.label)}</dt>` +
    `<dd class="value">${escapeHtml(value.value)}</dd>` +
    (value.detail ? `<dd class="detail">${escapeHtml(value.detail)}</dd>` : '') +
    '</div>'
  );
}

function timelineSection(report: RunbookReport): string {
  const svg = renderTimelineSvg(report);
  if (!svg) return '';
  const states = [...new Set(report.steps.filter((step) => step.startedAt).map((step) => step.state))];
  const legend = [
    ...states.map(
      (state: StepState) =>
        `<span><span class="swatch" style="background:${STATE_COLOURS[state] ?? STATE_COLOURS.pending}"></span>${escapeHtml(state)}</span>`,
    ),
    ...(report.legs.some((leg) => leg.requestedAt)
      ? ['<span>shaded: a leg, from the failover request until every database was writable</span>']
      : []),
    ...(report.drill?.probe ? ['<span>red row: the workload could not write through the listener</span>'] : []),
  ];
  const firstStart = report.steps.find((step) => step.startedAt)?.startedAt;
  return [
    '<section id="timeline">',
    '<h2>Timeline</h2>',
    `<div class="timeline-wrap">\n${svg}\n</div>`,
    `<p class="legend">${legend.join('')}</p>`,
    `<p class="legend">Offsets from the first step's start, ${escapeHtml(formatTimestamp(firstStart))}.</p>`,
    '</section>',
  ].join('\n');
}

/** Renders the report as a self-contained HTML page. */
export function renderHtml(report: RunbookReport): string {
  const document = buildDocument(report);
  const outcomeTone = document.facts.find((entry) => entry.key === 'outcome')?.tone ?? 'muted';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="fogpilot">',
    `<title>${escapeHtml(`${document.title} · fogpilot`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header class="headline tone-${outcomeTone}">`,
    `<p class="subtitle">${escapeHtml(document.subtitle)}</p>`,
    `<h1>${escapeHtml(document.title)}</h1>`,
    `<dl class="facts">\n${document.facts.map(fact).join('\n')}\n</dl>`,
    document.error
      ? `<div class="error" role="alert"><strong>${escapeHtml(document.error.type)}:</strong> ${escapeHtml(document.error.message)}</div>`
      : '',
    '</header>',
    timelineSection(report),
    ...document.sections.map((section) =>
      [
        `<section id="${escapeHtml(section.id)}">`,
        `<h2>${escapeHtml(section.title)}</h2>`,
        ...section.blocks.map(block),
        '</section>',
      ].join('\n'),
    ),
    '</main>',
    `<footer>Generated by fogpilot from workflow ${escapeHtml(report.workflowId)}, run ${escapeHtml(report.runId)}, ` +
      `which ended ${escapeHtml(formatTimestamp(report.endedAt))}.</footer>`,
    '</body>',
    '</html>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}
