/**
 * The fast part of `npm run chaos`: runbooks on the real Temporal dev server while the worker — a separate process,
 * `bin/fogpilot.js worker` — is killed with SIGKILL and started again, one kill per moment: inside an activity, right
 * after the failover POST, while polling for the role switch. The emulator judges: each runbook completes, Azure
 * accepted exactly one failover POST per direction, and the pair never had two writable primaries.
 *
 * The runbooks run at the same time on four groups of one world, so the waits the kills cost overlap (a lost read is
 * noticed after its 1-minute timeout, a lost failover send after its 30-second heartbeat timeout). Every kill hits
 * whatever the others were doing too, which only makes the check harder.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChaosRig, KillClasses, SeededRandom, runUnderChaos, type ChaosRunResult } from '../../bench/chaos-rig';

const GROUPS = { activity: 'fog-alpha', post: 'fog-bravo', polling: 'fog-charlie', planned: 'fog-delta' } as const;
const RUN_TIMEOUT_MS = 240_000;

let rig: ChaosRig;

before(async () => {
  rig = await ChaosRig.start({ groups: Object.values(GROUPS), speed: 10, random: new SeededRandom(7) });
});
after(async () => {
  await rig?.close();
});

function drill(group: string, kills: Parameters<typeof runUnderChaos>[1]['kills']): Promise<ChaosRunResult> {
  return runUnderChaos(rig, {
    runbook: 'drDrill',
    group,
    input: { group, soak: '2 seconds', requestedBy: 'chaos test', reason: 'worker killed mid-drill' },
    workflowId: `chaos-test/${group}/${Date.now()}`,
    kills,
    timeoutMs: RUN_TIMEOUT_MS,
  });
}

/** The rules every run under chaos must keep, with the run's own account as the message. */
function assertKeptTheRules(result: ChaosRunResult): void {
  const account = JSON.stringify({ ...result, report: undefined }, null, 1);
  assert.deepEqual(result.violations, [], account);
  assert.equal(result.outcome, 'succeeded', account);
  assert.deepEqual(result.posts.acceptedTo, { eastus: 1, westus: 1 }, 'exactly one accepted POST per direction');
  assert.deepEqual(result.twoPrimaries, [], 'never two writable primaries');
  assert.equal(result.primaryAfter, 'eastus');
  assert.deepEqual(rig.emulator.world.violations, []);
}

describe('runbooks while the worker process is killed (dev server)', { concurrency: true, timeout: 330_000 }, () => {
  it('a drill completes when the worker is killed inside an activity', async () => {
    const result = await drill(GROUPS.activity, [{ class: KillClasses.inActivity, afterMs: 0 }]);
    assert.deepEqual(
      result.kills.map((kill) => kill.class),
      [KillClasses.inActivity],
      `the kill happened (${result.unfired.join(', ')})`,
    );
    assert.match(result.kills[0]!.detail, /^GET \w+ in flight$/);
    assertKeptTheRules(result);
  });

  it('a drill completes when the worker is killed right after Azure accepted the failover POST', async () => {
    // A few milliseconds after: the answer is on its way; whether the worker recorded it is a race either way is safe.
    const result = await drill(GROUPS.post, [{ class: KillClasses.afterFailoverPost, leg: 'any', delayMs: 15 }]);
    assert.deepEqual(
      result.kills.map((kill) => kill.class),
      [KillClasses.afterFailoverPost],
    );
    assertKeptTheRules(result);
  });

  it('a drill completes when the worker is killed while it polls for the role switch', async () => {
    const result = await drill(GROUPS.polling, [{ class: KillClasses.whilePolling, leg: 'any', delayMs: 1_500 }]);
    assert.deepEqual(
      result.kills.map((kill) => kill.class),
      [KillClasses.whilePolling],
    );
    assert.match(result.kills[0]!.detail, /in progress \(roles not yet switched\)/);
    assertKeptTheRules(result);
  });

  it('plannedFailover with failback completes on a new worker after the first is killed before the failover POST was answered, without sending it again', async () => {
    const group = GROUPS.planned;
    const result = await runUnderChaos(rig, {
      runbook: 'plannedFailover',
      group,
      input: { group, failback: { after: '2 seconds' }, requestedBy: 'chaos test', reason: 'worker lost mid-send' },
      workflowId: `chaos-test/${group}/${Date.now()}`,
      kills: [{ class: KillClasses.afterFailoverPost, leg: 'any', delayMs: 0 }],
      timeoutMs: RUN_TIMEOUT_MS,
    });
    assert.deepEqual(
      result.kills.map((kill) => kill.class),
      [KillClasses.afterFailoverPost],
    );
    assert.match(result.kills[0]!.detail, /accepted; killed before the answer was written/);
    assertKeptTheRules(result);
    // The send whose answer died with the worker timed out; the new worker found the failover under way and sent
    // nothing more for that direction.
    assert.ok(result.sendActivities.includes('timed-out'), `sendFailover ended: ${result.sendActivities.join(', ')}`);
    assert.ok(
      result.sendOutcomes.includes('sent-by-earlier-attempt'),
      `failover steps: ${result.sendOutcomes.join(', ')}`,
    );
    assert.equal(result.posts.received, 2, 'no repeated POST reached Azure, not even a refused one');
  });
});
