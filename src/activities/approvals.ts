/**
 * Activities that judge and deliver approvals. The worker has loaded fogpilot.yaml: its `access` section and inventory
 * decide who may approve, so a decision is judged by the same rules whichever door it came through (the CLI, the HTTP
 * trigger, `temporal workflow update`, or a bare `approve` signal).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { mayApprove, type Access, type AccessDecision, type GroupForAccess, type Principal } from '../config/access';
import type { GroupIdentity } from '../domain/group-ref';
import {
  CLAIMED_PREFIX,
  FailureTypes,
  approveUpdate,
  rejectUpdate,
  type ApprovalReceipt,
  type ApprovalRequest,
} from '../workflows/definitions';

/** What the worker knows of the access rules: its `access` section (absent: none) and how it sees a group. */
export interface ApprovalRules {
  access?: Access;
  /** A group as the access rules see it: its inventory name and tags, or neither outside the inventory. */
  groupForAccess(group: GroupIdentity): GroupForAccess;
}

export interface JudgeApprovalRequest {
  /** The sender's principal label: `webhook:<caller>`, `certificate:…`, `api-key:…`, `os-user:…` or `claimed:<by>`. */
  approver: string;
  /** The run's `requestedBy`, when it has one. */
  requester?: string;
  /** Every group the decision covers (a fleet: all it would fail over). */
  groups: GroupIdentity[];
}

export interface ForwardApprovalRequest {
  /** The lock holder the decision belongs to. */
  workflowId: string;
  decision: 'approve' | 'reject';
  request: ApprovalRequest;
}

/** The principal a label names: a trigger caller for `webhook:<name>`, else an operator by identity. */
export function principalOf(label: string): Principal {
  return label.startsWith('webhook:')
    ? { kind: 'caller', name: label.slice('webhook:'.length) }
    : { kind: 'operator', identity: label };
}

/**
 * The verdict on one approval: `mayApprove` for every group. A claimed identity (`claimed:<by>`, from a signal) is
 * the requester when its bare name is the requester's label too, so a signal cannot dodge the two-person rule by
 * leaving the prefix off.
 */
export function judge(rules: ApprovalRules, request: JudgeApprovalRequest): AccessDecision {
  const claimedName = request.approver.startsWith(CLAIMED_PREFIX)
    ? request.approver.slice(CLAIMED_PREFIX.length)
    : undefined;
  if (request.requester !== undefined && claimedName === request.requester) {
    return mayApprove(rules.access, principalOf(request.requester), {
      requester: request.requester,
      group: {},
    });
  }
  const principal = principalOf(request.approver);
  const groups = request.groups.length > 0 ? request.groups : [undefined];
  for (const group of groups) {
    const decision = mayApprove(rules.access, principal, {
      requester: request.requester,
      group: group ? rules.groupForAccess(group) : {},
    });
    if (!decision.allowed) {
      if (claimedName !== undefined && rules.access) {
        return {
          allowed: false,
          reason: `${request.approver} is a name written into a signal, which nobody authenticated, and this fogpilot has an access section`,
          remedy:
            'Approve with `fogpilot approve <workflowId> --reason …` (it sends your Temporal identity; `fogpilot whoami` shows it) or through the HTTP trigger with your credential.',
        };
      }
      return decision;
    }
  }
  return { allowed: true };
}

export function createApprovalActivities(rules: ApprovalRules = { groupForAccess: () => ({}) }) {
  return {
    /**
     * Judges an approval or rejection by the worker's access rules: never the requester's own (the two-person rule);
     * with an `access` section, only a principal granted `approve` on every group. Pure: reads only configuration.
     */
    judgeApproval(request: JudgeApprovalRequest): Promise<AccessDecision> {
      return Promise.resolve(judge(rules, request));
    },

    /**
     * Delivers an `approve` / `reject` update to the lock holder, which judges it itself. A refusal there fails this
     * activity, not retryably, with the holder's `ApprovalRefused` message; it changes nothing in Azure.
     */
    async forwardApproval(forward: ForwardApprovalRequest): Promise<ApprovalReceipt> {
      const { client } = Context.current();
      const handle = client.workflow.getHandle(forward.workflowId);
      try {
        return await handle.executeUpdate(forward.decision === 'approve' ? approveUpdate : rejectUpdate, {
          args: [forward.request],
        });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
          throw ApplicationFailure.create({
            type: error.cause.type ?? FailureTypes.ApprovalRefused,
            nonRetryable: true,
            message: error.cause.message,
            details: error.cause.details ?? [],
          });
        }
        throw error;
      }
    },
  };
}
