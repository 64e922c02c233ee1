/**
 * Restoring a managed database in a failover group, as Azure does it, through the real @azure/arm-sql client over HTTP
 * and the real `mssql` driver over TDS: rows with history (UPDATE, DELETE), point-in-time restore, a dropped
 * database's restore, a long-term retention backup's restore, the new database seeded to the secondary, and the
 * refusals with ARM's codes. The world's clock moves only when a test says, so every state is read, never raced.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlManagementClient } from '@azure/arm-sql';
import sql from 'mssql';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const SUBSCRIPTION = '00000000-0000-4000-8000-0000000f0c05';
const RG = 'rg-fogpilot';
const PRIMARY = 'fog-sales-eastus';
const SECONDARY = 'fog-sales-westus';
const MINUTE = 60_000;
const DAY = 86_400_000;
const LOGIN = { user: 'fogpilot', password: 'Emulator-only-5ecret!' };

function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.groups![0]!.databases = [
    { name: 'sales', sizeGB: 36 },
    { name: 'inventory', sizeGB: 0 },
  ];
  spec.instances[0]!.longTermRetention = {
    weeklyRetention: 'P4W',
    monthlyRetention: 'PT0S',
    yearlyRetention: 'PT0S',
    weekOfYear: 1,
  };
  spec.instances[0]!.longTermRetentionBackups = [
    { database: 'archive', backupTime: '2025-12-01T00:00:00Z', rows: ['old-1', 'old-2'] },
  ];
  return {
    ...spec,
    timings: {
      asyncRetryAfterSeconds: 0,
      restoreSeconds: 60,
      restoreGBPerHour: 120,
      seedingGBPerHour: 360,
      databaseDeleteSeconds: 30,
      replicationLagMs: 500,
    },
    throttling: { enabled: false },
  };
}

const clock = new ManualClock();
let emulator: Emulator;
let client: SqlManagementClient;

before(async () => {
  emulator = await startEmulator({ world: world(), clock });
  client = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint }).client(
    SUBSCRIPTION,
  );
});
after(async () => emulator?.close());
beforeEach(() => emulator.world.load(world()));

const advance = (ms: number) => {
  clock.advance(ms);
  emulator.world.advance();
};
const databaseId = (instance: string, name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/managedInstances/${instance}/databases/${name}`;
const target = (name: string) => {
  const found =
    emulator.startLine().sql.instances.find((instance) => instance.name === name) ??
    emulator.startLine().sql.listeners.find((listener) => listener.kind === name);
  return found!;
};

async function query<T>(server: string, database: string, text: string): Promise<T[]> {
  const { host, port } = target(server);
  const pool = await new sql.ConnectionPool({
    server: host,
    port,
    ...LOGIN,
    database,
    pool: { max: 1, min: 0 },
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  try {
    return (await pool.request().query<T>(text)).recordset;
  } finally {
    await pool.close();
  }
}

interface Row {
  id: number | string;
  payload: string;
}
const rowsOf = async (server: string, database: string) =>
  (await query<Row>(server, database, 'SELECT id, payload FROM dbo.fogpilot_workload ORDER BY id')).map(
    (row) => `${Number(row.id)}:${row.payload}`,
  );

async function refusal(work: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  assert.fail('expected ARM to refuse the request');
}

/** A SQL refusal: its error number (the driver gives none for a refused login: then its code, ELOGIN). */
async function sqlRefusal(work: Promise<unknown>): Promise<{ number?: number; code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    const failure = error as {
      number?: number;
      code?: string;
      originalError?: { number?: number; info?: { number?: number } };
      message: string;
    };
    return {
      number: failure.number ?? failure.originalError?.number ?? failure.originalError?.info?.number,
      code: failure.code,
      message: failure.message,
    };
  }
  assert.fail('expected SQL to refuse the statement');
}

const databaseNames = async (instance: string) => {
  const names: string[] = [];
  for await (const database of client.managedDatabases.listByInstance(RG, instance)) names.push(database.name!);
  return names.sort();
};

/** Starts a restore and runs the world's clock past its end, then lets the SDK's poller finish. */
async function restore(name: string, properties: Record<string, unknown>, runFor = 30 * MINUTE) {
  const poller = await client.managedDatabases.beginCreateOrUpdate(
    RG,
    PRIMARY,
    name,
    { location: 'eastus', ...properties },
    { updateIntervalInMs: 5 },
  );
  const during = await client.managedDatabases.get(RG, PRIMARY, name);
  advance(runFor);
  const done = await poller.pollUntilDone();
  return { during, done };
}

