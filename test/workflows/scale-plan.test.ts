/**
 * The order scaleGroup scales a pair in, as a pure function: every plan keeps the secondary at least the primary's
 * size after each single operation, and ends both instances at the target.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  planScale,
  secondaryAtLeastPrimary,
  skuDirection,
  type InstanceSize,
  type PairMember,
  type ScaleRequest,
} from '../../src/workflows/steps/scale-plan';

function pair(primary: Partial<InstanceSize>, secondary: Partial<InstanceSize>): [PairMember, PairMember] {
  const member = (role: 'primary' | 'secondary', size: Partial<InstanceSize>): PairMember => ({
    role,
    location: role === 'primary' ? 'eastus' : 'westus',
    instanceId: `/mi/${role}`,
    instanceName: `mi-${role}`,
    size: { vCores: 8, storageSizeInGB: 256, skuName: 'GP_Gen5', ...size },
  });
  return [member('primary', primary), member('secondary', secondary)];
}

function order(request: ScaleRequest, primary: Partial<InstanceSize> = {}, secondary: Partial<InstanceSize> = {}) {
  return planScale(...pair(primary, secondary), request).operations.map((operation) => operation.step);
}

describe('planScale', () => {
  it('grows the secondary first and shrinks the primary first', () => {
    assert.deepEqual(order({ vCores: 16 }), ['scale-secondary', 'scale-primary']);
    assert.deepEqual(order({ vCores: 4 }), ['scale-primary', 'scale-secondary']);
    assert.deepEqual(order({ sku: 'BC_Gen5' }), ['scale-secondary', 'scale-primary']);
    assert.deepEqual(order({ sku: 'GP_Gen5' }, { skuName: 'BC_Gen5' }, { skuName: 'BC_Gen5' }), [
      'scale-primary',
      'scale-secondary',
    ]);
  });

  it('plans nothing when both instances are already at the target', () => {
    const plan = planScale(...pair({}, {}), { vCores: 8, storageSizeInGB: 256, sku: 'gp_gen5' });
    assert.equal(plan.direction, 'none');
    assert.deepEqual(plan.operations, []);
  });

  it('splits growing vCores with shrinking storage into an up pass, then a down pass', () => {
    const plan = planScale(...pair({ storageSizeInGB: 512 }, { storageSizeInGB: 512 }), {
      vCores: 16,
      storageSizeInGB: 256,
    });
    assert.equal(plan.direction, 'mixed');
    assert.deepEqual(
      plan.operations.map((operation) => [operation.step, operation.to.vCores, operation.to.storageSizeInGB]),
      [
        ['up/scale-secondary', 16, 512],
        ['up/scale-primary', 16, 512],
        ['down/scale-primary', 16, 256],
        ['down/scale-secondary', 16, 256],
      ],
    );
  });

  it('meets one target from both sides: the smaller primary grows first, the larger secondary shrinks after', () => {
    const plan = planScale(...pair({ vCores: 8 }, { vCores: 32 }), { vCores: 16 });
    assert.equal(plan.direction, 'mixed');
    assert.deepEqual(
      plan.operations.map((operation) => [operation.step, operation.from.vCores, operation.to.vCores]),
      [
        ['up/scale-primary', 8, 16],
        ['down/scale-secondary', 32, 16],
      ],
    );
  });

  it('brings different storage sizes to the larger when storageSizeInGB is not given, and notes it', () => {
    const plan = planScale(...pair({ storageSizeInGB: 256 }, { storageSizeInGB: 512 }), { vCores: 8 });
    assert.equal(plan.direction, 'up');
    assert.deepEqual(plan.target, { vCores: 8, storageSizeInGB: 512 });
    assert.deepEqual(
      plan.operations.map((operation) => [operation.step, operation.to.storageSizeInGB]),
      [['scale-primary', 512]],
    );
    assert.match(plan.notes.join(' '), /both go to the larger, 512 GB/);
  });

  it('ranks SKUs by service tier, then by hardware', () => {
    assert.equal(skuDirection('GP_Gen5', 'BC_Gen5'), 'up');
    assert.equal(skuDirection('BC_G8IM', 'GP_G8IH'), 'down');
    assert.equal(skuDirection('GP_Gen5', 'GP_G8IM'), 'up');
    assert.equal(skuDirection('GP_G8IH', 'GP_Gen5'), 'down');
  });

  it('never leaves the secondary smaller than the primary after any single operation, for every size combination', () => {
    const vCores = [4, 8, 16];
    const storage = [256, 512];
    const skus = ['GP_Gen5', 'BC_Gen5'];
    const sizes: InstanceSize[] = vCores.flatMap((v) =>
      storage.flatMap((g) => skus.map((skuName) => ({ vCores: v, storageSizeInGB: g, skuName }))),
    );
    const requests: ScaleRequest[] = [];
    for (const v of [undefined, ...vCores])
      for (const g of [undefined, ...storage])
        for (const sku of [undefined, ...skus])
          if (v !== undefined || g !== undefined || sku !== undefined)
            requests.push({ vCores: v, storageSizeInGB: g, sku });
    let checked = 0;
    for (const primary of sizes) {
      for (const secondary of sizes) {
        if (!secondaryAtLeastPrimary(primary, secondary)) continue;
        for (const request of requests) {
          const plan = planScale(...pair(primary, secondary), request);
          const now = { primary: { ...primary }, secondary: { ...secondary } };
          for (const operation of plan.operations) {
            assert.deepEqual(now[operation.role], operation.from, `${operation.step} starts where the last one ended`);
            now[operation.role] = operation.to;
            assert.ok(
              secondaryAtLeastPrimary(now.primary, now.secondary),
              `${JSON.stringify({ primary, secondary, request })}: after ${operation.step} ${JSON.stringify(now)}`,
            );
          }
          assert.deepEqual(now, plan.final, 'both end at the plan');
          assert.equal(now.primary.storageSizeInGB, now.secondary.storageSizeInGB, 'storage ends equal');
          if (request.vCores !== undefined) assert.equal(now.primary.vCores, now.secondary.vCores);
          checked += 1;
        }
      }
    }
    assert.ok(checked > 500, `${checked} combinations`);
  });
});
