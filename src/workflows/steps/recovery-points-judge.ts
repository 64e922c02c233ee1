/**
 * The "trusted recovery points" of readiness, as pure functions of what was read: each database of a group, each VM and
 * each Cosmos DB account of the workload against its configured RPO (`met`, `missed`, or `unknown` with why), the
 * checks they become (`recovery-point/<db>`, `recovery-point/vm/<name>`, `recovery-point/cosmos/<name>`: pass when
 * met, fail when missed, warn when unknown; none without a declared RPO), and a drill's refusal by `requireRecoveryPoint`.
 */
import type {
  CosmosRecoveryReading,
  DatabaseRecoveryReading,
  GroupRecoveryPointsReading,
  VmRecoveryReading,
  WorkloadRecoveryPointsReading,
} from '../../activities/recovery-points';
import { formatDuration } from '../../domain/durations';
import type { BackupInfo } from '../../sql/data-plane';
import type { GateResult } from '../definitions';
import type {
  CosmosRecoveryPoint,
  DatabaseRecoveryPoint,
  GroupRecoveryPoints,
  RecoveryPointJudgement,
  VmRecoveryPoint,
  WorkloadRecoveryPoints,
} from '../contracts/report-sections';
import type { RetentionPolicyReading } from './drift-readings';
import { gate } from './preflight';

function timeOf(value: string | undefined | null): number | undefined {
  const parsed = value ? Date.parse(value) : NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
}

function newestOf(...values: (string | undefined | null)[]): string | null {
  const times = values.map(timeOf).filter((time): time is number => time !== undefined);
  return times.length ? new Date(Math.max(...times)).toISOString() : null;
}

/** A point's age at `nowMs` (a point "in the future" of a clock running ahead is fresh). */
function ageOf(point: string | null, nowMs: number): { age: string | null; ageSeconds: number | null; ms?: number } {
  const at = timeOf(point);
  if (at === undefined) return { age: null, ageSeconds: null };
  const ms = Math.max(0, nowMs - at);
  return { age: formatDuration(ms), ageSeconds: Math.round(ms / 1000), ms };
}

/**
 * The judgement of one newest point against an RPO. `unreadable`: why the point could not be known (unknown);
 * `absent`: why there is none although everything was read (missed).
 */
function judge(
  point: string | null,
  rpoMs: number | undefined,
  nowMs: number,
  reasons: { unreadable?: string; absent: string; noRpo: string },
): RecoveryPointJudgement {
  const { age, ageSeconds, ms } = ageOf(point, nowMs);
  const base = {
    rpo: rpoMs === undefined ? null : formatDuration(rpoMs),
    rpoMs: rpoMs ?? null,
    newestRecoveryPoint: point,
    age,
    ageSeconds,
  };
  if (point === null && reasons.unreadable) return { ...base, state: 'unknown', why: reasons.unreadable };
  if (rpoMs === undefined) return { ...base, state: 'unknown', why: reasons.noRpo };
  if (point === null || ms === undefined) return { ...base, state: 'missed', why: reasons.absent };
  if (ms <= rpoMs) return { ...base, state: 'met' };
  return {
    ...base,
    state: 'missed',
    why: `the newest recovery point is ${age} old, older than the RPO of ${base.rpo}`,
  };
}

