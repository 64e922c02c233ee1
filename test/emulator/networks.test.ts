/**
 * Microsoft.Network as the emulator serves it, through the real @azure/arm-network 39 client (api-version
 * 2026-01-01) and raw HTTP: the networks a world derives for its instances (vnet-<location>, subnet mi, nsg-mi-<location>),
 * a declared world's networks, Azure's default rules, and security rule PUT and DELETE as the long-running operations
 * the spec (networkSecurityGroup.json, SecurityRules_CreateOrUpdate and SecurityRules_Delete) makes them.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkManagementClient } from '@azure/arm-network';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const AUTH = 'Bearer fogpilot-emulator-token';
const NETWORK_API = '2026-01-01';

/** The real client, pointed at the emulator over plain HTTP with the emulator's token (as the Sql tests build theirs). */
function networkClient(emulator: Emulator): NetworkManagementClient {
  const client = new NetworkManagementClient(new EmulatorCredential(), emulator.world.spec.subscriptionId, {
    endpoint: emulator.armEndpoint,
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
  // The SDK's bearer policy refuses plain HTTP: the emulator's token goes in another way.
  client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
  client.pipeline.addPolicy({
    name: 'emulator-token',
    sendRequest: (request, next) => {
      request.headers.set('Authorization', AUTH);
      return next(request);
    },
  });
  return client;
}

async function arm(emulator: Emulator, method: string, url: string, body?: unknown) {
  const full = url.startsWith('http') ? url : `${emulator.armEndpoint}${url}`;
  const response = await fetch(full, {
    method,
    headers: { Authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & {
      status?: string;
      error?: { code: string; message: string };
      properties?: Record<string, unknown>;
    },
  };
}

describe('networks a world derives for its instances', () => {
  let emulator: Emulator;
  let client: NetworkManagementClient;
  before(async () => {
    emulator = await startEmulator({ world: { ...defaultWorldSpec(), throttling: { enabled: false } } });
    client = networkClient(emulator);
  });
  after(async () => emulator?.close());

  it('gives each instance of the default world the vnet, subnet and NSG its subnetId names, a 10.N.0.0/16 per location', async () => {
    const east = await client.virtualNetworks.get('rg-fogpilot', 'vnet-eastus');
    const west = await client.virtualNetworks.get('rg-fogpilot', 'vnet-westus');
    assert.deepEqual(east.addressSpace?.addressPrefixes, ['10.1.0.0/16']);
    assert.deepEqual(west.addressSpace?.addressPrefixes, ['10.2.0.0/16']);
    assert.equal(east.location, 'eastus');
    const subnet = await client.subnets.get('rg-fogpilot', 'vnet-eastus', 'mi');
    assert.equal(subnet.addressPrefix, '10.1.0.0/24');
    assert.equal(subnet.provisioningState, 'Succeeded');
    assert.match(subnet.networkSecurityGroup?.id ?? '', /\/networkSecurityGroups\/nsg-mi-eastus$/);
    assert.deepEqual(
      subnet.delegations?.map((delegation) => delegation.serviceName),
      ['Microsoft.Sql/managedInstances'],
    );
    const instance = [...emulator.world.instances.values()].find((entry) => entry.name === 'fog-sales-eastus')!;
    assert.equal(
      subnet.id,
      `${instance.id.split('/providers/')[0]}/providers/Microsoft.Network/virtualNetworks/vnet-eastus/subnets/mi`,
    );
  });

  it("shows Azure's six default rules, and derived rules opening TCP 5022 and 11000-11999 to and from the partner subnet", async () => {
    const nsg = await client.networkSecurityGroups.get('rg-fogpilot', 'nsg-mi-westus');
    assert.deepEqual(
      nsg.defaultSecurityRules?.map((rule) => [rule.name, rule.priority, rule.direction, rule.access]),
      [
        ['AllowVnetInBound', 65000, 'Inbound', 'Allow'],
        ['AllowAzureLoadBalancerInBound', 65001, 'Inbound', 'Allow'],
        ['DenyAllInBound', 65500, 'Inbound', 'Deny'],
        ['AllowVnetOutBound', 65000, 'Outbound', 'Allow'],
        ['AllowInternetOutBound', 65001, 'Outbound', 'Allow'],
        ['DenyAllOutBound', 65500, 'Outbound', 'Deny'],
      ],
    );
    const inbound = nsg.securityRules?.find((rule) => rule.direction === 'Inbound');
    assert.deepEqual(inbound?.sourceAddressPrefixes, ['10.1.0.0/24']);
    assert.deepEqual(inbound?.destinationPortRanges, ['5022', '11000-11999']);
    assert.equal(inbound?.protocol, 'Tcp');
    assert.deepEqual(
      nsg.subnets?.map((subnet) => subnet.id?.split('/virtualNetworks/')[1]),
      ['vnet-westus/subnets/mi'],
    );
  });

  it("answers nothing for a dark region's network resources, as for its instances, and needs a bearer token", async () => {
    const sub = emulator.world.spec.subscriptionId;
    const nsg = `${emulator.armEndpoint}/subscriptions/${sub}/resourceGroups/rg-fogpilot/providers/Microsoft.Network/networkSecurityGroups/nsg-mi-westus?api-version=${NETWORK_API}`;
    assert.equal((await fetch(nsg)).status, 401, 'the front door wants a token for Microsoft.Network too');
    emulator.arm.addFault({ kind: 'region-dark', location: 'westus', hangMs: 0 });
    try {
      await assert.rejects(fetch(nsg, { headers: { Authorization: AUTH } }), 'the connection is dropped');
      assert.equal((await arm(emulator, 'GET', nsg.replace('westus?', 'eastus?'))).status, 200, 'eastus still answers');
    } finally {
      await fetch(`${emulator.armEndpoint}/_admin/faults/westus`, { method: 'DELETE' });
    }
    assert.equal((await arm(emulator, 'GET', nsg)).status, 200);
  });

  it('answers what is not there with 404 (ResourceNotFound for a vnet or NSG, NotFound for a subnet or rule)', async () => {
    const sub = emulator.world.spec.subscriptionId;
    const base = `/subscriptions/${sub}/resourceGroups/rg-fogpilot/providers/Microsoft.Network`;
    const vnet = await arm(emulator, 'GET', `${base}/virtualNetworks/nope?api-version=${NETWORK_API}`);
    assert.equal(vnet.status, 404);
    assert.equal(vnet.body.error?.code, 'ResourceNotFound');
    const subnet = await arm(
      emulator,
      'GET',
      `${base}/virtualNetworks/vnet-eastus/subnets/nope?api-version=${NETWORK_API}`,
    );
    assert.equal(subnet.status, 404);
    assert.equal(subnet.body.error?.code, 'NotFound');
    const rule = await arm(
      emulator,
      'GET',
      `${base}/networkSecurityGroups/nsg-mi-eastus/securityRules/nope?api-version=${NETWORK_API}`,
    );
    assert.equal(rule.status, 404);
    assert.equal(rule.body.error?.code, 'NotFound');
    const version = await arm(emulator, 'GET', `${base}/virtualNetworks/vnet-eastus?api-version=2099-01-01`);
    assert.equal(version.status, 400);
    assert.equal(version.body.error?.code, 'NoRegisteredProviderFound');
  });
});

/** Two declared vnets, each subnet with its own NSG; the west NSG denies everything inbound at priority 4000. */
const declaredWorld = (): WorldSpecInput => ({
  instances: [
    {
      name: 'orders-eastus',
      resourceGroup: 'rg-net',
      location: 'eastus',
      subnetId:
        '/subscriptions/00000000-0000-4000-8000-0000000f0c05/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub-east/subnets/sql',
    },
  ],
  virtualNetworks: [
    {
      name: 'hub-east',
      resourceGroup: 'rg-net',
      location: 'eastus',
      addressPrefixes: ['10.50.0.0/16'],
      subnets: [{ name: 'sql', addressPrefix: '10.50.1.0/24', networkSecurityGroup: 'nsg-east' }],
    },
  ],
  networkSecurityGroups: [
    {
      name: 'nsg-east',
      resourceGroup: 'rg-net',
      location: 'eastus',
      securityRules: [
        {
          name: 'deny-in',
          priority: 4000,
          direction: 'Inbound',
          access: 'Deny',
          protocol: '*',
          sourceAddressPrefix: '*',
          sourcePortRange: '*',
          destinationAddressPrefix: '*',
          destinationPortRange: '*',
        },
      ],
    },
  ],
  timings: { securityRuleSeconds: 10, asyncRetryAfterSeconds: 0 },
  throttling: { enabled: false },
});

describe('security rules, long-running', () => {
  const clock = new ManualClock();
  let emulator: Emulator;
  const rulePath = (rule: string) =>
    `/subscriptions/${emulator.world.spec.subscriptionId}/resourceGroups/rg-net/providers/Microsoft.Network/networkSecurityGroups/nsg-east/securityRules/${rule}?api-version=${NETWORK_API}`;
  const openRule = {
    properties: {
      priority: 200,
      direction: 'Inbound',
      access: 'Allow',
      protocol: 'Tcp',
      sourceAddressPrefix: '10.60.1.0/24',
      sourcePortRange: '*',
      destinationAddressPrefix: '10.50.1.0/24',
      destinationPortRanges: ['5022', '11000-11999'],
    },
  };
  before(async () => {
    emulator = await startEmulator({ world: declaredWorld(), clock });
  });
  beforeEach(() => emulator.world.load(declaredWorld()));
  after(async () => emulator?.close());

  it('serves a declared vnet and NSG as declared, the NSG listing the subnets it is on', async () => {
    const base = `/subscriptions/${emulator.world.spec.subscriptionId}/resourceGroups/rg-net/providers/Microsoft.Network`;
    const vnet = await arm(emulator, 'GET', `${base}/virtualNetworks/hub-east?api-version=${NETWORK_API}`);
    assert.equal(vnet.status, 200);
    assert.deepEqual((vnet.body.properties?.addressSpace as { addressPrefixes: string[] }).addressPrefixes, [
      '10.50.0.0/16',
    ]);
    const nsg = await arm(emulator, 'GET', `${base}/networkSecurityGroups/nsg-east?api-version=${NETWORK_API}`);
    assert.deepEqual(
      (nsg.body.properties?.securityRules as { name: string }[]).map((rule) => rule.name),
      ['deny-in'],
    );
    assert.deepEqual(nsg.body.properties?.subnets, [{ id: `${base}/virtualNetworks/hub-east/subnets/sql` }]);
  });

  it('answers a PUT with 201, the rule Updating and an Azure-AsyncOperation that succeeds once the rule applies', async () => {
    const put = await arm(emulator, 'PUT', rulePath('open-geo'), openRule);
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.equal(put.body.properties?.provisioningState, 'Updating');
    const status = put.headers.get('azure-asyncoperation')!;
    assert.match(
      status,
      /\/providers\/Microsoft\.Network\/locations\/eastus\/operations\/[0-9a-f-]{36}\?api-version=2026-01-01$/,
    );
    assert.equal((await arm(emulator, 'GET', status)).body.status, 'InProgress');
    const nsg = [...emulator.world.securityGroups.values()].find((entry) => entry.name === 'nsg-east')!;
    assert.deepEqual(
      nsg.securityRules.map((rule) => rule.name),
      ['deny-in'],
      'not in force yet',
    );
    clock.advance(10_000);
    assert.equal((await arm(emulator, 'GET', status)).body.status, 'Succeeded');
    const read = await arm(emulator, 'GET', rulePath('open-geo'));
    assert.equal(read.body.properties?.provisioningState, 'Succeeded');
    assert.deepEqual(read.body.properties?.destinationPortRanges, ['5022', '11000-11999']);
    const again = await arm(emulator, 'PUT', rulePath('open-geo'), openRule);
    assert.equal(again.status, 200, 'a PUT of an existing rule is an update');
  });

  it('answers a DELETE with 202 and a Location that answers 202, then 204 once the rule is gone', async () => {
    const deleted = await arm(emulator, 'DELETE', rulePath('deny-in'));
    assert.equal(deleted.status, 202);
    const location = deleted.headers.get('location')!;
    assert.match(location, /\/providers\/Microsoft\.Network\/locations\/eastus\/operationResults\//);
    assert.ok(deleted.headers.get('azure-asyncoperation'));
    assert.equal((await arm(emulator, 'GET', rulePath('deny-in'))).body.properties?.provisioningState, 'Deleting');
    assert.equal((await arm(emulator, 'GET', location)).status, 202);
    clock.advance(10_000);
    assert.equal((await arm(emulator, 'GET', location)).status, 204);
    assert.equal((await arm(emulator, 'GET', rulePath('deny-in'))).status, 404);
    assert.equal((await arm(emulator, 'DELETE', rulePath('deny-in'))).status, 204, 'a rule that is not there: 204');
  });

  it('refuses a second change to the NSG while one runs with 429 RetryableError and Retry-After', async () => {
    assert.equal((await arm(emulator, 'PUT', rulePath('open-geo'), openRule)).status, 201);
    const second = await arm(emulator, 'PUT', rulePath('open-geo-out'), {
      properties: { ...openRule.properties, direction: 'Outbound', priority: 210 },
    });
    assert.equal(second.status, 429);
    assert.equal(second.body.error?.code, 'RetryableError');
    assert.match(second.body.error?.message ?? '', /PutSecurityRuleOperation .* is updating resource .*nsg-east/);
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
  });

  it('refuses a priority outside 100-4096 and a second rule with the same priority and direction', async () => {
    const low = await arm(emulator, 'PUT', rulePath('too-low'), {
      properties: { ...openRule.properties, priority: 99 },
    });
    assert.equal(low.status, 400);
    assert.equal(low.body.error?.code, 'SecurityRuleInvalidPriority');
    const clash = await arm(emulator, 'PUT', rulePath('clash'), {
      properties: { ...openRule.properties, priority: 4000 },
    });
    assert.equal(clash.status, 400);
    assert.equal(clash.body.error?.code, 'SecurityRuleConflict');
    assert.match(clash.body.error?.message ?? '', /deny-in/);
  });
});

describe('security rules through @azure/arm-network', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ world: declaredWorld(), speed: 1_000 });
  });
  after(async () => emulator?.close());

  it("completes the SDK's createOrUpdate and delete pollers, the rule in force in between", async () => {
    const client = networkClient(emulator);
    const rule = await client.securityRules.createOrUpdate(
      'rg-net',
      'nsg-east',
      'open-geo',
      {
        priority: 200,
        direction: 'Inbound',
        access: 'Allow',
        protocol: 'Tcp',
        sourceAddressPrefix: '10.60.1.0/24',
        sourcePortRange: '*',
        destinationAddressPrefix: '10.50.1.0/24',
        destinationPortRanges: ['5022', '11000-11999'],
      },
      { updateIntervalInMs: 20 },
    );
    assert.equal(rule.name, 'open-geo');
    assert.equal(rule.provisioningState, 'Succeeded');
    const rules: string[] = [];
    for await (const entry of client.securityRules.list('rg-net', 'nsg-east')) rules.push(entry.name!);
    assert.deepEqual(rules.sort(), ['deny-in', 'open-geo']);
    await client.securityRules.delete('rg-net', 'nsg-east', 'deny-in', { updateIntervalInMs: 20 });
    const nsg = await client.networkSecurityGroups.get('rg-net', 'nsg-east');
    assert.deepEqual(
      nsg.securityRules?.map((entry) => entry.name),
      ['open-geo'],
    );
  });
});
