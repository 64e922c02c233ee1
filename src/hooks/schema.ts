/**
 * `inventory.<group>.hooks` and `inventory.<group>.objectives` in fogpilot.yaml: HTTP steps around a runbook's database
 * switch, and the recovery objectives its reports are judged against. Secrets never go in the file: a header whose
 * value is a secret names the environment variable that holds it (`{ env: NAME }`).
 */
import { z } from 'zod';
import { durationToMs } from '../domain/durations';
import { isSecretFieldName } from '../secrets';
import { HOOK_METHODS, HOOK_PLACEHOLDERS } from './types';
import { outboundUrlProblem } from './urls';

/** The name of an environment variable, as `sql-login`'s `userEnv`/`passwordEnv` take it. */
export const ENVIRONMENT_VARIABLE_NAME = /^[A-Z_][A-Z0-9_]*$/;

export const MAX_HOOK_TIMEOUT_MS = 5 * 60_000;
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Headers the HTTP client sets itself. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A duration setting with a default and bounds, in the style of `durationSetting`: parsed to milliseconds. */
export function boundedDuration(key: string, fallback: string, maxMs: number, maxText: string) {
  return z
    .union([z.string(), z.number()])
    .default(fallback)
    .refine((value) => durationToMs(value) !== undefined, { error: `${key} must be a duration such as "${fallback}"` })
    .transform((value) => durationToMs(value)!)
    .refine((ms) => ms > 0 && ms <= maxMs, { error: `${key} must be more than 0 and at most ${maxText}` });
}

/** An optional duration (no default): milliseconds, more than 0. */
export function optionalDuration(key: string, example: string) {
  return z
    .union([z.string(), z.number()])
    .refine((value) => durationToMs(value) !== undefined, { error: `${key} must be a duration such as "${example}"` })
    .transform((value) => durationToMs(value)!)
    .refine((ms) => ms > 0, { error: `${key} must be more than 0` })
    .optional();
}

/** A header looks like a credential when its name says so (Authorization, X-Api-Key, …-Token, …-Signature). */
function credentialHeader(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[-_]/g, '');
  return isSecretFieldName(name) || ['key', 'signature', 'auth'].some((ending) => normalized.endsWith(ending));
}

/** The unknown placeholders in the strings of a JSON value. */
function unknownPlaceholders(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    for (const match of value.matchAll(PLACEHOLDER)) {
      const name = match[1] ?? '';
      if (!(HOOK_PLACEHOLDERS as readonly string[]).includes(name)) found.add(name);
    }
  } else if (Array.isArray(value)) {
    for (const item of value) unknownPlaceholders(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) unknownPlaceholders(item, found);
  }
  return found;
}

const HeaderValueSchema = z.union(
  [
    z.string(),
    z.strictObject({
      env: z.string().regex(ENVIRONMENT_VARIABLE_NAME, {
        error: 'env must name an environment variable, e.g. FRONTDOOR_TOKEN',
      }),
    }),
  ],
  { error: 'a header value is a string, or { env: NAME } naming the environment variable that holds a secret value' },
);

/** A before hook that fails always stops the runbook: nothing has changed yet. */
const BeforeOnFailureSchema = z
  .enum(['stop'], {
    error:
      'onFailure of a before hook can only be stop: a before hook that fails always stops the runbook before its first change (remove onFailure, or use an after hook to only warn)',
  })
  .default('stop');

/** An after hook that fails is reported (warn, the default), or ends the run failed once the switch is done. */
const AfterOnFailureSchema = z
  .enum(['warn', 'fail'], {
    error:
      'onFailure of an after hook is warn (report it and go on, the default) or fail (end the run failed; the switch is not undone)',
  })
  .default('warn');

