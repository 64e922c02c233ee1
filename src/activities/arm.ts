/**
 * Control-plane activities: thin, idempotent, one Azure action each. Every one classifies errors at the boundary
 * (passing faults retry honouring Retry-After; facts end the runbook) and reports the ARM calls it made.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ArmAnswer, ControlPlane, FailoverKind } from '../azure/control-plane';
import type { ServerGroupPlane } from '../azure/server-group-plane';
import { classifyArmError, isArmRequestError, stoppedBeforeSending } from '../azure/errors';
import { withArmMeter } from '../azure/arm-call-meter';
import type { Inventory } from '../config/inventory';
import {
  operationInFlight,
  summarizeGroupRoles,
  type FailoverGroupView,
  type GroupRolesSummary,
  type ManagedInstanceView,
  type ManagementOperationView,
  type OperationProgress,
  type RetentionPolicyView,
  type ScaleTarget,
  type ServerSideDetail,
  type SqlScaleItem,
  sameSku,
  skuParts,
} from '../domain/azure-state';
import {
  isArmGroupId,
  parseInstanceFailoverGroupId,
  parseServerFailoverGroupId,
  type ParsedServerGroupId,
  resolvedGroup,
  type GroupIdentity,
  type GroupRef,
  type ResolvedGroup,
} from '../domain/group-ref';
import { normalizeLocation } from '../domain/locations';
import { FailureTypes, type ArmCallCount } from '../workflows/definitions';
import { boundAttempt } from './attempt-bounds';
import type { OutboundPlan } from './outbound';
import { KEEP_ALIVE_INTERVAL_MS } from './keep-alive';

export interface ArmActivityDependencies {
  controlPlane: ControlPlane;
  /** SQL Database's plane: resolves a server failover group given by its ARM id. */
  serverGroupPlane?: ServerGroupPlane;
  inventory: Inventory;
  /** The clock the gate's freshness rule reads (epoch ms). Default `Date.now`. */
  now?: () => number;
  /** How often `sendFailover` heartbeats while it waits; keep well under the send preset's heartbeat timeout. */
  sendHeartbeatIntervalMs?: number;
  /** The group's hooks, notifications and objectives by inventory name; absent or undefined: none configured. */
  planOutbound?: (inventoryName: string | undefined) => OutboundPlan | undefined;
}

/** Every ARM activity result says what it cost. */
export interface Metered {
  armCalls: ArmCallCount;
}

export interface GroupRolesReading extends Metered {
  views: FailoverGroupView[];
  summary: GroupRolesSummary;
  /** The largest `Retry-After` among the answers: the workflow waits at least this long before reading again. */
  retryAfterMs?: number;
}

/**
 * A member of a group, as the runbooks read it: a managed instance, or (a server failover group) the group's side on
 * one server, whose `instance` describes the server and `serverSide` its member databases and pools.
 */
export interface InstanceReading {
  instance: ManagedInstanceView;
  operationsInFlight: ManagementOperationView[];
  serverSide?: ServerSideDetail;
}

export interface InstancesReading extends Metered {
  instances: InstanceReading[];
}

export interface RetentionPoliciesReading extends Metered {
  /** One per database asked, in the order asked. */
  policies: ({ database: string } & RetentionPolicyView)[];
}

export interface StartScaleResult extends Metered {
  /** `already-at-target`: nothing sent. `adopted-operation`: an identical scale was already running. */
  status: 'already-at-target' | 'adopted-operation' | 'started';
  trackingId?: string;
  /**
   * The size before; `skuName` only when the target names a SKU. A server group's side: `members`, the SKUs before of
   * the databases and pools the scale changes (the instance sizes are then 0).
   */
  before: { vCores: number; storageSizeInGB: number; skuName?: string; members?: SqlScaleItem[] };
}

export interface OperationProgressReading extends OperationProgress, Metered {
  retryAfterMs?: number;
}

export interface FailoverProgressReading extends OperationProgress, Metered {
  retryAfterMs?: number;
}

