/**
 * The trigger's secrets, from the environment only: never from a flag (flags show in `ps` and shell history) and never
 * logged. At least one of the two must be set.
 */
import type { WebhookAuthOptions } from './auth';
import { fogpilotVariable, type FogpilotVariable } from '../config/environment';

export const HMAC_SECRET_ENV = 'FOGPILOT_WEBHOOK_HMAC_SECRET' satisfies FogpilotVariable;
export const BEARER_TOKEN_ENV = 'FOGPILOT_WEBHOOK_TOKEN' satisfies FogpilotVariable;
/** Shorter secrets are refused: they can be guessed. */
export const MIN_SECRET_LENGTH = 16;

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
