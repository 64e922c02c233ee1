/**
 * The read plan of a planned failover leg (issue 15): ARM reads only what a gate needs that nothing fresh already
 * answers. A group read at one location answers both roles (its `partnerRegions` name the partner's); a reading a few
 * seconds old answers the next step's question as well as a new one would, because this run holds the group's lock and
 * Azure itself refuses what could have changed meanwhile (a second failover: 409 busy; a failover to the primary: 400).
 *
 * What was read is kept as module state: the SDK gives each workflow run its own instance of the workflow modules, so
 * it is this run's (as the ARM meter's tally is). Nothing here reads: the steps ask, and read when the answer is too old.
 */
import type { GroupRolesReading, InstanceReading } from '../../activities';
import { summarizeGroupRoles, type DatabaseReplicationLink, type FailoverGroupView } from '../../domain/azure-state';
import { normalizeLocation } from '../../domain/locations';

/**
 * Runs recorded before the read plan read the group at both locations in every preflight and post-check, read the
 * target again before each POST, and read the group and the primary instance again in the failback's catch-up wait.
 */
export const READ_PLAN_PATCH = 'planned-leg-reads-what-it-must';

/**
 * How old a roles reading may be and still stand in for a new one: before a failover is sent (a preflight, the send's
 * own look at the target) and in the failback's catch-up wait. Ten seconds is well under any failover's course (Azure's
 * role switch takes tens of seconds to minutes), so a reading this old cannot have missed a switch completed in
 * between; a failover started in between makes Azure refuse the POST (409 busy), and one that made the target primary
 * makes it refuse with 400, which the send answers by reading the target afresh.
 */
export const FRESH_ENOUGH_MS = 10_000;

/** A roles reading and when it was made (workflow time; for a reading combined from two, the older one). */
export interface TimedRoles {
  reading: GroupRolesReading;
  atMs: number;
}

let lastRoles: TimedRoles | undefined;
const instances = new Map<string, InstanceReading>();

/**
 * Runs recorded before a failback's catch-up wait and preflight stood on the replication links the failover's
 * post-checks had just read, and before a failback left the drift checks to the failover leg that made them: the
 * failback read the same links three times within a tenth of a second, and logins, jobs and backups again.
 */
export const FAILBACK_READ_PLAN_PATCH = 'failback-stands-on-what-the-failover-read';

/**
 * How old a reading of replication links may be and still answer a catch-up look or a preflight's lag gate. The
 * links say which databases there are and how far each lags; neither proves anything about data loss (the copy-sync
 * proof right before the POST does), so a reading two seconds old answers as well as a new one: a database created
 * in those two seconds is not in the group yet, and a lag that grew in them is what the proof waits out.
 */
export const LINKS_FRESH_ENOUGH_MS = 2_000;

/**
 * How long the drift checks a leg made (logins, jobs, backups on both instances; they only warn) stand for the next
 * leg of the same run on the same pair: a failback minutes after its failover warns of what the failover leg warned.
 */
export const DRIFT_FRESH_ENOUGH_MS = 10 * 60_000;

interface TimedLinks {
  links: DatabaseReplicationLink[];
  atMs: number;
}
const linksByInstance = new Map<string, TimedLinks>();
const driftByPair = new Map<string, number>();

/** Keeps what a step read of the roles, for the next step that would read them again. */
export function rememberRoles(reading: GroupRolesReading, atMs: number = Date.now()): TimedRoles {
  lastRoles = { reading, atMs };
  return lastRoles;
}

/** Forgets the roles: after a failover is sent, nothing read before it says anything about the roles. */
export function forgetRoles(): void {
  lastRoles = undefined;
  // Nor about the links: the roles of every link turn with the group's.
  linksByInstance.clear();
}

/** Keeps the replication links read on an instance (by its ARM id). */
export function rememberLinks(instanceId: string, links: DatabaseReplicationLink[], atMs: number = Date.now()): void {
  linksByInstance.set(instanceId.toLowerCase(), { links, atMs });
}

/** The links this run read on an instance since its last failover was sent, if at most `maxAgeMs` old. */
export function recentLinks(instanceId: string, maxAgeMs: number = LINKS_FRESH_ENOUGH_MS): TimedLinks | undefined {
  const known = linksByInstance.get(instanceId.toLowerCase());
  return known && Date.now() - known.atMs <= maxAgeMs ? known : undefined;
}

/** The two instances of a pair, in either order, as one key. */
function pairKey(instanceIds: [string, string]): string {
  return instanceIds
    .map((id) => id.toLowerCase())
    .sort()
    .join(' ');
}

/** Notes that a leg made the drift checks of a pair. */
export function rememberDriftChecked(instanceIds: [string, string], atMs: number = Date.now()): void {
  driftByPair.set(pairKey(instanceIds), atMs);
}

/** How many ms ago a leg of this run made the drift checks of this pair, if within `maxAgeMs`. */
export function driftCheckedMsAgo(
  instanceIds: [string, string],
  maxAgeMs: number = DRIFT_FRESH_ENOUGH_MS,
): number | undefined {
  const atMs = driftByPair.get(pairKey(instanceIds));
  return atMs !== undefined && Date.now() - atMs <= maxAgeMs ? Date.now() - atMs : undefined;
}

/** The last roles reading of this run, if it is at most `maxAgeMs` old. */
export function recentRoles(maxAgeMs: number = FRESH_ENOUGH_MS): TimedRoles | undefined {
  return lastRoles && Date.now() - lastRoles.atMs <= maxAgeMs ? lastRoles : undefined;
}

/** The view a reading holds as read at `location`. */
export function viewAt(reading: { views: FailoverGroupView[] }, location: string): FailoverGroupView | undefined {
  const wanted = normalizeLocation(location);
  return reading.views.find((view) => normalizeLocation(view.location) === wanted);
}

/**
 * Whether a reading of the roles answers a preflight toward `target` on its own: consistent (the views, or one view
 * and its partner's role, agree), synchronizing, and `target` the secondary. Anything else — the target primary
 * already, a failover in progress, the roles disagreeing — is decided on a reading at both locations, as before.
 */
export function answersPreflight(reading: GroupRolesReading, target: string): boolean {
  const { summary } = reading;
  return (
    summary.consistent &&
    summary.status === 'synchronizing' &&
    summary.secondaryLocation === normalizeLocation(target) &&
    viewAt(reading, target) !== undefined
  );
}

/** Views read at different moments, as one reading (its ARM calls are the newest read's: the others were counted). */
export function combineRoles(older: FailoverGroupView[], newer: GroupRolesReading): GroupRolesReading {
  const locations = new Set(newer.views.map((view) => normalizeLocation(view.location)));
  const views = [...older.filter((view) => !locations.has(normalizeLocation(view.location))), ...newer.views];
  return { ...newer, views, summary: summarizeGroupRoles(views) };
}

/** Keeps instance readings: their endpoints never change, so a later step needs none read again to reach them. */
export function rememberInstances(readings: InstanceReading[]): void {
  for (const reading of readings) instances.set(reading.instance.id.toLowerCase(), reading);
}

/** The instance readings this run has made (for their endpoints: sizes and operations are read afresh). */
export function knownInstances(): InstanceReading[] {
  return [...instances.values()];
}
