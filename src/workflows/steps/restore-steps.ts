/**
 * The steps of `restoreDatabase`: find the group's current primary, check what the restore stands on, restore to a new
 * database and follow it, run the caller's checks, and (with `swap`, after approval) put the verified contents under the
 * damaged database's name; then wait until the geo-secondary holds the result.
 *
 * A database of a failover group cannot be renamed (Azure refuses it), so the swap is a drop and a restore: the damaged
 * database is dropped (Azure keeps it restorable as a dropped database), the same point is restored under its name from
 * that dropped database (or the same LTR backup), checked again, and the damaged contents as of the drop are restored
 * aside as `<database>_damaged_<time>`, so rows written after the point can be salvaged.
 */
import { ApplicationFailure, sleep } from '@temporalio/workflow';
import type { DatabaseStateReading } from '../../activities/recovery';
import { formatDuration } from '../../domain/durations';
import type { ResolvedGroup } from '../../domain/group-ref';
import type { RestoreSource } from '../../domain/recovery-state';
import type { RestoreCheck, RestoreCheckResult, SqlInstanceTarget } from '../../sql/data-plane';
import {
  FailureTypes,
  type RestoreCheckRecord,
  type RestoreDatabaseParams,
  type RestoredDatabaseRecord,
  type RestoreRecord,
} from '../definitions';
import { groupChanges, reads } from './activity-presets';
import type { Decision } from './approval';
import { awaitDecisionStep } from './decision-step';
import { groupKindOf } from './group-kind';
import { memberAt } from './target-side';
import { nowIso, type RunbookRun, type StepHandle } from './runbook-run';

/** The group's two sides as the restore uses them. */
export interface RestoreSides {
  primaryLocation: string;
  secondaryLocation: string;
  primaryInstanceId: string;
  secondaryInstanceId: string;
  /** Where the primary answers SQL (the checks run there). */
  primaryEndpoint: SqlInstanceTarget;
}

/** What the restore stands on, checked. */
export interface CheckedSource {
  source: RestoreSource;
  /** The point restored to: the input's, or the LTR backup's time. */
  pointInTime: string;
  restoredName: string;
  sourceDatabaseId: string;
  earliestRestorePoint?: string;
}

/** The first poll of a long-running operation after this long, doubling to {@link POLL_MAX_MS}. */
const POLL_FIRST_MS = 15_000;
const POLL_MAX_MS = 2 * 60_000;

/** `2026-12-06T02:15:00Z` → `202612060215`: the suffix of a database named after a moment. */
export function stamp(iso: string): string {
  return iso.replace(/[-:T]/g, '').slice(0, 12);
}

/** Reads the group at both locations: the side answering Primary holds the database to repair. */
export function findPrimaryStep(run: RunbookRun, group: ResolvedGroup): Promise<RestoreSides> {
  return run.step('find-primary', `Find the current primary of ${group.displayName}`, async (step) => {
    const kind = groupKindOf(group);
    const roles = await kind.readRoles(
      group,
      [group.primaryLocation, group.secondaryLocation],
      `read ${group.name} at both locations`,
    );
    const primary = roles.views.find((view) => view.replicationRole.toLowerCase() === 'primary');
    const secondary = roles.views.find((view) => view.replicationRole.toLowerCase() === 'secondary');
    step.evidence({
      roles: roles.views.map((view) => ({ location: view.location, role: view.replicationRole })),
    });
    if (!primary || !secondary) {
      throw ApplicationFailure.create({
        type: FailureTypes.PreflightFailed,
        nonRetryable: true,
        message:
          `${group.displayName} does not read as one primary and one secondary ` +
          `(${roles.views.map((view) => `${view.location}: ${view.replicationRole}`).join(', ')}); nothing was restored. ` +
          'A restore is seeded to the geo-secondary: bring the group back to a healthy pair first.',
      });
    }
    const { member, endpoint } = await memberAt(group, primary, primary.location);
    const sides: RestoreSides = {
      primaryLocation: primary.location,
      secondaryLocation: secondary.location,
      primaryInstanceId: member.instance.id,
      secondaryInstanceId: kind.memberIdAt(secondary),
      primaryEndpoint: endpoint,
    };
    step.evidence({ primary: sides.primaryInstanceId, secondary: sides.secondaryInstanceId });
    return sides;
  });
}

