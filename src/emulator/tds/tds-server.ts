/**
 * A TDS endpoint for one emulated instance: PRELOGIN (with a certificate, TLS as MS-TDS negotiates it: see
 * ../tls/tds-tls.ts; without one, encryption refused), LOGIN7 with the instance's own SQL logins or the world's
 * rehearsal login (./logins.ts), SQL batches, RPC calls (`sp_executesql`, procedures by name) and attention
 * (cancel). Answers come from the world through the {@link SqlEngine}.
 */
import net from 'node:net';
import type { World } from '../world';
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
  type Message,
} from './protocol';
import { SqlError } from './sql-parser';
import { type SqlEngine, type Execution, type Session } from './sql-engine';
import { newTransactionState } from './transactions';
import { acceptsLogin, readOnlyIntent } from './logins';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function faultFor<T>(faults: Map<string, T>, instanceName: string): { key: string; value: T } | undefined {
  for (const key of [instanceName.toLowerCase(), '*']) {
    const value = faults.get(key);
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

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

export class TdsServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly onChange: (kind: string, group?: unknown, failover?: unknown, oldPrimaryId?: unknown) => void;
  /** `tlsHandshakes`: connections that started TLS. */
  readonly requests = { batches: 0, rpcs: 0, logins: 0, loginFailures: 0, tlsHandshakes: 0 };

  constructor(
    private readonly world: World,
    private readonly engine: SqlEngine,
    readonly instanceId: string,
    /** The certificates, when the emulator runs with TLS. */
    private readonly tls?: TdsTlsOptions,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
    // Sessions on the old primary end at the switch, as Azure's do.
    this.onChange = (kind, _group, _failover, oldPrimaryId) => {
      if (kind === 'roles-switched' && typeof oldPrimaryId === 'string' && this.isInstance(oldPrimaryId))
        this.dropConnections();
    };
    world.on('change', this.onChange);
  }

  private isInstance(id: string): boolean {
    return id.toLowerCase() === this.instanceId.toLowerCase();
  }

  /**
   * The group of this instance, when its role switch is running now, and whether this instance is the one leaving the
   * primary role.
   */
  private switching(): { name: string; leaving: boolean } | undefined {
    const group = this.world.groupOfInstance(this.instanceId);
    if (!group || !this.world.switchRunning(group)) return undefined;
    return { name: group.name, leaving: !this.isInstance(group.primaryInstanceId) };
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve(this.port));
    });
  }

  /** Drops every open connection (a failover, a region going dark). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.world.off('change', this.onChange);
    this.dropConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private instance() {
    return this.world.instanceById(this.instanceId);
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    const instance = this.instance();
    if (!instance || this.world.isDark(instance.location)) {
      setTimeout(() => socket.destroy(), 200).unref();
      return;
    }
    const reader = new MessageReader();
    let queue = Promise.resolve();
    let session: Session | undefined;
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
      const now = this.instance();
      if (!now || this.world.isDark(now.location)) {
        socket.destroy();
        return;
      }
      const latency = faultFor(this.world.faults.sql.latencyMs, now.name);
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
          const result = this.login(message.data);
          if (result.session) {
            session = result.session;
            packetSize = result.packetSize;
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
          const switching = this.switching();
          if (switching && !switching.leaving) {
            send(
              this.render(
                {
                  results: [],
                  error: new SqlError(
                    SwitchErrors.serviceError,
                    `The service has encountered an error processing your request. Please try again. Error code ${SwitchErrors.serviceError}. (failover group ${switching.name} is switching roles)`,
                    20,
                  ),
                },
                isRpc,
                now.name,
              ),
            );
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
                now.name,
                request.procedure + JSON.stringify(request.parameters.map((parameter) => parameter.value)),
              );
              execution = await this.engine.executeRpc(session, request, signal);
            } else {
              const text = parseSqlBatch(message.data);
              this.maybeResetDuringWait(socket, now.name, text);
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
          send(this.render(execution, isRpc, now.name));
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
          send(this.engine.transactionRequest(session, message.data, now.name));
          return;
        default:
          send(
            new TokenWriter()
              .error(
                8180,
                1,
                16,
                `Requests of type 0x${message.type.toString(16)} are not supported by the emulator.`,
                now.name,
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
  private maybeResetDuringWait(socket: net.Socket, instanceName: string, request: string): void {
    if (!/sp_wait_for_database_copy_sync/i.test(request)) return;
    const fault = faultFor(this.world.faults.sql.resetDuringWait, instanceName);
    if (!fault || fault.value <= 0) return;
    if (fault.value <= 1) this.world.faults.sql.resetDuringWait.delete(fault.key);
    else this.world.faults.sql.resetDuringWait.set(fault.key, fault.value - 1);
    setTimeout(() => socket.destroy(), 50).unref();
  }

  private login(data: Buffer): { response: Buffer; session?: Session; packetSize: number } {
    this.requests.logins += 1;
    const instance = this.instance()!;
    const request = parseLogin7(data);
    const writer = new TokenWriter();
    const refuse = (message: string, number = 18456): { response: Buffer; packetSize: number } => {
      this.requests.loginFailures += 1;
      return {
        response: writer.error(number, 1, 14, message, instance.name).done(DoneStatus.error).toBuffer(),
        packetSize: 4096,
      };
    };
    const switching = this.switching();
    if (switching?.leaving) {
      return refuse(
        `Database '${request.database || 'master'}' on server '${instance.name}' is not currently available. Please retry the connection later. (failover group ${switching.name} is switching roles)`,
        SwitchErrors.notAvailable,
      );
    }
    const injected = faultFor(this.world.faults.sql.loginFailures, instance.name);
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
    if (!acceptsLogin(this.world, instance, request.userName, request.password))
      return refuse(`Login failed for user '${request.userName}'.`);
    let database = 'master';
    if (request.database) {
      const found = this.engine.databaseExists(instance, request.database);
      if (!found)
        return refuse(`Cannot open database "${request.database}" requested by the login. The login failed.`, 4060);
      database = found;
    }
    const packetSize = Math.min(Math.max(request.packetSize || 4096, 512), 32_767);
    writer
      .envChange(1, database, 'master')
      .collationChange()
      .info(5701, `Changed database context to '${database}'.`, instance.name)
      .envChange(2, 'us_english', '')
      .info(5703, 'Changed language setting to us_english.', instance.name)
      .loginAck('Microsoft SQL Server', [12, 0, 0x07, 0xd0])
      .envChange(4, String(packetSize), '4096')
      .done(DoneStatus.final);
    return {
      response: writer.toBuffer(),
      session: {
        instance,
        database,
        user: request.userName,
        transaction: newTransactionState(),
        readOnlyIntent: readOnlyIntent(data),
      },
      packetSize,
    };
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

export { ReadWriteListener } from './read-write-listener';
