/**
 * Drift checks of the readiness check, as pure functions of what was read: what a failover would carry over badly
 * (the configuration of the pair, logins, SQL Agent jobs, long-term retention) and how exposed the group is right now
 * (restore points, the failover policy). Same shape as the preflight gates, and every check that does not pass says
 * what to do. `readinessCheck` reports them beside the gates; `plannedFailover` runs them too, as warnings that never
 * block it.
 */
import type { GateResult } from '../definitions';
import { formatDuration } from '../../domain/durations';
import { evaluatePlannedFailoverGates, gate, type PreflightSnapshot } from './preflight';
import type { DriftCheckOptions, DriftReadings } from './drift-readings';
import {
  backupRedundancyCheck,
  licenseCheck,
  retentionCheck,
  skuCheck,
  storageCheck,
  vCoresCheck,
} from './drift-configuration';
import { agentJobsCheck, loginsCheck } from './drift-logins-jobs';
import { failoverPolicyCheck, restorePointCheck } from './drift-exposure';
import { evaluateSqlDatabaseDriftChecks, serverFailoverPolicyCheck } from './drift-sql-database';

export {
  DEFAULT_MAX_RESTORE_POINT_AGE_MS,
  RESTORE_POINT_FAIL_FACTOR,
  worstStatus,
  type DriftCheckOptions,
  type DriftReadings,
  type PairReading,
  type RetentionPolicyReading,
} from './drift-readings';
export { backupRedundancyCheck, licenseCheck, retentionCheck, skuCheck, storageCheck, vCoresCheck };
export { agentJobsCheck, loginsCheck };
export { failoverPolicyCheck, restorePointCheck };

/** Every preflight gate of a planned failover to the current secondary, then every drift check. */
export function evaluateReadinessChecks(
  snapshot: PreflightSnapshot,
  drift: DriftReadings | undefined,
  options: DriftCheckOptions,
): GateResult[] {
  return [...evaluatePlannedFailoverGates(snapshot), ...evaluateDriftChecks(snapshot, drift, options)];
}

/** The drift checks alone (see the file comment). */
export function evaluateDriftChecks(
  snapshot: Pick<PreflightSnapshot, 'views' | 'primary' | 'secondary' | 'links'>,
  drift: DriftReadings | undefined,
  options: DriftCheckOptions,
): GateResult[] {
  const checks: GateResult[] = [];
  const primary = snapshot.primary?.instance;
  const secondary = snapshot.secondary?.instance;
  if (!primary || !secondary || !drift) {
    checks.push(
      gate(
        'drift-checks',
        'warn',
        'The configuration, logins, jobs and backups were not compared: the roles do not say which instance is primary',
        { primary: primary?.name ?? null, secondary: secondary?.name ?? null },
        'Run the check again once both locations report one primary and one secondary (see roles-consistent).',
      ),
    );
  } else if (snapshot.primary?.serverSide && snapshot.secondary?.serverSide) {
    // A server failover group (Azure SQL Database): per member database, and with its own failover-policy command.
    checks.push(...evaluateSqlDatabaseDriftChecks(snapshot, snapshot.primary, snapshot.secondary, drift, options));
    checks.push(serverFailoverPolicyCheck(snapshot.views));
    return checks;
  } else {
    checks.push(skuCheck(primary, secondary));
    if (options.sizes) checks.push(vCoresCheck(primary, secondary), storageCheck(primary, secondary));
    checks.push(licenseCheck(primary, secondary), backupRedundancyCheck(primary, secondary));
    if (drift.retention) checks.push(retentionCheck(primary, secondary, drift.retention, snapshot.links));
    checks.push(
      loginsCheck(primary, secondary, drift.logins),
      agentJobsCheck(primary, secondary, drift.jobs),
      restorePointCheck(primary, drift, snapshot.links, options.maxRestorePointAgeMs),
    );
  }
  checks.push(failoverPolicyCheck(snapshot.views));
  return checks;
}

/**
 * `drill-recency`: a DR drill passed within the group's `objectives.drillInterval`. Undefined when the group declares
 * no interval.
 */
export function drillRecencyCheck(
  reading: { intervalMs?: number; lastDrillAt?: string; unreadable?: string },
  nowMs: number,
): GateResult | undefined {
  if (reading.intervalMs === undefined) return undefined;
  const interval = formatDuration(reading.intervalMs);
  const evidence = { intervalMs: reading.intervalMs, lastDrillAt: reading.lastDrillAt ?? null };
  const action = `Run a DR drill (fogpilot drill <group>) and schedule one at least every ${interval} (fogpilot schedule create).`;
  if (reading.unreadable) {
    return gate(
      'drill-recency',
      'warn',
      `The drills of the group could not be listed: ${reading.unreadable}`,
      evidence,
      action,
    );
  }
  if (!reading.lastDrillAt)
    return gate(
      'drill-recency',
      'fail',
      `No DR drill of the group has passed (objective: one every ${interval})`,
      evidence,
      action,
    );
  const ageMs = nowMs - Date.parse(reading.lastDrillAt);
  if (ageMs <= reading.intervalMs)
    return gate(
      'drill-recency',
      'pass',
      `The last DR drill passed ${formatDuration(ageMs)} ago (objective: every ${interval})`,
      evidence,
    );
  return gate(
    'drill-recency',
    'fail',
    `The last DR drill passed ${formatDuration(ageMs)} ago, longer than the objective of one every ${interval}`,
    evidence,
    action,
  );
}
