import {
  ApplicationFailure,
  ParentClosePolicy,
  condition,
  patched,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
  setHandler,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { FleetFailoverInputSchema, type FleetFailoverParams } from '../domain/inputs';
import { homeIsKnown, partnerOf, type GroupRef, type ResolvedGroup } from '../domain/group-ref';
import { durationToMs, formatDuration } from '../domain/durations';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  abortSignal,
  isRunbookSummary,
  type ActorMessage,
  type FleetFailoverInput,
  type FleetMember,
  type FleetSummary,
  type RunbookReport,
  type RunbookSummary,
  lockHolderStatusSignal,
  statusQuery,
  approveSignal,
  rejectSignal,
} from './definitions';
import { decisionRecord, type Decision } from './steps/approval';
import { reads } from './steps/activity-presets';
import { statesIntent } from './steps/intent';
import { RESULT_SHAPE_MEMO } from './steps/report-summary';
import { openRunbook } from './steps/opening';
import { RunbookRun, describeFailure, nowIso, type StepHandle } from './steps/runbook-run';

/**
 * Runs recorded before the fleet's children returned a summary (their full report stays with them) took each child's
 * whole report into the fleet's history.
 */
export const FLEET_CHILD_SUMMARIES_PATCH = 'fleet-children-return-summaries';

/** One group of the fleet, resolved, with where it is to fail over to. */
interface Candidate {
  ref: GroupRef;
  group: ResolvedGroup;
  target: string;
}

/**
 * **fleetFailover**: fails over a region's worth of groups — every inventory group with a location in `region`, or the
 * `groups` given — as child runbooks (`plannedFailover` or `forcedFailover`), at most `concurrency` at once. Each
 * child runs under its group's lock id, so the fleet never overlaps another runbook on a group; a group already
 * primary outside the region is skipped. In forced mode one approval (signal, or `approval` in the input) covers
 * the fleet, given before any child starts. One group failing does not stop the others; the report lists each
 * group's outcome.
 *
 * ARM throttling is shared: every child's ARM reads go through the worker's per-subscription limiter, and a 429
 * answer is waited out (Retry-After) by the activity that met it.
 *
 * Side effects: those of its children. An abort stops starting children and is forwarded to the running ones.
 *
 * Ends `succeeded` when every group succeeded or was skipped, `partial` when some failed; fails `FleetFailed` when
 * none succeeded, `ApprovalRejected` / `ApprovalTimeout` before any change in forced mode, or `InvalidInput`.
 */
export async function fleetFailover(input: FleetFailoverInput): Promise<RunbookReport> {
  const raw = input as { region?: unknown; groups?: unknown[] } | undefined;
  const label =
    typeof raw?.region === 'string'
      ? `region ${raw.region}`
      : `${Array.isArray(raw?.groups) ? raw.groups.length : 0} group(s)`;
  const run = new RunbookRun(RunbookTypes.fleetFailover, label);

  // Handlers before anything else, so a query, an abort, a lock holder's status or a decision sent early is
  // never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  const decision = decisionRecord();
  setHandler(approveSignal, decision.approve);
  setHandler(rejectSignal, decision.reject);

  return run.execute(async () => {
    // Its groups' locks are taken by the runbooks it starts, one per group.
    const opened = await openRunbook(run, { schema: FleetFailoverInputSchema, input });
    if ('ended' in opened) return opened.ended;
    const { params } = opened;
    const fleet: FleetSummary = {
      mode: params.mode,
      region: params.region,
      concurrency: params.concurrency,
      counts: {},
      members: [],
    };
    run.extra.fleet = fleet;

    const candidates = await run.step('select-groups', 'Select and resolve the groups of the fleet', (step) =>
      selectGroups(run, params, fleet, step),
    );
    await run.step('survey', 'Read each group at its target location and skip those already primary there', (step) =>
      survey(run, candidates, fleet, params.concurrency, step),
    );
    const toRun = candidates.filter(
      (candidate) =>
        fleet.members.find((member) => member.group === candidate.group.displayName)?.outcome === 'not-started',
    );

    let approval: ActorMessage | undefined;
    if (params.mode === 'forced' && !params.dryRun && toRun.length > 0) {
      approval = await run.beforePointOfNoReturn(() =>
        run.step('await-approval', `Wait for one approval covering ${toRun.length} forced failover(s)`, (step) =>
          awaitFleetApproval(run, params, toRun, step, decision),
        ),
      );
    }

    if (!params.dryRun) run.passPointOfNoReturn();
    await run.step('run-children', `Fail over ${toRun.length} group(s), ${params.concurrency} at a time`, (step) =>
      runChildren(run, params, toRun, fleet, approval, step),
    );
    fleet.counts = countOutcomes(fleet.members);
    if (params.dryRun) return Outcomes.dryRun;
    const failed = fleet.members.filter((member) => member.outcome === 'failed' || member.outcome === 'not-started');
    const succeeded = fleet.members.filter((member) => member.outcome === 'succeeded');
    if (run.abortRequested) return Outcomes.abortedAfterFailover;
    if (failed.length === 0) return Outcomes.succeeded;
    for (const member of failed) {
      run.warn(
        `${member.group}: ${member.outcome}${member.error ? ` — ${member.error.type}: ${member.error.message}` : ''}`,
      );
    }
    if (succeeded.length > 0) return Outcomes.partial;
    throw ApplicationFailure.create({
      type: FailureTypes.FleetFailed,
      nonRetryable: true,
      message:
        `No group of the fleet was failed over: ${failed.map((member) => `${member.group} (${member.error?.type ?? member.outcome})`).join(', ')}. ` +
        "Each group's failure is in the report; fix the causes, then run the fleet again (groups already done are skipped).",
    });
  });
}

