import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes, TransientFailureTypes } from '../workflows/definitions';
import { SqlRequestError } from './data-plane';
import { errorText } from '../azure/errors';

/** Turns a data-plane error into the failure Temporal should see: transient faults retry, facts do not. */
export function classifySqlError(error: unknown, doing: string): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  if (!(error instanceof SqlRequestError)) {
    return ApplicationFailure.create({
      type: TransientFailureTypes.SqlUnavailable,
      message: `${doing}: ${errorText(error)}`,
    });
  }
  const details = [{ kind: error.kind, number: error.number, message: error.message }];
  switch (error.kind) {
    case 'transient':
      return ApplicationFailure.create({
        type: TransientFailureTypes.SqlUnavailable,
        message: `${doing}: ${error.message}`,
        details,
      });
    case 'not-writable':
      // Retryable: after a failover each database of the new primary becomes writable at its own moment.
      return ApplicationFailure.create({
        type: TransientFailureTypes.SqlUnavailable,
        message: `${doing}: the database is read-only for now (${error.message}); after a failover Azure makes each database writable in turn: retrying`,
        details,
      });
    case 'login-failed':
      return ApplicationFailure.create({
        type: FailureTypes.SqlLoginFailed,
        nonRetryable: true,
        message:
          `${doing}: SQL refused the login (${error.message}). Check the instance's auth settings in the config and ` +
          'that the principal has a user in every database of the group.',
        details,
      });
    case 'link-missing':
      return ApplicationFailure.create({
        type: FailureTypes.ReplicationLinkMissing,
        nonRetryable: true,
        message: `${doing}: ${error.message}. The database is not replicating to its partner; fix the link before failing over.`,
        details,
      });
    case 'sync-timeout':
      return ApplicationFailure.create({
        type: FailureTypes.SyncTimeout,
        nonRetryable: true,
        message: `${doing}: ${error.message}. Nothing was failed over; find out why the secondary lags, then start again.`,
        details,
      });
    default:
      return ApplicationFailure.create({
        type: FailureTypes.AzureRequestRejected,
        nonRetryable: true,
        message: `${doing}: ${error.message}`,
        details,
      });
  }
}
