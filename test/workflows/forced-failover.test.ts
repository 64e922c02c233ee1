/**
 * forcedFailover (and failback after it) on Temporal's time-skipping test server, with the real activities over a
 * scripted Azure whose primary region can go dark.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  abortSignal,
  approveSignal,
  rejectSignal,
  statusQuery,
  type RunbookStatus,
} from '../../src/workflows/definitions';
import { renderReport } from '../../src/report';
import {
  boundedIt,
  outcomeOf,
  reportOf,
  saveHistory,
  stepOf,
  timeSkippingFrame,
  waitFor,
} from '../support/runbook-harness';

const it = boundedIt(90_000);
const frame = timeSkippingFrame();

const approval = { by: 'incident-bot', reason: 'INC-4711: eastus outage' };

/** Reads status until the runbook waits for a person. */
async function awaitingApproval(handle: { query: (q: typeof statusQuery) => Promise<RunbookStatus> }) {
  let status: RunbookStatus | undefined;
  await waitFor(async () => {
    status = await handle.query(statusQuery).catch(() => undefined);
    return status?.awaiting?.kind === 'approval';
  }, 'the approval wait');
  return status!;
}

describe('forcedFailover', { concurrency: 1 }, () => {
  it('with the primary region dark and pre-approval, reads only the secondary, forces once and reports the estimate', async () => {
    const s = frame.scenario((azure) => {
      azure.lagSeconds = { sales: 4, billing: 2 };
      azure.darkLocations.add('eastus');
    });
    const { report, handle } = await s.run('forcedFailover', { approval });
    await saveHistory(handle, 'forced-failover-pre-approved');
    assert.ok(report, 'the runbook succeeds');
    assert.equal(report.outcome, 'succeeded');
    assert.deepEqual(
      report.steps.map((entry) => entry.name),
      ['resolve-group', 'assess', 'await-approval', 'force-failover', 'await-new-primary', 'await-writable'],
    );
    assert.equal(s.azure.acceptedFailovers.length, 1);
    assert.equal(s.azure.acceptedFailovers[0]!.kind, 'forced');
    assert.equal(s.azure.acceptedFailovers[0]!.location, 'westus');
    const eastusReads = s.azure.calls.filter(
      (call) =>
        (call.method === 'getFailoverGroup' && (call.args as { location: string }).location === 'eastus') ||
        (call.method === 'getManagedInstance' && (call.args as { instanceId: string }).instanceId.endsWith('eastus')),
    );
    assert.equal(eastusReads.length, 0, "nothing is read at the dark primary's location");
    // Started without requestedBy (as the Temporal CLI does), so the input's approver is only a claim.
    assert.deepEqual(report.approval && { by: report.approval.by, via: report.approval.via }, {
      by: 'claimed:incident-bot',
      via: 'input',
    });
    assert.equal(report.approval?.reason, approval.reason);
    assert.ok(report.dataLossEstimate?.seconds !== undefined, 'the loss is estimated');
    assert.equal(report.legs[0]!.dataLoss.kind, 'estimated');
    assert.deepEqual(report.rolesAfter, { primary: 'westus', secondary: 'eastus' });
    assert.ok((report.legs[0]!.rtoSeconds ?? 0) > 0);
  });

  it('waits for approval showing the estimate, then records who approved and why', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', {});
      const status = await awaitingApproval(handle);
      assert.match(status.awaiting!.detail, /forced failover .* to westus/);
      assert.match(status.awaiting!.detail, /Estimate: at most/);
      assert.equal(s.azure.acceptedFailovers.length, 0, 'nothing is sent before approval');
      await handle.signal(approveSignal, { by: 'dba-on-call', reason: 'region confirmed down' });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded');
      // A signal's `by` is whatever the sender wrote: recorded as a claim.
      assert.equal(report?.approval?.by, 'claimed:dba-on-call');
      assert.equal(report?.approval?.via, 'signal');
      assert.equal(s.azure.acceptedFailovers.length, 1);
    });
  });

  it('a rejected approval ends ApprovalRejected and changes nothing', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', {});
      await awaitingApproval(handle);
      await handle.signal(rejectSignal, { by: 'cto', reason: 'eastus is recovering' });
      const { failure } = await outcomeOf(handle);
      assert.equal(failure?.type, 'ApprovalRejected');
      assert.match(failure.message, /cto rejected .*nothing was changed/);
      assert.equal(reportOf(failure).outcome, 'failed');
    });
    s.assertNothingChanged();
  });

  it('an approval that never comes ends ApprovalTimeout after approvalTimeout and changes nothing', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const { failure } = await s.run('forcedFailover', { approvalTimeout: '2 hours' });
    assert.equal(failure?.type, 'ApprovalTimeout');
    const waited = stepOf(reportOf(failure), 'await-approval');
    assert.ok(Date.parse(waited.endedAt!) - Date.parse(waited.startedAt!) >= 2 * 3_600_000);
    s.assertNothingChanged();
  });

  it('an abort while waiting for approval ends aborted and changes nothing', async () => {
    const s = frame.scenario();
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', {});
      await awaitingApproval(handle);
      await handle.signal(abortSignal, { by: 'sre', reason: 'wrong group' });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'aborted');
      assert.equal(report?.abort?.effect, 'compensated-before-failover');
    });
    s.assertNothingChanged();
  });

  it('with tryPlannedFirst and a healthy primary, a planned failover completes and nothing is forced', async () => {
    const s = frame.scenario();
    const { report } = await s.run('forcedFailover', { approval, tryPlannedFirst: { timeout: '5 minutes' } });
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => entry.kind),
      ['planned'],
    );
    // Lossless by Azure's design, but not proven by this run: no copy-sync proof ran before the planned POST.
    assert.equal(report?.legs[0]!.dataLoss.kind, 'unknown');
    assert.match(report.legs[0].dataLoss.detail, /did not prove it with sp_wait_for_database_copy_sync/);
    assert.ok(!report?.steps.some((entry) => entry.name === 'force-failover'));
  });

  it('with tryPlannedFirst and the primary region dark, the planned attempt fails and it escalates to one forced failover', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const { report } = await s.run('forcedFailover', { approval, tryPlannedFirst: { timeout: '5 minutes' } });
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => entry.kind),
      ['planned', 'forced'],
    );
    assert.equal(stepOf(report, 'try-planned').evidence?.escalated, true);
    assert.ok(report.warnings.some((warning) => /escalated to a forced failover/.test(warning)));
    assert.equal(s.azure.primaryLocation, 'westus');
  });

  it('sends nothing when the target it is given already reports Primary, and ends alreadyPrimary', async () => {
    const s = frame.scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    const { report } = await s.run('forcedFailover', { approval, targetLocation: 'westus' });
    assert.equal(report?.outcome, 'alreadyPrimary');
    assert.equal(stepOf(report, 'force-failover').state, 'skipped');
    s.assertNothingChanged();
  });

  it('started under another id, it runs under the group lock and an approval sent to the starter reaches it', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', {}, `incident-${s.name}`);
      const lockHolder = frame.env.client.workflow.getHandle(s.lockId);
      await awaitingApproval(lockHolder);
      // The id people started shows what the lock holder waits for.
      const starterWaiting = await awaitingApproval(handle);
      assert.equal(starterWaiting.delegatedTo, s.lockId);
      await handle.signal(approveSignal, { by: 'incident-commander', reason: 'go' });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'succeeded');
      assert.equal(report?.workflowId, s.lockId, "the report is the lock holder's");
      assert.equal(report?.approval?.by, 'claimed:incident-commander');
      // The starter ends in the holder's outcome, its status shows the holder's steps.
      const starterStatus = await handle.query(statusQuery);
      assert.equal(starterStatus.phase, 'succeeded');
      assert.ok(starterStatus.steps.some((entry) => entry.name === 'force-failover' && entry.state === 'succeeded'));
      await saveHistory(handle, 'forced-failover-delegated-starter');
      await saveHistory(lockHolder, 'forced-failover-delegated-holder');
    });
    assert.equal(s.azure.acceptedFailovers.length, 1);
  });

  it('a dry run shows the estimate and the plan, waits for nobody and changes nothing', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const { report } = await s.run('forcedFailover', { dryRun: true, tryPlannedFirst: { timeout: '5 minutes' } });
    assert.equal(report?.outcome, 'dry-run');
    assert.deepEqual(
      report?.plan?.map((item) => item.step),
      ['await-approval', 'try-planned', 'force-failover', 'await-new-primary', 'await-writable'],
    );
    assert.ok(report?.dataLossEstimate);
    s.assertNothingChanged();
  });

  it("with the primary answering, estimates each database from the primary's last_commit minus the secondary's and shows that source", async () => {
    const lastCommit = Date.parse('2026-11-22T00:59:00.000Z');
    const s = frame.scenario((azure) => {
      azure.lagSeconds = { sales: 4, billing: 0 };
      azure.lastCommitAt = { sales: lastCommit, billing: lastCommit };
    });
    const { report, handle } = await s.run('forcedFailover', { approval });
    await saveHistory(handle, 'forced-failover-estimate-both-sides');
    assert.equal(report?.outcome, 'succeeded');
    const estimate = report.dataLossEstimate!;
    assert.deepEqual(
      estimate.databases.map((entry) => [entry.database, entry.kind, entry.seconds, entry.source]),
      [
        ['sales', 'measured', 4, 'primary last_commit vs secondary last_commit'],
        ['billing', 'measured', 0, 'primary last_commit vs secondary last_commit'],
      ],
    );
    assert.equal(estimate.seconds, 4);
    assert.equal(estimate.upperBound, undefined, 'both sides answered: no bound, a measurement');
    const table = renderReport(report, 'md').split('## Data-loss estimate before the forced failover')[1]!;
    assert.match(table, /\| `sales` \| CATCH_UP \| 4 s of commits \| primary last_commit vs secondary last_commit \|/);
    assert.match(report.legs[0]!.dataLoss.detail, /sales: 4s \(primary last_commit vs secondary last_commit\)/);
  });

  it('lists a database still seeding on the secondary as lost whole, and does not wait for it to become writable', async () => {
    const s = frame.scenario((azure) => {
      azure.databases = ['sales', 'billing', 'ledger'];
      azure.databaseStates = { ledger: 'SEEDING' };
      // The half-seeded copy never opens on the new primary.
      azure.updateabilityOmits = ['ledger'];
    });
    const { report } = await s.run('forcedFailover', { approval });
    assert.equal(report?.outcome, 'succeeded');
    const estimate = report.dataLossEstimate!;
    assert.deepEqual(estimate.lostWhole, ['ledger']);
    const ledger = estimate.databases.find((entry) => entry.database === 'ledger')!;
    assert.equal(ledger.kind, 'lost-whole');
    assert.equal(ledger.replicationState, 'SEEDING');
    assert.match(ledger.reason!, /SEEDING on .*no transactionally consistent copy/);
    assert.ok(report.warnings.some((warning) => /loses these databases whole: ledger/.test(warning)));
    assert.match(renderReport(report, 'md'), /\*\*Data lost:\*\* up to .* of commits \(estimated\); ledger lost whole/);
    assert.equal(report.steps.find((entry) => entry.name === 'await-writable')?.state, 'succeeded');
  });

  it("with the primary unreachable, bounds each database's loss from the secondary's last_commit alone and says it is an upper bound", async () => {
    const s = frame.scenario((azure) => {
      azure.lagSeconds = { sales: 30, billing: 2 };
      azure.darkLocations.add('eastus');
    });
    const { report, handle } = await s.run('forcedFailover', { approval });
    await saveHistory(handle, 'forced-failover-estimate-primary-unreachable');
    assert.equal(report?.outcome, 'succeeded');
    const estimate = report.dataLossEstimate!;
    assert.deepEqual(
      estimate.databases.map((entry) => [entry.database, entry.kind, entry.source]),
      [
        ['sales', 'upper-bound', 'secondary last_commit only (primary unreachable): upper bound'],
        ['billing', 'upper-bound', 'secondary last_commit only (primary unreachable): upper bound'],
      ],
    );
    assert.equal(estimate.upperBound, true);
    assert.ok((estimate.seconds ?? 0) >= 30, `at least the 30 s the secondary is behind: ${estimate.seconds}`);
    assert.match(estimate.basis, /did not answer/);
    assert.match(renderReport(report, 'md'), /\*\*At most:\*\* .* of commits \(an upper bound\)/);
  });

  it('with the primary unreachable and no last_commit on the secondary, the estimate is unknown and says why', async () => {
    const s = frame.scenario((azure) => {
      azure.lastCommitAt = { sales: null, billing: null };
      azure.darkLocations.add('eastus');
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('forcedFailover', {});
      const status = await awaitingApproval(handle);
      assert.match(status.awaiting!.detail, /Estimate: unknown/);
      assert.match(
        status.awaiting!.detail,
        /sales: unknown \(.* reported no last_commit for it and the primary did not answer\)/,
      );
      await handle.signal(rejectSignal, { by: 'dba-on-call', reason: 'no estimate' });
      await outcomeOf(handle);
    });
    assert.equal(s.azure.acceptedFailovers.length, 0);
  });

  for (const [field, input] of [
    ['approval.reason', { approval: { by: 'x' } }],
    ['tryPlannedFirst.timeout', { tryPlannedFirst: { timeout: '10 seconds' } }],
    ['approvalTimeout', { approvalTimeout: 'soon' }],
    ['targetLocation', { targetLocation: 'not a region!' }],
  ] as const) {
    it(`refuses an invalid ${field} with InvalidInput naming it, reading nothing`, async () => {
      const s = frame.scenario();
      const { failure } = await s.run('forcedFailover', input);
      assert.equal(failure?.type, 'InvalidInput');
      assert.match(failure.message, new RegExp(field.replace('.', '\\.')));
      assert.equal(s.azure.calls.length, 0);
    });
  }
});

