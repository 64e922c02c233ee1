/**
 * Activities of a failover group's life outside its switchovers: reading everything a pair needs before a group is
 * created between it, creating and deleting the group (each once, idempotently), and reading seeding progress.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ArmAnswer, ControlPlane } from '../azure/control-plane';
import { classifyArmError, errorText } from '../azure/errors';
import { withArmMeter } from '../azure/arm-call-meter';
import {
  operationInFlight,
  summarizeGroupRoles,
  type EncryptionProtectorView,
  type GroupRolesSummary,
  type OperationProgress,
  type FailoverGroupDefinition,
  type FailoverGroupView,
  type InstanceKeyView,
  type ManagedDatabaseView,
  type ManagedInstanceView,
  type ManagementOperationView,
  type NetworkSecurityGroupView,
  type SeedingProgress,
  type SubnetView,
} from '../domain/azure-state';
import { resolvedGroup, type GroupIdentity, type ResolvedGroup } from '../domain/group-ref';
import { isManagedInstanceId } from '../domain/inputs';
import { unsupportedKindReason } from '../domain/kind-support';
import type { Inventory } from '../config/inventory';
import { normalizeLocation } from '../domain/locations';
import type { DataPlane, SqlInstanceTarget } from '../sql/data-plane';
import { FailureTypes } from '../workflows/definitions';
import type { Metered } from './arm';

/** A part of the evidence that may be unreadable (no permission on the vnet, say) without failing the whole read. */
export type Readable<T> = { value: T } | { error: string };

/** One instance of the pair and everything read about it. */
export interface InstanceSideEvidence {
  instance: ManagedInstanceView;
  operationsInFlight: ManagementOperationView[];
  databases: Readable<ManagedDatabaseView[]>;
  /** Failover groups that name this instance, found at its location in its resource group and the group's. */
  groups: FailoverGroupView[];
  tde: Readable<{ protector: EncryptionProtectorView; keys: InstanceKeyView[] }>;
  network: Readable<{ subnet: SubnetView; nsg?: NetworkSecurityGroupView }>;
}

export interface PairEvidence extends Metered {
  primary: InstanceSideEvidence;
  secondary: InstanceSideEvidence;
}

export interface ReadPairRequest {
  primaryInstanceId: string;
  secondaryInstanceId: string;
  /** The resource group the group lives (or is to live) in, searched for memberships besides the instances' own. */
  groupResourceGroup?: string;
}

export interface GroupChangeResult extends Metered {
  /**
   * `sent`: this call's request was accepted. `exists`: the group already pairs these instances (a create that
   * already happened, perhaps an earlier attempt whose answer was lost). `absent`: nothing to delete.
   */
  outcome: 'sent' | 'exists' | 'absent';
  /** The operation's Azure-AsyncOperation, to follow with `readFailoverProgress`. */
  trackingId?: string;
}

export interface SeedingReading {
  /** Per database, from the secondary's seeding DMV (empty when it could not be read: see `unreadable`). */
  databases: SeedingProgress[];
  /** Why the data plane could not be read (the secondary is still restoring, a login refused…). */
  unreadable?: string;
}

/** One read of a seeding group: its roles at both locations, its creation operation and the secondary's DMV. */
export interface SeedingStateReading extends Metered {
  /** The group's roles and replication state; `error` when a location did not answer (seeding goes on regardless). */
  roles: { summary: GroupRolesSummary } | { error: string };
  /** The creation operation, when one is followed. */
  operation?: OperationProgress;
  seeding: SeedingReading;
}

export interface GroupLifecycleDependencies {
  controlPlane: ControlPlane;
  dataPlane: DataPlane;
  inventory: Inventory;
}

/** A group to be created, resolved: where it is to live, its lock id, and the ARM ids of its two instances. */
export interface NewGroupResolution extends Metered {
  /** Coordinates with the instances' regions as primary and secondary. */
  group: ResolvedGroup;
  primaryInstanceId: string;
  secondaryInstanceId: string;
  primaryHost: string;
  secondaryHost: string;
}

const RESOURCE_GROUP_OF = /\/resourceGroups\/([^/]+)\//i;
const SUBSCRIPTION_OF = /^\/subscriptions\/([^/]+)\//i;

/** Whether an error is one Temporal should retry (throttling, outages), as the ARM classification says. */
function retryable(failure: ApplicationFailure): boolean {
  return failure.nonRetryable !== true;
}

function invalidInput(message: string, field: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.InvalidInput,
    nonRetryable: true,
    message: `${field}: ${message}. Nothing was read or changed.`,
    details: [{ problems: [{ field, message }] }],
  });
}

