/**
 * The client-side ARM budget: token buckets per subscription, and the control plane spending it so a worker stays
 * under the subscription's rate instead of meeting 429s.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { TokenBucket } from '../../src/azure/rate-limiter';
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
});

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
});
