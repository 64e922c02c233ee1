/**
 * A scripted Azure for workflow tests: one failover group, two instances, a few databases, driven by the Temporal test
 * server's clock so simulated minutes pass when the workflow sleeps. It implements both adapter interfaces, so the real
 * activities run against it; knobs script the situations each test needs, and every call is recorded.
 */
import type { ArmAnswer, ControlPlane, FailoverKind, GroupIdentity } from '../../src/azure/control-plane';
import { ArmRequestError } from '../../src/azure/errors';
import { recordArmCall } from '../../src/azure/arm-call-meter';
import type {
  DatabaseReplicationLink,
  DatabaseUpdateability,
  EncryptionProtectorView,
  FailoverGroupDefinition,
  FailoverGroupView,
  InstanceKeyView,
  ManagedDatabaseView,
  ManagedInstanceView,
  NetworkSecurityGroupView,
  SecurityRuleView,
  SeedingProgress,
  SubnetView,
  ManagementOperationView,
  OperationProgress,
  RetentionPolicyView,
  ScaleTarget,
} from '../../src/domain/azure-state';
import { skuParts, UNCONFIGURED_RETENTION } from '../../src/domain/azure-state';
import { instanceFailoverGroupId, listenerHost, type GroupCoordinates } from '../../src/domain/group-ref';
import { normalizeLocation } from '../../src/domain/locations';
import {
  SqlRequestError,
  type AgentJobInfo,
  type BackupInfo,
  type LoginInfo,
  type UserDatabase,
  type CopySyncTarget,
  type DataPlane,
  type RestoreCheck,
  type RestoreCheckResult,
  type SmokeRowQuery,
  type SmokeRowWrite,
  type SmokeRowWritten,
  type SqlDelivery,
  type SqlErrorKind,
  type SqlInstanceTarget,
  type SqlRequestOptions,
} from '../../src/sql/data-plane';

interface ScriptedInstance {
  id: string;
  name: string;
  location: string;
  vCores: number;
  storageSizeInGB: number;
  skuName: string;
  provisioningState: string;
  state: string;
  dnsZone: string;
  fqdn: string;
}

interface ScriptedOperation {
  name: string;
  instanceId: string;
  target: Required<Omit<ScaleTarget, 'members'>>;
  startedAt: number;
  endsAt: number;
  outcome: 'Succeeded' | 'Failed';
  state: 'InProgress' | 'Succeeded' | 'Failed';
  operation: string;
}

export interface ScriptedAzureOptions {
  /** The simulated clock: the test server's time. */
  clock: () => Promise<number>;
  groupName?: string;
}

export class ScriptedAzure implements ControlPlane, DataPlane {
  readonly coordinates: GroupCoordinates;
  readonly instances: Record<string, ScriptedInstance>;
  /** The location that is primary now. */
  primaryLocation: string;
  replicationState = 'CATCH_UP';
  databases = ['sales', 'billing'];
  lagSeconds: Record<string, number> = {};
  /** A database's own replication state on both sides, over the group's (a database added later seeds alone). */
  databaseStates: Record<string, string> = {};
  /**
   * When the primary last committed, per database (simulated ms); `null`: never. Absent: at the moment of the read,
   * as on a busy primary. The secondary holds commits up to `lagSeconds` before it.
   */
  lastCommitAt: Record<string, number | null> = {};
  /** Databases the instances leave out of their updateability answer (a copy that never opened). */
  updateabilityOmits: string[] = [];
  operations: ScriptedOperation[] = [];

  // Knobs.
  /** Simulated time from an accepted failover to the roles switching. */
  roleSwitchMs = 40_000;
  failoverNeverCompletes = false;
  /** The next failover POST is accepted, then its answer is lost (a reset). */
  loseNextFailoverAnswer = false;
  /** The next failover POST is answered 429 with Retry-After. */
  throttleNextFailover = false;
  /** While a failover runs, the group reads as before (no trace of it), as a worst case for idempotency. */
  hideFailoverInProgress = false;
  /** The next accepted failover ends Failed in Azure with this code (roles unchanged). */
  failFailoverWith?: string;
  private readonly failedFailovers = new Set<string>();
  /** Databases stay READ_ONLY on the new primary this long after the switch (simulated). */
  readOnlyAfterSwitchMs = 0;
  scaleDurationMs = 20 * 60_000;
  scaleOutcome: 'Succeeded' | 'Failed' = 'Succeeded';
  /** Real milliseconds each copy-sync wait blocks. */
  syncWaitRealMs = 5;
  syncFailure?: SqlErrorKind;
  /** When set, copy-sync waits block until this promise settles. */
  syncGate?: Promise<void>;
  /** Regions that answer nothing (ARM and SQL): requests there fail as connection resets, as in a regional outage. */
  readonly darkLocations = new Set<string>();
  /** Until this clock time, ARM answers no read of the group or its failover operation (an outage, or a lost link). */
  armReadsFailUntil = 0;
  /** Answer the next failover POST 409 InstanceFailoverGroupBusy, as Azure does while any other operation runs. */
  busyNextFailover = false;
  /** Answer every read of a failover's async operation with this 4xx (an expired record, 403 on the status path). */
  failoverOperationStatus?: 403 | 404;
  /** Called after every recorded call; tests use it to act at a precise moment (abort, stop a worker). */
  onCall?: (method: string, args: unknown) => void | Promise<void>;

