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
import { HEADER_LENGTH, PacketType, packets, parsePrelogin, preloginResponse } from '../../src/emulator/tds/protocol';

let emulator: Emulator;
/** The emulator's plain mode (no certificate): what travels on the wire when nothing is encrypted. */
let plain: Emulator;
let otherCa: string;
before(async () => {
  [emulator, plain] = await Promise.all([startEmulator({ tls: true, speed: 10 }), startEmulator({ speed: 10 })]);
  const other = await startEmulator({ tls: true });
  otherCa = other.startLine().tls!.ca;
  await other.close();
});
after(async () => Promise.all([emulator?.close(), plain?.close()]));

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

/**
 * Sends one PRELOGIN with the given ENCRYPTION (the option layout is the same both ways) and reads the server's answer.
 * Then it sends a second PRELOGIN: a server that kept the connection answers it, one that ended it does not.
 */
async function preloginAnswer(
  port: number,
  encryption: number,
): Promise<{ encryption?: number; closedByServer: boolean }> {
  const request = packets(PacketType.prelogin, preloginResponse(encryption), 4096)[0]!;
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = Buffer.alloc(0);
  const answers: Buffer[] = [];
  const closedByServer = await new Promise<boolean>((resolve) => {
    socket.on('close', () => resolve(true));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= HEADER_LENGTH && received.length >= received.readUInt16BE(2)) {
        const length = received.readUInt16BE(2);
        answers.push(received.subarray(HEADER_LENGTH, length));
        received = received.subarray(length);
        if (answers.length === 1) socket.write(request);
        else resolve(false);
      }
    });
    socket.write(request);
  });
  socket.destroy();
  return { encryption: answers[0] ? parsePrelogin(answers[0]).encryption : undefined, closedByServer };
}

const QUERY = "SELECT name FROM sys.databases WHERE name = N'sales'";

async function query(
  port: number,
  serverName: string,
  options: sql.config['options'],
  target: Emulator = emulator,
): Promise<string[]> {
  const line = target.startLine();
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
  it('negotiates encryption as an Azure server requiring it does (MS-TDS 2.2.6.5): REQ for OFF, refusal for NOT_SUP', () => {
    assert.deepEqual(negotiateEncryption(Encryption.on, true), { answer: Encryption.on, mode: 'full' });
    assert.deepEqual(negotiateEncryption(Encryption.required, true), { answer: Encryption.on, mode: 'full' });
    assert.deepEqual(negotiateEncryption(Encryption.off, true), { answer: Encryption.required, mode: 'full' });
    assert.deepEqual(negotiateEncryption(Encryption.notSupported, true), {
      answer: Encryption.required,
      mode: 'refused',
    });
    assert.deepEqual(negotiateEncryption(Encryption.on, false), { answer: Encryption.notSupported, mode: 'none' });
  });

  it('refuses a client with encrypt: false as Azure does: mssql reports EENCRYPT "Server requires encryption"', async () => {
    const instance = emulator.startLine().sql.instances[0]!;
    await assert.rejects(
      query(instance.port, instance.fullyQualifiedDomainName, { encrypt: false }),
      (error: Error) => {
        assert.equal((error as Error & { code?: string }).code, 'EENCRYPT');
        assert.match(error.message, /requires encryption/);
        return true;
      },
    );
  });

  it('ends the connection of a client that cannot encrypt (PRELOGIN ENCRYPT_NOT_SUP) after answering REQ', async () => {
    const instance = emulator.startLine().sql.instances[0]!;
    const answer = await preloginAnswer(instance.port, Encryption.notSupported);
    assert.equal(answer.encryption, Encryption.required);
    assert.ok(answer.closedByServer, 'the server ended the connection');
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
    // The same relay in front of the emulator's plain mode sees the query: the check above can fail.
    const plainInstance = plain.startLine().sql.instances[0]!;
    const plainRelay = await recordingRelay(plainInstance.port);
    try {
      await query(plainRelay.port, plainInstance.fullyQualifiedDomainName, { encrypt: false }, plain);
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
