/**
 * The control-plane activities through the real @azure/arm-sql over real HTTP against the emulator: what each reads or
 * changes, and how every fault kind is classified at the boundary.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createArmActivities, type FailoverSendResult } from '../../src/activities/arm';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { classifyArmError } from '../../src/azure/errors';
import { Inventory } from '../../src/config/inventory';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec } from '../../src/emulator/world-spec';
import type { FaultSpecInput } from '../../src/emulator/faults';
import { listenerHost, resolvedGroup, type GroupCoordinates } from '../../src/domain/group-ref';
import { mayHaveReachedAzure } from '../../src/workflows/steps/send-failover';

let emulator: Emulator;
let controlPlane: ArmControlPlane;
let activities: ReturnType<typeof createArmActivities>;
let coordinates: GroupCoordinates;

const world = () => ({
  ...defaultWorldSpec(),
  timings: { roleSwitchSeconds: 30, roleFlipSkewSeconds: 1, vCoreScaleSeconds: 60 },
  throttling: { enabled: false },
});

before(async () => {
  emulator = await startEmulator({ world: world(), speed: 100 });
  controlPlane = new ArmControlPlane({
    credential: new EmulatorCredential(),
    endpoint: emulator.armEndpoint,
    requestTimeoutMs: 2_000,
  });
  coordinates = {
    subscriptionId: emulator.world.spec.subscriptionId,
    resourceGroup: 'rg-fogpilot',
    name: 'fog-sales',
    primaryLocation: 'eastus',
    secondaryLocation: 'westus',
  };
  activities = createArmActivities({ controlPlane, inventory: new Inventory({ 'fog-sales': coordinates }) });
});
after(async () => emulator?.close());
beforeEach(() => {
  emulator.world.load(world());
  emulator.arm.faults.remove();
});

const group = () => resolvedGroup(coordinates, 'fog-sales');
const fault = (spec: FaultSpecInput) => emulator.arm.addFault(spec);
const secondaryId = () => emulator.startLine().instances.find((instance) => instance.location === 'westus')!.id;

async function failureOf(work: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('ARM activities against the emulator', () => {
  it('resolves a group from its ARM id alone, finding the partner region from partnerRegions', async () => {
    const id = emulator.startLine().groups[0]!.id.replace('/locations/EastUS/', '/locations/East%20US/');
    const { group: resolved, armCalls } = await createArmActivities({
      controlPlane,
      inventory: new Inventory(),
    }).resolveGroup(decodeURIComponent(id));
    assert.equal(resolved.primaryLocation, 'eastus');
    assert.equal(resolved.secondaryLocation, 'westus');
    assert.equal(resolved.lockWorkflowId, `fogpilot/${coordinates.subscriptionId}/rg-fogpilot/fog-sales`);
    assert.equal(armCalls.reads, 1);
  });

  it('reads the roles at both locations, each from its own side, and counts two reads', async () => {
    const reading = await activities.readGroupRoles({ group: group(), locations: ['eastus', 'West US'] });
    assert.deepEqual(
      reading.views.map((view) => [view.location, view.replicationRole, view.partnerLocation]),
      [
        ['eastus', 'Primary', 'westus'],
        ['westus', 'Secondary', 'eastus'],
      ],
    );
    assert.equal(reading.summary.consistent, true);
    assert.equal(reading.summary.status, 'synchronizing');
    assert.deepEqual(reading.armCalls, { reads: 2, writes: 0, throttled: 0 });
  });

  it('reads both instances with their operations in flight', async () => {
    emulator.world.requestScale(emulator.world.instanceById(secondaryId())!, { vCores: 16 });
    const roles = await activities.readGroupRoles({ group: group(), locations: ['eastus', 'westus'] });
    const reading = await activities.readInstances({
      instanceIds: [roles.views[0]!.primaryManagedInstanceId, roles.views[0]!.partnerManagedInstanceId],
    });
    const secondary = reading.instances.find((entry) => entry.instance.location === 'westus')!;
    assert.equal(secondary.instance.provisioningState, 'Updating');
    assert.equal(secondary.operationsInFlight.length, 1);
    assert.equal(secondary.operationsInFlight[0]!.requested?.vCores, 16);
    assert.equal(reading.instances.find((entry) => entry.instance.location === 'eastus')!.operationsInFlight.length, 0);
  });

  it('starts a scale once: a retry adopts the running operation, and after it ends nothing is sent', async () => {
    const target = { vCores: 16, storageSizeInGB: 256 };
    const first = await activities.startInstanceScale({ instanceId: secondaryId(), target });
    assert.equal(first.status, 'started');
    assert.deepEqual(first.before, { vCores: 8, storageSizeInGB: 256 });
    const retried = await activities.startInstanceScale({ instanceId: secondaryId(), target });
    assert.equal(retried.status, 'adopted-operation');
    assert.equal(retried.trackingId, first.trackingId);
    await until(
      async () =>
        (await activities.readOperationProgress({ instanceId: secondaryId(), trackingId: first.trackingId! })).state ===
        'Succeeded',
      'the scale to end',
    );
    const after = await activities.startInstanceScale({ instanceId: secondaryId(), target });
    assert.equal(after.status, 'already-at-target');
    assert.equal(emulator.world.events.filter((event) => event.kind === 'scale-requested').length, 1, 'one PATCH');
  });

  it("follows a scale's progress and reports a failed one with Azure's message", async () => {
    fault({ kind: 'operation-fails', instance: 'fog-sales-westus' });
    const started = await activities.startInstanceScale({ instanceId: secondaryId(), target: { vCores: 16 } });
    const seen: number[] = [];
    await until(async () => {
      const progress = await activities.readOperationProgress({
        instanceId: secondaryId(),
        trackingId: started.trackingId!,
      });
      seen.push(progress.percentComplete ?? 0);
      return progress.state !== 'InProgress';
    }, 'the scale to end');
    const final = await activities.readOperationProgress({
      instanceId: secondaryId(),
      trackingId: started.trackingId!,
    });
    assert.equal(final.state, 'Failed');
    assert.match(final.error?.message ?? '', /rolled back/);
    assert.ok(
      seen.some((percent) => percent > 0 && percent < 100),
      `progress was visible: ${seen.join(',')}`,
    );
  });

  it('sends a failover once, follows it to Succeeded, then finds the target already primary', async () => {
    const sent = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    assert.equal(sent.outcome, 'sent');
    assert.ok(sent.trackingId);
    assert.deepEqual(sent.armCalls.writes, 1);
    const again = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    assert.equal(again.outcome, 'in-progress', 'a failover under way is not sent again');
    await until(
      async () =>
        (await activities.readFailoverProgress({ group: group(), trackingId: sent.trackingId! })).state === 'Succeeded',
      'the failover',
    );
    const done = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    assert.equal(done.outcome, 'already-primary');
    assert.deepEqual(emulator.world.invariants().failovers['fog-sales'], {
      received: 1,
      accepted: 1,
      refused: 0,
      acceptedTo: { westus: 1 },
    });
  });

  it("sends the failover with one POST and no status read of its own: following the operation is the caller's", async () => {
    const sent = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    assert.equal(sent.outcome, 'sent');
    assert.match(sent.trackingId ?? '', /instanceFailoverGroupAzureAsyncOperation/);
    assert.deepEqual(sent.armCalls, { reads: 1, writes: 1, throttled: 0 }, 'the look at the target, then the POST');
  });

  it('stands on a target view it is given, and reads afresh when Azure refuses the POST because the target is primary', async () => {
    const { views } = await activities.readGroupRoles({ group: group(), locations: ['westus'] });
    const secondaryView = views[0]!;
    const sent = await activities.sendFailover({
      group: group(),
      targetLocation: 'westus',
      kind: 'planned',
      targetView: secondaryView,
    });
    assert.equal(sent.outcome, 'sent');
    assert.equal(sent.targetRoleBefore, 'Secondary');
    assert.deepEqual(sent.armCalls, { reads: 0, writes: 1, throttled: 0 }, 'no read before the POST');
    await until(
      async () =>
        (await activities.readFailoverProgress({ group: group(), trackingId: sent.trackingId! })).state === 'Succeeded',
      'the failover',
    );
    // The same view, now out of date: Azure refuses the POST (400 on the primary) and a fresh read says why.
    const stale = await activities.sendFailover({
      group: group(),
      targetLocation: 'westus',
      kind: 'planned',
      targetView: secondaryView,
    });
    assert.equal(stale.outcome, 'already-primary');
    assert.equal(stale.posted, false);
    assert.equal(stale.targetRoleBefore, 'Primary');
    assert.deepEqual(stale.armCalls, { reads: 1, writes: 1, throttled: 0 }, 'the refused POST, then the fresh read');
    assert.deepEqual(emulator.world.invariants().failovers['fog-sales'], {
      received: 2,
      accepted: 1,
      refused: 1,
      acceptedTo: { westus: 1 },
    });
  });

  it('sends one POST when the answer to the first is lost and the activity is retried', async () => {
    fault({ kind: 'reset', when: 'after', match: { method: 'POST', path: '/failover' }, count: 1 });
    const lost = await failureOf(
      activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' }),
    );
    assert.equal(lost.type, 'ArmUnavailable');
    assert.equal(
      (lost.details?.[0] as { delivery: string }).delivery,
      'unknown',
      'the failure says the POST may have reached Azure',
    );
    const retried = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    assert.equal(retried.outcome, 'in-progress');
    assert.equal(
      emulator.world.invariants().failovers['fog-sales']!.received,
      1,
      'the emulator received one failover POST',
    );
  });

  it('records a 409 InstanceFailoverGroupBusy answer to the POST as refused, not sent', async () => {
    fault({ kind: 'busy', match: { method: 'POST', path: '/failover' }, count: 1 });
    const sent = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    assert.equal(sent.outcome, 'refused-busy');
    assert.equal(sent.posted, false);
    assert.equal(sent.trackingId, undefined);
  });

  it("reports a failover that Azure ends Failed, with ARM's error code", async () => {
    fault({ kind: 'failover-fails', group: 'fog-sales', code: 'PlannedFailoverTimedOut' });
    const sent = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    await until(
      async () =>
        (await activities.readFailoverProgress({ group: group(), trackingId: sent.trackingId! })).state !==
        'InProgress',
      'the failover to end',
    );
    const progress = await activities.readFailoverProgress({ group: group(), trackingId: sent.trackingId! });
    assert.equal(progress.state, 'Failed');
    assert.equal(progress.error?.code, 'PlannedFailoverTimedOut');
  });

  it("keeps a failover that never completes InProgress, with the server's Retry-After", async () => {
    fault({ kind: 'failover-never-completes', group: 'fog-sales' });
    const sent = await activities.sendFailover({ group: group(), targetLocation: 'westus', kind: 'planned' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const progress = await activities.readFailoverProgress({ group: group(), trackingId: sent.trackingId! });
    assert.equal(progress.state, 'InProgress');
    assert.equal(progress.retryAfterMs, 1_000);
  });
});

describe('the failover send is bounded in time', () => {
  const HELD_SECONDS = 3;
  let sending: ReturnType<typeof createArmActivities>;
  let budget: ArmControlPlane;

  beforeEach(() => {
    // A control plane of its own per test, so the request budget one test holds back does not hold the next.
    budget = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
    sending = createArmActivities({
      controlPlane: budget,
      inventory: new Inventory({ 'fog-sales': coordinates }),
      sendHeartbeatIntervalMs: 20,
    });
  });

  /** Another write of the subscription meets a 429: every write of the subscription holds back for its Retry-After. */
  async function holdWrites(): Promise<void> {
    fault({ kind: 'throttle', match: { method: 'PATCH' }, retryAfterSeconds: HELD_SECONDS, count: 1 });
    await assert.rejects(budget.beginScaleManagedInstance(secondaryId(), { vCores: 16 }), { statusCode: 429 });
  }

  /** An attempt as the worker runs it for the workflow's send preset, with a start-to-close of `timeoutMs`. */
  function attempt(timeoutMs: number): MockActivityEnvironment {
    return new MockActivityEnvironment({
      startToCloseTimeoutMs: timeoutMs,
      scheduleToCloseTimeoutMs: 0,
      scheduledTimestampMs: Date.now(),
      currentAttemptScheduledTimestampMs: Date.now(),
      heartbeatTimeoutMs: 30_000,
    });
  }

  const send = (env: MockActivityEnvironment): Promise<FailoverSendResult> =>
    env.run((request: Parameters<typeof sending.sendFailover>[0]) => sending.sendFailover(request), {
      group: group(),
      targetLocation: 'westus',
      kind: 'planned' as const,
    });

  const postsReceived = () => emulator.world.invariants().failovers['fog-sales']?.received ?? 0;

  it('never POSTs from an attempt that timed out while held by the request budget; the retry sends the one POST', async () => {
    await holdWrites();
    const first = attempt(1_000);
    let heartbeats = 0;
    first.on('heartbeat', () => (heartbeats += 1));
    const timedOut = await failureOf(send(first));
    assert.equal(timedOut.type, 'ArmUnavailable');
    assert.notEqual(timedOut.nonRetryable, true);
    assert.deepEqual(
      {
        code: (timedOut.details?.[0] as { code: string }).code,
        delivery: (timedOut.details?.[0] as { delivery: string }).delivery,
      },
      { code: 'DeadlineExceeded', delivery: 'not-sent' },
    );
    assert.equal(mayHaveReachedAzure(timedOut), false, 'the workflow may send again without looking for its effect');
    assert.ok(heartbeats >= 2, `the attempt heartbeated while it waited (${heartbeats} heartbeats)`);
    assert.equal(postsReceived(), 0);

    // The workflow's next attempt waits out the same Retry-After and is granted the budget the first one waited for.
    const retried = await send(attempt(120_000));
    assert.equal(retried.outcome, 'sent');
    assert.equal(retried.posted, true);
    assert.deepEqual(emulator.world.invariants().failovers['fog-sales'], {
      received: 1,
      accepted: 1,
      refused: 0,
      acceptedTo: { westus: 1 },
    });
  });

  it('never POSTs from an attempt cancelled while held by the request budget', async () => {
    await holdWrites();
    const first = attempt(120_000);
    // The first heartbeat comes as the attempt starts, the next ones while it waits: cancel once it waits.
    let heartbeats = 0;
    first.on('heartbeat', () => {
      heartbeats += 1;
      if (heartbeats === 3) first.cancel();
    });
    const cancelled = await failureOf(send(first));
    assert.equal((cancelled.details?.[0] as { delivery: string }).delivery, 'not-sent');
    assert.equal((cancelled.details?.[0] as { code: string }).code, 'Cancelled');

    const retried = await send(attempt(120_000));
    assert.equal(retried.outcome, 'sent');
    assert.equal(postsReceived(), 1, 'Azure received one failover POST');
  });
});

