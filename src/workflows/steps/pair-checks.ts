/**
 * Checks of the whole pair of managed instances, as pure functions of what `readPairEvidence` read: what Azure needs
 * before it creates a failover group between them, and what keeps an existing group able to fail over (the
 * customer-managed TDE key on both sides, one collation and time zone, maintenance windows that differ, one DNS zone,
 * the network rules, a Standby secondary kept away from reads). `establishGroup` runs them as its prerequisites;
 * `readinessCheck` adds the ones that hold for a group that exists. Every check that does not pass says what to do.
 */
import type { ManagedInstanceView } from '../../domain/azure-state';
import { checkGeoReplicationNetwork, type SubnetSide } from '../../domain/network-rules';
import type { InstanceSideEvidence, PairEvidence } from '../../activities';
import type { GateResult } from '../definitions';
import { gate } from './preflight';

/** The group settings a pair check needs (those asked for, or those the group has). */
export interface PairGroupSettings {
  name: string;
  /** A group about to be removed (reprotect's broken group): its membership does not count. */
  replacing?: string;
  readOnlyFailoverPolicy: string;
  secondaryType: string;
}

const lower = (value: string | undefined) => (value ?? '').trim().toLowerCase();

function describeInstance(side: InstanceSideEvidence) {
  return { instance: side.instance.name, location: side.instance.location };
}

/** `pair-instances-ready`: both instances provisioned and Ready, with no management operation running. */
export function instancesReadyCheck(primary: InstanceSideEvidence, secondary: InstanceSideEvidence): GateResult {
  const problems: string[] = [];
  for (const side of [primary, secondary]) {
    const { instance } = side;
    if (lower(instance.provisioningState) !== 'succeeded' || lower(instance.state) !== 'ready')
      problems.push(
        `${instance.name} is ${instance.state || 'in no state'} (provisioning ${instance.provisioningState})`,
      );
    for (const operation of side.operationsInFlight)
      problems.push(`${instance.name} runs ${operation.friendlyName ?? operation.operation} (${operation.state})`);
  }
  const evidence = {
    instances: [primary, secondary].map((side) => ({
      ...describeInstance(side),
      state: side.instance.state,
      provisioningState: side.instance.provisioningState,
      operationsInFlight: side.operationsInFlight.map((operation) => operation.friendlyName ?? operation.operation),
    })),
  };
  if (problems.length === 0) return gate('pair-instances-ready', 'pass', 'Both instances are Ready and idle', evidence);
  return gate(
    'pair-instances-ready',
    'fail',
    `Not both instances are ready: ${problems.join('; ')}`,
    evidence,
    'Wait for the instance to finish provisioning and for running operations to end (the portal, or ' +
      '`az sql mi op list`), then start again.',
  );
}

/** `pair-regions`: the two instances are in different regions. */
export function regionsCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = { primary: primary.location, secondary: secondary.location };
  if (primary.location !== secondary.location)
    return gate('pair-regions', 'pass', `The instances are in ${primary.location} and ${secondary.location}`, evidence);
  return gate(
    'pair-regions',
    'fail',
    `Both instances are in ${primary.location}: a failover group protects against losing a region only across two`,
    evidence,
    'Create the secondary in the paired region (or another region far enough away) and name that one.',
  );
}

/** `pair-dns-zone`: one DNS zone, which the secondary gets by being created with `dnsZonePartner`. */
export function dnsZoneCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const evidence = {
    primary: { instance: primary.name, dnsZone: primary.dnsZone ?? null },
    secondary: { instance: secondary.name, dnsZone: secondary.dnsZone ?? null },
  };
  if (primary.dnsZone && lower(primary.dnsZone) === lower(secondary.dnsZone))
    return gate('pair-dns-zone', 'pass', `Both instances are in DNS zone ${primary.dnsZone}`, evidence);
  return gate(
    'pair-dns-zone',
    'fail',
    `${primary.name} is in DNS zone ${primary.dnsZone ?? '(unknown)'} and ${secondary.name} in ` +
      `${secondary.dnsZone ?? '(unknown)'}: Azure refuses a failover group across DNS zones (DnsZoneMismatch), and ` +
      'the zone is fixed when an instance is created',
    evidence,
    `Create the secondary again with dnsZonePartner set to ${primary.id} (portal: "Geo-replication" → DNS zone ` +
      `partner; az sql mi create --dns-zone-partner ${primary.id}); an existing instance cannot change its zone.`,
  );
}

