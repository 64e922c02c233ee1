/**
 * The run itself: what the headline calls it, its outcome and duration, the ARM calls it made, and the ids, times and
 * people a reader needs to find it again.
 */
import type { RunbookReport, RunbookType } from '../../workflows/definitions';
import { code, text, toneOf, type Cell, type Fact, type Section } from '../document';
import { formatSeconds, formatTimestamp, secondsBetween } from '../format';

const RUNBOOK_LABELS: Record<RunbookType, string> = {
  plannedFailover: 'Planned failover',
  forcedFailover: 'Forced failover',
  failback: 'Failback',
  scaleGroup: 'Scaling',
  drDrill: 'DR drill',
  fleetFailover: 'Fleet failover',
  readinessCheck: 'Readiness check',
  establishGroup: 'Establishing a group',
  reprotect: 'Re-protecting a group',
  watchGroups: 'Watching groups',
  restoreDatabase: 'Restoring a database',
  protectWorkload: 'Protecting the workload',
};

/** What a person calls the runbook (`DR drill`); the type itself when it has no label. */
export function runbookLabel(runbook: RunbookType): string {
  return RUNBOOK_LABELS[runbook] ?? runbook;
}

/** The first fact of every headline: the outcome, the error type when there is one, and how long the run took. */
export function outcomeFact(report: RunbookReport): Fact {
  return {
    key: 'outcome',
    label: 'Outcome',
    value: report.outcome,
    tone: toneOf(report.outcome),
    detail: [report.error?.type, `took ${formatSeconds(secondsBetween(report.startedAt, report.endedAt))}`]
      .filter(Boolean)
      .join(', '),
  };
}

export function armSection(report: RunbookReport): Section {
  const { reads, writes, throttled } = report.armCalls;
  return {
    id: 'arm-calls',
    title: 'ARM calls',
    blocks: [
      {
        kind: 'table',
        columns: ['Reads', 'Writes', 'Throttled (429/503 waited out)'],
        rows: [
          [text(String(reads)), text(String(writes)), text(String(throttled), throttled > 0 ? 'warn' : undefined)],
        ],
      },
    ],
  };
}

export function runSection(report: RunbookReport, label: string): Section {
  const { group } = report;
  const pairs: [string, Cell][] = [
    ['Runbook', text(`${label} (${report.runbook})`)],
    ['Group', text(group.displayName)],
  ];
  if (group.subscriptionId) pairs.push(['Subscription', code(group.subscriptionId)]);
  if (group.resourceGroup) pairs.push(['Resource group', code(group.resourceGroup)]);
  if (group.name) pairs.push(['Failover group', code(group.name)]);
  if (group.homePrimary && group.homeSecondary) {
    pairs.push(['Home', text(`primary ${group.homePrimary}, secondary ${group.homeSecondary}`)]);
  }
  pairs.push(
    ['Workflow id', code(report.workflowId)],
    ['Run id', code(report.runId)],
    ['Started', text(formatTimestamp(report.startedAt))],
    ['Ended', text(formatTimestamp(report.endedAt))],
  );
  if (report.requestedBy) pairs.push(['Requested by', text(report.requestedBy)]);
  if (report.reason) pairs.push(['Reason', text(report.reason)]);
  return { id: 'run', title: 'Run', blocks: [{ kind: 'pairs', pairs }] };
}
