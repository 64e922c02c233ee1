/**
 * What a SQL Database client sees of a server failover group's role switch and of a copy being seeded, over real TDS
 * with the mssql driver, on a clock the test moves: the old primary's sessions in the group's databases end at the
 * switch (its master sessions stay); while the switch runs a login into a member database on the old primary gets
 * 40613 and a request in one on the new primary 40197; both pass once it is over. A login into a copy still being
 * seeded gets 40613 until the copy is seeded.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { ManualClock } from '../../src/emulator/clock';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const ROLE_SWITCH_SECONDS = 30;
const SKEW_SECONDS = 10;
const SEEDING_SECONDS = 60;

function world(seedingSeconds = 0): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.sqlFailoverGroups![0]!.seedingSeconds = seedingSeconds;
  return {
    ...spec,
    timings: { roleSwitchSeconds: ROLE_SWITCH_SECONDS, roleFlipSkewSeconds: SKEW_SECONDS },
    throttling: { enabled: false },
  };
}

/**
 * A plain mssql connection to `database` on the logical server `name`. The pool hands out its connection unchecked
 * (`validateConnection: false`): its default check runs `SELECT 1` on every acquire, which a server refusing requests
 * with 40197 fails, so the pool would open connection after connection until its acquire timeout, and the request
 * under test would never be sent.
 */
async function connect(emulator: Emulator, name: string, database: string): Promise<sql.ConnectionPool> {
  const line = emulator.startLine();
  const [server, port] = line.sql.hosts[`${name}.database.windows.net`]!.split(':');
  const pool = new sql.ConnectionPool({
    server: server!,
    port: Number(port),
    user: line.sql.login.user,
    password: line.sql.login.password,
    database,
    options: { encrypt: false, trustServerCertificate: true },
    pool: { min: 0, max: 1 },
    validateConnection: false,
    connectionTimeout: 10_000,
  });
  pool.on('error', () => undefined);
  await pool.connect();
  return pool;
}

/** The login's refusal message, or a failure when it succeeds. */
async function loginRefusal(emulator: Emulator, name: string, database: string): Promise<string> {
  return connect(emulator, name, database).then(
    async (pool) => {
      await pool.close();
      return assert.fail(`the login into ${database} on ${name} succeeded`);
    },
    (error: unknown) => (error as { originalError?: { message?: string } }).originalError?.message ?? String(error),
  );
}

/** The database the session is in: a request that works. */
async function currentDatabase(pool: sql.ConnectionPool): Promise<string> {
  const result = await pool.request().query<{ name: string }>('SELECT DB_NAME() AS name');
  return result.recordset[0]!.name;
}

/** Moves the world's clock and lets the world act on it. */
function advance(emulator: Emulator, clock: ManualClock, seconds: number): void {
  clock.advance(seconds * 1000);
  emulator.world.advance();
}

describe("a SQL Database group's role switch, seen over TDS", () => {
  const clock = new ManualClock();
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: world(), clock });
  });
  after(async () => emulator?.close());

  it('ends the old primary’s sessions in member databases at the switch, answers 40613 and 40197 while it runs, and serves both once it is over', async () => {
    const group = emulator.world.findSqlGroup('fog-orders')!;
    const westus = [...emulator.world.sqlServers.values()].find((server) => server.name === 'fog-orders-westus')!;
    const oldPrimaryOrders = await connect(emulator, 'fog-orders-eastus', 'orders');
    const oldPrimaryMaster = await connect(emulator, 'fog-orders-eastus', 'master');
    const newPrimaryOrders = await connect(emulator, 'fog-orders-westus', 'orders');
    try {
      assert.equal(await currentDatabase(oldPrimaryOrders), 'orders');

      emulator.world.requestSqlFailover(group, westus, 'planned');
      // Before the switch the old primary still serves its sessions.
      advance(emulator, clock, ROLE_SWITCH_SECONDS - 1);
      assert.equal(await currentDatabase(oldPrimaryOrders), 'orders');
      advance(emulator, clock, 1);
      assert.equal(emulator.world.findSqlGroup('fog-orders')!.primaryServerId, westus.id);

      await assert.rejects(currentDatabase(oldPrimaryOrders), 'the session in a member database ended at the switch');
      assert.equal(await currentDatabase(oldPrimaryMaster), 'master', 'a session in master stays');
      assert.match(
        await loginRefusal(emulator, 'fog-orders-eastus', 'payments'),
        /Database 'payments' on server 'fog-orders-eastus' is not currently available/,
      );
      const during = await newPrimaryOrders
        .request()
        .query('SELECT DB_NAME() AS name')
        .then(
          () => assert.fail('a request on the new primary went through while the switch ran'),
          (error: unknown) => error as { number?: number; message: string },
        );
      assert.equal(during.number, 40197, during.message);

      advance(emulator, clock, SKEW_SECONDS);
      assert.equal(await currentDatabase(newPrimaryOrders), 'orders');
      const again = await connect(emulator, 'fog-orders-eastus', 'payments');
      try {
        assert.equal(await currentDatabase(again), 'payments');
      } finally {
        await again.close();
      }
    } finally {
      await Promise.all([oldPrimaryOrders.close(), oldPrimaryMaster.close(), newPrimaryOrders.close()]);
    }
  });
});

describe('a SQL Database copy being seeded, seen over TDS', () => {
  const clock = new ManualClock();
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: world(SEEDING_SECONDS), clock });
  });
  after(async () => emulator?.close());

  it('refuses a login into the copy with 40613 until it is seeded, while its primary serves the database', async () => {
    const primary = await connect(emulator, 'fog-orders-eastus', 'orders');
    try {
      assert.equal(await currentDatabase(primary), 'orders');
    } finally {
      await primary.close();
    }
    assert.match(
      await loginRefusal(emulator, 'fog-orders-westus', 'orders'),
      /Database 'orders' on server 'fog-orders-westus' is not currently available.*still being seeded/,
    );
    advance(emulator, clock, SEEDING_SECONDS);
    const copy = await connect(emulator, 'fog-orders-westus', 'orders');
    try {
      assert.equal(await currentDatabase(copy), 'orders');
    } finally {
      await copy.close();
    }
  });
});