/**
 * Reads the damaged database, its restore window (or its LTR backups) and the restore's name on the primary, and
 * refuses (`PreflightFailed`, nothing changed) what Azure would refuse or what would overwrite something.
 */
export function checkRestoreSourceStep(
  run: RunbookRun,
  params: RestoreDatabaseParams,
  sides: RestoreSides,
): Promise<CheckedSource> {
  return run.step('check-source', `Check what ${params.database} can be restored to`, async (step) => {
    const pointName = params.pointInTime ? stamp(new Date(params.pointInTime).toISOString()) : undefined;
    const provisionalName = params.restoredName ?? `${params.database}_restored_${pointName ?? 'ltr'}`;
    const reading = await reads.readRestoreSource.executeWithOptions({ summary: `read ${params.database}` }, [
      {
        instanceId: sides.primaryInstanceId,
        location: sides.primaryLocation,
        database: params.database,
        restoredName: provisionalName,
        ...(params.longTermBackupId ? { longTermBackupId: params.longTermBackupId } : {}),
      },
    ]);
    const refuse = (message: string) =>
      ApplicationFailure.create({
        type: FailureTypes.PreflightFailed,
        nonRetryable: true,
        message: `${message} Nothing was restored.`,
      });
    step.evidence({
      source: reading.source
        ? {
            status: reading.source.status,
            earliestRestorePoint: reading.source.earliestRestorePoint ?? null,
            creationDate: reading.source.creationDate ?? null,
          }
        : null,
      readAt: reading.readAt,
    });
    if (!reading.source) {
      throw refuse(
        `${sides.primaryInstanceId} (the primary) has no database ${params.database}: check the name (a database ` +
          "dropped by the damage is restored from the instance's restorable dropped databases, not by this runbook).",
      );
    }
    let pointInTime: string;
    let source: RestoreSource;
    if (params.pointInTime) {
      pointInTime = new Date(params.pointInTime).toISOString();
      const earliest = reading.source.earliestRestorePoint;
      if (earliest && Date.parse(pointInTime) < Date.parse(earliest)) {
        throw refuse(
          `pointInTime ${pointInTime} is before ${params.database}'s earliest restore point ${earliest}: the short-term ` +
            'retention no longer holds it. Restore from a long-term-retention backup (longTermBackupId) instead.',
        );
      }
      // A point after the newest log backup (or in the future) is Azure's to refuse, on Azure's clock: the restore's
      // PUT then fails AzureRequestRejected with its message, and nothing is created.
      source = { mode: 'pointInTime', sourceDatabaseId: reading.source.id, pointInTime };
    } else {
      if (!reading.backup) {
        throw refuse(
          `No long-term-retention backup ${params.longTermBackupId} among the ${reading.backupsListed ?? 0} of ` +
            `${params.database} on ${sides.primaryInstanceId}: list them with the portal or \`az sql midb ltr-backup list\`.`,
        );
      }
      pointInTime = reading.backup.backupTime;
      source = { mode: 'longTermBackup', backupId: reading.backup.id };
      step.evidence({ backup: { id: reading.backup.id, backupTime: reading.backup.backupTime } });
    }
    const restoredName = params.restoredName ?? `${params.database}_restored_${stamp(pointInTime)}`;
    // The name read was the provisional one; an LTR restore's name comes from the backup's time: read it too.
    const target =
      restoredName === provisionalName
        ? reading.target
        : (
            await reads.readRestoreSource.executeWithOptions({ summary: `read ${restoredName}` }, [
              {
                instanceId: sides.primaryInstanceId,
                location: sides.primaryLocation,
                database: params.database,
                restoredName,
              },
            ])
          ).target;
    if (target) {
      throw refuse(
        `${restoredName} already exists on the primary (${target.status}, created ${target.creationDate ?? 'at an unknown time'}): ` +
          'a restore never replaces a database. Choose another restoredName, or drop that one if it is a restore you no longer need.',
      );
    }
    step.evidence({ pointInTime, restoredName });
    return {
      source,
      pointInTime,
      restoredName,
      sourceDatabaseId: reading.source.id,
      ...(reading.source.earliestRestorePoint ? { earliestRestorePoint: reading.source.earliestRestorePoint } : {}),
    };
  });
}

