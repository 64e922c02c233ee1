/**
 * TDS as Managed Instance serves a failover group, through the real `mssql` driver: the read-only listener, a Standby
 * secondary refusing reads, and logins per instance.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function world(change: (spec: WorldSpecInput) => void = () => {}): WorldSpecInput {
  const spec: WorldSpecInput = {
    ...defaultWorldSpec(),
    timings: { roleSwitchSeconds: 1, readOnlyAfterSwitchSeconds: 0, roleFlipSkewSeconds: 0 },
    throttling: { enabled: false },
  };
  change(spec);
  return spec;
}

interface Target {
  host: string;
  port: number;
}

async function connect(
  target: Target,
  login: { user: string; password: string },
  options: { database?: string; readOnlyIntent?: boolean } = {},
): Promise<sql.ConnectionPool> {
  return new sql.ConnectionPool({
    server: target.host,
    port: target.port,
    user: login.user,
    password: login.password,
    database: options.database ?? 'sales',
    pool: { max: 1, min: 0 },
    options: { encrypt: false, trustServerCertificate: true, readOnlyIntent: options.readOnlyIntent ?? false },
  }).connect();
}

async function query<T>(
  target: Target,
  login: { user: string; password: string },
  text: string,
  options: { database?: string; readOnlyIntent?: boolean } = {},
): Promise<T[]> {
  const pool = await connect(target, login, options);
  try {
    return (await pool.request().query<T>(text)).recordset;
  } finally {
    await pool.close();
  }
}

const sqlNumber = (number: number) => (error: { number?: number }) => error.number === number;

function instanceOf(emulator: Emulator, name: string): Target {
  return emulator.startLine().sql.instances.find((instance) => instance.name === name)!;
}

describe('the read-only listener', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: world(), speed: 10 });
  });
  after(async () => emulator?.close());

  it('is printed as <group>.secondary.<zone>.database.windows.net and mapped in sql.hosts', () => {
    const line = emulator.startLine();
    const readOnly = line.sql.listeners.find((listener) => listener.kind === 'read-only')!;
    const zone = emulator.world.instances.values().next().value!.dnsZone;
    assert.equal(readOnly.fullyQualifiedDomainName, `fog-sales.secondary.${zone}.database.windows.net`);
    assert.equal(line.sql.hosts[readOnly.fullyQualifiedDomainName], `${readOnly.host}:${readOnly.port}`);
    assert.equal(line.sql.listeners[0]!.kind, 'read-write', 'the read-write listener stays first');
  });

  it('takes ApplicationIntent=ReadOnly sessions to the current secondary, and follows a failover', async () => {
    const line = emulator.startLine();
    const readOnly = line.sql.listeners.find((listener) => listener.kind === 'read-only')!;
    const before = await query<{ server: string }>(readOnly, line.sql.login, 'SELECT @@SERVERNAME AS server', {
      readOnlyIntent: true,
    });
    assert.deepEqual(before, [{ server: 'fog-sales-westus' }]);

    const group = [...emulator.world.groups.values()][0]!;
    emulator.world.requestFailover(group, 'westus', 'planned');
    for (let i = 0; i < 500 && group.primaryInstanceId.endsWith('eastus'); i++) await sleep(10);
    assert.ok(group.primaryInstanceId.endsWith('westus'), 'the failover switched the roles');
    const after = await query<{ server: string }>(readOnly, line.sql.login, 'SELECT @@SERVERNAME AS server', {
      readOnlyIntent: true,
    });
    assert.deepEqual(after, [{ server: 'fog-sales-eastus' }]);
  });

  it('takes a ReadWrite-intent session to the secondary too (a DNS record cannot route by intent): its writes fail with 3906', async () => {
    const line = emulator.startLine();
    const readOnly = line.sql.listeners.find((listener) => listener.kind === 'read-only')!;
    const secondary = [...emulator.world.groups.values()][0]!.instanceIds.find(
      (id) => id !== [...emulator.world.groups.values()][0]!.primaryInstanceId,
    )!;
    const pool = await connect(readOnly, line.sql.login);
    try {
      const [row] = (await pool.request().query<{ server: string }>('SELECT @@SERVERNAME AS server')).recordset;
      assert.equal(row!.server, emulator.world.instanceById(secondary)!.name);
      await assert.rejects(
        pool.request().query("INSERT INTO dbo.fogpilot_workload (payload) VALUES ('through the read-only listener')"),
        sqlNumber(3906),
      );
    } finally {
      await pool.close();
    }
  });
});

describe('a Standby secondary', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      world: world((spec) => {
        spec.groups![0]!.secondaryType = 'Standby';
      }),
      speed: 10,
    });
  });
  after(async () => emulator?.close());

  it('refuses reads of user data with 976, while its primary serves them', async () => {
    const login = emulator.startLine().sql.login;
    await assert.rejects(
      query(instanceOf(emulator, 'fog-sales-westus'), login, 'SELECT COUNT(*) AS n FROM dbo.fogpilot_workload'),
      sqlNumber(976),
    );
    assert.deepEqual(
      await query(instanceOf(emulator, 'fog-sales-eastus'), login, 'SELECT COUNT(*) AS n FROM dbo.fogpilot_workload'),
      [{ n: 0 }],
    );
  });

  it('still answers monitoring there: the replication link status', async () => {
    const rows = await query<{ role_desc: string }>(
      instanceOf(emulator, 'fog-sales-westus'),
      emulator.startLine().sql.login,
      'SELECT role_desc FROM sys.dm_geo_replication_link_status',
    );
    assert.deepEqual(rows, [{ role_desc: 'SECONDARY' }]);
  });
});

describe('logins per instance', () => {
  const app = { user: 'app', password: 'App-only-5ecret!' };
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      world: world((spec) => {
        spec.instances[0]!.logins = [
          { name: 'app', sid: '0x0106000000000064000000000000A001', password: app.password },
        ];
        spec.instances[1]!.logins = [{ name: 'reporting', sid: '0x0106000000000064000000000000B002' }];
      }),
      speed: 10,
    });
  });
  after(async () => emulator?.close());

  it("accepts an instance's own login there, and refuses it with 18456 where it is missing", async () => {
    const rows = await query<{ server: string }>(
      instanceOf(emulator, 'fog-sales-eastus'),
      app,
      'SELECT @@SERVERNAME AS server',
      { database: 'master' },
    );
    assert.deepEqual(rows, [{ server: 'fog-sales-eastus' }]);
    await assert.rejects(
      query(instanceOf(emulator, 'fog-sales-westus'), app, 'SELECT 1 AS one', { database: 'master' }),
      (error: Error) => /Login failed for user 'app'/.test(error.message),
    );
  });

  it('keeps the printed rehearsal login valid on every instance', async () => {
    const line = emulator.startLine();
    for (const name of ['fog-sales-eastus', 'fog-sales-westus']) {
      assert.deepEqual(
        await query(instanceOf(emulator, name), line.sql.login, 'SELECT 1 AS one', { database: 'master' }),
        [{ one: 1 }],
      );
    }
  });

  it("lists each instance's own logins and SIDs in sys.server_principals", async () => {
    const line = emulator.startLine();
    const principals = async (name: string) =>
      (
        await query<{ name: string; sid: string }>(
          instanceOf(emulator, name),
          line.sql.login,
          "SELECT name, CAST(sid AS nvarchar(100)) AS sid FROM sys.server_principals WHERE name IN ('app', 'reporting')",
          { database: 'master' },
        )
      ).map((row) => [row.name, row.sid]);
    assert.deepEqual(await principals('fog-sales-eastus'), [['app', '0x0106000000000064000000000000A001']]);
    assert.deepEqual(await principals('fog-sales-westus'), [['reporting', '0x0106000000000064000000000000B002']]);
  });
});
