/**
 * The course of a managed-instance update (a scale): how long it takes, the steps it goes through, whether it can be
 * cancelled, and what each step's status is at a moment.
 *
 * Durations ("Overview of Azure SQL Managed Instance management operations", section Duration,
 * https://learn.microsoft.com/en-us/azure/azure-sql/managed-instance/management-operations-overview?view=azuresql;
 * ../shared/reference/azure-sql-mi-failover.md "Published durations"): a General Purpose compute or tier change takes
 * minutes to about an hour (95% within 60 min), modelled as `vCoreScaleSeconds`; a storage-only change on General
 * Purpose is quicker (99% within 5 min), `storageScaleSeconds`; a Business Critical update also reseeds the instance's
 * data into its new replicas, at about 220 GB/h (`businessCriticalSeedingGBPerHour`), so it grows with the data
 * (`storageUsedInGB`). The first `operationPendingSeconds` of an update are its `Pending` request validation.
 *
 * Steps and their names are those of the spec's examples (ManagedInstanceOperations.json, GetManagedInstanceOperation:
 * Request validation, Virtual Cluster resize/creation, New SQL Instance Startup, Seeding database files, Preparing
 * Failover and Failover, Old SQL Instance cleanup). Knowingly simplified: the split of a duration over its steps is
 * the emulator's (60/30/10%); a General Purpose storage-only change has two steps, the second named by the emulator.
 *
 * Cancellable ("Canceling Azure SQL Managed Instance management operations", table of operations): every update but a
 * General Purpose storage-only change.
 */
import type { Timings } from '../world-spec';
import type { InstanceState, ManagementOperation, OperationStep } from './state';

/** The size fields `operationParameters` reports. */
export interface SizeParameters {
  vCores: number;
  storageSizeInGB: number;
  tier: string;
  family: string;
}

/** When an update runs, ends, its steps, and whether it can be cancelled. */
export interface UpdatePlan {
  runsAt: number;
  endsAt: number;
  steps: OperationStep[];
  cancellable: boolean;
}

const isBusinessCritical = (tier: string) => tier.toLowerCase() === 'businesscritical';

/** Whether the operation still runs (and holds the instance): Pending, InProgress or CancelInProgress. */
export function isRunning(operation: ManagementOperation): boolean {
  return operation.state === 'Pending' || operation.state === 'InProgress' || operation.state === 'CancelInProgress';
}

/** How an update from `current` to `requested` of `instance` goes, starting at `now`. */
export function planUpdate(
  timings: Timings,
  instance: InstanceState,
  current: SizeParameters,
  requested: SizeParameters,
  now: number,
): UpdatePlan {
  const compute =
    requested.vCores !== current.vCores || requested.tier !== current.tier || requested.family !== current.family;
  const businessCritical = isBusinessCritical(current.tier) || isBusinessCritical(requested.tier);
  const baseMs = (compute ? timings.vCoreScaleSeconds : timings.storageScaleSeconds) * 1000;
  const seedingMs = businessCritical
    ? (instance.storageUsedInGB / timings.businessCriticalSeedingGBPerHour) * 3_600_000
    : 0;
  const pendingMs = Math.min(timings.operationPendingSeconds * 1000, baseMs);
  const workMs = baseMs - pendingMs;
  const runsAt = now + pendingMs;
  const spans: [string, number][] = [['Request validation', pendingMs]];
  if (!compute && !businessCritical) {
    spans.push(['Updating storage', workMs]);
  } else {
    spans.push(['Virtual Cluster resize/creation', workMs * 0.6], ['New SQL Instance Startup', workMs * 0.3]);
    if (businessCritical) spans.push(['Seeding database files', seedingMs]);
    spans.push(['Preparing Failover and Failover', workMs * 0.1], ['Old SQL Instance cleanup', 0]);
  }
  const steps: OperationStep[] = [];
  let at = now;
  for (const [name, ms] of spans) {
    steps.push({ name, startsAt: at, endsAt: at + ms });
    at += ms;
  }
  return { runsAt, endsAt: Math.round(at), steps, cancellable: compute || businessCritical };
}

/** One step as `operationSteps.stepsList` shows it at `now`. */
export interface StepView {
  order: number;
  name: string;
  status: 'NotStarted' | 'InProgress' | 'Completed' | 'Failed' | 'Canceled';
  stepStartTime?: string;
  stepEndTime?: string;
  /** Whole minutes, as a string (as the examples show it). */
  timeElapsed?: string;
}

/** The operation's steps at `now`, and the number of the current one. */
export function stepsAt(operation: ManagementOperation, now: number): { currentStep: number; steps: StepView[] } {
  // A cancelled or failed operation stops where it was when it stopped.
  const stoppedAt =
    operation.cancelRequestedAt ?? (operation.state === 'Failed' ? operation.endsAt : Number.POSITIVE_INFINITY);
  const at = Math.min(now, stoppedAt);
  let failedStep = -1;
  if (operation.state === 'Failed')
    operation.steps.forEach((step, index) => {
      if (step.endsAt > step.startsAt) failedStep = index;
    });
  let currentStep = 1;
  const steps = operation.steps.map((step, index): StepView => {
    const order = index + 1;
    const started = at >= step.startsAt && (failedStep < 0 || index <= failedStep);
    if (!started) return { order, name: step.name, status: 'NotStarted' };
    currentStep = order;
    const done = at >= step.endsAt;
    let status: StepView['status'] = done ? 'Completed' : 'InProgress';
    if (index === failedStep) status = 'Failed';
    else if (!done && operation.state === 'Cancelled') status = 'Canceled';
    return {
      order,
      name: step.name,
      status,
      stepStartTime: new Date(step.startsAt).toISOString(),
      // While a step runs, its end is the estimate (as the examples show for an InProgress step).
      stepEndTime: new Date(step.endsAt).toISOString(),
      timeElapsed: String(Math.floor((Math.min(at, step.endsAt) - step.startsAt) / 60_000)),
    };
  });
  return { currentStep, steps };
}