function describePolicy(policy: RetentionPolicyReading | undefined): string {
  if (!policy) return 'none';
  const kept = (value: string | undefined) => value && value !== 'PT0S';
  const parts = [
    kept(policy.weeklyRetention) ? `W=${policy.weeklyRetention}` : '',
    kept(policy.monthlyRetention) ? `M=${policy.monthlyRetention}` : '',
    kept(policy.yearlyRetention) ? `Y=${policy.yearlyRetention}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : 'none';
}

/**
 * One group's databases against its `objectives.backupRpo`, at `nowMs` (the workflow's time: the ages are measured on
 * the clock the backup history was read on). A database's newest trusted recovery point is the newest
 * of its full or log backup (msdb history of the primary) and its newest LTR backup.
 */
export function judgeGroupRecoveryPoints(
  group: string,
  reading: GroupRecoveryPointsReading | string,
  backups: BackupInfo[] | string | undefined,
  retention: RetentionPolicyReading[] | string | undefined,
  nowMs: number,
): GroupRecoveryPoints {
  const readAt = new Date(nowMs).toISOString();
  if (typeof reading === 'string') return { group, backupRpo: null, databases: [], unreadable: reading, readAt };
  const backupRpo = reading.backupRpoMs === undefined ? null : formatDuration(reading.backupRpoMs);
  if (typeof reading.databases === 'string')
    return { group, backupRpo, databases: [], unreadable: reading.databases, readAt };
  const databases = reading.databases.map((database) =>
    judgeDatabase(database, reading.backupRpoMs, backups, retention, nowMs),
  );
  return { group, backupRpo, databases, readAt };
}

function judgeDatabase(
  reading: DatabaseRecoveryReading,
  rpoMs: number | undefined,
  backups: BackupInfo[] | string | undefined,
  retention: RetentionPolicyReading[] | string | undefined,
  nowMs: number,
): DatabaseRecoveryPoint {
  const history = Array.isArray(backups)
    ? backups.find((entry) => entry.database.toLowerCase() === reading.database.toLowerCase())
    : undefined;
  const newestBackup = newestOf(history?.lastFullBackup, history?.lastLogBackup);
  const newestLtrBackup = reading.newestLtrBackup ?? null;
  const unread = [
    ...(typeof backups === 'string' ? [`the backup history could not be read (${backups})`] : []),
    ...(backups === undefined ? ['the backup history was not read'] : []),
    ...(reading.errors ?? []),
  ];
  const policy =
    typeof retention === 'string' || retention === undefined
      ? 'not read'
      : describePolicy(retention.find((entry) => entry.database.toLowerCase() === reading.database.toLowerCase()));
  return {
    database: reading.database,
    earliestRestorePoint: reading.earliestRestorePoint ?? null,
    newestBackup,
    newestBackupAge: ageOf(newestBackup, nowMs).age,
    ltrPolicy: policy,
    newestLtrBackup,
    ...judge(newestOf(newestBackup, newestLtrBackup), rpoMs, nowMs, {
      ...(unread.length ? { unreadable: unread.join('; ') } : {}),
      absent: 'no full, log or LTR backup of the database was found',
      noRpo: 'the group declares no objectives.backupRpo',
    }),
  };
}

/** The workload against `workload.vmRpo` and `workload.cosmosRpo`; undefined when the configuration names none. */
export function judgeWorkloadRecoveryPoints(
  reading: WorkloadRecoveryPointsReading | string,
  nowMs: number,
): WorkloadRecoveryPoints | undefined {
  const readAt = new Date(nowMs).toISOString();
  if (typeof reading === 'string')
    return {
      vault: null,
      vmRpo: null,
      cosmosRpo: null,
      vms: [],
      cosmosAccounts: [],
      unreadable: reading,
      readAt,
    };
  if (!reading.configured) return undefined;
  return {
    vault: reading.vault ?? null,
    vmRpo: reading.vmRpoMs === undefined ? null : formatDuration(reading.vmRpoMs),
    cosmosRpo: reading.cosmosRpoMs === undefined ? null : formatDuration(reading.cosmosRpoMs),
    vms: reading.vms.map((vm) => judgeVm(vm, reading.vmRpoMs, nowMs)),
    cosmosAccounts: reading.cosmosAccounts.map((account) => judgeCosmos(account, reading.cosmosRpoMs, nowMs)),
    readAt,
  };
}

function judgeVm(vm: VmRecoveryReading, rpoMs: number | undefined, nowMs: number): VmRecoveryPoint {
  const lastSuccessful =
    vm.lastBackupStatus && /^completed/i.test(vm.lastBackupStatus) ? (vm.lastBackupTime ?? null) : null;
  return {
    name: vm.name,
    vmId: vm.vmId,
    protected: vm.protected ?? null,
    protectionState: vm.protectionState ?? null,
    policy: vm.policy ?? null,
    lastSuccessfulBackup: lastSuccessful,
    ...judge(vm.newestRecoveryPoint ?? null, rpoMs, nowMs, {
      ...(vm.error ? { unreadable: vm.error } : {}),
      absent: vm.protected === false ? 'the VM is not protected by the vault' : 'the VM has no recovery point yet',
      noRpo: 'workload.vmRpo is not configured',
    }),
  };
}

function judgeCosmos(account: CosmosRecoveryReading, rpoMs: number | undefined, nowMs: number): CosmosRecoveryPoint {
  const base = {
    name: account.name,
    accountId: account.accountId,
    policyType: account.policyType ?? null,
    tier: account.tier ?? null,
    migrationStatus: account.migrationStatus ?? null,
    backupInterval:
      account.periodicIntervalMinutes === undefined ? null : formatDuration(account.periodicIntervalMinutes * 60_000),
    earliestRestorableTime: account.oldestRestorableTime ?? null,
  };
  const rpo = { rpo: rpoMs === undefined ? null : formatDuration(rpoMs), rpoMs: rpoMs ?? null };
  const unknown = (why: string): CosmosRecoveryPoint => ({
    ...base,
    ...rpo,
    newestRecoveryPoint: null,
    age: null,
    ageSeconds: null,
    state: 'unknown',
    why,
  });
  if (account.error) return unknown(account.error);
  const type = account.policyType?.toLowerCase();
  if (type === 'continuous') {
    // Continuous backup restores to any second of its window: the newest point is the moment of reading.
    if (!account.oldestRestorableTime)
      return unknown(`the account is not among the restorable accounts at ${account.location ?? 'its location'}`);
    return { ...base, ...judge(new Date(nowMs).toISOString(), rpoMs, nowMs, { absent: '', noRpo: noCosmosRpo }) };
  }
  if (type === 'periodic') {
    if (account.periodicIntervalMinutes === undefined) return unknown('the periodic backup interval was not reported');
    const intervalMs = account.periodicIntervalMinutes * 60_000;
    if (rpoMs === undefined) return unknown(noCosmosRpo);
    // A periodic account's newest backup may be up to one interval old: the interval is its RPO.
    const met = intervalMs <= rpoMs;
    return {
      ...base,
      ...rpo,
      newestRecoveryPoint: null,
      age: formatDuration(intervalMs),
      ageSeconds: Math.round(intervalMs / 1000),
      state: met ? 'met' : 'missed',
      ...(met
        ? {}
        : { why: `periodic backups every ${formatDuration(intervalMs)}, longer than the RPO of ${rpo.rpo}` }),
    };
  }
  return unknown(`the backup policy type is ${account.policyType ? `"${account.policyType}"` : 'not reported'}`);
}

const noCosmosRpo = 'workload.cosmosRpo is not configured';

function statusOf(state: RecoveryPointJudgement['state']): GateResult['status'] {
  return state === 'met' ? 'pass' : state === 'missed' ? 'fail' : 'warn';
}

function message(subject: string, entry: RecoveryPointJudgement): string {
  if (entry.state === 'met')
    return `${subject}: the newest recovery point is ${entry.age ?? 'current'} old, within the RPO of ${entry.rpo}`;
  return `${subject}: recovery point ${entry.state === 'missed' ? 'missed' : 'not proven'}: ${entry.why ?? 'unknown'}`;
}

/**
 * The checks of one group's databases (`recovery-point/<db>`), or one `recovery-points` warning when unread. A group
 * that declares no `objectives.backupRpo` gets none, as one without `drillInterval` gets no drill-recency check: the
 * report's section still shows each database's newest recovery point.
 */
export function groupRecoveryPointChecks(part: GroupRecoveryPoints): GateResult[] {
  if (part.backupRpo === null) return [];
  if (part.unreadable !== undefined)
    return [
      gate(
        'recovery-points',
        'warn',
        `The recovery points of ${part.group} could not be read: ${part.unreadable}`,
        { backupRpo: part.backupRpo },
        'Give the worker identity read access to the managed databases and their LTR backups, then run the check again.',
      ),
    ];
  return part.databases.map((entry) => {
    const { database, ...evidence } = entry;
    return gate(
      `recovery-point/${database}`,
      statusOf(entry.state),
      message(database, entry),
      { database, ...evidence },
      entry.state === 'met'
        ? undefined
        : entry.rpo === null
          ? `Declare objectives.backupRpo for ${part.group} in fogpilot.yaml (for example "1 hour").`
          : entry.state === 'missed'
            ? `Find why ${database} has no recent backup (automated backups, LTR policy), or restore from the newest one knowing it is older than the RPO.`
            : 'Give the worker read access to msdb backup history, the managed databases and their LTR backups, then run the check again.',
    );
  });
}

/** The checks of the workload (`recovery-point/vm/<name>`, `recovery-point/cosmos/<name>`). */
export function workloadRecoveryPointChecks(part: WorkloadRecoveryPoints): GateResult[] {
  if (part.unreadable !== undefined)
    return [
      gate(
        'recovery-points/workload',
        'warn',
        `The workload's recovery points could not be read: ${part.unreadable}`,
        {},
        'Check that the worker can reach ARM, then run the check again.',
      ),
    ];
  // As for a group: a kind of resource without a declared RPO is shown, not judged.
  return [
    ...part.vms
      .filter((vm) => vm.rpo !== null)
      .map((vm) =>
        gate(
          `recovery-point/vm/${vm.name}`,
          statusOf(vm.state),
          message(`VM ${vm.name}`, vm),
          { ...vm },
          vm.state === 'met'
            ? undefined
            : vm.rpo === null
              ? 'Configure workload.vmRpo in fogpilot.yaml (for example "1 day").'
              : vm.state === 'missed'
                ? `Protect ${vm.name} in ${part.vault ?? 'the vault'} and back it up (fogpilot protect), or find why its scheduled backups stopped.`
                : 'Give the worker read access to the Recovery Services vault, then run the check again.',
        ),
      ),
    ...part.cosmosAccounts
      .filter((account) => account.rpo !== null)
      .map((account) =>
        gate(
          `recovery-point/cosmos/${account.name}`,
          statusOf(account.state),
          message(`Cosmos DB account ${account.name}`, account),
          { ...account },
          account.state === 'met'
            ? undefined
            : account.rpo === null
              ? 'Configure workload.cosmosRpo in fogpilot.yaml (for example "4 hours").'
              : account.state === 'missed'
                ? `Shorten the backup interval of ${account.name}, or migrate it to continuous backup (fogpilot protect, after approval: irreversible).`
                : 'Give the worker read access to the Cosmos DB account and restorable accounts, then run the check again.',
        ),
      ),
  ];
}

