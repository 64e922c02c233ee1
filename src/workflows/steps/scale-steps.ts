/**
 * The steps of `scaleGroup`, each declared once: read the pair, decide the order, one step per operation, verify.
 * `scaleGroup` (scale-group.ts) runs them in order; its dry-run plan is made of them.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ScaleTarget, SqlScaleItem, SqlSku } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import { isServerGroup, type ResolvedGroup } from '../../domain/group-ref';
import { FailureTypes, type RolesRecord, type ScaleRecord } from '../definitions';
import { type RunbookRun, describeFailure, type StepHandle } from './runbook-run';
import { followOperation, type OperationEnd } from './scale-operations';
import {
  describeChange,
  describeSize,
  parseMemberKey,
  planScale,
  sameSqlSize,
  memberSku,
  type InstanceSize,
  type PlannedScaleOperation,
  type ScalePlan,
} from './scale-plan';
import { memberScaleRequest } from './scale-members';
import type { ScaleGroupParams } from '../../domain/inputs';
import { readPair, readRoles, type PairReading } from './scale-pair';
import { checkRolesUnchanged, describeTarget, sizesNow, stoppedFailure } from './scale-stop';
import { groupKindOf } from './group-kind';
import { scaleStartsCountingFailures } from './activity-presets';
import { declareStep, type PlannedStep } from './step-declaration';
import { describeSku } from './member-size';

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
  title: ({ group }) =>
    isServerGroup(group)
      ? 'Read the roles at both locations, and the member databases and pools on both servers'
      : 'Read the roles at both locations and both instances',
  plan: ({ pair }) =>
    pair.blocked ? { stopsHere: `blocked: ${pair.blocked.message} The runbook would stop here.` } : undefined,
  body: ({ run, group }, step) => readPair(run, group, step),
});

export const decideStep = declareStep<
  ScaleView,
  { pair: PairReading; params: ScaleGroupParams; group: ResolvedGroup },
  ScalePlan
>({
  name: 'plan',
  title: ({ group }) =>
    isServerGroup(group)
      ? 'Decide what each database and pool ends at on each server, and the order of the operations'
      : 'Decide what each instance ends at and the order of the operations',
  plan: ({ plan }) => plan && [describePlan(plan), ...plan.notes].join('. '),
  body: ({ pair, params, group }, step) => {
    const serverGroup = isServerGroup(group);
    const planned = planScale(pair.primary, pair.secondary, {
      vCores: params.vCores,
      storageSizeInGB: params.storageSizeInGB,
      sku: params.sku,
      ...(serverGroup ? { members: memberScaleRequest(params, pair, group) } : {}),
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
        ...(serverGroup ? { changes: operation.changes.map(describeChange) } : {}),
      })),
      notes: planned.notes,
    });
    return Promise.resolve(planned);
  },
});

/** The step of one planned operation: scale one instance and follow the operation to its end. */
export function scaleOperationStep(operation: PlannedScaleOperation, index: number) {
  if (operation.to.members) {
    // A server's side: say which databases and pools change, from which SKU to which.
    const changes = operation.changes.map(describeChange).join(', ');
    return declareStep<ScaleView, ScaleRun>({
      name: operation.step,
      title: () =>
        `Scale on the ${operation.role} server ${operation.instanceName} (${operation.location}): ${changes}`,
      plan: ({ timeoutMs }) =>
        `on ${operation.instanceName} (${operation.role}, ${operation.location}) scale ${changes}, and wait for ` +
        `every change to end (at most ${formatDuration(timeoutMs)})`,
      body: (context, step) => scaleOperation(context, operation, index, step),
    });
  }
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
  const servers = plan.final.primary.members !== undefined;
  if (plan.operations.length === 0)
    return servers
      ? 'every database and pool named is already at its target on both servers: nothing to change'
      : 'both instances are already at the target: nothing to change';
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

/** What to send for one operation: only the dimensions it changes (a server's side: only the databases and pools). */
function targetOf(operation: PlannedScaleOperation): ScaleTarget {
  const target: ScaleTarget = {};
  const members: SqlScaleItem[] = [];
  for (const change of operation.changes) {
    if (change.dimension === 'member') {
      const { type, name } = parseMemberKey(change.member!);
      members.push({ type, name, sku: { ...memberSku(operation.to.members, change.member!)! } });
    } else if (change.dimension === 'sku') target.skuName = operation.to.skuName;
    else target[change.dimension] = operation.to[change.dimension];
  }
  if (members.length > 0) target.members = members;
  return target;
}

/**
 * A size as the report records it: a managed instance's as it is; a server's side as its databases' and pools' SKUs
 * (its vCores and storage are not its own).
 */
export function sizeRecord(size: InstanceSize): Record<string, unknown> {
  if (!size.members) return { ...size };
  const record: { databases?: Record<string, unknown>; elasticPools?: Record<string, unknown> } = {};
  for (const [key, sku] of Object.entries(size.members)) {
    const { type, name } = parseMemberKey(key);
    const field = type === 'elasticPool' ? 'elasticPools' : 'databases';
    record[field] = { ...record[field], [name]: { ...sku } };
  }
  return record;
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
      changes: operation.changes.map(describeChange),
    });
    if (index > 0) await checkRolesUnchanged(run, group, pair, plan, operation, done);

    const target = targetOf(operation);
    const kind = groupKindOf(group);
    let started;
    try {
      started = await kind.startScale(
        operation.instanceId,
        target,
        `scale ${operation.instanceName} to ${describeTarget(operation)}`,
        // A refused request still cost ARM calls, and scaleGroup's report has always counted them.
        scaleStartsCountingFailures,
      );
    } catch (error) {
      const failure = describeFailure(error);
      throw await stoppedFailure(run, group, pair, plan, done, {
        type: failure.type,
        what: `Azure did not accept scaling ${operation.instanceName} (${operation.role}) to ${describeTarget(operation)}: ${failure.message}`,
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
      from: sizeRecord(operation.from),
      to: sizeRecord(operation.to),
      ...(operation.to.members ? { step: operation.step, changes: memberChanges(operation) } : {}),
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
        what: `Scaling ${operation.instanceName} (${operation.role}, ${operation.location}) to ${describeTarget(operation)} ${ended}.`,
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
  const servers = isServerGroup(group);
  if (!now.sizes) {
    run.warn(`After scaling, ${now.text}; check both ${servers ? 'servers' : 'instances'} in the portal.`);
    return;
  }
  const off: string[] = [];
  for (const role of ['primary', 'secondary'] as const) {
    const expected = plan.final[role];
    const actual = now.sizes[role];
    if (expected.members) {
      for (const [key, sku] of Object.entries(expected.members)) {
        const read = memberSku(actual.members, key);
        if (read && sameSqlSize(read, sku)) continue;
        const { type, name } = parseMemberKey(key);
        off.push(
          `on the ${role} ${pair[role].instanceName}, ${type === 'elasticPool' ? 'pool' : 'database'} ${name} reads ` +
            `${read ? describeSku(read) : 'nothing'} rather than ${describeSku(sku)}`,
        );
      }
      continue;
    }
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
        `Every scaling operation ended Succeeded, but ${off.join(' and ')}. Something else changed the ` +
        `${servers ? 'databases or pools' : 'instances'} meanwhile; check them in the portal, then run scaleGroup ` +
        `again with the size you want.`,
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

/** The databases and pools an operation changes, each from its SKU to the one asked, for the report. */
function memberChanges(operation: PlannedScaleOperation) {
  return operation.changes
    .filter((change) => change.dimension === 'member')
    .map((change) => {
      const { type, name } = parseMemberKey(change.member!);
      return { type, name, from: change.from as SqlSku, to: change.to as SqlSku, direction: change.direction };
    });
}