export type FailoverSendOutcome =
  /** This call sent the failover request and Azure accepted it. */
  | 'sent'
  /** The target already reports Primary: nothing to send. */
  | 'already-primary'
  /** A failover is visibly under way (ours from an earlier attempt, or someone's): nothing sent. */
  | 'in-progress'
  /**
   * Azure answered 409 busy: another operation runs on the group, and this request was refused — nothing started.
   * The workflow decides whose operation it is (its own earlier request whose answer was lost, or someone else's).
   */
  | 'refused-busy'
  /** Recorded by runs before `refused-busy`: a 409 busy answer was counted as sent. Kept so their histories read. */
  | 'busy-counted-as-sent';

export interface FailoverSendResult extends Metered {
  outcome: FailoverSendOutcome;
  /** Whether this call's POST reached Azure and was accepted. */
  posted: boolean;
  /** The failover's Azure-AsyncOperation, when this call started it: follow it with `readFailoverProgress`. */
  trackingId?: string;
  targetRoleBefore: string;
  replicationStateBefore: string;
}

/**
 * 400: a failover sent to the location of the instance that is primary (planned, forced), or to the server that is
 * primary (a server failover group's `FailoverGroupFailoverRequestOnPrimary` / `FailoverGroupNotSecondary`).
 */
function isRequestOnPrimary(code: string | undefined): boolean {
  return (
    code === 'InstanceFailoverGroupFailoverRequestOnPrimary' ||
    code === 'InstanceFailoverGroupNotSecondary' ||
    code === 'FailoverGroupFailoverRequestOnPrimary' ||
    code === 'FailoverGroupNotSecondary'
  );
}

/**
 * The safety gate's freshness rule: the read of the target that decides whether `sendFailover` POSTs is either the
 * read's own GET, or an answer shared with concurrent reads (src/azure/read-coalescer) whose request went out no more
 * than this long before the decision. An older shared answer is read again with a GET of its own before deciding.
 */
export const FAILOVER_GATE_MAX_AGE_MS = 2_000;

/**
 * 409 `InstanceFailoverGroupBusy` (a server group's `FailoverGroupBusy`, or a 409 without a code) answers a request
 * made while a failover runs.
 */
function isFailoverBusy(statusCode: number | undefined, code: string | undefined): boolean {
  return code === 'InstanceFailoverGroupBusy' || code === 'FailoverGroupBusy' || (statusCode === 409 && !code);
}

