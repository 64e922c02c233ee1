/**
 * Who may approve a forced failover, on Temporal's time-skipping test server: decisions arrive as `approve` / `reject`
 * updates carrying an identity, or as the old signals whose `by` is only claimed, and the worker's access rules judge
 * each one before it counts (the two-person rule; with an `access` section, the approver's grant).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AccessSchema } from '../../src/config/access';
import type { ApprovalRules } from '../../src/activities';
import {
  approveSignal,
  approveUpdate,
  rejectUpdate,
  statusQuery,
  type RunbookStatus,
} from '../../src/workflows/definitions';
import { renderReport } from '../../src/report';
import { createTestWorker } from '../support/temporal';
import {
  boundedIt,
  outcomeOf,
  saveHistory,
  timeSkippingFrame,
  waitFor,
  type ScriptedScenario,
} from '../support/runbook-harness';

const it = boundedIt(90_000);
const frame = timeSkippingFrame();

const REQUESTER = 'os-user:alice';
const SECOND = 'certificate:CN=bob,O=Contoso';

/** Reads status until `ready` holds (the approval wait, a refusal recorded…). */
async function statusWhen(handle: WorkflowHandle, ready: (status: RunbookStatus) => boolean, what: string) {
  let status: RunbookStatus | undefined;
  await waitFor(async () => {
    status = await handle.query(statusQuery).catch(() => undefined);
    return status !== undefined && ready(status);
  }, what);
  return status!;
}

const waiting = (status: RunbookStatus) => status.awaiting?.kind === 'approval';

/** A worker for `s` whose activities judge by `rules` (absent: no access section, as the scripted worker has). */
function workerFor(s: ScriptedScenario, rules?: ApprovalRules) {
  return createTestWorker({
    env: frame.env,
    taskQueue: s.taskQueue,
    deps: { ...s.deps, ...(rules ? { approvalRules: rules } : {}) },
    called: s.called,
  });
}

/** Runs `send` and returns the ApplicationFailure it was refused with. */
async function refusal(send: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await send.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof WorkflowUpdateFailedError, `expected the update to fail, got ${String(error)}`);
  assert.ok(error.cause instanceof ApplicationFailure, 'the update fails with an ApplicationFailure');
  return error.cause;
}

const accessWith = (operators: unknown[]) => ({
  access: AccessSchema.parse({ operators }),
  groupForAccess: () => ({}),
});

