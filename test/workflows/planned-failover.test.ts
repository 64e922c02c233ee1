/**
 * plannedFailover and failback on Temporal's time-skipping test server, with the real activities over a scripted Azure.
 * Simulated minutes and hours pass in milliseconds; tests in this file run one at a time (time skipping is global).
 */
import { describe, it as nodeIt } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { abortSignal, statusQuery, type PlannedFailoverInput, type StepRecord } from '../../src/workflows/definitions';
import { failback } from '../../src/workflows';
import type { ScriptedAzure } from '../support/scripted-azure';
import { outcomeOf, reportOf, saveHistory, stepOf, timeSkippingFrame, waitFor } from '../support/runbook-harness';
import { findTemporalCli } from '../support/temporal';

/** Every test gets a bound, so a hang fails one test instead of stalling the file. */
function it(name: string, fn: () => Promise<void>, options: { skip?: string | false; timeout?: number } = {}): void {
  nodeIt(name, { timeout: 90_000, ...options }, fn);
}

const frame = timeSkippingFrame();

/** The harness's scripted scenario, its `start` and `run` bound to plannedFailover. */
function scenario(configure?: (azure: ScriptedAzure) => void) {
  const s = frame.scenario(configure);
  return {
    ...s,
    start: (input: Partial<PlannedFailoverInput> = {}, workflowId?: string) =>
      s.start('plannedFailover', input, workflowId),
    run: (input: Partial<PlannedFailoverInput> = {}) => s.run('plannedFailover', input),
  };
}

function durationMs(record: StepRecord): number {
  return Date.parse(record.endedAt!) - Date.parse(record.startedAt!);
}

