/**
 * The worker's inventory of failover groups: names operators use (`fog-sales`) mapped to where the group lives and
 * which region is its home primary.
 */
import type { GroupCoordinates, GroupIdentity } from '../domain/group-ref';

export type InventoryEntry = GroupCoordinates;

export class Inventory {
  private readonly byName = new Map<string, InventoryEntry>();

  constructor(entries: Record<string, InventoryEntry> = {}) {
    for (const [name, entry] of Object.entries(entries)) this.byName.set(name, entry);
  }

  get(name: string): InventoryEntry | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** The inventory name of a group given by coordinates or ARM id, when the inventory has it. */
  nameOf(identity: GroupIdentity): string | undefined {
    for (const [name, entry] of this.byName) {
      if (
        entry.subscriptionId.toLowerCase() === identity.subscriptionId.toLowerCase() &&
        entry.resourceGroup.toLowerCase() === identity.resourceGroup.toLowerCase() &&
        entry.name.toLowerCase() === identity.name.toLowerCase()
      ) {
        return name;
      }
    }
    return undefined;
  }

  entries(): [string, InventoryEntry][] {
    return [...this.byName.entries()];
  }
}
