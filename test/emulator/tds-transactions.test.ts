/**
 * Explicit transactions through the real `mssql` driver: ROLLBACK discards (no row, no LSN, nothing to replicate),
 * COMMIT keeps, and a session reads its own uncommitted rows.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec } from '../../src/emulator/world-spec';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ world: { ...defaultWorldSpec(), throttling: { enabled: false } }, speed: 10 });
});
after(async () => emulator?.close());

/** One connection (pool of one), so consecutive batches share a session. */
async function connectPrimary(): Promise<sql.ConnectionPool> {
  const line = emulator.startLine();
  const primary = line.sql.instances.find((instance) => instance.name === 'fog-sales-eastus')!;
  return new sql.ConnectionPool({
    server: primary.host,
    port: primary.port,
    user: line.sql.login.user,
    password: line.sql.login.password,
    database: 'sales',
    pool: { max: 1, min: 0 },
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
}

const sales = () => emulator.world.databaseOf([...emulator.world.groups.values()][0]!, 'sales')!;

describe('explicit transactions', () => {
  it('discards the writes of a rolled-back transaction: no row, no LSN, nothing to replicate', async () => {
    const pool = await connectPrimary();
    try {
      const before = sales().commits.length;
      const inside = await pool
        .request()
        .query(
          "BEGIN TRAN; INSERT INTO dbo.fogpilot_workload (payload) VALUES ('doomed'); SELECT @@TRANCOUNT AS depth, COUNT(*) AS seen FROM dbo.fogpilot_workload WHERE payload = 'doomed'",
        );
      assert.deepEqual(inside.recordset[0], { depth: 1, seen: 1 }, 'the session reads its own uncommitted row');
      await pool.request().query('ROLLBACK');
      const after = await pool
        .request()
        .query("SELECT @@TRANCOUNT AS depth, COUNT(*) AS seen FROM dbo.fogpilot_workload WHERE payload = 'doomed'");
      assert.deepEqual(after.recordset[0], { depth: 0, seen: 0 });
      assert.equal(sales().commits.length, before, 'a rolled-back write takes no LSN');
    } finally {
      await pool.close();
    }
  });

  it('keeps the writes of a committed transaction, with LSNs given at COMMIT', async () => {
    const pool = await connectPrimary();
    try {
      const before = sales().commits.length;
      await pool
        .request()
        .query(
          "BEGIN TRANSACTION; INSERT INTO dbo.fogpilot_workload (payload) VALUES ('kept-1'); INSERT INTO dbo.fogpilot_workload (payload) VALUES ('kept-2')",
        );
      assert.equal(sales().commits.length, before, 'nothing is in the log before COMMIT');
      await pool.request().query('COMMIT TRAN');
      assert.deepEqual(
        sales()
          .commits.slice(before)
          .map((commit) => commit.payload),
        ['kept-1', 'kept-2'],
      );
    } finally {
      await pool.close();
    }
  });

  it('rolls back a transaction left open when the connection closes', async () => {
    const pool = await connectPrimary();
    const before = sales().commits.length;
    await pool.request().query("BEGIN TRAN; INSERT INTO dbo.fogpilot_workload (payload) VALUES ('abandoned')");
    await pool.close();
    const other = await connectPrimary();
    try {
      const seen = await other
        .request()
        .query("SELECT COUNT(*) AS seen FROM dbo.fogpilot_workload WHERE payload = 'abandoned'");
      assert.deepEqual(seen.recordset[0], { seen: 0 });
      assert.equal(sales().commits.length, before);
    } finally {
      await other.close();
    }
  });

  it("drives the same transaction through the driver's own transaction requests (mssql Transaction): rollback discards, commit keeps", async () => {
    const pool = await connectPrimary();
    try {
      const before = sales().commits.length;
      const discarded = new sql.Transaction(pool);
      await discarded.begin();
      await new sql.Request(discarded).query("INSERT INTO dbo.fogpilot_workload (payload) VALUES ('tm-doomed')");
      await discarded.rollback();
      assert.equal(sales().commits.length, before, 'a rolled-back write takes no LSN');

      const kept = new sql.Transaction(pool);
      await kept.begin();
      await new sql.Request(kept).query("INSERT INTO dbo.fogpilot_workload (payload) VALUES ('tm-kept')");
      assert.equal(sales().commits.length, before, 'nothing is in the log before the commit');
      await kept.commit();
      assert.deepEqual(
        sales()
          .commits.slice(before)
          .map((commit) => commit.payload),
        ['tm-kept'],
      );
    } finally {
      await pool.close();
    }
  });

  it('answers COMMIT and ROLLBACK without BEGIN with SQL Server errors 3902 and 3903', async () => {
    const pool = await connectPrimary();
    try {
      await assert.rejects(pool.request().query('COMMIT'), (error: { number?: number }) => error.number === 3902);
      await assert.rejects(pool.request().query('ROLLBACK'), (error: { number?: number }) => error.number === 3903);
    } finally {
      await pool.close();
    }
  });
});
