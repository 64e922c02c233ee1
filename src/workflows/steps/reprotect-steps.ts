/**
 * The steps of `reprotect`: find the surviving primary of a group whose other region is lost, check the new pair
 * (the survivor and an instance in a third region), wait for a person's approval, delete the broken group on the
 * surviving side, and establish the new group as a child `establishGroup`.
 */
import { ApplicationFailure, executeChild, sleep, workflowInfo } from '@temporalio/workflow';
import type { NewGroupResolution } from '../../activities';
import { formatDuration } from '../../domain/durations';
import type { ResolvedGroup } from '../../domain/group-ref';
import {
  FailureTypes,
  RunbookTypes,
  TransientFailureTypes,
  type EstablishGroupInput,
  type ReprotectParams,
  type RunbookReport,
} from '../definitions';
import { groupChanges, partnerReads, reads } from './activity-presets';
import type { Decision } from './approval';
import { awaitDecisionStep } from './decision-step';
import { describeFailure, type RunbookRun } from './runbook-run';

/** What a read of a region in an outage ends with: no answer, within the retries. */
const OUTAGE_TYPES = new Set<string>([TransientFailureTypes.ArmUnavailable, 'Timeout', FailureTypes.AzureUnavailable]);

/** How long the deletion of the broken group may take before the run stops following it. */
export const DELETE_TIMEOUT_MS = 30 * 60_000;

/** The group's surviving side: the location that answers Primary, its instance, and what the lost side said. */
export interface Survivor {
  location: string;
  lostLocation: string;
  instanceId: string;
  /** The lost location's answer, or why it gave none. */
  lostSide: string;
}

/**
 * Reads the group at both locations; the survivor is the one that answers Primary. Refuses (`PreflightFailed`, nothing
 * changed) a group with no surviving primary (fail over first) and a healthy group (both regions answer, synchronizing:
 * nothing is lost, and reprotect would delete a working pair).
 */
export function findSurvivorStep(run: RunbookRun, group: ResolvedGroup, stepName = 'find-survivor'): Promise<Survivor> {
  return run.step(stepName, `Find the surviving primary of ${group.displayName}`, async (step) => {
    const locations = [group.primaryLocation, group.secondaryLocation];
    const answers = await Promise.all(
      locations.map(async (location) => {
        try {
          const reading = await partnerReads.readGroupRoles.executeWithOptions(
            { summary: `read the group at ${location}` },
            [{ group, locations: [location] }],
          );
          return { location, view: reading.views[0] };
        } catch (error) {
          const failure = describeFailure(error);
          return { location, error: failure.message, outage: OUTAGE_TYPES.has(failure.type) };
        }
      }),
    );
    step.evidence({
      answers: answers.map((answer) =>
        answer.view
          ? { location: answer.location, role: answer.view.replicationRole, state: answer.view.replicationState }
          : { location: answer.location, error: answer.error ?? null },
      ),
    });
    const primaries = answers.filter((answer) => answer.view?.replicationRole.toLowerCase() === 'primary');
    const refuse = (message: string) =>
      ApplicationFailure.create({ type: FailureTypes.PreflightFailed, nonRetryable: true, message });
    if (primaries.length !== 1) {
      throw refuse(
        `${group.displayName} has ${primaries.length === 0 ? 'no location answering Primary' : 'two locations answering Primary'}; nothing was changed. ` +
          'reprotect rebuilds protection around a surviving primary: fail over to the surviving region first ' +
          `(forcedFailover), then start reprotect again.`,
      );
    }
    const survivor = primaries[0]!;
    const lost = answers.find((answer) => answer !== survivor)!;
    // Only a region that answers nothing, the way an outage does, is lost: any answer means it is there to heal.
    if (lost.view) {
      throw refuse(
        `${lost.location} answers for ${group.displayName} (${lost.view.replicationRole}, ` +
          `${lost.view.replicationState || 'no state'}): its region is not lost, and reprotect would delete a pair ` +
          'that can recover. Nothing was changed. To move the group, use plannedFailover; to wait for it to heal, failback.',
      );
    }
    if (!lost.outage) {
      throw refuse(
        `${lost.location} could not be read (${lost.error}), but not the way an outage fails: nothing was changed. ` +
          'Fix what the error names (permissions, throttling), then start reprotect again.',
      );
    }
    return {
      location: survivor.location,
      lostLocation: lost.location,
      instanceId: survivor.view!.primaryManagedInstanceId,
      lostSide: lost.error ?? 'no answer',
    };
  });
}

