/**
 * The probe activities through the real mssql driver over real TDS, writing through the emulator's read-write listener
 * while the group fails over: downtime as the application sees it, and proof of what survived. Also the HTTP health
 * check against a local server, and drift injected with the admin API seen over TDS.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { ActivityCancellationDetails, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createProbeActivities, type ProbeWritesRequest } from '../../src/activities/probe';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { probeDowntimeMs, type ProbeCheckpoint, type ProbeTally } from '../../src/domain/probe-tally';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { SqlRequestError, type SqlInstanceTarget } from '../../src/sql/data-plane';
import { MssqlDataPlane } from '../../src/sql/mssql-data-plane';

const SPEED = 10;
let emulator: Emulator;
let dataPlane: MssqlDataPlane;
let activities: ReturnType<typeof createProbeActivities>;

function world(options: { lagMs?: number; readOnlyAfterSwitchSeconds?: number } = {}): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.groups![0]!.databases = [{ name: 'sales', lagMs: options.lagMs ?? 500 }, { name: 'inventory' }];
  return {
    ...spec,
    timings: {
      roleSwitchSeconds: 5,
      forcedSwitchSeconds: 5,
      readOnlyAfterSwitchSeconds: options.readOnlyAfterSwitchSeconds ?? 5,
      roleFlipSkewSeconds: 1,
    },
    throttling: { enabled: false },
  };
}

before(async () => {
  emulator = await startEmulator({ world: world(), speed: SPEED });
  const line = emulator.startLine();
  dataPlane = new MssqlDataPlane({
    authenticationFor: () => ({ kind: 'sql-login', user: line.sql.login.user, password: line.sql.login.password }),
    resolve: (host) => {
      const [server, port] = emulator.startLine().sql.hosts[host]!.split(':');
      return { server: server!, port: Number(port) };
    },
    encrypt: false,
    writeConnectTimeoutMs: 1_000,
    writeRequestTimeoutMs: 2_000,
  });
  activities = createProbeActivities({ dataPlane });
});
after(async () => {
  await dataPlane?.close();
  await emulator?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The group's read-write listener, as a drill addresses it. */
function listener(): SqlInstanceTarget {
  const line = emulator.startLine();
  return {
    instanceId: line.instances.find((instance) => instance.location === 'eastus')!.id,
    host: line.sql.listeners[0]!.fullyQualifiedDomainName,
  };
}

function instance(location: 'eastus' | 'westus'): SqlInstanceTarget {
  const found = emulator.startLine().instances.find((entry) => entry.location === location)!;
  return { instanceId: found.id, host: found.fullyQualifiedDomainName };
}

