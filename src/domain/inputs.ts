/**
 * Runbook inputs: the public, plain-JSON shapes operators type into `temporal workflow start --input …`.
 *
 * Parsed in the workflow (so the Temporal CLI path is validated too) and by the CLI and HTTP trigger before starting,
 * so a bad input is refused before it reaches Temporal. Every field but `group` has a safe default.
 */
import { z } from 'zod';
import type { SqlSku } from './azure-state';
import { durationToMs } from './durations';
import { LOCATION_PATTERN, normalizeLocation } from './locations';
import { SQL_SKU_EXAMPLES, completeSqlSku, parseSqlSkuName } from './sql-sku';
import {
  GROUP_KIND_NAMES,
  isArmGroupId,
  parseInstanceFailoverGroupId,
  parseServerFailoverGroupId,
  type GroupRef,
} from './group-ref';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP = /^[-\w.()]{1,90}$/;
const GROUP_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$/;
const INVENTORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
/** A logical server's name: 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen. */
const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$|^[a-z0-9]$/;

const location = (field: string) =>
  z
    .string({ error: `${field} must be an Azure region name such as "eastus" or "Japan East"` })
    .regex(LOCATION_PATTERN, { error: `${field} must be an Azure region name such as "eastus" or "Japan East"` })
    .transform(normalizeLocation);

export const GroupCoordinatesSchema = z
  .strictObject(
    {
      subscriptionId: z
        .string({ error: 'subscriptionId is required: the subscription GUID that holds the failover group' })
        .regex(GUID, { error: 'subscriptionId must be a subscription GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)' }),
      resourceGroup: z
        .string({ error: 'resourceGroup is required: the resource group of the failover group' })
        .regex(RESOURCE_GROUP, {
          error: 'resourceGroup must be 1-90 letters, digits, underscores, hyphens, periods or parentheses',
        }),
      name: z
        .string({ error: 'name is required: the failover group name' })
        .regex(GROUP_NAME, { error: 'name must be a failover group name: 1-63 lowercase letters, digits and hyphens' }),
      primaryLocation: location('primaryLocation'),
      secondaryLocation: location('secondaryLocation'),
      kind: z
        .enum(GROUP_KIND_NAMES, {
          error:
            'kind must be "managedInstance" (an instance failover group) or "sqlDatabase" (a server failover group)',
        })
        .optional(),
      servers: z
        .record(
          location('servers: each key'),
          z.string().regex(SERVER_NAME, {
            error: 'servers: each value must be a logical server name (lowercase letters, digits and hyphens)',
          }),
          { error: 'servers must map each region of the group to its logical server, e.g. { "eastus": "orders-eus" }' },
        )
        .optional(),
    },
    {
      error: (issue) =>
        unknownKeysMessage(issue, [
          'subscriptionId',
          'resourceGroup',
          'name',
          'primaryLocation',
          'secondaryLocation',
          'kind',
          'servers',
        ]),
    },
  )
  .refine((group) => group.primaryLocation !== group.secondaryLocation, {
    error: 'secondaryLocation must be a different region from primaryLocation: a failover group spans two regions',
    path: ['secondaryLocation'],
  })
  .refine((group) => group.kind === 'sqlDatabase' || group.servers === undefined, {
    error: 'servers is for kind "sqlDatabase" only: a Managed Instance group is addressed by its locations',
    path: ['servers'],
  })
  .refine(
    (group) =>
      group.kind !== 'sqlDatabase' ||
      (group.servers?.[group.primaryLocation] !== undefined && group.servers[group.secondaryLocation] !== undefined),
    {
      error:
        'servers must name the logical server in primaryLocation and in secondaryLocation for kind "sqlDatabase", ' +
        'e.g. { "eastus": "orders-eus", "westus": "orders-wus" }',
      path: ['servers'],
    },
  );

const GROUP_HELP =
  'group must be the name of a group in the worker inventory (e.g. "fog-sales"), its coordinates ' +
  '{ subscriptionId, resourceGroup, name, primaryLocation, secondaryLocation } (with kind "sqlDatabase" and servers ' +
  'for a server failover group), or its full ARM id';

export const GroupRefSchema: z.ZodType<GroupRef> = z.union(
  [
    z
      .string()
      .trim()
      .refine((ref) => isArmGroupId(ref) || INVENTORY_NAME.test(ref), {
        error: 'group must be an inventory name (letters, digits, ".", "_" or "-", at most 80) or a full ARM id',
      })
      .refine(
        (ref) =>
          !isArmGroupId(ref) ||
          (ref.length <= 512 &&
            (parseInstanceFailoverGroupId(ref) !== undefined || parseServerFailoverGroupId(ref) !== undefined)),
        {
          error:
            'group looks like an ARM id but is not one of a failover group: expected ' +
            '/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Sql/locations/<region>/instanceFailoverGroups/<name> ' +
            '(Managed Instance) or /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Sql/servers/<server>/failoverGroups/<name> ' +
            '(SQL Database)',
        },
      ),
    GroupCoordinatesSchema,
  ],
  { error: GROUP_HELP },
);

/** A number of milliseconds: what every duration field of a runbook input is once parsed. */
export type Milliseconds = number;

/**
 * A duration field: callers write `'15 minutes'`, `'2h'` or a number of milliseconds; the parsed params carry
 * {@link Milliseconds}, so workflow code never converts. A default goes through `.prefault('…')`, so it is written as
 * callers write it and converted like their value.
 */