describe('rows with history', () => {
  it('folds inserts, updates and deletes into the rows every read sees, and replicates them', async () => {
    for (const payload of ['a', 'b', 'c'])
      await query(PRIMARY, 'sales', `INSERT INTO dbo.fogpilot_workload (payload) VALUES ('${payload}')`);
    await query(PRIMARY, 'sales', "UPDATE dbo.fogpilot_workload SET payload = 'B2' WHERE id = 2");
    await query(PRIMARY, 'sales', "DELETE FROM dbo.fogpilot_workload WHERE payload = 'a'");
    assert.deepEqual(await rowsOf(PRIMARY, 'sales'), ['2:B2', '3:c']);
    const [totals] = await query<{ n: number; top: number | string; total: number | string }>(
      PRIMARY,
      'sales',
      'SELECT COUNT(*) AS n, MAX(id) AS top, SUM(id) AS total FROM dbo.fogpilot_workload',
    );
    assert.deepEqual([totals!.n, Number(totals!.top), Number(totals!.total)], [2, 3, 5]);
    await query(PRIMARY, 'sales', "INSERT INTO dbo.fogpilot_workload (payload) VALUES ('d')");
    assert.deepEqual(await rowsOf(PRIMARY, 'sales'), ['2:B2', '3:c', '4:d'], 'ids are not reused after a delete');
    assert.equal(emulator.world.findGroup('fog-sales')!.databases[0]!.commits.length, 6, 'each statement is a commit');

    // The secondary sees the changes once they have hardened, and refuses them itself.
    advance(1000);
    assert.deepEqual(await rowsOf(SECONDARY, 'sales'), ['2:B2', '3:c', '4:d']);
    const refused = await sqlRefusal(
      query(SECONDARY, 'sales', "UPDATE dbo.fogpilot_workload SET payload = 'x' WHERE id = 3"),
    );
    assert.equal(refused.number, 3906);
  });
});

