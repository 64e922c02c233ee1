/**
 * The parts of `watchGroups`: resolving the groups to watch, the watch's state (each group's roles as last read, the
 * changes seen), judging whether a fogpilot runbook made a change, and what follows one it did not make: a log line,
 * an `azureFailoverSeen` notification, and optionally a `failback` under the group's lock.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ParentClosePolicy,
  TemporalFailure,
  isCancellation,
  log,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { OutboundPlan, WatchGroupLook, WatchLookTarget } from '../../activities';
import { homeIsKnown, type GroupRef, type ResolvedGroup } from '../../domain/group-ref';
import type { NotificationEvent } from '../../notify/events';
import {
  FailureTypes,
  RunbookTypes,
  WATCH_CHANGES_KEPT,
  type FailbackInput,
  type RunbookReport,
  type RunbookType,
  type WatchChange,
  type WatchFailbackRecord,
  type WatchGroupsInput,
  type WatchGroupsParams,
  type WatchLockEvidence,
  type WatchStatus,
  type WatchUnresolvedGroup,
  type WatchedGroup,
} from '../definitions';
import { unsupportedKindReason } from '../../domain/kind-support';
import { reads } from './activity-presets';
import { RunNotifier } from './notifications';
import { describeFailure, nowIso, type RunbookRun } from './runbook-run';

/**
 * Looks per workflow run before the watch continues as new. A look costs about 11 history events (its timer, its
 * activity, two workflow tasks), so a run stays under about 400 events, whatever the interval.
 */
export const WATCH_LOOKS_PER_RUN = 30;

/** Groups resolved at once in the first run: the inventory's names cost no ARM call; an ARM id costs one read. */
const RESOLVE_CONCURRENCY = 8;

/**
 * Runbooks that hold a group's lock but never switch its roles: a change seen while one of them holds the lock was
 * not made by fogpilot (a scale of hours is exactly when an outage may strike).
 */
const NEVER_SWITCH_ROLES: readonly string[] = [
  RunbookTypes.scaleGroup,
  RunbookTypes.establishGroup,
  RunbookTypes.readinessCheck,
  RunbookTypes.watchGroups,
];

/** A watched group: as resolved, what its endpoints take, and what the watch has read of it. */
export interface WatchEntry {
  group: ResolvedGroup;
  notifyOn: NotificationEvent[];
  state: WatchedGroup;
}

function entryOf(group: ResolvedGroup, notifyOn: readonly string[], primary?: string, readAt?: string): WatchEntry {
  return {
    group,
    notifyOn: notifyOn as NotificationEvent[],
    state: {
      group: group.displayName,
      lockWorkflowId: group.lockWorkflowId,
      homePrimary: group.primaryLocation,
      homeSecondary: group.secondaryLocation,
      homeKnown: homeIsKnown(group),
      ...(primary ? { primaryLocation: primary, primaryReadAt: readAt } : {}),
    },
  };
}

/** The watch's state: what `watchStatus` answers, the report's `watch`, and what the next run resumes from. */
export class GroupWatch {
  readonly entries: WatchEntry[];
  readonly unresolved: WatchUnresolvedGroup[];
  readonly changes: WatchChange[];
  readonly watchingSince: string;
  looks: number;
  lastLookAt?: string;
  lastLookError?: string;
  unansweredScopes: WatchStatus['unansweredScopes'] = [];

  constructor(
    private readonly params: Pick<WatchGroupsParams, 'interval' | 'startFailback'>,
    from: {
      entries: WatchEntry[];
      unresolved?: WatchUnresolvedGroup[];
      changes?: WatchChange[];
      watchingSince?: string;
      looks?: number;
    },
  ) {
    this.entries = from.entries;
    this.unresolved = from.unresolved ?? [];
    this.changes = from.changes ?? [];
    this.watchingSince = from.watchingSince ?? nowIso();
    this.looks = from.looks ?? 0;
  }

  /** The watch as a run continued from `resume` left it. */
  static resumed(params: WatchGroupsParams, resume: NonNullable<WatchGroupsParams['resume']>): GroupWatch {
    return new GroupWatch(params, {
      entries: resume.groups.map((carried) =>
        entryOf(carried.group, carried.notifyOn, carried.primaryLocation, carried.primaryReadAt),
      ),
      unresolved: resume.unresolved,
      changes: resume.changes as unknown as WatchChange[],
      watchingSince: resume.watchingSince,
      looks: resume.looks,
    });
  }

