/**
 * Run reports for people: every runbook's `RunbookReport` as Markdown, JSON, or a self-contained HTML page with the
 * headline (outcome, RTO each way, downtime seen by the workload, data lost) and an SVG timeline of the steps.
 *
 * Pure and synchronous: no I/O, no clock, so the CLI, the demo and tests render the same report the same way.
 */
import type { RunbookReport } from '../workflows/definitions';
import { renderHtml } from './html';
import { renderMarkdown } from './markdown';

/** The formats `renderReport` writes (`fogpilot report <id> --format …`). */
export const ReportFormats = ['md', 'json', 'html'] as const;
export type ReportFormat = (typeof ReportFormats)[number];

/**
 * Renders a runbook's report.
 *
 * - `json`: the report itself, pretty-printed, keys in the order the report has them.
 * - `md`: Markdown (GFM tables): the headline, then a section for each part of the report that has data.
 * - `html`: one self-contained page (inline CSS and SVG, no scripts, no external resources).
 *
 * Every string taken from the report (Azure's and operators' text included) is escaped for the format. The result
 * ends with a newline.
 *
 * @throws {TypeError} when `format` is not one of `ReportFormats`; the message lists them.
 */
export function renderReport(report: RunbookReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    default:
      // Callers from JavaScript or the CLI may pass anything.
      throw new TypeError(`Unknown report format ${JSON.stringify(format)}: use one of ${ReportFormats.join(', ')}.`);
  }
}
