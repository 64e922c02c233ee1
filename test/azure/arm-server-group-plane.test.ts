/**
 * The ARM side of Azure SQL Database server failover groups: the group's answer at each server in the runbooks'
 * shape, and ArmServerGroupPlane's requests over real HTTP to a stub of ARM (paths, api-version, tracking ids, errors).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import {
  ArmServerGroupPlane,
  databaseNameOfId,
  operationStateOf,
  parseServerChildId,
  toServerGroupView,
  trackingIdOf,
  type ServerFailoverGroupBody,
} from '../../src/azure/arm-server-group-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { ArmRequestError } from '../../src/azure/errors';
import { withArmMeter } from '../../src/azure/arm-call-meter';
import { logicalServerId, serverFailoverGroupId, type GroupIdentity } from '../../src/domain/group-ref';

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const group: GroupIdentity = {
  subscriptionId: SUBSCRIPTION,
  resourceGroup: 'rg-orders',
  name: 'fog-orders',
  kind: 'sqlDatabase',
  servers: { eastus: 'orders-eus', westus: 'orders-wus', northeurope: 'orders-neu' },
};
const serverId = (name: string) => logicalServerId(SUBSCRIPTION, 'rg-orders', name);
const groupAt = (server: string) => serverFailoverGroupId(group, server);
const databaseId = (server: string, name: string) => `${serverId(server)}/databases/${name}`;

/** The group as a server answers it, with `role` for that server and each partner's. */
function body(
  server: string,
  location: string,
  role: 'Primary' | 'Secondary',
  partners: { server: string; location: string; role: 'Primary' | 'Secondary' }[],
  extra: Partial<NonNullable<ServerFailoverGroupBody['properties']>> = {},
): ServerFailoverGroupBody {
  return {
    id: groupAt(server),
    name: 'fog-orders',
    location,
    properties: {
      readWriteEndpoint: { failoverPolicy: 'Manual' },
      readOnlyEndpoint: { failoverPolicy: 'Disabled' },
      replicationRole: role,
      replicationState: 'CATCH_UP',
      partnerServers: partners.map((partner) => ({
        id: serverId(partner.server),
        location: partner.location,
        replicationRole: partner.role,
      })),
      databases: [databaseId(server, 'orders'), databaseId(server, 'billing')],
      ...extra,
    },
  };
}

