/**
 * ARM response bodies with the shapes of the REST specification's examples (see test/emulator/arm-bodies.test.ts,
 * which compares them field by field with the examples under ../shared/reference/arm-examples).
 */
import type { GroupState, InstanceState, World } from './world';
import { idLocation } from './world';

export function failoverGroupBody(world: World, group: GroupState, location: string): Record<string, unknown> {
  const here = world.instanceAt(group, location)!;
  const partner = world.partnerInstance(group, here.id);
  const primary = world.instanceById(group.primaryInstanceId)!;
  const secondary = world.partnerInstance(group, primary.id);
  const readWriteEndpoint: Record<string, unknown> = { failoverPolicy: group.readWriteFailoverPolicy };
  if (group.readWriteFailoverPolicy === 'Automatic') {
    readWriteEndpoint.failoverWithDataLossGracePeriodMinutes = group.gracePeriodMinutes ?? 60;
  }
  return {
    id: `/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}/providers/Microsoft.Sql/locations/${idLocation(here.displayLocation)}/instanceFailoverGroups/${group.name}`,
    name: group.name,
    type: 'Microsoft.Sql/locations/instanceFailoverGroups',
    properties: {
      readWriteEndpoint,
      readOnlyEndpoint: { failoverPolicy: group.readOnlyFailoverPolicy },
      replicationRole: world.reportedRole(group, here.location),
      replicationState: world.reportedReplicationState(group),
      partnerRegions: [
        { location: partner.displayLocation, replicationRole: world.reportedRole(group, partner.location) },
      ],
      managedInstancePairs: [{ primaryManagedInstanceId: primary.id, partnerManagedInstanceId: secondary.id }],
      secondaryType: group.secondaryType,
    },
  };
}

export function managedInstanceBody(instance: InstanceState): Record<string, unknown> {
  const body: Record<string, unknown> = {
    sku: { name: instance.skuName, tier: instance.tier, capacity: instance.vCores, family: instance.family },
    properties: {
      fullyQualifiedDomainName: instance.fullyQualifiedDomainName,
      administratorLogin: instance.administratorLogin,
      subnetId:
        instance.subnetId ??
        `/subscriptions/${instance.subscriptionId}/resourceGroups/${instance.resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet-${instance.location}/subnets/mi`,
      state: instance.state,
      provisioningState: instance.provisioningState,
      vCores: instance.vCores,
      storageSizeInGB: instance.storageSizeInGB,
      licenseType: instance.licenseType,
      collation: instance.collation,
      publicDataEndpointEnabled: false,
      proxyOverride: 'Default',
      minimalTlsVersion: '1.2',
      dnsZone: instance.dnsZone,
      maintenanceConfigurationId:
        instance.maintenanceConfigurationId ??
        `/subscriptions/${instance.subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_Default`,
      currentBackupStorageRedundancy: instance.backupStorageRedundancy,
      requestedBackupStorageRedundancy: instance.backupStorageRedundancy,
    },
    location: instance.location,
    id: instance.id,
    name: instance.name,
    type: 'Microsoft.Sql/managedInstances',
  };
  if (instance.tags) body.tags = instance.tags;
  return body;
}

export function armErrorBody(code: string, message: string): Record<string, unknown> {
  return { error: { code, message } };
}
