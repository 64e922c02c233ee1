/**
 * A runbook's steps, each declared once: its name, the title it runs under, what a dry run says it would do, and its
 * body. A run executes the declarations (`runStep`); a dry run's plan is `planOf` the same declarations, so what the
 * plan says and what a run does cannot drift apart.
 */
import type { Evidence, PlanItem } from '../definitions';
import type { RunbookRun, StepHandle } from './runbook-run';

/**
 * What a dry run says a step would do: a line, or the line at which the plan stops (a gate blocks, or nothing is left
 * to do), so the steps after it are not planned.
 */
export type PlanLine = string | { stopsHere: string };

/** Why a step is recorded as skipped instead of running, with what was read. */
export interface StepSkip {
  why: string;
  evidence?: Evidence;
}

/** What a plan needs of a step: its name and what a dry run says it would do, given what was read (`View`). */
export interface PlannedStep<View> {
  /** The step's name in the report, the status query and the plan (after the leg's prefix, if any). */
  readonly name: string;
  /** What a dry run says it would do; `undefined`: not in the plan (e.g. only decided after a switch). */
  readonly plan?: (view: View) => PlanLine | undefined;
}

/**
 * One step, declared once. `View` is what was read before it (all a dry run has); `Run` is what a run knows when it
 * gets to the step (the view and whatever the steps before it found).
 */
export interface StepDeclaration<View, Run = View, T = void> extends PlannedStep<View> {
  readonly title: (run: Run) => string;
  /** A reason to record the step as skipped instead of running it; only for steps that return nothing. */
  readonly skip?: T extends void ? (run: Run) => StepSkip | undefined : never;
  readonly body: (run: Run, step: StepHandle) => Promise<T>;
}

/**
 * A stage: one line of the plan for what runs as several steps declared elsewhere (a failback: the wait, the catch-up,
 * the way back). It records no step of its own.
 */
export interface StageDeclaration<View, Run = View, T = void> extends PlannedStep<View> {
  readonly body: (run: Run) => Promise<T>;
}

/** Declares a step (the identity: it checks the declaration's types in one place). */
export function declareStep<View, Run = View, T = void>(
  declaration: StepDeclaration<View, Run, T>,
): StepDeclaration<View, Run, T> {
  return declaration;
}

/** Declares a stage (see {@link StageDeclaration}). */
export function declareStage<View, Run = View, T = void>(
  declaration: StageDeclaration<View, Run, T>,
): StageDeclaration<View, Run, T> {
  return declaration;
}

/**
 * The dry-run plan of `steps` in their order, given what was read: one item per step that says what it would do, up to
 * and including the first that stops the plan. `prefix` goes before each step name ('failback/' for a way back).
 */
export function planOf<View>(steps: readonly PlannedStep<View>[], view: View, prefix = ''): PlanItem[] {
  const items: PlanItem[] = [];
  for (const step of steps) {
    const line = step.plan?.(view);
    if (line === undefined) continue;
    if (typeof line === 'string') {
      items.push({ step: `${prefix}${step.name}`, action: line });
      continue;
    }
    items.push({ step: `${prefix}${step.name}`, action: line.stopsHere });
    break;
  }
  return items;
}

/** Runs one declared step as a step of `run`, or records it as skipped when its `skip` gives a reason. */
export async function runStep<View, Run, T>(
  run: RunbookRun,
  declaration: StepDeclaration<View, Run, T>,
  context: Run,
  prefix = '',
): Promise<T> {
  const name = `${prefix}${declaration.name}`;
  const title = declaration.title(context);
  const skip = (declaration.skip as ((view: Run) => StepSkip | undefined) | undefined)?.(context);
  if (skip) {
    run.skipStep(name, title, skip.why, skip.evidence);
    // Only a step that returns nothing may be skipped (see `skip`).
    return undefined as T;
  }
  return run.step(name, title, (step) => declaration.body(context, step));
}