describe('point-in-time restore', () => {
  it('restores the rows as they were at the point, ids included, and seeds the new database to the secondary', async () => {
    for (const payload of ['a', 'b', 'c'])
      await query(PRIMARY, 'sales', `INSERT INTO dbo.fogpilot_workload (payload) VALUES ('${payload}')`);
    advance(MINUTE);
    const point = new Date(clock.now());
    advance(MINUTE);
    await query(PRIMARY, 'sales', "UPDATE dbo.fogpilot_workload SET payload = 'changed' WHERE id = 2");
    await query(PRIMARY, 'sales', 'DELETE FROM dbo.fogpilot_workload WHERE id = 1');
    advance(10 * MINUTE); // past the next log backup

    const source = await client.managedDatabases.get(RG, PRIMARY, 'sales');
    assert.ok(source.earliestRestorePoint! <= point, 'the point is in the source window');
    const poller = await client.managedDatabases.beginCreateOrUpdate(
      RG,
      PRIMARY,
      'sales_restored',
      {
        location: 'eastus',
        createMode: 'PointInTimeRestore',
        sourceDatabaseId: databaseId(PRIMARY, 'sales'),
        restorePointInTime: point,
      },
      { updateIntervalInMs: 5 },
    );
    const during = await client.managedDatabases.get(RG, PRIMARY, 'sales_restored');
    assert.equal(during.status, 'Creating');
    assert.equal(during.createMode, 'PointInTimeRestore');
    assert.equal((await client.managedDatabases.get(RG, SECONDARY, 'sales_restored')).status, 'Restoring');
    const early = await sqlRefusal(rowsOf(PRIMARY, 'sales_restored'));
    assert.equal(early.code, 'ELOGIN', 'SQL does not open a database still being restored');
    assert.match(early.message, /Cannot open database "sales_restored"/);

    // 60 s plus 36 GB at 120 GB/h: 19 minutes.
    advance(19 * MINUTE);
    const restored = await poller.pollUntilDone();
    assert.equal(restored.status, 'Online');
    assert.deepEqual(await rowsOf(PRIMARY, 'sales_restored'), ['1:a', '2:b', '3:c']);
    assert.deepEqual(await rowsOf(PRIMARY, 'sales'), ['2:changed', '3:c'], 'the source is untouched');
    const online = await client.managedDatabases.get(RG, PRIMARY, 'sales_restored');
    assert.equal(online.earliestRestorePoint!.getTime(), clock.now(), 'restorable from its creation on');

    // It joined the group: the secondary's copy is seeding (36 GB at 360 GB/h: 6 minutes) and reads Restoring.
    assert.equal((await client.managedDatabases.get(RG, SECONDARY, 'sales_restored')).status, 'Restoring');
    const group = await client.instanceFailoverGroups.get(RG, 'eastus', 'fog-sales');
    assert.equal(group.replicationState, 'SEEDING');
    const seeding = await query<{ local_database_name: string; internal_state_desc: string }>(
      SECONDARY,
      'master',
      'SELECT local_database_name, internal_state_desc FROM sys.dm_hadr_physical_seeding_stats',
    );
    assert.deepEqual(
      seeding.filter((row) => row.local_database_name === 'sales_restored').map((row) => row.internal_state_desc),
      ['Transferring'],
    );
    advance(6 * MINUTE);
    assert.equal((await client.managedDatabases.get(RG, SECONDARY, 'sales_restored')).status, 'Online');
    assert.deepEqual(await rowsOf(SECONDARY, 'sales_restored'), ['1:a', '2:b', '3:c']);
    assert.deepEqual(await rowsOf('read-write', 'sales_restored'), ['1:a', '2:b', '3:c'], 'through the listener');

    // Its own backup history begins at its creation.
    const backups = await query<{ database_name: string; type: string; backup_start_date: Date }>(
      PRIMARY,
      'msdb',
      "SELECT database_name, type, backup_start_date FROM msdb.dbo.backupset WHERE database_name = 'sales_restored'",
    );
    const history = () => backups.map((row) => [row.type, row.backup_start_date.getTime()]);
    assert.deepEqual(history(), [['D', online.earliestRestorePoint!.getTime()]], 'a full backup at creation');
    advance(4 * MINUTE);
    backups.splice(
      0,
      backups.length,
      ...(await query<{ database_name: string; type: string; backup_start_date: Date }>(
        PRIMARY,
        'msdb',
        "SELECT database_name, type, backup_start_date FROM msdb.dbo.backupset WHERE database_name = 'sales_restored'",
      )),
    );
    assert.deepEqual(
      history(),
      [
        ['D', online.earliestRestorePoint!.getTime()],
        ['L', online.earliestRestorePoint!.getTime() + 10 * MINUTE],
      ],
      'then a log backup every 10 minutes from its creation',
    );
  });

  it('refuses a point before earliestRestorePoint, after the newest log backup, onto the secondary, or over a name in use, creating nothing', async () => {
    advance(3 * MINUTE);
    const sourceDatabaseId = databaseId(PRIMARY, 'sales');
    const put = (instance: string, name: string, properties: Record<string, unknown>) =>
      refusal(client.managedDatabases.beginCreateOrUpdate(RG, instance, name, { location: 'eastus', ...properties }));
    const before = await put(PRIMARY, 'copy', {
      createMode: 'PointInTimeRestore',
      sourceDatabaseId,
      restorePointInTime: new Date(clock.now() - DAY),
    });
    assert.equal(before.statusCode, 400);
    assert.equal(before.code, 'PitrPointInTimeInvalid');
    const future = await put(PRIMARY, 'copy', {
      createMode: 'PointInTimeRestore',
      sourceDatabaseId,
      restorePointInTime: new Date(clock.now() + MINUTE),
    });
    assert.equal(future.code, 'PitrPointInTimeInvalid', 'not after the newest log backup');
    const onSecondary = await put(SECONDARY, 'copy', {
      createMode: 'PointInTimeRestore',
      sourceDatabaseId,
      restorePointInTime: new Date(clock.now() - 3 * MINUTE),
    });
    assert.equal(onSecondary.code, 'TargetServerRestoreNotAllowed');
    const inUse = await put(PRIMARY, 'inventory', {
      createMode: 'PointInTimeRestore',
      sourceDatabaseId,
      restorePointInTime: new Date(clock.now() - 3 * MINUTE),
    });
    assert.equal(inUse.code, 'ManagedDatabaseNameInUse');
    const missing = await put(PRIMARY, 'copy', {
      createMode: 'PointInTimeRestore',
      sourceDatabaseId: databaseId(PRIMARY, 'nosuch'),
      restorePointInTime: new Date(clock.now() - 3 * MINUTE),
    });
    assert.equal(missing.code, 'SourceDatabaseNotFound');
    const noPoint = await put(PRIMARY, 'copy', { createMode: 'PointInTimeRestore', sourceDatabaseId });
    assert.equal(noPoint.code, 'MissingRestorePointInTime');
    const fromSecondary = await put(PRIMARY, 'copy', {
      createMode: 'PointInTimeRestore',
      sourceDatabaseId: databaseId(SECONDARY, 'sales'),
      restorePointInTime: new Date(clock.now() - 3 * MINUTE),
    });
    assert.equal(fromSecondary.code, 'BackupSetNotFound');
    assert.deepEqual(await databaseNames(PRIMARY), ['inventory', 'sales']);
    assert.deepEqual(await databaseNames(SECONDARY), ['inventory', 'sales']);
  });
});

