/**
 * Drift checks of an Azure SQL Database server failover group, as pure functions of what was read: what a failover
 * would carry over badly between the group's side on the primary server and on the secondary. Per member database
 * pair, the service objective (edition and compute, compared through the elastic pool for a pooled database) and the
 * backup storage redundancy; the membership (a database of the primary outside the group does not fail over, a member
 * missing on a server does not exist there after one); and the users of each member database against the partner
 * server's logins (a user mapped to a SQL login by SID is orphaned on a server whose master lacks that SID).
 *
 * The checks of a Managed Instance pair that have no meaning here pass with the reason ("not applicable to SQL
 * Database: …"), so a report of either kind names the same concerns. `readinessCheck` and the planned failover's
 * preflight warnings both reach these through `evaluateDriftChecks` (./readiness.ts).
 */
import type { InstanceReading } from '../../activities';
import type { ElasticPoolView, ManagedInstanceView, SqlDatabaseView, SqlSku } from '../../domain/azure-state';
import { parseServerFailoverGroupId } from '../../domain/group-ref';
import type { LoginInfo } from '../../sql/data-plane';
import type { GateResult } from '../definitions';
import { gate, type PreflightSnapshot } from './preflight';
import { same, unreadSides, type DriftCheckOptions, type DriftReadings, type PairReading } from './drift-readings';
import { failoverPolicyCheck, restorePointCheck } from './drift-exposure';
import { describeSku, skuAtLeast } from './member-size';

/** What the check names on a server group: pass, with why it does not apply. */
export function notApplicable(name: string, reason: string): GateResult {
  return gate(name, 'pass', `Not applicable to SQL Database: ${reason}`, { applicable: false, kind: 'sqlDatabase' });
}

/** Why each check of a Managed Instance pair does not apply to a server failover group. */
export const NOT_APPLICABLE_TO_SQL_DATABASE = {
  'config-vcores':
    'compute is sized per database or elastic pool, not per server; each pair is compared in config-sku/<database>',
  'config-storage':
    'storage is sized per database (max size) or elastic pool, not per server; each pair is compared in ' +
    'config-sku/<database>',
  'config-license':
    'the license type (Azure Hybrid Benefit) is set per vCore database or pool and is not read; compare ' +
    '`az sql db show --query licenseType` on both servers if you use it',
  'ltr-policy':
    'long-term retention policies of SQL Database are set per database on each server and are not read by ' +
    'fogpilot; compare `az sql db ltr-policy show` on both servers',
  'agent-jobs-match':
    'SQL Database has no SQL Agent and no msdb, so no job lives on a server to be missing after a failover ' +
    '(elastic jobs and Automation run outside the servers)',
  'pair-checks':
    'DNS zones, subnets and their network rules, collation and time zone of an instance, and instance maintenance ' +
    'windows are Managed Instance settings; a logical server has none of them',
  'recovery-points':
    "trusted recovery points are read from a managed instance's restore points and LTR backups; for SQL Database " +
    'the newest automatic backup of each member database is judged in restore-point-age',
} as const;

type NotApplicableName = keyof typeof NOT_APPLICABLE_TO_SQL_DATABASE;

/** The check `name` as not applicable, with its reason. */
export function notApplicableCheck(name: NotApplicableName): GateResult {
  return notApplicable(name, NOT_APPLICABLE_TO_SQL_DATABASE[name]);
}

/** The resource group in an ARM id (`-g` of the commands an action names), or a placeholder. */
function resourceGroupOf(id: string): string {
  return /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? '<resource group>';
}

function groupNameOf(member: InstanceReading): string {
  return parseServerFailoverGroupId(member.instance.id)?.name ?? '<group>';
}

const byName = (databases: SqlDatabaseView[], name: string): SqlDatabaseView | undefined =>
  databases.find((database) => database.name.toLowerCase() === name.toLowerCase());

function poolOf(member: InstanceReading, database: SqlDatabaseView): ElasticPoolView | undefined {
  const id = database.elasticPoolId?.toLowerCase();
  return id ? member.serverSide?.elasticPools.find((pool) => pool.id.toLowerCase() === id) : undefined;
}

/** The member databases held on both servers, in the primary's order, with their copies. */
export function databasePairs(
  primary: InstanceReading,
  secondary: InstanceReading,
): { primary: SqlDatabaseView; secondary: SqlDatabaseView }[] {
  const onSecondary = secondary.serverSide?.databases ?? [];
  return (primary.serverSide?.databases ?? []).flatMap((database) => {
    const partner = byName(onSecondary, database.name);
    return partner ? [{ primary: database, secondary: partner }] : [];
  });
}

