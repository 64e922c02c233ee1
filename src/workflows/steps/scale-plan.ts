/**
 * The order in which `scaleGroup` scales the two instances of a failover group: a pure function of what was read and
 * what was asked, so the dry run, the real run and the tests share one answer.
 *
 * The rule behind every choice here: **the geo-secondary is never smaller than the primary**, in any dimension, at any
 * moment. The secondary must keep up with the primary's log (a smaller one falls behind and the lag grows), and after
 * a failover it carries the primary's whole load. Hence: growing, the secondary goes first; shrinking, the primary goes
 * first (Microsoft's documented order, which Azure enforces for service-tier changes).
 *
 * One rule for both kinds of group. A managed instance has one size (vCores, storage, SKU); a SQL Database server's
 * side of a group has one SKU per member database, or per elastic pool for the databases in one (`members`, keyed
 * `database/<name>` and `elasticPool/<name>`). Each member SKU is one more dimension of the same comparison, its
 * direction given by `skuAtLeast` (the service tier first, then the capacity).
 */
import { sameSku, skuParts, type SqlSku } from '../../domain/azure-state';
import { describeSku, skuAtLeast } from './member-size';
import { sameSqlSize } from '../../domain/sql-sku';

export { sameSqlSize };

export type PairRole = 'primary' | 'secondary';

/** The size of one instance in the dimensions `scaleGroup` changes. */
export interface InstanceSize {
  vCores: number;
  storageSizeInGB: number;
  skuName: string;
  /**
   * A SQL Database group's side only (its vCores and storage are then 0): the SKU of each standalone member database
   * (`database/<name>`) and of each elastic pool that holds member databases (`elasticPool/<name>`).
   */
  members?: Record<string, SqlSku>;
}

export interface PairMember {
  role: PairRole;
  location: string;
  instanceId: string;
  instanceName: string;
  size: InstanceSize;
}

export interface ScaleRequest {
  vCores?: number;
  storageSizeInGB?: number;
  sku?: string;
  /** SQL Database groups: the SKU each named database or pool is to have on both sides, keyed as in `members`. */
  members?: Record<string, SqlSku>;
}

/** `member`: one database's or elastic pool's SKU (a SQL Database group). */
export type Dimension = 'vCores' | 'storageSizeInGB' | 'sku' | 'member';
export type Pass = 'up' | 'down';

/** One dimension of one instance that changes, and which way. */
export interface DimensionChange {
  role: PairRole;
  dimension: Dimension;
  /** `member` changes: which database or pool (`database/<name>`, `elasticPool/<name>`). */
  member?: string;
  from: number | string | SqlSku;
  to: number | string | SqlSku;
  direction: Pass;
}

/** One management operation (one PATCH, followed to its end), in the order it runs. */
export interface PlannedScaleOperation {
  /** Step name: `scale-secondary`, or `up/scale-secondary` when a mixed request runs in two passes. */
  step: string;
  pass: Pass;
  role: PairRole;
  location: string;
  instanceId: string;
  instanceName: string;
  from: InstanceSize;
  to: InstanceSize;
  changes: DimensionChange[];
}

/** What a run was asked to bring both members to (SQL Database groups: per database and per pool). */
export interface ScalePlanTarget {
  vCores?: number;
  storageSizeInGB?: number;
  sku?: string;
  databases?: Record<string, SqlSku>;
  elasticPools?: Record<string, SqlSku>;
}

export interface ScalePlan {
  /** `mixed`: some dimension grows while another shrinks; run as an up pass followed by a down pass. */
  direction: 'up' | 'down' | 'mixed' | 'none';
  /** What both instances end at, after storage equalization. */
  target: ScalePlanTarget;
  final: Record<PairRole, InstanceSize>;
  changes: DimensionChange[];
  operations: PlannedScaleOperation[];
  /** Decisions a person should see (storage equalized, a secondary left smaller in vCores). */
  notes: string[];
}

/** Service tiers, smallest first: Business Critical adds local replicas and faster storage. */
const TIER_RANK: Record<string, number> = { generalpurpose: 0, businesscritical: 1 };
/** Hardware, smallest first: standard-series (Gen5), premium-series (G8IM), premium memory-optimized (G8IH). */
const FAMILY_RANK: Record<string, number> = { gen4: -1, gen5: 0, g8im: 1, g8ih: 2 };

/**
 * Which way a SKU change goes. The service tier decides (it is what Azure orders); within one tier, the hardware
 * family does. A SKU the table does not know counts as growing: the secondary goes first, which is never the unsafe
 * side of the rule.
 */
export function skuDirection(from: string, to: string): Pass {
  const a = skuParts(from);
  const b = skuParts(to);
  if (!a || !b) return 'up';
  const tierA = TIER_RANK[a.tier.toLowerCase()] ?? 0;
  const tierB = TIER_RANK[b.tier.toLowerCase()] ?? 0;
  if (tierA !== tierB) return tierB > tierA ? 'up' : 'down';
  const familyA = FAMILY_RANK[a.family.toLowerCase()];
  const familyB = FAMILY_RANK[b.family.toLowerCase()];
  if (familyA === undefined || familyB === undefined) return 'up';
  return familyB >= familyA ? 'up' : 'down';
}

