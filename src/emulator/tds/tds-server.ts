/**
 * The TDS endpoint of one emulated managed instance (the protocol is ./tds-endpoint.ts): LOGIN7 with the instance's own
 * SQL logins or the world's rehearsal login (./logins.ts), into `master` or a database the instance has; answers from
 * the world through the {@link SqlEngine}; its sessions dropped when its group's roles switch away from it.
 */
import type { World } from '../world';
import type { TdsTlsOptions } from '../tls/tds-tls';
import type { SqlEngine, Session } from './sql-engine';
import type { EngineSession } from './tsql-engine';
import { TdsEndpoint, type Switching } from './tds-endpoint';

export { SwitchErrors } from './tds-endpoint';

export class TdsServer extends TdsEndpoint<Session> {
  constructor(
    world: World,
    private readonly sqlEngine: SqlEngine,
    readonly instanceId: string,
    /** The certificates, when the emulator runs with TLS. */
    tls?: TdsTlsOptions,
  ) {
    super(world, sqlEngine, tls);
  }

  protected isServer(id: string): boolean {
    return id.toLowerCase() === this.instanceId.toLowerCase();
  }

  /**
   * The group of this instance, when its role switch is running now (for every database of the instance), and
   * whether this instance is the one leaving the primary role.
   */
  protected switching(): Switching | undefined {
    const group = this.world.groupOfInstance(this.instanceId);
    if (!group || !this.world.switchRunning(group)) return undefined;
    return { name: group.name, leaving: !this.isServer(group.primaryInstanceId) };
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

  protected logins() {
    return this.instance()!.logins;
  }

  protected loginDatabase(name: string): string | undefined {
    return this.sqlEngine.databaseExists(this.instance()!, name);
  }

  protected newSession(session: EngineSession): Session {
    return { instance: this.instance()!, ...session };
  }
}

export { ReadWriteListener } from './read-write-listener';
