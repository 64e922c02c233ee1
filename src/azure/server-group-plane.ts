/**
 * Azure SQL Database's side of the control plane, as the runbooks need it for server failover groups
 * (`servers/{server}/failoverGroups/{group}`): the group as each of its servers answers it, the three failover actions,
 * and the databases and elastic pools a group's servers hold, with their scaling. The real implementation
 * (./arm-server-group-plane, over the ARM pipeline) and the scripted one of the workflow tests both implement it.
 *
 * Every method is one ARM request (or one page walk), and throws {@link ArmRequestError} as {@link ControlPlane}'s do.
 * A failover's or a scale's progress is read with the tracking id its `begin…` returned.
 */
import type {
  ElasticPoolView,
  FailoverGroupView,
  LogicalServerView,
  ManagementOperationView,
  OperationProgress,
  SqlDatabaseView,
  SqlSku,
} from '../domain/azure-state';
import type { GroupIdentity } from '../domain/group-ref';
import type { ArmAnswer, ArmRequestOptions } from './control-plane';

/**
 * The actions ARM offers on a server failover group, POSTed at the server that is to become primary: a planned
 * failover (no data loss), a forced one, and (newer api-versions only: {@link ServerGroupApi}) a planned one that Azure
 * itself turns into a forced one when the planned one cannot complete.
 */
export type ServerFailoverAction = 'failover' | 'forceFailoverAllowDataLoss' | 'tryPlannedBeforeForcedFailover';

/** What the api-version fogpilot sends for server failover groups offers. */
export interface ServerGroupApi {
  apiVersion: string;
  /** `tryPlannedBeforeForcedFailover` exists in it. */
  tryPlannedBeforeForcedFailover: boolean;
  /** `partnerServers[]` may hold more than one secondary, and `readOnlyEndpoint.targetServer` chooses the reader. */
  multipleSecondaries: boolean;
}

export interface ServerGroupPlane {
  /** The api-version sent for failover groups and what it offers (no request). */
  readonly api: ServerGroupApi;

  /**
   * GET the group at one of its servers: the answer describes the group from that server's side
   * (`replicationRole`, `partnerServers[]`). `view.location` is the server's location; `view.server` is set. Member ids
   * are the group's ids at a server: `primaryManagedInstanceId` the primary's, `partnerManagedInstanceId` the partner
   * `partnerLocation` names (at a secondary the primary, at the primary the first secondary). A GET of its own, never
   * shared with other reads; a server the group is not on answers 404.
   */
  getServerFailoverGroup(
    group: GroupIdentity,
    server: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<FailoverGroupView>>;

  /**
   * POST `action` at `server`, once (never retried here). Returns once Azure accepted it (200 or 202): with the
   * operation to follow as `trackingId` (`async:<Azure-AsyncOperation>` or `location:<Location>`), none when Azure
   * answered 200 (done). `tryPlannedBeforeForcedFailover` where {@link api} lacks it is refused without being sent
   * (`ActionNotInApiVersion`, delivery `not-sent`).
   */
  beginServerFailover(
    group: GroupIdentity,
    server: string,
    action: ServerFailoverAction,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId?: string }>>;

  /**
   * One read of a failover's operation (the tracking id {@link beginServerFailover} returned): `InProgress`, then
   * `Succeeded`, `Failed` (with ARM's error code) or `Canceled`.
   */
  getServerFailoverProgress(
    group: GroupIdentity,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>>;

  /** A logical server by id. */
  getLogicalServer(serverId: string, options?: ArmRequestOptions): Promise<ArmAnswer<LogicalServerView>>;

  /** The user databases of a server (all pages; `master` left out). */
  listServerDatabases(serverId: string, options?: ArmRequestOptions): Promise<ArmAnswer<SqlDatabaseView[]>>;

  /** The elastic pools of a server (all pages). */
  listElasticPools(serverId: string, options?: ArmRequestOptions): Promise<ArmAnswer<ElasticPoolView[]>>;

  /**
   * The management operations of a database or an elastic pool (`…/databases/{db}/operations`,
   * `…/elasticPools/{p}/operations`), newest first.
   */
  listSqlOperations(resourceId: string, options?: ArmRequestOptions): Promise<ArmAnswer<ManagementOperationView[]>>;

  /**
   * PATCH the SKU of a database or an elastic pool (by id). Returns a tracking id for {@link getSqlOperationProgress}
   * (`async:…`, `location:…`, or `completed` when Azure answered 200); the operation continues in Azure whatever happens
   * to the caller. A second change while one runs on the resource is refused 409.
   */
  beginUpdateSku(
    resourceId: string,
    sku: SqlSku,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<{ trackingId: string }>>;

  /** One read of a scaling operation of a database or an elastic pool. */
  getSqlOperationProgress(
    resourceId: string,
    trackingId: string,
    options?: ArmRequestOptions,
  ): Promise<ArmAnswer<OperationProgress>>;
}
