/**
 * fogpilot's configuration: `fogpilot.yaml` (path from `FOGPILOT_CONFIG`) plus environment overrides, parsed once into
 * one typed object. Errors name the key and the fix. Secrets are never in this file: SQL logins name the environment
 * variables that hold them.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_RATE_LIMITS } from '../azure/rate-limiter';
import { API_VERSION_PATTERN, DEFAULT_SQL_DATABASE_API_VERSION } from '../azure/server-group-api';
import { durationToMs } from '../domain/durations';
import { GroupCoordinatesSchema } from '../domain/inputs';
import { HooksSchema, ObjectivesSchema } from '../hooks/schema';
import { NotificationsSchema, unknownNotificationGroups } from '../notify/schema';
import { AccessSchema, type GroupForAccess } from './access';
import { Inventory } from './inventory';
import { WorkloadSchema } from './workload';
import { fogpilotVariable } from './environment';
import { DEFAULT_TASK_QUEUE, taskQueueOverride } from './task-queue';

function positiveRate(key: string) {
  return z
    .number({ error: `${key} must be a number` })
    .positive({ error: `${key} must be more than 0` })
    .max(10_000, { error: `${key} must be at most 10000` });
}

/** ARM endpoints of the Azure clouds (sovereign clouds have their own). */
export const CLOUD_ARM_ENDPOINTS = {
  AzurePublicCloud: 'https://management.azure.com',
  AzureUSGovernment: 'https://management.usgovcloudapi.net',
  AzureChinaCloud: 'https://management.chinacloudapi.cn',
} as const;

const durationSetting = (key: string, fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .refine((value) => durationToMs(value) !== undefined, { error: `${key} must be a duration such as "30 seconds"` })
    .transform((value) => durationToMs(value)!);

const SqlAuthSchema = z.discriminatedUnion('auth', [
  z.strictObject({ auth: z.literal('entra') }),
  z.strictObject({
    auth: z.literal('sql-login'),
    /** Name of the environment variable that holds the login name. */
    userEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'userEnv must name an environment variable, e.g. FOGPILOT_SQL_USER' }),
    /** Name of the environment variable that holds the password (never the password itself). */
    passwordEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
      error: 'passwordEnv must name an environment variable, e.g. FOGPILOT_SQL_PASSWORD',
    }),
  }),
]);

const InventoryEntrySchema = z.strictObject({
  subscriptionId: z.string(),
  resourceGroup: z.string(),
  /** The failover group's name in Azure; defaults to the inventory key. */
  name: z.string().optional(),
  primaryLocation: z.string(),
  secondaryLocation: z.string(),
  /** `managedInstance` (the default) or `sqlDatabase`: an Azure SQL Database server failover group. */
  kind: z.string().optional(),
  /** `sqlDatabase` only: each region's logical server, `{ eastus: orders-eus, westus: orders-wus }`. */
  servers: z.record(z.string(), z.string()).optional(),
  sql: SqlAuthSchema.optional(),
  /** Labels the access rules can grant by (`access.callers.<name>.groupTags`), e.g. `{ tier: gold }`. */
  tags: z.record(z.string(), z.string()).optional(),
  /** HTTP steps before the runbook's first change and after its database switch (../hooks/schema.ts). */
  hooks: HooksSchema.optional(),
  /** RTO, RPO and how often a drill is due, for reports and `readinessCheck` (../hooks/schema.ts). */
  objectives: ObjectivesSchema.optional(),
});

