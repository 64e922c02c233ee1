/**
 * The failover gate's freshness rule: `sendFailover` decides whether to POST on a read no older than
 * FAILOVER_GATE_MAX_AGE_MS, or on a GET of its own — never on a stale answer shared by the read coalescer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createArmActivities, FAILOVER_GATE_MAX_AGE_MS } from '../../src/activities/arm';
import type { ArmAnswer, ArmRequestOptions, ControlPlane } from '../../src/azure/control-plane';
import { Inventory } from '../../src/config/inventory';
import type { FailoverGroupView } from '../../src/domain/azure-state';
import type { GroupIdentity } from '../../src/domain/group-ref';

const group: GroupIdentity = { subscriptionId: 'sub', resourceGroup: 'rg', name: 'fog-sales' };

function view(role: 'Primary' | 'Secondary'): FailoverGroupView {
  return {
    id: '/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Sql/locations/westus/instanceFailoverGroups/fog-sales',
    name: 'fog-sales',
    location: 'westus',
    replicationRole: role,
    replicationState: 'CATCH_UP',
    partnerLocation: 'eastus',
    partnerRole: role === 'Primary' ? 'Secondary' : 'Primary',
    primaryManagedInstanceId: 'mi-a',
    partnerManagedInstanceId: 'mi-b',
    readWriteFailoverPolicy: 'Manual',
  };
}

/**
 * A control plane whose shared (coalesced) answer says the target is still Secondary, `sharedAgeMs` old, while a GET
 * of its own sees what Azure says now: already Primary (someone else's failover went through meanwhile).
 */
function controlPlane(now: number, sharedAgeMs: number) {
  const reads: ('shared' | 'own')[] = [];
  const posts: string[] = [];
  const plane = {
    getFailoverGroup(
      _group: GroupIdentity,
      _location: string,
      options?: ArmRequestOptions,
    ): Promise<ArmAnswer<FailoverGroupView>> {
      if (options?.coalesce === false) {
        reads.push('own');
        return Promise.resolve({ value: view('Primary'), readAtMs: now, via: 'direct' });
      }
      reads.push('shared');
      return Promise.resolve({ value: view('Secondary'), readAtMs: now - sharedAgeMs, via: 'list' });
    },
    beginFailover(_group: GroupIdentity, location: string) {
      posts.push(location);
      return Promise.resolve({ value: { trackingId: 'op-1' } });
    },
  } as unknown as ControlPlane;
  return { plane, reads, posts };
}

describe('the failover gate reads no older than FAILOVER_GATE_MAX_AGE_MS', () => {
  it('does not POST on a shared answer older than the bound: it reads the group again with its own GET', async () => {
    const now = 1_700_000_000_000;
    const { plane, reads, posts } = controlPlane(now, FAILOVER_GATE_MAX_AGE_MS + 500);
    const activities = createArmActivities({ controlPlane: plane, inventory: new Inventory(), now: () => now });
    const sent = await activities.sendFailover({ group, targetLocation: 'westus', kind: 'planned' });
    assert.deepEqual(reads, ['shared', 'own']);
    assert.equal(sent.outcome, 'already-primary', 'decided on the fresh read');
    assert.deepEqual(posts, [], 'no POST from a stale answer');
  });

  it('decides on a shared answer within the bound without reading again', async () => {
    const now = 1_700_000_000_000;
    const { plane, reads, posts } = controlPlane(now, FAILOVER_GATE_MAX_AGE_MS - 500);
    const activities = createArmActivities({ controlPlane: plane, inventory: new Inventory(), now: () => now });
    const sent = await activities.sendFailover({ group, targetLocation: 'westus', kind: 'planned' });
    assert.deepEqual(reads, ['shared']);
    assert.equal(sent.outcome, 'sent');
    assert.deepEqual(posts, ['westus']);
  });
});
