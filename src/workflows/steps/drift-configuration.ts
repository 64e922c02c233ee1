/**
 * Drift checks of configuration parity: what a failover would carry over badly because the two instances of the pair
 * are not alike (SKU and tier, vCores, storage, license type, backup storage redundancy, long-term retention).
 */
import type { ManagedInstanceView } from '../../domain/azure-state';
import type { GateResult } from '../definitions';
import { gate, type PreflightSnapshot } from './preflight';
import { same, unreadSides, type PairReading, type RetentionPolicyReading } from './drift-readings';

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

/** `config-sku`: the same SKU, service tier and hardware family on both; a lower tier on the secondary fails. */
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

/** `config-vcores`: the secondary has at least the primary's vCores; fewer warns. */
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

/** `config-storage`: the same storage size on both; a difference warns. */
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

/** `config-license`: the same license type on both; a difference warns. */
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

/** `config-backup-redundancy`: the same backup storage redundancy on both; a difference warns. */
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

/** `ltr-policy`: each database has the same long-term retention policy on both instances; a difference warns. */
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