  static fresh(params: WatchGroupsParams, resolved: ResolvedEntry[]): GroupWatch {
    return new GroupWatch(params, {
      entries: resolved.flatMap((entry) => ('group' in entry ? [entryOf(entry.group, entry.notifyOn)] : [])),
      unresolved: resolved.flatMap((entry) => ('error' in entry ? [{ group: entry.name, error: entry.error }] : [])),
    });
  }

  /** What the activity is asked: each group's coordinates and the primary last read. */
  targets(): WatchLookTarget[] {
    return this.entries.map(({ group, state }) => ({
      subscriptionId: group.subscriptionId,
      resourceGroup: group.resourceGroup,
      name: group.name,
      primaryLocation: group.primaryLocation,
      secondaryLocation: group.secondaryLocation,
      ...(state.primaryLocation ? { lastPrimary: state.primaryLocation } : {}),
    }));
  }

  record(change: WatchChange): void {
    this.changes.push(change);
    if (this.changes.length > WATCH_CHANGES_KEPT) this.changes.splice(0, this.changes.length - WATCH_CHANGES_KEPT);
  }

  status(): WatchStatus {
    return {
      watchingSince: this.watchingSince,
      intervalMs: this.params.interval,
      startFailback: this.params.startFailback,
      looks: this.looks,
      ...(this.lastLookAt ? { lastLookAt: this.lastLookAt } : {}),
      groups: this.entries.map((entry) => entry.state),
      unresolved: this.unresolved,
      changes: this.changes,
      unansweredScopes: this.unansweredScopes,
      ...(this.lastLookError ? { lastLookError: this.lastLookError } : {}),
    };
  }

  /** What the next run starts from: the groups as resolved, their last roles, the recent changes. */
  resume(armCalls: RunbookReport['armCalls']): NonNullable<WatchGroupsInput['resume']> {
    return {
      watchingSince: this.watchingSince,
      looks: this.looks,
      groups: this.entries.map(({ group, notifyOn, state }) => ({
        group: { ...group },
        notifyOn,
        ...(state.primaryLocation ? { primaryLocation: state.primaryLocation } : {}),
        ...(state.primaryReadAt ? { primaryReadAt: state.primaryReadAt } : {}),
      })),
      unresolved: this.unresolved,
      changes: this.changes.map((change) => ({ ...change })),
      armCalls: { ...armCalls },
    };
  }
}

type ResolvedEntry = { name: string; group: ResolvedGroup; notifyOn: string[] } | { name: string; error: string };

function refLabel(ref: GroupRef): string {
  return typeof ref === 'string' ? ref : `${ref.subscriptionId}/${ref.resourceGroup}/${ref.name}`;
}

/**
 * Resolves the groups to watch (the input's, or every group of the worker's inventory). A group that does not
 * resolve is kept as unresolved and the others are watched.
 */
export function resolveWatchedGroupsStep(run: RunbookRun, refs: GroupRef[] | undefined): Promise<ResolvedEntry[]> {
  return run.step('resolve-groups', 'Resolve the groups to watch', async (step) => {
    const asked =
      refs ??
      (await reads.listInventoryGroups.executeWithOptions({ summary: 'list the inventory groups' }, [])).groups.map(
        (entry) => entry.name,
      );
    const results = new Array<ResolvedEntry>(asked.length);
    let next = 0;
    let refusedInInput: { field: string; reason: string } | undefined;
    const lane = async (): Promise<void> => {
      while (next < asked.length) {
        const index = next++;
        const ref = asked[index]!;
        try {
          const resolved = await reads.resolveGroup.executeWithOptions({ summary: `resolve ${refLabel(ref)}` }, [ref]);
          // A kind the watch does not read: refused when the input named it, left unwatched when the inventory did.
          const refused = unsupportedKindReason(RunbookTypes.watchGroups, resolved.group);
          if (refused && refs) refusedInInput ??= { field: `groups[${index}]`, reason: refused };
          if (refused) {
            results[index] = { name: resolved.group.displayName, error: refused };
            continue;
          }
          results[index] = {
            name: resolved.group.displayName,
            group: resolved.group,
            notifyOn: resolved.outbound?.notifyOn ?? [],
          };
        } catch (error) {
          if (!(error instanceof TemporalFailure) || isCancellation(error)) throw error;
          results[index] = { name: refLabel(ref), error: describeFailure(error).message };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESOLVE_CONCURRENCY, asked.length) }, lane));
    if (refusedInInput)
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: `${refusedInInput.field}: ${refusedInInput.reason}. Nothing is watched.`,
        details: [{ field: refusedInInput.field }],
      });
    // One group named twice (by name and by coordinates) is watched once.
    const seen = new Set<string>();
    const unique = results.filter((entry) => {
      if (!('group' in entry)) return true;
      if (seen.has(entry.group.lockWorkflowId)) return false;
      seen.add(entry.group.lockWorkflowId);
      return true;
    });
    step.evidence({
      groups: unique.flatMap((entry) => ('group' in entry ? [entry.name] : [])),
      unresolved: unique.flatMap((entry) => ('error' in entry ? [{ group: entry.name, error: entry.error }] : [])),
      from: refs ? 'input' : 'inventory',
    });
    return unique;
  });
}