/**
 * Sends one restore and follows it until the database is online. Adopts a database its own earlier attempt created
 * (the answer was lost). Fails `RestoreFailed` when Azure ends it Failed or Canceled, or past `timeoutMs`.
 */
export async function restoreAndFollow(
  step: StepHandle,
  request: {
    instanceId: string;
    location: string;
    database: string;
    source: RestoreSource;
    from: string;
    timeoutMs: number;
    /** What stands, said in the failure when the restore does not end well. */
    standing: string;
  },
): Promise<RestoredDatabaseRecord> {
  const sentAt = nowIso();
  const sent = await groupChanges.sendRestore.executeWithOptions({ summary: `restore ${request.database}` }, [
    {
      instanceId: request.instanceId,
      location: request.location,
      database: request.database,
      source: request.source,
      // A database this run created, found by a retried attempt: not older than this step.
      createdNoEarlierThan: new Date(Date.parse(sentAt) - 60_000).toISOString(),
    },
  ]);
  const record: RestoredDatabaseRecord = {
    name: request.database,
    creation: sent.outcome === 'sent' ? 'created' : 'adopted',
    from: request.from,
    sentAt,
    ...(sent.trackingId ? { trackingId: sent.trackingId } : {}),
  };
  step.evidence({ [request.database]: { ...record } });
  const reading = await followDatabase(step, {
    instanceId: request.instanceId,
    database: request.database,
    trackingId: sent.trackingId,
    timeoutMs: request.timeoutMs,
    until: 'online',
    doing: `The restore of ${request.database}`,
    standing: request.standing,
  });
  record.onlineAt = nowIso();
  step.evidence({ [request.database]: { ...record, status: reading.database?.status ?? null } });
  return record;
}

/** Follows a database's operation until it is online (or gone), durably, polling with a doubling interval. */
export async function followDatabase(
  step: StepHandle,
  request: {
    instanceId: string;
    database: string;
    trackingId?: string;
    timeoutMs: number;
    until: 'online' | 'gone';
    doing: string;
    standing: string;
  },
): Promise<DatabaseStateReading> {
  const deadline = Date.now() + request.timeoutMs;
  let interval = POLL_FIRST_MS;
  for (let polls = 1; ; polls++) {
    const reading = await reads.readDatabaseState.executeWithOptions({ summary: `read ${request.database}` }, [
      { instanceId: request.instanceId, database: request.database, trackingId: request.trackingId },
    ]);
    const state = reading.progress?.state ?? 'InProgress';
    const status = reading.database?.status;
    step.evidence({ polls, operation: reading.progress?.state ?? null, status: status ?? 'absent' });
    step.detail(`${request.doing}: ${reading.progress?.state ?? status ?? 'absent'} (look ${polls})`);
    const arrived = request.until === 'online' ? status?.toLowerCase() === 'online' : reading.database === undefined;
    if ((state === 'Succeeded' || !request.trackingId) && arrived) return reading;
    const failed = state === 'Failed' || state === 'Canceled';
    if (failed || Date.now() >= deadline) {
      const why = failed
        ? `ended ${state}${reading.progress?.error ? ` (${reading.progress.error.code ?? 'no code'}: ${reading.progress.error.message})` : ''}`
        : `did not end within ${formatDuration(request.timeoutMs)}`;
      throw ApplicationFailure.create({
        type: FailureTypes.RestoreFailed,
        nonRetryable: true,
        message: `${request.doing} ${why}. ${request.standing}`,
      });
    }
    await sleep(Math.max(reading.retryAfterMs ?? 0, interval));
    interval = Math.min(interval * 2, POLL_MAX_MS);
  }
}

/** The checks as the data plane runs them. */
export function checksOf(params: RestoreDatabaseParams): RestoreCheck[] {
  const verify = params.verify;
  if (!verify) return [];
  return [
    ...verify.queries.map((query): RestoreCheck => ({ kind: 'query', name: query.name, sql: query.sql })),
    ...verify.rowCounts.map((count): RestoreCheck => ({
      kind: 'rowCount',
      name: `rows of ${count.table}`,
      table: count.table,
    })),
  ];
}

