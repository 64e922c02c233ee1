/**
 * `renderReport` on reports as the runbooks return them: a DR drill and a planned failover that failed after sending,
 * plus the other runbook types, in JSON, Markdown and HTML; escaping; and the SVG timeline's geometry.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { renderReport, type ReportFormat } from '../../src/report';
import { isRunbookSummary, type RunbookReport, type RunbookSummary } from '../../src/workflows/definitions';
import { ROLE_SWITCH_TIMEOUT_MESSAGE, drillReport, failedPlannedFailoverReport, sequentialSteps } from './fixtures';

/** The rows of the Markdown table that follows `## heading` (header row excluded), split into cells. */
function markdownTable(md: string, heading: string, nth = 0): string[][] {
  const section = md.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  assert.ok(section, `a "## ${heading}" section in:\n${md}`);
  const tables = section.split(/\n\n/).filter((block) => block.startsWith('|'));
  const table = tables[nth];
  assert.ok(table, `table ${nth} under "## ${heading}"`);
  return table
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.trim()),
    );
}

function headlineLine(md: string, label: string): string {
  const line = md.split('\n').find((entry) => entry.startsWith(`- **${label}:** `));
  assert.ok(line, `a headline line for ${label} in:\n${md.split('\n## ')[0]}`);
  return line.slice(`- **${label}:** `.length);
}

interface Bar {
  step: string;
  state: string;
  seconds: number;
  x: number;
  width: number;
  fill: string;
}

function attribute(tag: string, name: string): string {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  assert.ok(match, `${name} on ${tag}`);
  return match[1]!;
}

function svgBars(html: string): Bar[] {
  const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0];
  assert.ok(svg, 'the page has an SVG timeline');
  return [...svg.matchAll(/<rect class="bar [^>]*>/g)].map(([tag]) => ({
    step: attribute(tag, 'data-step'),
    state: attribute(tag, 'data-state'),
    seconds: Number(attribute(tag, 'data-seconds')),
    x: Number(attribute(tag, 'x')),
    width: Number(attribute(tag, 'width')),
    fill: attribute(tag, 'fill'),
  }));
}

const stepSeconds = (report: RunbookReport, name: string): number => {
  const step = report.steps.find((entry) => entry.name === name)!;
  return (Date.parse(step.endedAt!) - Date.parse(step.startedAt!)) / 1000;
};

describe('renderReport as JSON', () => {
  it('prints the report itself, two-space indented, with its keys in the order the report has them', () => {
    const report = drillReport();
    const json = renderReport(report, 'json');
    assert.deepEqual(JSON.parse(json), report);
    assert.deepEqual(Object.keys(JSON.parse(json) as object), Object.keys(report));
    assert.ok(json.startsWith('{\n  "runbook": "drDrill",\n  "workflowId": '), json.slice(0, 80));
    assert.ok(json.endsWith('}\n'));
  });

  it('keeps the error and the failed leg of a failed planned failover', () => {
    const parsed = JSON.parse(renderReport(failedPlannedFailoverReport(), 'json')) as RunbookReport;
    assert.equal(parsed.error?.type, 'RoleSwitchTimeout');
    assert.equal(parsed.legs[0]?.failoverSent, true);
    assert.equal(parsed.legs[0]?.rtoSeconds, undefined);
  });

  it('refuses a format it does not know and names the ones it does', () => {
    assert.throws(
      () => renderReport(drillReport(), 'pdf' as ReportFormat),
      /Unknown report format "pdf".*md, json, html/,
    );
  });
});

describe('renderReport for a drill that did not fail back', () => {
  const report: RunbookReport = {
    ...drillReport(),
    outcome: 'failbackPending',
    rolesAfter: { primary: 'westus', secondary: 'eastus' },
    failbackPending: {
      primary: 'westus',
      home: 'eastus',
      command: 'fogpilot failback fog-sales',
      reason: 'Replication lag above 30s: sales lags 120s',
      waitedSeconds: 3600,
    },
  };

  it('heads the report with failbackPending, where the primary stays and the command that fails back', () => {
    const md = renderReport(report, 'md');
    assert.ok(md.startsWith('# DR drill of fog-sales: failbackPending\n'), md.slice(0, 60));
    assert.equal(
      headlineLine(md, 'RTO failback'),
      'pending — the primary is still in westus; fail back to eastus with: fogpilot failback fog-sales',
    );
    assert.match(renderReport(report, 'html'), /class="headline tone-bad"/);
  });
});

