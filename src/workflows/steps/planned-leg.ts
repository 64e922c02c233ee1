/**
 * One planned failover of a group, step by step as an operator would run it: preflight, scale the secondary first,
 * verify sync, fail over (the point of no return), await roles, await writability, post-checks. `plannedFailover`
 * runs it once (and again in reverse for its failback); `failback` runs it toward the home region.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, patched } from '@temporalio/workflow';
import type { FailoverProgressReading, GroupRolesReading, InstanceReading } from '../../activities';
import type { DatabaseReplicationLink } from '../../domain/azure-state';
import { durationToMs, formatDuration, type DurationInput } from '../../domain/durations';
import { groupCommandArgument, partnerOf, type ResolvedGroup } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import { FailureTypes, type DataLossRecord, type FailoverLeg, type GateResult, type PlanItem } from '../definitions';
import { copySyncWaits, reads, readsUntil, scaleStarts } from './activity-presets';
import { ROLE_POLLING, pollUntil, type PollResult } from './poll';
import { evaluatePlannedFailoverGates, secondaryScaleTarget, type PreflightSnapshot } from './preflight';
import { preflightDriftChecks } from './readiness-collect';
import { describeFailure, nowIso, type RunbookRun, type StepHandle } from './runbook-run';
import { followOperation, scaleBack } from './scale-operations';
import { REFUSED_BUSY_IS_NOT_SENT_PATCH, followFailoverOperation, sendFailoverOnce } from './send-failover';
import { awaitDatabasesWritable, sqlTarget } from './await-writable';
import { statesIntent } from './intent';
import { afterSentFailover, sameIntentCommand } from '../../domain/next-steps';

export { sqlTarget };

export interface PlannedLegParams {
  targetLocation?: string;
  maxLagSeconds: number;
  scaleSecondary: 'match' | 'skip';
  roleSwitchTimeout: DurationInput;
  syncTimeout: DurationInput;
  writableTimeout: DurationInput;
  scaleTimeout: DurationInput;
  dryRun: boolean;
}

export interface PlannedLegOptions {
  leg: FailoverLeg['name'];
  /** Prefix of step names: '' for the main leg, 'failback/' for the reverse leg of a plannedFailover. */
  stepPrefix: string;
  /**
   * Called once the preflight gates have passed, before anything is changed (never on a dry run): a drill starts its
   * write probe here, so a drill its gates refuse has written nothing.
   */
  onPreflightPassed?: () => void;
  /**
   * When the old secondary was larger than the old primary, the new secondary is smaller after the switch. `match`
   * scales it up then (with `scaleSecondary: 'match'`), so the way back needs no scaling; `warn` only says so — for a
   * leg that is followed by its own way back (a drill, a failover with `failback`). Default `warn`.
   */
  sizesAfterSwitch?: 'match' | 'warn';
}

/** Runs recorded before a planned leg looked at the sizes after the switch (warning, and scaling with `match`). */
export const SIZES_AFTER_SWITCH_PATCH = 'planned-leg-sizes-after-switch';

/** How long post-checks wait for replication to settle before they only warn. */
const POST_CHECK_TIMEOUT_MS = 10 * 60_000;

function ms(value: DurationInput): number {
  return durationToMs(value) ?? 0;
}

/** What `runPlannedLeg` returns when the target already was primary with the group healthy: nothing was sent. */
export const ALREADY_PRIMARY = 'already-primary';

/** The preflight's finding that the target already is primary and the group synchronizing: nothing to do. */
interface AlreadyPrimaryReading {
  alreadyPrimary: true;
  target: string;
  from: string;
  rolesDetail: string;
}

interface PreflightResult {
  alreadyPrimary?: undefined;
  group: ResolvedGroup;
  snapshot: PreflightSnapshot;
  gates: GateResult[];
  from: string;
  target: string;
  primary: InstanceReading;
  secondary: InstanceReading;
  links: DatabaseReplicationLink[];
}

/**
 * Runs one planned failover leg. Returns the leg (also recorded on the run), `ALREADY_PRIMARY` when the target already
 * was primary with the group synchronizing (nothing sent, on a dry run too), or `undefined` for a dry run.
 */
