/**
 * TLS on the emulator's Azure SQL Database endpoints, through the real mssql driver with `encrypt: true` and the
 * certificate checked against the emulator's CA, as an application connects to Azure: a logical server
 * (`<server>.database.windows.net`) and a server failover group's listeners (`<group>.database.windows.net` to the
 * primary, `<group>.secondary.database.windows.net` to the read-only target), whose names Azure's certificate covers
 * with `*.database.windows.net` and `*.secondary.database.windows.net` (src/emulator/tls/ca.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';

let emulator: Emulator;
let otherCa: string;
before(async () => {
  emulator = await startEmulator({ tls: true, speed: 10 });
  const other = await startEmulator({ tls: true });
  otherCa = other.startLine().tls!.ca;
  await other.close();
});
after(async () => emulator?.close());

/** The local port of an FQDN of the start line. */
function portOf(fqdn: string): number {
  const hostPort = emulator.startLine().sql.hosts[fqdn];
  assert.ok(hostPort, `the start line lists ${fqdn}`);
  return Number(hostPort.split(':')[1]);
}

/**
 * Connects to the database `orders` on `port`, asking for `serverName` (the name checked on the certificate), and
 * answers the database the session is in and its updateability.
 */
async function orders(
  port: number,
  serverName: string,
  options: sql.config['options'],
): Promise<{ database: string; updateability: string }> {
  const line = emulator.startLine();
  const pool = new sql.ConnectionPool({
    server: '127.0.0.1',
    port,
    user: line.sql.login.user,
    password: line.sql.login.password,
    database: 'orders',
    connectionTimeout: 10_000,
    options: { serverName, trustServerCertificate: false, ...options },
    pool: { min: 0, max: 1 },
  });
  pool.on('error', () => undefined);
  try {
    await pool.connect();
    const result = await pool.request().query<{
      database: string;
      updateability: string;
    }>("SELECT DB_NAME() AS [database], DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS updateability");
    return result.recordset[0]!;
  } finally {
    await pool.close();
  }
}

const trusted = (): sql.config['options'] => ({
  encrypt: true,
  cryptoCredentialsDetails: { ca: emulator.startLine().tls!.ca },
});

/** TLS handshakes the logical servers' endpoints have run (a listener forwards to one of them). */
function handshakes(): number {
  return [...emulator.sqlServerTds.values()].reduce((sum, endpoint) => sum + endpoint.requests.tlsHandshakes, 0);
}

/**
 * `orders` as above, checking that the connection ran TLS: tedious with `encrypt: true` goes on unencrypted with a
 * server that answers PRELOGIN "encryption not supported", so a query's answer alone proves nothing.
 */
async function ordersEncrypted(port: number, serverName: string) {
  const before = handshakes();
  const answer = await orders(port, serverName, trusted());
  assert.ok(handshakes() > before, `the connection to ${serverName} ran TLS`);
  return answer;
}

/** The alternative names of the certificate the SQL Database endpoints present. */
function sqlDatabaseAltNames(): string[] {
  const cert = new crypto.X509Certificate(emulator.certificates!.sqlDatabase.cert);
  return (cert.subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^DNS:/, ''));
}

describe('TLS on the SQL Database endpoints', () => {
  it('signs one certificate for SQL Database covering *.database.windows.net and *.secondary.database.windows.net', () => {
    assert.deepEqual(sqlDatabaseAltNames(), ['*.database.windows.net', '*.secondary.database.windows.net']);
    const cert = new crypto.X509Certificate(emulator.certificates!.sqlDatabase.cert);
    assert.ok(cert.verify(new crypto.X509Certificate(emulator.startLine().tls!.ca).publicKey), 'signed by the CA');
    assert.ok(cert.checkHost('fog-orders-eastus.database.windows.net'));
    assert.ok(cert.checkHost('fog-orders.secondary.database.windows.net'));
    // A wildcard covers one label: a managed instance's name in its DNS zone is not SQL Database's.
    assert.equal(cert.checkHost('fog-sales-eastus.74e7a7c0f0c.database.windows.net'), undefined);
  });

  it('lets mssql connect with encrypt: true and the certificate checked to each logical server', async () => {
    for (const [name, updateability] of [
      ['fog-orders-eastus', 'READ_WRITE'],
      ['fog-orders-westus', 'READ_ONLY'],
    ] as const) {
      const fqdn = `${name}.database.windows.net`;
      assert.deepEqual(await ordersEncrypted(portOf(fqdn), fqdn), { database: 'orders', updateability });
    }
  });

  it('carries TLS end to end through the group listeners: the read-write one to the primary, the read-only one to the secondary', async () => {
    const readWrite = 'fog-orders.database.windows.net';
    const readOnly = 'fog-orders.secondary.database.windows.net';
    assert.deepEqual(await ordersEncrypted(portOf(readWrite), readWrite), {
      database: 'orders',
      updateability: 'READ_WRITE',
    });
    assert.deepEqual(await ordersEncrypted(portOf(readOnly), readOnly), {
      database: 'orders',
      updateability: 'READ_ONLY',
    });
  });

  it('refuses encrypt: false as Azure does, a client trusting another CA, and a name the certificate does not cover', async () => {
    const fqdn = 'fog-orders-eastus.database.windows.net';
    await assert.rejects(orders(portOf(fqdn), fqdn, { encrypt: false }), (error: Error) => {
      assert.equal((error as Error & { code?: string }).code, 'EENCRYPT');
      return true;
    });
    await assert.rejects(
      orders(portOf(fqdn), fqdn, { encrypt: true, cryptoCredentialsDetails: { ca: otherCa } }),
      /certificate|verify|signature/i,
    );
    // The server's endpoint asked under a managed instance's kind of name: two labels under database.windows.net.
    await assert.rejects(
      orders(portOf(fqdn), 'fog-orders-eastus.elsewhere.database.windows.net', trusted()),
      /altnames|Hostname|does not match/i,
    );
  });
});