/** `pair-secondary-empty`: the secondary has no user databases (Azure seeds the primary's into it). */
export function secondaryEmptyCheck(secondary: InstanceSideEvidence): GateResult {
  if ('error' in secondary.databases) {
    return gate(
      'pair-secondary-empty',
      'fail',
      `The databases of ${secondary.instance.name} could not be listed: ${secondary.databases.error}`,
      { instance: secondary.instance.name },
      'Grant the worker read access to the instance (Microsoft.Sql/managedInstances/databases/read), then start again.',
    );
  }
  const names = secondary.databases.value.map((database) => database.name);
  const evidence = { instance: secondary.instance.name, databases: names };
  if (names.length === 0)
    return gate('pair-secondary-empty', 'pass', `${secondary.instance.name} has no user databases`, evidence);
  return gate(
    'pair-secondary-empty',
    'fail',
    `${secondary.instance.name} has user databases (${names.join(', ')}): Azure refuses a secondary that is not ` +
      'empty (GeoDrSecondaryInstanceNotEmpty)',
    evidence,
    `Move or drop ${names.join(', ')} on ${secondary.instance.name} (keep a backup), or name an empty instance.`,
  );
}

/** `pair-sizes`: the same tier, vCores and storage; Azure refuses different storage, a smaller secondary lags. */
export function sizesCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const size = (instance: ManagedInstanceView) => ({
    instance: instance.name,
    tier: instance.tier,
    vCores: instance.vCores,
    storageSizeInGB: instance.storageSizeInGB,
  });
  const evidence = { primary: size(primary), secondary: size(secondary) };
  const differences: string[] = [];
  if (lower(primary.tier) !== lower(secondary.tier)) differences.push(`tier ${primary.tier} vs ${secondary.tier}`);
  if (primary.vCores !== secondary.vCores) differences.push(`${primary.vCores} vs ${secondary.vCores} vCores`);
  if (primary.storageSizeInGB !== secondary.storageSizeInGB)
    differences.push(`${primary.storageSizeInGB} GB vs ${secondary.storageSizeInGB} GB of storage`);
  if (differences.length === 0) {
    return gate(
      'pair-sizes',
      'pass',
      `Both are ${primary.tier}, ${primary.vCores} vCores, ${primary.storageSizeInGB} GB`,
      evidence,
    );
  }
  // The plan: the secondary grows to the primary's size (one update); never shrink the primary for it.
  const plan =
    `az sql mi update -g <resource group> -n ${secondary.name} --tier ${primary.tier} ` +
    `--capacity ${primary.vCores} --storage ${primary.storageSizeInGB}GB`;
  return gate(
    'pair-sizes',
    'fail',
    `The instances differ (${differences.join('; ')}): Azure refuses different storage sizes ` +
      '(GeoDrInstanceSizeMismatch), and a smaller secondary falls behind the primary and serves the workload worse ' +
      'after a failover',
    evidence,
    `Plan: scale ${secondary.name} to the primary's size first (${plan}; it can take hours), then start ` +
      'establishGroup again.',
  );
}

/**
 * `pair-not-in-group`: neither instance is in a failover group (an instance can be in one only). The group asked for,
 * already between exactly these two, is not a problem: it is the end state (`alreadyEstablished`).
 */
