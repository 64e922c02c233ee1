/**
 * The trigger's secrets, never from a flag (flags show in `ps` and shell history) and never logged. With an `access`
 * section in fogpilot.yaml each named caller has one credential, read from the environment variable or file the section
 * names; without one, the legacy variables make one caller named `default`, which may start only read-only runbooks
 * and dry runs.
 */
import { readFileSync } from 'node:fs';
import type { Access, CallerCredential } from '../config/access';
import { fogpilotVariable, type FogpilotVariable } from '../config/environment';

export const HMAC_SECRET_ENV = 'FOGPILOT_WEBHOOK_HMAC_SECRET' satisfies FogpilotVariable;
export const BEARER_TOKEN_ENV = 'FOGPILOT_WEBHOOK_TOKEN' satisfies FogpilotVariable;
/** Shorter secrets are refused: they can be guessed. */
export const MIN_SECRET_LENGTH = 16;

/** The legacy single credential (no access section): an HMAC secret and/or a bearer token. */
export interface WebhookAuthOptions {
  /** Shared secret for HMAC-signed requests (`FOGPILOT_WEBHOOK_HMAC_SECRET`). */
  hmacSecret?: string;
  /** Token for `Authorization: Bearer <token>` (`FOGPILOT_WEBHOOK_TOKEN`). */
  bearerToken?: string;
}

/** A setting that stops the trigger from starting; the message names the variable, `action` says what to do. */
export class WebhookSettingsError extends Error {
  override readonly name = 'WebhookSettingsError';
  constructor(
    message: string,
    readonly action: string,
  ) {
    super(message);
  }
}

const GENERATE = 'Generate one with `openssl rand -hex 32`.';

function secretFrom(env: NodeJS.ProcessEnv, name: FogpilotVariable): string | undefined {
  const value = fogpilotVariable(name, env)?.trim();
  if (!value) return undefined;
  if (value.length < MIN_SECRET_LENGTH) {
    throw new WebhookSettingsError(
      `${name} is too short (${value.length} characters); it must have at least ${MIN_SECRET_LENGTH}.`,
      GENERATE,
    );
  }
  return value;
}

/** Reads `FOGPILOT_WEBHOOK_HMAC_SECRET` and `FOGPILOT_WEBHOOK_TOKEN`; throws {@link WebhookSettingsError} when neither is usable. */
export function webhookAuthFromEnvironment(env: NodeJS.ProcessEnv = process.env): WebhookAuthOptions {
  const hmacSecret = secretFrom(env, HMAC_SECRET_ENV);
  const bearerToken = secretFrom(env, BEARER_TOKEN_ENV);
  if (!hmacSecret && !bearerToken) {
    throw new WebhookSettingsError(
      `The webhook will not start without a credential: set ${HMAC_SECRET_ENV} (callers sign each request with it) ` +
        `and/or ${BEARER_TOKEN_ENV} (callers send Authorization: Bearer <token>).`,
      `${GENERATE} Example: export ${HMAC_SECRET_ENV}="$(openssl rand -hex 32)"`,
    );
  }
  return { hmacSecret, bearerToken };
}

/** The caller the legacy variables authenticate as, when fogpilot.yaml has no access section. */
export const LEGACY_CALLER = 'default';

/** One credential the trigger accepts, and the caller a request that presents it authenticates as. */
export interface WebhookCredential {
  caller: string;
  method: 'hmac' | 'bearer';
  secret: string;
}

/** The legacy single credential (`FOGPILOT_WEBHOOK_HMAC_SECRET` and/or `FOGPILOT_WEBHOOK_TOKEN`) as caller `default`. */
export function legacyCredentials(auth: WebhookAuthOptions): WebhookCredential[] {
  return [
    ...(auth.hmacSecret ? [{ caller: LEGACY_CALLER, method: 'hmac' as const, secret: auth.hmacSecret }] : []),
    ...(auth.bearerToken ? [{ caller: LEGACY_CALLER, method: 'bearer' as const, secret: auth.bearerToken }] : []),
  ];
}

/** Reads a file's text; tests pass their own. */
export type ReadSecretFile = (path: string) => string;