describe('dropping and restoring a dropped database', () => {
  it('drops a database from both sides of the group, and restores it from the restorable dropped database', async () => {
    for (const payload of ['x', 'y'])
      await query(PRIMARY, 'inventory', `INSERT INTO dbo.fogpilot_workload (payload) VALUES ('${payload}')`);
    await query(PRIMARY, 'inventory', "UPDATE dbo.fogpilot_workload SET payload = 'y2' WHERE payload = 'y'");
    advance(MINUTE);

    const onSecondary = await refusal(client.managedDatabases.beginDelete(RG, SECONDARY, 'inventory'));
    assert.equal(onSecondary.statusCode, 400);
    assert.equal(onSecondary.code, 'GeoReplicationDatabaseNotPrimary');

    const poller = await client.managedDatabases.beginDelete(RG, PRIMARY, 'inventory', { updateIntervalInMs: 5 });
    // Writes until the drop are part of what it held.
    await query(PRIMARY, 'inventory', "INSERT INTO dbo.fogpilot_workload (payload) VALUES ('last')");
    advance(30_000);
    await poller.pollUntilDone();
    assert.deepEqual(await databaseNames(PRIMARY), ['sales']);
    assert.deepEqual(await databaseNames(SECONDARY), ['sales']);
    const gone = await sqlRefusal(rowsOf(PRIMARY, 'inventory'));
    assert.equal(gone.code, 'ELOGIN');
    assert.match(gone.message, /Cannot open database "inventory"/);

    const dropped = [];
    for await (const entry of client.restorableDroppedManagedDatabases.listByInstance(RG, PRIMARY)) dropped.push(entry);
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.databaseName, 'inventory');
    assert.match(dropped[0]!.name!, /^inventory,\d+$/);
    assert.equal(dropped[0]!.deletionDate!.getTime(), clock.now());
    assert.ok(dropped[0]!.earliestRestoreDate! <= dropped[0]!.deletionDate!);
    const one = await client.restorableDroppedManagedDatabases.get(RG, PRIMARY, dropped[0]!.name!);
    assert.equal(one.id, dropped[0]!.id);
    assert.deepEqual(
      [],
      await (async () => {
        const none = [];
        for await (const entry of client.restorableDroppedManagedDatabases.listByInstance(RG, SECONDARY))
          none.push(entry);
        return none;
      })(),
      'a dropped database belongs to the primary',
    );

    const { during, done } = await restore('inventory', {
      createMode: 'PointInTimeRestore',
      restorableDroppedDatabaseId: dropped[0]!.id,
      restorePointInTime: dropped[0]!.deletionDate,
    });
    assert.equal(during.status, 'Creating');
    assert.equal(done.status, 'Online');
    assert.deepEqual(await rowsOf(PRIMARY, 'inventory'), ['1:x', '2:y2', '3:last']);

    const late = await refusal(
      client.managedDatabases.beginCreateOrUpdate(RG, PRIMARY, 'inventory2', {
        location: 'eastus',
        createMode: 'PointInTimeRestore',
        restorableDroppedDatabaseId: dropped[0]!.id,
        restorePointInTime: new Date(clock.now()),
      }),
    );
    assert.equal(late.code, 'PitrPointInTimeInvalid', 'not after its deletion');
    const unknown = await refusal(
      client.managedDatabases.beginCreateOrUpdate(RG, PRIMARY, 'inventory2', {
        location: 'eastus',
        createMode: 'PointInTimeRestore',
        restorableDroppedDatabaseId: `${dropped[0]!.id!.split(',')[0]},1`,
        restorePointInTime: dropped[0]!.deletionDate,
      }),
    );
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.code, 'RestoreSourceDatabaseNotFound');
  });
});

