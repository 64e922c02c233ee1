/**
 * DR-drill schedules on the real Temporal dev server (the time-skipping server has no Schedules), with a fogpilot
 * worker in this process over a scripted Azure, through `DrillSchedules` and `fogpilot schedule …`.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DrillScheduleNotFoundError,
  DrillSchedules,
  FogpilotClient,
  type DrillScheduleView,
  type DrillTriggerResult,
} from '../../src/client';
import { startDevServer, type DevServer } from '../support/dev-server';
import { StartedWorkflows, scriptedScenario, waitFor } from '../support/runbook-harness';
import { workflowBundle } from '../support/temporal';
import { fogpilot, jsonOf } from './fogpilot-cli';

let server: DevServer;
const started = new StartedWorkflows();
const scheduleIds = new Set<string>();

before(async () => {
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
});
afterEach(async () => {
  for (const id of scheduleIds) {
    await server.env.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  }
  scheduleIds.clear();
  await started.terminateAll(server.env);
});
after(async () => {
  await server?.teardown();
});

/** A group over a scripted Azure whose failovers take a second of real time. */
function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  const s = scriptedScenario(server.env, started, (azure) => {
    azure.roleSwitchMs = 1_000;
    configure?.(azure);
  });
  const cliEnv = { TEMPORAL_ADDRESS: server.address, FOGPILOT_TASK_QUEUE: s.taskQueue };
  return {
    ...s,
    cliEnv,
    schedules: new DrillSchedules(server.env.client, s.taskQueue),
    fogpilot: new FogpilotClient(server.env.client, s.taskQueue),
  };
}

