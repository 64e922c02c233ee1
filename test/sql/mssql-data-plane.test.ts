/**
 * The SQL activities through the real mssql driver over real TDS against the emulator, and how each SQL fault is
 * classified: transient faults retry; login failures, missing links and sync timeouts do not, and say why.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSqlActivities, type CopySyncResult } from '../../src/activities/sql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { MssqlDataPlane } from '../../src/sql/mssql-data-plane';
import type { SqlInstanceTarget } from '../../src/sql/data-plane';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { createDataPlane } from '../../src/sql';
import { writeTempConfig } from '../support/temp-files';
import { loadConfig } from '../../src/config/config';

const SPEED = 10;
let emulator: Emulator;
let dataPlane: MssqlDataPlane;
let activities: ReturnType<typeof createSqlActivities>;

function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.instances[0]!.logins = [{ name: 'app_writer', sid: '0x0105000000000009030000001F2E3D4C', type: 'S' }];
  spec.instances[0]!.agentJobs = ['nightly-etl', 'index-maintenance'];
  return { ...spec, timings: { linkTimeoutSeconds: 5, replicationLagMs: 500 }, throttling: { enabled: false } };
}

function dataPlaneFor(password?: string, requestTimeoutMs = 5_000): MssqlDataPlane {
  const line = emulator.startLine();
  return new MssqlDataPlane({
    authenticationFor: () => ({
      kind: 'sql-login',
      user: line.sql.login.user,
      password: password ?? line.sql.login.password,
    }),
    resolve: (host) => {
      const [server, port] = line.sql.hosts[host]!.split(':');
      return { server: server!, port: Number(port) };
    },
    encrypt: false,
    requestTimeoutMs,
  });
}

const target = (location: 'eastus' | 'westus'): SqlInstanceTarget => {
  const instance = emulator.startLine().instances.find((entry) => entry.location === location)!;
  return { instanceId: instance.id, host: instance.fullyQualifiedDomainName };
};

before(async () => {
  emulator = await startEmulator({ world: world(), speed: SPEED });
  dataPlane = dataPlaneFor();
  activities = createSqlActivities({ dataPlane, syncHeartbeatIntervalMs: 50 });
});
after(async () => {
  await dataPlane?.close();
  await emulator?.close();
});
beforeEach(async () => {
  // A fresh world: commits harden in order, so one test's slow commit must not hold up the next test's wait.
  emulator.world.load(world());
  await fetch(`${emulator.armEndpoint}/_admin/faults`, { method: 'DELETE' });
});

async function failureOf(work: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

const fault = (spec: Record<string, unknown>) =>
  fetch(`${emulator.armEndpoint}/_admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  }).then(async (response) => {
    assert.equal(response.status, 201, await response.text());
  });

function commit(database = 'sales'): number {
  const group = emulator.world.findGroup('fog-sales')!;
  return emulator.world.commit(group, emulator.world.databaseOf(group, database)!, 'test').lsn;
}

/** Polls `condition` until it holds (what the test waits for is observed, never assumed after a delay). */
async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The activity, called as Temporal calls it (a plain function). */
const waitForCopySync = (request: ReturnType<typeof syncRequest>) => activities.waitForCopySync(request);

const syncRequest = (timeoutMs = 10_000, partnerServer = 'fog-sales-westus') => ({
  instance: target('eastus'),
  link: { database: 'sales', partnerServer, partnerDatabase: 'sales' },
  timeoutMs,
});

