/**
 * The emulated Azure: one in-process world of managed instances, failover groups and databases, with Azure's rules
 * for failover and scaling, moving on a simulated clock. The ARM server (and, for SQL, the TDS server) answer from it.
 *
 * Inferred behaviour (no public source states it; fogpilot is built so that being wrong is safe):
 * - while a failover runs, the group's `replicationState` reads `FAILOVER_IN_PROGRESS` at both locations;
 * - right after the switch the old primary's location keeps answering `Primary` for `roleFlipSkewSeconds`.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { skuNameOf } from '../domain/azure-state';
import { normalizeLocation } from '../domain/locations';
import type { WorldClock } from './clock';
import { parseWorldSpec, type InstanceSpec, type Timings, type WorldSpec, type WorldSpecInput } from './world-spec';

/** An ARM error the world raises for a request it refuses; the server turns it into the HTTP answer. */
export class EmulatedArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const DISPLAY_NAMES: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  centralus: 'Central US',
  northcentralus: 'North Central US',
  southcentralus: 'South Central US',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
  ukwest: 'UK West',
  japaneast: 'Japan East',
  japanwest: 'Japan West',
  australiaeast: 'Australia East',
  australiasoutheast: 'Australia Southeast',
  canadacentral: 'Canada Central',
  canadaeast: 'Canada East',
  germanywestcentral: 'Germany West Central',
  swedencentral: 'Sweden Central',
  francecentral: 'France Central',
  southeastasia: 'Southeast Asia',
  eastasia: 'East Asia',
};

/** `eastus` → `East US`: the form ARM uses in `partnerRegions`. */
export function displayLocation(location: string): string {
  if (/\s/.test(location)) return location.trim();
  return DISPLAY_NAMES[normalizeLocation(location)] ?? location;
}

/** `East US` → `EastUS`: the form ARM uses inside failover group ids. */
export function idLocation(location: string): string {
  return displayLocation(location).replace(/\s+/g, '');
}

export interface InstanceState extends Omit<InstanceSpec, 'location' | 'subscriptionId'> {
  id: string;
  subscriptionId: string;
  location: string;
  displayLocation: string;
  fullyQualifiedDomainName: string;
  dnsZone: string;
  provisioningState: string;
}

export interface CommitRecord {
  lsn: number;
  committedAt: number;
  /** When the secondary hardens it (committedAt + the database's lag at the time). */
  hardenedAt: number;
  payload?: string;
}

export interface DatabaseState {
  name: string;
  lagMs: number;
  nextLsn: number;
  /** Commits on the current primary, oldest first. */
  commits: CommitRecord[];
  /** Writes are refused until then (the role switch window on a new primary). */
  readOnlyUntil: number;
  /** A temporary higher lag (fault `lag-spike`). */
  lagSpike?: { lagMs: number; until: number };
  /** The link to the partner is down since then (fault `link-lost`): nothing hardens. */
  linkLostSince?: number;
}

