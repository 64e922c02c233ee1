/**
 * The parts of a report that belong to a group's life outside its switchovers and around them: the run against the
 * group's objectives, its hooks, a group's creation and seeding, and what a watch saw.
 */
import { formatDuration } from '../../domain/durations';
import type { RunbookReport } from '../../workflows/definitions';
import { code, text, toneOf, type Block, type Cell, type Section } from '../document';

function objectiveCell(reading: { targetMs: number; measuredMs?: number; met?: boolean } | undefined): Cell[] {
  if (!reading) return [text('—'), text('—'), text('not declared', 'muted')];
  return [
    text(formatDuration(reading.targetMs)),
    text(reading.measuredMs === undefined ? 'not measured' : formatDuration(reading.measuredMs)),
    reading.met === undefined
      ? text('no verdict', 'warn')
      : text(reading.met ? 'met' : 'missed', reading.met ? 'good' : 'bad'),
  ];
}

/** RTO and RPO against the group's declared objectives: target, measured, met or missed. */
export function objectivesSection(report: RunbookReport): Section | undefined {
  const objectives = report.objectives;
  if (!objectives) return undefined;
  return {
    id: 'objectives',
    title: 'Objectives',
    blocks: [
      {
        kind: 'table',
        columns: ['Objective', 'Target', 'Measured', 'Verdict'],
        rows: [
          [text('RTO'), ...objectiveCell(objectives.rto)],
          [text('RPO'), ...objectiveCell(objectives.rpo)],
        ],
      },
    ],
  };
}

/** Each hook's request and answer, as the run recorded them (redacted). */
export function hooksSection(report: RunbookReport): Section | undefined {
  const hooks = report.hooks;
  if (!hooks || hooks.length === 0) return undefined;
  return {
    id: 'hooks',
    title: 'Hooks',
    blocks: [
      {
        kind: 'table',
        columns: ['Hook', 'Phase', 'Request', 'Answer', 'Took'],
        rows: hooks.map((hook) => [
          code(hook.name),
          text(hook.phase),
          text(`${hook.request.method} ${hook.request.url}`),
          hook.response
            ? text(`${hook.response.status} ${hook.response.body.slice(0, 120)}`, hook.ok ? 'good' : 'bad')
            : text(hook.error ?? 'no answer', 'bad'),
          text(`${hook.durationMs} ms`),
        ]),
      },
    ],
  };
}

/** A group's creation: what was created, and each database's seeding. */
export function establishSection(report: RunbookReport): Section | undefined {
  const establish = report.establish;
  if (!establish) return undefined;
  const blocks: Block[] = [
    {
      kind: 'pairs',
      pairs: [
        ['Primary', code(establish.primaryInstanceId)],
        ['Secondary', code(establish.secondaryInstanceId)],
        ['Creation', text(establish.creation === 'created' ? 'created by this run' : 'already established')],
        ['Seeding since', text(establish.seeding.since)],
        ['Seeded', text(establish.seeding.endedAt ?? 'not yet', establish.seeding.endedAt ? 'good' : 'warn')],
        ['Looks', text(String(establish.seeding.polls))],
      ],
    },
  ];
  if (establish.seeding.databases.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Database', 'State', 'Done'],
      rows: establish.seeding.databases.map((entry) => [
        code(entry.database),
        text(entry.state ?? 'unknown', toneOf(/completed/i.test(entry.state ?? '') ? 'succeeded' : 'running')),
        text(entry.percent === undefined ? '—' : `${entry.percent}%`),
      ]),
    });
  }
  return { id: 'establish', title: 'Group creation and seeding', blocks };
}

/** What a watch saw: each role change, whose it was, and what followed. */
export function watchSection(report: RunbookReport): Section | undefined {
  const watch = report.watch;
  if (!watch) return undefined;
  const blocks: Block[] = [
    {
      kind: 'pairs',
      pairs: [
        ['Watching since', text(watch.watchingSince)],
        ['Looks', text(String(watch.looks))],
        ['Groups', text(watch.groups.map((group) => group.group).join(', ') || 'none')],
      ],
    },
  ];
  if (watch.changes.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Group', 'Seen', 'From', 'To', 'Made by'],
      rows: watch.changes.map((change) => [
        code(change.group),
        text(change.seenAt),
        text(change.from),
        text(change.to),
        text(
          change.byFogpilot ? 'a fogpilot runbook' : 'not fogpilot (Azure, or a person)',
          change.byFogpilot ? 'muted' : 'warn',
        ),
      ]),
    });
  }
  return { id: 'watch', title: 'Role changes seen', blocks };
}
