/**
 * The guard of the runbooks not made for every group kind: a group of a kind the runbook does not support ends the
 * run at once with `InvalidInput` naming the field (see src/domain/kind-support.ts). It adds no command to a run on a
 * kind the runbook supports.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { unsupportedKindReason } from '../../domain/kind-support';
import type { ResolvedGroup } from '../../domain/group-ref';
import { FailureTypes } from '../definitions';

/** Fails `InvalidInput` when `runbook` does not run on `group`'s kind; `field` is where the input named the group. */
export function refuseUnsupportedKind(runbook: string, group: ResolvedGroup, field: string): void {
  const reason = unsupportedKindReason(runbook, group);
  if (reason === undefined) return;
  throw ApplicationFailure.create({
    type: FailureTypes.InvalidInput,
    nonRetryable: true,
    message: `${field}: ${reason}. Nothing was changed.`,
    details: [{ field, group: group.displayName, kind: group.kind ?? 'managedInstance' }],
  });
}
