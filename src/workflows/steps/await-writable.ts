/**
 * Waiting until a new primary accepts writes: after the roles switch, Azure keeps the databases READ_ONLY for a while,
 * and the RTO an application sees ends only when every database answers READ_WRITE.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { formatDuration } from '../../domain/durations';
import type { SqlInstanceTarget } from '../../sql/data-plane';
import { FailureTypes } from '../definitions';
import { reads } from './activity-presets';
import { SQL_POLLING, pollUntil } from './poll';
import type { RunbookRun, StepHandle } from './runbook-run';

export interface AwaitWritableRequest {
  instance: SqlInstanceTarget;
  instanceName: string;
  /** Databases that must be there and writable; an empty list means "whatever the instance has". */
  expected: string[];
  timeoutMs: number;
}

/** Polls updateability until every expected database is READ_WRITE; fails `WritableTimeout` after `timeoutMs`. */
export async function awaitDatabasesWritable(
  run: RunbookRun,
  step: StepHandle,
  request: AwaitWritableRequest,
): Promise<void> {
  const { instance, instanceName, expected, timeoutMs } = request;
  run.setAwaiting('sql', `waiting for the databases on ${instanceName} to accept writes`);
  const isWritable = (updateability: string) => updateability.toUpperCase() === 'READ_WRITE';
  const result = await pollUntil({
    read: () =>
      reads.readUpdateability.executeWithOptions({ summary: `updateability on ${instanceName}` }, [{ instance }]),
    done: (reading) =>
      reading.databases.length > 0 &&
      expected.every((database) => reading.databases.some((entry) => entry.database === database)) &&
      reading.databases.every((entry) => isWritable(entry.updateability)),
    timeoutMs,
    interval: SQL_POLLING,
    summary: 'wait for the new primary to accept writes',
    onRead: (reading, poll, elapsedMs) => {
      const readOnly = reading.databases.filter((entry) => !isWritable(entry.updateability));
      step.evidence({
        polls: poll,
        elapsedMs,
        readOnly: readOnly.map((entry) => entry.database),
        databases: reading.databases,
      });
      step.detail(
        readOnly.length ? `read-only: ${readOnly.map((entry) => entry.database).join(', ')}` : 'all READ_WRITE',
      );
    },
  });
  run.clearAwaiting();
  if (result.done) return;
  const readOnly = result.value.databases.filter((entry) => !isWritable(entry.updateability));
  throw ApplicationFailure.create({
    type: FailureTypes.WritableTimeout,
    nonRetryable: true,
    message:
      `The roles switched, but after ${formatDuration(timeoutMs)} these databases on ${instanceName} are still not writable: ` +
      `${readOnly.map((entry) => `${entry.database} (${entry.updateability})`).join(', ') || 'some expected databases were missing'}. ` +
      'The failover itself is done: do not send another. Investigate the databases (a role switch can take minutes) ' +
      'before sending traffic.',
    details: [{ databases: result.value.databases, expected }],
  });
}
