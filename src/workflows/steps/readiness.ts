/**
 * Drift checks of the readiness check, as pure functions of what was read: what a failover would carry over badly
 * (the configuration of the pair, logins, SQL Agent jobs, long-term retention) and how exposed the group is right now
 * (restore points, the failover policy). Same shape as the preflight gates, and every check that does not pass says
 * what to do. `readinessCheck` reports them beside the gates; `plannedFailover` runs them too, as warnings that never
 * block it.
 */
import type { FailoverGroupView, ManagedInstanceView } from '../../domain/azure-state';
import { formatDuration } from '../../domain/durations';
import type { AgentJobInfo, BackupInfo, LoginInfo } from '../../sql/data-plane';
import type { GateResult } from '../definitions';
import { evaluatePlannedFailoverGates, gate, type PreflightSnapshot } from './preflight';

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

type Status = GateResult['status'];
const RANK: Record<Status, number> = { pass: 0, warn: 1, fail: 2 };

/** The worst of some statuses (`pass` for none). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'pass';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}

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

// ── configuration parity ───────────────────────────────────────────────────────────────────────────────────────────

const TIER_RANK: Record<string, number> = { generalpurpose: 1, businesscritical: 2 };

function sizeOf(instance: ManagedInstanceView) {
  return {
    instance: instance.name,
    location: instance.location,
    skuName: instance.skuName,
    tier: instance.tier,
    family: instance.family ?? null,
    vCores: instance.vCores,
    storageSizeInGB: instance.storageSizeInGB,
  };
}

const same = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();

export function skuCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = { primary: sizeOf(primary), secondary: sizeOf(secondary) };
  const describe = (instance: ManagedInstanceView): string =>
    `${instance.skuName} (${instance.tier}${instance.family ? `, ${instance.family}` : ''})`;
  if (
    same(primary.skuName, secondary.skuName) &&
    same(primary.tier, secondary.tier) &&
    same(primary.family, secondary.family)
  ) {
    return gate('config-sku', 'pass', `Both instances are ${describe(primary)}`, evidence);
  }
  const primaryRank = TIER_RANK[primary.tier.toLowerCase()];
  const secondaryRank = TIER_RANK[secondary.tier.toLowerCase()];
  if (primaryRank !== undefined && secondaryRank !== undefined && secondaryRank < primaryRank) {
    return gate(
      'config-sku',
      'fail',
      `${secondary.name} is ${describe(secondary)}, a lower service tier than the primary's ${describe(primary)}: ` +
        'after a failover the workload would run on it (Business Critical features such as In-Memory OLTP and the ' +
        'built-in read replica are missing on General Purpose), and no runbook changes the tier on the way',
      evidence,
      `Scale ${secondary.name} to ${primary.skuName} before relying on it (scaleGroup with "sku", or the portal); ` +
        'when raising the tier, Azure wants the geo-secondary scaled first.',
    );
  }
  return gate(
    'config-sku',
    'warn',
    `The instances differ: ${primary.name} is ${describe(primary)}, ${secondary.name} ${describe(secondary)}; ` +
      'performance and cost change with every failover and failback',
    evidence,
    `Bring both instances to the same SKU (scaleGroup with "sku", secondary first when scaling up) so the workload ` +
      'runs the same whichever region is primary.',
  );
}

export function vCoresCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = { primary: sizeOf(primary), secondary: sizeOf(secondary) };
  if (secondary.vCores >= primary.vCores) {
    return gate(
      'config-vcores',
      'pass',
      secondary.vCores === primary.vCores
        ? `Both instances have ${primary.vCores} vCores`
        : `${secondary.name} has ${secondary.vCores} vCores, more than the primary's ${primary.vCores}`,
      evidence,
    );
  }
  return gate(
    'config-vcores',
    'warn',
    `${secondary.name} has ${secondary.vCores} vCores, the primary ${primary.vCores}. A planned failover scales it up ` +
      'first (scaleSecondary "match"), which Azure completes within an hour for most General Purpose instances and ' +
      'later for Business Critical; a forced failover cannot wait for that, so the new primary would run with ' +
      `${secondary.vCores} vCores`,
    evidence,
    `Scale ${secondary.name} to ${primary.vCores} vCores ahead of time (scaleGroup {"vCores": ${primary.vCores}} ` +
      'scales the secondary first), so no failover waits on a scale or runs short of compute.',
  );
}

export function storageCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = { primary: sizeOf(primary), secondary: sizeOf(secondary) };
  const sizes = `${secondary.name} has ${secondary.storageSizeInGB} GB, the primary ${primary.storageSizeInGB} GB`;
  if (secondary.storageSizeInGB === primary.storageSizeInGB) {
    return gate('config-storage', 'pass', `Both instances have ${primary.storageSizeInGB} GB of storage`, evidence);
  }
  const target = Math.max(primary.storageSizeInGB, secondary.storageSizeInGB);
  const action =
    `Set both instances to ${target} GB (scaleGroup {"storageSizeInGB": ${target}}); storage-only scaling usually ` +
    'completes within minutes.';
  if (secondary.storageSizeInGB < primary.storageSizeInGB) {
    return gate(
      'config-storage',
      'warn',
      `${sizes}. Azure expects the pair to have the same storage size (GeoDrInstanceSizeMismatch); a planned failover ` +
        'scales the secondary up first, a forced failover cannot',
      evidence,
      action,
    );
  }
  return gate(
    'config-storage',
    'warn',
    `${sizes}. Azure expects the pair to have the same storage size (GeoDrInstanceSizeMismatch): scaling the pair ` +
      'may be refused until they match, and a failback lands on the smaller instance',
    evidence,
    action,
  );
}

export function licenseCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = {
    primary: { instance: primary.name, licenseType: primary.licenseType ?? null },
    secondary: { instance: secondary.name, licenseType: secondary.licenseType ?? null },
  };
  if (primary.licenseType === undefined && secondary.licenseType === undefined) {
    return gate('config-license', 'pass', 'ARM reports no license type for either instance', evidence);
  }
  if (same(primary.licenseType, secondary.licenseType)) {
    return gate('config-license', 'pass', `Both instances use license type ${primary.licenseType}`, evidence);
  }
  return gate(
    'config-license',
    'warn',
    `${secondary.name} uses license type ${secondary.licenseType ?? 'unknown'}, the primary ` +
      `${primary.licenseType ?? 'unknown'}: after a failover the new primary is billed under its own license type`,
    evidence,
    'Set the same license type on both instances (`az sql mi update --license-type BasePrice|LicenseIncluded`), so ' +
      'cost and Azure Hybrid Benefit stay the same whichever region is primary.',
  );
}

export function backupRedundancyCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = {
    primary: { instance: primary.name, backupStorageRedundancy: primary.backupStorageRedundancy ?? null },
    secondary: { instance: secondary.name, backupStorageRedundancy: secondary.backupStorageRedundancy ?? null },
  };
  if (primary.backupStorageRedundancy === undefined && secondary.backupStorageRedundancy === undefined) {
    return gate('config-backup-redundancy', 'pass', 'ARM reports no backup storage redundancy for either', evidence);
  }
  if (same(primary.backupStorageRedundancy, secondary.backupStorageRedundancy)) {
    return gate(
      'config-backup-redundancy',
      'pass',
      `Both instances keep backups on ${primary.backupStorageRedundancy} storage`,
      evidence,
    );
  }
  const after = secondary.backupStorageRedundancy ?? 'unknown';
  const notGeo = !/^geo/i.test(after);
  return gate(
    'config-backup-redundancy',
    'warn',
    `${secondary.name} keeps backups on ${after} storage, the primary on ${primary.backupStorageRedundancy ?? 'unknown'}: ` +
      `after a failover the new primary's backups (point-in-time restore, long-term retention) are ${after}` +
      (notGeo ? ', so they cannot be geo-restored if that region is lost' : ''),
    evidence,
    'Set the same backup storage redundancy on both instances (portal: Compute + storage → Backup storage ' +
      'redundancy, or `az sql mi update --backup-storage-redundancy`).',
  );
}

const NO_RETENTION = /^(|PT0S|P0D|P0W|P0M|P0Y)$/i;

function retentionOf(policy: RetentionPolicyReading | undefined) {
  const norm = (value: string | undefined): string | null =>
    value === undefined || NO_RETENTION.test(value.trim()) ? null : value.trim().toUpperCase();
  const yearly = norm(policy?.yearlyRetention);
  return {
    weeklyRetention: norm(policy?.weeklyRetention),
    monthlyRetention: norm(policy?.monthlyRetention),
    yearlyRetention: yearly,
    weekOfYear: yearly ? (policy?.weekOfYear ?? null) : null,
  };
}

function describeRetention(policy: ReturnType<typeof retentionOf>): string {
  const parts = [
    policy.weeklyRetention && `weekly ${policy.weeklyRetention}`,
    policy.monthlyRetention && `monthly ${policy.monthlyRetention}`,
    policy.yearlyRetention && `yearly ${policy.yearlyRetention} (week ${policy.weekOfYear ?? '?'})`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'none';
}

export function retentionCheck(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  retention: PairReading<RetentionPolicyReading>,
  links: PreflightSnapshot['links'],
): GateResult {
  const unread = unreadSides(primary, secondary, retention);
  if (unread) {
    return gate(
      'ltr-policy',
      'warn',
      `Long-term retention policies could not be compared: ${unread}`,
      {},
      'Check that the identity may read backupLongTermRetentionPolicies of both instances, then run the check again.',
    );
  }
  const primaryPolicies = retention.primary as RetentionPolicyReading[];
  const secondaryPolicies = retention.secondary as RetentionPolicyReading[];
  // Databases keep their names on the partner instance; a link says so explicitly when it names the partner database.
  const partnerName = new Map(
    (typeof links === 'string' ? [] : links).map((link) => [link.database, link.partnerDatabase || link.database]),
  );
  const databases = [
    ...new Set([
      ...primaryPolicies.map((policy) => policy.database),
      ...(typeof links === 'string' ? [] : links).map((link) => link.database),
    ]),
  ].sort();
  const compared = databases.map((database) => {
    const onPrimary = retentionOf(primaryPolicies.find((policy) => policy.database === database));
    const partner = partnerName.get(database) ?? database;
    const onSecondary = retentionOf(secondaryPolicies.find((policy) => policy.database === partner));
    return {
      database,
      primary: onPrimary,
      secondary: onSecondary,
      matches: JSON.stringify(onPrimary) === JSON.stringify(onSecondary),
    };
  });
  const evidence = { primary: primary.name, secondary: secondary.name, databases: compared };
  const differing = compared.filter((entry) => !entry.matches);
  if (differing.length === 0) {
    const withLtr = compared.filter((entry) => describeRetention(entry.primary) !== 'none').length;
    return gate(
      'ltr-policy',
      'pass',
      `${compared.length} database(s) have the same long-term retention policy on both instances (${withLtr} with LTR)`,
      evidence,
    );
  }
  return gate(
    'ltr-policy',
    'warn',
    'Long-term retention policies differ: ' +
      differing
        .map(
          (entry) =>
            `${entry.database} (primary ${describeRetention(entry.primary)}, secondary ${describeRetention(entry.secondary)})`,
        )
        .join('; ') +
      '. LTR backups are taken by the primary only, so after a failover the secondary’s policy applies',
    evidence,
    `Set the primary's policy on the secondary's databases (\`az sql midb ltr-policy set --mi ${secondary.name} ` +
      '--name <database> --weekly-retention … --monthly-retention … --yearly-retention … --week-of-year …`).',
  );
}

// ── logins and jobs (not replicated: master and msdb are not in the failover group) ─────────────────────────────────

/** Principals every instance has of its own: not the business of a drift check. */
function isSystemLogin(login: LoginInfo): boolean {
  const name = login.name.toUpperCase();
  return (
    name.startsWith('##') ||
    name.startsWith('NT AUTHORITY\\') ||
    name.startsWith('NT SERVICE\\') ||
    !['S', 'U', 'G', 'E', 'X'].includes(login.type.toUpperCase())
  );
}

