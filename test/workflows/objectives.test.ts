/** Objectives (RTO, RPO, drill interval) judged against what runs measured: pure functions, each with a miss. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FailoverLeg } from '../../src/workflows/definitions';
import { objectivesOf } from '../../src/workflows/steps/objectives';
import { drillRecencyCheck } from '../../src/workflows/steps/readiness';

const HOUR = 3_600_000;

function leg(rtoSeconds: number, dataLoss: FailoverLeg['dataLoss']['kind']): FailoverLeg {
  return {
    name: 'failover',
    from: 'eastus',
    to: 'westus',
    failoverSent: true,
    rtoSeconds,
    dataLoss: { kind: dataLoss, detail: '' },
  };
}

const plan = (objectives: { rtoMs?: number; rpoMs?: number }) => ({
  hooks: { before: [], after: [] },
  notifyOn: [],
  objectives,
});

describe('objectives of a run', () => {
  it('meets an RTO the failover stayed within, and an RPO of a proven lossless switch', () => {
    assert.deepEqual(objectivesOf(plan({ rtoMs: 60_000, rpoMs: 5_000 }), [leg(42, 'none-proven')], undefined), {
      rto: { targetMs: 60_000, measuredMs: 42_000, met: true },
      rpo: { targetMs: 5_000, measuredMs: 0, met: true },
    });
  });

  it('misses an RTO the failover outlasted, and an RPO a forced failover estimated beyond', () => {
    const forced = leg(90, 'estimated');
    assert.deepEqual(
      objectivesOf(plan({ rtoMs: 60_000, rpoMs: 5_000 }), [forced], { seconds: 12, basis: 'lag', databases: [] }),
      {
        rto: { targetMs: 60_000, measuredMs: 90_000, met: false },
        rpo: { targetMs: 5_000, measuredMs: 12_000, met: false },
      },
    );
  });

  it('gives no verdict without a measurement, and nothing without objectives or a failover', () => {
    assert.deepEqual(objectivesOf(plan({ rpoMs: 5_000 }), [leg(10, 'unknown')], undefined), {
      rpo: { targetMs: 5_000 },
    });
    assert.equal(objectivesOf(undefined, [leg(10, 'none-proven')], undefined), undefined);
    assert.equal(
      objectivesOf(plan({ rtoMs: 1 }), [{ ...leg(10, 'none-proven'), failoverSent: false }], undefined),
      undefined,
    );
  });
});

describe('drill recency', () => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  it('passes a drill within the interval and fails an older one or none', () => {
    assert.equal(
      drillRecencyCheck({ intervalMs: 30 * 24 * HOUR, lastDrillAt: '2026-11-20T12:00:00Z' }, now)?.status,
      'pass',
    );
    const old = drillRecencyCheck({ intervalMs: 7 * 24 * HOUR, lastDrillAt: '2026-11-20T12:00:00Z' }, now);
    assert.equal(old?.status, 'fail');
    assert.match(old?.message ?? '', /15d ago, longer than the objective of one every 7d/);
    assert.equal(drillRecencyCheck({ intervalMs: HOUR }, now)?.status, 'fail');
  });

  it('checks nothing for a group without an interval, and warns when drills could not be listed', () => {
    assert.equal(drillRecencyCheck({}, now), undefined);
    assert.equal(drillRecencyCheck({ intervalMs: HOUR, unreadable: 'visibility is off' }, now)?.status, 'warn');
  });
});
