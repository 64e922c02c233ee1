/**
 * The emulated world's state: plain records the rule modules (managed instances, failover groups, failovers,
 * replication) read and change, and the ARM and TDS servers answer from. No rule lives here.
 */
import type { InstanceSpec } from '../world-spec';

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

export type WorldChange =
  'roles-switched' | 'failover-completed' | 'failover-failed' | 'operation-ended' | 'world-loaded';

/** A group's key in the world: subscription, resource group and name, lower case. */
export function groupKey(subscriptionId: string, resourceGroup: string, name: string): string {
  return [subscriptionId, resourceGroup, name].map((part) => part.toLowerCase()).join('/');
}

export function instanceResourceId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/managedInstances/${name}`;
}
