/**
 * classifyArmError on the codes of Azure SQL Database's server failover groups and their member databases, beside the
 * Managed Instance codes they mirror: each becomes the failure the runbooks already handle for the Managed Instance
 * one (GroupBusy, NotSecondary, GroupNotFound), non-retryable and carrying ARM's code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArmRequestError, classifyArmError } from '../../src/azure/errors';

function classified(statusCode: number, code: string, notFoundType?: string) {
  const error = new ArmRequestError(`${code} answered`, { statusCode, code, delivery: 'answered', method: 'POST' });
  return classifyArmError(error, { doing: 'failing over fog-orders at westus', notFoundType });
}

describe('classifyArmError on server failover group codes', () => {
  const cases: [number, string, string][] = [
    [409, 'InstanceFailoverGroupBusy', 'GroupBusy'],
    [409, 'FailoverGroupBusy', 'GroupBusy'],
    [409, 'UpdateSloInProgress', 'GroupBusy'],
    [409, 'ConflictingDatabaseOperation', 'GroupBusy'],
    [409, 'SimultaneousSkuChangeNotAllowed', 'GroupBusy'],
    [400, 'UpdateNotAllowedIfGeoDrOperationInProgress', 'GroupBusy'],
    [400, 'InstanceFailoverGroupNotSecondary', 'NotSecondary'],
    [400, 'InstanceFailoverGroupFailoverRequestOnPrimary', 'NotSecondary'],
    [400, 'FailoverGroupNotSecondary', 'NotSecondary'],
    [400, 'FailoverGroupFailoverRequestOnPrimary', 'NotSecondary'],
    [400, 'FailoverGroupDoesNotExist', 'GroupNotFound'],
    [400, 'InstanceFailoverGroupDoesNotExist', 'GroupNotFound'],
    [409, 'UnableToAlterDatabaseInReplication', 'AzureRequestRejected'],
    [400, 'FailoverGroupUpdateOrDeleteRequestOnSecondary', 'AzureRequestRejected'],
    [400, 'InvalidSku', 'AzureRequestRejected'],
  ];
  for (const [statusCode, code, type] of cases)
    it(`${statusCode} ${code} is a non-retryable ${type} carrying the code`, () => {
      const failure = classified(statusCode, code);
      assert.equal(failure.type, type);
      assert.equal(failure.nonRetryable, true);
      assert.equal((failure.details?.[0] as { code: string }).code, code);
      assert.match(failure.message, new RegExp(`^failing over fog-orders at westus: .*${code}`));
    });

  it('says what FailoverGroupDoesNotExist means and what to check', () => {
    const failure = classified(400, 'FailoverGroupDoesNotExist');
    assert.match(failure.message, /does not exist there/);
    assert.match(failure.message, /servers the inventory names/);
  });

  it('says the order a replicated database is scaled in when Azure refuses it', () => {
    const failure = classified(409, 'UnableToAlterDatabaseInReplication');
    assert.match(failure.message, /secondaries first going up|up on the secondaries first/);
    assert.match(failure.message, /down on the primary first/);
  });

  it('a 404 still takes the caller’s not-found type, and throttling stays retryable', () => {
    assert.equal(classified(404, 'ResourceNotFound', 'GroupNotFound').type, 'GroupNotFound');
    assert.equal(classified(404, 'ResourceNotFound').type, 'AzureRequestRejected');
    const throttled = classified(429, 'TooManyRequests');
    assert.equal(throttled.type, 'ArmThrottled');
    assert.equal(throttled.nonRetryable, false);
  });
});
