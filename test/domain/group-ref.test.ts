import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  instanceFailoverGroupId,
  lockWorkflowId,
  parseInstanceFailoverGroupId,
  partnerOf,
  resolvedGroup,
} from '../../src/domain/group-ref';
import { normalizeLocation, sameLocation } from '../../src/domain/locations';

const coordinates = {
  subscriptionId: '00000000-1111-2222-3333-444444444444',
  resourceGroup: 'Default',
  name: 'failover-group-test-3',
  primaryLocation: 'Japan East',
  secondaryLocation: 'JapanWest',
};

describe('locations', () => {
  it('treats the display, compact and lowercase forms of a region as the same', () => {
    assert.equal(normalizeLocation('Japan East'), 'japaneast');
    assert.equal(normalizeLocation('JapanEast'), 'japaneast');
    assert.ok(sameLocation('Japan East', 'japaneast'));
    assert.ok(!sameLocation('Japan East', 'Japan West'));
  });
});

describe('group references', () => {
  it('parses the ARM id of an instance failover group, normalizing its location', () => {
    const id =
      '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/Default/providers/Microsoft.Sql/locations/JapanEast/instanceFailoverGroups/failover-group-test-3';
    assert.deepEqual(parseInstanceFailoverGroupId(id), {
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      resourceGroup: 'Default',
      location: 'japaneast',
      name: 'failover-group-test-3',
    });
  });

  it('refuses ids of other resource types', () => {
    assert.equal(
      parseInstanceFailoverGroupId(
        '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/servers/s/failoverGroups/f',
      ),
      undefined,
    );
    assert.equal(parseInstanceFailoverGroupId('fog-sales'), undefined);
  });

  it('builds the group id seen from a location, round-tripping through the parser', () => {
    const id = instanceFailoverGroupId(coordinates, 'Japan West');
    assert.equal(parseInstanceFailoverGroupId(id)?.location, 'japanwest');
    assert.match(id, /\/locations\/japanwest\/instanceFailoverGroups\/failover-group-test-3$/);
  });

  it('derives one lock id per group, whatever the case of its names', () => {
    assert.equal(
      lockWorkflowId(coordinates),
      'fogpilot/00000000-1111-2222-3333-444444444444/default/failover-group-test-3',
    );
    assert.equal(lockWorkflowId({ ...coordinates, resourceGroup: 'DEFAULT' }), lockWorkflowId(coordinates));
  });

  it("resolves coordinates with normalized locations and knows each location's partner", () => {
    const group = resolvedGroup(coordinates, 'fog-sales');
    assert.equal(group.primaryLocation, 'japaneast');
    assert.equal(group.displayName, 'fog-sales');
    assert.equal(partnerOf(group, 'Japan East'), 'japanwest');
    assert.equal(partnerOf(group, 'japanwest'), 'japaneast');
  });
});
