/**
 * A person's decision on a runbook that waits for one (`approve` / `reject`). The workflow sets the handlers as it
 * starts (`setHandler(approveSignal, decisions.approve)`), so a decision sent before the runbook reaches its approval
 * step is kept, not lost; the first one counts.
 *
 * Since {@link JUDGED_APPROVALS_PATCH}, an {@link ApprovalDesk} takes the decisions instead: each is judged by the
 * worker's access rules before it counts (the two-person rule, and with an `access` section the approver's grant), as
 * an `approve` / `reject` update carrying the sender's authenticated identity or as the old signal, whose `by` only
 * claims one.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
} from '@temporalio/workflow';
import type { GroupIdentity } from '../../domain/group-ref';
import {
  CLAIMED_PREFIX,
  FailureTypes,
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  type ActorMessage,
  type ApprovalReceipt,
  type ApprovalRecord,
  type ApprovalRequest,
  type RefusalRecord,
} from '../definitions';
import { approvalDesks } from './activity-presets';
import { actorOf } from './change-guard';
import type { ReportExtras } from './report';
import { nowIso } from './step-log';

/**
 * Decisions are judged by the worker's access rules and may arrive as updates with an authenticated identity; a
 * refusal is recorded in the run's status and report. Runs recorded before it counted any signal's `by` as written.
 */
export const JUDGED_APPROVALS_PATCH = 'approvals-judged-by-access-rules';

export interface Decision {
  approved: boolean;
  message: ActorMessage;
  at: string;
  /** How it arrived, when an {@link ApprovalDesk} judged it; absent for decisions of runs before it. */
  via?: 'signal' | 'update';
}

/** The first decision (the one that answers the approval wait), and every decision in the order they arrived. */
export interface Decisions {
  (): Decision | undefined;
  /** Every decision received, first to last: a later `reject` still counts when the runbook decides again. */
  readonly all: readonly Decision[];
  /** The decisions received after `at` (workflow time, ISO). */
  since(at: string): Decision[];
  /** The `approve` signal's handler. */
  readonly approve: (message: ActorMessage) => void;
  /** The `reject` signal's handler. */
  readonly reject: (message: ActorMessage) => void;
  /** Records a decision an {@link ApprovalDesk} allowed. */
  readonly record: (decision: Decision) => void;
}

/** An empty record of decisions; the function gives the decision once there is one. */
export function decisionRecord(): Decisions {
  const received: Decision[] = [];
  const decide = (approved: boolean) => (message: ActorMessage) => {
    received.push({ approved, message: actorOf(message), at: nowIso() });
  };
  return Object.assign(() => received[0], {
    all: received,
    since: (at: string) => received.filter((entry) => Date.parse(entry.at) > Date.parse(at)),
    approve: decide(true),
    reject: decide(false),
    record: (decision: Decision) => {
      received.push(decision);
    },
  });
}

/** Who the decisions of a run are judged against: its requester and every group an approval would cover. */
export interface ApprovalScope {
  requester?: string;
  groups: GroupIdentity[];
}

/** Refuses a malformed update before it enters the history: an identity and a reason, both non-empty text. */
export function validateApprovalRequest(request: ApprovalRequest): void {
  const field = (value: unknown, name: string, max: number): void => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(`${name} is required: ${name === 'identity' ? 'who decides (fogpilot sets it)' : 'why'}`);
    }
    if (value.length > max) throw new Error(`${name} must be at most ${max} characters`);
  };
  if (typeof request !== 'object' || request === null) {
    throw new Error('the decision must be { reason, identity }');
  }
  field(request.identity, 'identity', 300);
  field(request.reason, 'reason', 1000);
}

/**
 * What a desk needs of its run. Not the whole `RunbookRun`, which holds the desk: naming only these keeps the two
 * modules from importing each other.
 */
export interface DeskRun {
  readonly returnsSummary: boolean;
  requestedBy?: string;
  readonly extra: ReportExtras;
  readonly delegation: { mirror(forPerson?: boolean): void };
  warn(message: string): void;
}

/**
 * The decisions of a run that waits for a person, judged before they count. Decisions wait until the run knows where
 * they belong: here (its requester and groups are known: {@link judgeHere}), or in the group's lock holder it started
 * ({@link forwardTo}), which judges them itself.
 */
export class ApprovalDesk {
  private scope?: ApprovalScope;
  private holder?: string;

  constructor(
    private readonly run: DeskRun,
    readonly decisions: Decisions,
  ) {}

  /** Sets the `approve` / `reject` signal and update handlers. */
  listen(): void {
    setHandler(approveSignal, (message) => this.signal(true, message));
    setHandler(rejectSignal, (message) => this.signal(false, message));
    setHandler(approveUpdate, (request) => this.update(true, request), { validator: validateApprovalRequest });
    setHandler(rejectUpdate, (request) => this.update(false, request), { validator: validateApprovalRequest });
  }

  /** Decisions are this run's: judged against `scope`. */
  judgeHere(scope: ApprovalScope): void {
    this.scope ??= scope;
  }

  /** Decisions belong to the lock holder `workflowId`: handed to it as they came. */
  forwardTo(workflowId: string): void {
    this.holder ??= workflowId;
  }

