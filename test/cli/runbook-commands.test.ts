/**
 * The runbook commands as an operator runs them: `bin/fogpilot.js` in its own process, pointed at the real Temporal
 * dev server by TEMPORAL_ADDRESS and at this test's task queue by FOGPILOT_TASK_QUEUE, with a fogpilot worker in this
 * process over a scripted Azure.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FogpilotClient } from '../../src/client';
import { renderReport } from '../../src/report';
import { userInfo } from 'node:os';
import { AccessSchema } from '../../src/config/access';
import { approveSignal, type RunbookReport } from '../../src/workflows/definitions';
import { startDevServer, type DevServer } from '../support/dev-server';
import { StartedWorkflows, scriptedScenario, waitFor } from '../support/runbook-harness';
import { createTestWorker, workflowBundle } from '../support/temporal';
import { fogpilot, jsonOf, startFogpilot } from './fogpilot-cli';

let server: DevServer;
/** The CLI's identity here: no client certificate or API key, so the OS user running the tests. */
const ME = `os-user:${userInfo().username}`;
const started = new StartedWorkflows();

before(async () => {
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
});
afterEach(async () => {
  await started.terminateAll(server.env);
});
after(async () => {
  await server?.teardown();
});

/** A group over a scripted Azure whose failovers take a second of real time. */
function scenario(configure?: Parameters<typeof scriptedScenario>[2]) {
  const s = scriptedScenario(server.env, started, (azure) => {
    azure.roleSwitchMs = 1_000;
    configure?.(azure);
  });
  return {
    ...s,
    cliEnv: { TEMPORAL_ADDRESS: server.address, FOGPILOT_TASK_QUEUE: s.taskQueue },
    fogpilot: new FogpilotClient(server.env.client, s.taskQueue),
  };
}

