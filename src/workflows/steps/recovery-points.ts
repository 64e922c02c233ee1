/**
 * The "trusted recovery points" steps: reading and judging each database of a group (readinessCheck, drDrill) and the
 * workload named in the worker's configuration (readinessCheck). Read-only. The judging is in
 * ./recovery-points-judge.ts.
 */
import { ApplicationFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { isServerGroup, type ResolvedGroup } from '../../domain/group-ref';
import type { BackupInfo } from '../../sql/data-plane';
import { FailureTypes } from '../definitions';
import type { GroupRecoveryPoints, WorkloadRecoveryPoints } from '../contracts/report-sections';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from './activity-presets';
import { metered } from './arm-meter';
import type { RetentionPolicyReading } from './drift-readings';
import { NOT_APPLICABLE_TO_SQL_DATABASE } from './drift-sql-database';
import { groupKindOf } from './group-kind';
import { judgeGroupRecoveryPoints, judgeWorkloadRecoveryPoints, recoveryPointRefusal } from './recovery-points-judge';
import { describeFailure, type RunbookRun } from './runbook-run';
import { memberAt } from './target-side';

export {
  groupRecoveryPointChecks,
  judgeGroupRecoveryPoints,
  judgeWorkloadRecoveryPoints,
  recoveryPointRefusal,
  workloadRecoveryPointChecks,
} from './recovery-points-judge';

/** Runs recorded before readinessCheck read the trusted recovery points replay without those reads. */
export const READINESS_RECOVERY_POINTS_PATCH = 'readiness-recovery-points';

/** Drills recorded before they read the recovery points (and could require one) replay without those reads. */
export const DRILL_RECOVERY_POINTS_PATCH = 'drill-recovery-points';

/** Recovery-point reads only inform a readiness check: a short bound, then the part reports why it is unknown. */
const recoveryReads = metered(
  proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
    scheduleToCloseTimeout: '2 minutes',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  }),
);

async function settle<T>(read: Promise<T>): Promise<T | string> {
  try {
    return await read;
  } catch (error) {
    if (isCancellation(error)) throw error;
    const failure = describeFailure(error);
    return `${failure.type}: ${failure.message}`;
  }
}

/** Reads the recovery points of the databases on the group's primary (`instance`), judged with the given readings. */
function readGroup(
  group: ResolvedGroup,
  instance: { id: string; location: string; name: string },
  backups: BackupInfo[] | string | undefined,
  retention: RetentionPolicyReading[] | string | undefined,
): Promise<GroupRecoveryPoints> {
  return settle(
    recoveryReads.readGroupRecoveryPoints.executeWithOptions(
      { summary: `recovery points of the databases on ${instance.name}` },
      [{ group: group.displayName, instanceId: instance.id, location: instance.location }],
    ),
  ).then((reading) => judgeGroupRecoveryPoints(group.displayName, reading, backups, retention, Date.now()));
}

/**
 * The group's part of a readiness check: the databases of the primary the collection found, with the backup history
 * and LTR policies it already read. Unread when the roles did not say which instance is primary.
 */
export function groupRecoveryPointsStep(
  run: RunbookRun,
  group: ResolvedGroup,
  primary: { id: string; location: string; name: string } | undefined,
  backups: BackupInfo[] | string | undefined,
  retention: RetentionPolicyReading[] | string | undefined,
): Promise<GroupRecoveryPoints> {
  const label = group.displayName;
  return run.step(`recovery-points/${label}`, `Read the trusted recovery points of ${label}`, async (step) => {
    const part = primary
      ? await readGroup(group, primary, backups, retention)
      : judgeGroupRecoveryPoints(
          label,
          'the roles do not say which instance is primary',
          undefined,
          undefined,
          Date.now(),
        );
    step.evidence(evidenceOf(part));
    return part;
  });
}

/** The workload's part of a readiness check; undefined when the worker's configuration names no workload. */
export function workloadRecoveryPointsStep(run: RunbookRun): Promise<WorkloadRecoveryPoints | undefined> {
  return run.step(
    'recovery-points/workload',
    'Read the trusted recovery points of the configured workload',
    async (step) => {
      const reading = await settle(
        recoveryReads.readWorkloadRecoveryPoints.executeWithOptions({ summary: 'recovery points of the workload' }, []),
      );
      const part = judgeWorkloadRecoveryPoints(reading, Date.now());
      step.evidence(
        part
          ? {
              vms: part.vms.map((vm) => ({ name: vm.name, state: vm.state })),
              cosmosAccounts: part.cosmosAccounts.map((account) => ({ name: account.name, state: account.state })),
              ...(part.unreadable ? { unreadable: part.unreadable } : {}),
            }
          : { configured: false },
      );
      return part;
    },
  );
}

