/**
 * The steps of `scaleGroup`, each declared once: read the pair, decide the order, one step per operation, verify.
 * `scaleGroup` (scale-group.ts) runs them in order; its dry-run plan is made of them.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ScaleTarget } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import { type ResolvedGroup } from '../../domain/group-ref';
import { FailureTypes, type RolesRecord, type ScaleRecord } from '../definitions';
import { type RunbookRun, describeFailure, type StepHandle } from './runbook-run';
import { followOperation, type OperationEnd } from './scale-operations';
import { describeSize, planScale, type PlannedScaleOperation, type ScalePlan } from './scale-plan';
import type { ScaleGroupParams } from '../../domain/inputs';
import { readPair, readRoles, type PairReading } from './scale-pair';
import { checkRolesUnchanged, sizesNow, stoppedFailure } from './scale-stop';
import { groupKindOf } from './group-kind';
import { scaleStartsCountingFailures } from './activity-presets';
import { declareStep, type PlannedStep } from './step-declaration';

/** What a dry run of `scaleGroup` has read and decided: all its plan is made of. */
export interface ScaleView {
  pair: PairReading;
  /** Absent while the pair is blocked: the runbook stops before it decides. */
  plan?: ScalePlan;
  timeoutMs: number;
}

/** What the scaling steps are given, and what the operations before them completed (in plan order). */
export interface ScaleRun extends ScaleView {
  run: RunbookRun;
  group: ResolvedGroup;
  plan: ScalePlan;
  done: ScaleRecord['operations'];
}

export const readGroupStep = declareStep<ScaleView, { run: RunbookRun; group: ResolvedGroup }, PairReading>({
  name: 'read-group',
  title: () => 'Read the roles at both locations and both instances',
  plan: ({ pair }) =>
    pair.blocked ? { stopsHere: `blocked: ${pair.blocked.message} The runbook would stop here.` } : undefined,
  body: ({ run, group }, step) => readPair(run, group, step),
});

export const decideStep = declareStep<ScaleView, { pair: PairReading; params: ScaleGroupParams }, ScalePlan>({
  name: 'plan',
  title: () => 'Decide what each instance ends at and the order of the operations',
  plan: ({ plan }) => plan && [describePlan(plan), ...plan.notes].join('. '),
  body: ({ pair, params }, step) => {
    const planned = planScale(pair.primary, pair.secondary, {
      vCores: params.vCores,
      storageSizeInGB: params.storageSizeInGB,
      sku: params.sku,
    });
    step.evidence({
      direction: planned.direction,
      why: describePlan(planned),
      target: planned.target,
      final: planned.final,
      operations: planned.operations.map((operation) => ({
        step: operation.step,
        instance: operation.instanceName,
        from: operation.from,
        to: operation.to,
      })),
      notes: planned.notes,
    });
    return Promise.resolve(planned);
  },
});

/** The step of one planned operation: scale one instance and follow the operation to its end. */
export function scaleOperationStep(operation: PlannedScaleOperation, index: number) {
  return declareStep<ScaleView, ScaleRun>({
    name: operation.step,
    title: () =>
      `Scale the ${operation.role} ${operation.instanceName} (${operation.location}) from ` +
      `${describeSize(operation.from)} to ${describeSize(operation.to)}`,
    plan: ({ timeoutMs }) =>
      `scale ${operation.instanceName} (${operation.role}, ${operation.location}) from ${describeSize(operation.from)} ` +
      `to ${describeSize(operation.to)}, and wait for it to end (at most ${formatDuration(timeoutMs)})`,
    body: (context, step) => scaleOperation(context, operation, index, step),
  });
}

export const verifyScaleStep = declareStep<ScaleView, ScaleRun>({
  name: 'verify',
  title: () => 'Read both instances and check that they are at the target',
  plan: ({ plan }) =>
    plan && plan.operations.length > 0 ? 'read both instances and check that they are at the target' : undefined,
  body: verifyScale,
});

/** The steps of `scaleGroup` in the order they run, one per operation of `plan`; its dry-run plan is made of them. */
export function scaleGroupSteps(plan: ScalePlan | undefined): PlannedStep<ScaleView>[] {
  return [readGroupStep, decideStep, ...(plan?.operations ?? []).map(scaleOperationStep), verifyScaleStep];
}

export function describePlan(plan: ScalePlan): string {
  if (plan.operations.length === 0) return 'both instances are already at the target: nothing to change';
  const order = plan.operations.map((operation) => `${operation.step} (${operation.instanceName})`).join(' → ');
  const why =
    plan.direction === 'up'
      ? 'growing: the secondary first, so it is never smaller than the primary'
      : plan.direction === 'down'
        ? 'shrinking: the primary first, so the secondary is never smaller than it'
        : 'some changes grow and some shrink: first every growing change (secondary, then primary), then every ' +
          'shrinking one (primary, then secondary), so the secondary is never smaller than the primary';
  return `${why}: ${order}`;
}

