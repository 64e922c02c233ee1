/**
 * The script a competent user writes without fogpilot: a planned failover with `@azure/arm-sql`'s
 * `beginFailoverAndWait` (the SDK's default polling, which follows Retry-After), then `mssql` until every database on
 * the new primary accepts writes; then the same back. No preflight, no sync check, no lock, no report.
 *
 * Against the emulator it differs from the Azure version only where the emulator requires it: the endpoint, plain
 * HTTP (`allowInsecureConnection`, no bearer-token policy) and the SQL host:port of each instance.
 */
import { SqlManagementClient } from '@azure/arm-sql';
import sql from 'mssql';
import { EmulatorCredential } from '../src/azure/credentials';

export interface NaiveScriptTarget {
  armEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  groupName: string;
  primaryLocation: string;
  secondaryLocation: string;
  /** Where each location's instance answers SQL, and the login. */
  sql: {
    user: string;
    password: string;
    endpoints: Record<string, { server: string; port: number }>;
  };
}

/** When each thing happened (epoch ms), for the benchmark to set against the emulator's events. */
export interface NaiveScriptTimeline {
  startedAt: number;
  /** beginFailoverAndWait resolved, per direction. */
  failoverDoneAt: number;
  failoverWritableAt: number;
  failbackDoneAt: number;
  failbackWritableAt: number;
  endedAt: number;
  /** Updateability checks made, per direction. */
  sqlChecks: [number, number];
}

const UPDATEABILITY =
  "SELECT name, CAST(DATABASEPROPERTYEX(name, 'Updateability') AS nvarchar(128)) AS updateability " +
  'FROM sys.databases WHERE database_id > 4';

/** Polls every second until every user database on the instance answers READ_WRITE; returns the number of checks. */
async function waitUntilWritable(target: NaiveScriptTarget, location: string): Promise<number> {
  const endpoint = target.sql.endpoints[location]!;
  const pool = await new sql.ConnectionPool({
    server: endpoint.server,
    port: endpoint.port,
    user: target.sql.user,
    password: target.sql.password,
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  try {
    for (let checks = 1; ; checks++) {
      const { recordset } = await pool.request().query<{ name: string; updateability: string }>(UPDATEABILITY);
      if (recordset.length > 0 && recordset.every((row) => row.updateability === 'READ_WRITE')) return checks;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await pool.close();
  }
}

/** Fails over to the secondary region and back, as a user's script would. */
export async function naiveFailoverAndBack(target: NaiveScriptTarget): Promise<NaiveScriptTimeline> {
  const startedAt = Date.now();
  const credential = new EmulatorCredential();
  const client = new SqlManagementClient(credential, target.subscriptionId, {
    endpoint: target.armEndpoint,
    allowInsecureConnection: true,
  });
  // The SDK's bearer policy refuses plain HTTP; the emulator, like ARM, still wants the token, so the script sends it.
  client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
  client.pipeline.addPolicy(
    {
      name: 'naiveScriptBearer',
      async sendRequest(request, next) {
        const token = await credential.getToken();
        request.headers.set('Authorization', `Bearer ${token.token}`);
        return next(request);
      },
    },
    { phase: 'Sign' },
  );
  const groups = client.instanceFailoverGroups;

  await groups.beginFailoverAndWait(target.resourceGroup, target.secondaryLocation, target.groupName);
  const failoverDoneAt = Date.now();
  const failoverChecks = await waitUntilWritable(target, target.secondaryLocation);
  const failoverWritableAt = Date.now();

  await groups.beginFailoverAndWait(target.resourceGroup, target.primaryLocation, target.groupName);
  const failbackDoneAt = Date.now();
  const failbackChecks = await waitUntilWritable(target, target.primaryLocation);
  const failbackWritableAt = Date.now();

  return {
    startedAt,
    failoverDoneAt,
    failoverWritableAt,
    failbackDoneAt,
    failbackWritableAt,
    endedAt: Date.now(),
    sqlChecks: [failoverChecks, failbackChecks],
  };
}
