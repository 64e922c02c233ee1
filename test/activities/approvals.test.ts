/** The approval judge the worker runs: the access rules over principal labels, claimed names included. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccessSchema } from '../../src/config/access';
import { judge, principalOf } from '../../src/activities/approvals';

const group = { subscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', name: 'fog-sales' };
const noAccess = { groupForAccess: () => ({ inventoryName: 'fog-sales' }) };
const withAccess = {
  access: AccessSchema.parse({
    callers: {
      'oncall-lead': { credential: { hmacKeyEnv: 'LEAD_KEY' }, approve: true, groups: ['fog-sales'] },
    },
    operators: [{ identity: 'certificate:CN=bob', approve: true, groupTags: { tier: 'gold' } }],
  }),
  groupForAccess: () => ({ inventoryName: 'fog-sales', tags: { tier: 'gold' } }),
};

describe('judgeApproval', () => {
  it('reads webhook:<name> as a trigger caller and any other label as an operator identity', () => {
    assert.deepEqual(principalOf('webhook:oncall-lead'), { kind: 'caller', name: 'oncall-lead' });
    assert.deepEqual(principalOf('os-user:alice'), { kind: 'operator', identity: 'os-user:alice' });
  });

  it("refuses a signal whose claimed name is the requester's label, so dropping the prefix does not dodge the two-person rule", () => {
    const decision = judge(noAccess, {
      approver: 'claimed:os-user:alice',
      requester: 'os-user:alice',
      groups: [group],
    });
    assert.equal(decision.allowed, false);
    assert.match(!decision.allowed ? decision.reason : '', /two-person rule/);
  });

  it('allows a claimed name other than the requester when there is no access section', () => {
    assert.deepEqual(judge(noAccess, { approver: 'claimed:bob', requester: 'os-user:alice', groups: [group] }), {
      allowed: true,
    });
  });

  it('refuses any claimed name when there is an access section, even one that names a granted operator', () => {
    const decision = judge(withAccess, { approver: 'claimed:certificate:CN=bob', requester: 'x', groups: [group] });
    assert.equal(decision.allowed, false);
    assert.match(!decision.allowed ? decision.remedy : '', /fogpilot whoami/);
  });

  it('allows a caller or an operator granted approve on the group, by name or by tags', () => {
    assert.equal(judge(withAccess, { approver: 'webhook:oncall-lead', groups: [group] }).allowed, true);
    assert.equal(judge(withAccess, { approver: 'certificate:CN=bob', groups: [group] }).allowed, true);
  });
});
