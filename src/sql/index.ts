import type { TokenCredential } from '@azure/core-auth';
import type { FogpilotConfig } from '../config/config';
import { SqlRequestError, type SqlInstanceTarget } from './data-plane';
import { MssqlDataPlane, type SqlAuthentication } from './mssql-data-plane';

/**
 * The SQL data plane from configuration. Entra tokens come from `credential`; a SQL login's name and password are read
 * here, in the worker, from the environment variables the config names, and go nowhere else.
 */
export function createDataPlane(
  config: FogpilotConfig,
  credential: TokenCredential,
  env: NodeJS.ProcessEnv = process.env,
): MssqlDataPlane {
  const authenticationFor = (target: SqlInstanceTarget): SqlAuthentication => {
    const settings = (target.group ? config.inventory[target.group]?.sql : undefined) ?? config.sql.auth;
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
