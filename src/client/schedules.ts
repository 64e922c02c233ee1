/**
 * DR-drill schedules: Temporal Schedules that start `drDrill` for one group on a calendar or an interval.
 *
 * Every schedule is made the same way: overlap policy SKIP (a drill still running when the next is due means the next
 * is skipped, never queued), a catch-up window (a drill missed while Temporal was down runs only if it is at most that
 * late), pause-on-failure (a drill that fails pauses its schedule until a person has looked), and optional jitter. The
 * drill a schedule starts runs its mutating part under the group's lock, as every drill does: while another runbook
 * holds the group, the scheduled drill (input `ifGroupBusy: 'skip'` unless given) ends `skipped` without changing
 * anything — not a failure, so an incident never pauses the schedule.
 *
 * ```ts
 * const schedules = new DrillSchedules(client);
 * await schedules.create({ input: { group: 'fog-sales', soak: '30 minutes' }, cron: '0 3 * * SAT', timezone: 'Europe/Paris' });
 * ```
 */
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleSpec,
} from '@temporalio/client';
import { durationToMs } from '../domain/durations';
import { isArmGroupId, parseInstanceFailoverGroupId } from '../domain/group-ref';
import { RunbookTypes, type DrDrillInput } from '../workflows/definitions';
import { taskQueueFromEnvironment } from '../config/task-queue';
import { InvalidRunbookInputError, validateRunbookInput } from './inputs';
import { groupTarget } from './workflow-ids';

/** Every drill schedule's id starts with this; the rest names the group. */
export const DRILL_SCHEDULE_PREFIX = 'fogpilot-drill/';

/** Defaults applied to every drill schedule. */
export const DRILL_SCHEDULE_DEFAULTS = {
  /** A drill missed while Temporal was unavailable still runs if it is at most this late. */
  catchupWindow: '10 minutes',
  /** Drills are rare; a shorter interval is almost certainly a typo. */
  minimumIntervalMs: 60_000,
  timezone: 'UTC',
} as const;

/** How a schedule was asked for, kept in its memo so `list` shows what the operator wrote. */
interface DrillScheduleMemo {
  runbook: typeof RunbookTypes.drDrill;
  group: string;
  cron?: string;
  every?: string;
  timezone: string;
  jitter?: string;
}

const MEMO_KEY = 'fogpilot';

export interface CreateDrillScheduleOptions {
  /** The drill's input, validated like any `drDrill` input before the schedule is created. */
  input: DrDrillInput;
  /** A cron expression (5-7 fields, or `@daily`/`@weekly`…). Give this or `every`. */
  cron?: string;
  /** An interval, e.g. `'7 days'`. Give this or `cron`. */
  every?: string;
  /** IANA time zone the cron expression is read in. Default UTC. */
  timezone?: string;
  /** Each drill starts up to this much later than its scheduled time, chosen at random. Default none. */
  jitter?: string;
  /** Default {@link DRILL_SCHEDULE_DEFAULTS.catchupWindow}. */
  catchupWindow?: string;
  /** Create the schedule paused. */
  paused?: boolean;
  /** Shown with the schedule (e.g. why it is paused). */
  note?: string;
  /** Default `fogpilot-drill/<group>` (see {@link drillScheduleIdFor}). */
  scheduleId?: string;
}

/** A drill schedule as `list` and `describe` show it. */
export interface DrillScheduleView {
  scheduleId: string;
  group: string;
  input: DrDrillInput;
  /** What the operator asked for: the cron expression or interval, in the time zone. */
  when: { cron?: string; every?: string; timezone: string; jitter?: string };
  /** The schedule's spec as the server holds it (cron expressions come back as calendars). */
  spec: ScheduleDescription['spec'];
  policies: { overlap: string; catchupWindowMs: number; pauseOnFailure: boolean };
  taskQueue: string;
  paused: boolean;
  note?: string;
  nextActionTimes: string[];
  recentActions: { scheduledAt: string; takenAt: string; workflowId: string; runId: string }[];
  /** Drills this schedule started that are still running. */
  running: { workflowId: string; runId: string }[];
  actionsTaken: number;
  actionsSkippedOverlap: number;
  actionsMissedCatchupWindow: number;
}

/** What a manual trigger did. */
export interface DrillTriggerResult {
  scheduleId: string;
  /** The drill it started, when it started one. */
  started?: { workflowId: string; runId: string };
  /**
   * True when the trigger was skipped because a drill from this schedule is still running (overlap policy SKIP),
   * with that drill in `running`.
   */
  skipped: boolean;
  running: { workflowId: string; runId: string }[];
}