/** How a SKU is written in a scaleGroup input: `"GP_Gen5_4"`, `"S3"`, or the object for anything else. */
function skuInput(sku: SqlSku): string {
  if (/^(GP|BC|HS)(_S)?_/i.test(sku.name) && sku.capacity !== undefined) return `"${sku.name}_${sku.capacity}"`;
  if (/^(Basic|S\d+|P\d+)$/i.test(sku.name)) return `"${sku.name}"`;
  return JSON.stringify({ name: sku.name, ...(sku.capacity !== undefined ? { capacity: sku.capacity } : {}) });
}

function sameSkuExactly(a: SqlSku, b: SqlSku): boolean {
  return same(a.name, b.name) && same(a.tier, b.tier) && same(a.family, b.family) && a.capacity === b.capacity;
}

const TIER_ORDER = ['basic', 'standard', 'premium', 'generalpurpose', 'businesscritical', 'hyperscale'];

/** Whether `candidate`'s edition (tier) is a known one below `reference`'s. */
function lowerTier(candidate: SqlSku, reference: SqlSku): boolean {
  const have = TIER_ORDER.indexOf((candidate.tier ?? '').toLowerCase());
  const want = TIER_ORDER.indexOf((reference.tier ?? '').toLowerCase());
  return have >= 0 && want >= 0 && have < want;
}

function sizeOf(member: InstanceReading, database: SqlDatabaseView) {
  const pool = poolOf(member, database);
  return {
    server: member.instance.name,
    database: database.name,
    serviceObjective: database.currentServiceObjectiveName ?? null,
    sku: database.sku,
    ...(pool ? { elasticPool: { name: pool.name, sku: pool.sku } } : {}),
  };
}

/** `GP_Gen5 (4), GeneralPurpose` or `pool orders-pool GP_Gen5 (4), GeneralPurpose`. */
function describeSide(sku: SqlSku, pool: ElasticPoolView | undefined): string {
  return `${pool ? `pool ${pool.name} ` : ''}${describeSku(sku)}${sku.tier ? `, ${sku.tier}` : ''}`;
}

/**
 * `config-sku/<database>`: the secondary's copy has at least the primary's edition (tier) and compute (capacity),
 * compared through the elastic pools when the database is pooled on both servers. A lower edition fails (the workload
 * would run without the features it has now, and no runbook changes the edition on the way); less compute in the same
 * edition warns (a planned failover scales it first, a forced one cannot wait); a different SKU warns; a database
 * pooled on one server only warns (no runbook moves a database into or out of a pool). With `sizes` off (the planned
 * failover, whose `secondary-size` gate scales the secondary first), a smaller secondary is left to that gate.
 */