export async function runPlannedLeg(
  run: RunbookRun,
  group: ResolvedGroup,
  params: PlannedLegParams,
  options: PlannedLegOptions,
): Promise<FailoverLeg | typeof ALREADY_PRIMARY | undefined> {
  const name = (step: string): string => `${options.stepPrefix}${step}`;
  const preflight = await run.step(name('preflight'), 'Read the group at both locations and check every gate', (step) =>
    readAndEvaluate(run, group, params, step),
  );
  if (preflight.alreadyPrimary) {
    const roles = { primary: preflight.target, secondary: preflight.from };
    if (options.leg === 'failover' || !run.rolesBefore) run.rolesBefore = roles;
    run.rolesAfter = roles;
    const why = `${preflight.target} is already primary and the group is synchronizing: nothing to send`;
    if (params.dryRun) {
      run.plan = [...(run.plan ?? []), { step: name('failover'), action: `none: ${why} (outcome alreadyPrimary)` }];
    } else {
      run.skipStep(name('failover'), `Fail over to ${preflight.target}`, why, { roles: preflight.rolesDetail });
    }
    return ALREADY_PRIMARY;
  }
  if (options.leg === 'failover' || !run.rolesBefore) {
    run.rolesBefore = { primary: preflight.from, secondary: preflight.target };
  }
  if (params.dryRun) {
    run.plan = [...(run.plan ?? []), ...planOf(preflight, params, options)];
    return undefined;
  }
  options.onPreflightPassed?.();

  const leg: FailoverLeg = {
    name: options.leg,
    from: preflight.from,
    to: preflight.target,
    failoverSent: false,
    dataLoss: { kind: 'unknown', detail: 'the failover has not been sent' },
  };
  const synced = await run.beforePointOfNoReturn(async () => {
    await scaleSecondaryStep(run, preflight, params, name('scale-secondary'));
    return verifySyncStep(run, preflight, params, name('verify-sync'));
  });

  run.passPointOfNoReturn();
  run.legs.push(leg);
  // From here the runbook finishes what it sent before it heeds an abort or a cancellation.
  await CancellationScope.nonCancellable(async () => {
    leg.requestedAt = nowIso();
    const requestedAtMs = Date.now();
    const sent = await run.step(
      name('failover'),
      `Send the planned failover to ${leg.to} (the point of no return)`,
      async (step) => {
        const outcome = await sendFailoverOnce(run, step, group, leg.to, 'planned');
        step.evidence({ outcome: outcome.outcome });
        return outcome;
      },
    );
    const sentAtMs = Date.now();
    const busyIsNotSent = patched(REFUSED_BUSY_IS_NOT_SENT_PATCH);
    leg.failoverSent = busyIsNotSent ? sent.byThisRun : sent.outcome !== 'already-primary';
    if (busyIsNotSent && !sent.byThisRun && sent.failoverUnderWay) {
      leg.switchedBy = 'another-operation';
      run.warn(
        sent.outcome === 'refused-busy'
          ? `Azure refused the failover to ${leg.to} (409: another operation runs on the group); this run follows it.`
          : `A failover was already under way on the group; this run sent none and follows it.`,
      );
    }
    if (leg.failoverSent) {
      leg.dataLoss = { kind: 'unknown', detail: 'the failover was sent; the runbook has not yet seen it complete' };
    }
    await awaitRolesStep(
      run,
      group,
      leg,
      params,
      name('await-roles'),
      sent.trackingId,
      busyIsNotSent ? sentAtMs : undefined,
    );
    await awaitWritableStep(run, preflight, params, name('await-writable'));
    leg.allWritableAt = nowIso();
    leg.rtoSeconds = Math.round((Date.now() - requestedAtMs) / 100) / 10;
    leg.dataLoss = dataLossOfPlannedLeg(leg, synced);
  });
  if (run.abortRequested) return leg;

  await postChecksStep(run, group, preflight, name('post-checks'));
  if (leg.failoverSent && patched(SIZES_AFTER_SWITCH_PATCH)) {
    await sizesAfterSwitchStep(run, preflight, params, options, name('scale-new-secondary'));
  }
  return leg;
}

/**
 * After the switch the old primary is the secondary. Smaller than the new primary, it could not carry the load on the
 * way back: say so, and with `match` scale it up now (the secondary first, as a planned failover scales).
 */
