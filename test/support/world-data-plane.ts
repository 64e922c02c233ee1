/**
 * A data plane answered straight from the emulated world, for tests of the ARM half before SQL speaks TDS (the real
 * data plane over the mssql driver replaces it where a test is about SQL).
 */
import type { DatabaseReplicationLink, DatabaseUpdateability } from '../../src/domain/azure-state';
import type {
  AgentJobInfo,
  BackupInfo,
  CopySyncTarget,
  DataPlane,
  LoginInfo,
  SqlInstanceTarget,
  UserDatabase,
} from '../../src/sql/data-plane';
import { SqlRequestError } from '../../src/sql/data-plane';
import type { World } from '../../src/emulator/world';

export class WorldDataPlane implements DataPlane {
  readonly calls: string[] = [];
  constructor(private readonly world: World) {}

  private locate(target: SqlInstanceTarget) {
    this.world.advance();
    const instance = this.world.instanceByHost(target.host);
    const group = instance && this.world.groupOfInstance(instance.id);
    if (!instance || !group) throw new SqlRequestError(`no instance at ${target.host}`, 'transient');
    return { instance, group };
  }

  listUserDatabases(target: SqlInstanceTarget): Promise<UserDatabase[]> {
    const { group } = this.locate(target);
    return Promise.resolve(group.databases.map((database) => ({ name: database.name, state: 'ONLINE' })));
  }

  listLogins(target: SqlInstanceTarget): Promise<LoginInfo[]> {
    const { instance } = this.locate(target);
    return Promise.resolve(
      instance.logins.map((login) => ({
        name: login.name,
        sid: login.sid.toUpperCase().replace(/^0X/, '0x'),
        type: login.type,
      })),
    );
  }

  listAgentJobs(target: SqlInstanceTarget): Promise<AgentJobInfo[]> {
    const { instance } = this.locate(target);
    return Promise.resolve(instance.agentJobs.map((name) => ({ name, enabled: true })));
  }

  latestBackups(): Promise<BackupInfo[]> {
    return Promise.resolve([]);
  }

  listReplicationLinks(target: SqlInstanceTarget): Promise<DatabaseReplicationLink[]> {
    this.calls.push('listReplicationLinks');
    const { instance, group } = this.locate(target);
    const isPrimary = instance.id === group.primaryInstanceId;
    const partner = this.world.partnerInstance(group, instance.id);
    return Promise.resolve(
      group.databases.map((database) => ({
        database: database.name,
        partnerServer: partner.name,
        partnerDatabase: database.name,
        role: isPrimary ? 'PRIMARY' : 'SECONDARY',
        replicationState: this.world.isSeeding(group) ? 'SEEDING' : 'CATCH_UP',
        lagSeconds: isPrimary ? database.lagMs / 1000 : null,
      })),
    );
  }

  waitForCopySync(target: SqlInstanceTarget, link: CopySyncTarget): Promise<void> {
    this.calls.push(`waitForCopySync:${link.database}`);
    this.locate(target);
    return Promise.resolve();
  }

  getUpdateability(target: SqlInstanceTarget): Promise<DatabaseUpdateability[]> {
    this.calls.push('getUpdateability');
    const { instance, group } = this.locate(target);
    const now = this.world.now();
    return Promise.resolve(
      group.databases.map((database) => ({
        database: database.name,
        updateability:
          instance.id === group.primaryInstanceId && now >= database.readOnlyUntil ? 'READ_WRITE' : 'READ_ONLY',
      })),
    );
  }
}