export function serviceObjectiveCheck(
  primary: InstanceReading,
  secondary: InstanceReading,
  pair: { primary: SqlDatabaseView; secondary: SqlDatabaseView },
  sizes: boolean,
): GateResult {
  const name = `config-sku/${pair.primary.name}`;
  const database = pair.primary.name;
  const [primaryPool, secondaryPool] = [poolOf(primary, pair.primary), poolOf(secondary, pair.secondary)];
  const evidence = { primary: sizeOf(primary, pair.primary), secondary: sizeOf(secondary, pair.secondary) };
  const [p, s] = [primary.instance.name, secondary.instance.name];
  if (!primaryPool !== !secondaryPool) {
    const pooled = primaryPool ? p : s;
    const alone = primaryPool ? s : p;
    return gate(
      name,
      'warn',
      `${database} is in elastic pool ${(primaryPool ?? secondaryPool)!.name} on ${pooled} but has a SKU of its own ` +
        `on ${alone} (${describeSku((primaryPool ? pair.secondary : pair.primary).sku)}): its compute is not ` +
        'comparable across the pair, and no runbook moves a database into or out of a pool, so a failover changes ' +
        'what it runs on',
      evidence,
      `Make both copies alike: move ${database} on ${s} into an elastic pool at least the size of the primary's ` +
        `(az sql db update -g ${resourceGroupOf(secondary.instance.id)} -s ${s} -n ${database} --elastic-pool <pool>), ` +
        'or give both copies their own SKU of the same size.',
    );
  }
  const [want, have] = [primaryPool?.sku ?? pair.primary.sku, secondaryPool?.sku ?? pair.secondary.sku];
  const subject = primaryPool ? `${database} (through its elastic pool)` : database;
  const primarySide = describeSide(want, primaryPool);
  const secondarySide = describeSide(have, secondaryPool);
  if (sameSkuExactly(want, have)) return gate(name, 'pass', `${subject} is ${primarySide} on both servers`, evidence);
  const scaleInput = secondaryPool
    ? `{"elasticPools": {"${secondaryPool.name}": ${skuInput(want)}}}`
    : `{"databases": {"${database}": ${skuInput(want)}}}`;
  const scaleAction =
    `Scale ${secondaryPool ? `pool ${secondaryPool.name}` : database} on ${s} to the primary's ` +
    `${describeSku(want)} before relying on it (scaleGroup ${scaleInput} scales the secondary first), so no ` +
    'failover waits on a scale or runs short.';
  if (!skuAtLeast(have, want)) {
    if (!sizes) {
      return gate(
        name,
        'pass',
        `${subject} is smaller on ${s} (${secondarySide}) than on ${p} (${primarySide}); the secondary-size gate ` +
          'scales it first',
        evidence,
      );
    }
    if (lowerTier(have, want)) {
      return gate(
        name,
        'fail',
        `${subject} is ${secondarySide} on ${s}, a lower edition than the primary's ${primarySide}: after a failover ` +
          'the workload would run on it without what the higher edition gives (Business Critical and Premium: ' +
          'In-Memory OLTP, a readable replica, faster storage)',
        evidence,
        `${scaleAction} Azure wants the geo-secondary upgraded first when raising the edition.`,
      );
    }
    return gate(
      name,
      'warn',
      `${subject} has less compute on ${s} (${secondarySide}) than on ${p} (${primarySide}): a smaller geo-secondary ` +
        'can fall behind the primary, and after a forced failover the workload would run on it as it is',
      evidence,
      scaleAction,
    );
  }
  if (same(want.name, have.name) && same(want.tier, have.tier) && same(want.family, have.family)) {
    return gate(
      name,
      'pass',
      `${subject} has more compute on ${s} (${secondarySide}) than on ${p} (${primarySide})`,
      evidence,
    );
  }
  return gate(
    name,
    'warn',
    `${subject} differs across the pair: ${primarySide} on ${p}, ${secondarySide} on ${s}; performance and cost ` +
      'change with every failover and failback',
    evidence,
    `Give both copies the same SKU (scaleGroup ${scaleInput}, secondary first when scaling up) so the workload runs ` +
      'the same whichever server is primary.',
  );
}

/** `config-backup-redundancy/<database>`: both copies keep their backups on the same storage redundancy. */
export function databaseBackupRedundancyCheck(
  primary: InstanceReading,
  secondary: InstanceReading,
  pair: { primary: SqlDatabaseView; secondary: SqlDatabaseView },
): GateResult {
  const name = `config-backup-redundancy/${pair.primary.name}`;
  const database = pair.primary.name;
  const [onPrimary, onSecondary] = [
    pair.primary.currentBackupStorageRedundancy,
    pair.secondary.currentBackupStorageRedundancy,
  ];
  const evidence = {
    database,
    primary: { server: primary.instance.name, backupStorageRedundancy: onPrimary ?? null },
    secondary: { server: secondary.instance.name, backupStorageRedundancy: onSecondary ?? null },
  };
  if (onPrimary === undefined && onSecondary === undefined)
    return gate(name, 'pass', `ARM reports no backup storage redundancy for either copy of ${database}`, evidence);
  if (same(onPrimary, onSecondary))
    return gate(name, 'pass', `Both copies of ${database} keep backups on ${onPrimary} storage`, evidence);
  const after = onSecondary ?? 'unknown';
  return gate(
    name,
    'warn',
    `${database} on ${secondary.instance.name} keeps backups on ${after} storage, on ${primary.instance.name} on ` +
      `${onPrimary ?? 'unknown'}: after a failover the new primary's backups (point-in-time restore, long-term ` +
      `retention) are ${after}` +
      (/^geo/i.test(after) ? '' : ', so they cannot be geo-restored if that region is lost'),
    evidence,
    `Set the same backup storage redundancy on both copies (az sql db update -g ${resourceGroupOf(secondary.instance.id)} ` +
      `-s ${secondary.instance.name} -n ${database} --backup-storage-redundancy ${onPrimary ?? '<Geo|GeoZone|Zone|Local>'}).`,
  );
}