describe('plannedFailover', { concurrency: 1 }, () => {
  it('runs every step in order — scale, sync, failover, roles, writability, post-checks — and reports roles, RTO and no data loss', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.vCores = 4;
    });
    const { report, handle, status } = await s.run();
    assert.ok(report);
    assert.equal(report.outcome, 'succeeded');
    assert.deepEqual(
      report.steps.map((entry) => [entry.name, entry.state]),
      [
        ['resolve-group', 'succeeded'],
        ['preflight', 'succeeded'],
        ['scale-secondary', 'succeeded'],
        ['verify-sync', 'succeeded'],
        ['failover', 'succeeded'],
        ['await-roles', 'succeeded'],
        ['await-writable', 'succeeded'],
        ['post-checks', 'succeeded'],
      ],
    );
    const methods = s.azure.methods();
    const scaled = methods.indexOf('beginScaleManagedInstance');
    const firstSync = methods.indexOf('waitForCopySync');
    const failover = methods.indexOf('beginFailover');
    const rolesAfter = methods.indexOf('getFailoverGroup', failover + 1);
    assert.ok(scaled >= 0 && scaled < firstSync && firstSync < failover && failover < rolesAfter, methods.join(' → '));
    assert.ok(
      s.azure.acceptedFailovers[0]!.at >= s.azure.operations[0]!.endsAt,
      'the failover waits for the scale to finish',
    );

    assert.deepEqual(report.rolesBefore, { primary: 'eastus', secondary: 'westus' });
    assert.deepEqual(report.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.equal(s.azure.acceptedFailovers.length, 1);
    assert.ok(
      report.rtoSeconds !== undefined && report.rtoSeconds >= 40 && report.rtoSeconds < 120,
      `RTO ${report.rtoSeconds}s`,
    );
    assert.equal(report.legs[0]!.dataLoss.kind, 'none-proven');
    assert.deepEqual(report.legs[0]!.dataLoss.databases?.map((entry) => entry.database).sort(), ['billing', 'sales']);
    assert.equal(report.armCalls.writes, 2, 'one PATCH and one POST');
    assert.ok(report.armCalls.reads > 5);
    assert.ok(report.gates?.every((gate) => gate.status === 'pass'));
    const verify = stepOf(report, 'verify-sync');
    assert.deepEqual((verify.evidence?.databases as { database: string }[]).map((entry) => entry.database).sort(), [
      'billing',
      'sales',
    ]);

    assert.equal(status.phase, 'succeeded');
    assert.equal(status.report?.outcome, 'succeeded');
    await saveHistory(handle, 'planned-failover-happy-path');
  });

  it("scales a smaller secondary up first, to the primary's size", async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.vCores = 4;
      azure.instances.westus!.storageSizeInGB = 128;
    });
    const { report } = await s.run();
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.azure.scaleRequests.length, 1);
    assert.equal(s.azure.scaleRequests[0]!.instanceId, s.azure.instances.westus!.id);
    assert.deepEqual(s.azure.scaleRequests[0]!.target, { vCores: 8, storageSizeInGB: 256 });
    assert.equal(s.azure.instances.westus!.vCores, 8);
    assert.ok(s.azure.scaleRequests[0]!.at < s.azure.acceptedFailovers[0]!.at);
  });

  it('leaves a secondary of equal size untouched', async () => {
    const s = scenario();
    const { report } = await s.run();
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.azure.scaleRequests.length, 0);
    assert.ok(!s.called.includes('startInstanceScale'));
    assert.equal(stepOf(report, 'scale-secondary').state, 'skipped');
  });

  const gateCases: { situation: string; gate: string; configure: (azure: ScriptedAzure) => void | Promise<void> }[] = [
    {
      situation: 'the group is seeding',
      gate: 'replication-synchronizing',
      configure: (azure) => void (azure.replicationState = 'SEEDING'),
    },
    {
      situation: 'a failover is in progress',
      gate: 'replication-synchronizing',
      configure: (azure) => azure.startForeignFailover('westus'),
    },
    {
      situation: 'an instance is busy',
      gate: 'no-operations-in-flight',
      configure: (azure) => azure.startUnrelatedOperation('westus', 3_600_000),
    },
    {
      situation: 'replication lags too much',
      gate: 'replication-lag',
      configure: (azure) => void (azure.lagSeconds.sales = 120),
    },
  ];
  for (const { situation, gate, configure } of gateCases) {
    it(`stops with PreflightFailed and its evidence, changing nothing, when ${situation}`, async () => {
      const s = scenario();
      await configure(s.azure);
      const { failure, handle } = await s.run();
      assert.equal(failure?.type, 'PreflightFailed');
      const report = reportOf(failure);
      assert.equal(report.outcome, 'failed');
      const failed = report.gates?.find((entry) => entry.name === gate);
      assert.equal(failed?.status, 'fail', `gate ${gate}: ${JSON.stringify(report.gates)}`);
      assert.ok(failed?.action, 'a failed gate says what to do');
      assert.ok(Object.keys(failed?.evidence ?? {}).length > 0, 'a failed gate carries evidence');
      assert.match(failure.message, new RegExp(gate));
      s.assertNothingChanged();
      if (situation === 'the group is seeding') await saveHistory(handle, 'planned-failover-preflight-failed');
    });
  }

  it('ends in RoleSwitchTimeout after the bound when the roles never switch, and the status says where it stopped', async () => {
    const s = scenario((azure) => {
      azure.failoverNeverCompletes = true;
    });
    const { failure, status } = await s.run({ roleSwitchTimeout: '5 minutes' });
    assert.equal(failure?.type, 'RoleSwitchTimeout');
    assert.match(failure.message, /do not send another\. See where the group stands/);
    const report = reportOf(failure);
    const awaitRoles = stepOf(report, 'await-roles');
    assert.equal(awaitRoles.state, 'failed');
    assert.ok(durationMs(awaitRoles) >= 5 * 60_000, `waited ${durationMs(awaitRoles)}ms`);
    assert.ok((awaitRoles.evidence?.operationPolls as number) > 3, 'the failover operation was polled until the bound');
    assert.equal(s.azure.acceptedFailovers.length, 1);
    assert.equal(status.phase, 'failed');
    assert.equal(status.steps.at(-1)?.name, 'await-roles');
    assert.equal(status.steps.at(-1)?.state, 'failed');
    assert.equal(status.error?.type, 'RoleSwitchTimeout');
  });

  it("ends in FailoverFailed as soon as Azure reports the failover failed, with ARM's code, roles unchanged", async () => {
    const s = scenario((azure) => {
      azure.failFailoverWith = 'PlannedFailoverTimedOut';
    });
    const { failure } = await s.run();
    assert.equal(failure?.type, 'FailoverFailed');
    assert.match(failure.message, /PlannedFailoverTimedOut/);
    const report = reportOf(failure);
    const awaitRoles = stepOf(report, 'await-roles');
    assert.equal(awaitRoles.state, 'failed');
    assert.ok(durationMs(awaitRoles) < 60_000, 'noticed at the first read, not after the role-switch bound');
    assert.equal(s.azure.primaryLocation, 'eastus');
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('waits for a database that stays READ_ONLY for 4 simulated minutes, then succeeds', async () => {
    const s = scenario((azure) => {
      azure.readOnlyAfterSwitchMs = 4 * 60_000;
    });
    const started = Date.now();
    const { report } = await s.run();
    assert.equal(report?.outcome, 'succeeded');
    const writable = stepOf(report, 'await-writable');
    const writableFrom = s.azure.acceptedFailovers[0]!.at + s.azure.roleSwitchMs + 4 * 60_000;
    assert.ok(
      Date.parse(writable.endedAt!) >= writableFrom,
      'await-writable ended only once the database was writable',
    );
    // The data-plane watch stops soon after Azure reports the failover done: await-writable's timers carry the wait.
    assert.ok(durationMs(writable) >= 3 * 60_000, `waited ${durationMs(writable)}ms of simulated time`);
    assert.ok((writable.evidence?.polls as number) > 2);
    assert.ok(report.rtoSeconds! >= 4 * 60, `RTO ${report.rtoSeconds}s includes the read-only time`);
    assert.ok(Date.now() - started < 30_000, 'simulated minutes pass in real seconds');
  });

  it('sends exactly one failover when the activity fails after sending and the runbook retries', async () => {
    const s = scenario((azure) => {
      azure.loseNextFailoverAnswer = true;
    });
    const { report } = await s.run();
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.azure.acceptedFailovers.length, 1, 'one POST reached Azure');
    const attempts = stepOf(report, 'failover').evidence?.attempts as { error?: string; result?: string }[];
    assert.match(attempts[0]!.error ?? '', /socket hang up/);
    assert.equal(attempts.at(-1)!.result, 'an earlier request took effect');
  });

  it('sends the failover again after a throttled attempt, and only one is accepted', async () => {
    const s = scenario((azure) => {
      azure.throttleNextFailover = true;
    });
    const { report } = await s.run();
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.called.filter((name) => name === 'sendFailover').length, 2, 'the send activity ran twice');
    assert.equal(s.azure.failoverRequests, 2);
    assert.equal(s.azure.acceptedFailovers.length, 1, 'one failover was accepted');
    assert.equal(report.armCalls.throttled, 1);
  });

  it('never starts a second failover even when Azure hides the first one and the request is repeated', async () => {
    const s = scenario((azure) => {
      azure.loseNextFailoverAnswer = true;
      azure.hideFailoverInProgress = true;
      azure.roleSwitchMs = 5 * 60_000;
    });
    const { report } = await s.run();
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.azure.acceptedFailovers.length, 1, 'one failover accepted');
    assert.equal(s.azure.failoverRequests, 2, 'the repeat reached Azure and was answered busy');
    const attempts = stepOf(report, 'failover').evidence?.attempts as { result?: string }[];
    assert.equal(attempts.at(-1)!.result, 'refused-busy');
    // The busy answer followed an attempt of this run that may have reached Azure: the failover under way is its own.
    assert.equal(report.legs[0]?.failoverSent, true);
    assert.equal(report.legs[0]?.dataLoss.kind, 'none-proven');
  });

  it('runs the compensation when aborted before the failover: the scaled-up secondary is scaled back', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.vCores = 4;
    });
    const worker = await s.worker();
    const handle = await s.start();
    const { report } = await worker.runUntil(async () => {
      // Time skips only while a client awaits the result, so the run waits in its timer between progress reads; the
      // abort lands there (not on an activity completing, which the test server mishandles).
      await waitFor(async () => {
        const scale = (await handle.query(statusQuery)).steps.find((entry) => entry.name === 'scale-secondary');
        return scale?.state === 'running' && Number(scale.evidence?.polls ?? 0) >= 1;
      }, 'the scale to be in progress');
      await handle.signal(abortSignal, { by: 'dba@contoso', reason: 'change freeze' });
      return outcomeOf(handle);
    });
    assert.equal(report?.outcome, 'aborted');
    assert.equal(report.abort?.effect, 'compensated-before-failover');
    assert.equal(report.abort?.by, 'dba@contoso');
    assert.equal(s.azure.acceptedFailovers.length, 0);
    assert.deepEqual(
      s.azure.scaleRequests.map((request) => request.target.vCores),
      [8, 4],
      'scaled up, then back',
    );
    assert.equal(s.azure.instances.westus!.vCores, 4);
    assert.equal(stepOf(report, 'compensate/scale-secondary').state, 'succeeded');
    assert.equal(stepOf(report, 'scale-secondary').state, 'skipped');
    assert.ok(!report.steps.some((entry) => entry.name === 'failover'));
    await saveHistory(handle, 'planned-failover-aborted-before-failover');
  });

  it('defers an abort that arrives after the failover was sent until the group is stable, and says so', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.start({ failback: { after: '1 hour' } });
    s.azure.onCall = async (method) => {
      if (method === 'beginFailover') await handle.signal(abortSignal, { by: 'oncall', reason: 'second thoughts' });
    };
    const { report } = await worker.runUntil(outcomeOf(handle));
    assert.equal(report?.outcome, 'aborted-after-failover');
    assert.equal(report.abort?.effect, 'deferred-until-stable');
    assert.equal(s.azure.acceptedFailovers.length, 1, 'the failback was not run');
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.equal(stepOf(report, 'await-roles').state, 'succeeded');
    assert.equal(stepOf(report, 'await-writable').state, 'succeeded');
    assert.ok(report.legs[0]!.rtoSeconds! > 0);
  });

  it('rejects a second start for the same group while the first runs, under the lock id or any other', async () => {
    let release!: () => void;
    const s = scenario((azure) => {
      azure.syncGate = new Promise<void>((resolve) => (release = resolve));
    });
    const worker = await s.worker();
    const first = await s.start();
    await worker.runUntil(async () => {
      await waitFor(
        async () => (await first.query(statusQuery)).phase === 'verify-sync',
        'the first run to reach verify-sync',
      );
      const metadata = await first.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.match(metadata.currentDetails ?? '', /verify-sync/, 'the UI shows the current step');

      await assert.rejects(s.start(), WorkflowExecutionAlreadyStartedError);
      const otherId = await s.start({}, `ops-console-${s.name}`);
      const second = await outcomeOf(otherId);
      assert.equal(second.failure?.type, 'GroupBusy');
      assert.match(second.failure.message, new RegExp(s.lockId));
      release();
      const firstOutcome = await outcomeOf(first);
      assert.equal(firstOutcome.report?.outcome, 'succeeded');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('takes the group lock itself when started under another id, as the Temporal CLI does', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.start({}, `cli-${s.name}`);
    const { report, status } = await worker.runUntil(outcomeOf(handle));
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(report.workflowId, s.lockId, "the report is the lock holder's");
    assert.equal(status.delegatedTo, s.lockId);
    // The lock holder acts on the group as its starter resolved it, without resolving it again.
    assert.equal(s.called.filter((name) => name === 'resolveGroup').length, 1, s.called.join(' → '));
    assert.equal(stepOf(report, 'resolve-group').evidence?.resolvedBy, `cli-${s.name}`);
    assert.equal(stepOf(report, 'resolve-group').evidence?.lockWorkflowId, s.lockId);
    // The holder paces the status it sends its starter: the quick steps between its waits send no signal each.
    const holderEvents = (await frame.env.client.workflow.getHandle(s.lockId).fetchHistory()).events ?? [];
    const statusSignals = holderEvents.filter((event) => event.signalExternalWorkflowExecutionInitiatedEventAttributes);
    // Ten before pacing, one per change of step; paced, a send at once and then at most one a second of workflow time.
    assert.ok(statusSignals.length <= 5, `${statusSignals.length} status signals for ${report.steps.length} steps`);
    // A send still waiting its turn when the run ends is dropped, not waited for.
    const lastActivity =
      holderEvents.length -
      1 -
      [...holderEvents].reverse().findIndex((event) => event.activityTaskCompletedEventAttributes);
    assert.ok(
      !holderEvents.slice(lastActivity).some((event) => event.timerFiredEventAttributes),
      'the holder ended without waiting out a pace timer',
    );
    await saveHistory(handle, 'planned-failover-delegated-starter-paced');
    await saveHistory(frame.env.client.workflow.getHandle(s.lockId), 'planned-failover-delegated-holder-paced');
  });

  it('fails back hours later in seconds of test time', async () => {
    const s = scenario();
    const started = Date.now();
    const { report, handle } = await s.run({ failback: { after: '6 hours' } });
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.azure.acceptedFailovers.map((post) => post.location),
      ['westus', 'eastus'],
    );
    assert.equal(s.azure.primaryLocation, 'eastus');
    assert.deepEqual(
      report.legs.map((leg) => [leg.name, leg.from, leg.to, leg.dataLoss.kind]),
      [
        ['failover', 'eastus', 'westus', 'none-proven'],
        ['failback', 'westus', 'eastus', 'none-proven'],
      ],
    );
    assert.ok(durationMs(stepOf(report, 'wait-before-failback')) >= 6 * 3_600_000);
    assert.equal(stepOf(report, 'failback/await-roles').state, 'succeeded');
    assert.deepEqual(report.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    assert.ok(Date.now() - started < 30_000);
    await saveHistory(handle, 'planned-failover-with-failback');
  });

  it('returns the plan on a dry run and calls no mutating activity', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.vCores = 4;
    });
    const { report, handle } = await s.run({ dryRun: true, failback: { after: '2 hours' } });
    assert.equal(report?.outcome, 'dry-run');
    assert.deepEqual(
      report.plan?.map((item) => item.step),
      ['scale-secondary', 'verify-sync', 'failover', 'await-roles', 'await-writable', 'post-checks', 'failback'],
    );
    assert.match(report.plan[0]!.action, /from 4 to 8 vCores/);
    assert.ok(report.gates!.length >= 8);
    s.assertNothingChanged();
    assert.ok(!s.called.includes('waitForCopySync'));
    await saveHistory(handle, 'planned-failover-dry-run');
  });

  it('reports blocked gates in a dry run instead of failing', async () => {
    const s = scenario((azure) => {
      azure.replicationState = 'SEEDING';
    });
    const { report } = await s.run({ dryRun: true });
    assert.equal(report?.outcome, 'dry-run');
    assert.match(report.plan![0]!.action, /blocked by replication-synchronizing/);
    s.assertNothingChanged();
  });

  const invalidInputs: { input: unknown; field: string }[] = [
    { input: {}, field: 'group' },
    { input: { group: 42 }, field: 'group' },
    { input: { group: '' }, field: 'group' },
    { input: { group: 'fog sales!' }, field: 'group' },
    { input: { group: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Sql/servers/s' }, field: 'group' },
    {
      input: {
        group: {
          subscriptionId: 'not-a-guid',
          resourceGroup: 'rg',
          name: 'fog',
          primaryLocation: 'eastus',
          secondaryLocation: 'westus',
        },
      },
      field: 'group.subscriptionId',
    },
    {
      input: {
        group: {
          subscriptionId: '00000000-1111-2222-3333-444444444444',
          resourceGroup: 'rg',
          name: 'fog',
          primaryLocation: 'East US',
          secondaryLocation: 'eastus',
        },
      },
      field: 'group.secondaryLocation',
    },
    { input: { group: 'fog-x', maxLagSeconds: -5 }, field: 'maxLagSeconds' },
    { input: { group: 'fog-x', maxLagSeconds: 2.5 }, field: 'maxLagSeconds' },
    { input: { group: 'fog-x', scaleSecondary: 'bigger' }, field: 'scaleSecondary' },
    { input: { group: 'fog-x', failback: { after: 'soon' } }, field: 'failback.after' },
    { input: { group: 'fog-x', roleSwitchTimeout: '2 seconds' }, field: 'roleSwitchTimeout' },
    { input: { group: 'fog-x', dryRun: 'yes' }, field: 'dryRun' },
    { input: { group: 'fog-x', dryrun: true }, field: 'dryrun' },
    { input: { group: 'fog-x', targetLocation: 'west-us!' }, field: 'targetLocation' },
    { input: { group: 'fog-x', requestedBy: 'x'.repeat(5000) }, field: 'requestedBy' },
  ];
  it(`fails at once with InvalidInput naming the field, for ${invalidInputs.length} kinds of bad input`, async () => {
    const s = scenario();
    const worker = await s.worker();
    await worker.runUntil(async () => {
      for (const [index, { input, field }] of invalidInputs.entries()) {
        frame.started.add(`invalid-${s.name}-${index}`);
        const handle = await frame.env.client.workflow.start('plannedFailover', {
          taskQueue: s.taskQueue,
          workflowId: `invalid-${s.name}-${index}`,
          args: [input],
        });
        const { failure } = await outcomeOf(handle);
        assert.equal(failure?.type, 'InvalidInput', `input ${JSON.stringify(input).slice(0, 80)}`);
        assert.equal(failure?.nonRetryable, true);
        assert.ok(failure.message.includes(`${field}:`), `"${failure.message}" names ${field}`);
      }
    });
    assert.deepEqual(s.called, [], 'no activity ran for a bad input');
  });

  it('fails with GroupNotFound for a name the inventory does not have, and InvalidInput for a target outside the group', async () => {
    const s = scenario();
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const unknown = await outcomeOf(await s.start({ group: 'fog-nowhere' }, `unknown-${s.name}`));
      assert.equal(unknown.failure?.type, 'GroupNotFound');
      assert.match(unknown.failure.message, new RegExp(`it has: ${s.name}`));
      const wrongTarget = await outcomeOf(await s.start({ targetLocation: 'westeurope' }));
      assert.equal(wrongTarget.failure?.type, 'InvalidInput');
      assert.match(wrongTarget.failure.message, /targetLocation: westeurope is not a location/);
    });
    s.assertNothingChanged();
  });

  it(
    'starts from the plain Temporal CLI with plain JSON',
    async () => {
      const s = scenario();
      const worker = await s.worker();
      frame.started.add(`cli-json-${s.name}`, s.lockId);
      await worker.runUntil(async () => {
        const { stdout } = await promisify(execFile)(findTemporalCli()!, [
          'workflow',
          'start',
          '--address',
          frame.env.address,
          '--namespace',
          frame.env.namespace ?? 'default',
          '--type',
          'plannedFailover',
          '--task-queue',
          s.taskQueue,
          '--workflow-id',
          `cli-json-${s.name}`,
          '--input',
          JSON.stringify({ group: s.name, maxLagSeconds: 10 }),
        ]);
        assert.match(stdout, /Running execution/);
        const { report } = await outcomeOf(frame.env.client.workflow.getHandle(`cli-json-${s.name}`));
        assert.equal(report?.outcome, 'succeeded');
      });
      assert.equal(s.azure.acceptedFailovers.length, 1);
    },
    { skip: !findTemporalCli() && 'no temporal CLI found' },
  );
});