export function notInGroupCheck(
  groupName: string,
  primary: InstanceSideEvidence,
  secondary: InstanceSideEvidence,
  replacing?: string,
): GateResult & { alreadyEstablished?: boolean } {
  const memberships = [primary, secondary].flatMap((side) =>
    side.groups
      .filter((view) => replacing === undefined || lower(view.name) !== lower(replacing))
      .map((view) => ({ instance: side.instance.name, group: view.name, id: view.id, view })),
  );
  const evidence = {
    memberships: memberships.map(({ instance, group, id }) => ({ instance, group, id })),
  };
  if (memberships.length === 0)
    return gate('pair-not-in-group', 'pass', 'Neither instance is in a failover group', evidence);
  const ids = new Set([lower(primary.instance.id), lower(secondary.instance.id)]);
  const ours = memberships.every(
    ({ view }) =>
      lower(view.name) === lower(groupName) &&
      ids.has(lower(view.primaryManagedInstanceId)) &&
      ids.has(lower(view.partnerManagedInstanceId)),
  );
  if (ours) {
    return {
      ...gate('pair-not-in-group', 'pass', `Failover group ${groupName} already pairs these two instances`, evidence),
      alreadyEstablished: true,
    };
  }
  const described = memberships.map(({ instance, group }) => `${instance} is in ${group}`);
  return gate(
    'pair-not-in-group',
    'fail',
    `${[...new Set(described)].join('; ')}: an instance can be in one failover group only ` +
      '(InstanceFailoverGroupAlreadyExists)',
    evidence,
    'Name instances that are in no group, or remove the other group first (reprotect does that after losing a ' +
      'region, with approval).',
  );
}

/** `pair-network`: 5022 and 11000–11999 open both ways between the subnets, whose ranges do not overlap. */
export function networkCheck(
  primary: InstanceSideEvidence,
  secondary: InstanceSideEvidence,
  unreadStatus: 'fail' | 'warn' = 'fail',
): GateResult {
  const sides: SubnetSide[] = [];
  const unreadSides: string[] = [];
  for (const side of [primary, secondary]) {
    if ('error' in side.network) unreadSides.push(`${side.instance.name}: ${side.network.error}`);
    else sides.push({ instance: side.instance.name, subnet: side.network.value.subnet, nsg: side.network.value.nsg });
  }
  if (unreadSides.length > 0 || sides.length !== 2) {
    return gate(
      'pair-network',
      unreadStatus,
      `The network rules between the subnets could not be read (${unreadSides.join('; ')})`,
      { unread: unreadSides },
      "Grant the worker Reader on the instances' virtual networks and network security groups " +
        '(Microsoft.Network/virtualNetworks/subnets/read, networkSecurityGroups/read), then check again.',
    );
  }
  const [a, b] = sides as [SubnetSide, SubnetSide];
  const verdict = checkGeoReplicationNetwork(a, b);
  const evidence = {
    subnets: sides.map((side) => ({
      instance: side.instance,
      subnet: side.subnet.id,
      addressPrefixes: side.subnet.addressPrefixes,
      nsg: side.nsg?.id ?? null,
    })),
    blocked: verdict.blocked,
    overlapping: verdict.overlapping,
    reliesOnPeering: verdict.reliesOnPeering,
  };
  const problems: string[] = [];
  if (verdict.overlapping)
    problems.push(
      `the subnets' address ranges overlap (${a.subnet.addressPrefixes.join(', ')} and ${b.subnet.addressPrefixes.join(', ')})`,
    );
  for (const flow of verdict.blocked)
    problems.push(
      `${flow.blockedBy} blocks TCP ${flow.ports} ${flow.direction.toLowerCase()} from ${flow.from} to ${flow.to} ` +
        `(rule ${flow.rule})`,
    );
  if (problems.length === 0) {
    return gate(
      'pair-network',
      'pass',
      'TCP 5022 and 11000-11999 are open both ways between the subnets' +
        (verdict.reliesOnPeering ? ' (through the VirtualNetwork tag: the two virtual networks must be peered)' : ''),
      evidence,
    );
  }
  return gate(
    'pair-network',
    'fail',
    `Geo-replication between the subnets would be blocked: ${problems.join('; ')}`,
    evidence,
    verdict.overlapping
      ? "Place the secondary in a subnet whose address range does not overlap the primary's; then open TCP 5022 and " +
          '11000-11999 both ways between the two subnets.'
      : "Add Allow rules for TCP 5022 and 11000-11999 between the two subnets' address ranges, inbound and " +
          'outbound, on each NSG named above, at a priority before the blocking rule.',
  );
}

/**
 * `pair-tde-keys`: a customer-managed TDE protector must be registered on the partner too (Azure refuses the group
 * with KeyMaterialNotFoundOnRemoteServer, and after a key rotation one side's vault can drift from the other's).
 */