async function selectGroups(
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
async function survey(
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
      const reading = await reads.readGroupRoles.executeWithOptions(
        { summary: `read ${candidate.group.name} at ${candidate.target}` },
        [{ group: candidate.group, locations: [candidate.target] }],
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

async function awaitFleetApproval(
  run: RunbookRun,
  params: FleetFailoverParams,
  toRun: Candidate[],
  step: StepHandle,
  decision: () => Decision | undefined,
): Promise<ActorMessage> {
  if (params.approval) {
    run.extra.approval = { ...params.approval, at: nowIso(), via: 'input' };
    step.evidence({ approval: run.extra.approval });
    return params.approval;
  }
  const timeoutMs = durationToMs(params.approvalTimeout) ?? 0;
  run.setAwaiting(
    'approval',
    `approve or reject: forced failover (data loss possible) of ${toRun.length} group(s): ` +
      `${toRun.map((candidate) => `${candidate.group.displayName} → ${candidate.target}`).join(', ')}. ` +
      `Waiting at most ${formatDuration(timeoutMs)}.`,
  );
  const decided = await condition(() => decision() !== undefined, timeoutMs);
  run.clearAwaiting();
  const answer = decision();
  if (!decided || !answer) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalTimeout,
      nonRetryable: true,
      message: `Nobody approved the fleet's forced failover within ${formatDuration(timeoutMs)}; nothing was changed.`,
    });
  }
  if (!answer.approved) {
    throw ApplicationFailure.create({
      type: FailureTypes.ApprovalRejected,
      nonRetryable: true,
      message: `${answer.message.by} rejected the fleet's forced failover (${answer.message.reason}); nothing was changed.`,
    });
  }
  run.extra.approval = { ...answer.message, at: answer.at, via: 'signal' };
  step.evidence({ approval: run.extra.approval });
  return answer.message;
}

