import { TemporalFailure, isCancellation, patched, setHandler } from '@temporalio/workflow';
import { ReadinessCheckInputSchema } from '../domain/inputs';
import { describeGroupRef, isServerGroup, type ResolvedGroup } from '../domain/group-ref';
import {
  Outcomes,
  RunbookTypes,
  type GateResult,
  type GroupRecoveryPoints,
  type ReadinessCheckInput,
  type ReadinessGroupResult,
  type ReadinessSummary,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { reads } from './steps/activity-presets';
import { gate } from './steps/preflight';
import { drillRecencyCheck, evaluateReadinessChecks, worstStatus } from './steps/readiness';
import { evaluatePairChecks, standbyReadsCheck } from './steps/pair-checks';
import { NOT_APPLICABLE_TO_SQL_DATABASE, notApplicableCheck } from './steps/drift-sql-database';
import { collectReadiness } from './steps/readiness-collect';
import { openRunbook } from './steps/opening';
import {
  READINESS_RECOVERY_POINTS_PATCH,
  groupRecoveryPointChecks,
  groupRecoveryPointsStep,
  judgeGroupRecoveryPoints,
  workloadRecoveryPointChecks,
  workloadRecoveryPointsStep,
} from './steps/recovery-points';
import { RunbookRun, describeFailure } from './steps/runbook-run';

/** Groups checked at once with `all: true`: enough to be quick, few enough to stay far below ARM's read budget. */
const GROUP_CONCURRENCY = 4;

interface CheckParams {
  maxLagSeconds: number;
  maxRestorePointAgeMs: number;
}

/**
 * **readinessCheck**: is a group (or every group of the inventory, `all: true`) ready to fail over, and would a
 * failover carry anything over badly? Every preflight gate of a planned failover to the current secondary, plus drift
 * checks: configuration parity of the two instances (SKU and tier, vCores, storage, license type, backup storage
 * redundancy, long-term retention policies), logins on both with the same SID, SQL Agent jobs on both, the age of the
 * latest restore point, replication lag, and the failover policy with its grace period; and the trusted recovery points
 * of each database (against `objectives.backupRpo`) and of the workload named in the worker's configuration (VMs and
 * Cosmos DB accounts, against `workload.vmRpo` and `workload.cosmosRpo`). Each check has a status (pass, warn, fail),
 * evidence, and what to do when it does not pass.
 *
 * An Azure SQL Database server failover group is compared per member database pair instead (service objective and
 * edition, through the elastic pool for a pooled database, and backup storage redundancy), with its membership (a
 * database of the primary outside the group, a member missing on a server) and each member database's users against
 * the partner server's logins; the checks of an instance pair that mean nothing there pass as "not applicable to SQL
 * Database", with the reason (steps/drift-sql-database.ts).
 *
 * Side effects: none. It calls only read activities and takes no lock, so it can run beside a mutating runbook.
 * The verdict is the answer: the run succeeds whatever it is, with the report in `readiness` (a group's verdict is
 * its worst check; the overall verdict the worst group). With `all`, groups are checked 4 at a time, and a group that
 * cannot be read gets a `fail` verdict with the error as evidence while the others go on.
 *
 * Fails only with `InvalidInput` (a bad input; the message names the field) or `GroupNotFound` (a `group` the
 * inventory does not have).
 */
export async function readinessCheck(input: ReadinessCheckInput): Promise<RunbookReport> {
  const raw = input as { group?: unknown; all?: unknown } | undefined;
  const run = new RunbookRun(
    RunbookTypes.readinessCheck,
    raw?.all === true && raw.group === undefined ? 'all groups' : describeGroupRef(raw?.group),
  );
  // Handlers before anything else, so a query, an abort or a lock holder's status sent early is never missed.
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  return run.execute(async () => {
    // Read-only: it runs beside any runbook, without the group's lock.
    const opened = await openRunbook(run, {
      schema: ReadinessCheckInputSchema,
      input,
      group: (params) => params.group,
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;
    const checkParams: CheckParams = {
      maxLagSeconds: params.maxLagSeconds,
      maxRestorePointAgeMs: params.maxRestorePointAge,
    };

    let results: ReadinessGroupResult[];
    const recoveryGroups: GroupRecoveryPoints[] = [];
    const keepRecoveryPoints = (checked: CheckedGroup): ReadinessGroupResult => {
      if (checked.recoveryPoints) recoveryGroups.push(checked.recoveryPoints);
      return checked.readiness;
    };
    if (group !== undefined) {
      const result = await checkGroup(run, group, checkParams);
      if (result.rolesNow) run.rolesBefore = result.rolesNow;
      results = [keepRecoveryPoints(result)];
    } else {
      const groups = await resolveInventoryStep(run);
      results = await mapBounded(groups, GROUP_CONCURRENCY, async (entry) =>
        'failure' in entry
          ? unreadable(entry.name, 'resolve', entry.failure)
          : keepRecoveryPoints(await checkGroup(run, entry.group, checkParams)),
      );
    }
    let recoveryPoints: ReadinessSummary['recoveryPoints'];
    if (patched(READINESS_RECOVERY_POINTS_PATCH)) {
      // The workload is the worker's, not a group's: read once, judged as a part of its own.
      const workload = await workloadRecoveryPointsStep(run);
      if (workload) {
        const checks = workloadRecoveryPointChecks(workload);
        results.push({ group: 'workload', verdict: worstStatus(checks.map((check) => check.status)), checks });
      }
      recoveryPoints = {
        groups: recoveryGroups.sort((a, b) => a.group.localeCompare(b.group)),
        ...(workload ? { workload } : {}),
      };
    }
    if (results.length === 0) {
      run.warn("The worker's inventory has no groups: nothing was checked. Add the groups to fogpilot.yaml.");
    }
    run.extra.readiness = {
      verdict: results.length === 0 ? 'warn' : worstStatus(results.map((result) => result.verdict)),
      groups: results,
      ...(recoveryPoints ? { recoveryPoints } : {}),
    };
    return Outcomes.succeeded;
  });
}

type InventoryEntry = { name: string; group: ResolvedGroup } | { name: string; failure: unknown };

/** Every group of the worker's inventory, resolved; one that does not resolve is kept, to be reported as `fail`. */
async function resolveInventoryStep(run: RunbookRun): Promise<InventoryEntry[]> {
  return run.step('resolve-group', "Resolve every group of the worker's inventory", async (step) => {
    const listed = await reads.listInventoryGroups.executeWithOptions({ summary: 'list the inventory groups' }, []);
    const entries = await Promise.all(
      listed.groups.map(async ({ name }): Promise<InventoryEntry> => {
        try {
          const resolved = await reads.resolveGroup.executeWithOptions({ summary: `resolve ${name}` }, [name]);
          return { name, group: resolved.group };
        } catch (error) {
          if (!(error instanceof TemporalFailure) || isCancellation(error)) throw error;
          return { name, failure: error };
        }
      }),
    );
    step.evidence({
      groups: entries.map((entry) => entry.name),
      unresolved: entries.filter((e) => 'failure' in e).length,
    });
    return entries;
  });
}

interface CheckedGroup {
  readiness: ReadinessGroupResult;
  rolesNow?: { primary: string; secondary: string };
  recoveryPoints?: GroupRecoveryPoints;
}

/** Collects and evaluates one group; any failure to read it becomes a `fail` verdict with the error as evidence. */
async function checkGroup(run: RunbookRun, group: ResolvedGroup, params: CheckParams): Promise<CheckedGroup> {
  const label = group.displayName;
  let collection: Awaited<ReturnType<typeof collectReadiness>>;
  try {
    collection = await run.step(
      `collect/${label}`,
      `Read ${label} at both locations, its instances and databases`,
      (step) => collectReadiness(run, group, { maxLagSeconds: params.maxLagSeconds }, step),
    );
  } catch (error) {
    if (!(error instanceof TemporalFailure) || isCancellation(error)) throw error;
    return { readiness: unreadable(label, 'read', error) };
  }
  const checks = await run.step(`evaluate/${label}`, `Evaluate every gate and drift check of ${label}`, (step) => {
    const evaluated = evaluateReadinessChecks(collection.snapshot, collection.drift, {
      maxRestorePointAgeMs: params.maxRestorePointAgeMs,
      sizes: true,
    });
    const verdict = worstStatus(evaluated.map((check) => check.status));
    step.evidence({
      verdict,
      checks: evaluated.length,
      notPassing: evaluated
        .filter((check) => check.status !== 'pass')
        .map((check) => ({ name: check.name, status: check.status })),
    });
    step.detail(`${label}: ${verdict}`);
    return Promise.resolve(evaluated);
  });
  if (patched(READINESS_WHOLE_PAIR_PATCH)) checks.push(...(await wholePairChecks(run, group, collection.snapshot)));
  let recoveryPoints: GroupRecoveryPoints | undefined;
  if (isServerGroup(group)) {
    // Read from a managed instance's restore points and LTR backups: a server group's newest backups are judged in
    // restore-point-age instead, and its part of the report says why it has no databases.
    recoveryPoints = judgeGroupRecoveryPoints(
      label,
      `not applicable to SQL Database: ${NOT_APPLICABLE_TO_SQL_DATABASE['recovery-points']}`,
      undefined,
      undefined,
      Date.now(),
    );
    checks.push(notApplicableCheck('recovery-points'));
  } else if (patched(READINESS_RECOVERY_POINTS_PATCH)) {
    const primary = collection.drift ? collection.snapshot.primary?.instance : undefined;
    recoveryPoints = await groupRecoveryPointsStep(
      run,
      group,
      primary,
      collection.drift?.backups,
      collection.drift?.retention?.primary,
    );
    checks.push(...groupRecoveryPointChecks(recoveryPoints));
  }
  const { summary } = collection.snapshot;
  return {
    ...(recoveryPoints ? { recoveryPoints } : {}),
    readiness: { group: label, verdict: worstStatus(checks.map((check) => check.status)), checks },
    rolesNow:
      summary.consistent && summary.primaryLocation && summary.secondaryLocation
        ? { primary: summary.primaryLocation, secondary: summary.secondaryLocation }
        : undefined,
  };
}

/** Runs recorded before the checks of the whole pair and of drill recency evaluated neither. */
export const READINESS_WHOLE_PAIR_PATCH = 'readiness-whole-pair-and-drills';

/**
 * The checks of the whole pair (TDE keys on both sides, collation, time zone, maintenance windows, one DNS zone, the
 * network rules between the subnets, a Standby secondary kept from reads) and, when the group declares
 * `objectives.drillInterval`, whether a DR drill passed within it.
 */
async function wholePairChecks(
  run: RunbookRun,
  group: ResolvedGroup,
  snapshot: Awaited<ReturnType<typeof collectReadiness>>['snapshot'],
): Promise<GateResult[]> {
  const label = group.displayName;
  return run.step(`pair/${label}`, `Check the whole pair of ${label} and its drills`, async (step) => {
    const checks: GateResult[] = [];
    const primary = snapshot.primary?.instance;
    const secondary = snapshot.secondary?.instance;
    const serverGroup = isServerGroup(group);
    const [evidence, drills] = await Promise.allSettled([
      // The pair's evidence is a managed instance pair's (subnets, DNS zone, TDE keys, instance settings).
      !serverGroup && primary && secondary
        ? reads.readPairEvidence.executeWithOptions({ summary: `read the pair of ${label}` }, [
            {
              primaryInstanceId: primary.id,
              secondaryInstanceId: secondary.id,
              groupResourceGroup: group.resourceGroup,
            },
          ])
        : Promise.resolve(undefined),
      reads.readDrillRecency.executeWithOptions({ summary: `read the last drill of ${label}` }, [{ group: label }]),
    ]);
    const view =
      snapshot.views.find((entry) => entry.location === snapshot.summary.primaryLocation) ?? snapshot.views[0];
    if (serverGroup) {
      checks.push(
        notApplicableCheck('pair-checks'),
        standbyReadsCheck({
          name: group.name,
          readOnlyFailoverPolicy: view?.readOnlyFailoverPolicy ?? 'Disabled',
          secondaryType: view?.secondaryType ?? 'Geo',
        }),
      );
    } else if (evidence.status === 'fulfilled' && evidence.value) {
      checks.push(
        ...evaluatePairChecks(
          evidence.value,
          {
            name: group.name,
            readOnlyFailoverPolicy: view?.readOnlyFailoverPolicy ?? 'Disabled',
            secondaryType: view?.secondaryType ?? 'Geo',
          },
          'warn',
        ),
      );
    } else {
      checks.push(
        gate(
          'pair-checks',
          'warn',
          evidence.status === 'rejected'
            ? `The pair could not be read: ${describeFailure(evidence.reason).message}`
            : 'The pair was not compared: the roles do not say which instance is primary',
          {},
          'Run the check again once the group reads consistently at both locations.',
        ),
      );
    }
    if (drills.status === 'fulfilled') {
      const check = drillRecencyCheck(drills.value, Date.now());
      if (check) checks.push(check);
    }
    step.evidence({ checks: checks.map((check) => ({ name: check.name, status: check.status })) });
    return checks;
  });
}

function unreadable(group: string, what: 'read' | 'resolve', error: unknown): ReadinessGroupResult {
  const failure = describeFailure(error);
  const check: GateResult = gate(
    'group-readable',
    'fail',
    `${group} could not be ${what === 'read' ? 'read' : 'resolved'}: ${failure.message}`,
    { error: { type: failure.type, message: failure.message } },
    what === 'read'
      ? 'Check that the group exists at both locations and that the worker can reach ARM and SQL, then run the check again.'
      : "Check the group's entry in the worker's inventory (fogpilot.yaml), then run the check again.",
  );
  return { group, verdict: 'fail', checks: [check] };
}

/** `work` over every item, at most `limit` at once, results in the items' order. Deterministic: no timers, no races. */
async function mapBounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
