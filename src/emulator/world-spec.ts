/**
 * The description of an emulated world, as loaded from `--world FILE` (JSON or YAML) or the admin API. Defaults make a
 * small file enough: names, regions and sizes.
 */
import { z } from 'zod';
import { defaultWorkloadSpec, workloadSpecFields } from './world-spec-workload';

const name = (what: string) =>
  z
    .string({ error: `${what} must be a name` })
    .regex(/^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]?$/i, { error: `${what} must be 1-63 letters, digits or hyphens` });

export const LoginSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** Hex, e.g. `0x01060000000000640000000000000000`; logins must match by SID across the pair. */
  sid: z.string().regex(/^0x[0-9a-fA-F]+$/),
  type: z.enum(['S', 'U', 'G', 'E', 'X']).default('S'),
  /** A SQL login (`S`) with a password can log in to its instance (a rehearsal secret, never a real one). */
  password: z.string().optional(),
});

export const DatabaseSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/),
  /** How long a committed transaction takes to harden on the secondary (simulated ms). */
  lagMs: z.number().int().min(0).optional(),
  /** The database's size: a new failover group seeds it at `timings.seedingGBPerHour`. */
  sizeGB: z.number().min(0).default(0),
});

/** A Key Vault key's URI, versioned: `https://<vault>.vault.azure.net/keys/<key>/<version>`. */
const keyUri = z
  .string()
  .regex(/^https:\/\/[A-Za-z0-9-]{3,24}\.vault\.[a-z0-9.-]+\/keys\/[A-Za-z0-9-]{1,127}\/[0-9a-fA-F]{32}$/, {
    error: 'must be a versioned Key Vault key URI: https://<vault>.vault.azure.net/keys/<key>/<32 hex digits>',
  });