/**
 * Whether a fogpilot runbook made a change seen now, the old primary last read at `previousReadAt`: the group's lock
 * holder (a runbook that may switch roles) was running, or ended after that read. A lock that could not be read
 * counts as not fogpilot's: a false alarm is better than a missed failover.
 */
export function judgeChange(
  lock: WatchLockEvidence | undefined,
  previousReadAt: string | undefined,
): { byFogpilot: boolean; explanation: string } {
  if (!lock) return { byFogpilot: false, explanation: "the group's lock was not read" };
  if (lock.error) {
    return {
      byFogpilot: false,
      explanation: `the group's lock holder could not be read (${lock.error}), so the change is not known to be fogpilot's`,
    };
  }
  const holder = `${lock.workflowType ?? 'a workflow'}${lock.runId ? ` (run ${lock.runId})` : ''}`;
  if (lock.workflowType && NEVER_SWITCH_ROLES.includes(lock.workflowType)) {
    return {
      byFogpilot: false,
      explanation: `${holder} ${lock.running ? 'holds' : 'held'} the group's lock, and it never switches roles`,
    };
  }
  if (lock.running) return { byFogpilot: true, explanation: `${holder} held the group's lock when it was seen` };
  if (!lock.runId) return { byFogpilot: false, explanation: 'no fogpilot runbook has held the group\u2019s lock' };
  const closedAfter =
    lock.closedAt !== undefined &&
    (previousReadAt === undefined || Date.parse(lock.closedAt) >= Date.parse(previousReadAt));
  if (closedAfter) {
    return {
      byFogpilot: true,
      explanation: `${holder} held the group's lock and ended (${lock.closeStatus ?? 'closed'}) at ${lock.closedAt}, after the previous look at ${previousReadAt ?? 'the start'}`,
    };
  }
  return {
    byFogpilot: false,
    explanation: `no fogpilot runbook held the group's lock since the previous look at ${previousReadAt}; the last, ${holder}, ended at ${lock.closedAt ?? 'an unknown time'}`,
  };
}

/** How the input names the group to a failback: its inventory name, or its coordinates. */
function failbackRef(group: ResolvedGroup): GroupRef {
  if (group.resolvedFrom === 'inventory' || group.resolvedFrom === undefined) return group.displayName;
  return {
    subscriptionId: group.subscriptionId,
    resourceGroup: group.resourceGroup,
    name: group.name,
    primaryLocation: group.primaryLocation,
    secondaryLocation: group.secondaryLocation,
  };
}

/**
 * Starts `failback` for the group under its lock id, abandoned (it outlives the watch and its continue-as-new), which
 * waits durably until the group synchronizes and then fails back home. A run already holding the lock means someone
 * is on it: recorded, nothing started (a child's start never takes over a running id).
 */
export async function startFailbackFor(
  entry: WatchEntry,
  change: Pick<WatchChange, 'from' | 'to' | 'seenAt'>,
  waitTimeout: NonNullable<WatchGroupsInput['failbackWaitTimeout']>,
): Promise<WatchFailbackRecord> {
  const { group } = entry;
  const workflowId = group.lockWorkflowId;
  if (!homeIsKnown(group)) {
    return {
      outcome: 'not-away-from-home',
      workflowId,
      detail: `${group.displayName} was named by an ARM id the inventory does not know: its home is not known`,
    };
  }
  if (change.to === group.primaryLocation) {
    return { outcome: 'not-away-from-home', workflowId, detail: `${change.to} is its home primary` };
  }
  const watcher = workflowInfo().workflowId;
  const input: FailbackInput = {
    group: failbackRef(group),
    waitTimeout,
    requestedBy: `watchGroups ${watcher}`.slice(0, 200),
    reason:
      `The primary of ${group.displayName} moved from ${change.from} to ${change.to} without a fogpilot runbook ` +
      `(seen ${change.seenAt}); started by watchGroups to bring it home once replication has caught up.`,
  };
  try {
    const child = await startChild<(input: FailbackInput) => Promise<RunbookReport>>(RunbookTypes.failback, {
      workflowId,
      args: [input],
      // It holds the group's lock and may wait for days: it must outlive the watch and each of its runs.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `failback of ${group.displayName}, started by watchGroups ${watcher}`,
    });
    return { outcome: 'started', workflowId, runId: child.firstExecutionRunId };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      return {
        outcome: 'lock-held',
        workflowId,
        detail: `another run holds ${workflowId}: someone is on it, so no failback was started`,
      };
    }
    if (!(error instanceof TemporalFailure) || isCancellation(error)) throw error;
    return { outcome: 'failed-to-start', workflowId, detail: describeFailure(error).message };
  }
}

