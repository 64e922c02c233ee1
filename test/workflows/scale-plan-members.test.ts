/**
 * planScale on a SQL Database group's sides: each database's or pool's SKU is one more dimension of the one rule
 * (the geo-secondary is never smaller than the primary), its direction given by the service tier, then the capacity.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlSku } from '../../src/domain/azure-state';
import {
  memberDirection,
  planScale,
  secondaryAtLeastPrimary,
  type InstanceSize,
  type PairMember,
  type ScaleRequest,
} from '../../src/workflows/steps/scale-plan';

const GP = (capacity: number): SqlSku => ({ name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity });
const BC = (capacity: number): SqlSku => ({ name: 'BC_Gen5', tier: 'BusinessCritical', family: 'Gen5', capacity });
const S = (name: string, capacity: number): SqlSku => ({ name, tier: 'Standard', capacity });

/** A server's side: vCores and storage are not its own (0), its sizes are its members'. */
function side(members: Record<string, SqlSku>): InstanceSize {
  return { vCores: 0, storageSizeInGB: 0, skuName: 'SqlDatabase', members };
}

function pair(primary: Record<string, SqlSku>, secondary: Record<string, SqlSku>): [PairMember, PairMember] {
  const member = (role: 'primary' | 'secondary', members: Record<string, SqlSku>): PairMember => ({
    role,
    location: role === 'primary' ? 'eastus' : 'westus',
    instanceId: `/servers/${role}/failoverGroups/g`,
    instanceName: `srv-${role}`,
    size: side(members),
  });
  return [member('primary', primary), member('secondary', secondary)];
}

describe('planScale for a SQL Database group', () => {
  it('orders database and pool changes as it orders an instance: secondary first up, primary first down', () => {
    const both = { 'database/orders': GP(2), 'elasticPool/pool': GP(4) };
    const up = planScale(...pair(both, both), { members: { 'database/orders': GP(4) } });
    assert.equal(up.direction, 'up');
    assert.deepEqual(
      up.operations.map((operation) => [operation.step, operation.changes.map((change) => change.member)]),
      [
        ['scale-secondary', ['database/orders']],
        ['scale-primary', ['database/orders']],
      ],
    );
    assert.deepEqual(up.target, { databases: { orders: GP(4) } });
    const down = planScale(...pair(both, both), { members: { 'elasticPool/pool': GP(2) } });
    assert.deepEqual(
      down.operations.map((operation) => operation.step),
      ['scale-primary', 'scale-secondary'],
    );
    assert.deepEqual(down.target, { elasticPools: { pool: GP(2) } });
  });

  it('matches names as ARM does, and plans nothing for SKUs already in place', () => {
    const plan = planScale(...pair({ 'database/Orders': GP(2) }, { 'database/orders': GP(2) }), {
      members: { 'database/orders': { name: 'gp_gen5', capacity: 2 } },
    });
    assert.equal(plan.direction, 'none');
    assert.deepEqual(plan.operations, []);
  });

  it('orders by the service tier first, then by capacity; an order it cannot tell counts as growing', () => {
    assert.equal(memberDirection(GP(8), BC(2)), 'up');
    assert.equal(memberDirection(BC(2), GP(8)), 'down');
    assert.equal(memberDirection(S('S3', 100), S('S2', 50)), 'down');
    assert.equal(memberDirection(S('S2', 50), { name: 'P2', tier: 'Premium', capacity: 250 }), 'up');
    assert.equal(memberDirection({ name: 'X1' }, { name: 'X2' }), 'up');
  });

  it('keeps the managed instance fields out of a server side plan', () => {
    const both = { 'database/orders': GP(2) };
    const plan = planScale(...pair(both, both), { members: { 'database/orders': GP(4) } });
    assert.deepEqual(plan.notes, []);
    assert.ok(plan.changes.every((change) => change.dimension === 'member'));
  });

  it('never leaves a secondary database or pool smaller than the primary’s after any single operation', () => {
    const skus = [S('S2', 50), S('S3', 100), GP(2), GP(4), BC(2)];
    const keys = ['database/a', 'elasticPool/p'];
    const sides: Record<string, SqlSku>[] = skus.flatMap((a) => skus.map((p) => ({ [keys[0]!]: a, [keys[1]!]: p })));
    const requests: ScaleRequest[] = [];
    for (const a of [undefined, ...skus])
      for (const p of [undefined, ...skus])
        if (a || p) requests.push({ members: { ...(a ? { [keys[0]!]: a } : {}), ...(p ? { [keys[1]!]: p } : {}) } });
    let checked = 0;
    for (const primary of sides) {
      for (const secondary of sides) {
        if (!secondaryAtLeastPrimary(side(primary), side(secondary))) continue;
        for (const request of requests) {
          const plan = planScale(...pair(primary, secondary), request);
          const now = { primary: side(primary), secondary: side(secondary) };
          for (const operation of plan.operations) {
            assert.deepEqual(now[operation.role], operation.from, `${operation.step} starts where the last one ended`);
            now[operation.role] = operation.to;
            assert.ok(
              secondaryAtLeastPrimary(now.primary, now.secondary),
              `${JSON.stringify({ primary, secondary, request })}: after ${operation.step} ${JSON.stringify(now)}`,
            );
          }
          assert.deepEqual(now, plan.final, 'both end at the plan');
          for (const [key, sku] of Object.entries(request.members ?? {})) {
            assert.deepEqual(now.primary.members?.[key], sku, `${key} ends at the request on the primary`);
            assert.deepEqual(now.secondary.members?.[key], sku, `${key} ends at the request on the secondary`);
          }
          checked += 1;
        }
      }
    }
    assert.ok(checked > 1000, `${checked} combinations`);
  });
});
