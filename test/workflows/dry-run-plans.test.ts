/**
 * The dry-run plans, word for word, for each runbook that has one: on Temporal's time-skipping test server, with the
 * real activities over a scripted Azure. The plans derive from the step declarations; these pin their text, so a change
 * to a declaration that changes what an operator reads shows here.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PlanItem } from '../../src/workflows/definitions';
import { boundedIt, scriptedScenario, timeSkippingFrame } from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(90_000);

function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  return scriptedScenario(frame.env, frame.started, configure);
}

/** The plan as `step: action` lines, with the scenario's group name as `<g>` (it differs per test). */
async function planOf(
  s: ReturnType<typeof scenario>,
  runbook: string,
  input: Record<string, unknown>,
): Promise<string[]> {
  const { report, failure } = await s.run(runbook, { dryRun: true, ...input });
  assert.equal(report?.outcome, 'dry-run', failure?.message);
  s.assertNothingChanged();
  return (report.plan ?? []).map((item: PlanItem) => `${item.step}: ${item.action}`.replaceAll(s.name, '<g>'));
}

describe('dry-run plans', { concurrency: 1 }, () => {
  it('plannedFailover with failback plans the leg, then the failback', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.vCores = 4;
    });
    assert.deepEqual(await planOf(s, 'plannedFailover', { failback: { after: '2 hours' } }), [
      'scale-secondary: scale <g>-mi-westus from 4 to 8 vCores and 256 to 256 GB, and wait for it (at most 3h)',
      'verify-sync: sp_wait_for_database_copy_sync for sales, billing (at most 10m)',
      'failover: POST failover at westus (planned: synchronous, no data loss)',
      'await-roles: poll ARM until westus is Primary and eastus Secondary (at most 15m)',
      'await-writable: poll until every database on <g>-mi-westus is READ_WRITE (at most 10m)',
      'post-checks: check that replication is synchronizing again toward the old primary',
      'failback: after 2h and once replication has caught up (every database within 30s; at most 1h, else it ends failbackPending), the same runbook back to eastus',
    ]);
  });

  it('plannedFailover to a secondary of the same size plans no scaling', async () => {
    assert.deepEqual(await planOf(scenario(), 'plannedFailover', {}), [
      "scale-secondary: none: <g>-mi-westus is at least the primary's size",
      'verify-sync: sp_wait_for_database_copy_sync for sales, billing (at most 10m)',
      'failover: POST failover at westus (planned: synchronous, no data loss)',
      'await-roles: poll ARM until westus is Primary and eastus Secondary (at most 15m)',
      'await-writable: poll until every database on <g>-mi-westus is READ_WRITE (at most 10m)',
      'post-checks: check that replication is synchronizing again toward the old primary',
    ]);
  });

  it('plannedFailover blocked by a gate plans to stop at the preflight', async () => {
    const s = scenario((azure) => {
      azure.replicationState = 'SEEDING';
    });
    assert.deepEqual(await planOf(s, 'plannedFailover', {}), [
      'preflight: blocked by replication-synchronizing, replication-links: the runbook would stop here and change nothing',
    ]);
  });

  it('plannedFailover to a target already primary plans nothing to send', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    assert.deepEqual(await planOf(s, 'plannedFailover', { failback: { after: '1 hour' } }), [
      'failover: none: westus is already primary and the group is synchronizing: nothing to send (outcome alreadyPrimary)',
    ]);
  });

  it('failback away from home plans the planned failover home', async () => {
    const s = scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    assert.deepEqual(await planOf(s, 'failback', {}), [
      "scale-secondary: none: <g>-mi-eastus is at least the primary's size",
      'verify-sync: sp_wait_for_database_copy_sync for sales, billing (at most 10m)',
      'failover: POST failover at eastus (planned: synchronous, no data loss)',
      'await-roles: poll ARM until eastus is Primary and westus Secondary (at most 15m)',
      'await-writable: poll until every database on <g>-mi-eastus is READ_WRITE (at most 10m)',
      'post-checks: check that replication is synchronizing again toward the old primary',
    ]);
  });

  it('drDrill plans the failover, the soak and the failback', async () => {
    assert.deepEqual(await planOf(scenario(), 'drDrill', { soak: '30 minutes' }), [
      "scale-secondary: none: <g>-mi-westus is at least the primary's size",
      'verify-sync: sp_wait_for_database_copy_sync for sales, billing (at most 10m)',
      'failover: POST failover at westus (planned: synchronous, no data loss)',
      'await-roles: poll ARM until westus is Primary and eastus Secondary (at most 15m)',
      'await-writable: poll until every database on <g>-mi-westus is READ_WRITE (at most 10m)',
      'post-checks: check that replication is synchronizing again toward the old primary',
      'soak: stay 30m in the secondary region with smoke checks (a write through the read-write listener)',
      'failback: once replication has caught up (every database within 30s; at most 1h, else the drill ends failbackPending), the same runbook back to eastus, then the drill report',
    ]);
  });

  it('drDrill without a write probe says so in the soak', async () => {
    assert.deepEqual(await planOf(scenario(), 'drDrill', { smoke: { write: false } }), [
      "scale-secondary: none: <g>-mi-westus is at least the primary's size",
      'verify-sync: sp_wait_for_database_copy_sync for sales, billing (at most 10m)',
      'failover: POST failover at westus (planned: synchronous, no data loss)',
      'await-roles: poll ARM until westus is Primary and eastus Secondary (at most 15m)',
      'await-writable: poll until every database on <g>-mi-westus is READ_WRITE (at most 10m)',
      'post-checks: check that replication is synchronizing again toward the old primary',
      'soak: stay 10m in the secondary region with smoke checks (no write)',
      'failback: once replication has caught up (every database within 30s; at most 1h, else the drill ends failbackPending), the same runbook back to eastus, then the drill report',
    ]);
  });

  it('forcedFailover trying a planned failover first plans the approval wait and both attempts', async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    assert.deepEqual(await planOf(s, 'forcedFailover', { tryPlannedFirst: { timeout: '5 minutes' } }), [
      'await-approval: wait at most 1h for approve/reject; Estimate: at most the last 3s of commits (from last_commit on <g>-mi-westus only: <g>-mi-eastus did not answer (reading replication links on <g>-mi-eastus.abc123.database.windows.net: <g>-mi-eastus.abc123.database.windows.net does not answer), so each figure is an upper bound (it also counts time with no commits)). Per database: sales: at most 3s (secondary last_commit only (primary unreachable): upper bound); billing: at most 3s (secondary last_commit only (primary unreachable): upper bound).',
      'try-planned: POST failover at westus; escalate if it cannot complete within 5m',
      'force-failover: POST forceFailoverAllowDataLoss at westus (once)',
      'await-new-primary: poll westus only until it reports Primary (eastus may not answer)',
      'await-writable: poll until every database on <g>-mi-westus is READ_WRITE',
    ]);
  });

  it('forcedFailover approved in its input plans no wait', async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    assert.deepEqual(await planOf(s, 'forcedFailover', { approval: { by: 'incident-bot', reason: 'INC-1' } }), [
      'await-approval: pre-approved by incident-bot (INC-1)',
      'force-failover: POST forceFailoverAllowDataLoss at westus (once)',
      'await-new-primary: poll westus only until it reports Primary (eastus may not answer)',
      'await-writable: poll until every database on <g>-mi-westus is READ_WRITE',
    ]);
  });

  it('scaleGroup plans each operation in order', async () => {
    const s = scenario((azure) => {
      azure.instances.westus!.storageSizeInGB = 512;
    });
    assert.deepEqual(await planOf(s, 'scaleGroup', { vCores: 16 }), [
      "plan: growing: the secondary first, so it is never smaller than the primary: scale-secondary (<g>-mi-westus) → scale-primary (<g>-mi-eastus). storageSizeInGB was not given and the storage sizes differ (primary <g>-mi-eastus 256 GB, secondary <g>-mi-westus 512 GB): both go to the larger, 512 GB, so the pair's storage sizes match",
      'scale-secondary: scale <g>-mi-westus (secondary, westus) from 8 vCores / 512 GB / GP_Gen5 to 16 vCores / 512 GB / GP_Gen5, and wait for it to end (at most 3h)',
      'scale-primary: scale <g>-mi-eastus (primary, eastus) from 8 vCores / 256 GB / GP_Gen5 to 16 vCores / 512 GB / GP_Gen5, and wait for it to end (at most 3h)',
      'verify: read both instances and check that they are at the target',
    ]);
  });

  it('scaleGroup shrinking plans the primary first', async () => {
    assert.deepEqual(await planOf(scenario(), 'scaleGroup', { vCores: 4 }), [
      'plan: shrinking: the primary first, so the secondary is never smaller than it: scale-primary (<g>-mi-eastus) → scale-secondary (<g>-mi-westus)',
      'scale-primary: scale <g>-mi-eastus (primary, eastus) from 8 vCores / 256 GB / GP_Gen5 to 4 vCores / 256 GB / GP_Gen5, and wait for it to end (at most 3h)',
      'scale-secondary: scale <g>-mi-westus (secondary, westus) from 8 vCores / 256 GB / GP_Gen5 to 4 vCores / 256 GB / GP_Gen5, and wait for it to end (at most 3h)',
      'verify: read both instances and check that they are at the target',
    ]);
  });

  it('scaleGroup with nothing to change plans only the decision', async () => {
    assert.deepEqual(await planOf(scenario(), 'scaleGroup', { vCores: 8 }), [
      'plan: both instances are already at the target: nothing to change',
    ]);
  });
});
