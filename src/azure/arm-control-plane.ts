/**
 * The ARM control plane over `@azure/arm-sql`: one `SqlManagementClient` per subscription, sharing one credential,
 * built once by the worker. Every request is metered (reads, writes, throttled answers) and its `Retry-After` kept; every
 * failure becomes an {@link ArmRequestError} saying whether the request may have reached Azure.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  getContinuationToken,
  SqlManagementClient,
  type InstanceFailoverGroup,
  type ManagedInstance,
  type ManagedInstanceLongTermRetentionPolicy,
  type ManagedInstanceOperation,
} from '@azure/arm-sql';
import { NetworkManagementClient, type SecurityRule } from '@azure/arm-network';
import { RecoveryServicesBackupClient } from '@azure/arm-recoveryservicesbackup';
import { CosmosDBManagementClient } from '@azure/arm-cosmosdb';
import { rootCertificates } from 'node:tls';
import type { TokenCredential } from '@azure/core-auth';
import {
  createPipelineRequest,
  isRestError,
  type Pipeline,
  type PipelinePolicy,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import type { FullOperationResponse, OperationOptions } from '@azure/core-client';
import { normalizeLocation } from '../domain/locations';
import {
  skuParts,
  type EncryptionProtectorView,
  type FailoverGroupDefinition,
  type FailoverGroupView,
  type InstanceKeyView,
  type ManagedDatabaseView,
  type ManagedInstanceView,
  type NetworkSecurityGroupView,
  type SecurityRuleView,
  type SubnetView,
  type ManagementOperationView,
  type OperationProgress,
  type RetentionPolicyView,
  type ScaleTarget,
  UNCONFIGURED_RETENTION,
} from '../domain/azure-state';
import { recordArmCall } from './arm-call-meter';
import type { ArmAnswer, ArmRequestOptions, ControlPlane, FailoverKind, GroupIdentity } from './control-plane';
import { ArmRequestError, stoppedBeforeSending } from './errors';
import { BudgetWaitAbortedError, DEFAULT_RATE_LIMITS, SubscriptionRateLimiter, type RateLimits } from './rate-limiter';
import { ReadCoalescer, type ListedPage, type ReadCoalescerOptions } from './read-coalescer';

export interface ArmControlPlaneOptions {
  credential: TokenCredential;
  /** ARM endpoint: `https://management.azure.com`, a sovereign cloud's, or the emulator's. */
  endpoint: string;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
  /** Audience of the ARM token; defaults to `<endpoint>/.default`. */
  credentialScope?: string;
  /** Client-side budget per subscription, shared by every runbook of this worker. */
  rateLimits?: RateLimits;
  /**
   * Extra CA certificates (PEM) to trust for the endpoint, e.g. the emulator's `tls.ca` (fogpilot.yaml `azure.caFile`).
   * Passed to the SDK as its `tlsOptions.ca`, after Node's own CAs (a `ca` alone would replace them, and Azure's
   * certificates would no longer be trusted).
   */
  ca?: string;
  /**
   * Reads of failover groups and managed instances shared by list calls while many runbooks run (see
   * src/azure/read-coalescer); `false`: every read its own GET. Default: on, with the coalescer's defaults.
   */
  coalescing?: ReadCoalescerOptions | false;
}

/**
 * The api-version of `instanceFailoverGroups` requests: the one @azure/arm-sql 10 sends for them (its
 * InstanceFailoverGroups operations), so a POST sent without the SDK's poller reaches the same API as its reads.
 */
const INSTANCE_FAILOVER_GROUPS_API_VERSION = '2022-05-01-preview';

const ARM_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Sql\/managedInstances\/([^/]+)$/i;

