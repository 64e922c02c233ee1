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
 * a managed instance (./tds-endpoint.ts `SwitchErrors`).
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
import { SqlError } from './sql-parser';
import { TdsEndpoint, SwitchErrors, type Switching } from './tds-endpoint';
import { ForwardingListener } from './forwarding-listener';
import { sameName, type EngineSession } from './tsql-engine';
import type { SqlDatabaseEngine, SqlDatabaseSession } from './sql-database-engine';

export class SqlServerTdsServer extends TdsEndpoint<SqlDatabaseSession> {
  constructor(
    world: World,
    private readonly sqlEngine: SqlDatabaseEngine,
    readonly serverId: string,
    tls?: TdsTlsOptions,
  ) {
    super(world, sqlEngine, tls);
  }

  protected isServer(id: string): boolean {
    return sameName(id, this.serverId);
  }

  /** The group's member databases' sessions, and the connections not logged in yet. */
  protected override droppedAtSwitch(group: unknown): (session: SqlDatabaseSession | undefined) => boolean {
    const members = (group as Partial<SqlFailoverGroupState> | undefined)?.databases ?? [];
    return (session) => session === undefined || members.some((name) => sameName(name, session.database));
  }

  private logicalServer(): SqlServerState | undefined {
    return this.world.sqlServerById(this.serverId);
  }

  /** The group whose role switch runs now for `database` on this server, and whether this server is leaving. */
  protected switching(database: string): Switching | undefined {
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

  protected logins() {
    return this.logicalServer()!.logins;
  }

  /** `master`, or one of the server's databases once its copy here is seeded (40613 until then). */
  protected loginDatabase(name: string): string | SqlError | undefined {
    if (sameName(name, 'master')) return 'master';
    const server = this.logicalServer()!;
    const found = this.sqlEngine.database(server, name);
    if (!found) return undefined;
    if (!this.sqlEngine.isSeeded(server, found))
      return new SqlError(
        SwitchErrors.notAvailable,
        `Database '${found.name}' on server '${server.name}' is not currently available. Please retry the connection later. (its geo-secondary copy is still being seeded)`,
        14,
      );
    return found.name;
  }

  protected newSession(session: EngineSession): SqlDatabaseSession {
    return { server: this.logicalServer()!, ...session };
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
