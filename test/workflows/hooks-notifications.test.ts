/**
 * A group's hooks and notifications in a plannedFailover, on the time-skipping test server with the real activities
 * over a scripted Azure, against a real HTTP receiver: a failing `before` hook stops the run before any change, an
 * `after` hook's failure is a warning, and every notification arrives signed.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigSchema } from '../../src/config/config';
import { verifySignature } from '../../src/notify/signature';
import { NOTIFICATION_EVENTS, type RunbookNotification } from '../../src/notify/events';
import { startReceiver, type LocalReceiver } from '../hooks/local-receiver';
import { boundedIt, outcomeWithReportOf, stepOf, timeSkippingFrame, waitFor } from '../support/runbook-harness';
import { createTestWorker } from '../support/temporal';

const it = boundedIt(90_000);
const frame = timeSkippingFrame();
const SECRET = 'notification-key-for-tests-0123456789';

let receiver: LocalReceiver;
before(async () => {
  receiver = await startReceiver();
});
after(async () => {
  await receiver.close();
});

/** A scripted group whose inventory entry has hooks on the receiver, and a signed JSON endpoint there too. */
function scenario(hookAnswers: { before?: number; after?: number } = {}, afterOnFailure: 'warn' | 'fail' = 'warn') {
  // A short role switch: these tests are about what runs around it, not the switch itself.
  const s = frame.scenario((azure) => {
    azure.roleSwitchMs = 2_000;
  });
  const config = ConfigSchema.parse({
    inventory: {
      [s.name]: {
        ...s.azure.coordinates,
        hooks: {
          before: [{ name: 'drain-traffic', url: `${receiver.origin}/before`, attempts: 2 }],
          after: [{ name: 'purge-cache', url: `${receiver.origin}/after`, attempts: 1, onFailure: afterOnFailure }],
        },
        objectives: { rto: '15 minutes', rpo: '5 seconds' },
      },
    },
    notifications: [{ name: 'ops', url: `${receiver.origin}/notify`, secretEnv: 'FOGPILOT_TEST_NOTIFY_KEY' }],
  });
  receiver.requests.length = 0;
  receiver.answer((request) => {
    if (request.url === '/before') return { status: hookAnswers.before ?? 200, body: 'drained' };
    if (request.url === '/after') return { status: hookAnswers.after ?? 200, body: 'purged' };
    return { status: 204 };
  });
  return {
    ...s,
    async run(input: Record<string, unknown> = {}, workflowType = 'plannedFailover') {
      const worker = await createTestWorker({
        env: frame.env,
        taskQueue: s.taskQueue,
        deps: { ...s.deps, outbound: { config, env: { FOGPILOT_TEST_NOTIFY_KEY: SECRET } } },
        called: s.called,
      });
      const handle = await s.start(workflowType, input);
      return worker.runUntil(async () => {
        const outcome = await outcomeWithReportOf(handle);
        // Deliveries run in abandoned children: wait for what the run ended with to arrive.
        const ended = outcome.report?.outcome === 'succeeded' ? 'succeeded' : 'failed';
        await waitFor(
          () => notifications().some((entry) => entry.payload.event === ended),
          `the ${ended} notification`,
        );
        await deliveriesClosed(handle.workflowId, handle.firstExecutionRunId);
        return outcome;
      });
    },
  };
}

/**
 * Waits until every `deliverNotifications` child of the run has closed: one left open when this test's worker stops
 * (its last workflow task not yet run) would stop time skipping for the tests after it.
 */
async function deliveriesClosed(workflowId: string, runId: string): Promise<void> {
  for (let sequence = 1; sequence <= 8; sequence++) {
    for (const event of NOTIFICATION_EVENTS) {
      const child = frame.env.client.workflow.getHandle(
        `${workflowId}/notify/${runId.slice(0, 8)}-${sequence}-${event}`,
      );
      const described = await child.describe().catch(() => undefined);
      if (!described) continue;
      await waitFor(async () => (await child.describe()).status.name !== 'RUNNING', `delivery ${sequence} closed`);
    }
  }
}

function notifications(): { payload: RunbookNotification; verified: boolean }[] {
  return receiver.requests
    .filter((request) => request.url === '/notify')
    .map((request) => ({
      payload: JSON.parse(request.rawBody.toString('utf8')) as RunbookNotification,
      verified: verifySignature(SECRET, String(request.headers['x-fogpilot-signature']), request.rawBody).ok,
    }));
}

