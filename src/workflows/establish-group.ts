import { CancellationScope, setHandler, workflowInfo } from '@temporalio/workflow';
import { EstablishGroupInputSchema } from '../domain/inputs';
import {
  Outcomes,
  RunbookTypes,
  type EstablishGroupInput,
  type EstablishRecord,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import {
  awaitSeedingStep,
  checkPrerequisitesStep,
  createGroupStep,
  groupDefinition,
  readinessStep,
  resolvePairStep,
} from './steps/establish-steps';
import { holdsGroupLock, runUnderGroupLock } from './steps/group-lock';
import { RunbookRun, nowIso } from './steps/runbook-run';

/**
 * **establishGroup**: creates an instance failover group between two managed instances and waits, durably, until it
 * has seeded; then checks its readiness. Every prerequisite is checked first, each with evidence and what to do: both
 * instances ready and in different regions, one DNS zone, an empty secondary, the same tier, vCores and storage (or
 * the plan to match them), neither already in a group, the geo-replication ports (5022, 11000–11999) open both ways
 * between their subnets, the TDE protector known to both, equal collation and time zone, different maintenance
 * windows, and a Standby secondary kept away from reads.
 *
 * Side effects: one PUT of the group at the primary's location, followed as a long-running operation while the
 * primary's databases seed to the secondary (hours to days: the wait continues as new every 25 reads, so its history
 * stays small). States an intent (the group exists between these two instances): when it already does, nothing is
 * sent and the run waits for its seeding. Holds the group's lock. `dryRun` reads and checks only.
 *
 * An abort before the PUT changes nothing; one while seeding stops the wait, and Azure goes on creating the group.
 *
 * Fails with `InvalidInput`, `GroupBusy`, `PreflightFailed` (a prerequisite not met; nothing created),
 * `AzureRequestRejected` (Azure refused the PUT) or `SeedingFailed`.
 */
export async function establishGroup(input: EstablishGroupInput): Promise<RunbookReport> {
  const raw = input as { name?: unknown } | undefined;
  const run = new RunbookRun(RunbookTypes.establishGroup, typeof raw?.name === 'string' ? raw.name : '(no name)');
  // Handlers before anything else, so a query, an abort or a lock holder's status sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    const params = run.validateInput(EstablishGroupInputSchema, input);
    run.requestedBy = params.requestedBy;
    run.reason = params.reason;
    // A reprotect runs this as its child, holding the lock of the group it rebuilds in new regions.
    const parent = workflowInfo().parent?.workflowId;
    const pair = await resolvePairStep(run, params, { newRegions: parent !== undefined });
    const heldByParent = parent === pair.group.lockWorkflowId;
    if (!params.dryRun && !holdsGroupLock(pair.group) && !heldByParent)
      return runUnderGroupLock(run, pair.group, RunbookTypes.establishGroup, [input]);

    const record: EstablishRecord = {
      primaryInstanceId: pair.primaryInstanceId,
      secondaryInstanceId: pair.secondaryInstanceId,
      creation: params.resume?.created ?? 'created',
      ...(params.resume?.trackingId ? { trackingId: params.resume.trackingId } : {}),
      seeding: { since: params.resume?.seedingSince ?? nowIso(), polls: params.resume?.polls ?? 0, databases: [] },
    };
    run.extra.establish = record;

    if (params.resume) {
      const { checkedBy } = params.resume;
      run.gates = params.resume.gates.map((check) => ({ ...check, evidence: { checkedBy: checkedBy ?? null } }));
      run.skipStep('create-group', `Create failover group ${pair.group.name}`, 'done by the run this one continues', {
        creation: record.creation,
        seedingSince: record.seeding.since,
      });
    } else {
      // Nothing is changed until the PUT: an abort before it leaves Azure as it was.
      const prerequisites = await run.beforePointOfNoReturn(() => checkPrerequisitesStep(run, pair, params));
      const created = await (async () => {
        if (params.dryRun) {
          run.plan = [
            prerequisites.alreadyEstablished
              ? {
                  step: 'create-group',
                  action: `nothing to create: ${pair.group.name} already pairs the two instances`,
                }
              : {
                  step: 'create-group',
                  action: `PUT ${pair.group.name} at ${pair.group.primaryLocation}: ${JSON.stringify(groupDefinition(pair, params))}`,
                },
            { step: 'await-seeding', action: `wait for seeding, at most ${params.seedingTimeout / 3_600_000} h` },
            { step: 'check-readiness', action: 'run readinessCheck on the new group' },
          ];
          return undefined;
        }
        if (prerequisites.alreadyEstablished) {
          run.skipStep(
            'create-group',
            `Create failover group ${pair.group.name}`,
            'it already pairs the two instances',
          );
          record.creation = 'already-established';
          return 'already-established' as const;
        }
        // The PUT cannot be called back once it is on its way: it is sent and answered whatever arrives meanwhile.
        run.passPointOfNoReturn();
        const sent = await CancellationScope.nonCancellable(() => createGroupStep(run, pair, params));
        if (sent.outcome === 'exists') record.creation = 'already-established';
        if (sent.trackingId) record.trackingId = sent.trackingId;
        return record.creation;
      })();
      if (created === undefined) return Outcomes.dryRun;
    }

    await awaitSeedingStep({ run, input, params, pair, record });
    await readinessStep(run, pair.group);
    return Outcomes.succeeded;
  });
}
