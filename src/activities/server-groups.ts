/**
 * Control-plane activities of Azure SQL Database's server failover groups (`servers/{server}/failoverGroups/{group}`),
 * the second kind behind the runbooks' group-kind seam (src/workflows/steps/group-kind.ts). They answer in the shapes
 * the Managed Instance activities answer in, so the runbooks' steps read either kind alike:
 *
 * - a group's **member** at a location is the group's side on that location's server, named by the group's id at that
 *   server (`…/servers/{server}/failoverGroups/{group}`): its server, the member databases it holds, their elastic
 *   pools and the operations running on them. Its `instance` view describes the server (sizes are per database, in
 *   `serverSide`);
 * - scaling a side changes the SKU of each database or pool the target names (one PATCH each), and its progress is all
 *   of theirs;
 * - a failover is the same gated, at-most-once send (`sendFailoverGated`), with the action POSTed at the server.
 */
import { ApplicationFailure } from '@temporalio/common';
import { withArmMeter } from '../azure/arm-call-meter';
import { classifyArmError } from '../azure/errors';
import type { ArmAnswer } from '../azure/control-plane';
import type { ServerFailoverAction, ServerGroupApi, ServerGroupPlane } from '../azure/server-group-plane';
import {
  operationInFlight,
  type FailoverGroupView,
  type LogicalServerView,
  type ManagedInstanceView,
  type OperationProgress,
  type ScaleTarget,
  type SqlScaleItem,
  type ServerSideDetail,
  type SqlSku,
} from '../domain/azure-state';
import {
  logicalServerId,
  parseServerFailoverGroupId,
  serverAt,
  serverFailoverGroupId,
  type GroupIdentity,
} from '../domain/group-ref';
import { normalizeLocation } from '../domain/locations';
import { sameSqlSize } from '../domain/sql-sku';
import { FailureTypes } from '../workflows/definitions';
import {
  busyForScale,
  classified,
  progressReading,
  rolesReading,
  sendFailoverGated,
  type FailoverProgressReading,
  type FailoverSendResult,
  type GroupRolesReading,
  type InstanceReading,
  type InstancesReading,
  type OperationProgressReading,
  type StartScaleResult,
} from './arm';
import { KEEP_ALIVE_INTERVAL_MS } from './keep-alive';

export interface ServerGroupDependencies {
  /** Absent on a worker built without it: runbooks on SQL Database groups then fail at once, saying so. */
  serverGroupPlane?: ServerGroupPlane;
  now?: () => number;
  sendHeartbeatIntervalMs?: number;
}

/** A failover of a server group: planned, forced, or Azure's own planned-then-forced. */
export type ServerFailoverKind = 'planned' | 'forced' | 'try-planned';

const ACTIONS: Record<ServerFailoverKind, ServerFailoverAction> = {
  planned: 'failover',
  forced: 'forceFailoverAllowDataLoss',
  'try-planned': 'tryPlannedBeforeForcedFailover',
};

/** One SKU change a side's scale follows: by the tracking id its PATCH returned, or an adopted running operation. */
interface TrackedChange {
  resourceId: string;
  trackingId?: string;
  operation?: string;
}

const TRACKING_PREFIX = 'each:';

/** A server's view in the shape the runbooks read a member's: no instance sizes (they are per database). */
function serverAsInstance(memberId: string, server: LogicalServerView): ManagedInstanceView {
  return {
    id: memberId,
    name: server.name,
    location: normalizeLocation(server.location),
    skuName: 'SqlDatabase',
    tier: 'SqlDatabase',
    vCores: 0,
    storageSizeInGB: 0,
    // A logical server has no provisioning of its own to wait for; its state is what Azure reports.
    provisioningState: 'Succeeded',
    state: server.state ?? 'Ready',
    fullyQualifiedDomainName: server.fullyQualifiedDomainName,
  };
}

