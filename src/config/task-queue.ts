/**
 * The task queue setting, read here and nowhere else: the worker polls it, and the CLI, the HTTP trigger, drill
 * schedules and `fogpilot/client` start runbooks on it. `FOGPILOT_TASK_QUEUE` overrides the default (and, for the
 * worker, `temporal.taskQueue` in fogpilot.yaml); a blank value counts as unset.
 */
import { DEFAULT_TASK_QUEUE } from '../workflows/definitions';
import { fogpilotVariable, type FogpilotVariable } from './environment';

export { DEFAULT_TASK_QUEUE };

/** The variable that names the task queue. */
export const TASK_QUEUE_VARIABLE: FogpilotVariable = 'FOGPILOT_TASK_QUEUE';

/** `FOGPILOT_TASK_QUEUE`, trimmed, when it names a queue; `undefined` when it is unset or blank. */
export function taskQueueOverride(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return fogpilotVariable(TASK_QUEUE_VARIABLE, env)?.trim() || undefined;
}

/** The task queue runbooks run on: `FOGPILOT_TASK_QUEUE`, else {@link DEFAULT_TASK_QUEUE}. */
export function taskQueueFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  return taskQueueOverride(env) ?? DEFAULT_TASK_QUEUE;
}

/**
 * Why the CLI, the HTTP trigger and `fogpilot/client` would start runbooks on a queue this worker does not poll, or
 * `undefined` when they agree. They read only `FOGPILOT_TASK_QUEUE`; the worker also honours `temporal.taskQueue` in
 * fogpilot.yaml, so a queue set only there strands every runbook they start.
 */
export function taskQueueMismatch(workerQueue: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const clients = taskQueueFromEnvironment(env);
  if (clients === workerQueue) return undefined;
  return (
    `This worker polls task queue "${workerQueue}" (temporal.taskQueue in fogpilot.yaml), but the fogpilot CLI, the ` +
    `HTTP trigger and fogpilot/client start runbooks on "${clients}" (${TASK_QUEUE_VARIABLE}` +
    `${taskQueueOverride(env) ? '' : ' is unset: the default'}); runbooks they start would wait for a worker. ` +
    `Set ${TASK_QUEUE_VARIABLE}=${workerQueue} wherever fogpilot runs, or remove temporal.taskQueue from fogpilot.yaml.`
  );
}