  // Records.
  readonly calls: { method: string; args: unknown; at: number }[] = [];
  /** Failovers Azure accepted (and started). */
  readonly acceptedFailovers: { location: string; kind: FailoverKind; at: number }[] = [];
  /** Failover POSTs that reached Azure, whatever the answer. */
  failoverRequests = 0;
  readonly scaleRequests: { instanceId: string; target: ScaleTarget; at: number }[] = [];

  private pendingFailover?: { target: string; acceptedAt: number; kind: FailoverKind };
  private switchedAt?: number;
  private operationCounter = 0;
  protected readonly clock: () => Promise<number>;

  constructor(options: ScriptedAzureOptions) {
    this.clock = options.clock;
    const name = options.groupName ?? 'fog-sales';
    this.coordinates = {
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      resourceGroup: 'rg-fog',
      name,
      primaryLocation: 'eastus',
      secondaryLocation: 'westus',
    };
    this.primaryLocation = 'eastus';
    const instance = (location: string): ScriptedInstance => {
      const instanceName = `${name}-mi-${location}`;
      return {
        id: `/subscriptions/${this.coordinates.subscriptionId}/resourceGroups/rg-fog/providers/Microsoft.Sql/managedInstances/${instanceName}`,
        name: instanceName,
        location,
        vCores: 8,
        storageSizeInGB: 256,
        skuName: 'GP_Gen5',
        provisioningState: 'Succeeded',
        state: 'Ready',
        dnsZone: 'abc123',
        fqdn: `${instanceName}.abc123.database.windows.net`,
      };
    };
    this.instances = { eastus: instance('eastus'), westus: instance('westus') };
    for (const database of this.databases) this.lagSeconds[database] = 1;
  }

  get secondaryLocation(): string {
    return this.primaryLocation === 'eastus' ? 'westus' : 'eastus';
  }

  /** Calls made, by method name, in order. */
  methods(): string[] {
    return this.calls.map((call) => call.method);
  }

  /** Records a call of a companion plane (the scripted recovery plane) with this script's calls, on its clock. */
  recordCall(method: string, args: unknown): Promise<number> {
    return this.record(method, args);
  }

  protected async record(method: string, args: unknown, httpMethod?: string): Promise<number> {
    const now = await this.clock();
    this.advance(now);
    this.calls.push({ method, args, at: now });
    if (httpMethod) recordArmCall(httpMethod, 200);
    await this.onCall?.(method, args);
    return now;
  }

  /** Applies what simulated time has done: roles switching, operations ending. */
  private advance(now: number): void {
    const pending = this.pendingFailover;
    if (
      pending?.kind === 'planned' &&
      this.darkLocations.has(this.primaryLocation) &&
      now >= pending.acceptedAt + this.roleSwitchMs
    ) {
      // A planned failover needs the primary; with its region dark Azure ends it Failed and nothing switches.
      this.failedFailovers.add(`failover-${this.acceptedFailovers.length}`);
      this.pendingFailover = undefined;
    } else if (pending && !this.failoverNeverCompletes && now >= pending.acceptedAt + this.roleSwitchMs) {
      this.primaryLocation = pending.target;
      this.replicationState = 'CATCH_UP';
      this.switchedAt = pending.acceptedAt + this.roleSwitchMs;
      this.pendingFailover = undefined;
    }
    for (const operation of this.operations) {
      if (operation.state === 'InProgress' && now >= operation.endsAt) {
        operation.state = operation.outcome;
        const instance = this.instanceById(operation.instanceId);
        if (operation.outcome === 'Succeeded') {
          instance.vCores = operation.target.vCores;
          instance.storageSizeInGB = operation.target.storageSizeInGB;
          instance.skuName = operation.target.skuName;
        }
        instance.provisioningState = 'Succeeded';
      }
    }
  }