export function createServerGroupActivities({
  serverGroupPlane,
  now = Date.now,
  sendHeartbeatIntervalMs = KEEP_ALIVE_INTERVAL_MS,
}: ServerGroupDependencies) {
  function plane(): ServerGroupPlane {
    if (serverGroupPlane) return serverGroupPlane;
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message:
        'This worker was built without the SQL Database control plane, so it cannot run runbooks on server ' +
        'failover groups (kind "sqlDatabase"). Run a worker of this version or later.',
    });
  }

  function serverOf(group: GroupIdentity, location: string): string {
    try {
      return serverAt(group, location);
    } catch (error) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: `${(error as Error).message}. Add the region's server to the group's "servers" in the inventory.`,
      });
    }
  }

  async function readGroupAtServer(
    group: GroupIdentity,
    server: string,
    signal?: AbortSignal,
    coalesce?: boolean,
  ): Promise<ArmAnswer<FailoverGroupView>> {
    return classified(`reading failover group ${group.name} at server ${server}`, FailureTypes.GroupNotFound, () =>
      plane().getServerFailoverGroup(group, server, {
        abortSignal: signal,
        ...(coalesce === false ? { coalesce } : {}),
      }),
    );
  }

  /**
   * The view as the runbooks read a pair: its partner chosen among `locations` (the primary's answer names every
   * secondary; a reader asking about a pair wants that pair's partner), and the pair's member ids as a Managed
   * Instance group's `managedInstancePairs[0]` gives them: `primaryManagedInstanceId` the primary's side,
   * `partnerManagedInstanceId` the secondary's, whichever server answered.
   */
  function pairedView(group: GroupIdentity, view: FailoverGroupView, locations: string[]): FailoverGroupView {
    const partners = view.server?.partners ?? [];
    const isPrimary = view.replicationRole.toLowerCase() === 'primary';
    const asked = partners.find(
      (entry) =>
        normalizeLocation(entry.location) !== view.location && locations.includes(normalizeLocation(entry.location)),
    );
    const primaryPartner = partners.find((entry) => (entry.role ?? '').toLowerCase() === 'primary');
    // At the primary the pair is the secondary asked about; at a secondary, the primary (another secondary that a
    // secondary may list is never its pair).
    const partner = isPrimary ? (asked ?? partners[0]) : (primaryPartner ?? asked ?? partners[0]);
    if (!partner) return view;
    const partnerId = serverFailoverGroupId(group, partner.serverName);
    return {
      ...view,
      partnerLocation: normalizeLocation(partner.location),
      ...(partner.role !== undefined ? { partnerRole: partner.role } : {}),
      primaryManagedInstanceId: isPrimary ? view.id : partnerId,
      partnerManagedInstanceId: isPrimary ? partnerId : view.id,
    };
  }

  async function readSide(memberId: string): Promise<InstanceReading & { serverSide: ServerSideDetail }> {
    const parsed = parseServerFailoverGroupId(memberId);
    if (!parsed) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message: `${memberId} is not the id of a server failover group at a server`,
      });
    }
    const group: GroupIdentity = {
      subscriptionId: parsed.subscriptionId,
      resourceGroup: parsed.resourceGroup,
      name: parsed.name,
      kind: 'sqlDatabase',
    };
    const serverId = logicalServerId(parsed.subscriptionId, parsed.resourceGroup, parsed.server);
    try {
      const [server, view, databases, pools] = await Promise.all([
        plane().getLogicalServer(serverId),
        plane().getServerFailoverGroup(group, parsed.server),
        plane().listServerDatabases(serverId),
        plane().listElasticPools(serverId),
      ]);
      const members = new Set((view.value.server?.databases ?? []).map((name) => name.toLowerCase()));
      const held = databases.value.filter((database) => members.has(database.name.toLowerCase()));
      const poolIds = new Set(
        held.flatMap((database) => (database.elasticPoolId ? [database.elasticPoolId.toLowerCase()] : [])),
      );
      const elasticPools = pools.value.filter((pool) => poolIds.has(pool.id.toLowerCase()));
      const operations = await Promise.all(
        [...held.map((database) => database.id), ...elasticPools.map((pool) => pool.id)].map(
          async (resourceId) => (await plane().listSqlOperations(resourceId)).value,
        ),
      );
      const heldNames = new Set(held.map((database) => database.name.toLowerCase()));
      return {
        instance: serverAsInstance(memberId, server.value),
        operationsInFlight: operations.flat().filter(operationInFlight),
        serverSide: {
          server: server.value,
          databases: held,
          elasticPools,
          missingDatabases: [...members].filter((name) => !heldNames.has(name)),
          otherDatabases: databases.value
            .filter((database) => !members.has(database.name.toLowerCase()))
            .map((database) => database.name),
        },
      };
    } catch (error) {
      throw classifyArmError(error, { doing: `reading server ${parsed.server} of group ${parsed.name}` });
    }
  }

  /** The resource a scale item names on a side, with its SKU now. */
  function resourceOf(
    side: ServerSideDetail,
    item: SqlScaleItem,
  ): { id: string; sku: SqlSku; requested?: string } | undefined {
    if (item.type === 'database') {
      const database = side.databases.find((entry) => entry.name.toLowerCase() === item.name.toLowerCase());
      return database && { id: database.id, sku: database.sku, requested: database.requestedServiceObjectiveName };
    }
    const pool = side.elasticPools.find((entry) => entry.name.toLowerCase() === item.name.toLowerCase());
    return pool && { id: pool.id, sku: pool.sku };
  }

  return {
    /** What the api-version this worker sends for server failover groups offers (no request). */
    serverGroupApi(): Promise<ServerGroupApi> {
      return Promise.resolve(plane().api);
    },

    /**
     * Reads a server failover group at each location's server (in parallel) and adds the answers up, each view's
     * partner chosen among the locations read. Read-only.
     */
    async readServerGroupRoles(request: { group: GroupIdentity; locations: string[] }): Promise<GroupRolesReading> {
      const locations = request.locations.map(normalizeLocation);
      const servers = locations.map((location) => serverOf(request.group, location));
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all(servers.map((server) => readGroupAtServer(request.group, server))),
      );
      return rolesReading(
        result.map((answer) => pairedView(request.group, answer.value, locations)),
        result,
        armCalls,
      );
    },

    /**
     * Reads each side (the group's id at a server): the server, the member databases it holds, their pools and the
     * operations running on them. Read-only.
     */
    async readServerSides(request: { memberIds: string[] }): Promise<InstancesReading> {
      const { result, armCalls } = await withArmMeter(() => Promise.all(request.memberIds.map(readSide)));
      return { instances: result, armCalls };
    },

    /**
     * Starts scaling a side to `target.members`, idempotently: a database or pool already at its SKU is left alone,
     * one whose running operation asks for that SKU is adopted, and one busy with anything else fails `GroupBusy`
     * before any PATCH is sent. The tracking id names every change, so its progress is all of theirs.
     */
    async startServerSideScale(request: { memberId: string; target: ScaleTarget }): Promise<StartScaleResult> {
      const items = request.target.members ?? [];
      const { result, armCalls } = await withArmMeter(async (): Promise<Omit<StartScaleResult, 'armCalls'>> => {
        const side = (await readSide(request.memberId)).serverSide;
        const before: SqlScaleItem[] = [];
        const toSend: { id: string; item: SqlScaleItem }[] = [];
        const tracked: TrackedChange[] = [];
        for (const item of items) {
          const resource = resourceOf(side, item);
          if (!resource) {
            throw ApplicationFailure.create({
              type: FailureTypes.InvalidInput,
              nonRetryable: true,
              message:
                `${item.type === 'database' ? 'Database' : 'Elastic pool'} ${item.name} is not among the group's ` +
                `on server ${side.server.name}; name a member database or its elastic pool.`,
            });
          }
          if (sameSqlSize(resource.sku, item.sku)) continue;
          before.push({ ...item, sku: resource.sku });
          const { value: operations } = await plane().listSqlOperations(resource.id);
          const running = operations.filter(operationInFlight);
          const adoptable =
            resource.requested !== undefined && resource.requested.toLowerCase() === item.sku.name.toLowerCase();
          if (running.length > 0 && adoptable) {
            tracked.push({ resourceId: resource.id, operation: running[0]!.name });
            continue;
          }
          if (running.length > 0)
            throw busyForScale(`${item.name} on ${side.server.name}`, running[0]!, { resource: resource.id });
          toSend.push({ id: resource.id, item });
        }
        const beforeSize = { vCores: 0, storageSizeInGB: 0, members: before };
        if (toSend.length === 0 && tracked.length === 0) return { status: 'already-at-target', before: beforeSize };
        for (const { id, item } of toSend) {
          try {
            const { value } = await plane().beginUpdateSku(id, item.sku);
            tracked.push({ resourceId: id, trackingId: value.trackingId });
          } catch (error) {
            throw classifyArmError(error, { doing: `scaling ${item.name} on ${side.server.name} to ${item.sku.name}` });
          }
        }
        return {
          status: toSend.length === 0 ? 'adopted-operation' : 'started',
          trackingId: `${TRACKING_PREFIX}${JSON.stringify(tracked)}`,
          before: beforeSize,
        };
      });
      return { ...result, armCalls };
    },

    /** One read of every change a side's scale made: in progress until all end, failed when any did. Read-only. */
    async readServerSideScaleProgress(request: {
      memberId: string;
      trackingId: string;
    }): Promise<OperationProgressReading> {
      const changes = parseTracking(request.trackingId);
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all(
          changes.map(async (change): Promise<ArmAnswer<OperationProgress>> => {
            try {
              if (change.trackingId) return await plane().getSqlOperationProgress(change.resourceId, change.trackingId);
              const { value } = await plane().listSqlOperations(change.resourceId);
              const operation = value.find((entry) => entry.name === change.operation);
              return { value: progressOfListed(operation?.state, operation?.errorMessage, operation?.percentComplete) };
            } catch (error) {
              throw classifyArmError(error, { doing: `reading the scale of ${change.resourceId}` });
            }
          }),
        ),
      );
      const progress = combineProgress(result.map((answer) => answer.value));
      const retryAfterMs = Math.max(0, ...result.map((answer) => answer.retryAfterMs ?? 0));
      return { ...progress, ...(retryAfterMs > 0 ? { retryAfterMs } : {}), armCalls };
    },

    /**
     * Sends a failover of a server failover group to `targetLocation`'s server at most once: the same gate as
     * `sendFailover` (already primary or a failover under way → nothing sent; 409 busy → `refused-busy`).
     */
    async sendServerFailover(request: {
      group: GroupIdentity;
      targetLocation: string;
      kind: ServerFailoverKind;
      targetView?: FailoverGroupView;
    }): Promise<FailoverSendResult> {
      const target = normalizeLocation(request.targetLocation);
      const server = serverOf(request.group, target);
      const action = ACTIONS[request.kind];
      return sendFailoverGated({
        doing: `sending ${action} of ${request.group.name} to ${server} (${target})`,
        heartbeatIntervalMs: sendHeartbeatIntervalMs,
        now,
        targetView: request.targetView,
        readTarget: async (signal, coalesce) => {
          const answer = await readGroupAtServer(request.group, server, signal, coalesce);
          return { ...answer, value: pairedView(request.group, answer.value, [target]) };
        },
        post: async (signal) =>
          (await plane().beginServerFailover(request.group, server, action, { abortSignal: signal })).value,
      });
    },

    /** One read of a server failover group's failover operation. Read-only. */
    async readServerFailoverProgress(request: {
      group: GroupIdentity;
      trackingId: string;
    }): Promise<FailoverProgressReading> {
      return progressReading(`reading the failover operation of ${request.group.name}`, () =>
        plane().getServerFailoverProgress(request.group, request.trackingId),
      );
    },
  };
}

