/**
 * Which groups a fleet failover acts on: the groups of the region (or those given), resolved, each with the location
 * to make primary; then a survey that skips those already primary there, so a fleet run again does only what is left.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { FleetFailoverParams } from '../../domain/inputs';
import { homeIsKnown, partnerOf, type GroupRef, type ResolvedGroup } from '../../domain/group-ref';
import { FailureTypes, type FleetMember, type FleetSummary } from '../definitions';
import { reads } from './activity-presets';
import { groupKindOf } from './group-kind';
import { statesIntent } from './intent';
import { describeFailure, type RunbookRun, type StepHandle } from './runbook-run';

/** One group of the fleet, resolved, with where it is to fail over to. */
export interface Candidate {
  ref: GroupRef;
  group: ResolvedGroup;
  target: string;
}

/** Resolves the fleet's groups (in batches of `concurrency`) and lists each in the fleet report as not started, or failed. */
export async function selectGroups(
  run: RunbookRun,
  params: FleetFailoverParams,
  fleet: FleetSummary,
  step: StepHandle,
): Promise<Candidate[]> {
  let refs: GroupRef[];
  if (params.region) {
    const region = params.region;
    const inventory = await reads.listInventoryGroups.executeWithOptions({ summary: 'list the inventory' }, []);
    refs = inventory.groups
      .filter((entry) => entry.primaryLocation === region || entry.secondaryLocation === region)
      .map((entry) => entry.name);
    if (refs.length === 0) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message:
          `region: no group of the worker's inventory has a location in ${region} ` +
          `(the inventory has ${inventory.groups.length} group(s)). Check the region name, or pass groups explicitly.`,
      });
    }
  } else {
    refs = params.groups!;
  }
  const candidates: Candidate[] = [];
  const intent = statesIntent();
  await inBatches(refs, params.concurrency, async (ref) => {
    try {
      const resolved = await reads.resolveGroup.executeWithOptions({ summary: 'resolve a group of the fleet' }, [ref]);
      const group = resolved.group;
      if (candidates.some((candidate) => candidate.group.lockWorkflowId === group.lockWorkflowId)) return;
      if (intent && !params.region && !homeIsKnown(group)) {
        // Its "home secondary" would be whatever is secondary now: a fleet run twice would swing it back.
        fleet.members.push({
          group: group.displayName,
          outcome: 'failed',
          error: {
            type: FailureTypes.InvalidInput,
            message:
              `${group.displayName} is named by an ARM id the inventory does not know, so its home is not known: ` +
              'nothing was sent. Give the fleet a region to evacuate, or add the group to the inventory.',
          },
        });
        return;
      }
      const target = params.region ? partnerOf(group, params.region) : group.secondaryLocation;
      candidates.push({ ref, group, target });
      fleet.members.push({ group: group.displayName, outcome: 'not-started' });
    } catch (error) {
      const failure = describeFailure(error);
      fleet.members.push({
        group: typeof ref === 'string' ? ref : ref.name,
        outcome: 'failed',
        error: { type: failure.type, message: failure.message },
      });
    }
  });
  step.evidence({ groups: fleet.members.map((member) => member.group), region: params.region });
  return candidates;
}

/** Skips groups already primary at their target, so a repeated fleet run does only what is left. */
export async function survey(
  run: RunbookRun,
  candidates: Candidate[],
  fleet: FleetSummary,
  concurrency: number,
  step: StepHandle,
): Promise<void> {
  await inBatches(candidates, concurrency, async (candidate) => {
    const member = fleet.members.find((entry) => entry.group === candidate.group.displayName)!;
    try {
      // Read at the target only: in a regional outage the other location does not answer.
      const reading = await groupKindOf(candidate.group).readRoles(
        candidate.group,
        [candidate.target],
        `read ${candidate.group.name} at ${candidate.target}`,
        reads,
      );
      if (reading.views[0]?.replicationRole.toLowerCase() === 'primary') {
        member.outcome = 'skipped';
        member.detail = `${candidate.target} is already primary`;
      }
    } catch (error) {
      const failure = describeFailure(error);
      member.outcome = 'failed';
      member.error = { type: failure.type, message: failure.message };
    }
  });
  step.evidence({ counts: countOutcomes(fleet.members) });
}

/** Runs `work` over `items`, at most `limit` at a time, in order of the list (deterministic). */
export async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const lane = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, lane));
}

/** How many members of the fleet ended each way, keyed by outcome. */
export function countOutcomes(members: FleetMember[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const member of members) counts[member.outcome] = (counts[member.outcome] ?? 0) + 1;
  return counts;
}