describe('faults are classified at the boundary', () => {
  const read = () => activities.readGroupRoles({ group: group(), locations: ['eastus'] });

  it("a 429 is a retryable ArmThrottled failure that waits the server's Retry-After", async () => {
    fault({ kind: 'throttle', retryAfterSeconds: 7, count: 1 });
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmThrottled');
    assert.notEqual(failure.nonRetryable, true);
    assert.equal(failure.nextRetryDelay, 7_000);
    assert.equal((await read()).summary.primaryLocation, 'eastus', 'the next attempt goes through');
  });

  it('a 503 is throttling too', async () => {
    fault({ kind: 'throttle', status: 503, retryAfterSeconds: 3, count: 1 });
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmThrottled');
    assert.equal(failure.nextRetryDelay, 3_000);
  });

  it("the subscription's read bucket running dry answers 429 with the time until a token is back", async () => {
    emulator.world.load({ ...world(), throttling: { enabled: true, readCapacity: 2, readsPerSecond: 0.5 } });
    await read();
    await read();
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmThrottled');
    assert.ok((failure.nextRetryDelay as number) >= 1_000);
  });

  it('other 5xx answers are retryable ArmUnavailable failures', async () => {
    fault({ kind: 'error', status: 502, code: 'BadGateway', count: 1 });
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmUnavailable');
    assert.notEqual(failure.nonRetryable, true);
    assert.match(failure.message, /502/);
  });

  it('a connection reset is a retryable failure that may have reached Azure', async () => {
    fault({ kind: 'reset', count: 1 });
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmUnavailable');
    assert.equal((failure.details?.[0] as { delivery: string }).delivery, 'unknown');
  });

  it('no answer within the request timeout is a retryable failure', async () => {
    fault({ kind: 'latency', ms: 3_000, count: 1 });
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmUnavailable');
    assert.match(failure.message, /no answer within the request timeout/);
  });

  it('a region that stops answering fails its reads, retryably, and leaves the other region readable', async () => {
    fault({ kind: 'region-dark', location: 'eastus', hangMs: 100 });
    const failure = await failureOf(read());
    assert.equal(failure.type, 'ArmUnavailable');
    const west = await activities.readGroupRoles({ group: group(), locations: ['westus'] });
    assert.equal(west.summary.primaryLocation, 'eastus', 'westus still says eastus is primary');
  });

  it('a group Azure does not know is a non-retryable GroupNotFound', async () => {
    const failure = await failureOf(
      activities.readGroupRoles({ group: { ...group(), name: 'fog-nope' }, locations: ['eastus'] }),
    );
    assert.equal(failure.type, 'GroupNotFound');
    assert.equal(failure.nonRetryable, true);
    assert.equal((failure.details?.[0] as { code: string }).code, 'ResourceNotFound');
  });

  it("a failover sent to the primary's location is a non-retryable NotSecondary with ARM's code", async () => {
    let failure: ApplicationFailure | undefined;
    try {
      await controlPlane.beginFailover(group(), 'eastus', 'planned');
    } catch (error) {
      failure = classifyArmError(error, { doing: 'failing over' });
    }
    assert.equal(failure?.type, 'NotSecondary');
    assert.equal(failure?.nonRetryable, true);
    assert.equal((failure?.details?.[0] as { code: string }).code, 'InstanceFailoverGroupFailoverRequestOnPrimary');
  });

  it('a scale refused because another operation runs is a non-retryable GroupBusy', async () => {
    await controlPlane.beginScaleManagedInstance(secondaryId(), { vCores: 16 });
    let failure: ApplicationFailure | undefined;
    try {
      await controlPlane.beginScaleManagedInstance(secondaryId(), { vCores: 24 });
    } catch (error) {
      failure = classifyArmError(error, { doing: 'scaling' });
    }
    assert.equal(failure?.type, 'GroupBusy');
    assert.equal((failure?.details?.[0] as { code: string }).code, 'ConflictingManagedInstanceOperation');
  });

  it("an invalid value is a non-retryable AzureRequestRejected carrying ARM's code", async () => {
    let failure: ApplicationFailure | undefined;
    try {
      await controlPlane.beginScaleManagedInstance(secondaryId(), { vCores: 7 });
    } catch (error) {
      failure = classifyArmError(error, { doing: 'scaling' });
    }
    assert.equal(failure?.type, 'AzureRequestRejected');
    assert.equal(failure?.nonRetryable, true);
    assert.equal((failure?.details?.[0] as { code: string }).code, 'InvalidVcoreValue');
  });

  it('a refused connection says the request was not sent', async () => {
    const closed = await startEmulator({ world: world() });
    const endpoint = closed.armEndpoint;
    await closed.close();
    const offline = createArmActivities({
      controlPlane: new ArmControlPlane({ credential: new EmulatorCredential(), endpoint }),
      inventory: new Inventory(),
    });
    const failure = await failureOf(offline.readGroupRoles({ group: group(), locations: ['eastus'] }));
    assert.equal(failure.type, 'ArmUnavailable');
    assert.equal((failure.details?.[0] as { delivery: string }).delivery, 'not-sent');
  });
});

