/**
 * The fault-storm matrix: every emulator fault kind during every runbook, judged by the emulator (see
 * bench/fault-matrix.ts). Prints the fault × runbook table, writes docs/results/fault-storm.md and .json, and exits
 * non-zero when any cell is UNSAFE.
 *
 *   node dist/bench/fault-storm.js [--faults id,id] [--runbooks id,id] [--bound-seconds N] [--speed N] [--no-write]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  DEFAULT_CELL_BOUND_MS,
  DEFAULT_SPEED,
  FAULTS,
  RUNBOOKS,
  createRig,
  markdownTable,
  runMatrix,
  totalsOf,
  type CellResult,
  type MatrixTotals,
} from './fault-matrix';
import { repoRoot } from '../test/support/temporal';

const COMMAND = 'npm run --silent build && node dist/bench/fault-storm.js';

function list(value: string | undefined): Set<string> | undefined {
  return value ? new Set(value.split(',').map((entry) => entry.trim())) : undefined;
}

function markdownReport(
  results: CellResult[],
  totals: MatrixTotals,
  meta: { wallSeconds: number; speed: number; boundSeconds: number; command: string; at: string },
): string {
  const faults = FAULTS.filter((fault) => results.some((result) => result.fault === fault.id));
  const runbooks = RUNBOOKS.filter((runbook) => results.some((result) => result.runbook === runbook.id));
  const notApplicable = new Map<string, string>();
  for (const result of results) {
    if (result.notApplicable) notApplicable.set(`${result.runbook}: ${result.notApplicable}`, result.fault);
  }
  const details = results
    .filter((result) => result.verdict !== 'n/a')
    .map((result) => {
      const lines = [
        `- **${result.fault} × ${result.runbook}** — ${result.verdict}, ${result.outcome}` +
          `${result.failure?.failedStep ? ` at \`${result.failure.failedStep}\`` : ''}; aimed at ${result.aim}; ` +
          `fault hit: ${result.faultHit ? 'yes' : 'no'}; activity retries ${result.activityRetries}; faulted ARM answers ` +
          `${result.armFaulted}; failover POSTs accepted ${JSON.stringify(result.acceptedTo)}; primary after: ` +
          `${result.primaryAfter}${result.failoverInProgress ? ' (failover still in progress)' : ''}; ` +
          `stated: ${result.stated ?? '—'}; endpoint writes accepted ${JSON.stringify(result.endpointChecks?.accepted ?? {})}; ` +
          `${(result.wallMs / 1000).toFixed(1)} s`,
      ];
      if (result.failure) lines.push(`  - message: ${result.failure.message.replace(/\s+/g, ' ').slice(0, 600)}`);
      for (const note of result.notes.slice(0, 4)) lines.push(`  - ${note.replace(/\s+/g, ' ').slice(0, 300)}`);
      for (const problem of result.problems) lines.push(`  - **problem**: ${problem}`);
      return lines.join('\n');
    });
  return [
    '# Fault storms: fault × runbook × outcome',
    '',
    `Generated ${meta.at} by \`${meta.command}\` (wall time ${meta.wallSeconds.toFixed(0)} s on ${os.cpus().length} CPU(s); ` +
      `emulator speed ${meta.speed}×; each cell bounded at ${meta.boundSeconds} s of real time).`,
    '',
    'Each cell runs the real workflow with the real activities (@azure/arm-sql over HTTP, mssql over TDS) on the',
    'time-skipping test server against a freshly loaded emulator world with the fault installed through the',
    "emulator's admin API (`POST /_admin/faults`). A cell is **safe** when the run ended `succeeded`, or failed with a",
    'documented failure type whose report names the failed step and states where the group stands — and that',
    "statement matches the emulator's world — with no invariant violation, at most one accepted failover POST per",
    'direction, no accepted failover the report does not record, no lost commits without a forced failover, and (for',
    'scaleGroup) the secondary never left smaller than the primary unannounced; and, judged from the clients’ side by',
    'writers through each instance’s own endpoint (one write per instance every ~150 ms), never two instances accepting',
    'writes at the same time and no acknowledged write lost beyond the emulator’s own count of discarded commits.',
    'Anything else — a hang, an undocumented',
    'failure type, a missing report — is **UNSAFE**.',
    '',
    'Cells: `ok (N retries)` succeeded after N failed activity attempts it recovered from (Temporal retries, and the',
    "workflow's own: a failover request checked and sent again); `Type · safe (at step; state)` ended in a stated safe",
    'state, `partial · safe` a fleet where some groups ended so; `n/a` the fault cannot touch that runbook (see below);',
    '`fault not hit` the fault was installed but the run never met it.',
    '',
    markdownTable(results),
    '',
    `**Totals**: ${totals.cells} cells — ${totals.succeeded} succeeded, ${totals.safeFailures} ended in a stated safe ` +
      `state, ${totals.unsafe} UNSAFE, ${totals.notApplicable} n/a; ${totals.faultNotHit} cell(s) where the fault was ` +
      'not hit.',
    '',
    '## Runbooks',
    '',
    ...runbooks.map(
      (runbook) => `- **${runbook.title}**: \`${runbook.workflowType}\` with \`${JSON.stringify(runbook.input)}\``,
    ),
    '',
    '## Faults',
    '',
    ...faults.map((fault) => `- **${fault.title}** (\`${fault.kind}\`)`),
    '',
    '## Why n/a',
    '',
    ...[...notApplicable.keys()].sort().map((text) => `- ${text}`),
    '',
    '## Method notes',
    '',
    "- The emulator runs at its speed factor in real time; the runbooks' timers skip on the time-skipping test server.",
    "  Timestamps inside messages are the test server's clock, which runs years ahead (it skips to a ten-year timer of",
    "  its own whenever a run ends); the emulator's clock is moved up to it before each cell, so ages measured across",
    '  the two (restore points, replication) stay true.',
    '- The drill runs with `smoke.write: false`: its write probe is an activity that runs for the whole drill, and while',
    '  an activity runs the test server does not skip time, so a drill with the probe takes minutes of real time per cell',
    '  (the chaos drills on the dev server exercise the probe).',
    "- `latency` on the write is 2.2 s against the client's 2 s timeout: the request takes effect after the runbook gave",
    "  up on its answer. The runbook then looks for the request's effect for 45 s of workflow time before sending again,",
    '  which the test server compresses into milliseconds; a much later arrival would meet a world real time could not',
    '  reach (the failback already done). Requests still in flight when a run ends are awaited and judged in its cell.',
    '- `region-dark` holds each request 100 ms, then drops the connection, so a step retries through its whole 15-minute',
    '  budget in seconds of real time.',
    '',
    '## Every cell',
    '',
    ...details,
    '',
    `Reproduce: \`${meta.command}\` (or \`npm run chaos\`). The fast subset runs in \`npm test\` as ` +
      '`test/reliability/fault-storm.test.ts`.',
    '',
  ].join('\n');
}

/** The text as the repository's Prettier settings format it (`npm run lint` checks docs/ too). */
async function formatted(file: string, text: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      faults: { type: 'string' },
      runbooks: { type: 'string' },
      'bound-seconds': { type: 'string' },
      speed: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const faultIds = list(values.faults);
  const runbookIds = list(values.runbooks);
  const boundMs = values['bound-seconds'] ? Number(values['bound-seconds']) * 1000 : DEFAULT_CELL_BOUND_MS;
  const speed = values.speed ? Number(values.speed) : DEFAULT_SPEED;
  const faults = FAULTS.filter((fault) => !faultIds || faultIds.has(fault.id));
  const runbooks = RUNBOOKS.filter((runbook) => !runbookIds || runbookIds.has(runbook.id));
  if (faults.length === 0 || runbooks.length === 0) {
    console.error(
      `Nothing to run. Faults: ${FAULTS.map((fault) => fault.id).join(', ')}. Runbooks: ${RUNBOOKS.map((runbook) => runbook.id).join(', ')}.`,
    );
    process.exit(2);
  }

  const startedAt = performance.now();
  const rig = await createRig({ speed });
  let results: CellResult[];
  try {
    results = await runMatrix(rig, {
      faults,
      runbooks,
      boundMs,
      onCell: (result) =>
        console.log(
          `${result.fault.padEnd(26)} ${result.runbook.padEnd(15)} ${(result.wallMs / 1000).toFixed(1).padStart(5)} s  ${result.cell}` +
            (result.problems.length ? `\n    ${result.problems.join('\n    ')}` : ''),
        ),
    });
  } finally {
    await rig.close();
  }
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const totals = totalsOf(results);
  const filtered = faultIds || runbookIds;
  const command = filtered
    ? `node dist/bench/fault-storm.js${values.faults ? ` --faults ${values.faults}` : ''}${values.runbooks ? ` --runbooks ${values.runbooks}` : ''}`
    : COMMAND;
  console.log(`\n${markdownTable(results)}\n`);
  console.log(
    `${totals.cells} cells: ${totals.succeeded} succeeded, ${totals.safeFailures} stated safe state, ${totals.unsafe} UNSAFE, ` +
      `${totals.notApplicable} n/a, ${totals.faultNotHit} fault not hit — wall ${wallSeconds.toFixed(0)} s`,
  );
  if (!values['no-write']) {
    const dir = path.join(repoRoot, 'docs', 'results');
    mkdirSync(dir, { recursive: true });
    const meta = { wallSeconds, speed, boundSeconds: boundMs / 1000, command, at: new Date().toISOString() };
    const md = path.join(dir, 'fault-storm.md');
    const json = path.join(dir, 'fault-storm.json');
    writeFileSync(md, await formatted(md, markdownReport(results, totals, meta)));
    writeFileSync(
      json,
      await formatted(json, `${JSON.stringify({ ...meta, cpus: os.cpus().length, totals, results }, null, 2)}\n`),
    );
    console.log(`Wrote ${path.relative(process.cwd(), path.join(dir, 'fault-storm.md'))} and fault-storm.json`);
  }
  process.exit(totals.unsafe > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