async function sizesAfterSwitchStep(
  run: RunbookRun,
  preflight: PreflightResult,
  params: PlannedLegParams,
  options: PlannedLegOptions,
  stepName: string,
): Promise<void> {
  const newPrimary = preflight.secondary.instance;
  const newSecondary = preflight.primary.instance;
  // Scaled up before the switch, the old secondary matched the old primary: the pair is even now.
  if (secondaryScaleTarget(newSecondary, newPrimary) !== undefined) return;
  const target = secondaryScaleTarget(newPrimary, newSecondary);
  if (!target) return;
  const sizes =
    `${newSecondary.name} (now secondary) has ${newSecondary.vCores} vCores / ${newSecondary.storageSizeInGB} GB, ` +
    `${newPrimary.name} (now primary) ${newPrimary.vCores} / ${newPrimary.storageSizeInGB}`;
  const title = "Scale the new secondary up to the new primary's size, ready for the way back";
  if (params.scaleSecondary !== 'match' || options.sizesAfterSwitch !== 'match') {
    run.warn(
      `After the switch the secondary is smaller than the primary: ${sizes}. A failover back would have to scale it ` +
        `up first; \`scaleGroup\` with ${target.vCores} vCores / ${target.storageSizeInGB} GB evens the pair now.`,
    );
    run.skipStep(stepName, title, params.scaleSecondary !== 'match' ? 'scaleSecondary is "skip"' : 'warned only', {
      sizes,
    });
    return;
  }
  const instanceId = newSecondary.id;
  const timeoutMs = ms(params.scaleTimeout);
  try {
    await run.step(stepName, title, async (step) => {
      const started = await scaleStarts.startInstanceScale.executeWithOptions(
        { summary: `scale ${newSecondary.name} to ${target.vCores} vCores / ${target.storageSizeInGB} GB` },
        [{ instanceId, target }],
      );
      step.evidence({ instance: newSecondary.name, from: started.before, to: target, start: started.status });
      if (started.status === 'already-at-target' || !started.trackingId) return;
      const end = await followOperation(run, step, instanceId, started.trackingId, timeoutMs);
      if (end.state !== 'Succeeded') {
        throw ApplicationFailure.create({
          type: FailureTypes.ScaleFailed,
          nonRetryable: true,
          message: `Scaling ${newSecondary.name} ended ${end.state}${end.message ? ` (${end.message})` : ''}`,
        });
      }
    });
  } catch (error) {
    // The failover is done and stays done: a scale that did not finish is for a person to finish, not a failure of it.
    run.warn(
      `The failover is done, but scaling the new secondary up did not finish (${describeFailure(error).message}): ` +
        `${sizes}. Finish it with \`scaleGroup\` (${target.vCores} vCores / ${target.storageSizeInGB} GB).`,
    );
  }
}

