/**
 * The client-side invariant checks and their positive controls: each check is shown a planted violation and must catch
 * it, and the same setting without the violation must pass. Split brain: writes through each instance's own endpoint
 * during a forced failover, with and without the emulator's `split-brain` fault. Data loss: the acknowledged writes
 * missing after a forced failover against the emulator's count of discarded commits, and a commit dropped silently.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { EndpointWriters } from '../../bench/endpoint-writers';
import { findSplitBrain, judgeDataLoss, type EndpointWrite } from '../../bench/invariant-checks';

// 30 emulated seconds per real second: the 15-second forced switch takes half a second.
const SPEED = 30;
const GROUP = 'fog-sales';
let emulator: Emulator;

function world(lagMs: number): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.groups![0]!.databases = [{ name: 'sales', lagMs }];
  return { ...spec, throttling: { enabled: false } };
}

before(async () => {
  emulator = await startEmulator({ world: world(500), speed: SPEED });
});
after(async () => emulator?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for what the writers observe, bounded so a broken emulator fails the test instead of hanging it. */
async function until(what: string, condition: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${limitMs / 1000} s`);
    await sleep(20);
  }
}

function instanceNames(): { east: string; west: string } {
  const group = emulator.world.findGroup(GROUP)!;
  const [east, west] = group.instanceIds.map((id) => emulator.world.instanceById(id)!);
  return {
    east: east!.location === 'eastus' ? east!.name : west!.name,
    west: west!.location === 'westus' ? west!.name : east!.name,
  };
}

const accepted = (writers: EndpointWriters, instance: string, after = 0) =>
  writers.writes.filter((write) => write.instance === instance && write.outcome === 'accepted' && write.sentAt > after);
const refused = (writers: EndpointWriters, instance: string, after = 0) =>
  writers.writes.filter((write) => write.instance === instance && write.outcome === 'refused' && write.sentAt > after);

async function armFault(spec: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${emulator.armEndpoint}/_admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer fogpilot-emulator-token' },
    body: JSON.stringify(spec),
  });
  assert.equal(response.status, 201, await response.text());
}

/**
 * Writers on both instances, a forced failover to westus, then writing on until the new primary has accepted a few
 * writes and the old one has either refused a few (a correct switch) or accepted a few more (split brain).
 */
async function forcedFailoverUnderWriters(options: { lagMs: number; splitBrain: boolean }): Promise<EndpointWriters> {
  emulator.world.load(world(options.lagMs));
  await sleep(50);
  if (options.splitBrain) await armFault({ kind: 'split-brain', group: GROUP });
  const { east, west } = instanceNames();
  const writers = new EndpointWriters({ emulator, groups: [GROUP] });
  await writers.start();
  await until('three writes accepted by the primary', () => accepted(writers, east).length >= 3);
  const group = emulator.world.findGroup(GROUP)!;
  emulator.world.requestFailover(group, 'westus', 'forced');
  await until('three writes accepted by the new primary', () => accepted(writers, west).length >= 3);
  const newPrimaryFrom = accepted(writers, west)[0]!.answeredAt;
  await until(
    'the old primary answering three more writes',
    () => accepted(writers, east, newPrimaryFrom).length + refused(writers, east, newPrimaryFrom).length >= 3,
  );
  await writers.stop();
  return writers;
}

function write(instance: string, seq: number, sentAt: number, outcome: EndpointWrite['outcome'] = 'accepted') {
  return {
    group: GROUP,
    instance,
    database: 'sales',
    seq,
    payload: `p/${instance}/${seq}`,
    sentAt,
    answeredAt: sentAt + 40,
    outcome,
    lsn: outcome === 'accepted' ? seq : undefined,
  } satisfies EndpointWrite;
}

describe('the split-brain check judges from the clients’ writes', () => {
  it('reports two instances whose accepted writes overlap in time, naming each one’s first and last write and LSNs', () => {
    const writes = [
      ...[0, 150, 300, 450, 600].map((at, index) => write('east', index + 1, at)),
      ...[320, 470, 620].map((at, index) => write('west', index + 1, at)),
    ];
    const findings = findSplitBrain(GROUP, writes);
    assert.equal(findings.length, 1);
    assert.match(findings[0]!.message, /east accepted 5 writes, first #1 \(LSN 1.*last #5 \(LSN 5/);
    assert.match(findings[0]!.message, /west accepted 3 writes, first #1 \(LSN 1.*last #3 \(LSN 3/);
  });

  it('finds no overlap in a handover, even when the old primary’s last answer arrives after the new one’s first write was sent', () => {
    const writes = [
      ...[0, 150, 300].map((at, index) => write('east', index + 1, at)),
      { ...write('east', 4, 450, 'refused') },
      // The new primary's first write is sent before the old one's last answer (340) arrives.
      ...[330, 480, 630].map((at, index) => write('west', index + 1, at)),
    ];
    assert.deepEqual(findSplitBrain(GROUP, writes), []);
  });
});

describe('the data-loss check', () => {
  it('judges nothing it could not read: a primary that answers nothing leaves the loss unverified, not passed as checked', () => {
    const verdict = judgeDataLoss({
      group: GROUP,
      database: 'sales',
      writes: [write('east', 1, 0)],
      present: { unverified: 'could not read fog-sales’s primary back: timeout' },
      lostCommits: [],
    });
    assert.equal(verdict.ok, true);
    assert.match(verdict.unverified ?? '', /could not read/);
  });
});

describe('positive controls on the emulator (writes through each instance’s own endpoint)', { concurrency: 1 }, () => {
  it('catches the old primary still accepting writes after a forced failover (fault split-brain)', async () => {
    const writers = await forcedFailoverUnderWriters({ lagMs: 500, splitBrain: true });
    const checks = await writers.judge();
    const { east, west } = instanceNames();
    assert.equal(checks.splitBrain.length, 1, JSON.stringify(checks.splitBrain, null, 1));
    assert.deepEqual(checks.splitBrain[0]!.runs.map((run) => run.instance).sort(), [east, west].sort());
    assert.match(checks.violations[0]!, /two writable primaries \(client-side\): fog-sales: two instances accepted/);
    // The emulator's own check, judged from what each instance accepts rather than its one primary field, trips too.
    assert.match(
      emulator.world.invariants().violations.join('\n'),
      new RegExp(
        `fog-sales: two writable primaries at .*: ${east} still accepts writes after ${west} took the primary role`,
      ),
    );
    // What the old primary accepted never reaches the new one; the emulator counts it, so the loss account agrees.
    assert.ok(checks.dataLoss[0]!.lostByClient.length >= 3);
    assert.equal(checks.dataLoss[0]!.ok, true, checks.dataLoss[0]!.message);
  });

  it('finds no overlap and an exact loss account in the same forced failover without the fault', async () => {
    // 20 emulated seconds of lag: the writes of the last two-thirds of a real second are lost by the switch.
    const writers = await forcedFailoverUnderWriters({ lagMs: 20_000, splitBrain: false });
    const checks = await writers.judge();
    assert.deepEqual(checks.splitBrain, []);
    const verdict = checks.dataLoss[0]!;
    assert.ok(verdict.lostByClient.length > 0, 'with that lag the forced failover loses acknowledged writes');
    assert.deepEqual(verdict.lostByClient, verdict.lostByEmulator);
    assert.equal(verdict.ok, true, verdict.message);
    assert.deepEqual(checks.violations, []);
    assert.deepEqual(emulator.world.invariants().violations, []);
  });

  it('flags a hardened commit the emulator dropped without counting it, and a count that names a write still there', async () => {
    const writers = await forcedFailoverUnderWriters({ lagMs: 500, splitBrain: false });
    const database = emulator.world.findGroup(GROUP)!.databases[0]!;
    const ours = database.commits.filter((commit) => commit.payload?.startsWith('endpoint-check/'));
    assert.ok(ours.length >= 4, 'the new primary holds the writers’ rows');
    // The seam: reach into the world and lose one hardened row silently, and count another that is still there.
    const dropped = ours[0]!;
    database.commits.splice(database.commits.indexOf(dropped), 1);
    const stillThere = ours[1]!.payload!;
    emulator.world.lostCommits.push({
      group: GROUP,
      database: 'sales',
      lsns: [ours[1]!.lsn],
      payloads: [stillThere],
      at: 0,
    });
    const checks = await writers.judge();
    const verdict = checks.dataLoss[0]!;
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.silentlyLost, [dropped.payload]);
    assert.deepEqual(verdict.countedButPresent, [stillThere]);
    assert.match(checks.violations.join('\n'), /data loss miscounted: fog-sales\/sales: .*lost without being counted/);
  });
});