/**
 * Why a drill with `requireRecoveryPoint` must not start (undefined: every database has a trusted recovery point
 * within the group's `backupRpo`).
 */
export function recoveryPointRefusal(part: GroupRecoveryPoints): string | undefined {
  if (part.unreadable?.startsWith('not applicable to '))
    return (
      `requireRecoveryPoint: ${part.unreadable}. No trusted recovery point can be required of ${part.group}; ` +
      'nothing was changed. Start the drill without requireRecoveryPoint.'
    );
  if (part.unreadable !== undefined)
    return `requireRecoveryPoint: the recovery points of ${part.group} could not be read (${part.unreadable}); nothing was changed.`;
  if (part.backupRpo === null)
    return (
      `requireRecoveryPoint: objectives.backupRpo must be configured for ${part.group} in fogpilot.yaml ` +
      '(for example "1 hour") to judge its recovery points; nothing was changed.'
    );
  const late = part.databases.filter((entry) => entry.state !== 'met');
  if (part.databases.length === 0)
    return `requireRecoveryPoint: the primary of ${part.group} lists no database to prove a recovery point of; nothing was changed.`;
  if (late.length === 0) return undefined;
  return (
    `requireRecoveryPoint: no trusted recovery point within the backupRpo of ${part.backupRpo} for ` +
    late
      .map((entry) =>
        entry.state === 'missed' && entry.age
          ? `${entry.database} (newest ${entry.newestRecoveryPoint}, ${entry.age} old)`
          : `${entry.database} (${entry.why ?? entry.state})`,
      )
      .join(', ') +
    '; nothing was changed. Find why their backups are late, or start the drill without requireRecoveryPoint.'
  );
}
