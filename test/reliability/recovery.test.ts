/**
 * The chaos bench's recovery time (bench/recovery.ts), on small histories written out by hand: which work a kill
 * stranded, and when workers started after the kill picked it up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { percentile, recoveryOf } from '../../bench/recovery';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const KILL = 1_000_000;
const OLD = '100@host';
const NEW = '200@host';
const kill = { at: KILL, replacementPids: [200] };

/**
 * Events numbered in order, each at `KILL + offset` milliseconds. Ids are plain numbers here (Longs in a fetched
 * history): the recovery reads both.
 */
function history(...events: [number, Record<string, unknown>][]): HistoryEvent[] {
  return events.map(([offset, attributes], index) => ({
    ...attributes,
    eventId: index + 1,
    eventTime: { seconds: Math.floor((KILL + offset) / 1000), nanos: ((KILL + offset) % 1000) * 1e6 },
  })) as unknown as HistoryEvent[];
}

describe('recovery time from the histories', () => {
  it('is the time until the last stranded piece was picked up: a read retried by the new worker 7 s after the kill', () => {
    const events = history(
      [-3_000, { workflowTaskStartedEventAttributes: { scheduledEventId: 0, identity: OLD } }],
      [-2_000, { activityTaskScheduledEventAttributes: { activityType: { name: 'readFailoverProgress' } } }],
      [7_000, { activityTaskStartedEventAttributes: { scheduledEventId: 2, identity: NEW, attempt: 2 } }],
      [7_100, { activityTaskCompletedEventAttributes: { scheduledEventId: 2 } }],
      [7_100, { workflowTaskScheduledEventAttributes: {} }],
      [9_100, { workflowTaskTimedOutEventAttributes: { scheduledEventId: 5, timeoutType: 2 } }],
      [9_100, { workflowTaskScheduledEventAttributes: {} }],
      [9_150, { workflowTaskStartedEventAttributes: { scheduledEventId: 7, identity: NEW } }],
    );
    assert.deepEqual(recoveryOf([events], kill), {
      ms: 7_000,
      firstEventMs: 7_000,
      last: 'activity readFailoverProgress (attempt 2)',
      stranded: 2,
      upperBound: false,
      pieces: [
        { what: 'activity readFailoverProgress (attempt 2)', fromMs: 0, pickedUpMs: 7_000 },
        // Fell due with the read's result, picked up 2.05 s later, once it had left the dead worker's sticky queue.
        { what: 'workflow task (not taken from the sticky queue)', fromMs: 7_100, pickedUpMs: 9_150 },
      ],
    });
  });

  it('counts a poll timer that fired while the worker was down from when it fired, not from the kill', () => {
    const events = history(
      [-500, { workflowTaskStartedEventAttributes: { scheduledEventId: 0, identity: OLD } }],
      [4_000, { timerFiredEventAttributes: {} }],
      [4_000, { workflowTaskScheduledEventAttributes: {} }],
      [6_000, { workflowTaskTimedOutEventAttributes: { scheduledEventId: 3 } }],
      [6_000, { workflowTaskScheduledEventAttributes: {} }],
      [6_300, { workflowTaskStartedEventAttributes: { scheduledEventId: 5, identity: NEW } }],
    );
    assert.equal(recoveryOf([events], kill)?.ms, 2_300);
  });

  it('counts a failover send that timed out until a new worker took its timeout in hand', () => {
    const events = history(
      [-100, { activityTaskScheduledEventAttributes: { activityType: { name: 'sendFailover' } } }],
      [-90, { activityTaskStartedEventAttributes: { scheduledEventId: 1, identity: OLD, attempt: 1 } }],
      [5_000, { activityTaskTimedOutEventAttributes: { scheduledEventId: 1 } }],
      [5_000, { workflowTaskScheduledEventAttributes: {} }],
      [7_000, { workflowTaskTimedOutEventAttributes: { scheduledEventId: 4 } }],
      [7_000, { workflowTaskScheduledEventAttributes: {} }],
      [7_200, { workflowTaskStartedEventAttributes: { scheduledEventId: 6, identity: NEW } }],
    );
    const recovery = recoveryOf([events], kill);
    assert.equal(recovery?.ms, 7_200);
    assert.equal(recovery?.last, 'activity sendFailover (timed out, taken over by the workflow)');
  });

  it('marks as an upper bound a figure resting on the attempt of a later replacement, and leaves a timeout that attempt met to the later kill', () => {
    const LATER = '300@host';
    const events = history(
      [-5_000, { activityTaskScheduledEventAttributes: { activityType: { name: 'probeListenerWrites' } } }],
      // The probe's attempt on record ran on the worker started after a second kill; then it timed out (a third loss).
      [12_000, { activityTaskStartedEventAttributes: { scheduledEventId: 1, identity: LATER, attempt: 3 } }],
      [20_000, { activityTaskTimedOutEventAttributes: { scheduledEventId: 1 } }],
      [20_000, { workflowTaskScheduledEventAttributes: {} }],
      [20_010, { workflowTaskStartedEventAttributes: { scheduledEventId: 4, identity: LATER } }],
    );
    const recovery = recoveryOf([events], { at: KILL, replacementPids: [200, 300] });
    assert.equal(recovery?.ms, 12_000);
    assert.equal(recovery?.last, 'activity probeListenerWrites (attempt 3)');
    assert.equal(recovery?.upperBound, true);
  });

  it('sees nothing stranded when no worker started after the kill picked anything up', () => {
    const events = history(
      [-100, { activityTaskScheduledEventAttributes: { activityType: { name: 'readGroupRoles' } } }],
      [-90, { activityTaskStartedEventAttributes: { scheduledEventId: 1, identity: OLD, attempt: 1 } }],
      [-50, { activityTaskCompletedEventAttributes: { scheduledEventId: 1 } }],
    );
    assert.equal(recoveryOf([events], kill), undefined);
  });

  it('takes percentiles by nearest rank', () => {
    assert.equal(percentile([3, 1, 2, 10], 50), 2);
    assert.equal(percentile([3, 1, 2, 10], 95), 10);
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});