describe('toServerGroupView', () => {
  it("describes the group from the primary's side: its own id, the first secondary as partner", () => {
    const view = toServerGroupView(
      group,
      'orders-eus',
      body('orders-eus', 'East US', 'Primary', [
        { server: 'orders-wus', location: 'West US', role: 'Secondary' },
        { server: 'orders-neu', location: 'North Europe', role: 'Secondary' },
      ]),
      '2025-01-01',
    );
    assert.equal(view.id, groupAt('orders-eus'));
    assert.equal(view.location, 'eastus');
    assert.equal(view.replicationRole, 'Primary');
    assert.equal(view.replicationState, 'CATCH_UP');
    assert.equal(view.primaryManagedInstanceId, groupAt('orders-eus'));
    assert.equal(view.partnerLocation, 'westus');
    assert.equal(view.partnerRole, 'Secondary');
    assert.equal(view.partnerManagedInstanceId, groupAt('orders-wus'));
    assert.equal(view.readWriteFailoverPolicy, 'Manual');
    assert.equal(view.readOnlyFailoverPolicy, 'Disabled');
    assert.deepEqual(view.server, {
      serverName: 'orders-eus',
      databases: ['orders', 'billing'],
      partners: [
        { serverName: 'orders-wus', serverId: serverId('orders-wus'), location: 'westus', role: 'Secondary' },
        { serverName: 'orders-neu', serverId: serverId('orders-neu'), location: 'northeurope', role: 'Secondary' },
      ],
      apiVersion: '2025-01-01',
    });
  });

  it('describes the group from a secondary: the partner is the primary, wherever ARM lists it', () => {
    const view = toServerGroupView(
      group,
      'orders-neu',
      body('orders-neu', 'North Europe', 'Secondary', [
        { server: 'orders-wus', location: 'West US', role: 'Secondary' },
        { server: 'orders-eus', location: 'East US', role: 'Primary' },
      ]),
    );
    assert.equal(view.id, groupAt('orders-neu'));
    assert.equal(view.location, 'northeurope');
    assert.equal(view.replicationRole, 'Secondary');
    assert.equal(view.primaryManagedInstanceId, groupAt('orders-eus'));
    assert.equal(view.partnerLocation, 'eastus');
    assert.equal(view.partnerRole, 'Primary');
    assert.equal(view.partnerManagedInstanceId, groupAt('orders-eus'));
    assert.equal(view.server?.apiVersion, undefined);
  });

  it('names no primary when a secondary lists none (mid-failover), and takes the first partner as the partner', () => {
    const view = toServerGroupView(
      group,
      'orders-wus',
      body('orders-wus', 'West US', 'Secondary', [{ server: 'orders-eus', location: 'East US', role: 'Secondary' }]),
    );
    assert.equal(view.primaryManagedInstanceId, '');
    assert.equal(view.partnerLocation, 'eastus');
    assert.equal(view.partnerManagedInstanceId, groupAt('orders-eus'));
  });

  it('carries the grace period, the read-only target server and the secondary type when ARM says them', () => {
    const view = toServerGroupView(
      group,
      'orders-eus',
      body('orders-eus', 'eastus', 'Primary', [{ server: 'orders-wus', location: 'westus', role: 'Secondary' }], {
        readWriteEndpoint: { failoverPolicy: 'Automatic', failoverWithDataLossGracePeriodMinutes: 60 },
        readOnlyEndpoint: { failoverPolicy: 'Enabled', targetServer: serverId('orders-wus') },
        secondaryType: 'Geo',
      }),
    );
    assert.equal(view.readWriteFailoverPolicy, 'Automatic');
    assert.equal(view.failoverWithDataLossGracePeriodMinutes, 60);
    assert.equal(view.readOnlyFailoverPolicy, 'Enabled');
    assert.equal(view.secondaryType, 'Geo');
    assert.equal(view.server?.readOnlyTargetServerId, serverId('orders-wus'));
  });

  it("leaves out what ARM leaves out, and takes the server's location from the coordinates when ARM gives none", () => {
    const view = toServerGroupView(group, 'orders-wus', { properties: { replicationRole: 'Secondary' } });
    assert.equal(view.name, 'fog-orders');
    assert.equal(view.location, 'westus');
    assert.equal(view.partnerLocation, '');
    assert.equal(view.partnerManagedInstanceId, '');
    assert.equal('partnerRole' in view, false);
    assert.equal('failoverWithDataLossGracePeriodMinutes' in view, false);
    assert.equal('readOnlyFailoverPolicy' in view, false);
    assert.equal('secondaryType' in view, false);
    assert.deepEqual(view.server, { serverName: 'orders-wus', databases: [], partners: [] });
  });

  it('reads roles in any case, as ARM treats them', () => {
    const view = toServerGroupView(
      group,
      'orders-wus',
      body('orders-wus', 'westus', 'Secondary', [{ server: 'orders-eus', location: 'eastus', role: 'Primary' }], {
        replicationRole: 'secondary',
        partnerServers: [{ id: serverId('orders-eus'), location: 'eastus', replicationRole: 'PRIMARY' }],
      }),
    );
    assert.equal(view.primaryManagedInstanceId, groupAt('orders-eus'));
  });
});