describe('long-term retention policies through @azure/arm-sql', () => {
  const weekly = { weeklyRetention: 'P4W', monthlyRetention: 'P12M', yearlyRetention: 'P5Y', weekOfYear: 16 };
  const instanceId = (location: 'eastus' | 'westus') =>
    emulator.startLine().instances.find((instance) => instance.location === location)!.id;

  beforeEach(() => {
    const spec = world();
    spec.instances[0]!.longTermRetention = weekly;
    emulator.world.load(spec);
  });

  it("reads the instance's configured policy for every database of its group, one GET each", async () => {
    const reading = await activities.readRetentionPolicies({
      instanceId: instanceId('eastus'),
      databases: ['sales', 'inventory'],
    });
    assert.deepEqual(reading.policies, [
      { database: 'sales', ...weekly },
      { database: 'inventory', ...weekly },
    ]);
    assert.deepEqual(reading.armCalls, { reads: 2, writes: 0, throttled: 0 });
  });

  it('reads an unconfigured policy as PT0S, as Azure answers it', async () => {
    const reading = await activities.readRetentionPolicies({ instanceId: instanceId('westus'), databases: ['sales'] });
    assert.deepEqual(reading.policies, [
      { database: 'sales', weeklyRetention: 'PT0S', monthlyRetention: 'PT0S', yearlyRetention: 'PT0S', weekOfYear: 0 },
    ]);
  });

  it("answers the SDK's get of the policy named default with the ARM resource shape", async () => {
    const policy = await controlPlane
      .client(coordinates.subscriptionId)
      .managedInstanceLongTermRetentionPolicies.get('rg-fogpilot', 'fog-sales-eastus', 'sales', 'default');
    assert.equal(policy.name, 'default');
    assert.equal(policy.type, 'Microsoft.Sql/managedInstances/databases/backupLongTermRetentionPolicies');
    assert.equal(policy.id, `${instanceId('eastus')}/databases/sales/backupLongTermRetentionPolicies/default`);
    assert.equal(policy.weeklyRetention, 'P4W');
    assert.equal(policy.weekOfYear, 16);
  });

  it('shows a policy changed with the admin API at once (drift between the pair)', async () => {
    const response = await fetch(`${emulator.armEndpoint}/_admin/instances/fog-sales-westus`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ longTermRetention: { ...weekly, yearlyRetention: 'P10Y' } }),
    });
    assert.equal(response.status, 200, await response.text());
    const reading = await activities.readRetentionPolicies({ instanceId: instanceId('westus'), databases: ['sales'] });
    assert.equal(reading.policies[0]!.yearlyRetention, 'P10Y');
  });

  it('fails a database the instance does not have as non-retryable, with ARM 404 ParentResourceNotFound', async () => {
    const failure = await failureOf(
      activities.readRetentionPolicies({ instanceId: instanceId('eastus'), databases: ['sales', 'payroll'] }),
    );
    assert.equal(failure.type, 'AzureRequestRejected');
    assert.equal(failure.nonRetryable, true);
    assert.deepEqual(
      [(failure.details?.[0] as { statusCode: number }).statusCode, (failure.details?.[0] as { code: string }).code],
      [404, 'ParentResourceNotFound'],
    );
    assert.match(failure.message, /payroll/);
  });

  it("maps the instance's DNS zone, which names the group's listener", async () => {
    const { instances } = await activities.readInstances({ instanceIds: [instanceId('eastus')] });
    const zone = emulator.world.instanceById(instanceId('eastus'))!.dnsZone;
    assert.equal(instances[0]!.instance.dnsZone, zone);
    assert.equal(
      emulator.startLine().sql.listeners[0]!.fullyQualifiedDomainName,
      listenerHost('fog-sales', zone),
      "the emulator's listener has the name listenerHost gives",
    );
  });
});
