/**
 * `npm run demo`'s program, run as a new user would see it: a dev server, the emulator and a worker come up, a drill
 * runs to its end, the report is written and its path printed, and `--json` puts the report on the last line; with
 * `--group fog-orders` the drill is of the SQL Database server failover group.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunbookReport } from '../src/workflows/definitions';
import { DEMO_GROUPS, parseDemoArgs } from '../src/demo';
import { findTemporalCli, repoRoot } from './support/temporal';

describe('the demo', { timeout: 240_000 }, () => {
  it('runs a drill end to end, writes the report, says where it is, and prints it as the last line with --json', async () => {
    const outputDir = mkdtempSync(path.join(os.tmpdir(), 'fogpilot-demo-'));
    const cli = findTemporalCli();
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'demo.js'), '--json'], {
      env: {
        ...process.env,
        FOGPILOT_PAYLOAD_KEYS: undefined,
        FOGPILOT_DEMO_OUTPUT: outputDir,
        ...(cli ? { FOGPILOT_TEMPORAL_CLI: cli } : {}),
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);

    assert.match(stderr, /Temporal dev server at 127\.0\.0\.1:\d+; its UI: http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stderr, /payloads encrypted \(AES-256-GCM\) with a key made for this session \(key id demo-\d+/);
    assert.match(stderr, /succeeded +failback\/await-roles/, 'live progress shows the steps');
    const reportPath = /report: (\S+\.html)/.exec(stderr)?.[1];
    assert.ok(reportPath && existsSync(reportPath), `the report path is printed and exists: ${reportPath}`);
    assert.ok(existsSync(reportPath.replace(/\.html$/, '.md')));
    assert.match(readFileSync(reportPath, 'utf8'), /<svg/);

    const lastLine = stdout.trim().split('\n').at(-1)!;
    const report = JSON.parse(lastLine) as RunbookReport;
    assert.equal(report.runbook, 'drDrill');
    assert.equal(report.outcome, 'succeeded');
    assert.equal(report.drill?.dataLoss, 'none');
    assert.equal(report.drill?.probe?.lostAcknowledged, 0);
    assert.ok((report.drill?.rtoFailoverSeconds ?? 0) > 0 && (report.drill?.rtoFailbackSeconds ?? 0) > 0);
  });
});

describe('the demo of the SQL Database group', { timeout: 240_000 }, () => {
  it('drills fog-orders with --group fog-orders: the server failover group over and back, nothing lost', async () => {
    const outputDir = mkdtempSync(path.join(os.tmpdir(), 'fogpilot-demo-'));
    const cli = findTemporalCli();
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'dist', 'src', 'demo.js'), '--group', 'fog-orders', '--json'],
      {
        env: {
          ...process.env,
          FOGPILOT_PAYLOAD_KEYS: undefined,
          FOGPILOT_DEMO_OUTPUT: outputDir,
          ...(cli ? { FOGPILOT_TEMPORAL_CLI: cli } : {}),
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /a DR drill of fog-orders/);
    assert.match(stderr, /drilling fog-orders, an Azure SQL Database server failover group/);
    assert.match(stderr, /succeeded +failback\/await-roles/);
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as RunbookReport;
    assert.equal(report.runbook, 'drDrill');
    assert.equal(report.group.displayName, 'fog-orders');
    assert.equal(report.outcome, 'succeeded');
    assert.equal(report.drill?.dataLoss, 'none');
    assert.equal(report.drill?.probe?.lostAcknowledged, 0);
  });
});

describe("the demo's arguments", () => {
  it('drills fog-sales by default and the SQL Database group with --group fog-orders, refusing other groups and arguments', () => {
    assert.deepEqual(parseDemoArgs([]), { json: false, group: 'fog-sales', help: false });
    assert.deepEqual(parseDemoArgs(['--group', 'fog-orders', '--json']), {
      json: true,
      group: 'fog-orders',
      help: false,
    });
    assert.deepEqual(parseDemoArgs(['--group=fog-orders']).group, 'fog-orders');
    assert.throws(() => parseDemoArgs(['--group', 'fog-nowhere']), /fog-sales and fog-orders/);
    assert.throws(() => parseDemoArgs(['--group']), /needs a group name/);
    assert.throws(() => parseDemoArgs(['--soak', '1m']), /unknown argument --soak/);
    assert.deepEqual([...DEMO_GROUPS], ['fog-sales', 'fog-orders']);
  });

  it('says in its help that it can drill either group, and exits 2 on an argument it does not know', () => {
    const demo = path.join(repoRoot, 'dist', 'src', 'demo.js');
    const help = spawnSync(process.execPath, [demo, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--group <name>/);
    assert.match(help.stdout, /fog-orders \(Azure SQL Database server failover group/);
    const wrong = spawnSync(process.execPath, [demo, '--group', 'fog-nowhere'], { encoding: 'utf8' });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /--group fog-nowhere/);
  });
});
