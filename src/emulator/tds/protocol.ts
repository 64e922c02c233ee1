/**
 * The parts of Microsoft's TDS protocol (MS-TDS) the emulator speaks: packet framing, the token stream a server sends,
 * and the TYPE_INFO encodings of the column and parameter types it uses. Little-endian unless MS-TDS says otherwise.
 */

export const PacketType = {
  sqlBatch: 0x01,
  rpc: 0x03,
  tabularResult: 0x04,
  attention: 0x06,
  transactionManager: 0x0e,
  login7: 0x10,
  prelogin: 0x12,
} as const;

const STATUS_EOM = 0x01;
export const HEADER_LENGTH = 8;

export const DoneStatus = {
  final: 0x0000,
  more: 0x0001,
  error: 0x0002,
  inTransaction: 0x0004,
  count: 0x0010,
  attention: 0x0020,
} as const;

const Token = {
  returnStatus: 0x79,
  colMetadata: 0x81,
  error: 0xaa,
  info: 0xab,
  loginAck: 0xad,
  row: 0xd1,
  envChange: 0xe3,
  done: 0xfd,
  doneProc: 0xfe,
  doneInProc: 0xff,
} as const;

/** SQL_Latin1_General_CP1_CI_AS: LCID 1033 with its flags and sort id, as SQL Server sends it. */
export const DEFAULT_COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

export interface Message {
  type: number;
  data: Buffer;
}

/** Reassembles messages from the packets arriving on a socket. */
export class MessageReader {
  private buffered: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private type?: number;

  /** Feeds bytes; returns every message completed by them. */
  push(chunk: Buffer): Message[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const messages: Message[] = [];
    while (this.buffered.length >= HEADER_LENGTH) {
      const length = this.buffered.readUInt16BE(2);
      if (length < HEADER_LENGTH) throw new Error(`invalid TDS packet length ${length}`);
      if (this.buffered.length < length) break;
      const type = this.buffered[0]!;
      const status = this.buffered[1]!;
      const payload = this.buffered.subarray(HEADER_LENGTH, length);
      this.buffered = this.buffered.subarray(length);
      if (type === PacketType.attention) {
        // Attention may arrive in the middle of another message's response; it stands alone.
        messages.push({ type, data: Buffer.from(payload) });
        continue;
      }
      this.type ??= type;
      this.parts.push(Buffer.from(payload));
      if (status & STATUS_EOM) {
        messages.push({ type: this.type, data: Buffer.concat(this.parts) });
        this.parts = [];
        this.type = undefined;
      }
    }
    return messages;
  }
}

/** Splits a message into packets of the negotiated size. */
export function packets(type: number, payload: Buffer, packetSize: number): Buffer[] {
  const room = packetSize - HEADER_LENGTH;
  const result: Buffer[] = [];
  let packetId = 1;
  for (let offset = 0; offset < payload.length || result.length === 0; offset += room) {
    const part = payload.subarray(offset, offset + room);
    const last = offset + room >= payload.length;
    const header = Buffer.alloc(HEADER_LENGTH);
    header[0] = type;
    header[1] = last ? STATUS_EOM : 0;
    header.writeUInt16BE(HEADER_LENGTH + part.length, 2);
    header.writeUInt16BE(0, 4);
    header[6] = packetId++ % 256;
    header[7] = 0;
    result.push(Buffer.concat([header, part]));
    if (last) break;
  }
  return result;
}

function bVarChar(text: string): Buffer {
  const body = Buffer.from(text, 'utf16le');
  return Buffer.concat([Buffer.from([text.length]), body]);
}

function usVarChar(text: string): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(text.length);
  return Buffer.concat([length, Buffer.from(text, 'utf16le')]);
}

export type ColumnType = 'nvarchar' | 'int' | 'bigint' | 'tinyint' | 'bit' | 'float' | 'datetime2' | 'varbinary';

export interface Column {
  name: string;
  type: ColumnType;
}

export type CellValue = string | number | bigint | boolean | Date | Buffer | null;

const DAY_MS = 86_400_000;
/** Days from 0001-01-01 to 1970-01-01. */
const EPOCH_DAYS = 719_162;