/** The key of a database's or an elastic pool's SKU in {@link InstanceSize.members}. */
export function memberKey(type: 'database' | 'elasticPool', name: string): string {
  return `${type}/${name}`;
}

/** What a member key names. */
export function parseMemberKey(key: string): { type: 'database' | 'elasticPool'; name: string } {
  const slash = key.indexOf('/');
  return { type: key.slice(0, slash) === 'elasticPool' ? 'elasticPool' : 'database', name: key.slice(slash + 1) };
}

/** The SKU `members` holds under `key`, matched as ARM matches names (case-insensitively). */
export function memberSku(members: Record<string, SqlSku> | undefined, key: string): SqlSku | undefined {
  if (!members) return undefined;
  if (members[key]) return members[key];
  const wanted = key.toLowerCase();
  return Object.entries(members).find(([candidate]) => candidate.toLowerCase() === wanted)?.[1];
}

/**
 * Which way a database's or pool's SKU change goes: `skuAtLeast` decides (the tier, then the capacity). A change it
 * cannot order (a tier it does not know, or the same tier and capacity under another name) counts as growing, as an
 * unknown managed instance SKU does.
 */
export function memberDirection(from: SqlSku, to: SqlSku): Pass {
  if (skuAtLeast(to, from)) return 'up';
  return skuAtLeast(from, to) ? 'down' : 'up';
}

/** `database orders GP_Gen5 (4)`, `pool orders-pool GP_Gen5 (8)`. */
export function describeMember(key: string, sku: SqlSku): string {
  const { type, name } = parseMemberKey(key);
  return `${type === 'elasticPool' ? 'pool' : 'database'} ${name} ${describeSku(sku)}`;
}

export function describeSize(size: InstanceSize): string {
  if (size.members) {
    const parts = Object.entries(size.members).map(([key, sku]) => describeMember(key, sku));
    return parts.length > 0 ? parts.join(', ') : 'no member databases';
  }
  return `${size.vCores} vCores / ${size.storageSizeInGB} GB / ${size.skuName || 'unknown SKU'}`;
}

/** One change in a line: `vCores 8 → 16`, `database orders GP_Gen5 (2) → GP_Gen5 (4)`. */
export function describeChange(change: DimensionChange): string {
  if (change.dimension === 'member') {
    const { type, name } = parseMemberKey(change.member ?? '');
    return (
      `${type === 'elasticPool' ? 'pool' : 'database'} ${name} ` +
      `${describeSku(change.from as SqlSku)} → ${describeSku(change.to as SqlSku)}`
    );
  }
  const plain = (value: DimensionChange['from']) => (typeof value === 'object' ? describeSku(value) : `${value}`);
  return `${change.dimension} ${plain(change.from)} → ${plain(change.to)}`;
}

function changesOf(member: PairMember, wanted: InstanceSize): DimensionChange[] {
  const { size, role } = member;
  const changes: DimensionChange[] = [];
  const numeric = (dimension: 'vCores' | 'storageSizeInGB'): void => {
    if (wanted[dimension] === size[dimension]) return;
    changes.push({
      role,
      dimension,
      from: size[dimension],
      to: wanted[dimension],
      direction: wanted[dimension] > size[dimension] ? 'up' : 'down',
    });
  };
  numeric('vCores');
  numeric('storageSizeInGB');
  if (!sameSku(size.skuName, wanted.skuName)) {
    changes.push({
      role,
      dimension: 'sku',
      from: size.skuName,
      to: wanted.skuName,
      direction: skuDirection(size.skuName, wanted.skuName),
    });
  }
  for (const [key, to] of Object.entries(wanted.members ?? {})) {
    const from = memberSku(size.members, key);
    if (!from || sameSqlSize(from, to)) continue;
    changes.push({ role, dimension: 'member', member: key, from, to, direction: memberDirection(from, to) });
  }
  return changes;
}

function apply(size: InstanceSize, changes: DimensionChange[]): InstanceSize {
  const next = { ...size };
  for (const change of changes) {
    if (change.dimension === 'member') next.members = { ...next.members, [change.member!]: change.to as SqlSku };
    else if (change.dimension === 'sku') next.skuName = change.to as string;
    else next[change.dimension] = Number(change.to);
  }
  return next;
}