export const InstanceSpecSchema = z.strictObject({
  name: name('instances[].name'),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  location: z.string().min(2),
  vCores: z.number().int().positive().default(8),
  storageSizeInGB: z.number().int().positive().default(256),
  /**
   * Storage the instance's data uses (GB): what a Business Critical update reseeds, and the floor a storage decrease
   * may not go below. 0 (the default) leaves both out.
   */
  storageUsedInGB: z.number().int().min(0).default(0),
  skuName: z.string().default('GP_Gen5'),
  tier: z.string().default('GeneralPurpose'),
  family: z.string().default('Gen5'),
  licenseType: z.string().default('LicenseIncluded'),
  backupStorageRedundancy: z.string().default('Geo'),
  state: z.string().default('Ready'),
  dnsZone: z.string().optional(),
  /**
   * The instance whose DNS zone this one shares, as Azure's `dnsZonePartner` (the id, or here also the name, of a
   * managed instance) does at creation; a failover group's pair must share one zone.
   */
  dnsZonePartner: z.string().optional(),
  collation: z.string().default('SQL_Latin1_General_CP1_CI_AS'),
  administratorLogin: z.string().default('fogadmin'),
  /**
   * The subnet the instance lives in (a resource id). Absent: `…/virtualNetworks/vnet-<location>/subnets/mi` in the
   * instance's resource group, which the world derives when it does not declare it (see `virtualNetworks`).
   */
  subnetId: z.string().optional(),
  /** A full ARM id, or a public maintenance configuration's name (`SQL_EastUS_MI_1`); absent: `SQL_Default`. */
  maintenanceConfigurationId: z.string().optional(),
  /** Windows time zone id, fixed at creation (`UTC`, `Pacific Standard Time`, …). */
  timezoneId: z.string().min(1).default('UTC'),
  /**
   * Customer-managed TDE: the Key Vault key that protects the instance's databases (its `keyId`). Absent: the
   * protector is service-managed.
   */
  tdeProtector: z.strictObject({ keyUri }).optional(),
  /**
   * Key Vault keys registered on the instance (`managedInstances/{mi}/keys`); the protector's key is registered on its
   * own instance anyway. A failover group whose primary has a customer-managed protector needs that key here on the
   * partner.
   */
  keys: z.array(keyUri).default([]),
  tags: z.record(z.string(), z.string()).optional(),
  logins: z.array(LoginSpecSchema).default([]),
  agentJobs: z.array(z.string()).default([]),
  /**
   * User databases of an instance in no failover group: a group created on it (PUT) takes the primary's and refuses a
   * secondary that has any.
   */
  databases: z.array(DatabaseSpecSchema).default([]),
  longTermRetention: z
    .strictObject({
      weeklyRetention: z.string(),
      monthlyRetention: z.string(),
      yearlyRetention: z.string(),
      weekOfYear: z.number(),
    })
    .optional(),
  /**
   * Point-in-time restore retention of its databases (days; Azure: 1-35, 7 by default): a database's
   * `earliestRestorePoint` is its creation or this long ago, whichever is later.
   */
  shortTermRetentionDays: z.number().int().min(1).max(35).default(7),
  /**
   * Long-term retention backups of its databases that exist when the world starts (the policy's own are taken as the
   * clock runs): each holds `rows` (payloads, ids 1…n) and expires at `expiresAt` (default: a year after it was taken).
   */
  longTermRetentionBackups: z
    .array(
      z.strictObject({
        database: z.string().min(1),
        backupTime: z.iso.datetime({ offset: true }),
        expiresAt: z.iso.datetime({ offset: true }).optional(),
        rows: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});

/** One network security rule, as `Microsoft.Network/networkSecurityGroups/securityRules` holds it. */
export const SecurityRuleSpecSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/, { error: 'securityRules[].name must be 1-80 letters, digits, _ . -' }),
  /** 100-4096; the lower number wins (Azure's default rules are 65000 and up). */
  priority: z.number().int().min(100).max(4096),
  direction: z.enum(['Inbound', 'Outbound']),
  access: z.enum(['Allow', 'Deny']),
  protocol: z.enum(['Tcp', 'Udp', 'Icmp', 'Esp', 'Ah', '*']),
  description: z.string().optional(),
  /** A CIDR, an address, `*`, or a service tag (`VirtualNetwork`, `AzureLoadBalancer`, `Internet`, …). */
  sourceAddressPrefix: z.string().optional(),
  sourceAddressPrefixes: z.array(z.string()).optional(),
  /** `*`, a port, or a range `11000-11999`. */
  sourcePortRange: z.string().optional(),
  sourcePortRanges: z.array(z.string()).optional(),
  destinationAddressPrefix: z.string().optional(),
  destinationAddressPrefixes: z.array(z.string()).optional(),
  destinationPortRange: z.string().optional(),
  destinationPortRanges: z.array(z.string()).optional(),
});

export const SubnetSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** The subnet's range, a CIDR (`10.1.0.0/24`). */
  addressPrefix: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: 'addressPrefix must be an IPv4 CIDR' }),
  /** The name of a network security group of the world in the virtual network's resource group. */
  networkSecurityGroup: z.string().optional(),
});

export const VirtualNetworkSpecSchema = z.strictObject({
  name: z.string().min(1),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  location: z.string().min(2),
  addressPrefixes: z
    .array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: 'addressPrefixes must be IPv4 CIDRs' }))
    .min(1),
  subnets: z.array(SubnetSpecSchema).default([]),
});

export const NetworkSecurityGroupSpecSchema = z.strictObject({
  name: z.string().min(1),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  location: z.string().min(2),
  /** Its own rules; Azure's six default rules are added. */
  securityRules: z.array(SecurityRuleSpecSchema).default([]),
});

export const GroupSpecSchema = z.strictObject({
  name: name('groups[].name'),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  primaryInstance: z.string(),
  secondaryInstance: z.string(),
  readWriteFailoverPolicy: z.enum(['Manual', 'Automatic']).default('Manual'),
  gracePeriodMinutes: z.number().int().min(60).optional(),
  readOnlyFailoverPolicy: z.enum(['Disabled', 'Enabled']).default('Disabled'),
  secondaryType: z.enum(['Geo', 'Standby']).default('Geo'),
  /** Simulated seconds of seeding left when the world starts (0: synchronizing). */
  seedingSeconds: z.number().min(0).default(0),
  databases: z.array(DatabaseSpecSchema).prefault([{ name: 'sales' }, { name: 'inventory' }]),
});