/** A schedule id that does not exist (or was deleted). */
export class DrillScheduleNotFoundError extends Error {
  override readonly name = 'DrillScheduleNotFoundError';
  constructor(readonly scheduleId: string) {
    super(`No schedule ${scheduleId}`);
  }
}

/** The part of a group reference a schedule id and a workflow id can carry: an inventory name, or sub/rg/name. */
export function drillScheduleGroupLabel(group: unknown): string {
  if (typeof group === 'string') {
    const parsed = isArmGroupId(group) ? parseInstanceFailoverGroupId(group) : undefined;
    return parsed ? `${parsed.subscriptionId}/${parsed.resourceGroup}/${parsed.name}`.toLowerCase() : group.trim();
  }
  if (group && typeof group === 'object') {
    const { subscriptionId, resourceGroup, name } = group as Record<string, unknown>;
    if ([subscriptionId, resourceGroup, name].every((part) => typeof part === 'string')) {
      return `${subscriptionId as string}/${resourceGroup as string}/${name as string}`.toLowerCase();
    }
  }
  return 'unknown-group';
}

/**
 * `fogpilot-drill/<group>`: one drill schedule per group unless the caller names another. The group is named as in
 * workflow ids ({@link groupTarget}): its inventory name or `<sub>/<rg>/<name>`, hashed where that could be ambiguous.
 */
export function drillScheduleIdFor(group: unknown): string {
  return `${DRILL_SCHEDULE_PREFIX}${groupTarget(group)}`;
}

/**
 * `fogpilot/drDrill/<group>/scheduled`, to which Temporal appends each drill's scheduled time. The group keeps its
 * slashes (`<sub>/<rg>/<name>`): flattening them would let `rg-a/b` and `rg/a-b` share an id, and two drills of
 * such groups due at the same minute would then start only one.
 */
export function scheduledDrillWorkflowIdFor(group: unknown): string {
  return `fogpilot/drDrill/${groupTarget(group)}/scheduled`;
}

/**
 * Accepts what a person types for a schedule: its full id, or a group's inventory name (`fog-sales` →
 * `fogpilot-drill/fog-sales`).
 */
export function normalizeDrillScheduleId(idOrGroup: string): string {
  const trimmed = idOrGroup.trim();
  return trimmed.includes('/') ? trimmed : `${DRILL_SCHEDULE_PREFIX}${trimmed}`;
}

