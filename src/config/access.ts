/**
 * Who may cause what: the `access` section of fogpilot.yaml. It names the callers of the HTTP trigger (each with one
 * credential, whose secret comes from the environment or a file, never from the YAML) and the operators who reach
 * Temporal directly (the CLI, by the identity of their Temporal connection), and says for each which runbooks it may
 * start, on which groups, and whether it may approve a forced failover or start one pre-approved.
 *
 * The decisions here are pure functions of the configuration: the trigger asks them before it starts or signals
 * anything, and the worker asks them when an approval arrives, so the rules are the same whichever door a request
 * came through.
 *
 * ```yaml
 * access:
 *   callers:
 *     incident-bot:
 *       credential: { bearerTokenEnv: FOGPILOT_INCIDENT_BOT_TOKEN }
 *       start: [readinessCheck, forcedFailover]
 *       groups: [fog-sales]
 *       preApprove: true
 *     oncall-lead:
 *       credential: { hmacKeyFile: /run/secrets/oncall-lead.key }
 *       start: [plannedFailover, drDrill]
 *       groupTags: { tier: gold }
 *       approve: true
 *   operators:
 *     - identity: "certificate:CN=alice,O=Contoso"
 *       approve: true
 *       groups: ['*']
 * ```
 */
import { z } from 'zod';
import { RunbookTypes, type RunbookType } from '../workflows/contracts/runbooks';

/** Runbooks that read and never change anything in Azure: the only ones the trigger starts without an access section. */
export const READ_ONLY_RUNBOOKS: readonly RunbookType[] = [RunbookTypes.readinessCheck];

/** Runbooks whose approval is a decision of its own: a second person must make it (the two-person rule). */
export const TWO_PERSON_RUNBOOKS: readonly RunbookType[] = [
  RunbookTypes.forcedFailover,
  RunbookTypes.fleetFailover,
  RunbookTypes.reprotect,
  // Swapping a restore in drops the damaged database; migrating a Cosmos DB account to continuous backup is one-way.
  RunbookTypes.restoreDatabase,
  RunbookTypes.protectWorkload,
];

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const envName = (key: string) =>
  z.string().regex(ENV_NAME, { error: `${key} must name an environment variable, e.g. FOGPILOT_INCIDENT_BOT_TOKEN` });
const filePath = (key: string) => z.string().min(1, { error: `${key} must be the path of a file holding the secret` });

/**
 * A caller's one credential: a bearer token or an HMAC key, from an environment variable or a file (a mounted secret).
 * The YAML holds where the secret is, never the secret.
 */
export const CallerCredentialSchema = z
  .strictObject({
    bearerTokenEnv: envName('credential.bearerTokenEnv').optional(),
    bearerTokenFile: filePath('credential.bearerTokenFile').optional(),
    hmacKeyEnv: envName('credential.hmacKeyEnv').optional(),
    hmacKeyFile: filePath('credential.hmacKeyFile').optional(),
  })
  .refine((credential) => Object.values(credential).filter((value) => value !== undefined).length === 1, {
    error:
      'a caller has exactly one credential: one of bearerTokenEnv, bearerTokenFile, hmacKeyEnv or hmacKeyFile ' +
      '(give each credential its own caller)',
  });
export type CallerCredential = z.output<typeof CallerCredentialSchema>;

const runbookName = z.enum(Object.values(RunbookTypes) as [RunbookType, ...RunbookType[]], {
  error: `start lists runbooks: ${Object.values(RunbookTypes).join(', ')}`,
});

/** What one caller or operator may do. Everything not granted is refused. */
const permissionFields = {
  /** Runbooks it may start (a dry run of any runbook on its groups is always allowed: it changes nothing). */
  start: z.array(runbookName).default([]),
  /** Inventory names of the groups it may act on, or `'*'` for every group. */
  groups: z.array(z.string().min(1)).default([]),
  /** Inventory groups whose tags include all of these, besides those named in `groups`. */
  groupTags: z.record(z.string(), z.string()).optional(),
  /** It may approve (or reject) a forced failover on its groups, when it did not request it. */
  approve: z.boolean().default(false),
  /** It may start a forced failover already approved (incident tooling); a second person still shows in the report. */
  preApprove: z.boolean().default(false),
};

