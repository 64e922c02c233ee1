import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FailoverGroupView, ManagedInstanceView } from '../../src/domain/azure-state';
import {
  agentJobsCheck,
  failoverPolicyCheck,
  loginsCheck,
  restorePointCheck,
  retentionCheck,
  skuCheck,
  storageCheck,
  vCoresCheck,
  worstStatus,
} from '../../src/workflows/steps/readiness';

function instance(name: string, overrides: Partial<ManagedInstanceView> = {}): ManagedInstanceView {
  return {
    id: `/mi/${name}`,
    name,
    location: name === 'east' ? 'eastus' : 'westus',
    skuName: 'GP_Gen5',
    tier: 'GeneralPurpose',
    family: 'Gen5',
    vCores: 8,
    storageSizeInGB: 256,
    provisioningState: 'Succeeded',
    state: 'Ready',
    fullyQualifiedDomainName: `${name}.example`,
    ...overrides,
  };
}

const east = instance('east');
const west = instance('west');

function view(location: string, overrides: Partial<FailoverGroupView> = {}): FailoverGroupView {
  return {
    id: location,
    name: 'fog',
    location,
    replicationRole: location === 'eastus' ? 'Primary' : 'Secondary',
    replicationState: 'CATCH_UP',
    partnerLocation: location === 'eastus' ? 'westus' : 'eastus',
    primaryManagedInstanceId: '/mi/east',
    partnerManagedInstanceId: '/mi/west',
    readWriteFailoverPolicy: 'Manual',
    ...overrides,
  };
}

describe('readiness drift checks', () => {
  it('takes the worst status, and pass for none', () => {
    assert.equal(worstStatus([]), 'pass');
    assert.equal(worstStatus(['pass', 'warn', 'pass']), 'warn');
    assert.equal(worstStatus(['warn', 'fail', 'pass']), 'fail');
  });

  it('fails a secondary on a lower tier but only warns about a secondary on a higher one', () => {
    const businessCritical = { skuName: 'BC_Gen5', tier: 'BusinessCritical' };
    assert.equal(skuCheck(instance('east', businessCritical), west).status, 'fail');
    assert.equal(skuCheck(east, instance('west', businessCritical)).status, 'warn');
    assert.equal(skuCheck(east, instance('west', { skuName: 'GP_G8IM', family: 'G8IM' })).status, 'warn');
    assert.equal(skuCheck(east, instance('west', { skuName: 'gp_gen5' })).status, 'pass', 'ARM is case-insensitive');
  });

  it('passes a larger secondary for vCores, but warns about any storage difference', () => {
    assert.equal(vCoresCheck(east, instance('west', { vCores: 16 })).status, 'pass');
    assert.equal(vCoresCheck(east, instance('west', { vCores: 4 })).status, 'warn');
    const larger = storageCheck(east, instance('west', { storageSizeInGB: 512 }));
    assert.equal(larger.status, 'warn');
    assert.match(larger.message, /GeoDrInstanceSizeMismatch/);
    assert.match(larger.action!, /512 GB/);
  });

  it('ignores the instances’ own principals and compares SIDs whatever their case', () => {
    const result = loginsCheck(east, west, {
      primary: [
        { name: '##MS_PolicyEventProcessingLogin##', sid: '0xAA', type: 'S' },
        { name: 'NT AUTHORITY\\SYSTEM', sid: '0x01', type: 'U' },
        { name: 'sysadmin', sid: '0x03', type: 'R' },
        { name: 'App', sid: '0x01ab', type: 'S' },
      ],
      secondary: [
        { name: '##MS_PolicyEventProcessingLogin##', sid: '0xBB', type: 'S' },
        { name: 'app', sid: '0x01AB', type: 'S' },
        { name: 'legacy', sid: '0x09', type: 'S' },
      ],
    });
    assert.equal(result.status, 'pass', result.message);
    assert.equal(result.evidence.compared, 1);
    assert.deepEqual(result.evidence.onlyOnSecondary, ['legacy']);
  });

  it('tells to create a missing Entra login from the external provider, which derives the same SID', () => {
    const result = loginsCheck(east, west, {
      primary: [{ name: 'dba@contoso.com', sid: '0x1234', type: 'E' }],
      secondary: [],
    });
    assert.equal(result.status, 'fail');
    assert.match(result.action!, /CREATE LOGIN \[dba@contoso\.com\] FROM EXTERNAL PROVIDER;/);
  });

  it('warns, saying which side and why, when logins or jobs could not be read', () => {
    const logins = loginsCheck(east, west, { primary: [], secondary: 'SqlLoginFailed: login failed' });
    assert.equal(logins.status, 'warn');
    assert.match(logins.message, /west: SqlLoginFailed: login failed/);
    assert.ok(logins.action);
    const jobs = agentJobsCheck(east, west, { primary: 'SqlUnavailable: reset', secondary: [] });
    assert.equal(jobs.status, 'warn');
    assert.match(jobs.message, /east: SqlUnavailable/);
  });

  it('treats PT0S as no retention and compares LTR through the partner database names', () => {
    const links = [
      {
        database: 'sales',
        partnerServer: 'west',
        partnerDatabase: 'sales',
        role: 'PRIMARY',
        replicationState: 'CATCH_UP',
        lagSeconds: 0,
      },
    ];
    const none = { weeklyRetention: 'PT0S', monthlyRetention: 'PT0S', yearlyRetention: 'PT0S', weekOfYear: 0 };
    assert.equal(
      retentionCheck(east, west, { primary: [{ database: 'sales', ...none }], secondary: [] }, links).status,
      'pass',
    );
    const weekly = { ...none, weeklyRetention: 'P4W' };
    const differing = retentionCheck(
      east,
      west,
      { primary: [{ database: 'sales', ...weekly }], secondary: [{ database: 'sales', ...none }] },
      links,
    );
    assert.equal(differing.status, 'warn');
    assert.match(differing.message, /sales \(primary weekly P4W, secondary none\)/);
  });

  it('counts a restore point from the latest backup and treats one from a clock running ahead as fresh', () => {
    const readAt = '2026-01-01T12:00:00.000Z';
    const result = restorePointCheck(
      east,
      {
        readAt,
        backups: [
          { database: 'sales', lastFullBackup: '2026-01-01T00:00:00.000Z', lastLogBackup: '2026-01-01T11:50:00.000Z' },
          { database: 'billing', lastLogBackup: '2026-01-01T12:03:00.000Z' },
          { database: 'archive', lastFullBackup: '2026-01-01T07:00:00.000Z' },
        ],
      },
      'links unknown',
      3_600_000,
    );
    const ages = (result.evidence.databases as { database: string; ageSeconds: number; status: string }[]).map(
      (entry) => [entry.database, entry.ageSeconds, entry.status],
    );
    assert.deepEqual(ages, [
      ['archive', 5 * 3600, 'fail'],
      ['billing', 0, 'pass'],
      ['sales', 600, 'pass'],
    ]);
    assert.equal(result.status, 'fail');
  });

  it('passes a Manual policy and warns about Automatic with its grace period', () => {
    assert.equal(failoverPolicyCheck([view('eastus'), view('westus')]).status, 'pass');
    const automatic = failoverPolicyCheck([
      view('eastus', { readWriteFailoverPolicy: 'Automatic', failoverWithDataLossGracePeriodMinutes: 90 }),
    ]);
    assert.equal(automatic.status, 'warn');
    assert.match(automatic.message, /90 minutes.*1h 30m/);
  });
});
