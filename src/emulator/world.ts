/**
 * The emulated Azure: one in-process world of managed instances, failover groups and databases, with Azure's rules
 * for failover and scaling, moving on a simulated clock. The ARM server (and, for SQL, the TDS server) answer from it.
 *
 * `World` holds the state, the event log and the clock, answers lookups, and composes the rules, which live by
 * concern under ./world/:
 * - managed-instances.ts: instances, their size and the update (scale) operation;
 * - failover-groups.ts: groups, the roles ARM reports; group-creation.ts and group-deletion.ts, a PUT's and a DELETE's
 *   course; seeding.ts, seeding per database;
 * - networks.ts: virtual networks, subnets, network security groups and their rules; network-check.ts, whether a
 *   pair's networks let it replicate;
 * - failovers.ts: planned and forced failovers, their refusals and their course;
 * - replication.ts: databases, commits, replication lag and the link;
 * - async-operations.ts: ARM's long-running operations;
 * - faults.ts: the faults armed in the world;
 * - split-brain.ts: the `split-brain` fault (an old primary still accepting writes after a forced failover);
 * - invariants.ts: failover counters and rule violations;
 * - sql-servers.ts, sql-failover-groups.ts, sql-replication.ts, sql-state.ts: Azure SQL Database — logical servers,
 *   databases, elastic pools and their scales; server failover groups and their failovers; geo-replication of a
 *   database to one or more partners (one commit log, hardened per partner);
 * - state.ts, regions.ts: the state records, ids and region spellings;
 * - context.ts: what a rule may use of the world (`WorldContext`, which `World` implements); the rules import it,
 *   never this module.
 */
import { EventEmitter } from 'node:events';
import { normalizeLocation } from '../domain/locations';
import type { WorldClock } from './clock';
import type { WorldContext } from './world/context';
import { advanceAutomaticFailover, advanceDemotion } from './world/automatic-failover';
import * as databaseRestores from './world/database-restores';
import * as failoverGroups from './world/failover-groups';
import * as failovers from './world/failovers';
import { clearWorldFaults, isDark, noWorldFaults } from './world/faults';
import { failoverCountersOf, invariantsOf, type WorldInvariants } from './world/invariants';
import * as managedInstances from './world/managed-instances';
import { advanceNetworks, networksFromSpec, requestRuleChange } from './world/networks';
import * as replication from './world/replication';
import { splitBrainAccepts, splitBrainCommit } from './world/split-brain';
import { advanceWorkload, emptyWorkload, loadWorkload } from './world/workload';
import * as sqlFailoverGroups from './world/sql-failover-groups';
import * as sqlReplication from './world/sql-replication';
import * as sqlServers from './world/sql-servers';
import {
  sameId,
  type ElasticPoolState,
  type SqlDatabaseState,
  type SqlFailoverGroupState,
  type SqlGeoReplication,
  type SqlScaleOperation,
  type SqlServerState,
} from './world/sql-state';
import type { WorkloadState } from './world/workload-state';
import {
  instanceResourceId,
  groupKey,
  type AsyncOperation,
  type CommitRecord,
  type DatabaseState,
  type FailoverCounters,
  type GroupState,
  type InstanceState,
  type LostCommits,
  type ManagementOperation,
  type NetworkSecurityGroupState,
  type SecurityRuleState,
  type VirtualNetworkState,
  type WorldEvent,
  type WorldFaults,
} from './world/state';
import { parseWorldSpec, type Timings, type WorldSpec, type WorldSpecInput } from './world-spec';

export {
  EmulatedArmError,
  instanceResourceId,
  type AsyncOperation,
  type CommitRecord,
  type DatabaseState,
  type FailoverCounters,
  type FailoverState,
  type GroupState,
  type InstanceState,
  type LostCommits,
  type ManagementOperation,
  type NetworkSecurityGroupState,
  type OwnDatabase,
  type SecurityRuleState,
  type SplitBrain,
  type SubnetState,
  type VirtualNetworkState,
  type SqlFaults,
  type WorldChange,
  type WorldEvent,
  type WorldFaults,
} from './world/state';
export {
  sqlGroupKey,
  sqlServerResourceId,
  type ElasticPoolState,
  type SqlDatabaseState,
  type SqlFailoverGroupState,
  type SqlFailoverState,
  type SqlGeoReplication,
  type SqlPartnerLink,
  type SqlScaleOperation,
  type SqlServerState,
  type SqlSku,
} from './world/sql-state';
export type { SqlGroupRequest } from './world/sql-failover-groups';
export type { ElasticPoolUpdate, SqlDatabaseUpdate } from './world/sql-servers';
export { displayLocation, idLocation } from './world/regions';
export { linkGuid } from './world/replication';
export type { GroupRequest } from './world/failover-groups';
export type { InstanceUpdate } from './world/managed-instances';
export type { WorldInvariants } from './world/invariants';
export type { WorldContext, WorldState } from './world/context';

