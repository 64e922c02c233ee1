/**
 * TLS inside TDS: the PRELOGIN negotiation (MS-TDS 2.2.6.5), the handshake in PRELOGIN packets, the certificate of the
 * instance's DNS zone, and the read-write listener forwarding TLS end to end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters } from '../../src/emulator/adapters';
import { Encryption, negotiateEncryption } from '../../src/emulator/tds/encryption';

let emulator: Emulator;
let otherCa: string;
before(async () => {
  emulator = await startEmulator({ tls: true, speed: 10 });
  const other = await startEmulator({ tls: true });
  otherCa = other.startLine().tls!.ca;
  await other.close();
});
after(async () => emulator?.close());

/** A TCP relay to `port` that keeps every byte the client sent, to look at what travels on the wire. */
async function recordingRelay(port: number): Promise<{ port: number; sent: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => Buffer.concat(chunks),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const QUERY = "SELECT name FROM sys.databases WHERE name = N'sales'";

async function query(port: number, serverName: string, options: sql.config['options']): Promise<string[]> {
  const line = emulator.startLine();
  const pool = new sql.ConnectionPool({
    server: '127.0.0.1',
    port,
    user: line.sql.login.user,
    password: line.sql.login.password,
    connectionTimeout: 10_000,
    options: { serverName, trustServerCertificate: false, ...options },
  });
  try {
    await pool.connect();
    const result = await pool.request().query<{ name: string }>(QUERY);
    return result.recordset.map((row) => row.name);
  } finally {
    await pool.close();
  }
}

describe('TDS with TLS', () => {
  it('negotiates encryption as MS-TDS 2.2.6.5 says: ON for ON or REQ, login only for OFF, nothing without a certificate', () => {
    assert.deepEqual(negotiateEncryption(Encryption.on, true), { answer: Encryption.on, mode: 'full' });
    assert.deepEqual(negotiateEncryption(Encryption.required, true), { answer: Encryption.on, mode: 'full' });
    assert.deepEqual(negotiateEncryption(Encryption.off, true), { answer: Encryption.off, mode: 'login' });
    assert.deepEqual(negotiateEncryption(Encryption.on, false), { answer: Encryption.notSupported, mode: 'none' });
  });

  it('lets a client that requires encryption connect with the CA trusted, and encrypts what it sends on the wire', async () => {
    const instance = emulator.startLine().sql.instances[0]!;
    const relay = await recordingRelay(instance.port);
    try {
      const names = await query(relay.port, instance.fullyQualifiedDomainName, {
        encrypt: true,
        cryptoCredentialsDetails: { ca: emulator.startLine().tls!.ca },
      });
      assert.deepEqual(names, ['sales']);
      assert.ok(!relay.sent().includes(Buffer.from(QUERY, 'utf16le')), 'the query does not travel in clear text');
    } finally {
      await relay.close();
    }
    // The same relay sees a client that does not encrypt: the check above can fail.
    const plainRelay = await recordingRelay(instance.port);
    try {
      await query(plainRelay.port, instance.fullyQualifiedDomainName, { encrypt: false });
      assert.ok(plainRelay.sent().includes(Buffer.from(QUERY, 'utf16le')), 'without encryption the query is visible');
    } finally {
      await plainRelay.close();
    }
  });

  it('refuses a client that trusts another CA, or none', async () => {
    const instance = emulator.startLine().sql.instances[0]!;
    await assert.rejects(
      query(instance.port, instance.fullyQualifiedDomainName, {
        encrypt: true,
        cryptoCredentialsDetails: { ca: otherCa },
      }),
      /certificate|verify|signature/i,
    );
    await assert.rejects(
      query(instance.port, instance.fullyQualifiedDomainName, { encrypt: true }),
      /certificate|verify/i,
    );
  });

  it("checks the certificate's names: a server name outside the zone is refused", async () => {
    const instance = emulator.startLine().sql.instances[0]!;
    await assert.rejects(
      query(instance.port, 'fog-sales-eastus.elsewhere.database.windows.net', {
        encrypt: true,
        cryptoCredentialsDetails: { ca: emulator.startLine().tls!.ca },
      }),
      /altnames|Hostname|does not match/i,
    );
  });

  it("carries TLS end to end through the read-write listener, whose FQDN is on the primary's certificate", async () => {
    const listener = emulator.startLine().sql.listeners[0]!;
    const relay = await recordingRelay(listener.port);
    try {
      const names = await query(relay.port, listener.fullyQualifiedDomainName, {
        encrypt: true,
        cryptoCredentialsDetails: { ca: emulator.startLine().tls!.ca },
      });
      assert.deepEqual(names, ['sales']);
      assert.ok(!relay.sent().includes(Buffer.from(QUERY, 'utf16le')), 'the query does not travel in clear text');
    } finally {
      await relay.close();
    }
  });

  it("gives fogpilot's SQL data plane encrypt: true with the CA and the FQDN as server name", async () => {
    const { dataPlane } = emulatorAdapters(emulator);
    const instance = emulator.startLine().sql.instances[0]!;
    const before = [...emulator.tds.values()].reduce((sum, server) => sum + server.requests.tlsHandshakes, 0);
    try {
      const databases = await dataPlane.listUserDatabases({
        instanceId: emulator.startLine().instances[0]!.id,
        host: instance.fullyQualifiedDomainName,
      });
      assert.ok(databases.length > 0);
    } finally {
      await dataPlane.close();
    }
    const after = [...emulator.tds.values()].reduce((sum, server) => sum + server.requests.tlsHandshakes, 0);
    assert.ok(after > before, 'the data plane started TLS');
  });
});