export function createArmActivities({
  controlPlane,
  serverGroupPlane,
  inventory,
  sendHeartbeatIntervalMs = KEEP_ALIVE_INTERVAL_MS,
  now = Date.now,
  planOutbound,
}: ArmActivityDependencies) {
  async function readGroupAt(
    group: GroupIdentity,
    location: string,
    abortSignal?: AbortSignal,
    coalesce?: boolean,
  ): Promise<ArmAnswer<FailoverGroupView>> {
    return classified(`reading failover group ${group.name} at ${location}`, FailureTypes.GroupNotFound, () =>
      controlPlane.getFailoverGroup(group, location, { abortSignal, ...(coalesce === false ? { coalesce } : {}) }),
    );
  }

  /**
   * A server failover group given by its id at one server: the inventory's entry when it has the group, else the
   * servers and roles that server reports (its partners, each with its location).
   */
  async function resolveServerGroupId(parsed: ParsedServerGroupId): Promise<ResolvedGroup> {
    const identity: GroupIdentity = {
      subscriptionId: parsed.subscriptionId,
      resourceGroup: parsed.resourceGroup,
      name: parsed.name,
      kind: 'sqlDatabase',
    };
    const known = inventory.nameOf(identity);
    const entry = known ? inventory.get(known) : undefined;
    if (known && entry) return resolvedGroup(entry, known, 'inventory');
    if (!serverGroupPlane) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidInput,
        nonRetryable: true,
        message:
          `group: ${parsed.name} is a server failover group (SQL Database), and this worker was built without the ` +
          'SQL Database control plane. Run a worker of this version or later.',
      });
    }
    let view: FailoverGroupView;
    try {
      ({ value: view } = await serverGroupPlane.getServerFailoverGroup(identity, parsed.server));
    } catch (error) {
      throw classifyArmError(error, {
        doing: `reading failover group ${parsed.name} at server ${parsed.server}`,
        notFoundType: FailureTypes.GroupNotFound,
      });
    }
    const partners = view.server?.partners ?? [];
    const servers: Record<string, string> = { [view.location]: parsed.server };
    for (const partner of partners) servers[normalizeLocation(partner.location)] = partner.serverName;
    const primaryIsHere = view.replicationRole.toLowerCase() === 'primary';
    const primary = primaryIsHere
      ? view.location
      : normalizeLocation(
          partners.find((partner) => (partner.role ?? '').toLowerCase() === 'primary')?.location ??
            view.partnerLocation,
        );
    const secondary = primaryIsHere ? normalizeLocation(partners[0]?.location ?? view.partnerLocation) : view.location;
    return resolvedGroup(
      { ...identity, kind: 'sqlDatabase', servers, primaryLocation: primary, secondaryLocation: secondary },
      parsed.name,
      'arm-id',
    );
  }

  return {
    /**
     * Resolves a group reference (inventory name, coordinates or ARM id) into coordinates and the group's lock id.
     * Reads ARM only for an ARM id the inventory does not know (to find the partner region). No side effects.
     * Fails `GroupNotFound` for a name the inventory does not have.
     */
    async resolveGroup(ref: GroupRef): Promise<{ group: ResolvedGroup; outbound?: OutboundPlan } & Metered> {
      const { result, armCalls } = await withArmMeter(async () => {
        if (typeof ref !== 'string') {
          const known = inventory.nameOf(ref);
          return resolvedGroup(ref, known, known ? 'inventory' : 'coordinates');
        }
        if (!isArmGroupId(ref)) {
          const entry = inventory.get(ref);
          if (!entry) {
            const known = inventory.names();
            throw ApplicationFailure.create({
              type: FailureTypes.GroupNotFound,
              nonRetryable: true,
              message:
                `Group "${ref}" is not in the worker's inventory` +
                (known.length ? ` (it has: ${known.join(', ')})` : ' (the inventory is empty)') +
                '. Add it to fogpilot.yaml, or pass the group as coordinates or as its ARM id.',
              details: [{ group: ref, known }],
            });
          }
          return resolvedGroup(entry, ref, 'inventory');
        }
        const serverGroup = parseServerFailoverGroupId(ref);
        if (serverGroup) return resolveServerGroupId(serverGroup);
        const parsed = parseInstanceFailoverGroupId(ref);
        if (!parsed) {
          throw ApplicationFailure.create({
            type: FailureTypes.InvalidInput,
            nonRetryable: true,
            message: `group: "${ref}" is not the ARM id of an instance or server failover group`,
          });
        }
        const known = inventory.nameOf(parsed);
        const entry = known ? inventory.get(known) : undefined;
        if (known && entry) return resolvedGroup(entry, known, 'inventory');
        const { value: view } = await readGroupAt(parsed, parsed.location);
        const primaryIsHere = view.replicationRole.toLowerCase() === 'primary';
        return resolvedGroup(
          {
            subscriptionId: parsed.subscriptionId,
            resourceGroup: parsed.resourceGroup,
            name: parsed.name,
            primaryLocation: primaryIsHere ? view.location : view.partnerLocation,
            secondaryLocation: primaryIsHere ? view.partnerLocation : view.location,
          },
          parsed.name,
          'arm-id',
        );
      });
      // Only a group with hooks, notifications or objectives carries a plan: others' results are as they were.
      const fromInventory = result.resolvedFrom === 'inventory' ? result.displayName : undefined;
      const outbound = planOutbound?.(fromInventory);
      return { group: result, ...(outbound ? { outbound } : {}), armCalls };
    },

    /**
     * The groups of the worker's inventory with their home regions, for runbooks over many groups (`all`, `region`).
     * Reads nothing in Azure.
     */
    listInventoryGroups(): Promise<{
      groups: { name: string; primaryLocation: string; secondaryLocation: string }[];
    }> {
      return Promise.resolve({
        groups: inventory.entries().map(([name, entry]) => ({
          name,
          primaryLocation: normalizeLocation(entry.primaryLocation),
          secondaryLocation: normalizeLocation(entry.secondaryLocation),
        })),
      });
    },

    /**
     * Reads the group at each location given (in parallel) and adds the answers up. Read-only. A location that does
     * not know the group fails `GroupNotFound`; throttling and outages retry.
     */
    async readGroupRoles(request: { group: GroupIdentity; locations: string[] }): Promise<GroupRolesReading> {
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all(request.locations.map((location) => readGroupAt(request.group, location))),
      );
      return rolesReading(
        result.map((answer) => answer.value),
        result,
        armCalls,
      );
    },

    /** Reads both instances of the pair and their management operations still in flight. Read-only. */
    async readInstances(request: { instanceIds: string[] }): Promise<InstancesReading> {
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all(
          request.instanceIds.map(async (instanceId) => {
            try {
              const [instance, operations] = await Promise.all([
                controlPlane.getManagedInstance(instanceId),
                controlPlane.listManagedInstanceOperations(instanceId),
              ]);
              return { instance: instance.value, operationsInFlight: operations.value.filter(operationInFlight) };
            } catch (error) {
              throw classifyArmError(error, { doing: `reading managed instance ${instanceId}` });
            }
          }),
        ),
      );
      return { instances: result, armCalls };
    },

    /**
     * The long-term retention policy of each database on one instance, for drift checks (LTR is configured per
     * instance, not replicated). Read-only. Unconfigured reads as `PT0S`; a database the instance does not have fails
     * non-retryably; throttling and outages retry.
     */
    async readRetentionPolicies(request: {
      instanceId: string;
      databases: string[];
    }): Promise<RetentionPoliciesReading> {
      const { result, armCalls } = await withArmMeter(() =>
        Promise.all(
          request.databases.map(async (database) => {
            try {
              const { value } = await controlPlane.listDatabaseRetentionPolicies(request.instanceId, database);
              return { database, ...value };
            } catch (error) {
              throw classifyArmError(error, {
                doing: `reading the long-term retention policy of ${database} on ${request.instanceId}`,
              });
            }
          }),
        ),
      );
      return { policies: result, armCalls };
    },

    /**
     * Starts scaling an instance to `target`, idempotently: nothing is sent when the instance is already there, and an
     * identical scale already running is adopted rather than requested again (sizes and, when the target names one,
     * the SKU's tier and family). A different operation in flight fails `GroupBusy` (Azure would refuse the PATCH).
     * The SKU is sent only when it differs from the instance's.
     */
    async startInstanceScale(request: { instanceId: string; target: ScaleTarget }): Promise<StartScaleResult> {
      const { instanceId, target } = request;
      const { result, armCalls } = await withArmMeter(async (): Promise<Omit<StartScaleResult, 'armCalls'>> => {
        try {
          const { value: instance } = await controlPlane.getManagedInstance(instanceId);
          const before = {
            vCores: instance.vCores,
            storageSizeInGB: instance.storageSizeInGB,
            ...(target.skuName !== undefined ? { skuName: instance.skuName } : {}),
          };
          const wantsVCores = target.vCores ?? instance.vCores;
          const wantsStorage = target.storageSizeInGB ?? instance.storageSizeInGB;
          const wantsSku = target.skuName ?? instance.skuName;
          const skuChanges = !sameSku(instance.skuName, wantsSku);
          // Compared even when the SKU stays: an operation moving the instance to another tier is not this scale.
          const wantsSkuParts = skuParts(wantsSku);
          if (instance.vCores === wantsVCores && instance.storageSizeInGB === wantsStorage && !skuChanges) {
            return { status: 'already-at-target', before };
          }
          const { value: operations } = await controlPlane.listManagedInstanceOperations(instanceId);
          const running = operations.filter(operationInFlight);
          const same = running.find(
            (operation) =>
              (operation.requested?.vCores ?? wantsVCores) === wantsVCores &&
              (operation.requested?.storageSizeInGB ?? wantsStorage) === wantsStorage &&
              (!wantsSkuParts ||
                ((operation.requested?.tier ?? wantsSkuParts.tier).toLowerCase() === wantsSkuParts.tier.toLowerCase() &&
                  (operation.requested?.family ?? wantsSkuParts.family).toLowerCase() ===
                    wantsSkuParts.family.toLowerCase())) &&
              operation.requested !== undefined,
          );
          if (same) return { status: 'adopted-operation', trackingId: same.name, before };
          if (running.length > 0) {
            throw busyForScale(`Instance ${instance.name}`, running[0]!, { instance: instance.id });
          }
          const { value } = await controlPlane.beginScaleManagedInstance(instanceId, {
            vCores: wantsVCores,
            storageSizeInGB: wantsStorage,
            ...(skuChanges ? { skuName: wantsSku } : {}),
          });
          return { status: 'started', trackingId: value.trackingId, before };
        } catch (error) {
          throw classifyArmError(error, { doing: `scaling managed instance ${instanceId}` });
        }
      });
      return { ...result, armCalls };
    },

    /** One read of a tracked operation's progress, with the server's Retry-After for the next read. */
    async readOperationProgress(request: {
      instanceId: string;
      trackingId: string;
    }): Promise<OperationProgressReading> {
      const { result, armCalls } = await withArmMeter(async () => {
        try {
          return await controlPlane.getOperationProgress(request.instanceId, request.trackingId);
        } catch (error) {
          throw classifyArmError(error, { doing: `reading operation ${request.trackingId}` });
        }
      });
      return { ...result.value, retryAfterMs: result.retryAfterMs, armCalls };
    },

    /** One read of a failover's async operation, with the server's Retry-After for the next read. Read-only. */
    async readFailoverProgress(request: {
      group: GroupIdentity;
      trackingId: string;
    }): Promise<FailoverProgressReading> {
      return progressReading(`reading the failover operation of ${request.group.name}`, () =>
        controlPlane.getFailoverProgress(request.group, request.trackingId),
      );
    },

    /**
     * Sends a failover to `targetLocation` at most once, whatever happens around it. Reads the group at the target
     * first (an answer shared with other runbooks' reads only if no older than {@link FAILOVER_GATE_MAX_AGE_MS}, else
     * its own GET), unless the workflow passes the target's view it read moments ago (`targetView`, the read plan: then
     * Azure's own refusal of a POST on the primary, or its 409 busy, is the gate, and a refusal reads afresh):
     * already Primary → nothing to send; a failover visibly under way → nothing to send. Otherwise POSTs; a 409
     * busy answer is `refused-busy` (Azure started nothing for it). The workflow calls this with no automatic retries
     * and decides itself, from the failure's `delivery`, whether an earlier request may have reached Azure.
     *
     * Bounded in time: it heartbeats while it runs, and stops at its cancellation or its deadline (its start-to-close
     * or schedule-to-close, less a margin). Once stopped it never sends the POST, even if the subscription's request
     * budget frees up afterwards, and fails retryably with `delivery: 'not-sent'`.
     */
    async sendFailover(request: {
      group: GroupIdentity;
      targetLocation: string;
      kind: FailoverKind;
      /**
       * The target's view as the workflow read it moments ago: it stands in for the first read. When Azure then
       * refuses the POST because the target is primary after all, the target is read afresh and decides.
       */
      targetView?: FailoverGroupView;
    }): Promise<FailoverSendResult> {
      const target = normalizeLocation(request.targetLocation);
      return sendFailoverGated({
        doing: `sending ${request.kind} failover of ${request.group.name} to ${target}`,
        heartbeatIntervalMs: sendHeartbeatIntervalMs,
        now,
        targetView: request.targetView,
        readTarget: (signal, coalesce) => readGroupAt(request.group, target, signal, coalesce),
        post: async (signal) =>
          (await controlPlane.beginFailover(request.group, target, request.kind, { abortSignal: signal })).value,
      });
    },
  };
}

