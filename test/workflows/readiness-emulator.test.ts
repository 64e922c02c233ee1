/**
 * readinessCheck end to end on the time-skipping server with the real activities against the emulator: @azure/arm-sql
 * over HTTP for ARM, the mssql driver over TDS for SQL. Drift comes from the world description or the admin API; the
 * emulator's counters say whether anything was written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DATA_WRITING_ACTIVITIES, MUTATING_ACTIVITIES } from '../../src/activities';
import type { Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import type { GateResult, ReadinessGroupResult, RunbookReport } from '../../src/workflows/definitions';
import { readinessCheck } from '../../src/workflows';
import { emulatorFetch, emulatorFrame, emulatorWorker } from '../support/emulator-harness';

let emulator: Emulator;
let runs = 0;

const SPEED = 600;
const APP_SID_EAST = '0x0105000000000009030000000A0B0C0D';
const APP_SID_WEST = '0x0105000000000009030000000F0E0D0C';

/** The default world, with the instances described by `east` and `west` merged in. */
function worldSpec(
  east: Partial<NonNullable<WorldSpecInput['instances']>[number]> = {},
  west: Partial<NonNullable<WorldSpecInput['instances']>[number]> = {},
): WorldSpecInput {
  const spec = defaultWorldSpec();
  const [eastus, westus] = spec.instances;
  return {
    ...spec,
    instances: [
      { ...eastus!, ...east },
      { ...westus!, ...west },
    ],
    throttling: { enabled: false },
  };
}

/** The checks besides the trusted recovery points (none here: this worker declares no backupRpo). */
function withoutRecoveryPoints(checks: GateResult[]): GateResult[] {
  return checks.filter((entry) => !entry.name.startsWith('recovery-point'));
}

const frame = emulatorFrame({ world: worldSpec(), speed: SPEED }, (started) => (emulator = started));

/** What the emulator would show if anything had been changed or written. */
function writesSoFar() {
  const group = emulator.world.findGroup('fog-sales')!;
  return {
    armWrites: emulator.arm.stats.writes,
    failovers: emulator.world.invariants().failovers['fog-sales']?.received ?? 0,
    changes: emulator.world.events.filter((event) => /^(failover|scale|group)-/.test(event.kind)).length,
    commits: ['sales', 'inventory'].map((name) => emulator.world.databaseOf(group, name)?.commits.length ?? 0),
  };
}

async function check(
  beforeStart?: () => void | Promise<void>,
): Promise<{ report: RunbookReport; group: ReadinessGroupResult }> {
  await beforeStart?.();
  const { env } = frame;
  const { worker, taskQueue, called, close } = await emulatorWorker(env, emulator, {
    queuePrefix: 'readiness-emulator',
  });
  const writesBefore = writesSoFar();
  try {
    const report = await worker.runUntil(
      env.client.workflow.execute(readinessCheck, {
        taskQueue,
        workflowId: `readiness-emulator-${++runs}`,
        args: [{ group: 'fog-sales' }],
      }),
    );
    for (const name of [...MUTATING_ACTIVITIES, ...DATA_WRITING_ACTIVITIES]) {
      assert.ok(!called.includes(name), `${name} must not be called`);
    }
    assert.ok(called.includes('readLogins') && called.includes('readRetentionPolicies'), called.join(', '));
    assert.deepEqual(writesSoFar(), writesBefore, 'the emulator saw no write');
    assert.equal(report.outcome, 'succeeded');
    assert.equal(report.armCalls.writes, 0);
    return { report, group: report.readiness!.groups[0]! };
  } finally {
    await close();
  }
}

function checkNamed(group: ReadinessGroupResult, name: string): GateResult {
  const found = group.checks.find((entry) => entry.name === name);
  assert.ok(found, `check ${name} not in ${group.checks.map((entry) => entry.name).join(', ')}`);
  return found;
}