export function parseManagedInstanceId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const match = ARM_ID.exec(id);
  if (!match)
    throw new ArmRequestError(`not a managed instance id: ${id}`, {
      statusCode: 400,
      code: 'InvalidResourceId',
      delivery: 'not-sent',
    });
  return { subscriptionId: match[1]!, resourceGroup: match[2]!, name: match[3]! };
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | undefined | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Told, within one call, when each of its requests leaves the worker (after the request budget's wait). */
const requestSent = new AsyncLocalStorage<(at: number) => void>();

/**
 * Spends the subscription's request budget evenly, and on a 429 holds back every request of the subscription for the
 * Retry-After, so one throttled child of a fleet slows the others instead of each meeting its own 429.
 *
 * The wait for a token ends when the request's abort signal does, and the signal is read again once the token is
 * granted, with nothing awaited between that check and the transport: a request whose caller has given up (cancelled,
 * or past its deadline) never goes out, whenever the budget frees up. Either way it fails `not-sent`.
 */
function rateLimitPolicy(limiter: SubscriptionRateLimiter): PipelinePolicy {
  return {
    name: 'fogpilotArmRateLimit',
    async sendRequest(request, next) {
      const bucket = limiter.bucketFor(request.method);
      try {
        await bucket.take(request.abortSignal);
      } catch (error) {
        if (error instanceof BudgetWaitAbortedError) throw stoppedBeforeSending(request.method, error.reason, error);
        throw error;
      }
      const signal = request.abortSignal;
      if (signal?.aborted) throw stoppedBeforeSending(request.method, 'reason' in signal ? signal.reason : undefined);
      requestSent.getStore()?.(Date.now());
      const response = await next(request);
      if (response.status === 429) bucket.pauseFor(retryAfterMs(response.headers.get('retry-after')) ?? 5_000);
      return response;
    },
  };
}

/** Counts every attempt that goes out (after the retry phase), so the meter sees what Azure sees. */
const meterPolicy: PipelinePolicy = {
  name: 'fogpilotArmMeter',
  async sendRequest(request, next) {
    try {
      const response = await next(request);
      recordArmCall(request.method, response.status);
      return response;
    } catch (error) {
      recordArmCall(request.method, isRestError(error) ? error.statusCode : undefined);
      throw error;
    }
  },
};

/**
 * The bearer token over plain HTTP, for the local emulator only: the SDK's bearer policy refuses non-https URLs, and
 * the emulator, like ARM, answers 401 without a token.
 */
function plainHttpBearerPolicy(credential: TokenCredential, scope: string): PipelinePolicy {
  return {
    name: 'fogpilotPlainHttpBearer',
    async sendRequest(request, next) {
      const token = await credential.getToken(scope, { abortSignal: request.abortSignal });
      if (token) request.headers.set('Authorization', `Bearer ${token.token}`);
      return next(request);
    },
  };
}

function toArmRequestError(error: unknown, doing: string, abortSignal?: AbortSignal): ArmRequestError {
  if (error instanceof ArmRequestError) return error;
  if (isRestError(error)) {
    const response = error.response;
    const statusCode = error.statusCode ?? response?.status;
    return new ArmRequestError(error.message, {
      statusCode,
      code: error.code ?? undefined,
      retryAfterMs: retryAfterMs(response?.headers.get('retry-after')),
      delivery: statusCode !== undefined ? 'answered' : error.code === 'ECONNREFUSED' ? 'not-sent' : 'unknown',
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    const cancelled = abortSignal?.aborted === true;
    return new ArmRequestError(cancelled ? `${doing}: cancelled` : `${doing}: no answer within the request timeout`, {
      code: cancelled ? 'Cancelled' : 'ETIMEDOUT',
      delivery: 'unknown',
      cause: error,
    });
  }
  return new ArmRequestError(`${doing}: ${error instanceof Error ? error.message : String(error)}`, {
    delivery: 'unknown',
    cause: error,
  });
}

function toGroupView(location: string, body: InstanceFailoverGroup): FailoverGroupView {
  const partner = body.partnerRegions?.[0];
  const pair = body.managedInstancePairs?.[0];
  return {
    id: body.id ?? '',
    name: body.name ?? '',
    location: normalizeLocation(location),
    replicationRole: body.replicationRole ?? '',
    replicationState: body.replicationState ?? '',
    partnerLocation: normalizeLocation(partner?.location ?? ''),
    partnerRole: partner?.replicationRole,
    primaryManagedInstanceId: pair?.primaryManagedInstanceId ?? '',
    partnerManagedInstanceId: pair?.partnerManagedInstanceId ?? '',
    readWriteFailoverPolicy: body.readWriteEndpoint?.failoverPolicy ?? '',
    failoverWithDataLossGracePeriodMinutes: body.readWriteEndpoint?.failoverWithDataLossGracePeriodMinutes,
    readOnlyFailoverPolicy: body.readOnlyEndpoint?.failoverPolicy,
    secondaryType: body.secondaryType,
  };
}

function toInstanceView(body: ManagedInstance): ManagedInstanceView {
  return {
    id: body.id ?? '',
    name: body.name ?? '',
    location: normalizeLocation(body.location ?? ''),
    skuName: body.sku?.name ?? '',
    tier: body.sku?.tier ?? '',
    family: body.sku?.family,
    vCores: body.vCores ?? body.sku?.capacity ?? 0,
    storageSizeInGB: body.storageSizeInGB ?? 0,
    licenseType: body.licenseType,
    provisioningState: body.provisioningState ?? '',
    state: body.state ?? '',
    fullyQualifiedDomainName: body.fullyQualifiedDomainName ?? '',
    backupStorageRedundancy: body.currentBackupStorageRedundancy,
    dnsZone: body.dnsZone,
    collation: body.collation,
    timezoneId: body.timezoneId,
    maintenanceConfigurationId: body.maintenanceConfigurationId,
    subnetId: body.subnetId,
    keyId: body.keyId,
  };
}

/** Both the single and the plural field of a rule, as one list (ARM fills one or the other). */
function both(single: string | undefined, plural: string[] | undefined): string[] {
  return [...(single !== undefined && single !== '' ? [single] : []), ...(plural ?? [])];
}

function toRuleView(rule: SecurityRule): SecurityRuleView {
  return {
    name: rule.name ?? '',
    priority: rule.priority ?? Number.MAX_SAFE_INTEGER,
    direction: rule.direction ?? '',
    access: rule.access ?? '',
    protocol: rule.protocol ?? '',
    sourceAddressPrefixes: both(rule.sourceAddressPrefix, rule.sourceAddressPrefixes),
    destinationAddressPrefixes: both(rule.destinationAddressPrefix, rule.destinationAddressPrefixes),
    destinationPortRanges: both(rule.destinationPortRange, rule.destinationPortRanges),
  };
}

const SUBNET_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i;
const NSG_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/networkSecurityGroups\/([^/]+)$/i;

function parseNetworkId(id: string, pattern: RegExp, what: string): string[] {
  const match = pattern.exec(id);
  if (!match)
    throw new ArmRequestError(`not the ARM id of a ${what}: ${id}`, {
      statusCode: 400,
      code: 'InvalidResourceId',
      delivery: 'not-sent',
    });
  return match.slice(1);
}

/** The JSON error of an ARM answer, or an empty object when the body is not JSON. */
function errorOf(response: PipelineResponse): { code?: string; message?: string } {
  try {
    return (JSON.parse(response.bodyAsText ?? '{}') as { error?: { code?: string; message?: string } }).error ?? {};
  } catch {
    return {};
  }
}

/** Absent fields read as Azure's unconfigured values, so a partial answer never looks like a configured policy. */
function toRetentionPolicyView(body: ManagedInstanceLongTermRetentionPolicy): RetentionPolicyView {
  return {
    weeklyRetention: body.weeklyRetention ?? UNCONFIGURED_RETENTION.weeklyRetention,
    monthlyRetention: body.monthlyRetention ?? UNCONFIGURED_RETENTION.monthlyRetention,
    yearlyRetention: body.yearlyRetention ?? UNCONFIGURED_RETENTION.yearlyRetention,
    weekOfYear: body.weekOfYear ?? UNCONFIGURED_RETENTION.weekOfYear,
  };
}

function toOperationView(body: ManagedInstanceOperation): ManagementOperationView {
  const requested = body.operationParameters?.requestedParameters;
  return {
    id: body.id ?? '',
    name: body.name ?? '',
    operation: body.operation ?? '',
    friendlyName: body.operationFriendlyName,
    state: body.state ?? '',
    percentComplete: body.percentComplete,
    startTime: body.startTime?.toISOString(),
    estimatedCompletionTime: body.estimatedCompletionTime?.toISOString(),
    requested: requested
      ? {
          vCores: requested.vCores,
          storageSizeInGB: requested.storageSizeInGB,
          tier: requested.tier,
          family: requested.family,
        }
      : undefined,
    errorMessage: body.errorDescription,
  };
}

/** ARM's state of an operation as the runbooks follow it (an unknown or running state is `InProgress`). */
export function progressState(state: string | undefined): OperationProgress['state'] {
  switch ((state ?? '').toLowerCase()) {
    case 'succeeded':
      return 'Succeeded';
    case 'failed':
      return 'Failed';
    case 'cancelled':
    case 'canceled':
      return 'Canceled';
    default:
      return 'InProgress';
  }
}

export class ArmControlPlane implements ControlPlane {
  private readonly clients = new Map<string, SqlManagementClient>();
  private readonly networkClients = new Map<string, NetworkManagementClient>();
  private readonly backupClients = new Map<string, RecoveryServicesBackupClient>();
  private readonly cosmosClients = new Map<string, CosmosDBManagementClient>();
  private readonly limiters = new Map<string, SubscriptionRateLimiter>();
  private readonly endpoint: string;
  private readonly requestTimeoutMs: number;
  /** Reads of failover groups, per resource group and location; undefined: coalescing off. */
  readonly groupReads?: ReadCoalescer<FailoverGroupView>;
  /** Reads of managed instances, per resource group. */
  readonly instanceReads?: ReadCoalescer<ManagedInstanceView>;

  constructor(private readonly options: ArmControlPlaneOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    if (options.coalescing !== false) {
      this.groupReads = new ReadCoalescer((scope) => this.failoverGroupPages(scope), options.coalescing);
      this.instanceReads = new ReadCoalescer((scope) => this.managedInstancePages(scope), options.coalescing);
    }
  }

  /** The failover groups of `subscription|resourceGroup|location`, a page at a time (following `nextLink`). */
  private async *failoverGroupPages(scope: string): AsyncGenerator<ListedPage<FailoverGroupView>> {
    const [subscriptionId, resourceGroup, location] = scope.split('|') as [string, string, string];
    const pages = this.client(subscriptionId)
      .instanceFailoverGroups.listByLocation(resourceGroup, location, this.callOptions(undefined, []))
      .byPage();
    yield* this.walkPages(pages, `listing the failover groups of ${resourceGroup} at ${location}`, (body) => ({
      key: (body.name ?? '').toLowerCase(),
      value: toGroupView(location, body),
    }));
  }

  /** The managed instances of `subscription|resourceGroup`, a page at a time (following `nextLink`). */
  private async *managedInstancePages(scope: string): AsyncGenerator<ListedPage<ManagedInstanceView>> {
    const [subscriptionId, resourceGroup] = scope.split('|') as [string, string];
    const pages = this.client(subscriptionId)
      .managedInstances.listByResourceGroup(resourceGroup, this.callOptions(undefined, []))
      .byPage();
    yield* this.walkPages(pages, `listing the managed instances of ${resourceGroup}`, (body) => ({
      key: (body.name ?? '').toLowerCase(),
      value: toInstanceView(body),
    }));
  }

  private async *walkPages<B, T>(
    pages: AsyncIterableIterator<B[]>,
    doing: string,
    item: (body: B) => { key: string; value: T },
  ): AsyncGenerator<ListedPage<T>> {
    for (;;) {
      let sentAt = 0;
      let next: IteratorResult<B[]>;
      try {
        next = await requestSent.run(
          (at) => {
            sentAt = at;
          },
          () => pages.next(),
        );
      } catch (error) {
        throw toArmRequestError(error, doing);
      }
      if (next.done) return;
      yield { items: next.value.map(item), continuationToken: getContinuationToken(next.value), sentAt };
    }
  }

  /** Runs `read` noting when its request went out, as the answer's `readAtMs`. */
  private async timedRead<T>(read: () => Promise<ArmAnswer<T>>): Promise<ArmAnswer<T>> {
    let sentAt: number | undefined;
    const answer = await requestSent.run((at) => {
      sentAt = at;
    }, read);
    return { ...answer, readAtMs: sentAt };
  }

  /** One client per subscription, built on first use and kept. */
  client(subscriptionId: string): SqlManagementClient {
    return this.kept(this.clients, subscriptionId, (common) => new SqlManagementClient(...common.sdk(subscriptionId)));
  }

  /** The `Microsoft.Network` client of a subscription (subnets, network security groups), with the same policies. */
  networkClient(subscriptionId: string): NetworkManagementClient {
    return this.kept(
      this.networkClients,
      subscriptionId,
      (common) => new NetworkManagementClient(...common.typeSpec(subscriptionId)),
    );
  }

  /** The Recovery Services backup client of a subscription (VM backup), with the same policies. */
  backupClient(subscriptionId: string): RecoveryServicesBackupClient {
    return this.kept(
      this.backupClients,
      subscriptionId,
      (common) => new RecoveryServicesBackupClient(...common.sdk(subscriptionId)),
    );
  }

  /** The Cosmos DB client of a subscription (accounts' backup policies), with the same policies. */
  cosmosClient(subscriptionId: string): CosmosDBManagementClient {
    return this.kept(
      this.cosmosClients,
      subscriptionId,
      (common) => new CosmosDBManagementClient(...common.typeSpec(subscriptionId)),
    );
  }

  /**
   * A subscription's client from `cache`, or a new one built by `make` with the options every client shares (the
   * endpoint, the token's scope, the emulator's CA, no SDK retries: Temporal retries, durably and honouring
   * Retry-After) and given the shared policies. `sdk` spells the credential's scope as the `@azure/arm-*` clients
   * generated by AutoRest do (`credentialScopes`), `typeSpec` as the newer ones (`credentials.scopes`).
   */
  private kept<C extends { pipeline: Pipeline }>(
    cache: Map<string, C>,
    subscriptionId: string,
    make: (common: {
      sdk: (subscription: string) => [TokenCredential, string, Record<string, unknown>];
      typeSpec: (subscription: string) => [TokenCredential, string, Record<string, unknown>];
    }) => C,
  ): C {
    const key = subscriptionId.toLowerCase();
    const cached = cache.get(key);
    if (cached) return cached;
    const { insecure, scope } = this.connection();
    const shared = {
      endpoint: this.endpoint,
      allowInsecureConnection: insecure,
      ...(this.options.ca ? { tlsOptions: { ca: [...rootCertificates, this.options.ca] } } : {}),
      retryOptions: { maxRetries: 0 },
    };
    const client = make({
      sdk: (subscription) => [this.options.credential, subscription, { ...shared, credentialScopes: [scope] }],
      typeSpec: (subscription) => [
        this.options.credential,
        subscription,
        { ...shared, credentials: { scopes: [scope] } },
      ],
    });
    this.addPolicies(client.pipeline, subscriptionId);
    cache.set(key, client);
    return client;
  }

  private connection(): { insecure: boolean; scope: string } {
    const insecure = this.endpoint.startsWith('http://');
    const scope =
      this.options.credentialScope ?? `${insecure ? 'https://management.azure.com' : this.endpoint}/.default`;
    return { insecure, scope };
  }

  /**
   * The emulator's bearer token over plain HTTP, the subscription's request budget (one per subscription, shared by
   * every client of it: Azure counts the subscription's requests, whichever provider) and the meter.
   */
  private addPolicies(pipeline: Pipeline, subscriptionId: string): void {
    const { insecure, scope } = this.connection();
    // The SDK's bearer policy refuses plain HTTP, which only the local emulator speaks: it gets its token another way.
    if (insecure) {
      pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
      pipeline.addPolicy(plainHttpBearerPolicy(this.options.credential, scope), { phase: 'Sign' });
    }
    const key = subscriptionId.toLowerCase();
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new SubscriptionRateLimiter(this.options.rateLimits ?? DEFAULT_RATE_LIMITS);
      this.limiters.set(key, limiter);
    }
    pipeline.addPolicy(rateLimitPolicy(limiter), { afterPhase: 'Retry' });
    pipeline.addPolicy(meterPolicy, { afterPhase: 'Retry', afterPolicies: ['fogpilotArmRateLimit'] });
  }

  /** Options for one SDK call: timeout, cancellation, and capture of the raw answer for its headers. */
  private callOptions(
    options: ArmRequestOptions | undefined,
    seen: { response?: FullOperationResponse }[],
  ): OperationOptions {
    return {
      abortSignal: options?.abortSignal,
      requestOptions: { timeout: this.requestTimeoutMs },
      onResponse: (response) => {
        seen.push({ response });
      },
    };
  }

  /** One SDK call as an {@link ArmAnswer}, its failure as an `ArmRequestError` (shared with ./arm-recovery-plane). */
  async call<T>(
    doing: string,
    options: ArmRequestOptions | undefined,
    work: (callOptions: OperationOptions) => Promise<T>,
  ): Promise<ArmAnswer<T>> {
    const seen: { response?: FullOperationResponse }[] = [];
    try {
      const value = await work(this.callOptions(options, seen));
      return { value, retryAfterMs: retryAfterMs(seen.at(-1)?.response?.headers.get('retry-after')) };
    } catch (error) {
      throw toArmRequestError(error, doing, options?.abortSignal);
    }
  }

  /** A GET, or an answer shared with concurrent reads of the resource group at that location (see `groupReads`). */
  async getFailoverGroup(
    group: GroupIdentity,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<FailoverGroupView>> {
    const direct = () =>
      this.timedRead(async () => {
        const answer = await this.call(`reading failover group ${group.name} at ${location}`, options, (callOptions) =>
          this.client(group.subscriptionId).instanceFailoverGroups.get(
            group.resourceGroup,
            location,
            group.name,
            callOptions,
          ),
        );
        return { value: toGroupView(location, answer.value), retryAfterMs: answer.retryAfterMs };
      });
    if (!this.groupReads) return { ...(await direct()), via: 'direct' };
    const scope = [group.subscriptionId, group.resourceGroup, normalizeLocation(location)]
      .map((part) => part.toLowerCase())
      .join('|');
    return this.groupReads.read(scope, group.name.toLowerCase(), direct, options);
  }

  /** A GET, or an answer shared with concurrent reads of the resource group's instances (see `instanceReads`). */
  async getManagedInstance(instanceId: string, options?: ArmRequestOptions): Promise<ArmAnswer<ManagedInstanceView>> {
    const id = parseManagedInstanceId(instanceId);
    const direct = () =>
      this.timedRead(async () => {
        const answer = await this.call(`reading managed instance ${id.name}`, options, (callOptions) =>
          this.client(id.subscriptionId).managedInstances.get(id.resourceGroup, id.name, callOptions),
        );
        return { value: toInstanceView(answer.value), retryAfterMs: answer.retryAfterMs };
      });
    if (!this.instanceReads) return { ...(await direct()), via: 'direct' };
    const scope = [id.subscriptionId, id.resourceGroup].map((part) => part.toLowerCase()).join('|');
    return this.instanceReads.read(scope, id.name.toLowerCase(), direct, options);
  }

  /** Walks every page; the instance's policy is the one named `default` (Azure keeps exactly one per database). */
  async listDatabaseRetentionPolicies(
    instanceId: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RetentionPolicyView>> {
    const id = parseManagedInstanceId(instanceId);
    return this.call(
      `reading the long-term retention policy of ${database} on ${id.name}`,
      options,
      async (callOptions) => {
        const policies: ManagedInstanceLongTermRetentionPolicy[] = [];
        for await (const policy of this.client(
          id.subscriptionId,
        ).managedInstanceLongTermRetentionPolicies.listByDatabase(id.resourceGroup, id.name, database, callOptions)) {
          policies.push(policy);
        }
        const policy = policies.find((entry) => entry.name?.toLowerCase() === 'default') ?? policies[0];
        return policy ? toRetentionPolicyView(policy) : { ...UNCONFIGURED_RETENTION };
      },
    );
  }

  async listManagedInstanceOperations(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<ManagementOperationView[]>> {
    const id = parseManagedInstanceId(instanceId);
    return this.call(`listing operations of ${id.name}`, options, async (callOptions) => {
      const operations: ManagementOperationView[] = [];
      for await (const operation of this.client(id.subscriptionId).managedInstanceOperations.listByManagedInstance(
        id.resourceGroup,
        id.name,
        callOptions,
      )) {
        operations.push(toOperationView(operation));
      }
      return operations;
    });
  }

  /**
   * PATCHes the size and returns the instance operation that carries it out (its name is the tracking id), so its
   * progress can be followed. The SDK's first poll after the PATCH may fail without undoing anything: once Azure has
   * accepted the PATCH, the scale goes on.
   */
  async beginScaleManagedInstance(
    instanceId: string,
    target: ScaleTarget,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId: string }>> {
    const id = parseManagedInstanceId(instanceId);
    const client = this.client(id.subscriptionId);
    // ARM wants the tier and hardware family beside the SKU name (`BC_G8IM` → BusinessCritical, G8IM).
    const sku = target.skuName !== undefined ? skuParts(target.skuName) : undefined;
    if (target.skuName !== undefined && !sku) {
      throw new ArmRequestError(`not a managed instance SKU name: ${target.skuName}`, {
        statusCode: 400,
        code: 'InvalidSkuName',
        delivery: 'not-sent',
      });
    }
    const accepted = await this.sendAccepted(`scaling ${id.name}`, 'PATCH', options, (callOptions) =>
      client.managedInstances.beginUpdate(
        id.resourceGroup,
        id.name,
        {
          vCores: target.vCores,
          storageSizeInGB: target.storageSizeInGB,
          ...(sku
            ? { sku: { name: target.skuName!, tier: sku.tier, family: sku.family, capacity: target.vCores } }
            : {}),
        },
        callOptions,
      ),
    );
    const { value: operations } = await this.listManagedInstanceOperations(instanceId, options);
    const running = operations.find(
      (operation) =>
        progressState(operation.state) === 'InProgress' &&
        (target.vCores === undefined || operation.requested?.vCores === target.vCores) &&
        (target.storageSizeInGB === undefined || operation.requested?.storageSizeInGB === target.storageSizeInGB) &&
        (!sku || operation.requested?.tier === undefined || operation.requested.tier === sku.tier),
    );
    if (running) return { value: { trackingId: running.name }, retryAfterMs: accepted.retryAfterMs };
    const asyncUrl = accepted.response.headers.get('azure-asyncoperation');
    return { value: { trackingId: asyncUrl ? `async:${asyncUrl}` : 'completed' }, retryAfterMs: accepted.retryAfterMs };
  }

  async getOperationProgress(
    instanceId: string,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>> {
    if (trackingId === 'completed') return { value: { state: 'Succeeded', percentComplete: 100 } };
    if (trackingId.startsWith('async:')) {
      return this.readAsyncOperation(
        parseManagedInstanceId(instanceId).subscriptionId,
        trackingId.slice('async:'.length),
        options,
      );
    }
    const id = parseManagedInstanceId(instanceId);
    const answer = await this.call(`reading operation ${trackingId} of ${id.name}`, options, (callOptions) =>
      this.client(id.subscriptionId).managedInstanceOperations.get(id.resourceGroup, id.name, trackingId, callOptions),
    );
    const operation = answer.value;
    const state = progressState(operation.state);
    return {
      value: {
        state,
        percentComplete: operation.percentComplete,
        error:
          state === 'Failed'
            ? {
                code: operation.errorCode !== undefined ? String(operation.errorCode) : undefined,
                message: operation.errorDescription ?? 'the operation failed',
              }
            : undefined,
      },
      retryAfterMs: answer.retryAfterMs,
    };
  }

  /**
   * POSTs the failover, once, through the client's pipeline (credential, request budget, metering). Returns once Azure
   * has accepted it, with the Azure-AsyncOperation URL as the tracking id. Not through the SDK's `beginFailover`: that
   * follows the POST with a status read of its own, an ARM read the caller makes anyway when it follows the operation.
   */
  async beginFailover(
    group: GroupIdentity,
    location: string,
    kind: FailoverKind,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string }>> {
    const answer = await this.sendOnce(
      group.subscriptionId,
      'POST',
      `${this.groupPath(group, location)}/${kind === 'planned' ? 'failover' : 'forceFailoverAllowDataLoss'}`,
      `sending ${kind} failover of ${group.name} to ${location}`,
      options,
    );
    return { value: { trackingId: answer.trackingId }, retryAfterMs: answer.retryAfterMs };
  }

  private groupPath(group: GroupIdentity, location: string): string {
    return (
      `/subscriptions/${encodeURIComponent(group.subscriptionId)}/resourceGroups/${encodeURIComponent(group.resourceGroup)}` +
      `/providers/Microsoft.Sql/locations/${encodeURIComponent(location)}/instanceFailoverGroups/` +
      encodeURIComponent(group.name)
    );
  }

  /**
   * One request of the instance-failover-group API, once, through the client's pipeline (credential, request budget,
   * metering): not through the SDK's `begin…`, which follows the request with a status read of its own, an ARM read
   * the caller makes anyway when it follows the operation. Answers other than success throw with ARM's error.
   */
  private async sendOnce(
    subscriptionId: string,
    method: 'POST' | 'PUT' | 'DELETE',
    path: string,
    doing: string,
    options: ArmRequestOptions | undefined,
    body?: unknown,
  ): Promise<{ status: number; trackingId?: string; retryAfterMs?: number }> {
    const url = `${this.endpoint}${path}?api-version=${INSTANCE_FAILOVER_GROUPS_API_VERSION}`;
    let response: PipelineResponse;
    try {
      const request = createPipelineRequest({
        url,
        method,
        timeout: this.requestTimeoutMs,
        abortSignal: options?.abortSignal,
        allowInsecureConnection: url.startsWith('http://'),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      if (body !== undefined) request.headers.set('Content-Type', 'application/json');
      response = await this.client(subscriptionId).sendRequest(request);
    } catch (error) {
      throw toArmRequestError(error, doing, options?.abortSignal);
    }
    const hint = retryAfterMs(response.headers.get('retry-after'));
    if (response.status >= 300) {
      const error = errorOf(response);
      throw new ArmRequestError(error.message ?? `${doing}: HTTP ${response.status}`, {
        statusCode: response.status,
        code: error.code,
        retryAfterMs: hint,
        delivery: 'answered',
      });
    }
    return {
      status: response.status,
      trackingId: response.headers.get('azure-asyncoperation') ?? undefined,
      retryAfterMs: hint,
    };
  }

  async listFailoverGroups(
    scope: { subscriptionId: string; resourceGroup: string; location: string },
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<FailoverGroupView[]>> {
    return this.call(
      `listing the failover groups of ${scope.resourceGroup} at ${scope.location}`,
      options,
      async (callOptions) => {
        const views: FailoverGroupView[] = [];
        for await (const body of this.client(scope.subscriptionId).instanceFailoverGroups.listByLocation(
          scope.resourceGroup,
          scope.location,
          callOptions,
        )) {
          views.push(toGroupView(scope.location, body));
        }
        return views;
      },
    );
  }

  async beginCreateFailoverGroup(
    group: GroupIdentity,
    location: string,
    definition: FailoverGroupDefinition,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>> {
    const readWriteEndpoint: Record<string, unknown> = { failoverPolicy: definition.readWriteFailoverPolicy };
    if (definition.readWriteFailoverPolicy === 'Automatic')
      readWriteEndpoint.failoverWithDataLossGracePeriodMinutes = definition.gracePeriodMinutes;
    const answer = await this.sendOnce(
      group.subscriptionId,
      'PUT',
      this.groupPath(group, location),
      `creating failover group ${group.name} at ${location}`,
      options,
      {
        properties: {
          readWriteEndpoint,
          readOnlyEndpoint: { failoverPolicy: definition.readOnlyFailoverPolicy },
          partnerRegions: [{ location: definition.partnerLocation }],
          managedInstancePairs: [
            {
              primaryManagedInstanceId: definition.primaryInstanceId,
              partnerManagedInstanceId: definition.partnerInstanceId,
            },
          ],
          secondaryType: definition.secondaryType,
        },
      },
    );
    return { value: { trackingId: answer.trackingId, status: answer.status }, retryAfterMs: answer.retryAfterMs };
  }

  async beginDeleteFailoverGroup(
    group: GroupIdentity,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>> {
    const answer = await this.sendOnce(
      group.subscriptionId,
      'DELETE',
      this.groupPath(group, location),
      `deleting failover group ${group.name} at ${location}`,
      options,
    );
    return { value: { trackingId: answer.trackingId, status: answer.status }, retryAfterMs: answer.retryAfterMs };
  }

  async listManagedDatabases(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<ManagedDatabaseView[]>> {
    const id = parseManagedInstanceId(instanceId);
    return this.call(`listing the databases of ${id.name}`, options, async (callOptions) => {
      const databases: ManagedDatabaseView[] = [];
      for await (const body of this.client(id.subscriptionId).managedDatabases.listByInstance(
        id.resourceGroup,
        id.name,
        callOptions,
      )) {
        databases.push({ id: body.id ?? '', name: body.name ?? '', status: body.status });
      }
      return databases;
    });
  }

  async getTdeKeys(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ protector: EncryptionProtectorView; keys: InstanceKeyView[] }>> {
    const id = parseManagedInstanceId(instanceId);
    return this.call(`reading the TDE protector and keys of ${id.name}`, options, async (callOptions) => {
      const client = this.client(id.subscriptionId);
      const [protector, keys] = await Promise.all([
        client.managedInstanceEncryptionProtectors.get(id.resourceGroup, id.name, 'current', callOptions),
        (async () => {
          const listed: InstanceKeyView[] = [];
          for await (const key of client.managedInstanceKeys.listByInstance(id.resourceGroup, id.name, callOptions))
            listed.push({ name: key.name ?? '', serverKeyType: key.serverKeyType ?? '', uri: key.uri });
          return listed;
        })(),
      ]);
      return {
        protector: {
          serverKeyType: protector.serverKeyType ?? '',
          serverKeyName: protector.serverKeyName,
          uri: protector.uri,
          autoRotationEnabled: protector.autoRotationEnabled,
        },
        keys,
      };
    });
  }

  async getSubnet(subnetId: string, options?: ArmRequestOptions): Promise<ArmAnswer<SubnetView>> {
    const [subscriptionId, resourceGroup, network, subnet] = parseNetworkId(subnetId, SUBNET_ID, 'subnet') as [
      string,
      string,
      string,
      string,
    ];
    return this.call(`reading subnet ${network}/${subnet}`, options, async (callOptions) => {
      const body = await this.networkClient(subscriptionId).subnets.get(resourceGroup, network, subnet, {
        abortSignal: callOptions.abortSignal,
        requestOptions: { timeout: this.requestTimeoutMs },
      });
      return {
        id: body.id ?? subnetId,
        name: body.name ?? subnet,
        addressPrefixes: both(body.addressPrefix, body.addressPrefixes),
        networkSecurityGroupId: body.networkSecurityGroup?.id,
      };
    });
  }

  async getNetworkSecurityGroup(
    nsgId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<NetworkSecurityGroupView>> {
    const [subscriptionId, resourceGroup, name] = parseNetworkId(nsgId, NSG_ID, 'network security group') as [
      string,
      string,
      string,
    ];
    return this.call(`reading network security group ${name}`, options, async (callOptions) => {
      const body = await this.networkClient(subscriptionId).networkSecurityGroups.get(resourceGroup, name, {
        abortSignal: callOptions.abortSignal,
        requestOptions: { timeout: this.requestTimeoutMs },
      });
      return {
        id: body.id ?? nsgId,
        name: body.name ?? name,
        securityRules: (body.securityRules ?? []).map(toRuleView),
        defaultSecurityRules: (body.defaultSecurityRules ?? []).map(toRuleView),
      };
    });
  }

  async getFailoverProgress(
    group: GroupIdentity,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>> {
    return this.readAsyncOperation(group.subscriptionId, trackingId, options);
  }

  /**
   * Runs a `begin…` call and returns the answer to its initial request, ignoring a failure of the SDK's first poll
   * (shared with ./arm-recovery-plane: the workflow follows the operation durably, not the SDK's poller).
   */
  async sendAccepted(
    doing: string,
    method: string,
    options: ArmRequestOptions | undefined,
    begin: (callOptions: OperationOptions) => Promise<unknown>,
  ): Promise<{ response: PipelineResponse; retryAfterMs?: number }> {
    const seen: { response?: FullOperationResponse }[] = [];
    const initial = (): PipelineResponse | undefined =>
      seen.find((entry) => entry.response?.request.method === method)?.response;
    try {
      await begin(this.callOptions(options, seen));
    } catch (error) {
      const response = initial();
      if (!response || response.status >= 300) throw toArmRequestError(error, doing, options?.abortSignal);
    }
    const response = initial();
    if (!response) throw new ArmRequestError(`${doing}: no answer to the ${method}`, { delivery: 'unknown' });
    return { response, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
  }

  /**
   * Reads an ARM async-operation status URL (only URLs of the configured endpoint are followed). `location` reads a
   * `Location` header's URL the way ARM defines it: 202 while the operation runs, 200/201/204 once it succeeded.
   * A Recovery Services operation's status also names its job (`properties.jobId`).
   */
  async readAsyncOperation(
    subscriptionId: string,
    url: string,
    options?: ArmRequestOptions,
    style: 'async-operation' | 'location' = 'async-operation',
  ): Promise<ArmAnswer<OperationProgress & { jobId?: string }>> {
    if (new URL(url).origin !== new URL(this.endpoint).origin) {
      throw new ArmRequestError(`refusing to follow an operation URL outside ${this.endpoint}: ${url}`, {
        statusCode: 400,
        code: 'InvalidOperationUrl',
        delivery: 'not-sent',
      });
    }
    const client = this.client(subscriptionId);
    let response: PipelineResponse;
    try {
      response = await client.sendRequest(
        createPipelineRequest({
          url,
          method: 'GET',
          timeout: this.requestTimeoutMs,
          abortSignal: options?.abortSignal,
          allowInsecureConnection: url.startsWith('http://'),
        }),
      );
    } catch (error) {
      throw toArmRequestError(error, 'reading an operation status', options?.abortSignal);
    }
    const hint = retryAfterMs(response.headers.get('retry-after'));
    let body: {
      status?: string;
      percentComplete?: number;
      error?: { code?: string; message?: string };
      properties?: { jobId?: string };
    } = {};
    try {
      body = JSON.parse(response.bodyAsText ?? '{}') as typeof body;
    } catch {
      body = {};
    }
    if (response.status >= 400) {
      throw new ArmRequestError(body.error?.message ?? `HTTP ${response.status} reading an operation status`, {
        statusCode: response.status,
        code: body.error?.code,
        retryAfterMs: hint,
        delivery: 'answered',
      });
    }
    const state =
      style === 'location' ? (response.status === 202 ? 'InProgress' : 'Succeeded') : progressState(body.status);
    return {
      value: {
        state,
        ...(body.properties?.jobId ? { jobId: body.properties.jobId } : {}),
        percentComplete: body.percentComplete,
        error:
          state === 'Failed' || state === 'Canceled'
            ? { code: body.error?.code, message: body.error?.message ?? `the operation ended ${state}` }
            : undefined,
      },
      retryAfterMs: hint,
    };
  }
}
