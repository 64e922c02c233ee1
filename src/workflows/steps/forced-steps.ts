/**
 * The steps of a forced failover, each declared once: the title it runs under, what a dry run says it would do, and
 * its body. `forcedFailover` (forced-failover.ts) runs them in this order; its dry-run plan is made of them.
 */
import type { ForcedFailoverParams } from '../../domain/inputs';
import type { ResolvedGroup } from '../../domain/group-ref';
import { formatDuration } from '../../domain/durations';
import type { FailoverLeg } from '../definitions';
import type { Decisions } from './approval';
import { awaitDatabasesWritable } from './await-writable';
import { describeDataLossEstimate } from './data-loss-estimate';
import { awaitApproval, decideEscalation } from './forced-approval';
import { assess, type Assessment } from './forced-assess';
import { awaitNewPrimary, tryPlanned } from './forced-switch';
import type { RunbookRun } from './runbook-run';
import { sendFailoverOnce, type SendOutcome } from './send-failover';
import { declareStep, type PlannedStep } from './step-declaration';

/** What a dry run of a forced failover has read: all its plan is made of. */
export interface ForcedView {
  params: ForcedFailoverParams;
  assessment: Assessment;
  /**
   * With `tryPlannedFirst` on a server group whose api-version offers it: Azure's own
   * `tryPlannedBeforeForcedFailover` is sent, once, instead of fogpilot's planned attempt and escalation.
   */
  azureTriesPlanned?: boolean;
}

/** What the steps up to the approval are given. */
export interface ForcedDecide extends ForcedView {
  run: RunbookRun;
  group: ResolvedGroup;
  decision: Decisions;
}

/** What the steps past the point of no return are given, and what the steps before them found. */
export interface ForcedRun extends ForcedDecide {
  leg: FailoverLeg;
  /** Escalating after a planned attempt is a decision of its own (see `ESCALATION_IS_A_NEW_DECISION_PATCH`). */
  escalationIsDecided: boolean;
  /** The forced request's outcome, and how the message after it names it (set once it was sent). */
  sent?: SendOutcome;
  sentBy?: string;
}

export const assessStep = declareStep<
  ForcedView,
  { run: RunbookRun; group: ResolvedGroup; params: ForcedFailoverParams },
  Assessment
>({
  name: 'assess',
  title: () => "Read the group at the secondary's location only and estimate the data at risk",
  body: ({ run, group, params }, step) => assess(run, group, params, step),
});

export const awaitApprovalStep = declareStep<ForcedView, ForcedDecide>({
  name: 'await-approval',
  title: ({ assessment }) => `Wait for approval to fail over to ${assessment.target} with possible data loss`,
  plan: ({ params, assessment }) =>
    params.approval
      ? `pre-approved by ${params.approval.by} (${params.approval.reason})`
      : `wait at most ${formatDuration(params.approvalTimeout)} for approve/reject; ${describeDataLossEstimate(assessment.estimate)}`,
  body: ({ run, params, assessment, decision }, step) => awaitApproval(run, params, assessment, step, decision),
});

export const tryPlannedStep = declareStep<ForcedView, ForcedRun, boolean>({
  name: 'try-planned',
  title: ({ assessment }) => `Try a planned (lossless) failover to ${assessment.target} first`,
  plan: ({ params, assessment, azureTriesPlanned }) =>
    params.tryPlannedFirst && !azureTriesPlanned
      ? `POST failover at ${assessment.target}; escalate if it cannot complete within ${formatDuration(params.tryPlannedFirst.timeout)}`
      : undefined,
  body: ({ run, group, params, assessment, leg }, step) =>
    tryPlanned(run, group, assessment.target, params.tryPlannedFirst!.timeout, step, leg),
});

export const decideEscalationStep = declareStep<ForcedView, ForcedRun, 'force' | 'aborted' | 'already-primary'>({
  name: 'decide-escalation',
  title: ({ assessment }) =>
    `Decide again before forcing ${assessment.target}: re-read the group, heed an abort or reject, refresh an old approval`,
  body: ({ run, group, params, assessment, decision }, step) =>
    decideEscalation(run, group, params, assessment, step, decision),
});

export const forceFailoverStep = declareStep<ForcedView, ForcedRun, SendOutcome>({
  name: 'force-failover',
  title: ({ assessment }) => `Send forceFailoverAllowDataLoss to ${assessment.target} (the point of no return)`,
  plan: ({ assessment, azureTriesPlanned }) =>
    azureTriesPlanned ? undefined : `POST forceFailoverAllowDataLoss at ${assessment.target} (once)`,
  body: async ({ run, group, assessment }, step) => {
    const outcome = await sendFailoverOnce(run, step, group, assessment.target, 'forced');
    step.evidence({ outcome: outcome.outcome });
    return outcome;
  },
});

/**
 * Azure's own planned-then-forced failover of a server group: one POST, after which Azure fails over without data loss
 * when the primary answers and forces otherwise. It stands for fogpilot's planned attempt, escalation and forced POST.
 */
export const azureTryPlannedStep = declareStep<ForcedView, ForcedRun, SendOutcome>({
  name: 'azure-try-planned',
  title: ({ assessment }) =>
    `Send tryPlannedBeforeForcedFailover to ${assessment.target} (the point of no return: Azure forces if planned cannot complete)`,
  plan: ({ assessment, azureTriesPlanned }) =>
    azureTriesPlanned
      ? `POST tryPlannedBeforeForcedFailover at ${assessment.target} (once): Azure fails over without data loss when ` +
        'the primary answers, and forces otherwise'
      : undefined,
  body: async ({ run, group, assessment }, step) => {
    const outcome = await sendFailoverOnce(run, step, group, assessment.target, 'try-planned');
    step.evidence({ outcome: outcome.outcome, action: 'tryPlannedBeforeForcedFailover' });
    return outcome;
  },
});

export const awaitNewPrimaryStep = declareStep<ForcedView, ForcedRun>({
  name: 'await-new-primary',
  title: ({ assessment }) => `Wait until ${assessment.target} reports Primary`,
  plan: ({ assessment }) =>
    `poll ${assessment.target} only until it reports Primary (${assessment.from} may not answer)`,
  body: ({ run, group, params, assessment, sent, sentBy }, step) =>
    awaitNewPrimary(run, group, assessment.target, params.roleSwitchTimeout, step, sent?.trackingId, sentBy ?? 'sent'),
});

export const awaitTargetWritableStep = declareStep<ForcedView, ForcedRun>({
  name: 'await-writable',
  title: ({ assessment }) => `Wait until every database on ${assessment.targetInstance.name} is READ_WRITE`,
  plan: ({ assessment }) => `poll until every database on ${assessment.targetInstance.name} is READ_WRITE`,
  body: ({ run, params, assessment }, step) =>
    awaitDatabasesWritable(run, step, {
      instance: assessment.targetEndpoint,
      instanceName: assessment.targetInstance.name,
      expected: assessment.databases,
      timeoutMs: params.writableTimeout,
    }),
});

/** The steps of a forced failover, in the order they run; the dry-run plan lists those that say what they would do. */
export const forcedFailoverSteps: readonly PlannedStep<ForcedView>[] = [
  assessStep,
  awaitApprovalStep,
  tryPlannedStep,
  decideEscalationStep,
  forceFailoverStep,
  azureTryPlannedStep,
  awaitNewPrimaryStep,
  awaitTargetWritableStep,
];
