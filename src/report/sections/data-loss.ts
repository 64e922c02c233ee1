/**
 * Data lost: the headline's verdict (a drill's read-back, or each leg's evidence: copy sync proven, estimated, unknown)
 * and the estimate a forced failover made before it was sent, per database.
 */
import type { DatabaseLossEstimate, DrillSummary, RunbookReport } from '../../workflows/definitions';
import { code, text, type Block, type Cell, type Fact, type Section } from '../document';
import { formatSeconds, formatTimestamp, plural } from '../format';
import { FAILS_OVER } from './legs';

/** The data-loss fact: a drill's verdict, or the legs' evidence for a runbook that fails over; none otherwise. */
export function dataLossFact(report: RunbookReport): Fact | undefined {
  if (report.drill) return drillLossFact(report, report.drill);
  if (FAILS_OVER.includes(report.runbook) || report.legs.length > 0) return legsLossFact(report);
  return undefined;
}

function drillLossFact(report: RunbookReport, drill: DrillSummary): Fact {
  const probe = drill.probe;
  const copySyncProven =
    report.legs.length > 0 && report.legs.every((leg) => leg.dataLoss.kind === 'none-proven')
      ? 'copy sync proven before each failover'
      : undefined;
  if (drill.dataLoss === 'lost') {
    return {
      key: 'data-loss',
      label: 'Data lost',
      value: `${plural(probe?.lostAcknowledged ?? 0, 'acknowledged write')} lost`,
      tone: 'bad',
      detail: 'acknowledged probe writes were missing when read back after the failback',
    };
  }
  if (drill.dataLoss === 'none') {
    const evidence = [
      probe ? `all ${plural(probe.acknowledged, 'acknowledged write')} read back` : undefined,
      copySyncProven,
    ].filter(Boolean);
    return {
      key: 'data-loss',
      label: 'Data lost',
      value: 'none (zero-loss verdict)',
      tone: 'good',
      detail: evidence.join('; '),
    };
  }
  return {
    key: 'data-loss',
    label: 'Data lost',
    value: 'not measured',
    tone: 'warn',
    detail: 'no write probe, and copy sync was not proven before every failover',
  };
}

function legsLossFact(report: RunbookReport): Fact {
  const label = 'Data lost';
  if (report.legs.length === 0) {
    return { key: 'data-loss', label, value: 'none', tone: 'good', detail: 'no failover was sent' };
  }
  const estimated = report.legs.filter((leg) => leg.dataLoss.kind === 'estimated');
  if (estimated.length > 0) {
    const seconds = report.dataLossEstimate?.seconds;
    const lostWhole = report.dataLossEstimate?.lostWhole ?? [];
    const figure =
      seconds !== undefined ? `up to ${formatSeconds(seconds)} of commits (estimated)` : 'possible (estimated)';
    return {
      key: 'data-loss',
      label,
      value: lostWhole.length > 0 ? `${figure}; ${lostWhole.join(', ')} lost whole` : figure,
      tone: 'bad',
      detail: [...new Set(estimated.map((leg) => leg.dataLoss.detail))].join(' '),
    };
  }
  const unknown = report.legs.filter((leg) => leg.dataLoss.kind === 'unknown');
  if (unknown.length > 0) {
    return {
      key: 'data-loss',
      label,
      value: 'unknown',
      tone: 'warn',
      detail: unknown
        .map((leg) =>
          leg.failoverSent || leg.requestedAt
            ? `the ${leg.name} to ${leg.to} was sent and did not complete: check the databases before relying on them`
            : leg.dataLoss.detail,
        )
        .join('; '),
    };
  }
  const proven = report.legs.every((leg) => leg.dataLoss.kind === 'none-proven');
  return {
    key: 'data-loss',
    label,
    value: proven ? 'none (proven)' : 'none',
    tone: 'good',
    detail: proven
      ? `copy sync returned on every database before ${report.legs.length > 1 ? 'each' : 'the'} planned failover, which Azure runs synchronously`
      : [...new Set(report.legs.map((leg) => leg.dataLoss.detail))].join(' '),
  };
}

/** What one database's estimate says, as a table cell. */
function databaseLossCell(entry: DatabaseLossEstimate): Cell {
  switch (entry.kind) {
    case 'measured':
      return text(`${formatSeconds(entry.seconds)} of commits`, 'bad');
    case 'upper-bound':
      return text(`at most ${formatSeconds(entry.seconds)} of commits`, 'bad');
    case 'lost-whole':
      return text('lost whole', 'bad');
    case 'none':
      return text('none', 'good');
    default:
      return text('unknown', 'warn');
  }
}

export function estimateSection(report: RunbookReport): Section | undefined {
  const estimate = report.dataLossEstimate;
  if (!estimate) return undefined;
  const perDatabase = estimate.method === 'last-commit';
  const pairs: [string, Cell][] = [
    [
      'At most',
      text(
        estimate.seconds !== undefined
          ? `${formatSeconds(estimate.seconds)} of commits${estimate.upperBound ? ' (an upper bound)' : ''}`
          : 'unknown',
      ),
    ],
    ['Basis', text(estimate.basis)],
  ];
  if (estimate.lostWhole?.length) pairs.push(['Lost whole', text(estimate.lostWhole.join(', '), 'bad')]);
  if (estimate.unknown?.length) pairs.push(['Not estimated', text(estimate.unknown.join(', '), 'warn')]);
  const blocks: Block[] = [{ kind: 'pairs', pairs }];
  if (perDatabase && estimate.databases.length > 0) {
    blocks.push({
      kind: 'table',
      columns: [
        'Database',
        'Replication state',
        'At risk',
        'Source or reason',
        'Secondary last commit',
        'Primary last commit',
      ],
      rows: estimate.databases.map((entry) => [
        code(entry.database),
        text(entry.replicationState ?? '—'),
        databaseLossCell(entry),
        text([entry.source, entry.reason].filter(Boolean).join(' — ') || '—'),
        text(entry.secondaryLastCommit ? formatTimestamp(entry.secondaryLastCommit) : '—'),
        text(entry.primaryLastCommit ? formatTimestamp(entry.primaryLastCommit) : '—'),
      ]),
    });
  } else if (estimate.databases.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Database', 'Lag', 'Last replicated'],
      rows: estimate.databases.map((database) => [
        code(database.database),
        text(typeof database.lagSeconds === 'number' ? formatSeconds(database.lagSeconds) : '—'),
        text(database.lastReplication ? formatTimestamp(database.lastReplication) : '—'),
      ]),
    });
  }
  return { id: 'data-loss-estimate', title: 'Data-loss estimate before the forced failover', blocks };
}