describe('fogpilot runbook commands', { concurrency: 1, timeout: 120_000 }, () => {
  it('drill --no-wait returns the workflow id at once; watch follows it to its end; report renders it', async () => {
    // The failover's switch is held until `watch` has shown the wait for it: the progress is observed live, not
    // caught in a window (a loaded CI run once finished a 1-second switch between two of watch's polls).
    const s = scenario((azure) => {
      azure.failoverNeverCompletes = true;
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      // No write probe: stopping it waits on heartbeat throttling, seconds this test does not need to spend.
      const start = await fogpilot(
        ['drill', s.name, '--json', '--soak', '1s', '--no-smoke-write', '--no-wait'],
        s.cliEnv,
      );
      assert.equal(start.code, 0, start.stderr);
      const { workflowId, started: fresh } = jsonOf<{ workflowId: string; started: boolean }>(start);
      started.add(workflowId);
      assert.equal(fresh, true);
      assert.match(workflowId, new RegExp(`^fogpilot/drDrill/${s.name}/`));
      const { status } = await s.fogpilot.handle(workflowId).describe();
      assert.equal(status.name, 'RUNNING', 'the command returned while the drill runs');

      const following = startFogpilot(['watch', workflowId], s.cliEnv);
      // Live progress while it runs: the wait for the roles, shown before the roles switch.
      await following.printed(/waiting\s+azure: waiting for westus to become primary/);
      s.azure.failoverNeverCompletes = false;
      const watch = await following.ended;
      assert.equal(watch.code, 0, watch.stderr);
      assert.match(watch.stdout, new RegExp(`running under the group's lock as ${s.lockId}`));
      for (const step of ['preflight', 'failover', 'soak', 'failback/failover', 'failback/post-checks']) {
        // Once: the drill shows its lock holder's steps as its own, and they are not printed again.
        const ended = watch.stdout.match(new RegExp(`succeeded\\s+${step}\\b`, 'g')) ?? [];
        assert.equal(ended.length, 1, `${step} ended once in the progress:\n${watch.stdout}`);
      }
      assert.match(watch.stdout, new RegExp(`drDrill of ${s.name}: succeeded`));
      assert.match(watch.stdout, /failover eastus → westus: RTO \d+\.\ds; data loss: none-proven/);
      assert.match(watch.stdout, /failback westus → eastus: RTO \d+\.\ds; data loss: none-proven/);

      const { report } = await s.fogpilot.result(workflowId);
      const markdown = await fogpilot(['report', workflowId, '--format', 'md'], s.cliEnv);
      assert.equal(markdown.code, 0, markdown.stderr);
      assert.equal(markdown.stdout, renderReport(report!, 'md'));
      assert.match(markdown.stdout, /^# /);
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['planned→westus', 'planned→eastus'],
    );
  });

  it("a forced failover waits showing how to approve; the requester's own approve is refused and shown, and a second identity's approval lets it finish", async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    const workflowId = `fogpilot/forcedFailover/${s.name}/INC-7`;
    started.add(workflowId);
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const waiting = startFogpilot(['force-failover', s.name, '--idempotency-key', 'INC-7'], s.cliEnv);
      // Approve only once the command has shown the wait: what an operator reads before approving from another shell.
      await waiting.printed(/waiting\s+approval: /);
      assert.equal(s.azure.failoverRequests, 0, 'nothing sent before the approval');

      const whoami = await fogpilot(['whoami'], s.cliEnv);
      assert.equal(whoami.code, 0, whoami.stderr);
      assert.match(whoami.stdout, new RegExp(`^${ME}\n  from the OS user running fogpilot`));

      const named = await fogpilot(['approve', workflowId, '--by', 'x', '--reason', 'y'], s.cliEnv);
      assert.equal(named.code, 2, named.stderr);
      assert.match(
        named.stderr,
        /--by is not accepted for approve: the approver is the identity of your Temporal connection/,
      );
      assert.match(named.stderr, /fogpilot whoami/);

      // The same OS user started the run: the two-person rule refuses its approval.
      const own = await fogpilot(['approve', workflowId, '--reason', 'my incident'], s.cliEnv);
      assert.equal(own.code, 1, own.stderr);
      assert.match(
        own.stderr,
        new RegExp(
          `refused the approve from ${ME}: ${ME} requested this run and may not also approve it \\(two-person rule\\)`,
        ),
      );
      assert.match(own.stderr, /Ask a second person/);
      await waiting.printed(new RegExp(`refused\\s+approve from ${ME}: `));
      const status = await s.fogpilot.status(workflowId);
      assert.equal(status.refusals?.length, 1, 'the refusal is in the status of the id people started');
      assert.equal(status.awaiting?.kind, 'approval', 'the run still waits');
      assert.equal(s.azure.failoverRequests, 0, 'a refused approval sends nothing');

      await s.fogpilot.approve(workflowId, { reason: 'INC-7: eastus is down' }, 'certificate:CN=bob,O=Contoso');
      const run = await waiting.ended;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`approve: fogpilot approve ${workflowId} --reason <why>`));
      assert.match(run.stdout, new RegExp(`forcedFailover of ${s.name}: succeeded`));
      assert.match(
        run.stdout,
        new RegExp(`approved by certificate:CN=bob,O=Contoso \\(update\\): INC-7: eastus is down; requested by ${ME}`),
      );
      const markdown = await fogpilot(['report', workflowId, '--format', 'md'], s.cliEnv);
      assert.match(markdown.stdout, new RegExp(`\\*\\*Requested by:\\*\\* ${ME} — the OS user running the CLI`));
      assert.match(
        markdown.stdout,
        /\*\*Approved by:\*\* certificate:CN=bob,O=Contoso — the subject of the CLI's Temporal client certificate/,
      );
    });
    assert.deepEqual(
      s.azure.acceptedFailovers.map((entry) => `${entry.kind}→${entry.location}`),
      ['forced→westus'],
    );
  });

  it('with an access section, an approve from an identity without the grant and an approve signal naming a granted one are both refused; the granted identity approves', async () => {
    const s = scenario((azure) => azure.darkLocations.add('eastus'));
    const bob = 'certificate:CN=bob,O=Contoso';
    const worker = await createTestWorker({
      env: server.env,
      taskQueue: s.taskQueue,
      deps: {
        ...s.deps,
        approvalRules: {
          access: AccessSchema.parse({ operators: [{ identity: bob, approve: true, groups: ['*'] }] }),
          groupForAccess: () => ({}),
        },
      },
      called: s.called,
    });
    await worker.runUntil(async () => {
      const run = await s.fogpilot.start('forcedFailover', { group: s.name, requestedBy: 'webhook:incident-bot' });
      started.add(run.workflowId);
      await waitFor(
        async () => (await s.fogpilot.status(run.workflowId).catch(() => undefined))?.awaiting?.kind === 'approval',
        'the approval wait',
      );
      const ungranted = await fogpilot(['approve', run.workflowId, '--reason', 'I am on call'], s.cliEnv);
      assert.equal(ungranted.code, 1, ungranted.stderr);
      assert.match(ungranted.stderr, new RegExp(`${ME} may not approve runs`));
      assert.match(ungranted.stderr, new RegExp(`Grant approve to access\\.operators \\(identity ${ME}\\)`));

      await s.fogpilot.handle(run.workflowId).signal(approveSignal, { by: bob, reason: 'trust me' });
      await waitFor(
        async () => ((await s.fogpilot.status(run.workflowId)).refusals?.length ?? 0) >= 2,
        'the signal refused',
      );
      assert.equal(s.azure.failoverRequests, 0);

      await s.fogpilot.approve(run.workflowId, { reason: 'INC-8' }, bob);
      const { report } = await s.fogpilot.result(run.workflowId);
      assert.equal(report?.outcome, 'succeeded');
      assert.deepEqual(
        report?.refusals?.map((refusal) => `${refusal.via}:${refusal.by}`),
        [`update:${ME}`, `signal:claimed:${bob}`],
      );
      assert.deepEqual(report?.approval && [report.approval.requestedBy, report.approval.by], [
        'webhook:incident-bot',
        bob,
      ]);
    });
  });

  it('a runbook that fails exits 5 with its failure type, message and what to do; --json keeps stdout one object', async () => {
    const s = scenario((azure) => {
      azure.replicationState = 'SEEDING';
    });
    const worker = await s.worker();
    await worker.runUntil(async () => {
      const run = await fogpilot(['failover', s.name, '--json', '--reason', 'CHG-1'], s.cliEnv);
      assert.equal(run.code, 5, run.stderr);
      const result = jsonOf<{ workflowId: string; outcome: string; failure: { type: string }; report: RunbookReport }>(
        run,
      );
      started.add(result.workflowId);
      assert.equal(result.outcome, 'failed');
      assert.equal(result.failure.type, 'PreflightFailed');
      assert.equal(result.report.reason, 'CHG-1');
      assert.match(run.stderr, new RegExp(`plannedFailover of ${s.name} failed: PreflightFailed: `));
      assert.match(run.stderr, /→ Nothing was changed\. Fix what the failing gates show \(`fogpilot readiness /);
    });
    s.assertNothingChanged();
  });

  it('refuses bad input with exit 2, naming the field and its flag, before anything starts', async () => {
    const s = scenario();
    const [scale, drill] = await Promise.all([
      fogpilot(['scale', s.name, '--vcores', '6', '--storage-gb', 'lots'], s.cliEnv),
      fogpilot(['drill', s.name, '--http-check', 'ftp://example.com', '--soak', '1s'], s.cliEnv),
    ]);
    assert.equal(scale.code, 2);
    assert.match(scale.stderr, /invalid input for scaleGroup:\n\s+vCores \(--vcores\): vCores must be one of 4, 8, 16/);
    assert.match(scale.stderr, /storageSizeInGB \(--storage-gb\): storageSizeInGB must be a number of GB/);
    assert.match(scale.stderr, /Nothing was started/);
    assert.equal(drill.code, 2);
    assert.match(
      drill.stderr,
      /smoke\.httpCheck\.url \(--http-check\): smoke\.httpCheck\.url must be an http\(s\) URL/,
    );
  });

  it('exits 3 for a workflow Temporal does not know', async () => {
    const s = scenario();
    const [watch, approve] = await Promise.all([
      fogpilot(['watch', 'fogpilot/drDrill/nowhere/1'], s.cliEnv),
      fogpilot(['approve', 'fogpilot/drDrill/nowhere/1', '--reason', 'y'], s.cliEnv),
    ]);
    for (const run of [watch, approve]) {
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /No workflow fogpilot\/drDrill\/nowhere\/1 in namespace default/);
    }
  });
});
