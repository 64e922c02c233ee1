/**
 * The runbooks by name: the workflow type names operators type, the task queue they run on, and their input types.
 * Names here are public API: never rename them.
 */
import type { DurationInput } from '../../domain/durations';

export type {
  PlannedFailoverInput,
  FailbackInput,
  PlannedFailoverParams,
  FailbackParams,
  ForcedFailoverInput,
  ForcedFailoverParams,
  ScaleGroupInput,
  ScaleGroupParams,
  DrDrillInput,
  DrDrillParams,
  FleetFailoverInput,
  FleetFailoverParams,
  ReadinessCheckInput,
  ReadinessCheckParams,
  EstablishGroupInput,
  EstablishGroupParams,
  ReprotectInput,
  ReprotectParams,
  WatchGroupsInput,
  WatchGroupsParams,
  RestoreDatabaseInput,
  RestoreDatabaseParams,
  ProtectWorkloadInput,
  ProtectWorkloadParams,
  InputProblem,
  Milliseconds,
} from '../../domain/inputs';
export type { GroupCoordinates, GroupRef, ResolvedGroup } from '../../domain/group-ref';

/** The task queue fogpilot workers poll (override with `FOGPILOT_TASK_QUEUE`). */
export const DEFAULT_TASK_QUEUE = 'fogpilot';

/** Workflow type names, as operators type them in `temporal workflow start --type …`. */
export const RunbookTypes = {
  plannedFailover: 'plannedFailover',
  forcedFailover: 'forcedFailover',
  failback: 'failback',
  scaleGroup: 'scaleGroup',
  drDrill: 'drDrill',
  fleetFailover: 'fleetFailover',
  readinessCheck: 'readinessCheck',
  establishGroup: 'establishGroup',
  reprotect: 'reprotect',
  watchGroups: 'watchGroups',
  restoreDatabase: 'restoreDatabase',
  protectWorkload: 'protectWorkload',
} as const;
export type RunbookType = (typeof RunbookTypes)[keyof typeof RunbookTypes];

/** Durations the runbooks accept, re-exported for typed clients. */
export type { DurationInput };
