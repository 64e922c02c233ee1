/**
 * The ARM control plane as the runbooks need it. The real implementation (over `@azure/arm-sql`) and the scripted one
 * used by workflow tests both implement this; activities see nothing else of Azure.
 *
 * Every method is one ARM request (or one page walk). Methods throw {@link ArmRequestError} for answers that are not
 * success, and for requests that never got an answer. `retryAfterMs` carries the server's `Retry-After`, so polling
 * in the workflow can honour it.
 */
import type { GroupIdentity } from '../domain/group-ref';
import type {
  EncryptionProtectorView,
  FailoverGroupDefinition,
  FailoverGroupView,
  InstanceKeyView,
  ManagedDatabaseView,
  ManagedInstanceView,
  NetworkSecurityGroupView,
  SubnetView,
  ManagementOperationView,
  OperationProgress,
  RetentionPolicyView,
  ScaleTarget,
} from '../domain/azure-state';

export interface ArmAnswer<T> {
  value: T;
  /** `Retry-After` of the answer, in milliseconds, when the server sent one. */
  retryAfterMs?: number;
  /**
   * When the request that carried the answer went out (after any wait for the request budget), epoch ms: the answer
   * describes Azure no earlier than this. Set by reads of the ARM control plane.
   */
  readAtMs?: number;
  /** `direct`: the read's own GET; `list`: a list call shared with concurrent reads (see src/azure/read-coalescer). */
  via?: 'direct' | 'list';
}

export interface ArmRequestOptions {
  /**
   * Stops waiting for the answer (not the operation in Azure). A request that has not gone out yet when it aborts
   * (it was waiting for the subscription's request budget) is never sent, and fails with `delivery: 'not-sent'`.
   * Combine a cancellation and a deadline into one signal to bound a request in time.
   */
  abortSignal?: AbortSignal;
  /**
   * Reads only. `false`: a GET of its own, never an answer shared with concurrent reads (a read that must be as new as
   * the moment it is asked). Default true: a read may be answered by a list call of its scope (see
   * src/azure/read-coalescer).
   */
  coalesce?: boolean;
}

export type FailoverKind = 'planned' | 'forced';

export type { GroupIdentity };

export interface ControlPlane {
  /** GET the failover group at one location; the answer describes the group from that location's side. */
  getFailoverGroup(
    group: GroupIdentity,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<FailoverGroupView>>;

  getManagedInstance(instanceId: string, options?: ArmRequestOptions): Promise<ArmAnswer<ManagedInstanceView>>;

  /**
   * The long-term retention policy of one database of the instance (`…/databases/{db}/backupLongTermRetentionPolicies`,
   * whose only policy is `default`). An unconfigured policy is answered with `PT0S` durations, not as an absence; a
   * database the instance does not have is a 404.
   */
  listDatabaseRetentionPolicies(
    instanceId: string,
    database: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<RetentionPolicyView>>;

  /** Management operations of an instance (all pages), newest first. */
  listManagedInstanceOperations(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<ManagementOperationView[]>>;

  /**
   * PATCH the instance's size. Returns a tracking id for {@link getOperationProgress}; the operation continues in
   * Azure whatever happens to the caller.
   */
  beginScaleManagedInstance(
    instanceId: string,
    target: ScaleTarget,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId: string }>>;

  /** One read of a tracked operation's progress. */
  getOperationProgress(
    instanceId: string,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>>;

  /**
   * One read of a failover's Azure-AsyncOperation status (the tracking id {@link beginFailover} returned):
   * `InProgress`, then `Succeeded`, `Failed` (with ARM's error) or `Canceled`.
   */
  getFailoverProgress(
    group: GroupIdentity,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>>;

  /**
   * POST `failover` (planned) or `forceFailoverAllowDataLoss` (forced) at `location`, which must be the location of
   * the secondary that is to become primary. Returns once Azure has accepted the request (200 or 202).
   */
  beginFailover(
    group: GroupIdentity,
    location: string,
    kind: FailoverKind,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string }>>;

  /**
   * The failover groups of a resource group at one location (all pages), each as that location reports it. Used to
   * find the group an instance is in: ARM has no per-instance lookup.
   */
  listFailoverGroups(
    scope: { subscriptionId: string; resourceGroup: string; location: string },
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<FailoverGroupView[]>>;

  /**
   * PUT a new failover group at `location`, which must be the primary's. Returns once Azure has accepted it: 201 with
   * the creation's Azure-AsyncOperation (`trackingId`, followed with {@link getFailoverProgress}), which stays
   * InProgress until seeding ends; 200 when the group existed and was updated in place.
   */
  beginCreateFailoverGroup(
    group: GroupIdentity,
    location: string,
    definition: FailoverGroupDefinition,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>>;

  /**
   * DELETE the failover group at `location`, which must be the primary's. Returns once Azure has accepted it (202 with
   * the deletion's Azure-AsyncOperation as `trackingId`), or 204 when there was no such group.
   */
  beginDeleteFailoverGroup(
    group: GroupIdentity,
    location: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string; status: number }>>;

  /** The user databases of an instance (`managedInstances/{mi}/databases`, all pages). */
  listManagedDatabases(instanceId: string, options?: ArmRequestOptions): Promise<ArmAnswer<ManagedDatabaseView[]>>;

  /** The instance's TDE protector (`encryptionProtector/current`) and every key registered on it. */
  getTdeKeys(
    instanceId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ protector: EncryptionProtectorView; keys: InstanceKeyView[] }>>;

  /** A subnet by its ARM id (`Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}`). */
  getSubnet(subnetId: string, options?: ArmRequestOptions): Promise<ArmAnswer<SubnetView>>;

  /** A network security group by its ARM id, with its default rules. */
  getNetworkSecurityGroup(nsgId: string, options?: ArmRequestOptions): Promise<ArmAnswer<NetworkSecurityGroupView>>;
}