describe(
  'readinessCheck with the real ARM and SQL adapters against the emulator',
  { concurrency: 1, timeout: 180_000 },
  () => {
    it('finds a login SID mismatch and a smaller secondary described by the world, and writes nothing', async () => {
      const { report, group } = await check(() => {
        emulator.world.load(
          worldSpec(
            { vCores: 16, logins: [{ name: 'app', sid: APP_SID_EAST, type: 'S' }] },
            { vCores: 8, logins: [{ name: 'app', sid: APP_SID_WEST, type: 'S' }] },
          ),
        );
      });
      const logins = checkNamed(group, 'logins-match');
      assert.equal(logins.status, 'fail');
      assert.deepEqual(logins.evidence.sidMismatch, [
        { login: 'app', primarySid: APP_SID_EAST, secondarySid: APP_SID_WEST },
      ]);
      assert.deepEqual(logins.evidence.missing, [], 'the emulator’s own logins match across the pair');
      assert.match(logins.action!, new RegExp(`CREATE LOGIN \\[app\\] .*SID = ${APP_SID_EAST};`));

      const vCores = checkNamed(group, 'config-vcores');
      assert.equal(vCores.status, 'warn');
      assert.equal((vCores.evidence.primary as { vCores: number }).vCores, 16);
      assert.equal((vCores.evidence.secondary as { vCores: number }).vCores, 8);
      assert.equal((vCores.evidence.secondary as { instance: string }).instance, 'fog-sales-westus');

      assert.deepEqual(
        withoutRecoveryPoints(group.checks)
          .filter((entry) => entry.status !== 'pass')
          .map((entry) => entry.name),
        ['config-vcores', 'logins-match'],
        'nothing else drifted',
      );
      assert.deepEqual(
        group.checks.filter((entry) => entry.name.startsWith('recovery-point')).map((entry) => entry.name),
        [],
        'no recovery point is judged: this worker declares no backupRpo',
      );
      assert.equal(report.readiness?.recoveryPoints?.groups[0]?.databases.length, 2, 'but each database is shown');
      assert.equal(group.verdict, 'fail');
      assert.equal(report.readiness?.verdict, 'fail');
      assert.deepEqual(report.rolesBefore, { primary: 'eastus', secondary: 'westus' });
    });

    it('finds drift injected through the admin API: license type, a missing job, a missing LTR policy', async () => {
      const { group } = await check(async () => {
        emulator.world.load(
          worldSpec(
            {
              agentJobs: ['nightly-etl'],
              longTermRetention: {
                weeklyRetention: 'P4W',
                monthlyRetention: 'P12M',
                yearlyRetention: 'PT0S',
                weekOfYear: 0,
              },
            },
            {
              agentJobs: ['nightly-etl'],
              longTermRetention: {
                weeklyRetention: 'P4W',
                monthlyRetention: 'P12M',
                yearlyRetention: 'PT0S',
                weekOfYear: 0,
              },
            },
          ),
        );
        const answer = await emulatorFetch(emulator, `${emulator.armEndpoint}/_admin/instances/fog-sales-westus`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ licenseType: 'BasePrice', agentJobs: [], longTermRetention: null }),
        });
        assert.equal(answer.status, 200, await answer.clone().text());
      });
      assert.deepEqual(
        withoutRecoveryPoints(group.checks)
          .filter((entry) => entry.status !== 'pass')
          .map((entry) => [entry.name, entry.status]),
        [
          ['config-license', 'warn'],
          ['ltr-policy', 'warn'],
          ['agent-jobs-match', 'warn'],
        ],
      );
      assert.equal(
        (checkNamed(group, 'config-license').evidence.secondary as { licenseType: string }).licenseType,
        'BasePrice',
      );
      assert.deepEqual(checkNamed(group, 'agent-jobs-match').evidence.missing, [{ job: 'nightly-etl', enabled: true }]);
      const ltr = checkNamed(group, 'ltr-policy').evidence.databases as {
        database: string;
        primary: { weeklyRetention: string | null };
        secondary: { weeklyRetention: string | null };
      }[];
      assert.deepEqual(
        ltr.map((entry) => [entry.database, entry.primary.weeklyRetention, entry.secondary.weeklyRetention]),
        [
          ['inventory', 'P4W', null],
          ['sales', 'P4W', null],
        ],
      );
      assert.equal(group.verdict, 'warn');
    });
  },
);
