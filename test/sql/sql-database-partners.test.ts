/**
 * A SQL Database group with two geo-secondaries, over real TDS: `sys.dm_geo_replication_link_status` in a member
 * database answers a row per partner on the primary and one row, for the primary, on each secondary.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.sqlServers!.push({
    name: 'fog-orders-centralus',
    resourceGroup: 'rg-fogpilot',
    location: 'centralus',
    elasticPools: [{ name: 'orders-pool' }],
  });
  spec.sqlFailoverGroups![0]!.partnerServers = ['fog-orders-westus', 'fog-orders-centralus'];
  return { ...spec, throttling: { enabled: false } };
}

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ world: world(), speed: 10 });
});
after(async () => emulator?.close());

/** The link rows a session in `database` on the server `name` reads. */
async function links(name: string, database: string): Promise<[string, string, string][]> {
  const line = emulator.startLine();
  const [server, port] = line.sql.hosts[`${name}.database.windows.net`]!.split(':');
  const pool = new sql.ConnectionPool({
    server: server!,
    port: Number(port),
    user: line.sql.login.user,
    password: line.sql.login.password,
    database,
    options: { encrypt: false },
    pool: { min: 0, max: 1 },
  });
  await pool.connect();
  try {
    const result = await pool
      .request()
      .query<{ partner_server: string; partner_database: string; role_desc: string }>(
        'SELECT partner_server, partner_database, role_desc FROM sys.dm_geo_replication_link_status',
      );
    return result.recordset
      .map((row): [string, string, string] => [row.partner_server, row.partner_database, row.role_desc])
      .sort(([a], [b]) => a.localeCompare(b));
  } finally {
    await pool.close();
  }
}

describe('a SQL Database group with two geo-secondaries, over TDS', () => {
  it('answers a link row per partner in a member database on the primary, and one for the primary on each secondary', async () => {
    assert.deepEqual(await links('fog-orders-eastus', 'payments'), [
      ['fog-orders-centralus', 'payments', 'PRIMARY'],
      ['fog-orders-westus', 'payments', 'PRIMARY'],
    ]);
    for (const secondary of ['fog-orders-westus', 'fog-orders-centralus'])
      assert.deepEqual(await links(secondary, 'payments'), [['fog-orders-eastus', 'payments', 'SECONDARY']]);
    assert.deepEqual(await links('fog-orders-eastus', 'master'), [], 'the view is empty in master');
  });
});