export function createGroupLifecycleActivities({ controlPlane, dataPlane, inventory }: GroupLifecycleDependencies) {
  /** A part of the evidence: retryable faults fail the activity (Temporal retries it); facts are kept as evidence. */
  async function readable<T>(doing: string, read: () => Promise<ArmAnswer<T>>): Promise<Readable<T>> {
    try {
      return { value: (await read()).value };
    } catch (error) {
      const failure = classifyArmError(error, { doing });
      if (retryable(failure)) throw failure;
      return { error: failure.message };
    }
  }

  async function readSide(instanceId: string, groupResourceGroup: string | undefined): Promise<InstanceSideEvidence> {
    let instance: ManagedInstanceView;
    let operations: ManagementOperationView[];
    try {
      [instance, operations] = await Promise.all([
        controlPlane.getManagedInstance(instanceId, { coalesce: false }).then((answer) => answer.value),
        controlPlane.listManagedInstanceOperations(instanceId).then((answer) => answer.value),
      ]);
    } catch (error) {
      throw classifyArmError(error, {
        doing: `reading managed instance ${instanceId}`,
        notFoundType: FailureTypes.InvalidInput,
      });
    }
    const subscriptionId = SUBSCRIPTION_OF.exec(instanceId)?.[1] ?? '';
    const subnetId = instance.subnetId;
    const resourceGroups = [
      ...new Set([RESOURCE_GROUP_OF.exec(instanceId)?.[1], groupResourceGroup].filter(Boolean) as string[]),
    ];
    const [databases, groupLists, tde, network] = await Promise.all([
      readable(`listing the databases of ${instance.name}`, () => controlPlane.listManagedDatabases(instanceId)),
      Promise.all(
        resourceGroups.map(async (resourceGroup) => {
          try {
            return (
              await controlPlane.listFailoverGroups({ subscriptionId, resourceGroup, location: instance.location })
            ).value;
          } catch (error) {
            throw classifyArmError(error, {
              doing: `listing the failover groups of ${resourceGroup} at ${instance.location}`,
            });
          }
        }),
      ),
      readable(`reading the TDE protector of ${instance.name}`, () => controlPlane.getTdeKeys(instanceId)),
      subnetId === undefined
        ? Promise.resolve({ error: `${instance.name} reports no subnet` })
        : readable(`reading the network of ${instance.name}`, async () => {
            const subnet = (await controlPlane.getSubnet(subnetId)).value;
            const nsg = subnet.networkSecurityGroupId
              ? (await controlPlane.getNetworkSecurityGroup(subnet.networkSecurityGroupId)).value
              : undefined;
            return { value: nsg ? { subnet, nsg } : { subnet } };
          }),
    ]);
    const id = instanceId.toLowerCase();
    const groups = groupLists
      .flat()
      .filter(
        (view) =>
          view.primaryManagedInstanceId.toLowerCase() === id || view.partnerManagedInstanceId.toLowerCase() === id,
      );
    return { instance, operationsInFlight: operations.filter(operationInFlight), databases, groups, tde, network };
  }

  return {
    /**
     * Resolves the group `establishGroup` is to create: an inventory name gives the subscription, resource group and
     * Azure name (and instance names are looked up in that resource group); otherwise `name` is the Azure name and the
     * instances must be ARM ids, the group living in the primary's resource group. Reads both instances for their
     * regions and endpoints. Read-only. Fails `InvalidInput` naming the field (an instance name without an inventory
     * group, an instance that does not exist, regions the inventory contradicts).
     */
    async resolveNewGroup(request: {
      name: string;
      primaryInstance: string;
      secondaryInstance: string;
      /** A reprotect moves the group to a new pair of regions: the inventory's old regions are no refusal then. */
      newRegions?: boolean;
    }): Promise<NewGroupResolution> {
      const entry = inventory.get(request.name);
      // An inventory name of a SQL Database group: establishGroup creates Managed Instance groups only.
      const refused = entry && unsupportedKindReason('establishGroup', { ...entry, displayName: request.name });
      if (refused) throw invalidInput(refused, 'name');
      const idOf = (ref: string, field: string): string => {
        if (isManagedInstanceId(ref)) return ref;
        if (!entry)
          throw invalidInput(
            `"${ref}" is a name, and "${request.name}" is not an inventory group to look it up in; give the ARM id ` +
              '(/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Sql/managedInstances/<name>)',
            field,
          );
        return `/subscriptions/${entry.subscriptionId}/resourceGroups/${entry.resourceGroup}/providers/Microsoft.Sql/managedInstances/${ref}`;
      };
      const primaryInstanceId = idOf(request.primaryInstance, 'primaryInstance');
      const secondaryInstanceId = idOf(request.secondaryInstance, 'secondaryInstance');
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all(
          [
            [primaryInstanceId, 'primaryInstance'],
            [secondaryInstanceId, 'secondaryInstance'],
          ].map(async ([id, field]) => {
            try {
              return (await controlPlane.getManagedInstance(id!)).value;
            } catch (error) {
              const failure = classifyArmError(error, {
                doing: `reading managed instance ${id}`,
                notFoundType: 'missing',
              });
              if (failure.type === 'missing') throw invalidInput(`managed instance ${id} does not exist`, field!);
              throw failure;
            }
          }),
        ),
      );
      const [primary, secondary] = result as [ManagedInstanceView, ManagedInstanceView];
      const subscriptionId = entry?.subscriptionId ?? SUBSCRIPTION_OF.exec(primaryInstanceId)![1]!;
      const resourceGroup = entry?.resourceGroup ?? RESOURCE_GROUP_OF.exec(primaryInstanceId)![1]!;
      const name = entry?.name ?? request.name;
      if (
        entry &&
        request.newRegions !== true &&
        (normalizeLocation(entry.primaryLocation) !== primary.location ||
          normalizeLocation(entry.secondaryLocation) !== secondary.location)
      ) {
        throw invalidInput(
          `the inventory gives ${request.name} the regions ${entry.primaryLocation} and ${entry.secondaryLocation}, ` +
            `but ${primary.name} is in ${primary.location} and ${secondary.name} in ${secondary.location}; correct ` +
            'the inventory or name the instances in its regions',
          'name',
        );
      }
      const coordinates = {
        subscriptionId,
        resourceGroup,
        name,
        primaryLocation: primary.location,
        secondaryLocation: secondary.location,
      };
      const known = entry ? request.name : inventory.nameOf(coordinates);
      return {
        group: resolvedGroup(coordinates, known, known ? 'inventory' : 'coordinates'),
        primaryInstanceId: primary.id || primaryInstanceId,
        secondaryInstanceId: secondary.id || secondaryInstanceId,
        primaryHost: primary.fullyQualifiedDomainName,
        secondaryHost: secondary.fullyQualifiedDomainName,
        armCalls,
      };
    },

    /**
     * Reads both instances of a pair and what a failover group between them depends on: their settings, running
     * operations, user databases, group memberships, TDE protectors and keys, and their subnets' network rules.
     * Read-only. A missing instance fails `InvalidInput`; parts the worker may not read (the vnet, the keys) come back
     * as `{ error }` for the checks to report; throttling and outages retry.
     */
    async readPairEvidence(request: ReadPairRequest): Promise<PairEvidence> {
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all([
          readSide(request.primaryInstanceId, request.groupResourceGroup),
          readSide(request.secondaryInstanceId, request.groupResourceGroup),
        ]),
      );
      return { primary: result[0], secondary: result[1], armCalls };
    },

    /**
     * Creates the failover group at the primary's location, once: when the group already exists between these two
     * instances (at either location) nothing is sent (`exists`). Not retried blindly: a PUT whose answer was lost is
     * found by that read on the next attempt. Azure's refusals (DnsZoneMismatch, GeoDrSecondaryInstanceNotEmpty, …)
     * fail `AzureRequestRejected` with its message; throttling and outages retry.
     */
    async sendCreateGroup(request: {
      group: GroupIdentity;
      location: string;
      definition: FailoverGroupDefinition;
    }): Promise<GroupChangeResult> {
      const { group, definition } = request;
      const location = normalizeLocation(request.location);
      const { result, armCalls } = await withArmMeter(async (): Promise<Omit<GroupChangeResult, 'armCalls'>> => {
        const existing = await findGroup(group, [location, normalizeLocation(definition.partnerLocation)]);
        if (existing) {
          const pair = [existing.primaryManagedInstanceId, existing.partnerManagedInstanceId].map((id) =>
            id.toLowerCase(),
          );
          const asked = [definition.primaryInstanceId, definition.partnerInstanceId].map((id) => id.toLowerCase());
          if (asked.every((id) => pair.includes(id))) return { outcome: 'exists' };
          throw ApplicationFailure.create({
            type: FailureTypes.AzureRequestRejected,
            nonRetryable: true,
            message:
              `A failover group named ${group.name} already exists in ${group.resourceGroup} between other instances ` +
              `(${existing.primaryManagedInstanceId} and ${existing.partnerManagedInstanceId}). Nothing was created: ` +
              'choose another name.',
          });
        }
        try {
          const { value } = await controlPlane.beginCreateFailoverGroup(group, location, definition);
          return { outcome: 'sent', trackingId: value.trackingId };
        } catch (error) {
          throw classifyArmError(error, { doing: `creating failover group ${group.name} at ${location}` });
        }
      });
      return { ...result, armCalls };
    },

    /**
     * Deletes the failover group at `location` (the primary's), once: a group already gone is `absent`. Azure's
     * refusals fail `AzureRequestRejected`; throttling and outages retry.
     */
    async sendDeleteGroup(request: { group: GroupIdentity; location: string }): Promise<GroupChangeResult> {
      const { group } = request;
      const location = normalizeLocation(request.location);
      const { result, armCalls } = await withArmMeter(async (): Promise<Omit<GroupChangeResult, 'armCalls'>> => {
        if (!(await findGroup(group, [location]))) return { outcome: 'absent' };
        try {
          const { value } = await controlPlane.beginDeleteFailoverGroup(group, location);
          return value.status === 204 ? { outcome: 'absent' } : { outcome: 'sent', trackingId: value.trackingId };
        } catch (error) {
          throw classifyArmError(error, { doing: `deleting failover group ${group.name} at ${location}` });
        }
      });
      return { ...result, armCalls };
    },

    /**
     * Everything one look at a seeding group takes, as one activity so a wait of days stays a small history: the
     * group at both locations (a location that does not answer is reported, not retried: the next look reads it
     * again), the creation operation when `trackingId` is given, and the secondary's seeding DMV (see
     * `readSeedingProgress`). Read-only. A failed creation operation read (throttled, an outage) retries.
     */
    async readSeedingState(request: {
      group: GroupIdentity;
      locations: string[];
      trackingId?: string;
      secondary: SqlInstanceTarget;
    }): Promise<SeedingStateReading> {
      const { group } = request;
      const { result, armCalls } = await withArmMeter(async () => {
        // Every read ends before the activity answers or fails: none is left running past it.
        const [roles, operation, seeding] = await Promise.allSettled([
          Promise.all(
            request.locations.map(async (location) => (await controlPlane.getFailoverGroup(group, location)).value),
          ),
          request.trackingId ? controlPlane.getFailoverProgress(group, request.trackingId) : Promise.resolve(undefined),
          seedingProgress(request.secondary),
        ]);
        if (operation.status === 'rejected')
          throw classifyArmError(operation.reason, { doing: `reading the creation operation of ${group.name}` });
        if (seeding.status === 'rejected') throw seeding.reason;
        return {
          roles:
            roles.status === 'fulfilled'
              ? { summary: summarizeGroupRoles(roles.value) }
              : { error: classifyArmError(roles.reason, { doing: `reading failover group ${group.name}` }).message },
          ...(operation.value ? { operation: operation.value.value } : {}),
          seeding: seeding.value,
        };
      });
      return { ...result, armCalls };
    },

    /**
     * The seeding of each database on the secondary, from its seeding DMV. Read-only. A secondary that cannot be
     * read yet is `unreadable` (with why), not a failure: the group's own state still tells whether it seeds.
     */
    async readSeedingProgress(request: { secondary: SqlInstanceTarget }): Promise<SeedingReading> {
      return seedingProgress(request.secondary);
    },
  };

  async function seedingProgress(secondary: SqlInstanceTarget): Promise<SeedingReading> {
    try {
      return { databases: await dataPlane.listSeedingProgress(secondary) };
    } catch (error) {
      // Progress is for people: a secondary that cannot be read now (restoring, a dropped session) is no failure;
      // the group's own state says whether it still seeds.
      return { databases: [], unreadable: errorText(error) };
    }
  }

  /** The group as ARM answers it at the first of `locations` that knows it; undefined when none does. */
  async function findGroup(group: GroupIdentity, locations: string[]): Promise<FailoverGroupView | undefined> {
    for (const location of locations) {
      try {
        return (await controlPlane.getFailoverGroup(group, location, { coalesce: false })).value;
      } catch (error) {
        const failure = classifyArmError(error, {
          doing: `reading failover group ${group.name} at ${location}`,
          notFoundType: FailureTypes.GroupNotFound,
        });
        if (failure.type !== FailureTypes.GroupNotFound) throw failure;
      }
    }
    return undefined;
  }
}