function invalid(field: string, message: string): InvalidRunbookInputError {
  return new InvalidRunbookInputError(RunbookTypes.drDrill, [{ field, message }]);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The spec for `options`; throws {@link InvalidRunbookInputError} naming the schedule field that is wrong. */
export function drillScheduleSpec(
  options: Pick<CreateDrillScheduleOptions, 'cron' | 'every' | 'timezone' | 'jitter'>,
): {
  spec: ScheduleSpec;
  memo: Omit<DrillScheduleMemo, 'runbook' | 'group'>;
} {
  const cron = options.cron?.trim();
  const every = options.every?.trim();
  if (!cron === !every) {
    throw invalid('schedule', 'say when the drill runs: either a cron expression or an interval (not both)');
  }
  const timezone = options.timezone?.trim() || DRILL_SCHEDULE_DEFAULTS.timezone;
  if (!isTimeZone(timezone)) {
    throw invalid('timezone', `timezone must be an IANA time zone such as "Europe/Paris" or "UTC" (got "${timezone}")`);
  }
  const spec: ScheduleSpec = { timezone };
  if (cron) {
    if (/^(CRON_)?TZ=/i.test(cron)) {
      throw invalid('cron', 'cron must not carry its own time zone (CRON_TZ=…): give the time zone separately');
    }
    spec.cronExpressions = [cron];
  } else {
    const everyMs = durationToMs(every);
    if (everyMs === undefined || everyMs < DRILL_SCHEDULE_DEFAULTS.minimumIntervalMs) {
      throw invalid('every', `every must be a duration of at least 1 minute such as "7 days" (got "${every}")`);
    }
    spec.intervals = [{ every: everyMs }];
  }
  const jitter = options.jitter?.trim();
  if (jitter) {
    const jitterMs = durationToMs(jitter);
    if (jitterMs === undefined)
      throw invalid('jitter', `jitter must be a duration such as "15 minutes" (got "${jitter}")`);
    spec.jitter = jitterMs;
  }
  return { spec, memo: { cron, every, timezone, jitter } };
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;

/** The gRPC status of a failed call, on the error or (as the SDK wraps them) on its cause. */
function grpcCode(error: unknown): number | undefined {
  const withCode = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof withCode?.code === 'number' ? withCode.code : withCode?.cause?.code;
  return typeof code === 'number' ? code : undefined;
}

function iso(date: Date | undefined): string {
  return date ? date.toISOString() : '';
}

/**
 * Creates, lists, pauses, unpauses, triggers and deletes DR-drill schedules. Needs a Temporal server with Schedules
 * (any real server; not the time-skipping test server).
 */
export class DrillSchedules {
  constructor(
    readonly client: Client,
    readonly taskQueue: string = taskQueueFromEnvironment(),
  ) {}

  /**
   * Creates a drill schedule after validating the drill input and the timing. Throws
   * {@link InvalidRunbookInputError} for a bad input, cron expression, interval, jitter or time zone, and the SDK's
   * `ScheduleAlreadyRunning` when the id is taken.
   */
  async create(options: CreateDrillScheduleOptions): Promise<DrillScheduleView> {
    validateRunbookInput(RunbookTypes.drDrill, options.input);
    const { spec, memo } = drillScheduleSpec(options);
    const catchupWindow = options.catchupWindow?.trim() || DRILL_SCHEDULE_DEFAULTS.catchupWindow;
    const catchupMs = durationToMs(catchupWindow);
    if (catchupMs === undefined || catchupMs < 10_000) {
      throw invalid(
        'catchupWindow',
        `catchupWindow must be a duration of at least 10 seconds (got "${catchupWindow}")`,
      );
    }
    const label = drillScheduleGroupLabel(options.input.group);
    const scheduleId = options.scheduleId?.trim() || drillScheduleIdFor(options.input.group);
    const fullMemo: DrillScheduleMemo = { runbook: RunbookTypes.drDrill, group: label, ...memo };
    try {
      await this.client.schedule.create({
        scheduleId,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: RunbookTypes.drDrill,
          // An incident holding the group skips that week's drill instead of failing it, which would pause the schedule.
          args: [{ ifGroupBusy: 'skip', ...options.input }],
          taskQueue: this.taskQueue,
          // Temporal appends the scheduled time to this id, so each drill has its own.
          workflowId: scheduledDrillWorkflowIdFor(options.input.group),
          staticSummary: `scheduled drDrill of ${label} (${scheduleId})`,
        },
        policies: {
          overlap: ScheduleOverlapPolicy.SKIP,
          catchupWindow: catchupMs,
          pauseOnFailure: true,
        },
        memo: { [MEMO_KEY]: fullMemo },
        state: { paused: options.paused ?? false, note: options.note },
      });
    } catch (error) {
      // The SDK parses cron expressions (a TypeError names the field it could not read); the server checks the rest.
      if (error instanceof TypeError) {
        throw invalid(memo.cron ? 'cron' : 'schedule', `Temporal refused the schedule: ${error.message}`);
      }
      if (grpcCode(error) === GRPC_INVALID_ARGUMENT) {
        const detail = (error as { cause?: { details?: string } }).cause?.details ?? (error as Error).message;
        throw invalid(memo.cron ? 'cron' : 'schedule', `Temporal refused the schedule: ${detail}`);
      }
      throw error;
    }
    return this.describe(scheduleId);
  }

  /** The schedule's definition and state; throws {@link DrillScheduleNotFoundError} when there is none. */
  async describe(scheduleId: string): Promise<DrillScheduleView> {
    let description: ScheduleDescription;
    try {
      description = await this.client.schedule.getHandle(scheduleId).describe();
    } catch (error) {
      throw this.notFound(error, scheduleId);
    }
    return viewOf(description);
  }

  /**
   * Every drill schedule, by id. Listing is eventually consistent in Temporal: a schedule created a moment ago may
   * take a second to appear.
   */
  async list(): Promise<DrillScheduleView[]> {
    const ids: string[] = [];
    for await (const summary of this.client.schedule.list()) {
      if (summary.scheduleId.startsWith(DRILL_SCHEDULE_PREFIX) || summary.memo?.[MEMO_KEY] !== undefined) {
        ids.push(summary.scheduleId);
      }
    }
    const views = await Promise.all(ids.sort().map((id) => this.describe(id).catch(() => undefined)));
    return views.filter((view): view is DrillScheduleView => view !== undefined);
  }

  /** Stops the schedule from starting drills until unpaused; a drill already running goes on. */
  async pause(scheduleId: string, note = 'paused with fogpilot'): Promise<DrillScheduleView> {
    await this.client.schedule
      .getHandle(scheduleId)
      .pause(note)
      .catch((error: unknown) => {
        throw this.notFound(error, scheduleId);
      });
    return this.describe(scheduleId);
  }

  /** Lets the schedule start drills again (also after a pause-on-failure). */
  async unpause(scheduleId: string, note = 'unpaused with fogpilot'): Promise<DrillScheduleView> {
    await this.client.schedule
      .getHandle(scheduleId)
      .unpause(note)
      .catch((error: unknown) => {
        throw this.notFound(error, scheduleId);
      });
    return this.describe(scheduleId);
  }

  /**
   * Starts a drill now, with the schedule's overlap policy (SKIP: nothing starts while a drill from this schedule
   * runs; the SDK's default for a trigger would be ALLOW_ALL). Waits up to `waitMs` to learn what happened.
   */
  async trigger(scheduleId: string, waitMs = 10_000): Promise<DrillTriggerResult> {
    const before = await this.describe(scheduleId);
    await this.client.schedule
      .getHandle(scheduleId)
      .trigger(ScheduleOverlapPolicy.SKIP)
      .catch((error: unknown) => {
        throw this.notFound(error, scheduleId);
      });
    const known = new Set(before.recentActions.map((action) => action.runId));
    const deadline = Date.now() + waitMs;
    for (;;) {
      const now = await this.describe(scheduleId);
      const fresh = now.recentActions.find((action) => !known.has(action.runId));
      if (fresh) {
        return {
          scheduleId,
          started: { workflowId: fresh.workflowId, runId: fresh.runId },
          skipped: false,
          running: now.running,
        };
      }
      if (now.actionsSkippedOverlap > before.actionsSkippedOverlap) {
        return { scheduleId, skipped: true, running: now.running };
      }
      if (Date.now() > deadline) return { scheduleId, skipped: false, running: now.running };
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Deletes the schedule; drills it started and that still run are not affected. */
  async delete(scheduleId: string): Promise<void> {
    await this.client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch((error: unknown) => {
        throw this.notFound(error, scheduleId);
      });
  }

  private notFound(error: unknown, scheduleId: string): unknown {
    if (error instanceof ScheduleNotFoundError || grpcCode(error) === GRPC_NOT_FOUND) {
      return new DrillScheduleNotFoundError(scheduleId);
    }
    return error;
  }
}

function viewOf(description: ScheduleDescription): DrillScheduleView {
  const memo = (description.memo?.[MEMO_KEY] ?? {}) as Partial<DrillScheduleMemo>;
  const action = description.action;
  const input = (action.args?.[0] ?? {}) as DrDrillInput;
  const intervals = description.spec.intervals ?? [];
  const every = memo.every ?? (intervals[0] ? `${intervals[0].every}ms` : undefined);
  return {
    scheduleId: description.scheduleId,
    group: memo.group ?? drillScheduleGroupLabel(input.group),
    input,
    when: {
      ...(memo.cron ? { cron: memo.cron } : {}),
      ...(every ? { every } : {}),
      timezone: memo.timezone ?? description.spec.timezone ?? 'UTC',
      ...(memo.jitter ? { jitter: memo.jitter } : {}),
    },
    spec: description.spec,
    policies: {
      overlap: description.policies.overlap ?? ScheduleOverlapPolicy.SKIP,
      catchupWindowMs: description.policies.catchupWindow,
      pauseOnFailure: description.policies.pauseOnFailure,
    },
    taskQueue: action.taskQueue ?? '',
    paused: description.state.paused,
    note: description.state.note,
    nextActionTimes: description.info.nextActionTimes.map(iso),
    recentActions: description.info.recentActions.map((result) => ({
      scheduledAt: iso(result.scheduledAt),
      takenAt: iso(result.takenAt),
      workflowId: result.action.workflow.workflowId,
      runId: result.action.workflow.firstExecutionRunId,
    })),
    running: description.info.runningActions.map((running) => ({
      workflowId: running.workflow.workflowId,
      runId: running.workflow.firstExecutionRunId,
    })),
    actionsTaken: description.info.numActionsTaken,
    actionsSkippedOverlap: description.info.numActionsSkippedOverlap,
    actionsMissedCatchupWindow: description.info.numActionsMissedCatchupWindow,
  };
}
