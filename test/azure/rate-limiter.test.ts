/**
 * The client-side ARM budget: token buckets per subscription, and the control plane spending it so a worker stays
 * under the subscription's rate instead of meeting 429s.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { ArmRequestError } from '../../src/azure/errors';
import { DEFAULT_RATE_LIMITS, SubscriptionRateLimiter, TokenBucket } from '../../src/azure/rate-limiter';
import { startEmulator } from '../../src/emulator';
import { defaultWorldSpec } from '../../src/emulator/world-spec';

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces requests at the refill rate', async () => {
    const bucket = new TokenBucket(3, 20);
    const startedAt = Date.now();
    for (let request = 0; request < 3; request++) await bucket.take();
    assert.ok(Date.now() - startedAt < 40, 'the burst is not delayed');
    for (let request = 0; request < 4; request++) await bucket.take();
    // Four more tokens at 20 per second: about 200 ms.
    assert.ok(Date.now() - startedAt >= 180, `took ${Date.now() - startedAt} ms`);
  });

  it('holds every request back for a Retry-After, whoever met the 429', async () => {
    const bucket = new TokenBucket(10, 100);
    bucket.pauseFor(250);
    const startedAt = Date.now();
    await Promise.all([bucket.take(), bucket.take()]);
    assert.ok(Date.now() - startedAt >= 240, `took ${Date.now() - startedAt} ms`);
  });

  it('stops waiting when the request is aborted', async () => {
    const bucket = new TokenBucket(1, 0.5);
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort();
    await assert.rejects(waiting, /aborted while waiting for the ARM request budget/);
  });

  it('refuses a request whose signal has already aborted, even with a token free, and leaves that token to the next', async () => {
    // A frozen clock: no token comes back, so only the one the bucket starts with can be granted.
    const bucket = new TokenBucket(1, 10, () => 0);
    await assert.rejects(
      bucket.take(AbortSignal.abort(new Error('the deadline passed'))),
      /aborted while waiting for the ARM request budget: the deadline passed/,
    );
    assert.equal(await settlesFirst(bucket.take()), 'resolved', 'the free token is still there');
  });

  it('stops a queued request as soon as it is aborted, without waiting for the requests ahead of it', async () => {
    let now = 0;
    const bucket = new TokenBucket(1, 10, () => now);
    await bucket.take();
    const first = bucket.take();
    const queued = new AbortController();
    const second = bucket.take(queued.signal);
    try {
      queued.abort(new Error('the activity was cancelled'));
      assert.equal(await settlesFirst(second), 'rejected', 'the aborted request stopped waiting at once');
      await assert.rejects(second, /aborted while waiting for the ARM request budget: the activity was cancelled/);
      assert.equal(await settlesFirst(first), 'pending', 'the request ahead still waits for its token');
    } finally {
      now = 1_000;
    }
    await first;
  });
});

/** How a promise stands once everything already scheduled has run (no timer decides it). */
async function settlesFirst(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  const state = promise.then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
  return Promise.race([state, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('ArmControlPlane under a subscription budget', () => {
  it('spends reads at its own rate and meets no 429 from an emulator that throttles above it', async () => {
    const emulator = await startEmulator({
      world: { ...defaultWorldSpec(), throttling: { enabled: true, readCapacity: 10, readsPerSecond: 10 } },
    });
    try {
      const controlPlane = new ArmControlPlane({
        credential: new EmulatorCredential(),
        endpoint: emulator.armEndpoint,
        rateLimits: { readsPerSecond: 8, readBurst: 5, writesPerSecond: 1, writeBurst: 1 },
        // Every read its own GET: this is about spending the budget, not about sharing reads.
        coalescing: false,
      });
      const group = {
        subscriptionId: emulator.world.spec.subscriptionId,
        resourceGroup: 'rg-fogpilot',
        name: 'fog-sales',
      };
      const startedAt = Date.now();
      // Forty reads at once, as forty children of a fleet would make them.
      await Promise.all(Array.from({ length: 40 }, () => controlPlane.getFailoverGroup(group, 'eastus')));
      const elapsedMs = Date.now() - startedAt;
      assert.ok(elapsedMs >= (35 / 8) * 1000 - 200, `40 reads at 8/s after a burst of 5 took ${elapsedMs} ms`);
      assert.equal(emulator.arm.stats.throttled, 0, 'the emulator throttled nothing');
      assert.equal(emulator.arm.stats.reads, 40);
    } finally {
      await emulator.close();
    }
  });

  it('never sends a request aborted while it waits for the budget, even once the budget frees up, and says it was not sent', async () => {
    const emulator = await startEmulator({ world: { ...defaultWorldSpec(), throttling: { enabled: false } } });
    try {
      const controlPlane = new ArmControlPlane({
        credential: new EmulatorCredential(),
        endpoint: emulator.armEndpoint,
      });
      const subscriptionId = emulator.world.spec.subscriptionId;
      const group = { subscriptionId, resourceGroup: 'rg-fogpilot', name: 'fog-sales' };
      const secondary = emulator.startLine().instances.find((instance) => instance.location === 'westus')!;
      // Another write of the subscription meets a 429: every write of the subscription holds back for its Retry-After.
      emulator.arm.addFault({ kind: 'throttle', match: { method: 'PATCH' }, retryAfterSeconds: 2, count: 1 });
      await assert.rejects(controlPlane.beginScaleManagedInstance(secondary.id, { vCores: 16 }), { statusCode: 429 });

      const caller = new AbortController();
      const held = controlPlane.beginFailover(group, 'westus', 'planned', { abortSignal: caller.signal });
      const heldOutcome = held.then(
        () => undefined,
        (error: unknown) => error,
      );
      caller.abort(new Error('the caller gave up'));
      const error = await heldOutcome;
      assert.ok(error instanceof ArmRequestError, `expected an ArmRequestError, got ${String(error)}`);
      assert.equal(error.delivery, 'not-sent');
      assert.equal(error.code, 'Cancelled');
      assert.match(error.message, /POST not sent: stopped before it left the worker, as the caller gave up/);

      // The next write waits out the same Retry-After: once it has gone, the aborted one had its turn and stayed home.
      await controlPlane.beginFailover(group, 'westus', 'planned');
      assert.equal(emulator.world.invariants().failovers['fog-sales']!.received, 1, 'Azure received one failover POST');
    } finally {
      await emulator.close();
    }
  });
});

/** Azure's sustained reads per second per subscription (see the reference notes, "Throttling"). */
const AZURE_READS_PER_SECOND = 25;

/** The most of `times` (epoch ms) within any sliding 1000 ms. */
function mostInAnySecond(times: number[]): number {
  let most = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= 1000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

async function grantTimes(bucket: TokenBucket, count: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: count }, () =>
      bucket.take().then(() => {
        times.push(Date.now());
      }),
    ),
  );
  return times.sort((a, b) => a - b);
}

describe('the read budget over any 1-s window', () => {
  it('a plain token bucket of burst 20 and 20/s grants more than 25 reads within one second (the check detects it)', async () => {
    const times = await grantTimes(new TokenBucket(20, 20), 45);
    assert.ok(mostInAnySecond(times) > AZURE_READS_PER_SECOND, `most in any 1 s: ${mostInAnySecond(times)}`);
  });

  it('never lets more than 25 reads go within any 1 s at the default budget, burst included', async () => {
    const reads = new SubscriptionRateLimiter(DEFAULT_RATE_LIMITS).reads;
    const times = await grantTimes(reads, 45);
    assert.ok(mostInAnySecond(times) <= AZURE_READS_PER_SECOND, `most in any 1 s: ${mostInAnySecond(times)}`);
  });

  it("does not slow a single runbook's reads: ten at once go without waiting", async () => {
    const reads = new SubscriptionRateLimiter(DEFAULT_RATE_LIMITS).reads;
    const startedAt = Date.now();
    await grantTimes(reads, 10);
    assert.ok(Date.now() - startedAt < 100, `took ${Date.now() - startedAt} ms`);
  });
});

/**
 * How much later a read may reach Azure than another granted at the same moment: the emulator saw reads the worker
 * wrote on time stamped 60-90 ms late (src/azure/rate-limiter.ts, READ_TRANSIT_JITTER_MS); 250 ms leaves room.
 */
const TRANSIT_JITTER_MS = 250;

/**
 * The most reads Azure can count within any 1 s when each read spends between d and d + `jitterMs` on the way: the
 * most grants within any `1000 + jitterMs` ms (the earlier ones held up by `jitterMs`, the later ones not).
 */
function mostArrivingInAnySecond(grants: number[], jitterMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; last < grants.length; last++) {
    while (grants[last]! - grants[first]! >= 1000 + jitterMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * When each of `count` reads, all asked for at once, is granted, on a mocked clock advanced 1 ms at a time, so the
 * times are the bucket's own and no real timer is raced.
 */
async function grantTimesOnMockedClock(
  context: TestContext,
  makeBucket: () => TokenBucket,
  count: number,
): Promise<number[]> {
  context.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const bucket = makeBucket();
  const times: number[] = [];
  const all = Promise.all(Array.from({ length: count }, () => bucket.take().then(() => times.push(Date.now()))));
  let done = false;
  void all.then(() => (done = true));
  for (let elapsed = 0; !done && elapsed < 60_000; elapsed++) {
    await new Promise((resolve) => setImmediate(resolve));
    context.mock.timers.tick(1);
  }
  await all;
  return times.sort((a, b) => a - b);
}

describe('the read budget as Azure counts it, with transit jitter', () => {
  it('a bucket capped at 20 reads in any 1 s lets more than 25 reach Azure within 1 s when the earlier reads are 250 ms slower on the way (the check detects it)', async (context) => {
    const grants = await grantTimesOnMockedClock(
      context,
      () => new TokenBucket(20, 20, Date.now, { maxInAnySecond: 20 }),
      80,
    );
    assert.ok(mostInAnySecond(grants) <= 20, `granted in any 1 s: ${mostInAnySecond(grants)}`);
    const arriving = mostArrivingInAnySecond(grants, TRANSIT_JITTER_MS);
    assert.ok(arriving > AZURE_READS_PER_SECOND, `most arriving in any 1 s: ${arriving}`);
  });

  it('never lets more than 25 reads reach Azure within any 1 s at the default budget while transit times differ by up to 250 ms', async (context) => {
    const grants = await grantTimesOnMockedClock(
      context,
      () => new SubscriptionRateLimiter(DEFAULT_RATE_LIMITS).reads,
      80,
    );
    const arriving = mostArrivingInAnySecond(grants, TRANSIT_JITTER_MS);
    assert.ok(arriving <= AZURE_READS_PER_SECOND, `most arriving in any 1 s: ${arriving}`);
  });

  it('keeps the default budget at 20 reads per second sustained: 100 reads asked for at once all go within 4 s', async (context) => {
    const grants = await grantTimesOnMockedClock(
      context,
      () => new SubscriptionRateLimiter(DEFAULT_RATE_LIMITS).reads,
      100,
    );
    // 20 at once, then 80 more at 20 per second: 4 s, as the plain bucket of burst 20 and 20/s gives.
    assert.ok(grants.at(-1)! <= 4_000, `the last read went at ${grants.at(-1)} ms`);
  });
});
