/**
 * The bodies the HTTP trigger accepts, parsed into typed values or into a list of problems that name each field.
 * The runbook input itself is validated by `fogpilot/client` with the schemas the workflows use.
 */
import { z } from 'zod';
import type { InputProblem } from '../domain/inputs';

export const ACTOR_MAX_LENGTH = 200;
export const REASON_MAX_LENGTH = 1000;

export const SignalNames = ['approve', 'reject', 'abort'] as const;
export type SignalName = (typeof SignalNames)[number];

export function isSignalName(value: string): value is SignalName {
  return (SignalNames as readonly string[]).includes(value);
}

/** `POST /v1/runbooks/:runbook`: `{ input, idempotencyKey? }`. */
export const StartRequestSchema = z.strictObject(
  {
    input: z.record(z.string(), z.unknown(), {
      error: (issue) =>
        `input ${issue.input === undefined ? 'is required' : 'must be a JSON object'}: the runbook input, e.g. {"group": "fog-sales"}`,
    }),
    idempotencyKey: z
      .string({ error: 'idempotencyKey must be a string such as an incident id ("INC-123")' })
      .optional(),
  },
  { error: (issue) => unknownFields(issue, ['input', 'idempotencyKey']) },
);
export type StartRequest = z.output<typeof StartRequestSchema>;

const actorField = (field: string, max: number, example: string) =>
  z
    .string({ error: `${field} is required: ${example}` })
    .trim()
    .min(1, { error: `${field} must not be empty: ${example}` })
    .max(max, { error: `${field} must be at most ${max} characters` });

/** `POST /v1/runbooks/:workflowId/signals/:signal`: `{ by, reason }`, both required and bounded. */
export const SignalRequestSchema = z.strictObject(
  {
    by: actorField('by', ACTOR_MAX_LENGTH, 'who decides, e.g. "alice@example.com" or "pagerduty"'),
    reason: actorField('reason', REASON_MAX_LENGTH, 'why, e.g. "INC-123: primary region down"'),
  },
  { error: (issue) => unknownFields(issue, ['by', 'reason']) },
);
export type SignalRequest = z.output<typeof SignalRequestSchema>;

/** `POST /v1/runbooks/:workflowId/signals/(approve|reject)`: `{ reason }`; the decider is the authenticated caller. */
export const DecisionRequestSchema = z.strictObject(
  { reason: actorField('reason', REASON_MAX_LENGTH, 'why, e.g. "INC-123: primary region down"') },
  { error: (issue) => unknownFields(issue, ['reason']) },
);
export type DecisionRequest = z.output<typeof DecisionRequestSchema>;

function unknownFields(issue: { code?: string; keys?: string[] }, known: string[]): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  return `unknown field${issue.keys?.length === 1 ? '' : 's'} ${issue.keys?.join(', ')}: the body takes ${known.join(', ')}`;
}

export type BodyParse<T> = { ok: true; value: T } | { ok: false; problems: InputProblem[] };

/** Parses a request body; `example` shows the expected shape when the body is not a JSON object at all. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, example: string): BodyParse<z.output<S>> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, problems: [{ field: '(body)', message: `the body must be a JSON object: ${example}` }] };
  }
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      if (issue.code === 'unrecognized_keys')
        return { field: [...path, ...issue.keys].join('.'), message: issue.message };
      return { field: path.join('.') || '(body)', message: issue.message };
    }),
  };
}
