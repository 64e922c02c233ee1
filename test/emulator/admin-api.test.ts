import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec } from '../../src/emulator/world-spec';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ speed: 100 });
});
after(async () => emulator?.close());

const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${emulator.armEndpoint}/_admin${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
/** ARM wants a bearer token (the one EmulatorCredential gives); the admin API does not. */
const bearer = { authorization: 'Bearer fogpilot-emulator-token' };
const arm = (url: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { ...bearer, ...init.headers } });
const groupUrl = (location: string) =>
  `${emulator.armEndpoint}/subscriptions/${emulator.world.spec.subscriptionId}/resourceGroups/rg-fogpilot/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/fog-sales?api-version=2022-05-01-preview`;

describe('emulator admin API', () => {
  it('loads a world, and refuses one that does not hold together, saying why', async () => {
    const spec = defaultWorldSpec();
    spec.groups![0]!.name = 'fog-orders';
    assert.equal((await admin('PUT', '/world', spec)).status, 200);
    assert.deepEqual(
      ((await admin('GET', '/world')).body.groups as { name: string }[]).map((group) => group.name),
      ['fog-orders'],
    );
    const broken = await admin('PUT', '/world', { instances: [] });
    assert.equal(broken.status, 400);
    assert.match(String(broken.body.error), /instances/);
    assert.equal((await admin('PUT', '/world', defaultWorldSpec())).status, 200);
  });

  it('injects an HTTP fault for a number of requests, lists it, and clears it', async () => {
    const added = await admin('POST', '/faults', {
      kind: 'throttle',
      count: 2,
      retryAfterSeconds: 4,
      match: { method: 'GET' },
    });
    assert.equal(added.status, 201);
    assert.equal((await admin('GET', '/faults')).body.http instanceof Array, true);
    const throttled = await arm(groupUrl('eastus'));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '4');
    assert.equal((await arm(groupUrl('eastus'))).status, 429);
    assert.equal((await arm(groupUrl('eastus'))).status, 200, 'the burst is over after two');
    await admin('POST', '/faults', { kind: 'error', status: 503 });
    assert.equal((await arm(groupUrl('eastus'))).status, 503);
    assert.equal((await admin('DELETE', '/faults')).status, 200);
    assert.equal((await arm(groupUrl('eastus'))).status, 200);
  });

  it('refuses a fault it does not know, naming the problem', async () => {
    const refused = await admin('POST', '/faults', { kind: 'meteor-strike' });
    assert.equal(refused.status, 400);
    assert.match(String(refused.body.error), /kind/);
  });

  it('darkens a region and restores it', async () => {
    await admin('POST', '/faults', { kind: 'region-dark', location: 'East US', hangMs: 10 });
    await assert.rejects(arm(groupUrl('eastus')));
    assert.equal((await arm(groupUrl('westus'))).status, 200);
    await admin('DELETE', '/faults/eastus');
    assert.equal((await arm(groupUrl('eastus'))).status, 200);
  });

  it('reports failover counts and the order of operations as invariants', async () => {
    await admin('PUT', '/world', defaultWorldSpec());
    const post = await arm(groupUrl('westus').replace('?api-version', '/failover?api-version'), { method: 'POST' });
    assert.equal(post.status, 202);
    const refused = await arm(groupUrl('eastus').replace('?api-version', '/failover?api-version'), {
      method: 'POST',
    });
    assert.equal(refused.status, 409);
    const invariants = (await admin('GET', '/invariants')).body as {
      violations: string[];
      failovers: Record<string, unknown>;
      events: { kind: string }[];
    };
    assert.deepEqual(invariants.violations, []);
    assert.deepEqual(invariants.failovers['fog-sales'], {
      received: 2,
      accepted: 1,
      refused: 1,
      acceptedTo: { westus: 1 },
    });
    assert.deepEqual(
      invariants.events.map((event) => event.kind),
      // The listener's DNS moves when the failover is accepted, before the roles switch.
      ['world-loaded', 'failover-requested', 'listener-moved', 'failover-refused'],
    );
  });
});
