/**
 * What a failover group needs of its pair beyond names and sizes, as the emulator checks it at creation and serves it
 * for a runbook to check first: customer-managed TDE (the primary's protector key registered on the partner, else
 * `KeyMaterialNotFoundOnRemoteServer`) and networks that let the pair replicate (else
 * `InstanceFailoverGroupIncorrectNetworkingConfiguration`, with the rule that blocks), read through the real
 * `@azure/arm-sql` and `@azure/arm-network` clients, the NSG opened with the network client as the remedy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkManagementClient } from '@azure/arm-network';
import { SqlManagementClient } from '@azure/arm-sql';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { establishWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const SUBSCRIPTION = '00000000-0000-4000-8000-0000000f0c05';
const RG = 'rg-fogpilot';
const AUTH = 'Bearer fogpilot-emulator-token';
const KEY = 'https://fog-vault.vault.azure.net/keys/tde-crm/0123456789abcdef0123456789abcdef';
const OTHER_KEY = 'https://fog-vault.vault.azure.net/keys/tde-other/fedcba9876543210fedcba9876543210';

/** Adds the emulator's token to a client of the real SDK over plain HTTP (the SDK's bearer policy refuses HTTP). */
function withEmulatorToken<T extends { pipeline: SqlManagementClient['pipeline'] }>(client: T): T {
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

const clientOptions = (emulator: Emulator) => ({
  endpoint: emulator.armEndpoint,
  allowInsecureConnection: true,
  retryOptions: { maxRetries: 0 },
});

const instanceId = (name: string) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/managedInstances/${name}`;

async function createGroup(
  emulator: Emulator,
  primary: string,
  partner: string,
  location: string,
  partnerLocation: string,
) {
  const response = await fetch(
    `${emulator.armEndpoint}/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/fog-crm?api-version=2022-05-01-preview`,
    {
      method: 'PUT',
      headers: { Authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({
        properties: {
          readWriteEndpoint: { failoverPolicy: 'Manual' },
          readOnlyEndpoint: { failoverPolicy: 'Disabled' },
          partnerRegions: [{ location: partnerLocation }],
          managedInstancePairs: [
            { primaryManagedInstanceId: instanceId(primary), partnerManagedInstanceId: instanceId(partner) },
          ],
        },
      }),
    },
  );
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

function world(change: (spec: WorldSpecInput) => void): WorldSpecInput {
  const spec: WorldSpecInput = {
    ...establishWorldSpec(),
    timings: { asyncRetryAfterSeconds: 0 },
    throttling: { enabled: false },
  };
  change(spec);
  return spec;
}

const instance = (spec: WorldSpecInput, name: string) => spec.instances.find((entry) => entry.name === name)!;

describe('customer-managed TDE', () => {
  let emulator: Emulator;
  let client: SqlManagementClient;
  before(async () => {
    emulator = await startEmulator({
      world: world((spec) => {
        instance(spec, 'fog-crm-eastus').tdeProtector = { keyUri: KEY };
        instance(spec, 'fog-crm-westus').keys = [OTHER_KEY];
        instance(spec, 'fog-crm-northeurope').keys = [KEY];
        instance(spec, 'fog-crm-westus').timezoneId = 'Pacific Standard Time';
      }),
      clock: new ManualClock(),
    });
    client = withEmulatorToken(
      new SqlManagementClient(new EmulatorCredential(), SUBSCRIPTION, clientOptions(emulator)),
    );
  });
  after(async () => emulator?.close());

  it('reads the protector of an instance with a Key Vault key, and of one with the service-managed key', async () => {
    const cmk = await client.managedInstanceEncryptionProtectors.get(RG, 'fog-crm-eastus', 'current');
    assert.equal(cmk.serverKeyType, 'AzureKeyVault');
    assert.equal(cmk.uri, KEY);
    assert.equal(cmk.serverKeyName, 'fog-vault_tde-crm_0123456789abcdef0123456789abcdef');
    assert.match(cmk.thumbprint ?? '', /^[0-9A-F]{40}$/);
    assert.equal(cmk.autoRotationEnabled, false);
    const managed = await client.managedInstanceEncryptionProtectors.get(RG, 'fog-crm-westus', 'current');
    assert.equal(managed.serverKeyType, 'ServiceManaged');
    assert.equal(managed.serverKeyName, 'ServiceManaged');
    const instanceBody = await client.managedInstances.get(RG, 'fog-crm-eastus');
    assert.equal(instanceBody.keyId, KEY);
    assert.equal(instanceBody.timezoneId, 'UTC');
    assert.equal((await client.managedInstances.get(RG, 'fog-crm-westus')).timezoneId, 'Pacific Standard Time');
  });

  it("lists the keys registered on an instance: the service-managed key, its own keys and its protector's", async () => {
    const keys = [];
    for await (const key of client.managedInstanceKeys.listByInstance(RG, 'fog-crm-eastus')) keys.push(key);
    assert.deepEqual(
      keys.map((key) => [key.name, key.serverKeyType, key.uri]),
      [
        ['ServiceManaged', 'ServiceManaged', undefined],
        ['fog-vault_tde-crm_0123456789abcdef0123456789abcdef', 'AzureKeyVault', KEY],
      ],
    );
  });

  it("refuses a partner without the primary's protector key with KeyMaterialNotFoundOnRemoteServer, naming the key; accepts one that has it", async () => {
    const refused = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-westus', 'eastus', 'westus');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error?.code, 'KeyMaterialNotFoundOnRemoteServer');
    assert.ok(refused.body.error?.message.includes(KEY), refused.body.error?.message);
    assert.ok(refused.body.error?.message.includes(OTHER_KEY), 'says which keys the partner has');
    const accepted = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-northeurope', 'eastus', 'northeurope');
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  });

  it('lists the databases of an instance: its own, then, in a group, the group’s on both sides', async () => {
    const names = async (mi: string) => {
      const found: [string, string][] = [];
      for await (const database of client.managedDatabases.listByInstance(RG, mi))
        found.push([database.name!, database.status!]);
      return found;
    };
    // The previous test created fog-crm (eastus → northeurope): seeding has not begun on the clock that stands still.
    assert.deepEqual(await names('fog-crm-eastus'), [
      ['crm', 'Online'],
      ['billing', 'Online'],
    ]);
    assert.deepEqual(await names('fog-crm-northeurope'), [
      ['crm', 'Restoring'],
      ['billing', 'Restoring'],
    ]);
    assert.deepEqual(await names('fog-crm-centralus'), []);
    const crm = await client.managedDatabases.get(RG, 'fog-crm-northeurope', 'crm');
    assert.equal(crm.status, 'Restoring');
    assert.equal(crm.defaultSecondaryLocation, 'East US');
    assert.equal(crm.type, 'Microsoft.Sql/managedInstances/databases');
  });
});

describe('networks that do not let the pair replicate', () => {
  it('refuses subnets whose address ranges overlap, saying which', async () => {
    const overlapping = (name: string, location: string) => ({
      name: `vnet-${location}`,
      resourceGroup: RG,
      location,
      addressPrefixes: ['10.9.0.0/16'],
      subnets: [{ name: 'mi', addressPrefix: '10.9.0.0/24' }],
    });
    const emulator = await startEmulator({
      world: world((spec) => {
        spec.virtualNetworks = [overlapping('east', 'eastus'), overlapping('west', 'westus')];
      }),
      clock: new ManualClock(),
    });
    try {
      const refused = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-westus', 'eastus', 'westus');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error?.code, 'InstanceFailoverGroupIncorrectNetworkingConfiguration');
      assert.match(
        refused.body.error?.message ?? '',
        /overlap: fog-crm-eastus is in mi \(10\.9\.0\.0\/24\) and fog-crm-westus in mi \(10\.9\.0\.0\/24\)/,
      );
    } finally {
      await emulator.close();
    }
  });

  it('refuses an NSG whose rule denies the redirect ports inbound, naming the rule; the group is created once an Allow rule with a lower priority number applies', async () => {
    const clock = new ManualClock();
    const emulator = await startEmulator({
      world: world((spec) => {
        // The secondary's NSG as the world declares it (so the emulator derives no rules into it): Azure's default
        // rules would let the partner vnet in, but a Deny above them closes the redirect range.
        spec.networkSecurityGroups = [
          {
            name: 'nsg-mi-westus',
            resourceGroup: RG,
            location: 'westus',
            securityRules: [
              {
                name: 'deny-redirect-in',
                priority: 300,
                direction: 'Inbound',
                access: 'Deny',
                protocol: 'Tcp',
                sourceAddressPrefix: '*',
                sourcePortRange: '*',
                destinationAddressPrefix: '*',
                destinationPortRange: '11000-11999',
              },
            ],
          },
        ];
        spec.timings = { ...spec.timings, securityRuleSeconds: 10 };
      }),
      clock,
    });
    try {
      const refused = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-westus', 'eastus', 'westus');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error?.code, 'InstanceFailoverGroupIncorrectNetworkingConfiguration');
      const message = refused.body.error?.message ?? '';
      assert.match(
        message,
        /TCP 11000-11999 from fog-crm-eastus's subnet 10\.1\.0\.0\/24 to fog-crm-westus's subnet 10\.2\.0\.0\/24 is denied inbound by nsg-mi-westus rule deny-redirect-in \(priority 300, Deny\)/,
      );
      assert.doesNotMatch(message, /TCP 5022 from/, '5022 is open (AllowVnetInBound: the vnets are peered)');

      const network = withEmulatorToken(
        new NetworkManagementClient(new EmulatorCredential(), SUBSCRIPTION, clientOptions(emulator)),
      );
      const subnet = await network.subnets.get(RG, 'vnet-eastus', 'mi');
      const pending = network.securityRules.createOrUpdate(
        RG,
        'nsg-mi-westus',
        'allow-geo-replication-in',
        {
          priority: 200,
          direction: 'Inbound',
          access: 'Allow',
          protocol: 'Tcp',
          sourceAddressPrefix: subnet.addressPrefix,
          sourcePortRange: '*',
          destinationAddressPrefix: '*',
          destinationPortRanges: ['5022', '11000-11999'],
        },
        { updateIntervalInMs: 10 },
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const early = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-westus', 'eastus', 'westus');
      assert.equal(
        early.body.error?.code,
        'InstanceFailoverGroupIncorrectNetworkingConfiguration',
        'not until the rule applies',
      );
      clock.advance(10_000);
      const rule = await pending;
      assert.equal(rule.provisioningState, 'Succeeded');
      const created = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-westus', 'eastus', 'westus');
      assert.equal(created.status, 201, JSON.stringify(created.body));
    } finally {
      await emulator.close();
    }
  });

  it('refuses an outbound Deny at the primary, and evaluates by priority: a Deny below an Allow does not count', async () => {
    const emulator = await startEmulator({
      world: world((spec) => {
        spec.networkSecurityGroups = [
          {
            name: 'nsg-mi-eastus',
            resourceGroup: RG,
            location: 'eastus',
            securityRules: [
              {
                name: 'allow-5022-out',
                priority: 100,
                direction: 'Outbound',
                access: 'Allow',
                protocol: 'Tcp',
                sourceAddressPrefix: '*',
                sourcePortRange: '*',
                destinationAddressPrefix: 'VirtualNetwork',
                destinationPortRange: '5022',
              },
              {
                name: 'deny-all-out',
                priority: 4096,
                direction: 'Outbound',
                access: 'Deny',
                protocol: '*',
                sourceAddressPrefix: '*',
                sourcePortRange: '*',
                destinationAddressPrefix: '*',
                destinationPortRange: '*',
              },
            ],
          },
        ];
      }),
      clock: new ManualClock(),
    });
    try {
      const refused = await createGroup(emulator, 'fog-crm-eastus', 'fog-crm-westus', 'eastus', 'westus');
      assert.equal(refused.body.error?.code, 'InstanceFailoverGroupIncorrectNetworkingConfiguration');
      const message = refused.body.error?.message ?? '';
      assert.match(
        message,
        /TCP 11000-11999 from fog-crm-eastus's subnet .* is denied outbound by nsg-mi-eastus rule deny-all-out \(priority 4096, Deny\)/,
      );
      assert.doesNotMatch(message, /TCP 5022 from fog-crm-eastus/, 'allow-5022-out decides 5022 first');
    } finally {
      await emulator.close();
    }
  });
});