async function readAndEvaluate(
  run: RunbookRun,
  group: ResolvedGroup,
  params: PlannedLegParams,
  step: StepHandle,
): Promise<PreflightResult | AlreadyPrimaryReading> {
  const locations = [group.primaryLocation, group.secondaryLocation];
  const roles = await reads.readGroupRoles.executeWithOptions(
    { summary: `read ${group.name} at ${locations.join(' and ')}` },
    [{ group, locations }],
  );
  const target = params.targetLocation
    ? normalizeLocation(params.targetLocation)
    : (roles.summary.secondaryLocation ?? group.secondaryLocation);
  if (!locations.includes(target)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: ${target} is not a location of group ${group.displayName} (${locations.join(', ')}). ` +
        'Name the secondary region, or leave targetLocation out to fail over to the current secondary.',
    });
  }
  const from = partnerOf(group, target);
  if (
    statesIntent() &&
    roles.summary.consistent &&
    roles.summary.primaryLocation === target &&
    roles.summary.status === 'synchronizing'
  ) {
    // The intent is met already; anything else about the group is for a readiness check, not for this run.
    step.evidence({ roles: roles.summary.detail, target, alreadyPrimary: true });
    return { alreadyPrimary: true, target, from, rolesDetail: roles.summary.detail };
  }

  const instanceIds = [
    ...new Set(roles.views.flatMap((view) => [view.primaryManagedInstanceId, view.partnerManagedInstanceId])),
  ];
  const instances = await reads.readInstances.executeWithOptions({ summary: 'read both managed instances' }, [
    { instanceIds },
  ]);
  const at = (location: string | undefined): InstanceReading | undefined =>
    location ? instances.instances.find((entry) => normalizeLocation(entry.instance.location) === location) : undefined;
  const primary = at(roles.summary.primaryLocation);
  const secondary = at(roles.summary.secondaryLocation);

  let links: DatabaseReplicationLink[] | string = 'the primary is not known while the roles disagree';
  if (primary) {
    const reading = await reads.readReplicationLinks.executeWithOptions(
      { summary: `read replication links on ${primary.instance.name}` },
      [{ instance: sqlTarget(primary.instance, group) }],
    );
    links = reading.links;
  }

  const snapshot: PreflightSnapshot = {
    views: roles.views,
    summary: roles.summary,
    targetLocation: target,
    primary,
    secondary,
    links,
    maxLagSeconds: params.maxLagSeconds,
    scaleSecondary: params.scaleSecondary,
  };
  // The gates decide; the drift checks after them only warn.
  const gates = [...evaluatePlannedFailoverGates(snapshot), ...(await preflightDriftChecks(run, group, snapshot))];
  if (!run.gates) run.gates = gates;
  step.evidence({
    roles: roles.summary.detail,
    target,
    gates: gates.map((entry) => ({ name: entry.name, status: entry.status, message: entry.message })),
  });
  const failed = gates.filter((entry) => entry.status === 'fail');
  if (failed.length > 0 && !params.dryRun) {
    throw ApplicationFailure.create({
      type: FailureTypes.PreflightFailed,
      nonRetryable: true,
      message:
        `Preflight failed for ${group.displayName}; nothing was changed. ` +
        failed.map((entry) => `[${entry.name}] ${entry.message}${entry.action ? ` → ${entry.action}` : ''}`).join(' '),
      details: [{ gates }],
    });
  }
  if (!primary || !secondary) {
    // Only a dry run gets here with unknown instances: the failed gates say why.
    return {
      group,
      snapshot,
      gates,
      from,
      target,
      primary: primary ?? secondary!,
      secondary: secondary ?? primary!,
      links: [],
    };
  }
  return { group, snapshot, gates, from, target, primary, secondary, links: typeof links === 'string' ? [] : links };
}

function planOf(preflight: PreflightResult, params: PlannedLegParams, options: PlannedLegOptions): PlanItem[] {
  const prefix = options.stepPrefix;
  const blocked = preflight.gates.filter((entry) => entry.status === 'fail');
  if (blocked.length > 0) {
    return [
      {
        step: `${prefix}preflight`,
        action: `blocked by ${blocked.map((entry) => entry.name).join(', ')}: the runbook would stop here and change nothing`,
      },
    ];
  }
  const { primary, secondary, target, from, links } = preflight;
  const scaleTo = secondaryScaleTarget(primary.instance, secondary.instance);
  return [
    {
      step: `${prefix}scale-secondary`,
      action: scaleTo
        ? `scale ${secondary.instance.name} from ${secondary.instance.vCores} to ${scaleTo.vCores} vCores and ` +
          `${secondary.instance.storageSizeInGB} to ${scaleTo.storageSizeInGB} GB, and wait for it (at most ${formatDuration(ms(params.scaleTimeout))})`
        : `none: ${secondary.instance.name} is at least the primary's size`,
    },
    {
      step: `${prefix}verify-sync`,
      action: `sp_wait_for_database_copy_sync for ${links.map((link) => link.database).join(', ')} (at most ${formatDuration(ms(params.syncTimeout))})`,
    },
    { step: `${prefix}failover`, action: `POST failover at ${target} (planned: synchronous, no data loss)` },
    {
      step: `${prefix}await-roles`,
      action: `poll ARM until ${target} is Primary and ${from} Secondary (at most ${formatDuration(ms(params.roleSwitchTimeout))})`,
    },
    {
      step: `${prefix}await-writable`,
      action: `poll until every database on ${secondary.instance.name} is READ_WRITE (at most ${formatDuration(ms(params.writableTimeout))})`,
    },
    { step: `${prefix}post-checks`, action: 'check that replication is synchronizing again toward the old primary' },
  ];
}