/**
 * Plans the scaling of a pair: what each instance ends at, and the operations in a safe order.
 *
 * - `vCores` and `sku` apply to both instances; absent, each instance keeps its own.
 * - Storage ends equal on both (Azure expects the pair's storage sizes to match): `storageSizeInGB` when given,
 *   otherwise, when the two differ, the larger of the two (never shrink storage nobody asked to shrink).
 * - Up (every change grows): secondary, then primary. Down (every change shrinks): primary, then secondary.
 * - Mixed (say vCores up and storage down, or one instance growing while the other shrinks to meet the same target):
 *   an up pass with only the growing changes (secondary, then primary), then a down pass with only the shrinking ones
 *   (primary, then secondary). Per dimension this is exactly the up or the down order, so after every single operation
 *   the secondary is still at least the primary's size wherever it was before. Refusing instead would make some
 *   requests impossible to express at all: with a primary at 8 vCores and a secondary at 32, "both at 16" grows one
 *   instance and shrinks the other, and no split of the input can say that. The cost is up to four operations instead
 *   of two; the plan lists them.
 */
export function planScale(primary: PairMember, secondary: PairMember, request: ScaleRequest): ScalePlan {
  const notes: string[] = [];
  let storage = request.storageSizeInGB;
  if (storage === undefined && primary.size.storageSizeInGB !== secondary.size.storageSizeInGB) {
    storage = Math.max(primary.size.storageSizeInGB, secondary.size.storageSizeInGB);
    notes.push(
      `storageSizeInGB was not given and the storage sizes differ (primary ${primary.instanceName} ` +
        `${primary.size.storageSizeInGB} GB, secondary ${secondary.instanceName} ${secondary.size.storageSizeInGB} GB): ` +
        `both go to the larger, ${storage} GB, so the pair's storage sizes match`,
    );
  }
  const wanted = (member: PairMember): InstanceSize => ({
    vCores: request.vCores ?? member.size.vCores,
    storageSizeInGB: storage ?? member.size.storageSizeInGB,
    skuName: request.sku ?? member.size.skuName,
    ...(member.size.members
      ? {
          members: Object.fromEntries(
            Object.entries(member.size.members).map(([key, sku]) => [key, memberSku(request.members, key) ?? sku]),
          ),
        }
      : {}),
  });
  const final = { primary: wanted(primary), secondary: wanted(secondary) };
  if (request.vCores === undefined && final.secondary.vCores < final.primary.vCores) {
    notes.push(
      `vCores was not given and the secondary has fewer vCores than the primary (${final.secondary.vCores} < ` +
        `${final.primary.vCores}); they stay as they are. Give vCores to bring both to one size.`,
    );
  }
  const changes = [...changesOf(primary, final.primary), ...changesOf(secondary, final.secondary)];
  const ups = changes.filter((change) => change.direction === 'up');
  const downs = changes.filter((change) => change.direction === 'down');
  const direction = changes.length === 0 ? 'none' : downs.length === 0 ? 'up' : ups.length === 0 ? 'down' : 'mixed';

  const members = { primary, secondary };
  const current = { primary: { ...primary.size }, secondary: { ...secondary.size } };
  const operations: PlannedScaleOperation[] = [];
  const pass = (which: Pass, order: PairRole[]): void => {
    for (const role of order) {
      const own = changes.filter((change) => change.role === role && change.direction === which);
      if (own.length === 0) continue;
      const member = members[role];
      const to = apply(current[role], own);
      operations.push({
        step: direction === 'mixed' ? `${which}/scale-${role}` : `scale-${role}`,
        pass: which,
        role,
        location: member.location,
        instanceId: member.instanceId,
        instanceName: member.instanceName,
        from: current[role],
        to,
        changes: own,
      });
      current[role] = to;
    }
  };
  pass('up', ['secondary', 'primary']);
  pass('down', ['primary', 'secondary']);

  return {
    direction,
    target: {
      ...(request.vCores !== undefined ? { vCores: request.vCores } : {}),
      ...(storage !== undefined ? { storageSizeInGB: storage } : {}),
      ...(request.sku !== undefined ? { sku: request.sku } : {}),
      ...membersTarget(request.members),
    },
    final,
    changes,
    operations,
    notes,
  };
}

/** A request's member SKUs as the plan's target names them: per database and per pool. */
function membersTarget(members: Record<string, SqlSku> | undefined): ScalePlanTarget {
  if (!members) return {};
  const target: ScalePlanTarget = {};
  for (const [key, sku] of Object.entries(members)) {
    const { type, name } = parseMemberKey(key);
    const field = type === 'elasticPool' ? 'elasticPools' : 'databases';
    target[field] = { ...target[field], [name]: sku };
  }
  return target;
}

/** Whether `secondary` is at least `primary` in every dimension (the rule the order protects). */
export function secondaryAtLeastPrimary(primary: InstanceSize, secondary: InstanceSize): boolean {
  return (
    secondary.vCores >= primary.vCores &&
    secondary.storageSizeInGB >= primary.storageSizeInGB &&
    (sameSku(primary.skuName, secondary.skuName) || skuDirection(primary.skuName, secondary.skuName) === 'up') &&
    Object.entries(primary.members ?? {}).every(([key, sku]) => {
      const theirs = memberSku(secondary.members, key);
      return !theirs || sameSqlSize(theirs, sku) || skuAtLeast(theirs, sku);
    })
  );
}