/** The event log keeps this many of the latest events. */
const EVENT_LOG_LIMIT = 20_000;

/** The emulated Azure (see the module comment); `change` events say what moved (`WorldChange`). */
export class World extends EventEmitter implements WorldContext {
  spec!: WorldSpec;
  timings!: Timings;
  readonly instances = new Map<string, InstanceState>();
  readonly groups = new Map<string, GroupState>();
  readonly operations: ManagementOperation[] = [];
  readonly asyncOperations = new Map<string, AsyncOperation>();
  readonly events: WorldEvent[] = [];
  readonly failoverCounters = new Map<string, FailoverCounters>();
  readonly violations: string[] = [];
  readonly faults: WorldFaults = noWorldFaults();
  /** Commits lost by forced failovers, by group and database: the count the workload's own count must match. */
  readonly lostCommits: LostCommits[] = [];
  readonly virtualNetworks = new Map<string, VirtualNetworkState>();
  readonly securityGroups = new Map<string, NetworkSecurityGroupState>();
  /** Azure SQL Database logical servers by lower-case id, their databases and pools inside (world/sql-servers.ts). */
  readonly sqlServers = new Map<string, SqlServerState>();
  /** Server failover groups by key (`sqlGroupKey`; world/sql-failover-groups.ts). */
  readonly sqlFailoverGroups = new Map<string, SqlFailoverGroupState>();
  /** Scales of SQL databases and elastic pools, oldest first. */
  readonly sqlOperations: SqlScaleOperation[] = [];
  /** VMs, Recovery Services vaults and Cosmos DB accounts (world/workload.ts). */
  readonly workload: WorkloadState = emptyWorkload();
  private seq = 0;
  private ticker?: NodeJS.Timeout;

  constructor(
    readonly clock: WorldClock,
    spec: WorldSpecInput | WorldSpec,
  ) {
    super();
    // Every group's read-write listener follows the world's changes: a world of many groups has many listeners.
    this.setMaxListeners(0);
    this.load(spec);
  }

  /** Replaces the whole world (admin API `PUT /_admin/world`). */
  load(raw: unknown): void {
    const spec = parseWorldSpec(raw);
    this.spec = spec;
    this.timings = spec.timings;
    this.instances.clear();
    this.groups.clear();
    this.operations.length = 0;
    this.asyncOperations.clear();
    this.failoverCounters.clear();
    this.violations.length = 0;
    this.events.length = 0;
    clearWorldFaults(this.faults);
    this.lostCommits.length = 0;
    const now = this.clock.now();
    for (const instance of spec.instances) {
      const state = managedInstances.instanceFromSpec(instance, spec, now);
      this.instances.set(state.id.toLowerCase(), state);
    }
    const networks = networksFromSpec(spec, [...this.instances.values()]);
    this.virtualNetworks.clear();
    this.securityGroups.clear();
    for (const [id, vnet] of networks.virtualNetworks) this.virtualNetworks.set(id, vnet);
    for (const [id, nsg] of networks.securityGroups) this.securityGroups.set(id, nsg);
    for (const group of spec.groups) {
      const state = failoverGroups.groupFromSpec(this, group, spec, now);
      this.groups.set(state.key, state);
    }
    this.sqlServers.clear();
    this.sqlFailoverGroups.clear();
    this.sqlOperations.length = 0;
    for (const server of spec.sqlServers) {
      const state = sqlServers.sqlServerFromSpec(server, spec, now);
      if (this.sqlServers.has(state.id.toLowerCase())) throw new Error(`sqlServers: ${server.name} is declared twice`);
      this.sqlServers.set(state.id.toLowerCase(), state);
    }
    for (const group of spec.sqlFailoverGroups) {
      const state = sqlFailoverGroups.sqlGroupFromSpec(this, group, spec, now);
      if (this.sqlFailoverGroups.has(state.key)) throw new Error(`sqlFailoverGroups: ${group.name} is declared twice`);
      this.sqlFailoverGroups.set(state.key, state);
    }
    loadWorkload(this.workload, spec, now);
    this.record('world-loaded', {}, now);
    this.emit('change', 'world-loaded');
  }

