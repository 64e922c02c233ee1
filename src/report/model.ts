/**
 * The report as a document: a headline and sections of tables, lists and label/value pairs, built once from a
 * `RunbookReport` so the Markdown and HTML renderers say the same things. Sections appear only when the report has
 * their data, so every runbook type renders.
 */
import type {
  DatabaseLossEstimate,
  DrillSummary,
  FailoverLeg,
  GateResult,
  RunbookReport,
  RunbookType,
  StepRecord,
} from '../workflows/definitions';
import { formatClock, formatSeconds, formatTimestamp, plural, secondsBetween } from './format';

/** How a value reads at a glance; the HTML page colours it, Markdown leaves it as text. */
export type Tone = 'good' | 'bad' | 'warn' | 'info' | 'muted';

export interface Cell {
  text: string;
  /** A machine name (step, gate, database): monospace. */
  code?: boolean;
  tone?: Tone;
}

export type Block =
  | { kind: 'table'; columns: string[]; rows: Cell[][] }
  | { kind: 'list'; items: Cell[] }
  | { kind: 'pairs'; pairs: [string, Cell][] }
  | { kind: 'text'; text: Cell };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

/** One figure of the headline; `key` is stable (the HTML page carries it as `data-fact`). */
export interface Fact {
  key: 'outcome' | 'rto-failover' | 'rto-failback' | 'downtime' | 'data-loss' | 'groups' | 'verdict' | 'scale';
  label: string;
  value: string;
  tone: Tone;
  detail?: string;
}

export interface ReportDocument {
  title: string;
  /** `drDrill · fog-h1 · 2026-11-22 00:58:35 UTC`. */
  subtitle: string;
  facts: Fact[];
  error?: { type: string; message: string };
  sections: Section[];
}

const RUNBOOK_LABELS: Record<RunbookType, string> = {
  plannedFailover: 'Planned failover',
  forcedFailover: 'Forced failover',
  failback: 'Failback',
  scaleGroup: 'Scaling',
  drDrill: 'DR drill',
  fleetFailover: 'Fleet failover',
  readinessCheck: 'Readiness check',
};

const TONES: Record<string, Tone> = {
  succeeded: 'good',
  pass: 'good',
  none: 'good',
  'none-proven': 'good',
  failed: 'bad',
  fail: 'bad',
  lost: 'bad',
  estimated: 'bad',
  warn: 'warn',
  partial: 'warn',
  aborted: 'warn',
  'aborted-after-failover': 'warn',
  // The primary was left in the other region: someone must run the failback.
  failbackPending: 'bad',
  compensated: 'warn',
  unknown: 'warn',
  'not-measured': 'warn',
  running: 'info',
  'dry-run': 'info',
  skipped: 'muted',
  pending: 'muted',
  'not-started': 'muted',
  'not-applicable': 'muted',
};

/** The tone of a state, status, outcome or verdict word. */
export function toneOf(word: string): Tone {
  return TONES[word] ?? 'muted';
}

const text = (value: string, tone?: Tone): Cell => (tone ? { text: value, tone } : { text: value });
const code = (value: string): Cell => ({ text: value, code: true });
const word = (value: string): Cell => ({ text: value, tone: toneOf(value) });

/** Builds the document every text format renders. */
export function buildDocument(report: RunbookReport): ReportDocument {
  const label = RUNBOOK_LABELS[report.runbook] ?? report.runbook;
  return {
    title: `${label} of ${report.group.displayName}: ${report.outcome}`,
    subtitle: [report.runbook, report.group.displayName, formatTimestamp(report.startedAt)].join(' · '),
    facts: headlineFacts(report),
    ...(report.error ? { error: { type: report.error.type, message: report.error.message } } : {}),
    sections: [
      rolesSection(report),
      stepsSection(report),
      legsSection(report),
      probeSection(report.drill),
      smokeSection(report.drill),
      fleetSection(report),
      readinessSection(report),
      scaleSection(report),
      gatesSection(report.gates),
      planSection(report),
      approvalSection(report),
      estimateSection(report),
      abortSection(report),
      warningsSection(report),
      armSection(report),
      runSection(report, label),
    ].filter((section): section is Section => section !== undefined),
  };
}

const FAILS_OVER: readonly RunbookType[] = ['plannedFailover', 'forcedFailover', 'failback', 'drDrill'];

