/**
 * The legs of a run (failover, failback): the RTO each way for the headline, with a failback still pending said as such,
 * and a row per leg from request to every database writable.
 */
import type { FailoverLeg, RunbookReport, RunbookType } from '../../workflows/definitions';
import { text, toneOf, type Cell, type Fact, type Section } from '../document';
import { formatSeconds, formatTimestamp } from '../format';

/** The runbooks that send failovers: their headline says the RTO and the data lost even when no leg ran. */
export const FAILS_OVER: readonly RunbookType[] = ['plannedFailover', 'forcedFailover', 'failback', 'drDrill'];

/** The RTO failover fact, then the RTO failback fact (or the failback still pending), for the runbooks that have them. */
export function rtoFacts(report: RunbookReport): Fact[] {
  const facts: Fact[] = [];
  const failover = report.legs.find((leg) => leg.name === 'failover');
  const failback = report.legs.find((leg) => leg.name === 'failback');
  const drill = report.drill;
  if (failover || drill || (FAILS_OVER.includes(report.runbook) && report.runbook !== 'failback')) {
    facts.push(rtoFact('rto-failover', 'RTO failover', failover, drill?.rtoFailoverSeconds));
  }
  const pending = report.failbackPending;
  if (pending) {
    facts.push({
      key: 'rto-failback',
      label: 'RTO failback',
      value: 'pending',
      tone: 'bad',
      detail: `the primary is still in ${pending.primary}; fail back to ${pending.home} with: ${pending.command}`,
    });
  } else if (failback || drill) {
    facts.push(rtoFact('rto-failback', 'RTO failback', failback, drill?.rtoFailbackSeconds));
  }
  return facts;
}

function rtoFact(
  key: 'rto-failover' | 'rto-failback',
  label: string,
  leg: FailoverLeg | undefined,
  drillSeconds: number | undefined,
): Fact {
  const seconds = drillSeconds ?? leg?.rtoSeconds;
  if (seconds !== undefined) {
    return {
      key,
      label,
      value: formatSeconds(seconds),
      tone: 'good',
      ...(leg ? { detail: `${leg.from} → ${leg.to}, request to every database writable` } : {}),
    };
  }
  if (leg?.requestedAt) {
    return {
      key,
      label,
      value: 'not reached',
      tone: 'bad',
      detail: `${leg.from} → ${leg.to} requested ${formatTimestamp(leg.requestedAt)}; not every database became writable`,
    };
  }
  return { key, label, value: 'not run', tone: 'muted', detail: 'no failover was sent in this direction' };
}

export function legsSection(report: RunbookReport): Section | undefined {
  if (report.legs.length === 0) return undefined;
  // Only a forced failover with tryPlannedFirst says who tried planned first: other reports keep their columns.
  const plannedFirst = report.legs.some((leg) => leg.tryPlannedBy !== undefined);
  return {
    id: 'legs',
    title: 'Legs',
    blocks: [
      {
        kind: 'table',
        columns: [
          'Leg',
          'From → to',
          'Requested',
          'Every database writable',
          'RTO',
          'Sent',
          ...(plannedFirst ? ['Planned first'] : []),
          'Data loss',
        ],
        rows: report.legs.map((leg) => [
          text(leg.name),
          text(`${leg.from} → ${leg.to}`),
          text(leg.requestedAt ? formatTimestamp(leg.requestedAt) : '—'),
          text(
            leg.allWritableAt ? formatTimestamp(leg.allWritableAt) : 'not reached',
            leg.allWritableAt ? undefined : 'bad',
          ),
          text(formatSeconds(leg.rtoSeconds)),
          text(leg.failoverSent ? 'yes' : 'no'),
          ...(plannedFirst ? [plannedFirstCell(leg)] : []),
          legLossCell(leg),
        ]),
      },
    ],
  };
}

/** Who tried a planned failover before forcing: Azure's own action, or fogpilot's escalation. */
function plannedFirstCell(leg: FailoverLeg): Cell {
  switch (leg.tryPlannedBy) {
    case 'azure':
      return text('by Azure: one tryPlannedBeforeForcedFailover (Azure forces if the planned part cannot complete)');
    case 'fogpilot':
      return text('by fogpilot: a planned failover, then forceFailoverAllowDataLoss if it could not complete');
    default:
      return text('—');
  }
}

function legLossCell(leg: FailoverLeg): Cell {
  // A leg that fails after the send keeps the detail it started with ("not sent"); the leg's own fields say otherwise.
  if (leg.dataLoss.kind === 'unknown' && leg.failoverSent && !leg.allWritableAt) {
    return text('unknown: the failover was sent and did not complete', 'warn');
  }
  return text(`${leg.dataLoss.kind}: ${leg.dataLoss.detail}`, toneOf(leg.dataLoss.kind));
}
