/**
 * SKU names of Azure SQL Database as people write them (`S3`, `P2`, `GP_Gen5_4`, `BC_Gen5_8`, `HS_Gen5_2`,
 * `GP_S_Gen5_2`), read into the `sku` object ARM takes (`name`, `tier`, `capacity`, `family`). Pure: the workflow's
 * input validation uses it.
 *
 * Sources: Learn "vCore purchasing model" and "DTU purchasing model" resource limits (service objective names, DTUs
 * per objective), and the `Sku` definition of the Microsoft.Sql REST spec (Databases.json, ElasticPools.json).
 */
import type { SqlSku } from './azure-state';

/** vCore tiers by the prefix of their objective names. */
const VCORE_TIERS: Record<string, string> = { GP: 'GeneralPurpose', BC: 'BusinessCritical', HS: 'Hyperscale' };

/** DTU objectives of single databases, with their DTUs (the `capacity` ARM reads back). */
const DTU_OBJECTIVES: Record<string, { tier: string; capacity: number }> = {
  basic: { tier: 'Basic', capacity: 5 },
  s0: { tier: 'Standard', capacity: 10 },
  s1: { tier: 'Standard', capacity: 20 },
  s2: { tier: 'Standard', capacity: 50 },
  s3: { tier: 'Standard', capacity: 100 },
  s4: { tier: 'Standard', capacity: 200 },
  s6: { tier: 'Standard', capacity: 400 },
  s7: { tier: 'Standard', capacity: 800 },
  s9: { tier: 'Standard', capacity: 1600 },
  s12: { tier: 'Standard', capacity: 3000 },
  p1: { tier: 'Premium', capacity: 125 },
  p2: { tier: 'Premium', capacity: 250 },
  p4: { tier: 'Premium', capacity: 500 },
  p6: { tier: 'Premium', capacity: 1000 },
  p11: { tier: 'Premium', capacity: 1750 },
  p15: { tier: 'Premium', capacity: 4000 },
};

/** DTU elastic pools: the name is the tier's, the eDTUs are the capacity. */
const DTU_POOLS: Record<string, string> = { basicpool: 'Basic', standardpool: 'Standard', premiumpool: 'Premium' };

/** Hardware families as ARM spells them (names are case-insensitive; reports read better spelled one way). */
const FAMILIES: Record<string, string> = {
  gen4: 'Gen4',
  gen5: 'Gen5',
  dc: 'DC',
  fsv2: 'FSv2',
  m: 'M',
  prms: 'PRMS',
  moprms: 'MOPRMS',
};

const VCORE_OBJECTIVE = /^(GP|BC|HS)(_S)?_([A-Za-z0-9]+?)(?:_(\d+))?$/i;

/** What a database or an elastic pool SKU may be written as, for messages. */
export const SQL_SKU_EXAMPLES: Record<'database' | 'elasticPool', string> = {
  database: '"S3", "P2", "GP_Gen5_4", "BC_Gen5_8", "HS_Gen5_2", or { "name": "GP_Gen5", "capacity": 4 }',
  elasticPool: '"GP_Gen5_8", "BC_Gen5_4", or { "name": "StandardPool", "capacity": 200 } (eDTUs)',
};

/** The result of reading a SKU name: the SKU, or why it is not one. */
export type SqlSkuParse = { ok: true; sku: SqlSku } | { ok: false; problem: string };

function vCoreSku(name: string): { sku: SqlSku; hasCapacity: boolean } | undefined {
  const match = VCORE_OBJECTIVE.exec(name.trim());
  if (!match) return undefined;
  const prefix = match[1]!.toUpperCase();
  const serverless = match[2] ? '_S' : '';
  const family = FAMILIES[match[3]!.toLowerCase()] ?? match[3]!;
  const sku: SqlSku = { name: `${prefix}${serverless}_${family}`, tier: VCORE_TIERS[prefix]!, family };
  if (match[4] !== undefined) sku.capacity = Number(match[4]);
  return { sku, hasCapacity: match[4] !== undefined };
}

/**
 * Reads a SKU name written for a database (`S3`, `GP_Gen5_4`) or an elastic pool (`GP_Gen5_8`). A vCore name must
 * carry its vCores (`GP_Gen5_4`, not `GP_Gen5`), so the size is never left to a guess; a DTU pool has no name that
 * says its eDTUs, so it is written as an object.
 */