async function failover(kind: 'planned' | 'forced'): Promise<void> {
  const controlPlane = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
  const group = { subscriptionId: emulator.world.spec.subscriptionId, resourceGroup: 'rg-fogpilot', name: 'fog-sales' };
  const { value } = await controlPlane.beginFailover(group, 'westus', kind);
  for (let i = 0; i < 300; i++) {
    if ((await controlPlane.getFailoverProgress(group, value.trackingId!)).value.state !== 'InProgress') return;
    await sleep(20);
  }
  assert.fail('the failover did not finish');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const probeListenerWrites = (request: ProbeWritesRequest): Promise<ProbeTally> =>
  activities.probeListenerWrites(request);

/** Runs the probe as Temporal runs an activity, and cancels it as its workflow would, after `during` has run. */
async function probeWhile(
  label: string,
  during: () => Promise<void>,
  heartbeatDetails?: ProbeCheckpoint,
): Promise<{ tally: ProbeTally; heartbeats: ProbeCheckpoint[] }> {
  const env = new MockActivityEnvironment({ heartbeatDetails });
  const heartbeats: ProbeCheckpoint[] = [];
  env.on('heartbeat', (details: ProbeCheckpoint) => heartbeats.push(structuredClone(details)));
  const running = env.run<[ProbeWritesRequest], ProbeTally, typeof probeListenerWrites>(probeListenerWrites, {
    listener: listener(),
    database: 'sales',
    label,
    intervalMs: 10,
  });
  await during();
  env.cancel();
  return { tally: await running, heartbeats };
}

const uniqueLabel = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('the write probe through the read-write listener', { concurrency: 1 }, () => {
  beforeEach(async () => {
    emulator.world.load(world());
    await sleep(50);
  });

  it('records a downtime window across a planned failover, and the read-back finds every acknowledged write', async () => {
    const label = uniqueLabel('planned');
    const { tally, heartbeats } = await probeWhile(label, async () => {
      await sleep(300);
      await failover('planned');
      await sleep(1_200);
    });
    assert.ok(tally.acknowledgedSeqs.length > 20, `acknowledged ${tally.acknowledgedSeqs.length}`);
    assert.ok(tally.windows.length >= 1, 'the probe saw the switch');
    assert.ok(probeDowntimeMs(tally) > 0, `downtime ${probeDowntimeMs(tally)} ms`);
    assert.ok(
      tally.windows.every((window) => window.toMs >= window.fromMs && window.fromMs > Date.now() - 60_000),
      'windows are wall-clock epoch milliseconds',
    );
    assert.ok(
      (tally.errors['sql-3906'] ?? 0) >= 1,
      `the new primary refused while read-only: ${JSON.stringify(tally)}`,
    );
    assert.ok(tally.refused >= (tally.errors['sql-3906'] ?? 0));
    const failures = Object.values(tally.errors).reduce((total, count) => total + count, 0);
    assert.equal(
      tally.attempted,
      tally.acknowledgedSeqs.length + failures,
      'every attempt is acknowledged or an error',
    );
    assert.ok(heartbeats.length >= tally.attempted, 'it heartbeats every write');
    assert.equal(heartbeats.at(-1)!.attempted, tally.attempted, 'the last heartbeat carries the whole tally');

    const verification = await activities.verifyProbeWrites({
      listener: listener(),
      database: 'sales',
      label,
      acknowledgedSeqs: tally.acknowledgedSeqs,
      inDoubtSeqs: tally.inDoubtSeqs,
    });
    assert.deepEqual(verification.lostAcknowledgedSeqs, []);
    assert.ok(verification.present >= tally.acknowledgedSeqs.length);
    assert.equal(emulator.world.lostCommits.length, 0);
  });

  it('finds exactly the acknowledged writes a forced failover lost, as the emulator recorded them', async () => {
    emulator.world.load(world({ lagMs: 20_000 })); // two real seconds behind
    await sleep(50);
    const label = uniqueLabel('forced');
    const { tally } = await probeWhile(label, async () => {
      await sleep(1_000);
      await failover('forced');
      await sleep(1_000);
    });
    const verification = await activities.verifyProbeWrites({
      listener: listener(),
      database: 'sales',
      label,
      acknowledgedSeqs: tally.acknowledgedSeqs,
      inDoubtSeqs: tally.inDoubtSeqs,
    });
    const lostByEmulator = emulator.world.lostCommits
      .flatMap((entry) => entry.payloads)
      .filter((payload) => payload.startsWith(`${label}:`))
      .map((payload) => Number(payload.slice(label.length + 1)));
    assert.ok(lostByEmulator.length > 0, 'with a 2 s lag, a forced failover loses something');
    const acknowledged = new Set(tally.acknowledgedSeqs);
    assert.ok(verification.lostAcknowledgedSeqs.length > 0);
    assert.deepEqual(
      [...verification.lostAcknowledgedSeqs].sort((a, b) => a - b),
      lostByEmulator.filter((seq) => acknowledged.has(seq)).sort((a, b) => a - b),
      'the acknowledged writes found missing are exactly the acknowledged commits the emulator lost',
    );
    const inDoubt = new Set(tally.inDoubtSeqs);
    assert.ok(
      lostByEmulator.filter((seq) => !acknowledged.has(seq)).every((seq) => inDoubt.has(seq)),
      'any other lost commit was a write the probe had in doubt',
    );
    assert.equal(
      verification.present,
      tally.acknowledgedSeqs.length -
        verification.lostAcknowledgedSeqs.length +
        verification.inDoubtCommittedSeqs.length,
    );
  });

  it('resumes from the last heartbeat when retried: earlier counts are kept and no sequence number is reused', async () => {
    const earlier: ProbeCheckpoint = {
      attempted: 3,
      acknowledgedSeqs: [1, 3],
      inDoubtSeqs: [2],
      refused: 0,
      errors: { ECONNCLOSED: 1 },
      windows: [],
      lastSeq: 3,
      checkpointAtMs: Date.now() - 100,
      failingSinceMs: Date.now() - 150,
    };
    const label = uniqueLabel('resumed');
    const { tally } = await probeWhile(
      label,
      async () => {
        await sleep(200);
      },
      earlier,
    );
    assert.deepEqual(tally.acknowledgedSeqs.slice(0, 2), [1, 3]);
    assert.deepEqual(tally.inDoubtSeqs, [2]);
    assert.equal(tally.errors.ECONNCLOSED, 1);
    assert.ok(tally.attempted > 3);
    const resumedSeqs = tally.acknowledgedSeqs.slice(2);
    assert.ok(resumedSeqs.length > 0 && resumedSeqs[0]! > 3 + 100 / 10, `resumed at ${resumedSeqs[0]}`);
    assert.equal(tally.windows.length, 1, 'the window open at the checkpoint closes at the first success');
    assert.equal(tally.windows[0]!.fromMs, earlier.failingSinceMs);
  });

  it('rethrows a cancellation it was not asked for (worker shutdown), so Temporal retries it instead of ending it', async () => {
    const env = new MockActivityEnvironment();
    const running = env.run(probeListenerWrites, {
      listener: listener(),
      database: 'sales',
      label: uniqueLabel('shutdown'),
      intervalMs: 10,
    });
    await sleep(100);
    env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    await assert.rejects(running, (error: unknown) => error instanceof CancelledFailure);
  });

  it('reads back only its own rows, even when its label holds LIKE wildcards', async () => {
    await dataPlane.insertSmokeRow(listener(), { database: 'sales', payload: 'drill_a:1' });
    await dataPlane.insertSmokeRow(listener(), { database: 'sales', payload: 'drillXa:2' });
    await dataPlane.insertSmokeRow(listener(), { database: 'sales', payload: 'drill%b:3' });
    assert.deepEqual(await dataPlane.findSmokeRows(listener(), { database: 'sales', prefix: 'drill_a:' }), [
      'drill_a:1',
    ]);
    assert.deepEqual(await dataPlane.findSmokeRows(listener(), { database: 'sales', prefix: 'drill%' }), ['drill%b:3']);
    const verification = await activities.verifyProbeWrites({
      listener: listener(),
      database: 'sales',
      label: 'drill_a',
      acknowledgedSeqs: [1, 2],
      inDoubtSeqs: [],
    });
    assert.deepEqual(verification, { present: 1, lostAcknowledgedSeqs: [2], inDoubtCommittedSeqs: [] });
  });

  it('keeps smoke rows apart from the workload table', async () => {
    await dataPlane.insertSmokeRow(listener(), { database: 'sales', payload: 'apart:1' });
    const group = emulator.world.findGroup('fog-sales')!;
    emulator.world.commit(group, emulator.world.databaseOf(group, 'sales')!, 'apart:2');
    assert.deepEqual(await dataPlane.findSmokeRows(listener(), { database: 'sales', prefix: 'apart:' }), ['apart:1']);
  });
});

describe('smokeWrite', { concurrency: 1 }, () => {
  beforeEach(async () => {
    emulator.world.load(world({ readOnlyAfterSwitchSeconds: 600 }));
    await sleep(50);
  });

  it('is ok on the primary through the listener, with the id of the row', async () => {
    const result = await activities.smokeWrite({ listener: listener(), database: 'sales', label: 'smoke' });
    assert.equal(result.ok, true, result.error);
    assert.ok(typeof result.id === 'number' && result.id > 0);
    assert.ok(result.latencyMs >= 0);
    assert.equal((await dataPlane.findSmokeRows(listener(), { database: 'sales', prefix: 'smoke:smoke:' })).length, 1);
  });

  it('is ok:false, with SQL’s reason, while the database is read-only after a failover', async () => {
    await failover('planned');
    await until(() => emulator.world.events.some((event) => event.kind === 'roles-switched'), 'the roles to switch');
    const result = await activities.smokeWrite({ listener: listener(), database: 'sales', label: 'smoke' });
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /read-only/);
    assert.equal(result.id, undefined);
  });

  it('classifies a write to a read-only database as not writable yet, answered by SQL', async () => {
    const failure = await dataPlane
      .insertSmokeRow(instance('westus'), { database: 'sales', payload: 'secondary:1' })
      .then(
        () => assert.fail('the secondary accepted a write'),
        (error: unknown) => error,
      );
    assert.ok(failure instanceof SqlRequestError);
    assert.equal(failure.kind, 'not-writable');
    assert.equal(failure.number, 3906);
    assert.equal(failure.delivery, 'answered');
    assert.match(failure.message, /read-only/);
  });

  it('is ok:false when nothing answers at the listener', async () => {
    const offline = createProbeActivities({
      dataPlane: new MssqlDataPlane({
        authenticationFor: () => ({ kind: 'sql-login', user: 'nobody', password: 'x' }),
        resolve: () => ({ server: '127.0.0.1', port: 1 }),
        encrypt: false,
        writeConnectTimeoutMs: 500,
      }),
    });
    const result = await offline.smokeWrite({ listener: listener(), database: 'sales', label: 'smoke' });
    assert.equal(result.ok, false);
    assert.ok(result.error);
  });
});

