/**
 * A scripted Azure SQL Database for workflow tests: logical servers holding databases and elastic pools, and server
 * failover groups over them with one primary and any number of secondaries, driven by the Temporal test server's
 * clock so simulated minutes pass when a workflow sleeps. It implements {@link ServerGroupPlane}, so the real
 * activities run against it; knobs script the situations each runbook meets (a failover's course, a refused POST,
 * throttling, a dark region, a scale's course) and every call is recorded.
 *
 * The group's answers are ARM-shaped bodies mapped by the real plane's `toServerGroupView`, so the views are exactly
 * the ones ArmServerGroupPlane gives.
 */
import { recordArmCall } from '../../src/azure/arm-call-meter';
import { toServerGroupView, type ServerFailoverGroupBody } from '../../src/azure/arm-server-group-plane';
import type { ArmAnswer } from '../../src/azure/control-plane';
import { ArmRequestError, type RequestDelivery } from '../../src/azure/errors';
import { FIRST_MULTI_SECONDARY_API_VERSION, serverGroupApiOf } from '../../src/azure/server-group-api';
import type { ServerFailoverAction, ServerGroupApi, ServerGroupPlane } from '../../src/azure/server-group-plane';
import type {
  ElasticPoolView,
  FailoverGroupView,
  LogicalServerView,
  ManagementOperationView,
  OperationProgress,
  SqlDatabaseView,
  SqlSku,
} from '../../src/domain/azure-state';
import { logicalServerId, type GroupCoordinates, type GroupIdentity } from '../../src/domain/group-ref';
import { normalizeLocation } from '../../src/domain/locations';

export interface ScriptedSqlDatabase {
  name: string;
  sku: SqlSku;
  /** The elastic pool of its server it is in (its `sku` is then `ElasticPool`). */
  elasticPool?: string;
  maxSizeBytes: number;
  backupStorageRedundancy: string;
  zoneRedundant: boolean;
}

export interface ScriptedElasticPool {
  name: string;
  sku: SqlSku;
  maxSizeBytes: number;
  state: string;
}

export interface ScriptedLogicalServer {
  name: string;
  location: string;
  state: string;
  databases: ScriptedSqlDatabase[];
  pools: ScriptedElasticPool[];
}

/** A failover in Azure: accepted, running, and how it ends. */
export interface ScriptedServerFailover {
  group: string;
  /** The server the POST named: the one to become primary. */
  server: string;
  action: ServerFailoverAction;
  /** What Azure ran: a planned failover, or a forced one (`tryPlannedBeforeForcedFailover` may run either). */
  ranAs: 'planned' | 'forced';
  acceptedAt: number;
  endsAt: number;
  outcome: 'Succeeded' | 'Failed';
  error?: { code: string; message: string };
  state: 'InProgress' | 'Succeeded' | 'Failed';
  trackingId: string;
}

export interface ScriptedServerGroup {
  name: string;
  primary: string;
  /** The secondaries, in the order ARM lists them as partners. */
  secondaries: string[];
  /** Member databases (names). */
  databases: string[];
  readWriteFailoverPolicy: 'Manual' | 'Automatic';
  gracePeriodMinutes?: number;
  readOnlyFailoverPolicy: 'Disabled' | 'Enabled';
  /** `readOnlyEndpoint.targetServer` (api-versions with several secondaries only); default: the first secondary. */
  readOnlyTarget?: string;
  replicationState: string;
  pending?: ScriptedServerFailover;
  /** When the roles last switched (simulated ms). */
  switchedAt?: number;
}

export interface ScriptedSqlOperation {
  name: string;
  resourceId: string;
  type: 'database' | 'elasticPool';
  server: string;
  resource: string;
  sku: SqlSku;
  startedAt: number;
  endsAt: number;
  outcome: 'Succeeded' | 'Failed';
  state: 'InProgress' | 'Succeeded' | 'Failed';
  trackingId: string;
}

/** A scripted answer other than success: ARM's status and code, or no answer at all (`statusCode` absent). */
export interface ScriptedFault {
  statusCode?: number;
  code: string;
  message?: string;
  retryAfterMs?: number;
  /** Default: `answered` with a status, `unknown` without one. */
  delivery?: RequestDelivery;
}

/** A group to script: its servers (the primary first), its member databases, and the pools that hold some of them. */
export interface ScriptedServerGroupSpec {
  name: string;
  servers: { name: string; location: string }[];
  databases: string[];
  /** Elastic pools on every server of the group, by name, with the member databases each holds. */
  pools?: Record<string, string[]>;
}