describe('ARM ids of SQL Database resources', () => {
  it("takes a member database's name from its id, and keeps a bare name", () => {
    assert.equal(databaseNameOfId(databaseId('orders-eus', 'orders')), 'orders');
    assert.equal(databaseNameOfId('billing'), 'billing');
  });

  it('parses databases and elastic pools, and refuses anything else without sending it', () => {
    assert.deepEqual(parseServerChildId(`${serverId('orders-eus')}/elasticPools/pool-a`), {
      subscriptionId: SUBSCRIPTION,
      resourceGroup: 'rg-orders',
      server: 'orders-eus',
      type: 'elasticPool',
      name: 'pool-a',
    });
    assert.equal(parseServerChildId(databaseId('orders-eus', 'orders')).type, 'database');
    assert.throws(
      () => parseServerChildId(serverId('orders-eus')),
      (error: unknown) =>
        error instanceof ArmRequestError && error.code === 'InvalidResourceId' && error.delivery === 'not-sent',
    );
  });

  it("spells an elastic pool's free-text operation states as a database's, keeping text it does not know", () => {
    assert.equal(operationStateOf('IN_PROGRESS'), 'InProgress');
    assert.equal(operationStateOf('SUCCEEDED'), 'Succeeded');
    assert.equal(operationStateOf('CANCEL_IN_PROGRESS'), 'CancelInProgress');
    assert.equal(operationStateOf('Canceled'), 'Cancelled');
    assert.equal(operationStateOf('Pending'), 'Pending');
    assert.equal(operationStateOf('Resizing'), 'Resizing');
    assert.equal(operationStateOf(undefined), '');
  });

  it('follows Azure-AsyncOperation before Location, and nothing when the answer is final', () => {
    const headers = (entries: Record<string, string>) => ({
      headers: { get: (name: string) => entries[name.toLowerCase()] },
    });
    assert.equal(
      trackingIdOf(headers({ 'azure-asyncoperation': 'https://a/op', location: 'https://a/loc' }) as never),
      'async:https://a/op',
    );
    assert.equal(trackingIdOf(headers({ location: 'https://a/loc' }) as never), 'location:https://a/loc');
    assert.equal(trackingIdOf(headers({}) as never), undefined);
  });
});

// ── Over HTTP ──────────────────────────────────────────────────────────────────────────────────────────────────────

interface Seen {
  method: string;
  path: string;
  apiVersion: string | null;
  authorization?: string;
  body: string;
}