async function runChildren(
  run: RunbookRun,
  params: FleetFailoverParams,
  toRun: Candidate[],
  fleet: FleetSummary,
  approval: ActorMessage | undefined,
  step: StepHandle,
): Promise<void> {
  const info = workflowInfo();
  // Otherwise a 500-group fleet of 50 databases each carries every child's timeline (about 15 MB of history), and its
  // report lists every database of every group (about 2 MB, Temporal's limit for one payload).
  const summaries = patched(FLEET_CHILD_SUMMARIES_PATCH);
  const running = new Set<ChildWorkflowHandle<() => Promise<RunbookReport | RunbookSummary>>>();
  run.onAbort((message) => {
    for (const child of running) child.signal(abortSignal, message).catch(() => undefined);
  });
  const reason = `fleet ${info.workflowId}${params.reason ? `: ${params.reason}` : ''}`;
  const childType = params.mode === 'forced' ? RunbookTypes.forcedFailover : RunbookTypes.plannedFailover;
  let finished = 0;
  const progress = (): void => {
    fleet.counts = countOutcomes(fleet.members);
    step.evidence({ started: finished + running.size, finished, counts: fleet.counts });
    step.detail(`${finished}/${toRun.length} done, ${running.size} running`);
  };

  await inBatches(toRun, params.concurrency, async (candidate) => {
    const member = fleet.members.find((entry) => entry.group === candidate.group.displayName)!;
    if (run.abortRequested) {
      member.detail = 'not started: the fleet was aborted';
      return;
    }
    const childInput =
      params.mode === 'forced'
        ? {
            group: candidate.ref,
            targetLocation: candidate.target,
            ...(approval ? { approval: { by: approval.by, reason: `fleet approval: ${approval.reason}` } } : {}),
            dryRun: params.dryRun,
            requestedBy: params.requestedBy,
            reason,
          }
        : {
            group: candidate.ref,
            targetLocation: candidate.target,
            maxLagSeconds: params.maxLagSeconds,
            dryRun: params.dryRun,
            requestedBy: params.requestedBy,
            reason,
          };
    // A dry run takes no lock, so it gets its own id; a real child runs under the group's lock id.
    const workflowId = params.dryRun
      ? `${info.workflowId}/dry-run/${candidate.group.lockWorkflowId}`
      : candidate.group.lockWorkflowId;
    member.workflowId = workflowId;
    let child: ChildWorkflowHandle<() => Promise<RunbookReport | RunbookSummary>>;
    try {
      child = await startChild<() => Promise<RunbookReport | RunbookSummary>>(childType, {
        workflowId,
        args: [childInput] as unknown as [],
        taskQueue: info.taskQueue,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `${childType} of ${candidate.group.displayName} for fleet ${info.workflowId}`,
        ...(summaries ? { memo: { [RESULT_SHAPE_MEMO]: 'summary' } } : {}),
      });
    } catch (error) {
      member.outcome = 'failed';
      member.error =
        error instanceof WorkflowExecutionAlreadyStartedError
          ? {
              type: FailureTypes.GroupBusy,
              message: `another runbook holds ${candidate.group.displayName} (${workflowId}); this group was left as it is`,
            }
          : describeFailure(error);
      finished += 1;
      progress();
      return;
    }
    running.add(child);
    // An abort that arrived while this child was starting missed the forwarding above.
    if (run.abort) child.signal(abortSignal, { by: run.abort.by, reason: run.abort.reason }).catch(() => undefined);
    progress();
    try {
      const result = await child.result();
      member.outcome = result.outcome;
      member.rtoSeconds = result.rtoSeconds;
      member.dataLoss = isRunbookSummary(result) ? dataLossOf(result) : result.legs[0]?.dataLoss;
    } catch (error) {
      const failure = describeFailure(error);
      const childResult = failure.details[0] as RunbookReport | RunbookSummary | undefined;
      member.outcome = 'failed';
      member.error = { type: failure.type, message: failure.message };
      member.dataLoss = isRunbookSummary(childResult) ? dataLossOf(childResult) : childResult?.legs?.[0]?.dataLoss;
    } finally {
      running.delete(child);
      finished += 1;
      progress();
    }
  });
}

/** A child's data-loss verdict as the fleet's report lists it: kind and detail (the child's report has the rest). */
function dataLossOf(summary: RunbookSummary): FleetMember['dataLoss'] {
  return summary.dataLoss && { kind: summary.dataLoss.kind, detail: summary.dataLoss.detail };
}

/** Runs `work` over `items`, at most `limit` at a time, in order of the list (deterministic). */
async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const lane = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, lane));
}

function countOutcomes(members: FleetMember[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const member of members) counts[member.outcome] = (counts[member.outcome] ?? 0) + 1;
  return counts;
}