  instanceById(instanceId: string): ScriptedInstance {
    const found = Object.values(this.instances).find(
      (instance) => instance.id.toLowerCase() === instanceId.toLowerCase(),
    );
    if (!found)
      throw new ArmRequestError(`instance ${instanceId} not found`, {
        statusCode: 404,
        code: 'ResourceNotFound',
        delivery: 'answered',
      });
    return found;
  }

  /** The group's read-write listener: it reaches whichever instance is primary. */
  get listenerHost(): string {
    return listenerHost(this.coordinates.name, this.instances[this.primaryLocation]!.dnsZone);
  }

  private instanceByHost(host: string): ScriptedInstance {
    if (host === this.listenerHost) return this.instanceByHost(this.instances[this.primaryLocation]!.fqdn);
    const found = Object.values(this.instances).find((instance) => instance.fqdn === host);
    if (!found) throw new SqlRequestError(`no instance at ${host}`, 'transient');
    if (this.darkLocations.has(found.location)) throw new SqlRequestError(`${host} does not answer`, 'transient');
    return found;
  }

  protected failIfDark(location: string): void {
    if (this.darkLocations.has(normalizeLocation(location))) {
      throw new ArmRequestError(`no answer from ${location}`, { code: 'ECONNRESET', delivery: 'unknown' });
    }
  }

  private checkGroup(group: GroupIdentity): void {
    if (group.name !== this.coordinates.name) {
      throw new ArmRequestError(`failover group ${group.name} not found`, {
        statusCode: 404,
        code: 'ResourceNotFound',
        delivery: 'answered',
      });
    }
  }

  // ── ControlPlane ────────────────────────────────────────────────────────────────────────────────────────────────

  private failIfArmReadsFail(now: number): void {
    if (now < this.armReadsFailUntil) {
      throw new ArmRequestError('read ECONNRESET', { code: 'ECONNRESET', delivery: 'unknown' });
    }
  }

  async getFailoverGroup(group: GroupIdentity, location: string): Promise<ArmAnswer<FailoverGroupView>> {
    const now = await this.record('getFailoverGroup', { location }, 'GET');
    this.failIfArmReadsFail(now);
    this.failIfDark(location);
    this.checkGroup(group);
    const here = normalizeLocation(location);
    const other = here === 'eastus' ? 'westus' : 'eastus';
    const primaryHere = this.primaryLocation === here;
    const primaryInstance = this.instances[this.primaryLocation]!;
    const secondaryInstance = this.instances[this.secondaryLocation]!;
    return {
      value: {
        id: instanceFailoverGroupId(this.coordinates, here),
        name: this.coordinates.name,
        location: here,
        replicationRole: primaryHere ? 'Primary' : 'Secondary',
        replicationState:
          this.pendingFailover && !this.hideFailoverInProgress ? 'FAILOVER_IN_PROGRESS' : this.replicationState,
        partnerLocation: other,
        partnerRole: primaryHere ? 'Secondary' : 'Primary',
        primaryManagedInstanceId: primaryInstance.id,
        partnerManagedInstanceId: secondaryInstance.id,
        readWriteFailoverPolicy: 'Manual',
      },
    };
  }

  async getManagedInstance(instanceId: string): Promise<ArmAnswer<ManagedInstanceView>> {
    await this.record('getManagedInstance', { instanceId }, 'GET');
    const instance = this.instanceById(instanceId);
    this.failIfDark(instance.location);
    const updating = this.operations.some(
      (operation) => operation.instanceId === instance.id && operation.state === 'InProgress',
    );
    return {
      value: {
        id: instance.id,
        name: instance.name,
        location: instance.location,
        skuName: instance.skuName,
        tier: skuParts(instance.skuName)?.tier ?? '',
        family: skuParts(instance.skuName)?.family,
        vCores: instance.vCores,
        storageSizeInGB: instance.storageSizeInGB,
        licenseType: 'LicenseIncluded',
        provisioningState: updating ? 'Updating' : instance.provisioningState,
        state: instance.state,
        fullyQualifiedDomainName: instance.fqdn,
        dnsZone: instance.dnsZone,
        collation: 'SQL_Latin1_General_CP1_CI_AS',
        timezoneId: 'UTC',
        maintenanceConfigurationId: `/subscriptions/${this.coordinates.subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/SQL_${instance.location}_MI_${instance.location === 'eastus' ? 1 : 2}`,
        subnetId: this.subnetIdOf(instance.location),
      },
    };
  }