function durationField(field: string, minMs: number, maxMs: number, example: string) {
  const bounds = `between ${describeMs(minMs)} and ${describeMs(maxMs)}`;
  return z
    .union([z.string(), z.number()], { error: `${field} must be a duration such as "${example}" (${bounds})` })
    .refine((value) => durationToMs(value) !== undefined, {
      error: `${field} must be a duration such as "${example}" or a number of milliseconds`,
      abort: true,
    })
    .refine(
      (value) => {
        const milliseconds = durationToMs(value) ?? -1;
        return milliseconds >= minMs && milliseconds <= maxMs;
      },
      { error: `${field} must be ${bounds}` },
    )
    .transform((value): Milliseconds => durationToMs(value)!);
}

function describeMs(milliseconds: number): string {
  if (milliseconds === 0) return '0';
  const count = (amount: number, unit: string) => `${amount} ${unit}${amount === 1 ? '' : 's'}`;
  if (milliseconds % 86_400_000 === 0) return count(milliseconds / 86_400_000, 'day');
  if (milliseconds % 3_600_000 === 0) return count(milliseconds / 3_600_000, 'hour');
  if (milliseconds % 60_000 === 0) return count(milliseconds / 60_000, 'minute');
  return count(milliseconds / 1000, 'second');
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const text = (field: string, max: number) =>
  z
    .string({ error: `${field} must be text` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .optional();

function unknownKeysMessage(issue: { code?: string; keys?: string[] }, known: string[]): string | undefined {
  if (issue.code !== 'unrecognized_keys' || !issue.keys) return undefined;
  const described = issue.keys.map((key) => {
    const near = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
    return near ? `"${key}" (did you mean "${near}"?)` : `"${key}"`;
  });
  return `unknown field ${described.join(', ')}: the accepted fields are ${known.join(', ')}`;
}

const strictInput = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, {
    error: (issue) =>
      unknownKeysMessage(issue as { code?: string; keys?: string[] }, Object.keys(shape)) ??
      'input must be a JSON object such as {"group": "fog-sales"}',
  });

/** The replication lag, in seconds, a planned failover accepts unless told otherwise. */
export const DEFAULT_MAX_LAG_SECONDS = 30;

/**
 * How long a drill, or a plannedFailover with `failback`, waits for replication to catch up before its failback; past
 * it the run ends `failbackPending` with the command that fails back.
 */
const failbackWaitTimeout = durationField('failbackWaitTimeout', 0, DAY, '1 hour').prefault('1 hour');

/**
 * How long one scaling operation may run before the runbook stops following it. Up to 7 days: a Business Critical
 * scale reseeds every database at about 220 GB/h, so a 16 TB instance takes about 3 days.
 */
const scaleTimeoutField = () => durationField('scaleTimeout', MINUTE, 7 * DAY, '3 hours').prefault('3 hours');

/** Fields shared by the runbooks that end in a planned failover. */
const plannedFailoverFields = {
  group: GroupRefSchema,
  targetLocation: location('targetLocation').optional(),
  maxLagSeconds: z
    .number({ error: 'maxLagSeconds must be a number of seconds' })
    .int({ error: 'maxLagSeconds must be a whole number of seconds' })
    .min(0, { error: 'maxLagSeconds must be 0 or more' })
    .max(86_400, { error: 'maxLagSeconds must be at most 86400 (one day)' })
    .default(DEFAULT_MAX_LAG_SECONDS),
  scaleSecondary: z
    .enum(['match', 'skip'], {
      error:
        'scaleSecondary must be "match" (scale a smaller secondary up first) or "skip" (refuse when it is smaller)',
    })
    .default('match'),
  roleSwitchTimeout: durationField('roleSwitchTimeout', MINUTE, 6 * HOUR, '15 minutes').prefault('15 minutes'),
  syncTimeout: durationField('syncTimeout', 10_000, 6 * HOUR, '10 minutes').prefault('10 minutes'),
  writableTimeout: durationField('writableTimeout', 10_000, 6 * HOUR, '10 minutes').prefault('10 minutes'),
  scaleTimeout: scaleTimeoutField(),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
};

export const PlannedFailoverInputSchema = strictInput({
  ...plannedFailoverFields,
  failback: strictInput({
    after: durationField('failback.after', 0, 30 * DAY, '2 hours'),
  })
    .optional()
    .describe('fail back to the original primary after this long'),
  failbackWaitTimeout,
});

export const FailbackInputSchema = strictInput({
  ...plannedFailoverFields,
  waitTimeout: durationField('waitTimeout', MINUTE, 30 * DAY, '7 days').prefault('7 days'),
  pollInterval: durationField('pollInterval', 5_000, DAY, '1 minute').prefault('1 minute'),
  /** Internal: carried across continue-as-new while waiting; not for callers. */
  resume: z
    .strictObject(
      { waitingSince: z.string(), polls: z.number().int().min(0) },
      { error: 'resume is internal: leave it out' },
    )
    .optional(),
});

const actor = (field: string) =>
  strictInput({
    by: z
      .string({ error: `${field}.by is required: who approved (a person or the incident tool)` })
      .trim()
      .min(1, { error: `${field}.by must not be empty` })
      .max(200, { error: `${field}.by must be at most 200 characters` }),
    reason: z
      .string({ error: `${field}.reason is required: why (an incident id, a ticket)` })
      .trim()
      .min(1, { error: `${field}.reason must not be empty` })
      .max(1000, { error: `${field}.reason must be at most 1000 characters` }),
  });

/** Fields of a forced failover; also what `fleetFailover` passes to each child in forced mode. */
const forcedFailoverFields = {
  group: GroupRefSchema,
  targetLocation: location('targetLocation').optional(),
  tryPlannedFirst: strictInput({
    timeout: durationField('tryPlannedFirst.timeout', MINUTE, 2 * HOUR, '5 minutes'),
  }).optional(),
  approval: actor('approval').optional(),
  approvalTimeout: durationField('approvalTimeout', MINUTE, 7 * DAY, '1 hour').prefault('1 hour'),
  /**
   * How old an approval may be when a failed `tryPlannedFirst` escalates to the forced failover: an older one is asked
   * for again, with the data-loss estimate read anew.
   */
  approvalMaxAge: durationField('approvalMaxAge', MINUTE, DAY, '15 minutes').prefault('15 minutes'),
  roleSwitchTimeout: durationField('roleSwitchTimeout', MINUTE, 6 * HOUR, '15 minutes').prefault('15 minutes'),
  writableTimeout: durationField('writableTimeout', 10_000, 6 * HOUR, '10 minutes').prefault('10 minutes'),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
};

export const ForcedFailoverInputSchema = strictInput(forcedFailoverFields);

/** vCore counts Azure accepts for a managed instance. */
export const VALID_VCORES = [4, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128] as const;
const SKU_NAME = /^(GP|BC)_(Gen5|G8IM|G8IH)$/;

const sqlSkuObject = z.strictObject(
  {
    name: z
      .string({ error: 'a SKU object needs its name, e.g. "GP_Gen5"' })
      .trim()
      .min(1, { error: "the SKU's name is empty" })
      .refine((name) => name.toLowerCase() !== 'elasticpool', {
        error:
          '"ElasticPool" would move the database into an elastic pool, which scaleGroup does not do: scale a ' +
          'pooled database through its pool (elasticPools)',
      }),
    tier: z.string({ error: 'tier must be text such as "GeneralPurpose"' }).optional(),
    capacity: z
      .number({ error: 'capacity must be a number (vCores, or DTUs)' })
      .int({ error: 'capacity must be a whole number' })
      .positive({ error: 'capacity must be positive' })
      .optional(),
    family: z.string({ error: 'family must be text such as "Gen5"' }).optional(),
  },
  {
    error: (issue) =>
      unknownKeysMessage(issue as { code?: string; keys?: string[] }, ['name', 'tier', 'capacity', 'family']),
  },
);

/**
 * A database's or an elastic pool's SKU in scaleGroup's input: a name (`"S3"`, `"GP_Gen5_4"`) or ARM's object
 * `{ name, tier?, capacity?, family? }`, read into a complete {@link SqlSku}. (Not a union: its error would hide
 * which of the two forms was meant and what is wrong with it.)
 */
const sqlSkuField = (type: 'database' | 'elasticPool') =>
  z.unknown().transform((value, context): SqlSku => {
    if (typeof value === 'string') {
      const parsed = parseSqlSkuName(value, type);
      if (parsed.ok) return parsed.sku;
      context.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const parsed = sqlSkuObject.safeParse(value);
      if (parsed.success) return completeSqlSku(parsed.data);
      for (const issue of parsed.error.issues) {
        context.addIssue({
          code: 'custom',
          message: issue.message,
          path: issue.code === 'unrecognized_keys' ? [...issue.path, ...issue.keys] : issue.path,
        });
      }
      return z.NEVER;
    }
    context.addIssue({ code: 'custom', message: `must be a SKU: ${SQL_SKU_EXAMPLES[type]}` });
    return z.NEVER;
  });

/** Names of databases or pools, each with the SKU it is to have. */
const sqlScaleMap = (field: 'databases' | 'elasticPools', type: 'database' | 'elasticPool') =>
  z
    .record(
      z.string().min(1, { error: 'a name is empty' }).max(128, { error: 'a name is longer than 128 characters' }),
      sqlSkuField(type),
      {
        error:
          `${field} must map each ${type === 'database' ? 'member database' : 'elastic pool'} to its SKU, e.g. ` +
          (type === 'database' ? '{ "orders": "GP_Gen5_4" }' : '{ "orders-pool": "GP_Gen5_8" }'),
      },
    )
    .refine((map) => Object.keys(map).length > 0, { error: `name at least one, or leave ${field} out` })
    .refine((map) => new Set(Object.keys(map).map((name) => name.toLowerCase())).size === Object.keys(map).length, {
      error: 'a name appears twice (Azure names are case-insensitive)',
    })
    .optional();

export const ScaleGroupInputSchema = strictInput({
  group: GroupRefSchema,
  vCores: z
    .number({ error: `vCores must be a number, one of ${VALID_VCORES.join(', ')}` })
    .refine((value) => (VALID_VCORES as readonly number[]).includes(value), {
      error: `vCores must be one of ${VALID_VCORES.join(', ')} (the sizes Azure offers for a managed instance)`,
    })
    .optional(),
  storageSizeInGB: z
    .number({ error: 'storageSizeInGB must be a number of GB' })
    .int({ error: 'storageSizeInGB must be a whole number of GB' })
    .min(32, { error: 'storageSizeInGB must be at least 32' })
    .max(16_384, { error: 'storageSizeInGB must be at most 16384' })
    .refine((value) => value % 32 === 0, {
      error: 'storageSizeInGB must be a multiple of 32 (Azure scales in 32 GB steps)',
    })
    .optional(),
  sku: z
    .string({ error: 'sku must be a managed instance SKU name such as "GP_Gen5" or "BC_Gen5"' })
    .regex(SKU_NAME, {
      error: 'sku must be a managed instance SKU name: GP_Gen5, BC_Gen5, GP_G8IM, BC_G8IM, GP_G8IH or BC_G8IH',
    })
    .optional(),
  /** SQL Database groups: member databases (not in a pool) by name, each with the SKU it is to have on every server. */
  databases: sqlScaleMap('databases', 'database'),
  /** SQL Database groups: elastic pools holding member databases, by name, each with its SKU on every server. */
  elasticPools: sqlScaleMap('elasticPools', 'elasticPool'),
  scaleTimeout: scaleTimeoutField(),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
}).refine(
  (input) =>
    input.vCores !== undefined ||
    input.storageSizeInGB !== undefined ||
    input.sku !== undefined ||
    input.databases !== undefined ||
    input.elasticPools !== undefined,
  {
    error:
      'say what to scale: vCores, storageSizeInGB or sku for a Managed Instance group, databases or ' +
      'elasticPools for a SQL Database group (at least one)',
    path: ['vCores'],
  },
);

/** Query parameter names (lower case, `-` and `_` removed) that carry a credential in common APIs and SAS URLs. */
const CREDENTIAL_PARAMETER_NAMES = new Set([
  'token',
  'key',
  'sig',
  'signature',
  'password',
  'passwd',
  'pwd',
  'secret',
  'code',
  'accesstoken',
  'apikey',
  'auth',
  'authorization',
  'credential',
  'credentials',
]);
/** Name endings that mark a credential however the API prefixes it (`id_token`, `subscription-key`, `client_secret`). */
const CREDENTIAL_PARAMETER_ENDINGS = ['token', 'secret', 'password', 'signature', 'apikey', 'key'];

/**
 * The first query parameter of `url` whose name looks like a credential (token, key, sig, password, code, …), as the
 * caller wrote it, or undefined. Health-check URLs are kept in the workflow history, so a credential in one would be
 * readable by anyone who can read histories. Pure string work, so workflow code can call it.
 */
export function credentialLikeQueryParameter(url: string): string | undefined {
  const queryStart = url.indexOf('?');
  if (queryStart < 0) return undefined;
  const fragmentStart = url.indexOf('#', queryStart);
  const query = url.slice(queryStart + 1, fragmentStart < 0 ? undefined : fragmentStart);
  for (const pair of query.split(/[&;]/)) {
    const written = pair.split('=')[0] ?? '';
    let name = written;
    try {
      name = decodeURIComponent(written.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: judge the name as written.
    }
    const normalized = name.toLowerCase().replace(/[-_.\s]/g, '');
    if (normalized === '') continue;
    if (
      CREDENTIAL_PARAMETER_NAMES.has(normalized) ||
      CREDENTIAL_PARAMETER_ENDINGS.some((ending) => normalized.endsWith(ending))
    ) {
      return name;
    }
  }
  return undefined;
}

/**
 * Which input rules a drill applies. A rule added after drills were already running is switched by a workflow patch:
 * a drill started before it must replay with the input it was accepted with.
 */
export interface DrillInputRules {
  /** Refuse a health-check URL whose query string carries a credential-like parameter. */
  refuseCredentialQuery: boolean;
}

function drDrillInputSchema(rules: DrillInputRules) {
  return strictInput({
    ...plannedFailoverFields,
    /**
     * What to do when another runbook holds the group: `fail` (GroupBusy), or `skip` — end `skipped` with nothing
     * changed, as a scheduled drill does so that an incident never pauses the drill schedule.
     */
    ifGroupBusy: z.enum(['fail', 'skip'], { error: 'ifGroupBusy must be "fail" or "skip"' }).default('fail'),
    soak: durationField('soak', 0, 7 * DAY, '10 minutes').prefault('10 minutes'),
    smoke: strictInput({
      write: z.boolean({ error: 'smoke.write must be true or false' }).default(true),
      database: z
        .string({ error: 'smoke.database must be a database name' })
        .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, { error: 'smoke.database must be a database name' })
        .optional(),
      httpCheck: strictInput({
        url: z
          .string({ error: 'smoke.httpCheck.url must be an http(s) URL' })
          .max(2048, { error: 'smoke.httpCheck.url must be at most 2048 characters' })
          .refine((value) => /^https?:\/\/[^\s]+$/i.test(value), {
            error: 'smoke.httpCheck.url must be an http(s) URL such as "https://app.example.com/health"',
            abort: true,
          })
          .refine((value) => !/^https?:\/\/[^/?#]*@/i.test(value), {
            error:
              'smoke.httpCheck.url must not carry credentials (user:password@): the URL is kept in the workflow history; use a health endpoint that needs none',
          })
          .superRefine((value, context) => {
            if (!rules.refuseCredentialQuery) return;
            const parameter = credentialLikeQueryParameter(value);
            if (parameter !== undefined) {
              context.addIssue({
                code: 'custom',
                message: `smoke.httpCheck.url must not carry a credential in its query string (the parameter "${parameter}" looks like one): the URL is kept in the workflow history for anyone who can read it; use a health endpoint that needs no credential (for example one reachable only from the worker's network)`,
              });
            }
          }),
        expectStatus: z
          .number({ error: 'smoke.httpCheck.expectStatus must be an HTTP status code' })
          .int()
          .min(100)
          .max(599, { error: 'smoke.httpCheck.expectStatus must be an HTTP status code (100-599)' })
          .default(200),
        timeout: durationField('smoke.httpCheck.timeout', 1_000, 5 * MINUTE, '10 seconds').prefault('10 seconds'),
      }).optional(),
    }).prefault({}),
    failbackWaitTimeout,
    /**
     * Refuse to start (`PreflightFailed`, nothing changed) unless every database of the group has a trusted recovery
     * point within the group's `objectives.backupRpo`.
     */
    requireRecoveryPoint: z.boolean({ error: 'requireRecoveryPoint must be true or false' }).default(false),
    failback: z
      .literal(true, { error: 'failback must be true: a drill always returns the primary to where it was' })
      .default(true),
  });
}

export const DrDrillInputSchema = drDrillInputSchema({ refuseCredentialQuery: true });

/** A drill's input as accepted before health-check URLs with credential-like query parameters were refused. */
export const DrDrillInputSchemaBeforeCredentialQueryRule = drDrillInputSchema({ refuseCredentialQuery: false });

export const FleetFailoverInputSchema = strictInput({
  groups: z
    .array(GroupRefSchema, { error: 'groups must be a list of group references' })
    .min(1, { error: 'groups must name at least one group' })
    .max(500, { error: 'groups must name at most 500 groups' })
    .optional(),
  region: location('region').optional(),
  mode: z.enum(['planned', 'forced'], { error: 'mode must be "planned" or "forced"' }).default('planned'),
  concurrency: z
    .number({ error: 'concurrency must be a number' })
    .int({ error: 'concurrency must be a whole number' })
    .min(1, { error: 'concurrency must be at least 1' })
    .max(100, { error: 'concurrency must be at most 100' })
    .default(5),
  approval: actor('approval').optional(),
  approvalTimeout: durationField('approvalTimeout', MINUTE, 7 * DAY, '1 hour').prefault('1 hour'),
  maxLagSeconds: plannedFailoverFields.maxLagSeconds,
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
}).refine((input) => (input.groups === undefined) !== (input.region === undefined), {
  error:
    'region: give either region (every inventory group with a location there) or groups (a list), not both or neither',
  path: ['region'],
});

export const ReadinessCheckInputSchema = strictInput({
  group: GroupRefSchema.optional(),
  all: z.boolean({ error: 'all must be true or false' }).optional(),
  maxLagSeconds: plannedFailoverFields.maxLagSeconds,
  maxRestorePointAge: durationField('maxRestorePointAge', MINUTE, 30 * DAY, '1 hour').prefault('1 hour'),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
}).refine((input) => (input.group !== undefined) !== (input.all === true), {
  error: 'group: give either group (one group) or all: true (every group in the inventory), not both or neither',
  path: ['group'],
});

const MANAGED_INSTANCE_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Sql\/managedInstances\/[a-z0-9][a-z0-9-]{0,61}[a-z0-9]?$/i;
const MANAGED_INSTANCE_NAME = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]?$/;

/** A managed instance: its ARM id, or its name in the resource group of the inventory entry the group is named by. */
const managedInstanceRef = (field: string) =>
  z
    .string({
      error: `${field} is required: the managed instance's ARM id (or its name, when name is an inventory group)`,
    })
    .trim()
    .refine((ref) => MANAGED_INSTANCE_ID.test(ref) || MANAGED_INSTANCE_NAME.test(ref), {
      error:
        `${field} must be a managed instance's ARM id (/subscriptions/<id>/resourceGroups/<rg>/providers/` +
        'Microsoft.Sql/managedInstances/<name>) or, when name is an inventory group, its name',
    });

/** Whether an instance reference is a full ARM id (else a name in the inventory entry's resource group). */
export function isManagedInstanceId(ref: string): boolean {
  return MANAGED_INSTANCE_ID.test(ref);
}

/** The settings of a failover group to be created (establishGroup, and reprotect's new group). */
const newGroupSettings = {
  readWriteFailoverPolicy: z
    .enum(['Manual', 'Automatic'], { error: 'readWriteFailoverPolicy must be "Manual" or "Automatic"' })
    .default('Manual'),
  gracePeriodMinutes: z
    .number({ error: 'gracePeriodMinutes must be a number of minutes' })
    .int({ error: 'gracePeriodMinutes must be a whole number of minutes' })
    .min(60, { error: "gracePeriodMinutes must be at least 60 (Azure's minimum grace period)" })
    .optional(),
  readOnlyFailoverPolicy: z
    .enum(['Disabled', 'Enabled'], { error: 'readOnlyFailoverPolicy must be "Disabled" or "Enabled"' })
    .default('Disabled'),
  secondaryType: z
    .enum(['Geo', 'Standby'], { error: 'secondaryType must be "Geo" or "Standby" (license-free, serves no reads)' })
    .default('Geo'),
};

/** Azure refuses a grace period with the Manual policy. */
const gracePeriodNeedsAutomatic: [
  (input: { readWriteFailoverPolicy: string; gracePeriodMinutes?: number }) => boolean,
  { error: string; path: string[] },
] = [
  (input) => input.readWriteFailoverPolicy === 'Automatic' || input.gracePeriodMinutes === undefined,
  {
    error: 'gracePeriodMinutes: Azure refuses a grace period with the Manual policy; leave it out, or set Automatic',
    path: ['gracePeriodMinutes'],
  },
];

export const EstablishGroupInputSchema = strictInput({
  name: z
    .string({ error: 'name is required: the failover group to create (its Azure name, or an inventory name)' })
    .trim()
    .refine((value) => GROUP_NAME.test(value) || INVENTORY_NAME.test(value), {
      error: 'name must be a failover group name (1-63 lowercase letters, digits and hyphens) or an inventory name',
    }),
  primaryInstance: managedInstanceRef('primaryInstance'),
  secondaryInstance: managedInstanceRef('secondaryInstance'),
  ...newGroupSettings,
  /** Azure cancels a creation that still seeds after 6 days; fogpilot stops waiting at this bound. */
  seedingTimeout: durationField('seedingTimeout', HOUR, 7 * DAY, '6 days').prefault('6 days'),
  /** The longest pause between two looks at the seeding (shorter while the seeding DMV expects the end soon). */
  pollInterval: durationField('pollInterval', 5_000, HOUR, '30 minutes').prefault('30 minutes'),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
  /** Internal: carried across continue-as-new while seeding; not for callers. */
  resume: z
    .strictObject(
      {
        seedingSince: z.string(),
        polls: z.number().int().min(0),
        trackingId: z.string().optional(),
        created: z.enum(['created', 'already-established']),
        /** The prerequisites as the first run checked them (without their evidence, which stays in its history). */
        gates: z
          .array(
            z.strictObject({
              name: z.string(),
              status: z.enum(['pass', 'warn', 'fail']),
              message: z.string(),
              action: z.string().optional(),
            }),
          )
          .max(50)
          .default([]),
        /** The run that checked them. */
        checkedBy: z.string().optional(),
      },
      { error: 'resume is internal: leave it out' },
    )
    .optional(),
})
  .refine(...gracePeriodNeedsAutomatic)
  .refine((input) => input.primaryInstance.toLowerCase() !== input.secondaryInstance.toLowerCase(), {
    error: 'secondaryInstance must be another instance than primaryInstance',
    path: ['secondaryInstance'],
  });

/** The most groups one watch reads (a few list calls per resource group and region, however many there are). */
export const WATCH_MAX_GROUPS = 500;

/** A group as a watch resolved it, carried from run to run (internal). */
const watchedGroupState = z.strictObject({
  group: z.strictObject({
    subscriptionId: z.string(),
    resourceGroup: z.string(),
    name: z.string(),
    primaryLocation: z.string(),
    secondaryLocation: z.string(),
    displayName: z.string(),
    lockWorkflowId: z.string(),
    resolvedFrom: z.enum(['inventory', 'coordinates', 'arm-id']).optional(),
  }),
  /** The events a notification endpoint takes for the group, as its worker's configuration said. */
  notifyOn: z.array(z.string()).max(20).default([]),
  /** The primary as last read with certainty, and when. */
  primaryLocation: z.string().optional(),
  primaryReadAt: z.string().optional(),
});

const watchChangeState = z.looseObject({
  group: z.string(),
  seenAt: z.string(),
  from: z.string(),
  to: z.string(),
  byFogpilot: z.boolean(),
  explanation: z.string(),
});

/**
 * `watchGroups`: notices role changes fogpilot did not make. `groups` defaults to every group of the worker's
 * inventory; one look every `interval`.
 */
export const WatchGroupsInputSchema = strictInput({
  groups: z
    .array(GroupRefSchema, { error: 'groups must be a list of group references' })
    .min(1, { error: 'groups must name at least one group (or leave it out to watch every inventory group)' })
    .max(WATCH_MAX_GROUPS, { error: `groups must name at most ${WATCH_MAX_GROUPS} groups` })
    .optional(),
  interval: durationField('interval', 15_000, HOUR, '1 minute').prefault('1 minute'),
  startFailback: z.boolean({ error: 'startFailback must be true or false' }).default(false),
  /** Passed to each failback the watch starts as its `waitTimeout`. */
  failbackWaitTimeout: durationField('failbackWaitTimeout', MINUTE, 30 * DAY, '7 days').prefault('7 days'),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
  /** Internal: carried across continue-as-new; not for callers. */
  resume: z
    .strictObject(
      {
        watchingSince: z.string(),
        looks: z.number().int().min(0),
        groups: z.array(watchedGroupState).max(WATCH_MAX_GROUPS),
        unresolved: z
          .array(z.strictObject({ group: z.string(), error: z.string() }))
          .max(WATCH_MAX_GROUPS)
          .default([]),
        changes: z.array(watchChangeState).max(100).default([]),
        armCalls: z
          .strictObject({ reads: z.number().min(0), writes: z.number().min(0), throttled: z.number().min(0) })
          .optional(),
      },
      { error: 'resume is internal: leave it out' },
    )
    .optional(),
});

export const ReprotectInputSchema = strictInput({
  group: GroupRefSchema,
  newSecondaryInstance: managedInstanceRef('newSecondaryInstance'),
  /** The new group's name; default: the broken group's (its inventory name keeps working). */
  newName: z
    .string({ error: 'newName must be a failover group name' })
    .trim()
    .regex(GROUP_NAME, { error: 'newName must be a failover group name: 1-63 lowercase letters, digits and hyphens' })
    .optional(),
  ...newGroupSettings,
  seedingTimeout: durationField('seedingTimeout', HOUR, 7 * DAY, '6 days').prefault('6 days'),
  /** Pre-approval by the incident process (the deletion then waits for nobody). */
  approval: actor('approval').optional(),
  approvalTimeout: durationField('approvalTimeout', MINUTE, DAY, '1 hour').prefault('1 hour'),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
}).refine(...gracePeriodNeedsAutomatic);

/**
 * A user database's name, as it goes into ARM paths and between T-SQL brackets: letters, digits, `_` and `-`, starting
 * with a letter or `_` (Azure allows more; fogpilot keeps to names that need no quoting rules).
 */
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const databaseName = (field: string) =>
  z
    .string({ error: `${field} must be a database name` })
    .trim()
    .regex(DATABASE_NAME, {
      error: `${field} must be a database name: up to 128 letters, digits, "_" and "-", starting with a letter or "_"`,
    });

/** A table as `schema.table` or `table` (dbo), for row counts. */
const TABLE_NAME = /^([A-Za-z_][A-Za-z0-9_]{0,127}\.)?[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * A check of a restored database: one read-only query (a single `SELECT` or `WITH … SELECT`) whose first column of
 * its first row must equal `expect`.
 */
const verifyQuery = z.strictObject(
  {
    name: z
      .string({ error: 'verify.queries[].name must be text naming the check' })
      .min(1, { error: 'verify.queries[].name must not be empty' })
      .max(100, { error: 'verify.queries[].name must be at most 100 characters' }),
    sql: z
      .string({ error: 'verify.queries[].sql must be a T-SQL query' })
      .max(4000, { error: 'verify.queries[].sql must be at most 4000 characters' })
      .refine((sql) => /^\s*(SELECT|WITH)\b/i.test(sql) && !/;\s*\S/.test(sql), {
        error:
          'verify.queries[].sql must be one read-only query starting with SELECT or WITH (no second statement): ' +
          'checks read the restored database, they never change it',
      }),
    expect: z.union([z.string(), z.number(), z.boolean(), z.null()], {
      error:
        'verify.queries[].expect must be the value the first column of the first row must equal (text, number, true/false or null)',
    }),
  },
  {
    error:
      'verify.queries[] must be objects such as {"name": "orders", "sql": "SELECT COUNT(*) FROM dbo.orders", "expect": 120}',
  },
);

const rowCountCheck = z
  .strictObject(
    {
      table: z
        .string({ error: 'verify.rowCounts[].table must be a table name such as "dbo.orders"' })
        .regex(TABLE_NAME, { error: 'verify.rowCounts[].table must be a table name such as "dbo.orders" or "orders"' }),
      equals: z.number().int().min(0, { error: 'verify.rowCounts[].equals must be 0 or more' }).optional(),
      atLeast: z.number().int().min(0, { error: 'verify.rowCounts[].atLeast must be 0 or more' }).optional(),
    },
    { error: 'verify.rowCounts[] must be objects such as {"table": "dbo.orders", "atLeast": 100}' },
  )
  .refine((check) => (check.equals === undefined) !== (check.atLeast === undefined), {
    error: 'verify.rowCounts[]: give equals or atLeast (one of them)',
  });

const restoreVerify = z.strictObject(
  {
    queries: z.array(verifyQuery).max(20, { error: 'verify.queries takes at most 20 checks' }).default([]),
    rowCounts: z.array(rowCountCheck).max(50, { error: 'verify.rowCounts takes at most 50 tables' }).default([]),
  },
  { error: 'verify must be an object with queries and/or rowCounts' },
);

const LONG_TERM_BACKUP_ID =
  /^\/subscriptions\/[^/]+\/(resourceGroups\/[^/]+\/)?providers\/Microsoft\.Sql\/locations\/[^/]+\/longTermRetentionManagedInstances\/[^/]+\/longTermRetentionDatabases\/[^/]+\/longTermRetentionManagedInstanceBackups\/[^/]+$/i;

export const RestoreDatabaseInputSchema = strictInput({
  group: GroupRefSchema,
  /** The damaged database, on the group's current primary. */
  database: databaseName('database'),
  /** The last good moment (ISO 8601 with an offset): a point-in-time restore to it. */
  pointInTime: z.iso
    .datetime({
      offset: true,
      error: 'pointInTime must be an ISO 8601 time with a zone, such as "2026-12-06T02:15:00Z"',
    })
    .optional(),
  /** Or a long-term-retention backup's ARM id. */
  longTermBackupId: z
    .string({ error: 'longTermBackupId must be the ARM id of a long-term-retention backup' })
    .trim()
    .regex(LONG_TERM_BACKUP_ID, {
      error:
        'longTermBackupId must be the ARM id of a managed instance long-term-retention backup (…/locations/<region>/' +
        'longTermRetentionManagedInstances/<mi>/longTermRetentionDatabases/<db>/longTermRetentionManagedInstanceBackups/<backup>)',
    })
    .optional(),
  /** The new database's name; default `<database>_restored_<yyyyMMddHHmm>` of the point (or the backup). */
  restoredName: databaseName('restoredName').optional(),
  verify: restoreVerify.optional(),
  /** After the checks pass and a person approves: the restored contents take the damaged database's name. */
  swap: z.boolean({ error: 'swap must be true or false' }).default(false),
  approval: actor('approval').optional(),
  approvalTimeout: durationField('approvalTimeout', MINUTE, DAY, '1 hour').prefault('1 hour'),
  /** How long one restore may run before the runbook stops following it (Azure restores at roughly size-of-data speed). */
  restoreTimeout: durationField('restoreTimeout', 10 * MINUTE, 7 * DAY, '12 hours').prefault('12 hours'),
  /** How long to wait for the restored database to be seeded to the geo-secondary. */
  seedingTimeout: durationField('seedingTimeout', 10 * MINUTE, 7 * DAY, '1 day').prefault('1 day'),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
})
  .refine((input) => (input.pointInTime === undefined) !== (input.longTermBackupId === undefined), {
    error: 'pointInTime: give pointInTime (a point-in-time restore) or longTermBackupId (an LTR backup), one of them',
    path: ['pointInTime'],
  })
  .refine(
    (input) => input.restoredName === undefined || input.restoredName.toLowerCase() !== input.database.toLowerCase(),
    {
      error: 'restoredName must differ from database: a restore creates a new database beside the damaged one',
      path: ['restoredName'],
    },
  )
  .refine(
    (input) =>
      !input.swap || (input.verify !== undefined && input.verify.queries.length + input.verify.rowCounts.length > 0),
    {
      error:
        'swap needs verify with at least one check: the damaged database is only replaced by a restore whose checks passed',
      path: ['swap'],
    },
  );

const VM_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]{1,64}$/i;
const COSMOS_ACCOUNT_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/i;
const VAULT_ID =
  /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.RecoveryServices\/vaults\/[A-Za-z][A-Za-z0-9-]{1,49}$/i;

export const ProtectWorkloadInputSchema = strictInput({
  /** The VMs to protect, by ARM id. */
  vms: z
    .array(
      z.string({ error: 'vms[] must be VM ARM ids' }).trim().regex(VM_ID, {
        error:
          'vms[] must be ARM ids of virtual machines (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>)',
      }),
    )
    .max(100, { error: 'vms takes at most 100 VMs per run' })
    .default([]),
  /** The Recovery Services vault, by ARM id. */
  vault: z
    .string({ error: "vault is required when vms are given: the Recovery Services vault's ARM id" })
    .trim()
    .regex(VAULT_ID, {
      error:
        'vault must be the ARM id of a Recovery Services vault (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.RecoveryServices/vaults/<name>)',
    })
    .optional(),
  /** The vault's backup policy the VMs are protected under. */
  policy: z
    .string({ error: 'policy must be the name of a backup policy of the vault' })
    .trim()
    .min(1)
    .max(150)
    .optional(),
  /** How long the on-demand backup's recovery point is kept. */
  keepOnDemandFor: durationField('keepOnDemandFor', DAY, 99 * 365 * DAY, '30 days').prefault('30 days'),
  /** How long one backup job may run before the runbook stops following it. */
  backupTimeout: durationField('backupTimeout', 10 * MINUTE, DAY, '6 hours').prefault('6 hours'),
  cosmosAccounts: z
    .array(
      z.string({ error: 'cosmosAccounts[] must be Cosmos DB account ARM ids' }).trim().regex(COSMOS_ACCOUNT_ID, {
        error:
          'cosmosAccounts[] must be ARM ids of Cosmos DB accounts (…/providers/Microsoft.DocumentDB/databaseAccounts/<name>)',
      }),
    )
    .max(100, { error: 'cosmosAccounts takes at most 100 accounts per run' })
    .default([]),
  /** The continuous tier a periodic account migrates to (after approval: the migration cannot be undone). */
  continuousTier: z
    .enum(['Continuous7Days', 'Continuous30Days'], {
      error: 'continuousTier must be "Continuous7Days" or "Continuous30Days"',
    })
    .default('Continuous7Days'),
  migrationTimeout: durationField('migrationTimeout', HOUR, 7 * DAY, '2 days').prefault('2 days'),
  approval: actor('approval').optional(),
  approvalTimeout: durationField('approvalTimeout', MINUTE, DAY, '1 hour').prefault('1 hour'),
  dryRun: z.boolean({ error: 'dryRun must be true or false' }).default(false),
  requestedBy: text('requestedBy', 200),
  reason: text('reason', 1000),
})
  .refine((input) => input.vms.length > 0 || input.cosmosAccounts.length > 0, {
    error: 'vms: give vms (with vault and policy) and/or cosmosAccounts: there is nothing to protect',
    path: ['vms'],
  })
  .refine((input) => input.vms.length === 0 || (input.vault !== undefined && input.policy !== undefined), {
    error: "vault: protecting vms needs vault (the Recovery Services vault's ARM id) and policy (its backup policy)",
    path: ['vault'],
  });

/** What callers send (defaults optional). */
export type PlannedFailoverInput = z.input<typeof PlannedFailoverInputSchema>;
export type FailbackInput = z.input<typeof FailbackInputSchema>;
/**
 * What the workflow works with once defaults are applied (each `…Params` type here): every duration field is
 * {@link Milliseconds}, whatever the caller wrote.
 */
export type PlannedFailoverParams = z.output<typeof PlannedFailoverInputSchema>;
export type FailbackParams = z.output<typeof FailbackInputSchema>;

export type ForcedFailoverInput = z.input<typeof ForcedFailoverInputSchema>;
export type ForcedFailoverParams = z.output<typeof ForcedFailoverInputSchema>;
export type ScaleGroupInput = z.input<typeof ScaleGroupInputSchema>;
export type ScaleGroupParams = z.output<typeof ScaleGroupInputSchema>;
export type DrDrillInput = z.input<typeof DrDrillInputSchema>;
export type DrDrillParams = z.output<typeof DrDrillInputSchema>;
export type FleetFailoverInput = z.input<typeof FleetFailoverInputSchema>;
export type FleetFailoverParams = z.output<typeof FleetFailoverInputSchema>;
export type ReadinessCheckInput = z.input<typeof ReadinessCheckInputSchema>;
export type ReadinessCheckParams = z.output<typeof ReadinessCheckInputSchema>;
export type EstablishGroupInput = z.input<typeof EstablishGroupInputSchema>;
export type EstablishGroupParams = z.output<typeof EstablishGroupInputSchema>;
export type ReprotectInput = z.input<typeof ReprotectInputSchema>;
export type ReprotectParams = z.output<typeof ReprotectInputSchema>;
export type WatchGroupsInput = z.input<typeof WatchGroupsInputSchema>;
export type WatchGroupsParams = z.output<typeof WatchGroupsInputSchema>;
export type RestoreDatabaseInput = z.input<typeof RestoreDatabaseInputSchema>;
export type RestoreDatabaseParams = z.output<typeof RestoreDatabaseInputSchema>;
export type ProtectWorkloadInput = z.input<typeof ProtectWorkloadInputSchema>;
export type ProtectWorkloadParams = z.output<typeof ProtectWorkloadInputSchema>;

export interface InputProblem {
  /** Dotted path of the field, e.g. `group.subscriptionId`, or `(input)` for the whole input. */
  field: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problems: InputProblem[] };

/** Parses an input without throwing; the caller decides how to report problems. */
export function parseRunbookInput<S extends z.ZodType>(schema: S, raw: unknown): ParseResult<z.output<S>> {
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      problems: [{ field: '(input)', message: 'input must be a JSON object such as {"group": "fog-sales"}' }],
    };
  }
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return { field: [...path, ...issue.keys].join('.'), message: issue.message };
    }
    const field = path.length > 0 ? path.join('.') : '(input)';
    const missing = path.length > 0 && valueAt(raw, path) === undefined;
    return { field, message: missing ? `${field} is required: ${issue.message}` : issue.message };
  });
  return { ok: false, problems: dedupe(problems) };
}

function valueAt(root: unknown, path: string[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function dedupe(problems: InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.field}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function describeInputProblems(runbook: string, problems: InputProblem[]): string {
  const lines = problems.map((problem) => `${problem.field}: ${problem.message}`);
  return `Invalid input for ${runbook}: ${lines.join('; ')}. Nothing was changed in Azure; correct the input and start again.`;
}
