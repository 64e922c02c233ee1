/**
 * When a bounded activity attempt stops trying to reach Azure: a margin before the first of its timeouts ends.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { attemptDeadline } from '../../src/activities/attempt-bounds';

describe('attemptDeadline', () => {
  it("falls a tenth before the attempt's start-to-close, counted from when the worker started it", () => {
    const deadline = attemptDeadline(
      { startToCloseTimeoutMs: 120_000, scheduleToCloseTimeoutMs: 0, scheduledTimestampMs: 0 },
      1_000_000,
    );
    assert.equal(deadline, 1_000_000 + 110_000, 'a 2-minute attempt stops 10 seconds early');
  });

  it('keeps at most 10 seconds back from a long timeout', () => {
    const deadline = attemptDeadline(
      { startToCloseTimeoutMs: 3_600_000, scheduleToCloseTimeoutMs: 0, scheduledTimestampMs: 0 },
      0,
    );
    assert.equal(deadline, 3_590_000);
  });

  it('takes the schedule-to-close end, from the schedule time, when it comes first', () => {
    const deadline = attemptDeadline(
      { startToCloseTimeoutMs: 120_000, scheduleToCloseTimeoutMs: 60_000, scheduledTimestampMs: 1_000_000 },
      1_030_000,
    );
    assert.equal(deadline, 1_000_000 + 54_000);
  });

  it('has no deadline when the attempt has no timeout', () => {
    assert.equal(
      attemptDeadline({ startToCloseTimeoutMs: 0, scheduleToCloseTimeoutMs: 0, scheduledTimestampMs: 1 }, 5),
      undefined,
    );
  });
});
