/**
 * watchGroups on Temporal's time-skipping test server, with the real activities over scripted groups and a real HTTP
 * receiver for its notifications: a switch made behind fogpilot's back is recorded and notified (and, when asked, a
 * failback is started under the group's lock), a switch made by a fogpilot runbook is not, and hours of looks stay in
 * small histories. Tests run one at a time (time skipping is global); each waits for observed state, never a delay.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { ArmAnswer, GroupIdentity } from '../../src/azure/control-plane';
import type { FailoverGroupView } from '../../src/domain/azure-state';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { ConfigSchema } from '../../src/config/config';
import type { RunbookNotification } from '../../src/notify/events';
import { verifySignature } from '../../src/notify/signature';
import {
  abortSignal,
  watchStatusQuery,
  type RunbookReport,
  type WatchChange,
  type WatchStatus,
} from '../../src/workflows/definitions';
import { WATCH_LOOKS_PER_RUN } from '../../src/workflows/steps/watch-steps';
import { startReceiver, type LocalReceiver } from '../hooks/local-receiver';
import { boundedIt, endingOf, timeSkippingFrame, waitFor } from '../support/runbook-harness';
import { ScriptedAzure, type ScriptedAzureOptions } from '../support/scripted-azure';
import { Inventory, createTestWorker, uniqueTaskQueue } from '../support/temporal';

const it = boundedIt(180_000);
const frame = timeSkippingFrame();
const SECRET = 'watch-notification-key-0123456789abcdef';

let receiver: LocalReceiver;
before(async () => {
  receiver = await startReceiver({ status: 204 });
});
after(async () => {
  await receiver.close();
});

/** A second group in the same subscription and resource group, listed by the first one's list calls. */
class SharedScopeAzure extends ScriptedAzure {
  constructor(
    options: ScriptedAzureOptions,
    readonly other: ScriptedAzure,
  ) {
    super(options);
  }

  override getFailoverGroup(group: GroupIdentity, location: string): Promise<ArmAnswer<FailoverGroupView>> {
    if (group.name === this.other.coordinates.name) return this.other.getFailoverGroup(group, location);
    return super.getFailoverGroup(group, location);
  }

  override async listFailoverGroups(scope: {
    subscriptionId: string;
    resourceGroup: string;
    location: string;
  }): Promise<ArmAnswer<FailoverGroupView[]>> {
    const mine = await super.listFailoverGroups(scope);
    if (mine.value.length === 0) return mine;
    const theirs = await this.other.getFailoverGroup(this.other.coordinates, scope.location);
    return { value: [...mine.value, theirs.value] };
  }
}

let counter = 0;

/** One or two groups in one resource group, in the worker's inventory and its notification configuration. */
function scenario(options: { groups?: 1 | 2 } = {}) {
  const clock = () => frame.env.currentTimeMs();
  const id = ++counter;
  const second = options.groups === 2 ? new ScriptedAzure({ clock, groupName: `fog-w${id}b` }) : undefined;
  const azure = second
    ? new SharedScopeAzure({ clock, groupName: `fog-w${id}a` }, second)
    : new ScriptedAzure({ clock, groupName: `fog-w${id}a` });
  const groups = {
    [azure.coordinates.name]: azure.coordinates,
    ...(second ? { [second.coordinates.name]: second.coordinates } : {}),
  };
  const config = ConfigSchema.parse({
    inventory: groups,
    notifications: [{ name: 'ops', url: `${receiver.origin}/notify`, secretEnv: 'FOGPILOT_TEST_NOTIFY_KEY' }],
  });
  const taskQueue = uniqueTaskQueue();
  const called: string[] = [];
  const deps = {
    controlPlane: azure,
    dataPlane: azure,
    inventory: new Inventory(groups),
    outbound: { config, env: { FOGPILOT_TEST_NOTIFY_KEY: SECRET } },
  };
  const watchId = `watch-${id}`;
  receiver.requests.length = 0;
  return {
    azure,
    second,
    name: azure.coordinates.name,
    lockId: lockWorkflowId(azure.coordinates),
    watchId,
    taskQueue,
    called,
    worker: () => createTestWorker({ env: frame.env, taskQueue, deps, called }),
    async startWatch(input: Record<string, unknown> = {}): Promise<WorkflowHandle> {
      frame.started.add(watchId, lockWorkflowId(azure.coordinates));
      return frame.env.client.workflow.start('watchGroups', {
        taskQueue,
        workflowId: watchId,
        args: [{ interval: '1 minute', ...input }],
      });
    },
  };
}

/**
 * A run's report, waited for with time skipping (the time-skipping client unlocks it while it waits). On this server
 * that wait leaves time skipping locked once more than it found it, so `env.sleep` would then pass in real time: unlock
 * it again, and the watch's next look stays one skipped interval away.
 */