function typeInfo(type: ColumnType): Buffer {
  switch (type) {
    case 'nvarchar':
      return Buffer.concat([Buffer.from([0xe7, 0x40, 0x1f]), DEFAULT_COLLATION]); // NVARCHAR(4000)
    case 'int':
      return Buffer.from([0x26, 4]);
    case 'bigint':
      return Buffer.from([0x26, 8]);
    case 'tinyint':
      return Buffer.from([0x26, 1]);
    case 'bit':
      return Buffer.from([0x68, 1]);
    case 'float':
      return Buffer.from([0x6d, 8]);
    case 'datetime2':
      return Buffer.from([0x2a, 7]);
    case 'varbinary':
      return Buffer.from([0xa5, 0x40, 0x1f]); // VARBINARY(8000)
  }
}

function cell(type: ColumnType, value: CellValue): Buffer {
  if (value === null || value === undefined) {
    return type === 'nvarchar' || type === 'varbinary' ? Buffer.from([0xff, 0xff]) : Buffer.from([0]);
  }
  switch (type) {
    case 'nvarchar': {
      const body = Buffer.from(String(value instanceof Date ? value.toISOString() : value), 'utf16le');
      const length = Buffer.alloc(2);
      length.writeUInt16LE(body.length);
      return Buffer.concat([length, body]);
    }
    case 'int': {
      const out = Buffer.alloc(5);
      out[0] = 4;
      out.writeInt32LE(Number(value), 1);
      return out;
    }
    case 'bigint': {
      const out = Buffer.alloc(9);
      out[0] = 8;
      out.writeBigInt64LE(BigInt(value as number | bigint), 1);
      return out;
    }
    case 'tinyint':
      return Buffer.from([1, Number(value) & 0xff]);
    case 'bit':
      return Buffer.from([1, value ? 1 : 0]);
    case 'float': {
      const out = Buffer.alloc(9);
      out[0] = 8;
      out.writeDoubleLE(Number(value), 1);
      return out;
    }
    case 'datetime2': {
      const date = value instanceof Date ? value : new Date(value as string | number);
      const ms = date.getTime();
      const days = Math.floor(ms / DAY_MS);
      const ticks = BigInt(ms - days * DAY_MS) * 10_000n; // 100 ns units since midnight, scale 7
      const out = Buffer.alloc(9);
      out[0] = 8;
      out.writeUIntLE(Number(ticks & 0xffffffffffn), 1, 5);
      out.writeUIntLE(days + EPOCH_DAYS, 6, 3);
      return out;
    }
    case 'varbinary': {
      const body = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'hex');
      const length = Buffer.alloc(2);
      length.writeUInt16LE(body.length);
      return Buffer.concat([length, body]);
    }
  }
}

/** Builds a server response: the token stream of one tabular-result message. */
export class TokenWriter {
  private readonly chunks: Buffer[] = [];