/**
 * `membership-outside-group`: every user database of the primary server is in the group; one that is not stays
 * behind on a failover (and its applications, connected through the group's listener, lose it). Warns: another
 * failover group of the server may protect it, or it may need no protection.
 */
export function membershipOutsideGroupCheck(primary: InstanceReading): GateResult {
  const outside = [...(primary.serverSide?.otherDatabases ?? [])].sort();
  const evidence = {
    server: primary.instance.name,
    members: (primary.serverSide?.databases ?? []).map((database) => database.name),
    outsideGroup: outside,
  };
  const group = groupNameOf(primary);
  if (outside.length === 0)
    return gate(
      'membership-outside-group',
      'pass',
      `Every user database of ${primary.instance.name} is in ${group}`,
      evidence,
    );
  return gate(
    'membership-outside-group',
    'warn',
    `${primary.instance.name} has user databases outside ${group}: ${outside.join(', ')}. They would not fail over ` +
      "with the group: after a failover they stay on the old primary's server, unreachable through the group's " +
      'listener, and lost with its region unless another failover group protects them',
    evidence,
    `Add them to the group if they belong to the application (az sql failover-group update ` +
      `-g ${resourceGroupOf(primary.instance.id)} -s ${primary.instance.name} -n ${group} --add-db ${outside.join(' ')}); ` +
      'if another failover group of the server protects them, or they need no protection, nothing is to be done.',
  );
}

/**
 * `membership-missing`: every member database the group lists exists on both servers. A member missing on the
 * secondary has no copy there (its seeding has not created one, or the copy was dropped): after a failover it would
 * not exist on the new primary. One missing on the primary is listed by the group but gone.
 */
export function membershipMissingCheck(primary: InstanceReading, secondary: InstanceReading): GateResult {
  const onPrimary = [...(primary.serverSide?.missingDatabases ?? [])].sort();
  const onSecondary = [...(secondary.serverSide?.missingDatabases ?? [])].sort();
  const evidence = {
    primary: { server: primary.instance.name, missing: onPrimary },
    secondary: { server: secondary.instance.name, missing: onSecondary },
  };
  const group = groupNameOf(primary);
  if (onPrimary.length === 0 && onSecondary.length === 0)
    return gate(
      'membership-missing',
      'pass',
      `Every member database of ${group} exists on ${primary.instance.name} and ${secondary.instance.name}`,
      evidence,
    );
  const problems = [
    onSecondary.length
      ? `${onSecondary.join(', ')} ${onSecondary.length === 1 ? 'has' : 'have'} no copy on ${secondary.instance.name} ` +
        '(seeding has not created it, or the copy was dropped): after a failover it would not exist on the new primary'
      : '',
    onPrimary.length
      ? `${onPrimary.join(', ')} ${onPrimary.length === 1 ? 'is' : 'are'} listed by the group but missing on the ` +
        `primary ${primary.instance.name}`
      : '',
  ].filter(Boolean);
  return gate(
    'membership-missing',
    'fail',
    `Member databases missing: ${problems.join('; ')}`,
    evidence,
    `See each database's geo-replication links (az sql db replica list-links -g ${resourceGroupOf(primary.instance.id)} ` +
      `-s ${primary.instance.name} -n <database>). If the copy is not seeding, remove the database from ${group} and ` +
      'add it again (az sql failover-group update --remove-db, then --add-db) to seed a new copy; drop a member ' +
      'that no longer exists from the group.',
  );
}

const sidKey = (sid: string): string => sid.trim().replace(/^0x/i, '').toUpperCase();
const sidText = (sid: string): string => `0x${sidKey(sid)}`;

/** How a database user logs in, for the check: through a server login (by SID), or on its own. */
function userKind(user: LoginInfo): 'login-mapped' | 'contained' | 'entra' | 'without-login' {
  const type = user.type.toUpperCase();
  if (type === 'E' || type === 'X') return 'entra';
  switch ((user.authenticationType ?? '').toUpperCase()) {
    case 'INSTANCE':
      return 'login-mapped';
    case 'DATABASE':
      return 'contained';
    case 'EXTERNAL':
      return 'entra';
    default:
      return 'without-login';
  }
}