async function resultOf(handle: WorkflowHandle): Promise<RunbookReport> {
  try {
    return (await handle.result()) as RunbookReport;
  } finally {
    await frame.env.connection.testService!.unlockTimeSkipping({});
  }
}

async function watchStatus(handle: WorkflowHandle): Promise<WatchStatus> {
  return handle.query(watchStatusQuery);
}

/** Waits for the watch's next look: moves the test server's clock one interval and waits until the look is in. */
async function nextLook(handle: WorkflowHandle): Promise<WatchStatus> {
  const before = (await watchStatus(handle)).looks;
  await frame.env.sleep('1 minute');
  await waitFor(async () => (await watchStatus(handle)).looks > before, `look ${before + 1}`);
  return watchStatus(handle);
}

/** Looks until `seen` holds (at most `looks` more looks): for a change whose moment the test does not fix. */
async function lookUntil(
  handle: WorkflowHandle,
  seen: (status: WatchStatus) => boolean,
  what: string,
  looks = 10,
): Promise<WatchStatus> {
  for (let look = 0; ; look++) {
    const status = await watchStatus(handle);
    if (seen(status)) return status;
    assert.ok(look < looks, `${what}: not seen in ${looks} more looks: ${JSON.stringify(status.changes)}`);
    await nextLook(handle);
  }
}

function notifications(event?: string): { payload: RunbookNotification; verified: boolean }[] {
  return receiver.requests
    .filter((request) => request.url === '/notify')
    .map((request) => ({
      payload: JSON.parse(request.rawBody.toString('utf8')) as RunbookNotification,
      verified: verifySignature(SECRET, String(request.headers['x-fogpilot-signature']), request.rawBody).ok,
    }))
    .filter((entry) => event === undefined || entry.payload.event === event);
}

/** The notification children the watch started, over all its runs. */
async function notificationChildren(handle: WorkflowHandle): Promise<number> {
  let count = 0;
  for (const events of await historiesOf(handle)) {
    count += events.filter(
      (event) =>
        event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'deliverNotifications',
    ).length;
  }
  return count;
}

async function stopWatch(handle: WorkflowHandle): Promise<RunbookReport> {
  await handle.signal(abortSignal, { by: 'oncall', reason: 'test done' });
  const { report, failure } = await endingOf(handle);
  assert.equal(failure, undefined, failure?.message);
  return report;
}

function listCalls(azure: ScriptedAzure): { location: string; at: number }[] {
  return azure.calls
    .filter((call) => call.method === 'listFailoverGroups')
    .map((call) => ({ location: (call.args as { location: string }).location, at: call.at }));
}

