/**
 * Runbook inputs checked before anything starts, with the same schemas the workflows use. Its own module so the
 * client and the drill schedules both use it without importing each other.
 */
import type { z } from 'zod';
import {
  DrDrillInputSchema,
  FailbackInputSchema,
  FleetFailoverInputSchema,
  ForcedFailoverInputSchema,
  PlannedFailoverInputSchema,
  ReadinessCheckInputSchema,
  EstablishGroupInputSchema,
  ReprotectInputSchema,
  ScaleGroupInputSchema,
  WatchGroupsInputSchema,
  RestoreDatabaseInputSchema,
  ProtectWorkloadInputSchema,
  describeInputProblems,
  parseRunbookInput,
  type DrDrillInput,
  type FailbackInput,
  type FleetFailoverInput,
  type ForcedFailoverInput,
  type InputProblem,
  type PlannedFailoverInput,
  type ReadinessCheckInput,
  type EstablishGroupInput,
  type ReprotectInput,
  type ScaleGroupInput,
  type WatchGroupsInput,
  type RestoreDatabaseInput,
  type ProtectWorkloadInput,
} from '../domain/inputs';
import { RunbookTypes, type RunbookType } from '../workflows/definitions';

/** The input each runbook takes. */
export interface RunbookInputs {
  plannedFailover: PlannedFailoverInput;
  forcedFailover: ForcedFailoverInput;
  failback: FailbackInput;
  scaleGroup: ScaleGroupInput;
  drDrill: DrDrillInput;
  fleetFailover: FleetFailoverInput;
  readinessCheck: ReadinessCheckInput;
  establishGroup: EstablishGroupInput;
  reprotect: ReprotectInput;
  watchGroups: WatchGroupsInput;
  restoreDatabase: RestoreDatabaseInput;
  protectWorkload: ProtectWorkloadInput;
}

const schemas: Record<RunbookType, z.ZodType> = {
  plannedFailover: PlannedFailoverInputSchema,
  forcedFailover: ForcedFailoverInputSchema,
  failback: FailbackInputSchema,
  scaleGroup: ScaleGroupInputSchema,
  drDrill: DrDrillInputSchema,
  fleetFailover: FleetFailoverInputSchema,
  readinessCheck: ReadinessCheckInputSchema,
  establishGroup: EstablishGroupInputSchema,
  reprotect: ReprotectInputSchema,
  watchGroups: WatchGroupsInputSchema,
  restoreDatabase: RestoreDatabaseInputSchema,
  protectWorkload: ProtectWorkloadInputSchema,
};

/** A runbook input refused before anything was started. */
export class InvalidRunbookInputError extends Error {
  override readonly name = 'InvalidRunbookInputError';
  constructor(
    readonly runbook: RunbookType,
    readonly problems: InputProblem[],
  ) {
    super(describeInputProblems(runbook, problems));
  }
}

/** True when `value` is the name of one of fogpilot's runbooks. */
export function isRunbookType(value: string): value is RunbookType {
  return Object.values(RunbookTypes).includes(value as RunbookType);
}

/** Validates an input without starting anything; throws {@link InvalidRunbookInputError} naming each field. */
export function validateRunbookInput<R extends RunbookType>(runbook: R, input: unknown): RunbookInputs[R] {
  const parsed = parseRunbookInput(schemas[runbook], input);
  if (!parsed.ok) throw new InvalidRunbookInputError(runbook, parsed.problems);
  // The workflow applies the defaults itself: what travels is what the caller wrote, so history shows their intent.
  return input as RunbookInputs[R];
}