describe('failback', { concurrency: 1 }, () => {
  it('fails back to the home region once the group is synchronizing', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    const worker = await s.worker();
    frame.started.add(s.lockId);
    const handle = await frame.env.client.workflow.start(failback, {
      taskQueue: s.taskQueue,
      workflowId: s.lockId,
      args: [{ group: s.name }],
    });
    const { report } = await worker.runUntil(outcomeOf(handle));
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.azure.primaryLocation, 'eastus');
    assert.deepEqual(
      s.azure.acceptedFailovers.map((post) => post.location),
      ['eastus'],
    );
    assert.equal(report.legs[0]!.name, 'failback');
    await saveHistory(handle, 'failback-home');
  });

  it('waits durably — for days, continuing as new — until the group stops seeding, then fails back', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.replicationState = 'SEEDING';
    });
    const worker = await s.worker();
    const seedingEndsAt = (await frame.env.currentTimeMs()) + 2 * 24 * 3_600_000;
    s.azure.onCall = async () => {
      if ((await frame.env.currentTimeMs()) >= seedingEndsAt) s.azure.replicationState = 'CATCH_UP';
    };
    frame.started.add(s.lockId);
    const handle = await frame.env.client.workflow.start(failback, {
      taskQueue: s.taskQueue,
      workflowId: s.lockId,
      args: [{ group: s.name, pollInterval: '1 minute' }],
    });
    const { report } = await worker.runUntil(outcomeOf(handle));
    assert.equal(report?.outcome, 'succeeded');
    assert.equal(s.azure.primaryLocation, 'eastus');
    const wait = stepOf(report, 'await-synchronizing');
    assert.ok((wait.evidence?.polls as number) > 100, `polled ${String(wait.evidence?.polls)} times`);
    const firstRun = frame.env.client.workflow.getHandle(s.lockId, handle.firstExecutionRunId);
    const history = await firstRun.fetchHistory();
    assert.ok(history.events!.length < 1_500, `first run has ${history.events!.length} events`);
    const { runId } = await frame.env.client.workflow.getHandle(s.lockId).describe();
    assert.notEqual(runId, handle.firstExecutionRunId, 'the wait continued as a new run');
  });

  it('ends alreadyPrimary without sending anything when the home region is already primary', async () => {
    const s = scenario();
    const worker = await s.worker();
    frame.started.add(s.lockId);
    frame.started.add(s.lockId);
    const handle = await frame.env.client.workflow.start(failback, {
      taskQueue: s.taskQueue,
      workflowId: s.lockId,
      args: [{ group: s.name }],
    });
    const { report } = await worker.runUntil(outcomeOf(handle));
    assert.equal(report?.outcome, 'alreadyPrimary');
    assert.equal(s.azure.acceptedFailovers.length, 0);
    assert.equal(stepOf(report, 'failback').state, 'skipped');
  });
});
