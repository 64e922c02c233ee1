/**
 * The read plan of a planned failover leg (issue 15): ARM is read only where no fresh reading already answers. On
 * Temporal's time-skipping test server with the real activities over a scripted Azure.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { ArmRequestError } from '../../src/azure/errors';
import { SqlRequestError } from '../../src/sql/data-plane';
import { FailureTypes, Outcomes } from '../../src/workflows/definitions';
import {
  boundedIt,
  outcomeOf,
  timeSkippingFrame,
  saveHistory,
  stepOf,
  waitFor,
  waitForTaskAfter,
} from '../support/runbook-harness';

const frame = timeSkippingFrame();
const it = boundedIt(120_000);

const ARM_READS = new Set([
  'getFailoverGroup',
  'getManagedInstance',
  'listManagedInstanceOperations',
  'getFailoverProgress',
  'getOperationProgress',
  'listDatabaseRetentionPolicies',
]);

describe('a planned failover with failback reads ARM only where nothing fresh answers', { concurrency: 1 }, () => {
  it('reads the group once per preflight at the target, not again before a POST, and only the old primary in post-checks', async () => {
    const s = frame.scenario((azure) => {
      azure.roleSwitchMs = 30_000;
    });
    const { report, failure, handle } = await s.run('plannedFailover', { failback: { after: 0 } });
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const calls = s.azure.calls;
    const groupReads = calls.filter((call) => call.method === 'getFailoverGroup');
    const locations = groupReads.map((call) => (call.args as { location: string }).location);
    // Failover: preflight at westus, confirmation at westus, post-checks at eastus; the failback's preflight stands
    // on post-checks' reading, then its confirmation at eastus and its post-checks at westus.
    assert.deepEqual(locations, ['westus', 'westus', 'eastus', 'eastus', 'westus'], s.azure.methods().join(' → '));
    const methods = s.azure.methods();
    for (const [index, method] of methods.entries()) {
      if (method !== 'beginFailover') continue;
      assert.notEqual(methods[index - 1], 'getFailoverGroup', `no read right before a POST: ${methods.join(' → ')}`);
    }
    // The failback's catch-up wait reads the lag on the primary over SQL, and no instance again.
    assert.equal(methods.filter((method) => method === 'getManagedInstance').length, 4);
    assert.equal(
      report.armCalls.reads,
      methods.filter((method) => ARM_READS.has(method)).length,
      'the report counts every ARM read',
    );
    assert.equal(typeof stepOf(report, 'failback/preflight').evidence?.rolesReadMsAgo, 'number');
    assert.equal(typeof stepOf(report, 'failback/await-catch-up').evidence?.rolesReadMsAgo, 'number');
    assert.equal(typeof stepOf(report, 'failback/failover').evidence?.targetViewReadMsAgo, 'number');
    assert.equal(typeof stepOf(report, 'failover').evidence?.targetViewReadMsAgo, 'number');
    assert.deepEqual(
      s.azure.acceptedFailovers.map((post) => post.location),
      ['westus', 'eastus'],
    );
    await saveHistory(handle, 'planned-failover-with-failback-read-plan');
  });

  it("fails back on the links its failover's post-checks read and on the failover leg's drift reads", async () => {
    const s = frame.scenario();
    const { report, failure, handle } = await s.run('plannedFailover', { failback: { after: 0 } });
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const methods = s.azure.methods();
    const count = (method: string) => methods.filter((name) => name === method).length;
    // The failover's preflight, its post-checks and the failback's post-checks: the catch-up look and the failback's
    // preflight stand on the post-checks' reading of moments before (5 reads before the failback read plan).
    assert.equal(count('listReplicationLinks'), 3, methods.join(' → '));
    // Logins and jobs on both instances once, by the failover leg (twice each before).
    assert.equal(count('listLogins'), 2, methods.join(' → '));
    assert.equal(count('listAgentJobs'), 2, methods.join(' → '));
    const catchUp = stepOf(report, 'failback/await-catch-up').evidence ?? {};
    const preflight = stepOf(report, 'failback/preflight').evidence ?? {};
    assert.equal(typeof catchUp.linksReadMsAgo, 'number');
    assert.ok((catchUp.linksReadMsAgo as number) <= 2_000, `${String(catchUp.linksReadMsAgo)} ms old`);
    assert.equal(typeof preflight.linksReadMsAgo, 'number');
    assert.equal(typeof preflight.driftCheckedMsAgo, 'number');
    // The failover leg read everything itself, and its gates include the drift checks' verdicts.
    assert.equal(stepOf(report, 'preflight').evidence?.linksReadMsAgo, undefined);
    assert.equal(stepOf(report, 'preflight').evidence?.driftCheckedMsAgo, undefined);
    assert.deepEqual(
      s.azure.acceptedFailovers.map((post) => post.location),
      ['westus', 'eastus'],
    );
    await saveHistory(handle, 'planned-failover-failback-stands-on-failover-reads');
  });

  it("reads the new primary's links in the post-checks with their first look at the roles, not after it", async () => {
    const s = frame.scenario();
    const { report, failure, handle } = await s.run('plannedFailover', {});
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((event) => {
      const attributes = event.activityTaskScheduledEventAttributes;
      return attributes
        ? [{ type: attributes.activityType?.name, task: String(attributes.workflowTaskCompletedEventId) }]
        : [];
    });
    const sent = scheduled.findIndex((entry) => entry.type === 'sendFailover');
    const postCheckLinks = scheduled.slice(sent).find((entry) => entry.type === 'readReplicationLinks');
    assert.ok(postCheckLinks, scheduled.map((entry) => entry.type).join(' → '));
    const rolesWithIt = scheduled
      .slice(sent)
      .filter((entry) => entry.type === 'readGroupRoles' && entry.task === postCheckLinks.task);
    assert.equal(rolesWithIt.length, 1, 'the links read goes out in the workflow task of a roles read');
    assert.equal(s.azure.methods().filter((name) => name === 'listReplicationLinks').length, 2);
    await saveHistory(handle, 'planned-failover-post-checks-links-with-roles');
  });

  it('fails post-checks whose roles read fails only once the links read sent with it has ended', async () => {
    let releaseLinksRead!: () => void;
    const linksReadHeld = new Promise<void>((resolve) => (releaseLinksRead = resolve));
    let linksReads = 0;
    let linksReadEnded = false;
    let oldPrimaryReadRefused = false;
    const s = frame.scenario((azure) => {
      azure.roleSwitchMs = 5_000;
      azure.onCall = async (method, args) => {
        const afterTheSwitch = azure.acceptedFailovers.length > 0;
        if (method === 'getFailoverGroup' && afterTheSwitch && (args as { location: string }).location === 'eastus') {
          oldPrimaryReadRefused = true;
          throw new ArmRequestError('The client does not have authorization to perform action', {
            statusCode: 403,
            code: 'AuthorizationFailed',
            delivery: 'answered',
          });
        }
        if (method === 'listReplicationLinks' && ++linksReads === 2) {
          await linksReadHeld;
          linksReadEnded = true;
        }
      };
    });
    const worker = await s.worker();
    const handle = await s.start('plannedFailover', {});
    const outcome = await worker.runUntil(async () => {
      // Released whatever is asserted: the worker stops only once its activities end.
      try {
        await waitFor(() => oldPrimaryReadRefused, 'the post-checks read at the old primary to be refused', 90_000);
        await waitForTaskAfter(handle, (event) => !!event.activityTaskFailedEventAttributes, 'the roles read failed');
        const { status, raw } = await handle.describe();
        assert.equal(status.name, 'RUNNING', 'the step waits for the links read it sent');
        assert.ok(
          raw.pendingActivities?.some((activity) => activity.activityType?.name === 'readReplicationLinks'),
          'the links read is still out',
        );
      } finally {
        releaseLinksRead();
      }
      return outcomeOf(handle);
    });
    assert.ok(linksReadEnded, 'the links read ended before the run did');
    assert.equal(outcome.failure?.type, FailureTypes.AzureAuthorizationFailed, outcome.failure?.message);
    assert.deepEqual(
      s.azure.acceptedFailovers.map((post) => post.location),
      ['westus'],
    );
  });

  it('reads the links again when the failback starts more than two seconds after the post-checks', async () => {
    const s = frame.scenario();
    const { report, failure } = await s.run('plannedFailover', { failback: { after: '1 minute' } });
    assert.equal(report?.outcome, Outcomes.succeeded, failure?.message);
    const methods = s.azure.methods();
    // The catch-up look a minute later reads them; the failback's preflight stands on that reading.
    assert.equal(methods.filter((name) => name === 'listReplicationLinks').length, 4, methods.join(' → '));
    assert.equal(stepOf(report, 'failback/await-catch-up').evidence?.linksReadMsAgo, undefined);
    assert.equal(typeof stepOf(report, 'failback/preflight').evidence?.linksReadMsAgo, 'number');
    // Drift readings a minute old still stand: they only warn, and the failover leg warned.
    assert.equal(typeof stepOf(report, 'failback/preflight').evidence?.driftCheckedMsAgo, 'number');
  });

  it('fails a preflight whose links read fails only once the drift reads sent beside it have ended', async () => {
    // A step that failed with its drift reads still out would leave them running past the run; on a time-skipping
    // server that stops all skipping until they end (fault storm cells hung so).
    let releaseDriftReads!: () => void;
    const driftReadsHeld = new Promise<void>((resolve) => (releaseDriftReads = resolve));
    let loginReadsEnded = 0;
    let linksReadFailed = false;
    const s = frame.scenario((azure) => {
      azure.onCall = async (method) => {
        if (method === 'listReplicationLinks') {
          linksReadFailed = true;
          throw new SqlRequestError('Login failed for user fogpilot', 'login-failed', 18456);
        }
        if (method === 'listLogins') {
          await driftReadsHeld;
          loginReadsEnded += 1;
        }
      };
    });
    const worker = await s.worker();
    const handle = await s.start('plannedFailover', {});
    const outcome = await worker.runUntil(async () => {
      // Released whatever is asserted: the worker stops only once its activities end.
      try {
        await waitFor(() => linksReadFailed, 'the links read to fail');
        await waitForTaskAfter(handle, (event) => !!event.activityTaskFailedEventAttributes, 'the links read failed');
        const { status, raw } = await handle.describe();
        assert.equal(status.name, 'RUNNING', 'the step waits for the drift reads it sent');
        assert.ok(
          raw.pendingActivities?.some((activity) => activity.activityType?.name === 'readLogins'),
          'the login reads are still out',
        );
      } finally {
        releaseDriftReads();
      }
      return outcomeOf(handle);
    });
    assert.equal(loginReadsEnded, 2, 'both login reads ended before the run did');
    assert.equal(outcome.failure?.type, FailureTypes.SqlLoginFailed, outcome.failure?.message);
    s.assertNothingChanged();
  });

  it('reads the group at both locations when the target already answers Primary, so alreadyPrimary rests on both', async () => {
    const s = frame.scenario((azure) => {
      azure.primaryLocation = 'westus';
    });
    const { report, failure } = await s.run('plannedFailover', { targetLocation: 'westus' });
    assert.equal(report?.outcome, Outcomes.alreadyPrimary, failure?.message);
    const locations = s.azure.calls
      .filter((call) => call.method === 'getFailoverGroup')
      .map((call) => (call.args as { location: string }).location)
      .sort();
    assert.deepEqual(locations, ['eastus', 'westus', 'westus'], 'the target, then both locations');
    assert.equal(s.azure.acceptedFailovers.length, 0);
  });
});