export interface ScriptedServerGroupsOptions {
  /** The simulated clock: the test server's time. */
  clock: () => Promise<number>;
  /** Default: one group, fog-orders, on orders-eus (eastus, primary) and orders-wus (westus). */
  groups?: ScriptedServerGroupSpec[];
  /** The api-version the script answers as (what it offers follows ./server-group-api); default 2025-01-01. */
  apiVersion?: string;
  /** Records every call in another script's log too (one timeline with a ScriptedAzure), on its clock. */
  log?: { recordCall(method: string, args: unknown): Promise<number> };
  subscriptionId?: string;
  resourceGroup?: string;
}

/** The group of the default script: fog-orders, orders-eus (eastus) primary, orders-wus (westus) secondary. */
export const DEFAULT_SERVER_GROUP: ScriptedServerGroupSpec = {
  name: 'fog-orders',
  servers: [
    { name: 'orders-eus', location: 'eastus' },
    { name: 'orders-wus', location: 'westus' },
  ],
  databases: ['orders', 'billing'],
  pools: { 'orders-pool': ['billing'] },
};

const VCORE_TIERS = new Set(['generalpurpose', 'businesscritical', 'hyperscale']);
const GB = 1024 ** 3;

/** `GP_Gen5` with 2 vCores → `GP_Gen5_2`; a DTU SKU (`S3`) is its own objective; a pooled database reads `ElasticPool`. */
export function serviceObjectiveOf(sku: SqlSku): string {
  if (sku.name === 'ElasticPool') return 'ElasticPool';
  return VCORE_TIERS.has((sku.tier ?? '').toLowerCase()) && sku.capacity !== undefined
    ? `${sku.name}_${sku.capacity}`
    : sku.name;
}

export class ScriptedServerGroups implements ServerGroupPlane {
  readonly api: ServerGroupApi;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly servers: Record<string, ScriptedLogicalServer> = {};
  readonly groups: Record<string, ScriptedServerGroup> = {};
  readonly operations: ScriptedSqlOperation[] = [];

  // Knobs.
  /** Simulated time from an accepted failover to the roles switching. */
  roleSwitchMs = 40_000;
  /** How long `tryPlannedBeforeForcedFailover` tries the planned failover before forcing it (primary unreachable). */
  plannedAttemptMs = 60_000;
  failoverNeverCompletes = false;
  /** The next accepted failover ends Failed in Azure with this code (roles unchanged). */
  failNextFailoverWith?: string;
  /** The next failover POST is accepted, then its answer is lost (a reset). */
  loseNextFailoverAnswer = false;
  /** While a failover runs, the group reads as before (no trace of it). */
  hideFailoverInProgress = false;
  /** Every read of a failover's operation answers this 4xx (an expired record, 403 on the status path). */
  failoverOperationStatus?: 403 | 404;
  /** Until this clock time, ARM answers no read of a group or of a failover's operation. */
  readsFailUntil = 0;
  /** Servers (by name) whose region answers nothing: requests about them fail as connection resets. */
  readonly darkServers = new Set<string>();
  /** Simulated time a SKU change takes. */
  scaleDurationMs = 10 * 60_000;
  scaleOutcome: 'Succeeded' | 'Failed' = 'Succeeded';
  /** Called after every recorded call; tests use it to act at a precise moment. */
  onCall?: (method: string, args: unknown) => void | Promise<void>;

  // Records.
  readonly calls: { method: string; args: unknown; at: number }[] = [];
  /** Failovers Azure accepted, in order. */
  readonly acceptedFailovers: ScriptedServerFailover[] = [];
  /** Failover POSTs that reached Azure, whatever the answer. */
  failoverRequests = 0;
  /** SKU PATCHes Azure accepted, in order. */
  readonly scaleRequests: { resourceId: string; server: string; name: string; sku: SqlSku; at: number }[] = [];

  private readonly faults = new Map<keyof ServerGroupPlane, ScriptedFault[]>();
  private readonly clock: () => Promise<number>;
  private readonly log?: ScriptedServerGroupsOptions['log'];
  private counter = 0;

  constructor(options: ScriptedServerGroupsOptions) {
    this.clock = options.clock;
    this.log = options.log;
    this.api = serverGroupApiOf(options.apiVersion);
    this.subscriptionId = options.subscriptionId ?? '00000000-1111-2222-3333-444444444444';
    this.resourceGroup = options.resourceGroup ?? 'rg-fog';
    for (const spec of options.groups ?? [DEFAULT_SERVER_GROUP]) this.addGroup(spec);
  }

