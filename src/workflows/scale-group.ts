import { ApplicationFailure, CancellationScope, setHandler } from '@temporalio/workflow';
import { describeGroupRef, isServerGroup } from '../domain/group-ref';
import { ScaleGroupInputSchema } from '../domain/inputs';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type RunbookReport,
  type ScaleGroupInput,
  type ScaleRecord,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { openRunbook } from './steps/opening';
import { RunbookAborted, RunbookRun } from './steps/runbook-run';
import { refuseFieldsOfOtherKind } from './steps/scale-members';
import { reportSizesAfterAbort } from './steps/scale-stop';
import {
  decideStep,
  describePlan,
  readGroupStep,
  scaleGroupSteps,
  scaleOperationStep,
  verifyScaleStep,
  type ScaleRun,
} from './steps/scale-steps';
import { planOf, runStep } from './steps/step-declaration';

/**
 * **scaleGroup**: scales both managed instances of a failover group to the same `vCores`, `storageSizeInGB` and/or
 * `sku`, in the order that keeps the geo-secondary at least the primary's size throughout: growing, the secondary
 * first; shrinking, the primary first; a request that grows some things and shrinks others runs as an up pass followed
 * by a down pass (see `planScale`). Storage ends equal on both: when `storageSizeInGB` is omitted and the two differ,
 * both go to the larger.
 *
 * A SQL Database group (kind `sqlDatabase`) is scaled per member database (`databases`) or per elastic pool holding
 * member databases (`elasticPools`), to the same SKU on both servers, by the same rule and order: each server's
 * changes in one operation (a PATCH per database or pool, all followed to their end). A pooled database is scaled
 * through its pool; moving a database in or out of a pool is refused. The fields of the other kind are refused
 * (`InvalidInput`) before anything is read, and a database that is not a member or a pool that holds none after the
 * group is read, changing nothing.
 *
 * Side effects: one PATCH per instance and pass, each followed to its end (at most `scaleTimeout` per operation) before
 * the next starts. Refused, changing nothing, while a failover is in progress, while the two locations disagree about
 * the roles, or while a management operation runs on either instance (`GroupBusy`). Idempotent: an instance already
 * at its target is not touched, and an identical operation already running is followed rather than requested again,
 * so starting again with the same input finishes an interrupted run. Holds the group's lock. `dryRun` reads only and
 * returns the ordered plan.
 *
 * No automatic rollback: when an operation ends Failed or Canceled, or outlives `scaleTimeout` (`ScaleFailed`), what
 * already completed stays, and the message says which instance is at which size and what to do. An abort stops before
 * the next operation; one already running is followed to its end first (Azure would not stop it anyway), and the
 * report says where each instance stands.
 *
 * Fails with `InvalidInput`, `GroupNotFound`, `GroupBusy`, `ScaleFailed` or `AzureRequestRejected`; the failure's
 * details carry the report.
 */
export async function scaleGroup(input: ScaleGroupInput): Promise<RunbookReport> {
  const run = new RunbookRun(
    RunbookTypes.scaleGroup,
    describeGroupRef((input as { group?: unknown } | undefined)?.group),
  );
  // Handlers before anything else, so a query, an abort or a lock holder's status sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    const opened = await openRunbook(run, {
      schema: ScaleGroupInputSchema,
      input,
      group: (params) => params.group,
      // The fields must fit the group's kind; refused before the lock or any read.
      fix: (params, group) => refuseFieldsOfOtherKind(params, group),
      lock: (params) => (params.dryRun ? undefined : { workflowType: RunbookTypes.scaleGroup, args: [input] }),
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;

    const timeoutMs = params.scaleTimeout;
    const pair = await runStep(run, readGroupStep, { run, group });
    if (pair.blocked) {
      if (params.dryRun) {
        run.plan = planOf(scaleGroupSteps(undefined), { pair, timeoutMs });
        return Outcomes.dryRun;
      }
      throw ApplicationFailure.create({
        type: FailureTypes.GroupBusy,
        nonRetryable: true,
        message: pair.blocked.message,
        details: [pair.blocked.evidence],
      });
    }

    const plan = await runStep(run, decideStep, { pair, params, group });
    const done: ScaleRecord['operations'] = [];
    run.extra.scale = { direction: plan.direction, target: plan.target, why: describePlan(plan), operations: done };
    for (const note of plan.notes) run.warn(note);

    if (params.dryRun) {
      run.plan = planOf(scaleGroupSteps(plan), { pair, plan, timeoutMs });
      return Outcomes.dryRun;
    }
    if (plan.operations.length === 0) {
      if (isServerGroup(group)) {
        run.skipStep('scale', 'Scale the databases and pools on both servers', describePlan(plan), {
          final: plan.final,
        });
      } else {
        run.skipStep('scale', 'Scale both instances', 'both instances are already at the target: nothing to change', {
          final: plan.final,
        });
      }
      run.rolesAfter = run.rolesBefore;
      return Outcomes.succeeded;
    }

    const context: ScaleRun = { run, group, pair, plan, timeoutMs, done };
    try {
      await run.beforePointOfNoReturn(async () => {
        for (const [index, operation] of plan.operations.entries()) {
          if (run.abortRequested) throw new RunbookAborted('abort received between scaling operations');
          // An operation Azure has accepted runs to its end whatever happens here: follow it there, then heed an abort.
          await CancellationScope.nonCancellable(() => runStep(run, scaleOperationStep(operation, index), context));
        }
      });
    } catch (error) {
      if (error instanceof RunbookAborted) {
        await CancellationScope.nonCancellable(() => reportSizesAfterAbort(run, group, pair, plan, done));
      }
      throw error;
    }

    await runStep(run, verifyScaleStep, context);
    return Outcomes.succeeded;
  });
}
