/**
 * The TDS endpoint of one emulated managed instance (the protocol is ./tds-endpoint.ts): LOGIN7 with the instance's own
 * SQL logins or the world's rehearsal login (./logins.ts), into `master` or a database the instance has; answers from
 * the world through the {@link SqlEngine}; its sessions dropped when its group's roles switch away from it.
 */
import type { World } from '../world';
import type { TdsTlsOptions } from '../tls/tds-tls';
import type { Login7Request } from './protocol';
import { SqlError } from './sql-parser';
import type { SqlEngine, Session } from './sql-engine';
import { newTransactionState } from './transactions';
import { acceptsLogin, readOnlyIntent } from './logins';
import { TdsEndpoint, type LoginOutcome } from './tds-endpoint';

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

export class TdsServer extends TdsEndpoint<Session> {
  private readonly onChange: (kind: string, group?: unknown, failover?: unknown, oldPrimaryId?: unknown) => void;

  constructor(
    world: World,
    private readonly sqlEngine: SqlEngine,
    readonly instanceId: string,
    /** The certificates, when the emulator runs with TLS. */
    tls?: TdsTlsOptions,
  ) {
    super(world, sqlEngine, tls);
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

  override close(): Promise<void> {
    this.world.off('change', this.onChange);
    return super.close();
  }

  private instance() {
    return this.world.instanceById(this.instanceId);
  }

  protected serverName(): string | undefined {
    return this.instance()?.name;
  }

  protected answers(): boolean {
    const instance = this.instance();
    return instance !== undefined && !this.world.isDark(instance.location);
  }

  protected rehearsalUser(): string {
    return this.world.spec.sqlLogin.user;
  }

  protected refuseLogin(request: Login7Request): SqlError | undefined {
    const switching = this.switching();
    if (!switching?.leaving) return undefined;
    return new SqlError(
      SwitchErrors.notAvailable,
      `Database '${request.database || 'master'}' on server '${this.instance()!.name}' is not currently available. Please retry the connection later. (failover group ${switching.name} is switching roles)`,
      14,
    );
  }

  protected refuseRequest(): SqlError | undefined {
    const switching = this.switching();
    if (!switching || switching.leaving) return undefined;
    return new SqlError(
      SwitchErrors.serviceError,
      `The service has encountered an error processing your request. Please try again. Error code ${SwitchErrors.serviceError}. (failover group ${switching.name} is switching roles)`,
      20,
    );
  }

  protected openSession(request: Login7Request, login7: Buffer): LoginOutcome<Session> {
    const instance = this.instance()!;
    if (!acceptsLogin(this.world, instance, request.userName, request.password))
      return { refusal: new SqlError(18456, `Login failed for user '${request.userName}'.`, 14) };
    let database = 'master';
    if (request.database) {
      const found = this.sqlEngine.databaseExists(instance, request.database);
      if (!found)
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
      session: {
        instance,
        database,
        user: request.userName,
        transaction: newTransactionState(),
        readOnlyIntent: readOnlyIntent(login7),
      },
    };
  }
}

export { ReadWriteListener } from './read-write-listener';