export const ConfigSchema = z.strictObject({
  azure: z
    .strictObject({
      cloud: z
        .enum(['AzurePublicCloud', 'AzureUSGovernment', 'AzureChinaCloud'], {
          error: 'azure.cloud must be AzurePublicCloud, AzureUSGovernment or AzureChinaCloud',
        })
        .default('AzurePublicCloud'),
      armEndpoint: z.url({ error: 'azure.armEndpoint must be a URL such as https://management.azure.com' }).optional(),
      credential: z
        .enum(['default', 'emulator'], {
          error: 'azure.credential must be "default" (DefaultAzureCredential) or "emulator"',
        })
        .default('default'),
      requestTimeout: durationSetting('azure.requestTimeout', '30 seconds'),
      /** A CA certificate (PEM file) to trust for ARM and SQL besides Node's: the emulator's `--ca-file`. */
      caFile: z.string().min(1, { error: 'azure.caFile must be the path of a PEM file' }).optional(),
      /** This worker's share of each subscription's ARM budget (Azure refills 25 reads/s per subscription). */
      rateLimits: z
        .strictObject({
          readsPerSecond: positiveRate('azure.rateLimits.readsPerSecond').default(DEFAULT_RATE_LIMITS.readsPerSecond),
          readBurst: positiveRate('azure.rateLimits.readBurst').default(DEFAULT_RATE_LIMITS.readBurst),
          writesPerSecond: positiveRate('azure.rateLimits.writesPerSecond').default(
            DEFAULT_RATE_LIMITS.writesPerSecond,
          ),
          writeBurst: positiveRate('azure.rateLimits.writeBurst').default(DEFAULT_RATE_LIMITS.writeBurst),
        })
        .prefault({}),
      /**
       * The api-version of Azure SQL Database failover-group requests (`servers/{s}/failoverGroups/{g}`): what it
       * offers (`tryPlannedBeforeForcedFailover`, several secondaries) is read from src/azure/server-group-api.
       */
      sqlDatabaseApiVersion: z
        .string({ error: 'azure.sqlDatabaseApiVersion must be an api-version such as 2025-01-01' })
        .trim()
        .regex(API_VERSION_PATTERN, {
          error: 'azure.sqlDatabaseApiVersion must be an api-version such as 2025-01-01 or 2023-02-01-preview',
        })
        .default(DEFAULT_SQL_DATABASE_API_VERSION),
    })
    .prefault({}),
  sql: z
    .strictObject({
      /** Default authentication for every group (a group's own `sql` wins). */
      auth: SqlAuthSchema.default({ auth: 'entra' }),
      /** `true` (TLS, required against Azure), `strict` (TDS 8: TLS before anything), `false` only for the emulator. */
      encrypt: z
        .union([z.boolean(), z.literal('strict')], { error: 'sql.encrypt must be true, false or "strict"' })
        .default(true),
      trustServerCertificate: z.boolean().default(false),
      port: z.number().int().min(1).max(65535).default(1433),
      connectTimeout: durationSetting('sql.connectTimeout', '15 seconds'),
      requestTimeout: durationSetting('sql.requestTimeout', '30 seconds'),
      /** Host overrides: FQDN → host:port (the emulator's TDS endpoints, a private DNS gap). */
      hosts: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  temporal: z.strictObject({ taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE) }).prefault({}),
  inventory: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, { error: 'inventory names are letters, digits, ".", "_" or "-"' }),
      InventoryEntrySchema,
    )
    .default({}),
  /** Who may start, approve or pre-approve which runbooks on which groups (./access.ts). Absent: read-only only. */
  access: AccessSchema.optional(),
  /** Where runbook events are sent: signed JSON, Slack or Teams (../notify/schema.ts). */
  notifications: NotificationsSchema.optional(),
  /** The VMs and Cosmos DB accounts around the databases, whose recovery points readiness proves (./workload.ts). */
  workload: WorkloadSchema.optional(),
});

export type {
  AfterHookConfig,
  BeforeHookConfig,
  HookConfig,
  HookHeaderValue,
  HooksConfig,
  ObjectivesConfig,
} from '../hooks/schema';
export type { NotificationEndpoint } from '../notify/schema';
export type { WorkloadConfig } from './workload';
/** One inventory entry as parsed. */
export type InventoryEntryConfig = z.output<typeof InventoryEntrySchema>;

export type FogpilotConfig = z.output<typeof ConfigSchema> & {
  /** Where the configuration came from, for messages. */
  source: string;
  /** The ARM endpoint after cloud defaults and overrides. */
  armEndpoint: string;
  /** The PEM of `azure.caFile`, read at load. */
  ca?: string;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A path; otherwise `FOGPILOT_CONFIG`, then `./fogpilot.yaml` if it exists, then defaults only. */
  path?: string;
}