describe('renderReport as Markdown, for a DR drill', () => {
  const report = drillReport();
  const md = renderReport(report, 'md');

  it('heads the report with the runbook, group, outcome, RTO each way, the downtime the workload saw and the zero-loss verdict', () => {
    assert.ok(md.startsWith('# DR drill of fog-sales: succeeded\n'), md.slice(0, 60));
    assert.match(headlineLine(md, 'Outcome'), /^succeeded — took 3 min 21 s$/);
    assert.match(headlineLine(md, 'RTO failover'), /^40\.5 s — eastus → westus/);
    assert.match(headlineLine(md, 'RTO failback'), /^39\.2 s — westus → eastus/);
    assert.match(
      headlineLine(md, 'Downtime seen by the workload'),
      /^72\.6 s — 2 windows without a successful write through fog-sales\.3f6a9c1d2e4b\.database\.windows\.net; 128 of 202 writes acknowledged$/,
    );
    assert.equal(
      headlineLine(md, 'Data lost'),
      'none (zero-loss verdict) — all 128 acknowledged writes read back; copy sync proven before each failover',
    );
  });

  it('lists every step in order with its state, start time and duration', () => {
    const rows = markdownTable(md, 'Steps');
    assert.deepEqual(
      rows.map((row) => row[1]),
      report.steps.map((step) => `\`${step.name}\``),
    );
    const awaitRoles = rows.find((row) => row[1] === '`await-roles`')!;
    assert.deepEqual(awaitRoles.slice(2, 5), ['succeeded', '02:00:00.780', '38.4 s']);
    assert.deepEqual(rows.find((row) => row[1] === '`soak`')!.slice(2, 5), ['succeeded', '02:00:41.340', '2 min 0 s']);
    assert.deepEqual(rows.find((row) => row[1] === '`scale-secondary`')!.slice(2, 5), [
      'skipped',
      '02:00:00.710',
      '0 ms',
    ]);
  });

  it('shows the roles before and after, both legs, the probe windows and every smoke check', () => {
    assert.deepEqual(markdownTable(md, 'Roles'), [
      ['Primary', 'eastus', 'eastus'],
      ['Secondary', 'westus', 'westus'],
    ]);
    const legs = markdownTable(md, 'Legs');
    assert.deepEqual(
      legs.map((row) => [row[0], row[1], row[4], row[5]]),
      [
        ['failover', 'eastus → westus', '40.5 s', 'yes'],
        ['failback', 'westus → eastus', '39.2 s', 'yes'],
      ],
    );
    assert.match(legs[0]![6]!, /^none-proven: /);
    assert.deepEqual(
      markdownTable(md, 'Write probe through the listener').map((row) => row[2]),
      ['37.2 s', '35.4 s'],
    );
    assert.match(md, /- \*\*Writes:\*\* 202 attempted, 128 acknowledged, 3 in doubt, 71 refused/);
    assert.match(md, /- \*\*Acknowledged writes missing afterwards:\*\* 0\n/);
    assert.deepEqual(
      markdownTable(md, 'Smoke checks').map((row) => `${row[0]} ${row[1]}`),
      ['`write/soak-start` pass', '`http/soak-start` pass', '`write/soak-end` pass', '`http/soak-end` pass'],
    );
    assert.match(md, /## Gates\n\nAll 2 gates passed\./);
    assert.deepEqual(markdownTable(md, 'ARM calls'), [['36', '2', '1']]);
  });

  it('leaves out the sections a drill has no data for', () => {
    for (const heading of ['Approval', 'Fleet members', 'Readiness checks', 'Plan', 'Warnings', 'Abort']) {
      assert.doesNotMatch(md, new RegExp(`^## ${heading}$`, 'm'), heading);
    }
  });

  it('calls out acknowledged writes missing after the drill as data lost', () => {
    const lost = drillReport();
    lost.drill!.dataLoss = 'lost';
    lost.drill!.probe!.lostAcknowledged = 2;
    const text = renderReport(lost, 'md');
    assert.match(headlineLine(text, 'Data lost'), /^2 acknowledged writes lost — /);
    assert.match(text, /- \*\*Acknowledged writes missing afterwards:\*\* 2\n/);
  });

  it('says the downtime was not measured when the drill ran without a write probe, and rests zero loss on copy sync', () => {
    const noProbe = drillReport();
    delete noProbe.drill!.probe;
    const text = renderReport(noProbe, 'md');
    assert.match(headlineLine(text, 'Downtime seen by the workload'), /^not measured — no write probe ran/);
    assert.equal(headlineLine(text, 'Data lost'), 'none (zero-loss verdict) — copy sync proven before each failover');
    assert.doesNotMatch(text, /## Write probe/);
  });
});

describe('renderReport as Markdown, for a planned failover that failed after sending', () => {
  const report = failedPlannedFailoverReport();
  const md = renderReport(report, 'md');

  it('heads the report with the failure, an RTO never reached, and data loss unknown', () => {
    assert.ok(md.startsWith('# Planned failover of fog-orders: failed\n'));
    assert.equal(headlineLine(md, 'Outcome'), 'failed — RoleSwitchTimeout, took 17 min 30 s');
    assert.match(headlineLine(md, 'RTO failover'), /^not reached — eastus → westus requested 2036-11-18 23:56:12 UTC/);
    assert.match(headlineLine(md, 'Data lost'), /^unknown — the failover to westus was sent and did not complete/);
    assert.doesNotMatch(md, /\*\*RTO failback:\*\*|\*\*Downtime seen by the workload:\*\*/);
  });

  it('quotes the error once, escaped, with what to do next', () => {
    const escaped = ROLE_SWITCH_TIMEOUT_MESSAGE.replace(/`/g, '\\`');
    assert.ok(md.includes(`> **RoleSwitchTimeout:** ${escaped}\n`), 'the error under the headline');
    assert.equal(md.split('do not send another failover').length - 1, 1, 'the error appears once');
    assert.match(md, /- \*\*await-roles failed:\*\* ended the run with RoleSwitchTimeout \(above\)/);
  });

  it('marks the failed step and its 15 minutes, and the leg as sent but never writable', () => {
    const rows = markdownTable(md, 'Steps');
    assert.deepEqual(rows.at(-1)!.slice(1, 5), ['`await-roles`', 'failed', '23:56:12.437', '15 min 0 s']);
    assert.deepEqual(rows[2]!.slice(1, 5), ['`scale-secondary`', 'succeeded', '23:53:42.847', '2 min 30 s']);
    const [leg] = markdownTable(md, 'Legs');
    assert.deepEqual(leg, [
      'failover',
      'eastus → westus',
      '2036-11-18 23:56:12 UTC',
      'not reached',
      '—',
      'yes',
      'unknown: the failover was sent and did not complete',
    ]);
    assert.deepEqual(markdownTable(md, 'Roles'), [
      ['Primary', 'eastus', '—'],
      ['Secondary', 'westus', '—'],
    ]);
  });

  it('lists the gates that did not pass with their action, the warnings and the ARM calls', () => {
    const gates = markdownTable(md, 'Gates that did not pass');
    assert.deepEqual(
      gates.map((row) => [row[0], row[1]]),
      [
        ['`secondary-size`', 'warn'],
        ['`failover-policy`', 'warn'],
      ],
    );
    assert.equal(
      gates[1]![3],
      'Set the policy to Manual (\\`az sql instance-failover-group update --failover-policy Manual\\`).',
    );
    assert.match(md, /\n1 of 3 gates passed\.\n/);
    assert.match(md, /## Warnings\n\n- \\\[failover-policy\\\] Read-write failover policy Automatic/);
    assert.deepEqual(markdownTable(md, 'ARM calls'), [['133', '2', '4']]);
    assert.doesNotMatch(md, /^## (Smoke checks|Write probe through the listener)$/m);
  });
});

describe('renderReport for the other runbooks', () => {
  it('shows a forced failover’s approval, its data-loss estimate and the loss it accepted', () => {
    const report: RunbookReport = {
      ...failedPlannedFailoverReport(),
      runbook: 'forcedFailover',
      outcome: 'succeeded',
      error: undefined,
      gates: undefined,
      warnings: [],
      steps: sequentialSteps('2026-11-22T00:59:08.000Z', [
        ['resolve-group', 'Resolve the group reference', 'succeeded', 0.2],
        ['failover', 'Send the forced failover to westus', 'succeeded', 0.1],
        ['await-roles', 'Wait until westus reports Primary', 'succeeded', 40.5],
      ]),
      legs: [
        {
          name: 'failover',
          from: 'eastus',
          to: 'westus',
          failoverSent: true,
          requestedAt: '2026-11-22T00:59:08.200Z',
          allWritableAt: '2026-11-22T00:59:48.800Z',
          rtoSeconds: 40.6,
          dataLoss: { kind: 'estimated', detail: 'Forced failover: at most the last 4s of commits are lost.' },
        },
      ],
      approval: { by: 'incident-bot', reason: 'INC-4711: eastus outage', at: '2026-11-22T00:59:08.213Z', via: 'input' },
      dataLossEstimate: {
        seconds: 4,
        basis: 'the time since fog-orders-mi-westus last hardened a transaction',
        databases: [{ database: 'sales', lagSeconds: null, lastReplication: '2026-11-22T00:59:04.210Z' }],
      },
    };
    const md = renderReport(report, 'md');
    assert.match(md, /^# Forced failover of fog-orders: succeeded$/m);
    assert.match(headlineLine(md, 'RTO failover'), /^40\.6 s/);
    assert.match(headlineLine(md, 'Data lost'), /^up to 4 s of commits \(estimated\) — Forced failover: /);
    assert.match(md, /## Approval\n\n- \*\*Approved by:\*\* incident-bot\n- \*\*Reason:\*\* INC-4711: eastus outage\n/);
    assert.deepEqual(markdownTable(md, 'Data-loss estimate before the forced failover'), [
      ['`sales`', '—', '2026-11-22 00:59:04 UTC'],
    ]);
  });

  it('says who tried a planned failover before forcing, Azure or fogpilot, in the Legs table of Markdown and HTML', () => {
    const forced = (tryPlannedBy: 'azure' | 'fogpilot'): RunbookReport => ({
      ...failedPlannedFailoverReport(),
      runbook: 'forcedFailover',
      outcome: 'succeeded',
      error: undefined,
      gates: undefined,
      warnings: [],
      legs: [
        {
          name: 'failover',
          from: 'eastus',
          to: 'westus',
          failoverSent: true,
          tryPlannedBy,
          requestedAt: '2026-11-22T00:59:08.200Z',
          allWritableAt: '2026-11-22T00:59:48.800Z',
          rtoSeconds: 40.6,
          dataLoss: { kind: 'estimated', detail: "Azure's tryPlannedBeforeForcedFailover: no loss if …" },
        },
      ],
    });
    const columnOf = (md: string) => {
      const header = md
        .split(/^## /m)
        .find((part) => part.startsWith('Legs\n'))!
        .split('\n')[2]!;
      return header.split(' | ').findIndex((cell) => cell.trim() === 'Planned first');
    };
    const azure = renderReport(forced('azure'), 'md');
    const at = columnOf(azure);
    assert.ok(at > 0, 'the Legs table has a "Planned first" column');
    assert.equal(
      markdownTable(azure, 'Legs')[0]![at],
      'by Azure: one tryPlannedBeforeForcedFailover (Azure forces if the planned part cannot complete)',
    );
    assert.match(
      markdownTable(renderReport(forced('fogpilot'), 'md'), 'Legs')[0]![at]!,
      /^by fogpilot: a planned failover, then forceFailoverAllowDataLoss if it could not complete$/,
    );
    const html = renderReport(forced('azure'), 'html');
    assert.match(html, /<th[^>]*>Planned first<\/th>/);
    assert.ok(html.includes('by Azure: one tryPlannedBeforeForcedFailover'), 'the HTML page says it too');
    assert.equal(columnOf(renderReport(failedPlannedFailoverReport(), 'md')), -1, 'no such column without it');
  });

  it('shows a per-database estimate with each source, lists a database lost whole, and marks an upper bound', () => {
    const report: RunbookReport = {
      ...failedPlannedFailoverReport(),
      runbook: 'forcedFailover',
      outcome: 'succeeded',
      error: undefined,
      gates: undefined,
      warnings: [],
      legs: [
        {
          name: 'failover',
          from: 'eastus',
          to: 'westus',
          failoverSent: true,
          dataLoss: { kind: 'estimated', detail: 'Forced failover: what eastus committed after … is lost.' },
        },
      ],
      dataLossEstimate: {
        method: 'last-commit',
        seconds: 12,
        upperBound: true,
        basis: 'last_commit on fog-orders-mi-westus only: fog-orders-mi-eastus did not answer (connect ETIMEOUT)',
        lostWhole: ['ledger'],
        databases: [
          {
            database: 'sales',
            kind: 'upper-bound',
            seconds: 12,
            source: 'secondary last_commit only (primary unreachable): upper bound',
            replicationState: 'CATCH_UP',
            secondaryLastCommit: '2026-11-22T00:59:04.210Z',
          },
          {
            database: 'ledger',
            kind: 'lost-whole',
            source: 'replication_state_desc on the secondary',
            reason: 'SEEDING on fog-orders-mi-westus: no consistent copy yet',
            replicationState: 'SEEDING',
          },
        ],
      },
    };
    const md = renderReport(report, 'md');
    assert.match(headlineLine(md, 'Data lost'), /^up to 12 s of commits \(estimated\); ledger lost whole — /);
    assert.match(md, /- \*\*At most:\*\* 12 s of commits \(an upper bound\)\n/);
    assert.match(md, /- \*\*Lost whole:\*\* ledger\n/);
    assert.deepEqual(markdownTable(md, 'Data-loss estimate before the forced failover'), [
      [
        '`sales`',
        'CATCH_UP',
        'at most 12 s of commits',
        'secondary last_commit only (primary unreachable): upper bound',
        '2026-11-22 00:59:04 UTC',
        '—',
      ],
      [
        '`ledger`',
        'SEEDING',
        'lost whole',
        'replication_state_desc on the secondary — SEEDING on fog-orders-mi-westus: no consistent copy yet',
        '—',
        '—',
      ],
    ]);
    assert.match(renderReport(report, 'html'), /lost whole/);
  });

  it('lists a fleet’s members and a readiness check’s failing checks, without a failover headline', () => {
    const base = failedPlannedFailoverReport();
    const fleet: RunbookReport = {
      ...base,
      runbook: 'fleetFailover',
      outcome: 'partial',
      error: undefined,
      rolesBefore: undefined,
      legs: [],
      gates: undefined,
      fleet: {
        mode: 'planned',
        region: 'eastus',
        concurrency: 4,
        counts: { failed: 1, succeeded: 1 },
        members: [
          {
            group: 'fleet1-g2',
            outcome: 'failed',
            error: { type: 'PreflightFailed', message: 'Preflight failed for fleet1-g2; nothing was changed.' },
          },
          { group: 'fleet1-g4', outcome: 'succeeded', rtoSeconds: 41, dataLoss: { kind: 'none-proven', detail: '' } },
        ],
      },
    };
    const fleetMd = renderReport(fleet, 'md');
    assert.equal(
      headlineLine(fleetMd, 'Groups'),
      '1 failed, 1 succeeded — planned failover out of eastus, 4 at a time',
    );
    assert.deepEqual(
      markdownTable(fleetMd, 'Fleet members').map((row) => row.slice(0, 5)),
      [
        ['fleet1-g2', 'failed', '—', '—', 'PreflightFailed: Preflight failed for fleet1-g2; nothing was changed.'],
        ['fleet1-g4', 'succeeded', '41 s', 'none-proven', ''],
      ],
    );
    assert.doesNotMatch(fleetMd, /\*\*(RTO failover|Data lost):\*\*/);

    const readiness: RunbookReport = {
      ...base,
      runbook: 'readinessCheck',
      outcome: 'succeeded',
      error: undefined,
      legs: [],
      gates: undefined,
      readiness: {
        verdict: 'fail',
        groups: [
          {
            group: 'fog-ready-1',
            verdict: 'pass',
            checks: [{ name: 'roles-consistent', status: 'pass', message: 'ok', evidence: {} }],
          },
          {
            group: 'fog-ready-4',
            verdict: 'fail',
            checks: [
              { name: 'roles-consistent', status: 'pass', message: 'ok', evidence: {} },
              {
                name: 'logins-match',
                status: 'fail',
                message: 'Login app has a different SID on fog-ready-4-mi-westus',
                action: "Create the login with the primary's SID.",
                evidence: {},
              },
            ],
          },
        ],
      },
    };
    const readinessMd = renderReport(readiness, 'md');
    assert.equal(headlineLine(readinessMd, 'Readiness'), 'fail — 1 of 2 groups not passing');
    assert.deepEqual(markdownTable(readinessMd, 'Readiness checks', 1), [
      [
        'fog-ready-4',
        '`logins-match`',
        'fail',
        'Login app has a different SID on fog-ready-4-mi-westus',
        "Create the login with the primary's SID.",
      ],
    ]);
    assert.doesNotMatch(readinessMd, /\*\*(RTO failover|Data lost):\*\*/);
  });
});

/** The report each recorded run in test/histories ended with: its result, or the report in its failure's details. */
function recordedReports(): [string, RunbookReport][] {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'test', 'histories')) || path.basename(dir) === 'dist') dir = path.dirname(dir);
  const histories = path.join(dir, 'test', 'histories');
  const decode = (payload: { data: string }): unknown => JSON.parse(Buffer.from(payload.data, 'base64').toString());
  return (
    readdirSync(histories)
      .filter((file) => file.endsWith('.json'))
      .map((file) => {
        type Payloads = { payloads: { data: string }[] };
        const { history } = JSON.parse(readFileSync(path.join(histories, file), 'utf8')) as {
          history: { events: Record<string, unknown>[] };
        };
        const last = history.events.at(-1)!;
        const completed = last.workflowExecutionCompletedEventAttributes as { result: Payloads } | undefined;
        const failed = last.workflowExecutionFailedEventAttributes as
          { failure: { applicationFailureInfo: { details: Payloads } } } | undefined;
        const payload = completed?.result.payloads[0] ?? failed?.failure.applicationFailureInfo.details.payloads[0];
        assert.ok(payload, `${file} ends with a result or a failure carrying the report`);
        return [file, decode(payload) as RunbookReport | RunbookSummary] as const;
      })
      // A fleet's child returns its fleet a summary; its report is read through its status, not rendered from history.
      .filter((entry): entry is [string, RunbookReport] => !isRunbookSummary(entry[1]))
  );
}

describe('renderReport on every recorded run', () => {
  const recorded = recordedReports();

  it('finds the recorded runs of every runbook type it has', () => {
    const types = new Set(recorded.map(([, report]) => report.runbook));
    for (const type of [
      'plannedFailover',
      'forcedFailover',
      'failback',
      'drDrill',
      'fleetFailover',
      'readinessCheck',
    ]) {
      assert.ok(types.has(type as RunbookReport['runbook']), `a recorded ${type}`);
    }
  });

  for (const [file, report] of recorded) {
    it(`renders ${file} in every format with its headline and the sections its data calls for`, () => {
      assert.deepEqual(JSON.parse(renderReport(report, 'json')), report);
      const md = renderReport(report, 'md');
      // A display name may hold regular-expression characters (a workload's: `workload (1 VM(s), …)`).
      const named = report.group.displayName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assert.match(md, new RegExp(`^# .+ of ${named}: ${report.outcome}\n`));
      assert.match(headlineLine(md, 'Outcome'), new RegExp(`^${report.outcome} — `));
      const expected: [string, boolean][] = [
        ['Steps', report.steps.length > 0],
        ['Legs', report.legs.length > 0],
        ['Fleet members', report.fleet !== undefined],
        ['Readiness checks', report.readiness !== undefined],
        ['Approval', report.approval !== undefined],
        ['Plan', (report.plan?.length ?? 0) > 0],
        ['Abort', report.abort !== undefined],
        ['Warnings', report.warnings.length > 0],
        ['Smoke checks', (report.drill?.smokeChecks.length ?? 0) > 0],
      ];
      for (const [heading, present] of expected) {
        assert.equal(new RegExp(`^## ${heading}$`, 'm').test(md), present, `## ${heading} in ${file}`);
      }
      const html = renderReport(report, 'html');
      const started = report.steps.filter((step) => step.startedAt).length;
      assert.equal(started > 0 ? svgBars(html).length : 0, started);
    });
  }
});

describe('escaping what the report carries', () => {
  function hostile(): RunbookReport {
    const report = failedPlannedFailoverReport();
    report.steps[1]!.title = '<script>alert(1)</script>';
    report.steps[2]!.name = 'scale"><img src=x onerror=alert(2)>';
    report.group.displayName = 'fog & <b>orders</b>';
    report.warnings.push('Azure said: <iframe src="https://evil.example"></iframe> | pipe');
    return report;
  }

  it('escapes every string from the report in the HTML page, in text and attributes', () => {
    const html = renderReport(hostile(), 'html');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the title shows as text');
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<img|<iframe|<b>orders/i);
    assert.ok(
      html.includes('data-step="scale&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"'),
      'the attribute stays one',
    );
    assert.ok(html.includes('fog &amp; &lt;b&gt;orders&lt;/b&gt;'));
  });

  it('escapes Markdown so HTML and table pipes from the report show as text', () => {
    const md = renderReport(hostile(), 'md');
    assert.ok(md.includes('\\<script\\>alert(1)\\</script\\>'), 'the title shows as text');
    assert.doesNotMatch(md, /(?<!\\)<(script|img|iframe|b>)/);
    const rows = markdownTable(md, 'Steps');
    assert.ok(
      rows.every((row) => row.length === 6),
      'every step row keeps its six cells',
    );
    assert.match(md, /- Azure said: \\<iframe src="https:\/\/evil\.example"\\>\\<\/iframe\\> \\\| pipe/);
  });

  it('makes a page that loads nothing and runs nothing', () => {
    const html = renderReport(drillReport(), 'html');
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">/,
    );
    assert.doesNotMatch(html, /<script|<link|\ssrc=|\shref=|url\(|@import/i);
    assert.ok(html.startsWith('<!doctype html>\n'));
  });
});

describe('the SVG timeline', () => {
  it('draws one bar per step, in order, coloured by state', () => {
    const report = failedPlannedFailoverReport();
    const bars = svgBars(renderReport(report, 'html'));
    assert.deepEqual(
      bars.map((bar) => [bar.step, bar.state]),
      report.steps.map((step) => [step.name, step.state]),
    );
    const fills = new Map(bars.map((bar) => [bar.state, bar.fill]));
    assert.equal(fills.size, 2);
    assert.notEqual(fills.get('failed'), fills.get('succeeded'));
    assert.ok(bars.filter((bar) => bar.state === 'succeeded').every((bar) => bar.fill === fills.get('succeeded')));
  });

  it('gives each bar a width proportional to its step’s duration, placed at its offset from the first start', () => {
    const report = drillReport();
    const bars = svgBars(renderReport(report, 'html'));
    assert.equal(bars.length, report.steps.length);
    const first = Date.parse(report.steps[0]!.startedAt!);
    const span = (Date.parse(report.steps.at(-1)!.endedAt!) - first) / 1000;
    const soak = bars.find((bar) => bar.step === 'soak')!;
    const pxPerSecond = soak.width / stepSeconds(report, 'soak');
    const chartLeft = bars[0]!.x;
    for (const bar of bars) {
      const step = report.steps.find((entry) => entry.name === bar.step)!;
      assert.equal(bar.seconds, stepSeconds(report, bar.step));
      const offset = (Date.parse(step.startedAt!) - first) / 1000;
      assert.ok(Math.abs(bar.x - (chartLeft + offset * pxPerSecond)) < 0.05, `${bar.step} starts at its offset`);
      if (bar.seconds >= 1) {
        assert.ok(Math.abs(bar.width - bar.seconds * pxPerSecond) < 0.05, `${bar.step}: ${bar.width}px`);
      } else {
        assert.ok(bar.width >= 2 && bar.width <= 3, `${bar.step} shows as a sliver: ${bar.width}px`);
      }
    }
    const last = bars.at(-1)!;
    assert.ok(
      Math.abs(last.x + last.seconds * pxPerSecond - (chartLeft + span * pxPerSecond)) < 0.05,
      'the axis ends at the last end',
    );
    const awaitRoles = bars.find((bar) => bar.step === 'await-roles')!;
    assert.ok(Math.abs(soak.width / awaitRoles.width - 120.03 / 38.4) < 0.001);
  });

  it('shades each leg from its request to every database writable, or to the end when it never got there', () => {
    const drill = renderReport(drillReport(), 'html');
    const bars = svgBars(drill);
    const pxPerSecond = bars.find((bar) => bar.step === 'soak')!.width / 120.03;
    const band = (html: string, leg: string): { x: number; width: number; label: string } => {
      const group = new RegExp(`<g class="leg leg-${leg}"[\\s\\S]*?</g>`).exec(html)?.[0];
      assert.ok(group, `the ${leg} leg is marked`);
      const rect = /<rect class="leg-band"[^>]*>/.exec(group)![0];
      return {
        x: Number(attribute(rect, 'x')),
        width: Number(attribute(rect, 'width')),
        label: /<text class="leg-label"[^>]*>([^<]*)<\/text>/.exec(group)![1]!,
      };
    };
    const failover = band(drill, 'failover');
    assert.equal(failover.label, 'failover eastus → westus · RTO 40.5 s');
    assert.equal(failover.x, bars.find((bar) => bar.step === 'failover')!.x);
    assert.ok(Math.abs(failover.width - 40.52 * pxPerSecond) < 0.05, `${failover.width}px`);
    assert.equal(band(drill, 'failback').label, 'failback westus → eastus · RTO 39.2 s');
    assert.equal((drill.match(/<rect class="downtime"/g) ?? []).length, 2, 'one red mark per probe window');

    const failed = renderReport(failedPlannedFailoverReport(), 'html');
    const failedBars = svgBars(failed);
    const never = band(failed, 'failover');
    assert.equal(never.label, 'failover eastus → westus · never all writable');
    const end = failedBars.at(-1)!;
    assert.ok(Math.abs(never.x + never.width - (end.x + end.width)) < 0.05, 'the band runs to the end of the axis');
    assert.doesNotMatch(failed, /leg-failback|class="downtime"/);
  });

  it('draws no bar for a step that never started, and no timeline when no step did', () => {
    const report = failedPlannedFailoverReport();
    report.steps.push({ name: 'await-writable', title: 'Wait until writable', state: 'pending' });
    const html = renderReport(report, 'html');
    assert.equal(svgBars(html).length, report.steps.length - 1);
    assert.match(html, /<text class="not-started"[^>]*>not started<\/text>/);

    const none = failedPlannedFailoverReport();
    none.steps = [];
    none.legs = [];
    assert.doesNotMatch(renderReport(none, 'html'), /<svg/);
  });
});

describe('the parts of a group’s life in a report', () => {
  it('says whether each objective was met, and shows each hook’s redacted request and answer', () => {
    const report = drillReport();
    report.objectives = {
      rto: { targetMs: 60_000, measuredMs: 42_000, met: true },
      rpo: { targetMs: 5_000, measuredMs: 12_000, met: false },
    };
    report.hooks = [
      {
        name: 'purge-cache',
        phase: 'after',
        request: { method: 'POST', url: 'https://cache.example.com/purge', headers: { authorization: '[redacted]' } },
        response: { status: 503, headers: {}, body: 'busy' },
        ok: false,
        durationMs: 35,
        error: 'answered 503',
      },
    ];
    const md = renderReport(report, 'md');
    assert.deepEqual(markdownTable(md, 'Objectives'), [
      ['RTO', '1m', '42s', 'met'],
      ['RPO', '5s', '12s', 'missed'],
    ]);
    const [hook] = markdownTable(md, 'Hooks');
    assert.equal(hook![0], '`purge-cache`');
    assert.equal(hook![3], '503 busy');
    const html = renderReport(report, 'html');
    assert.ok(html.includes('missed'));
  });

  it('shows a group’s creation with each database’s seeding', () => {
    const report = drillReport();
    report.establish = {
      primaryInstanceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-east',
      secondaryInstanceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-west',
      creation: 'created',
      seeding: {
        since: '2026-12-01T00:00:00.000Z',
        endedAt: '2026-12-06T00:00:00.000Z',
        polls: 240,
        databases: [
          { database: 'crm', state: 'Completed', percent: 100 },
          { database: 'billing', state: 'Transferring', percent: 40 },
        ],
      },
    };
    const md = renderReport(report, 'md');
    assert.deepEqual(markdownTable(md, 'Group creation and seeding'), [
      ['`crm`', 'Completed', '100%'],
      ['`billing`', 'Transferring', '40%'],
    ]);
  });

  it('shows a restore: the databases it made, each check against what it expected, the swap and the secondary', () => {
    const report = drillReport();
    const check = (name: string, read: number, expected: string, passed: boolean) => ({
      name,
      kind: 'query' as const,
      reads: 'SELECT COUNT(*) FROM dbo.orders',
      expected,
      read,
      passed,
    });
    report.restore = {
      database: 'sales',
      primaryInstanceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-east',
      secondaryInstanceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-west',
      pointInTime: '2026-12-06T02:15:00.000Z',
      mode: 'pointInTime',
      restored: {
        name: 'sales_restored',
        creation: 'created',
        from: 'sales as of 02:15',
        onlineAt: '2026-12-06T03:00:00Z',
      },
      checks: [check('orders', 120, '= 120', true), check('refunds', 7, '= 9', false)],
      swap: {
        unavailable: { from: '2026-12-06T03:10:00Z', to: '2026-12-06T03:40:00Z' },
        inPlace: { name: 'sales', creation: 'created', from: 'sales as of 02:15', onlineAt: '2026-12-06T03:40:00Z' },
        damagedAside: { name: 'sales_damaged_202612060310', creation: 'created', from: 'the damaged sales' },
      },
      secondary: { database: 'sales', status: 'Online', polls: 3 },
    };
    const md = renderReport(report, 'md');
    assert.deepEqual(
      markdownTable(md, 'Restore').map((row) => row.slice(0, 2)),
      [
        ['restored', '`sales_restored`'],
        ['in place', '`sales`'],
        ['damage aside', '`sales_damaged_202612060310`'],
      ],
    );
    assert.deepEqual(
      markdownTable(md, 'Restore', 1).map((row) => [row[0], row[2], row[3], row[4]]),
      [
        ['orders', '= 120', '120', 'passed'],
        ['refunds', '= 9', '7', 'failed'],
      ],
    );
    assert.match(md, /Database missing/);
  });

  it('shows what a workload protection did per VM and per Cosmos DB account', () => {
    const report = drillReport();
    report.protection = {
      vault: 'vault-app',
      policy: 'DailyPolicy',
      vms: [
        {
          vmId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-app',
          name: 'vm-app',
          action: 'protected',
          before: 'unprotected',
          backup: {
            request: 'sent',
            keepUntil: '2027-01-05T00:00:00Z',
            jobId: 'job-1',
            jobStatus: 'Completed',
            recoveryPointTime: '2026-12-06T03:30:00Z',
          },
        },
      ],
      accounts: [
        {
          accountId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/orders',
          name: 'orders',
          location: 'eastus',
          action: 'migrated',
          policyBefore: 'Periodic',
          policyAfter: 'Continuous',
          tier: 'Continuous7Days',
          migrationStatus: 'Completed',
        },
      ],
    };
    const md = renderReport(report, 'md');
    assert.deepEqual(markdownTable(md, 'Protection'), [
      ['`vm-app`', 'unprotected', 'protected', 'job-1: Completed', '2026-12-06T03:30:00Z'],
    ]);
    assert.deepEqual(markdownTable(md, 'Protection', 1)[0]!.slice(0, 4), [
      '`orders`',
      'Periodic',
      'migrated',
      'Continuous (Continuous7Days), migration Completed',
    ]);
  });
});
