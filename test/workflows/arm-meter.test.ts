/**
 * The ARM meter around the activity proxies: what an ARM activity reports is counted as it settles, the caller gets
 * the SDK's own promise, and a failure's calls count only where the preset asks for it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { armCallsOfThisRun, metered } from '../../src/workflows/steps/arm-meter';
import type { ArmCallCount } from '../../src/workflows/definitions';

type Call = ((...args: unknown[]) => Promise<unknown>) & {
  executeWithOptions: (options: unknown, args: unknown[]) => Promise<unknown>;
};

/** A stand-in for `proxyActivities`: each activity answers with what `answers` gives for its name. */
function fakeProxy(answers: Record<string, () => Promise<unknown>>): Record<string, Call> {
  const proxy: Record<string, Call> = {};
  for (const [name, answer] of Object.entries(answers)) {
    const call = (() => answer()) as Call;
    call.executeWithOptions = () => answer();
    proxy[name] = call;
  }
  return proxy;
}

/** How much the run's tally grew while `work` ran (the tally is per workflow run; here, per test process). */
async function growth(work: () => Promise<unknown>): Promise<ArmCallCount> {
  const before = { ...armCallsOfThisRun() };
  await work().catch(() => undefined);
  const after = armCallsOfThisRun();
  return {
    reads: after.reads - before.reads,
    writes: after.writes - before.writes,
    throttled: after.throttled - before.throttled,
  };
}

function failedWithCalls(armCalls: ArmCallCount): ActivityFailure {
  const cause = ApplicationFailure.create({ type: 'ArmThrottled', message: '429', details: [{ armCalls }] });
  return new ActivityFailure('failed', 'sendFailover', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);
}

describe('ARM metering of activity proxies', () => {
  it('counts the ARM calls an activity reports, and the caller has them counted when it resumes', async () => {
    const proxy = metered(
      fakeProxy({ readGroupRoles: () => Promise.resolve({ armCalls: { reads: 2, writes: 0, throttled: 1 } }) }),
    );
    let seenOnResume: number | undefined;
    const before = armCallsOfThisRun().reads;
    const grew = await growth(async () => {
      await proxy.readGroupRoles!.executeWithOptions({ summary: 'read' }, []);
      seenOnResume = armCallsOfThisRun().reads - before;
    });
    assert.deepEqual(grew, { reads: 2, writes: 0, throttled: 1 });
    assert.equal(seenOnResume, 2);
  });

  it('hands the caller the very promise the activity proxy returned', () => {
    const answer = Promise.resolve({ armCalls: { reads: 1, writes: 0, throttled: 0 } });
    const proxy = metered(fakeProxy({ readInstances: () => answer }));
    assert.equal(proxy.readInstances!.executeWithOptions({}, []), answer);
    assert.equal(proxy.readInstances!(), answer);
  });

  it('leaves activities that do not talk to ARM untouched', () => {
    const raw = fakeProxy({ readLogins: () => Promise.resolve({ logins: [] }) });
    assert.equal(metered(raw).readLogins, raw.readLogins);
  });

  it("counts a failed activity's calls only for a preset that meters failures", async () => {
    const failing = () => Promise.reject(failedWithCalls({ reads: 1, writes: 1, throttled: 1 }));
    const plain = metered(fakeProxy({ sendFailover: failing }));
    const counting = metered(fakeProxy({ sendFailover: failing }), { failures: true });
    assert.deepEqual(await growth(() => plain.sendFailover!.executeWithOptions({}, [])), {
      reads: 0,
      writes: 0,
      throttled: 0,
    });
    assert.deepEqual(await growth(() => counting.sendFailover!.executeWithOptions({}, [])), {
      reads: 1,
      writes: 1,
      throttled: 1,
    });
  });
});
