/**
 * The course of a failover in the emulated world, as Azure runs it: the listener's DNS moves when the failover is
 * accepted and the roles switch later; each database becomes writable at its own moment (seeded); with the Automatic
 * policy Azure fails a group over by itself once the primary's region has been dark past the grace period; a returning
 * old primary is demoted, reseeded, and its unreplicated commits counted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/emulator/clock';
import { World } from '../../src/emulator/world';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { addWorldFault, removeWorldFaults } from '../../src/emulator/world/faults';

function world(configure?: (spec: WorldSpecInput) => void) {
  const clock = new ManualClock();
  const spec = defaultWorldSpec();
  spec.groups![0]!.databases = [{ name: 'sales' }, { name: 'inventory' }, { name: 'billing' }, { name: 'audit' }];
  configure?.(spec);
  const w = new World(clock, spec);
  const group = w.findGroup('fog-sales')!;
  const at = (location: string) => w.instanceAt(group, location)!;
  return { clock, world: w, group, at };
}

function writableMomentsAfterSwitch(seed: number | undefined): number[] {
  const {
    clock,
    world: w,
    group,
    at,
  } = world((spec) => {
    spec.seed = seed;
    spec.timings = { readOnlyAfterSwitchSeconds: 300 };
  });
  w.requestFailover(group, 'westus', 'planned');
  clock.advance(w.timings.roleSwitchSeconds * 1000);
  w.advance();
  const switchedAt = w.events.find((event) => event.kind === 'roles-switched')!.at;
  assert.equal(group.primaryInstanceId, at('westus').id);
  return group.databases.map((database) => database.readOnlyUntil - switchedAt);
}

describe('emulated world: the course of a failover', () => {
  it('points the read-write listener at the target when the failover is accepted, and switches the roles later', () => {
    const { clock, world: w, group, at } = world();
    assert.equal(w.listenerInstanceId(group), at('eastus').id);
    w.requestFailover(group, 'westus', 'planned');
    assert.equal(w.listenerInstanceId(group), at('westus').id, 'the DNS moved at once');
    assert.equal(group.primaryInstanceId, at('eastus').id, 'the roles have not switched yet');
    assert.equal(w.acceptsWrites(group, at('westus').id, group.databases[0]!), false, 'the target is not writable');
    clock.advance(w.timings.roleSwitchSeconds * 1000);
    w.advance();
    assert.equal(group.primaryInstanceId, at('westus').id);
    const kinds = w.events.map((event) => event.kind);
    assert.ok(kinds.indexOf('listener-moved') < kinds.indexOf('roles-switched'), kinds.join(', '));
  });

  it('makes every database writable at the bound after the switch when the world has no seed', () => {
    assert.deepEqual(writableMomentsAfterSwitch(undefined), [300_000, 300_000, 300_000, 300_000]);
  });

  it('makes each database writable at its own moment within the bound, the same moments for the same seed', () => {
    const moments = writableMomentsAfterSwitch(7);
    assert.equal(new Set(moments).size, moments.length, `moments differ per database: ${moments.join(', ')}`);
    assert.ok(
      moments.every((moment) => moment > 0 && moment <= 300_000),
      moments.join(', '),
    );
    assert.deepEqual(writableMomentsAfterSwitch(7), moments, 'reproducible from the seed');
    assert.notDeepEqual(writableMomentsAfterSwitch(8), moments, 'another seed, other moments');
  });

  it('has one database writable while others are still read-only, right after the first becomes writable', () => {
    const {
      clock,
      world: w,
      group,
      at,
    } = world((spec) => {
      spec.seed = 7;
      spec.timings = { readOnlyAfterSwitchSeconds: 300 };
    });
    w.requestFailover(group, 'westus', 'planned');
    clock.advance(w.timings.roleSwitchSeconds * 1000);
    w.advance();
    const first = Math.min(...group.databases.map((database) => database.readOnlyUntil));
    clock.advance(first - clock.now());
    const writable = group.databases.map((database) => w.acceptsWrites(group, at('westus').id, database));
    assert.equal(writable.filter(Boolean).length, 1, `writable: ${writable.join(', ')}`);
  });
});

describe('emulated world: failovers Azure makes by itself', () => {
  const automatic = (spec: WorldSpecInput) => {
    spec.groups![0]!.readWriteFailoverPolicy = 'Automatic';
    spec.groups![0]!.gracePeriodMinutes = 60;
    spec.groups![0]!.databases = [{ name: 'sales', lagMs: 10_000 }];
  };

  it('fails an Automatic group over once its primary region has been dark past the grace period, losing what had not hardened', () => {
    const { clock, world: w, group, at } = world(automatic);
    const sales = group.databases[0]!;
    w.commit(group, sales, 'hardened');
    clock.advance(20_000);
    w.commit(group, sales, 'in flight');
    addWorldFault(w, { kind: 'region-dark', location: 'eastus', hangMs: 0 });
    clock.advance(59 * 60_000);
    w.advance();
    assert.equal(group.primaryInstanceId, at('eastus').id, 'not before the grace period');
    clock.advance(60_000);
    w.advance();
    assert.equal(group.primaryInstanceId, at('westus').id);
    const event = w.events.find((entry) => entry.kind === 'automatic-failover');
    assert.ok(event, 'recorded as automatic-failover');
    assert.deepEqual(event.detail, { from: 'eastus', to: 'westus', gracePeriodMinutes: 60, lostCommits: 1 });
    assert.equal(w.failoverCountersOf(group).received, 0, 'no one sent it');
    assert.deepEqual(
      w.lostCommits.map((lost) => lost.payloads),
      [['in flight']],
    );
  });

  it('leaves a Manual group alone however long its primary region is dark', () => {
    const { clock, world: w, group, at } = world();
    addWorldFault(w, { kind: 'region-dark', location: 'eastus', hangMs: 0 });
    clock.advance(24 * 3_600_000);
    w.advance();
    assert.equal(group.primaryInstanceId, at('eastus').id);
  });

  it('demotes and reseeds the old primary when its region returns, counting the commits it discards per database', () => {
    const { clock, world: w, group, at } = world(automatic);
    const sales = group.databases[0]!;
    w.commit(group, sales, 'one');
    w.commit(group, sales, 'two');
    addWorldFault(w, { kind: 'region-dark', location: 'eastus', hangMs: 0 });
    clock.advance(61 * 60_000);
    w.advance();
    assert.equal(w.reportedReplicationState(group), 'CATCH_UP');
    removeWorldFaults(w);
    const demoted = w.events.find((entry) => entry.kind === 'old-primary-demoted');
    assert.ok(demoted, 'recorded as old-primary-demoted');
    assert.equal(demoted.instance, at('eastus').name);
    assert.equal(demoted.detail!.discardedCommits, 2);
    assert.deepEqual(demoted.detail!.discardedByDatabase, { sales: 2 });
    assert.equal(
      w.lostCommits.reduce((total, lost) => total + lost.lsns.length, 0),
      2,
      'the same count as lostCommits',
    );
    assert.equal(w.reportedRole(group, 'eastus'), 'Secondary');
    assert.equal(w.reportedReplicationState(group), 'SEEDING', 'reseeding');
    // 256 GB at 360 GB/h: about 43 minutes.
    clock.advance(42 * 60_000);
    w.advance();
    assert.equal(w.reportedReplicationState(group), 'SEEDING');
    clock.advance(2 * 60_000);
    w.advance();
    assert.equal(w.reportedReplicationState(group), 'CATCH_UP');
  });

  it('demotes the old primary a forced failover left in a dark region, once the region returns', () => {
    const {
      clock,
      world: w,
      group,
      at,
    } = world((spec) => {
      spec.groups![0]!.databases = [{ name: 'sales', lagMs: 10_000 }];
    });
    w.commit(group, group.databases[0]!, 'unhardened');
    addWorldFault(w, { kind: 'region-dark', location: 'eastus', hangMs: 0 });
    w.requestFailover(group, 'westus', 'forced');
    clock.advance(w.timings.forcedSwitchSeconds * 1000 + w.timings.roleFlipSkewSeconds * 1000);
    w.advance();
    assert.equal(group.primaryInstanceId, at('westus').id);
    assert.equal(w.events.filter((entry) => entry.kind === 'old-primary-demoted').length, 0, 'not while dark');
    removeWorldFaults(w);
    const demoted = w.events.find((entry) => entry.kind === 'old-primary-demoted');
    assert.deepEqual(demoted?.detail?.discardedByDatabase, { sales: 1 });
    assert.equal(w.reportedReplicationState(group), 'SEEDING');
  });
});