  // ── Building the script ───────────────────────────────────────────────────────────────────────────────────────

  /** A group and its servers (created when new), with its member databases on every server and its pools. */
  addGroup(spec: ScriptedServerGroupSpec): ScriptedServerGroup {
    const [primary, ...secondaries] = spec.servers;
    if (!primary) throw new Error(`group ${spec.name} needs a server`);
    for (const server of spec.servers) {
      const logical = this.addServer(server.name, server.location);
      for (const [pool, members] of Object.entries(spec.pools ?? {})) {
        if (!logical.pools.some((entry) => entry.name === pool)) this.addPool(server.name, pool);
        for (const member of members) this.addDatabase(server.name, member, { elasticPool: pool });
      }
      for (const database of spec.databases) this.addDatabase(server.name, database);
    }
    const group: ScriptedServerGroup = {
      name: spec.name,
      primary: primary.name,
      secondaries: secondaries.map((server) => server.name),
      databases: [...spec.databases],
      readWriteFailoverPolicy: 'Manual',
      readOnlyFailoverPolicy: 'Disabled',
      replicationState: 'CATCH_UP',
    };
    this.groups[spec.name] = group;
    return group;
  }

  addServer(name: string, location: string): ScriptedLogicalServer {
    const existing = this.servers[name];
    if (existing) return existing;
    const server = { name, location: normalizeLocation(location), state: 'Ready', databases: [], pools: [] };
    this.servers[name] = server;
    return server;
  }

  /** A database on a server (kept when there); default SKU GP_Gen5 with 2 vCores, or `ElasticPool` in a pool. */
  addDatabase(server: string, name: string, options: { sku?: SqlSku; elasticPool?: string } = {}): ScriptedSqlDatabase {
    const logical = this.serverNamed(server);
    const existing = logical.databases.find((database) => database.name === name);
    if (existing) return existing;
    const pool = options.elasticPool ? logical.pools.find((entry) => entry.name === options.elasticPool) : undefined;
    const database: ScriptedSqlDatabase = {
      name,
      sku:
        options.sku ??
        (pool
          ? { name: 'ElasticPool', tier: pool.sku.tier, capacity: 0 }
          : { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 2 }),
      ...(options.elasticPool ? { elasticPool: options.elasticPool } : {}),
      maxSizeBytes: 32 * GB,
      backupStorageRedundancy: 'Geo',
      zoneRedundant: false,
    };
    logical.databases.push(database);
    return database;
  }

  /** An elastic pool on a server; default SKU GP_Gen5 with 4 vCores. */
  addPool(server: string, name: string, sku?: SqlSku): ScriptedElasticPool {
    const pool: ScriptedElasticPool = {
      name,
      sku: sku ?? { name: 'GP_Gen5', tier: 'GeneralPurpose', family: 'Gen5', capacity: 4 },
      maxSizeBytes: 100 * GB,
      state: 'Ready',
    };
    this.serverNamed(server).pools.push(pool);
    return pool;
  }

  // ── Reading the script ────────────────────────────────────────────────────────────────────────────────────────

  serverNamed(name: string): ScriptedLogicalServer {
    const server = Object.values(this.servers).find((entry) => entry.name.toLowerCase() === name.toLowerCase());
    if (!server) throw this.notFound(`server ${name}`);
    return server;
  }

  groupNamed(name: string = this.defaultGroupName()): ScriptedServerGroup {
    const group = this.groups[name];
    if (!group) throw this.notFound(`failover group ${name}`);
    return group;
  }

  private defaultGroupName(): string {
    const [first] = Object.keys(this.groups);
    if (!first) throw new Error('the script has no group');
    return first;
  }

  serverId(name: string): string {
    return logicalServerId(this.subscriptionId, this.resourceGroup, name);
  }

  databaseId(server: string, database: string): string {
    return `${this.serverId(server)}/databases/${database}`;
  }

  poolId(server: string, pool: string): string {
    return `${this.serverId(server)}/elasticPools/${pool}`;
  }

  /** The server that is primary now. */
  primaryOf(group?: string): ScriptedLogicalServer {
    return this.serverNamed(this.groupNamed(group).primary);
  }