/** Judges what the checks read against what the input expects. */
export function judgeChecks(params: RestoreDatabaseParams, results: RestoreCheckResult[]): RestoreCheckRecord[] {
  const verify = params.verify;
  if (!verify) return [];
  return results.map((result): RestoreCheckRecord => {
    const base = { name: result.name, kind: result.kind, ...(result.error ? { error: result.error } : {}) };
    const read = result.error ? {} : { read: result.value ?? null };
    if (result.kind === 'query') {
      const expected = verify.queries.find((query) => query.name === result.name)!.expect;
      const passed = !result.error && sameValue(result.value ?? null, expected);
      return { ...base, reads: result.sql, expected: `= ${JSON.stringify(expected)}`, ...read, passed };
    }
    const table = result.table;
    const rule = verify.rowCounts.find((count) => `rows of ${count.table}` === result.name)!;
    const count = typeof result.value === 'number' ? result.value : Number.NaN;
    const passed = !result.error && (rule.equals !== undefined ? count === rule.equals : count >= (rule.atLeast ?? 0));
    const expected = rule.equals !== undefined ? `= ${rule.equals}` : `>= ${rule.atLeast}`;
    return { ...base, reads: table, expected, ...read, passed };
  });
}

/** A cell against an expected value: numbers by value (SQL's `42` and `42.0`), text exactly, booleans as bits. */
function sameValue(read: string | number | boolean | null, expected: string | number | boolean | null): boolean {
  if (read === null || expected === null) return read === expected;
  if (typeof expected === 'number') return Number(read) === expected;
  if (typeof expected === 'boolean') return read === expected || Number(read) === (expected ? 1 : 0);
  return String(read) === expected;
}

/** Runs the checks on a database of the primary; fails `VerificationFailed` when one does not pass. */
export async function verifyStep(
  run: RunbookRun,
  params: RestoreDatabaseParams,
  sides: RestoreSides,
  database: string,
  record: RestoreRecord,
  stepName: string,
  standing: string,
): Promise<RestoreCheckRecord[]> {
  return run.step(stepName, `Check ${database}`, async (step) => {
    const checks = checksOf(params);
    if (checks.length === 0) {
      step.evidence({ checks: 0 });
      run.warn(`${database} was restored without checks: verify it yourself before anyone uses it.`);
      return [];
    }
    const { results } = await reads.runRestoreChecks.executeWithOptions({ summary: `check ${database}` }, [
      { target: sides.primaryEndpoint, database, checks },
    ]);
    const judged = judgeChecks(params, results);
    step.evidence({
      checks: judged.map((check) => ({
        name: check.name,
        expected: check.expected,
        read: check.read ?? null,
        passed: check.passed,
        ...(check.error ? { error: check.error } : {}),
      })),
    });
    if (stepName === 'verify') record.checks = judged;
    const failed = judged.filter((check) => !check.passed);
    if (failed.length > 0) {
      throw ApplicationFailure.create({
        type: FailureTypes.VerificationFailed,
        nonRetryable: true,
        message:
          `${failed.length} of ${judged.length} checks of ${database} failed: ` +
          failed
            .map(
              (check) => `${check.name} expected ${check.expected}, read ${check.error ?? JSON.stringify(check.read)}`,
            )
            .join('; ') +
          `. ${standing}`,
      });
    }
    return judged;
  });
}

/** Waits for a person's approval of the swap (or takes `approval` from the input). */
export function approveSwapStep(
  run: RunbookRun,
  params: RestoreDatabaseParams,
  restoredName: string,
  decision: () => Decision | undefined,
): Promise<void> {
  return awaitDecisionStep(
    run,
    {
      title: `Approve replacing ${params.database}`,
      what: 'the swap',
      question:
        `approve or reject: drop ${params.database} (kept restorable as a dropped database, and restored aside as ` +
        `${params.database}_damaged_<time>) and restore the contents checked in ${restoredName} under its name. ` +
        `${params.database} does not exist from the drop until that restore is online.`,
      standing: `${params.database} was not touched; ${restoredName} holds the checked restore.`,
      ...(params.approval ? { approval: params.approval } : {}),
      approvalTimeout: params.approvalTimeout,
    },
    decision,
  );
}

