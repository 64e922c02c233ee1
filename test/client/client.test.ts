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

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const armId = (resourceGroup: string, name: string, location = 'eastus') =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${resourceGroup}/providers/Microsoft.Sql/locations/${location}/instanceFailoverGroups/${name}`;
const coordinates = (resourceGroup: string, name: string) => ({
  subscriptionId: SUBSCRIPTION,
  resourceGroup,
  name,
  primaryLocation: 'eastus',
  secondaryLocation: 'westus',
});

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
  it('two groups in one resource group started under one idempotency key both start, each on its own workflow id', async () => {
    // Nothing needs to run: the subject is which starts Temporal accepts, so no worker polls the queue.
    const fogpilot = new FogpilotClient(frame.env.client, `ids-${Date.now()}`);
    const refs = [
      armId('rg-fogpilot', 'fog-orders'),
      armId('rg-fogpilot', 'fog-billing'),
      coordinates('rg-east', 'fog-sales'),
      coordinates('rg-west', 'fog-sales'),
    ];
    const runs = [];
    for (const group of refs) {
      const run = await fogpilot.start('forcedFailover', { group }, { idempotencyKey: 'INC-500' });
      frame.started.add(run.workflowId);
      runs.push(run);
    }
    assert.deepEqual(
      runs.map((run) => run.started),
      [true, true, true, true],
    );
    assert.equal(new Set(runs.map((run) => run.workflowId)).size, 4, runs.map((run) => run.workflowId).join('\n'));
    assert.equal(runs[0]!.workflowId, `fogpilot/forcedFailover/${SUBSCRIPTION}/rg-fogpilot/fog-orders/INC-500`);
    assert.equal(runs[2]!.workflowId, `fogpilot/forcedFailover/${SUBSCRIPTION}/rg-east/fog-sales/INC-500`);

    // The same group named from its other region, or in other letter case, is the same group: the same run.
    const again = await fogpilot.start(
      'forcedFailover',
      { group: armId('RG-FogPilot', 'fog-orders', 'westus') },
      { idempotencyKey: 'INC-500' },
    );
    assert.equal(again.started, false);
    assert.equal(again.runId, runs[0]!.runId);
  });

  it('groups whose names share their first 100 characters get distinct ids under one key, each well under the limit', async () => {
    const fogpilot = new FogpilotClient(frame.env.client, `ids-${Date.now()}`);
    const prefix = 'fog-'.padEnd(100, 'x');
    const names = [`${prefix}${'a'.repeat(60)}`, `${prefix}${'b'.repeat(60)}`];
    const runs = [];
    for (const name of names) {
      const run = await fogpilot.start(
        'plannedFailover',
        { group: armId('rg-fogpilot', name) },
        { idempotencyKey: 'INC-501' },
      );
      frame.started.add(run.workflowId);
      runs.push(run);
    }
    assert.deepEqual(
      runs.map((run) => run.started),
      [true, true],
    );
    assert.notEqual(runs[0]!.workflowId, runs[1]!.workflowId);
    for (const run of runs) {
      assert.ok(
        Buffer.byteLength(run.workflowId) < 400,
        `${run.workflowId} is ${Buffer.byteLength(run.workflowId)} bytes`,
      );
      assert.match(run.workflowId, /^fogpilot\/plannedFailover\/fog-x+~[0-9a-f]{32}\/INC-501$/);
    }
  });

  it('a dry run then a real run under one key both start, and repeating either returns its own run', async () => {
    const fogpilot = new FogpilotClient(frame.env.client, `ids-${Date.now()}`);
    const key = { idempotencyKey: 'INC-502' };
    const dry = await fogpilot.start('plannedFailover', { group: 'fog-sales', dryRun: true }, key);
    frame.started.add(dry.workflowId);
    const real = await fogpilot.start('plannedFailover', { group: 'fog-sales' }, key);
    frame.started.add(real.workflowId);
    assert.equal(dry.started, true);
    assert.equal(real.started, true, `the real run was answered with ${real.workflowId}`);
    assert.equal(dry.workflowId, 'fogpilot/plannedFailover/fog-sales/dry-run/INC-502');
    assert.equal(real.workflowId, 'fogpilot/plannedFailover/fog-sales/INC-502');

    const dryAgain = await fogpilot.start('plannedFailover', { group: 'fog-sales', dryRun: true }, key);
    const realAgain = await fogpilot.start('plannedFailover', { group: 'fog-sales', dryRun: false }, key);
    assert.deepEqual([dryAgain.started, dryAgain.workflowId, dryAgain.runId], [false, dry.workflowId, dry.runId]);
    assert.deepEqual([realAgain.started, realAgain.workflowId, realAgain.runId], [false, real.workflowId, real.runId]);
  });

  it('two fleets over different lists of groups under one key both start; the same list in another order is the same run', async () => {
    const fogpilot = new FogpilotClient(frame.env.client, `ids-${Date.now()}`);
    const key = { idempotencyKey: 'INC-503' };
    const first = await fogpilot.start('fleetFailover', { groups: ['fog-sales', 'fog-orders'] }, key);
    frame.started.add(first.workflowId);
    const other = await fogpilot.start('fleetFailover', { groups: ['fog-billing'] }, key);
    frame.started.add(other.workflowId);
    const reordered = await fogpilot.start('fleetFailover', { groups: ['fog-orders', 'fog-sales'] }, key);
    assert.deepEqual([first.started, other.started, reordered.started], [true, true, false]);
    assert.notEqual(first.workflowId, other.workflowId);
    assert.equal(reordered.runId, first.runId);
    assert.match(first.workflowId, /^fogpilot\/fleetFailover\/groups-2~[0-9a-f]{32}\/INC-503$/);
  });

  it('names every target apart in workflow ids: an inventory group called "all" is not every group, a region is one region, a forced fleet is not the planned one', () => {
    const key = { idempotencyKey: 'INC-504' };
    assert.notEqual(
      workflowIdFor('readinessCheck', { all: true }, key),
      workflowIdFor('readinessCheck', { group: 'all' }, key),
    );
    assert.equal(
      workflowIdFor('fleetFailover', { region: 'East US' }, key),
      workflowIdFor('fleetFailover', { region: 'eastus' }, key),
    );
    assert.equal(
      workflowIdFor('fleetFailover', { region: 'eastus' }, key),
      'fogpilot/fleetFailover/region-eastus/INC-504',
    );
    // Escalating a fleet to forced under the incident's key is a new decision, not the planned run again.
    assert.equal(
      workflowIdFor('fleetFailover', { region: 'eastus', mode: 'forced' }, key),
      'fogpilot/fleetFailover/forced-region-eastus/INC-504',
    );
    assert.equal(
      workflowIdFor('fleetFailover', { region: 'eastus', mode: 'planned' }, key),
      workflowIdFor('fleetFailover', { region: 'eastus' }, key),
    );
    assert.notEqual(
      workflowIdFor('fleetFailover', { groups: ['fog-sales'], mode: 'forced' }, key),
      workflowIdFor('fleetFailover', { groups: ['fog-sales'] }, key),
    );
    // Inventory names keep the id operators already know.
    assert.equal(
      workflowIdFor('forcedFailover', { group: 'fog-sales' }, key),
      'fogpilot/forcedFailover/fog-sales/INC-504',
    );
  });
});
