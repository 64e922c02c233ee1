import { ApplicationFailure, CancellationScope, setHandler } from '@temporalio/workflow';
import type { InstanceReading } from '../activities';
import type { ManagedInstanceView, ScaleTarget } from '../domain/azure-state';
import { durationToMs, formatDuration } from '../domain/durations';
import { describeGroupRef, type ResolvedGroup } from '../domain/group-ref';
import { ScaleGroupInputSchema } from '../domain/inputs';
import { normalizeLocation } from '../domain/locations';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type PlanItem,
  type RolesRecord,
  type RunbookReport,
  type ScaleGroupInput,
  type ScaleRecord,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { reads, readsCountingFailures, scaleStartsCountingFailures } from './steps/activity-presets';
import { openRunbook } from './steps/opening';
import { RunbookAborted, RunbookRun, describeFailure, type StepHandle } from './steps/runbook-run';
import { followOperation, type OperationEnd } from './steps/scale-operations';
import {
  describeSize,
  planScale,
  secondaryAtLeastPrimary,
  type InstanceSize,
  type PairMember,
  type PairRole,
  type PlannedScaleOperation,
  type ScalePlan,
} from './steps/scale-plan';

/**
 * **scaleGroup**: scales both managed instances of a failover group to the same `vCores`, `storageSizeInGB` and/or
 * `sku`, in the order that keeps the geo-secondary at least the primary's size throughout: growing, the secondary
 * first; shrinking, the primary first; a request that grows some things and shrinks others runs as an up pass followed
 * by a down pass (see `planScale`). Storage ends equal on both: when `storageSizeInGB` is omitted and the two differ,
 * both go to the larger.
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
      lock: (params) => (params.dryRun ? undefined : { workflowType: RunbookTypes.scaleGroup, args: [input] }),
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;

    const pair = await run.step('read-group', 'Read the roles at both locations and both instances', (step) =>
      readPair(run, group, step),
    );
    if (pair.blocked) {
      if (params.dryRun) {
        run.plan = [{ step: 'read-group', action: `blocked: ${pair.blocked.message} The runbook would stop here.` }];
        return Outcomes.dryRun;
      }
      throw ApplicationFailure.create({
        type: FailureTypes.GroupBusy,
        nonRetryable: true,
        message: pair.blocked.message,
        details: [pair.blocked.evidence],
      });
    }

    const plan = await run.step('plan', 'Decide what each instance ends at and the order of the operations', (step) => {
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
    });
    const timeoutMs = durationToMs(params.scaleTimeout) ?? 0;
    const done: ScaleRecord['operations'] = [];
    run.extra.scale = { direction: plan.direction, target: plan.target, operations: done };
    for (const note of plan.notes) run.warn(note);

    if (params.dryRun) {
      run.plan = planItems(plan, timeoutMs);
      return Outcomes.dryRun;
    }
    if (plan.operations.length === 0) {
      run.skipStep('scale', 'Scale both instances', 'both instances are already at the target: nothing to change', {
        final: plan.final,
      });
      run.rolesAfter = run.rolesBefore;
      return Outcomes.succeeded;
    }

    try {
      await run.beforePointOfNoReturn(async () => {
        for (const [index, operation] of plan.operations.entries()) {
          if (run.abortRequested) throw new RunbookAborted('abort received between scaling operations');
          // An operation Azure has accepted runs to its end whatever happens here: follow it there, then heed an abort.
          await CancellationScope.nonCancellable(() =>
            scaleOperationStep(run, group, pair, plan, operation, index, timeoutMs, done),
          );
        }
      });
    } catch (error) {
      if (error instanceof RunbookAborted) {
        await CancellationScope.nonCancellable(() => reportSizesAfterAbort(run, group, pair, plan, done));
      }
      throw error;
    }

    await run.step('verify', 'Read both instances and check that they are at the target', (step) =>
      verifyStep(run, group, pair, plan, step),
    );
    return Outcomes.succeeded;
  });
}

interface PairReading {
  primary: PairMember;
  secondary: PairMember;
  /** Why the runbook must not scale now (a failover in progress, an operation in flight), with the evidence. */
  blocked?: { message: string; evidence: Record<string, unknown> };
}