describe('failback after a forced failover', { concurrency: 1 }, () => {
  it('keeps its history small over a long wait: past 100 reads it continues as a new run, then fails back', async () => {
    const s = frame.scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.replicationState = 'SEEDING';
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('failback', { pollInterval: '5 seconds', waitTimeout: '30 days' });
      const ended = outcomeOf(handle);
      await waitFor(
        async () => (await handle.describe()).runId !== handle.firstExecutionRunId,
        'the wait to continue as a new run',
        60_000,
      );
      const firstRun = await frame.env.client.workflow.getHandle(s.lockId, handle.firstExecutionRunId).fetchHistory();
      assert.ok(firstRun.events!.length < 1_500, `the first run's history holds ${firstRun.events!.length} events`);
      s.azure.replicationState = 'CATCH_UP';
      const { report } = await ended;
      assert.equal(report?.outcome, 'succeeded');
      assert.ok(Number(stepOf(report, 'await-synchronizing').evidence?.polls) > 100, 'the count carries over');
      assert.deepEqual(report?.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→eastus'],
    );
  });

  it('an abort while it waits ends it aborted, with nothing sent', async () => {
    const s = frame.scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.replicationState = 'SEEDING';
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('failback', { pollInterval: '1 hour' });
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        return status?.phase === 'await-synchronizing';
      }, 'the wait');
      await handle.signal(abortSignal, { by: 'dba', reason: 'keep westus for now' });
      const { report } = await outcomeOf(handle);
      assert.equal(report?.outcome, 'aborted');
      assert.equal(stepOf(report, 'await-synchronizing').state, 'skipped');
    });
    s.assertNothingChanged();
  });

  it('waits while the old region is dark, then fails back once it is synchronizing again', async () => {
    const s = frame.scenario((azure) => azure.darkLocations.add('eastus'));
    const forced = await s.run('forcedFailover', { approval });
    assert.equal(forced.report?.outcome, 'succeeded');

    const worker = await s.worker();
    await worker.runUntil(async () => {
      const handle = await s.start('failback', { pollInterval: '10 minutes', waitTimeout: '30 days' });
      // Awaiting the result is what lets the test server skip time through the polls.
      const ended = outcomeOf(handle);
      await waitFor(async () => {
        const status = await handle.query(statusQuery).catch(() => undefined);
        const waiting = status?.steps.find((entry) => entry.name === 'await-synchronizing');
        return Number(waiting?.evidence?.polls ?? 0) >= 2;
      }, 'two polls of a dark region');
      assert.equal(s.azure.acceptedFailovers.length, 1, 'nothing is sent while the old region is dark');
      s.azure.darkLocations.delete('eastus');
      const { report } = await ended;
      assert.equal(report?.outcome, 'succeeded');
      assert.deepEqual(report?.rolesAfter, { primary: 'eastus', secondary: 'westus' });
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['forced→westus', 'planned→eastus'],
    );
  });
});

