import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeGroupRoles, type FailoverGroupView, type ManagedInstanceView } from '../../src/domain/azure-state';
import {
  evaluatePlannedFailoverGates,
  secondaryScaleTarget,
  type PreflightSnapshot,
} from '../../src/workflows/steps/preflight';

function instance(
  name: string,
  location: string,
  vCores: number,
  storageSizeInGB: number,
  state = 'Ready',
): ManagedInstanceView {
  return {
    id: `/mi/${name}`,
    name,
    location,
    skuName: 'GP_Gen5',
    tier: 'GeneralPurpose',
    vCores,
    storageSizeInGB,
    provisioningState: 'Succeeded',
    state,
    fullyQualifiedDomainName: `${name}.example`,
  };
}

function snapshot(overrides: Partial<PreflightSnapshot> = {}): PreflightSnapshot {
  const views: FailoverGroupView[] = [
    {
      id: 'a',
      name: 'fog',
      location: 'eastus',
      replicationRole: 'Primary',
      replicationState: 'CATCH_UP',
      partnerLocation: 'westus',
      partnerRole: 'Secondary',
      primaryManagedInstanceId: '/mi/a',
      partnerManagedInstanceId: '/mi/b',
      readWriteFailoverPolicy: 'Manual',
    },
    {
      id: 'b',
      name: 'fog',
      location: 'westus',
      replicationRole: 'Secondary',
      replicationState: 'CATCH_UP',
      partnerLocation: 'eastus',
      partnerRole: 'Primary',
      primaryManagedInstanceId: '/mi/a',
      partnerManagedInstanceId: '/mi/b',
      readWriteFailoverPolicy: 'Manual',
    },
  ];
  return {
    views,
    summary: summarizeGroupRoles(views),
    targetLocation: 'westus',
    primary: { instance: instance('a', 'eastus', 8, 256), operationsInFlight: [] },
    secondary: { instance: instance('b', 'westus', 8, 256), operationsInFlight: [] },
    links: [
      {
        database: 'sales',
        partnerServer: 'b',
        partnerDatabase: 'sales',
        role: 'PRIMARY',
        replicationState: 'CATCH_UP',
        lagSeconds: 2,
      },
    ],
    maxLagSeconds: 30,
    scaleSecondary: 'match',
    ...overrides,
  };
}

const statusOf = (gates: ReturnType<typeof evaluatePlannedFailoverGates>, name: string) =>
  gates.find((entry) => entry.name === name)?.status;

describe('planned failover gates', () => {
  it('all pass for a healthy, synchronizing, equal pair', () => {
    const gates = evaluatePlannedFailoverGates(snapshot());
    assert.deepEqual(
      gates.filter((entry) => entry.status !== 'pass'),
      [],
    );
    assert.equal(gates.length, 9);
  });

  it('fail the target gate when the target is already primary, saying what to do', () => {
    const gates = evaluatePlannedFailoverGates(snapshot({ targetLocation: 'eastus' }));
    const target = gates.find((entry) => entry.name === 'target-is-secondary');
    assert.equal(target?.status, 'fail');
    assert.match(target.action!, /other region|failback/);
  });

  it('pass a smaller secondary when it will be matched, and fail it when scaling is skipped', () => {
    const smaller = { secondary: { instance: instance('b', 'westus', 4, 256), operationsInFlight: [] } };
    const matched = evaluatePlannedFailoverGates(snapshot(smaller));
    assert.equal(statusOf(matched, 'secondary-size'), 'pass');
    assert.deepEqual(matched.find((entry) => entry.name === 'secondary-size')?.evidence.scaleTo, {
      vCores: 8,
      storageSizeInGB: 256,
    });
    assert.equal(
      statusOf(evaluatePlannedFailoverGates(snapshot({ ...smaller, scaleSecondary: 'skip' })), 'secondary-size'),
      'fail',
    );
  });

  it('treat an unknown lag as a failure, not as zero', () => {
    const gates = evaluatePlannedFailoverGates(
      snapshot({
        links: [
          {
            database: 'sales',
            partnerServer: 'b',
            partnerDatabase: 'sales',
            role: 'PRIMARY',
            replicationState: 'CATCH_UP',
            lagSeconds: null,
          },
        ],
      }),
    );
    assert.equal(statusOf(gates, 'replication-lag'), 'fail');
  });

  it('fail an instance that is not Ready', () => {
    const gates = evaluatePlannedFailoverGates(
      snapshot({ primary: { instance: instance('a', 'eastus', 8, 256, 'Stopped'), operationsInFlight: [] } }),
    );
    assert.equal(statusOf(gates, 'primary-ready'), 'fail');
  });

  it('scale the secondary to the larger of each dimension, or not at all', () => {
    assert.deepEqual(secondaryScaleTarget(instance('a', 'e', 8, 512), instance('b', 'w', 4, 256)), {
      vCores: 8,
      storageSizeInGB: 512,
    });
    assert.deepEqual(secondaryScaleTarget(instance('a', 'e', 8, 256), instance('b', 'w', 16, 128)), {
      vCores: 16,
      storageSizeInGB: 256,
    });
    assert.equal(secondaryScaleTarget(instance('a', 'e', 8, 256), instance('b', 'w', 8, 256)), undefined);
  });
});