function sizeOf(instance: ManagedInstanceView): InstanceSize {
  return { vCores: instance.vCores, storageSizeInGB: instance.storageSizeInGB, skuName: instance.skuName };
}

function memberOf(role: PairRole, location: string, reading: InstanceReading): PairMember {
  return {
    role,
    location,
    instanceId: reading.instance.id,
    instanceName: reading.instance.name,
    size: sizeOf(reading.instance),
  };
}

function instanceEvidence(reading: InstanceReading): Record<string, unknown> {
  return {
    instance: reading.instance.name,
    location: reading.instance.location,
    ...sizeOf(reading.instance),
    provisioningState: reading.instance.provisioningState,
    operationsInFlight: reading.operationsInFlight.map((operation) => ({
      operation: operation.friendlyName ?? operation.operation,
      state: operation.state,
      percentComplete: operation.percentComplete,
    })),
  };
}

async function readRoles(run: RunbookRun, group: ResolvedGroup, summary: string) {
  const roles = await reads.readGroupRoles.executeWithOptions({ summary }, [
    { group, locations: [group.primaryLocation, group.secondaryLocation] },
  ]);
  return roles;
}

async function readPair(run: RunbookRun, group: ResolvedGroup, step: StepHandle): Promise<PairReading> {
  const roles = await readRoles(run, group, `read ${group.name} at both locations`);
  step.evidence({ roles: roles.summary.detail, groupStatus: roles.summary.status });
  const { summary } = roles;
  const instanceIds = [
    ...new Set(roles.views.flatMap((view) => [view.primaryManagedInstanceId, view.partnerManagedInstanceId])),
  ].filter(Boolean);
  const instances = await reads.readInstances.executeWithOptions({ summary: 'read both managed instances' }, [
    { instanceIds },
  ]);
  const at = (location: string | undefined): InstanceReading | undefined =>
    location ? instances.instances.find((entry) => normalizeLocation(entry.instance.location) === location) : undefined;
  const primaryReading = at(summary.primaryLocation) ?? at(group.primaryLocation);
  const secondaryReading = at(summary.secondaryLocation) ?? at(group.secondaryLocation);
  if (!primaryReading || !secondaryReading) {
    throw ApplicationFailure.create({
      type: FailureTypes.GroupNotFound,
      nonRetryable: true,
      message:
        `Group ${group.displayName} does not name one managed instance at each of its locations ` +
        `(read: ${instances.instances.map((entry) => `${entry.instance.name} in ${entry.instance.location}`).join(', ') || 'none'}). ` +
        'Nothing was changed. Check the group in the portal.',
      details: [{ roles: roles.views, instanceIds }],
    });
  }
  const primaryLocation = summary.primaryLocation ?? group.primaryLocation;
  const secondaryLocation = summary.secondaryLocation ?? group.secondaryLocation;
  const primary = memberOf('primary', primaryLocation, primaryReading);
  const secondary = memberOf('secondary', secondaryLocation, secondaryReading);
  step.evidence({ primary: instanceEvidence(primaryReading), secondary: instanceEvidence(secondaryReading) });

  if (!summary.consistent || summary.status === 'failover-in-progress') {
    step.evidence({ blocked: 'failover in progress or roles inconsistent' });
    return {
      primary,
      secondary,
      blocked: {
        message:
          `A failover of ${group.displayName} is in progress, or its locations disagree about the roles ` +
          `(${summary.detail}); nothing was changed. Scaling now could shrink the instance about to become primary. ` +
          'Wait until the group reads one Primary and one Secondary again (readinessCheck shows it), then start ' +
          'scaleGroup again: it scales in the order the roles have then.',
        evidence: { roles: roles.views, summary },
      },
    };
  }
  run.rolesBefore = { primary: primaryLocation, secondary: secondaryLocation };

  const busy = [
    { role: 'primary', reading: primaryReading },
    { role: 'secondary', reading: secondaryReading },
  ].filter((entry) => entry.reading.operationsInFlight.length > 0);
  if (busy.length > 0) {
    step.evidence({ blocked: 'management operation in flight' });
    const described = busy
      .map(({ role, reading }) => {
        const operation = reading.operationsInFlight[0]!;
        return (
          `${reading.instance.name} (${role}, ${reading.instance.location}) is busy with ` +
          `"${operation.friendlyName ?? operation.operation}" (${operation.state}, ${operation.percentComplete ?? 0}%)`
        );
      })
      .join('; ');
    return {
      primary,
      secondary,
      blocked: {
        message:
          `${described}. Azure refuses a scale while another management operation runs; nothing was changed. ` +
          `Wait for it to end (\`az sql mi op list -g ${group.resourceGroup} --mi <instance>\` shows it), then start ` +
          'scaleGroup again.',
        evidence: { busy: busy.map(({ role, reading }) => ({ role, ...instanceEvidence(reading) })) },
      },
    };
  }
  return { primary, secondary };
}

