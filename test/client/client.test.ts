/**
 * `fogpilot/client` on the time-skipping server against a worker over a scripted Azure: validation before Temporal,
 * idempotent starts, typed signals, status and results.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApprovalRefusedError,
  FogpilotClient,
  InvalidRunbookInputError,
  validateRunbookInput,
  workflowIdFor,
} from '../../src/client';
import { timeSkippingFrame, waitFor } from '../support/runbook-harness';

const frame = timeSkippingFrame();

describe('the typed client', { concurrency: 1, timeout: 120_000 }, () => {
  it('refuses a bad input before anything reaches Temporal, naming each field', () => {
    assert.throws(
      () => validateRunbookInput('scaleGroup', { group: 'fog-sales', vCores: 6, storageSizeInGB: 100 }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidRunbookInputError);
        assert.deepEqual(
          error.problems.map((problem) => problem.field),
          ['vCores', 'storageSizeInGB'],
        );
        assert.match(error.message, /Nothing was changed in Azure/);
        return true;
      },
    );
    assert.throws(() => workflowIdFor('drDrill', { group: 'x' }, { idempotencyKey: 'has spaces' }), /idempotencyKey/);
  });

  it('a repeated start with the same idempotency key returns the same run', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const fogpilot = new FogpilotClient(frame.env.client, s.taskQueue);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const first = await fogpilot.start('forcedFailover', { group: s.name }, { idempotencyKey: 'INC-77' });
      frame.started.add(first.workflowId);
      const second = await fogpilot.start('forcedFailover', { group: s.name }, { idempotencyKey: 'INC-77' });
      assert.equal(first.started, true);
      assert.equal(second.started, false);
      assert.equal(second.workflowId, first.workflowId);
      assert.equal(second.runId, first.runId);
      assert.equal(first.workflowId, `fogpilot/forcedFailover/${s.name}/INC-77`);

      // The runbook delegated to the group's lock holder; an approval sent through the client reaches it.
      await waitFor(async () => {
        const status = await fogpilot.status(s.lockId).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the approval wait');
      await fogpilot.approve(first.workflowId, { reason: 'INC-77 approved' }, 'webhook:tooling');
      const outcome = await fogpilot.result(first.workflowId);
      assert.equal(outcome.report?.outcome, 'succeeded');
      assert.equal(outcome.report?.approval?.by, 'webhook:tooling');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1, 'two starts, one failover');
  });

  it("surfaces the run's refusal of the requester's own approval as ApprovalRefusedError, and the run still waits", async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const fogpilot = new FogpilotClient(frame.env.client, s.taskQueue);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const run = await fogpilot.start('forcedFailover', { group: s.name, requestedBy: 'webhook:tooling' });
      frame.started.add(run.workflowId);
      await waitFor(async () => {
        const status = await fogpilot.status(run.workflowId).catch(() => undefined);
        return status?.awaiting?.kind === 'approval';
      }, 'the approval wait');
      const refused = await fogpilot.approve(run.workflowId, { reason: 'mine' }, 'webhook:tooling').then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof ApprovalRefusedError, `expected ApprovalRefusedError, got ${String(refused)}`);
      assert.equal(refused.decision, 'approve');
      assert.equal(refused.refusal?.by, 'webhook:tooling');
      assert.match(refused.message, /two-person rule/);
      const status = await fogpilot.status(run.workflowId);
      assert.equal(status.awaiting?.kind, 'approval');
      assert.equal(status.refusals?.length, 1);
    });
    assert.equal(s.azure.acceptedFailovers.length, 0);
  });

  it("returns a failed runbook's report with its failure type", async () => {
    const s = frame.scenario((azure) => {
      azure.replicationState = 'SEEDING';
    });
    const fogpilot = new FogpilotClient(frame.env.client, s.taskQueue);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const run = await fogpilot.start('plannedFailover', { group: s.name });
      frame.started.add(run.workflowId);
      const outcome = await fogpilot.result(run.workflowId);
      assert.equal(outcome.failure?.type, 'PreflightFailed');
      assert.equal(outcome.report?.outcome, 'failed');
      assert.ok(outcome.report?.gates?.some((gate) => gate.status === 'fail'));
    });
  });
});
