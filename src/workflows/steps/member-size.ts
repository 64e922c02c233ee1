/**
 * The size of a group's member, whatever its kind: a managed instance has one (vCores and storage); a server group's
 * side has one per member database, or per elastic pool for the databases in one. The runbooks compare sizes, plan a
 * scale and describe it through these, so a planned failover's "the secondary at least the primary's size" means
 * "every database's (or pool's) objective on the secondary at least the primary's" for a server group.
 *
 * Azure's guidance for geo-replicated SQL Database: the secondary should have the primary's service tier and compute
 * size; upgrade the secondary first and downgrade the primary first (Learn: active geo-replication, "Scaling").
 */
import type { InstanceReading } from '../../activities';
import type { ManagedInstanceView, ScaleTarget, SqlDatabaseView, SqlScaleItem, SqlSku } from '../../domain/azure-state';

/** What a secondary instance must be scaled to so it can carry the primary's load, or `undefined` when it can. */
export function secondaryScaleTarget(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
): { vCores: number; storageSizeInGB: number } | undefined {
  if (secondary.vCores >= primary.vCores && secondary.storageSizeInGB >= primary.storageSizeInGB) return undefined;
  return {
    vCores: Math.max(primary.vCores, secondary.vCores),
    storageSizeInGB: Math.max(primary.storageSizeInGB, secondary.storageSizeInGB),
  };
}

/** The service tiers in the order they hold more (a tier absent here is compared by name only). */
const TIER_ORDER = ['basic', 'standard', 'premium', 'generalpurpose', 'businesscritical', 'hyperscale'];

/** Whether `candidate` is at least `reference`: the same or a higher tier, and at least its capacity within a tier. */
export function skuAtLeast(candidate: SqlSku, reference: SqlSku): boolean {
  const rank = (sku: SqlSku) => TIER_ORDER.indexOf((sku.tier ?? '').toLowerCase());
  const [have, want] = [rank(candidate), rank(reference)];
  if (have < 0 || want < 0) return candidate.name.toLowerCase() === reference.name.toLowerCase();
  if (have !== want) return have > want;
  return (candidate.capacity ?? 0) >= (reference.capacity ?? 0);
}

/** `GP_Gen5 (4)`, `S3 (100)`. */
export function describeSku(sku: SqlSku): string {
  return sku.capacity !== undefined ? `${sku.name} (${sku.capacity})` : sku.name;
}

function poolOf(member: InstanceReading, database: SqlDatabaseView) {
  const id = database.elasticPoolId?.toLowerCase();
  return id ? member.serverSide?.elasticPools.find((pool) => pool.id.toLowerCase() === id) : undefined;
}

/**
 * What each database (or its pool) on `smaller` must be changed to so it is at least as large as on `larger`:
 * a standalone database to its partner's SKU, a pooled database's pool to its partner's pool's SKU. A database that is
 * pooled on one side only is not compared (a scale would move it in or out of a pool, which is for a person).
 */
function serverSideItems(larger: InstanceReading, smaller: InstanceReading): SqlScaleItem[] {
  const items = new Map<string, SqlScaleItem>();
  for (const wanted of larger.serverSide?.databases ?? []) {
    const have = smaller.serverSide?.databases.find(
      (database) => database.name.toLowerCase() === wanted.name.toLowerCase(),
    );
    if (!have) continue;
    const [wantedPool, havePool] = [poolOf(larger, wanted), poolOf(smaller, have)];
    if (wantedPool && havePool) {
      if (!skuAtLeast(havePool.sku, wantedPool.sku))
        items.set(`pool/${havePool.name.toLowerCase()}`, {
          type: 'elasticPool',
          name: havePool.name,
          sku: wantedPool.sku,
        });
    } else if (!wantedPool && !havePool && !skuAtLeast(have.sku, wanted.sku)) {
      items.set(`db/${have.name.toLowerCase()}`, { type: 'database', name: have.name, sku: wanted.sku });
    }
  }
  return [...items.values()];
}

/** What the secondary must be scaled to so it can carry the primary's load, or `undefined` when it already can. */
export function scaleTargetForSecondary(primary: InstanceReading, secondary: InstanceReading): ScaleTarget | undefined {
  if (!primary.serverSide && !secondary.serverSide) return secondaryScaleTarget(primary.instance, secondary.instance);
  const members = serverSideItems(primary, secondary);
  return members.length > 0 ? { members } : undefined;
}

/** The member's size in a line: `8 vCores / 256 GB`, or each member database's objective (pooled: the pool's). */
export function describeSize(member: InstanceReading): string {
  if (!member.serverSide) return `${member.instance.vCores} vCores / ${member.instance.storageSizeInGB} GB`;
  const parts = member.serverSide.databases.map((database) => {
    const pool = poolOf(member, database);
    return pool
      ? `${database.name} in ${pool.name} ${describeSku(pool.sku)}`
      : `${database.name} ${describeSku(database.sku)}`;
  });
  return parts.length > 0 ? parts.join(', ') : 'no member databases';
}

/** A scale target in a line: `16 vCores / 512 GB`, or `db1 → S3 (100), pool p1 → GP_Gen5 (8)`. */
export function describeScaleTarget(target: ScaleTarget): string {
  if (target.members) {
    return target.members
      .map((item) => `${item.type === 'elasticPool' ? 'pool ' : ''}${item.name} → ${describeSku(item.sku)}`)
      .join(', ');
  }
  const parts = [
    ...(target.vCores !== undefined ? [`${target.vCores} vCores`] : []),
    ...(target.storageSizeInGB !== undefined ? [`${target.storageSizeInGB} GB`] : []),
    ...(target.skuName !== undefined ? [target.skuName] : []),
  ];
  return parts.join(' / ');
}

/** The sizes a gate's evidence records for a member. */
export function sizeEvidence(member: InstanceReading): Record<string, unknown> {
  if (!member.serverSide) {
    return {
      instance: member.instance.name,
      vCores: member.instance.vCores,
      storageSizeInGB: member.instance.storageSizeInGB,
      tier: member.instance.tier,
    };
  }
  return {
    server: member.instance.name,
    databases: member.serverSide.databases.map((database) => ({
      name: database.name,
      sku: database.sku,
      ...(database.elasticPoolId ? { elasticPool: poolOf(member, database)?.name } : {}),
    })),
    elasticPools: member.serverSide.elasticPools.map((pool) => ({ name: pool.name, sku: pool.sku })),
  };
}
