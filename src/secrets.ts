/**
 * The secret values this process holds, in one place, so every log line can be scanned for them: SQL passwords (the
 * variables `passwordEnv` names), webhook callers' keys and tokens, payload key material, the codec server's token and
 * the Azure client secret. The loaders that read a secret register it here; the logger replaces each registered value
 * with `[redacted]` wherever it appears in a formatted line, messages included.
 *
 * Only values are kept, in this process's memory; nothing here is ever written anywhere.
 */

import { fogpilotVariable, type FogpilotVariable } from './config/environment';

/** What a found secret becomes in a log line. */
export const REDACTED = '[redacted]';

/**
 * Values shorter than this are not registered: scanning for them would blank out ordinary words, and no credential
 * fogpilot accepts is this short.
 */
export const MIN_SECRET_LENGTH = 8;

/** fogpilot's variables whose whole value is a secret, read by {@link registerEnvironmentSecrets}. */
export const SECRET_VARIABLES = [
  'FOGPILOT_CODEC_TOKEN',
  'FOGPILOT_PAYLOAD_KEYS',
  'FOGPILOT_WEBHOOK_HMAC_SECRET',
  'FOGPILOT_WEBHOOK_TOKEN',
] as const satisfies readonly FogpilotVariable[];

/** The Azure SDK's variable for a service principal's client secret (the SDK reads it; the process holds it). */
export const AZURE_CLIENT_SECRET_ENV = 'AZURE_CLIENT_SECRET';

const forms = new Set<string>();
let ordered: string[] = [];

/**
 * Registers a secret value (and the forms it takes inside a JSON string or a URL) so log lines never show it. Blank,
 * undefined and too-short values are ignored.
 */
export function registerSecret(value: string | undefined): void {
  if (value === undefined) return;
  const trimmed = value.trim();
  let added = false;
  for (const candidate of new Set([
    value,
    trimmed,
    JSON.stringify(trimmed).slice(1, -1),
    encodeURIComponent(trimmed),
  ])) {
    if (candidate.length < MIN_SECRET_LENGTH || forms.has(candidate)) continue;
    forms.add(candidate);
    added = true;
  }
  // Longest first, so a secret that contains another is replaced whole.
  if (added) ordered = [...forms].sort((a, b) => b.length - a.length);
}

/**
 * Registers the secrets the process environment holds: the Azure client secret, the codec and webhook tokens, the
 * webhook's HMAC secret, and the payload keys (the whole value and each entry's key material, so one key quoted alone is found too).
 */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  registerSecret(env[AZURE_CLIENT_SECRET_ENV]);
  for (const name of SECRET_VARIABLES) registerSecret(fogpilotVariable(name, env));
  for (const entry of (fogpilotVariable('FOGPILOT_PAYLOAD_KEYS', env) ?? '').split(',')) {
    const colon = entry.indexOf(':');
    registerSecret(colon < 0 ? entry : entry.slice(colon + 1));
  }
}

/** How many forms of secrets are registered (for a worker's start line and for tests). */
export function registeredSecretCount(): number {
  return forms.size;
}

/** `text` with every registered secret replaced by `[redacted]`. */
export function redactSecretValues(text: string): string {
  let result = text;
  for (const secret of ordered) {
    if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/** Forgets every registered secret: for tests that register their own. */
export function forgetSecretsForTests(): void {
  forms.clear();
  ordered = [];
}

/**
 * Field names whose values are secrets wherever they sit: compared without case, `-` or `_`, by ending
 * (`sqlPassword`, `client_secret`, `x-api-key`, `accessToken`).
 */
const SECRET_NAME_ENDINGS = ['password', 'passwd', 'secret', 'token', 'apikey', 'connectionstring', 'privatekey'];
const SECRET_NAMES = new Set(['pwd', 'authorization', 'proxyauthorization', 'cookie', 'setcookie', 'sig']);

/** Whether a field of this name holds a secret. */
export function isSecretFieldName(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_NAMES.has(normalized) || SECRET_NAME_ENDINGS.some((ending) => normalized.endsWith(ending));
}

/** How deep {@link redactSecretFields} looks; deeper values are replaced by a marker rather than logged unread. */
export const MAX_REDACTION_DEPTH = 16;

/**
 * A copy of `value` with every secret-named field blanked at any depth (plain objects and arrays; errors, dates and
 * other instances are kept for their serializers). Cycles and anything past {@link MAX_REDACTION_DEPTH} become
 * markers. The input is never changed.
 */
export function redactSecretFields<T>(value: T): T {
  const seen = new WeakSet<object>();
  const walk = (current: unknown, depth: number): unknown => {
    if (current === null || typeof current !== 'object') return current;
    const prototype = Object.getPrototypeOf(current) as unknown;
    const plain = Array.isArray(current) || prototype === Object.prototype || prototype === null;
    if (!plain) return current;
    if (seen.has(current)) return '[circular]';
    if (depth >= MAX_REDACTION_DEPTH) return '[too deep]';
    seen.add(current);
    let copy: unknown;
    if (Array.isArray(current)) {
      copy = current.map((item) => walk(item, depth + 1));
    } else {
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(current)) {
        out[key] =
          isSecretFieldName(key) && field !== undefined && field !== null && typeof field !== 'boolean'
            ? REDACTED
            : walk(field, depth + 1);
      }
      copy = out;
    }
    seen.delete(current);
    return copy;
  };
  return walk(value, 0) as T;
}

/**
 * The pino options that keep secrets out of a logger's lines, for every pino logger fogpilot makes (worker, webhook,
 * codec server): secret-named fields blanked at any depth, then each formatted line scanned for the registered
 * values (before pino-pretty sees it, so in both formats). Registers the secrets `env` holds first.
 */
export function secretRedaction(env: NodeJS.ProcessEnv = process.env): {
  formatters: { log: (fields: Record<string, unknown>) => Record<string, unknown> };
  hooks: { streamWrite: (line: string) => string };
} {
  registerEnvironmentSecrets(env);
  return {
    formatters: { log: (fields) => redactSecretFields(fields) },
    hooks: { streamWrite: (line) => redactSecretValues(line) },
  };
}
