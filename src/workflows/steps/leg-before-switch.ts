/**
 * The steps of a planned failover leg before its point of no return: scale the secondary up to the primary's size
 * (undone if the leg stops before the failover), then prove with `sp_wait_for_database_copy_sync` that every database
 * is hardened on the secondary.
 */
import { ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import { formatDuration } from '../../domain/durations';
import { FailureTypes } from '../definitions';
import { copySyncWaits } from './activity-presets';
import { groupKindOf } from './group-kind';
import type { LegRun, LegView } from './planned-leg';
import { describeScaleTarget, scaleTargetForSecondary, sizeEvidence } from './member-size';
import { followOperation, scaleBack } from './scale-operations';
import { declareStep } from './step-declaration';

export const scaleSecondaryStep = declareStep<LegView, LegRun>({
  name: 'scale-secondary',
  title: () => "Scale the secondary up to the primary's size before failing over",
  plan: ({ preflight, params }) => {
    if (!preflight) return undefined;
    const { primary, secondary } = preflight;
    const scaleTo = scaleTargetForSecondary(primary, secondary);
    if (!scaleTo) return `none: ${secondary.instance.name} is at least the primary's size`;
    return secondary.serverSide
      ? `scale on ${secondary.instance.name}: ${describeScaleTarget(scaleTo)}, and wait for each (at most ${formatDuration(params.scaleTimeout)})`
      : `scale ${secondary.instance.name} from ${secondary.instance.vCores} to ${scaleTo.vCores} vCores and ` +
          `${secondary.instance.storageSizeInGB} to ${scaleTo.storageSizeInGB} GB, and wait for it (at most ${formatDuration(params.scaleTimeout)})`;
  },
  skip: ({ preflight: { primary, secondary } }) =>
    scaleTargetForSecondary(primary, secondary)
      ? undefined
      : {
          why: "the secondary is at least the primary's size",
          evidence: secondary.serverSide
            ? { secondary: sizeEvidence(secondary), primary: sizeEvidence(primary) }
            : {
                secondary: { vCores: secondary.instance.vCores, storageSizeInGB: secondary.instance.storageSizeInGB },
                primary: { vCores: primary.instance.vCores, storageSizeInGB: primary.instance.storageSizeInGB },
              },
        },
  body: async ({ run, group, params, preflight }, step) => {
    const { primary, secondary } = preflight;
    const target = scaleTargetForSecondary(primary, secondary)!;
    const instanceId = secondary.instance.id;
    const timeoutMs = params.scaleTimeout;
    const kind = groupKindOf(group);
    const started = await kind.startScale(
      instanceId,
      target,
      `scale ${secondary.instance.name} to ${describeScaleTarget(target)}`,
    );
    step.evidence({ instance: secondary.instance.name, from: started.before, to: target, start: started.status });
    if (started.status === 'already-at-target' || !started.trackingId) return;
    const trackingId = started.trackingId;
    if (started.status === 'started') {
      run.addCompensation(
        'scale-secondary',
        `Scale ${secondary.instance.name} back to ${describeScaleTarget(started.before)}`,
        (undo) => scaleBack(kind, undo, instanceId, trackingId, started.before, timeoutMs),
      );
    }
    const end = await followOperation(kind, step, instanceId, trackingId, timeoutMs);
    if (end.state !== 'Succeeded') {
      throw ApplicationFailure.create({
        type: FailureTypes.ScaleFailed,
        nonRetryable: true,
        message:
          `Scaling ${secondary.instance.name} to ${describeScaleTarget(target)} ended ${end.state}` +
          `${end.message ? ` (${end.message})` : ''}; nothing was failed over. Check the operation in the portal, then start again.`,
        details: [{ instance: instanceId, operation: trackingId, state: end.state }],
      });
    }
  },
});

/** Returns the databases whose copy sync returned: the proof that the planned failover loses nothing. */
export const verifySyncStep = declareStep<LegView, LegRun, Set<string>>({
  name: 'verify-sync',
  title: () => 'Wait until every database is hardened on the secondary (sp_wait_for_database_copy_sync)',
  plan: ({ preflight, params }) =>
    preflight &&
    `sp_wait_for_database_copy_sync for ${preflight.links.map((link) => link.database).join(', ')} (at most ${formatDuration(params.syncTimeout)})`,
  body: async ({ group, params, preflight }, step) => {
    const { primary, links } = preflight;
    const timeoutMs = params.syncTimeout;
    const waits = copySyncWaits(timeoutMs);
    const results = await allOrCancelRest(
      links.map(
        (link) => () =>
          waits.waitForCopySync.executeWithOptions({ summary: `copy sync of ${link.database}` }, [
            {
              instance: groupKindOf(group).sqlEndpoint(primary, preflight.group),
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
});

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
