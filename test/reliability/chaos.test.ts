/**
 * The fast part of `npm run chaos`: runbooks on the real Temporal dev server while the worker — a separate process,
 * `bin/fogpilot.js worker` — is killed with SIGKILL and started again: inside an activity, right after the failover
 * POST, while polling for the role switch. The emulator judges: each runbook completes, Azure accepted exactly one
 * failover POST per direction, and the pair never had two writable primaries (also judged by writes through each
 * instance's own endpoint, bench/endpoint-writers.ts, whose positive controls are in invariant-checks.test.ts).
 *
 * The moments are a few of `npm run chaos`'s (bench/chaos.ts): a few milliseconds after the POST was accepted (the
 * answer on its way), a poll timer, a write of the drill's probe in flight, an ARM read in flight. A lost activity is
 * noticed by its 5-second heartbeat timeout, and the time the run took to be wholly running again on the new worker
 * (bench/recovery.ts, from the histories) is asserted for the read.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChaosRig,
  KillClasses,
  SeededRandom,
  runUnderChaos,
  type ChaosRunResult,
  type KillPlan,
} from '../../bench/chaos-rig';

const GROUPS = ['fog-alpha', 'fog-bravo', 'fog-charlie', 'fog-delta'] as const;
const RUN_TIMEOUT_MS = 240_000;

let rig: ChaosRig;

before(async () => {
  rig = await ChaosRig.start({ groups: GROUPS, speed: 10, random: new SeededRandom(7) });
});
after(async () => {
  await rig?.close();
});

function drill(group: string, kills: KillPlan[]): Promise<ChaosRunResult> {
  return runUnderChaos(rig, {
    runbook: 'drDrill',
    group,
    input: { group, soak: '2 seconds', requestedBy: 'chaos test', reason: 'worker killed mid-drill' },
    workflowId: `chaos-test/${group}/${Date.now()}`,
    kills,
    timeoutMs: RUN_TIMEOUT_MS,
  });
}

/** The rules every run under chaos keeps; the run's own account is the message. */
function assertKeptTheRules(result: ChaosRunResult, kills: RegExp[]): void {
  const account = JSON.stringify({ ...result, report: undefined }, null, 1);
  assert.deepEqual(
    result.kills.map((kill, index) => kills[index]?.test(`${kill.class}: ${kill.detail}`) ?? false),
    kills.map(() => true),
    `each planned kill happened at its moment:\n${account}`,
  );
  assert.deepEqual(result.violations, [], account);
  assert.equal(result.outcome, 'succeeded', account);
  assert.deepEqual(result.posts.acceptedTo, { eastus: 1, westus: 1 }, 'exactly one accepted POST per direction');
  assert.deepEqual(result.twoPrimaries, [], 'never two writable primaries');
  // Judged from the clients' side as well, by writes through each instance's own endpoint; both must have been heard.
  const checks = result.endpointChecks;
  assert.deepEqual(checks.splitBrain, [], 'no two instances accepted writes at the same time');
  assert.ok(
    Object.values(checks.accepted).length === 2 && Object.values(checks.accepted).every((count) => count > 0),
    `writes were accepted on both instances in turn: ${JSON.stringify(checks.accepted)}`,
  );
  for (const verdict of checks.dataLoss) {
    assert.equal(verdict.unverified, undefined);
    assert.deepEqual(verdict.lostByClient, [], 'a planned failover loses no acknowledged write');
  }
  assert.equal(result.primaryAfter, 'eastus');
  assert.deepEqual(rig.emulator.world.violations, []);
}

// One runbook at a time: a kill hits every runbook running, and would count in each one's recovery.
describe('runbooks while the worker process is killed (dev server)', { concurrency: 1, timeout: 420_000 }, () => {
  it('a drill completes after its worker is killed right after the failover POST and while polling on the way back', async () => {
    const result = await drill(GROUPS[0], [
      { class: KillClasses.afterFailoverPost, leg: 'failover', delayMs: 25 },
      { class: KillClasses.whilePolling, leg: 'failback', delayMs: 1_500 },
    ]);
    assertKeptTheRules(result, [
      /^after-failover-post: failover POST to westus accepted; killed \d+ ms after$/,
      /^while-polling: failback to eastus in progress \(roles not yet switched\)/,
    ]);
    assert.equal(result.dataLoss, 'none', 'every acknowledged probe write was read back');
  });

  it('a drill completes after its worker is killed inside an activity: a probe write committed, its answer not sent', async () => {
    const result = await drill(GROUPS[1], [
      { class: KillClasses.inActivity, target: 'probe-write', duringFailover: true, afterMs: 0 },
    ]);
    assertKeptTheRules(result, [/^in-activity: probe write to orders committed, its answer not yet sent/]);
    // The write in doubt is the probe's to count (in doubt, not lost); every acknowledged one was read back.
    assert.equal(result.dataLoss, 'none');
  });

  it('a drill whose worker is killed while an ARM read is in flight is running again on a new worker in less than a minute', async () => {
    const result = await drill(GROUPS[3], [{ class: KillClasses.inActivity, afterMs: 0 }]);
    assertKeptTheRules(result, [/^in-activity: GET \S+ in flight$/]);
    assert.equal(result.dataLoss, 'none');
    const kill = result.kills[0]!;
    const recovery = kill.recovery;
    assert.ok(recovery, `the histories show the work the kill stranded: ${JSON.stringify(kill)}`);
    // Before heartbeats, a read lost with its worker waited out its 1-minute start-to-close timeout.
    assert.ok(
      recovery.ms < 60_000,
      `recovered in ${recovery.ms} ms (picked up last: ${recovery.last}; restart delay ${kill.restartDelayMs} ms)`,
    );
  });

  it('plannedFailover with failback completes on a new worker after the first is killed mid-run, without sending the failover again', async () => {
    const group = GROUPS[2];
    const result = await runUnderChaos(rig, {
      runbook: 'plannedFailover',
      group,
      input: { group, failback: { after: '2 seconds' }, requestedBy: 'chaos test', reason: 'worker lost mid-run' },
      workflowId: `chaos-test/${group}/${Date.now()}`,
      kills: [{ class: KillClasses.whilePolling, leg: 'failover', delayMs: 1_000 }],
      timeoutMs: RUN_TIMEOUT_MS,
    });
    assertKeptTheRules(result, [/^while-polling: failover to westus in progress/]);
    // One send per direction, each answered; the worker started after the kill took over the running failover.
    assert.deepEqual(result.sendActivities, ['completed', 'completed']);
    assert.deepEqual(result.sendOutcomes, ['sent', 'sent']);
    assert.equal(result.posts.received, 2, 'no repeated POST reached Azure, not even a refused one');
  });
});