/** How {@link sendFailoverGated} reads the target and posts, for one kind of group. */
export interface GatedFailoverSend {
  doing: string;
  heartbeatIntervalMs: number;
  now: () => number;
  /** The target's view the workflow read moments ago (see `sendFailover`'s `targetView`). */
  targetView?: FailoverGroupView;
  /** Reads the group at the target (`coalesce: false`: a GET of its own); throws classified failures. */
  readTarget: (signal: AbortSignal | undefined, coalesce?: boolean) => Promise<ArmAnswer<FailoverGroupView>>;
  /** The POST, once; throws ArmRequestError with ARM's answer. */
  post: (signal: AbortSignal | undefined) => Promise<{ trackingId?: string }>;
}

/**
 * The failover send's gate, whatever the kind of group: read the target (or take the view the workflow passed),
 * send nothing when it is primary already or a failover is visibly under way, else POST once; a 409 busy is
 * `refused-busy`, and Azure's refusal of a POST on the primary re-reads the target when the passed view was stale.
 * Bounded in time by the activity's cancellation and deadline (see `sendFailover`).
 */
export async function sendFailoverGated(send: GatedFailoverSend): Promise<FailoverSendResult> {
  const { doing, now } = send;
  // Bounded so that a timed-out attempt, still held by the request budget on this worker, can never POST after
  // the workflow has moved on to its next attempt.
  const bounds = boundAttempt({ heartbeatIntervalMs: send.heartbeatIntervalMs });
  const { signal } = bounds;
  try {
    const { result, armCalls } = await withArmMeter(async (): Promise<Omit<FailoverSendResult, 'armCalls'>> => {
      const gate = async (known?: FailoverGroupView): Promise<Omit<FailoverSendResult, 'armCalls'>> => {
        let view: FailoverGroupView;
        if (known) view = known;
        else {
          try {
            const answer = await send.readTarget(signal);
            // The gate decides on a read no older than FAILOVER_GATE_MAX_AGE_MS, or on a GET of its own.
            const stale =
              answer.via === 'list' &&
              (answer.readAtMs === undefined || now() - answer.readAtMs > FAILOVER_GATE_MAX_AGE_MS);
            ({ value: view } = stale ? await send.readTarget(signal, false) : answer);
          } catch (error) {
            if (signal?.aborted) throw classifyArmError(stoppedBeforeSending('POST', signal.reason, error), { doing });
            throw error;
          }
        }
        const seen = { targetRoleBefore: view.replicationRole, replicationStateBefore: view.replicationState };
        if (view.replicationRole.toLowerCase() === 'primary') {
          return { outcome: 'already-primary', posted: false, ...seen };
        }
        if (summarizeGroupRoles([view]).status === 'failover-in-progress') {
          return { outcome: 'in-progress', posted: false, ...seen };
        }
        if (signal?.aborted) throw classifyArmError(stoppedBeforeSending('POST', signal.reason), { doing });
        try {
          const value = await send.post(signal);
          return { outcome: 'sent', posted: true, trackingId: value.trackingId, ...seen };
        } catch (error) {
          if (isArmRequestError(error) && isFailoverBusy(error.statusCode, error.code)) {
            return { outcome: 'refused-busy', posted: false, ...seen };
          }
          // The view the workflow passed was not the target's latest after all: Azure's refusal says the target
          // is primary now, and a fresh read says what to report (nothing was started by this request).
          if (known && isArmRequestError(error) && isRequestOnPrimary(error.code)) return gate();
          throw classifyArmError(error, { doing, notFoundType: FailureTypes.GroupNotFound });
        }
      };
      return gate(send.targetView);
    });
    return { ...result, armCalls };
  } finally {
    bounds.close();
  }
}

