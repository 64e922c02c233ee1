/** Turning command-line words into runbook input: groups, numbers, JSON, and which flag sets which input field. */
import { readFileSync } from 'node:fs';
import { type InvalidRunbookInputError } from '../client';
import { CliError, ExitCodes } from './errors';

/**
 * A group as typed: an inventory name or ARM id as is, or coordinates as JSON (`{"subscriptionId": …}`). The schema
 * validates it; this only decodes JSON.
 */
export function groupArgument(argument: string): unknown {
  const trimmed = argument.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch (error) {
    throw new CliError(
      `group: looks like JSON coordinates but is not valid JSON (${(error as Error).message})`,
      ExitCodes.usage,
      'Give an inventory name, a full ARM id, or {"subscriptionId","resourceGroup","name","primaryLocation","secondaryLocation"}.',
    );
  }
}

/** A number when the text is one; otherwise the text itself, so the input schema names the field that is wrong. */
export function numberOrText(value: string): number | string {
  const trimmed = value.trim();
  const parsed = Number(trimmed);
  return trimmed !== '' && Number.isFinite(parsed) ? parsed : value;
}

/** `--input`: a JSON object, inline or `@file.json`. */
export function inputOption(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (error) {
      throw new CliError(`--input: cannot read ${text.slice(1)}: ${(error as Error).message}`, ExitCodes.usage);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new CliError(
      `--input is not valid JSON: ${(error as Error).message}`,
      ExitCodes.usage,
      `Give a JSON object, e.g. --input '{"maxLagSeconds": 10}', or @file.json.`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError('--input must be a JSON object such as {"maxLagSeconds": 10}', ExitCodes.usage);
  }
  return parsed as Record<string, unknown>;
}

/** Removes keys whose value is undefined (nested too), so flags not given leave the input's defaults alone. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const result: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry === undefined) continue;
    if (
      entry &&
      typeof entry === 'object' &&
      !Array.isArray(entry) &&
      Object.getPrototypeOf(entry) === Object.prototype
    ) {
      const inner = compact(entry as Record<string, unknown>);
      if (Object.keys(inner).length > 0) result[key] = inner;
      continue;
    }
    result[key] = entry;
  }
  return result as T;
}

/** Merges flags over `--input` (flags win), one level deep for nested objects such as `smoke`. */
export function mergeInput(base: Record<string, unknown>, flags: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(compact(flags))) {
    const existing = merged[key];
    merged[key] =
      value && typeof value === 'object' && !Array.isArray(value) && existing && typeof existing === 'object'
        ? { ...(existing as Record<string, unknown>), ...(value as Record<string, unknown>) }
        : value;
  }
  return merged;
}

/** Input fields every runbook command can set with a flag of its own. */
export const COMMON_FLAGS: Record<string, string> = {
  group: '<group>',
  requestedBy: '--requested-by',
  reason: '--reason',
  dryRun: '--dry-run',
  idempotencyKey: '--idempotency-key',
};

/**
 * A refused input as a person reads it: each field with the flag that sets it, exit code 2. `flags` maps input
 * fields (dotted, e.g. `smoke.httpCheck.url`) to flags.
 */
export function invalidInputError(error: InvalidRunbookInputError, flags: Record<string, string>): CliError {
  const known = { ...COMMON_FLAGS, ...flags };
  const lines = error.problems.map((problem) => {
    const flag = known[problem.field];
    return `  ${problem.field}${flag ? ` (${flag})` : ''}: ${problem.message}`;
  });
  return new CliError(
    `invalid input for ${error.runbook}:\n${lines.join('\n')}\nNothing was started.`,
    ExitCodes.usage,
    'Correct the value and run the command again (--help lists the flags; --input takes any field as JSON).',
  );
}
