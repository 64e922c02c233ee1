/**
 * `npm run demo`: the first five minutes of a new user. Starts a Temporal dev server (its UI on a printed port), the
 * emulator and a worker, runs a DR drill with live progress, writes the drill report and says where it is. Ctrl-C
 * stops everything it started. The drill is of the managed-instance group `fog-sales`, or, with `--group fog-orders`,
 * of the default world's Azure SQL Database server failover group.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { FogpilotClient } from './client';
import {
  EncryptionCodec,
  encryptingDataConverter,
  PAYLOAD_KEYS_ENV,
  parsePayloadKeys,
  payloadKeysFromEnvironment,
} from './codec';
import { DEFAULT_TASK_QUEUE } from './config/task-queue';
import { fogpilotVariable } from './config/environment';
import { lockWorkflowId } from './domain/group-ref';
import { findTemporalCli, freePort, packageRoot, startDevServerProcess } from './dev-server';
import { startEmulator, type Emulator } from './emulator';
import { emulatorAdapters, emulatorInventory } from './emulator/adapters';
import { renderReport } from './report';
import { createLogger, installRuntime } from './runtime';
import { createFogpilotWorker } from './worker';
import { FOGPILOT_SEARCH_ATTRIBUTES } from './workflows/search-attributes';
import type { RunbookReport, RunbookStatus } from './workflows/definitions';

/** The groups of the emulator's default world the demo can drill: the managed-instance one first (the default). */
export const DEMO_GROUPS = ['fog-sales', 'fog-orders'] as const;

export const DEMO_HELP = `Usage: npm run demo -- [--group <name>] [--json]

A DR drill against the offline Azure emulator: a Temporal dev server, the emulator and a worker start, the drill runs
with live progress, and its report is written (FOGPILOT_DEMO_OUTPUT, default reports/).

Options:
  --group <name>  the group to drill: fog-sales (Azure SQL Managed Instance failover group, the default) or
                  fog-orders (Azure SQL Database server failover group: servers fog-orders-eastus and
                  fog-orders-westus, databases orders, payments, ledger)
  --json          print the report as the last line of stdout (everything else goes to stderr)
  -h, --help      this help
`;

/** The demo's arguments: `--json`, `--group <name>` (or `--group=<name>`), `--help`; anything else is refused. */
export function parseDemoArgs(argv: string[]): { json: boolean; group: string; help: boolean } {
  const parsed = { json: false, group: DEMO_GROUPS[0] as string, help: false };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === '--json') parsed.json = true;
    else if (argument === '--help' || argument === '-h') parsed.help = true;
    else if (argument === '--group' || argument.startsWith('--group=')) {
      const value = argument === '--group' ? argv[++index] : argument.slice('--group='.length);
      if (!value) throw new Error('--group needs a group name: fog-sales or fog-orders');
      if (!(DEMO_GROUPS as readonly string[]).includes(value))
        throw new Error(`--group ${value}: the demo's world has ${DEMO_GROUPS.join(' and ')}`);
      parsed.group = value;
    } else throw new Error(`unknown argument ${argument} (npm run demo -- --help)`);
  }
  return parsed;
}

export interface DemoOptions {
  json: boolean;
  /** The group to drill (default fog-sales). */
  group?: string;
  /** Where the report files go. */
  outputDir: string;
  /** Emulated seconds per real second. */
  speed: number;
  soak: string;
}

function say(options: DemoOptions, line: string): void {
  // With --json the last line of stdout is the report; everything for people goes to stderr.
  (options.json ? process.stderr : process.stdout).write(`${line}\n`);
}

interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** `temporal server start-dev` (in memory, fogpilot's search attributes registered), or the SDK's download of it. */
async function startDevServer(options: DemoOptions): Promise<DevServer> {
  const cli = findTemporalCli();
  if (cli) {
    const server = await startDevServerProcess(cli, { ui: true, readyTimeoutMs: 60_000 });
    return { address: server.address, uiUrl: server.uiUrl!, stop: () => server.stop() };
  }
  say(options, '· no Temporal CLI found (FOGPILOT_TEMPORAL_CLI, .tools/bin, PATH): letting the SDK download one');
  const port = await freePort();
  const uiPort = await freePort();
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { ip: '127.0.0.1', port, ui: true, uiPort, searchAttributes: [...FOGPILOT_SEARCH_ATTRIBUTES] },
  });
  return { address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${uiPort}`, stop: () => env.teardown() };
}

/**
 * The demo's payload encryption: the user's FOGPILOT_PAYLOAD_KEYS when set, else a key made for this session and held in
 * memory only (the dev server is in memory too), so the demo's history is encrypted as a production one should be.
 */
function demoPayloadCodec(options: DemoOptions): EncryptionCodec {
  const given = payloadKeysFromEnvironment();
  if (given) {
    say(options, `· payloads encrypted (AES-256-GCM) with ${PAYLOAD_KEYS_ENV}, key id ${given.currentKeyId}`);
    return new EncryptionCodec(given);
  }
  const keyId = `demo-${Date.now()}`;
  say(
    options,
    `· payloads encrypted (AES-256-GCM) with a key made for this session (key id ${keyId}, held in memory only): ` +
      `the UI shows them encrypted and nothing can decrypt them after the demo. To read the histories in the UI, ` +
      `export ${PAYLOAD_KEYS_ENV}="demo:$(openssl rand -base64 32)" before the demo and run \`fogpilot codec-server\` ` +
      'in a shell with the same value (docs/cli.md, "Reading encrypted histories").',
  );
  return new EncryptionCodec(parsePayloadKeys(`${keyId}:${randomBytes(32).toString('base64')}`));
}

/** The group to drill in the emulator's world: its coordinates (for the lock holder's id) and what it is. */
function demoGroup(
  emulator: Emulator,
  name: string,
): { subscriptionId: string; resourceGroup: string; name: string; description: string } {
  const instanceGroup = emulator.world.findGroup(name);
  if (instanceGroup)
    return {
      subscriptionId: instanceGroup.subscriptionId,
      resourceGroup: instanceGroup.resourceGroup,
      name: instanceGroup.name,
      description: `${instanceGroup.name}, an Azure SQL Managed Instance failover group`,
    };
  const serverGroup = emulator.world.findSqlGroup(name);
  const primary = serverGroup && emulator.world.sqlServerById(serverGroup.primaryServerId);
  if (!serverGroup || !primary) throw new Error(`the emulator's world has no group ${name}`);
  const servers = serverGroup.serverIds.flatMap((id) => emulator.world.sqlServerById(id)?.name ?? []);
  return {
    subscriptionId: serverGroup.subscriptionId,
    resourceGroup: primary.resourceGroup,
    name: serverGroup.name,
    description:
      `${serverGroup.name}, an Azure SQL Database server failover group (servers ${servers.join(', ')}; ` +
      `databases ${serverGroup.databases.join(', ')})`,
  };
}

function describeStep(status: RunbookStatus): string[] {
  return status.steps.map((step) => `${step.name}:${step.state}`);
}

