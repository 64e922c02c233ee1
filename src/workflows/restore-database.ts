import { CancellationScope, setHandler } from '@temporalio/workflow';
import { RestoreDatabaseInputSchema } from '../domain/inputs';
import { describeGroupRef } from '../domain/group-ref';
import {
  Outcomes,
  RunbookTypes,
  type RestoreDatabaseInput,
  type RestoreRecord,
  type RunbookReport,
  abortSignal,
  lockHolderStatusSignal,
  statusQuery,
} from './definitions';
import { listenForDecisions } from './steps/approval';
import { lockCarryingDecision } from './steps/decision-step';
import { openRunbook } from './steps/opening';
import {
  approveSwapStep,
  awaitSecondaryStep,
  checkRestoreSourceStep,
  dropDamagedStep,
  findPrimaryStep,
  restoreAndFollow,
  stamp,
  verifyStep,
} from './steps/restore-steps';
import { nowIso, RunbookRun } from './steps/runbook-run';

/**
 * **restoreDatabase**: repairs a database of a Managed Instance failover group from a trusted recovery point.
 *
 * Reads the group's current primary and the damaged database; refuses a point outside its restore window, an LTR
 * backup the database does not have, or a restore name already taken. Restores to a new database on the primary
 * (`restoredName`, default `<database>_restored_<time>`), follows the restore, and runs the caller's checks (`verify`:
 * read-only queries with expected values, row counts) in it. A failed check ends the run `VerificationFailed` with the
 * damaged database untouched.
 *
 * With `swap`, after a person's approval (a second person; or `approval` in the input): drops the damaged database,
 * restores the same point under its name, checks it again, and restores the damaged contents as of the drop aside as
 * `<database>_damaged_<time>`. Azure refuses to rename a database of a failover group, so the swap cannot be a
 * rename: **applications see `<database>` missing** (login to it fails with 4060, `USE` with 911, open sessions are
 * killed by the drop) from the drop until the restore under its name is online, and rows written to the damaged
 * database after the point are in the `_damaged_` copy only.
 *
 * Finally waits until the geo-secondary holds the result online (seeded), so the group protects it again.
 *
 * Side effects: one restore (two more with `swap`) and, with `swap`, one drop; each sent once and followed to its end.
 * Holds the group's lock. `dryRun` reads and checks only. An abort before the swap's approval stops the run (a restore
 * already sent completes in Azure; its database is reported).
 *
 * Fails with `InvalidInput`, `GroupNotFound`, `GroupBusy`, `PreflightFailed`, `RestoreFailed`, `VerificationFailed`,
 * `ApprovalRejected`, `ApprovalTimeout`, `SeedingFailed` or `AzureRequestRejected`.
 */
