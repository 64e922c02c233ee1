/** SKU names of Azure SQL Database as scaleGroup's input takes them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { completeSqlSku, parseSqlSkuName, sameSqlSize } from '../../src/domain/sql-sku';

describe('SQL Database SKU names', () => {
  it('reads vCore objectives with their vCores, and DTU objectives with their DTUs', () => {
    assert.deepEqual(parseSqlSkuName('GP_Gen5_4', 'database'), {
      ok: true,
      sku: { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 4 },
    });
    assert.deepEqual(parseSqlSkuName('bc_gen5_8', 'elasticPool'), {
      ok: true,
      sku: { name: 'BC_Gen5', tier: 'BusinessCritical', family: 'Gen5', capacity: 8 },
    });
    assert.deepEqual(parseSqlSkuName('GP_S_Gen5_2', 'database'), {
      ok: true,
      sku: { name: 'GP_S_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 2 },
    });
    assert.deepEqual(parseSqlSkuName('s3', 'database'), {
      ok: true,
      sku: { name: 'S3', tier: 'Standard', capacity: 100 },
    });
    assert.deepEqual(parseSqlSkuName('P2', 'database'), {
      ok: true,
      sku: { name: 'P2', tier: 'Premium', capacity: 250 },
    });
  });

  it('refuses a name that leaves the size to a guess, or that is not a scale, saying what to write', () => {
    const problem = (name: string, type: 'database' | 'elasticPool') => {
      const parsed = parseSqlSkuName(name, type);
      assert.ok(!parsed.ok, name);
      return parsed.problem;
    };
    assert.match(problem('GP_Gen5', 'database'), /GP_Gen5_<vCores>/);
    assert.match(problem('StandardPool', 'elasticPool'), /"capacity": <eDTUs>/);
    assert.match(problem('S3', 'elasticPool'), /not a SKU name fogpilot knows for an elastic pool/);
    assert.match(problem('ElasticPool', 'database'), /move the database into an elastic pool/);
    assert.match(problem('Z9', 'database'), /use "S3", "P2", "GP_Gen5_4"/);
  });

  it('completes a SKU object from its name, keeping what it says', () => {
    assert.deepEqual(completeSqlSku({ name: 'GP_Gen5', capacity: 8 }), {
      name: 'GP_Gen5',
      tier: 'GeneralPurpose',
      family: 'Gen5',
      capacity: 8,
    });
    assert.deepEqual(completeSqlSku({ name: 'StandardPool', capacity: 200 }), {
      name: 'StandardPool',
      tier: 'Standard',
      capacity: 200,
    });
    assert.deepEqual(completeSqlSku({ name: 'Custom', tier: 'Whatever' }), { name: 'Custom', tier: 'Whatever' });
  });

  it('compares sizes as ARM reads them back: a DTU database by its tier and DTUs, a vCore one by its name too', () => {
    // ARM answers S3 as the tier with its DTUs; the request named the objective.
    assert.equal(sameSqlSize({ name: 'Standard', tier: 'Standard', capacity: 100 }, { name: 'S3' }), true);
    assert.equal(sameSqlSize({ name: 'Standard', tier: 'Standard', capacity: 200 }, { name: 'S3' }), false);
    assert.equal(
      sameSqlSize(
        { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 4 },
        { name: 'gp_gen5', capacity: 4 },
      ),
      true,
    );
    // Serverless is not provisioned compute of the same size.
    assert.equal(sameSqlSize({ name: 'GP_S_Gen5', capacity: 2 }, { name: 'GP_Gen5', capacity: 2 }), false);
    assert.equal(
      sameSqlSize({ name: 'StandardPool', tier: 'Standard', capacity: 100 }, { name: 'StandardPool', capacity: 100 }),
      true,
    );
    assert.equal(sameSqlSize({ name: 'Custom' }, { name: 'custom' }), true);
  });
});