  /** Long-term retention per location (instance-wide, for every database); absent: unconfigured (`PT0S`). */
  retentionPolicies: Record<string, RetentionPolicyView | undefined> = {
    eastus: { weeklyRetention: 'P4W', monthlyRetention: 'P12M', yearlyRetention: 'P5Y', weekOfYear: 1 },
    westus: { weeklyRetention: 'P4W', monthlyRetention: 'P12M', yearlyRetention: 'P5Y', weekOfYear: 1 },
  };

  async listDatabaseRetentionPolicies(instanceId: string, database: string): Promise<ArmAnswer<RetentionPolicyView>> {
    await this.record('listDatabaseRetentionPolicies', { instanceId, database }, 'GET');
    const instance = this.instanceById(instanceId);
    this.failIfDark(instance.location);
    if (!this.databases.includes(database)) {
      throw new ArmRequestError(
        `The Resource 'Microsoft.Sql/managedInstances/${instance.name}/databases/${database}' was not found.`,
        {
          statusCode: 404,
          code: 'ResourceNotFound',
          delivery: 'answered',
        },
      );
    }
    return { value: { ...(this.retentionPolicies[instance.location] ?? UNCONFIGURED_RETENTION) } };
  }

  async listManagedInstanceOperations(instanceId: string): Promise<ArmAnswer<ManagementOperationView[]>> {
    const now = await this.record('listManagedInstanceOperations', { instanceId }, 'GET');
    const instance = this.instanceById(instanceId);
    return {
      value: this.operations
        .filter((operation) => operation.instanceId === instance.id)
        .map((operation) => this.operationView(operation, now)),
    };
  }

  private operationView(operation: ScriptedOperation, now: number): ManagementOperationView {
    const span = operation.endsAt - operation.startedAt;
    const percent =
      operation.state === 'InProgress' ? Math.min(99, Math.floor(((now - operation.startedAt) / span) * 100)) : 100;
    return {
      id: `${operation.instanceId}/operations/${operation.name}`,
      name: operation.name,
      operation: operation.operation,
      friendlyName: operation.operation === 'UpsertManagedServer' ? 'Updating managed instance' : operation.operation,
      state: operation.state,
      percentComplete: percent,
      startTime: new Date(operation.startedAt).toISOString(),
      requested: {
        vCores: operation.target.vCores,
        storageSizeInGB: operation.target.storageSizeInGB,
        ...skuParts(operation.target.skuName),
      },
    };
  }

  /** Puts an unrelated management operation in flight on an instance (the "instance busy" situation). */
  async startUnrelatedOperation(location: string, durationMs: number): Promise<void> {
    const now = await this.clock();
    const instance = this.instances[location]!;
    this.operations.push({
      name: `op-${++this.operationCounter}`,
      instanceId: instance.id,
      target: { vCores: instance.vCores, storageSizeInGB: instance.storageSizeInGB, skuName: instance.skuName },
      startedAt: now,
      endsAt: now + durationMs,
      outcome: 'Succeeded',
      state: 'InProgress',
      operation: 'MaintenanceOperation',
    });
  }

  /** Someone else's failover, under way (the "failover in progress" situation). */
  async startForeignFailover(target: string): Promise<void> {
    this.pendingFailover = { target, acceptedAt: await this.clock(), kind: 'planned' };
  }

  async beginScaleManagedInstance(instanceId: string, target: ScaleTarget): Promise<ArmAnswer<{ trackingId: string }>> {
    const now = await this.record('beginScaleManagedInstance', { instanceId, target }, 'PATCH');
    const instance = this.instanceById(instanceId);
    if (this.operations.some((operation) => operation.instanceId === instance.id && operation.state === 'InProgress')) {
      throw new ArmRequestError('An operation is currently in progress for the managed instance.', {
        statusCode: 409,
        code: 'ConflictingManagedInstanceOperation',
        delivery: 'answered',
      });
    }
    this.scaleRequests.push({ instanceId, target, at: now });
    const operation: ScriptedOperation = {
      name: `op-${++this.operationCounter}`,
      instanceId: instance.id,
      target: {
        vCores: target.vCores ?? instance.vCores,
        storageSizeInGB: target.storageSizeInGB ?? instance.storageSizeInGB,
        skuName: target.skuName ?? instance.skuName,
      },
      startedAt: now,
      endsAt: now + this.scaleDurationMs,
      outcome: this.scaleOutcome,
      state: 'InProgress',
      operation: 'UpsertManagedServer',
    };
    this.operations.push(operation);
    return { value: { trackingId: operation.name }, retryAfterMs: 0 };
  }