describe('watchGroups', { concurrency: 1 }, () => {
  it('records and notifies a failover Azure made while a region was dark, read from the surviving region, with one list call per scope per look shared by the groups there', async () => {
    const s = scenario({ groups: 2 });
    const worker = await s.worker();
    const handle = await s.startWatch();
    const report = await worker.runUntil(async () => {
      await waitFor(async () => (await watchStatus(handle)).looks >= 1, 'the first look');
      const first = await watchStatus(handle);
      assert.deepEqual(
        first.groups.map((group) => [group.group, group.primaryLocation, group.read]),
        [
          [s.name, 'eastus', 'both'],
          [s.second!.coordinates.name, 'eastus', 'both'],
        ],
      );
      // Azure's own failover: eastus goes dark, and the group's primary is now westus, asked by nobody.
      s.azure.darkLocations.add('eastus');
      s.azure.primaryLocation = 'westus';
      const seen = await nextLook(handle);
      assert.equal(seen.changes.length, 1, JSON.stringify(seen.changes));
      const change = seen.changes[0]!;
      assert.equal(change.group, s.name);
      assert.deepEqual(
        [change.from, change.to, change.read, change.byFogpilot],
        ['eastus', 'westus', 'survivor', false],
      );
      assert.equal(change.notified, true);
      assert.equal(change.failback, undefined, 'no failback unless asked');
      assert.ok(Date.parse(change.previousReadAt!) < Date.parse(change.seenAt));
      // The other group's surviving region says Secondary: its primary is not known, so no change is made up.
      assert.equal(seen.groups[1]!.read, 'ambiguous');
      assert.equal(seen.groups[1]!.primaryLocation, 'eastus', 'its last known primary stays');
      assert.equal(seen.unansweredScopes.length, 1);
      assert.match(seen.unansweredScopes[0]!.scope, /\/rg-fog\/eastus$/);

      // A signed azureFailoverSeen reaches the receiver.
      await waitFor(() => notifications('azureFailoverSeen').length > 0, 'the azureFailoverSeen notification');
      const [notification] = notifications('azureFailoverSeen');
      assert.equal(notification!.verified, true, 'it verifies with the key');
      const payload = notification!.payload;
      assert.equal(payload.runbook, 'watchGroups');
      assert.equal(payload.group, s.name);
      assert.equal(payload.fromLocation, 'eastus');
      assert.equal(payload.toLocation, 'westus');
      assert.match(payload.message, /moved from eastus to westus without a fogpilot runbook \(read from westus alone/);
      const raw = receiver.requests.find((request) => request.url === '/notify')!;
      assert.equal(
        verifySignature('another-key', String(raw.headers['x-fogpilot-signature']), raw.rawBody).ok,
        false,
        'a positive control: another key does not verify it',
      );

      // One more look, then count: one list call per scope (rg-fog at eastus, at westus) per look, for both groups.
      const last = await nextLook(handle);
      const lists = listCalls(s.azure);
      assert.equal(lists.length, 2 * last.looks, `${lists.length} list calls over ${last.looks} looks`);
      assert.deepEqual([...new Set(lists.map((call) => call.location))].sort(), ['eastus', 'westus']);
      for (const location of ['eastus', 'westus'])
        assert.equal(lists.filter((call) => call.location === location).length, last.looks, location);
      // No other read: the group reads inside the scripted list answers, the second group's only through them.
      const methods = new Set(s.azure.methods());
      assert.deepEqual([...methods].sort(), ['getFailoverGroup', 'listFailoverGroups']);
      assert.ok(s.second!.methods().every((method) => method === 'getFailoverGroup'));
      assert.ok(s.second!.calls.length <= lists.length, 'the second group is read only within the shared list calls');
      return stopWatch(handle);
    });
    assert.equal(report.outcome, 'succeeded');
    assert.equal(report.abort?.by, 'oncall');
    assert.equal(report.watch?.changes.length, 1);
    assert.ok(report.armCalls.reads >= 2 * report.watch.looks, `ARM reads ${report.armCalls.reads}`);
    assert.equal(report.armCalls.writes, 0);
    assert.ok(
      report.warnings.some((warning) => /moved from eastus to westus without a fogpilot runbook/.test(warning)),
    );
  });

  it("with startFailback, starts a failback under the group's lock id for a change away from home, and does not report that failback's switch home as Azure's", async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.startWatch({ startFailback: true, failbackWaitTimeout: '2 days' });
    const report = await worker.runUntil(async () => {
      await waitFor(async () => (await watchStatus(handle)).looks >= 1, 'the first look');
      s.azure.primaryLocation = 'westus';
      const seen = await nextLook(handle);
      const change = seen.changes[0];
      assert.ok(change, 'the change is recorded');
      assert.equal(change.byFogpilot, false);
      assert.equal(change.failback?.outcome, 'started', JSON.stringify(change.failback));
      assert.equal(change.failback.workflowId, s.lockId);

      // The failback holds the group's lock, with the wait the watch was given, and brings the group home.
      const lockHolder = frame.env.client.workflow.getHandle(s.lockId);
      const description = await lockHolder.describe();
      assert.equal(description.type, 'failback');
      assert.equal(description.runId, change.failback.runId);
      const history = await lockHolder.fetchHistory();
      const failbackInput = JSON.parse(
        Buffer.from(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!).toString(
          'utf8',
        ),
      ) as Record<string, unknown>;
      assert.equal(failbackInput.group, s.name);
      assert.equal(failbackInput.waitTimeout, '2 days');
      const failback = await resultOf(lockHolder);
      assert.equal(failback.outcome, 'succeeded');
      assert.equal(s.azure.primaryLocation, 'eastus');
      assert.equal(s.azure.acceptedFailovers.length, 1, 'the failback sent one failover, toward home');

      // The switch home is the failback's: seen, recorded as fogpilot's, not notified, no second failback.
      const home = (await lookUntil(handle, (status) => status.changes.length === 2, 'the switch home')).changes[1]!;
      assert.deepEqual([home.from, home.to, home.byFogpilot], ['westus', 'eastus', true]);
      assert.match(home.explanation, /failback/);
      assert.equal(home.failback, undefined);
      assert.equal(home.notified, undefined);
      await waitFor(() => notifications('azureFailoverSeen').length === 1, 'the one azureFailoverSeen');
      return stopWatch(handle);
    });
    assert.equal(report.outcome, 'succeeded');
    assert.equal(report.watch?.changes.filter((entry: WatchChange) => !entry.byFogpilot).length, 1);
    assert.equal(notifications('azureFailoverSeen').length, 1);
  });

  it('does not report a switch made by a fogpilot plannedFailover as Azure’s, and reports the same switch made behind its back', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.startWatch();
    await worker.runUntil(async () => {
      await waitFor(async () => (await watchStatus(handle)).looks >= 1, 'the first look');
      // fogpilot's own planned failover, under the group's lock.
      const planned = await frame.env.client.workflow.start('plannedFailover', {
        taskQueue: s.taskQueue,
        workflowId: s.lockId,
        workflowIdConflictPolicy: 'FAIL',
        args: [{ group: s.name }],
      });
      const plannedReport = await resultOf(planned);
      assert.equal(plannedReport.outcome, 'succeeded');
      assert.equal(s.azure.primaryLocation, 'westus');
      const ours = (await lookUntil(handle, (status) => status.changes.length === 1, 'the planned switch')).changes[0]!;
      assert.deepEqual([ours.from, ours.to, ours.byFogpilot], ['eastus', 'westus', true]);
      assert.match(ours.explanation, /plannedFailover/);
      assert.equal(ours.notified, undefined);
      assert.equal(await notificationChildren(handle), 0, 'no azureFailoverSeen was started');

      // The positive control: the same kind of switch, back, made by nobody fogpilot knows.
      s.azure.primaryLocation = 'eastus';
      const seen = await nextLook(handle);
      const theirs = seen.changes[1];
      assert.ok(theirs, JSON.stringify(seen.changes));
      assert.deepEqual([theirs.from, theirs.to, theirs.byFogpilot, theirs.notified], ['westus', 'eastus', false, true]);
      assert.match(theirs.explanation, /no fogpilot runbook held the group's lock since the previous look/);
      assert.equal(await notificationChildren(handle), 1);
      await waitFor(() => notifications('azureFailoverSeen').length === 1, 'the azureFailoverSeen notification');
      assert.equal(notifications('azureFailoverSeen')[0]!.payload.toLocation, 'eastus');
      await stopWatch(handle);
    });
  });

  const LOOKS = 90;
  it('keeps looking for an hour and a half of simulated time, continuing as new with the last roles and the changes, each run a small history', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.startWatch();
    const report = await worker.runUntil(async () => {
      await waitFor(async () => (await watchStatus(handle)).looks >= 1, 'the first look');
      s.azure.primaryLocation = 'westus';
      assert.equal((await nextLook(handle)).changes.length, 1);
      // Three continue-as-new at WATCH_LOOKS_PER_RUN looks per run: enough to show the state carried, few enough that a
      // busy machine still does every look within the test's time (5 hours, 280 looks, did not on CI run 15).
      await frame.env.sleep('90 minutes');
      await waitFor(async () => (await watchStatus(handle)).looks >= LOOKS, 'an hour and a half of looks');
      const status = await watchStatus(handle);
      // The change seen in the first run is still known, and the roles carried: no change was made up on resuming.
      assert.equal(status.changes.length, 1);
      assert.equal(status.changes[0]!.to, 'westus');
      assert.equal(status.groups[0]!.primaryLocation, 'westus');
      const runs = await runsOf(handle);
      assert.ok(runs.length >= Math.floor(LOOKS / WATCH_LOOKS_PER_RUN), `runs: ${runs.length}`);
      for (const events of runs) assert.ok(events < 400, `a run's history had ${events} events`);
      return stopWatch(handle);
    });
    assert.equal(report.outcome, 'succeeded');
    assert.ok(report.watch!.looks >= LOOKS);
    // The report counts the ARM calls of every run, not only the last one's.
    assert.ok(report.armCalls.reads >= 2 * report.watch!.looks, `ARM reads ${report.armCalls.reads}`);
    assert.equal(report.watch?.changes.length, 1);
  });

  it('refuses an interval shorter than 15 seconds, naming the field, before reading anything', async () => {
    const s = scenario();
    const worker = await s.worker();
    const handle = await s.startWatch({ interval: '5 seconds' });
    const { failure } = await worker.runUntil(endingOf(handle));
    assert.equal(failure?.type, 'InvalidInput');
    assert.match(failure.message, /interval must be between 15 seconds and 1 hour/);
    assert.equal(s.azure.calls.length, 0);
  });
});

type HistoryEvents = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>;

/** The history of each run of the workflow, the last first (continue-as-new chains runs under one id). */
async function historiesOf(handle: WorkflowHandle): Promise<HistoryEvents[]> {
  const client = frame.env.client;
  const histories: HistoryEvents[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(handle.workflowId).describe()).runId;
  for (let guard = 0; runId && guard < 100; guard++) {
    const events: HistoryEvents =
      (await client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
    histories.push(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  return histories;
}

/** The number of history events of each run. */
async function runsOf(handle: WorkflowHandle): Promise<number[]> {
  return (await historiesOf(handle)).map((events) => events.length);
}
