/**
 * Replays the recorded histories under test/histories against the current workflow code: a change that would break
 * running executions (non-determinism) fails here. See test/histories/README.md.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { installQuietRuntime, repoRoot, workflowBundle } from '../support/temporal';

const historiesDir = path.join(repoRoot, 'test', 'histories');
const fixtures = readdirSync(historiesDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

describe('replay of recorded histories', () => {
  it('has a fixture for each main path', () => {
    for (const expected of [
      'planned-failover-happy-path.json',
      'planned-failover-with-failback.json',
      'planned-failover-dry-run.json',
      'planned-failover-preflight-failed.json',
      'planned-failover-aborted-before-failover.json',
      'failback-home.json',
      'forced-failover-pre-approved.json',
      'dr-drill-without-probe.json',
      'fleet-failover-partial.json',
      'fleet-failover-summaries.json',
      'planned-failover-fleet-child-summary.json',
      'scale-group-up.json',
      'scale-group-timed-out.json',
      'readiness-check-all.json',
      'readiness-check-recovery-points.json',
      'forced-failover-delegated-starter.json',
      'forced-failover-delegated-holder.json',
      'forced-failover-estimate-both-sides.json',
      'forced-failover-estimate-primary-unreachable.json',
      'planned-failover-already-primary.json',
      'planned-failover-refused-busy.json',
      'dr-drill-failback-pending.json',
      'planned-failover-failback-pending.json',
      'failback-waited-for-lag.json',
      'forced-failover-preempts-waiting-holder.json',
      'planned-failover-already-primary-reseeding.json',
      'planned-failover-already-primary-partner-dark.json',
      'failback-already-primary-partner-dark.json',
      'forced-failover-approval-refused-then-accepted.json',
      'forced-failover-approval-forwarded-starter.json',
      'forced-failover-approval-forwarded-holder.json',
      'dr-drill-health-url-query-before-rule.json',
      'planned-failover-failback-stands-on-failover-reads.json',
      'planned-failover-post-checks-links-with-roles.json',
      'planned-failover-delegated-starter-paced.json',
      'planned-failover-delegated-holder-paced.json',
      'dr-drill-abort-during-smoke-check.json',
      'establish-group.json',
      'restore-database.json',
      'restore-database-swap.json',
      'protect-workload-vm.json',
      'protect-workload-migration.json',
      'planned-failover-sql-database.json',
      'forced-failover-sql-database-azure-try-planned.json',
    ]) {
      assert.ok(fixtures.includes(expected), `missing fixture ${expected}`);
    }
  });

  it('replays every recorded history without non-determinism', async () => {
    installQuietRuntime();
    const histories = fixtures.map((file) => {
      const fixture = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as {
        workflowId: string;
        history: unknown;
      };
      return { file, workflowId: fixture.workflowId, history: historyFromJSON(fixture.history) };
    });
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of results) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    assert.deepEqual(failures, []);
    assert.equal(replayed, histories.length);
  });
});
