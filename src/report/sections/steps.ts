/** The steps the run took (state, start, duration, errors), and the plan a dry run would have followed. */
import type { RunbookReport, StepRecord } from '../../workflows/definitions';
import { code, text, word, type Block, type Cell, type Section } from '../document';
import { formatClock, formatSeconds, formatTimestamp, secondsBetween } from '../format';

/** Seconds a step took; a step still running when the report was made counts until the report's end. */
export function stepSeconds(step: StepRecord, reportEnd?: string): number | undefined {
  if (!step.startedAt) return undefined;
  return secondsBetween(step.startedAt, step.endedAt ?? reportEnd);
}

export function stepsSection(report: RunbookReport): Section | undefined {
  if (report.steps.length === 0) return undefined;
  const blocks: Block[] = [
    {
      kind: 'table',
      columns: [
        '#',
        'Step',
        'State',
        `Start (UTC, ${formatTimestamp(report.startedAt).slice(0, 10)})`,
        'Duration',
        'What it does',
      ],
      rows: report.steps.map((step, index) => [
        text(String(index + 1)),
        code(step.name),
        word(step.state),
        text(step.startedAt ? formatClock(step.startedAt, report.startedAt) : 'not started'),
        text(formatSeconds(stepSeconds(step, step.state === 'running' ? report.endedAt : undefined))),
        text(step.title),
      ]),
    },
  ];
  const errors = report.steps.filter((step) => step.error);
  if (errors.length > 0) {
    blocks.push({
      kind: 'pairs',
      pairs: errors.map((step): [string, Cell] => [
        `${step.name} failed`,
        // The error that ended the run is in the headline already.
        report.error && step.error === report.error.message
          ? text(`ended the run with ${report.error.type} (above)`, 'bad')
          : text(step.error!, 'bad'),
      ]),
    });
  }
  return { id: 'steps', title: 'Steps', blocks };
}

export function planSection(report: RunbookReport): Section | undefined {
  if (!report.plan || report.plan.length === 0) return undefined;
  return {
    id: 'plan',
    title: 'Plan',
    blocks: [
      {
        kind: 'table',
        columns: ['Step', 'Action'],
        rows: report.plan.map((item) => [code(item.step), text(item.action)]),
      },
    ],
  };
}
