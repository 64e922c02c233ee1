/**
 * The SQL data plane of a logical server of Azure SQL Database through the real mssql driver over real TDS against the
 * emulator: every per-database query on a connection to that database, the copy-sync wait in the database, the
 * updateability after a planned failover, smoke rows, and Azure SQL Database's refusals (40508, 40515) by number.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { MssqlDataPlane } from '../../src/sql/mssql-data-plane';
import { SqlRequestError, type SqlInstanceTarget } from '../../src/sql/data-plane';
import { hardenedLsnOn } from '../../src/emulator/world/sql-replication';

const SPEED = 10;
const MEMBERS = ['orders', 'payments', 'ledger'];
let emulator: Emulator;
let dataPlane: MssqlDataPlane;

function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.sqlServers![0]!.logins = [{ name: 'app_writer', sid: '0x0105000000000009030000001F2E3D4C', type: 'S' }];
  return {
    ...spec,
    timings: { linkTimeoutSeconds: 5, replicationLagMs: 500, roleSwitchSeconds: 5, readOnlyAfterSwitchSeconds: 10 },
    throttling: { enabled: false },
  };
}

const server = (location: 'eastus' | 'westus') =>
  emulator.startLine().sql.servers.find((entry) => entry.name === `fog-orders-${location}`)!;

const target = (location: 'eastus' | 'westus'): SqlInstanceTarget => {
  const found = [...emulator.world.sqlServers.values()].find((entry) => entry.name === `fog-orders-${location}`)!;
  return { instanceId: found.id, host: found.fullyQualifiedDomainName, kind: 'sqlDatabase', databases: MEMBERS };
};

const group = () => emulator.world.findSqlGroup('fog-orders')!;
const serverId = (location: 'eastus' | 'westus') => target(location).instanceId;
const replicationOf = (database: string) =>
  emulator.world.sqlDatabaseOn(group().primaryServerId, database)!.replication!;

/** A plain mssql connection to `database` on `host`, as any client makes one. */
async function connect(host: string, database: string, readOnly = false): Promise<sql.ConnectionPool> {
  const line = emulator.startLine();
  const [server, port] = line.sql.hosts[host]!.split(':');
  const pool = new sql.ConnectionPool({
    server: server!,
    port: Number(port),
    user: line.sql.login.user,
    password: line.sql.login.password,
    database,
    options: { encrypt: false, trustServerCertificate: true, readOnlyIntent: readOnly },
    pool: { min: 0, max: 1 },
  });
  pool.on('error', () => undefined);
  await pool.connect();
  return pool;
}

async function errorNumberOf(work: Promise<unknown>): Promise<number | undefined> {
  try {
    await work;
  } catch (error) {
    return (error as { number?: number }).number;
  }
  assert.fail('expected SQL to refuse');
}