/**
 * The watch's notifications, through one {@link RunNotifier} for the run (its child ids are unique within the run),
 * pointed at one group at a time. Calls are made one after another, never concurrently.
 */
export class WatchNotifier {
  private current?: ResolvedGroup;
  private readonly notifier: RunNotifier;

  constructor(runbook: RunbookType) {
    this.notifier = new RunNotifier(runbook, () => this.current);
    // The watch does its own work: it tells of what it sees.
    this.notifier.enabled = true;
  }

  /** Whether an endpoint takes `event` for the group (a notification is then started). */
  takes(entry: WatchEntry, event: NotificationEvent): boolean {
    return entry.notifyOn.includes(event);
  }

  async notify(
    entry: WatchEntry,
    event: NotificationEvent,
    fields: Parameters<RunNotifier['notify']>[1],
    key: string,
  ): Promise<void> {
    this.current = entry.group;
    this.notifier.plan = planOf(entry);
    try {
      await this.notifier.notify(event, fields, key);
    } finally {
      this.current = undefined;
      this.notifier.plan = undefined;
    }
  }
}

function planOf(entry: WatchEntry): OutboundPlan | undefined {
  return entry.notifyOn.length > 0 ? { hooks: { before: [], after: [] }, notifyOn: entry.notifyOn } : undefined;
}

/** The sentence a person reads about a change fogpilot did not make. */
export function describeUnexplainedChange(group: string, change: WatchChange): string {
  const read =
    change.read === 'survivor' ? `read from ${change.to} alone: ${change.from} did not answer` : 'both regions agree';
  const failback = change.failback
    ? change.failback.outcome === 'started'
      ? ` A failback (${change.failback.workflowId}) now waits until replication has caught up, then brings it home.`
      : change.failback.outcome === 'lock-held'
        ? ` No failback was started: ${change.failback.detail}.`
        : ''
    : '';
  return (
    `The primary of ${group} moved from ${change.from} to ${change.to} without a fogpilot runbook (${read}; ` +
    `${change.explanation}): an Azure-initiated failover or a change made outside fogpilot.${failback}`
  );
}

/** Writes the log line of a change. */
export function logChange(change: WatchChange): void {
  const fields = { group: change.group, from: change.from, to: change.to, read: change.read, seenAt: change.seenAt };
  if (change.byFogpilot) log.info(`Role change of ${change.group} made by fogpilot: ${change.explanation}`, fields);
  else log.warn(`Role change of ${change.group} NOT made by fogpilot: ${change.explanation}`, fields);
}

/** Applies one look's reading of a group; returns the change it saw, if any (not yet acted upon). */
export function applyReading(entry: WatchEntry, look: WatchGroupLook, lookAt: string): WatchChange | undefined {
  const { reading } = look;
  const state = entry.state;
  state.read = reading.read;
  state.replicationStatus = reading.replicationStatus;
  state.detail = reading.detail;
  if (!reading.primaryLocation) return undefined;
  const previous = state.primaryLocation;
  const previousReadAt = state.primaryReadAt;
  state.primaryLocation = reading.primaryLocation;
  state.primaryReadAt = lookAt;
  if (previous === undefined || previous === reading.primaryLocation) return undefined;
  const judged = judgeChange(look.lock, previousReadAt);
  return {
    group: entry.group.displayName,
    seenAt: lookAt,
    ...(previousReadAt ? { previousReadAt } : {}),
    from: previous,
    to: reading.primaryLocation,
    read: reading.read,
    byFogpilot: judged.byFogpilot,
    explanation: judged.explanation,
    ...(look.lock ? { lock: look.lock } : {}),
  };
}
