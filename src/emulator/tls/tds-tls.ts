/**
 * TLS inside TDS, the server's side (MS-TDS 2.2.6.5 and 3.2.5.2/3.3.5.2: "the TLS handshake is carried in PRELOGIN
 * messages"): while the handshake runs, each TLS flight travels as the payload of one PRELOGIN (0x12) message; once it
 * is done, TLS records go on the wire as they are, with the TDS packets inside them. Clients (tedious, FreeTDS) send
 * one PRELOGIN message per flight and expect exactly one back, so the server's output is gathered into whole flights.
 *
 * TLS 1.2 only, as TDS 7.x encryption is: a TLS 1.3 server sends session tickets after its handshake, which TDS clients
 * still in their PRELOGIN framing would misread.
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { HEADER_LENGTH, PacketType, packets } from '../tds/protocol';

const RecordType = { changeCipherSpec: 20, alert: 21, handshake: 22 } as const;
const SERVER_HELLO_DONE = 14;
const RECORD_HEADER = 5;

/** What the server needs for TLS on a TDS connection: the certificate for the name the client asked for. */
export interface TdsTlsOptions {
  /** The context for an SNI name (undefined when the client sent none, e.g. it connected to an IP). */
  contextFor(servername: string | undefined): tls.SecureContext;
}

/**
 * One connection's TLS: `clear` is the decrypted side the TDS server reads and writes. Created when the first
 * handshake PRELOGIN message has arrived (its payload is the ClientHello).
 */
export class TdsTlsChannel {
  readonly clear: tls.TLSSocket;
  private readonly transport: Duplex;
  private incoming: Buffer = Buffer.alloc(0);
  /** Outgoing TLS bytes not yet sent: the flight being gathered. */
  private flight: Buffer[] = [];
  private flightRecords: Buffer = Buffer.alloc(0);
  private handshakeBytes: Buffer = Buffer.alloc(0);
  private sawChangeCipherSpec = false;
  private outgoingWrapped = true;
  /** Once a bare record has come, the client's handshake is over: everything after it is TLS records. */
  private incomingBare = false;
  private readonly onSocketData = (chunk: Buffer) => this.fromSocket(chunk);

  constructor(
    private readonly socket: net.Socket,
    options: TdsTlsOptions,
    clientHello: Buffer,
  ) {
    this.transport = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _encoding, callback) => {
        this.fromTls(chunk);
        callback();
      },
      final: (callback) => {
        socket.end();
        callback();
      },
    });
    const defaultContext = options.contextFor(undefined);
    this.clear = new tls.TLSSocket(this.transport, {
      isServer: true,
      secureContext: defaultContext,
      SNICallback: (servername, callback) => callback(null, options.contextFor(servername)),
    });
    this.clear.on('error', () => socket.destroy());
    socket.on('data', this.onSocketData);
    socket.on('close', () => {
      this.clear.destroy();
      this.transport.destroy();
    });
    this.transport.push(clientHello);
  }

  /** Bytes from the client: PRELOGIN-wrapped TLS during the handshake, bare TLS records after it. */
  private fromSocket(chunk: Buffer): void {
    this.incoming = this.incoming.length ? Buffer.concat([this.incoming, chunk]) : chunk;
    while (this.incoming.length > 0) {
      // At a packet boundary, a TDS PRELOGIN packet starts with 0x12; a bare TLS record with its content type (20-23).
      if (this.incomingBare || this.incoming[0] !== PacketType.prelogin) {
        this.incomingBare = true;
        this.transport.push(this.incoming);
        this.incoming = Buffer.alloc(0);
        return;
      }
      if (this.incoming.length < HEADER_LENGTH) return;
      const length = this.incoming.readUInt16BE(2);
      if (length < HEADER_LENGTH) {
        this.socket.destroy();
        return;
      }
      if (this.incoming.length < length) return;
      this.transport.push(this.incoming.subarray(HEADER_LENGTH, length));
      this.incoming = this.incoming.subarray(length);
    }
  }

  /** Bytes from TLS: gathered into flights while the handshake runs, then written as they come. */
  private fromTls(chunk: Buffer): void {
    if (this.socket.destroyed) return;
    if (!this.outgoingWrapped) {
      this.socket.write(chunk);
      return;
    }
    this.flight.push(chunk);
    this.flightRecords = Buffer.concat([this.flightRecords, chunk]);
    let flightEnds = false;
    while (this.flightRecords.length >= RECORD_HEADER) {
      const length = this.flightRecords.readUInt16BE(3);
      if (this.flightRecords.length < RECORD_HEADER + length) break;
      const type = this.flightRecords[0]!;
      const body = this.flightRecords.subarray(RECORD_HEADER, RECORD_HEADER + length);
      this.flightRecords = this.flightRecords.subarray(RECORD_HEADER + length);
      if (this.sawChangeCipherSpec) {
        // The encrypted Finished: the server's handshake is over (full or resumed).
        flightEnds = true;
        this.outgoingWrapped = false;
      } else if (type === RecordType.changeCipherSpec) {
        this.sawChangeCipherSpec = true;
      } else if (type === RecordType.alert) {
        flightEnds = true;
      } else if (type === RecordType.handshake && this.endsWithServerHelloDone(body)) {
        flightEnds = true;
      }
    }
    if (!flightEnds) return;
    const payload = Buffer.concat(this.flight);
    this.flight = [];
    for (const packet of packets(PacketType.prelogin, payload, 4096)) this.socket.write(packet);
    if (!this.outgoingWrapped && this.flightRecords.length > 0) {
      this.socket.write(this.flightRecords);
      this.flightRecords = Buffer.alloc(0);
    }
  }

  /** Walks the handshake messages (they may span records): true once a ServerHelloDone is complete. */
  private endsWithServerHelloDone(body: Buffer): boolean {
    this.handshakeBytes = Buffer.concat([this.handshakeBytes, body]);
    let done = false;
    while (this.handshakeBytes.length >= 4) {
      const length = this.handshakeBytes.readUIntBE(1, 3);
      if (this.handshakeBytes.length < 4 + length) break;
      if (this.handshakeBytes[0] === SERVER_HELLO_DONE) done = true;
      this.handshakeBytes = this.handshakeBytes.subarray(4 + length);
    }
    return done;
  }
}