const fault = (spec: Record<string, unknown>) =>
  fetch(`${emulator.armEndpoint}/_admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  }).then(async (response) => assert.equal(response.status, 201, await response.text()));

/** Polls `condition` until it holds (what the test waits for is observed, never assumed after a delay). */
async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

before(async () => {
  emulator = await startEmulator({ world: world(), speed: SPEED });
  const line = emulator.startLine();
  dataPlane = new MssqlDataPlane({
    authenticationFor: () => ({ kind: 'sql-login', user: line.sql.login.user, password: line.sql.login.password }),
    resolve: (host) => {
      const [server, port] = line.sql.hosts[host]!.split(':');
      return { server: server!, port: Number(port) };
    },
    encrypt: false,
    requestTimeoutMs: 5_000,
    readRetry: { initialDelayMs: 50, maxDelayMs: 200, budgetMs: 2_000 },
  });
});
after(async () => {
  await dataPlane?.close();
  await emulator?.close();
});
beforeEach(async () => {
  emulator.world.load(world());
  await fetch(`${emulator.armEndpoint}/_admin/faults`, { method: 'DELETE' });
  await dataPlane.close();
});

describe('the SQL data plane on a logical server of SQL Database', { concurrency: 1 }, () => {
  it('prints an endpoint per logical server and the group’s two listeners for sql.hosts', () => {
    const hosts = emulator.startLine().sql.hosts;
    for (const name of [
      'fog-orders-eastus.database.windows.net',
      'fog-orders-westus.database.windows.net',
      'fog-orders.database.windows.net',
      'fog-orders.secondary.database.windows.net',
    ])
      assert.match(hosts[name] ?? '', /^127\.0\.0\.1:\d+$/, name);
  });

  it('lists the databases from master and reads each member’s link in a session of that database', async () => {
    assert.deepEqual(
      (await dataPlane.listUserDatabases(target('eastus'))).map((database) => database.name),
      ['ledger', 'orders', 'payments'],
    );
    const links = await dataPlane.listReplicationLinks(target('eastus'));
    assert.deepEqual(
      links.map((link) => [link.database, link.partnerServer, link.partnerDatabase, link.role, link.replicationState]),
      MEMBERS.map((name) => [name, 'fog-orders-westus', name, 'PRIMARY', 'CATCH_UP']),
    );
    // The view is empty in master and answers only for the session's own database: each link came from a session
    // logged into that database (no USE, no three-part names).
    const secondary = await dataPlane.listReplicationLinks(target('westus'));
    assert.deepEqual(
      secondary.map((link) => [link.partnerServer, link.role, link.lagSeconds]),
      MEMBERS.map(() => ['fog-orders-eastus', 'SECONDARY', null]),
    );
  });

  it('refuses USE of another database with 40508 and a three-part name in another database (msdb too) with 40515', async () => {
    const pool = await connect(server('eastus').fullyQualifiedDomainName, 'orders');
    try {
      assert.equal(await errorNumberOf(pool.request().query('USE payments')), 40508);
      assert.equal(await errorNumberOf(pool.request().query('SELECT payload FROM payments.dbo.fogpilot_smoke')), 40515);
      assert.equal(await errorNumberOf(pool.request().query('SELECT name FROM msdb.dbo.sysjobs')), 40515);
      // The current database by name is no reach across.
      await pool.request().query('USE orders');
      const here = await pool.request().query<{ name: string }>('SELECT DB_NAME() AS name');
      assert.equal(here.recordset[0]!.name, 'orders');
    } finally {
      await pool.close();
    }
  });

  it('refuses a login to a database the server does not have with 4060', async () => {
    const number = await connect(server('eastus').fullyQualifiedDomainName, 'nosuchdb').then(
      async (pool) => {
        await pool.close();
        assert.fail('the login opened a database the server does not have');
      },
      (error: unknown) => (error as { originalError?: { message?: string } }).originalError?.message ?? '',
    );
    assert.match(String(number), /Cannot open database "nosuchdb"/);
  });

  it('waits for copy sync in the database until the partner has hardened the last commit', async () => {
    const orders = emulator.world.sqlDatabaseOn(serverId('eastus'), 'orders')!;
    const commit = emulator.world.sqlCommit(orders, 'sync-me');
    assert.ok(
      hardenedLsnOn(replicationOf('orders'), serverId('westus'), emulator.world.now()) < commit.lsn,
      'not hardened yet',
    );
    await dataPlane.waitForCopySync(
      target('eastus'),
      { database: 'orders', partnerServer: 'fog-orders-westus', partnerDatabase: 'orders' },
      { timeoutInMs: 10_000 },
    );
    assert.ok(hardenedLsnOn(replicationOf('orders'), serverId('westus'), emulator.world.now()) >= commit.lsn);
  });

  it('times the copy-sync wait out while a lag spike holds the commit back', async () => {
    await fault({ kind: 'lag-spike', group: 'fog-orders', database: 'orders', lagMs: 600_000, seconds: 3600 });
    const commit = emulator.world.sqlCommit(emulator.world.sqlDatabaseOn(serverId('eastus'), 'orders')!, 'lagging');
    const failure = await dataPlane
      .waitForCopySync(
        target('eastus'),
        { database: 'orders', partnerServer: 'fog-orders-westus', partnerDatabase: 'orders' },
        { timeoutInMs: 1_000 },
      )
      .then(
        () => assert.fail('the wait returned before the commit hardened'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof SqlRequestError);
    assert.equal(failure.kind, 'sync-timeout');
    assert.ok(hardenedLsnOn(replicationOf('orders'), serverId('westus'), emulator.world.now()) < commit.lsn);
  });

  it('ends the copy-sync wait when the link to the partner is lost, saying it is SUSPENDED', async () => {
    await fault({ kind: 'link-lost', group: 'fog-orders', database: 'payments' });
    emulator.world.sqlCommit(emulator.world.sqlDatabaseOn(serverId('eastus'), 'payments')!, 'stranded');
    const failure = await dataPlane
      .waitForCopySync(
        target('eastus'),
        { database: 'payments', partnerServer: 'fog-orders-westus', partnerDatabase: 'payments' },
        { timeoutInMs: 30_000 },
      )
      .then(
        () => assert.fail('the wait returned with the link lost'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof SqlRequestError);
    assert.equal(failure.kind, 'sync-timeout');
    assert.match(failure.message, /SUSPENDED/);
  });

  it('refuses to wait against a server the database has no link to', async () => {
    const failure = await dataPlane
      .waitForCopySync(
        target('eastus'),
        { database: 'orders', partnerServer: 'fog-orders-northeurope', partnerDatabase: 'orders' },
        { timeoutInMs: 5_000 },
      )
      .then(
        () => assert.fail('waited against a partner that does not exist'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof SqlRequestError);
    assert.equal(failure.kind, 'link-missing');
  });

  it('reads updateability per database: the new primary becomes writable after a planned failover, the old one read-only', async () => {
    const updateability = async (location: 'eastus' | 'westus') =>
      (await dataPlane.getUpdateability(target(location), { noRetry: true })).map((entry) => [
        entry.database,
        entry.updateability,
      ]);
    assert.deepEqual(
      await updateability('eastus'),
      MEMBERS.map((name) => [name, 'READ_WRITE']),
    );
    assert.deepEqual(
      await updateability('westus'),
      MEMBERS.map((name) => [name, 'READ_ONLY']),
    );
    const westus = emulator.world.sqlServerById(serverId('westus'))!;
    emulator.world.requestSqlFailover(group(), westus, 'planned');
    await waitUntil(() => emulator.world.findSqlGroup('fog-orders')!.primaryServerId === westus.id);
    // Each database of the new primary becomes writable when the switch reaches it: wait for what SQL says.
    await waitUntil(async () => {
      const now = await updateability('westus').catch(() => []);
      return now.length === MEMBERS.length && now.every(([, value]) => value === 'READ_WRITE');
    });
    assert.deepEqual(
      await updateability('eastus'),
      MEMBERS.map((name) => [name, 'READ_ONLY']),
    );
  });

  it('writes smoke rows in the database on the primary, reads them on the secondary once hardened, and gets 3906 there', async () => {
    const written = await dataPlane.insertSmokeRow(target('eastus'), { database: 'ledger', payload: 'drill-1:ledger' });
    assert.ok(written.id > 0);
    assert.deepEqual(await dataPlane.findSmokeRows(target('eastus'), { database: 'ledger', prefix: 'drill-1:' }), [
      'drill-1:ledger',
    ]);
    await waitUntil(
      async () =>
        (await dataPlane.findSmokeRows(target('westus'), { database: 'ledger', prefix: 'drill-1:' })).length === 1,
    );
    const refused = await dataPlane
      .insertSmokeRow(target('westus'), { database: 'ledger', payload: 'drill-1:secondary' })
      .then(
        () => assert.fail('the secondary accepted a write'),
        (error: unknown) => error,
      );
    assert.ok(refused instanceof SqlRequestError);
    assert.equal(refused.number, 3906);
    assert.equal(refused.kind, 'not-writable');
  });

  it('sends the read-write listener to the primary and the read-only listener to the secondary', async () => {
    const serverBehind = async (host: string, readOnly: boolean) => {
      const pool = await connect(host, 'orders', readOnly);
      try {
        return (await pool.request().query<{ name: string }>('SELECT @@SERVERNAME AS name')).recordset[0]!.name;
      } finally {
        await pool.close();
      }
    };
    assert.equal(await serverBehind('fog-orders.database.windows.net', false), 'fog-orders-eastus');
    assert.equal(await serverBehind('fog-orders.secondary.database.windows.net', true), 'fog-orders-westus');
  });

  it('lists the logins of master and the users of each database, and no Agent jobs', async () => {
    const logins = await dataPlane.listLogins(target('eastus'));
    const serverLogins = logins.filter((login) => login.database === undefined);
    assert.ok(
      serverLogins.some((login) => login.name === 'app_writer' && login.sid === '0x0105000000000009030000001F2E3D4C'),
    );
    for (const name of MEMBERS) {
      const user = logins.find((login) => login.database === name && login.name === 'app_writer');
      assert.equal(user?.authenticationType, 'INSTANCE', `a user for app_writer in ${name}`);
      assert.equal(user?.sid, '0x0105000000000009030000001F2E3D4C');
    }
    // The secondary server lacks the login its databases' users map to: the drift a readiness check must find.
    const onSecondary = await dataPlane.listLogins(target('westus'));
    assert.ok(!onSecondary.some((login) => login.database === undefined && login.name === 'app_writer'));
    assert.ok(onSecondary.some((login) => login.database === 'orders' && login.name === 'app_writer'));
    assert.deepEqual(await dataPlane.listAgentJobs(target('eastus')), []);
  });

  it('reads seeding from master’s geo-replication links and backups from each database', async () => {
    const seeding = await dataPlane.listSeedingProgress(target('westus'));
    assert.deepEqual(
      seeding.map((entry) => [entry.database, entry.state]),
      [...MEMBERS].sort().map((name) => [name, 'Completed']),
    );
    const backups = await dataPlane.latestBackups(target('eastus'));
    assert.deepEqual(
      backups.map((entry) => entry.database),
      MEMBERS,
    );
    assert.ok(backups.every((entry) => entry.lastFullBackup !== undefined));
  });
});
