/** The spellings of a region ARM uses besides the normalized one (`eastus`). */
import { normalizeLocation } from '../../domain/locations';

const DISPLAY_NAMES: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  centralus: 'Central US',
  northcentralus: 'North Central US',
  southcentralus: 'South Central US',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
  ukwest: 'UK West',
  japaneast: 'Japan East',
  japanwest: 'Japan West',
  australiaeast: 'Australia East',
  australiasoutheast: 'Australia Southeast',
  canadacentral: 'Canada Central',
  canadaeast: 'Canada East',
  germanywestcentral: 'Germany West Central',
  swedencentral: 'Sweden Central',
  francecentral: 'France Central',
  southeastasia: 'Southeast Asia',
  eastasia: 'East Asia',
};

/** `eastus` → `East US`: the form ARM uses in `partnerRegions`. */
export function displayLocation(location: string): string {
  if (/\s/.test(location)) return location.trim();
  return DISPLAY_NAMES[normalizeLocation(location)] ?? location;
}

/** `East US` → `EastUS`: the form ARM uses inside failover group ids. */
export function idLocation(location: string): string {
  return displayLocation(location).replace(/\s+/g, '');
}

/**
 * Azure's region pairs (Learn, "Azure cross-region replication pairings"), for a database's `defaultSecondaryLocation`;
 * a region not listed is its own.
 */
const PAIRS: [string, string][] = [
  ['eastus', 'westus'],
  ['eastus2', 'centralus'],
  ['westus2', 'westcentralus'],
  ['westus3', 'eastus'],
  ['northcentralus', 'southcentralus'],
  ['northeurope', 'westeurope'],
  ['uksouth', 'ukwest'],
  ['japaneast', 'japanwest'],
  ['australiaeast', 'australiasoutheast'],
  ['canadacentral', 'canadaeast'],
  ['germanywestcentral', 'germanynorth'],
  ['francecentral', 'francesouth'],
  ['southeastasia', 'eastasia'],
];

/** The region `location` is paired with. */
export function pairedRegion(location: string): string {
  const normalized = normalizeLocation(location);
  for (const [a, b] of PAIRS) {
    if (a === normalized) return b;
    if (b === normalized) return a;
  }
  return normalized;
}