/** The trigger's default per-caller rate: a minute's worth may come at once, then one a second. */
export const DEFAULT_CALLER_RATE_LIMIT = { perMinute: 60 } as const;

/** How many requests a caller may send to the trigger: a token bucket of `burst` refilled at `perMinute`. */
export const CallerRateLimitSchema = z.strictObject({
  perMinute: z
    .number({ error: 'rateLimit.perMinute must be a number of requests' })
    .int({ error: 'rateLimit.perMinute must be a whole number' })
    .min(1, { error: 'rateLimit.perMinute must be at least 1' })
    .max(100_000, { error: 'rateLimit.perMinute must be at most 100000' }),
  /** How many may come at once (default: `perMinute`). */
  burst: z
    .number({ error: 'rateLimit.burst must be a number of requests' })
    .int({ error: 'rateLimit.burst must be a whole number' })
    .min(1, { error: 'rateLimit.burst must be at least 1' })
    .max(100_000, { error: 'rateLimit.burst must be at most 100000' })
    .optional(),
});
export type CallerRateLimit = z.output<typeof CallerRateLimitSchema>;

export const CallerSchema = z.strictObject({
  credential: CallerCredentialSchema,
  ...permissionFields,
  /** Requests per minute through the trigger; default {@link DEFAULT_CALLER_RATE_LIMIT}. */
  rateLimit: CallerRateLimitSchema.optional(),
});
export type Caller = z.output<typeof CallerSchema>;

/** The prefixes of a Temporal connection's identity, as the CLI labels it. */
export const OPERATOR_IDENTITY_KINDS = ['certificate', 'api-key', 'os-user'] as const;
export type OperatorIdentityKind = (typeof OPERATOR_IDENTITY_KINDS)[number];

export const OperatorSchema = z.strictObject({
  /** `certificate:<subject>`, `api-key:<name>` or `os-user:<name>`, as `fogpilot whoami` prints it. */
  identity: z.string().regex(/^(certificate|api-key|os-user):.+$/, {
    error:
      'operators[].identity is "certificate:<subject>", "api-key:<name>" or "os-user:<name>" (see `fogpilot whoami`)',
  }),
  ...permissionFields,
});
export type Operator = z.output<typeof OperatorSchema>;

export const AccessSchema = z.strictObject({
  callers: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
        error: 'caller names are lower-case letters, digits, ".", "_" or "-" (at most 64)',
      }),
      CallerSchema,
    )
    .default({}),
  operators: z.array(OperatorSchema).default([]),
});
export type Access = z.output<typeof AccessSchema>;

/** Who is asking: a trigger caller by name, or an operator by the identity of their Temporal connection. */
export type Principal = { kind: 'caller'; name: string } | { kind: 'operator'; identity: string };

/** The label a principal carries in approvals, reports and statuses: `webhook:<caller>` or the operator's identity. */
export function principalLabel(principal: Principal): string {
  return principal.kind === 'caller' ? `webhook:${principal.name}` : principal.identity;
}

/** What a group looks like to the access rules: its inventory name (when it has one) and its tags. */
export interface GroupForAccess {
  inventoryName?: string;
  tags?: Record<string, string>;
}

/** An answer of the access rules: allowed, or refused with why and what would allow it. */
export type AccessDecision = { allowed: true } | { allowed: false; reason: string; remedy: string };

const allowed: AccessDecision = { allowed: true };

function permissionsOf(access: Access, principal: Principal): Caller | Operator | undefined {
  return principal.kind === 'caller'
    ? access.callers[principal.name]
    : access.operators.find((operator) => operator.identity === principal.identity);
}

function coversGroup(permissions: Caller | Operator, group: GroupForAccess): boolean {
  if (permissions.groups.includes('*')) return true;
  if (group.inventoryName !== undefined && permissions.groups.includes(group.inventoryName)) return true;
  const wanted = permissions.groupTags ? Object.entries(permissions.groupTags) : [];
  return wanted.length > 0 && wanted.every(([key, value]) => group.tags?.[key] === value);
}