/** A database's or an elastic pool's SKU (ARM `Sku`: name, tier, capacity in vCores or DTUs, hardware family). */
export const SqlSkuSpecSchema = z.strictObject({
  name: z.string().min(1),
  tier: z.string().min(1),
  capacity: z.number().int().positive(),
  family: z.string().optional(),
});

/** A database of a logical server (Azure SQL Database). */
export const SqlDatabaseSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/),
  /** Absent: General Purpose, 2 vCores (or, in `elasticPool`, the pool's tier). */
  sku: SqlSkuSpecSchema.optional(),
  /** An elastic pool of the same server. */
  elasticPool: z.string().optional(),
  maxSizeGB: z.number().positive().default(32),
  /** Data held: what seeding a new geo-secondary moves at `timings.seedingGBPerHour`. */
  sizeGB: z.number().min(0).default(0),
  /** How long a commit takes to harden on each geo-secondary (simulated ms). */
  lagMs: z.number().int().min(0).optional(),
  zoneRedundant: z.boolean().default(false),
  backupStorageRedundancy: z.enum(['Geo', 'Local', 'Zone', 'GeoZone']).default('Geo'),
});

/** An elastic pool of a logical server. */
export const ElasticPoolSpecSchema = z.strictObject({
  name: z.string().min(1),
  sku: SqlSkuSpecSchema.default({ name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 4, family: 'Gen5' }),
  perDatabaseSettings: z
    .strictObject({ minCapacity: z.number().min(0).default(0), maxCapacity: z.number().positive().default(2) })
    .prefault({}),
  maxSizeGB: z.number().positive().default(512),
  zoneRedundant: z.boolean().default(false),
});

/**
 * A logical server (`Microsoft.Sql/servers`), its databases and elastic pools. A database a failover group seeds to
 * this server may be declared here too (same name): it is then the group's secondary copy, with its own SKU.
 */
export const SqlServerSpecSchema = z.strictObject({
  name: name('sqlServers[].name'),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  location: z.string().min(2),
  administratorLogin: z.string().default('fogadmin'),
  logins: z.array(LoginSpecSchema).default([]),
  databases: z.array(SqlDatabaseSpecSchema).default([]),
  elasticPools: z.array(ElasticPoolSpecSchema).default([]),
});

/**
 * A server failover group (`servers/{server}/failoverGroups/{name}`): the primary server, one or more partner servers
 * (up to four, each in its own region), and the member databases (names of the primary's databases). Each member is
 * geo-replicated to every partner: a copy the partner server declares keeps its SKU, any other is made like the
 * primary's.
 */
export const SqlFailoverGroupSpecSchema = z.strictObject({
  name: name('sqlFailoverGroups[].name'),
  subscriptionId: z.string().optional(),
  primaryServer: z.string(),
  partnerServers: z.array(z.string()).min(1).max(4),
  databases: z.array(z.string()).default([]),
  readWriteFailoverPolicy: z.enum(['Manual', 'Automatic']).default('Manual'),
  gracePeriodMinutes: z.number().int().min(60).optional(),
  readOnlyFailoverPolicy: z.enum(['Disabled', 'Enabled']).default('Disabled'),
  /** The partner the read-only endpoint points to (absent: the first partner). */
  readOnlyTargetServer: z.string().optional(),
  secondaryType: z.enum(['Geo', 'Standby']).default('Geo'),
  /** Simulated seconds of seeding left when the world starts (0: every copy seeded). */
  seedingSeconds: z.number().min(0).default(0),
});