  /** A pre-approved start's record: the requester who started it approved it (the trigger checked `preApprove`). */
  preApproval(approval: ActorMessage, at: string): ApprovalRecord {
    if (this.run.returnsSummary) {
      // Started by a fleet, whose one approval was judged there.
      return { ...approval, at, via: 'fleet', requestedBy: this.run.requestedBy };
    }
    const by = this.run.requestedBy ?? `${CLAIMED_PREFIX}${approval.by}`;
    return { by, reason: approval.reason, at, via: 'input', requestedBy: this.run.requestedBy, claimedBy: approval.by };
  }

  private async placed(): Promise<void> {
    await condition(() => this.scope !== undefined || this.holder !== undefined);
  }

  private async signal(approved: boolean, raw: ActorMessage): Promise<void> {
    const message = actorOf(raw);
    await this.placed();
    if (this.holder) {
      await getExternalWorkflowHandle(this.holder)
        .signal(approved ? approveSignal : rejectSignal, message)
        .catch(() => undefined);
      return;
    }
    const identity = `${CLAIMED_PREFIX}${message.by}`;
    const refused = await this.judge(approved, { identity, reason: message.reason }, 'signal');
    if (refused) return;
    this.decisions.record({ approved, message: { by: identity, reason: message.reason }, at: nowIso(), via: 'signal' });
  }

  private async update(approved: boolean, request: ApprovalRequest): Promise<ApprovalReceipt> {
    const decision = approved ? 'approve' : 'reject';
    const asked = { identity: request.identity.trim(), reason: request.reason.trim() };
    await this.placed();
    if (this.holder) return this.forward(decision, asked);
    const refused = await this.judge(approved, asked, 'update');
    if (refused) {
      throw ApplicationFailure.create({
        type: FailureTypes.ApprovalRefused,
        nonRetryable: true,
        message: `${refused.refused}; the ${decision} was not recorded and the run still waits. ${refused.remedy}`,
        details: [refused],
      });
    }
    const at = nowIso();
    this.decisions.record({ approved, message: { by: asked.identity, reason: asked.reason }, at, via: 'update' });
    return { decision, by: asked.identity, at };
  }

  /** Asks the worker's access rules; a refusal is recorded (status and report) and returned. */
  private async judge(
    approved: boolean,
    request: ApprovalRequest,
    via: RefusalRecord['via'],
  ): Promise<RefusalRecord | undefined> {
    const scope = this.scope!;
    const verdict = await approvalDesks.judgeApproval.executeWithOptions(
      { summary: `judge the ${approved ? 'approval' : 'rejection'} of ${request.identity}` },
      [{ approver: request.identity, requester: scope.requester, groups: scope.groups }],
    );
    if (verdict.allowed) return undefined;
    const refusal: RefusalRecord = {
      by: request.identity,
      decision: approved ? 'approve' : 'reject',
      via,
      reason: request.reason,
      refused: verdict.reason,
      remedy: verdict.remedy,
      at: nowIso(),
    };
    (this.run.extra.refusals ??= []).push(refusal);
    // A starter that delegated to this run shows its status: it learns of the refusal at once, unpaced.
    this.run.delegation.mirror(true);
    this.run.warn(`${refusal.decision} from ${refusal.by} refused: ${refusal.refused}. ${refusal.remedy}`);
    return refusal;
  }

  /** Hands an update to the lock holder; its refusal is this update's refusal. */
  private async forward(decision: 'approve' | 'reject', request: ApprovalRequest): Promise<ApprovalReceipt> {
    try {
      return await approvalDesks.forwardApproval.executeWithOptions(
        { summary: `hand the ${decision} of ${request.identity} to ${this.holder}` },
        [{ workflowId: this.holder!, decision, request }],
      );
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : error;
      if (cause instanceof ApplicationFailure) {
        throw ApplicationFailure.create({
          type: cause.type ?? FailureTypes.ApprovalRefused,
          nonRetryable: true,
          message: cause.message,
          details: cause.details ?? [],
        });
      }
      throw ApplicationFailure.create({
        type: 'ApprovalNotDelivered',
        nonRetryable: true,
        message:
          `The ${decision} could not be handed to the lock holder ${this.holder} (${(error as Error).message}); ` +
          `nothing was recorded. Send it to ${this.holder} directly: fogpilot ${decision} ${this.holder} --reason …`,
      });
    }
  }
}

/**
 * Sets the decision handlers of a run that waits for a person and returns its record of decisions: an
 * {@link ApprovalDesk} that judges them since {@link JUDGED_APPROVALS_PATCH}, the plain signals before it. Called with
 * the run's other handlers, before anything else, so a decision sent early is never missed.
 */
export function listenForDecisions(run: DeskRun & { approvalDesk?: ApprovalDesk }): Decisions {
  const decisions = decisionRecord();
  if (patched(JUDGED_APPROVALS_PATCH)) {
    run.approvalDesk = new ApprovalDesk(run, decisions);
    run.approvalDesk.listen();
  } else {
    setHandler(approveSignal, decisions.approve);
    setHandler(rejectSignal, decisions.reject);
  }
  return decisions;
}
