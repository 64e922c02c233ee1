/**
 * The workload's resources by ARM id, as `protectWorkload` names them: pure parsing, usable in workflow code.
 */
import type { VaultRef } from './recovery-state';

const RESOURCE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/([^/]+)$/i;

/** The subscription, resource group and name of a top-level resource's ARM id (a VM, a vault, a Cosmos DB account). */
export function parseResourceId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const match = RESOURCE_ID.exec(id.trim());
  if (!match) throw new Error(`not the ARM id of a top-level resource: ${id}`);
  return { subscriptionId: match[1]!, resourceGroup: match[2]!, name: match[3]! };
}

/** A Recovery Services vault's ARM id as the recovery plane takes it. */
export function vaultRefOf(vaultId: string): VaultRef {
  return parseResourceId(vaultId);
}

/** The last segment of an ARM id: the resource's name. */
export function resourceName(id: string): string {
  return id.trim().split('/').pop() ?? id;
}

/** The same ARM id (ARM ids are case-insensitive). */
export function sameResource(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}
