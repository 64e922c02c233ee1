/**
 * The first step of a forced failover: read the group at the secondary's location only (the primary's may not
 * answer) and estimate the data at risk from the last replication the secondary saw.
 */
import { ApplicationFailure, deprecatePatch, patched } from '@temporalio/workflow';
import type { ForcedFailoverParams } from '../../domain/inputs';
import { partnerOf, type ResolvedGroup } from '../../domain/group-ref';
import { normalizeLocation } from '../../domain/locations';
import type { DatabaseReplicationLink, FailoverGroupView, ManagedInstanceView } from '../../domain/azure-state';
import { FailureTypes, type DataLossEstimate } from '../definitions';
import { checks } from './activity-presets';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';
import { memberAt, readTargetOnly, readsPrimary } from './target-side';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import { FORCED_FAILOVER_ESTIMATE_PATCH, describeDataLossEstimate, readDataLossEstimate } from './data-loss-estimate';

/** The estimate's SQL read: short, since an unanswered one only leaves the estimate unknown. */
const estimateReads = checks;

/** What the secondary's side of the group looked like before anything was sent. */
export interface Assessment {
  view: FailoverGroupView;
  target: string;
  from: string;
  targetInstance: ManagedInstanceView;
  /** Where the target answers SQL, as the group's kind builds it. */
  targetEndpoint: SqlInstanceTarget;
  databases: string[];
  estimate: DataLossEstimate;
}

/**
 * Deprecated patch: a group still seeding is refused before the approval wait, with nothing sent (Azure would refuse
 * the failover). Runs started before it sent the failover and ended with Azure's refusal; no kept history met a seeding
 * group without the marker, so only the refusal is left.
 */
export const FORCED_FAILOVER_REFUSES_SEEDING_PATCH = 'forced-failover-refuses-seeding';

export async function assess(
  run: RunbookRun,
  group: ResolvedGroup,
  params: ForcedFailoverParams,
  step: StepHandle,
): Promise<Assessment> {
  const target = params.targetLocation ? normalizeLocation(params.targetLocation) : group.secondaryLocation;
  const locations = [group.primaryLocation, group.secondaryLocation];
  if (!locations.includes(target)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        `targetLocation: ${target} is not a location of group ${group.displayName} (${locations.join(', ')}). ` +
        'Name the region that is to become primary, or leave targetLocation out for the home secondary.',
    });
  }
  const from = partnerOf(group, target);
  const { roles, view } = await readTargetOnly(group, target);
  step.evidence({ target, role: view.replicationRole, replicationState: view.replicationState });
  if (roles.summary.status === 'failover-in-progress' && !readsPrimary(view)) {
    throw ApplicationFailure.create({
      type: FailureTypes.GroupBusy,
      nonRetryable: true,
      message:
        `${target} reports a failover in progress (${roles.summary.detail}); nothing was sent. Azure accepts no other ` +
        'failover until it ends: watch it with `fogpilot status`, then start again if the roles did not switch.',
      details: [{ views: roles.views }],
    });
  }
  if (roles.summary.status === 'seeding') {
    deprecatePatch(FORCED_FAILOVER_REFUSES_SEEDING_PATCH);
    throw ApplicationFailure.create({
      type: FailureTypes.PreflightFailed,
      nonRetryable: true,
      message:
        `${group.displayName} is still seeding (${roles.summary.detail}): ${target} does not hold a full copy of the ` +
        'databases yet and Azure accepts no failover, forced or planned, until seeding completes; nothing was sent. ' +
        'Wait for seeding to finish (`fogpilot status` shows Synchronizing), then start again.',
      details: [{ views: roles.views }],
    });
  }
  const { member, endpoint: targetEndpoint } = await memberAt(group, view, target);
  const targetInstance = member.instance;
  if (patched(FORCED_FAILOVER_ESTIMATE_PATCH)) {
    const { estimate, databases } = await readDataLossEstimate(run, step, {
      group,
      view,
      targetInstance,
      targetEndpoint,
    });
    return { view, target, from, targetInstance, targetEndpoint, databases, estimate };
  }
  // The estimate only informs the person approving: a SQL read that fails must not stand in the way of the failover.
  let links: { links: DatabaseReplicationLink[] };
  try {
    links = await estimateReads.readReplicationLinks.executeWithOptions(
      { summary: `replication links on ${targetInstance.name}` },
      [{ instance: targetEndpoint }],
    );
  } catch (error) {
    const reason = describeFailure(error).message;
    step.evidence({ instance: targetInstance.name, linksUnreadable: reason });
    run.warn(
      `The replication links on ${targetInstance.name} could not be read (${reason}): the loss is not estimated.`,
    );
    return {
      view,
      target,
      from,
      targetInstance,
      targetEndpoint,
      databases: [],
      estimate: { basis: `the links on ${targetInstance.name} could not be read: ${reason}`, databases: [] },
    };
  }
  const readAt = Date.now();
  const databases = links.links.map((link) => ({
    database: link.database,
    lagSeconds: link.lagSeconds,
    lastReplication: link.lastReplication,
  }));
  const ages = databases
    .map((entry) => (entry.lastReplication ? (readAt - Date.parse(entry.lastReplication)) / 1000 : undefined))
    .filter((age): age is number => age !== undefined && Number.isFinite(age));
  const knownLags = databases.map((entry) => entry.lagSeconds).filter((lag): lag is number => typeof lag === 'number');
  const estimate: DataLossEstimate =
    knownLags.length > 0
      ? {
          seconds: Math.max(...knownLags),
          basis: `the replication lag ${targetInstance.name} reported`,
          databases,
        }
      : ages.length > 0
        ? {
            seconds: Math.round(Math.max(0, ...ages) * 10) / 10,
            basis:
              `the time since ${targetInstance.name} last hardened a transaction (an upper bound: it also counts the ` +
              'time since the primary stopped)',
            databases,
          }
        : { basis: `${targetInstance.name} reported no replication times: the loss cannot be estimated`, databases };
  step.evidence({ instance: targetInstance.name, databases, estimate: describeDataLossEstimate(estimate) });
  return {
    view,
    target,
    from,
    targetInstance,
    targetEndpoint,
    databases: links.links.map((link) => link.database),
    estimate,
  };
}
