/**
 * The workload around the databases, as a world description gives it: virtual machines (Microsoft.Compute), Recovery
 * Services vaults with their IaaS VM backup policies (Microsoft.RecoveryServices), Cosmos DB accounts with their backup
 * policy (Microsoft.DocumentDB), and how long their operations take. world-spec.ts adds these fields to the world.
 */
import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a UTC time of day, HH:MM' });

export const VirtualMachineSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    error: 'virtualMachines[].name must be 1-64 letters, digits, _ . -',
  }),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  location: z.string().min(2),
  vmSize: z.string().default('Standard_D2s_v3'),
  osType: z.enum(['Linux', 'Windows']).default('Linux'),
  /** Its OS and data disks together (GB): a backup's snapshot and transfer take time by it. */
  diskSizeGB: z.number().int().positive().default(128),
});

/**
 * An IaaS VM backup policy (`AzureIaasVM`, `SimpleSchedulePolicy`, `LongTermRetentionPolicy` with a daily schedule):
 * a backup at each of `scheduleRunTimes` (UTC) every day, each recovery point kept `dailyRetentionDays`, its snapshot
 * tier (instant restore) `instantRpRetentionRangeInDays`.
 */
export const BackupPolicySpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{2,149}$/, {
    error: 'policies[].name must be 3-150 letters, digits or hyphens, starting with a letter',
  }),
  scheduleRunFrequency: z.literal('Daily').default('Daily'),
  scheduleRunTimes: z.array(hhmm).min(1).max(1).default(['02:00']),
  /** Azure's daily retention: 7 to 9999 days. */
  dailyRetentionDays: z.number().int().min(7).max(9999).default(30),
  /** Azure's instant restore retention of a daily policy: 1 to 5 days. */
  instantRpRetentionRangeInDays: z.number().int().min(1).max(5).default(2),
});

export const RecoveryServicesVaultSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{1,49}$/, {
    error: 'recoveryServicesVaults[].name must be 2-50 letters, digits or hyphens',
  }),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  location: z.string().min(2),
  /** A new vault has `DefaultPolicy` (daily, 30 days) and so does one declared without policies. */
  policies: z.array(BackupPolicySpecSchema).prefault([{ name: 'DefaultPolicy' }]),
});

const PeriodicSchema = z.strictObject({
  type: z.literal('Periodic'),
  backupIntervalInMinutes: z.number().int().min(60).max(1440).default(240),
  backupRetentionIntervalInHours: z.number().int().min(8).max(720).default(8),
  backupStorageRedundancy: z.enum(['Geo', 'Local', 'Zone']).default('Geo'),
});
const ContinuousSchema = z.strictObject({
  type: z.literal('Continuous'),
  tier: z.enum(['Continuous7Days', 'Continuous30Days']).default('Continuous30Days'),
});

export const CosmosAccountSpecSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,42}[a-z0-9]$/, {
    error: 'cosmosDbAccounts[].name must be 3-44 lower-case letters, digits or hyphens',
  }),
  resourceGroup: z.string().min(1),
  subscriptionId: z.string().optional(),
  /** Its write region; `readLocations` are added after it, in failover priority order. */
  location: z.string().min(2),
  readLocations: z.array(z.string().min(2)).default([]),
  /** `GlobalDocumentDB` (API for NoSQL: `apiType` Sql) or `MongoDB`. */
  kind: z.enum(['GlobalDocumentDB', 'MongoDB']).default('GlobalDocumentDB'),
  /** Data in one region (GB): a migration to continuous backup takes time by it and the number of regions. */
  dataSizeGB: z.number().min(0).default(10),
  backupPolicy: z.discriminatedUnion('type', [PeriodicSchema, ContinuousSchema]).default({
    type: 'Periodic',
    backupIntervalInMinutes: 240,
    backupRetentionIntervalInHours: 8,
    backupStorageRedundancy: 'Geo',
  }),
  /** How long before the world begins the account was created (simulated days). */
  createdDaysAgo: z.number().min(0).default(90),
});

