/**
 * The TDS endpoint of one logical server of Azure SQL Database (`<server>.database.windows.net`; the protocol is
 * ./tds-endpoint.ts), and the two listeners of a server failover group.
 *
 * A login opens the database its LOGIN7 names (`master` when none) and the session stays there
 * (./sql-database-engine.ts). A database the server does not have fails the login with 4060; a geo-secondary copy
 * still being seeded, with 40613 (Learn, "Database copy": "In this state, you can't connect to the copy"; the number
 * is Azure's "not currently available", a transient one). Logins are the server's own SQL logins (world spec
 * `sqlServers[].logins` with a password) and the world's rehearsal login.
 *
 * At a failover group's role switch the old primary's sessions in the group's databases end (Learn, failover groups
 * for SQL Database: the listener's DNS moves and connections to the old primary are cut); while the switch runs, a
 * login into a member database on the old primary gets 40613 and a request in one on the new primary 40197, as on
 * a managed instance (./tds-server.ts `SwitchErrors`).
 *
 * The listeners are DNS names, forwards to the server they point at when a connection arrives:
 * `<group>.database.windows.net` to the primary (the target of an accepted failover from its start), dropping the
 * forwards to the old primary at the switch; `<group>.secondary.database.windows.net` to the read-only target
 * (`readOnlyEndpoint.targetServer`, else the first partner; the primary when its region is dark and the read-only
 * failover policy is Enabled). Being DNS, the read-only listener cannot see ApplicationIntent: a ReadWrite session
 * through it lands on the secondary, where reads work and writes fail with 3906 (inferred, as for managed instances:
 * ./read-only-listener.ts).
 */
import type { World, SqlFailoverGroupState, SqlServerState } from '../world';
import type { TdsTlsOptions } from '../tls/tds-tls';
import type { Login7Request } from './protocol';
import { SqlError } from './sql-parser';
import { newTransactionState } from './transactions';
import { acceptsLogin, readOnlyIntent } from './logins';
import { SwitchErrors } from './tds-server';
import { TdsEndpoint, type LoginOutcome } from './tds-endpoint';
import { ForwardingListener } from './forwarding-listener';
import { sameName } from './tsql-engine';
import type { SqlDatabaseEngine, SqlDatabaseSession } from './sql-database-engine';

export class SqlServerTdsServer extends TdsEndpoint<SqlDatabaseSession> {
  private readonly onChange: (kind: string, group?: unknown, failover?: unknown, oldPrimaryId?: unknown) => void;

  constructor(
    world: World,
    private readonly sqlEngine: SqlDatabaseEngine,
    readonly serverId: string,
    tls?: TdsTlsOptions,
  ) {
    super(world, sqlEngine, tls);
    this.onChange = (kind, group, _failover, oldPrimaryId) => {
      if (kind !== 'roles-switched' || typeof oldPrimaryId !== 'string' || !sameName(oldPrimaryId, this.serverId))
        return;
      const members = (group as Partial<SqlFailoverGroupState> | undefined)?.databases ?? [];
      this.dropConnections(
        (session) => session === undefined || members.some((name) => sameName(name, session.database)),
      );
    };
    world.on('change', this.onChange);
  }

  override close(): Promise<void> {
    this.world.off('change', this.onChange);
    return super.close();
  }

  private logicalServer(): SqlServerState | undefined {
    return this.world.sqlServerById(this.serverId);
  }

  /** The group whose role switch runs now for `database` on this server, and whether this server is leaving. */
  private switching(database: string): { name: string; leaving: boolean } | undefined {
    const now = this.world.now();
    for (const group of this.world.sqlFailoverGroups.values()) {
      const failover = group.failover;
      const running = failover?.switched && failover.completeAt !== undefined && now < failover.completeAt;
      if (!running || !group.serverIds.some((id) => sameName(id, this.serverId))) continue;
      if (!group.databases.some((name) => sameName(name, database))) continue;
      return { name: group.name, leaving: !sameName(group.primaryServerId, this.serverId) };
    }
    return undefined;
  }

  protected serverName(): string | undefined {
    return this.logicalServer()?.name;
  }

  protected answers(): boolean {
    const server = this.logicalServer();
    return server !== undefined && !this.world.isDark(server.location);
  }

  protected rehearsalUser(): string {
    return this.world.spec.sqlLogin.user;
  }

  protected refuseLogin(request: Login7Request): SqlError | undefined {
    const database = request.database || 'master';
    const switching = this.switching(database);
    if (!switching?.leaving) return undefined;
    return new SqlError(
      SwitchErrors.notAvailable,
      `Database '${database}' on server '${this.logicalServer()!.name}' is not currently available. Please retry the connection later. (failover group ${switching.name} is switching roles)`,
      14,
    );
  }

  protected refuseRequest(session: SqlDatabaseSession): SqlError | undefined {
    const switching = this.switching(session.database);
    if (!switching || switching.leaving) return undefined;
    return new SqlError(
      SwitchErrors.serviceError,
      `The service has encountered an error processing your request. Please try again. Error code ${SwitchErrors.serviceError}. (failover group ${switching.name} is switching roles)`,
      20,
    );
  }

  protected openSession(request: Login7Request, login7: Buffer): LoginOutcome<SqlDatabaseSession> {
    const server = this.logicalServer()!;
    if (!acceptsLogin(this.world, server, request.userName, request.password))
      return { refusal: new SqlError(18456, `Login failed for user '${request.userName}'.`, 14) };
    let database = 'master';
    if (request.database && !sameName(request.database, 'master')) {
      const found = this.sqlEngine.database(server, request.database);
      if (!found)
        return {
          refusal: new SqlError(
            4060,
            `Cannot open database "${request.database}" requested by the login. The login failed.`,
            14,
          ),
        };
      if (!this.sqlEngine.isSeeded(server, found))
        return {
          refusal: new SqlError(
            SwitchErrors.notAvailable,
            `Database '${found.name}' on server '${server.name}' is not currently available. Please retry the connection later. (its geo-secondary copy is still being seeded)`,
            14,
          ),
        };
      database = found.name;
    }
    return {
      session: {
        server,
        database,
        user: request.userName,
        transaction: newTransactionState(),
        readOnlyIntent: readOnlyIntent(login7),
      },
    };
  }
}

/** A server failover group's read-write listener, `<group>.database.windows.net`. */
export class SqlReadWriteListener extends ForwardingListener {
  protected target(): string | undefined {
    const group = this.world.sqlFailoverGroups.get(this.groupKey);
    const server = group && this.world.sqlServerById(this.world.sqlListenerServerId(group));
    return server && !this.world.isDark(server.location) ? server.id : undefined;
  }

  protected droppedAtSwitch(oldPrimaryId: string | undefined): string | undefined {
    return oldPrimaryId;
  }
}

/** A server failover group's read-only listener, `<group>.secondary.database.windows.net`. */
export class SqlReadOnlyListener extends ForwardingListener {
  protected target(): string | undefined {
    const group = this.world.sqlFailoverGroups.get(this.groupKey);
    const server = group && this.world.sqlServerById(this.world.sqlReadOnlyServerId(group));
    return server && !this.world.isDark(server.location) ? server.id : undefined;
  }

  /** Its record moves at a switch: every forward through it ends. */
  protected droppedAtSwitch(): undefined {
    return undefined;
  }
}

/** The listeners' names: `<group>.database.windows.net` and `<group>.secondary.database.windows.net`. */
export function sqlListenerHosts(groupName: string): { readWrite: string; readOnly: string } {
  return {
    readWrite: `${groupName}.database.windows.net`,
    readOnly: `${groupName}.secondary.database.windows.net`,
  };
}