describe('DR-drill schedules', { concurrency: 1, timeout: 120_000 }, () => {
  it('creates a schedule with overlap SKIP, a catch-up window, pause-on-failure and jitter, and lists it with its spec', async () => {
    const s = scenario();
    const created = await fogpilot(
      [
        'schedule',
        'drill',
        s.name,
        '--cron',
        '0 3 * * SAT',
        '--timezone',
        'Europe/Paris',
        '--jitter',
        '30m',
        '--soak',
        '1s',
        '--json',
      ],
      s.cliEnv,
    );
    assert.equal(created.code, 0, created.stderr);
    const view = jsonOf<DrillScheduleView>(created);
    scheduleIds.add(view.scheduleId);
    assert.equal(view.scheduleId, `fogpilot-drill/${s.name}`);
    assert.deepEqual(view.policies, { overlap: 'SKIP', catchupWindowMs: 600_000, pauseOnFailure: true });
    assert.equal(view.spec.timezone, 'Europe/Paris');
    assert.equal(view.spec.jitter, 30 * 60_000);
    assert.deepEqual(
      view.input,
      { ifGroupBusy: 'skip', group: s.name, soak: '1s' },
      'a scheduled drill skips a held group',
    );
    assert.equal(view.taskQueue, s.taskQueue);
    assert.equal(view.paused, false);
    // The next drills are Saturdays between 03:00 and 03:30 in Paris (jitter included in the times shown).
    assert.ok(view.nextActionTimes.length > 0);
    for (const time of view.nextActionTimes) {
      const paris = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Paris',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(time));
      assert.match(paris, /^Sat 03:[0-2]\d$/, time);
    }

    // Listing is eventually consistent in Temporal: the schedule shows within moments.
    let listed: DrillScheduleView | undefined;
    await waitFor(async () => {
      listed = (await s.schedules.list()).find((entry) => entry.scheduleId === view.scheduleId);
      return listed !== undefined;
    }, 'the schedule in the list');
    assert.deepEqual(listed!.when, { cron: '0 3 * * SAT', timezone: 'Europe/Paris', jitter: '30m' });
    const text = await fogpilot(['schedule', 'list'], s.cliEnv);
    assert.match(text.stdout, new RegExp(`fogpilot-drill/${s.name}\\s+\\(drDrill of ${s.name}`));
    assert.match(text.stdout, /when:\s+cron "0 3 \* \* SAT" in Europe\/Paris, jitter up to 30m/);
    assert.match(text.stdout, /overlap SKIP, catch-up window 10m, pauses when a drill fails/);
  });

  it('refuses a malformed schedule with exit 2, naming the flag', async () => {
    const s = scenario();
    const [both, badCron, badSoak] = await Promise.all([
      fogpilot(['schedule', 'drill', s.name, '--cron', '@daily', '--every', '7d'], s.cliEnv),
      fogpilot(['schedule', 'drill', s.name, '--cron', '61 * * * *'], s.cliEnv),
      fogpilot(['schedule', 'drill', s.name, '--every', '7d', '--soak', 'forever'], s.cliEnv),
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /schedule \(--cron or --every\): say when the drill runs/);
    assert.equal(badCron.code, 2, badCron.stderr);
    assert.match(badCron.stderr, /cron \(--cron\): Temporal refused the schedule: Minute is not in range/);
    assert.equal(badSoak.code, 2);
    assert.match(badSoak.stderr, /soak \(--soak\): soak must be a duration/);
    await assert.rejects(s.schedules.describe(`fogpilot-drill/${s.name}`), DrillScheduleNotFoundError);
  });

  it('a trigger runs a drill there and back; a second trigger while it runs is skipped by the overlap policy', async () => {
    const s = scenario();
    const worker = await s.worker();
    await worker.runUntil(async () => {
      // No write probe: stopping it waits on heartbeat throttling, seconds this test does not need to spend.
      const view = await s.schedules.create({
        input: { group: s.name, soak: '1s', smoke: { write: false } },
        every: '30 days',
      });
      scheduleIds.add(view.scheduleId);
      const first = await s.schedules.trigger(view.scheduleId);
      assert.ok(first.started, 'the trigger started a drill');
      started.add(first.started.workflowId);
      assert.match(first.started.workflowId, new RegExp(`^fogpilot/drDrill/${s.name}/scheduled`));

      const second = jsonOf<DrillTriggerResult>(await fogpilot(['schedule', 'trigger', s.name, '--json'], s.cliEnv));
      assert.equal(second.skipped, true, 'skipped while the first drill runs');
      assert.equal(second.started, undefined);
      assert.deepEqual(
        second.running.map((running) => running.workflowId),
        [first.started.workflowId],
      );

      const outcome = await s.fogpilot.result(first.started.workflowId);
      assert.equal(outcome.failure, undefined, JSON.stringify(outcome.failure));
      assert.equal(outcome.report?.outcome, 'succeeded');
      assert.ok(outcome.report?.drill, 'a drill report');
      const after = await s.schedules.describe(view.scheduleId);
      assert.equal(after.actionsTaken, 1);
      assert.equal(after.actionsSkippedOverlap, 1);
      assert.equal(after.paused, false);
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→westus', 'planned→eastus'],
      'one drill: there and back',
    );
  });

  it('a triggered drill while another runbook holds the group is skipped: nothing sent, the schedule stays active', async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const view = await s.schedules.create({ input: { group: s.name, soak: '1s' }, cron: '@weekly' });
      scheduleIds.add(view.scheduleId);
      // A forced failover waits for a person while holding the group's lock.
      const incident = await s.fogpilot.start('forcedFailover', { group: s.name });
      started.add(incident.workflowId);
      await waitFor(
        async () => (await s.fogpilot.status(s.lockId).catch(() => undefined))?.awaiting?.kind === 'approval',
        'the forced failover to wait for approval',
      );

      const triggered = await s.schedules.trigger(view.scheduleId);
      // Overlap SKIP only knows the schedule's own drills: the drill starts, finds the group's lock held, and skips.
      assert.ok(triggered.started, 'the drill was started');
      started.add(triggered.started.workflowId);
      const drill = await s.fogpilot.result(triggered.started.workflowId);
      assert.equal(drill.failure, undefined, drill.failure?.message);
      assert.equal(drill.report?.outcome, 'skipped');
      assert.match(drill.report.warnings.join(' '), new RegExp(`holds ${s.name}.*The drill was skipped`));
      assert.equal(s.azure.failoverRequests, 0, 'no failover sent while the group was held');

      // The skipped drill is not a failure: pause-on-failure leaves the schedule active for the next one.
      const afterSkip = await s.schedules.describe(view.scheduleId);
      assert.equal(afterSkip.paused, false);

      await s.fogpilot.reject(incident.workflowId, { reason: 'drill test' }, 'os-user:test');
      const rejected = await s.fogpilot.result(incident.workflowId);
      assert.equal(rejected.failure?.type, 'ApprovalRejected');
    });
    assert.equal(s.azure.failoverRequests, 0, 'no failover at all');
  });

  it('a drill started by hand while the group is held fails GroupBusy unless it asks to skip', async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const incident = await s.fogpilot.start('forcedFailover', { group: s.name });
      started.add(incident.workflowId);
      await waitFor(
        async () => (await s.fogpilot.status(s.lockId).catch(() => undefined))?.awaiting?.kind === 'approval',
        'the forced failover to wait for approval',
      );
      const byHand = await s.fogpilot.start('drDrill', { group: s.name, soak: '1s' });
      started.add(byHand.workflowId);
      const failed = await s.fogpilot.result(byHand.workflowId);
      assert.equal(failed.failure?.type, 'GroupBusy');
      assert.match(failed.failure.message, new RegExp(`holds ${s.name}`));
      await s.fogpilot.reject(incident.workflowId, { reason: 'drill test' }, 'os-user:test');
      await s.fogpilot.result(incident.workflowId);
    });
    assert.equal(s.azure.failoverRequests, 0);
  });

  it('pauses and unpauses a schedule, by group name or id, with a note', async () => {
    const s = scenario();
    const view = await s.schedules.create({ input: { group: s.name }, every: '7d' });
    scheduleIds.add(view.scheduleId);
    const paused = await fogpilot(['schedule', 'pause', s.name, '--note', 'CHG-9 freeze', '--json'], s.cliEnv);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(jsonOf<DrillScheduleView>(paused).paused, true);
    assert.equal((await s.schedules.describe(view.scheduleId)).note, 'CHG-9 freeze');
    const text = await fogpilot(['schedule', 'list'], s.cliEnv);
    assert.match(text.stdout, /state:\s+paused — CHG-9 freeze/);

    const unpaused = await fogpilot(['schedule', 'unpause', view.scheduleId], s.cliEnv);
    assert.equal(unpaused.code, 0, unpaused.stderr);
    assert.match(unpaused.stdout, new RegExp(`Unpaused fogpilot-drill/${s.name}`));
    const after = await s.schedules.describe(view.scheduleId);
    assert.equal(after.paused, false);
    assert.ok(after.nextActionTimes.length > 0, 'an unpaused schedule has next runs');
  });

  it('gives the drills of two groups whose sub/rg/name differ only in where a hyphen falls workflow ids of their own', async () => {
    const s = scenario();
    const group = (resourceGroup: string, name: string) => ({
      subscriptionId: s.azure.coordinates.subscriptionId,
      resourceGroup,
      name,
      primaryLocation: 'eastus',
      secondaryLocation: 'westus',
    });
    const actions: string[] = [];
    for (const input of [{ group: group('rg-a-b', 'c') }, { group: group('rg-a', 'b-c') }]) {
      const view = await s.schedules.create({ input, every: '7d', paused: true });
      scheduleIds.add(view.scheduleId);
      const { action } = await server.env.client.schedule.getHandle(view.scheduleId).describe();
      assert.equal(action.type, 'startWorkflow');
      actions.push(action.workflowId);
    }
    // Drills due at the same minute get Temporal's same time suffix: only distinct prefixes let both start.
    assert.deepEqual(actions, [
      `fogpilot/drDrill/${s.azure.coordinates.subscriptionId}/rg-a-b/c/scheduled`,
      `fogpilot/drDrill/${s.azure.coordinates.subscriptionId}/rg-a/b-c/scheduled`,
    ]);
  });

  it('deletes a schedule; afterwards triggering or pausing it exits 3', async () => {
    const s = scenario();
    const view = await s.schedules.create({ input: { group: s.name }, every: '7d' });
    scheduleIds.add(view.scheduleId);
    const deleted = await fogpilot(['schedule', 'delete', s.name], s.cliEnv);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`Deleted fogpilot-drill/${s.name}`));
    await assert.rejects(s.schedules.describe(view.scheduleId), DrillScheduleNotFoundError);
    const verbs = ['trigger', 'pause'];
    const runs = await Promise.all(verbs.map((verb) => fogpilot(['schedule', verb, s.name], s.cliEnv)));
    runs.forEach((run, index) => {
      assert.equal(run.code, 3, `${verbs[index]}: ${run.stderr}`);
      assert.match(run.stderr, /No schedule fogpilot-drill\/.+\n.*schedule list/);
    });
  });
});
