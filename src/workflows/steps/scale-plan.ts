/**
 * The order in which `scaleGroup` scales the two instances of a failover group: a pure function of what was read and
 * what was asked, so the dry run, the real run and the tests share one answer.
 *
 * The rule behind every choice here: **the geo-secondary is never smaller than the primary**, in any dimension, at any
 * moment. The secondary must keep up with the primary's log (a smaller one falls behind and the lag grows), and after
 * a failover it carries the primary's whole load. Hence: growing, the secondary goes first; shrinking, the primary goes
 * first (Microsoft's documented order, which Azure enforces for service-tier changes).
 */
import { sameSku, skuParts } from '../../domain/azure-state';

export type PairRole = 'primary' | 'secondary';

/** The size of one instance in the dimensions `scaleGroup` changes. */
export interface InstanceSize {
  vCores: number;
  storageSizeInGB: number;
  skuName: string;
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
}

export type Dimension = 'vCores' | 'storageSizeInGB' | 'sku';
export type Pass = 'up' | 'down';

/** One dimension of one instance that changes, and which way. */
export interface DimensionChange {
  role: PairRole;
  dimension: Dimension;
  from: number | string;
  to: number | string;
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

export interface ScalePlan {
  /** `mixed`: some dimension grows while another shrinks; run as an up pass followed by a down pass. */
  direction: 'up' | 'down' | 'mixed' | 'none';
  /** What both instances end at, after storage equalization. */
  target: { vCores?: number; storageSizeInGB?: number; sku?: string };
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

export function describeSize(size: InstanceSize): string {
  return `${size.vCores} vCores / ${size.storageSizeInGB} GB / ${size.skuName || 'unknown SKU'}`;
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
  return changes;
}

function apply(size: InstanceSize, changes: DimensionChange[]): InstanceSize {
  const next = { ...size };
  for (const change of changes) {
    if (change.dimension === 'sku') next.skuName = String(change.to);
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
    },
    final,
    changes,
    operations,
    notes,
  };
}

/** Whether `secondary` is at least `primary` in every dimension (the rule the order protects). */
export function secondaryAtLeastPrimary(primary: InstanceSize, secondary: InstanceSize): boolean {
  return (
    secondary.vCores >= primary.vCores &&
    secondary.storageSizeInGB >= primary.storageSizeInGB &&
    (sameSku(primary.skuName, secondary.skuName) || skuDirection(primary.skuName, secondary.skuName) === 'up')
  );
}
