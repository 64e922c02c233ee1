/**
 * Azure SQL Database's server failover groups over ARM, built on the {@link ArmControlPlane}'s clients (one credential,
 * one request budget per subscription, one meter).
 *
 * The group's own requests (its GET and the three failover POSTs) go out through the control plane's pipeline with the
 * configured api-version (`azure.sqlDatabaseApiVersion`): `@azure/arm-sql` 10 sends 2020-11-01-preview for failover
 * groups, older than `tryPlannedBeforeForcedFailover` and several secondaries (see ./server-group-api). Servers,
 * databases, elastic pools and their operations go through `@azure/arm-sql`'s own clients.
 *
 * Tracking ids, for the `get…Progress` methods: `async:<url>` follows an Azure-AsyncOperation, `location:<url>` a
 * `Location` the way ARM defines it (202 while running), `completed` an answer that was final; a bare name is a
 * database's or an elastic pool's management operation.
 */
import { createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { OperationOptions } from '@azure/core-client';
import type { Database, DatabaseOperation, ElasticPool, ElasticPoolOperation, Sku } from '@azure/arm-sql';
import type {
  ElasticPoolView,
  FailoverGroupView,
  LogicalServerView,
  ManagementOperationView,
  OperationProgress,
  ServerGroupSide,
  SqlDatabaseView,
  SqlSku,
} from '../domain/azure-state';
import { locationOfServer, serverFailoverGroupId, serverNameOfId, type GroupIdentity } from '../domain/group-ref';
import { normalizeLocation } from '../domain/locations';
import { progressState, retryAfterMs, type ArmControlPlane } from './arm-control-plane';
import type { ArmAnswer, ArmRequestOptions } from './control-plane';
import { ArmRequestError } from './errors';
import {
  DEFAULT_SQL_DATABASE_API_VERSION,
  FIRST_MULTI_SECONDARY_API_VERSION,
  serverGroupApiOf,
} from './server-group-api';
import type { ServerFailoverAction, ServerGroupApi, ServerGroupPlane } from './server-group-plane';

export interface ArmServerGroupPlaneOptions {
  /**
   * The ARM endpoint the control plane was built with (`config.armEndpoint`, or the emulator's): the group's requests
   * are addressed here, through the control plane's pipeline.
   */
  endpoint: string;
  /** The api-version of failover-group requests (fogpilot.yaml `azure.sqlDatabaseApiVersion`); default 2025-01-01. */
  apiVersion?: string;
}

// ── ARM ids ─────────────────────────────────────────────────────────────────────────────────────────────────────

const SERVER_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/servers\/([^/]+)$/i;
const SERVER_CHILD_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/servers\/([^/]+)\/(databases|elasticPools)\/([^/]+)$/i;

export interface LogicalServerRef {
  subscriptionId: string;
  resourceGroup: string;
  server: string;
}

/** A database's or an elastic pool's id, parsed. */
export interface ServerChildRef extends LogicalServerRef {
  type: 'database' | 'elasticPool';
  name: string;
}

function invalidId(what: string, id: string): ArmRequestError {
  return new ArmRequestError(`not the ARM id of ${what}: ${id}`, {
    statusCode: 400,
    code: 'InvalidResourceId',
    delivery: 'not-sent',
  });
}

/** Parses `/subscriptions/…/resourceGroups/…/providers/Microsoft.Sql/servers/{s}`; throws `not-sent` otherwise. */
export function parseLogicalServerId(id: string): LogicalServerRef {
  const match = SERVER_ID.exec(id.trim());
  if (!match) throw invalidId('a logical server', id);
  return { subscriptionId: match[1]!, resourceGroup: match[2]!, server: decodeURIComponent(match[3]!) };
}

/** Parses `…/servers/{s}/databases/{db}` or `…/servers/{s}/elasticPools/{p}`; throws `not-sent` otherwise. */
export function parseServerChildId(id: string): ServerChildRef {
  const match = SERVER_CHILD_ID.exec(id.trim());
  if (!match) throw invalidId('a database or an elastic pool', id);
  return {
    subscriptionId: match[1]!,
    resourceGroup: match[2]!,
    server: decodeURIComponent(match[3]!),
    type: match[4]!.toLowerCase() === 'databases' ? 'database' : 'elasticPool',
    name: decodeURIComponent(match[5]!),
  };
}

/** The last segment of a database id (`…/databases/{db}` → `db`); a bare name stays as it is. */
export function databaseNameOfId(id: string): string {
  const match = /\/databases\/([^/]+)\/?$/i.exec(id.trim());
  return match ? decodeURIComponent(match[1]!) : id.trim();
}

// ── The group's body, as ARM answers it ─────────────────────────────────────────────────────────────────────────

/** The fields of `Microsoft.Sql/servers/failoverGroups` fogpilot reads (FailoverGroups.json, `FailoverGroup`). */
export interface ServerFailoverGroupBody {
  id?: string;
  name?: string;
  location?: string;
  properties?: {
    readWriteEndpoint?: { failoverPolicy?: string; failoverWithDataLossGracePeriodMinutes?: number };
    readOnlyEndpoint?: { failoverPolicy?: string; targetServer?: string };
    replicationRole?: string;
    replicationState?: string;
    partnerServers?: { id?: string; location?: string; replicationRole?: string }[];
    databases?: string[];
    secondaryType?: string;
  };
}

const isPrimary = (role: string | undefined): boolean => (role ?? '').toLowerCase() === 'primary';

/**
 * The group as `server` answers it, in the runbooks' shape. Member ids are the group's ids at a server
 * ({@link serverFailoverGroupId}): `id` this server's, `primaryManagedInstanceId` the primary's (this server's when it
 * is primary, else the partner ARM reports primary), `partnerManagedInstanceId` the partner named by `partnerLocation`.
 * `partnerLocation` is, at a secondary, the primary's location, and at the primary the first partner's (an activity
 * choosing among several secondaries reads `server.partners`). `location` is the server's as ARM gives it (normalized),
 * else the location the group's coordinates give the server.
 */
export function toServerGroupView(
  group: GroupIdentity,
  server: string,
  body: ServerFailoverGroupBody,
  apiVersion?: string,
): FailoverGroupView {
  const properties = body.properties ?? {};
  const partners: ServerGroupSide['partners'] = (properties.partnerServers ?? []).map((partner) => ({
    serverName: serverNameOfId(partner.id ?? '') ?? '',
    serverId: partner.id ?? '',
    location: normalizeLocation(partner.location ?? ''),
    ...(partner.replicationRole !== undefined ? { role: partner.replicationRole } : {}),
  }));
  const primaryHere = isPrimary(properties.replicationRole);
  const primaryPartner = partners.find((partner) => isPrimary(partner.role));
  // At a secondary the partner that matters is the primary; at the primary, the first secondary.
  const partner = (!primaryHere ? primaryPartner : undefined) ?? partners[0];
  const primaryServer = primaryHere ? server : primaryPartner?.serverName;
  const groupAt = (name: string | undefined): string => (name ? serverFailoverGroupId(group, name) : '');
  const location = body.location ? normalizeLocation(body.location) : (locationOfServer(group, server) ?? '');
  const readOnly = properties.readOnlyEndpoint;
  return {
    id: groupAt(server),
    name: body.name ?? group.name,
    location,
    replicationRole: properties.replicationRole ?? '',
    replicationState: properties.replicationState ?? '',
    partnerLocation: partner?.location ?? '',
    ...(partner?.role !== undefined ? { partnerRole: partner.role } : {}),
    primaryManagedInstanceId: groupAt(primaryServer),
    partnerManagedInstanceId: groupAt(partner?.serverName),
    readWriteFailoverPolicy: properties.readWriteEndpoint?.failoverPolicy ?? '',
    ...(properties.readWriteEndpoint?.failoverWithDataLossGracePeriodMinutes !== undefined
      ? { failoverWithDataLossGracePeriodMinutes: properties.readWriteEndpoint.failoverWithDataLossGracePeriodMinutes }
      : {}),
    ...(readOnly?.failoverPolicy !== undefined ? { readOnlyFailoverPolicy: readOnly.failoverPolicy } : {}),
    ...(properties.secondaryType !== undefined ? { secondaryType: properties.secondaryType } : {}),
    server: {
      serverName: server,
      databases: (properties.databases ?? []).map(databaseNameOfId),
      partners,
      ...(readOnly?.targetServer ? { readOnlyTargetServerId: readOnly.targetServer } : {}),
      ...(apiVersion ? { apiVersion } : {}),
    },
  };
}

// ── Databases, pools, operations ────────────────────────────────────────────────────────────────────────────────

function toSku(sku: Sku | undefined): SqlSku {
  return {
    name: sku?.name ?? '',
    ...(sku?.tier !== undefined ? { tier: sku.tier } : {}),
    ...(sku?.capacity !== undefined ? { capacity: sku.capacity } : {}),
    ...(sku?.family !== undefined ? { family: sku.family } : {}),
  };
}

export function toSqlDatabaseView(body: Database, serverName: string): SqlDatabaseView {
  return {
    id: body.id ?? '',
    name: body.name ?? '',
    serverName,
    location: normalizeLocation(body.location ?? ''),
    sku: toSku(body.currentSku ?? body.sku),
    ...(body.elasticPoolId ? { elasticPoolId: body.elasticPoolId } : {}),
    ...(body.status !== undefined ? { status: body.status } : {}),
    ...(body.maxSizeBytes !== undefined ? { maxSizeBytes: body.maxSizeBytes } : {}),
    ...(body.currentServiceObjectiveName !== undefined
      ? { currentServiceObjectiveName: body.currentServiceObjectiveName }
      : {}),
    ...(body.currentBackupStorageRedundancy !== undefined
      ? { currentBackupStorageRedundancy: body.currentBackupStorageRedundancy }
      : {}),
    ...(body.zoneRedundant !== undefined ? { zoneRedundant: body.zoneRedundant } : {}),
    ...(body.secondaryType !== undefined ? { secondaryType: body.secondaryType } : {}),
  };
}

export function toElasticPoolView(body: ElasticPool, serverName: string): ElasticPoolView {
  return {
    id: body.id ?? '',
    name: body.name ?? '',
    serverName,
    location: normalizeLocation(body.location ?? ''),
    sku: toSku(body.sku),
    ...(body.maxSizeBytes !== undefined ? { maxSizeBytes: body.maxSizeBytes } : {}),
    ...(body.state !== undefined ? { state: body.state } : {}),
    ...(body.zoneRedundant !== undefined ? { zoneRedundant: body.zoneRedundant } : {}),
  };
}

/** ARM's management-operation states as DatabaseOperations.json spells them (`ManagementOperationState`). */
const OPERATION_STATES = ['Pending', 'InProgress', 'Succeeded', 'Failed', 'CancelInProgress', 'Cancelled'];

/**
 * A management operation's state in the spelling of `ManagementOperationState`: an elastic pool's operation states
 * are free text in ARM (`IN_PROGRESS`, `SUCCEEDED`), a database's use the enum. Text it does not know stays as it is.
 */
export function operationStateOf(state: string | undefined): string {
  const key = (state ?? '').replace(/[\s_-]/g, '').toLowerCase();
  if (key === 'canceled') return 'Cancelled';
  return OPERATION_STATES.find((known) => known.toLowerCase() === key) ?? state ?? '';
}

export function toSqlOperationView(body: DatabaseOperation | ElasticPoolOperation): ManagementOperationView {
  return {
    id: body.id ?? '',
    name: body.name ?? '',
    operation: body.operation ?? '',
    ...(body.operationFriendlyName !== undefined ? { friendlyName: body.operationFriendlyName } : {}),
    state: operationStateOf(body.state),
    ...(body.percentComplete !== undefined ? { percentComplete: body.percentComplete } : {}),
    ...(body.startTime ? { startTime: body.startTime.toISOString() } : {}),
    ...(body.estimatedCompletionTime ? { estimatedCompletionTime: body.estimatedCompletionTime.toISOString() } : {}),
    ...(body.errorDescription ? { errorMessage: body.errorDescription } : {}),
  };
}

/** What an accepted long-running request says to follow: Azure-AsyncOperation first, else Location, else nothing. */
export function trackingIdOf(response: Pick<PipelineResponse, 'headers'>): string | undefined {
  const asyncOperation = response.headers.get('azure-asyncoperation');
  if (asyncOperation) return `async:${asyncOperation}`;
  const location = response.headers.get('location');
  return location ? `location:${location}` : undefined;
}

/** The JSON body of an answer, or undefined when there is none or it is not JSON. */
function jsonOf<T>(response: PipelineResponse): T | undefined {
  try {
    return response.bodyAsText ? (JSON.parse(response.bodyAsText) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Status codes with which a `Location` poll reports that the operation itself failed (not the poll). */
const LOCATION_FAILURE_STATUSES = new Set([400, 409, 422]);

export class ArmServerGroupPlane implements ServerGroupPlane {
  readonly api: ServerGroupApi;
  private readonly endpoint: string;

  constructor(
    private readonly arm: ArmControlPlane,
    options: ArmServerGroupPlaneOptions,
  ) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.api = serverGroupApiOf(options.apiVersion ?? DEFAULT_SQL_DATABASE_API_VERSION);
  }

  // ── The group ─────────────────────────────────────────────────────────────────────────────────────────────────

  private groupPath(group: GroupIdentity, server: string): string {
    return (
      `/subscriptions/${encodeURIComponent(group.subscriptionId)}/resourceGroups/${encodeURIComponent(group.resourceGroup)}` +
      `/providers/Microsoft.Sql/servers/${encodeURIComponent(server)}/failoverGroups/${encodeURIComponent(group.name)}`
    );
  }

  /**
   * One request of the failover-group API with the configured api-version, once, through the subscription's client
   * pipeline (credential, request budget, metering; no SDK retries). An answer other than 2xx throws with ARM's error.
   */
  private async send(
    subscriptionId: string,
    method: 'GET' | 'POST',
    path: string,
    doing: string,
    options: ArmRequestOptions | undefined,
  ): Promise<{ response: PipelineResponse; retryAfterMs?: number; sentAt: number }> {
    const client = this.arm.client(subscriptionId);
    const url = `${this.endpoint}${path}?api-version=${encodeURIComponent(this.api.apiVersion)}`;
    const answer = await this.arm.call(doing, options, async (callOptions: OperationOptions) => {
      const sentAt = Date.now();
      const response = await client.sendRequest(
        createPipelineRequest({
          url,
          method,
          timeout: callOptions.requestOptions?.timeout,
          abortSignal: callOptions.abortSignal,
          allowInsecureConnection: url.startsWith('http://'),
        }),
      );
      const hint = retryAfterMs(response.headers.get('retry-after'));
      if (response.status >= 300) {
        const error = jsonOf<{ error?: { code?: string; message?: string } }>(response)?.error ?? {};
        throw new ArmRequestError(error.message ?? `${doing}: HTTP ${response.status}`, {
          statusCode: response.status,
          code: error.code,
          retryAfterMs: hint,
          delivery: 'answered',
          method,
          url,
        });
      }
      return { response, retryAfterMs: hint, sentAt };
    });
    return answer.value;
  }

  /**
   * A GET of its own (never shared with other reads). `readAtMs` is when the request was handed to the pipeline: the
   * answer describes the group no earlier than that.
   */
  async getServerFailoverGroup(
    group: GroupIdentity,
    server: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<FailoverGroupView>> {
    const {
      response,
      retryAfterMs: hint,
      sentAt,
    } = await this.send(
      group.subscriptionId,
      'GET',
      this.groupPath(group, server),
      `reading failover group ${group.name} at server ${server}`,
      options,
    );
    const body = jsonOf<ServerFailoverGroupBody>(response) ?? {};
    return {
      value: toServerGroupView(group, server, body, this.api.apiVersion),
      retryAfterMs: hint,
      readAtMs: sentAt,
      via: 'direct',
    };
  }

  /**
   * POSTs the action once. `tryPlannedBeforeForcedFailover` with an api-version that lacks it is refused here, not
   * sent (`ActionNotInApiVersion`). The tracking id is the answer's Azure-AsyncOperation or Location; none when Azure
   * answered 200 (the failover is done).
   */
  async beginServerFailover(
    group: GroupIdentity,
    server: string,
    action: ServerFailoverAction,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string }>> {
    if (action === 'tryPlannedBeforeForcedFailover' && !this.api.tryPlannedBeforeForcedFailover) {
      throw new ArmRequestError(
        `api-version ${this.api.apiVersion} has no tryPlannedBeforeForcedFailover (it came with ` +
          `${FIRST_MULTI_SECONDARY_API_VERSION}); set azure.sqlDatabaseApiVersion to ${DEFAULT_SQL_DATABASE_API_VERSION} ` +
          'or send failover and forceFailoverAllowDataLoss',
        { statusCode: 400, code: 'ActionNotInApiVersion', delivery: 'not-sent', method: 'POST' },
      );
    }
    const { response, retryAfterMs: hint } = await this.send(
      group.subscriptionId,
      'POST',
      `${this.groupPath(group, server)}/${action}`,
      `sending ${action} of failover group ${group.name} to server ${server}`,
      options,
    );
    const trackingId = trackingIdOf(response);
    return { value: trackingId ? { trackingId } : {}, retryAfterMs: hint };
  }

  async getServerFailoverProgress(
    group: GroupIdentity,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>> {
    return this.progressOf(group.subscriptionId, trackingId, options);
  }

  /** One read of an `async:`, `location:` or `completed` tracking id (a bare URL reads as an Azure-AsyncOperation). */
  private async progressOf(
    subscriptionId: string,
    trackingId: string,
    options: ArmRequestOptions | undefined,
  ): Promise<ArmAnswer<OperationProgress>> {
    if (trackingId === 'completed') return { value: { state: 'Succeeded', percentComplete: 100 } };
    if (trackingId.startsWith('location:')) {
      try {
        const answer = await this.arm.readAsyncOperation(
          subscriptionId,
          trackingId.slice('location:'.length),
          options,
          'location',
        );
        return { value: withoutJob(answer.value), retryAfterMs: answer.retryAfterMs };
      } catch (error) {
        // ARM's Location protocol: a failed operation answers its poll with the operation's error.
        if (
          error instanceof ArmRequestError &&
          error.statusCode !== undefined &&
          LOCATION_FAILURE_STATUSES.has(error.statusCode)
        ) {
          return { value: { state: 'Failed', error: { code: error.code, message: error.message } } };
        }
        throw error;
      }
    }
    const url = trackingId.startsWith('async:') ? trackingId.slice('async:'.length) : trackingId;
    const answer = await this.arm.readAsyncOperation(subscriptionId, url, options);
    return { value: withoutJob(answer.value), retryAfterMs: answer.retryAfterMs };
  }

  // ── Servers, databases, pools ─────────────────────────────────────────────────────────────────────────────────

  async getLogicalServer(serverId: string, options?: ArmRequestOptions): Promise<ArmAnswer<LogicalServerView>> {
    const id = parseLogicalServerId(serverId);
    const answer = await this.arm.call(`reading logical server ${id.server}`, options, (callOptions) =>
      this.arm.client(id.subscriptionId).servers.get(id.resourceGroup, id.server, callOptions),
    );
    const body = answer.value;
    return {
      value: {
        id: body.id ?? serverId,
        name: body.name ?? id.server,
        location: normalizeLocation(body.location ?? ''),
        fullyQualifiedDomainName: body.fullyQualifiedDomainName ?? '',
        ...(body.state !== undefined ? { state: body.state } : {}),
        ...(body.version !== undefined ? { version: body.version } : {}),
      },
      retryAfterMs: answer.retryAfterMs,
    };
  }

  async listServerDatabases(serverId: string, options?: ArmRequestOptions): Promise<ArmAnswer<SqlDatabaseView[]>> {
    const id = parseLogicalServerId(serverId);
    return this.arm.call(`listing the databases of server ${id.server}`, options, async (callOptions) => {
      const views: SqlDatabaseView[] = [];
      for await (const body of this.arm
        .client(id.subscriptionId)
        .databases.listByServer(id.resourceGroup, id.server, callOptions)) {
        if ((body.name ?? '').toLowerCase() === 'master') continue;
        views.push(toSqlDatabaseView(body, id.server));
      }
      return views;
    });
  }

  async listElasticPools(serverId: string, options?: ArmRequestOptions): Promise<ArmAnswer<ElasticPoolView[]>> {
    const id = parseLogicalServerId(serverId);
    return this.arm.call(`listing the elastic pools of server ${id.server}`, options, async (callOptions) => {
      const views: ElasticPoolView[] = [];
      for await (const body of this.arm
        .client(id.subscriptionId)
        .elasticPools.listByServer(id.resourceGroup, id.server, callOptions)) {
        views.push(toElasticPoolView(body, id.server));
      }
      return views;
    });
  }

  async listSqlOperations(
    resourceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<ManagementOperationView[]>> {
    const id = parseServerChildId(resourceId);
    const what = `${id.type === 'database' ? 'database' : 'elastic pool'} ${id.name} of server ${id.server}`;
    return this.arm.call(`listing the operations of ${what}`, options, async (callOptions) => {
      const client = this.arm.client(id.subscriptionId);
      const pages =
        id.type === 'database'
          ? client.databaseOperations.listByDatabase(id.resourceGroup, id.server, id.name, callOptions)
          : client.elasticPoolOperations.listByElasticPool(id.resourceGroup, id.server, id.name, callOptions);
      const views: ManagementOperationView[] = [];
      for await (const body of pages) views.push(toSqlOperationView(body));
      // Newest first; an operation without a start time last.
      return views.sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''));
    });
  }

  /**
   * PATCHes `sku` through `@azure/arm-sql` (`databases.beginUpdate` / `elasticPools.beginUpdate`) and returns once
   * Azure accepted it; the SDK's first poll may fail without undoing anything. The tracking id is the answer's
   * Azure-AsyncOperation, else its Location, else `completed` (a 200: nothing left to do).
   */
  async beginUpdateSku(
    resourceId: string,
    sku: SqlSku,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId: string }>> {
    const id = parseServerChildId(resourceId);
    const client = this.arm.client(id.subscriptionId);
    const body = {
      sku: {
        name: sku.name,
        ...(sku.tier !== undefined ? { tier: sku.tier } : {}),
        ...(sku.capacity !== undefined ? { capacity: sku.capacity } : {}),
        ...(sku.family !== undefined ? { family: sku.family } : {}),
      },
    };
    const what = `${id.type === 'database' ? 'database' : 'elastic pool'} ${id.name} of server ${id.server}`;
    const accepted = await this.arm.sendAccepted(`scaling ${what} to ${sku.name}`, 'PATCH', options, (callOptions) =>
      id.type === 'database'
        ? client.databases.beginUpdate(id.resourceGroup, id.server, id.name, body, callOptions)
        : client.elasticPools.beginUpdate(id.resourceGroup, id.server, id.name, body, callOptions),
    );
    return {
      value: { trackingId: trackingIdOf(accepted.response) ?? 'completed' },
      retryAfterMs: accepted.retryAfterMs,
    };
  }

  /** A tracking id of {@link beginUpdateSku}; a bare name is read from the resource's operations list. */
  async getSqlOperationProgress(
    resourceId: string,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>> {
    const id = parseServerChildId(resourceId);
    if (trackingId === 'completed' || /^(async|location):/.test(trackingId) || /^https?:\/\//i.test(trackingId))
      return this.progressOf(id.subscriptionId, trackingId, options);
    const answer = await this.listSqlOperations(resourceId, options);
    const operation = answer.value.find((entry) => entry.name.toLowerCase() === trackingId.toLowerCase());
    if (!operation) {
      throw new ArmRequestError(`operation ${trackingId} of ${id.name} not found`, {
        statusCode: 404,
        code: 'OperationIdNotFound',
        delivery: 'answered',
      });
    }
    const state = progressState(operation.state);
    return {
      value: {
        state,
        ...(operation.percentComplete !== undefined ? { percentComplete: operation.percentComplete } : {}),
        ...(state === 'Failed' || state === 'Canceled'
          ? { error: { message: operation.errorMessage ?? `the operation ended ${state}` } }
          : {}),
      },
      retryAfterMs: answer.retryAfterMs,
    };
  }
}

function withoutJob(progress: OperationProgress & { jobId?: string }): OperationProgress {
  const { jobId: _jobId, ...rest } = progress;
  return rest;
}
