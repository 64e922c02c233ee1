/**
 * The checks of a whole pair (pure functions of what was read): each passes a healthy pair and catches a planted fault
 * with its evidence and what to do.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceSideEvidence, PairEvidence } from '../../src/activities';
import type { ManagedInstanceView } from '../../src/domain/azure-state';
import {
  evaluateGroupPrerequisites,
  evaluatePairChecks,
  maintenanceWindowsCheck,
  sameSettingCheck,
  standbyReadsCheck,
  tdeKeysCheck,
} from '../../src/workflows/steps/pair-checks';

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const maintenance = (window: string) =>
  `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/${window}`;

function instance(location: string, overrides: Partial<ManagedInstanceView> = {}): ManagedInstanceView {
  return {
    id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Sql/managedInstances/mi-${location}`,
    name: `mi-${location}`,
    location,
    skuName: 'GP_Gen5',
    tier: 'GeneralPurpose',
    vCores: 8,
    storageSizeInGB: 256,
    provisioningState: 'Succeeded',
    state: 'Ready',
    fullyQualifiedDomainName: `mi-${location}.zone1.database.windows.net`,
    dnsZone: 'zone1',
    collation: 'SQL_Latin1_General_CP1_CI_AS',
    timezoneId: 'UTC',
    maintenanceConfigurationId: maintenance(location === 'eastus' ? 'SQL_EastUS_MI_1' : 'SQL_WestUS_MI_2'),
    ...overrides,
  };
}

const PREFIX: Record<string, string> = { eastus: '10.1.0.0/24', westus: '10.2.0.0/24' };

function sideOf(view: ManagedInstanceView, overrides: Partial<InstanceSideEvidence> = {}): InstanceSideEvidence {
  return {
    instance: view,
    operationsInFlight: [],
    databases: { value: [] },
    groups: [],
    tde: {
      value: {
        protector: { serverKeyType: 'ServiceManaged' },
        keys: [{ name: 'ServiceManaged', serverKeyType: 'ServiceManaged' }],
      },
    },
    network: {
      value: {
        subnet: { id: `/subnets/${view.location}`, name: 'mi', addressPrefixes: [PREFIX[view.location]!] },
      },
    },
    ...overrides,
  };
}

function pair(primary = sideOf(instance('eastus')), secondary = sideOf(instance('westus'))): PairEvidence {
  return { primary, secondary, armCalls: { reads: 0, writes: 0, throttled: 0 } };
}

const SETTINGS = { name: 'fog-crm', readOnlyFailoverPolicy: 'Disabled', secondaryType: 'Geo' };

describe('checks of the whole pair', () => {
  it('passes a healthy pair on every check', () => {
    const checks = evaluatePairChecks(pair(), SETTINGS);
    assert.deepEqual(
      checks.filter((check) => check.status !== 'pass').map((check) => `${check.name}: ${check.message}`),
      [],
    );
  });

  it('catches a Key Vault protector the partner does not know, after a rotation on one side', () => {
    const key = 'https://vault-east.vault.azure.net/keys/tde/2';
    const primary = sideOf(instance('eastus'), {
      tde: {
        value: {
          protector: { serverKeyType: 'AzureKeyVault', uri: key },
          keys: [{ name: 'vault-east_tde_2', serverKeyType: 'AzureKeyVault', uri: key }],
        },
      },
    });
    const secondary = sideOf(instance('westus'), {
      tde: {
        value: {
          protector: { serverKeyType: 'ServiceManaged' },
          keys: [{ name: 'old', serverKeyType: 'AzureKeyVault', uri: 'https://vault-east.vault.azure.net/keys/tde/1' }],
        },
      },
    });
    const check = tdeKeysCheck(primary, secondary);
    assert.equal(check.status, 'fail');
    assert.match(check.message, /KeyMaterialNotFoundOnRemoteServer/);
    assert.match(check.message, /tde\/2 is not a key of mi-westus/);
    assert.match(check.action ?? '', /az sql mi key create/);
    const known = sideOf(instance('westus'), {
      tde: {
        value: {
          protector: { serverKeyType: 'ServiceManaged' },
          keys: [{ name: 'k', serverKeyType: 'AzureKeyVault', uri: key }],
        },
      },
    });
    assert.equal(tdeKeysCheck(primary, known).status, 'pass');
  });

  it('fails different collations or time zones, and warns when they were not reported', () => {
    const east = instance('eastus');
    assert.equal(
      sameSettingCheck('pair-collation', east, instance('westus', { collation: 'Latin1_General_100_CS_AS' })).status,
      'fail',
    );
    const zone = sameSettingCheck('pair-time-zone', east, instance('westus', { timezoneId: 'Pacific Standard Time' }));
    assert.equal(zone.status, 'fail');
    assert.match(zone.message, /Pacific Standard Time/);
    assert.equal(
      sameSettingCheck('pair-time-zone', east, instance('westus', { timezoneId: undefined })).status,
      'warn',
    );
  });

  it('warns when both instances are patched in the same window, the default one included', () => {
    const same = maintenanceWindowsCheck(
      instance('eastus'),
      instance('westus', { maintenanceConfigurationId: maintenance('SQL_EastUS_MI_1') }),
    );
    assert.equal(same.status, 'warn');
    const defaults = maintenanceWindowsCheck(
      instance('eastus', { maintenanceConfigurationId: maintenance('SQL_Default') }),
      instance('westus', { maintenanceConfigurationId: maintenance('SQL_Default') }),
    );
    assert.equal(defaults.status, 'warn');
  });

  it('fails a network it may not read as a prerequisite, and only warns of it as a readiness finding', () => {
    const unreadable = sideOf(instance('westus'), { network: { error: 'AuthorizationFailed on the vnet' } });
    const asPrerequisite = evaluatePairChecks(pair(undefined, unreadable), SETTINGS);
    const asFinding = evaluatePairChecks(pair(undefined, unreadable), SETTINGS, 'warn');
    assert.equal(asPrerequisite.find((check) => check.name === 'pair-network')?.status, 'fail');
    assert.equal(asFinding.find((check) => check.name === 'pair-network')?.status, 'warn');
    assert.match(asFinding.find((check) => check.name === 'pair-network')?.message ?? '', /AuthorizationFailed/);
  });

  it('fails a Standby secondary that the read-only endpoint would send reads to', () => {
    assert.equal(
      standbyReadsCheck({ ...SETTINGS, secondaryType: 'Standby', readOnlyFailoverPolicy: 'Enabled' }).status,
      'fail',
    );
    assert.equal(standbyReadsCheck({ ...SETTINGS, secondaryType: 'Standby' }).status, 'pass');
  });
});

describe('prerequisites of a new group', () => {
  it('refuses instances in one region, in another group, or of different storage sizes', () => {
    const other = {
      id: '/x/instanceFailoverGroups/fog-old',
      name: 'fog-old',
      location: 'westus',
      replicationRole: 'Secondary',
      replicationState: 'CATCH_UP',
      partnerLocation: 'centralus',
      primaryManagedInstanceId: '/some/other',
      partnerManagedInstanceId: instance('westus').id,
      readWriteFailoverPolicy: 'Manual',
    };
    const { checks, alreadyEstablished } = evaluateGroupPrerequisites(
      pair(sideOf(instance('eastus')), sideOf(instance('westus', { storageSizeInGB: 512 }), { groups: [other] })),
      SETTINGS,
    );
    assert.equal(alreadyEstablished, false);
    const failed = checks.filter((check) => check.status === 'fail').map((check) => check.name);
    assert.deepEqual(failed, ['pair-not-in-group', 'pair-sizes']);
    const sizes = checks.find((check) => check.name === 'pair-sizes')!;
    assert.match(sizes.action ?? '', /--storage 256GB/);
  });

  it('takes the group already between the two as the end state, its findings as warnings', () => {
    const ours = {
      id: '/x/instanceFailoverGroups/fog-crm',
      name: 'fog-crm',
      location: 'eastus',
      replicationRole: 'Primary',
      replicationState: 'SEEDING',
      partnerLocation: 'westus',
      primaryManagedInstanceId: instance('eastus').id,
      partnerManagedInstanceId: instance('westus').id,
      readWriteFailoverPolicy: 'Manual',
    };
    const { checks, alreadyEstablished } = evaluateGroupPrerequisites(
      pair(
        sideOf(instance('eastus'), { groups: [ours] }),
        sideOf(instance('westus', { vCores: 4 }), { groups: [ours], databases: { value: [{ id: 'x', name: 'crm' }] } }),
      ),
      SETTINGS,
    );
    assert.equal(alreadyEstablished, true);
    assert.ok(!checks.some((check) => check.status === 'fail'));
    assert.ok(!checks.some((check) => check.name === 'pair-secondary-empty'), 'a seeded secondary holds databases');
    assert.equal(checks.find((check) => check.name === 'pair-sizes')?.status, 'warn');
  });
});
