/**
 * Counts the ARM requests made inside one activity invocation, so each runbook report says how many reads and writes
 * it cost. The control plane records every request it sends; the activity wrapper reads the count at the end.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ArmCallCount } from '../workflows/definitions';

const currentMeter = new AsyncLocalStorage<ArmCallCount>();

export function emptyArmCallCount(): ArmCallCount {
  return { reads: 0, writes: 0, throttled: 0 };
}

/** Called by control-plane implementations for every request that went out. */
export function recordArmCall(method: string, statusCode?: number): void {
  const meter = currentMeter.getStore();
  if (!meter) return;
  if (method.toUpperCase() === 'GET' || method.toUpperCase() === 'HEAD') meter.reads += 1;
  else meter.writes += 1;
  if (statusCode === 429 || statusCode === 503) meter.throttled += 1;
}

/**
 * Runs `work` with a fresh meter and returns its result together with the count. A failure carries the count too (as
 * its last detail), so calls spent on a failed attempt still reach the report.
 */
export async function withArmMeter<T>(work: () => Promise<T>): Promise<{ result: T; armCalls: ArmCallCount }> {
  const meter = emptyArmCallCount();
  try {
    const result = await currentMeter.run(meter, work);
    return { result, armCalls: meter };
  } catch (error) {
    throw withCallsInDetails(error, meter);
  } finally {
    exportArmCalls(meter);
  }
}

/** Adds the count to the worker's Prometheus metrics (when running in an activity; the CLI has no meter). */
function exportArmCalls(meter: ArmCallCount): void {
  let metrics;
  try {
    metrics = Context.current().metricMeter;
  } catch {
    return;
  }
  const requests = metrics.createCounter('fogpilot_arm_requests', 'requests', 'ARM requests sent, by kind');
  if (meter.reads > 0) requests.add(meter.reads, { kind: 'read' });
  if (meter.writes > 0) requests.add(meter.writes, { kind: 'write' });
  if (meter.throttled > 0) {
    metrics.createCounter('fogpilot_arm_throttled', 'answers', 'ARM answers of 429 or 503').add(meter.throttled);
  }
}

/** A failure with the count as its last detail, so calls spent on a failed attempt still reach the report. */
function withCallsInDetails(error: unknown, meter: ArmCallCount): unknown {
  if (!(error instanceof ApplicationFailure)) return error;
  return ApplicationFailure.create({
    type: error.type ?? undefined,
    message: error.message,
    nonRetryable: error.nonRetryable ?? undefined,
    // fogpilot's failures always carry milliseconds here (see classifyArmError).
    nextRetryDelay: typeof error.nextRetryDelay === 'number' ? error.nextRetryDelay : undefined,
    category: error.category ?? undefined,
    cause: error.cause,
    details: [...(error.details ?? []), { armCalls: meter }],
  });
}
