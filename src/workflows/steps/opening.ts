/**
 * The opening every runbook shares: validate the input, record who asked and why, resolve the group, fix what the run
 * is to do before it reads anything (its intent), and take the group's lock — or, when this run does not hold it, run
 * the rest as the lock holder under the lock id and end with its report (see `runUnderGroupLock`).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { z } from 'zod';
import { isServerGroup, serverLocations, type GroupRef, type ResolvedGroup } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import { RunbookTypes } from '../definitions';
import { FailureTypes, type Outcome, type RunbookReport } from '../definitions';
import { holdsGroupLock, runUnderGroupLock, type GroupLockOptions } from './group-lock';
import { refuseUnsupportedKind } from './kind-guard';
import { groupKindOf } from './group-kind';
import { resolveGroupStep } from './resolve';
import type { RunbookRun } from './runbook-run';

/** How a run that does not hold the group's lock runs under it: this workflow again, as a child under the lock id. */
export interface LockRequest {
  workflowType: string;
  args: unknown[];
  options?: GroupLockOptions;
  /**
   * For a run that may stand aside when another runbook holds the group (a scheduled drill): the outcome it ends with
   * then, instead of failing `GroupBusy`.
   */
  whenBusy?: (busy: ApplicationFailure) => Outcome;
}

export interface RunbookOpening<S extends z.ZodType, G extends GroupRef | undefined, F> {
  schema: S;
  input: unknown;
  /** The group the run is about; absent for a run over many groups (a fleet, a check of the whole inventory). */
  group?: (params: z.output<S>) => G;
  /** What the run fixes from its input and group before it reads anything (the region it is to make primary). */
  fix?: (params: z.output<S>, group: ResolvedGroup) => F;
  /**
   * Called when this run does not hold the group's lock: how it takes it, or undefined to run without it (dry runs,
   * read-only runbooks). It may throw to end the run before the lock holder starts.
   */
  lock?: (params: z.output<S>, fixed: F | undefined) => LockRequest | undefined;
}

/** The run is opened: its input, its group and what it fixed. */
export interface Opened<P, G, F> {
  params: P;
  group: G;
  fixed: F;
}

/** The run has ended in its opening: the lock holder's report, or the outcome of a run that stood aside. */
export interface EndedInOpening {
  ended: RunbookReport | Outcome;
}

/**
 * Opens `run` as `opening` says. `group` is the resolved group (undefined only when the opening names none); `fixed`
 * what `opening.fix` returned. Fails `InvalidInput` at once on input that does not validate.
 */
export async function openRunbook<S extends z.ZodType, G extends GroupRef | undefined = undefined, F = undefined>(
  run: RunbookRun,
  opening: RunbookOpening<S, G, F>,
): Promise<Opened<z.output<S>, G extends GroupRef ? ResolvedGroup : ResolvedGroup | undefined, F> | EndedInOpening> {
  type Group = G extends GroupRef ? ResolvedGroup : ResolvedGroup | undefined;
  const params = run.validateInput(opening.schema, opening.input);
  const asked = params as { requestedBy?: string; reason?: string; dryRun?: boolean };
  run.requestedBy = asked.requestedBy;
  run.reason = asked.reason;
  const ref = opening.group?.(params);
  if (ref === undefined) return { params, group: undefined as Group, fixed: undefined as F };
  const resolved = await resolveGroupStep(run, ref);
  // A runbook not made for the group's kind refuses it before it reads or changes anything (no command when it is).
  refuseUnsupportedKind(run.runbook, resolved, 'group');
  const group = await pairedForTarget(run, resolved, (params as { targetLocation?: string }).targetLocation);
  const fixed = opening.fix?.(params, group) as F;
  if (!holdsGroupLock(group)) {
    const request = opening.lock?.(params, fixed);
    if (request) {
      try {
        return { ended: await runUnderGroupLock(run, group, request.workflowType, request.args, request.options) };
      } catch (error) {
        if (!request.whenBusy || !isGroupBusy(error)) throw error;
        return { ended: request.whenBusy(error) };
      }
    }
  }
  // The run that does the work tells of it: never a dry run, nor a starter that delegated (its lock holder does).
  if (holdsGroupLock(group) && asked.dryRun !== true) {
    run.notifier.enabled = true;
    await run.notifier.notify('started', {
      message: `${run.runbook} of ${group.displayName} started${asked.requestedBy ? ` by ${asked.requestedBy}` : ''}`,
      ...(asked.reason ? { details: { reason: asked.reason } } : {}),
    });
  }
  return { params, group, fixed };
}

/** Whether `error` is the `GroupBusy` failure of a lock held by another runbook. */
export function isGroupBusy(error: unknown): error is ApplicationFailure {
  return error instanceof ApplicationFailure && error.type === FailureTypes.GroupBusy;
}

/** Runbooks that fail a group over: with several secondaries, which one is to become primary must be named. */
const FAILING_OVER: readonly string[] = [
  RunbookTypes.plannedFailover,
  RunbookTypes.forcedFailover,
  RunbookTypes.drDrill,
];

/**
 * The pair a run acts on. A server failover group may have several secondaries (`partnerServers[]`); a run works on
 * the server that is primary now and the secondary it targets, found by one read at the target (a secondary's answer
 * names the primary). With several secondaries a failing-over run must name its target: Azure makes whichever
 * secondary the failover is sent to primary, and guessing one is not a decision fogpilot makes. A failback's target is
 * the home primary unless named. Groups of two (every Managed Instance group) are as resolved.
 */
export async function pairedForTarget(
  run: RunbookRun,
  group: ResolvedGroup,
  targetLocation: string | undefined,
): Promise<ResolvedGroup> {
  if (!isServerGroup(group)) return group;
  const locations = serverLocations(group);
  if (locations.length <= 2) return group;
  if (targetLocation === undefined && FAILING_OVER.includes(run.runbook)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: required, because ${group.displayName} has several secondaries (its servers are in ` +
        `${locations.join(', ')}). Nothing was changed. Name the region whose server is to become primary.`,
      details: [{ field: 'targetLocation', locations }],
    });
  }
  const target =
    targetLocation !== undefined
      ? normalizeLocation(targetLocation)
      : run.runbook === RunbookTypes.failback
        ? group.primaryLocation
        : undefined;
  if (target === undefined || !locations.includes(target)) return group;
  const reading = await groupKindOf(group).readRoles(
    group,
    [target],
    `find the primary of ${group.name} from ${target}`,
  );
  const view = reading.views[0];
  if (!view) return group;
  if (view.replicationRole.toLowerCase() !== 'primary') {
    return { ...group, primaryLocation: view.partnerLocation, secondaryLocation: target };
  }
  // The target is primary already: the run finds its intent met; its pair is the target and its home partner.
  const partner = target === group.primaryLocation ? group.secondaryLocation : group.primaryLocation;
  return { ...group, primaryLocation: target, secondaryLocation: partner };
}