export function tdeKeysCheck(
  primary: InstanceSideEvidence,
  secondary: InstanceSideEvidence,
  unreadStatus: 'fail' | 'warn' = 'fail',
): GateResult {
  const unread = [primary, secondary].filter((side) => 'error' in side.tde);
  if (unread.length > 0) {
    return gate(
      'pair-tde-keys',
      unreadStatus,
      `The TDE protectors could not be read (${unread
        .map((side) => `${side.instance.name}: ${'error' in side.tde ? side.tde.error : ''}`)
        .join('; ')})`,
      {},
      "Grant the worker read access to the instances' encryption protector and keys, then check again.",
    );
  }
  const missing: string[] = [];
  const evidence: Record<string, unknown> = {};
  for (const [side, other] of [
    [primary, secondary],
    [secondary, primary],
  ] as const) {
    if ('error' in side.tde || 'error' in other.tde) continue;
    const { protector } = side.tde.value;
    evidence[side.instance.name] = {
      serverKeyType: protector.serverKeyType,
      uri: protector.uri ?? null,
      keys: side.tde.value.keys.map((key) => key.uri ?? key.name),
    };
    if (lower(protector.serverKeyType) !== 'azurekeyvault' || !protector.uri) continue;
    const known = other.tde.value.keys.some((key) => lower(key.uri) === lower(protector.uri));
    if (!known)
      missing.push(`${side.instance.name}'s protector ${protector.uri} is not a key of ${other.instance.name}`);
  }
  if (missing.length === 0)
    return gate('pair-tde-keys', 'pass', 'Each TDE protector is known to both instances', evidence);
  return gate(
    'pair-tde-keys',
    'fail',
    `${missing.join('; ')}: Azure refuses the group (KeyMaterialNotFoundOnRemoteServer), and a failover would leave ` +
      'the databases unreadable where the key is missing',
    evidence,
    'Add the key to the other instance (az sql mi key create --kid <key uri>) and give its managed identity ' +
      'get, wrapKey and unwrapKey on the vault; after every key rotation, do the same on both sides.',
  );
}

/** `pair-collation` and `pair-time-zone`: both fixed at creation, both must be equal across the pair. */
export function sameSettingCheck(
  name: 'pair-collation' | 'pair-time-zone',
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
): GateResult {
  const field = name === 'pair-collation' ? 'collation' : 'timezoneId';
  const what = name === 'pair-collation' ? 'collation' : 'time zone';
  const evidence = { primary: primary[field] ?? null, secondary: secondary[field] ?? null };
  if (primary[field] === undefined || secondary[field] === undefined) {
    return gate(name, 'warn', `The ${what} of the instances was not reported`, evidence, 'Compare them in the portal.');
  }
  if (lower(primary[field]) === lower(secondary[field]))
    return gate(name, 'pass', `Both instances use ${what} ${primary[field]}`, evidence);
  return gate(
    name,
    'fail',
    `${primary.name} uses ${what} ${primary[field]} and ${secondary.name} ${secondary[field]}: after a failover ` +
      (name === 'pair-collation'
        ? 'comparisons, sorting and tempdb objects behave differently'
        : 'GETDATE(), SQL Agent schedules and every local time the application reads shift'),
    evidence,
    `The ${what} is fixed when an instance is created: create the secondary again with ${what} ${primary[field]}.`,
  );
}

const DEFAULT_MAINTENANCE = /sql_default$/i;

/** `pair-maintenance-windows`: the two instances are not patched in the same window. */
export function maintenanceWindowsCheck(primary: ManagedInstanceView, secondary: ManagedInstanceView): GateResult {
  const window = (instance: ManagedInstanceView) => (instance.maintenanceConfigurationId ?? '').split('/').pop() ?? '';
  const evidence = {
    primary: primary.maintenanceConfigurationId ?? null,
    secondary: secondary.maintenanceConfigurationId ?? null,
  };
  const a = window(primary);
  const b = window(secondary);
  if (a && b && lower(a) !== lower(b) && !(DEFAULT_MAINTENANCE.test(a) && DEFAULT_MAINTENANCE.test(b)))
    return gate('pair-maintenance-windows', 'pass', `Patched in different windows (${a}, ${b})`, evidence);
  return gate(
    'pair-maintenance-windows',
    'warn',
    `Both instances use the maintenance window ${a || '(unknown)'}: both can be patched at the same time, and ` +
      'planned maintenance on both sides of the group at once removes the protection it gives',
    evidence,
    'Give the two instances different maintenance windows (e.g. SQL_<region>_MI_1 on one, SQL_<region>_MI_2 on the ' +
      'other: weekday nights vs weekends).',
  );
}