describe('forcedFailover and the runbook holding the group', { concurrency: 1 }, () => {
  const incident = (s: { name: string }) => `incident-${s.name}`;

  /** Lets simulated time pass in small steps until `holder` reaches `phase`, without skipping past its wait. */
  async function untilPhase(holder: { query: (q: typeof statusQuery) => Promise<RunbookStatus> }, phase: string) {
    let status: RunbookStatus | undefined;
    await waitFor(
      async () => {
        status = await holder.query(statusQuery).catch(() => undefined);
        if (status?.phase === phase) return true;
        await frame.env.sleep('20 seconds');
        return false;
      },
      `the holder to reach ${phase}`,
      60_000,
    );
    return status!;
  }

  it('pre-empts a plannedFailover waiting failback.after: the holder ends aborted, then one forced failover runs under the lock', async () => {
    const s = frame.scenario();
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const holder = await s.start('plannedFailover', { failback: { after: '1 day' } });
      const waiting = await untilPhase(holder, 'wait-before-failback');
      assert.equal(waiting.preemptible, true, 'a wait before the next failover may be pre-empted');
      assert.equal(waiting.pastPointOfNoReturn, false);

      const forced = await s.start('forcedFailover', { approval, targetLocation: 'eastus' }, incident(s));
      const { report, failure } = await outcomeOf(forced);
      assert.equal(failure?.message, undefined, 'the forced failover is not refused');
      const held = await outcomeOf(holder);
      assert.equal(held.report?.outcome, 'aborted-after-failover', 'its failover stays done; no failback');
      assert.deepEqual(held.report.abort && { by: held.report.abort.by, reason: held.report.abort.reason }, {
        by: 'fogpilot',
        reason: `pre-empted by forcedFailover ${incident(s)}`,
      });
      assert.equal(stepOf(held.report, 'wait-before-failback').state, 'skipped');

      assert.equal(report?.outcome, 'succeeded');
      assert.equal(report.workflowId, s.lockId, 'the forced failover ran under the lock');
      const acquired = (await forced.query(statusQuery)).steps.find((entry) => entry.name === 'acquire-group-lock');
      assert.equal(acquired?.state, 'succeeded');
      assert.equal((acquired?.evidence?.holder as { phase?: string }).phase, 'wait-before-failback');
      assert.equal(acquired?.evidence?.holderEnded, true);
      await saveHistory(forced, 'forced-failover-preempts-waiting-holder');
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→westus', 'forced→eastus'],
    );
    assert.equal(s.azure.primaryLocation, 'eastus');
  });

  it('pre-empts a failback waiting durably for the group to synchronize: it ends aborted, then one forced failover runs', async () => {
    const s = frame.scenario((azure) => {
      azure.primaryLocation = 'westus';
      azure.replicationState = 'SUSPENDED';
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const holder = await s.start('failback', { pollInterval: '1 hour', waitTimeout: '30 days' });
      await waitFor(async () => {
        const status = await holder.query(statusQuery).catch(() => undefined);
        const polls = status?.steps.find((entry) => entry.name === 'await-synchronizing')?.evidence?.polls;
        return status?.preemptible === true && Number(polls ?? 0) >= 1;
      }, 'the failback to wait');
      // The region it is waiting to return to answers, the current primary's does not: force back home.
      s.azure.darkLocations.add('westus');
      const forced = await s.start('forcedFailover', { approval, targetLocation: 'eastus' }, incident(s));
      const { report, failure } = await outcomeOf(forced);
      assert.equal(failure?.message, undefined, 'the forced failover is not refused');
      const held = await outcomeOf(holder);
      assert.equal(held.report?.outcome, 'aborted');
      assert.equal(held.report.abort?.reason, `pre-empted by forcedFailover ${incident(s)}`);
      assert.equal(held.report.abort?.effect, 'compensated-before-failover');
      assert.equal(report?.outcome, 'succeeded');
      assert.equal(report.workflowId, s.lockId);
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['forced→eastus'],
    );
  });

  it('pre-empts a scheduled drill in its soak: the drill stops in the secondary region without failing back, and the forced failover moves the group', async () => {
    const s = frame.scenario();
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const drill = await s.start('drDrill', { soak: '1 day', smoke: { write: false } }, `scheduled-drill-${s.name}`);
      // The drill's mutating part holds the lock as a child under the lock id.
      const soaking = await untilPhase(frame.env.client.workflow.getHandle(s.lockId), 'soak');
      assert.equal(soaking.preemptible, true);

      const forced = await s.start('forcedFailover', { approval, targetLocation: 'eastus' }, incident(s));
      const { report, failure } = await outcomeOf(forced);
      assert.equal(failure?.message, undefined, 'the forced failover is not refused');
      const drilled = await outcomeOf(drill);
      assert.equal(drilled.report?.outcome, 'aborted-after-failover');
      assert.equal(drilled.report.abort?.reason, `pre-empted by forcedFailover ${incident(s)}`);
      assert.ok(
        !drilled.report.steps.some((entry) => entry.name.startsWith('failback/')),
        'the drill did not fail back',
      );
      assert.equal(report?.outcome, 'succeeded');
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→westus', 'forced→eastus'],
    );
  });

  it('never pre-empts a holder past its point of no return: GroupBusy names it and its phase, and it completes undisturbed', async () => {
    const s = frame.scenario((azure) => {
      azure.failoverNeverCompletes = true;
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const holder = await s.start('plannedFailover', { roleSwitchTimeout: '6 hours' });
      const switching = await untilPhase(holder, 'await-roles');
      assert.equal(switching.preemptible, false);
      assert.equal(switching.pastPointOfNoReturn, true);

      const forced = await s.start('forcedFailover', { approval, targetLocation: 'eastus' }, incident(s));
      const { failure } = await outcomeOf(forced);
      assert.equal(failure?.type, 'GroupBusy');
      assert.match(failure.message, new RegExp(`plannedFailover ${s.lockId} is in phase await-roles`));
      assert.match(failure.message, /past its point of no return/);
      assert.match(failure.message, /Nothing was changed/);

      const still = await holder.query(statusQuery);
      assert.equal(still.phase, 'await-roles');
      s.azure.failoverNeverCompletes = false;
      const held = await outcomeOf(holder);
      assert.equal(held.report?.outcome, 'succeeded');
      assert.equal(held.report.abort, undefined, 'the holder was not disturbed');
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→westus'],
    );
  });
});