/**
 * A drill's recovery points, read before it changes anything: the group's current primary, its backup history and its
 * databases' recovery points. With `require`, refuses the drill (`PreflightFailed`, nothing changed) unless every
 * database has a trusted recovery point within the group's `objectives.backupRpo`.
 */
export function drillRecoveryPointsStep(
  run: RunbookRun,
  group: ResolvedGroup,
  require: boolean,
  /** Takes the part as soon as it is read, so a refused drill's report carries it too. */
  keep: (part: GroupRecoveryPoints) => void,
): Promise<GroupRecoveryPoints> {
  const label = group.displayName;
  return run.step(
    'recovery-points',
    require
      ? `Require a trusted recovery point within the backupRpo of ${label}`
      : `Read the trusted recovery points of ${label}`,
    async (step) => {
      const part = await readDrillPart(group);
      keep(part);
      step.evidence(evidenceOf(part));
      const refusal = require ? recoveryPointRefusal(part) : undefined;
      if (refusal) {
        throw ApplicationFailure.create({
          type: FailureTypes.PreflightFailed,
          nonRetryable: true,
          message: refusal,
          details: [{ recoveryPoints: part }],
        });
      }
      return part;
    },
  );
}

/** What `unreadable` starts with for a group whose kind has no trusted recovery points to read (SQL Database). */
const NOT_APPLICABLE_PREFIX = 'not applicable to SQL Database: ';

/**
 * A SQL Database group's recovery-points part: nothing to read (they are a managed instance's restore points and LTR
 * backups), and its `unreadable` says so rather than that a read failed.
 */
export function serverGroupRecoveryPoints(group: ResolvedGroup): GroupRecoveryPoints {
  return judgeGroupRecoveryPoints(
    group.displayName,
    `${NOT_APPLICABLE_PREFIX}${NOT_APPLICABLE_TO_SQL_DATABASE['recovery-points']}`,
    undefined,
    undefined,
    Date.now(),
  );
}

async function readDrillPart(group: ResolvedGroup): Promise<GroupRecoveryPoints> {
  // A server group has no managed instance to read them from: nothing is read (no command), the part says why.
  if (isServerGroup(group)) return serverGroupRecoveryPoints(group);
  const kind = groupKindOf(group);
  const roles = await settle(
    kind.readRoles(group, [group.primaryLocation, group.secondaryLocation], `read ${group.name} at both locations`),
  );
  const primaryView =
    typeof roles === 'string'
      ? undefined
      : roles.views.find((view) => view.replicationRole.toLowerCase() === 'primary');
  if (!primaryView) {
    const why =
      typeof roles === 'string' ? `the group could not be read (${roles})` : 'no location reports the group as primary';
    return judgeGroupRecoveryPoints(group.displayName, why, undefined, undefined, Date.now());
  }
  const side = await settle(memberAt(group, primaryView, primaryView.location));
  if (typeof side === 'string')
    return judgeGroupRecoveryPoints(
      group.displayName,
      `the primary could not be read (${side})`,
      undefined,
      undefined,
      Date.now(),
    );
  const instance = side.member.instance;
  const backups = await settle(
    recoveryReads.readLatestBackups
      .executeWithOptions({ summary: `backup history on ${instance.name}` }, [{ instance: side.endpoint }])
      .then((result) => result.backups),
  );
  return readGroup(group, instance, backups, undefined);
}

function evidenceOf(part: GroupRecoveryPoints): Record<string, unknown> {
  return {
    backupRpo: part.backupRpo,
    ...(part.unreadable !== undefined ? { unreadable: part.unreadable } : {}),
    databases: part.databases.map((entry) => ({
      database: entry.database,
      newestRecoveryPoint: entry.newestRecoveryPoint,
      age: entry.age,
      state: entry.state,
      ...(entry.why ? { why: entry.why } : {}),
    })),
  };
}