/** A stub of ARM: answers by `method path` (no query) from `routes`; records every request. */
class StubArm {
  readonly seen: Seen[] = [];
  routes = new Map<string, (request: IncomingMessage, response: ServerResponse, body: string) => void>();
  private server?: Server;
  endpoint = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://stub');
        this.seen.push({
          method: request.method ?? '',
          path: url.pathname,
          apiVersion: url.searchParams.get('api-version'),
          authorization: request.headers.authorization,
          body,
        });
        const route = this.routes.get(`${request.method} ${url.pathname}`);
        if (!route) return json(response, 404, { error: { code: 'ResourceNotFound', message: 'not stubbed' } });
        route(request, response, body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function json(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(value));
}

const groupPath = (server: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-orders/providers/Microsoft.Sql/servers/${server}/failoverGroups/fog-orders`;

describe('ArmServerGroupPlane over HTTP', () => {
  const stub = new StubArm();
  let arm: ArmControlPlane;
  let plane: ArmServerGroupPlane;

  before(async () => {
    await stub.start();
    arm = new ArmControlPlane({
      credential: new EmulatorCredential(),
      endpoint: stub.endpoint,
      requestTimeoutMs: 2_000,
      coalescing: false,
    });
    plane = new ArmServerGroupPlane(arm, { endpoint: stub.endpoint });
  });
  after(() => stub.close());
  beforeEach(() => {
    stub.seen.length = 0;
    stub.routes.clear();
  });

  it("reads the group at a server with the configured api-version, as a GET of its own with the request's time", async () => {
    stub.routes.set(`GET ${groupPath('orders-wus')}`, (_request, response) =>
      json(
        response,
        200,
        body('orders-wus', 'West US', 'Secondary', [{ server: 'orders-eus', location: 'East US', role: 'Primary' }]),
      ),
    );
    const before = Date.now();
    const answer = await plane.getServerFailoverGroup(group, 'orders-wus');
    assert.equal(stub.seen[0]?.apiVersion, '2025-01-01');
    assert.equal(stub.seen[0]?.authorization, 'Bearer fogpilot-emulator-token');
    assert.equal(answer.via, 'direct');
    assert.ok(answer.readAtMs !== undefined && answer.readAtMs >= before);
    assert.equal(answer.value.partnerManagedInstanceId, groupAt('orders-eus'));
    assert.equal(answer.value.server?.apiVersion, '2025-01-01');
  });

  it('sends the api-version it was built with, and says what that version offers', async () => {
    const older = new ArmServerGroupPlane(arm, { endpoint: stub.endpoint, apiVersion: '2022-11-01-preview' });
    assert.equal(older.api.tryPlannedBeforeForcedFailover, false);
    stub.routes.set(`GET ${groupPath('orders-eus')}`, (_request, response) =>
      json(response, 200, body('orders-eus', 'eastus', 'Primary', [])),
    );
    await older.getServerFailoverGroup(group, 'orders-eus');
    assert.equal(stub.seen[0]?.apiVersion, '2022-11-01-preview');
  });

  it('throws ARM\'s error for a group the server does not have, as "answered"', async () => {
    await assert.rejects(
      plane.getServerFailoverGroup(group, 'orders-neu'),
      (error: unknown) =>
        error instanceof ArmRequestError &&
        error.statusCode === 404 &&
        error.code === 'ResourceNotFound' &&
        error.delivery === 'answered',
    );
  });

  it('keeps the Retry-After of a throttled read, and counts the request on the meter', async () => {
    // Another subscription: the 429 holds back every request of its subscription for the Retry-After.
    const throttled = { ...group, subscriptionId: '99999999-1111-2222-3333-444444444444' };
    stub.routes.set(
      `GET ${groupPath('orders-eus').replace(SUBSCRIPTION, throttled.subscriptionId)}`,
      (_request, response) =>
        json(
          response,
          429,
          { error: { code: 'SubscriptionTooManyRequests', message: 'slow down' } },
          { 'retry-after': '7' },
        ),
    );
    const { result, armCalls } = await withArmMeter(() =>
      plane.getServerFailoverGroup(throttled, 'orders-eus').then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    assert.ok(result instanceof ArmRequestError);
    assert.equal(result.statusCode, 429);
    assert.equal(result.code, 'SubscriptionTooManyRequests');
    assert.equal(result.retryAfterMs, 7_000);
    assert.deepEqual(armCalls, { reads: 1, writes: 0, throttled: 1 });
  });

  it('POSTs each action once at the server, following its Azure-AsyncOperation or its Location', async () => {
    let polls = 0;
    stub.routes.set(`POST ${groupPath('orders-wus')}/failover`, (_request, response) => {
      response.writeHead(202, { 'azure-asyncoperation': `${stub.endpoint}/ops/failover-1`, 'retry-after': '1' });
      response.end();
    });
    stub.routes.set(`GET /ops/failover-1`, (_request, response) =>
      json(response, 200, { status: ++polls < 2 ? 'InProgress' : 'Succeeded' }),
    );
    const sent = await plane.beginServerFailover(group, 'orders-wus', 'failover');
    assert.equal(sent.value.trackingId, `async:${stub.endpoint}/ops/failover-1`);
    assert.equal(sent.retryAfterMs, 1_000);
    assert.equal((await plane.getServerFailoverProgress(group, sent.value.trackingId)).value.state, 'InProgress');
    assert.equal((await plane.getServerFailoverProgress(group, sent.value.trackingId)).value.state, 'Succeeded');

    let located = 0;
    stub.routes.set(`POST ${groupPath('orders-wus')}/tryPlannedBeforeForcedFailover`, (_request, response) => {
      response.writeHead(202, { location: `${stub.endpoint}/results/try-1` });
      response.end();
    });
    stub.routes.set(`GET /results/try-1`, (_request, response) => {
      if (++located < 2) {
        response.writeHead(202);
        return response.end();
      }
      json(response, 200, {});
    });
    const tried = await plane.beginServerFailover(group, 'orders-wus', 'tryPlannedBeforeForcedFailover');
    assert.equal(tried.value.trackingId, `location:${stub.endpoint}/results/try-1`);
    assert.equal((await plane.getServerFailoverProgress(group, tried.value.trackingId)).value.state, 'InProgress');
    assert.equal((await plane.getServerFailoverProgress(group, tried.value.trackingId)).value.state, 'Succeeded');

    const posts = stub.seen.filter((request) => request.method === 'POST');
    assert.deepEqual(
      posts.map((request) => [request.path.split('/').at(-1), request.apiVersion]),
      [
        ['failover', '2025-01-01'],
        ['tryPlannedBeforeForcedFailover', '2025-01-01'],
      ],
    );
  });

  it('reads a Location poll that answers with an error as the operation having failed, with its code', async () => {
    stub.routes.set(`GET /results/forced-1`, (_request, response) =>
      json(response, 400, { error: { code: 'PlannedFailoverTimedOut', message: 'timed out contacting the partner' } }),
    );
    const progress = await plane.getServerFailoverProgress(group, `location:${stub.endpoint}/results/forced-1`);
    assert.deepEqual(progress.value, {
      state: 'Failed',
      error: { code: 'PlannedFailoverTimedOut', message: 'timed out contacting the partner' },
    });
  });

  it("reports a 200 to a failover POST as nothing to follow, and a refusal as ARM's error", async () => {
    stub.routes.set(`POST ${groupPath('orders-wus')}/forceFailoverAllowDataLoss`, (_request, response) =>
      json(response, 200, body('orders-wus', 'westus', 'Primary', [])),
    );
    assert.deepEqual((await plane.beginServerFailover(group, 'orders-wus', 'forceFailoverAllowDataLoss')).value, {});
    stub.routes.set(`POST ${groupPath('orders-eus')}/failover`, (_request, response) =>
      json(response, 400, {
        error: {
          code: 'FailoverGroupFailoverRequestOnPrimary',
          message: 'The failover request should be initiated on the secondary server of failover group.',
        },
      }),
    );
    await assert.rejects(
      plane.beginServerFailover(group, 'orders-eus', 'failover'),
      (error: unknown) =>
        error instanceof ArmRequestError &&
        error.code === 'FailoverGroupFailoverRequestOnPrimary' &&
        error.statusCode === 400 &&
        error.method === 'POST',
    );
  });

  it('refuses tryPlannedBeforeForcedFailover without sending it when the api-version lacks it', async () => {
    const older = new ArmServerGroupPlane(arm, { endpoint: stub.endpoint, apiVersion: '2022-11-01-preview' });
    await assert.rejects(
      older.beginServerFailover(group, 'orders-wus', 'tryPlannedBeforeForcedFailover'),
      (error: unknown) =>
        error instanceof ArmRequestError &&
        error.code === 'ActionNotInApiVersion' &&
        error.delivery === 'not-sent' &&
        /2023-02-01-preview/.test(error.message),
    );
    assert.equal(stub.seen.length, 0);
  });

  it('says a POST that met no answer may have reached Azure', async () => {
    stub.routes.set(`POST ${groupPath('orders-wus')}/failover`, (request) => request.socket.destroy());
    await assert.rejects(
      plane.beginServerFailover(group, 'orders-wus', 'failover'),
      (error: unknown) => error instanceof ArmRequestError && error.delivery === 'unknown',
    );
  });

  it('lists user databases through @azure/arm-sql, leaving master out', async () => {
    const server = serverId('orders-eus');
    stub.routes.set(`GET ${server}/databases`, (_request, response) =>
      json(response, 200, {
        value: [
          { id: `${server}/databases/master`, name: 'master', location: 'eastus', sku: { name: 'System' } },
          {
            id: `${server}/databases/orders`,
            name: 'orders',
            location: 'East US',
            sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 2 },
            properties: {
              status: 'Online',
              maxSizeBytes: 34359738368,
              currentServiceObjectiveName: 'GP_Gen5_2',
              currentBackupStorageRedundancy: 'Geo',
              zoneRedundant: false,
            },
          },
          {
            id: `${server}/databases/billing`,
            name: 'billing',
            location: 'eastus',
            sku: { name: 'ElasticPool', tier: 'GeneralPurpose', capacity: 0 },
            properties: { status: 'Online', elasticPoolId: `${server}/elasticPools/pool-a` },
          },
        ],
      }),
    );
    const { value } = await plane.listServerDatabases(server);
    assert.deepEqual(
      value.map((database) => database.name),
      ['orders', 'billing'],
    );
    assert.deepEqual(value[0], {
      id: `${server}/databases/orders`,
      name: 'orders',
      serverName: 'orders-eus',
      location: 'eastus',
      sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', capacity: 2, family: 'Gen5' },
      status: 'Online',
      maxSizeBytes: 34359738368,
      currentServiceObjectiveName: 'GP_Gen5_2',
      currentBackupStorageRedundancy: 'Geo',
      zoneRedundant: false,
    });
    assert.equal(value[1]?.elasticPoolId, `${server}/elasticPools/pool-a`);
  });

  it("PATCHes a database's SKU and follows the operation Azure answers with", async () => {
    const database = databaseId('orders-wus', 'orders');
    const operation = `${stub.endpoint}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Sql/locations/westus/databaseAzureAsyncOperation/op-1`;
    stub.routes.set(`PATCH ${database}`, (_request, response) => {
      response.writeHead(202, { 'azure-asyncoperation': operation, location: `${operation}-result` });
      response.end();
    });
    stub.routes.set(`GET ${new URL(operation).pathname}`, (_request, response) =>
      json(response, 200, { status: 'InProgress' }),
    );
    const { value } = await plane.beginUpdateSku(database, {
      name: 'GP_Gen5',
      tier: 'GeneralPurpose',
      family: 'Gen5',
      capacity: 4,
    });
    assert.equal(value.trackingId, `async:${operation}`);
    const patch = stub.seen.find((request) => request.method === 'PATCH');
    assert.deepEqual(JSON.parse(patch?.body ?? '{}'), {
      sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 4 },
    });
    assert.equal((await plane.getSqlOperationProgress(database, value.trackingId)).value.state, 'InProgress');
  });

  it("reads an elastic pool's operations newest first, and a bare operation name's progress from them", async () => {
    const pool = `${serverId('orders-eus')}/elasticPools/pool-a`;
    stub.routes.set(`GET ${pool}/operations`, (_request, response) =>
      json(response, 200, {
        value: [
          {
            id: `${pool}/operations/old`,
            name: 'old',
            properties: { operation: 'UPDATE', state: 'SUCCEEDED', startTime: '2026-12-01T00:00:00Z' },
          },
          {
            id: `${pool}/operations/new`,
            name: 'new',
            properties: {
              operation: 'UPDATE',
              state: 'FAILED',
              percentComplete: 40,
              startTime: '2026-12-05T00:00:00Z',
              errorDescription: 'the pool could not be resized',
            },
          },
        ],
      }),
    );
    const { value } = await plane.listSqlOperations(pool);
    assert.deepEqual(
      value.map((operation) => operation.name),
      ['new', 'old'],
    );
    const progress = await plane.getSqlOperationProgress(pool, 'new');
    assert.deepEqual(progress.value, {
      state: 'Failed',
      percentComplete: 40,
      error: { message: 'the pool could not be resized' },
    });
    await assert.rejects(plane.getSqlOperationProgress(pool, 'missing'), /operation missing of pool-a not found/);
  });

  it('reads a logical server', async () => {
    const server = serverId('orders-eus');
    stub.routes.set(`GET ${server}`, (_request, response) =>
      json(response, 200, {
        id: server,
        name: 'orders-eus',
        location: 'East US',
        properties: { fullyQualifiedDomainName: 'orders-eus.database.windows.net', state: 'Ready', version: '12.0' },
      }),
    );
    assert.deepEqual((await plane.getLogicalServer(server)).value, {
      id: server,
      name: 'orders-eus',
      location: 'eastus',
      fullyQualifiedDomainName: 'orders-eus.database.windows.net',
      state: 'Ready',
      version: '12.0',
    });
  });
});