/** Resolves the new group: the survivor as its primary, the new instance in a third region as its secondary. */
export function resolveNewPairStep(
  run: RunbookRun,
  params: ReprotectParams,
  group: ResolvedGroup,
  survivor: Survivor,
): Promise<NewGroupResolution> {
  return run.step('resolve-new-pair', 'Resolve the new pair', async (step) => {
    const resolved = await reads.resolveNewGroup.executeWithOptions({ summary: 'resolve the new pair' }, [
      {
        name: params.newName ?? group.displayName,
        primaryInstance: survivor.instanceId,
        secondaryInstance: params.newSecondaryInstance,
        // The group moves to a new pair of regions: the inventory's old ones are no refusal.
        newRegions: true,
      },
    ]);
    const regions = [survivor.location, survivor.lostLocation];
    if (resolved.group.primaryLocation !== survivor.location) {
      throw ApplicationFailure.create({
        type: FailureTypes.PreflightFailed,
        nonRetryable: true,
        message:
          `The surviving primary ${survivor.instanceId} is in ${resolved.group.primaryLocation}, not ${survivor.location} ` +
          'where the group answers Primary: the group and its instances disagree. Nothing was changed.',
      });
    }
    if (regions.includes(resolved.group.secondaryLocation)) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message:
          `newSecondaryInstance: ${params.newSecondaryInstance} is in ${resolved.group.secondaryLocation}, a region of ` +
          `the broken pair (${regions.join(', ')}); name an instance in a third region. Nothing was changed.`,
      });
    }
    step.evidence({ group: { ...resolved.group }, secondaryInstanceId: resolved.secondaryInstanceId });
    return resolved;
  });
}

/** Waits for a person's approval of the deletion (or takes `approval` from the input). */
export function approveDeletionStep(
  run: RunbookRun,
  params: ReprotectParams,
  group: ResolvedGroup,
  survivor: Survivor,
  newPair: NewGroupResolution,
  decision: () => Decision | undefined,
): Promise<void> {
  return awaitDecisionStep(
    run,
    {
      title: `Approve deleting ${group.displayName}`,
      what: `deleting ${group.displayName}`,
      question:
        `approve or reject: delete failover group ${group.displayName} at ${survivor.location} (its partner in ` +
        `${survivor.lostLocation} answers ${survivor.lostSide}), then create ${newPair.group.name} from ` +
        `${survivor.location} to ${newPair.group.secondaryLocation}.`,
      standing: 'nothing was changed.',
      ...(params.approval ? { approval: params.approval } : {}),
      approvalTimeout: params.approvalTimeout,
    },
    decision,
  );
}

