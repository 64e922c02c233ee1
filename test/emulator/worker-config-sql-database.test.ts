/**
 * `fogpilot worker`, a separate process configured as docs/EMULATOR.md ("Rehearsing: a worker against the emulator")
 * says, from the emulator's start line: ARM over HTTPS with the emulator's CA, SQL encrypted with every `sql.hosts`
 * entry, and the SQL Database group from `sqlDatabaseGroups` as an inventory entry of `kind: sqlDatabase`. A planned
 * failover of `fog-orders` started by name runs to its end and moves the emulated group to westus.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { FogpilotClient } from '../../src/client';
import { startEmulator, type Emulator } from '../../src/emulator';
import { startDevServer, type DevServer } from '../support/dev-server';
import { uniqueTaskQueue } from '../support/temporal';
import { removeTempFile, writeTempFile } from '../support/temp-files';
import { startFogpilot, type RunningCli } from '../cli/fogpilot-cli';

const taskQueue = uniqueTaskQueue('sqldb-worker');
let server: DevServer;
let emulator: Emulator;
let worker: RunningCli | undefined;
const files: string[] = [];

/** The fogpilot.yaml a user writes from the start line. */
function configFrom(emulator: Emulator, caFile: string): string {
  const line = emulator.startLine();
  const inventory = Object.fromEntries(
    line.sqlDatabaseGroups.map((group) => [
      group.name,
      {
        kind: 'sqlDatabase',
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        primaryLocation: group.primaryLocation,
        secondaryLocation: group.secondaryLocation,
        servers: group.servers,
      },
    ]),
  );
  return stringify({
    azure: { armEndpoint: line.armEndpoint, credential: 'emulator', caFile },
    sql: {
      encrypt: true,
      auth: { auth: 'sql-login', userEnv: 'EMU_SQL_USER', passwordEnv: 'EMU_SQL_PASSWORD' },
      hosts: line.sql.hosts,
    },
    temporal: { taskQueue },
    inventory,
  });
}

before(async () => {
  [server, emulator] = await Promise.all([startDevServer(), startEmulator({ tls: true, speed: 60 })]);
  const line = emulator.startLine();
  const caFile = writeTempFile('ca.pem', line.tls!.ca, 'fogpilot-ca-');
  const configFile = writeTempFile('fogpilot.yaml', configFrom(emulator, caFile), 'fogpilot-config-');
  files.push(caFile, configFile);
  worker = startFogpilot(
    ['worker'],
    {
      FOGPILOT_CONFIG: configFile,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      FOGPILOT_METRICS_PORT: '0',
      EMU_SQL_USER: line.sql.login.user,
      EMU_SQL_PASSWORD: line.sql.login.password,
    },
    180_000,
  );
});
after(async () => {
  worker?.kill('SIGTERM');
  await worker?.ended;
  await emulator?.close();
  await server?.teardown();
  for (const file of files) removeTempFile(file);
});

describe('a worker configured from the start line', { timeout: 180_000 }, () => {
  it('fails fog-orders over by name: the inventory entry of kind sqlDatabase, its servers and listeners through sql.hosts', async () => {
    const group = () => emulator.world.findSqlGroup('fog-orders')!;
    const server_ = (name: string) => [...emulator.world.sqlServers.values()].find((entry) => entry.name === name)!;
    assert.equal(group().primaryServerId, server_('fog-orders-eastus').id);
    const fogpilot = new FogpilotClient(new Client({ connection: server.env.connection }), taskQueue);
    const started = await fogpilot.start('plannedFailover', {
      group: 'fog-orders',
      requestedBy: 'worker-config test',
      reason: 'rehearsal of a worker configured from the start line',
    });
    const outcome = await fogpilot.result(started.workflowId);
    const workerOutput = worker!.stdout();
    assert.equal(outcome.report?.outcome, 'succeeded', `${outcome.failure?.message ?? ''}\n${workerOutput}`);
    assert.equal(outcome.report?.group.displayName, 'fog-orders');
    assert.equal(group().primaryServerId, server_('fog-orders-westus').id, 'the emulated group moved to westus');
  });
});