/** `pair-standby-reads`: a Standby (license-free) secondary must not serve reads. */
export function standbyReadsCheck(settings: PairGroupSettings): GateResult {
  const evidence = {
    group: settings.name,
    secondaryType: settings.secondaryType,
    readOnlyFailoverPolicy: settings.readOnlyFailoverPolicy,
  };
  if (lower(settings.secondaryType) !== 'standby')
    return gate('pair-standby-reads', 'pass', `The secondary is ${settings.secondaryType}`, evidence);
  if (lower(settings.readOnlyFailoverPolicy) !== 'enabled') {
    return gate(
      'pair-standby-reads',
      'pass',
      'The secondary is Standby (license-free DR replica); keep read workloads off its read-only listener',
      evidence,
    );
  }
  return gate(
    'pair-standby-reads',
    'fail',
    'The secondary is Standby (a license-free DR replica that must not serve reads), yet the read-only endpoint is ' +
      'set to fail over to it (readOnlyFailoverPolicy Enabled)',
    evidence,
    'Either make the secondary Geo (licensed, may serve reads) or set readOnlyFailoverPolicy to Disabled and keep ' +
      'read workloads off the secondary.',
  );
}

/**
 * The checks that hold for any pair, in a group or about to be (readinessCheck adds these). `unread`: what a part the
 * worker may not read (the vnet, the keys) counts as: a prerequisite fails, a readiness finding warns.
 */
export function evaluatePairChecks(
  evidence: PairEvidence,
  settings: PairGroupSettings,
  unread: 'fail' | 'warn' = 'fail',
): GateResult[] {
  const { primary, secondary } = evidence;
  return [
    dnsZoneCheck(primary.instance, secondary.instance),
    networkCheck(primary, secondary, unread),
    tdeKeysCheck(primary, secondary, unread),
    sameSettingCheck('pair-collation', primary.instance, secondary.instance),
    sameSettingCheck('pair-time-zone', primary.instance, secondary.instance),
    maintenanceWindowsCheck(primary.instance, secondary.instance),
    standbyReadsCheck(settings),
  ];
}

/**
 * Every prerequisite of creating a failover group between the pair, in the order a person would check them.
 * `alreadyEstablished`: the group asked for already pairs these two (the run's end state; nothing to create).
 */
export function evaluateGroupPrerequisites(
  evidence: PairEvidence,
  settings: PairGroupSettings,
): { checks: GateResult[]; alreadyEstablished: boolean } {
  const { primary, secondary } = evidence;
  const membership = notInGroupCheck(settings.name, primary, secondary, settings.replacing);
  const alreadyEstablished = membership.alreadyEstablished === true;
  const { alreadyEstablished: _marker, ...membershipGate } = membership;
  const checks: GateResult[] = [
    instancesReadyCheck(primary, secondary),
    regionsCheck(primary.instance, secondary.instance),
    membershipGate,
    // An established group holds the primary's databases on both sides: the secondary is not empty then, rightly.
    ...(alreadyEstablished ? [] : [secondaryEmptyCheck(secondary)]),
    sizesCheck(primary.instance, secondary.instance),
    ...evaluatePairChecks(evidence, settings),
  ];
  // Once the group exists, what would have refused its creation is a readiness finding, not a reason to stop
  // waiting for its seeding.
  if (alreadyEstablished)
    return {
      checks: checks.map((check) => (check.status === 'fail' ? { ...check, status: 'warn' as const } : check)),
      alreadyEstablished,
    };
  return { checks, alreadyEstablished };
}
