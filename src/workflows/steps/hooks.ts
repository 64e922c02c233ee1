/**
 * A group's hooks around a leg's database switch: `before` hooks run before the leg changes anything (after its
 * preflight), and a failure stops the run there; `after` hooks run once the new primary is writable and checked, and a
 * failure is a warning or ends the run, as each is configured. Each hook is one activity attempt per configured
 * attempt; its redacted request and answer go in the step's evidence and the report's `hooks`.
 */
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { HookPhase, HookPlan, HookRecord } from '../../hooks/types';
import { FailureTypes } from '../definitions';
import { describeFailure, type RunbookRun } from './runbook-run';

/** Runs recorded before hooks ran scheduled none; a run that has hooks runs them from this marker on. */
export const RUNBOOK_HOOKS_PATCH = 'runbook-hooks';

function hookActivity(hook: HookPlan) {
  return proxyActivities<Activities>({
    // The request is cut at the hook's timeout; the margin lets the activity report that itself.
    startToCloseTimeout: hook.timeoutMs + 15_000,
    heartbeatTimeout: '5 seconds',
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: hook.attempts,
    },
  });
}

/** The record a failed hook's activity carried, when it carried one. */
function recordOf(error: unknown): HookRecord | undefined {
  const details = describeFailure(error).details;
  const first = details[0] as Partial<HookRecord> | undefined;
  return first && typeof first.name === 'string' && typeof first.ok === 'boolean' ? (first as HookRecord) : undefined;
}

/**
 * Runs the group's `phase` hooks in order, as steps `<prefix>hook-<phase>-<name>`. Fails `HookFailed` for a failed
 * `before` hook (nothing changed yet) or a failed `after` hook set to `fail` (the switch stands).
 */
export async function runHooks(
  run: RunbookRun,
  phase: HookPhase,
  leg: { from: string; to: string },
  prefix = '',
  options: { deferFailure?: boolean } = {},
): Promise<ApplicationFailure | undefined> {
  let deferred: ApplicationFailure | undefined;
  const hooks = run.notifier.enabled ? (run.notifier.plan?.hooks[phase] ?? []) : [];
  if (hooks.length === 0 || !patched(RUNBOOK_HOOKS_PATCH)) return undefined;
  const group = run.group!;
  for (const hook of hooks) {
    await run.step(
      `${prefix}hook-${phase}-${hook.name}`,
      `${phase === 'before' ? 'Before' : 'After'} the switch: ${hook.name} (${hook.method} ${hook.url})`,
      async (step) => {
        const request = {
          group: group.displayName,
          phase,
          name: hook.name,
          context: {
            group: group.displayName,
            runbook: run.runbook,
            workflowId: run.status().workflowId,
            phase,
            fromLocation: leg.from,
            toLocation: leg.to,
          },
        };
        try {
          const record = await hookActivity(hook).runGroupHook(request);
          (run.extra.hooks ??= []).push(record);
          step.evidence({ hook: { ...record } });
        } catch (error) {
          const failure = describeFailure(error);
          const record = recordOf(error);
          if (record) (run.extra.hooks ??= []).push(record);
          step.evidence({ hook: record ? { ...record } : null, error: failure.message, attempts: hook.attempts });
          // A drill must come home: a failed after hook on its way out is a warning, whatever it is set to.
          const drillOnItsWayOut = run.runbook === 'drDrill' && prefix === '';
          if (phase === 'after' && (hook.onFailure === 'warn' || drillOnItsWayOut)) {
            run.warn(
              `after hook ${hook.name} failed (${failure.message}); the switch to ${leg.to} stands` +
                (drillOnItsWayOut && hook.onFailure === 'fail' ? ' (in a drill the failback still runs)' : ''),
            );
            return;
          }
          const hookFailure = ApplicationFailure.create({
            type: FailureTypes.HookFailed,
            nonRetryable: true,
            message:
              phase === 'before'
                ? `Before hook ${hook.name} failed after ${hook.attempts} attempt(s): ${failure.message}. Nothing was changed: ${leg.from} is still primary. Fix what the hook calls, then start the runbook again.`
                : `After hook ${hook.name} failed after ${hook.attempts} attempt(s): ${failure.message}. The switch stands: ${leg.to} is primary. Run what the hook does by hand.`,
            details: record ? [{ hook: record }] : [],
          });
          // The leg finishes what it has to do after the switch (sizes) before the run ends on it.
          if (phase === 'after' && options.deferFailure) {
            deferred ??= hookFailure;
            return;
          }
          throw hookFailure;
        }
      },
    );
  }
  return deferred;
}
