/**
 * A group's hooks as the workflow may see them: names, phases and bounds, no header values and no query strings. The
 * starter (or a read-only activity) computes the plan from the configuration; the workflow runs each hook as an
 * activity by name, and the activity finds the hook again with {@link findHook}.
 */
import type { FogpilotConfig } from '../config/config';
import type { HookConfig } from './schema';
import type { HookPhase, HookPlan, HookPlans } from './types';
import { urlWithoutQuery } from './urls';

function planOf(hook: HookConfig, phase: HookPhase): HookPlan {
  return {
    name: hook.name,
    phase,
    method: hook.method,
    url: urlWithoutQuery(hook.url),
    timeoutMs: hook.timeout,
    attempts: hook.attempts,
    onFailure: hook.onFailure,
    ...(hook.expectStatus === undefined ? {} : { expectStatus: [...hook.expectStatus] }),
  };
}

/**
 * The non-secret plan of a group's hooks, in the order they run. A group outside the inventory, or without hooks,
 * has none.
 */
export function planHooks(config: Pick<FogpilotConfig, 'inventory'>, groupName: string): HookPlans {
  const hooks = Object.hasOwn(config.inventory, groupName) ? config.inventory[groupName]?.hooks : undefined;
  return {
    before: (hooks?.before ?? []).map((hook) => planOf(hook, 'before')),
    after: (hooks?.after ?? []).map((hook) => planOf(hook, 'after')),
  };
}

/** A group's hook by phase and name, as configured (with its environment references), or undefined. */
export function findHook(
  config: Pick<FogpilotConfig, 'inventory'>,
  groupName: string,
  phase: HookPhase,
  name: string,
): HookConfig | undefined {
  if (!Object.hasOwn(config.inventory, groupName)) return undefined;
  return config.inventory[groupName]?.hooks?.[phase].find((hook) => hook.name === name);
}