function describePlan(plan: ScalePlan): string {
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

function planItems(plan: ScalePlan, timeoutMs: number): PlanItem[] {
  const items: PlanItem[] = [{ step: 'plan', action: [describePlan(plan), ...plan.notes].join('. ') }];
  for (const operation of plan.operations) {
    items.push({
      step: operation.step,
      action:
        `scale ${operation.instanceName} (${operation.role}, ${operation.location}) from ${describeSize(operation.from)} ` +
        `to ${describeSize(operation.to)}, and wait for it to end (at most ${formatDuration(timeoutMs)})`,
    });
  }
  if (plan.operations.length > 0) {
    items.push({ step: 'verify', action: 'read both instances and check that they are at the target' });
  }
  return items;
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

async function scaleOperationStep(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  operation: PlannedScaleOperation,
  index: number,
  timeoutMs: number,
  done: ScaleRecord['operations'],
): Promise<void> {
  const title =
    `Scale the ${operation.role} ${operation.instanceName} (${operation.location}) from ` +
    `${describeSize(operation.from)} to ${describeSize(operation.to)}`;
  await run.step(operation.step, title, async (step) => {
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
    let started;
    try {
      started = await scaleStartsCountingFailures.startInstanceScale.executeWithOptions(
        { summary: `scale ${operation.instanceName} to ${describeSize(operation.to)}` },
        [{ instanceId: operation.instanceId, target }],
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
        run,
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
  });
}

/** Between operations: the primary must still be where the plan assumed, or the order would be wrong. */
async function checkRolesUnchanged(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  operation: PlannedScaleOperation,
  done: ScaleRecord['operations'],
): Promise<void> {
  const roles = await readRoles(run, group, 'check the roles before the next operation');
  const { summary } = roles;
  if (
    summary.consistent &&
    summary.status !== 'failover-in-progress' &&
    summary.primaryLocation === pair.primary.location
  )
    return;
  throw await stoppedFailure(run, group, pair, plan, done, {
    type: FailureTypes.GroupBusy,
    what:
      `The roles of ${group.displayName} changed while scaling (now: ${summary.detail}); stopped before scaling ` +
      `${operation.instanceName}, because the planned order assumed ${pair.primary.location} primary.`,
    operation,
    details: [{ roles: roles.views }],
    restartAdvice:
      'Once the group reads one Primary and one Secondary again, start scaleGroup again with the same input: it ' +
      'plans the order for the roles as they are then.',
  });
}

interface StopReason {
  type: string;
  what: string;
  operation: PlannedScaleOperation;
  details: unknown[];
  stillRunning?: boolean;
  restartAdvice?: string;
}

/** Reads both instances as they are now, for a message that says where each stands. */
async function sizesNow(
  run: RunbookRun,
  pair: PairReading,
): Promise<{ text: string; sizes?: Record<PairRole, InstanceSize> }> {
  try {
    const reading = await readsCountingFailures.readInstances.executeWithOptions(
      { summary: 'read both instances after stopping' },
      [{ instanceIds: [pair.primary.instanceId, pair.secondary.instanceId] }],
    );
    const find = (member: PairMember) =>
      reading.instances.find((entry) => entry.instance.id.toLowerCase() === member.instanceId.toLowerCase());
    const primary = find(pair.primary);
    const secondary = find(pair.secondary);
    if (!primary || !secondary) return { text: 'the sizes could not be read' };
    const sizes = { primary: sizeOf(primary.instance), secondary: sizeOf(secondary.instance) };
    const line = (member: PairMember, found: InstanceReading, size: InstanceSize) =>
      `${member.instanceName} (${member.role}, ${member.location}) is at ${describeSize(size)}` +
      (found.operationsInFlight.length > 0 ? ' with an operation still running' : '');
    return {
      text: `${line(pair.primary, primary, sizes.primary)}; ${line(pair.secondary, secondary, sizes.secondary)}`,
      sizes,
    };
  } catch (error) {
    return { text: `the sizes could not be read (${describeFailure(error).message})` };
  }
}

/** The operations of this run that completed (`done` holds them in plan order), for people. */
function describeDone(plan: ScalePlan, done: ScaleRecord['operations']): string {
  const completed = plan.operations.filter(
    (_, index) => done[index]?.state === 'Succeeded' || done[index]?.state === 'AlreadyAtTarget',
  );
  if (completed.length === 0) return 'No operation of this run completed.';
  return (
    'Completed in this run and left as they are (there is no automatic rollback): ' +
    `${completed.map((operation) => `${operation.instanceName} → ${describeSize(operation.to)}`).join(', ')}.`
  );
}

/**
 * The failure a stopped run ends with, saying where each instance stands now. Nothing is rolled back: undoing a completed
 * operation is another operation of up to hours that can fail the same way, and the order already guarantees that the
 * pair is safe where it stopped (the secondary at least the primary's size), so a person decides: finish, or go back.
 */
async function stoppedFailure(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  done: ScaleRecord['operations'],
  reason: StopReason,
): Promise<ApplicationFailure> {
  const now = await CancellationScope.nonCancellable(() => sizesNow(run, pair));
  const safety = now.sizes
    ? secondaryAtLeastPrimary(now.sizes.primary, now.sizes.secondary)
      ? 'The secondary is at least the primary’s size, so the pair is safe to fail over as it stands.'
      : 'Warning: the secondary is now smaller than the primary in some dimension; scale it before any failover.'
    : '';
  const next =
    reason.restartAdvice ??
    (reason.stillRunning
      ? `Wait for the operation to end (\`az sql mi op list -g ${group.resourceGroup} --mi ${reason.operation.instanceName}\`), ` +
        'then start scaleGroup again with the same input to finish (instances already at the target are left alone), ' +
        'or with the old size to go back.'
      : 'Find the cause in the operation’s error (portal, or `az sql mi op list`), then start scaleGroup again with the ' +
        'same input to finish (instances already at the target are left alone), or with the old size to go back; ' +
        'either way it orders the operations safely.');
  const message = `${reason.what} Now: ${now.text}. ${describeDone(plan, done)} ${safety} ${next}`
    .replace(/\s+/g, ' ')
    .trim();
  return ApplicationFailure.create({
    type: reason.type,
    nonRetryable: true,
    message,
    details: [...reason.details, { sizesNow: now.sizes, plannedFinal: plan.final }],
  });
}

async function reportSizesAfterAbort(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  done: ScaleRecord['operations'],
): Promise<void> {
  await run.step('read-after-abort', 'Read both instances after the abort', async (step) => {
    const now = await sizesNow(run, pair);
    step.evidence({ sizes: now.sizes, operationsDone: done.length, operationsPlanned: plan.operations.length });
    const remaining = plan.operations.slice(done.length).map((operation) => operation.step);
    run.warn(
      `Aborted by ${run.abort?.by ?? 'someone'} after ${done.length} of ${plan.operations.length} scaling operations` +
        `${remaining.length ? ` (not started: ${remaining.join(', ')})` : ''}. Now: ${now.text}. ${describeDone(plan, done)} ` +
        `To finish, start scaleGroup on ${group.displayName} again with the same input.`,
    );
  });
}

async function verifyStep(
  run: RunbookRun,
  group: ResolvedGroup,
  pair: PairReading,
  plan: ScalePlan,
  step: StepHandle,
): Promise<void> {
  const roles = await readRoles(run, group, 'read the roles after scaling');
  if (roles.summary.consistent) {
    run.rolesAfter = { primary: roles.summary.primaryLocation!, secondary: roles.summary.secondaryLocation! };
  }
  const now = await sizesNow(run, pair);
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
