/**
 * The CLI's own logic, in process and without a server: flags to runbook input, refusals that name the flag, the
 * progress a run prints, outcomes to exit codes, and drill schedule specs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { Command } from 'commander';
import {
  InvalidRunbookInputError,
  drillScheduleIdFor,
  drillScheduleSpec,
  normalizeDrillScheduleId,
  validateRunbookInput,
  type RunbookOutcome,
  type RunbookReport,
} from '../../src/client';
import { drillCommand } from '../../src/cli/commands/drill';
import { failbackCommand } from '../../src/cli/commands/failback';
import { failoverCommand } from '../../src/cli/commands/failover';
import { fleetFailoverCommand } from '../../src/cli/commands/fleet-failover';
import { approvalFromFlags, forceFailoverCommand } from '../../src/cli/commands/force-failover';
import { readinessCommand } from '../../src/cli/commands/readiness';
import { scaleCommand } from '../../src/cli/commands/scale';
import { CliError, ExitCodes } from '../../src/cli/errors';
import { invalidInputError } from '../../src/cli/flags';
import { ProgressPrinter, formatOutcome, raiseForOutcome } from '../../src/cli/progress';
import {
  registerRunbookCommand,
  type CommonRunbookOptions,
  type RunbookCommandSpec,
} from '../../src/cli/runbook-command';

/** Parses `argv` with one runbook command whose start only records what it was given. */
async function parse(spec: RunbookCommandSpec<never>, argv: string[]) {
  let captured: { input: Record<string, unknown>; options: CommonRunbookOptions } | undefined;
  const program = new Command('fogpilot').exitOverride();
  registerRunbookCommand(program, spec, (_spec, input, options) => {
    captured = { input, options };
    return Promise.resolve();
  });
  await program.parseAsync(['node', 'fogpilot', spec.name, ...argv]);
  assert.ok(captured, 'the command started');
  // What the flags make is a valid input for the runbook.
  validateRunbookInput(spec.runbook, captured.input);
  // Every start records who asked: the CLI's connection identity (here, with no certificate or API key, the OS user).
  const { requestedBy, ...input } = captured.input;
  assert.equal(requestedBy, ME);
  return { ...captured, input };
}

const ME = `os-user:${userInfo().username}`;

const commands = {
  failover: failoverCommand,
  forceFailover: forceFailoverCommand,
  failback: failbackCommand,
  scale: scaleCommand,
  drill: drillCommand,
  fleet: fleetFailoverCommand,
  readiness: readinessCommand,
} as unknown as Record<string, RunbookCommandSpec<never>>;

const report = (overrides: Partial<RunbookReport>): RunbookReport => ({
  runbook: 'plannedFailover',
  workflowId: 'wf',
  runId: 'run',
  group: { displayName: 'fog-sales' },
  outcome: 'succeeded',
  startedAt: '2025-01-01T00:00:00.000Z',
  endedAt: '2025-01-01T00:01:00.000Z',
  legs: [],
  steps: [],
  armCalls: { reads: 1, writes: 0, throttled: 0 },
  warnings: [],
  ...overrides,
});