const sidKey = (sid: string): string => sid.trim().replace(/^0x/i, '').toUpperCase();
const sidText = (sid: string): string => `0x${sidKey(sid)}`;

function unreadSides<T>(
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

function createLoginStatement(login: LoginInfo, sid: string): string {
  const type = login.type.toUpperCase();
  if (type === 'E' || type === 'X') return `CREATE LOGIN [${login.name}] FROM EXTERNAL PROVIDER;`;
  return `CREATE LOGIN [${login.name}] WITH PASSWORD = N'<its password>', SID = ${sidText(sid)};`;
}

export function loginsCheck(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  logins: PairReading<LoginInfo>,
): GateResult {
  const unread = unreadSides(primary, secondary, logins);
  if (unread) {
    return gate(
      'logins-match',
      'warn',
      `Logins could not be compared: ${unread}`,
      {},
      "Give fogpilot's SQL identity VIEW ANY DEFINITION on both instances (or fix the connection), then run the " +
        'check again: logins are not replicated, so they drift unless someone compares them.',
    );
  }
  const onPrimary = (logins.primary as LoginInfo[]).filter((login) => !isSystemLogin(login));
  const onSecondary = new Map(
    (logins.secondary as LoginInfo[])
      .filter((login) => !isSystemLogin(login))
      .map((login) => [login.name.toLowerCase(), login]),
  );
  const missing = onPrimary.filter((login) => !onSecondary.has(login.name.toLowerCase()));
  const mismatched = onPrimary
    .map((login) => ({ login, partner: onSecondary.get(login.name.toLowerCase()) }))
    .filter(
      (entry): entry is { login: LoginInfo; partner: LoginInfo } =>
        entry.partner !== undefined && sidKey(entry.partner.sid) !== sidKey(entry.login.sid),
    );
  const primaryNames = new Set(onPrimary.map((login) => login.name.toLowerCase()));
  const evidence = {
    primary: primary.name,
    secondary: secondary.name,
    compared: onPrimary.length,
    missing: missing.map((login) => ({ login: login.name, sid: sidText(login.sid), type: login.type })),
    sidMismatch: mismatched.map(({ login, partner }) => ({
      login: login.name,
      primarySid: sidText(login.sid),
      secondarySid: sidText(partner.sid),
    })),
    onlyOnSecondary: [...onSecondary.values()]
      .filter((login) => !primaryNames.has(login.name.toLowerCase()))
      .map((login) => login.name),
  };
  if (missing.length === 0 && mismatched.length === 0) {
    return gate(
      'logins-match',
      'pass',
      `${onPrimary.length} login(s) of the primary exist on ${secondary.name} with the same SID`,
      evidence,
    );
  }
  const problems = [
    missing.length ? `missing on ${secondary.name}: ${missing.map((login) => login.name).join(', ')}` : '',
    mismatched.length
      ? `with a different SID on ${secondary.name}: ` +
        mismatched
          .map(
            ({ login, partner }) => `${login.name} (primary ${sidText(login.sid)}, secondary ${sidText(partner.sid)})`,
          )
          .join(', ')
      : '',
  ].filter(Boolean);
  const statements = [
    ...missing.map((login) => createLoginStatement(login, login.sid)),
    ...mismatched.map(({ login }) => `DROP LOGIN [${login.name}]; ${createLoginStatement(login, login.sid)}`),
  ];
  return gate(
    'logins-match',
    'fail',
    `Logins of the primary ${problems.join('; ')}. After a failover, the database users of these logins cannot log ` +
      'in: users map to logins by SID, and logins are not replicated',
    evidence,
    `On ${secondary.name}, create each login with the primary's SID: ${statements.join(' ')} ` +
      'Repeat after every login change on the primary.',
  );
}

export function agentJobsCheck(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  jobs: PairReading<AgentJobInfo>,
): GateResult {
  const unread = unreadSides(primary, secondary, jobs);
  if (unread) {
    return gate(
      'agent-jobs-match',
      'warn',
      `SQL Agent jobs could not be compared: ${unread}`,
      {},
      "Give fogpilot's SQL identity read access to msdb.dbo.sysjobs on both instances (SQLAgentReaderRole), then run " +
        'the check again.',
    );
  }
  const onPrimary = jobs.primary as AgentJobInfo[];
  const secondaryNames = new Set((jobs.secondary as AgentJobInfo[]).map((job) => job.name.toLowerCase()));
  const missing = onPrimary.filter((job) => !secondaryNames.has(job.name.toLowerCase()));
  const evidence = {
    primary: primary.name,
    secondary: secondary.name,
    compared: onPrimary.length,
    missing: missing.map((job) => ({ job: job.name, enabled: job.enabled })),
  };
  if (missing.length === 0) {
    return gate(
      'agent-jobs-match',
      'pass',
      `${onPrimary.length} SQL Agent job(s) of the primary exist on ${secondary.name}`,
      evidence,
    );
  }
  return gate(
    'agent-jobs-match',
    'warn',
    `SQL Agent jobs of the primary missing on ${secondary.name}: ${missing.map((job) => job.name).join(', ')}. ` +
      'Jobs live in msdb, which is not replicated: after a failover they would not run',
    evidence,
    `Script each job on ${primary.name} (SSMS: Script Job as → CREATE To) and create it on ${secondary.name}; let ` +
      "each step first check that its database is READ_WRITE (DATABASEPROPERTYEX(…, 'Updateability')), so both " +
      'copies can stay enabled.',
  );
}

// ── exposure now ───────────────────────────────────────────────────────────────────────────────────────────────────

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