function credentialSecret(
  caller: string,
  credential: CallerCredential,
  env: NodeJS.ProcessEnv,
  readFile: ReadSecretFile,
): WebhookCredential {
  const entry = `access.callers.${caller}.credential`;
  const method = credential.hmacKeyEnv !== undefined || credential.hmacKeyFile !== undefined ? 'hmac' : 'bearer';
  const variable = credential.bearerTokenEnv ?? credential.hmacKeyEnv;
  const file = credential.bearerTokenFile ?? credential.hmacKeyFile;
  let where: string;
  let secret: string | undefined;
  if (variable !== undefined) {
    where = `the environment variable ${variable} (${entry})`;
    secret = env[variable]?.trim();
    if (!secret) {
      throw new WebhookSettingsError(
        `The webhook will not start: caller ${caller}'s ${method === 'hmac' ? 'HMAC key' : 'bearer token'} is read from ${where}, which is not set.`,
        `Set ${variable} where the webhook runs. ${GENERATE}`,
      );
    }
  } else {
    where = `the file ${file} (${entry})`;
    try {
      secret = readFile(file!).trim();
    } catch (error) {
      throw new WebhookSettingsError(
        `The webhook will not start: caller ${caller}'s ${method === 'hmac' ? 'HMAC key' : 'bearer token'} is read from ${where}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
        `Write the secret to ${file} (readable by the webhook only), or fix the path in fogpilot.yaml. ${GENERATE}`,
      );
    }
    if (!secret) {
      throw new WebhookSettingsError(
        `The webhook will not start: caller ${caller}'s secret file ${file} (${entry}) is empty.`,
        `Write the secret to ${file}. ${GENERATE}`,
      );
    }
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new WebhookSettingsError(
      `The webhook will not start: caller ${caller}'s secret in ${where} is too short (${secret.length} characters); it must have at least ${MIN_SECRET_LENGTH}.`,
      GENERATE,
    );
  }
  return { caller, method, secret };
}

/**
 * Each caller's credential, read from the variable or file its access entry names. Refuses (a
 * {@link WebhookSettingsError} naming the caller and where its secret comes from, never the secret) a missing, empty
 * or short secret, a secret two callers share (a request would not say who sent it), and an access section that names
 * no caller.
 */
export function webhookCredentialsFromAccess(
  access: Access,
  env: NodeJS.ProcessEnv = process.env,
  readFile: ReadSecretFile = (path) => readFileSync(path, 'utf8'),
): WebhookCredential[] {
  const credentials = Object.entries(access.callers).map(([caller, entry]) =>
    credentialSecret(caller, entry.credential, env, readFile),
  );
  if (credentials.length === 0) {
    throw new WebhookSettingsError(
      'The webhook will not start: the access section of fogpilot.yaml names no callers, so no request could authenticate.',
      'Add a caller under access.callers with a credential (bearerTokenEnv, bearerTokenFile, hmacKeyEnv or hmacKeyFile) and the runbooks it may start.',
    );
  }
  for (const [index, credential] of credentials.entries()) {
    const twin = credentials.slice(index + 1).find((other) => other.secret === credential.secret);
    if (twin) {
      throw new WebhookSettingsError(
        `The webhook will not start: callers ${credential.caller} and ${twin.caller} have the same secret, so a request would not say which of them sent it.`,
        `Give each caller its own secret. ${GENERATE}`,
      );
    }
  }
  return credentials;
}

/** What the trigger authenticates with, and how it came to be. */
export interface WebhookCredentials {
  credentials: WebhookCredential[];
  /** `access`: the callers of fogpilot.yaml; `legacy`: no access section, the legacy variables as caller `default`. */
  mode: 'access' | 'legacy';
  /** Legacy variables set but not used, because an access section names the callers. */
  ignoredVariables: FogpilotVariable[];
}

/**
 * The trigger's credentials: the access section's callers when fogpilot.yaml has one (the legacy variables are then
 * ignored, and said so), else the legacy variables as caller `default`.
 *
 * @throws {WebhookSettingsError} naming the caller and the variable or file when a secret cannot be used.
 */
export function webhookCredentials(
  access: Access | undefined,
  env: NodeJS.ProcessEnv = process.env,
  readFile?: ReadSecretFile,
): WebhookCredentials {
  if (!access)
    return { credentials: legacyCredentials(webhookAuthFromEnvironment(env)), mode: 'legacy', ignoredVariables: [] };
  const ignoredVariables = ([HMAC_SECRET_ENV, BEARER_TOKEN_ENV] as FogpilotVariable[]).filter((name) =>
    fogpilotVariable(name, env)?.trim(),
  );
  return { credentials: webhookCredentialsFromAccess(access, env, readFile), mode: 'access', ignoredVariables };
}