/** Deletes the broken group at the survivor's location and follows the deletion to its end. */
export function deleteBrokenGroupStep(run: RunbookRun, group: ResolvedGroup, survivor: Survivor): Promise<void> {
  return run.step('delete-group', `Delete ${group.displayName} at ${survivor.location}`, async (step) => {
    const sent = await groupChanges.sendDeleteGroup.executeWithOptions({ summary: 'delete the broken group' }, [
      { group, location: survivor.location },
    ]);
    step.evidence({ outcome: sent.outcome, trackingId: sent.trackingId ?? null });
    if (sent.outcome === 'absent') return;
    const deadline = Date.now() + DELETE_TIMEOUT_MS;
    for (let polls = 1; ; polls++) {
      // Without the operation's URL, the group is read until it is gone.
      const progress = sent.trackingId
        ? await reads.readFailoverProgress.executeWithOptions({ summary: 'read the deletion' }, [
            { group, trackingId: sent.trackingId },
          ])
        : await groupGone(group, survivor.location);
      step.evidence({ polls, state: progress.state });
      if (progress.state === 'Succeeded') return;
      if (progress.state !== 'InProgress' || Date.now() >= deadline) {
        throw ApplicationFailure.create({
          type: FailureTypes.AzureRequestRejected,
          nonRetryable: true,
          message:
            `The deletion of ${group.displayName} ${progress.state === 'InProgress' ? `did not end within ${formatDuration(DELETE_TIMEOUT_MS)}` : `ended ${progress.state}`}` +
            `${progress.error ? ` (${progress.error.code ?? 'no code'}: ${progress.error.message})` : ''}. Nothing new was ` +
            'created; check the group in the portal, then start reprotect again.',
        });
      }
      await sleep(Math.max(progress.retryAfterMs ?? 0, 5_000));
    }
  });
}

/** The deletion's progress read from the group itself: `Succeeded` once the survivor's location no longer knows it. */
async function groupGone(
  group: ResolvedGroup,
  location: string,
): Promise<{ state: string; retryAfterMs?: number; error?: { code?: string; message: string } }> {
  try {
    await reads.readGroupRoles.executeWithOptions({ summary: 'read the group being deleted' }, [
      { group, locations: [location] },
    ]);
    return { state: 'InProgress' };
  } catch (error) {
    if (describeFailure(error).type === FailureTypes.GroupNotFound) return { state: 'Succeeded' };
    throw error;
  }
}

/** Runs `establishGroup` for the new pair as a child (this run holds the lock it needs) and adopts its report. */
export function establishNewGroupStep(
  run: RunbookRun,
  params: ReprotectParams,
  survivor: Survivor,
  newPair: NewGroupResolution,
): Promise<void> {
  return run.step(
    'establish-group',
    `Establish ${newPair.group.name} toward ${newPair.group.secondaryLocation}`,
    async (step) => {
      const input: EstablishGroupInput = {
        name: params.newName ?? run.groupLabel,
        primaryInstance: survivor.instanceId,
        secondaryInstance: newPair.secondaryInstanceId,
        readWriteFailoverPolicy: params.readWriteFailoverPolicy,
        ...(params.gracePeriodMinutes !== undefined ? { gracePeriodMinutes: params.gracePeriodMinutes } : {}),
        readOnlyFailoverPolicy: params.readOnlyFailoverPolicy,
        secondaryType: params.secondaryType,
        seedingTimeout: params.seedingTimeout,
        requestedBy: `reprotect ${workflowInfo().workflowId}`,
        ...(params.reason ? { reason: params.reason } : {}),
      };
      const workflowId = `${workflowInfo().workflowId}/establish`;
      step.evidence({ child: workflowId });
      let report: RunbookReport;
      try {
        report = await executeChild<(next: EstablishGroupInput) => Promise<RunbookReport>>(
          RunbookTypes.establishGroup,
          { args: [input], workflowId },
        );
      } catch (error) {
        const failure = describeFailure(error);
        throw ApplicationFailure.create({
          type: failure.type,
          nonRetryable: true,
          message:
            `The broken group was deleted; establishing ${newPair.group.name} toward ${newPair.group.secondaryLocation} ` +
            `then failed (${failure.type}: ${failure.message}). ${survivor.location} is primary and unprotected: fix ` +
            `what the error names, then run establishGroup (fogpilot establish ${input.name} --primary ` +
            `${survivor.instanceId} --secondary ${newPair.secondaryInstanceId}).`,
          details: failure.details,
        });
      }
      if (report.establish) run.extra.establish = report.establish;
      if (report.readiness) run.extra.readiness = report.readiness;
      run.gates = report.gates;
      for (const warning of report.warnings) run.warn(warning);
      step.evidence({ outcome: report.outcome, seeding: report.establish?.seeding.endedAt ?? null });
    },
  );
}