  async getOperationProgress(instanceId: string, trackingId: string): Promise<ArmAnswer<OperationProgress>> {
    const now = await this.record('getOperationProgress', { instanceId, trackingId }, 'GET');
    const operation = this.operations.find((entry) => entry.name === trackingId);
    if (!operation)
      throw new ArmRequestError('The operation with Id does not exist.', {
        statusCode: 404,
        code: 'OperationIdNotFound',
        delivery: 'answered',
      });
    const view = this.operationView(operation, now);
    return {
      value: {
        state: operation.state,
        percentComplete: view.percentComplete,
        error:
          operation.state === 'Failed'
            ? { code: 'ManagedInstanceSloUpdateFailed', message: 'scaling failed in the script' }
            : undefined,
      },
    };
  }

  async beginFailover(
    group: GroupIdentity,
    location: string,
    kind: FailoverKind,
  ): Promise<ArmAnswer<{ trackingId?: string }>> {
    const now = await this.record('beginFailover', { location, kind });
    this.checkGroup(group);
    const target = normalizeLocation(location);
    this.failoverRequests += 1;
    if (this.throttleNextFailover) {
      this.throttleNextFailover = false;
      recordArmCall('POST', 429);
      throw new ArmRequestError('Requests beyond max requests that can be processed by available resources.', {
        statusCode: 429,
        code: 'SubscriptionTooManyRequests',
        retryAfterMs: 7_000,
        delivery: 'answered',
      });
    }
    recordArmCall('POST', 202);
    if (target === this.primaryLocation) {
      throw new ArmRequestError(
        'The failover request should be initiated on the secondary server of instance failover group.',
        {
          statusCode: 400,
          code: 'InstanceFailoverGroupFailoverRequestOnPrimary',
          delivery: 'answered',
        },
      );
    }
    if (this.pendingFailover || this.busyNextFailover) {
      this.busyNextFailover = false;
      throw new ArmRequestError('Instance failover group is busy with another operation.', {
        statusCode: 409,
        code: 'InstanceFailoverGroupBusy',
        delivery: 'answered',
      });
    }
    this.pendingFailover = { target, acceptedAt: now, kind };
    this.acceptedFailovers.push({ location: target, kind, at: now });
    if (this.loseNextFailoverAnswer) {
      this.loseNextFailoverAnswer = false;
      throw new ArmRequestError('socket hang up', { code: 'ECONNRESET', delivery: 'unknown' });
    }
    return { value: { trackingId: `failover-${this.acceptedFailovers.length}` } };
  }

