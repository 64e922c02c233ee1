/**
 * A TDS endpoint, whatever it serves: PRELOGIN (with a certificate, TLS as MS-TDS negotiates it: see
 * ../tls/tds-tls.ts; without one, encryption refused), LOGIN7, SQL batches, RPC calls (`sp_executesql`, procedures by
 * name), transaction manager requests and attention (cancel). The SQL faults the world holds apply to every endpoint:
 * refused logins, latency, a reset in the middle of a copy-sync wait, a dark region. What a login opens and what SQL
 * answers are the server's: a managed instance (./tds-server.ts) or a logical server of SQL Database
 * (./sql-database-tds.ts).
 */
import type net from 'node:net';
import type { World } from '../world';
import type { LoginSpec } from '../world-spec';
import { TdsTransport, type TdsTlsOptions } from '../tls/tds-tls';
import { negotiateEncryption } from './encryption';
import {
  DoneStatus,
  MessageReader,
  PacketType,
  TokenWriter,
  packets,
  parseLogin7,
  parsePrelogin,
  parseRpc,
  parseSqlBatch,
  preloginResponse,
  type Login7Request,
  type Message,
} from './protocol';
import { SqlError } from './sql-parser';
import type { EngineSession, Execution, TsqlEngine } from './tsql-engine';
import { newTransactionState } from './transactions';
import { acceptsLogin, readOnlyIntent } from './logins';
import { TcpListener } from './tcp-listener';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function faultFor<T>(faults: Map<string, T>, serverName: string): { key: string; value: T } | undefined {
  for (const key of [serverName.toLowerCase(), '*']) {
    const value = faults.get(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

/** What a login opens: a session, or SQL's refusal. */
export type LoginOutcome<S> = { session: S } | { refusal: SqlError };

/**
 * Azure's errors while a failover group's role switch runs (../shared/reference/azure-sql-mi-failover.md, "Timeline of
 * a user-initiated failover"; numbers and texts from Learn, "Troubleshoot transient connection errors":
 * https://learn.microsoft.com/en-us/azure/azure-sql/database/troubleshoot-common-connectivity-issues?view=azuresql).
 */
export const SwitchErrors = {
  /** A login to the old primary while the switch runs (its sessions were dropped at the switch). */
  notAvailable: 40613,
  /** A request on the new primary's sessions while the switch runs (sessions made after the DNS moved). */
  serviceError: 40197,
} as const;

/** A failover group whose role switch is running now for a database of this server, and whether it leaves. */
export interface Switching {
  name: string;
  /** This server is the one leaving the primary role. */
  leaving: boolean;
}

type ChangeListener = (kind: string, group?: unknown, failover?: unknown, oldPrimaryId?: unknown) => void;

export abstract class TdsEndpoint<S extends EngineSession> extends TcpListener {
  private readonly onChange: ChangeListener;
  /** Open connections, with their session once logged in. */
  private readonly sockets = new Map<net.Socket, S | undefined>();
  /** `tlsHandshakes`: connections that started TLS. */
  readonly requests = { batches: 0, rpcs: 0, logins: 0, loginFailures: 0, tlsHandshakes: 0 };

  constructor(
    protected readonly world: World,
    protected readonly engine: TsqlEngine<S>,
    /** The certificates, when the emulator runs with TLS. */
    private readonly tls?: TdsTlsOptions,
  ) {
    super();
    // Sessions on the old primary end at the switch, as Azure's do.
    this.onChange = (kind, group, _failover, oldPrimaryId) => {
      if (kind === 'roles-switched' && typeof oldPrimaryId === 'string' && this.isServer(oldPrimaryId))
        this.dropConnections(this.droppedAtSwitch(group));
    };
    world.on('change', this.onChange);
  }

  /** The server's name (messages, per-server faults); undefined when it no longer exists. */
  protected abstract serverName(): string | undefined;

  /** Whether the server answers now: it exists and its region is not dark. */
  protected abstract answers(): boolean;

  /** Whether `id` (a role switch's old primary) is this server. */
  protected abstract isServer(id: string): boolean;

  /** The connections a role switch away from this server drops (`group`: the group switched); by default every one. */
  protected droppedAtSwitch(_group: unknown): ((session: S | undefined) => boolean) | undefined {
    return undefined;
  }

  /** The failover group whose role switch runs now for `database` on this server, if one does. */
  protected abstract switching(database: string): Switching | undefined;

  /** The server's own SQL logins (the world's rehearsal login may log in too: ./logins.ts). */
  protected abstract logins(): readonly LoginSpec[];

  /**
   * The database a LOGIN7 naming `name` opens, as the server spells it, or SQL's refusal to open it; undefined: the
   * server has no such database (4060).
   */
  protected abstract loginDatabase(name: string): string | SqlError | undefined;

  /** The server's session for a login that got through. */
  protected abstract newSession(session: EngineSession): S;

  /** Drops every open connection (a failover, a region going dark), or those whose session `which` picks. */
  dropConnections(which?: (session: S | undefined) => boolean): void {
    for (const [socket, session] of this.sockets) if (!which || which(session)) socket.destroy();
  }

  close(): Promise<void> {
    this.world.off('change', this.onChange);
    this.dropConnections();
    return this.stopListening();
  }

  /** A refusal of every login now (a role switch leaving this server), before credentials are looked at. */
  private refuseLogin(request: Login7Request, serverName: string): SqlError | undefined {
    const database = request.database || 'master';
    const switching = this.switching(database);
    if (!switching?.leaving) return undefined;
    return new SqlError(
      SwitchErrors.notAvailable,
      `Database '${database}' on server '${serverName}' is not currently available. Please retry the connection later. (failover group ${switching.name} is switching roles)`,
      14,
    );
  }

  /** A refusal of the session's requests now (a role switch arriving on this server). */
  private refuseRequest(session: S): SqlError | undefined {
    const switching = this.switching(session.database);
    if (!switching || switching.leaving) return undefined;
    return new SqlError(
      SwitchErrors.serviceError,
      `The service has encountered an error processing your request. Please try again. Error code ${SwitchErrors.serviceError}. (failover group ${switching.name} is switching roles)`,
      20,
    );
  }

  /** Opens the session a LOGIN7 asks for, once the faults let it through: the credentials, then the database. */
  private openSession(request: Login7Request, login7: Buffer): LoginOutcome<S> {
    if (!acceptsLogin(this.world, { logins: this.logins() }, request.userName, request.password))
      return { refusal: new SqlError(18456, `Login failed for user '${request.userName}'.`, 14) };
    let database = 'master';
    if (request.database) {
      const found = this.loginDatabase(request.database);
      if (found instanceof SqlError) return { refusal: found };
      if (found === undefined)
        return {
          refusal: new SqlError(
            4060,
            `Cannot open database "${request.database}" requested by the login. The login failed.`,
            14,
          ),
        };
      database = found;
    }
    return {
      session: this.newSession({
        database,
        user: request.userName,
        transaction: newTransactionState(),
        readOnlyIntent: readOnlyIntent(login7),
      }),
    };
  }

  protected accept(socket: net.Socket): void {
    this.sockets.set(socket, undefined);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    if (!this.answers()) {
      setTimeout(() => socket.destroy(), 200).unref();
      return;
    }
    const reader = new MessageReader();
    let queue = Promise.resolve();
    let session: S | undefined;
    let packetSize = 4096;
    let current: AbortController | undefined;
    let attention = false;
    /** Requests queued or running: an attention while there are none is acknowledged at once. */
    let pending = 0;
    /** The socket, or TLS over it once the client starts its handshake. */
    const transport = new TdsTransport(
      socket,
      this.tls,
      (chunk) => onData(chunk),
      () => {
        this.requests.tlsHandshakes += 1;
      },
    );

    const send = (payload: Buffer): void => {
      if (socket.destroyed) return;
      for (const packet of packets(PacketType.tabularResult, payload, packetSize)) transport.write(packet);
    };

    const handle = async (message: Message): Promise<void> => {
      const name = this.serverName();
      if (name === undefined || !this.answers()) {
        socket.destroy();
        return;
      }
      const latency = faultFor(this.world.faults.sql.latencyMs, name);
      const isRequest = message.type === PacketType.sqlBatch || message.type === PacketType.rpc;
      if (latency && !isRequest) await sleep(latency.value);
      switch (message.type) {
        case PacketType.prelogin: {
          const choice = negotiateEncryption(parsePrelogin(message.data).encryption, this.tls !== undefined);
          send(preloginResponse(choice.answer));
          if (choice.mode === 'refused') socket.end();
          else transport.encryption = choice.mode;
          return;
        }
        case PacketType.login7: {
          const result = this.login(message.data, name);
          if (result.session) {
            session = result.session;
            packetSize = result.packetSize;
            if (this.sockets.has(socket)) this.sockets.set(socket, session);
          }
          send(result.response);
          if (!result.session) socket.end();
          return;
        }
        case PacketType.sqlBatch:
        case PacketType.rpc: {
          if (!session) {
            socket.destroy();
            return;
          }
          const isRpc = message.type === PacketType.rpc;
          const cancelledResponse = () => {
            // The interrupted request's response ends first; the attention acknowledgement is a message of its own.
            send(
              (isRpc
                ? new TokenWriter().doneProc(DoneStatus.final)
                : new TokenWriter().done(DoneStatus.final)
              ).toBuffer(),
            );
            send(new TokenWriter().done(DoneStatus.attention).toBuffer());
            attention = false;
          };
          if (attention) {
            cancelledResponse();
            return;
          }
          const refusal = this.refuseRequest(session);
          if (refusal) {
            send(this.render({ results: [], error: refusal }, isRpc, name));
            return;
          }
          current = new AbortController();
          const signal = current.signal;
          if (isRpc) this.requests.rpcs += 1;
          else this.requests.batches += 1;
          let execution: Execution;
          try {
            if (latency) {
              await new Promise<void>((resolve, reject) => {
                const timer = setTimeout(resolve, latency.value);
                signal.addEventListener(
                  'abort',
                  () => {
                    clearTimeout(timer);
                    reject(new DOMException('cancelled', 'AbortError'));
                  },
                  { once: true },
                );
              });
            }
            if (isRpc) {
              const request = parseRpc(message.data);
              this.maybeResetDuringWait(
                socket,
                name,
                request.procedure + JSON.stringify(request.parameters.map((parameter) => parameter.value)),
              );
              execution = await this.engine.executeRpc(session, request, signal);
            } else {
              const text = parseSqlBatch(message.data);
              this.maybeResetDuringWait(socket, name, text);
              execution = await this.engine.executeBatch(session, text, signal);
            }
          } catch (error) {
            current = undefined;
            if (error instanceof Error && error.name === 'AbortError') {
              cancelledResponse();
              return;
            }
            execution = {
              results: [],
              error: error instanceof SqlError ? error : new SqlError(8180, (error as Error).message),
            };
          }
          current = undefined;
          send(this.render(execution, isRpc, name));
          if (attention) {
            send(new TokenWriter().done(DoneStatus.attention).toBuffer());
            attention = false;
          }
          return;
        }
        case PacketType.transactionManager:
          if (!session) {
            socket.destroy();
            return;
          }
          send(this.engine.transactionRequest(session, message.data, name));
          return;
        default:
          send(
            new TokenWriter()
              .error(
                8180,
                1,
                16,
                `Requests of type 0x${message.type.toString(16)} are not supported by the emulator.`,
                name,
              )
              .done(DoneStatus.error)
              .toBuffer(),
          );
      }
    };

    const onData = (chunk: Buffer) => {
      let messages: Message[];
      try {
        messages = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const message of messages) {
        if (transport.route(message, session !== undefined)) continue;
        if (message.type === PacketType.attention) {
          if (pending === 0) {
            send(new TokenWriter().done(DoneStatus.attention).toBuffer());
            continue;
          }
          attention = true;
          current?.abort();
          continue;
        }
        pending += 1;
        queue = queue
          .then(() => handle(message))
          .catch(() => void socket.destroy())
          .finally(() => {
            pending -= 1;
          });
      }
    };
  }

  /** The fault "a connection reset in the middle of a wait". */
  private maybeResetDuringWait(socket: net.Socket, serverName: string, request: string): void {
    if (!/sp_wait_for_database_copy_sync/i.test(request)) return;
    const fault = faultFor(this.world.faults.sql.resetDuringWait, serverName);
    if (!fault || fault.value <= 0) return;
    if (fault.value <= 1) this.world.faults.sql.resetDuringWait.delete(fault.key);
    else this.world.faults.sql.resetDuringWait.set(fault.key, fault.value - 1);
    setTimeout(() => socket.destroy(), 50).unref();
  }

  private login(data: Buffer, serverName: string): { response: Buffer; session?: S; packetSize: number } {
    this.requests.logins += 1;
    const request = parseLogin7(data);
    const writer = new TokenWriter();
    const refuse = (message: string, number = 18456): { response: Buffer; packetSize: number } => {
      this.requests.loginFailures += 1;
      return {
        response: writer.error(number, 1, 14, message, serverName).done(DoneStatus.error).toBuffer(),
        packetSize: 4096,
      };
    };
    const early = this.refuseLogin(request, serverName);
    if (early) return refuse(early.message, early.number);
    const injected = faultFor(this.world.faults.sql.loginFailures, serverName);
    const forApp = injected && this.world.faults.sql.loginFailureApps.get(injected.key);
    if (injected && injected.value > 0 && (!forApp || forApp === request.appName)) {
      if (injected.value <= 1) this.world.faults.sql.loginFailures.delete(injected.key);
      else this.world.faults.sql.loginFailures.set(injected.key, injected.value - 1);
      return refuse(`Login failed for user '${request.userName}'.`);
    }
    if (request.federatedAuthentication) {
      return refuse(
        `Login failed: the emulator accepts its SQL login only (user '${this.world.spec.sqlLogin.user}'), not Microsoft Entra tokens.`,
      );
    }
    const outcome = this.openSession(request, data);
    if ('refusal' in outcome) return refuse(outcome.refusal.message, outcome.refusal.number);
    const { session } = outcome;
    const packetSize = Math.min(Math.max(request.packetSize || 4096, 512), 32_767);
    writer
      .envChange(1, session.database, 'master')
      .collationChange()
      .info(5701, `Changed database context to '${session.database}'.`, serverName)
      .envChange(2, 'us_english', '')
      .info(5703, 'Changed language setting to us_english.', serverName)
      .loginAck('Microsoft SQL Server', [12, 0, 0x07, 0xd0])
      .envChange(4, String(packetSize), '4096')
      .done(DoneStatus.final);
    return { response: writer.toBuffer(), session, packetSize };
  }

  private render(execution: Execution, isRpc: boolean, serverName: string): Buffer {
    const writer = new TokenWriter();
    const doneInner = (status: number, rows: number) =>
      isRpc ? writer.doneInProc(status, rows) : writer.done(status, rows);
    for (const result of execution.results) {
      if (result.changedDatabase) {
        writer
          .envChange(1, result.changedDatabase.to, result.changedDatabase.from)
          .info(5701, `Changed database context to '${result.changedDatabase.to}'.`, serverName);
      }
      if (result.resultSet) {
        writer.columns(result.resultSet.columns);
        for (const row of result.resultSet.rows) writer.row(result.resultSet.columns, row);
        doneInner(DoneStatus.more | DoneStatus.count, result.resultSet.rows.length);
      } else if (result.rowCount !== undefined) {
        doneInner(DoneStatus.more | DoneStatus.count, result.rowCount);
      } else if (!isRpc) {
        writer.done(DoneStatus.more);
      }
    }
    const error = execution.error;
    if (error) writer.error(error.number, error.state, error.severity, error.message, serverName);
    if (isRpc) {
      writer.returnStatus(error ? -6 : (execution.results.at(-1)?.returnStatus ?? 0));
      writer.doneProc(error ? DoneStatus.error : DoneStatus.final);
    } else {
      writer.done(error ? DoneStatus.error : DoneStatus.final);
    }
    return writer.toBuffer();
  }
}
