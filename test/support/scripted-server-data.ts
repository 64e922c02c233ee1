/**
 * SQL for a scripted SQL Database (workflow tests): the data plane of the logical servers a {@link ScriptedServerGroups}
 * scripts, on its clock. A server failover group's member databases answer per database, as SQL Database does (each
 * request names its database): replication links per partner, the copy-sync wait, updateability (read-only for a
 * while after a switch), smoke rows through `<group>.database.windows.net` (the primary), logins and users.
 *
 * Managed Instance targets are not this script's: {@link dataPlaneByKind} sends them to the ScriptedAzure.
 */
import {
  SqlRequestError,
  type AgentJobInfo,
  type BackupInfo,
  type CopySyncTarget,
  type DataPlane,
  type LoginInfo,
  type RestoreCheck,
  type RestoreCheckResult,
  type SmokeRowQuery,
  type SmokeRowWrite,
  type SmokeRowWritten,
  type SqlInstanceTarget,
  type SqlRequestOptions,
  type UserDatabase,
} from '../../src/sql/data-plane';
import type { DatabaseReplicationLink, DatabaseUpdateability, SeedingProgress } from '../../src/domain/azure-state';
import type { ScriptedServerGroup, ScriptedServerGroups } from './scripted-server-groups';

const DOMAIN = '.database.windows.net';

export class ScriptedServerData implements DataPlane {
  /** Replication lag per member database, in seconds (default 0). */
  readonly lagSeconds: Record<string, number> = {};
  /** How long each database of a new primary stays read-only after the switch (simulated ms). */
  readOnlyAfterSwitchMs = 20_000;
  /** The copy-sync wait fails like this (a lost link, a timeout). */
  syncFailure?: 'sync-timeout' | 'link-missing';
  /** Logins of each server's master (name → SID), and users of each database on each server. */
  readonly logins: Record<string, LoginInfo[]> = {};
  /** SQL calls made, in order: method, host, database. */
  readonly calls: { method: string; host: string; database?: string; at: number }[] = [];
  /** Rows written to `dbo.fogpilot_smoke` and on which server; the script replicates at once and loses nothing. */
  readonly smokeRows: { database: string; payload: string; id: number; committedAt: string; server: string }[] = [];

  constructor(
    private readonly groups: ScriptedServerGroups,
    private readonly clock: () => Promise<number>,
  ) {}

  private async record(method: string, target: SqlInstanceTarget, database?: string): Promise<number> {
    const at = await this.clock();
    this.calls.push({ method, host: target.host, ...(database ? { database } : {}), at });
    return at;
  }

  /** The group whose listener `host` is, when it is one. */
  private groupOfListener(host: string): ScriptedServerGroup | undefined {
    if (!host.endsWith(DOMAIN)) return undefined;
    const name = host.slice(0, -DOMAIN.length);
    return this.groups.groups[name];
  }

  /** The primary at `now`, as the plane's next read will find it (a failover that ended has switched the roles). */
  private primaryAt(group: ScriptedServerGroup, now: number): string {
    const pending = group.pending;
    if (pending && now >= pending.endsAt && pending.outcome === 'Succeeded' && !this.groups.failoverNeverCompletes)
      return pending.server;
    return group.primary;
  }

  private switchedAt(group: ScriptedServerGroup, now: number): number | undefined {
    const pending = group.pending;
    if (pending && now >= pending.endsAt && pending.outcome === 'Succeeded' && !this.groups.failoverNeverCompletes)
      return pending.endsAt;
    return group.switchedAt;
  }

  private serversOf(group: ScriptedServerGroup, now: number): string[] {
    const primary = this.primaryAt(group, now);
    return [primary, ...[group.primary, ...group.secondaries].filter((name) => name !== primary)];
  }

  /** The server a host names (a listener: the group's primary), refusing a dark one as an unreachable host. */
  private serverOf(host: string, now: number): { server: string; group?: ScriptedServerGroup } {
    const listened = this.groupOfListener(host);
    const server = listened
      ? this.primaryAt(listened, now)
      : host.endsWith(DOMAIN)
        ? host.slice(0, -DOMAIN.length)
        : '';
    if (!this.groups.servers[server]) throw new SqlRequestError(`no server at ${host}`, 'transient');
    if (this.groups.darkServers.has(server)) throw new SqlRequestError(`${host} does not answer`, 'transient');
    const group =
      listened ?? Object.values(this.groups.groups).find((entry) => this.serversOf(entry, now).includes(server));
    return { server, ...(group ? { group } : {}) };
  }

  private databasesOf(target: SqlInstanceTarget, group?: ScriptedServerGroup): string[] {
    return target.databases ?? group?.databases ?? [];
  }

  private writable(group: ScriptedServerGroup | undefined, server: string, now: number): boolean {
    if (!group) return false;
    const switched = this.switchedAt(group, now);
    return (
      this.primaryAt(group, now) === server && (switched === undefined || now >= switched + this.readOnlyAfterSwitchMs)
    );
  }

  async listUserDatabases(target: SqlInstanceTarget): Promise<UserDatabase[]> {
    const now = await this.record('listUserDatabases', target);
    const { server } = this.serverOf(target.host, now);
    return this.groups.servers[server]!.databases.map((database) => ({ name: database.name, state: 'ONLINE' }));
  }