/**
 * `logins-match` of a server group: each member database's users can log in after a failover. A contained user (with
 * a password, or Microsoft Entra) travels with the database; a user mapped to a SQL login (`INSTANCE`) logs in through
 * a login of the server's master with the user's SID, which is not replicated, so the partner server must have one
 * with that SID. Missing there, or there under another SID, the user is orphaned after a failover: fails. A mapped
 * user whose login the primary itself lacks is orphaned already: warns.
 */
export function databaseUsersCheck(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  logins: PairReading<LoginInfo>,
): GateResult {
  const unread = unreadSides(primary, secondary, logins);
  if (unread) {
    return gate(
      'logins-match',
      'warn',
      `Logins and database users could not be compared: ${unread}`,
      {},
      "Give fogpilot's SQL identity access to master on both servers (sys.sql_logins) and VIEW DEFINITION in each " +
        'member database (sys.database_principals), or fix the connection, then run the check again: logins are ' +
        'not replicated, so a user mapped to one is orphaned after a failover unless someone compares them.',
    );
  }
  const loginsOf = (reading: LoginInfo[]) => reading.filter((entry) => entry.database === undefined);
  const primaryLogins = loginsOf(logins.primary as LoginInfo[]);
  const secondaryLogins = loginsOf(logins.secondary as LoginInfo[]);
  const bySid = (list: LoginInfo[], sid: string) => list.find((login) => sidKey(login.sid) === sidKey(sid));
  const byLoginName = (list: LoginInfo[], name: string) =>
    list.find((login) => login.name.toLowerCase() === name.toLowerCase());
  const users = (logins.primary as LoginInfo[])
    .filter((entry) => entry.database !== undefined)
    .map((user) => {
      const kind = userKind(user);
      const login = kind === 'login-mapped' ? bySid(primaryLogins, user.sid) : undefined;
      const partner = kind === 'login-mapped' ? bySid(secondaryLogins, user.sid) : undefined;
      const sameName = login && !partner ? byLoginName(secondaryLogins, login.name) : undefined;
      const verdict =
        kind !== 'login-mapped'
          ? 'travels with the database'
          : !login
            ? 'orphaned on the primary'
            : partner
              ? 'login on both servers'
              : sameName
                ? 'login with another SID on the partner'
                : 'login missing on the partner';
      return { user, kind, login, sameName, verdict };
    });
  const evidence = {
    primary: primary.name,
    secondary: secondary.name,
    users: users.map(({ user, kind, login, sameName, verdict }) => ({
      database: user.database,
      user: user.name,
      type: user.type,
      authenticationType: user.authenticationType ?? null,
      kind,
      verdict,
      sid: sidText(user.sid),
      ...(login ? { login: login.name } : {}),
      ...(sameName ? { partnerSid: sidText(sameName.sid) } : {}),
    })),
    loginsOnPrimary: primaryLogins.length,
    loginsOnSecondary: secondaryLogins.length,
  };
  const orphanedAfter = users.filter(
    (entry) =>
      entry.verdict === 'login missing on the partner' || entry.verdict === 'login with another SID on the partner',
  );
  const orphanedNow = users.filter((entry) => entry.verdict === 'orphaned on the primary');
  const mapped = users.filter((entry) => entry.kind === 'login-mapped').length;
  if (orphanedAfter.length === 0 && orphanedNow.length === 0) {
    return gate(
      'logins-match',
      'pass',
      `${users.length} user(s) of the member databases can log in after a failover: ${mapped} mapped to a login ` +
        `that ${secondary.name} has with the same SID, ${users.length - mapped} contained or Microsoft Entra`,
      evidence,
    );
  }
  const describeUser = (entry: (typeof users)[number]): string =>
    `${entry.user.name} in ${entry.user.database}` +
    (entry.login ? ` (login ${entry.login.name}, SID ${sidText(entry.user.sid)}` : ` (SID ${sidText(entry.user.sid)}`) +
    (entry.sameName ? `; ${secondary.name} has ${entry.sameName.name} with SID ${sidText(entry.sameName.sid)})` : ')');
  const statements = orphanedAfter.map((entry) => {
    const login = entry.login!.name;
    const create = `CREATE LOGIN [${login}] WITH PASSWORD = N'<its password>', SID = ${sidText(entry.user.sid)};`;
    return entry.sameName ? `DROP LOGIN [${login}]; ${create}` : create;
  });
  const loginStatements = [...new Set(statements)];
  if (orphanedAfter.length > 0) {
    return gate(
      'logins-match',
      'fail',
      `Users of the member databases would be orphaned after a failover to ${secondary.name}: ` +
        orphanedAfter.map(describeUser).join(', ') +
        `. Each is mapped to a SQL login by SID, and ${secondary.name}'s master has no login with that SID (logins ` +
        'are not replicated, the users are)' +
        (orphanedNow.length
          ? `; orphaned already on ${primary.name}: ${orphanedNow.map(describeUser).join(', ')}`
          : ''),
      evidence,
      `In master on ${secondary.name}, create each login with the primary's SID: ${loginStatements.join(' ')} ` +
        'Repeat after every login change on the primary, or make the users contained (CREATE USER … WITH PASSWORD, ' +
        'or FROM EXTERNAL PROVIDER for Microsoft Entra), which travel with the database.',
    );
  }
  return gate(
    'logins-match',
    'warn',
    `Users of the member databases are orphaned already on ${primary.name}: ${orphanedNow.map(describeUser).join(', ')}` +
      `: each is mapped to a SQL login by SID, and ${primary.name}'s master has no login with that SID`,
    evidence,
    'Create the login with the SID the user has (CREATE LOGIN … WITH PASSWORD = …, SID = …) in master on both ' +
      'servers, drop the user if nothing uses it, or make it a contained user (CREATE USER … WITH PASSWORD).',
  );
}

