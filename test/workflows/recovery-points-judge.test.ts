/** The pure judging of trusted recovery points: databases, VMs and Cosmos DB accounts against their RPOs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupRecoveryPointsReading, WorkloadRecoveryPointsReading } from '../../src/activities/recovery-points';
import {
  groupRecoveryPointChecks,
  judgeGroupRecoveryPoints,
  judgeWorkloadRecoveryPoints,
  recoveryPointRefusal,
  workloadRecoveryPointChecks,
} from '../../src/workflows/steps/recovery-points-judge';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const armCalls = { reads: 0, writes: 0, throttled: 0 };

function groupReading(databases: GroupRecoveryPointsReading['databases'], backupRpoMs?: number) {
  return { databases, ...(backupRpoMs !== undefined ? { backupRpoMs } : {}), readAt: ago(0), armCalls };
}

describe('judging recovery points', () => {
  it('takes the newest of the full, log and LTR backups, and judges it against backupRpo', () => {
    const part = judgeGroupRecoveryPoints(
      'fog',
      groupReading(
        [
          { database: 'fresh', earliestRestorePoint: ago(24 * HOUR) },
          { database: 'ltr-only', newestLtrBackup: ago(HOUR / 2), ltrBackups: 1 },
          { database: 'stale' },
          { database: 'none' },
        ],
        HOUR,
      ),
      [
        { database: 'fresh', lastFullBackup: ago(5 * HOUR), lastLogBackup: ago(5 * 60_000) },
        { database: 'stale', lastFullBackup: ago(3 * HOUR) },
      ],
      [{ database: 'fresh', weeklyRetention: 'P4W', monthlyRetention: 'PT0S' }],
      NOW,
    );
    const byName = Object.fromEntries(part.databases.map((entry) => [entry.database, entry]));
    assert.equal(byName.fresh!.state, 'met');
    assert.equal(byName.fresh!.age, '5m');
    assert.equal(byName.fresh!.ltrPolicy, 'W=P4W');
    assert.equal(byName['ltr-only']!.state, 'met', 'an LTR backup is a trusted recovery point');
    assert.equal(byName.stale!.state, 'missed');
    assert.match(byName.stale!.why!, /3h old, older than the RPO of 1h/);
    assert.equal(byName.none!.state, 'missed');
    assert.match(byName.none!.why!, /no full, log or LTR backup/);
    assert.deepEqual(
      groupRecoveryPointChecks(part).map((check) => [check.name, check.status]),
      [
        ['recovery-point/fresh', 'pass'],
        ['recovery-point/ltr-only', 'pass'],
        ['recovery-point/stale', 'fail'],
        ['recovery-point/none', 'fail'],
      ],
    );
    assert.match(recoveryPointRefusal(part)!, /stale \(newest .*, 3h old\), none \(no full, log or LTR backup/);
  });

  it('is unknown, never met, when the history could not be read, and without a backupRpo', () => {
    const unread = judgeGroupRecoveryPoints(
      'fog',
      groupReading([{ database: 'sales', errors: ['reading sales: not found'] }], HOUR),
      'RequestError: login failed',
      undefined,
      NOW,
    );
    assert.equal(unread.databases[0]!.state, 'unknown');
    assert.match(unread.databases[0]!.why!, /backup history could not be read \(.*login failed\); reading sales/);
    assert.equal(unread.databases[0]!.ltrPolicy, 'not read');
    assert.equal(groupRecoveryPointChecks(unread)[0]!.status, 'warn');
    const noRpo = judgeGroupRecoveryPoints('fog', groupReading([{ database: 'sales' }]), [], undefined, NOW);
    assert.equal(noRpo.backupRpo, null);
    assert.equal(noRpo.databases[0]!.state, 'unknown');
    assert.match(recoveryPointRefusal(noRpo)!, /objectives\.backupRpo must be configured for fog/);
    assert.deepEqual(groupRecoveryPointChecks(noRpo), [], 'shown, not judged, without a declared RPO');
    const unlisted = judgeGroupRecoveryPoints(
      'fog',
      groupReading('listing failed: 403', HOUR),
      undefined,
      undefined,
      NOW,
    );
    assert.deepEqual(
      groupRecoveryPointChecks(unlisted).map((check) => [check.name, check.status]),
      [['recovery-points', 'warn']],
    );
    assert.match(recoveryPointRefusal(unlisted)!, /could not be read \(listing failed: 403\)/);
  });

  it('allows a drill when every database is met', () => {
    const part = judgeGroupRecoveryPoints(
      'fog',
      groupReading([{ database: 'sales' }], HOUR),
      [{ database: 'sales', lastLogBackup: ago(60_000) }],
      undefined,
      NOW,
    );
    assert.equal(recoveryPointRefusal(part), undefined);
  });

  it('judges VMs by their newest recovery point and Cosmos DB accounts by their backup policy', () => {
    const reading: WorkloadRecoveryPointsReading = {
      configured: true,
      vault: 'vault-app',
      vmRpoMs: 24 * HOUR,
      cosmosRpoMs: HOUR,
      vms: [
        {
          vmId: '/x/vm-a',
          name: 'vm-a',
          protected: true,
          policy: 'Daily',
          lastBackupStatus: 'Completed',
          lastBackupTime: ago(2 * HOUR),
          newestRecoveryPoint: ago(2 * HOUR),
        },
        { vmId: '/x/vm-b', name: 'vm-b', protected: true, newestRecoveryPoint: ago(30 * HOUR) },
        { vmId: '/x/vm-c', name: 'vm-c', protected: false },
        { vmId: '/x/vm-d', name: 'vm-d', error: 'refused' },
      ],
      cosmosAccounts: [
        {
          accountId: '/x/c1',
          name: 'c1',
          policyType: 'Continuous',
          tier: 'Continuous30Days',
          oldestRestorableTime: ago(30 * 24 * HOUR),
        },
        { accountId: '/x/c2', name: 'c2', policyType: 'Continuous' },
        { accountId: '/x/c3', name: 'c3', policyType: 'Periodic', periodicIntervalMinutes: 60 },
        { accountId: '/x/c4', name: 'c4', policyType: 'Periodic', periodicIntervalMinutes: 240 },
      ],
      readAt: ago(0),
      armCalls,
    };
    const part = judgeWorkloadRecoveryPoints(reading, NOW)!;
    assert.equal(part.vms[0]!.lastSuccessfulBackup, ago(2 * HOUR));
    assert.deepEqual(
      workloadRecoveryPointChecks(part).map((check) => [check.name, check.status]),
      [
        ['recovery-point/vm/vm-a', 'pass'],
        ['recovery-point/vm/vm-b', 'fail'],
        ['recovery-point/vm/vm-c', 'fail'],
        ['recovery-point/vm/vm-d', 'warn'],
        ['recovery-point/cosmos/c1', 'pass'],
        ['recovery-point/cosmos/c2', 'warn'],
        ['recovery-point/cosmos/c3', 'pass'],
        ['recovery-point/cosmos/c4', 'fail'],
      ],
    );
    assert.match(part.vms[2]!.why!, /not protected/);
    assert.match(part.cosmosAccounts[3]!.why!, /every 4h, longer than the RPO of 1h/);
    const noRpo = judgeWorkloadRecoveryPoints({ ...reading, vmRpoMs: undefined, cosmosRpoMs: undefined }, NOW)!;
    assert.ok([...noRpo.vms, ...noRpo.cosmosAccounts].every((entry) => entry.state === 'unknown'));
    assert.equal(judgeWorkloadRecoveryPoints({ ...reading, configured: false }, NOW), undefined);
  });
});