function groupName(group: GroupForAccess): string {
  return group.inventoryName ?? 'a group outside the inventory';
}

/** Where to grant something, for refusals: the principal's entry in the access section. */
function entryOf(principal: Principal): string {
  return principal.kind === 'caller'
    ? `access.callers.${principal.name}`
    : `access.operators (identity ${principal.identity})`;
}

export interface StartRequest {
  runbook: RunbookType;
  /** Every group the run would act on (a fleet run: all of them). */
  groups: GroupForAccess[];
  dryRun: boolean;
  /** The input carries an approval: a forced failover started already approved. */
  preApproved: boolean;
}

/**
 * May `principal` start this run? Without an access section only read-only runbooks and dry runs may be started; with
 * one, the principal must be listed, the runbook granted, every group covered, and a pre-approved start needs
 * `preApprove`.
 */
export function mayStart(access: Access | undefined, principal: Principal, request: StartRequest): AccessDecision {
  const readOnly = READ_ONLY_RUNBOOKS.includes(request.runbook) || request.dryRun;
  if (!access) {
    if (readOnly && !request.preApproved) return allowed;
    return {
      allowed: false,
      reason: `${request.runbook} changes Azure, and this fogpilot has no access section: only read-only runbooks (${READ_ONLY_RUNBOOKS.join(', ')}) and dry runs may be started`,
      remedy:
        'Add an access section to fogpilot.yaml that names this caller and grants it the runbook (docs/SECURITY.md).',
    };
  }
  const permissions = permissionsOf(access, principal);
  if (!permissions) {
    return {
      allowed: false,
      reason: `${principalLabel(principal)} is not named in the access section`,
      remedy: `Add it under ${principal.kind === 'caller' ? 'access.callers' : 'access.operators'} with the runbooks and groups it may use.`,
    };
  }
  if (!readOnly && !permissions.start.includes(request.runbook)) {
    return {
      allowed: false,
      reason: `${principalLabel(principal)} may not start ${request.runbook} (it may start: ${permissions.start.join(', ') || 'nothing but dry runs'})`,
      remedy: `Add ${request.runbook} to ${entryOf(principal)}.start, or start a dry run.`,
    };
  }
  const outside = request.groups.filter((group) => !coversGroup(permissions, group));
  if (outside.length > 0) {
    return {
      allowed: false,
      reason: `${principalLabel(principal)} may not act on ${outside.map(groupName).join(', ')}`,
      remedy: `Add the group to ${entryOf(principal)}.groups, or tag it in the inventory to match its groupTags.`,
    };
  }
  if (request.preApproved && !permissions.preApprove) {
    return {
      allowed: false,
      reason: `${principalLabel(principal)} may not start ${request.runbook} already approved`,
      remedy: `Start it without an approval and have a second person approve it, or grant ${entryOf(principal)}.preApprove.`,
    };
  }
  return allowed;
}

/**
 * May `approver` approve or reject a run that `requester` started on `group`? Never its own (the two-person rule);
 * otherwise, with an access section, only a principal granted `approve` on the group. Without an access section any
 * authenticated approver other than the requester may.
 */
export function mayApprove(
  access: Access | undefined,
  approver: Principal,
  request: { requester?: string; group: GroupForAccess },
): AccessDecision {
  const label = principalLabel(approver);
  if (request.requester !== undefined && request.requester === label) {
    return {
      allowed: false,
      reason: `${label} requested this run and may not also approve it (two-person rule)`,
      remedy: 'Ask a second person who may approve runs on this group to approve it.',
    };
  }
  if (!access) return allowed;
  const permissions = permissionsOf(access, approver);
  if (!permissions?.approve) {
    return {
      allowed: false,
      reason: `${label} may not approve runs`,
      remedy: `Grant approve to ${entryOf(approver)}, or ask someone who has it.`,
    };
  }
  if (!coversGroup(permissions, request.group)) {
    return {
      allowed: false,
      reason: `${label} may not approve runs on ${groupName(request.group)}`,
      remedy: `Add the group to ${entryOf(approver)}.groups, or ask someone who may approve it.`,
    };
  }
  return allowed;
}