  /**
   * The group's coordinates for an inventory: `kind: sqlDatabase`, its servers by location, the current primary's
   * location as home and the first secondary's as the home secondary.
   */
  coordinates(group?: string): GroupCoordinates {
    const scripted = this.groupNamed(group);
    const located = (name: string) => this.serverNamed(name).location;
    return {
      subscriptionId: this.subscriptionId,
      resourceGroup: this.resourceGroup,
      name: scripted.name,
      primaryLocation: located(scripted.primary),
      secondaryLocation: located(scripted.secondaries[0] ?? scripted.primary),
      kind: 'sqlDatabase',
      servers: Object.fromEntries(
        [scripted.primary, ...scripted.secondaries].map((name) => [located(name), this.serverNamed(name).name]),
      ),
    };
  }

  /** Calls made, by method name, in order. */
  methods(): string[] {
    return this.calls.map((call) => call.method);
  }

  // ── Faults ────────────────────────────────────────────────────────────────────────────────────────────────────

  /** The next call of `method` fails with `fault` (one per call, in order), after the call is recorded. */
  failNext(method: keyof ServerGroupPlane, fault: ScriptedFault): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), fault]);
  }

  /** The next call of `method` is throttled: 429 SubscriptionTooManyRequests with Retry-After. */
  throttleNext(method: keyof ServerGroupPlane, retryAfterMs = 7_000): void {
    this.failNext(method, {
      statusCode: 429,
      code: 'SubscriptionTooManyRequests',
      message: 'Requests beyond max requests that can be processed by available resources.',
      retryAfterMs,
    });
  }

  /** The next failover POST is refused with ARM's `code` (400 unless said), nothing started. */
  refuseNextFailover(code: string, statusCode = 400, message = `the scripted failover was refused: ${code}`): void {
    this.failNext('beginServerFailover', { statusCode, code, message });
  }

  /** Someone else's failover, under way (the "failover in progress" situation). */
  async startForeignFailover(server: string, group?: string): Promise<void> {
    const scripted = this.groupNamed(group);
    const now = await this.clock();
    scripted.pending = this.failover(scripted, server, 'failover', 'planned', now, now + this.roleSwitchMs);
  }

  /** Puts a SKU change of someone else in flight on a database or a pool (the "busy" situation). */
  async startUnrelatedScale(resourceId: string, durationMs: number): Promise<void> {
    const now = await this.clock();
    const { server, type, resource } = this.resourceOf(resourceId);
    const sku = type === 'database' ? this.databaseOf(server, resource).sku : this.poolOf(server, resource).sku;
    this.operations.push(this.operation(resourceId, type, server, resource, { ...sku }, now, now + durationMs));
  }

  // ── Time ──────────────────────────────────────────────────────────────────────────────────────────────────────

  private async record(method: keyof ServerGroupPlane, args: unknown): Promise<number> {
    const now = this.log ? await this.log.recordCall(method, args) : await this.clock();
    this.advance(now);
    this.calls.push({ method, args, at: now });
    await this.onCall?.(method, args);
    return now;
  }

  /** Applies what simulated time has done: failovers ending, SKU changes ending. */
  private advance(now: number): void {
    for (const group of Object.values(this.groups)) {
      const pending = group.pending;
      if (!pending || now < pending.endsAt) continue;
      if (pending.outcome === 'Succeeded' && this.failoverNeverCompletes) continue;
      pending.state = pending.outcome;
      group.pending = undefined;
      if (pending.outcome !== 'Succeeded') continue;
      const old = group.primary;
      group.secondaries = group.secondaries.map((name) => (name === pending.server ? old : name));
      group.primary = pending.server;
      group.replicationState = 'CATCH_UP';
      group.switchedAt = pending.endsAt;
    }
    for (const operation of this.operations) {
      if (operation.state !== 'InProgress' || now < operation.endsAt) continue;
      operation.state = operation.outcome;
      if (operation.outcome !== 'Succeeded') continue;
      if (operation.type === 'elasticPool') {
        this.poolOf(operation.server, operation.resource).sku = { ...operation.sku };
        continue;
      }
      const database = this.databaseOf(operation.server, operation.resource);
      database.sku = { ...operation.sku };
      // A database given a SKU of its own leaves its pool.
      if (operation.sku.name !== 'ElasticPool') delete database.elasticPool;
    }
  }

  // ── Answers ───────────────────────────────────────────────────────────────────────────────────────────────────

  private notFound(what: string): ArmRequestError {
    return new ArmRequestError(`The requested resource was not found: ${what}.`, {
      statusCode: 404,
      code: 'ResourceNotFound',
      delivery: 'answered',
    });
  }

  /** A scripted fault for `method`, thrown once; metered like an answer (none when nothing answered). */
  private takeFault(method: keyof ServerGroupPlane, httpMethod: string): void {
    const fault = this.faults.get(method)?.shift();
    if (!fault) return;
    recordArmCall(httpMethod, fault.statusCode);
    throw new ArmRequestError(fault.message ?? `scripted ${fault.code}`, {
      statusCode: fault.statusCode,
      code: fault.code,
      retryAfterMs: fault.retryAfterMs,
      delivery: fault.delivery ?? (fault.statusCode !== undefined ? 'answered' : 'unknown'),
      method: httpMethod,
    });
  }

  private failIfDark(server: string): void {
    if (this.darkServers.has(this.serverNamed(server).name)) {
      throw new ArmRequestError(`no answer from the region of ${server}`, { code: 'ECONNRESET', delivery: 'unknown' });
    }
  }

  private failIfReadsFail(now: number): void {
    if (now < this.readsFailUntil)
      throw new ArmRequestError('read ECONNRESET', { code: 'ECONNRESET', delivery: 'unknown' });
  }

  /** The group as ARM answers it at `server` (FailoverGroups.json's `FailoverGroup`). */
  private bodyAt(group: ScriptedServerGroup, server: string): ServerFailoverGroupBody {
    const members = [group.primary, ...group.secondaries];
    const location = (name: string) => this.serverNamed(name).location;
    const roleOf = (name: string) => (name === group.primary ? 'Primary' : 'Secondary');
    const showPending = group.pending !== undefined && !this.hideFailoverInProgress;
    const target = group.readOnlyTarget ?? group.secondaries[0];
    return {
      id: `${this.serverId(server)}/failoverGroups/${group.name}`,
      name: group.name,
      location: location(server),
      properties: {
        readWriteEndpoint: {
          failoverPolicy: group.readWriteFailoverPolicy,
          ...(group.readWriteFailoverPolicy === 'Automatic'
            ? { failoverWithDataLossGracePeriodMinutes: group.gracePeriodMinutes ?? 60 }
            : {}),
        },
        readOnlyEndpoint: {
          failoverPolicy: group.readOnlyFailoverPolicy,
          ...(this.api.multipleSecondaries && target ? { targetServer: this.serverId(target) } : {}),
        },
        replicationRole: roleOf(server),
        replicationState: showPending ? 'FAILOVER_IN_PROGRESS' : group.replicationState,
        partnerServers: members
          .filter((name) => name !== server)
          .map((name) => ({ id: this.serverId(name), location: location(name), replicationRole: roleOf(name) })),
        databases: group.databases.map((database) => this.databaseId(server, database)),
      },
    };
  }

  private groupAt(groupName: string, server: string): ScriptedServerGroup {
    const group = this.groups[groupName];
    const name = this.serverNamed(server).name;
    if (!group || (group.primary !== name && !group.secondaries.includes(name)))
      throw this.notFound(`failover group ${groupName} on server ${server}`);
    return group;
  }

  async getServerFailoverGroup(group: GroupIdentity, server: string): Promise<ArmAnswer<FailoverGroupView>> {
    const now = await this.record('getServerFailoverGroup', { group: group.name, server });
    this.failIfReadsFail(now);
    this.failIfDark(server);
    this.takeFault('getServerFailoverGroup', 'GET');
    recordArmCall('GET', 200);
    const scripted = this.groupAt(group.name, server);
    const name = this.serverNamed(server).name;
    return {
      value: toServerGroupView(group, name, this.bodyAt(scripted, name), this.api.apiVersion),
      readAtMs: now,
      via: 'direct',
    };
  }

  private failover(
    group: ScriptedServerGroup,
    server: string,
    action: ServerFailoverAction,
    ranAs: 'planned' | 'forced',
    acceptedAt: number,
    endsAt: number,
    error?: { code: string; message: string },
  ): ScriptedServerFailover {
    const n = ++this.counter;
    const at = `https://management.azure.com/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Sql/locations/${this.serverNamed(server).location}`;
    return {
      group: group.name,
      server,
      action,
      ranAs,
      acceptedAt,
      endsAt,
      outcome: error ? 'Failed' : 'Succeeded',
      ...(error ? { error } : {}),
      state: 'InProgress',
      // The 2025-01-01 examples answer the actions' 202 with a Location; the first two also with an async operation.
      trackingId:
        action === 'tryPlannedBeforeForcedFailover'
          ? `location:${at}/failoverGroupOperationResults/op-${n}`
          : `async:${at}/failoverGroupAzureAsyncOperation/op-${n}`,
    };
  }

  async beginServerFailover(
    group: GroupIdentity,
    server: string,
    action: ServerFailoverAction,
  ): Promise<ArmAnswer<{ trackingId?: string }>> {
    const now = await this.record('beginServerFailover', { group: group.name, server, action });
    if (action === 'tryPlannedBeforeForcedFailover' && !this.api.tryPlannedBeforeForcedFailover) {
      throw new ArmRequestError(
        `api-version ${this.api.apiVersion} has no tryPlannedBeforeForcedFailover (it came with ${FIRST_MULTI_SECONDARY_API_VERSION})`,
        { statusCode: 400, code: 'ActionNotInApiVersion', delivery: 'not-sent', method: 'POST' },
      );
    }
    this.failIfDark(server);
    this.failoverRequests += 1;
    this.takeFault('beginServerFailover', 'POST');
    const scripted = this.groupAt(group.name, server);
    const name = this.serverNamed(server).name;
    if (scripted.primary === name) {
      recordArmCall('POST', 400);
      throw new ArmRequestError('The failover request should be initiated on the secondary server of failover group.', {
        statusCode: 400,
        code: 'FailoverGroupFailoverRequestOnPrimary',
        delivery: 'answered',
        method: 'POST',
      });
    }
    if (scripted.pending) {
      recordArmCall('POST', 409);
      throw new ArmRequestError('Failover Group is busy with another operation.', {
        statusCode: 409,
        code: 'FailoverGroupBusy',
        delivery: 'answered',
        method: 'POST',
      });
    }
    recordArmCall('POST', 202);
    // A planned failover needs the primary: with its region dark it times out, and only a forced one goes through.
    const primaryAnswers = !this.darkServers.has(scripted.primary);
    const ranAs =
      action === 'failover'
        ? 'planned'
        : action === 'forceFailoverAllowDataLoss'
          ? 'forced'
          : primaryAnswers
            ? 'planned'
            : 'forced';
    const triedFirst = action === 'tryPlannedBeforeForcedFailover' && !primaryAnswers ? this.plannedAttemptMs : 0;
    const failWith = this.failNextFailoverWith;
    this.failNextFailoverWith = undefined;
    const error = failWith
      ? { code: failWith, message: `the scripted failover failed: ${failWith}` }
      : action === 'failover' && !primaryAnswers
        ? {
            code: 'PlannedFailoverTimedOut',
            message:
              'User invoked planned failover, and it timed out while trying to contact the partner management service.',
          }
        : undefined;
    const accepted = this.failover(scripted, name, action, ranAs, now, now + triedFirst + this.roleSwitchMs, error);
    scripted.pending = accepted;
    this.acceptedFailovers.push(accepted);
    if (this.loseNextFailoverAnswer) {
      this.loseNextFailoverAnswer = false;
      throw new ArmRequestError('socket hang up', { code: 'ECONNRESET', delivery: 'unknown', method: 'POST' });
    }
    return { value: { trackingId: accepted.trackingId }, retryAfterMs: 1_000 };
  }

  async getServerFailoverProgress(group: GroupIdentity, trackingId: string): Promise<ArmAnswer<OperationProgress>> {
    const now = await this.record('getServerFailoverProgress', { group: group.name, trackingId });
    this.failIfReadsFail(now);
    this.takeFault('getServerFailoverProgress', 'GET');
    if (this.failoverOperationStatus) {
      recordArmCall('GET', this.failoverOperationStatus);
      throw new ArmRequestError(
        this.failoverOperationStatus === 403
          ? 'The client does not have authorization to perform action over scope of the operation.'
          : 'The async operation was not found.',
        {
          statusCode: this.failoverOperationStatus,
          code: this.failoverOperationStatus === 403 ? 'AuthorizationFailed' : 'ResourceNotFound',
          delivery: 'answered',
        },
      );
    }
    recordArmCall('GET', 200);
    const failover = this.acceptedFailovers.find((entry) => entry.trackingId === trackingId);
    if (!failover || failover.group !== group.name) throw this.notFound(`operation ${trackingId}`);
    if (failover.state === 'InProgress') return { value: { state: 'InProgress' }, retryAfterMs: 1_000 };
    return {
      value: {
        state: failover.state,
        ...(failover.error ? { error: { ...failover.error } } : {}),
      },
    };
  }

  // ── Servers, databases, pools ─────────────────────────────────────────────────────────────────────────────────

  private serverOfId(serverId: string): ScriptedLogicalServer {
    const server = Object.values(this.servers).find(
      (entry) => this.serverId(entry.name).toLowerCase() === serverId.toLowerCase(),
    );
    if (!server) throw this.notFound(`server ${serverId}`);
    return server;
  }

  private resourceOf(resourceId: string): { server: string; type: 'database' | 'elasticPool'; resource: string } {
    const match = /\/servers\/([^/]+)\/(databases|elasticPools)\/([^/]+)$/i.exec(resourceId);
    if (!match) {
      throw new ArmRequestError(`not the ARM id of a database or an elastic pool: ${resourceId}`, {
        statusCode: 400,
        code: 'InvalidResourceId',
        delivery: 'not-sent',
      });
    }
    const server = this.serverNamed(match[1]!).name;
    if (
      this.serverId(server).toLowerCase() !==
      resourceId.slice(0, resourceId.search(/\/(databases|elasticPools)\//i)).toLowerCase()
    )
      throw this.notFound(resourceId);
    return { server, type: match[2]!.toLowerCase() === 'databases' ? 'database' : 'elasticPool', resource: match[3]! };
  }

  private databaseOf(server: string, name: string): ScriptedSqlDatabase {
    const database = this.serverNamed(server).databases.find(
      (entry) => entry.name.toLowerCase() === name.toLowerCase(),
    );
    if (!database) throw this.notFound(`database ${name} on ${server}`);
    return database;
  }

  private poolOf(server: string, name: string): ScriptedElasticPool {
    const pool = this.serverNamed(server).pools.find((entry) => entry.name.toLowerCase() === name.toLowerCase());
    if (!pool) throw this.notFound(`elastic pool ${name} on ${server}`);
    return pool;
  }

  async getLogicalServer(serverId: string): Promise<ArmAnswer<LogicalServerView>> {
    await this.record('getLogicalServer', { serverId });
    const server = this.serverOfId(serverId);
    this.failIfDark(server.name);
    this.takeFault('getLogicalServer', 'GET');
    recordArmCall('GET', 200);
    return {
      value: {
        id: this.serverId(server.name),
        name: server.name,
        location: server.location,
        fullyQualifiedDomainName: `${server.name}.database.windows.net`,
        state: server.state,
        version: '12.0',
      },
    };
  }

  /** Whether `database` on `server` is a geo-secondary copy of a group's member. */
  private isSecondaryCopy(server: string, database: string): boolean {
    return Object.values(this.groups).some(
      (group) => group.secondaries.includes(server) && group.databases.includes(database),
    );
  }

  async listServerDatabases(serverId: string): Promise<ArmAnswer<SqlDatabaseView[]>> {
    await this.record('listServerDatabases', { serverId });
    const server = this.serverOfId(serverId);
    this.failIfDark(server.name);
    this.takeFault('listServerDatabases', 'GET');
    recordArmCall('GET', 200);
    return {
      value: server.databases.map((database) => ({
        id: this.databaseId(server.name, database.name),
        name: database.name,
        serverName: server.name,
        location: server.location,
        sku: { ...database.sku },
        ...(database.elasticPool ? { elasticPoolId: this.poolId(server.name, database.elasticPool) } : {}),
        status: 'Online',
        maxSizeBytes: database.maxSizeBytes,
        currentServiceObjectiveName: serviceObjectiveOf(database.sku),
        currentBackupStorageRedundancy: database.backupStorageRedundancy,
        zoneRedundant: database.zoneRedundant,
        ...(this.isSecondaryCopy(server.name, database.name) ? { secondaryType: 'Geo' } : {}),
      })),
    };
  }

  async listElasticPools(serverId: string): Promise<ArmAnswer<ElasticPoolView[]>> {
    await this.record('listElasticPools', { serverId });
    const server = this.serverOfId(serverId);
    this.failIfDark(server.name);
    this.takeFault('listElasticPools', 'GET');
    recordArmCall('GET', 200);
    return {
      value: server.pools.map((pool) => ({
        id: this.poolId(server.name, pool.name),
        name: pool.name,
        serverName: server.name,
        location: server.location,
        sku: { ...pool.sku },
        maxSizeBytes: pool.maxSizeBytes,
        state: pool.state,
        zoneRedundant: false,
      })),
    };
  }

  private operation(
    resourceId: string,
    type: 'database' | 'elasticPool',
    server: string,
    resource: string,
    sku: SqlSku,
    startedAt: number,
    endsAt: number,
    outcome: 'Succeeded' | 'Failed' = 'Succeeded',
  ): ScriptedSqlOperation {
    const name = `00000000-0000-0000-0000-${String(++this.counter).padStart(12, '0')}`;
    const kind = type === 'database' ? 'databaseAzureAsyncOperation' : 'elasticPoolAzureAsyncOperation';
    return {
      name,
      resourceId,
      type,
      server,
      resource,
      sku,
      startedAt,
      endsAt,
      outcome,
      state: 'InProgress',
      trackingId: `async:https://management.azure.com/subscriptions/${this.subscriptionId}/providers/Microsoft.Sql/locations/${this.serverNamed(server).location}/${kind}/${name}`,
    };
  }

  private operationView(operation: ScriptedSqlOperation, now: number): ManagementOperationView {
    const span = Math.max(1, operation.endsAt - operation.startedAt);
    const percent =
      operation.state === 'InProgress' ? Math.min(99, Math.floor(((now - operation.startedAt) / span) * 100)) : 100;
    return {
      id: `${operation.resourceId}/operations/${operation.name}`,
      name: operation.name,
      operation: operation.type === 'database' ? 'UpdateLogicalDatabase' : 'UpdateElasticPool',
      friendlyName: operation.type === 'database' ? 'UPDATE DATABASE' : 'UPDATE ELASTIC POOL',
      state: operation.state,
      percentComplete: percent,
      startTime: new Date(operation.startedAt).toISOString(),
      estimatedCompletionTime: new Date(operation.endsAt).toISOString(),
      ...(operation.state === 'Failed'
        ? { errorMessage: 'The operation timed out and automatically rolled back.' }
        : {}),
    };
  }

  async listSqlOperations(resourceId: string): Promise<ArmAnswer<ManagementOperationView[]>> {
    const now = await this.record('listSqlOperations', { resourceId });
    const { server } = this.resourceOf(resourceId);
    this.failIfDark(server);
    this.takeFault('listSqlOperations', 'GET');
    recordArmCall('GET', 200);
    return {
      value: this.operations
        .filter((operation) => operation.resourceId.toLowerCase() === resourceId.toLowerCase())
        .map((operation) => this.operationView(operation, now))
        .reverse(),
    };
  }

  async beginUpdateSku(resourceId: string, sku: SqlSku): Promise<ArmAnswer<{ trackingId: string }>> {
    const now = await this.record('beginUpdateSku', { resourceId, sku });
    const { server, type, resource } = this.resourceOf(resourceId);
    this.failIfDark(server);
    this.takeFault('beginUpdateSku', 'PATCH');
    if (type === 'database') this.databaseOf(server, resource);
    else this.poolOf(server, resource);
    const busy = this.operations.some(
      (operation) =>
        operation.resourceId.toLowerCase() === resourceId.toLowerCase() && operation.state === 'InProgress',
    );
    if (busy) {
      recordArmCall('PATCH', 409);
      throw new ArmRequestError(
        'User tried to initiate an incompatible operation while a SLO update was in progress.',
        {
          statusCode: 409,
          code: 'UpdateSloInProgress',
          delivery: 'answered',
          method: 'PATCH',
        },
      );
    }
    recordArmCall('PATCH', 202);
    const operation = this.operation(
      resourceId,
      type,
      server,
      resource,
      { ...sku },
      now,
      now + this.scaleDurationMs,
      this.scaleOutcome,
    );
    this.operations.push(operation);
    this.scaleRequests.push({ resourceId, server, name: resource, sku: { ...sku }, at: now });
    return { value: { trackingId: operation.trackingId }, retryAfterMs: 0 };
  }

  async getSqlOperationProgress(resourceId: string, trackingId: string): Promise<ArmAnswer<OperationProgress>> {
    const now = await this.record('getSqlOperationProgress', { resourceId, trackingId });
    this.takeFault('getSqlOperationProgress', 'GET');
    recordArmCall('GET', 200);
    const operation = this.operations.find(
      (entry) =>
        (entry.trackingId === trackingId || entry.name === trackingId) &&
        entry.resourceId.toLowerCase() === resourceId.toLowerCase(),
    );
    if (!operation) {
      throw new ArmRequestError('The operation with Id does not exist.', {
        statusCode: 404,
        code: 'OperationIdNotFound',
        delivery: 'answered',
      });
    }
    const view = this.operationView(operation, now);
    return {
      value: {
        state: operation.state,
        percentComplete: view.percentComplete,
        ...(operation.state === 'Failed'
          ? {
              error: {
                code: 'OperationTimedOut',
                message: 'The operation timed out and automatically rolled back. Please retry the operation.',
              },
            }
          : {}),
      },
      ...(operation.state === 'InProgress' ? { retryAfterMs: 15_000 } : {}),
    };
  }
}