describe('SQL activities over TDS against the emulator', () => {
  it('lists the user databases', async () => {
    const { databases } = await activities.listUserDatabases({ instance: target('eastus') });
    assert.deepEqual(databases, [
      { name: 'inventory', state: 'ONLINE' },
      { name: 'sales', state: 'ONLINE' },
    ]);
  });

  it("reads each database's replication link from both sides: partner, role, state, and lag on the primary only", async () => {
    const primary = await activities.readReplicationLinks({ instance: target('eastus') });
    assert.deepEqual(
      primary.links.map((link) => [
        link.database,
        link.partnerServer,
        link.partnerDatabase,
        link.role,
        link.replicationState,
        link.lagSeconds,
      ]),
      [
        ['inventory', 'fog-sales-westus', 'inventory', 'PRIMARY', 'CATCH_UP', 0],
        ['sales', 'fog-sales-westus', 'sales', 'PRIMARY', 'CATCH_UP', 0],
      ],
    );
    const secondary = await activities.readReplicationLinks({ instance: target('westus') });
    assert.deepEqual(
      secondary.links.map((link) => [link.role, link.lagSeconds]),
      [
        ['SECONDARY', null],
        ['SECONDARY', null],
      ],
    );
  });

  it('answers last_commit on both sides, and NULL lag and last_replication on the secondary, as Azure documents', async () => {
    commit();
    const committed = emulator.world
      .findGroup('fog-sales')!
      .databases.find((db) => db.name === 'sales')!
      .commits.at(-1)!;
    const committedAt = new Date(committed.committedAt).toISOString();
    const sales = async (location: 'eastus' | 'westus') =>
      (await activities.readReplicationLinks({ instance: target(location) })).links.find(
        (link) => link.database === 'sales',
      )!;
    const onPrimary = await sales('eastus');
    assert.equal(onPrimary.lastCommit, committedAt);
    assert.equal(typeof onPrimary.lagSeconds, 'number');
    assert.ok(onPrimary.lastReplication, 'the primary reports last_replication');
    // The secondary's last_commit is what it has hardened: wait until the commit reaches it.
    let onSecondary = await sales('westus');
    await waitUntil(async () => (onSecondary = await sales('westus')).lastCommit === committedAt);
    assert.equal(onSecondary.role, 'SECONDARY');
    assert.equal(onSecondary.lagSeconds, null);
    assert.equal(onSecondary.lastReplication, undefined);
  });

  it("answers, on the secondary with the primary region dark, the last commit it holds and not the primary's", async () => {
    const sales = async () =>
      (await activities.readReplicationLinks({ instance: target('westus') })).links.find(
        (link) => link.database === 'sales',
      )!;
    commit();
    const commits = emulator.world.findGroup('fog-sales')!.databases.find((db) => db.name === 'sales')!.commits;
    const held = new Date(commits.at(-1)!.committedAt).toISOString();
    await waitUntil(async () => (await sales()).lastCommit === held);
    // The next commit never reaches the secondary: the link drops, then the primary's region goes dark.
    await fault({ kind: 'link-lost', group: 'fog-sales', database: 'sales' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    commit();
    assert.notEqual(new Date(commits.at(-1)!.committedAt).toISOString(), held);
    await fault({ kind: 'region-dark', location: 'eastus', hangMs: 0 });
    const onSecondary = await sales();
    assert.equal(onSecondary.lastCommit, held);
    assert.equal(onSecondary.replicationState, 'SUSPENDED');
    assert.equal(onSecondary.lagSeconds, null);
  });

  it('reports a lag spike in replication_lag_sec', async () => {
    await fault({ kind: 'lag-spike', group: 'fog-sales', database: 'sales', lagMs: 120_000, seconds: 600 });
    commit();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { links } = await activities.readReplicationLinks({ instance: target('eastus') });
    assert.ok((links.find((link) => link.database === 'sales')!.lagSeconds ?? 0) >= 2, JSON.stringify(links));
  });

  it('reads updateability: READ_WRITE on the primary, READ_ONLY on the secondary', async () => {
    assert.deepEqual(
      (await activities.readUpdateability({ instance: target('eastus') })).databases.map(
        (entry) => entry.updateability,
      ),
      ['READ_WRITE', 'READ_WRITE'],
    );
    assert.deepEqual(
      (await activities.readUpdateability({ instance: target('westus') })).databases.map(
        (entry) => entry.updateability,
      ),
      ['READ_ONLY', 'READ_ONLY'],
    );
  });

  it('reads logins with their SIDs, SQL Agent jobs, and backup times (on the primary only)', async () => {
    const { logins } = await activities.readLogins({ instance: target('eastus') });
    assert.ok(
      logins.some(
        (login) =>
          login.name === 'app_writer' && login.sid === '0x0105000000000009030000001F2E3D4C' && login.type === 'S',
      ),
    );
    assert.ok(!logins.some((login) => login.name.startsWith('##')), 'certificate logins are filtered out');
    assert.deepEqual(
      (await activities.readAgentJobs({ instance: target('eastus') })).jobs.map((job) => job.name),
      ['index-maintenance', 'nightly-etl'],
    );
    assert.deepEqual((await activities.readAgentJobs({ instance: target('westus') })).jobs, []);
    const { backups } = await activities.readLatestBackups({ instance: target('eastus') });
    assert.equal(backups.length, 2);
    assert.ok(backups.every((backup) => backup.lastFullBackup && backup.lastLogBackup));
    assert.deepEqual((await activities.readLatestBackups({ instance: target('westus') })).backups, []);
  });

  it('waits in sp_wait_for_database_copy_sync until the secondary has hardened the last commit, heartbeating', async () => {
    const group = emulator.world.findGroup('fog-sales')!;
    emulator.world.databaseOf(group, 'sales')!.lagMs = 10_000; // one real second at speed 10
    const lsn = commit();
    const environment = new MockActivityEnvironment();
    const beats: unknown[] = [];
    environment.on('heartbeat', (details: unknown) => beats.push(details));
    const started = Date.now();
    const result = await environment.run<[ReturnType<typeof syncRequest>], CopySyncResult, typeof waitForCopySync>(
      waitForCopySync,
      syncRequest(),
    );
    assert.ok(Date.now() - started >= 700, `waited ${Date.now() - started} ms for a 1 s lag`);
    assert.equal(result.database, 'sales');
    assert.ok(beats.length >= 3, `${beats.length} heartbeats`);
    assert.ok(emulator.world.hardenedLsn(emulator.world.databaseOf(group, 'sales')!) >= lsn);
  });

  it('cancels the wait when the activity is cancelled, and the connection stays usable', async () => {
    const group = emulator.world.findGroup('fog-sales')!;
    emulator.world.databaseOf(group, 'sales')!.lagMs = 3_600_000;
    commit();
    const environment = new MockActivityEnvironment();
    const waiting = environment.run(waitForCopySync, syncRequest(60_000));
    setTimeout(() => environment.cancel('CANCELLED'), 200);
    const started = Date.now();
    await assert.rejects(waiting);
    assert.ok(Date.now() - started < 3_000, 'the cancel stopped the T-SQL request');
    assert.equal((await activities.listUserDatabases({ instance: target('eastus') })).databases.length, 2);
  });

  it('ends a wait that outlasts its bound with a non-retryable SyncTimeout', async () => {
    const group = emulator.world.findGroup('fog-sales')!;
    emulator.world.databaseOf(group, 'sales')!.lagMs = 3_600_000;
    commit();
    const failure = await failureOf(new MockActivityEnvironment().run(waitForCopySync, syncRequest(400)));
    assert.equal(failure.type, 'SyncTimeout');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /not synchronized within/);
  });

  it('refuses to wait against a partner the database has no link to: ReplicationLinkMissing, not retried', async () => {
    const failure = await failureOf(
      new MockActivityEnvironment().run(waitForCopySync, syncRequest(5_000, 'some-other-server')),
    );
    assert.equal(failure.type, 'ReplicationLinkMissing');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /no replication link to some-other-server/);
  });

  it('ends the wait with an error after the link timeout when the link is lost, saying it is SUSPENDED', async () => {
    await fault({ kind: 'link-lost', group: 'fog-sales', database: 'sales' });
    commit();
    const started = Date.now();
    const failure = await failureOf(new MockActivityEnvironment().run(waitForCopySync, syncRequest(30_000)));
    assert.equal(failure.type, 'SyncTimeout');
    assert.match(failure.message, /SUSPENDED/);
    assert.ok(Date.now() - started >= 400, 'only after the link timeout (5 simulated seconds)');
  });

  it('treats a connection reset in the middle of a wait as transient', async () => {
    const group = emulator.world.findGroup('fog-sales')!;
    emulator.world.databaseOf(group, 'sales')!.lagMs = 60_000;
    commit();
    await fault({ kind: 'sql-reset-during-wait', instance: 'fog-sales-eastus' });
    const failure = await failureOf(new MockActivityEnvironment().run(waitForCopySync, syncRequest(30_000)));
    assert.equal(failure.type, 'SqlUnavailable');
    assert.notEqual(failure.nonRetryable, true);
  });

  it('treats slow answers beyond the request timeout as transient', async () => {
    const impatient = createSqlActivities({ dataPlane: dataPlaneFor(undefined, 250) });
    await fault({ kind: 'sql-latency', instance: 'fog-sales-westus', ms: 600 });
    const failure = await failureOf(impatient.listUserDatabases({ instance: target('westus') }));
    assert.equal(failure.type, 'SqlUnavailable');
  });

  it('fails a refused login with non-retryable SqlLoginFailed, saying what to check', async () => {
    await fault({ kind: 'sql-login-fails', instance: 'fog-sales-westus', count: 1 });
    const fresh = createSqlActivities({ dataPlane: dataPlaneFor() });
    const failure = await failureOf(fresh.listUserDatabases({ instance: target('westus') }));
    assert.equal(failure.type, 'SqlLoginFailed');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /Login failed/);
    assert.match(failure.message, /auth settings/);
    const wrongPassword = createSqlActivities({ dataPlane: dataPlaneFor('not-the-password') });
    assert.equal(
      (await failureOf(wrongPassword.listUserDatabases({ instance: target('eastus') }))).type,
      'SqlLoginFailed',
    );
  });

  it('refuses a login only from the application a sql-login-fails fault names, so a check’s own clients leave it to the runbook', async () => {
    await fault({ kind: 'sql-login-fails', instance: 'fog-sales-westus', count: 1, app: 'some-other-app' });
    const fresh = createSqlActivities({ dataPlane: dataPlaneFor() });
    const { databases } = await fresh.listUserDatabases({ instance: target('westus') });
    assert.ok(databases.length > 0, 'fogpilot (app name "fogpilot") is not the application the fault is for');
    await fault({ kind: 'sql-login-fails', instance: 'fog-sales-westus', count: 1, app: 'fogpilot' });
    const again = createSqlActivities({ dataPlane: dataPlaneFor() });
    assert.equal((await failureOf(again.listUserDatabases({ instance: target('westus') }))).type, 'SqlLoginFailed');
  });

  it('authenticates with a Microsoft Entra token by default: the login carries federated authentication', async () => {
    const credential: TokenCredential = {
      getToken: () =>
        Promise.resolve<AccessToken>({ token: 'not-a-real-token', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const line = emulator.startLine();
    const entra = createSqlActivities({
      dataPlane: new MssqlDataPlane({
        authenticationFor: () => ({ kind: 'entra', credential }),
        resolve: (host) => ({
          server: line.sql.hosts[host]!.split(':')[0]!,
          port: Number(line.sql.hosts[host]!.split(':')[1]),
        }),
        encrypt: false,
      }),
    });
    const failure = await failureOf(entra.listUserDatabases({ instance: target('eastus') }));
    assert.equal(failure.type, 'SqlLoginFailed');
    assert.match(
      failure.message,
      /accepts its SQL login only .* not Microsoft Entra tokens/,
      'the emulator saw a federated-authentication login',
    );
  });

  it('takes a SQL login from the environment variables the config names, and says which one is missing', async () => {
    const line = emulator.startLine();
    const file = writeTempConfig(
      [
        'sql:',
        '  encrypt: false',
        '  auth:',
        '    auth: sql-login',
        '    userEnv: EMU_SQL_USER',
        '    passwordEnv: EMU_SQL_PASSWORD',
        '  hosts:',
        ...Object.entries(line.sql.hosts).map(([fqdn, hostPort]) => `    ${fqdn}: "${hostPort}"`),
        '',
      ].join('\n'),
    );
    const config = loadConfig({ env: {}, path: file });
    const credential: TokenCredential = { getToken: () => Promise.reject(new Error('no Entra here')) };
    const configured = createSqlActivities({
      dataPlane: createDataPlane(config, credential, {
        EMU_SQL_USER: line.sql.login.user,
        EMU_SQL_PASSWORD: line.sql.login.password,
      }),
    });
    assert.equal((await configured.listUserDatabases({ instance: target('eastus') })).databases.length, 2);
    const unset = createSqlActivities({
      dataPlane: createDataPlane(config, credential, { EMU_SQL_USER: line.sql.login.user }),
    });
    const failure = await failureOf(unset.listUserDatabases({ instance: target('eastus') }));
    assert.equal(failure.type, 'SqlLoginFailed');
    assert.match(failure.message, /EMU_SQL_PASSWORD, which the worker's environment does not set/);
    assert.ok(!failure.message.includes(line.sql.login.password), 'no secret in the message');
  });

  it("chooses the SQL login by the group's resolved ARM identity, so a foreign group sharing an inventory group's name does not get its login", async () => {
    const line = emulator.startLine();
    const file = writeTempConfig(
      [
        'inventory:',
        '  fog-sales:',
        '    subscriptionId: 00000000-0000-4000-8000-00000000aaaa',
        '    resourceGroup: rg-sales',
        '    primaryLocation: eastus',
        '    secondaryLocation: westus',
        '    sql:',
        '      auth: sql-login',
        '      userEnv: SALES_SQL_USER',
        '      passwordEnv: SALES_SQL_PASSWORD',
        'sql:',
        '  encrypt: false',
        '  auth:',
        '    auth: sql-login',
        '    userEnv: EMU_SQL_USER',
        '    passwordEnv: EMU_SQL_PASSWORD',
        '  hosts:',
        ...Object.entries(line.sql.hosts).map(([fqdn, hostPort]) => `    ${fqdn}: "${hostPort}"`),
        '',
      ].join('\n'),
    );
    const config = loadConfig({ env: {}, path: file });
    const credential: TokenCredential = { getToken: () => Promise.reject(new Error('no Entra here')) };
    // The inventory group's login is one the emulator refuses, the default one it accepts: which one a target got
    // shows in whether its read succeeds.
    const configured = createSqlActivities({
      dataPlane: createDataPlane(config, credential, {
        EMU_SQL_USER: line.sql.login.user,
        EMU_SQL_PASSWORD: line.sql.login.password,
        SALES_SQL_USER: 'sales_owner',
        SALES_SQL_PASSWORD: 'the-sales-login-password',
      }),
    });
    const withGroup = (groupId: { subscriptionId: string; resourceGroup: string; name: string }) =>
      ({ ...target('eastus'), group: 'fog-sales', groupId }) as SqlInstanceTarget;

    const foreign = withGroup({
      subscriptionId: '00000000-0000-4000-8000-00000000bbbb',
      resourceGroup: 'rg-other',
      name: 'fog-sales',
    });
    assert.equal((await configured.listUserDatabases({ instance: foreign })).databases.length, 2);
    const sameSubscriptionOtherGroup = withGroup({
      subscriptionId: '00000000-0000-4000-8000-00000000aaaa',
      resourceGroup: 'rg-other',
      name: 'fog-sales',
    });
    assert.equal((await configured.listUserDatabases({ instance: sameSubscriptionOtherGroup })).databases.length, 2);

    // Positive control: the inventory group itself, written in another case, does get its own login.
    const own = withGroup({
      subscriptionId: '00000000-0000-4000-8000-00000000AAAA',
      resourceGroup: 'RG-Sales',
      name: 'FOG-SALES',
    });
    const failure = await failureOf(configured.listUserDatabases({ instance: own }));
    assert.equal(failure.type, 'SqlLoginFailed');
  });

  it('reuses one pool per instance for reads', async () => {
    const before = emulator.tds.get(target('eastus').instanceId.toLowerCase())!.requests.logins;
    for (let i = 0; i < 5; i++) await activities.listUserDatabases({ instance: target('eastus') });
    const after = emulator.tds.get(target('eastus').instanceId.toLowerCase())!.requests.logins;
    assert.ok(after - before <= 1, `${after - before} new logins for 5 reads`);
  });
});
