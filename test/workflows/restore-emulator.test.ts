/**
 * restoreDatabase on the time-skipping server with fogpilot's real adapters (`@azure/arm-sql` over HTTP, `mssql` over
 * TDS) against the emulator's default world: rows are written and then damaged through the group's read-write
 * listener, and the runbook repairs them from a point before the damage. The emulator's world (and what its listener
 * answers) is the judge.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import type { Emulator } from '../../src/emulator';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { endingOf, waitFor } from '../support/runbook-harness';
import { emulatorFrame, emulatorWorker, fogSales, runbookWorld } from '../support/emulator-harness';

/** The emulator's clock runs 600 times real time: a restore of a small database (5 simulated minutes) in half a second. */
const SPEED = 600;

let emulator: Emulator;
const frame = emulatorFrame({ world: runbookWorld(), speed: SPEED, tls: false }, (started) => (emulator = started));

/** Runs one batch in `database` through the group's read-write listener, as an application does. */
async function throughListener<T>(database: string, text: string): Promise<T[]> {
  const line = emulator.startLine();
  const listener = line.sql.listeners.find((entry) => entry.group === 'fog-sales' && entry.kind === 'read-write')!;
  const pool = await new sql.ConnectionPool({
    server: listener.host,
    port: listener.port,
    user: line.sql.login.user,
    password: line.sql.login.password,
    database,
    pool: { min: 0, max: 1 },
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  try {
    return (await pool.request().query<T>(text)).recordset ?? [];
  } finally {
    await pool.close();
  }
}

const orders = async (database: string) =>
  (
    await throughListener<{ payload: string }>(
      database,
      "SELECT payload FROM dbo.fogpilot_workload WHERE payload LIKE 'order-%' OR payload = 'corrupted' ORDER BY id",
    )
  ).map((row) => row.payload);

/** Waits until the emulator's clock has passed `simulatedMs` from now (it runs on its own, SPEED times real time). */
async function worldPasses(simulatedMs: number): Promise<void> {
  const until = emulator.world.now() + simulatedMs;
  await waitFor(() => emulator.world.now() >= until, `${simulatedMs / 60_000} simulated minutes`);
}

describe('restoreDatabase against the emulator', { concurrency: 1 }, () => {
  it('repairs rows damaged through the listener: restores a point before the damage, swaps it in, and the secondary holds it', async () => {
    emulator.world.load(runbookWorld());
    for (const order of ['order-1', 'order-2', 'order-3']) {
      await throughListener('sales', `INSERT INTO dbo.fogpilot_workload (payload) VALUES ('${order}')`);
    }
    await worldPasses(2 * 60_000);
    const pointInTime = new Date(emulator.world.now()).toISOString();
    await worldPasses(2 * 60_000);
    await throughListener('sales', "DELETE FROM dbo.fogpilot_workload WHERE payload = 'order-2'");
    await throughListener('sales', "UPDATE dbo.fogpilot_workload SET payload = 'corrupted' WHERE payload = 'order-3'");
    assert.deepEqual(await orders('sales'), ['order-1', 'corrupted'], 'the damage is there before the run');
    // A log backup past the point, so the restore has what it needs (Azure restores up to the newest log backup).
    await worldPasses(15 * 60_000);

    const { worker, taskQueue, close } = await emulatorWorker(frame.env, emulator, { queuePrefix: 'restore-emulator' });
    let ending: Awaited<ReturnType<typeof endingOf>>;
    try {
      ending = await worker.runUntil(async () => {
        const handle = await frame.env.client.workflow.start('restoreDatabase', {
          taskQueue,
          workflowId: lockWorkflowId(fogSales(emulator)),
          workflowIdConflictPolicy: 'FAIL',
          args: [
            {
              group: 'fog-sales',
              database: 'sales',
              pointInTime,
              restoredName: 'sales_restored',
              verify: {
                queries: [
                  {
                    name: 'every order',
                    sql: "SELECT COUNT(*) FROM dbo.fogpilot_workload WHERE payload LIKE 'order-%'",
                    expect: 3,
                  },
                  {
                    name: 'no damaged row',
                    sql: "SELECT COUNT(*) FROM dbo.fogpilot_workload WHERE payload = 'corrupted'",
                    expect: 0,
                  },
                ],
              },
              swap: true,
              approval: { by: 'dba-on-call', reason: 'INC-9: orders damaged by release 4.2' },
            },
          ],
        });
        return endingOf(handle);
      });
    } finally {
      await close();
    }
    const { report, failure } = ending;
    assert.equal(report?.outcome, 'succeeded', failure?.message);

    // The data reads as before the damage, through the listener, under the database's own name.
    assert.deepEqual(await orders('sales'), ['order-1', 'order-2', 'order-3']);
    // The damage is kept aside for salvage, and the checked restore beside it.
    const aside = report.restore!.swap!.damagedAside!.name;
    assert.match(aside, /^sales_damaged_\d{12}$/);
    assert.deepEqual(await orders(aside), ['order-1', 'corrupted']);
    assert.deepEqual(await orders('sales_restored'), ['order-1', 'order-2', 'order-3']);
    assert.deepEqual(
      report.restore?.swap?.checks?.map((check) => [check.name, check.read, check.passed]),
      [
        ['every order', 3, true],
        ['no damaged row', 0, true],
      ],
    );

    // The restored database is replicated to the secondary: Azure lists it Online there and the group seeds no more.
    const group = emulator.world.findGroup('fog-sales')!;
    assert.equal(emulator.world.isSeeding(group), false, 'the group seeds nothing any more');
    assert.equal(report.restore?.secondary?.database, 'sales');
    assert.equal(report.restore?.secondary?.status, 'Online');
    const arm = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
    const copy = await arm
      .client(emulator.world.spec.subscriptionId)
      .managedDatabases.get('rg-fogpilot', 'fog-sales-westus', 'sales');
    assert.equal(copy.status, 'Online', 'Azure lists the restored sales Online on the secondary');
  });
});
