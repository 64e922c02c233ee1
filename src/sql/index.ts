import type { TokenCredential } from '@azure/core-auth';
import type { FogpilotConfig } from '../config/config';
import { sameGroupIdentity, type GroupIdentity } from '../domain/group-ref';
import { registerSecret } from '../secrets';
import { SqlRequestError, type SqlInstanceTarget } from './data-plane';
import { MssqlDataPlane, type SqlAuthentication } from './mssql-data-plane';

/**
 * The SQL authentication settings for a target: those of the inventory group whose ARM identity (subscription,
 * resource group, name; case-insensitive) is the target's resolved group, else the default `sql.auth`. Never chosen by
 * the display name alone, which a group given by coordinates or an ARM id in another subscription or resource group
 * may share with an inventory group. A target from an activity scheduled before `groupId` existed is matched by its
 * inventory name only when its instance lives in that group's subscription and resource group.
 */
export function sqlAuthSettingsFor(
  config: Pick<FogpilotConfig, 'inventory' | 'sql'>,
  target: SqlInstanceTarget,
): FogpilotConfig['sql']['auth'] {
  const entries = Object.entries(config.inventory);
  const identityOf = (key: string, entry: (typeof entries)[number][1]): GroupIdentity => ({
    subscriptionId: entry.subscriptionId,
    resourceGroup: entry.resourceGroup,
    name: entry.name ?? key,
  });
  if (target.groupId) {
    const match = entries.find(([key, entry]) => sameGroupIdentity(identityOf(key, entry), target.groupId!));
    return match?.[1].sql ?? config.sql.auth;
  }
  const named = target.group ? config.inventory[target.group] : undefined;
  const instance = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i.exec(target.instanceId);
  if (
    named?.sql &&
    instance &&
    instance[1]!.toLowerCase() === named.subscriptionId.toLowerCase() &&
    instance[2]!.toLowerCase() === named.resourceGroup.toLowerCase()
  ) {
    return named.sql;
  }
  return config.sql.auth;
}

/**
 * The SQL data plane from configuration. Entra tokens come from `credential`; a SQL login's name and password are read
 * here, in the worker, from the environment variables the config names, and go nowhere else.
 */
export function createDataPlane(
  config: FogpilotConfig,
  credential: TokenCredential,
  env: NodeJS.ProcessEnv = process.env,
): MssqlDataPlane {
  // Registered now, not at first use, so a password is redacted from every log line from the worker's start.
  for (const settings of [config.sql.auth, ...Object.values(config.inventory).map((entry) => entry.sql)]) {
    if (settings?.auth === 'sql-login') registerSecret(env[settings.passwordEnv]);
  }
  const authenticationFor = (target: SqlInstanceTarget): SqlAuthentication => {
    const settings = sqlAuthSettingsFor(config, target);
    if (settings.auth === 'entra') return { kind: 'entra', credential };
    const user = env[settings.userEnv];
    const password = env[settings.passwordEnv];
    if (!user || !password) {
      const missing = [!user && settings.userEnv, !password && settings.passwordEnv].filter(Boolean).join(' and ');
      throw new SqlRequestError(
        `the SQL login for ${target.host} is configured from ${missing}, which the worker's environment does not set`,
        'login-failed',
      );
    }
    return { kind: 'sql-login', user, password };
  };
  return new MssqlDataPlane({
    authenticationFor,
    resolve: (host) => {
      const override = config.sql.hosts[host] ?? config.sql.hosts[host.toLowerCase()];
      if (!override) return { server: host, port: config.sql.port };
      const [server, port] = override.split(':');
      return { server: server!, port: port ? Number(port) : config.sql.port };
    },
    encrypt: config.sql.encrypt,
    trustServerCertificate: config.sql.trustServerCertificate,
    ca: config.ca,
    connectTimeoutMs: config.sql.connectTimeout,
    requestTimeoutMs: config.sql.requestTimeout,
  });
}