export async function runDemo(options: DemoOptions): Promise<RunbookReport> {
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    say(options, '\nstopping everything the demo started…');
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    installRuntime({
      logger: createLogger({ level: fogpilotVariable('FOGPILOT_LOG_LEVEL') ?? 'error', format: 'json' }),
    });
    const groupName = options.group ?? DEMO_GROUPS[0];
    say(
      options,
      `fogpilot demo: a DR drill of ${groupName} (eastus → westus → eastus) against the offline Azure emulator`,
    );
    // Before anything starts: a bad FOGPILOT_PAYLOAD_KEYS stops the demo at once.
    const dataConverter = encryptingDataConverter(demoPayloadCodec(options));
    const server = await startDevServer(options);
    cleanups.push(() => server.stop());
    say(options, `· Temporal dev server at ${server.address}; its UI: ${server.uiUrl}`);

    // TLS and tokens on, as against Azure: the SDK's bearer policy runs and SQL connections are encrypted.
    const emulator: Emulator = await startEmulator({ speed: options.speed, tls: true });
    cleanups.push(() => emulator.close());
    const line = emulator.startLine();
    say(options, `· Azure emulator: ARM at ${line.armEndpoint}, SQL at ${Object.values(line.sql.hosts).join(', ')}`);

    const group = demoGroup(emulator, groupName);
    say(options, `· drilling ${group.description}`);
    const inventory = emulatorInventory(emulator);
    const { controlPlane, serverGroupPlane, dataPlane } = emulatorAdapters(emulator);
    cleanups.push(() => dataPlane.close());
    const connection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const taskQueue = DEFAULT_TASK_QUEUE;
    const worker = await createFogpilotWorker({
      connection,
      taskQueue,
      dependencies: {
        controlPlane,
        serverGroupPlane,
        dataPlane,
        inventory,
      },
      dataConverter,
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    });
    say(options, `· worker polling task queue ${taskQueue}`);

    const clientConnection = await Connection.connect({ address: server.address });
    cleanups.push(() => clientConnection.close());
    const fogpilot = new FogpilotClient(new Client({ connection: clientConnection, dataConverter }), taskQueue);
    const started = await fogpilot.start('drDrill', {
      group: groupName,
      soak: options.soak,
      requestedBy: 'npm run demo',
      reason: 'first look at fogpilot',
    });
    say(options, `· drill started: workflow ${started.workflowId}`);
    say(
      options,
      `  watch it in the UI: ${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(started.workflowId)}`,
    );

    // Live progress: the lock holder does the work; its status query shows each step as it changes.
    const lockHolder = lockWorkflowId(group);
    const seen = new Set<string>();
    let finished = false;
    const progress = setInterval(() => {
      fogpilot
        .status(lockHolder)
        .then((status) => {
          // A status answer still on its way when the drill ends must not print after the summary.
          if (finished) return;
          for (const entry of describeStep(status)) {
            if (seen.has(entry)) continue;
            seen.add(entry);
            const [name, state] = entry.split(':');
            if (state !== 'running' || !seen.has(`${name}:succeeded`)) say(options, `  ${state!.padEnd(9)} ${name}`);
          }
        })
        .catch(() => undefined);
    }, 500);
    const outcome = await fogpilot.result(started.workflowId);
    finished = true;
    clearInterval(progress);
    const report = outcome.report;
    if (!report) throw new Error(`the drill ended without a report (${outcome.failure?.message ?? 'unknown'})`);
    // The steps that ended after the last status answer, from the report, so the list above is complete.
    for (const step of report.steps) {
      if (!seen.has(`${step.name}:${step.state}`) && step.state !== 'running')
        say(options, `  ${step.state.padEnd(9)} ${step.name}`);
    }

    mkdirSync(options.outputDir, { recursive: true });
    const base = path.join(
      options.outputDir,
      `drill-${report.group.displayName}-${report.startedAt.replace(/[:.]/g, '-')}`,
    );
    for (const format of ['md', 'html', 'json'] as const)
      writeFileSync(`${base}.${format}`, renderReport(report, format));
    const drill = report.drill;
    say(options, '');
    say(
      options,
      `drill ${report.outcome}${outcome.failure ? ` (${outcome.failure.type}: ${outcome.failure.message})` : ''}: ` +
        `RTO ${drill?.rtoFailoverSeconds ?? '?'} s over, ${drill?.rtoFailbackSeconds ?? '?'} s back; ` +
        `downtime seen by the probe ${drill?.probe?.downtimeSeconds ?? '?'} s; data lost: ${drill?.dataLoss ?? 'unknown'}`,
    );
    say(options, `report: ${base}.html (also .md and .json)`);
    if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    return report;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (!stopping) await stopAll();
  }
}

if (require.main === module) {
  let parsed: ReturnType<typeof parseDemoArgs>;
  try {
    parsed = parseDemoArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(DEMO_HELP);
    process.exit(0);
  }
  const { json, group } = parsed;
  // Ten emulated seconds per second: the role switch takes 3 s and the new primary's read-only window 1 s, so the
  // probe sees what an application would.
  runDemo({
    json,
    group,
    outputDir: fogpilotVariable('FOGPILOT_DEMO_OUTPUT') ?? path.join(packageRoot, 'reports'),
    speed: 10,
    soak: '10 seconds',
  })
    .then((report) => process.exit(report.outcome === 'succeeded' ? 0 : 5))
    .catch((error: unknown) => {
      process.stderr.write(`demo failed: ${(error as Error).message}\n`);
      process.exit(1);
    });
}