describe('approvals', { concurrency: 1 }, () => {
  it("a requester's own approval update is refused and recorded while the run keeps waiting; a second identity's approval proceeds and the report names both", async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s);
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { requestedBy: REQUESTER });
      await statusWhen(handle, waiting, 'the approval wait');

      const refused = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ identity: REQUESTER, reason: 'my own incident' }] }),
      );
      assert.equal(refused.type, 'ApprovalRefused');
      assert.match(refused.message, /os-user:alice requested this run and may not also approve it \(two-person rule\)/);
      assert.match(refused.message, /Ask a second person/);

      const after = await handle.query(statusQuery);
      assert.equal(after.requestedBy, REQUESTER);
      assert.equal(after.refusals?.length, 1);
      assert.deepEqual(
        after.refusals && {
          by: after.refusals[0]!.by,
          decision: after.refusals[0]!.decision,
          via: after.refusals[0]!.via,
        },
        { by: REQUESTER, decision: 'approve', via: 'update' },
      );
      assert.equal(after.awaiting?.kind, 'approval', 'the run still waits for an approval');
      assert.equal(s.azure.acceptedFailovers.length, 0, 'nothing is sent on a refused approval');

      const receipt = await handle.executeUpdate(approveUpdate, {
        args: [{ identity: SECOND, reason: 'INC-7: eastus confirmed down' }],
      });
      assert.equal(receipt.by, SECOND);
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded');
      assert.deepEqual(
        report?.approval && {
          by: report.approval.by,
          via: report.approval.via,
          requestedBy: report.approval.requestedBy,
        },
        { by: SECOND, via: 'update', requestedBy: REQUESTER },
      );
      assert.equal(report?.refusals?.length, 1);
      const text = renderReport(report, 'md');
      assert.match(text, /\*\*Requested by:\*\* os-user:alice — the OS user running the CLI/);
      assert.match(
        text,
        /\*\*Approved by:\*\* certificate:CN=bob,O=Contoso — the subject of the CLI's Temporal client/,
      );
      await saveHistory(handle, 'forced-failover-approval-refused-then-accepted');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('with an access section, an identity not granted approve is refused and the run waits for one that is', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s, accessWith([{ identity: SECOND, approve: true, groups: ['*'] }]));
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { requestedBy: REQUESTER });
      await statusWhen(handle, waiting, 'the approval wait');
      const refused = await refusal(
        handle.executeUpdate(rejectUpdate, { args: [{ identity: 'os-user:mallory', reason: 'let me' }] }),
      );
      assert.equal(refused.type, 'ApprovalRefused');
      assert.match(refused.message, /os-user:mallory may not approve runs/);
      assert.match(refused.message, /Grant approve to access\.operators \(identity os-user:mallory\)/);
      await handle.executeUpdate(approveUpdate, { args: [{ identity: SECOND, reason: 'INC-8' }] });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded', 'the refused reject changed nothing');
      assert.equal(report?.approval?.by, SECOND);
      assert.equal(report?.refusals?.[0]?.decision, 'reject');
    });
  });

  it('with an access section, an approve signal (a claimed name) is refused and recorded in the status', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s, accessWith([{ identity: SECOND, approve: true, groups: ['*'] }]));
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { requestedBy: REQUESTER });
      await statusWhen(handle, waiting, 'the approval wait');
      // The sender writes the name of someone who may approve: a signal carries no proof of it.
      await handle.signal(approveSignal, { by: SECOND, reason: 'trust me' });
      const status = await statusWhen(handle, (seen) => (seen.refusals?.length ?? 0) > 0, 'the refusal');
      assert.equal(status.refusals?.[0]?.by, `claimed:${SECOND}`);
      assert.equal(status.refusals?.[0]?.via, 'signal');
      assert.match(status.refusals?.[0]?.refused ?? '', /written into a signal, which nobody authenticated/);
      assert.equal(status.awaiting?.kind, 'approval', 'the run still waits');
      assert.equal(s.azure.acceptedFailovers.length, 0);
    });
  });

  it('without an access section, an approve signal naming the requester is refused (two-person rule)', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s);
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { requestedBy: REQUESTER });
      await statusWhen(handle, waiting, 'the approval wait');
      await handle.signal(approveSignal, { by: REQUESTER, reason: 'self-approved' });
      const status = await statusWhen(handle, (seen) => (seen.refusals?.length ?? 0) > 0, 'the refusal');
      assert.match(status.refusals?.[0]?.refused ?? '', /two-person rule/);
      assert.equal(status.awaiting?.kind, 'approval');
      assert.equal(s.azure.acceptedFailovers.length, 0);
    });
  });

  it('an update without an identity is refused by its validator and records nothing', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s);
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { requestedBy: REQUESTER });
      await statusWhen(handle, waiting, 'the approval wait');
      const error = await handle.executeUpdate(approveUpdate, { args: [{ identity: ' ', reason: 'x' }] }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof WorkflowUpdateFailedError);
      assert.match(String(error.cause?.message), /identity is required/);
      const status = await handle.query(statusQuery);
      assert.equal(status.refusals, undefined);
      assert.equal(status.awaiting?.kind, 'approval');
    });
  });

  it('an approval update sent to the starter of a run under the group lock is judged by the lock holder', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s);
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', { requestedBy: REQUESTER }, `incident-${s.name}`);
      const holder = frame.env.client.workflow.getHandle(s.lockId);
      await statusWhen(holder, waiting, "the lock holder's approval wait");
      const refused = await refusal(
        handle.executeUpdate(approveUpdate, { args: [{ identity: REQUESTER, reason: 'mine' }] }),
      );
      assert.equal(refused.type, 'ApprovalRefused');
      assert.match(refused.message, /two-person rule/);
      // The id people started shows the holder's refusal.
      await statusWhen(handle, (seen) => (seen.refusals?.length ?? 0) > 0, "the starter's view of the refusal");
      await handle.executeUpdate(approveUpdate, { args: [{ identity: SECOND, reason: 'go' }] });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded');
      assert.equal(report?.workflowId, s.lockId);
      assert.equal(report?.approval?.by, SECOND);
      await saveHistory(handle, 'forced-failover-approval-forwarded-starter');
      await saveHistory(holder, 'forced-failover-approval-forwarded-holder');
    });
  });

  it('a pre-approved start records the requester as the approver, and the report says so', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await workerFor(s);
    const { report } = await worker.runUntil(
      (async () =>
        outcomeOf(
          await s.start('forcedFailover', {
            requestedBy: 'webhook:incident-bot',
            approval: { by: 'pagerduty', reason: 'INC-9' },
          }),
        ))(),
    );
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      report?.approval && {
        by: report.approval.by,
        via: report.approval.via,
        claimedBy: report.approval.claimedBy,
      },
      { by: 'webhook:incident-bot', via: 'input', claimedBy: 'pagerduty' },
    );
    assert.match(renderReport(report, 'md'), /pre-approved by webhook:incident-bot \(preApprove\)/);
  });
});