/** Drops the damaged database and finds the restorable dropped database it became. */
export function dropDamagedStep(
  run: RunbookRun,
  params: RestoreDatabaseParams,
  sides: RestoreSides,
  record: RestoreRecord,
  restoredName: string,
): Promise<{ droppedId: string; deletionDate: string }> {
  return run.step('drop-damaged', `Drop ${params.database}`, async (step) => {
    const swap = (record.swap ??= {});
    const startedAt = nowIso();
    const sent = await groupChanges.sendDropDatabase.executeWithOptions({ summary: `drop ${params.database}` }, [
      { instanceId: sides.primaryInstanceId, database: params.database },
    ]);
    step.evidence({ outcome: sent.outcome, trackingId: sent.trackingId ?? null });
    swap.unavailable = { from: startedAt };
    const standing =
      `${restoredName} holds the checked restore. Check in the portal whether ${params.database} still exists: if it ` +
      "does, nothing was swapped; if not, restore it from the instance's Deleted databases.";
    if (sent.outcome === 'sent') {
      await followDatabase(step, {
        instanceId: sides.primaryInstanceId,
        database: params.database,
        trackingId: sent.trackingId,
        timeoutMs: params.restoreTimeout,
        until: 'gone',
        doing: `The drop of ${params.database}`,
        standing,
      });
    }
    const found = await reads.findDroppedDatabase.executeWithOptions({ summary: 'find the dropped database' }, [
      {
        instanceId: sides.primaryInstanceId,
        database: params.database,
        droppedNoEarlierThan: new Date(Date.parse(startedAt) - 60_000).toISOString(),
      },
    ]);
    if (!found.dropped?.deletionDate) {
      throw ApplicationFailure.create({
        type: FailureTypes.RestoreFailed,
        nonRetryable: true,
        message:
          `${params.database} was dropped, but the instance lists no restorable dropped database for it: the damaged ` +
          `contents cannot be restored aside. ${restoredName} holds the checked restore; ${params.database} does not exist.`,
      });
    }
    swap.droppedAt = found.dropped.deletionDate;
    swap.droppedId = found.dropped.id;
    step.evidence({ dropped: { id: found.dropped.id, deletionDate: found.dropped.deletionDate } });
    return { droppedId: found.dropped.id, deletionDate: found.dropped.deletionDate };
  });
}

/** Waits until the geo-secondary holds `database` online (seeded), bounded by `seedingTimeout`. */
export function awaitSecondaryStep(
  run: RunbookRun,
  params: RestoreDatabaseParams,
  sides: RestoreSides,
  record: RestoreRecord,
  database: string,
): Promise<void> {
  return run.step('await-secondary', `Wait for ${database} on the geo-secondary`, async (step) => {
    const deadline = Date.now() + params.seedingTimeout;
    let interval = POLL_FIRST_MS;
    for (let polls = 1; ; polls++) {
      const reading = await reads.readDatabaseState.executeWithOptions(
        { summary: `read ${database} on the secondary` },
        [{ instanceId: sides.secondaryInstanceId, database }],
      );
      const status = reading.database?.status ?? 'absent';
      record.secondary = { database, status, polls };
      step.evidence({ polls, status });
      step.detail(`${database} on the geo-secondary: ${status} (look ${polls})`);
      if (status.toLowerCase() === 'online') {
        record.secondary.seededAt = nowIso();
        return;
      }
      if (Date.now() >= deadline) {
        throw ApplicationFailure.create({
          type: FailureTypes.SeedingFailed,
          nonRetryable: true,
          message:
            `${database} is restored on the primary, but the geo-secondary ${sides.secondaryInstanceId} did not hold it ` +
            `online within ${formatDuration(params.seedingTimeout)} (it reads ${status}): a failover now would leave it ` +
            'behind. Check the seeding in sys.dm_hadr_physical_seeding_stats on the secondary.',
        });
      }
      await sleep(interval);
      interval = Math.min(interval * 2, POLL_MAX_MS);
    }
  });
}