export const TimingsSchema = z.strictObject({
  /** From an accepted planned failover to the new primary taking the role (simulated seconds). */
  roleSwitchSeconds: z.number().min(0).default(30),
  /** The old primary's location keeps answering Primary this much longer: both claim the role for a moment. */
  roleFlipSkewSeconds: z.number().min(0).default(2),
  /**
   * The bound on how long a database of the new primary stays READ_ONLY after the switch. Without a world `seed` every
   * database becomes writable at the bound; with one, each at its own moment within it (Azure: up to about 5 minutes,
   * so an Azure-like world sets 300).
   */
  readOnlyAfterSwitchSeconds: z.number().min(0).default(10),
  /** A forced failover takes this long. */
  forcedSwitchSeconds: z.number().min(0).default(15),
  /** A planned failover that cannot reach the primary's region fails after this long. */
  plannedFailoverTimeoutSeconds: z.number().min(0).default(120),
  /** Scaling vCores takes this long; storage-only scaling takes `storageScaleSeconds`. */
  vCoreScaleSeconds: z.number().min(0).default(900),
  storageScaleSeconds: z.number().min(0).default(180),
  /**
   * A management operation (a scale) stays `Pending` this long before it runs, within its duration (simulated
   * seconds).
   */
  operationPendingSeconds: z.number().min(0).default(2),
  /** A Business Critical update reseeds the instance's used storage at this rate (Microsoft: about 220 GB/h). */
  businessCriticalSeedingGBPerHour: z.number().positive().default(220),
  /** A cancelled management operation is `CancelInProgress` this long, then `Cancelled` (simulated seconds). */
  operationCancelSeconds: z.number().min(0).default(60),
  /**
   * How long a geo-secondary with half its primary's vCores spends replaying one commit beyond the link's lag
   * (simulated ms; see world/managed-instances.ts `redoQueueMsPerCommit`). 0 turns the model off.
   */
  undersizedSecondaryRedoMsPerCommit: z.number().min(0).default(20),
  /** How long `sp_wait_for_database_copy_sync` waits on a lost link before it fails (simulated seconds). */
  linkTimeoutSeconds: z.number().min(0).default(30),
  /** Default hardening lag of a database's commits on the secondary (simulated ms). */
  replicationLagMs: z.number().int().min(0).default(500),
  /**
   * Seeding rate of a new failover group (simulated GB per hour). Azure quotes up to 360 GB/h over global VNet peering
   * (../shared/reference/azure-sql-mi-failover.md, "Limits that become validation errors").
   */
  seedingGBPerHour: z.number().positive().default(360),
  /** A new failover group's creation takes at least this long, even with nothing to seed (simulated seconds). */
  groupCreateSeconds: z.number().min(0).default(60),
  /** How fast a returning old primary is reseeded after a forced failover, by its storage size (Azure: 360 GB/h). */
  reseedGBPerHour: z.number().positive().default(360),
  /** A failover group's deletion (DELETE, long-running) takes this long (simulated seconds; inferred). */
  groupDeleteSeconds: z.number().min(0).default(30),
  /**
   * A restore of a managed database (point in time, dropped database, long-term retention backup) takes this fixed
   * part plus its size at `restoreGBPerHour` (simulated seconds; inferred: Azure publishes no figure).
   */
  restoreSeconds: z.number().min(0).default(300),
  restoreGBPerHour: z.number().positive().default(200),
  /** A managed database's deletion (DELETE, long-running) takes this long (simulated seconds; inferred). */
  databaseDeleteSeconds: z.number().min(0).default(30),
  /**
   * Log backups of every user database run this often (simulated minutes; Azure: about every 10 minutes); a point in
   * time after a database's newest log backup cannot be restored yet.
   */
  logBackupMinutes: z.number().positive().default(10),
  /** A PUT or DELETE of a network security rule takes this long before it applies (simulated seconds; inferred). */
  securityRuleSeconds: z.number().min(0).default(10),
  /**
   * A SQL database's or elastic pool's scale (PATCH of its SKU) takes this long (simulated seconds; inferred: Learn
   * says minutes, longer when data must be copied).
   */
  sqlScaleSeconds: z.number().min(0).default(120),
  /** `Retry-After` of 202 answers and async status polls (real seconds). */
  asyncRetryAfterSeconds: z.number().int().min(0).default(1),
});

