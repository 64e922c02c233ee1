/**
 * Fleet history: how much of Temporal's per-workflow limits (50 MB and 51,200 events of history, 2 MB per payload) a
 * `fleetFailover` uses, for fleets of N groups with M databases each. Real workflows and activities over scripted
 * groups on the time-skipping test server; every group fails over (a planned failover with one copy-sync wait per
 * database). Writes docs/results/fleet-history.md and .json.
 *
 *   node dist/bench/fleet-history.js [--groups 100,500] [--databases 50] [--concurrency 100] [--no-write]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureFleetHistory, type FleetHistoryFigures } from '../test/support/fleet-history';
import { StartedWorkflows } from '../test/support/runbook-harness';
import { createTimeSkippingEnvironment, repoRoot, workflowBundle } from '../test/support/temporal';
import { flag, machineInfo } from './bench-rig';

const LIMITS = { historyBytes: 50 * 1024 * 1024, historyEvents: 51_200, payloadBytes: 2 * 1024 * 1024 };

const percent = (value: number, limit: number) => `${((value / limit) * 100).toFixed(1)}%`;

function markdown(figures: FleetHistoryFigures[], meta: Record<string, unknown>): string {
  const rows = figures.map(
    (entry) =>
      `| ${entry.groups} × ${entry.databasesPerGroup} | ${entry.outcome} | ${entry.fleet.events} (${percent(entry.fleet.events, LIMITS.historyEvents)}) | ` +
      `${entry.fleet.bytes} (${percent(entry.fleet.bytes, LIMITS.historyBytes)}) | ${entry.perGroup.events} | ${entry.perGroup.bytes} | ` +
      `${entry.reportBytes} (${percent(entry.reportBytes, LIMITS.payloadBytes)}) | ${entry.fleet.largestEventPayloadBytes} | ${entry.wallSeconds} |`,
  );
  return [
    '# Fleet history',
    '',
    `\`${String(meta.command)}\` — ${String(meta.at)}, ${String(meta.cpus)} CPUs, Node ${process.version}.`,
    '',
    'A `fleetFailover` (planned, every group failing over) on the time-skipping test server, real workflows and ' +
      'activities over scripted groups. Bytes are the server’s own count of the fleet’s history (`historySizeBytes` ' +
      'of its last workflow task), which Temporal’s 50 MB limit applies to; events against the 51,200-event limit; ' +
      'the report (the fleet’s result, one payload) against the 2 MB payload limit. Each child returns a summary to ' +
      'the fleet; its full report stays in its own run.',
    '',
    '| groups × databases | outcome | history events (of 51,200) | history bytes (of 50 MB) | events per group | bytes per group | report bytes (of 2 MB) | largest event payload | wall s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const groups = (flag(argv, 'groups') ?? '100,500').split(',').map(Number);
  const databases = Number(flag(argv, 'databases') ?? 50);
  const concurrency = Number(flag(argv, 'concurrency') ?? 100);
  const command = `node dist/bench/fleet-history.js --groups ${groups.join(',')} --databases ${databases} --concurrency ${concurrency}`;
  const env = await createTimeSkippingEnvironment();
  await workflowBundle();
  const started = new StartedWorkflows();
  const figures: FleetHistoryFigures[] = [];
  try {
    for (const [index, size] of groups.entries()) {
      const measured = await measureFleetHistory(env, started, {
        groups: size,
        databases,
        concurrency,
        prefix: `bench${index + 1}`,
      });
      console.log(JSON.stringify(measured));
      figures.push(measured);
      await started.terminateAll(env);
    }
  } finally {
    await env.teardown();
  }
  if (argv.includes('--no-write')) return;
  const dir = path.join(repoRoot, 'docs', 'results');
  mkdirSync(dir, { recursive: true });
  const meta = {
    command,
    at: new Date().toISOString(),
    cpus: os.cpus().length,
    machine: machineInfo(),
    limits: LIMITS,
  };
  writeFileSync(path.join(dir, 'fleet-history.md'), markdown(figures, meta));
  writeFileSync(path.join(dir, 'fleet-history.json'), `${JSON.stringify({ ...meta, figures }, null, 2)}\n`);
  console.log('Wrote docs/results/fleet-history.md and fleet-history.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
