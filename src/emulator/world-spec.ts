/**
 * The description of an emulated world, as loaded from `--world FILE` (JSON or YAML) or the admin API. Defaults make a
 * small file enough: names, regions and sizes.
 */
import { z } from 'zod';

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
  subnetId: z.string().optional(),
  maintenanceConfigurationId: z.string().optional(),
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
  /**
   * Resource groups that exist without an instance or a group in them. Those of instances and groups exist anyway; a
   * request naming any other answers 404 `ResourceGroupNotFound`.
   */
  resourceGroups: z
    .array(z.strictObject({ name: z.string().min(1), subscriptionId: z.string().optional() }))
    .default([]),
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
});

export type WorldSpec = z.output<typeof WorldSpecSchema>;
export type WorldSpecInput = z.input<typeof WorldSpecSchema>;
export type Timings = z.output<typeof TimingsSchema>;
export type InstanceSpec = z.output<typeof InstanceSpecSchema>;
export type GroupSpec = z.output<typeof GroupSpecSchema>;

/** One group, two instances in two regions, two databases: enough to rehearse every runbook. */
export function defaultWorldSpec(): WorldSpecInput {
  return {
    instances: [
      { name: 'fog-sales-eastus', resourceGroup: 'rg-fogpilot', location: 'eastus', vCores: 8, storageSizeInGB: 256 },
      // Created with dnsZonePartner, as a failover group's secondary must be: both FQDNs end in one zone.
      {
        name: 'fog-sales-westus',
        resourceGroup: 'rg-fogpilot',
        location: 'westus',
        vCores: 8,
        storageSizeInGB: 256,
        dnsZonePartner: 'fog-sales-eastus',
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
  };
}

export function parseWorldSpec(raw: unknown): WorldSpec {
  const parsed = WorldSpecSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(world)'}: ${issue.message}`,
  );
  throw new Error(`Invalid world description: ${problems.join('; ')}`);
}