function hookSchema<OnFailure extends typeof BeforeOnFailureSchema | typeof AfterOnFailureSchema>(
  onFailure: OnFailure,
) {
  return z
    .strictObject({
      name: z.string().regex(NAME, {
        error: 'name must be 1-63 lowercase letters, digits and hyphens, e.g. purge-cache',
      }),
      url: z.string({ error: 'url is required: where the hook sends its request' }),
      method: z.enum(HOOK_METHODS, { error: `method must be one of ${HOOK_METHODS.join(', ')}` }).default('POST'),
      headers: z.record(z.string(), HeaderValueSchema).optional(),
      body: z.json().optional(),
      timeout: boundedDuration('timeout', '30 seconds', MAX_HOOK_TIMEOUT_MS, '5 minutes'),
      attempts: z
        .number({ error: 'attempts must be a number' })
        .int({ error: 'attempts must be a whole number' })
        .min(1, { error: 'attempts must be 1 to 10' })
        .max(10, { error: 'attempts must be 1 to 10' })
        .default(3),
      expectStatus: z
        .array(
          z
            .number()
            .int()
            .min(100, { error: 'expectStatus lists HTTP statuses (100-599)' })
            .max(599, { error: 'expectStatus lists HTTP statuses (100-599)' }),
        )
        .min(1, { error: 'expectStatus lists at least one status; leave it out to accept any 2xx' })
        .optional(),
      onFailure,
    })
    .superRefine((hook, context) => {
      const problem = outboundUrlProblem(
        'url',
        hook.url,
        'send a credential in a header instead, e.g. headers: { Authorization: { env: NAME } }',
      );
      if (problem) context.addIssue({ code: 'custom', path: ['url'], message: problem });
      for (const [name, value] of Object.entries(hook.headers ?? {})) {
        if (!HEADER_NAME.test(name)) {
          context.addIssue({ code: 'custom', path: ['headers', name], message: `"${name}" is not a header name` });
        } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
          context.addIssue({
            code: 'custom',
            path: ['headers', name],
            message: `${name} is set by the HTTP client; remove it`,
          });
        } else if (typeof value === 'string' && credentialHeader(name)) {
          context.addIssue({
            code: 'custom',
            path: ['headers', name],
            message: `${name} carries a credential, and secrets never go in fogpilot.yaml: put the value in an environment variable and write { env: NAME }`,
          });
        }
      }
      if (hook.body !== undefined && hook.method === 'GET') {
        context.addIssue({
          code: 'custom',
          path: ['body'],
          message: 'a GET request has no body: use POST, or remove body',
        });
      }
      const unknown = [...unknownPlaceholders(hook.body)];
      if (unknown.length > 0) {
        context.addIssue({
          code: 'custom',
          path: ['body'],
          message: `unknown placeholder(s) ${unknown.map((name) => `{{${name}}}`).join(', ')}; the known ones are ${HOOK_PLACEHOLDERS.map((name) => `{{${name}}}`).join(' ')}`,
        });
      }
    });
}

export const BeforeHookSchema = hookSchema(BeforeOnFailureSchema);
export const AfterHookSchema = hookSchema(AfterOnFailureSchema);

/** `inventory.<group>.hooks`: each list runs in order; names are unique across both. */
export const HooksSchema = z
  .strictObject({
    before: z.array(BeforeHookSchema).default([]),
    after: z.array(AfterHookSchema).default([]),
  })
  .superRefine((hooks, context) => {
    const seen = new Set<string>();
    for (const phase of ['before', 'after'] as const) {
      hooks[phase].forEach((hook, index) => {
        if (seen.has(hook.name)) {
          context.addIssue({
            code: 'custom',
            path: [phase, index, 'name'],
            message: `the name ${hook.name} is used twice in this group; give each hook its own name`,
          });
        }
        seen.add(hook.name);
      });
    }
  });

/** `inventory.<group>.objectives`: what the reports judge a drill or failover against. */
export const ObjectivesSchema = z.strictObject({
  /** Recovery time objective: from the failover request to the new primary writable. */
  rto: optionalDuration('rto', '5 minutes'),
  /** Recovery point objective: the data a failover may lose (replication lag). */
  rpo: optionalDuration('rpo', '30 seconds'),
  /** `readinessCheck` flags the group when its last drill is older than this. */
  drillInterval: optionalDuration('drillInterval', '30 days'),
  /**
   * Backup recovery point objective: the newest trusted recovery point of each database (its newest full or log
   * backup, or its newest long-term-retention backup) is at most this old. `readinessCheck` and drills judge it.
   */
  backupRpo: optionalDuration('backupRpo', '1 hour'),
});

/** A before hook as parsed (`timeout` in ms, defaults applied). */
export type BeforeHookConfig = z.output<typeof BeforeHookSchema>;
/** An after hook as parsed. */
export type AfterHookConfig = z.output<typeof AfterHookSchema>;
/** A hook of either phase as parsed. */
export type HookConfig = BeforeHookConfig | AfterHookConfig;
/** A header value as written: a literal, or the name of the environment variable holding a secret. */
export type HookHeaderValue = z.output<typeof HeaderValueSchema>;
export type HooksConfig = z.output<typeof HooksSchema>;
export type ObjectivesConfig = z.output<typeof ObjectivesSchema>;