function parseTracking(trackingId: string): TrackedChange[] {
  if (!trackingId.startsWith(TRACKING_PREFIX)) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidInput,
      nonRetryable: true,
      message: `${trackingId} is not the tracking id of a server group's scale`,
    });
  }
  return JSON.parse(trackingId.slice(TRACKING_PREFIX.length)) as TrackedChange[];
}

/** An operation as the list shows it; one no longer listed has ended (Azure keeps them a while, then drops them). */
function progressOfListed(state: string | undefined, message?: string, percentComplete?: number): OperationProgress {
  switch (state) {
    case undefined:
    case 'Succeeded':
      return { state: 'Succeeded', percentComplete: 100 };
    case 'Failed':
      return { state: 'Failed', error: { message: message ?? 'the operation failed' } };
    case 'Cancelled':
    case 'Canceled':
      return { state: 'Canceled' };
    default:
      return { state: 'InProgress', ...(percentComplete !== undefined ? { percentComplete } : {}) };
  }
}

/** Every change's progress as one: in progress while any runs; then failed or cancelled if any was, else succeeded. */
export function combineProgress(all: OperationProgress[]): OperationProgress {
  if (all.some((entry) => entry.state === 'InProgress')) {
    const percents = all.map((entry) => (entry.state === 'InProgress' ? (entry.percentComplete ?? 0) : 100));
    return {
      state: 'InProgress',
      percentComplete: Math.floor(percents.reduce((sum, value) => sum + value, 0) / Math.max(1, percents.length)),
    };
  }
  const failed = all.find((entry) => entry.state === 'Failed');
  if (failed) return failed;
  const canceled = all.find((entry) => entry.state === 'Canceled');
  if (canceled) return canceled;
  return { state: 'Succeeded', percentComplete: 100 };
}