/** `restore-point-age` on a logical server: the same judgement, read from each member database's automatic backups. */
function serverRestorePointCheck(
  primary: ManagedInstanceView,
  drift: DriftReadings,
  links: PreflightSnapshot['links'],
  maxAgeMs: number,
): GateResult {
  const check = restorePointCheck(primary, drift, links, maxAgeMs);
  if (check.status === 'pass') return check;
  return {
    ...check,
    action:
      typeof drift.backups === 'string'
        ? "Give fogpilot's SQL identity VIEW DATABASE STATE in each member database (sys.dm_database_backups), " +
          'then run the check again.'
        : `See the databases' automatic backups (sys.dm_database_backups in each database, or az sql db ` +
          `list-restore-points … -s ${primary.name}) and the server's health in the portal; a point-in-time or ` +
          'geo-restore could only go back to the restore points shown. Hyperscale lists no backups there (its ' +
          'snapshots are not shown). Open a support case if automated backups have stopped.',
  };
}

/** `failover-policy` of a server failover group: the same judgement, with the command of SQL Database. */
export function serverFailoverPolicyCheck(views: PreflightSnapshot['views']): GateResult {
  const check = failoverPolicyCheck(views);
  if (check.status === 'pass' || !check.action?.includes('instance-failover-group')) return check;
  return {
    ...check,
    action:
      'If fogpilot or your on-call decides failovers, set the policy to Manual (`az sql failover-group update ' +
      '-g <resource group> -s <primary server> -n <group> --failover-policy Manual`); if you keep Automatic, make ' +
      'the grace period longer than the time your team needs to decide, and expect Azure to act when it ends.',
  };
}

/**
 * The drift checks of a server failover group between its primary and secondary server (see the file comment), in the
 * order of a Managed Instance pair's, each pair of member databases in the primary's order.
 */
export function evaluateSqlDatabaseDriftChecks(
  snapshot: Pick<PreflightSnapshot, 'links'>,
  primary: InstanceReading,
  secondary: InstanceReading,
  drift: DriftReadings,
  options: DriftCheckOptions,
): GateResult[] {
  const pairs = databasePairs(primary, secondary);
  return [
    ...pairs.map((pair) => serviceObjectiveCheck(primary, secondary, pair, options.sizes)),
    ...(options.sizes ? [notApplicableCheck('config-vcores'), notApplicableCheck('config-storage')] : []),
    notApplicableCheck('config-license'),
    ...pairs.map((pair) => databaseBackupRedundancyCheck(primary, secondary, pair)),
    ...(options.sizes ? [notApplicableCheck('ltr-policy')] : []),
    membershipOutsideGroupCheck(primary),
    membershipMissingCheck(primary, secondary),
    databaseUsersCheck(primary.instance, secondary.instance, drift.logins),
    notApplicableCheck('agent-jobs-match'),
    serverRestorePointCheck(primary.instance, drift, snapshot.links, options.maxRestorePointAgeMs),
  ];
}
