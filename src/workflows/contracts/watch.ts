/**
 * What `watchGroups` knows and says: each watched group's roles as last read, the role changes it saw (and whether a
 * fogpilot runbook made them), the `watchStatus` query that reads them live, and the report's `watch` section.
 */
import { defineQuery } from '@temporalio/workflow';
import type { RoleReadKind } from '../../domain/role-watch';

/** How a group's roles were read in one look (see `RoleReadKind`). */
export type WatchReadKind = RoleReadKind;

/** One group as the watch last read it. */
export interface WatchedGroup {
  /** The group as people name it (its inventory name, or its Azure name). */
  group: string;
  lockWorkflowId: string;
  /** Its home regions (the inventory's or the caller's); for a group named by an ARM id, the roles when resolved. */
  homePrimary: string;
  homeSecondary: string;
  /** Whether `homePrimary` is configured (an ARM id the inventory does not know has no known home). */
  homeKnown: boolean;
  /** The primary as last read with certainty; absent before the first such read. */
  primaryLocation?: string;
  /** When the watch last read a known primary (ISO). */
  primaryReadAt?: string;
  /** How the last look read the group, and its replication state (`synchronizing`, `seeding`, …). */
  read?: WatchReadKind;
  replicationStatus?: string;
  /** The last look's answers, one line a person reads (`eastus says Primary (CATCH_UP); westus did not answer: …`). */
  detail?: string;
}

/** What the watch learned of the group's lock holder when it saw a change. */
export interface WatchLockEvidence {
  /** A run under the lock id was running when the change was seen. */
  running: boolean;
  workflowType?: string;
  runId?: string;
  /** How it ended and when (ISO), when it was not running. */
  closeStatus?: string;
  closedAt?: string;
  /** Why the lock holder could not be read (the change is then not counted as fogpilot's). */
  error?: string;
}

/** What the watch did about a change fogpilot did not make, when asked to (`startFailback`). */
export interface WatchFailbackRecord {
  /**
   * `started`: a `failback` now holds the group's lock and waits durably until it may fail back. `lock-held`: another
   * run held the lock: someone is on it, nothing was started. `not-away-from-home`: the group moved home (or its home
   * is not known), so there is nothing to fail back. `failed-to-start`: the start failed for another reason.
   */
  outcome: 'started' | 'lock-held' | 'not-away-from-home' | 'failed-to-start';
  workflowId: string;
  runId?: string;
  detail?: string;
}

/** One role change the watch saw. */
export interface WatchChange {
  group: string;
  /** The look that saw the new primary (ISO, workflow time). */
  seenAt: string;
  /** The last earlier look that read the old primary (ISO): the switch happened between the two. */
  previousReadAt?: string;
  from: string;
  to: string;
  /** How the new roles were read: from both locations, or from the surviving one alone. */
  read: WatchReadKind;
  /** A fogpilot runbook made it: the group's lock holder was running, or ended after `previousReadAt`. */
  byFogpilot: boolean;
  /** Why the watch judged as it did, in one sentence. */
  explanation: string;
  lock?: WatchLockEvidence;
  /** An `azureFailoverSeen` notification was started (an endpoint takes it for the group). */
  notified?: boolean;
  failback?: WatchFailbackRecord;
}

/** A group the watch could not resolve (a name the inventory does not have, an ARM id that does not answer). */
export interface WatchUnresolvedGroup {
  group: string;
  error: string;
}

/** What `watchStatus` answers, and the report's `watch` section. */
export interface WatchStatus {
  /** When the watch started (its first run; ISO). */
  watchingSince: string;
  /** Milliseconds between looks. */
  intervalMs: number;
  startFailback: boolean;
  /** Looks made since the watch started, across its runs. */
  looks: number;
  lastLookAt?: string;
  groups: WatchedGroup[];
  unresolved: WatchUnresolvedGroup[];
  /** The most recent changes, oldest first (at most {@link WATCH_CHANGES_KEPT}; older ones stay in earlier runs' histories). */
  changes: WatchChange[];
  /** Scopes (`<subscription>/<resource group>/<location>`) whose list call failed at the last look, with the error. */
  unansweredScopes: { scope: string; error: string }[];
  /** Why the last look did not happen at all (its activity ran out of retries); cleared by the next look that does. */
  lastLookError?: string;
}

/** How many changes the watch keeps (and carries from run to run). */
export const WATCH_CHANGES_KEPT = 50;

/** The watch's groups, their last roles and the changes it saw, live. */
export const watchStatusQuery = defineQuery<WatchStatus>('watchStatus');