describe('runbook command flags', () => {
  it("maps each runbook command's flags to the runbook's input fields", async () => {
    assert.deepEqual(
      (
        await parse(commands.failover!, [
          'fog-sales',
          '--target-location',
          'westus',
          '--max-lag-seconds',
          '10',
          '--scale-secondary',
          'skip',
          '--failback-after',
          '2h',
          '--dry-run',
          '--reason',
          'CHG-1',
        ])
      ).input,
      {
        group: 'fog-sales',
        targetLocation: 'westus',
        maxLagSeconds: 10,
        scaleSecondary: 'skip',
        failback: { after: '2h' },
        dryRun: true,
        reason: 'CHG-1',
      },
    );
    assert.deepEqual(
      (
        await parse(commands.forceFailover!, [
          'fog-sales',
          '--try-planned-first',
          '5m',
          '--approve-by',
          'pagerduty',
          '--approve-reason',
          'INC-1',
          '--approval-timeout',
          '2h',
        ])
      ).input,
      {
        group: 'fog-sales',
        tryPlannedFirst: { timeout: '5m' },
        approval: { by: 'pagerduty', reason: 'INC-1' },
        approvalTimeout: '2h',
      },
    );
    assert.deepEqual((await parse(commands.failback!, ['fog-sales', '--wait-timeout', '3d'])).input, {
      group: 'fog-sales',
      waitTimeout: '3d',
    });
    assert.deepEqual(
      (await parse(commands.scale!, ['fog-sales', '--vcores', '16', '--storage-gb', '512', '--sku', 'BC_Gen5'])).input,
      { group: 'fog-sales', vCores: 16, storageSizeInGB: 512, sku: 'BC_Gen5' },
    );
    assert.deepEqual(
      (
        await parse(commands.drill!, [
          'fog-sales',
          '--soak',
          '1s',
          '--http-check',
          'https://app.example.com/health',
          '--http-expect-status',
          '204',
          '--no-smoke-write',
        ])
      ).input,
      {
        group: 'fog-sales',
        soak: '1s',
        smoke: { write: false, httpCheck: { url: 'https://app.example.com/health', expectStatus: 204 } },
      },
    );
    assert.deepEqual(
      (await parse(commands.fleet!, ['--groups', 'fog-a, fog-b', '--mode', 'forced', '--concurrency', '2'])).input,
      { groups: ['fog-a', 'fog-b'], mode: 'forced', concurrency: 2 },
    );
    assert.deepEqual((await parse(commands.drill!, ['fog-sales', '--failback-wait-timeout', '2h'])).input, {
      group: 'fog-sales',
      failbackWaitTimeout: '2h',
    });
    assert.deepEqual(
      (await parse(commands.failover!, ['fog-sales', '--failback-after', '1h', '--failback-wait-timeout', '30m']))
        .input,
      { group: 'fog-sales', failback: { after: '1h' }, failbackWaitTimeout: '30m' },
    );
    assert.deepEqual((await parse(commands.fleet!, ['--region', 'eastus'])).input, { region: 'eastus' });
    assert.deepEqual((await parse(commands.readiness!, ['--all'])).input, { all: true });
  });

  it('takes any field from --input, flags winning, and coordinates as JSON; passes the start options on', async () => {
    const coordinates = {
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      resourceGroup: 'rg-fog',
      name: 'fog-sales',
      primaryLocation: 'eastus',
      secondaryLocation: 'westus',
    };
    const { input, options } = await parse(commands.failover!, [
      JSON.stringify(coordinates),
      '--input',
      '{"maxLagSeconds": 5, "syncTimeout": "1m"}',
      '--max-lag-seconds',
      '10',
      '--idempotency-key',
      'INC-9',
      '--json',
      '--no-wait',
    ]);
    assert.deepEqual(input, { group: coordinates, maxLagSeconds: 10, syncTimeout: '1m' });
    assert.equal(options.idempotencyKey, 'INC-9');
    assert.equal(options.json, true);
    assert.equal(options.wait, false);
    assert.equal((await parse(commands.drill!, ['fog-sales'])).options.wait, true, 'waits by default');
  });

  it('refuses --requested-by and an input requestedBy: the requester is the connection identity', async () => {
    for (const argv of [
      ['fog-sales', '--requested-by', 'someone-else'],
      ['fog-sales', '--input', '{"requestedBy": "someone-else"}'],
    ]) {
      const refused = await parse(commands.forceFailover!, argv).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof CliError, `${argv.join(' ')} is refused`);
      assert.equal(refused.exitCode, ExitCodes.usage);
      assert.match(refused.message, /fogpilot records the identity of your Temporal connection as the requester/);
      assert.match(refused.action ?? '', /fogpilot whoami/);
    }
  });

  it('names the flag that sets each field it refuses, with exit code 2', () => {
    let refused: CliError | undefined;
    try {
      validateRunbookInput('drDrill', {
        group: 'fog-sales',
        soak: 'forever',
        smoke: { httpCheck: { url: 'ftp://x' } },
      });
    } catch (error) {
      assert.ok(error instanceof InvalidRunbookInputError);
      refused = invalidInputError(error, drillCommand.fieldFlags);
    }
    assert.ok(refused);
    assert.equal(refused.exitCode, ExitCodes.usage);
    assert.match(refused.message, /soak \(--soak\): soak must be a duration/);
    assert.match(refused.message, /smoke\.httpCheck\.url \(--http-check\): /);
    assert.match(refused.action ?? '', /--help lists the flags/);
  });

  it('needs both pre-approval flags or neither', () => {
    assert.equal(approvalFromFlags(undefined, undefined), undefined);
    assert.deepEqual(approvalFromFlags('a', 'b'), { by: 'a', reason: 'b' });
    assert.throws(
      () => approvalFromFlags('a', undefined),
      (error: unknown) => error instanceof CliError && error.exitCode === ExitCodes.usage,
    );
  });
});