  /** Runs the clock-driven transitions on a timer, so changes (a role switch) happen on time even with no request. */
  startTicking(intervalMs = 20): void {
    this.stopTicking();
    this.ticker = setInterval(() => this.advance(), intervalMs);
    this.ticker.unref();
  }

  stopTicking(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  now(): number {
    return this.clock.now();
  }

  /** Adds an event to the log (for what the servers observe: a copy-sync wait, a dropped connection). */
  note(kind: string, detail: Omit<WorldEvent, 'seq' | 'at' | 'kind'>): void {
    this.record(kind, detail);
  }

  /** Adds an event to the log, dated `at` (a scheduled transition is dated when it was due): for the world's rules. */
  record(kind: string, detail: Omit<WorldEvent, 'seq' | 'at' | 'kind'>, at = this.clock.now()): void {
    this.events.push({ seq: ++this.seq, at, kind, ...detail });
    if (this.events.length > EVENT_LOG_LIMIT) this.events.splice(0, this.events.length - EVENT_LOG_LIMIT);
  }

  // ── lookups ─────────────────────────────────────────────────────────────────────────────────────────────────────

  instanceByName(subscriptionId: string, resourceGroup: string, name: string): InstanceState | undefined {
    return this.instances.get(instanceResourceId(subscriptionId, resourceGroup, name).toLowerCase());
  }

  instanceById(id: string): InstanceState | undefined {
    return this.instances.get(id.toLowerCase());
  }

  instanceByHost(host: string): InstanceState | undefined {
    const wanted = host.toLowerCase();
    return [...this.instances.values()].find((instance) => instance.fullyQualifiedDomainName.toLowerCase() === wanted);
  }

  /** The group `name` as seen at `location`: undefined when no instance of it is there. */
  groupAt(subscriptionId: string, resourceGroup: string, location: string, name: string): GroupState | undefined {
    const group = this.groups.get(groupKey(subscriptionId, resourceGroup, name));
    if (!group) return undefined;
    return this.instanceAt(group, location) ? group : undefined;
  }

  groupsAt(subscriptionId: string, resourceGroup: string, location: string): GroupState[] {
    return [...this.groups.values()].filter(
      (group) =>
        group.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
        group.resourceGroup.toLowerCase() === resourceGroup.toLowerCase() &&
        this.instanceAt(group, location) !== undefined,
    );
  }

  groupOfInstance(instanceId: string): GroupState | undefined {
    return [...this.groups.values()].find((group) =>
      group.instanceIds.some((id) => id.toLowerCase() === instanceId.toLowerCase()),
    );
  }

  findGroup(nameOrKey: string): GroupState | undefined {
    return (
      this.groups.get(nameOrKey.toLowerCase()) ??
      [...this.groups.values()].find((group) => group.name.toLowerCase() === nameOrKey.toLowerCase())
    );
  }

  instanceAt(group: GroupState, location: string): InstanceState | undefined {
    const wanted = normalizeLocation(location);
    return group.instanceIds.map((id) => this.instanceById(id)!).find((instance) => instance.location === wanted);
  }

  partnerInstance(group: GroupState, instanceId: string): InstanceState {
    const other = group.instanceIds.find((id) => id.toLowerCase() !== instanceId.toLowerCase())!;
    return this.instanceById(other)!;
  }

  databaseOf(group: GroupState, name: string): DatabaseState | undefined {
    return replication.databaseOf(group, name);
  }

  // ── what ARM reports ───────────────────────────────────────────────────────────────────────────────────────────

  isSeeding(group: GroupState): boolean {
    return failoverGroups.isSeeding(group, this.clock.now());
  }

  /** The role ARM reports at `location` (with the inferred skew right after a switch). */
  reportedRole(group: GroupState, location: string): 'Primary' | 'Secondary' {
    return failoverGroups.reportedRole(this, group, location, this.clock.now());
  }

  reportedReplicationState(group: GroupState): string {
    return failoverGroups.reportedReplicationState(group, this.clock.now());
  }

  isDark(location: string): boolean {
    return isDark(this.faults, location);
  }

  /** The instance the group's read-write listener points at (the target of an accepted failover, from its start). */
  listenerInstanceId(group: GroupState): string {
    return failovers.listenerInstanceId(group);
  }

  /** Whether the group's role switch is running now (clients see 40613 and 40197 meanwhile). */
  switchRunning(group: GroupState): boolean {
    return failovers.switchRunning(group, this.clock.now());
  }

  failoverCountersOf(group: GroupState): FailoverCounters {
    return failoverCountersOf(this, group);
  }

  // ── clock-driven transitions ───────────────────────────────────────────────────────────────────────────────────

  /** Applies everything that has come due, in time order. Called before every request and on the ticker. */
  advance(): void {
    const now = this.clock.now();
    for (const group of [...this.groups.values()]) {
      if (!failoverGroups.advanceSeeding(this, group, now)) continue;
      failoverGroups.advanceDeletion(this, group, now);
      if (!this.groups.has(group.key)) continue;
      if (group.failover) failovers.advanceFailover(this, group, group.failover, now);
      advanceAutomaticFailover(this, group, now);
      advanceDemotion(this, group, now);
      failoverGroups.expireStaleClaim(group, now);
    }
    managedInstances.advanceOperations(this, now);
    for (const group of [...this.sqlFailoverGroups.values()]) sqlFailoverGroups.advanceSqlGroup(this, group, now);
    sqlServers.advanceSqlOperations(this, now);
    advanceNetworks(this, now);
    advanceWorkload(this, now);
    databaseRestores.advanceDatabaseRestores(this, now);
    databaseRestores.advanceDatabaseDeletions(this, now);
  }

  // ── data ───────────────────────────────────────────────────────────────────────────────────────────────────────

  /** The lag a commit made now would have. */
  currentLagMs(database: DatabaseState, now = this.clock.now()): number {
    return replication.currentLagMs(database, now);
  }

  /** Whether the instance's copy of the database accepts writes: the primary, outside the role-switch window. */
  acceptsWrites(group: GroupState, instanceId: string, database: DatabaseState, now = this.clock.now()): boolean {
    return (
      replication.acceptsWrites(this, group, instanceId, database, now) ||
      splitBrainAccepts(this, group, instanceId, now)
    );
  }

  /**
   * One committed transaction on the primary: it gets the next LSN and hardens on the secondary after the lag. Given
   * the instance that accepted it, a write to an old primary in split brain (fault `split-brain`) goes to its own log.
   */
  commit(
    group: GroupState,
    database: DatabaseState,
    payload: string,
    instanceId?: string,
    options: replication.CommitOptions = {},
  ): CommitRecord {
    this.advance();
    const now = this.clock.now();
    const rogue =
      instanceId === undefined ? undefined : splitBrainCommit(this, group, instanceId, database, payload, now);
    if (rogue) {
      if (options.change) rogue.change = options.change;
      if (options.smoke) rogue.smoke = true;
      return rogue;
    }
    return replication.commit(
      group,
      database,
      payload,
      now,
      managedInstances.redoQueueMsPerCommit(this, group),
      options,
    );
  }

  lastCommittedLsn(database: DatabaseState): number {
    return replication.lastCommittedLsn(database);
  }

  hardenedLsn(database: DatabaseState, now = this.clock.now()): number {
    return replication.hardenedLsn(database, now);
  }

  /** The newest commit the secondary holds: log hardens in order, so the last of the hardened prefix. */
  lastHardenedCommit(database: DatabaseState, now = this.clock.now()): CommitRecord | undefined {
    return replication.lastHardenedCommit(database, now);
  }

  /** What `replication_lag_sec` reports on the primary: how far behind the oldest unhardened commit is. */
  replicationLagSeconds(database: DatabaseState, now = this.clock.now()): number {
    return replication.replicationLagSeconds(database, now);
  }

  /** Loses the link to the partner: nothing more hardens on the secondary, including what was in flight. */
  loseLink(database: DatabaseState): void {
    replication.loseLink(database, this.clock.now());
  }

  /** Restores a lost link: what was committed meanwhile hardens after the lag from now. */
  restoreLink(database: DatabaseState): void {
    replication.restoreLink(database, this.clock.now());
  }

  // ── commands (what ARM requests do) ────────────────────────────────────────────────────────────────────────────

  /**
   * A planned or forced failover sent to `location`. Refused, with the documented codes, when sent to the primary's
   * location, while seeding, while another failover runs, or while an instance of the pair is being scaled.
   */
  requestFailover(group: GroupState, location: string, kind: 'planned' | 'forced'): AsyncOperation {
    return failovers.requestFailover(this, group, location, kind);
  }

  /**
   * PATCH of an instance's size. Returns undefined when nothing changes (ARM answers 200 at once). Refused while
   * another management operation runs on the instance, or for values Azure does not accept.
   */
  requestScale(instance: InstanceState, update: managedInstances.InstanceUpdate): AsyncOperation | undefined {
    return managedInstances.requestScale(this, instance, update);
  }

  /** POST `…/operations/{id}/cancel` of a management operation; refused when it cannot be cancelled. */
  cancelOperation(operation: ManagementOperation): void {
    managedInstances.cancelOperation(this, operation);
  }

  /** PUT of a failover group at its primary's location. */
  createGroup(params: failoverGroups.GroupRequest): {
    group: GroupState;
    asyncOperation: AsyncOperation;
    created: boolean;
  } {
    return failoverGroups.createGroup(this, params);
  }

  /**
   * DELETE of a failover group at its primary's location: long-running (the group is gone when its operation ends);
   * refused at the secondary's location or while a failover runs; cancels a creation still seeding.
   */
  deleteGroup(group: GroupState, location: string): AsyncOperation {
    return failoverGroups.requestGroupDeletion(this, group, location);
  }

  /**
   * PUT of a managed database: a restore (point in time, dropped database, LTR backup) or an empty database,
   * long-running; undefined when the database exists and nothing is asked of it. Refused as Azure refuses.
   */
  createDatabase(
    instance: InstanceState,
    name: string,
    request: databaseRestores.DatabaseCreateRequest,
  ): AsyncOperation | undefined {
    return databaseRestores.requestDatabaseCreate(this, instance, name, request);
  }

  /** DELETE of a managed database: long-running; undefined when it does not exist; refused on a group's secondary. */
  deleteDatabase(instance: InstanceState, name: string): AsyncOperation | undefined {
    return databaseRestores.requestDatabaseDeletion(this, instance, name);
  }

  /** PUT (with the rule) or DELETE of a network security rule: long-running; one change per NSG at a time. */
  changeSecurityRule(
    nsg: NetworkSecurityGroupState,
    kind: 'put' | 'delete',
    ruleName: string,
    rule?: SecurityRuleState,
  ): AsyncOperation {
    return requestRuleChange(this, nsg, kind, ruleName, rule);
  }

  // ── Azure SQL Database ─────────────────────────────────────────────────────────────────────────────────────────

  sqlServerByName(subscriptionId: string, resourceGroup: string, name: string): SqlServerState | undefined {
    const server = sqlFailoverGroups.sqlServerByName(this, subscriptionId, name);
    return server && sameId(server.resourceGroup, resourceGroup) ? server : undefined;
  }

  sqlServerById(id: string): SqlServerState | undefined {
    return this.sqlServers.get(id.toLowerCase());
  }

  /** The logical server whose FQDN (`<server>.database.windows.net`) is `host`. */
  sqlServerByHost(host: string): SqlServerState | undefined {
    return [...this.sqlServers.values()].find((server) => sameId(server.fullyQualifiedDomainName, host));
  }

  /** The server failover group whose listener is `host`: `<group>.database.windows.net` or `<group>.secondary.database.windows.net`. */
  sqlGroupByListenerHost(host: string): { group: SqlFailoverGroupState; kind: 'read-write' | 'read-only' } | undefined {
    const match = /^([^.]+)(\.secondary)?\.database\.windows\.net$/i.exec(host);
    if (!match) return undefined;
    const group = [...this.sqlFailoverGroups.values()].find((entry) => sameId(entry.name, match[1]!));
    return group && { group, kind: match[2] ? 'read-only' : 'read-write' };
  }

  /** A server failover group by key or by name. */
  findSqlGroup(nameOrKey: string): SqlFailoverGroupState | undefined {
    return (
      this.sqlFailoverGroups.get(nameOrKey.toLowerCase()) ??
      [...this.sqlFailoverGroups.values()].find((group) => sameId(group.name, nameOrKey))
    );
  }

  /** The database `name` on a server (a primary, a geo-secondary copy, or one of its own). */
  sqlDatabaseOn(serverId: string, name: string): SqlDatabaseState | undefined {
    return sqlReplication.databaseOn(this, serverId, name);
  }

  /** The group's member databases, as its primary holds them (each one's `replication` has the log and the partners). */
  sqlGroupDatabases(group: SqlFailoverGroupState): SqlDatabaseState[] {
    return sqlFailoverGroups.memberDatabases(this, group);
  }

  /** The role ARM reports for the group at `serverId` (the old primary claims Primary for a moment after a switch). */
  sqlReportedRole(group: SqlFailoverGroupState, serverId: string): 'Primary' | 'Secondary' {
    return sqlFailoverGroups.sqlReportedRole(group, serverId, this.clock.now());
  }

  /** The server the group's read-write listener points at now (the target of an accepted failover, from its move). */
  sqlListenerServerId(group: SqlFailoverGroupState): string {
    return sqlFailoverGroups.sqlListenerServerId(group, this.clock.now());
  }

  /** The server the group's read-only listener points at now. */
  sqlReadOnlyServerId(group: SqlFailoverGroupState): string {
    return sqlFailoverGroups.sqlReadOnlyServerId(this, group);
  }

  /**
   * Whether the database's copy on its server accepts writes now: the primary of its replication (or a database of
   * its own), its region answering, outside the read-only window after a switch.
   */
  sqlAcceptsWrites(database: SqlDatabaseState, now = this.clock.now()): boolean {
    const server = this.sqlServerById(database.serverId);
    if (!server || this.isDark(server.location)) return false;
    const replication = database.replication;
    if (replication && !sameId(replication.primaryServerId, database.serverId)) return false;
    return now >= database.data.readOnlyUntil;
  }

  /**
   * One committed transaction on a SQL database's primary: the next LSN, hardened on each partner after its lag (at
   * once on the target of a planned failover that synchronizes). A database of its own just logs it.
   */
  sqlCommit(database: SqlDatabaseState, payload: string, options: replication.CommitOptions = {}): CommitRecord {
    this.advance();
    const now = this.clock.now();
    const geo: SqlGeoReplication = database.replication ?? {
      name: database.name,
      primaryServerId: database.serverId,
      data: database.data,
      partners: [],
    };
    const planned = sqlServers
      .groupsOfDatabase(this, database)
      .map((group) => group.failover)
      .find((failover) => failover?.ran === 'planned' && !failover.switched && failover.switchAt !== undefined);
    return sqlReplication.commitSql(this, geo, payload, now, { ...options, synchronousTo: planned?.targetServerId });
  }

  /** PATCH of a SQL database (SKU, pool, max size): long-running when the SKU or pool changes. */
  scaleSqlDatabase(
    server: SqlServerState,
    database: SqlDatabaseState,
    update: sqlServers.SqlDatabaseUpdate,
  ): AsyncOperation | undefined {
    return sqlServers.requestDatabaseScale(this, server, database, update);
  }

  /** PATCH of an elastic pool: long-running when its SKU changes. */
  scaleElasticPool(server: SqlServerState, pool: ElasticPoolState, update: sqlServers.ElasticPoolUpdate) {
    return sqlServers.requestPoolScale(this, server, pool, update);
  }

  /** PUT or PATCH of a server failover group at `server`. */
  putSqlGroup(server: SqlServerState, name: string, request: sqlFailoverGroups.SqlGroupRequest) {
    return sqlFailoverGroups.putSqlGroup(this, server, name, request);
  }

  /** DELETE of a server failover group at its primary (databases and their replication stay). */
  deleteSqlGroup(group: SqlFailoverGroupState, server: SqlServerState): AsyncOperation {
    return sqlFailoverGroups.deleteSqlGroup(this, group, server);
  }

  /** `failover`, `forceFailoverAllowDataLoss` or `tryPlannedBeforeForcedFailover` sent to `server`. */
  requestSqlFailover(
    group: SqlFailoverGroupState,
    server: SqlServerState,
    kind: 'planned' | 'forced' | 'tryPlanned',
  ): AsyncOperation {
    return sqlFailoverGroups.requestSqlFailover(this, group, server, kind);
  }

  // ── invariants ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** What the emulator can vouch for: counts and rule violations, for tests and benchmarks to judge a run. */
  invariants(): WorldInvariants {
    this.advance();
    return invariantsOf(this);
  }
}