export const WorldSpecSchema = z.strictObject({
  subscriptionId: z
    .string()
    .regex(/^[0-9a-f-]{36}$/i)
    .default('00000000-0000-4000-8000-0000000f0c05'),
  instances: z.array(InstanceSpecSchema).min(1),
  groups: z.array(GroupSpecSchema).default([]),
  /** Azure SQL Database: logical servers with their databases and elastic pools. */
  sqlServers: z.array(SqlServerSpecSchema).default([]),
  /** Azure SQL Database server failover groups over `sqlServers`. */
  sqlFailoverGroups: z.array(SqlFailoverGroupSpecSchema).default([]),
  /**
   * Resource groups that exist without an instance or a group in them. Those of instances and groups exist anyway; a
   * request naming any other answers 404 `ResourceGroupNotFound`.
   */
  resourceGroups: z
    .array(z.strictObject({ name: z.string().min(1), subscriptionId: z.string().optional() }))
    .default([]),
  /**
   * Virtual networks and their subnets. An instance whose subnet the world does not declare gets a derived one: the
   * vnet of its `subnetId` (by default `vnet-<location>` in its resource group, a distinct `10.N.0.0/16` per vnet)
   * with that subnet (`10.N.K.0/24`) and a network security group `nsg-<subnet>-<location>` allowing TCP 5022 and
   * 11000-11999 both ways between every two derived subnets.
   */
  virtualNetworks: z.array(VirtualNetworkSpecSchema).default([]),
  networkSecurityGroups: z.array(NetworkSecurityGroupSpecSchema).default([]),
  timings: TimingsSchema.prefault({}),
  /**
   * Makes what varies reproducible: with a seed, each database becomes writable at its own moment after a switch
   * (the same moments for the same seed). Without one, every database at `timings.readOnlyAfterSwitchSeconds`.
   */
  seed: z.number().int().optional(),
  /** The SQL login every emulated instance accepts (the emulator is a rehearsal tool; never use a real secret). */
  sqlLogin: z
    .strictObject({ user: z.string(), password: z.string() })
    .default({ user: 'fogpilot', password: 'Emulator-only-5ecret!' }),
  /** ARM throttling per subscription, as Azure's token buckets (real time). Set `enabled: false` to turn it off. */
  throttling: z
    .strictObject({
      enabled: z.boolean().default(true),
      readCapacity: z.number().default(250),
      readsPerSecond: z.number().default(25),
      writeCapacity: z.number().default(200),
      writesPerSecond: z.number().default(10),
    })
    .prefault({}),
  /** The workload around the databases: VMs, their backup vaults, Cosmos DB accounts (world-spec-workload.ts). */
  ...workloadSpecFields,
});

export type WorldSpec = z.output<typeof WorldSpecSchema>;
export type WorldSpecInput = z.input<typeof WorldSpecSchema>;
export type Timings = z.output<typeof TimingsSchema>;
export type InstanceSpec = z.output<typeof InstanceSpecSchema>;
export type GroupSpec = z.output<typeof GroupSpecSchema>;
export type SqlServerSpec = z.output<typeof SqlServerSpecSchema>;
export type SqlDatabaseSpec = z.output<typeof SqlDatabaseSpecSchema>;
export type SqlFailoverGroupSpec = z.output<typeof SqlFailoverGroupSpecSchema>;
export type LoginSpec = z.output<typeof LoginSpecSchema>;
export type SecurityRuleSpec = z.output<typeof SecurityRuleSpecSchema>;
export type VirtualNetworkSpec = z.output<typeof VirtualNetworkSpecSchema>;
export type NetworkSecurityGroupSpec = z.output<typeof NetworkSecurityGroupSpecSchema>;

/**
 * One group, two instances in two regions, two databases: enough to rehearse every runbook; beside it an Azure SQL
 * Database failover group (`fog-orders`: servers in eastus and westus, `orders` standalone, `payments` and `ledger`
 * in an elastic pool); and a workload around them (a VM, a vault, two Cosmos DB accounts: `defaultWorkloadSpec`).
 */