/** What to send for one operation: only the dimensions it changes. */
function targetOf(operation: PlannedScaleOperation): ScaleTarget {
  const target: ScaleTarget = {};
  for (const change of operation.changes) {
    if (change.dimension === 'sku') target.skuName = operation.to.skuName;
    else target[change.dimension] = operation.to[change.dimension];
  }
  return target;
}

async function scaleOperation(
  { run, group, pair, plan, timeoutMs, done }: ScaleRun,
  operation: PlannedScaleOperation,
  index: number,
  step: StepHandle,
): Promise<void> {
  {
    step.evidence({
      instance: operation.instanceName,
      role: operation.role,
      location: operation.location,
      from: operation.from,
      to: operation.to,
      changes: operation.changes.map((change) => `${change.dimension} ${change.from} → ${change.to}`),
    });
    if (index > 0) await checkRolesUnchanged(run, group, pair, plan, operation, done);

    const target = targetOf(operation);
    const kind = groupKindOf(group);
    let started;
    try {
      started = await kind.startScale(
        operation.instanceId,
        target,
        `scale ${operation.instanceName} to ${describeSize(operation.to)}`,
        // A refused request still cost ARM calls, and scaleGroup's report has always counted them.
        scaleStartsCountingFailures,
      );
    } catch (error) {
      const failure = describeFailure(error);
      throw await stoppedFailure(run, group, pair, plan, done, {
        type: failure.type,
        what: `Azure did not accept scaling ${operation.instanceName} (${operation.role}) to ${describeSize(operation.to)}: ${failure.message}`,
        operation,
        details: failure.details,
      });
    }
    step.evidence({ start: started.status, operation: started.trackingId });

    let end: OperationEnd = { state: 'Succeeded', percentComplete: 100 };
    if (started.status !== 'already-at-target' && started.trackingId) {
      end = await followOperation(
        kind,
        step,
        operation.instanceId,
        started.trackingId,
        timeoutMs,
        `scaling ${operation.instanceName}`,
      );
    }
    step.evidence({ state: end.state, percent: end.percentComplete });
    done.push({
      instance: operation.instanceName,
      location: operation.location,
      role: operation.role,
      from: { ...operation.from },
      to: { ...operation.to },
      state: started.status === 'already-at-target' ? 'AlreadyAtTarget' : end.state,
    });
    if (end.state !== 'Succeeded') {
      const ended =
        end.state === 'TimedOut'
          ? `is still running after ${formatDuration(timeoutMs)} (scaleTimeout; ${end.percentComplete ?? 0}% done). ` +
            'It was not cancelled and will go on in Azure'
          : `ended ${end.state}${end.message ? ` (${end.message})` : ''}`;
      throw await stoppedFailure(run, group, pair, plan, done, {
        type: FailureTypes.ScaleFailed,
        what: `Scaling ${operation.instanceName} (${operation.role}, ${operation.location}) to ${describeSize(operation.to)} ${ended}.`,
        operation,
        details: [{ instance: operation.instanceId, operation: started.trackingId, state: end.state }],
        stillRunning: end.state === 'TimedOut',
      });
    }
  }
}

async function verifyScale({ run, group, pair, plan }: ScaleRun, step: StepHandle): Promise<void> {
  const roles = await readRoles(run, group, 'read the roles after scaling');
  if (roles.summary.consistent) {
    run.rolesAfter = { primary: roles.summary.primaryLocation!, secondary: roles.summary.secondaryLocation! };
  }
  const now = await sizesNow(run, group, pair);
  step.evidence({ roles: roles.summary.detail, sizes: now.sizes, expected: plan.final });
  if (!now.sizes) {
    run.warn(`After scaling, ${now.text}; check both instances in the portal.`);
    return;
  }
  const off: string[] = [];
  for (const role of ['primary', 'secondary'] as const) {
    const expected = plan.final[role];
    const actual = now.sizes[role];
    if (
      actual.vCores !== expected.vCores ||
      actual.storageSizeInGB !== expected.storageSizeInGB ||
      actual.skuName.toLowerCase() !== expected.skuName.toLowerCase()
    ) {
      off.push(
        `the ${role} ${pair[role].instanceName} reads ${describeSize(actual)} rather than ${describeSize(expected)}`,
      );
    }
  }
  if (off.length > 0) {
    // Every operation said Succeeded, yet the sizes are not the ones asked for: something else changed them.
    throw ApplicationFailure.create({
      type: FailureTypes.ScaleFailed,
      nonRetryable: true,
      message:
        `Every scaling operation ended Succeeded, but ${off.join(' and ')}. Something else changed the instances ` +
        'meanwhile; check them in the portal, then run scaleGroup again with the size you want.',
      details: [{ expected: plan.final, actual: now.sizes }],
    });
  }
  if (rolesMoved(run.rolesBefore, run.rolesAfter)) {
    run.warn(
      `The roles changed during the run (before: ${run.rolesBefore?.primary} primary; after: ${run.rolesAfter?.primary}).`,
    );
  }
}

function rolesMoved(before: RolesRecord | undefined, after: RolesRecord | undefined): boolean {
  return before !== undefined && after !== undefined && before.primary !== after.primary;
}