async function scaleSecondaryStep(
  run: RunbookRun,
  preflight: PreflightResult,
  params: PlannedLegParams,
  stepName: string,
): Promise<void> {
  const { primary, secondary } = preflight;
  const target = secondaryScaleTarget(primary.instance, secondary.instance);
  const title = "Scale the secondary up to the primary's size before failing over";
  if (!target) {
    run.skipStep(stepName, title, "the secondary is at least the primary's size", {
      secondary: { vCores: secondary.instance.vCores, storageSizeInGB: secondary.instance.storageSizeInGB },
      primary: { vCores: primary.instance.vCores, storageSizeInGB: primary.instance.storageSizeInGB },
    });
    return;
  }
  const instanceId = secondary.instance.id;
  const timeoutMs = ms(params.scaleTimeout);
  await run.step(stepName, title, async (step) => {
    const started = await scaleStarts.startInstanceScale.executeWithOptions(
      { summary: `scale ${secondary.instance.name} to ${target.vCores} vCores / ${target.storageSizeInGB} GB` },
      [{ instanceId, target }],
    );
    step.evidence({ instance: secondary.instance.name, from: started.before, to: target, start: started.status });
    if (started.status === 'already-at-target' || !started.trackingId) return;
    const trackingId = started.trackingId;
    if (started.status === 'started') {
      run.addCompensation(
        'scale-secondary',
        `Scale ${secondary.instance.name} back to ${started.before.vCores} vCores / ${started.before.storageSizeInGB} GB`,
        (undo) => scaleBack(run, undo, instanceId, trackingId, started.before, timeoutMs),
      );
    }
    const end = await followOperation(run, step, instanceId, trackingId, timeoutMs);
    if (end.state !== 'Succeeded') {
      throw ApplicationFailure.create({
        type: FailureTypes.ScaleFailed,
        nonRetryable: true,
        message:
          `Scaling ${secondary.instance.name} to ${target.vCores} vCores / ${target.storageSizeInGB} GB ended ${end.state}` +
          `${end.message ? ` (${end.message})` : ''}; nothing was failed over. Check the operation in the portal, then start again.`,
        details: [{ instance: instanceId, operation: trackingId, state: end.state }],
      });
    }
  });
}

async function verifySyncStep(
  run: RunbookRun,
  preflight: PreflightResult,
  params: PlannedLegParams,
  stepName: string,
): Promise<Set<string>> {
  const { primary, links } = preflight;
  const timeoutMs = ms(params.syncTimeout);
  return run.step(
    stepName,
    'Wait until every database is hardened on the secondary (sp_wait_for_database_copy_sync)',
    async (step) => {
      const waits = copySyncWaits(timeoutMs);
      const results = await allOrCancelRest(
        links.map(
          (link) => () =>
            waits.waitForCopySync.executeWithOptions({ summary: `copy sync of ${link.database}` }, [
              {
                instance: sqlTarget(primary.instance, preflight.group),
                link: {
                  database: link.database,
                  partnerServer: link.partnerServer,
                  partnerDatabase: link.partnerDatabase,
                },
                timeoutMs,
              },
            ]),
        ),
      );
      step.evidence({
        databases: results.map((result) => ({
          database: result.database,
          partner: `${result.partnerServer}/${result.partnerDatabase}`,
          waitedMs: result.waitedMs,
        })),
      });
      return new Set(results.map((result) => result.database));
    },
  );
}

/** Runs tasks together; when one fails, cancels the others and waits for them before failing. */
async function allOrCancelRest<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const scope = new CancellationScope();
  const running = tasks.map((task) => scope.run(task));
  try {
    return await Promise.all(running);
  } catch (error) {
    scope.cancel();
    await Promise.allSettled(running);
    throw error;
  }
}