export function defaultWorldSpec(): WorldSpecInput {
  return {
    instances: [
      // Patched in different windows (weekday nights, weekends), as a failover group's pair should be.
      {
        name: 'fog-sales-eastus',
        resourceGroup: 'rg-fogpilot',
        location: 'eastus',
        vCores: 8,
        storageSizeInGB: 256,
        maintenanceConfigurationId: 'SQL_EastUS_MI_1',
      },
      // Created with dnsZonePartner, as a failover group's secondary must be: both FQDNs end in one zone.
      {
        name: 'fog-sales-westus',
        resourceGroup: 'rg-fogpilot',
        location: 'westus',
        vCores: 8,
        storageSizeInGB: 256,
        dnsZonePartner: 'fog-sales-eastus',
        maintenanceConfigurationId: 'SQL_WestUS_MI_2',
      },
    ],
    groups: [
      {
        name: 'fog-sales',
        resourceGroup: 'rg-fogpilot',
        primaryInstance: 'fog-sales-eastus',
        secondaryInstance: 'fog-sales-westus',
        databases: [{ name: 'sales' }, { name: 'inventory' }],
      },
    ],
    sqlServers: [
      {
        name: 'fog-orders-eastus',
        resourceGroup: 'rg-fogpilot',
        location: 'eastus',
        elasticPools: [{ name: 'orders-pool' }],
        databases: [
          { name: 'orders', sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 4, family: 'Gen5' }, sizeGB: 20 },
          { name: 'payments', elasticPool: 'orders-pool', sizeGB: 8 },
          { name: 'ledger', elasticPool: 'orders-pool', sizeGB: 4 },
        ],
      },
      {
        name: 'fog-orders-westus',
        resourceGroup: 'rg-fogpilot',
        location: 'westus',
        elasticPools: [{ name: 'orders-pool' }],
      },
    ],
    sqlFailoverGroups: [
      {
        name: 'fog-orders',
        primaryServer: 'fog-orders-eastus',
        partnerServers: ['fog-orders-westus'],
        databases: ['orders', 'payments', 'ledger'],
      },
    ],
    ...defaultWorkloadSpec(),
  };
}

/**
 * Four instances and no group, to rehearse establishing one (`establishGroup`) and re-protecting (`reprotect`):
 * `fog-crm-eastus` holds `crm` (120 GB) and `billing` (30 GB); `fog-crm-westus` and `fog-crm-northeurope` share its DNS
 * zone and are empty; `fog-crm-centralus` is empty but in a DNS zone of its own (a pair with it is refused
 * `DnsZoneMismatch`). All the same size; the derived networks let every pair replicate.
 */
export function establishWorldSpec(): WorldSpecInput {
  const instance = (name: string, location: string, extra: Partial<WorldSpecInput['instances'][number]> = {}) => ({
    name,
    resourceGroup: 'rg-fogpilot',
    location,
    vCores: 8,
    storageSizeInGB: 256,
    ...extra,
  });
  return {
    instances: [
      instance('fog-crm-eastus', 'eastus', {
        maintenanceConfigurationId: 'SQL_EastUS_MI_1',
        databases: [
          { name: 'crm', sizeGB: 120 },
          { name: 'billing', sizeGB: 30 },
        ],
      }),
      instance('fog-crm-westus', 'westus', {
        dnsZonePartner: 'fog-crm-eastus',
        maintenanceConfigurationId: 'SQL_WestUS_MI_2',
      }),
      instance('fog-crm-centralus', 'centralus'),
      instance('fog-crm-northeurope', 'northeurope', {
        dnsZonePartner: 'fog-crm-eastus',
        maintenanceConfigurationId: 'SQL_NorthEurope_MI_1',
      }),
    ],
    groups: [],
  };
}

/** The worlds `fogpilot emulator --world <name>` knows by name. */
export const NAMED_WORLDS: Readonly<Record<string, () => WorldSpecInput>> = {
  default: defaultWorldSpec,
  establish: establishWorldSpec,
};

export function parseWorldSpec(raw: unknown): WorldSpec {
  const parsed = WorldSpecSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(world)'}: ${issue.message}`,
  );
  throw new Error(`Invalid world description: ${problems.join('; ')}`);
}
