/**
 * ARM response bodies with the shapes of the REST specification's examples (see test/emulator/arm-bodies.test.ts,
 * which compares them field by field with the examples under ../shared/reference/arm-examples).
 */
import type { DatabaseState, GroupState, InstanceState, OwnDatabase, World } from './world';
import { displayLocation, idLocation } from './world';
import { instanceSubnetId } from './world/networks';
import { pairedRegion } from './world/regions';
import { isSeeded } from './world/seeding';
import { restoreWindow } from './world/backups';
import { isRestoring } from './world/database-restores';

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
      subnetId: instanceSubnetId(instance),
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
      maintenanceConfigurationId: maintenanceConfigurationIdOf(instance),
      currentBackupStorageRedundancy: instance.backupStorageRedundancy,
      requestedBackupStorageRedundancy: instance.backupStorageRedundancy,
      timezoneId: instance.timezoneId,
      ...(instance.tdeProtector ? { keyId: instance.tdeProtector.keyUri } : {}),
    },
    location: instance.location,
    id: instance.id,
    name: instance.name,
    type: 'Microsoft.Sql/managedInstances',
  };
  if (instance.tags) body.tags = instance.tags;
  return body;
}

/**
 * The instance's maintenance window as ARM names it: the world's full id, or a public configuration's short name
 * (`SQL_EastUS_MI_1`) under the instance's subscription; Azure's default window without one.
 */
function maintenanceConfigurationIdOf(instance: InstanceState): string {
  const configured = instance.maintenanceConfigurationId ?? 'SQL_Default';
  if (configured.startsWith('/')) return configured;
  return `/subscriptions/${instance.subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/${configured}`;
}

export function armErrorBody(code: string, message: string): Record<string, unknown> {
  return { error: { code, message } };
}

/** `https://<vault>.vault.azure.net/keys/<key>/<version>` → `<vault>_<key>_<version>`, the name Azure gives the key. */
export function serverKeyName(uri: string): string {
  const match = /^https:\/\/([^.]+)\.vault\.[^/]+\/keys\/([^/]+)\/([^/]+)$/i.exec(uri);
  return match ? `${match[1]}_${match[2]}_${match[3]}` : uri;
}

/** A stable certificate-style thumbprint (40 hex digits) for a key. */
function thumbprintOf(uri: string): string {
  let out = '';
  for (let round = 0; out.length < 40; round++) {
    let hash = 0x811c9dc5 ^ round;
    for (const char of `${round}/${uri}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
    out += hash.toString(16).padStart(8, '0');
  }
  return out.slice(0, 40).toUpperCase();
}

/**
 * `managedInstances/{mi}/encryptionProtector/current` as ManagedInstanceEncryptionProtectors.json answers it (example
 * ManagedInstanceEncryptionProtectorGet): `AzureKeyVault` with the key's name and URI, or `ServiceManaged`.
 */
export function encryptionProtectorBody(instance: InstanceState): Record<string, unknown> {
  const uri = instance.tdeProtector?.keyUri;
  return {
    id: `${instance.id}/encryptionProtector/current`,
    name: 'current',
    type: 'Microsoft.Sql/managedInstances/encryptionProtector',
    kind: uri ? 'azurekeyvault' : 'servicemanaged',
    properties: uri
      ? {
          serverKeyName: serverKeyName(uri),
          serverKeyType: 'AzureKeyVault',
          uri,
          thumbprint: thumbprintOf(uri),
          autoRotationEnabled: false,
        }
      : { serverKeyName: 'ServiceManaged', serverKeyType: 'ServiceManaged', autoRotationEnabled: false },
  };
}

/**
 * `managedInstances/{mi}/keys` as ManagedInstanceKeys.json lists them (example ManagedInstanceKeyList): the
 * service-managed key, then every Key Vault key registered on the instance (its protector's included).
 */
export function instanceKeysBody(instance: InstanceState, keys: string[]): Record<string, unknown> {
  const created = new Date(instance.createdAt).toISOString();
  return {
    value: [
      {
        id: `${instance.id}/keys/ServiceManaged`,
        name: 'ServiceManaged',
        type: 'Microsoft.Sql/managedInstances/keys',
        kind: 'servicemanaged',
        properties: { serverKeyType: 'ServiceManaged', creationDate: created, autoRotationEnabled: false },
      },
      ...keys.map((uri) => ({
        id: `${instance.id}/keys/${serverKeyName(uri)}`,
        name: serverKeyName(uri),
        type: 'Microsoft.Sql/managedInstances/keys',
        kind: 'azurekeyvault',
        properties: {
          serverKeyType: 'AzureKeyVault',
          uri,
          thumbprint: thumbprintOf(uri),
          creationDate: created,
          autoRotationEnabled: false,
        },
      })),
    ],
  };
}

/**
 * A managed database as ManagedDatabases.json answers it (examples ManagedDatabaseGet, ManagedDatabaseListByManagedInstance).
 * On a group's secondary a database not seeded yet reads `Restoring` (inferred: Azure's status for a database whose copy
 * is still being restored from the seed; SQL Server shows a seeding secondary database as RESTORING).
 */
export function managedDatabaseBody(
  world: World,
  instance: InstanceState,
  database: DatabaseState | OwnDatabase,
  group: GroupState | undefined,
): Record<string, unknown> {
  const state = 'commits' in database ? database : database.retained;
  const now = world.now();
  const onSecondary = group !== undefined && group.primaryInstanceId !== instance.id;
  const seeding = state?.seeding;
  const restoring = state !== undefined && isRestoring(state, now);
  // A restore runs on the primary (`Creating`); the secondary's copy reads `Restoring` until it is seeded.
  const status =
    onSecondary && state && (restoring || !isSeeded(state, now)) ? 'Restoring' : restoring ? 'Creating' : 'Online';
  const secondaryLocation = group
    ? world.partnerInstance(group, instance.id).displayLocation
    : displayLocation(pairedRegion(instance.location));
  const properties: Record<string, unknown> = {
    collation: instance.collation,
    status,
    creationDate: new Date(
      onSecondary && seeding ? seeding.startsAt : (state?.createdAt ?? instance.createdAt),
    ).toISOString(),
    defaultSecondaryLocation: secondaryLocation,
    isLedgerOn: false,
  };
  if (state && !onSecondary && !restoring)
    properties.earliestRestorePoint = new Date(restoreWindow(world, state, instance, now).earliest).toISOString();
  if (state?.restore) {
    properties.createMode = state.restore.createMode;
    if (state.restore.sourceDatabaseId) properties.sourceDatabaseId = state.restore.sourceDatabaseId;
    if (state.restore.restorableDroppedDatabaseId)
      properties.restorableDroppedDatabaseId = state.restore.restorableDroppedDatabaseId;
    if (state.restore.longTermRetentionBackupResourceId)
      properties.longTermRetentionBackupResourceId = state.restore.longTermRetentionBackupResourceId;
    if (state.restore.pointInTime !== undefined && state.restore.createMode === 'PointInTimeRestore')
      properties.restorePointInTime = new Date(state.restore.pointInTime).toISOString();
  }
  return {
    id: `${instance.id}/databases/${database.name}`,
    name: database.name,
    type: 'Microsoft.Sql/managedInstances/databases',
    location: instance.location,
    properties,
  };
}
