/**
 * `createActivities(deps)`: the only object the worker registers. The worker builds the adapters once (credentials,
 * SDK clients, pools) and injects them here; workflows import only the *type* of the result.
 */
import type { ControlPlane } from '../azure/control-plane';
import type { DataPlane } from '../sql/data-plane';
import type { Inventory } from '../config/inventory';
import { createApprovalActivities, type ApprovalRules } from './approvals';
import { createArmActivities } from './arm';
import { createGroupLifecycleActivities } from './group-lifecycle';
import { createOutboundActivities, outboundPlanOf, type OutboundDependencies } from './outbound';
import { keptAlive } from './keep-alive';
import { createLockHolderActivities } from './lock-holder';
import { createProbeActivities } from './probe';
import { createRecoveryActivities, type RecoveryDependencies } from './recovery';
import { createRecoveryPointsActivities } from './recovery-points';
import { createServerGroupActivities, type ServerGroupDependencies } from './server-groups';
import { createSqlActivities, type WatchClock } from './sql';
import { createWatchActivities } from './watch';
import { createWorkloadProtectionActivities } from './workload-protection';

export interface ActivityDependencies
  extends
    OutboundDependencies,
    Partial<Pick<RecoveryDependencies, 'recoveryPlane'>>,
    Pick<ServerGroupDependencies, 'serverGroupPlane'> {
  controlPlane: ControlPlane;
  dataPlane: DataPlane;
  inventory: Inventory;
  /** The worker's access rules, for judging approvals; absent: no access section (the two-person rule still holds). */
  approvalRules?: ApprovalRules;
  syncHeartbeatIntervalMs?: number;
  sendHeartbeatIntervalMs?: number;
  /** The data-plane watch's clock (tests pass the test server's; default: real time). */
  watchClock?: WatchClock;
}

/**
 * Activities that heartbeat on their own, with progress a retried attempt resumes from or at moments they choose:
 * every other activity gets liveness heartbeats (src/activities/keep-alive), so a lost worker is noticed within the
 * presets' short heartbeat timeout. An activity that calls `heartbeat()` itself belongs here.
 */
export const SELF_HEARTBEATING_ACTIVITIES = [
  'sendFailover',
  'sendServerFailover',
  'waitForCopySync',
  'probeListenerWrites',
  'awaitLockHolderEnd',
] as const;

export function createActivities(deps: ActivityDependencies) {
  return keptAlive(
    {
      ...createArmActivities({
        ...deps,
        ...(deps.outbound ? { planOutbound: (name?: string) => outboundPlanOf(deps.outbound!.config, name) } : {}),
      }),
      ...createServerGroupActivities(deps),
      ...createGroupLifecycleActivities(deps),
      ...createSqlActivities(deps),
      ...createProbeActivities(deps),
      ...createLockHolderActivities(),
      ...createApprovalActivities(deps.approvalRules),
      ...createOutboundActivities(deps),
      ...createWatchActivities(deps),
      ...createRecoveryActivities(deps),
      ...createRecoveryPointsActivities(deps),
      ...createWorkloadProtectionActivities(deps),
    },
    { except: SELF_HEARTBEATING_ACTIVITIES },
  );
}

export type Activities = ReturnType<typeof createActivities>;

/** Activities that change something in Azure. Dry runs and read-only runbooks never call these. */
export const MUTATING_ACTIVITIES = [
  'startInstanceScale',
  'sendFailover',
  'startServerSideScale',
  'sendServerFailover',
  'sendCreateGroup',
  'sendDeleteGroup',
  'sendRestore',
  'sendDropDatabase',
  'sendProtectVm',
  'sendVmBackup',
  'sendMigrateToContinuous',
] as const satisfies readonly (keyof Activities)[];

/**
 * Activities that write data through the group's read-write listener (rows in `dbo.fogpilot_smoke`). Dry runs and
 * read-only runbooks (readiness checks) never call these; DR drills do.
 */
export const DATA_WRITING_ACTIVITIES = [
  'probeListenerWrites',
  'smokeWrite',
] as const satisfies readonly (keyof Activities)[];

export type {
  GroupRolesReading,
  InstanceReading,
  InstancesReading,
  StartScaleResult,
  OperationProgressReading,
  FailoverSendResult,
  FailoverProgressReading,
  FailoverSendOutcome,
  RetentionPoliciesReading,
} from './arm';
export type { CopySyncResult, WatchClock, WritableWatch } from './sql';
export type { ServerFailoverKind } from './server-groups';
export type { ServerSideDetail } from '../domain/azure-state';
export type { WatchGroupLook, WatchLook, WatchLookRequest, WatchLookTarget } from './watch';
export type { OutboundPlan, OutboundDependencies } from './outbound';
export type {
  CosmosRecoveryReading,
  DatabaseRecoveryReading,
  GroupRecoveryPointsReading,
  VmRecoveryReading,
  WorkloadRecoveryPointsReading,
} from './recovery-points';
export type {
  GroupChangeResult,
  InstanceSideEvidence,
  NewGroupResolution,
  PairEvidence,
  Readable,
  ReadPairRequest,
  SeedingReading,
  SeedingStateReading,
} from './group-lifecycle';
export type { ApprovalRules, JudgeApprovalRequest, ForwardApprovalRequest } from './approvals';
export type {
  LockHolderRequest,
  LockHolderReading,
  LockHolderStatus,
  AwaitLockHolderEndRequest,
  LockHolderEnd,
} from './lock-holder';
export type {
  ProbeWritesRequest,
  ProbeVerification,
  VerifyProbeRequest,
  SmokeWriteRequest,
  SmokeWriteResult,
  HttpHealthCheckRequest,
  HttpHealthCheckResult,
  ProbeCheckpointRequest,
  ProbeCheckpointReading,
} from './probe';
