/**
 * What the world's rule modules (the other files of this folder) may use of the world: its state, its clock and event
 * log, lookups, and the one composed step a rule needs (apply everything due). `World` implements it; the rules import
 * this interface, never `../world`, so the graph runs one way: the composition imports the rules, and a rule depends
 * only on the world's shape and on the rules it builds on.
 */
import type { Timings, WorldSpec } from '../world-spec';
import type {
  AsyncOperation,
  DatabaseState,
  FailoverCounters,
  GroupState,
  InstanceState,
  LostCommits,
  ManagementOperation,
  NetworkSecurityGroupState,
  VirtualNetworkState,
  WorldEvent,
  WorldFaults,
} from './state';
import type { SqlFailoverGroupState, SqlScaleOperation, SqlServerState } from './sql-state';

/** The world's records, as the rules read and change them. */
export interface WorldState {
  readonly timings: Timings;
  /** The world's description (its `seed` makes what varies reproducible). */
  readonly spec: WorldSpec;
  /** Managed instances by lower-case resource id. */
  readonly instances: Map<string, InstanceState>;
  /** Failover groups by key (`groupKey`). */
  readonly groups: Map<string, GroupState>;
  /** Management operations (scales), oldest first. */
  readonly operations: ManagementOperation[];
  /** ARM long-running operations by id. */
  readonly asyncOperations: Map<string, AsyncOperation>;
  readonly events: WorldEvent[];
  /** Failover requests by group key. */
  readonly failoverCounters: Map<string, FailoverCounters>;
  readonly violations: string[];
  readonly faults: WorldFaults;
  readonly lostCommits: LostCommits[];
  /** Virtual networks by lower-case resource id. */
  readonly virtualNetworks: Map<string, VirtualNetworkState>;
  /** Network security groups by lower-case resource id. */
  readonly securityGroups: Map<string, NetworkSecurityGroupState>;
  /** Azure SQL Database logical servers by lower-case resource id (their databases and elastic pools inside). */
  readonly sqlServers: Map<string, SqlServerState>;
  /** Server failover groups by key (`sqlGroupKey`). */
  readonly sqlFailoverGroups: Map<string, SqlFailoverGroupState>;
  /** Scales of SQL databases and elastic pools, oldest first. */
  readonly sqlOperations: SqlScaleOperation[];
}

/** The world as a rule sees it: its state plus the clock, the event log, lookups and `advance`. */
export interface WorldContext extends WorldState {
  /** Simulated time, epoch milliseconds. */
  now(): number;
  /** Adds an event to the log, dated `at` (a scheduled transition is dated when it was due). */
  record(kind: string, detail: Omit<WorldEvent, 'seq' | 'at' | 'kind'>, at?: number): void;
  /** Tells the world's listeners what moved (`WorldChange`, or `region-dark`), with its subjects. */
  emit(event: 'change', change: string, ...subjects: unknown[]): boolean;
  /** Applies every rule's transitions that have come due, in time order. */
  advance(): void;
  instanceByName(subscriptionId: string, resourceGroup: string, name: string): InstanceState | undefined;
  instanceById(id: string): InstanceState | undefined;
  /** The instance of `group` at `location`, if any. */
  instanceAt(group: GroupState, location: string): InstanceState | undefined;
  groupOfInstance(instanceId: string): GroupState | undefined;
  /** The other instance of `group`'s pair. */
  partnerInstance(group: GroupState, instanceId: string): InstanceState;
  /** A group by key or by name. */
  findGroup(nameOrKey: string): GroupState | undefined;
  /** Whether the region answers nothing (fault `region-dark`). */
  isDark(location: string): boolean;
  /** Whether the instance's copy of the database accepts writes now (a misbehaving old primary's included). */
  acceptsWrites(group: GroupState, instanceId: string, database: DatabaseState): boolean;
}
