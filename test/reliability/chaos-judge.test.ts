/**
 * Positive controls for the judgement of a runbook under chaos (`judgeChaosRun`, the function `runUnderChaos` judges
 * every drill of `npm run chaos` with): the facts of a clean drill pass, and each rule broken in them is named. The
 * facts are planted, since a real drill that breaks them would need a runbook defect; the judge is the bench's own.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeChaosRun, type ChaosRunFacts } from '../../bench/chaos-rig';

/** What a clean drill leaves: one accepted POST each way, the primary back home, nothing recorded against it. */
function cleanDrill(): ChaosRunFacts {
  return {
    outcome: 'succeeded',
    home: 'eastus',
    away: 'westus',
    posts: { acceptedTo: { westus: 1, eastus: 1 } },
    newViolations: [],
    twoPrimaries: [],
    endpointViolations: [],
    primaryAfter: 'eastus',
    failoverInProgressAfter: false,
    probeLostAcknowledged: 0,
    unexpectedExits: [],
  };
}

describe('the chaos judge', () => {
  it('finds nothing wrong with a drill that sent one failover each way and ended home', () => {
    assert.deepEqual(judgeChaosRun(cleanDrill()), []);
  });

  it('names a second failover POST Azure accepted in one direction during a drill', () => {
    const facts = { ...cleanDrill(), posts: { acceptedTo: { westus: 2, eastus: 1 } } };
    assert.deepEqual(judgeChaosRun(facts), ['2 accepted failover POSTs eastus → westus (expected exactly 1)']);
  });

  it('names a direction in which no failover POST was accepted', () => {
    const facts = { ...cleanDrill(), posts: { acceptedTo: { westus: 1 } }, primaryAfter: 'westus' };
    assert.deepEqual(judgeChaosRun(facts), [
      '0 accepted failover POSTs westus → eastus (expected exactly 1)',
      'the primary ended in westus',
    ]);
  });

  it('quotes a rule violation the emulator recorded during the drill', () => {
    const facts = { ...cleanDrill(), newViolations: ['fog-alpha: 2 primaries at 2026-01-01T00:00:00.000Z'] };
    assert.deepEqual(judgeChaosRun(facts), ['emulator: fog-alpha: 2 primaries at 2026-01-01T00:00:00.000Z']);
  });

  it('names two writable primaries seen in the samples and those found by the writes through each instance', () => {
    const facts = {
      ...cleanDrill(),
      twoPrimaries: [{ group: 'fog-alpha', at: '2026-01-01T00:00:01.000Z', instances: ['a-eastus', 'a-westus'] }],
      endpointViolations: ['two writable primaries (client-side): fog-alpha: two instances accepted writes'],
    };
    assert.deepEqual(judgeChaosRun(facts), [
      'two writable primaries in 1 sample(s), first at 2026-01-01T00:00:01.000Z',
      'two writable primaries (client-side): fog-alpha: two instances accepted writes',
    ]);
  });

  it('names a drill that did not complete, a failover still running, lost probe writes and a worker that died by itself', () => {
    const facts: ChaosRunFacts = {
      ...cleanDrill(),
      outcome: 'incomplete',
      failure: 'drDrill chaos/x completing timed out',
      failoverInProgressAfter: true,
      probeLostAcknowledged: 2,
      unexpectedExits: [{ incarnation: 3, code: 1, signal: null, tail: '' }],
    };
    assert.deepEqual(judgeChaosRun(facts), [
      'did not complete: incomplete (drDrill chaos/x completing timed out)',
      'a failover was still in progress after the run',
      '2 acknowledged probe writes lost',
      'worker 3 exited by itself (1)',
    ]);
  });
});
