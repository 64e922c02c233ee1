/**
 * What the drift checks of the readiness check judge ({@link DriftReadings}), their options, and the small helpers the
 * checks of every concern share. The checks themselves live by concern: configuration parity
 * (`drift-configuration.ts`), logins and SQL Agent jobs (`drift-logins-jobs.ts`), exposure now (`drift-exposure.ts`).
 */
import type { ManagedInstanceView } from '../../domain/azure-state';
import type { AgentJobInfo, BackupInfo, LoginInfo } from '../../sql/data-plane';
import type { GateResult } from '../definitions';

/** A database's long-term retention policy as ARM answers it (ISO 8601 durations; `PT0S` or absent = none). */
export interface RetentionPolicyReading {
  database: string;
  weeklyRetention?: string;
  monthlyRetention?: string;
  yearlyRetention?: string;
  weekOfYear?: number;
}

/** A pair of readings, one per instance; a string says why that side could not be read. */
export interface PairReading<T> {
  primary: T[] | string;
  secondary: T[] | string;
}

/** What the drift checks read besides the preflight snapshot. */
export interface DriftReadings {
  logins: PairReading<LoginInfo>;
  jobs: PairReading<AgentJobInfo>;
  /** Backup history of the primary (automated backups run on the primary only). */
  backups: BackupInfo[] | string;
  /** Absent when not read: the planned failover's preflight spares these ARM reads. */
  retention?: PairReading<RetentionPolicyReading>;
  /** When the reads were made (workflow time, ISO 8601): restore-point ages are measured from here. */
  readAt: string;
}

/** How strict the drift checks are, and which of them run. */
export interface DriftCheckOptions {
  /** A latest restore point older than this warns; older than {@link RESTORE_POINT_FAIL_FACTOR} times this fails. */
  maxRestorePointAgeMs: number;
  /**
   * Whether to check vCores and storage parity. The planned failover leaves them to its `secondary-size` gate and its
   * scale step, which act on them.
   */
  sizes: boolean;
}

/** The default `maxRestorePointAge` of a readiness check, also used by the planned failover's preflight. */
export const DEFAULT_MAX_RESTORE_POINT_AGE_MS = 60 * 60_000;

/**
 * Automated backups of a managed instance take a log backup every 5 to 10 minutes, so a latest restore point this many
 * times older than `maxRestorePointAge` means backups have stopped, not that they are a little late.
 */
export const RESTORE_POINT_FAIL_FACTOR = 4;

/** A check's verdict. */
export type Status = GateResult['status'];
const RANK: Record<Status, number> = { pass: 0, warn: 1, fail: 2 };

/** The worst of some statuses (`pass` for none). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'pass';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}

/** Whether two names ARM reports mean the same thing (case and surrounding blanks aside; absent = empty). */
export const same = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();

/** Which side of a pair reading could not be read, and why (undefined when both were read). */
export function unreadSides<T>(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  reading: PairReading<T>,
): string | undefined {
  const problems = [
    typeof reading.primary === 'string' ? `${primary.name}: ${reading.primary}` : undefined,
    typeof reading.secondary === 'string' ? `${secondary.name}: ${reading.secondary}` : undefined,
  ].filter((problem): problem is string => problem !== undefined);
  return problems.length ? problems.join('; ') : undefined;
}
