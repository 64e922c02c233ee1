/**
 * The activity of `watchGroups`: one look at many groups' roles, from one ARM list call per scope (subscription,
 * resource group, location) however many groups share it, and, for each group whose primary moved since the last
 * look, its lock holder as Temporal knows it (with the worker's own client: workflows cannot describe other workflows).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ControlPlane } from '../azure/control-plane';
import { classifyArmError } from '../azure/errors';
import { withArmMeter } from '../azure/arm-call-meter';
import { normalizeLocation } from '../domain/locations';
import { readRolesFromScopes, scopeKey, scopesOf, type GroupRoleReading, type ScopeAnswer } from '../domain/role-watch';
import { lockWorkflowId, type GroupCoordinates } from '../domain/group-ref';
import type { WatchLockEvidence } from '../workflows/contracts/watch';
import type { Metered } from './arm';

export interface WatchDependencies {
  controlPlane: ControlPlane;
}

/** One group to look at: where it lives, and the primary the watch last read (if any). */
export interface WatchLookTarget extends GroupCoordinates {
  lastPrimary?: string;
}

export interface WatchLookRequest {
  groups: WatchLookTarget[];
}

export interface WatchGroupLook {
  reading: GroupRoleReading;
  /** Read only for a group whose primary is known and differs from `lastPrimary`. */
  lock?: WatchLockEvidence;
}

export interface WatchLook extends Metered {
  /** One per group asked, in the order asked. */
  groups: WatchGroupLook[];
  /** The list calls that failed, each once, with what Azure (or the network) said. */
  unansweredScopes: { scope: string; error: string }[];
  /** How many list calls the look made (one per distinct scope). */
  listCalls: number;
}

export function createWatchActivities({ controlPlane }: WatchDependencies) {
  /** The group's lock holder: the latest run under its lock id, running or how and when it ended. */
  async function describeLock(workflowId: string): Promise<WatchLockEvidence> {
    const { client } = Context.current();
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      if (description.status.name === 'RUNNING') {
        return { running: true, workflowType: description.type, runId: description.runId };
      }
      return {
        running: false,
        workflowType: description.type,
        runId: description.runId,
        closeStatus: description.status.name,
        ...(description.closeTime ? { closedAt: description.closeTime.toISOString() } : {}),
      };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { running: false };
      return { running: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  return {
    /**
     * Reads the roles of every group given with one `listFailoverGroups` call per distinct scope (both locations of
     * each group; groups of one scope share its call), and, for each group whose primary is known and moved from
     * `lastPrimary`, whether a run holds its lock or when the last one ended. Read-only and idempotent.
     *
     * Never fails on Azure's answers: a scope that does not answer (a dark region, throttling, a refused permission)
     * is reported in `unansweredScopes` and for its groups, and the next look tries again. A group read from its
     * surviving location alone counts when that location says Primary.
     */
    async lookAtGroups(request: WatchLookRequest): Promise<WatchLook> {
      const scopes = scopesOf(request.groups);
      const { result: answers, armCalls } = await withArmMeter(async () => {
        const answered = await Promise.all(
          scopes.map(async (scope): Promise<[string, ScopeAnswer]> => {
            try {
              const { value } = await controlPlane.listFailoverGroups(scope);
              return [scopeKey(scope), { views: value }];
            } catch (error) {
              const failure = classifyArmError(error, {
                doing: `listing the failover groups of ${scope.resourceGroup} at ${scope.location}`,
              });
              return [scopeKey(scope), { error: `${failure.type ?? 'Error'}: ${failure.message}` }];
            }
          }),
        );
        return new Map(answered);
      });
      const groups = await Promise.all(
        request.groups.map(async (group): Promise<WatchGroupLook> => {
          const reading = readRolesFromScopes(group, answers);
          const moved =
            reading.primaryLocation !== undefined &&
            group.lastPrimary !== undefined &&
            reading.primaryLocation !== normalizeLocation(group.lastPrimary);
          return { reading, ...(moved ? { lock: await describeLock(lockWorkflowId(group)) } : {}) };
        }),
      );
      const unansweredScopes = [...answers.entries()].flatMap(([scope, answer]) =>
        'error' in answer ? [{ scope, error: answer.error }] : [],
      );
      return { groups, unansweredScopes, listCalls: scopes.length, armCalls };
    },
  };
}