async function awaitRolesStep(
  run: RunbookRun,
  group: ResolvedGroup,
  leg: FailoverLeg,
  params: PlannedLegParams,
  stepName: string,
  trackingId: string | undefined,
  /** When the request was answered; absent in runs recorded before the deadline counted from it. */
  sentAtMs: number | undefined,
): Promise<void> {
  const timeoutMs = ms(params.roleSwitchTimeout);
  const ours = leg.failoverSent;
  await run.step(stepName, `Wait until ${leg.to} reports Primary and ${leg.from} Secondary`, async (step) => {
    run.setAwaiting('azure', `waiting for ${leg.to} to become primary`);
    const startedAt = Date.now();
    const deadline = sentAtMs === undefined ? undefined : sentAtMs + timeoutMs;
    const timedOut = (detail: string, details: unknown): never => {
      throw ApplicationFailure.create({
        type: FailureTypes.RoleSwitchTimeout,
        nonRetryable: true,
        message:
          `The failover to ${leg.to} was ${ours ? 'requested' : 'under way, started by another operation,'} at ` +
          `${leg.requestedAt}, but after ${formatDuration(timeoutMs)} ${detail}. Azure may still be switching. ` +
          (ours
            ? afterSentFailover(group, { to: leg.to, from: leg.from, kind: 'planned' })
            : 'This run sent no failover: do not send one while that operation runs. See where the group stands with ' +
              `\`fogpilot status ${groupCommandArgument(group)}\`; once it settles, ` +
              `\`${sameIntentCommand(group, { to: leg.to, kind: 'planned' })}\` sends nothing if ${leg.to} is primary.`),
        details: [details],
      });
    };
    if (trackingId) {
      // One read per poll of the operation Azure is running, rather than two of the roles; and a failure shows at once.
      const operation = await followFailoverOperation(
        run,
        step,
        group,
        trackingId,
        deadline === undefined ? timeoutMs : Math.max(deadline - Date.now(), 0),
        'failover',
      );
      if (!('unreadable' in operation)) {
        if (!operation.done)
          timedOut(`Azure still reports the failover operation ${operation.value.state}`, {
            operation: operation.value,
          });
        if (operation.value.state !== 'Succeeded') await failoverFailed(run, group, leg, step, operation.value);
      }
    }
    // Another operation's failover is followed until it ends, wherever it leaves the roles.
    const settled = (reading: GroupRolesReading) =>
      reading.summary.consistent &&
      (reading.summary.primaryLocation === leg.to || (!ours && reading.summary.status !== 'failover-in-progress'));
    const readRoles = (preset: typeof reads) =>
      preset.readGroupRoles.executeWithOptions({ summary: `read roles at ${leg.to} and ${leg.from}` }, [
        { group, locations: [leg.to, leg.from] },
      ]);
    let result: PollResult<GroupRolesReading> | undefined;
    while (!result) {
      try {
        result = await pollUntil({
          // After the POST, reads retry until the deadline rather than for their own budget: a worker outage meanwhile
          // ends in a last look at the roles, not in "Azure unavailable".
          read: () => readRoles(deadline === undefined ? reads : readsUntil(deadline)),
          done: settled,
          timeoutMs:
            deadline === undefined
              ? Math.max(timeoutMs - (Date.now() - startedAt), 60_000)
              : Math.max(deadline - Date.now(), 0),
          interval: ROLE_POLLING,
          retryAfterMs: (reading) => reading.retryAfterMs,
          summary: 'wait for the roles to switch',
          onRead: (reading, poll, elapsedMs) => {
            step.evidence({ polls: poll, elapsedMs, roles: reading.summary.detail });
            step.detail(`poll ${poll}: ${reading.summary.detail}`);
          },
        });
      } catch (error) {
        // Reads bounded by the deadline ran out of time (Temporal stops retrying before a retry would pass it): one
        // more look at the roles, with a read's own budget, decides — or, before the deadline, polling goes on.
        if (deadline === undefined || !(error instanceof ActivityFailure)) throw error;
        step.evidence({ readsUntilDeadline: describeFailure(error).message, lastLook: true });
        const reading = await readRoles(reads);
        step.evidence({ roles: reading.summary.detail });
        if (settled(reading) || Date.now() >= deadline) {
          result = { value: reading, done: settled(reading), polls: 0, elapsedMs: Date.now() - startedAt };
        }
      }
    }
    run.clearAwaiting();
    if (!result.done)
      timedOut(`the roles read: ${result.value.summary.detail}`, { polls: result.polls, roles: result.value.views });
    if (result.value.summary.primaryLocation !== leg.to) {
      throw ApplicationFailure.create({
        type: FailureTypes.FailoverNotSent,
        nonRetryable: true,
        message:
          `Azure refused the failover to ${leg.to}: another operation was running on the group. It has ended with ` +
          `${result.value.summary.detail}. This run sent no failover. Once you know what that operation was, ` +
          `\`${sameIntentCommand(group, { to: leg.to, kind: 'planned' })}\` makes ${leg.to} primary (and sends ` +
          'nothing if it already is).',
        details: [{ roles: result.value.views }],
      });
    }
  });
}

