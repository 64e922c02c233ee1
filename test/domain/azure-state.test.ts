import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyReplicationState, summarizeGroupRoles, type FailoverGroupView } from '../../src/domain/azure-state';

function view(location: string, role: string, partnerRole: string, state = 'CATCH_UP'): FailoverGroupView {
  return {
    id: `id-${location}`,
    name: 'fog',
    location,
    replicationRole: role,
    replicationState: state,
    partnerLocation: location === 'eastus' ? 'westus' : 'eastus',
    partnerRole,
    primaryManagedInstanceId: 'mi-a',
    partnerManagedInstanceId: 'mi-b',
    readWriteFailoverPolicy: 'Manual',
  };
}

describe('replication state', () => {
  it('counts only known-safe states as synchronizing and everything unrecognized as unknown', () => {
    assert.equal(classifyReplicationState('CATCH_UP'), 'synchronizing');
    assert.equal(classifyReplicationState('catch up'), 'synchronizing');
    assert.equal(classifyReplicationState('SEEDING'), 'seeding');
    assert.equal(classifyReplicationState('PENDING'), 'seeding');
    assert.equal(classifyReplicationState('SUSPENDED'), 'suspended');
    assert.equal(classifyReplicationState('FAILOVER_IN_PROGRESS'), 'failover-in-progress');
    assert.equal(classifyReplicationState('SOMETHING_NEW'), 'unknown');
    assert.equal(classifyReplicationState(undefined), 'unknown');
  });
});

describe('group roles', () => {
  it('agrees on the primary when both locations tell the same story', () => {
    const summary = summarizeGroupRoles([
      view('eastus', 'Primary', 'Secondary'),
      view('westus', 'Secondary', 'Primary'),
    ]);
    assert.equal(summary.consistent, true);
    assert.equal(summary.primaryLocation, 'eastus');
    assert.equal(summary.secondaryLocation, 'westus');
    assert.equal(summary.status, 'synchronizing');
  });

  it('sees a failover in progress when both locations claim the primary role', () => {
    const summary = summarizeGroupRoles([
      view('eastus', 'Primary', 'Secondary'),
      view('westus', 'Primary', 'Secondary'),
    ]);
    assert.equal(summary.consistent, false);
    assert.equal(summary.primaryLocation, undefined);
    assert.equal(summary.status, 'failover-in-progress');
  });

  it('sees a failover in progress when neither location is primary', () => {
    const summary = summarizeGroupRoles([
      view('eastus', 'Secondary', 'Primary'),
      view('westus', 'Secondary', 'Primary'),
    ]);
    assert.equal(summary.status, 'failover-in-progress');
  });

  it('reads one location alone from its own role and what it says of its partner', () => {
    const summary = summarizeGroupRoles([view('westus', 'Secondary', 'Primary')]);
    assert.equal(summary.consistent, true);
    assert.equal(summary.primaryLocation, 'eastus');
  });

  it('reports seeding and unknown states without calling them synchronizing', () => {
    assert.equal(
      summarizeGroupRoles([
        view('eastus', 'Primary', 'Secondary', 'SEEDING'),
        view('westus', 'Secondary', 'Primary', 'SEEDING'),
      ]).status,
      'seeding',
    );
    assert.equal(
      summarizeGroupRoles([view('eastus', 'Primary', 'Secondary', 'WEIRD'), view('westus', 'Secondary', 'Primary')])
        .status,
      'unknown',
    );
  });
});