/** The fixed `link_guid` of a database's geo-replication link. */
export function linkGuid(group: GroupState, database: string): string {
  let hash = 0x811c9dc5;
  for (const char of `${group.key}/${database}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  const hex = hash.toString(16).padStart(8, '0');
  return `${hex}-f0c0-4000-8000-${hex}${hex.slice(0, 4)}`.toUpperCase();
}

/** SQL-side faults (the TDS server consults them). */
export interface SqlFaults {
  /** Logins refused with 18456, by instance name (`*`: any), for a number of attempts. */
  loginFailures: Map<string, number>;
  /** Extra latency on every SQL request, by instance name (`*`: any). */
  latencyMs: Map<string, number>;
  /** Connections dropped in the middle of a copy-sync wait, by instance name (`*`: any), for a number of waits. */
  resetDuringWait: Map<string, number>;
}

export interface FailoverState {
  asyncOperationId: string;
  kind: 'planned' | 'forced';
  targetInstanceId: string;
  requestedAt: number;
  /** When the roles switch; undefined when the failover never completes or is going to fail. */
  switchAt?: number;
  completeAt?: number;
  failAt?: number;
  failCode?: string;
  failMessage?: string;
  switched: boolean;
}

export interface GroupState {
  key: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  instanceIds: [string, string];
  primaryInstanceId: string;
  readWriteFailoverPolicy: string;
  gracePeriodMinutes?: number;
  readOnlyFailoverPolicy: string;
  secondaryType: string;
  seedingUntil?: number;
  failover?: FailoverState;
  /** After a switch the old primary's location claims Primary a little longer. */
  staleClaim?: { instanceId: string; until: number };
  databases: DatabaseState[];
}

export interface ManagementOperation {
  id: string;
  name: string;
  instanceId: string;
  asyncOperationId: string;
  operation: string;
  friendlyName: string;
  state: 'InProgress' | 'Succeeded' | 'Failed' | 'Cancelled';
  startedAt: number;
  endsAt: number;
  current: { vCores: number; storageSizeInGB: number; tier: string; family: string };
  requested: { vCores: number; storageSizeInGB: number; tier: string; family: string };
  fails?: { code: string; message: string };
  error?: { code: string; message: string };
}

export interface AsyncOperation {
  id: string;
  kind: 'failover' | 'scale' | 'group-create' | 'group-delete';
  subscriptionId: string;
  location: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: number;
  endTime?: number;
  error?: { code: string; message: string };
  /** What the Location URL answers when done: a group at a location, an instance, or nothing. */
  result:
    { type: 'group'; groupKey: string; location: string } | { type: 'instance'; instanceId: string } | { type: 'none' };
}

export interface WorldEvent {
  seq: number;
  /** Simulated time the event happened (for scheduled transitions: when they were due). */
  at: number;
  kind: string;
  group?: string;
  instance?: string;
  detail?: Record<string, unknown>;
}

export interface FailoverCounters {
  received: number;
  accepted: number;
  refused: number;
  /** Accepted, by target location. */
  acceptedTo: Record<string, number>;
}

/** Faults that live in the world's behaviour (HTTP-level faults are the server's). */
export interface WorldFaults {
  /** Groups (keys or names) whose next accepted failover never switches the roles. */
  failoverNeverCompletes: Set<string>;
  /** Groups whose next accepted failover ends Failed. */
  failoverFails: Map<string, { code: string; message: string }>;
  /** Instances (names or ids) whose next scale ends Failed. */
  operationFails: Map<string, { code: string; message: string }>;
  /** Regions that answer nothing. */
  darkRegions: Set<string>;
  sql: SqlFaults;
}

export type WorldChange =
  'roles-switched' | 'failover-completed' | 'failover-failed' | 'operation-ended' | 'world-loaded';

function key(...parts: string[]): string {
  return parts.map((part) => part.toLowerCase()).join('/');
}

export function instanceResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/managedInstances/${name}`;
}

const VALID_VCORES = new Set([4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128]);

export class World extends EventEmitter {
  spec!: WorldSpec;
  timings!: Timings;
  readonly instances = new Map<string, InstanceState>();
  readonly groups = new Map<string, GroupState>();
  readonly operations: ManagementOperation[] = [];
  readonly asyncOperations = new Map<string, AsyncOperation>();
  readonly events: WorldEvent[] = [];
  readonly failoverCounters = new Map<string, FailoverCounters>();
  readonly violations: string[] = [];
  readonly faults: WorldFaults = {
    failoverNeverCompletes: new Set(),
    failoverFails: new Map(),
    operationFails: new Map(),
    darkRegions: new Set(),
    sql: { loginFailures: new Map(), latencyMs: new Map(), resetDuringWait: new Map() },
  };
  /** Commits lost by forced failovers, by group and database: the count the workload's own count must match. */
  readonly lostCommits: { group: string; database: string; lsns: number[]; payloads: string[]; at: number }[] = [];
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
    this.faults.failoverNeverCompletes.clear();
    this.faults.failoverFails.clear();
    this.faults.operationFails.clear();
    this.faults.darkRegions.clear();
    this.faults.sql.loginFailures.clear();
    this.faults.sql.latencyMs.clear();
    this.faults.sql.resetDuringWait.clear();
    this.lostCommits.length = 0;
    const now = this.clock.now();
    for (const instance of spec.instances) {
      const subscriptionId = instance.subscriptionId ?? spec.subscriptionId;
      const id = instanceResourceId(subscriptionId, instance.resourceGroup, instance.name);
      const dnsZone = instance.dnsZone ?? stableZone(instance.name);
      this.instances.set(id.toLowerCase(), {
        ...instance,
        id,
        subscriptionId,
        location: normalizeLocation(instance.location),
        displayLocation: displayLocation(instance.location),
        dnsZone,
        fullyQualifiedDomainName: `${instance.name}.${dnsZone}.database.windows.net`,
        provisioningState: 'Succeeded',
      });
    }
    for (const group of spec.groups) {
      const subscriptionId = group.subscriptionId ?? spec.subscriptionId;
      const primary = this.instanceByName(subscriptionId, group.resourceGroup, group.primaryInstance);
      const secondary = this.instanceByName(subscriptionId, group.resourceGroup, group.secondaryInstance);
      if (!primary || !secondary) {
        throw new Error(
          `group ${group.name}: instances ${group.primaryInstance} and ${group.secondaryInstance} must be in the world, in resource group ${group.resourceGroup}`,
        );
      }
      if (primary.location === secondary.location)
        throw new Error(`group ${group.name}: its instances must be in different regions`);
      const state: GroupState = {
        key: key(subscriptionId, group.resourceGroup, group.name),
        subscriptionId,
        resourceGroup: group.resourceGroup,
        name: group.name,
        instanceIds: [primary.id, secondary.id],
        primaryInstanceId: primary.id,
        readWriteFailoverPolicy: group.readWriteFailoverPolicy,
        gracePeriodMinutes:
          group.readWriteFailoverPolicy === 'Automatic' ? (group.gracePeriodMinutes ?? 60) : undefined,
        readOnlyFailoverPolicy: group.readOnlyFailoverPolicy,
        secondaryType: group.secondaryType,
        seedingUntil: group.seedingSeconds > 0 ? now + group.seedingSeconds * 1000 : undefined,
        databases: group.databases.map((database) => ({
          name: database.name,
          lagMs: database.lagMs ?? spec.timings.replicationLagMs,
          nextLsn: 1,
          commits: [],
          readOnlyUntil: 0,
        })),
      };
      this.groups.set(state.key, state);
    }
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

  private record(kind: string, detail: Omit<WorldEvent, 'seq' | 'at' | 'kind'>, at = this.clock.now()): void {
    this.events.push({ seq: ++this.seq, at, kind, ...detail });
    if (this.events.length > 20_000) this.events.splice(0, this.events.length - 20_000);
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
    const group = this.groups.get(key(subscriptionId, resourceGroup, name));
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

  isSeeding(group: GroupState): boolean {
    return group.seedingUntil !== undefined && this.clock.now() < group.seedingUntil;
  }

  /** The role ARM reports at `location` (with the inferred skew right after a switch). */
  reportedRole(group: GroupState, location: string): 'Primary' | 'Secondary' {
    const instance = this.instanceAt(group, location);
    if (!instance) return 'Secondary';
    if (instance.id === group.primaryInstanceId) return 'Primary';
    if (group.staleClaim && group.staleClaim.instanceId === instance.id && this.clock.now() < group.staleClaim.until)
      return 'Primary';
    return 'Secondary';
  }

  reportedReplicationState(group: GroupState): string {
    if (group.failover) return 'FAILOVER_IN_PROGRESS';
    if (this.isSeeding(group)) return 'SEEDING';
    return 'CATCH_UP';
  }

  isDark(location: string): boolean {
    return this.faults.darkRegions.has(normalizeLocation(location));
  }

  failoverCountersOf(group: GroupState): FailoverCounters {
    let counters = this.failoverCounters.get(group.key);
    if (!counters) {
      counters = { received: 0, accepted: 0, refused: 0, acceptedTo: {} };
      this.failoverCounters.set(group.key, counters);
    }
    return counters;
  }

  // ── clock-driven transitions ───────────────────────────────────────────────────────────────────────────────────

  /** Applies everything that has come due, in time order. Called before every request and on the ticker. */
  advance(): void {
    const now = this.clock.now();
    for (const group of this.groups.values()) {
      if (group.seedingUntil !== undefined && now >= group.seedingUntil) {
        this.record('seeding-completed', { group: group.name }, group.seedingUntil);
        group.seedingUntil = undefined;
      }
      const failover = group.failover;
      if (failover) this.advanceFailover(group, failover, now);
      if (group.staleClaim && now >= group.staleClaim.until) group.staleClaim = undefined;
    }
    for (const operation of this.operations) {
      if (operation.state === 'InProgress' && now >= operation.endsAt) this.finishOperation(operation);
    }
  }

  private advanceFailover(group: GroupState, failover: FailoverState, now: number): void {
    const operation = this.asyncOperations.get(failover.asyncOperationId)!;
    if (failover.failAt !== undefined && now >= failover.failAt) {
      operation.status = 'Failed';
      operation.endTime = failover.failAt;
      operation.error = {
        code: failover.failCode ?? 'PlannedFailoverTimedOut',
        message:
          failover.failMessage ??
          'User invoked planned failover, and it timed out while trying to contact the partner management service.',
      };
      group.failover = undefined;
      this.record('failover-failed', { group: group.name, detail: { code: operation.error.code } }, failover.failAt);
      this.emit('change', 'failover-failed', group);
      return;
    }
    if (!failover.switched && failover.switchAt !== undefined && now >= failover.switchAt) {
      const oldPrimary = group.primaryInstanceId;
      if (failover.kind === 'forced') this.dropUnhardened(group, failover.switchAt);
      group.primaryInstanceId = failover.targetInstanceId;
      failover.switched = true;
      group.staleClaim = { instanceId: oldPrimary, until: failover.switchAt + this.timings.roleFlipSkewSeconds * 1000 };
      for (const database of group.databases) {
        database.readOnlyUntil = failover.switchAt + this.timings.readOnlyAfterSwitchSeconds * 1000;
      }
      const target = this.instanceById(failover.targetInstanceId)!;
      this.record(
        'roles-switched',
        { group: group.name, instance: target.name, detail: { kind: failover.kind, primaryLocation: target.location } },
        failover.switchAt,
      );
      this.checkSinglePrimary(group);
      this.emit('change', 'roles-switched', group, failover);
    }
    if (failover.switched && failover.completeAt !== undefined && now >= failover.completeAt) {
      operation.status = 'Succeeded';
      operation.endTime = failover.completeAt;
      group.failover = undefined;
      this.record('failover-completed', { group: group.name, detail: { kind: failover.kind } }, failover.completeAt);
      this.emit('change', 'failover-completed', group);
    }
  }

  /** A forced failover keeps only what the secondary had hardened; the rest is lost, and recorded. */
  private dropUnhardened(group: GroupState, at: number): void {
    for (const database of group.databases) {
      const lost = database.commits.filter((commit) => commit.hardenedAt > at);
      if (lost.length === 0) continue;
      database.commits = database.commits.filter((commit) => commit.hardenedAt <= at);
      database.nextLsn = (database.commits.at(-1)?.lsn ?? 0) + 1;
      this.lostCommits.push({
        group: group.name,
        database: database.name,
        lsns: lost.map((commit) => commit.lsn),
        payloads: lost.map((commit) => commit.payload ?? ''),
        at,
      });
      this.record('commits-lost', { group: group.name, detail: { database: database.name, count: lost.length } }, at);
    }
  }

  // ── data ───────────────────────────────────────────────────────────────────────────────────────────────────────

  databaseOf(group: GroupState, name: string): DatabaseState | undefined {
    return group.databases.find((database) => database.name.toLowerCase() === name.toLowerCase());
  }

  /** The lag a commit made now would have. */
  currentLagMs(database: DatabaseState, now = this.clock.now()): number {
    if (database.lagSpike && now < database.lagSpike.until) return database.lagSpike.lagMs;
    return database.lagMs;
  }

  /** Whether the instance's copy of the database accepts writes: the primary, outside the role-switch window. */
  acceptsWrites(group: GroupState, instanceId: string, database: DatabaseState, now = this.clock.now()): boolean {
    const instance = this.instanceById(instanceId);
    if (!instance || this.isDark(instance.location)) return false;
    return instance.id === group.primaryInstanceId && now >= database.readOnlyUntil;
  }

  /** One committed transaction on the primary: it gets the next LSN and hardens on the secondary after the lag. */
  commit(group: GroupState, database: DatabaseState, payload: string): CommitRecord {
    this.advance();
    const now = this.clock.now();
    const synchronous = group.failover?.kind === 'planned' && !group.failover.switched;
    const hardenedAt =
      database.linkLostSince !== undefined
        ? Number.POSITIVE_INFINITY
        : synchronous
          ? now
          : now + this.currentLagMs(database, now);
    const commit: CommitRecord = { lsn: database.nextLsn++, committedAt: now, hardenedAt, payload };
    database.commits.push(commit);
    return commit;
  }

  lastCommittedLsn(database: DatabaseState): number {
    return database.commits.at(-1)?.lsn ?? 0;
  }

  hardenedLsn(database: DatabaseState, now = this.clock.now()): number {
    let hardened = 0;
    for (const commit of database.commits) {
      if (commit.hardenedAt <= now) hardened = commit.lsn;
      else break;
    }
    return hardened;
  }

  /** The newest commit the secondary holds: log hardens in order, so the last of the hardened prefix. */
  lastHardenedCommit(database: DatabaseState, now = this.clock.now()): CommitRecord | undefined {
    let hardened: CommitRecord | undefined;
    for (const commit of database.commits) {
      if (commit.hardenedAt <= now) hardened = commit;
      else break;
    }
    return hardened;
  }

  /** What `replication_lag_sec` reports on the primary: how far behind the oldest unhardened commit is. */
  replicationLagSeconds(database: DatabaseState, now = this.clock.now()): number {
    const pending = database.commits.find((commit) => commit.hardenedAt > now);
    if (pending) return Math.max(0, Math.floor((now - pending.committedAt) / 1000));
    return Math.floor(this.currentLagMs(database, now) / 1000);
  }

  /** Loses the link to the partner: nothing more hardens on the secondary, including what was in flight. */
  loseLink(database: DatabaseState): void {
    const now = this.clock.now();
    database.linkLostSince ??= now;
    for (const commit of database.commits) if (commit.hardenedAt > now) commit.hardenedAt = Number.POSITIVE_INFINITY;
  }

  /** Restores a lost link: what was committed meanwhile hardens after the lag from now. */
  restoreLink(database: DatabaseState): void {
    if (database.linkLostSince === undefined) return;
    const now = this.clock.now();
    database.linkLostSince = undefined;
    for (const commit of database.commits)
      if (!Number.isFinite(commit.hardenedAt)) commit.hardenedAt = now + database.lagMs;
  }

  private checkSinglePrimary(group: GroupState): void {
    const primaries = group.instanceIds.filter((id) => id === group.primaryInstanceId);
    if (primaries.length !== 1)
      this.violations.push(
        `${group.name}: ${primaries.length} primaries at ${new Date(this.clock.now()).toISOString()}`,
      );
  }

  private finishOperation(operation: ManagementOperation): void {
    const instance = this.instanceById(operation.instanceId)!;
    const asyncOperation = this.asyncOperations.get(operation.asyncOperationId);
    if (operation.fails) {
      operation.state = 'Failed';
      operation.error = operation.fails;
      if (asyncOperation)
        Object.assign(asyncOperation, { status: 'Failed', endTime: operation.endsAt, error: operation.fails });
      this.record(
        'scale-failed',
        { instance: instance.name, detail: { code: operation.fails.code } },
        operation.endsAt,
      );
    } else {
      operation.state = 'Succeeded';
      instance.vCores = operation.requested.vCores;
      instance.storageSizeInGB = operation.requested.storageSizeInGB;
      instance.tier = operation.requested.tier;
      instance.family = operation.requested.family;
      instance.skuName = skuNameOf(instance.tier, instance.family) ?? instance.skuName;
      if (asyncOperation) Object.assign(asyncOperation, { status: 'Succeeded', endTime: operation.endsAt });
      this.record('scale-completed', { instance: instance.name, detail: { ...operation.requested } }, operation.endsAt);
    }
    instance.provisioningState = 'Succeeded';
    this.emit('change', 'operation-ended', operation);
  }

  // ── commands (what ARM requests do) ────────────────────────────────────────────────────────────────────────────

  private newAsyncOperation(
    kind: AsyncOperation['kind'],
    subscriptionId: string,
    location: string,
    result: AsyncOperation['result'],
  ): AsyncOperation {
    const operation: AsyncOperation = {
      id: randomUUID(),
      kind,
      subscriptionId,
      location: normalizeLocation(location),
      status: 'InProgress',
      startTime: this.clock.now(),
      result,
    };
    this.asyncOperations.set(operation.id, operation);
    return operation;
  }

  /**
   * A planned or forced failover sent to `location`. Refused, with the documented codes, when sent to the primary's
   * location, while seeding, while another failover runs, or while an instance of the pair is being scaled.
   */
  requestFailover(group: GroupState, location: string, kind: 'planned' | 'forced'): AsyncOperation {
    this.advance();
    const now = this.clock.now();
    const counters = this.failoverCountersOf(group);
    counters.received += 1;
    const refuse = (status: number, code: string, message: string): never => {
      counters.refused += 1;
      this.record('failover-refused', {
        group: group.name,
        detail: { location: normalizeLocation(location), kind, code },
      });
      throw new EmulatedArmError(status, code, message);
    };
    const target = this.instanceAt(group, location);
    if (!target) refuse(404, 'ResourceNotFound', `The failover group ${group.name} does not exist at ${location}.`);
    if (group.failover)
      refuse(409, 'InstanceFailoverGroupBusy', 'Instance failover group is busy with another operation.');
    if (target!.id === group.primaryInstanceId) {
      if (kind === 'planned')
        refuse(
          400,
          'InstanceFailoverGroupFailoverRequestOnPrimary',
          'The failover request should be initiated on the secondary server of instance failover group.',
        );
      refuse(
        400,
        'InstanceFailoverGroupNotSecondary',
        'Failover cannot be initiated from the primary server in a instance failover group.',
      );
    }
    if (this.isSeeding(group))
      refuse(
        400,
        'IncorrectReplicationLinkState',
        'The operation expects the database to be in an expected state on the replication link.',
      );
    const scaling = this.operations.find(
      (operation) =>
        operation.state === 'InProgress' &&
        group.instanceIds.some((id) => id.toLowerCase() === operation.instanceId.toLowerCase()),
    );
    if (scaling)
      refuse(
        409,
        'UpdateSloInProgress',
        'User tried to initiate an incompatible operation while a SLO update was in progress.',
      );

    const asyncOperation = this.newAsyncOperation('failover', group.subscriptionId, location, {
      type: 'group',
      groupKey: group.key,
      location: target!.location,
    });
    const primary = this.instanceById(group.primaryInstanceId)!;
    const failover: FailoverState = {
      asyncOperationId: asyncOperation.id,
      kind,
      targetInstanceId: target!.id,
      requestedAt: now,
      switched: false,
    };
    const injectedFailure =
      this.faults.failoverFails.get(group.key) ?? this.faults.failoverFails.get(group.name.toLowerCase());
    const neverCompletes =
      this.faults.failoverNeverCompletes.has(group.key) ||
      this.faults.failoverNeverCompletes.has(group.name.toLowerCase());
    if (injectedFailure) {
      this.faults.failoverFails.delete(group.key);
      this.faults.failoverFails.delete(group.name.toLowerCase());
      failover.failAt = now + this.timings.roleSwitchSeconds * 500;
      failover.failCode = injectedFailure.code;
      failover.failMessage = injectedFailure.message;
    } else if (neverCompletes) {
      this.faults.failoverNeverCompletes.delete(group.key);
      this.faults.failoverNeverCompletes.delete(group.name.toLowerCase());
    } else if (kind === 'planned' && this.isDark(primary.location)) {
      // A planned failover needs the primary: with its region dark it times out, as Azure's does.
      failover.failAt = now + this.timings.plannedFailoverTimeoutSeconds * 1000;
      failover.failCode = 'PlannedFailoverTimedOut';
    } else {
      const switchMs = (kind === 'forced' ? this.timings.forcedSwitchSeconds : this.timings.roleSwitchSeconds) * 1000;
      failover.switchAt = now + switchMs;
      failover.completeAt = failover.switchAt + this.timings.roleFlipSkewSeconds * 1000;
      if (kind === 'planned') {
        // A planned failover switches replication to synchronous: everything committed is hardened by the switch.
        for (const database of group.databases) {
          for (const commit of database.commits) commit.hardenedAt = Math.min(commit.hardenedAt, failover.switchAt);
        }
      }
    }
    group.failover = failover;
    counters.accepted += 1;
    counters.acceptedTo[target!.location] = (counters.acceptedTo[target!.location] ?? 0) + 1;
    this.record('failover-requested', {
      group: group.name,
      instance: target!.name,
      detail: { kind, location: target!.location, asyncOperationId: asyncOperation.id },
    });
    this.advance();
    return asyncOperation;
  }

  /**
   * PATCH of an instance's size. Returns undefined when nothing changes (ARM answers 200 at once). Refused while
   * another management operation runs on the instance, or for values Azure does not accept.
   */
  requestScale(
    instance: InstanceState,
    update: { vCores?: number; storageSizeInGB?: number; tier?: string; family?: string; licenseType?: string },
  ): AsyncOperation | undefined {
    this.advance();
    const now = this.clock.now();
    const running = this.operations.find(
      (operation) => operation.state === 'InProgress' && operation.instanceId === instance.id,
    );
    if (running) {
      this.record('scale-refused', { instance: instance.name, detail: { reason: 'operation in progress' } });
      throw new EmulatedArmError(
        409,
        'ConflictingManagedInstanceOperation',
        'An operation is currently in progress for the managed instance.',
      );
    }
    if (update.vCores !== undefined && !VALID_VCORES.has(update.vCores)) {
      throw new EmulatedArmError(
        405,
        'InvalidVcoreValue',
        `vCore value ${update.vCores} is not valid. Please specify a valid vCore value.`,
      );
    }
    if (
      update.storageSizeInGB !== undefined &&
      (update.storageSizeInGB % 32 !== 0 || update.storageSizeInGB < 32 || update.storageSizeInGB > 16_384)
    ) {
      throw new EmulatedArmError(
        405,
        'InvalidStorageSizeValue',
        `Invalid storage size: ${update.storageSizeInGB} GB. Storage size must be specified between 32 and 16384 gigabytes, in increments of 32 GB.`,
      );
    }
    const group = this.groupOfInstance(instance.id);
    if (group?.failover) {
      throw new EmulatedArmError(
        409,
        'ManagedInstanceIsBusy',
        `The server '${instance.name}' is currently busy. Please wait a few minutes before trying again.`,
      );
    }
    if (update.licenseType) instance.licenseType = update.licenseType;
    const current = {
      vCores: instance.vCores,
      storageSizeInGB: instance.storageSizeInGB,
      tier: instance.tier,
      family: instance.family,
    };
    const requested = {
      vCores: update.vCores ?? instance.vCores,
      storageSizeInGB: update.storageSizeInGB ?? instance.storageSizeInGB,
      tier: update.tier ?? instance.tier,
      family: update.family ?? instance.family,
    };
    if (JSON.stringify(current) === JSON.stringify(requested)) return undefined;
    const vCoreChange =
      requested.vCores !== current.vCores || requested.tier !== current.tier || requested.family !== current.family;
    const durationMs = (vCoreChange ? this.timings.vCoreScaleSeconds : this.timings.storageScaleSeconds) * 1000;
    const asyncOperation = this.newAsyncOperation('scale', instance.subscriptionId, instance.location, {
      type: 'instance',
      instanceId: instance.id,
    });
    const fails =
      this.faults.operationFails.get(instance.id.toLowerCase()) ??
      this.faults.operationFails.get(instance.name.toLowerCase());
    this.faults.operationFails.delete(instance.id.toLowerCase());
    this.faults.operationFails.delete(instance.name.toLowerCase());
    const operation: ManagementOperation = {
      id: `${instance.id}/operations/${asyncOperation.id}`,
      name: asyncOperation.id,
      instanceId: instance.id,
      asyncOperationId: asyncOperation.id,
      operation: 'UpsertManagedServer',
      friendlyName: 'Updating managed instance',
      state: 'InProgress',
      startedAt: now,
      endsAt: now + durationMs,
      current,
      requested,
      fails,
    };
    this.operations.push(operation);
    instance.provisioningState = 'Updating';
    this.record('scale-requested', {
      instance: instance.name,
      group: group?.name,
      detail: { from: current, to: requested },
    });
    return asyncOperation;
  }

  /** PUT of a failover group at its primary's location. */
  createGroup(params: {
    subscriptionId: string;
    resourceGroup: string;
    location: string;
    name: string;
    primaryInstanceId: string;
    partnerInstanceId: string;
    readWriteFailoverPolicy: string;
    gracePeriodMinutes?: number;
    readOnlyFailoverPolicy: string;
    secondaryType: string;
  }): { group: GroupState; asyncOperation: AsyncOperation; created: boolean } {
    this.advance();
    const existing = this.groups.get(key(params.subscriptionId, params.resourceGroup, params.name));
    if (existing) {
      if (this.instanceById(existing.primaryInstanceId)!.location !== normalizeLocation(params.location)) {
        throw new EmulatedArmError(
          400,
          'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
          'Modifications to the instance failover group are not allowed on a secondary server. Execute the request on the primary server.',
        );
      }
      existing.readWriteFailoverPolicy = params.readWriteFailoverPolicy;
      existing.gracePeriodMinutes = params.gracePeriodMinutes;
      existing.readOnlyFailoverPolicy = params.readOnlyFailoverPolicy;
      const asyncOperation = this.newAsyncOperation('group-create', params.subscriptionId, params.location, {
        type: 'group',
        groupKey: existing.key,
        location: normalizeLocation(params.location),
      });
      Object.assign(asyncOperation, { status: 'Succeeded', endTime: this.clock.now() });
      return { group: existing, asyncOperation, created: false };
    }
    const primary = this.instanceById(params.primaryInstanceId);
    const partner = this.instanceById(params.partnerInstanceId);
    if (!primary || !partner)
      throw new EmulatedArmError(404, 'ResourceNotFound', 'The managed instances of the pair must exist.');
    if (primary.location !== normalizeLocation(params.location)) {
      throw new EmulatedArmError(
        400,
        'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
        'The group must be created at the location of its primary instance.',
      );
    }
    if (primary.location === partner.location)
      throw new EmulatedArmError(
        400,
        'InvalidParameterValue',
        'The primary and the partner must be in different regions.',
      );
    if (this.groupOfInstance(primary.id) || this.groupOfInstance(partner.id)) {
      throw new EmulatedArmError(
        409,
        'InstanceFailoverGroupAlreadyExists',
        'Failover group already exists on a given server.',
      );
    }
    if (primary.storageSizeInGB !== partner.storageSizeInGB) {
      throw new EmulatedArmError(
        400,
        'GeoDrInstanceSizeMismatch',
        'Primary managed instance and partner managed instance do not have the same storage size.',
      );
    }
    const group: GroupState = {
      key: key(params.subscriptionId, params.resourceGroup, params.name),
      subscriptionId: params.subscriptionId,
      resourceGroup: params.resourceGroup,
      name: params.name,
      instanceIds: [primary.id, partner.id],
      primaryInstanceId: primary.id,
      readWriteFailoverPolicy: params.readWriteFailoverPolicy,
      gracePeriodMinutes: params.gracePeriodMinutes,
      readOnlyFailoverPolicy: params.readOnlyFailoverPolicy,
      secondaryType: params.secondaryType,
      seedingUntil: this.clock.now() + 60_000,
      databases: [],
    };
    this.groups.set(group.key, group);
    const asyncOperation = this.newAsyncOperation('group-create', params.subscriptionId, params.location, {
      type: 'group',
      groupKey: group.key,
      location: primary.location,
    });
    Object.assign(asyncOperation, { status: 'Succeeded', endTime: this.clock.now() });
    this.record('group-created', { group: group.name });
    return { group, asyncOperation, created: true };
  }

  /** DELETE of a failover group at its primary's location. */
  deleteGroup(group: GroupState, location: string): AsyncOperation {
    this.advance();
    if (this.instanceById(group.primaryInstanceId)!.location !== normalizeLocation(location)) {
      throw new EmulatedArmError(
        400,
        'InstanceFailoverGroupUpdateOrDeleteRequestOnSecondary',
        'Modifications to the instance failover group are not allowed on a secondary server. Execute the request on the primary server.',
      );
    }
    if (group.failover)
      throw new EmulatedArmError(
        409,
        'InstanceFailoverGroupBusy',
        'Instance failover group is busy with another operation.',
      );
    this.groups.delete(group.key);
    const asyncOperation = this.newAsyncOperation('group-delete', group.subscriptionId, location, { type: 'none' });
    Object.assign(asyncOperation, { status: 'Succeeded', endTime: this.clock.now() });
    this.record('group-deleted', { group: group.name });
    return asyncOperation;
  }

  // ── invariants ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** What the emulator can vouch for: counts and rule violations, for tests and benchmarks to judge a run. */
  invariants(): {
    violations: string[];
    failovers: Record<string, FailoverCounters>;
    events: WorldEvent[];
  } {
    this.advance();
    const failovers: Record<string, FailoverCounters> = {};
    for (const [groupKey, counters] of this.failoverCounters) {
      failovers[this.groups.get(groupKey)?.name ?? groupKey] = { ...counters, acceptedTo: { ...counters.acceptedTo } };
    }
    return {
      violations: [...this.violations],
      failovers,
      events: [...this.events],
    };
  }
}

/** A stable, name-derived DNS zone, as Azure assigns one per instance. */
function stableZone(name: string): string {
  let hash = 2166136261;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return hash.toString(16).padStart(8, '0').slice(0, 12) + 'f0c';
}