describe('httpHealthCheck', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((request, response) => {
      if (request.url === '/healthz') return response.writeHead(200).end('ok');
      if (request.url === '/degraded') return response.writeHead(503).end('no');
      if (request.url === '/login') return response.writeHead(302, { location: '/healthz' }).end();
      // `/slow` never answers within the check's timeout.
      setTimeout(() => response.writeHead(200).end('late'), 2_000).unref();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes when the expected status answers', async () => {
    const result = await activities.httpHealthCheck({ url: `${base}/healthz`, expectStatus: 200, timeoutMs: 1_000 });
    assert.equal(result.ok, true);
    assert.equal(result.status, 200);
    assert.equal(result.error, undefined);
  });

  it('fails, with both statuses, when another status answers', async () => {
    const result = await activities.httpHealthCheck({ url: `${base}/degraded`, expectStatus: 200, timeoutMs: 1_000 });
    assert.equal(result.ok, false);
    assert.equal(result.status, 503);
    assert.match(result.error ?? '', /expected HTTP 200, got 503/);
  });

  it('does not follow a redirect to call it healthy', async () => {
    const result = await activities.httpHealthCheck({ url: `${base}/login`, expectStatus: 200, timeoutMs: 1_000 });
    assert.equal(result.ok, false);
    assert.equal(result.status, 302);
  });

  it('fails, without throwing, when nothing answers within the timeout', async () => {
    const started = Date.now();
    const result = await activities.httpHealthCheck({ url: `${base}/slow`, expectStatus: 200, timeoutMs: 200 });
    assert.equal(result.ok, false);
    assert.equal(result.status, undefined);
    assert.match(result.error ?? '', /no answer within 200 ms/);
    assert.ok(Date.now() - started < 1_500, 'it gave up at the timeout');
  });

  it('fails, without throwing, when the connection is refused', async () => {
    const result = await activities.httpHealthCheck({
      url: 'http://127.0.0.1:1/',
      expectStatus: 200,
      timeoutMs: 1_000,
    });
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /ECONNREFUSED|fetch failed/);
  });
});