function headlineFacts(report: RunbookReport): Fact[] {
  const facts: Fact[] = [
    {
      key: 'outcome',
      label: 'Outcome',
      value: report.outcome,
      tone: toneOf(report.outcome),
      detail: [report.error?.type, `took ${formatSeconds(secondsBetween(report.startedAt, report.endedAt))}`]
        .filter(Boolean)
        .join(', '),
    },
  ];
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
  if (drill) facts.push(downtimeFact(drill));
  if (drill) facts.push(drillLossFact(report, drill));
  else if (FAILS_OVER.includes(report.runbook) || report.legs.length > 0) facts.push(legsLossFact(report));
  if (report.fleet) {
    const counts = Object.entries(report.fleet.counts)
      .filter(([, count]) => count > 0)
      .map(([outcome, count]) => `${count} ${outcome}`);
    facts.push({
      key: 'groups',
      label: 'Groups',
      value: counts.join(', ') || 'none',
      tone: toneOf(report.outcome),
      detail: `${report.fleet.mode} failover${report.fleet.region ? ` out of ${report.fleet.region}` : ''}, ${report.fleet.concurrency} at a time`,
    });
  }
  if (report.readiness) {
    const notPassing = report.readiness.groups.filter((group) => group.verdict !== 'pass').length;
    facts.push({
      key: 'verdict',
      label: 'Readiness',
      value: report.readiness.verdict,
      tone: toneOf(report.readiness.verdict),
      detail: `${notPassing} of ${plural(report.readiness.groups.length, 'group')} not passing`,
    });
  }
  if (report.scale) {
    facts.push({
      key: 'scale',
      label: 'Scaling',
      value: report.scale.direction,
      tone: 'info',
      detail: describeScaleTarget(report.scale.target),
    });
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

function downtimeFact(drill: DrillSummary): Fact {
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

function rolesSection(report: RunbookReport): Section | undefined {
  const { rolesBefore: before, rolesAfter: after } = report;
  if (!before && !after) return undefined;
  return {
    id: 'roles',
    title: 'Roles',
    blocks: [
      {
        kind: 'table',
        columns: ['Role', 'Before', 'After'],
        rows: [
          [text('Primary'), text(before?.primary ?? '—'), text(after?.primary ?? '—')],
          [text('Secondary'), text(before?.secondary ?? '—'), text(after?.secondary ?? '—')],
        ],
      },
    ],
  };
}

/** Seconds a step took; a step still running when the report was made counts until the report's end. */
export function stepSeconds(step: StepRecord, reportEnd?: string): number | undefined {
  if (!step.startedAt) return undefined;
  return secondsBetween(step.startedAt, step.endedAt ?? reportEnd);
}

function stepsSection(report: RunbookReport): Section | undefined {
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

function legsSection(report: RunbookReport): Section | undefined {
  if (report.legs.length === 0) return undefined;
  return {
    id: 'legs',
    title: 'Legs',
    blocks: [
      {
        kind: 'table',
        columns: ['Leg', 'From → to', 'Requested', 'Every database writable', 'RTO', 'Sent', 'Data loss'],
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
          legLossCell(leg),
        ]),
      },
    ],
  };
}

function legLossCell(leg: FailoverLeg): Cell {
  // A leg that fails after the send keeps the detail it started with ("not sent"); the leg's own fields say otherwise.
  if (leg.dataLoss.kind === 'unknown' && leg.failoverSent && !leg.allWritableAt) {
    return text('unknown: the failover was sent and did not complete', 'warn');
  }
  return text(`${leg.dataLoss.kind}: ${leg.dataLoss.detail}`, toneOf(leg.dataLoss.kind));
}

function probeSection(drill: DrillSummary | undefined): Section | undefined {
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

function smokeSection(drill: DrillSummary | undefined): Section | undefined {
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

function gatesSection(gates: GateResult[] | undefined): Section | undefined {
  if (!gates || gates.length === 0) return undefined;
  const notPassed = gates.filter((gate) => gate.status !== 'pass');
  if (notPassed.length === 0) {
    return {
      id: 'gates',
      title: 'Gates',
      blocks: [{ kind: 'text', text: text(`All ${plural(gates.length, 'gate')} passed.`, 'good') }],
    };
  }
  return {
    id: 'gates',
    title: 'Gates that did not pass',
    blocks: [
      {
        kind: 'table',
        columns: ['Gate', 'Status', 'What was found', 'What to do'],
        rows: notPassed.map((gate) => [
          code(gate.name),
          word(gate.status),
          text(gate.message),
          text(gate.action ?? '—'),
        ]),
      },
      {
        kind: 'text',
        text: text(`${gates.length - notPassed.length} of ${plural(gates.length, 'gate')} passed.`),
      },
    ],
  };
}

function planSection(report: RunbookReport): Section | undefined {
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

function approvalSection(report: RunbookReport): Section | undefined {
  const approval = report.approval;
  if (!approval) return undefined;
  return {
    id: 'approval',
    title: 'Approval',
    blocks: [
      {
        kind: 'pairs',
        pairs: [
          ['Approved by', text(approval.by)],
          ['Reason', text(approval.reason)],
          ['At', text(formatTimestamp(approval.at))],
          ['Via', text(approval.via)],
        ],
      },
    ],
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

function estimateSection(report: RunbookReport): Section | undefined {
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

function abortSection(report: RunbookReport): Section | undefined {
  const abort = report.abort;
  if (!abort) return undefined;
  return {
    id: 'abort',
    title: 'Abort',
    blocks: [
      {
        kind: 'pairs',
        pairs: [
          ['Requested by', text(abort.by)],
          ['Reason', text(abort.reason)],
          ['Received', text(formatTimestamp(abort.receivedAt))],
          ['Effect', text(abort.effect)],
        ],
      },
    ],
  };
}

function fleetSection(report: RunbookReport): Section | undefined {
  const fleet = report.fleet;
  if (!fleet) return undefined;
  return {
    id: 'fleet',
    title: 'Fleet members',
    blocks: [
      {
        kind: 'table',
        columns: ['Group', 'Outcome', 'RTO', 'Data loss', 'Detail', 'Workflow id'],
        rows: fleet.members.map((member) => [
          text(member.group),
          word(member.outcome),
          text(formatSeconds(member.rtoSeconds)),
          member.dataLoss ? word(member.dataLoss.kind) : text('—'),
          text(
            member.error ? `${member.error.type}: ${member.error.message}` : (member.detail ?? ''),
            member.error ? 'bad' : undefined,
          ),
          member.workflowId ? code(member.workflowId) : text('—'),
        ]),
      },
    ],
  };
}

function readinessSection(report: RunbookReport): Section | undefined {
  const readiness = report.readiness;
  if (!readiness) return undefined;
  const blocks: Block[] = [
    {
      kind: 'table',
      columns: ['Group', 'Verdict', 'Checks passed'],
      rows: readiness.groups.map((group) => [
        text(group.group),
        word(group.verdict),
        text(`${group.checks.filter((check) => check.status === 'pass').length} of ${group.checks.length}`),
      ]),
    },
  ];
  const notPassed = readiness.groups.flatMap((group) =>
    group.checks.filter((check) => check.status !== 'pass').map((check) => ({ group: group.group, check })),
  );
  if (notPassed.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Group', 'Check', 'Status', 'What was found', 'What to do'],
      rows: notPassed.map(({ group, check }) => [
        text(group),
        code(check.name),
        word(check.status),
        text(check.message),
        text(check.action ?? '—'),
      ]),
    });
  }
  return { id: 'readiness', title: 'Readiness checks', blocks };
}

function describeScaleTarget(target: { vCores?: number; storageSizeInGB?: number; sku?: string }): string {
  const parts = [
    target.vCores !== undefined ? `${target.vCores} vCores` : undefined,
    target.storageSizeInGB !== undefined ? `${target.storageSizeInGB} GB` : undefined,
    target.sku,
  ].filter(Boolean);
  return parts.length > 0 ? `to ${parts.join(', ')}` : 'no change requested';
}

function scaleSection(report: RunbookReport): Section | undefined {
  const scale = report.scale;
  if (!scale) return undefined;
  const blocks: Block[] = [
    {
      kind: 'pairs',
      pairs: [
        ['Direction', text(scale.direction)],
        ['Target', text(describeScaleTarget(scale.target))],
      ],
    },
  ];
  if (scale.operations.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Instance', 'Location', 'Role', 'From', 'To', 'State'],
      rows: scale.operations.map((operation) => [
        code(operation.instance),
        text(operation.location),
        text(operation.role),
        text(JSON.stringify(operation.from)),
        text(JSON.stringify(operation.to)),
        text(operation.state, toneOf(operation.state.toLowerCase())),
      ]),
    });
  }
  return { id: 'scale', title: 'Scaling', blocks };
}

function warningsSection(report: RunbookReport): Section | undefined {
  if (report.warnings.length === 0) return undefined;
  return {
    id: 'warnings',
    title: 'Warnings',
    blocks: [{ kind: 'list', items: report.warnings.map((warning) => text(warning, 'warn')) }],
  };
}

function armSection(report: RunbookReport): Section {
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

function runSection(report: RunbookReport, label: string): Section {
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