/**
 * The transport of one TDS connection: the socket, until the client's first handshake PRELOGIN after an answer that
 * offered encryption starts TLS.
 */
export class TdsTransport {
  /** What the PRELOGIN answer agreed: set by the server before the client's next message. */
  encryption: 'none' | 'full' = 'none';
  private channel?: TdsTlsChannel;

  constructor(
    private readonly socket: net.Socket,
    private readonly tls: TdsTlsOptions | undefined,
    private readonly onData: (chunk: Buffer) => void,
    private readonly onHandshake: () => void,
  ) {
    socket.on('data', onData);
  }

  write(packet: Buffer): void {
    if (this.channel && this.encryption !== 'none') this.channel.clear.write(packet);
    else this.socket.write(packet);
  }

  /**
   * Looks at each message the server reads before it handles it: true when the transport took it (the ClientHello
   * that starts TLS), or ended the connection (a client that agreed to encrypt and then did not: MS-TDS has the server
   * end the connection).
   */
  route(message: { type: number; data: Buffer }, loggedIn: boolean): boolean {
    if (this.encryption === 'none' || !this.tls) return false;
    if (!this.channel && message.type === PacketType.prelogin && !loggedIn) {
      this.channel = new TdsTlsChannel(this.socket, this.tls, message.data);
      this.onHandshake();
      this.socket.off('data', this.onData);
      this.channel.clear.on('data', this.onData);
      return true;
    }
    if (this.encryption === 'full' && !this.channel) {
      this.socket.destroy();
      return true;
    }
    return false;
  }
}

/** The TLS 1.2 context of a TDS certificate. */
export function tdsSecureContext(key: string, cert: string): tls.SecureContext {
  return tls.createSecureContext({ key, cert, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
}

/** The DNS zone of `<name>.<zone>.database.windows.net` or `<group>.secondary.<zone>.database.windows.net`. */
export function zoneOfServerName(servername: string | undefined): string | undefined {
  const match = /^[^.]+\.(?:secondary\.)?([^.]+)\.database\.windows\.net$/i.exec(servername ?? '');
  return match?.[1]?.toLowerCase();
}

/**
 * The TLS options of one instance's TDS endpoint: the certificate of its own DNS zone, or, when the client names a
 * host in the zone of an instance it is paired with (a listener whose group spans two zones), that zone's. Managed
 * Instance presents its own zone's certificate only; groups in one zone, as Azure requires, never need the second.
 */
export function instanceTdsTls(
  zonesOf: () => string[],
  certificateFor: (zone: string) => { key: string; cert: string },
): TdsTlsOptions {
  const contexts = new Map<string, tls.SecureContext>();
  const contextOf = (zone: string) => {
    let context = contexts.get(zone);
    if (!context) {
      const { key, cert } = certificateFor(zone);
      context = tdsSecureContext(key, cert);
      contexts.set(zone, context);
    }
    return context;
  };
  return {
    contextFor(servername) {
      const zones = zonesOf();
      const asked = zoneOfServerName(servername);
      return contextOf(asked && zones.includes(asked) ? asked : (zones[0] ?? asked ?? 'emulator'));
    },
  };
}

/** The TLS options of an endpoint with one certificate whatever name the client asks for (SQL Database's). */
export function singleCertificateTdsTls(certificate: { key: string; cert: string }): TdsTlsOptions {
  let context: tls.SecureContext | undefined;
  return {
    contextFor() {
      context ??= tdsSecureContext(certificate.key, certificate.cert);
      return context;
    },
  };
}