/** The roles read at some locations, added up, with the largest Retry-After among the answers. */
export function rolesReading(
  views: FailoverGroupView[],
  answers: { retryAfterMs?: number }[],
  armCalls: ArmCallCount,
): GroupRolesReading {
  const retryAfterMs = Math.max(0, ...answers.map((answer) => answer.retryAfterMs ?? 0));
  return {
    views,
    summary: summarizeGroupRoles(views),
    retryAfterMs: retryAfterMs > 0 ? retryAfterMs : undefined,
    armCalls,
  };
}

/** One ARM read whose failure is classified at the boundary (`notFoundType` for a 404). */
export async function classified<T>(
  doing: string,
  notFoundType: string | undefined,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw classifyArmError(error, notFoundType ? { doing, notFoundType } : { doing });
  }
}

/** One metered read of an operation's progress, with the server's Retry-After for the next read. */
export async function progressReading(
  doing: string,
  read: () => Promise<ArmAnswer<OperationProgress>>,
): Promise<FailoverProgressReading> {
  const { result, armCalls } = await withArmMeter(() => classified(doing, undefined, read));
  return { ...result.value, retryAfterMs: result.retryAfterMs, armCalls };
}

/** `GroupBusy`: a management operation runs on what a scale would change, and Azure refuses a PATCH meanwhile. */
export function busyForScale(
  subject: string,
  busy: ManagementOperationView,
  detail: Record<string, unknown>,
): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.GroupBusy,
    nonRetryable: true,
    message:
      `${subject} is busy with "${busy.friendlyName ?? busy.operation}" ` +
      `(${busy.state}, ${busy.percentComplete ?? 0}%); Azure would refuse a scale now. Wait for it to end.`,
    details: [{ ...detail, operation: busy }],
  });
}