export async function restoreDatabase(input: RestoreDatabaseInput): Promise<RunbookReport> {
  const run = new RunbookRun(
    RunbookTypes.restoreDatabase,
    describeGroupRef((input as { group?: unknown } | undefined)?.group),
  );
  setHandler(statusQuery, () => run.status());
  setHandler(lockHolderStatusSignal, (status) => run.receiveLockHolderStatus(status));
  setHandler(abortSignal, (message) => run.receiveAbort(message));
  const decision = listenForDecisions(run);

  return run.execute(async () => {
    const opened = await openRunbook(run, {
      schema: RestoreDatabaseInputSchema,
      input,
      group: (params) => params.group,
      lock: (params) =>
        lockCarryingDecision(
          RunbookTypes.restoreDatabase,
          input,
          params,
          decision,
          `the restore of ${params.database}`,
        ),
    });
    if ('ended' in opened) return opened.ended;
    const { params, group } = opened;
    run.approvalDesk?.judgeHere({ requester: run.requestedBy, groups: [group] });

    const { sides, checked } = await run.beforePointOfNoReturn(async () => {
      const found = await findPrimaryStep(run, group);
      return { sides: found, checked: await checkRestoreSourceStep(run, params, found) };
    });
    const record: RestoreRecord = {
      database: params.database,
      primaryInstanceId: sides.primaryInstanceId,
      secondaryInstanceId: sides.secondaryInstanceId,
      pointInTime: checked.pointInTime,
      mode: checked.source.mode === 'longTermBackup' ? 'longTermBackup' : 'pointInTime',
      ...(params.longTermBackupId ? { longTermBackupId: params.longTermBackupId } : {}),
      ...(checked.earliestRestorePoint ? { earliestRestorePoint: checked.earliestRestorePoint } : {}),
      checks: [],
    };
    run.extra.restore = record;
    const from =
      record.mode === 'longTermBackup'
        ? `the LTR backup of ${params.database} taken ${checked.pointInTime}`
        : `${params.database} as of ${checked.pointInTime}`;
    if (params.dryRun) {
      run.plan = [
        { step: 'restore', action: `restore ${from} as ${checked.restoredName} on ${sides.primaryInstanceId}` },
        { step: 'verify', action: `run ${record.checks.length || 'the'} checks in ${checked.restoredName}` },
        ...(params.swap
          ? [
              { step: 'await-approval', action: `approval to replace ${params.database}` },
              { step: 'drop-damaged', action: `drop ${params.database}` },
              { step: 'restore-into-place', action: `restore ${from} as ${params.database}` },
              { step: 'keep-damaged-aside', action: `restore the dropped ${params.database} aside` },
            ]
          : []),
        { step: 'await-secondary', action: `wait for the geo-secondary to hold the result` },
      ];
      return Outcomes.dryRun;
    }

    const restored = await run.beforePointOfNoReturn(() =>
      run.step('restore', `Restore ${from} as ${checked.restoredName}`, (step) =>
        restoreAndFollow(step, {
          instanceId: sides.primaryInstanceId,
          location: sides.primaryLocation,
          database: checked.restoredName,
          source: checked.source,
          from,
          timeoutMs: params.restoreTimeout,
          standing: `${params.database} was not touched. Check ${checked.restoredName} in the portal; drop it before running again.`,
        }),
      ),
    );
    record.restored = restored;
    await run.beforePointOfNoReturn(() =>
      verifyStep(
        run,
        params,
        sides,
        checked.restoredName,
        record,
        'verify',
        `${params.database} was not touched; ${checked.restoredName} is kept for inspection (drop it when done).`,
      ),
    );
    let final = checked.restoredName;
    if (params.swap) {
      await run.beforePointOfNoReturn(() => approveSwapStep(run, params, checked.restoredName, decision));
      run.passPointOfNoReturn();
      // Past here the damaged database is being replaced: every step runs whatever arrives meanwhile.
      await CancellationScope.nonCancellable(async () => {
        const dropped = await dropDamagedStep(run, params, sides, record, checked.restoredName);
        const swap = record.swap!;
        const standing =
          `${params.database} was dropped and does not exist; ${checked.restoredName} holds the checked restore. ` +
          `Restore ${params.database} by hand from the dropped database ${dropped.droppedId} at ${checked.pointInTime} ` +
          "(portal: the instance's Deleted databases), or point the application at the checked restore.";
        swap.inPlace = await run.step('restore-into-place', `Restore ${from} as ${params.database}`, (step) =>
          restoreAndFollow(step, {
            instanceId: sides.primaryInstanceId,
            location: sides.primaryLocation,
            database: params.database,
            source:
              checked.source.mode === 'longTermBackup'
                ? checked.source
                : {
                    mode: 'droppedPointInTime',
                    restorableDroppedDatabaseId: dropped.droppedId,
                    pointInTime: checked.pointInTime,
                  },
            from,
            timeoutMs: params.restoreTimeout,
            standing,
          }),
        );
        swap.unavailable!.to = swap.inPlace.onlineAt;
        swap.checks = await verifyStep(
          run,
          params,
          sides,
          params.database,
          record,
          'verify-in-place',
          `${params.database} holds a restore that does not read like ${checked.restoredName}: compare the two before anyone uses it.`,
        );
        const asideName = `${params.database}_damaged_${stamp(dropped.deletionDate)}`;
        swap.damagedAside = await run.step(
          'keep-damaged-aside',
          `Restore the damaged contents as ${asideName}`,
          (step) =>
            restoreAndFollow(step, {
              instanceId: sides.primaryInstanceId,
              location: sides.primaryLocation,
              database: asideName,
              source: {
                mode: 'droppedPointInTime',
                restorableDroppedDatabaseId: dropped.droppedId,
                pointInTime: dropped.deletionDate,
              },
              from: `the damaged ${params.database} as dropped at ${dropped.deletionDate}`,
              timeoutMs: params.restoreTimeout,
              standing: `${params.database} is repaired; the damaged contents stay restorable as ${dropped.droppedId}.`,
            }),
        );
      });
      final = params.database;
      run.warn(
        `${params.database} did not exist from ${record.swap!.unavailable!.from} to ${record.swap!.unavailable!.to ?? nowIso()}: ` +
          `applications reconnected after that read the restore. Rows written after ${checked.pointInTime} are in ` +
          `${record.swap!.damagedAside!.name} only.`,
      );
    }
    await awaitSecondaryStep(run, params, sides, record, final);
    return Outcomes.succeeded;
  });
}