async function failoverFailed(
  run: RunbookRun,
  group: ResolvedGroup,
  leg: FailoverLeg,
  step: StepHandle,
  operation: FailoverProgressReading,
): Promise<never> {
  const roles = await reads.readGroupRoles.executeWithOptions({ summary: 'read the roles after the failed failover' }, [
    { group, locations: [leg.to, leg.from] },
  ]);
  step.evidence({ roles: roles.summary.detail });
  const error = operation.error;
  throw ApplicationFailure.create({
    type: FailureTypes.FailoverFailed,
    nonRetryable: true,
    message:
      `Azure reports the failover to ${leg.to} ended ${operation.state}` +
      `${error ? ` (${error.code ? `${error.code}: ` : ''}${error.message})` : ''}. The roles now read: ${roles.summary.detail}. ` +
      'The failover this run sent has ended and no other is under way. Find the cause (a region health event, the ' +
      `databases' state); then \`${sameIntentCommand(group, { to: leg.to, kind: 'planned' })}\` makes ${leg.to} ` +
      'primary, and sends nothing if it already is.',
    details: [{ operation, roles: roles.views }],
  });
}

async function awaitWritableStep(
  run: RunbookRun,
  preflight: PreflightResult,
  params: PlannedLegParams,
  stepName: string,
): Promise<void> {
  const newPrimary = preflight.secondary.instance;
  await run.step(stepName, `Wait until every database on ${newPrimary.name} is READ_WRITE`, (step) =>
    awaitDatabasesWritable(run, step, {
      instance: sqlTarget(newPrimary, preflight.group),
      instanceName: newPrimary.name,
      expected: preflight.links.map((link) => link.partnerDatabase || link.database),
      timeoutMs: ms(params.writableTimeout),
    }),
  );
}

function dataLossOfPlannedLeg(leg: FailoverLeg, synced: Set<string>): DataLossRecord {
  if (leg.switchedBy === 'another-operation') {
    return {
      kind: 'unknown',
      detail:
        `${leg.to} became primary through another operation, not a failover this run sent after its copy-sync proof: ` +
        'whether that operation lost data is not known here (a forced failover may have).',
    };
  }
  if (!leg.failoverSent) {
    return { kind: 'not-applicable', detail: `${leg.to} was already primary: this runbook sent no failover` };
  }
  return {
    kind: 'none-proven',
    detail:
      "Every database's sp_wait_for_database_copy_sync returned before the planned failover, and Azure runs a planned " +
      'failover synchronously: no committed transaction was lost.',
    databases: [...synced].map((database) => ({ database, evidence: 'copy sync returned before the failover' })),
  };
}

async function postChecksStep(
  run: RunbookRun,
  group: ResolvedGroup,
  preflight: PreflightResult,
  stepName: string,
): Promise<void> {
  const { target, from } = preflight;
  const newPrimary = preflight.secondary.instance;
  await run.step(stepName, 'Check that replication is synchronizing again toward the old primary', async (step) => {
    const roles = await pollUntil({
      read: () =>
        reads.readGroupRoles.executeWithOptions({ summary: 'read roles after the failover' }, [
          { group, locations: [target, from] },
        ]),
      done: (reading) =>
        reading.summary.consistent &&
        reading.summary.primaryLocation === target &&
        reading.summary.status === 'synchronizing',
      timeoutMs: POST_CHECK_TIMEOUT_MS,
      interval: ROLE_POLLING,
      retryAfterMs: (reading) => reading.retryAfterMs,
      summary: 'wait for replication to settle',
    });
    run.rolesAfter = roles.value.summary.consistent
      ? { primary: roles.value.summary.primaryLocation!, secondary: roles.value.summary.secondaryLocation! }
      : run.rolesAfter;
    const links = await reads.readReplicationLinks.executeWithOptions(
      { summary: `replication links on ${newPrimary.name}` },
      [{ instance: sqlTarget(newPrimary, group) }],
    );
    const notReplicating = links.links.filter((link) => link.role.toUpperCase() !== 'PRIMARY');
    step.evidence({
      roles: roles.value.summary.detail,
      groupStatus: roles.value.summary.status,
      links: links.links.map((link) => ({
        database: link.database,
        role: link.role,
        state: link.replicationState,
        lagSeconds: link.lagSeconds,
      })),
    });
    if (!roles.done) {
      run.warn(
        `After the failover the group reads "${roles.value.summary.detail}" rather than synchronizing; check it in the portal.`,
      );
    }
    if (notReplicating.length > 0) {
      run.warn(
        `Databases on the new primary without a primary-side link: ${notReplicating.map((link) => link.database).join(', ')}.`,
      );
    }
  });
}