export const WorkloadTimingsSchema = z.strictObject({
  /** A vault's `refreshContainers` (discovery) takes this long (simulated seconds). */
  refreshContainersSeconds: z.number().min(0).default(30),
  /** Enabling protection (the protected item's PUT, its ConfigureBackup job) takes this long. */
  configureProtectionSeconds: z.number().min(0).default(30),
  /** A backup job's snapshot phase: this long, plus `backupSnapshotSecondsPerGB` for each GB of the VM's disks. */
  backupSnapshotBaseSeconds: z.number().min(0).default(120),
  backupSnapshotSecondsPerGB: z.number().min(0).default(2),
  /** Then its transfer to the vault, per GB of the VM's disks. */
  backupTransferSecondsPerGB: z.number().min(0).default(6),
  /**
   * A Cosmos DB account's migration to continuous backup moves its data (GB in one region × regions) at this rate
   * (Microsoft: one region with 1 TB takes roughly an hour and a half), and takes at least `cosmosMigrationMinSeconds`.
   */
  cosmosMigrationGBPerHour: z.number().positive().default(680),
  cosmosMigrationMinSeconds: z.number().min(0).default(300),
  /** Any other account update (a continuous tier change) takes this long. */
  cosmosUpdateSeconds: z.number().min(0).default(60),
});

export type VirtualMachineSpec = z.output<typeof VirtualMachineSpecSchema>;
export type BackupPolicySpec = z.output<typeof BackupPolicySpecSchema>;
export type RecoveryServicesVaultSpec = z.output<typeof RecoveryServicesVaultSpecSchema>;
export type CosmosAccountSpec = z.output<typeof CosmosAccountSpecSchema>;
export type WorkloadTimings = z.output<typeof WorkloadTimingsSchema>;

/** The fields world-spec.ts adds to `WorldSpecSchema`. */
export const workloadSpecFields = {
  /** Virtual machines (`Microsoft.Compute/virtualMachines`), which a Recovery Services vault can back up. */
  virtualMachines: z.array(VirtualMachineSpecSchema).default([]),
  /** Recovery Services vaults and their IaaS VM backup policies; no VM is protected when the world begins. */
  recoveryServicesVaults: z.array(RecoveryServicesVaultSpecSchema).default([]),
  /** Cosmos DB accounts, each with a periodic or continuous backup policy. */
  cosmosDbAccounts: z.array(CosmosAccountSpecSchema).default([]),
  workloadTimings: WorkloadTimingsSchema.prefault({}),
};

/**
 * The default world's workload: one VM in the primary's region that no vault protects yet, one vault there with a
 * daily policy (`DefaultPolicy`, 02:00 UTC, 30 days, instant restore 2 days), a periodic Cosmos DB account and a
 * continuous one (30 days).
 */
export function defaultWorkloadSpec() {
  return {
    virtualMachines: [{ name: 'vm-app-eastus', resourceGroup: 'rg-fogpilot-app', location: 'eastus', diskSizeGB: 128 }],
    recoveryServicesVaults: [
      {
        name: 'rsv-fogpilot-eastus',
        resourceGroup: 'rg-fogpilot-app',
        location: 'eastus',
        policies: [{ name: 'DefaultPolicy' }],
      },
    ],
    cosmosDbAccounts: [
      {
        name: 'cosmos-orders',
        resourceGroup: 'rg-fogpilot-app',
        location: 'eastus',
        readLocations: ['westus'],
        dataSizeGB: 50,
        backupPolicy: { type: 'Periodic' as const },
      },
      {
        name: 'cosmos-catalog',
        resourceGroup: 'rg-fogpilot-app',
        location: 'eastus',
        dataSizeGB: 5,
        backupPolicy: { type: 'Continuous' as const, tier: 'Continuous30Days' as const },
      },
    ],
  };
}
