/**
 * Drift checks of how exposed the group is right now: how old the latest restore point is, and whether Azure may fail
 * over by itself (the read-write failover policy).
 */
import type { FailoverGroupView, ManagedInstanceView } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import type { GateResult } from '../definitions';
import { gate, type PreflightSnapshot } from './preflight';
import { RESTORE_POINT_FAIL_FACTOR, same, worstStatus, type DriftReadings, type Status } from './drift-readings';

/** `restore-point-age`: each database's latest restore point is at most `maxAgeMs` old (older warns, {@link RESTORE_POINT_FAIL_FACTOR} times older fails). */
export function restorePointCheck(
  primary: ManagedInstanceView,
  drift: Pick<DriftReadings, 'backups' | 'readAt'>,
  links: PreflightSnapshot['links'],
  maxAgeMs: number,
): GateResult {
  const max = formatDuration(maxAgeMs);
  if (typeof drift.backups === 'string') {
    return gate(
      'restore-point-age',
      'warn',
      `The backup history of ${primary.name} could not be read: ${drift.backups}`,
      { maxRestorePointAge: max },
      "Give fogpilot's SQL identity read access to msdb.dbo.backupset on the primary, then run the check again.",
    );
  }
  const backups = drift.backups;
  const now = Date.parse(drift.readAt);
  const databases = [
    ...new Set([
      ...(typeof links === 'string' ? [] : links.map((link) => link.database)),
      ...backups.map((backup) => backup.database),
    ]),
  ].sort();
  const failAfterMs = maxAgeMs * RESTORE_POINT_FAIL_FACTOR;
  const entries = databases.map((database) => {
    const backup = backups.find((entry) => entry.database === database);
    const times = [backup?.lastFullBackup, backup?.lastLogBackup]
      .map((value) => (value ? Date.parse(value) : NaN))
      .filter((value) => Number.isFinite(value));
    const latest = times.length ? Math.max(...times) : undefined;
    // The instance's clock may run a little ahead of the workflow's: a restore point "in the future" is fresh.
    const ageMs = latest === undefined ? undefined : Math.max(0, now - latest);
    const status: Status = ageMs === undefined || ageMs > failAfterMs ? 'fail' : ageMs > maxAgeMs ? 'warn' : 'pass';
    return {
      database,
      lastFullBackup: backup?.lastFullBackup ?? null,
      lastLogBackup: backup?.lastLogBackup ?? null,
      latestRestorePoint: latest === undefined ? null : new Date(latest).toISOString(),
      age: ageMs === undefined ? null : formatDuration(ageMs),
      ageSeconds: ageMs === undefined ? null : Math.round(ageMs / 1000),
      status,
    };
  });
  const evidence = {
    instance: primary.name,
    maxRestorePointAge: max,
    failAfter: formatDuration(failAfterMs),
    readAt: drift.readAt,
    databases: entries,
  };
  if (entries.length === 0) {
    return gate(
      'restore-point-age',
      'warn',
      `${primary.name} reports no user database to check backups of`,
      evidence,
      'Check that the databases are in the failover group.',
    );
  }
  const status = worstStatus(entries.map((entry) => entry.status));
  if (status === 'pass') {
    const oldest = Math.max(...entries.map((entry) => entry.ageSeconds ?? 0));
    return gate(
      'restore-point-age',
      'pass',
      `Every database has a restore point at most ${formatDuration(oldest * 1000)} old (limit ${max})`,
      evidence,
    );
  }
  const late = entries.filter((entry) => entry.status !== 'pass');
  return gate(
    'restore-point-age',
    status,
    `Latest restore point older than ${max} on ${primary.name}: ` +
      late.map((entry) => `${entry.database} ${entry.age ?? 'none recorded'}`).join(', ') +
      '. Automated backups take a log backup every 5-10 minutes, so backups of these databases are failing or stopped' +
      (status === 'fail' ? `, or were never taken (limit for a failure: ${formatDuration(failAfterMs)})` : ''),
    evidence,
    "Check the databases' backup history (msdb.dbo.backupset) and the instance's health in the portal; a point-in-" +
      'time or geo-restore could only go back to the restore points shown. Open a support case if automated backups ' +
      'have stopped.',
  );
}

/** `failover-policy`: Manual passes; Automatic warns that Azure may fail over by itself when its grace period ends. */
export function failoverPolicyCheck(views: FailoverGroupView[]): GateResult {
  const policies = views.map((view) => ({
    location: view.location,
    readWriteFailoverPolicy: view.readWriteFailoverPolicy,
    failoverWithDataLossGracePeriodMinutes: view.failoverWithDataLossGracePeriodMinutes ?? null,
  }));
  const evidence = { policies };
  const policy = views.find((view) => view.readWriteFailoverPolicy)?.readWriteFailoverPolicy;
  const grace = views.find(
    (view) => view.failoverWithDataLossGracePeriodMinutes !== undefined,
  )?.failoverWithDataLossGracePeriodMinutes;
  if (policy === undefined) {
    return gate(
      'failover-policy',
      'warn',
      'The read-write failover policy could not be read',
      evidence,
      'Check the group in the portal.',
    );
  }
  if (same(policy, 'Manual')) {
    return gate(
      'failover-policy',
      'pass',
      'Read-write failover policy Manual: Azure never fails over on its own; fogpilot or a person decides',
      evidence,
    );
  }
  if (same(policy, 'Automatic')) {
    const after = grace !== undefined ? formatDuration(grace * 60_000) : 'its grace period';
    return gate(
      'failover-policy',
      'warn',
      `Read-write failover policy Automatic with a grace period of ${grace ?? 'unknown'} minutes: after an outage ` +
        `of the primary lasting ${after}, Azure fails over by itself, possibly losing data, whatever a runbook or the ` +
        'on-call is doing at the time',
      evidence,
      'If fogpilot or your on-call decides failovers, set the policy to Manual (`az sql instance-failover-group ' +
        'update --failover-policy Manual`); if you keep Automatic, make the grace period longer than the time your ' +
        'team needs to decide, and expect Azure to act when it ends.',
    );
  }
  return gate(
    'failover-policy',
    'warn',
    `Unknown read-write failover policy "${policy}"`,
    evidence,
    'Check the group in the portal: fogpilot knows Manual and Automatic.',
  );
}
