/**
 * A DR drill's own evidence: the downtime its write probe saw through the listener (headline), the probe's writes,
 * windows and errors, and the smoke checks.
 */
import type { DrillSummary } from '../../workflows/definitions';
import { code, text, word, type Block, type Fact, type Section } from '../document';
import { formatSeconds, formatTimestamp, plural } from '../format';

/** The downtime the workload saw, or that it was not measured; none outside a drill. */
export function downtimeFact(drill: DrillSummary | undefined): Fact | undefined {
  if (!drill) return undefined;
  const probe = drill.probe;
  if (!probe) {
    return {
      key: 'downtime',
      label: 'Downtime seen by the workload',
      value: 'not measured',
      tone: 'muted',
      detail: 'no write probe ran (smoke.write was off, or the probe did not report)',
    };
  }
  return {
    key: 'downtime',
    label: 'Downtime seen by the workload',
    value: formatSeconds(probe.downtimeSeconds),
    tone: probe.downtimeSeconds > 0 ? 'warn' : 'good',
    detail:
      `${plural(probe.windows.length, 'window')} without a successful write through ${probe.listener}; ` +
      `${probe.acknowledged} of ${plural(probe.attempted, 'write')} acknowledged`,
  };
}

export function probeSection(drill: DrillSummary | undefined): Section | undefined {
  const probe = drill?.probe;
  if (!probe) return undefined;
  const blocks: Block[] = [
    {
      kind: 'pairs',
      pairs: [
        ['Listener', code(probe.listener)],
        ['Database', code(probe.database)],
        [
          'Writes',
          text(
            `${probe.attempted} attempted, ${probe.acknowledged} acknowledged, ${probe.inDoubt} in doubt, ${probe.refused} refused`,
          ),
        ],
        ['Downtime', text(formatSeconds(probe.downtimeSeconds), probe.downtimeSeconds > 0 ? 'warn' : 'good')],
        [
          'Acknowledged writes missing afterwards',
          text(String(probe.lostAcknowledged), probe.lostAcknowledged > 0 ? 'bad' : 'good'),
        ],
      ],
    },
  ];
  if (probe.windows.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Without a successful write from', 'To', 'Seconds'],
      rows: probe.windows.map((window) => [
        text(formatTimestamp(window.from)),
        text(formatTimestamp(window.to)),
        text(formatSeconds(window.seconds)),
      ]),
    });
  }
  const errors = Object.entries(probe.errors);
  if (errors.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Probe error', 'Count'],
      rows: errors.map(([error, count]) => [text(error), text(String(count))]),
    });
  }
  return { id: 'probe', title: 'Write probe through the listener', blocks };
}

export function smokeSection(drill: DrillSummary | undefined): Section | undefined {
  if (!drill || drill.smokeChecks.length === 0) return undefined;
  return {
    id: 'smoke-checks',
    title: 'Smoke checks',
    blocks: [
      {
        kind: 'table',
        columns: ['Check', 'Status', 'At', 'Detail'],
        rows: drill.smokeChecks.map((check) => [
          code(check.name),
          word(check.status),
          text(formatTimestamp(check.at)),
          text(check.detail),
        ]),
      },
    ],
  };
}