describe('hooks and notifications around a planned failover', { concurrency: 1 }, () => {
  it('runs the before hook before any change and the after hook after the switch, and notifies each event signed', async () => {
    const s = scenario();
    const { report, failure } = await s.run();
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    const hooks = receiver.requests.filter((request) => request.url !== '/notify').map((request) => request.url);
    assert.deepEqual(hooks, ['/before', '/after']);
    assert.deepEqual(
      report.hooks?.map((hook) => [hook.name, hook.phase, hook.ok, hook.response?.status]),
      [
        ['drain-traffic', 'before', true, 200],
        ['purge-cache', 'after', true, 200],
      ],
    );
    // The before hook ran before the first change, the after hook once the new primary was checked.
    const names = report.steps.map((step) => step.name);
    assert.ok(
      names.includes('hook-before-drain-traffic') && names.includes('hook-after-purge-cache'),
      names.join(', '),
    );
    assert.ok(names.indexOf('hook-before-drain-traffic') < names.indexOf('failover'));
    assert.ok(names.indexOf('hook-after-purge-cache') > names.indexOf('post-checks'));

    const received = notifications();
    // Each arrives from its own delivery workflow: their order of arrival is not the run's, the set is.
    assert.deepEqual(received.map((entry) => entry.payload.event).sort(), ['pointOfNoReturn', 'started', 'succeeded']);
    assert.ok(
      received.every((entry) => entry.verified),
      'every notification verifies with the key',
    );
    // A positive control: the same body does not verify under another key.
    const first = receiver.requests.find((request) => request.url === '/notify')!;
    assert.equal(
      verifySignature('another-key', String(first.headers['x-fogpilot-signature']), first.rawBody).ok,
      false,
    );
    const ended = received.at(-1)!.payload;
    assert.equal(ended.group, s.name);
    assert.equal(ended.fromLocation, 'eastus');
    assert.equal(ended.toLocation, 'westus');

    // Judged against the group's objectives: the switch took the scripted 2-odd seconds, and no loss was proven.
    const rtoMs = report.legs[0]!.rtoSeconds! * 1000;
    assert.deepEqual(report.objectives, {
      rto: { targetMs: 15 * 60_000, measuredMs: rtoMs, met: true },
      rpo: { targetMs: 5_000, measuredMs: 0, met: true },
    });
    assert.deepEqual(ended.objectives, report.objectives);
  });

  it('stops before any change when a before hook fails, and says the primary is where it was', async () => {
    const s = scenario({ before: 500 });
    const { report, failure } = await s.run();
    assert.equal(failure?.type, 'HookFailed');
    assert.match(failure.message, /Before hook drain-traffic failed after 2 attempt/);
    assert.match(failure.message, /Nothing was changed: eastus is still primary/);
    s.assertNothingChanged();
    assert.equal(receiver.requests.filter((request) => request.url === '/before').length, 2, 'both attempts');
    assert.equal(stepOf(report!, 'hook-before-drain-traffic').state, 'failed');
    assert.equal(report?.hooks?.[0]?.response?.status, 500);
    assert.deepEqual(
      notifications()
        .map((entry) => entry.payload.event)
        .sort(),
      ['failed', 'started'],
    );
  });

  it('reports a failing after hook set to warn as a warning; the switch stands', async () => {
    const s = scenario({ after: 503 });
    const { report, failure } = await s.run();
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(s.azure.primaryLocation, 'westus');
    assert.ok(
      report.warnings.some((warning) => /after hook purge-cache failed/.test(warning)),
      report.warnings.join('; '),
    );
  });

  it('stops a forced failover before it forces when a before hook fails after the approval', async () => {
    const s = scenario({ before: 500 });
    s.azure.darkLocations.add('eastus');
    const { report, failure } = await s.run(
      { approval: { by: 'incident-commander', reason: 'INC-9: eastus down' } },
      'forcedFailover',
    );
    assert.equal(failure?.type, 'HookFailed', failure?.message);
    assert.match(failure.message, /Before hook drain-traffic failed/);
    assert.equal(s.azure.acceptedFailovers.length, 0, 'nothing was forced');
    assert.ok(!s.called.includes('sendFailover'), 'no force request');
    const names = report!.steps.map((step) => step.name);
    assert.ok(names.includes('await-approval') && names.includes('hook-before-drain-traffic'), names.join(', '));
    assert.ok(names.indexOf('await-approval') < names.indexOf('hook-before-drain-traffic'), names.join(', '));
  });

  it('ends a failover HookFailed when an after hook set to fail fails, the switch standing', async () => {
    const s = scenario({ after: 500 }, 'fail');
    const { failure } = await s.run();
    assert.equal(failure?.type, 'HookFailed', failure?.message);
    assert.match(failure.message, /The switch stands: westus is primary/);
    assert.equal(s.azure.primaryLocation, 'westus');
  });

  it('still brings a drill home when an after hook set to fail fails on its way out', async () => {
    const s = scenario({ after: 500 }, 'fail');
    const { report, failure } = await s.run({ soak: '1 second', smoke: { write: false } }, 'drDrill');
    assert.equal(s.azure.primaryLocation, 'eastus', 'the drill failed back');
    assert.ok(
      report?.warnings.some((warning) => /in a drill the failback still runs/.test(warning)),
      report?.warnings.join('; '),
    );
    // Home again, the same hook failing after the failback ends the drill as it is set to: the group is where it belongs.
    assert.equal(failure?.type, 'HookFailed');
    assert.match(failure.message, /The switch stands: eastus is primary/);
  });
});
