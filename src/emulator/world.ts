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

  // ── invariants ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** What the emulator can vouch for: counts and rule violations, for tests and benchmarks to judge a run. */
  invariants(): WorldInvariants {
    this.advance();
    return invariantsOf(this);
  }
}
