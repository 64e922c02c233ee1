/**
 * What a client sees of a failover through the mssql adapter against the emulator, and how the adapter reads it as
 * Learn's "Troubleshoot transient connection errors" says: 40613, 40197, 40501, 49918 and connection drops are
 * transient (a read retries them with backoff), 3906 means the database is not writable yet (wait).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { MssqlDataPlane, toSqlRequestError } from '../../src/sql/mssql-data-plane';
import { SqlRequestError, type SqlInstanceTarget } from '../../src/sql/data-plane';
import { classifySqlError } from '../../src/sql/errors';

const SPEED = 20;
let emulator: Emulator;
let dataPlane: MssqlDataPlane;

/**
 * The roles switch 5 simulated seconds (0.25 s here) after the POST, and the switch then runs 60 s (3 s): longer than
 * tedious retries a login refused with 40613 by itself (three times, 0.5 s apart).
 */
function world(): WorldSpecInput {
  return {
    ...defaultWorldSpec(),
    timings: { roleSwitchSeconds: 5, roleFlipSkewSeconds: 60, readOnlyAfterSwitchSeconds: 20 },
    throttling: { enabled: false },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await sleep(5);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const instance = (location: 'eastus' | 'westus'): SqlInstanceTarget => {
  const found = emulator.startLine().instances.find((entry) => entry.location === location)!;
  return { instanceId: found.id, host: found.fullyQualifiedDomainName };
};

const listener = (): SqlInstanceTarget => ({
  instanceId: 'listener',
  host: emulator.startLine().sql.listeners[0]!.fullyQualifiedDomainName,
});

function failover(): void {
  const world = emulator.world;
  world.requestFailover(world.findGroup('fog-sales')!, 'westus', 'planned');
}

const eventSeen = (kind: string) => () => emulator.world.events.some((event) => event.kind === kind);

before(async () => {
  emulator = await startEmulator({ world: world(), speed: SPEED });
  const line = emulator.startLine();
  dataPlane = new MssqlDataPlane({
    authenticationFor: () => ({ kind: 'sql-login', user: line.sql.login.user, password: line.sql.login.password }),
    resolve: (host) => {
      const [server, port] = line.sql.hosts[host]!.split(':');
      return { server: server!, port: Number(port) };
    },
    encrypt: false,
    requestTimeoutMs: 5_000,
    readRetry: { initialDelayMs: 50, maxDelayMs: 200, budgetMs: 5_000 },
  });
});
after(async () => {
  await dataPlane?.close();
  await emulator?.close();
});

describe("the mssql adapter's reading of Azure's errors", () => {
  it('classifies 40613, 40197, 40501, 49918 and a dropped connection as transient, and 3906 as not writable yet', () => {
    for (const number of [40613, 40197, 40501, 49918])
      assert.equal(toSqlRequestError({ name: 'RequestError', number, message: 'x' }, 'reading').kind, 'transient');
    assert.equal(
      toSqlRequestError({ name: 'RequestError', code: 'ECONNRESET', message: 'x' }, 'reading').kind,
      'transient',
    );
    const readOnly = toSqlRequestError({ name: 'RequestError', number: 3906, message: 'read-only' }, 'writing');
    assert.equal(readOnly.kind, 'not-writable');
    assert.equal(readOnly.delivery, 'answered');
    const failure = classifySqlError(readOnly, 'writing a smoke row');
    assert.equal(failure.nonRetryable, false, 'a read-only database after a failover is waited for, not a verdict');
    assert.match(failure.message, /read-only for now/);
  });
});

describe('a failover seen through the mssql adapter', { concurrency: 1 }, () => {
  beforeEach(async () => {
    emulator.world.load(world());
    await dataPlane.close();
    await sleep(20);
  });

  it('sends new connections through the listener to the target from the start: a write there is refused with 3906 before the roles switch', async () => {
    failover();
    assert.ok(!eventSeen('roles-switched')(), 'the roles have not switched yet');
    const failure = await dataPlane.insertSmokeRow(listener(), { database: 'sales', payload: 'early:1' }).then(
      () => assert.fail('the listener still reached the primary'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof SqlRequestError);
    assert.equal(failure.number, 3906);
    assert.equal(failure.kind, 'not-writable');
    assert.ok(!eventSeen('roles-switched')(), 'refused before the switch, by the target');
  });

  it("drops the old primary's sessions at the switch and refuses its logins with 40613 while the switch runs", async () => {
    await dataPlane.listUserDatabases(instance('eastus'));
    const eastus = emulator.tds.get(instance('eastus').instanceId.toLowerCase())!;
    const opened = eastus.requests.logins;
    failover();
    await until(eventSeen('roles-switched'), 'the roles to switch');
    const failure = await dataPlane.insertSmokeRow(instance('eastus'), { database: 'sales', payload: 'old:1' }).then(
      () => assert.fail('the old primary took a write'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof SqlRequestError);
    assert.equal(failure.number, 40613, failure.message);
    assert.equal(failure.kind, 'transient');
    assert.ok(eastus.requests.logins > opened, 'the write needed a new session: the old one was dropped');
  });

  it('retries a read that meets 40197 on the new primary while the switch runs, and answers once it is over', async () => {
    await dataPlane.listUserDatabases(instance('westus'));
    failover();
    await until(eventSeen('roles-switched'), 'the roles to switch');
    const group = emulator.world.findGroup('fog-sales')!;
    assert.ok(emulator.world.switchRunning(group), 'the switch still runs');
    const readings = await dataPlane.getUpdateability(instance('westus'));
    assert.ok(!emulator.world.switchRunning(group), 'answered only after the switch');
    assert.deepEqual(readings.map((reading) => reading.database).sort(), ['inventory', 'sales']);
  });
});
