import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { FleetFailoverInputSchema, type FleetFailoverParams } from '../domain/inputs';
import { formatDuration } from '../domain/durations';
import {
  FailureTypes,
  Outcomes,
  RunbookTypes,
  type ActorMessage,
  type FleetFailoverInput,
  type FleetSummary,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { listenForDecisions, type Decision } from './steps/approval';
import { openRunbook } from './steps/opening';
import { countOutcomes, selectGroups, survey, type Candidate } from './steps/fleet-selection';
import { runChildren } from './steps/fleet-children';
import { RunbookRun, nowIso, type StepHandle } from './steps/runbook-run';

export { FLEET_CHILD_SUMMARIES_PATCH } from './steps/fleet-children';

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
  const decision = listenForDecisions(run);

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

    // Decisions are judged against every group this fleet would fail over.
    run.approvalDesk?.judgeHere({
      requester: run.requestedBy,
      groups: toRun.map(({ group }) => ({
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        name: group.name,
      })),
    });
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

async function awaitFleetApproval(
  run: RunbookRun,
  params: FleetFailoverParams,
  toRun: Candidate[],
  step: StepHandle,
  decision: () => Decision | undefined,
): Promise<ActorMessage> {
  const desk = run.approvalDesk;
  if (params.approval) {
    run.extra.approval = desk
      ? desk.preApproval(params.approval, nowIso())
      : { ...params.approval, at: nowIso(), via: 'input' };
    step.evidence({ approval: run.extra.approval });
    return desk ? forChildren(run.extra.approval) : params.approval;
  }
  const timeoutMs = params.approvalTimeout;
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
  run.extra.approval = {
    ...answer.message,
    at: answer.at,
    via: answer.via ?? 'signal',
    ...(answer.via && run.requestedBy !== undefined ? { requestedBy: run.requestedBy } : {}),
  };
  step.evidence({ approval: run.extra.approval });
  return desk ? forChildren(run.extra.approval) : answer.message;
}

/** The fleet's approval as its children's input carries it (`approval.by` holds at most 200 characters). */
function forChildren(approval: ActorMessage): ActorMessage {
  return { by: approval.by.slice(0, 200), reason: approval.reason };
}