  async listReplicationLinks(target: SqlInstanceTarget): Promise<DatabaseReplicationLink[]> {
    const now = await this.record('listReplicationLinks', target);
    const { server, group } = this.serverOf(target.host, now);
    if (!group) return [];
    const primary = this.primaryAt(group, now);
    const partners = server === primary ? this.serversOf(group, now).slice(1) : [primary];
    return this.databasesOf(target, group).flatMap((database) =>
      partners.map((partner) => {
        const lagMs = (this.lagSeconds[database] ?? 0) * 1000;
        return {
          database,
          partnerServer: partner,
          partnerDatabase: database,
          role: server === primary ? 'PRIMARY' : 'SECONDARY',
          replicationState: group.replicationState,
          lagSeconds: server === primary ? lagMs / 1000 : null,
          ...(server === primary ? { lastReplication: new Date(now - lagMs).toISOString() } : {}),
          lastCommit: new Date(now - (server === primary ? 0 : lagMs)).toISOString(),
        };
      }),
    );
  }

  async waitForCopySync(
    target: SqlInstanceTarget,
    link: CopySyncTarget,
    options: SqlRequestOptions & { timeoutInMs: number },
  ): Promise<void> {
    const now = await this.record('waitForCopySync', target, link.database);
    const { server, group } = this.serverOf(target.host, now);
    if (this.syncFailure)
      throw new SqlRequestError(`scripted ${this.syncFailure} for ${link.database}`, this.syncFailure);
    if (!group || this.primaryAt(group, now) !== server)
      throw new SqlRequestError(`${link.database} on ${server} is not a geo-primary`, 'link-missing');
    if (!this.serversOf(group, now).includes(link.partnerServer))
      throw new SqlRequestError(`${link.database} has no link to ${link.partnerServer}`, 'link-missing');
    if (options.abortSignal?.aborted) throw new SqlRequestError('copy sync wait cancelled', 'transient');
  }

  async getUpdateability(target: SqlInstanceTarget): Promise<DatabaseUpdateability[]> {
    const now = await this.record('getUpdateability', target);
    const { server, group } = this.serverOf(target.host, now);
    return this.databasesOf(target, group).map((database) => ({
      database,
      updateability: this.writable(group, server, now) ? 'READ_WRITE' : 'READ_ONLY',
    }));
  }

  async listLogins(target: SqlInstanceTarget): Promise<LoginInfo[]> {
    const now = await this.record('listLogins', target);
    const { server } = this.serverOf(target.host, now);
    return this.logins[server] ?? [];
  }

  listAgentJobs(): Promise<AgentJobInfo[]> {
    // SQL Database has no SQL Agent (no msdb).
    return Promise.resolve([]);
  }

  listSeedingProgress(): Promise<SeedingProgress[]> {
    return Promise.resolve([]);
  }

  async latestBackups(target: SqlInstanceTarget): Promise<BackupInfo[]> {
    const now = await this.record('latestBackups', target);
    const { group } = this.serverOf(target.host, now);
    return this.databasesOf(target, group).map((database) => ({
      database,
      lastFullBackup: new Date(now - 6 * 3_600_000).toISOString(),
      lastLogBackup: new Date(now - 300_000).toISOString(),
    }));
  }

  async insertSmokeRow(target: SqlInstanceTarget, row: SmokeRowWrite): Promise<SmokeRowWritten> {
    const now = await this.record('insertSmokeRow', target, row.database);
    const { server, group } = this.serverOf(target.host, now);
    if (!this.writable(group, server, now)) {
      throw new SqlRequestError(
        `Failed to update database "${row.database}" because the database is read-only.`,
        'not-writable',
        3906,
      );
    }
    const written = { id: this.smokeRows.length + 1, committedAt: new Date(now).toISOString() };
    this.smokeRows.push({ ...row, ...written, server });
    return written;
  }

  async findSmokeRows(target: SqlInstanceTarget, query: SmokeRowQuery): Promise<string[]> {
    const now = await this.record('findSmokeRows', target, query.database);
    this.serverOf(target.host, now);
    return this.smokeRows
      .filter((row) => row.database === query.database && row.payload.startsWith(query.prefix))
      .map((row) => row.payload);
  }

  runRestoreChecks(
    _target: SqlInstanceTarget,
    _database: string,
    checks: RestoreCheck[],
  ): Promise<RestoreCheckResult[]> {
    return Promise.resolve(checks.map((check) => ({ ...check, error: 'restores of SQL Database are not scripted' })));
  }
}

/** A data plane that sends SQL Database targets to `servers` and every other target to `instances`. */
export function dataPlaneByKind(instances: DataPlane, servers: DataPlane): DataPlane {
  const pick = (target: SqlInstanceTarget): DataPlane => (target.kind === 'sqlDatabase' ? servers : instances);
  return {
    listUserDatabases: (target, options) => pick(target).listUserDatabases(target, options),
    listReplicationLinks: (target, options) => pick(target).listReplicationLinks(target, options),
    waitForCopySync: (target, link, options) => pick(target).waitForCopySync(target, link, options),
    getUpdateability: (target, options) => pick(target).getUpdateability(target, options),
    listLogins: (target, options) => pick(target).listLogins(target, options),
    listAgentJobs: (target, options) => pick(target).listAgentJobs(target, options),
    listSeedingProgress: (target, options) => pick(target).listSeedingProgress(target, options),
    latestBackups: (target, options) => pick(target).latestBackups(target, options),
    insertSmokeRow: (target, row, options) => pick(target).insertSmokeRow(target, row, options),
    runRestoreChecks: (target, database, checks, options) =>
      pick(target).runRestoreChecks(target, database, checks, options),
    findSmokeRows: (target, query, options) => pick(target).findSmokeRows(target, query, options),
  };
}