describe('run progress and outcomes', () => {
  it('prints each step once as it starts and once as it ends, and how to approve while a run waits for a person', () => {
    let text = '';
    const printer = new ProgressPrinter({ write: (chunk) => (text += chunk) }, 'wf-1');
    const running = { name: 'assess', title: 'Assess', state: 'running' as const, startedAt: '2025-01-01T00:00:00Z' };
    const awaiting = { kind: 'approval', since: '2025-01-01T00:00:01Z', detail: 'up to 4s of data at risk' };
    printer.update('wf-1', { steps: [running], delegatedTo: 'lock-1' });
    printer.update('wf-1', { steps: [running], delegatedTo: 'lock-1' });
    printer.update('lock-1', { steps: [running], awaiting });
    printer.update('wf-1', { steps: [running], delegatedTo: 'lock-1' });
    printer.update('lock-1', { steps: [running], awaiting });
    printer.update('lock-1', { steps: [{ ...running, state: 'succeeded', endedAt: '2025-01-01T00:00:03Z' }] });
    // The run's end prints the report's steps (the holder's, under its id): nothing already printed again.
    printer.update('lock-1', { steps: [{ ...running, state: 'succeeded', endedAt: '2025-01-01T00:00:03Z' }] });
    const resolved = { name: 'resolve-group', title: 'Resolve', state: 'succeeded' as const };
    printer.update('wf-1', { steps: [{ ...resolved, startedAt: '2025-01-01T00:00:00.100Z' }] });
    printer.update('lock-1', { steps: [{ ...resolved, startedAt: '2025-01-01T00:00:00.300Z' }] });
    const lines = text.trim().split('\n');
    // The holder's step shows in the starter's status too (it mirrors the holder): one line, not one per workflow.
    assert.equal(lines.filter((line) => /started\s+assess: Assess/.test(line)).length, 1);
    assert.equal(lines.filter((line) => /succeeded\s+assess/.test(line)).length, 1);
    assert.equal(lines.filter((line) => /running under the group's lock as lock-1/.test(line)).length, 1);
    assert.equal(lines.filter((line) => /waiting\s+approval: up to 4s of data at risk/.test(line)).length, 1);
    assert.ok(lines.some((line) => line.includes('approve: fogpilot approve wf-1 --reason <why>  (as your Temporal')));
    assert.ok(lines.some((line) => /succeeded\s+assess \(3\.0s\)/.test(line)));
    // The starter's own step and the holder's step of the same name are two steps: both show.
    assert.equal(lines.filter((line) => /started\s+resolve-group: Resolve/.test(line)).length, 2);
  });

  it('exits 0 on success or a dry run, and 5 with what to do on a failure, an abort, a partial fleet or a failing readiness check', () => {
    const code = (outcome: RunbookOutcome) => {
      try {
        raiseForOutcome('wf', outcome);
        return { code: 0 };
      } catch (error) {
        assert.ok(error instanceof CliError);
        return { code: error.exitCode, message: error.message, action: error.action };
      }
    };
    assert.equal(code({ report: report({}) }).code, 0);
    assert.equal(code({ report: report({ outcome: 'dry-run' }) }).code, 0);
    const failed = code({
      report: report({ outcome: 'failed' }),
      failure: { type: 'GroupBusy', message: 'Another runbook holds fog-sales' },
    });
    assert.equal(failed.code, ExitCodes.runbookFailed);
    assert.match(failed.message!, /plannedFailover of fog-sales failed: GroupBusy: Another runbook holds fog-sales/);
    assert.match(failed.action!, /Nothing was changed\. Another runbook holds fog-sales/);
    assert.equal(code({ report: report({ outcome: 'aborted' }) }).code, ExitCodes.runbookFailed);
    assert.equal(code({ report: report({ outcome: 'partial' }) }).code, ExitCodes.runbookFailed);
    const notReady = code({
      report: report({ runbook: 'readinessCheck', readiness: { verdict: 'fail', groups: [] } }),
    });
    assert.equal(notReady.code, ExitCodes.runbookFailed);
    assert.equal(
      code({ report: report({ runbook: 'readinessCheck', readiness: { verdict: 'warn', groups: [] } }) }).code,
      0,
    );
  });

  it('exits 5 on failbackPending, naming where the primary stays and the exact failback command, which the outcome shows too', () => {
    const pending = report({
      runbook: 'drDrill',
      outcome: 'failbackPending',
      rolesBefore: { primary: 'eastus', secondary: 'westus' },
      rolesAfter: { primary: 'westus', secondary: 'eastus' },
      failbackPending: {
        primary: 'westus',
        home: 'eastus',
        command: 'fogpilot failback fog-sales',
        reason: 'Replication lag above 30s: sales lags 120s',
        waitedSeconds: 3600,
      },
    });
    let refused: CliError | undefined;
    try {
      raiseForOutcome('wf', { report: pending });
    } catch (error) {
      assert.ok(error instanceof CliError);
      refused = error;
    }
    assert.ok(refused, 'failbackPending is not a success');
    assert.equal(refused.exitCode, ExitCodes.runbookFailed);
    assert.match(refused.message, /drDrill of fog-sales ended failbackPending: .*primary is still in westus/);
    assert.match(refused.message, /sales lags 120s/);
    assert.match(refused.action ?? '', /`fogpilot failback fog-sales`/);
    const shown = formatOutcome('wf', { report: pending });
    assert.match(shown, /drDrill of fog-sales: failbackPending/);
    assert.match(shown, /failback pending: the primary is still in westus .* with: fogpilot failback fog-sales/);
  });
});

describe('an outcome that sent nothing', () => {
  it('exits 0 on alreadyPrimary and says which region already was primary and that nothing was sent', () => {
    const met = report({
      runbook: 'plannedFailover',
      outcome: 'alreadyPrimary',
      intent: {
        primary: 'westus',
        source: 'home-secondary',
        detail: "make westus primary (the group's home secondary)",
      },
      rolesBefore: { primary: 'westus', secondary: 'eastus' },
      rolesAfter: { primary: 'westus', secondary: 'eastus' },
    });
    assert.doesNotThrow(() => raiseForOutcome('wf', { report: met }));
    const shown = formatOutcome('wf', { report: met });
    assert.match(shown, /plannedFailover of fog-sales: alreadyPrimary/);
    assert.match(
      shown,
      /westus already was primary \(make westus primary \(the group's home secondary\)\): nothing was sent/,
    );
  });
});

describe('drill schedule specs', () => {
  it('reads cron in a time zone or an interval, with jitter, and refuses what Temporal would misread', () => {
    assert.deepEqual(drillScheduleSpec({ cron: '0 3 * * SAT', timezone: 'Europe/Paris', jitter: '30m' }).spec, {
      timezone: 'Europe/Paris',
      cronExpressions: ['0 3 * * SAT'],
      jitter: 1_800_000,
    });
    assert.deepEqual(drillScheduleSpec({ every: '7d' }).spec, {
      timezone: 'UTC',
      intervals: [{ every: 7 * 86_400_000 }],
    });
    const fieldOf = (options: Parameters<typeof drillScheduleSpec>[0]) => {
      try {
        drillScheduleSpec(options);
      } catch (error) {
        assert.ok(error instanceof InvalidRunbookInputError);
        return error.problems[0]!.field;
      }
      return undefined;
    };
    assert.equal(fieldOf({}), 'schedule');
    assert.equal(fieldOf({ cron: '@daily', every: '1d' }), 'schedule');
    assert.equal(fieldOf({ every: '10s' }), 'every');
    assert.equal(fieldOf({ cron: '@daily', timezone: 'Mars/Olympus' }), 'timezone');
    assert.equal(fieldOf({ cron: 'CRON_TZ=Asia/Tokyo 0 3 * * *' }), 'cron');
    assert.equal(fieldOf({ cron: '@daily', jitter: 'a while' }), 'jitter');
  });

  it('names a schedule after its group, and takes a group name where a schedule id is expected', () => {
    assert.equal(drillScheduleIdFor('fog-sales'), 'fogpilot-drill/fog-sales');
    assert.equal(
      drillScheduleIdFor(
        '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/RG-Fog/providers/Microsoft.Sql/locations/eastus/instanceFailoverGroups/fog-sales',
      ),
      'fogpilot-drill/00000000-1111-2222-3333-444444444444/rg-fog/fog-sales',
    );
    assert.equal(normalizeDrillScheduleId('fog-sales'), 'fogpilot-drill/fog-sales');
    assert.equal(normalizeDrillScheduleId('fogpilot-drill/fog-sales'), 'fogpilot-drill/fog-sales');
  });
});