describe('long-term retention', () => {
  it('takes weekly backups by the policy as the clock runs, each restorable to the rows of its time', async () => {
    await query(PRIMARY, 'sales', "INSERT INTO dbo.fogpilot_workload (payload) VALUES ('week-0')");
    advance(7 * DAY + MINUTE);
    await query(PRIMARY, 'sales', "UPDATE dbo.fogpilot_workload SET payload = 'week-1' WHERE id = 1");
    await query(PRIMARY, 'sales', "INSERT INTO dbo.fogpilot_workload (payload) VALUES ('after')");

    const backups = [];
    for await (const backup of client.longTermRetentionManagedInstanceBackups.listByDatabase(
      'eastus',
      PRIMARY,
      'sales',
    ))
      backups.push(backup);
    assert.equal(backups.length, 1);
    const [backup] = backups;
    assert.equal(backup!.databaseName, 'sales');
    assert.equal(backup!.managedInstanceName, PRIMARY);
    assert.equal(backup!.databaseDeletionTime, null);
    assert.equal(backup!.backupExpirationTime!.getTime() - backup!.backupTime!.getTime(), 28 * DAY, 'P4W');
    const got = await client.longTermRetentionManagedInstanceBackups.get('eastus', PRIMARY, 'sales', backup!.name!);
    assert.equal(got.id, backup!.id);

    const { done } = await restore('sales_ltr', {
      createMode: 'RestoreLongTermRetentionBackup',
      longTermRetentionBackupResourceId: backup!.id,
    });
    assert.equal(done.status, 'Online');
    assert.equal(done.createMode, 'RestoreLongTermRetentionBackup');
    assert.deepEqual(await rowsOf(PRIMARY, 'sales_ltr'), ['1:week-0']);

    const missing = await refusal(
      client.managedDatabases.beginCreateOrUpdate(RG, PRIMARY, 'sales_ltr2', {
        location: 'eastus',
        createMode: 'RestoreLongTermRetentionBackup',
        longTermRetentionBackupResourceId: `${backup!.id!.split(';')[0]};1`,
      }),
    );
    assert.equal(missing.code, 'RestoreSourceDatabaseNotFound');
    const malformed = await refusal(
      client.managedDatabases.beginCreateOrUpdate(RG, PRIMARY, 'sales_ltr2', {
        location: 'eastus',
        createMode: 'RestoreLongTermRetentionBackup',
        longTermRetentionBackupResourceId: 'not-an-id',
      }),
    );
    assert.equal(malformed.code, 'InvalidLongTermRetentionManagedInstanceBackupId');
  });

  it('restores a backup the world spec lists, with the rows it names', async () => {
    const backups = [];
    for await (const backup of client.longTermRetentionManagedInstanceBackups.listByDatabase(
      'eastus',
      PRIMARY,
      'archive',
    ))
      backups.push(backup);
    assert.equal(backups.length, 1);
    assert.equal(backups[0]!.backupTime!.toISOString(), '2025-12-01T00:00:00.000Z');
    await restore('archive', {
      createMode: 'RestoreLongTermRetentionBackup',
      longTermRetentionBackupResourceId: backups[0]!.id,
    });
    assert.deepEqual(await rowsOf(PRIMARY, 'archive'), ['1:old-1', '2:old-2']);
  });
});

describe('renaming', () => {
  it('refuses to rename a database of a failover group', async () => {
    const refused = await sqlRefusal(query(PRIMARY, 'master', 'ALTER DATABASE [sales] MODIFY NAME = [sales2]'));
    assert.equal(refused.number, 1468);
    assert.match(refused.message, /failover group fog-sales/);
    assert.deepEqual(await databaseNames(PRIMARY), ['inventory', 'sales']);
  });
});