  get length(): number {
    return this.chunks.reduce((total, chunk) => total + chunk.length, 0);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private token(type: number, body: Buffer, lengthPrefixed = true): this {
    if (lengthPrefixed) {
      const header = Buffer.alloc(3);
      header[0] = type;
      header.writeUInt16LE(body.length, 1);
      this.chunks.push(header, body);
    } else {
      this.chunks.push(Buffer.from([type]), body);
    }
    return this;
  }

  loginAck(programName: string, version: [number, number, number, number]): this {
    const tdsVersion = Buffer.alloc(4);
    tdsVersion.writeUInt32BE(0x74000004); // TDS 7.4
    return this.token(
      Token.loginAck,
      Buffer.concat([Buffer.from([1]), tdsVersion, bVarChar(programName), Buffer.from(version)]),
    );
  }

  /** ENVCHANGE with text values (1 database, 2 language, 4 packet size). */
  envChange(type: 1 | 2 | 4, newValue: string, oldValue: string): this {
    return this.token(Token.envChange, Buffer.concat([Buffer.from([type]), bVarChar(newValue), bVarChar(oldValue)]));
  }

  /** ENVCHANGE 7: the SQL collation, which clients need to validate character parameters. */
  collationChange(collation: Buffer = DEFAULT_COLLATION): this {
    return this.token(
      Token.envChange,
      Buffer.concat([Buffer.from([7, collation.length]), collation, Buffer.from([0])]),
    );
  }

  private message(
    type: number,
    number: number,
    state: number,
    severity: number,
    text: string,
    server: string,
    procedure = '',
    line = 1,
  ): this {
    const numberBuffer = Buffer.alloc(4);
    numberBuffer.writeInt32LE(number);
    const lineBuffer = Buffer.alloc(4);
    lineBuffer.writeInt32LE(line);
    return this.token(
      type,
      Buffer.concat([
        numberBuffer,
        Buffer.from([state, severity]),
        usVarChar(text),
        bVarChar(server),
        bVarChar(procedure),
        lineBuffer,
      ]),
    );
  }

  info(number: number, text: string, server: string): this {
    return this.message(Token.info, number, 1, 0, text, server);
  }

  error(number: number, state: number, severity: number, text: string, server: string, procedure = ''): this {
    return this.message(Token.error, number, state, severity, text, server, procedure);
  }

  columns(columns: Column[]): this {
    const count = Buffer.alloc(2);
    count.writeUInt16LE(columns.length);
    const parts: Buffer[] = [count];
    for (const column of columns) {
      const userTypeAndFlags = Buffer.alloc(6);
      userTypeAndFlags.writeUInt32LE(0, 0);
      userTypeAndFlags.writeUInt16LE(0x0001, 4); // nullable
      parts.push(userTypeAndFlags, typeInfo(column.type), bVarChar(column.name));
    }
    return this.token(Token.colMetadata, Buffer.concat(parts), false);
  }

  row(columns: Column[], values: CellValue[]): this {
    return this.token(
      Token.row,
      Buffer.concat(columns.map((column, index) => cell(column.type, values[index] ?? null))),
      false,
    );
  }

  returnStatus(value: number): this {
    const body = Buffer.alloc(4);
    body.writeInt32LE(value);
    return this.token(Token.returnStatus, body, false);
  }

  private doneToken(type: number, status: number, rowCount: number, command: number): this {
    const body = Buffer.alloc(12);
    body.writeUInt16LE(status, 0);
    body.writeUInt16LE(command, 2);
    body.writeBigUInt64LE(BigInt(rowCount), 4);
    return this.token(type, body, false);
  }

  done(status: number, rowCount = 0, command = 0xc1): this {
    return this.doneToken(Token.done, status, rowCount, command);
  }

  doneProc(status: number, rowCount = 0): this {
    return this.doneToken(Token.doneProc, status, rowCount, 0xe0);
  }

  doneInProc(status: number, rowCount = 0): this {
    return this.doneToken(Token.doneInProc, status, rowCount, 0xc1);
  }
}

/** PRELOGIN's ENCRYPT_NOT_SUP (MS-TDS 2.2.6.5); the other values are in ./encryption.ts. */
const ENCRYPT_NOT_SUP = 0x02;

// ── requests the server parses ───────────────────────────────────────────────────────────────────────────────────

export interface PreloginRequest {
  encryption?: number;
}

export function parsePrelogin(data: Buffer): PreloginRequest {
  const result: PreloginRequest = {};
  for (let offset = 0; offset < data.length && data[offset] !== 0xff; offset += 5) {
    const option = data[offset]!;
    const at = data.readUInt16BE(offset + 1);
    if (option === 0x01) result.encryption = data[at];
  }
  return result;
}

/** PRELOGIN answer: version, and the ENCRYPTION the negotiation chose (NOT_SUP without a certificate). */
export function preloginResponse(encryption: number = ENCRYPT_NOT_SUP): Buffer {
  const options: [number, Buffer][] = [
    [0x00, Buffer.from([16, 0, 0x10, 0x00, 0, 0])], // version 16.0.4096
    [0x01, Buffer.from([encryption])],
    [0x02, Buffer.from([0x00])], // instance: ok
    [0x03, Buffer.alloc(0)], // thread id
    [0x04, Buffer.from([0x00])], // MARS off
  ];
  const headerLength = options.length * 5 + 1;
  const header = Buffer.alloc(headerLength);
  let dataOffset = headerLength;
  options.forEach(([option, value], index) => {
    header[index * 5] = option;
    header.writeUInt16BE(dataOffset, index * 5 + 1);
    header.writeUInt16BE(value.length, index * 5 + 3);
    dataOffset += value.length;
  });
  header[headerLength - 1] = 0xff;
  return Buffer.concat([header, ...options.map(([, value]) => value)]);
}

export interface Login7Request {
  tdsVersion: number;
  packetSize: number;
  hostName: string;
  userName: string;
  password: string;
  appName: string;
  serverName: string;
  database: string;
  /** The client asked for Microsoft Entra (federated) authentication. */
  federatedAuthentication: boolean;
}

function loginString(data: Buffer, at: number): string {
  const offset = data.readUInt16LE(at);
  const length = data.readUInt16LE(at + 2);
  return data.toString('utf16le', offset, offset + length * 2);
}

export function parseLogin7(data: Buffer): Login7Request {
  const passwordOffset = data.readUInt16LE(44);
  const passwordLength = data.readUInt16LE(46);
  const obfuscated = data.subarray(passwordOffset, passwordOffset + passwordLength * 2);
  const clear = Buffer.from(
    Array.from(obfuscated, (byte) => {
      const unmasked = byte ^ 0xa5;
      return ((unmasked & 0x0f) << 4) | (unmasked >> 4);
    }),
  );
  const optionFlags3 = data[27]!;
  let federatedAuthentication = false;
  if (optionFlags3 & 0x10) {
    const extensionAt = data.readUInt32LE(data.readUInt16LE(56));
    for (let offset = extensionAt; offset < data.length && data[offset] !== 0xff;) {
      const feature = data[offset]!;
      const length = data.readUInt32LE(offset + 1);
      if (feature === 0x02) federatedAuthentication = true;
      offset += 5 + length;
    }
  }
  return {
    tdsVersion: data.readUInt32LE(4),
    packetSize: data.readUInt32LE(8),
    hostName: loginString(data, 36),
    userName: loginString(data, 40),
    password: clear.toString('utf16le'),
    appName: loginString(data, 48),
    serverName: loginString(data, 52),
    database: loginString(data, 68),
    federatedAuthentication,
  };
}

/** Skips ALL_HEADERS (TDS 7.2+) at the start of a batch or RPC request. */
function afterAllHeaders(data: Buffer): number {
  if (data.length < 4) return 0;
  const total = data.readUInt32LE(0);
  return total >= 4 && total <= data.length ? total : 0;
}

export function parseSqlBatch(data: Buffer): string {
  return data.toString('utf16le', afterAllHeaders(data));
}

export type ParameterValue = string | number | bigint | boolean | Buffer | Date | null;

/** The arguments of an RPC procedure call, named (`@target_server`) or by position. */
export type ProcedureArgs = { name?: string; value: ParameterValue }[];

export interface RpcRequest {
  /** Procedure name, or the name of a special procedure given by id (10 → sp_executesql). */
  procedure: string;
  parameters: { name: string; value: ParameterValue }[];
}

const SPECIAL_PROCEDURES: Record<number, string> = {
  1: 'sp_cursor',
  10: 'sp_executesql',
  11: 'sp_prepare',
  12: 'sp_execute',
  13: 'sp_prepexec',
  15: 'sp_unprepare',
};

class Cursor {
  constructor(
    private readonly data: Buffer,
    public offset: number,
  ) {}
  u8(): number {
    return this.data[this.offset++]!;
  }
  u16(): number {
    const value = this.data.readUInt16LE(this.offset);
    this.offset += 2;
    return value;
  }
  u32(): number {
    const value = this.data.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }
  bytes(length: number): Buffer {
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  get done(): boolean {
    return this.offset >= this.data.length;
  }
  /** A PLP (partially length-prefixed) value: 8-byte total, then chunks until a zero-length one. */
  plp(): Buffer | null {
    const total = this.data.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (total === 0xffffffffffffffffn) return null;
    const chunks: Buffer[] = [];
    for (let length = this.u32(); length > 0; length = this.u32()) chunks.push(this.bytes(length));
    return Buffer.concat(chunks);
  }
}

function decodeText(bytes: Buffer, wide: boolean): string {
  return wide ? bytes.toString('utf16le') : bytes.toString('latin1');
}

function readParameterValue(cursor: Cursor): ParameterValue {
  const type = cursor.u8();
  switch (type) {
    case 0xe7: // NVARCHAR
    case 0xef: // NCHAR
    case 0xa7: // VARCHAR
    case 0xaf: {
      // CHAR
      const wide = type === 0xe7 || type === 0xef;
      const maxLength = cursor.u16();
      cursor.bytes(5); // collation
      if (maxLength === 0xffff) {
        const value = cursor.plp();
        return value === null ? null : decodeText(value, wide);
      }
      const length = cursor.u16();
      return length === 0xffff ? null : decodeText(cursor.bytes(length), wide);
    }
    case 0xe6: // NTEXT, old clients
    case 0x23: {
      throw new Error('TEXT/NTEXT parameters are not supported by the emulator');
    }
    case 0xa5: // VARBINARY
    case 0xad: {
      // BINARY
      const maxLength = cursor.u16();
      if (maxLength === 0xffff) return cursor.plp();
      const length = cursor.u16();
      return length === 0xffff ? null : Buffer.from(cursor.bytes(length));
    }
    case 0x26: {
      // INTN
      cursor.u8();
      const length = cursor.u8();
      if (length === 0) return null;
      const bytes = cursor.bytes(length);
      if (length === 1) return bytes.readUInt8(0);
      if (length === 2) return bytes.readInt16LE(0);
      if (length === 4) return bytes.readInt32LE(0);
      return bytes.readBigInt64LE(0);
    }
    case 0x38:
      return cursor.bytes(4).readInt32LE(0); // INT (fixed)
    case 0x7f:
      return cursor.bytes(8).readBigInt64LE(0); // BIGINT (fixed)
    case 0x68: {
      // BITN
      cursor.u8();
      const length = cursor.u8();
      return length === 0 ? null : cursor.u8() !== 0;
    }
    case 0x6d: {
      // FLTN
      cursor.u8();
      const length = cursor.u8();
      if (length === 0) return null;
      const bytes = cursor.bytes(length);
      return length === 4 ? bytes.readFloatLE(0) : bytes.readDoubleLE(0);
    }
    case 0x2a: {
      // DATETIME2N
      const scale = cursor.u8();
      const length = cursor.u8();
      if (length === 0) return null;
      const bytes = cursor.bytes(length);
      const timeLength = length - 3;
      const units = bytes.readUIntLE(0, timeLength);
      const days = bytes.readUIntLE(timeLength, 3);
      const ms = (days - EPOCH_DAYS) * DAY_MS + Math.floor((units * 1000) / 10 ** scale);
      return new Date(ms);
    }
    default:
      throw new Error(`parameter type 0x${type.toString(16)} is not supported by the emulator`);
  }
}

export function parseRpc(data: Buffer): RpcRequest {
  const cursor = new Cursor(data, afterAllHeaders(data));
  const nameLength = cursor.u16();
  const procedure =
    nameLength === 0xffff
      ? (SPECIAL_PROCEDURES[cursor.u16()] ?? 'unknown')
      : cursor.bytes(nameLength * 2).toString('utf16le');
  cursor.u16(); // option flags
  const parameters: RpcRequest['parameters'] = [];
  while (!cursor.done) {
    const marker = cursor.u8();
    if (marker === 0x80 || marker === 0xff) break; // batch separators: one RPC per request here
    cursor.offset -= 1;
    const nameChars = cursor.u8();
    const name = cursor.bytes(nameChars * 2).toString('utf16le');
    cursor.u8(); // status flags
    parameters.push({ name, value: readParameterValue(cursor) });
  }
  return { procedure, parameters };
}