/** Reads the file, applies the environment, validates: one typed config, or a {@link ConfigError} naming key and fix. */
export function loadConfig({ env = process.env, path: explicit }: LoadConfigOptions = {}): FogpilotConfig {
  const file =
    explicit ?? fogpilotVariable('FOGPILOT_CONFIG', env) ?? (existsSync('fogpilot.yaml') ? 'fogpilot.yaml' : undefined);
  let raw: Record<string, unknown> = {};
  if (file) {
    if (!existsSync(file))
      throw new ConfigError(
        `Config file ${path.resolve(file)} does not exist. Set FOGPILOT_CONFIG to the path of fogpilot.yaml.`,
      );
    try {
      raw = (parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null) ?? {};
    } catch (error) {
      throw new ConfigError(`${file} is not valid YAML: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new ConfigError(`${file} must hold a YAML mapping (azure:, inventory:, …)`);
  }
  const azure = { ...((raw.azure as Record<string, unknown> | undefined) ?? {}) };
  const armEndpoint = fogpilotVariable('FOGPILOT_ARM_ENDPOINT', env);
  if (armEndpoint) azure.armEndpoint = armEndpoint;
  const credential = fogpilotVariable('FOGPILOT_AZURE_CREDENTIAL', env);
  if (credential) azure.credential = credential;
  const caFile = fogpilotVariable('FOGPILOT_CA_FILE', env);
  if (caFile) azure.caFile = caFile;
  const temporal = { ...((raw.temporal as Record<string, unknown> | undefined) ?? {}) };
  const taskQueue = taskQueueOverride(env);
  if (taskQueue) temporal.taskQueue = taskQueue;
  const parsed = ConfigSchema.safeParse({ ...raw, azure, temporal });
  const source = file ? path.resolve(file) : '(defaults and environment)';
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(root)';
      const fix =
        key === 'azure.armEndpoint'
          ? ' (or FOGPILOT_ARM_ENDPOINT)'
          : key === 'azure.credential'
            ? ' (or FOGPILOT_AZURE_CREDENTIAL)'
            : '';
      return issue.code === 'unrecognized_keys'
        ? `${key}: unknown key(s) ${issue.keys.join(', ')}`
        : `${key}${fix}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration in ${source}: ${problems.join('; ')}`);
  }
  const unknownGroups = unknownNotificationGroups(parsed.data.notifications ?? [], Object.keys(parsed.data.inventory));
  if (unknownGroups.length > 0)
    throw new ConfigError(`Invalid configuration in ${source}: ${unknownGroups.join('; ')}`);
  for (const [name, entry] of Object.entries(parsed.data.inventory)) {
    const { sql: _sql, tags: _tags, hooks: _hooks, objectives: _objectives, ...coordinates } = entry;
    const check = GroupCoordinatesSchema.safeParse({ ...coordinates, name: coordinates.name ?? name });
    if (!check.success) {
      const problems = check.error.issues.map(
        (issue) => `inventory.${name}.${issue.path.map(String).join('.')}: ${issue.message}`,
      );
      throw new ConfigError(`Invalid configuration in ${source}: ${problems.join('; ')}`);
    }
  }
  return {
    ...parsed.data,
    source,
    ca: readCaFile(parsed.data.azure.caFile, source),
    armEndpoint: (parsed.data.azure.armEndpoint ?? CLOUD_ARM_ENDPOINTS[parsed.data.azure.cloud]).replace(/\/+$/, ''),
  };
}

/** The CA file's PEM, or a ConfigError saying which file could not be used and how to make one. */
function readCaFile(file: string | undefined, source: string): string | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `azure.caFile (or FOGPILOT_CA_FILE) in ${source} names ${path.resolve(file)}, which cannot be read: ${(error as Error).message}. Write the emulator's CA there with \`fogpilot emulator --tls --ca-file ${file}\`.`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(
      `azure.caFile (or FOGPILOT_CA_FILE) names ${path.resolve(file)}, which holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line).`,
    );
  return text;
}

export function inventoryOf(config: FogpilotConfig): Inventory {
  return new Inventory(
    Object.fromEntries(
      Object.entries(config.inventory).map(([name, entry]) => [
        name,
        {
          subscriptionId: entry.subscriptionId,
          resourceGroup: entry.resourceGroup,
          name: entry.name ?? name,
          primaryLocation: entry.primaryLocation,
          secondaryLocation: entry.secondaryLocation,
          ...(entry.kind === 'sqlDatabase' ? { kind: 'sqlDatabase' as const, servers: entry.servers ?? {} } : {}),
        },
      ]),
    ),
  );
}

/** A group as the access rules see it: its inventory name and tags, or neither for a group outside the inventory. */
export function groupForAccess(config: FogpilotConfig, inventoryName: string | undefined): GroupForAccess {
  const entry = inventoryName === undefined ? undefined : config.inventory[inventoryName];
  return entry ? { inventoryName, tags: entry.tags } : {};
}
