/**
 * Liveness heartbeats: every activity heartbeats while it runs, so the presets' 5-second heartbeat timeout notices a
 * SIGKILLed worker in seconds; activities with progress of their own keep their details. The fakes answer only once the
 * heartbeats they wait for were seen, so nothing here races a timer.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  createActivities,
  SELF_HEARTBEATING_ACTIVITIES,
  type ActivityDependencies,
  type FailoverProgressReading,
} from '../../src/activities';
import type { ControlPlane } from '../../src/azure/control-plane';
import type { DataPlane } from '../../src/sql/data-plane';
import { Inventory } from '../../src/config/inventory';
import { probeCheckpointFrom, type ProbeTally } from '../../src/domain/probe-tally';

const GROUP = { subscriptionId: 'sub', resourceGroup: 'rg', name: 'fog-sales' };

/** An attempt as the worker runs it for a preset with the 5-second heartbeat timeout. */
function attempt(): MockActivityEnvironment {
  return new MockActivityEnvironment({ heartbeatTimeoutMs: 5_000, startToCloseTimeoutMs: 60_000 });
}

/** Resolves once `env` has emitted `count` heartbeats whose details pass `accept`. */
function heartbeatsSeen(
  env: MockActivityEnvironment,
  count: number,
  accept: (details: unknown) => boolean = () => true,
): Promise<unknown[]> {
  const seen: unknown[] = [];
  return new Promise((resolve) => {
    env.on('heartbeat', (details: unknown) => {
      if (!accept(details)) return;
      seen.push(details);
      if (seen.length === count) resolve(seen);
    });
  });
}

function dependencies(parts: { controlPlane?: Partial<ControlPlane>; dataPlane?: Partial<DataPlane> }) {
  return {
    controlPlane: parts.controlPlane as ControlPlane,
    dataPlane: parts.dataPlane as DataPlane,
    inventory: new Inventory({}),
  } satisfies ActivityDependencies;
}

describe('activities heartbeat while they run', { timeout: 20_000 }, () => {
  it('a read still waiting for its ARM answer heartbeats every second, each heartbeat without details', async () => {
    const env = attempt();
    // Answers only after two heartbeats: a read waiting for the request budget or a slow answer, on a live worker.
    const twoBeats = heartbeatsSeen(env, 2);
    const activities = createActivities(
      dependencies({
        controlPlane: {
          getFailoverProgress: async () => {
            await twoBeats;
            return { value: { state: 'InProgress' as const } };
          },
        },
      }),
    );
    const reading = await env.run((): Promise<FailoverProgressReading> =>
      activities.readFailoverProgress({ group: GROUP, trackingId: 'op-1' }),
    );
    assert.equal(reading.state, 'InProgress');
    assert.deepEqual(await twoBeats, [undefined, undefined]);
  });

  it('an activity run with no heartbeat timeout does not heartbeat', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: undefined, startToCloseTimeoutMs: 60_000 });
    let heartbeats = 0;
    env.on('heartbeat', () => (heartbeats += 1));
    let answered = false;
    const activities = createActivities(
      dependencies({
        controlPlane: {
          // Longer than the keep-alive interval, so a heartbeat would have come.
          getFailoverProgress: () =>
            new Promise((resolve) =>
              setTimeout(() => {
                answered = true;
                resolve({ value: { state: 'Succeeded' as const } });
              }, 1_500),
            ),
        },
      }),
    );
    await env.run(() => activities.readFailoverProgress({ group: GROUP, trackingId: 'op-1' }));
    assert.equal(answered, true);
    assert.equal(heartbeats, 0);
  });

  it('the write probe heartbeats while a write is in flight, with that write counted in doubt, and its checkpoint in every heartbeat', async () => {
    const env = attempt();
    const all: unknown[] = [];
    env.on('heartbeat', (details: unknown) => all.push(details));
    // A write that hangs (the listener moving): it answers once a heartbeat counted it in doubt.
    const inDoubt = heartbeatsSeen(env, 1, (details) => probeCheckpointFrom(details)?.inDoubtSeqs.includes(1) === true);
    let writes = 0;
    const activities = createActivities(
      dependencies({
        dataPlane: {
          insertSmokeRow: async () => {
            writes += 1;
            if (writes === 1) {
              await inDoubt;
              // The probe is cancelled while the first write is answered: the drill stops it there.
              env.cancel();
            }
            return { id: writes, committedAt: new Date().toISOString() };
          },
        },
      }),
    );
    const tally = await env.run((): Promise<ProbeTally> =>
      activities.probeListenerWrites({
        listener: { instanceId: 'mi', host: 'listener.example' },
        database: 'orders',
        label: 'keep-alive-test',
        intervalMs: 50,
      }),
    );
    assert.deepEqual(tally.acknowledgedSeqs, [1], 'the write in flight was finished and counted acknowledged');
    assert.deepEqual(tally.inDoubtSeqs, []);
    const [during] = (await inDoubt).map((details) => probeCheckpointFrom(details)!);
    assert.equal(during!.lastSeq, 1, 'a retried attempt resumes after the write in flight');
    assert.ok(
      all.every((details) => probeCheckpointFrom(details) !== undefined),
      'no heartbeat without the checkpoint replaced it',
    );
  });

  it('names only activities that exist among those that heartbeat their own progress', () => {
    const names = Object.keys(createActivities(dependencies({})));
    for (const name of SELF_HEARTBEATING_ACTIVITIES) assert.ok(names.includes(name), `${name} is an activity`);
  });
});