export function parseSqlSkuName(name: string, type: 'database' | 'elasticPool'): SqlSkuParse {
  const trimmed = name.trim();
  if (trimmed.toLowerCase() === 'elasticpool') {
    return {
      ok: false,
      problem:
        '"ElasticPool" would move the database into an elastic pool, which scaleGroup does not do: scale a pooled ' +
        'database through its pool (elasticPools)',
    };
  }
  const vCore = vCoreSku(trimmed);
  if (vCore) {
    if (!vCore.hasCapacity)
      return {
        ok: false,
        problem: `"${trimmed}" does not say how many vCores: write it as ${vCore.sku.name}_<vCores>, e.g. ${vCore.sku.name}_4`,
      };
    return { ok: true, sku: vCore.sku };
  }
  if (type === 'database') {
    const dtu = DTU_OBJECTIVES[trimmed.toLowerCase()];
    if (dtu) {
      const canonical = trimmed.length <= 3 ? trimmed.toUpperCase() : 'Basic';
      return { ok: true, sku: { name: canonical, tier: dtu.tier, capacity: dtu.capacity } };
    }
  } else if (DTU_POOLS[trimmed.toLowerCase()]) {
    return {
      ok: false,
      problem: `"${trimmed}" does not say how many eDTUs: write { "name": "${trimmed}", "capacity": <eDTUs> }`,
    };
  }
  return {
    ok: false,
    problem: `"${trimmed}" is not a SKU name fogpilot knows for ${type === 'database' ? 'a database' : 'an elastic pool'}: use ${SQL_SKU_EXAMPLES[type]}`,
  };
}

/**
 * Completes a SKU written as an object: the tier (and family, capacity) its name implies when they are not given
 * (`{ name: "GP_Gen5", capacity: 8 }` → General Purpose, Gen5). A name fogpilot does not know is kept as written.
 */
export function completeSqlSku(sku: SqlSku): SqlSku {
  const complete: SqlSku = { ...sku, name: sku.name.trim() };
  const vCore = vCoreSku(complete.name);
  const dtu = DTU_OBJECTIVES[complete.name.toLowerCase()];
  const poolTier = DTU_POOLS[complete.name.toLowerCase()];
  const implied: Partial<SqlSku> = vCore
    ? vCore.sku
    : dtu
      ? { tier: dtu.tier, capacity: dtu.capacity }
      : poolTier
        ? { tier: poolTier }
        : {};
  if (vCore) complete.name = vCore.sku.name;
  if (complete.tier === undefined && implied.tier !== undefined) complete.tier = implied.tier;
  if (complete.family === undefined && implied.family !== undefined) complete.family = implied.family;
  if (complete.capacity === undefined && implied.capacity !== undefined) complete.capacity = implied.capacity;
  return complete;
}

/**
 * Whether two SKUs are one size. ARM reads a DTU database back by its tier (`S3` is `{ name: "Standard", tier:
 * "Standard", capacity: 100 }`), so SKUs are compared completed, by tier, capacity and hardware family; two vCore
 * SKUs must also have one name (`GP_S_Gen5`, serverless, is not `GP_Gen5`). SKUs that do not say their tier and
 * capacity are compared by name, and by capacity where both say it.
 */
export function sameSqlSize(a: SqlSku, b: SqlSku): boolean {
  const [x, y] = [completeSqlSku(a), completeSqlSku(b)];
  const same = (p?: string, q?: string) => (p ?? '').toLowerCase() === (q ?? '').toLowerCase();
  if (x.tier !== undefined && y.tier !== undefined && x.capacity !== undefined && y.capacity !== undefined) {
    const bothVCore = vCoreSku(x.name) !== undefined && vCoreSku(y.name) !== undefined;
    return (
      same(x.tier, y.tier) &&
      x.capacity === y.capacity &&
      (x.family === undefined || y.family === undefined || same(x.family, y.family)) &&
      (!bothVCore || same(x.name, y.name))
    );
  }
  return same(x.name, y.name) && (x.capacity === undefined || y.capacity === undefined || x.capacity === y.capacity);
}
