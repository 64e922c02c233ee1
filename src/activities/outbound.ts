/**
 * Activities that reach outside Azure: a group's hooks (HTTP steps around its database switch) and notifications of
 * runbook events. The configuration stays on the worker: workflows see a hook's non-secret plan and its redacted
 * record, and a notification's endpoint by name.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FogpilotConfig } from '../config/config';
import {
  findHook,
  planHooks,
  runHook,
  HookError,
  type HookContext,
  type HookPhase,
  type HookPlans,
  type HookRecord,
} from '../hooks';
import {
  deliverNotification,
  findNotificationEndpoint,
  notificationEndpointsFor,
  NotificationDeliveryError,
  NOTIFICATION_EVENTS,
  type NotificationDelivery,
  type NotificationEvent,
  type RunbookNotification,
} from '../notify';

/** What a run learns, with its group, about the outside world's part in it (absent: nothing is configured). */
export interface OutboundPlan {
  hooks: HookPlans;
  /** The events at least one notification endpoint takes for this group. */
  notifyOn: NotificationEvent[];
  /** The group's objectives (ms), when configured. */
  objectives?: { rtoMs?: number; rpoMs?: number; drillIntervalMs?: number };
}

export interface OutboundDependencies {
  /** The worker's hooks, notification endpoints and objectives; absent: none. */
  outbound?: {
    /** `workload` is read by the recovery-point activities (./recovery-points.ts). */
    config: Pick<FogpilotConfig, 'inventory' | 'notifications'> & Partial<Pick<FogpilotConfig, 'workload'>>;
    env?: NodeJS.ProcessEnv;
  };
}

/** The plan of `inventoryName`'s group, or undefined when it has no hooks, no notification and no objective. */
export function outboundPlanOf(
  config: Pick<FogpilotConfig, 'inventory' | 'notifications'>,
  inventoryName: string | undefined,
): OutboundPlan | undefined {
  const hooks = inventoryName ? planHooks(config, inventoryName) : { before: [], after: [] };
  const notifyOn = NOTIFICATION_EVENTS.filter(
    (event) => notificationEndpointsFor(config, event, inventoryName).length > 0,
  );
  const configured =
    inventoryName && Object.hasOwn(config.inventory, inventoryName)
      ? config.inventory[inventoryName]?.objectives
      : undefined;
  const objectives = configured
    ? {
        ...(configured.rto !== undefined ? { rtoMs: configured.rto } : {}),
        ...(configured.rpo !== undefined ? { rpoMs: configured.rpo } : {}),
        ...(configured.drillInterval !== undefined ? { drillIntervalMs: configured.drillInterval } : {}),
      }
    : undefined;
  if (hooks.before.length === 0 && hooks.after.length === 0 && notifyOn.length === 0 && !objectives) return undefined;
  return { hooks, notifyOn, ...(objectives ? { objectives } : {}) };
}

export function createOutboundActivities({ outbound }: OutboundDependencies) {
  const env = outbound?.env ?? process.env;
  return {
    /**
     * Sends one of a group's hooks once (the workflow retries it up to its `attempts`) and returns its redacted record.
     * A failed answer fails the activity with type `HookFailed`, retryable or not as the hook's error says, its
     * redacted record in the details.
     */
    async runGroupHook(request: {
      group: string;
      phase: HookPhase;
      name: string;
      context: HookContext;
    }): Promise<HookRecord> {
      const hook = outbound ? findHook(outbound.config, request.group, request.phase, request.name) : undefined;
      if (!hook) {
        throw ApplicationFailure.create({
          type: 'HookFailed',
          nonRetryable: true,
          message: `Hook ${request.name} (${request.phase}) of ${request.group} is not in this worker's configuration: deploy the same fogpilot.yaml to every worker.`,
        });
      }
      try {
        // A cancelled attempt stops its request, not only the wait for it.
        return await runHook(hook, request.context, { env, abortSignal: Context.current().cancellationSignal });
      } catch (error) {
        if (error instanceof HookError) throw error.toApplicationFailure();
        throw error;
      }
    },

    /**
     * When the group last passed a DR drill, against its `objectives.drillInterval`: the newest `drDrill` run of the
     * group that ended `succeeded`, from Temporal's visibility (search attributes `FogpilotGroup`, `FogpilotRunbook`,
     * `FogpilotPhase`). Read-only. `intervalMs` absent: the group declares no interval (nothing to check).
     */
    async readDrillRecency(request: {
      group: string;
    }): Promise<{ intervalMs?: number; lastDrillAt?: string; unreadable?: string }> {
      const configured =
        outbound && Object.hasOwn(outbound.config.inventory, request.group)
          ? outbound.config.inventory[request.group]?.objectives?.drillInterval
          : undefined;
      if (configured === undefined) return {};
      const quoted = request.group.replace(/["\\]/g, '');
      const query = `FogpilotRunbook = "drDrill" AND FogpilotGroup = "${quoted}" AND FogpilotPhase = "succeeded"`;
      try {
        let newest: Date | undefined;
        for await (const execution of Context.current().client.workflow.list({ query, pageSize: 100 })) {
          const at = execution.closeTime ?? execution.startTime;
          if (!newest || at > newest) newest = at;
        }
        return { intervalMs: configured, ...(newest ? { lastDrillAt: newest.toISOString() } : {}) };
      } catch (error) {
        return { intervalMs: configured, unreadable: error instanceof Error ? error.message : String(error) };
      }
    },

    /** The names of the endpoints that take `event` for the group (inventory name; undefined outside it). */
    notificationTargets(request: { event: NotificationEvent; group?: string }): Promise<string[]> {
      if (!outbound) return Promise.resolve([]);
      return Promise.resolve(
        notificationEndpointsFor(outbound.config, request.event, request.group).map((endpoint) => endpoint.name),
      );
    },

    /**
     * Delivers one notification to one endpoint, signed. Every attempt sends the same payload with the same delivery
     * id, so a receiver can drop a repeat. Retryable failures (timeouts, 408, 429, 5xx) retry; others do not.
     */
    async deliverNotification(request: {
      endpoint: string;
      payload: RunbookNotification;
    }): Promise<NotificationDelivery> {
      const endpoint = outbound ? findNotificationEndpoint(outbound.config, request.endpoint) : undefined;
      if (!endpoint) {
        throw ApplicationFailure.create({
          type: 'NotificationNotDelivered',
          nonRetryable: true,
          message: `Notification endpoint ${request.endpoint} is not in this worker's configuration.`,
        });
      }
      try {
        return await deliverNotification(endpoint, request.payload, {
          env,
          abortSignal: Context.current().cancellationSignal,
        });
      } catch (error) {
        if (error instanceof NotificationDeliveryError) throw error.toApplicationFailure();
        throw error;
      }
    },
  };
}