describe('drift injected with PATCH /_admin/instances', () => {
  const patch = (name: string, body: unknown) =>
    fetch(`${emulator.armEndpoint}/_admin/instances/${name}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    }));

  beforeEach(async () => {
    emulator.world.load(world());
    await sleep(50);
  });

  it('changes the logins and SQL Agent jobs the instance answers over TDS at once', async () => {
    const answer = await patch('fog-sales-westus', {
      logins: [{ name: 'app_reader', sid: '0x0105000000000009030000001F2E3D4D' }],
      agentJobs: ['nightly-etl'],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.changed, ['logins', 'agentJobs']);
    const logins = await dataPlane.listLogins(instance('westus'));
    assert.deepEqual(
      logins.find((login) => login.name === 'app_reader'),
      { name: 'app_reader', sid: '0x0105000000000009030000001F2E3D4D', type: 'S' },
    );
    assert.deepEqual(await dataPlane.listAgentJobs(instance('westus')), [{ name: 'nightly-etl', enabled: true }]);
    assert.equal(
      (await dataPlane.listLogins(instance('eastus'))).some((login) => login.name === 'app_reader'),
      false,
      'the partner is unchanged: that is the drift',
    );
  });

  it('refuses a malformed change with 400 saying which field, and an unknown instance with 404', async () => {
    const bad = await patch('fog-sales-westus', { logins: [{ name: 'x', sid: 'not-hex' }] });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /logins\.0\.sid/);
    const unknownField = await patch('fog-sales-westus', { colour: 'blue' });
    assert.equal(unknownField.status, 400);
    assert.match(String(unknownField.body.error), /colour/);
    const empty = await patch('fog-sales-westus', {});
    assert.equal(empty.status, 400);
    assert.match(String(empty.body.error), /at least one of/);
    const missing = await patch('fog-nowhere', { vCores: 16 });
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /fog-nowhere/);
  });
});
