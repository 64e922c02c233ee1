import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/emulator/clock';
import { EmulatedArmError, World } from '../../src/emulator/world';
import { defaultWorldSpec } from '../../src/emulator/world-spec';

function world(configure?: (spec: ReturnType<typeof defaultWorldSpec>) => void) {
  const clock = new ManualClock();
  const spec = defaultWorldSpec();
  configure?.(spec);
  const w = new World(clock, spec);
  const group = w.findGroup('fog-sales')!;
  return { clock, world: w, group };
}

function refusal(action: () => unknown): { status: number; code: string } {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof EmulatedArmError, String(error));
    return { status: error.status, code: error.code };
  }
  assert.fail('expected the request to be refused');
}

describe('emulated world: failover rules', () => {
  it("refuses a planned failover sent to the primary's location with the documented code", () => {
    const { world: w, group } = world();
    assert.deepEqual(
      refusal(() => w.requestFailover(group, 'eastus', 'planned')),
      { status: 400, code: 'InstanceFailoverGroupFailoverRequestOnPrimary' },
    );
    assert.deepEqual(
      refusal(() => w.requestFailover(group, 'East US', 'forced')),
      { status: 400, code: 'InstanceFailoverGroupNotSecondary' },
    );
    assert.equal(w.failoverCountersOf(group).refused, 2);
  });

  it('refuses a failover while seeding, and accepts it once seeding is done', () => {
    const {
      world: w,
      group,
      clock,
    } = world((spec) => {
      spec.groups![0]!.seedingSeconds = 600;
    });
    assert.equal(w.reportedReplicationState(group), 'SEEDING');
    assert.deepEqual(
      refusal(() => w.requestFailover(group, 'westus', 'planned')),
      { status: 400, code: 'IncorrectReplicationLinkState' },
    );
    clock.advance(600_000);
    w.advance();
    assert.equal(w.reportedReplicationState(group), 'CATCH_UP');
    assert.equal(w.requestFailover(group, 'westus', 'planned').status, 'InProgress');
  });

  it('refuses a second failover while one runs with 409 InstanceFailoverGroupBusy', () => {
    const { world: w, group } = world();
    w.requestFailover(group, 'westus', 'planned');
    assert.deepEqual(
      refusal(() => w.requestFailover(group, 'westus', 'planned')),
      { status: 409, code: 'InstanceFailoverGroupBusy' },
    );
    assert.deepEqual(w.failoverCountersOf(group), { received: 2, accepted: 1, refused: 1, acceptedTo: { westus: 1 } });
  });

  it('switches the roles after the configured duration, with both locations claiming Primary for a moment', () => {
    const { world: w, group, clock } = world();
    const operation = w.requestFailover(group, 'westus', 'planned');
    assert.equal(w.reportedReplicationState(group), 'FAILOVER_IN_PROGRESS');
    clock.advance(29_000);
    w.advance();
    assert.equal(w.reportedRole(group, 'westus'), 'Secondary');
    clock.advance(1_000);
    w.advance();
    assert.equal(w.reportedRole(group, 'westus'), 'Primary');
    assert.equal(w.reportedRole(group, 'eastus'), 'Primary', 'the old primary still claims the role during the skew');
    assert.equal(operation.status, 'InProgress');
    clock.advance(2_000);
    w.advance();
    assert.equal(w.reportedRole(group, 'eastus'), 'Secondary');
    assert.equal(operation.status, 'Succeeded');
    assert.equal(w.reportedReplicationState(group), 'CATCH_UP');
    assert.deepEqual(
      w.events
        .filter((event) => event.kind.startsWith('failover') || event.kind === 'roles-switched')
        .map((event) => event.kind),
      ['failover-requested', 'roles-switched', 'failover-completed'],
    );
  });

  it("times a planned failover out when the primary's region is dark, while a forced one succeeds", () => {
    const { world: w, group, clock } = world();
    w.faults.darkRegions.add('eastus');
    const planned = w.requestFailover(group, 'westus', 'planned');
    clock.advance(120_000);
    w.advance();
    assert.equal(planned.status, 'Failed');
    assert.equal(planned.error?.code, 'PlannedFailoverTimedOut');
    assert.equal(w.reportedRole(group, 'westus'), 'Secondary');
    const forced = w.requestFailover(group, 'westus', 'forced');
    clock.advance(20_000);
    w.advance();
    assert.equal(forced.status, 'Succeeded');
    assert.equal(w.instanceById(group.primaryInstanceId)!.location, 'westus');
  });

  it('never completes a failover when told to, and fails one with the given code', () => {
    const { world: w, group, clock } = world();
    w.faults.failoverNeverCompletes.add(group.key);
    const stuck = w.requestFailover(group, 'westus', 'planned');
    clock.advance(3_600_000);
    w.advance();
    assert.equal(stuck.status, 'InProgress');
    assert.equal(w.reportedReplicationState(group), 'FAILOVER_IN_PROGRESS');
  });
});

describe('emulated world: scaling rules', () => {
  it('refuses a PATCH while another operation runs, and applies the size when the operation ends', () => {
    const { world: w, clock } = world();
    const instance = w.instanceByName(w.spec.subscriptionId, 'rg-fogpilot', 'fog-sales-westus')!;
    const operation = w.requestScale(instance, { vCores: 16 });
    assert.equal(operation?.status, 'InProgress');
    assert.equal(instance.provisioningState, 'Updating');
    assert.deepEqual(
      refusal(() => w.requestScale(instance, { vCores: 24 })),
      { status: 409, code: 'ConflictingManagedInstanceOperation' },
    );
    clock.advance(900_000);
    w.advance();
    assert.equal(instance.vCores, 16);
    assert.equal(operation?.status, 'Succeeded');
  });

  it('refuses a failover while an instance of the pair is being scaled', () => {
    const { world: w, group } = world();
    w.requestScale(w.instanceByName(w.spec.subscriptionId, 'rg-fogpilot', 'fog-sales-westus')!, { vCores: 16 });
    assert.deepEqual(
      refusal(() => w.requestFailover(group, 'westus', 'planned')),
      { status: 409, code: 'UpdateSloInProgress' },
    );
  });

  it('refuses vCores and storage sizes Azure does not accept', () => {
    const { world: w } = world();
    const instance = w.instanceByName(w.spec.subscriptionId, 'rg-fogpilot', 'fog-sales-eastus')!;
    assert.deepEqual(
      refusal(() => w.requestScale(instance, { vCores: 7 })),
      { status: 405, code: 'InvalidVcoreValue' },
    );
    assert.deepEqual(
      refusal(() => w.requestScale(instance, { storageSizeInGB: 100 })),
      { status: 405, code: 'InvalidStorageSizeValue' },
    );
    assert.equal(w.requestScale(instance, { vCores: 8 }), undefined, 'no change, no operation');
  });

  it('ends a scale Failed on demand, leaving the size as it was', () => {
    const { world: w, clock } = world();
    w.faults.operationFails.set('fog-sales-westus', { code: 'ManagedInstanceSloUpdateFailed', message: 'no capacity' });
    const instance = w.instanceByName(w.spec.subscriptionId, 'rg-fogpilot', 'fog-sales-westus')!;
    const operation = w.requestScale(instance, { vCores: 16 });
    clock.advance(900_000);
    w.advance();
    assert.equal(operation?.status, 'Failed');
    assert.equal(instance.vCores, 8);
  });
});