  async getFailoverProgress(group: GroupIdentity, trackingId: string): Promise<ArmAnswer<OperationProgress>> {
    const now = await this.record('getFailoverProgress', { trackingId }, 'GET');
    this.failIfArmReadsFail(now);
    this.checkGroup(group);
    if (this.failoverOperationStatus) {
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
    const accepted = this.acceptedFailovers[Number(trackingId.replace('failover-', '')) - 1];
    if (!accepted)
      throw new ArmRequestError('The async operation was not found.', {
        statusCode: 404,
        code: 'ResourceNotFound',
        delivery: 'answered',
      });
    if (this.failFailoverWith && this.pendingFailover) {
      this.pendingFailover = undefined;
      this.failedFailovers.add(trackingId);
    }
    if (this.failedFailovers.has(trackingId)) {
      return {
        value: {
          state: 'Failed',
          error: { code: this.failFailoverWith ?? 'PlannedFailoverTimedOut', message: 'the scripted failover failed' },
        },
      };
    }
    return { value: { state: this.pendingFailover ? 'InProgress' : 'Succeeded' }, retryAfterMs: 1_000 };
  }

  // ── DataPlane ───────────────────────────────────────────────────────────────────────────────────────────────────

  async listUserDatabases(target: SqlInstanceTarget): Promise<UserDatabase[]> {
    await this.record('listUserDatabases', { host: target.host });
    this.instanceByHost(target.host);
    return this.databases.map((name) => ({ name, state: 'ONLINE' }));
  }

  /** Logins per location, for drift checks. */
  logins: Record<string, LoginInfo[]> = {
    eastus: [{ name: 'app', sid: '0x01AB', type: 'S' }],
    westus: [{ name: 'app', sid: '0x01AB', type: 'S' }],
  };
  agentJobs: Record<string, AgentJobInfo[]> = { eastus: [], westus: [] };

  async listLogins(target: SqlInstanceTarget): Promise<LoginInfo[]> {
    await this.record('listLogins', { host: target.host });
    return this.logins[this.instanceByHost(target.host).location] ?? [];
  }

  async listAgentJobs(target: SqlInstanceTarget): Promise<AgentJobInfo[]> {
    await this.record('listAgentJobs', { host: target.host });
    return this.agentJobs[this.instanceByHost(target.host).location] ?? [];
  }

  async latestBackups(target: SqlInstanceTarget): Promise<BackupInfo[]> {
    const now = await this.record('latestBackups', { host: target.host });
    const instance = this.instanceByHost(target.host);
    if (instance.location !== this.primaryLocation) return [];
    return this.databases.map((database) => ({
      database,
      lastFullBackup: new Date(now - 3_600_000).toISOString(),
      lastLogBackup: new Date(now - 300_000).toISOString(),
    }));
  }

  async listReplicationLinks(target: SqlInstanceTarget): Promise<DatabaseReplicationLink[]> {
    const now = await this.record('listReplicationLinks', { host: target.host });
    const instance = this.instanceByHost(target.host);
    const isPrimary = instance.location === this.primaryLocation;
    const partner = this.instances[isPrimary ? this.secondaryLocation : this.primaryLocation]!;
    return this.databases.map((database) => {
      const replicationState =
        this.databaseStates[database] ?? (this.replicationState === 'SEEDING' ? 'SEEDING' : 'CATCH_UP');
      const lagMs = (this.lagSeconds[database] ?? 0) * 1000;
      const primaryCommit = this.lastCommitAt[database] === undefined ? now : this.lastCommitAt[database];
      // As Azure documents the view: lag and last_replication on the primary only, last_commit on both sides; a
      // seeding secondary has no consistent copy, so no commit of its own.
      const lastCommit = isPrimary ? primaryCommit : replicationState === 'SEEDING' ? null : primaryCommit;
      return {
        database,
        partnerServer: partner.fqdn.split('.')[0]!,
        partnerDatabase: database,
        role: isPrimary ? 'PRIMARY' : 'SECONDARY',
        replicationState,
        lagSeconds: isPrimary ? lagMs / 1000 : null,
        ...(isPrimary ? { lastReplication: new Date(now - lagMs).toISOString() } : {}),
        ...(lastCommit !== null ? { lastCommit: new Date(lastCommit - (isPrimary ? 0 : lagMs)).toISOString() } : {}),
      };
    });
  }

  async waitForCopySync(
    target: SqlInstanceTarget,
    link: CopySyncTarget,
    options: SqlRequestOptions & { timeoutInMs: number },
  ): Promise<void> {
    await this.record('waitForCopySync', { host: target.host, database: link.database });
    if (this.syncFailure) {
      throw new SqlRequestError(`scripted ${this.syncFailure} for ${link.database}`, this.syncFailure);
    }
    const waited = this.syncGate ?? new Promise<void>((resolve) => setTimeout(resolve, this.syncWaitRealMs));
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new SqlRequestError('copy sync wait cancelled', 'transient'));
      if (options.abortSignal?.aborted) return onAbort();
      options.abortSignal?.addEventListener('abort', onAbort, { once: true });
      waited.then(resolve, reject);
    });
  }

  async getUpdateability(target: SqlInstanceTarget): Promise<DatabaseUpdateability[]> {
    const now = await this.record('getUpdateability', { host: target.host });
    const instance = this.instanceByHost(target.host);
    return this.databases
      .filter((database) => !this.updateabilityOmits.includes(database))
      .map((database) => ({
        database,
        updateability: this.writable(instance, now) ? 'READ_WRITE' : 'READ_ONLY',
      }));
  }

  private writable(instance: ScriptedInstance, now: number): boolean {
    const stillSwitching = this.switchedAt !== undefined && now < this.switchedAt + this.readOnlyAfterSwitchMs;
    return instance.location === this.primaryLocation && !stillSwitching;
  }

  /** Rows written to `dbo.fogpilot_smoke` and where; the script replicates at once and loses nothing. */
  readonly smokeRows: { database: string; payload: string; id: number; committedAt: string; location: string }[] = [];
  /** The next smoke writes fail like this, one per entry (e.g. a dropped connection: `transient`, `unknown`). */
  readonly smokeWriteFailures: { kind: SqlErrorKind; delivery: SqlDelivery; number?: number; message?: string }[] = [];

  async insertSmokeRow(target: SqlInstanceTarget, row: SmokeRowWrite): Promise<SmokeRowWritten> {
    const now = await this.record('insertSmokeRow', { host: target.host, ...row });
    const failure = this.smokeWriteFailures.shift();
    if (failure) {
      throw new SqlRequestError(
        failure.message ?? `scripted ${failure.kind} smoke write`,
        failure.kind,
        failure.number,
        undefined,
        failure.delivery,
      );
    }
    const instance = this.instanceByHost(target.host);
    if (!this.writable(instance, now)) {
      throw new SqlRequestError(
        `Failed to update database "${row.database}" because the database is read-only.`,
        'rejected',
        3906,
      );
    }
    const written = { id: this.smokeRows.length + 1, committedAt: new Date(now).toISOString() };
    this.smokeRows.push({ ...row, ...written, location: instance.location });
    return written;
  }

  async findSmokeRows(target: SqlInstanceTarget, query: SmokeRowQuery): Promise<string[]> {
    await this.record('findSmokeRows', { host: target.host, ...query });
    this.instanceByHost(target.host);
    return this.smokeRows
      .filter((row) => row.database === query.database && row.payload.startsWith(query.prefix))
      .map((row) => row.payload);
  }

  /**
   * What a restored database answers to checks, by database name (lower case): a check's name to its value, or to an
   * `{ error }` SQL would answer. A database not scripted fails like one the instance does not have.
   */
  restoreCheckAnswers = new Map<string, Record<string, string | number | boolean | null | { error: string }>>();

  async runRestoreChecks(
    target: SqlInstanceTarget,
    database: string,
    checks: RestoreCheck[],
  ): Promise<RestoreCheckResult[]> {
    await this.record('runRestoreChecks', { host: target.host, database, checks: checks.map((check) => check.name) });
    this.instanceByHost(target.host);
    const answers = this.restoreCheckAnswers.get(database.toLowerCase());
    if (!answers)
      throw new SqlRequestError(`Cannot open database "${database}" requested by the login.`, 'rejected', 4060);
    return checks.map((check) => {
      const answer = answers[check.name];
      if (answer === undefined) return { ...check, error: `no scripted answer for check ${check.name}` };
      if (answer !== null && typeof answer === 'object') return { ...check, error: answer.error };
      return { ...check, value: answer, rows: 1 };
    });
  }

  // ── The rest of the pair's life (group lifecycle, pair checks) ───────────────────────────────────────────────

  /**
   * Own rules of the network security group on each location's subnet; absent: rules allowing TCP 5022 and
   * 11000-11999 both ways between the two subnets.
   */
  readonly networkRules: Record<string, SecurityRuleView[]> = {};
  /** TDE protector and keys per location; absent: service-managed. */
  readonly tde: Record<string, { protector: EncryptionProtectorView; keys: InstanceKeyView[] }> = {};

  subnetIdOf(location: string): string {
    return `/subscriptions/${this.coordinates.subscriptionId}/resourceGroups/rg-fog/providers/Microsoft.Network/virtualNetworks/vnet-${location}/subnets/mi`;
  }

  /** `10.<n>.0.0/24`, one /16 per location of the script. */
  subnetPrefixOf(location: string): string {
    const index = Object.keys(this.instances).indexOf(location);
    return `10.${index < 0 ? 99 : index + 1}.0.0/24`;
  }

  /** Rules that let geo-replication through between every subnet of the script. */
  openGeoReplicationRules(): SecurityRuleView[] {
    const prefixes = Object.keys(this.instances).map((location) => this.subnetPrefixOf(location));
    return (['Inbound', 'Outbound'] as const).map((direction, index) => ({
      name: `allow-geo-replication-${direction.toLowerCase()}`,
      priority: 200 + index,
      direction,
      access: 'Allow',
      protocol: 'Tcp',
      sourceAddressPrefixes: prefixes,
      destinationAddressPrefixes: prefixes,
      destinationPortRanges: ['5022', '11000-11999'],
    }));
  }

  async listFailoverGroups(scope: {
    subscriptionId: string;
    resourceGroup: string;
    location: string;
  }): Promise<ArmAnswer<FailoverGroupView[]>> {
    await this.record('listFailoverGroups', scope, 'GET');
    const location = normalizeLocation(scope.location);
    this.failIfDark(location);
    if (!this.groupExists() || scope.resourceGroup.toLowerCase() !== this.coordinates.resourceGroup.toLowerCase())
      return { value: [] };
    if (location !== 'eastus' && location !== 'westus') return { value: [] };
    return { value: [(await this.getFailoverGroup(this.coordinates, location)).value] };
  }

  /** Whether the script's group exists (a subclass scripts its creation and deletion). */
  protected groupExists(): boolean {
    return true;
  }

  async beginCreateFailoverGroup(
    group: GroupIdentity,
    location: string,
    definition: FailoverGroupDefinition,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>> {
    await this.record('beginCreateFailoverGroup', { group, location, definition }, 'PUT');
    throw new ArmRequestError('Failover group already exists on a given server.', {
      statusCode: 409,
      code: 'InstanceFailoverGroupAlreadyExists',
      delivery: 'answered',
    });
  }

  async beginDeleteFailoverGroup(
    group: GroupIdentity,
    location: string,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>> {
    await this.record('beginDeleteFailoverGroup', { group, location }, 'DELETE');
    throw new ArmRequestError('deleting a group is not scripted here', {
      statusCode: 400,
      code: 'NotScripted',
      delivery: 'answered',
    });
  }

  async listManagedDatabases(instanceId: string): Promise<ArmAnswer<ManagedDatabaseView[]>> {
    await this.record('listManagedDatabases', { instanceId }, 'GET');
    const instance = this.instanceById(instanceId);
    this.failIfDark(instance.location);
    return {
      value: this.databasesOn(instance.location).map((name) => ({
        id: `${instance.id}/databases/${name}`,
        name,
        status: 'Online',
      })),
    };
  }

  /** The user databases ARM lists on the instance at `location`. */
  protected databasesOn(_location: string): string[] {
    return this.databases;
  }

  async getTdeKeys(
    instanceId: string,
  ): Promise<ArmAnswer<{ protector: EncryptionProtectorView; keys: InstanceKeyView[] }>> {
    await this.record('getTdeKeys', { instanceId }, 'GET');
    const instance = this.instanceById(instanceId);
    this.failIfDark(instance.location);
    return {
      value: this.tde[instance.location] ?? {
        protector: { serverKeyType: 'ServiceManaged', serverKeyName: 'ServiceManaged' },
        keys: [{ name: 'ServiceManaged', serverKeyType: 'ServiceManaged' }],
      },
    };
  }

  async getSubnet(subnetId: string): Promise<ArmAnswer<SubnetView>> {
    await this.record('getSubnet', { subnetId }, 'GET');
    const location = /virtualNetworks\/vnet-([^/]+)\/subnets/.exec(subnetId)?.[1] ?? '';
    return {
      value: {
        id: subnetId,
        name: 'mi',
        addressPrefixes: [this.subnetPrefixOf(location)],
        networkSecurityGroupId: `/subscriptions/${this.coordinates.subscriptionId}/resourceGroups/rg-fog/providers/Microsoft.Network/networkSecurityGroups/nsg-mi-${location}`,
      },
    };
  }

  async getNetworkSecurityGroup(nsgId: string): Promise<ArmAnswer<NetworkSecurityGroupView>> {
    await this.record('getNetworkSecurityGroup', { nsgId }, 'GET');
    const location = /nsg-mi-([^/]+)$/.exec(nsgId)?.[1] ?? '';
    const defaults = (direction: 'Inbound' | 'Outbound'): SecurityRuleView[] => [
      {
        name: `AllowVnet${direction === 'Inbound' ? 'In' : 'Out'}Bound`,
        priority: 65000,
        direction,
        access: 'Allow',
        protocol: '*',
        sourceAddressPrefixes: ['VirtualNetwork'],
        destinationAddressPrefixes: ['VirtualNetwork'],
        destinationPortRanges: ['*'],
      },
      {
        name: `DenyAll${direction === 'Inbound' ? 'In' : 'Out'}Bound`,
        priority: 65500,
        direction,
        access: 'Deny',
        protocol: '*',
        sourceAddressPrefixes: ['*'],
        destinationAddressPrefixes: ['*'],
        destinationPortRanges: ['*'],
      },
    ];
    return {
      value: {
        id: nsgId,
        name: `nsg-mi-${location}`,
        securityRules: this.networkRules[location] ?? this.openGeoReplicationRules(),
        defaultSecurityRules: [...defaults('Inbound'), ...defaults('Outbound')],
      },
    };
  }

  async listSeedingProgress(target: SqlInstanceTarget): Promise<SeedingProgress[]> {
    await this.record('listSeedingProgress', { host: target.host });
    this.instanceByHost(target.host);
    return this.databases.map((database) => ({ database, state: 'Completed' }));
  }
}
