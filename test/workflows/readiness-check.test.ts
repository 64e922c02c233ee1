/**
 * readinessCheck on Temporal's time-skipping test server, with the real activities over a scripted Azure that drifts
 * on demand. Tests in this file run one at a time (time skipping is global).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { DATA_WRITING_ACTIVITIES, MUTATING_ACTIVITIES } from '../../src/activities';
import { lockWorkflowId, type GroupCoordinates } from '../../src/domain/group-ref';
import {
  statusQuery,
  type GateResult,
  type ReadinessCheckInput,
  type ReadinessGroupResult,
} from '../../src/workflows/definitions';
import { plannedFailover, readinessCheck } from '../../src/workflows';
import { ConfigSchema } from '../../src/config/config';
import { DriftingAzure, azureOfGroups } from '../support/drifting-azure';
import { boundedIt, outcomeOf, saveHistory, timeSkippingFrame, waitFor } from '../support/runbook-harness';
import { Inventory, createTestWorker, uniqueTaskQueue } from '../support/temporal';

const it = boundedIt(120_000);

let counter = 0;
const frame = timeSkippingFrame();

const FORBIDDEN: readonly string[] = [...MUTATING_ACTIVITIES, ...DATA_WRITING_ACTIVITIES];

/** The names of every check a healthy group's report holds: the preflight gates, then the drift checks. */
const EVERY_CHECK = [
  'roles-consistent',
  'replication-synchronizing',
  'target-is-secondary',
  'primary-ready',
  'secondary-ready',
  'no-operations-in-flight',
  'replication-links',
  'replication-lag',
  'secondary-size',
  'config-sku',
  'config-vcores',
  'config-storage',
  'config-license',
  'config-backup-redundancy',
  'ltr-policy',
  'logins-match',
  'agent-jobs-match',
  'restore-point-age',
  'failover-policy',
  'pair-dns-zone',
  'pair-network',
  'pair-tde-keys',
  'pair-collation',
  'pair-time-zone',
  'pair-maintenance-windows',
  'pair-standby-reads',
  'recovery-point/billing',
  'recovery-point/sales',
];

/** Every group of these tests declares a generous backupRpo: its recovery points are met unless a test plants one. */
const BACKUP_RPO = '1 day';

function newAzure(configure?: (azure: DriftingAzure) => void): DriftingAzure {
  const azure = new DriftingAzure({ clock: () => frame.env.currentTimeMs(), groupName: `fog-ready-${++counter}` });
  for (const location of ['eastus', 'westus']) azure.instanceOverrides[location] = { backupStorageRedundancy: 'Geo' };
  azure.agentJobs = {
    eastus: [{ name: 'index-maintenance', enabled: true }],
    westus: [{ name: 'index-maintenance', enabled: false }],
  };
  configure?.(azure);
  return azure;
}

/** A worker over `groups` (one inventory entry each, plus `extraInventory`); runs `body` while it polls. */
async function withWorker<T>(
  groups: DriftingAzure[],
  body: (start: (input: ReadinessCheckInput) => Promise<WorkflowHandle>, called: string[]) => Promise<T>,
  extraInventory: Record<string, GroupCoordinates> = {},
): Promise<T> {
  const azure = azureOfGroups(groups);
  const inventory = new Inventory({
    ...Object.fromEntries(groups.map((group) => [group.coordinates.name, group.coordinates])),
    ...extraInventory,
  });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue('readiness');
  const config = ConfigSchema.parse({
    inventory: Object.fromEntries(
      groups.map((group) => {
        const { name: _name, ...coordinates } = group.coordinates;
        return [group.coordinates.name, { ...coordinates, objectives: { backupRpo: BACKUP_RPO } }];
      }),
    ),
  });
  const worker = await createTestWorker({
    env: frame.env,
    taskQueue,
    deps: { controlPlane: azure, dataPlane: azure, inventory, outbound: { config } },
    called,
  });
  const start = (input: ReadinessCheckInput): Promise<WorkflowHandle> => {
    const workflowId = `readiness-${++counter}`;
    frame.started.add(workflowId);
    return frame.env.client.workflow.start(readinessCheck, { taskQueue, workflowId, args: [input] });
  };
  const result = await worker.runUntil(body(start, called));
  for (const name of FORBIDDEN) assert.ok(!called.includes(name), `${name} must not be called`);
  for (const group of groups) {
    assert.equal(group.failoverRequests, 0, 'no failover may be requested');
    assert.equal(group.scaleRequests.length, 0, 'no scale may be requested');
  }
  return result;
}

/** Checks one group and returns its report and its readiness result. */
async function checkOne(azure: DriftingAzure, input: Partial<ReadinessCheckInput> = {}) {
  return withWorker([azure], async (start) => {
    const { report, failure } = await outcomeOf(await start({ group: azure.coordinates.name, ...input }));
    assert.ok(report, failure?.message);
    assert.equal(report.outcome, 'succeeded');
    const group = report.readiness?.groups[0];
    assert.ok(group);
    return { report, group };
  });
}

function check(group: ReadinessGroupResult, name: string): GateResult {
  const found = group.checks.find((entry) => entry.name === name);
  assert.ok(found, `check ${name} not in ${group.checks.map((entry) => entry.name).join(', ')}`);
  return found;
}

describe('readinessCheck', { concurrency: 1 }, () => {
  it('passes every gate and drift check of a healthy pair, changing nothing', async () => {
    const azure = newAzure();
    const { report, group } = await checkOne(azure);
    assert.deepEqual(
      group.checks.map((entry) => entry.name),
      EVERY_CHECK,
    );
    assert.deepEqual(
      group.checks.filter((entry) => entry.status !== 'pass'),
      [],
    );
    assert.equal(group.verdict, 'pass');
    assert.equal(report.readiness?.verdict, 'pass');
    assert.equal(group.group, azure.coordinates.name);
    assert.deepEqual(
      report.steps.map((entry) => [entry.name, entry.state]),
      [
        ['resolve-group', 'succeeded'],
        [`collect/${azure.coordinates.name}`, 'succeeded'],
        [`evaluate/${azure.coordinates.name}`, 'succeeded'],
        [`pair/${azure.coordinates.name}`, 'succeeded'],
        [`recovery-points/${azure.coordinates.name}`, 'succeeded'],
        ['recovery-points/workload', 'succeeded'],
      ],
    );
    assert.deepEqual(report.rolesBefore, { primary: 'eastus', secondary: 'westus' });
    assert.equal(report.armCalls.writes, 0);
    assert.ok(report.armCalls.reads > 0);
    assert.ok(azure.methods().includes('listDatabaseRetentionPolicies'), 'LTR policies were read');
    assert.ok(azure.methods().includes('latestBackups'), 'backups were read');
    assert.equal(
      azure.calls.filter((call) => call.method === 'listLogins').length,
      2,
      'logins were read once on each instance',
    );
  });

  const driftCases: {
    drift: string;
    configure: (azure: DriftingAzure) => void;
    /** Other checks the same drift fails (a database with no backup misses its recovery point too). */
    alsoNotPassing?: string[];
    input?: Partial<ReadinessCheckInput>;
    check: string;
    status: 'warn' | 'fail';
    message: RegExp;
    action: RegExp;
    evidence: (evidence: Record<string, unknown>) => void;
  }[] = [
    {
      drift: 'a secondary on a lower service tier',
      configure: (azure) => {
        Object.assign(azure.instanceOverrides.eastus!, { skuName: 'BC_Gen5', tier: 'BusinessCritical' });
      },
      check: 'config-sku',
      status: 'fail',
      message: /lower service tier/,
      action: /BC_Gen5/,
      evidence: (evidence) => {
        assert.equal((evidence.primary as { tier: string }).tier, 'BusinessCritical');
        assert.equal((evidence.secondary as { tier: string }).tier, 'GeneralPurpose');
      },
    },
    {
      drift: 'a secondary with fewer vCores',
      configure: (azure) => void (azure.instances.westus!.vCores = 4),
      check: 'config-vcores',
      status: 'warn',
      message: /4 vCores, the primary 8.*scales it up first/,
      action: /"vCores": 8/,
      evidence: (evidence) => assert.equal((evidence.secondary as { vCores: number }).vCores, 4),
    },
    {
      drift: 'a secondary with less storage',
      configure: (azure) => void (azure.instances.westus!.storageSizeInGB = 128),
      check: 'config-storage',
      status: 'warn',
      message: /128 GB, the primary 256 GB/,
      action: /256 GB/,
      evidence: (evidence) => assert.equal((evidence.secondary as { storageSizeInGB: number }).storageSizeInGB, 128),
    },
    {
      drift: 'a different license type',
      configure: (azure) => {
        Object.assign(azure.instanceOverrides.westus!, { licenseType: 'BasePrice' });
      },
      check: 'config-license',
      status: 'warn',
      message: /BasePrice/,
      action: /--license-type/,
      evidence: (evidence) => {
        assert.equal((evidence.primary as { licenseType: string }).licenseType, 'LicenseIncluded');
        assert.equal((evidence.secondary as { licenseType: string }).licenseType, 'BasePrice');
      },
    },
    {
      drift: 'a different backup storage redundancy',
      configure: (azure) => {
        Object.assign(azure.instanceOverrides.westus!, { backupStorageRedundancy: 'Local' });
      },
      check: 'config-backup-redundancy',
      status: 'warn',
      message: /Local.*cannot be geo-restored/,
      action: /backup storage redundancy/,
      evidence: (evidence) =>
        assert.equal((evidence.secondary as { backupStorageRedundancy: string }).backupStorageRedundancy, 'Local'),
    },
    {
      drift: 'no long-term retention policy on the secondary',
      configure: (azure) => void (azure.retentionPolicies.westus = undefined),
      check: 'ltr-policy',
      status: 'warn',
      message: /sales \(primary weekly P4W, monthly P12M, yearly P5Y \(week 1\), secondary none\)/,
      action: /az sql midb ltr-policy set/,
      evidence: (evidence) => {
        const databases = evidence.databases as { database: string; secondary: { weeklyRetention: unknown } }[];
        assert.deepEqual(
          databases.map((entry) => [entry.database, entry.secondary.weeklyRetention]),
          [
            ['billing', null],
            ['sales', null],
          ],
        );
      },
    },
    {
      drift: 'a login missing on the secondary',
      configure: (azure) => {
        azure.logins.eastus = [...azure.logins.eastus!, { name: 'reporting', sid: '0x0A0B0C', type: 'S' }];
      },
      check: 'logins-match',
      status: 'fail',
      message: /missing on .*: reporting.*cannot log in/,
      action: /CREATE LOGIN \[reporting\] WITH PASSWORD = N'<its password>', SID = 0x0A0B0C;/,
      evidence: (evidence) => {
        assert.deepEqual(evidence.missing, [{ login: 'reporting', sid: '0x0A0B0C', type: 'S' }]);
        assert.deepEqual(evidence.sidMismatch, []);
      },
    },
    {
      drift: 'a login with a different SID on the secondary',
      configure: (azure) => {
        azure.logins.westus = [{ name: 'app', sid: '0x02CD', type: 'S' }];
      },
      check: 'logins-match',
      status: 'fail',
      message: /different SID .*app \(primary 0x01AB, secondary 0x02CD\)/,
      action: /DROP LOGIN \[app\]; CREATE LOGIN \[app\] .*SID = 0x01AB;/,
      evidence: (evidence) =>
        assert.deepEqual(evidence.sidMismatch, [{ login: 'app', primarySid: '0x01AB', secondarySid: '0x02CD' }]),
    },
    {
      drift: 'a SQL Agent job missing on the secondary',
      configure: (azure) => {
        azure.agentJobs.eastus = [...azure.agentJobs.eastus!, { name: 'nightly-etl', enabled: true }];
      },
      check: 'agent-jobs-match',
      status: 'warn',
      message: /missing on .*: nightly-etl/,
      action: /Script each job/,
      evidence: (evidence) => assert.deepEqual(evidence.missing, [{ job: 'nightly-etl', enabled: true }]),
    },
    {
      drift: 'a restore point older than maxRestorePointAge',
      configure: (azure) => void (azure.backupAgeMs.sales = 2 * 3_600_000),
      check: 'restore-point-age',
      status: 'warn',
      message: /older than 1h .*sales 2h/,
      action: /backup history/,
      evidence: (evidence) => {
        const sales = (evidence.databases as { database: string; status: string; ageSeconds: number }[]).find(
          (entry) => entry.database === 'sales',
        );
        assert.equal(sales?.status, 'warn');
        assert.ok(sales && sales.ageSeconds >= 7200 && sales.ageSeconds < 7260, `age ${sales?.ageSeconds}s`);
      },
    },
    {
      drift: 'a database with no backup at all',
      configure: (azure) => void (azure.backupAgeMs.billing = null),
      alsoNotPassing: ['recovery-point/billing'],
      check: 'restore-point-age',
      status: 'fail',
      message: /billing none recorded/,
      action: /support case/,
      evidence: (evidence) => {
        const billing = (evidence.databases as { database: string; status: string }[]).find(
          (entry) => entry.database === 'billing',
        );
        assert.equal(billing?.status, 'fail');
      },
    },
    {
      drift: 'replication lag above maxLagSeconds',
      configure: (azure) => void (azure.lagSeconds.sales = 45),
      input: { maxLagSeconds: 20 },
      check: 'replication-lag',
      status: 'fail',
      message: /above 20s: sales lags 45s/,
      action: /maxLagSeconds/,
      evidence: (evidence) => assert.equal(evidence.maxLagSeconds, 20),
    },
    {
      drift: 'an Automatic failover policy',
      configure: (azure) => {
        azure.groupOverrides = { readWriteFailoverPolicy: 'Automatic', failoverWithDataLossGracePeriodMinutes: 60 };
      },
      check: 'failover-policy',
      status: 'warn',
      message: /Automatic with a grace period of 60 minutes.*Azure fails over by itself/,
      action: /--failover-policy Manual/,
      evidence: (evidence) =>
        assert.deepEqual(
          (evidence.policies as { failoverWithDataLossGracePeriodMinutes: number }[]).map(
            (entry) => entry.failoverWithDataLossGracePeriodMinutes,
          ),
          [60, 60],
        ),
    },
  ];
  for (const drift of driftCases) {
    it(`finds ${drift.drift}, with evidence and what to do`, async () => {
      const azure = newAzure(drift.configure);
      const { report, group } = await checkOne(azure, drift.input);
      const found = check(group, drift.check);
      assert.equal(found.status, drift.status, found.message);
      assert.match(found.message, drift.message);
      assert.ok(found.action, 'a check that does not pass says what to do');
      assert.match(found.action, drift.action);
      drift.evidence(found.evidence);
      assert.deepEqual(
        group.checks.filter((entry) => entry.status !== 'pass').map((entry) => entry.name),
        [drift.check, ...(drift.alsoNotPassing ?? [])],
        'nothing else drifted',
      );
      assert.equal(group.verdict, drift.status);
      assert.equal(report.readiness?.verdict, drift.status);
      assert.equal(report.outcome, 'succeeded', 'the verdict is the answer, not a failure');
    });
  }

  it('checks every inventory group with all, and a group that cannot be read does not stop the others', async () => {
    const healthy = newAzure();
    const drifted = newAzure((azure) => {
      azure.logins.westus = [];
    });
    const gone = { ...healthy.coordinates, name: 'fog-gone' };
    const { report } = await withWorker(
      [healthy, drifted],
      async (start) => {
        const outcome = await outcomeOf(await start({ all: true }));
        await saveHistory(outcome.handle, 'readiness-check-all');
        return outcome;
      },
      {
        'fog-gone': gone,
      },
    );
    assert.ok(report);
    assert.equal(report.outcome, 'succeeded');
    const readiness = report.readiness!;
    assert.deepEqual(
      readiness.groups.map((group) => [group.group, group.verdict]),
      [
        [healthy.coordinates.name, 'pass'],
        [drifted.coordinates.name, 'fail'],
        ['fog-gone', 'fail'],
      ],
    );
    assert.equal(readiness.verdict, 'fail');
    assert.equal(readiness.groups[0]!.checks.length, EVERY_CHECK.length);
    assert.equal(check(readiness.groups[1]!, 'logins-match').status, 'fail');
    const unreadable = check(readiness.groups[2]!, 'group-readable');
    assert.equal(unreadable.status, 'fail');
    assert.equal((unreadable.evidence.error as { type: string }).type, 'GroupNotFound');
    assert.ok(unreadable.action);
    const states = Object.fromEntries(report.steps.map((entry) => [entry.name, entry.state]));
    assert.equal(states['resolve-group'], 'succeeded');
    assert.equal(states[`collect/${healthy.coordinates.name}`], 'succeeded');
    assert.equal(states[`evaluate/${drifted.coordinates.name}`], 'succeeded');
    assert.equal(states['collect/fog-gone'], 'failed');
    assert.equal(states['evaluate/fog-gone'], undefined);
  });

  it('checks at most four groups at once, and the status query shows each group’s progress', async () => {
    const groups = Array.from({ length: 6 }, () => newAzure());
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const waiting = new Set<string>();
    for (const azure of groups) {
      azure.onCall = async (method) => {
        if (method !== 'getFailoverGroup') return;
        waiting.add(azure.coordinates.name);
        await released;
      };
    }
    const { report } = await withWorker(groups, async (start) => {
      const handle = await start({ all: true });
      await waitFor(() => waiting.size >= 4, 'four groups to be read', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(waiting.size, 4, 'no fifth group starts while four are being read');
      const status = await handle.query(statusQuery);
      const collecting = status.steps.filter((entry) => entry.name.startsWith('collect/'));
      assert.deepEqual(
        collecting.map((entry) => entry.state),
        ['running', 'running', 'running', 'running'],
      );
      release();
      return outcomeOf(handle);
    });
    assert.ok(report);
    assert.equal(waiting.size, 6);
    assert.deepEqual(
      report.readiness?.groups.map((group) => [group.group, group.verdict]),
      groups.map((azure) => [azure.coordinates.name, 'pass']),
    );
  });

  it('runs beside a planned failover that holds the group lock, and takes no lock itself', async () => {
    let release!: () => void;
    const azure = newAzure((scripted) => {
      scripted.syncGate = new Promise<void>((resolve) => (release = resolve));
    });
    const inventory = new Inventory({ [azure.coordinates.name]: azure.coordinates });
    const failoverCalls: string[] = [];
    const failoverQueue = uniqueTaskQueue('planned');
    const failoverWorker = await createTestWorker({
      env: frame.env,
      taskQueue: failoverQueue,
      deps: { controlPlane: azure, dataPlane: azure, inventory },
      called: failoverCalls,
    });
    const lockId = lockWorkflowId(azure.coordinates);
    frame.started.add(lockId);
    await failoverWorker.runUntil(async () => {
      const failover = await frame.env.client.workflow.start(plannedFailover, {
        taskQueue: failoverQueue,
        workflowId: lockId,
        args: [{ group: azure.coordinates.name }],
      });
      await waitFor(() => azure.methods().includes('waitForCopySync'), 'the failover to wait for copy sync', 30_000);
      const readiness = await withWorker([azure], async (start) => {
        const handle = await start({ group: azure.coordinates.name });
        assert.notEqual(handle.workflowId, lockId);
        return outcomeOf(handle);
      });
      assert.equal(readiness.report?.outcome, 'succeeded');
      assert.equal((await failover.describe()).status.name, 'RUNNING', 'the failover still holds its lock');
      release();
      const done = await outcomeOf(failover);
      assert.equal(done.report?.outcome, 'succeeded');
    });
  });

  it('lets a planned failover warn about the same drift without blocking it, and spares it the LTR reads', async () => {
    const azure = newAzure((scripted) => {
      scripted.logins.westus = [{ name: 'app', sid: '0x02CD', type: 'S' }];
      scripted.groupOverrides = { readWriteFailoverPolicy: 'Automatic', failoverWithDataLossGracePeriodMinutes: 120 };
    });
    const inventory = new Inventory({ [azure.coordinates.name]: azure.coordinates });
    const taskQueue = uniqueTaskQueue('planned-drift');
    const worker = await createTestWorker({
      env: frame.env,
      taskQueue,
      deps: { controlPlane: azure, dataPlane: azure, inventory },
      called: [],
    });
    const lockId = lockWorkflowId(azure.coordinates);
    frame.started.add(lockId);
    const { report, failure } = await worker.runUntil(async () => {
      const outcome = await outcomeOf(
        await frame.env.client.workflow.start(plannedFailover, {
          taskQueue,
          workflowId: lockId,
          args: [{ group: azure.coordinates.name }],
        }),
      );
      await saveHistory(outcome.handle, 'planned-failover-drift-warnings');
      return outcome;
    });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.equal(azure.acceptedFailovers.length, 1);
    const drift = report.gates!.filter((entry) => !EVERY_CHECK.slice(0, 9).includes(entry.name));
    assert.deepEqual(
      drift.map((entry) => [entry.name, entry.status, entry.evidence.readinessStatus]),
      [
        ['logins-match', 'warn', 'fail'],
        ['failover-policy', 'warn', 'warn'],
      ],
    );
    assert.deepEqual(
      report.gates!.slice(0, 9).map((entry) => entry.name),
      EVERY_CHECK.slice(0, 9),
      'the gates that decide come first, unchanged',
    );
    assert.ok(report.warnings.some((line) => /^\[logins-match\] .*0x02CD.* → On .*CREATE LOGIN \[app\]/.test(line)));
    assert.ok(report.warnings.some((line) => /^\[failover-policy\] .*120 minutes/.test(line)));
    assert.ok(!azure.methods().includes('listDatabaseRetentionPolicies'), 'no LTR read in a planned failover');
  });

  it('warns instead of passing when the inventory has no group to check', async () => {
    const { report } = await withWorker([], async (start) => outcomeOf(await start({ all: true })));
    assert.equal(report?.outcome, 'succeeded');
    assert.deepEqual(report.readiness, { verdict: 'warn', groups: [], recoveryPoints: { groups: [] } });
    assert.match(report.warnings.join(' '), /inventory has no groups/);
  });

  const invalidInputs: { input: unknown; field: string }[] = [
    { input: { group: 'fog-x', all: true }, field: 'group' },
    { input: {}, field: 'group' },
    { input: { all: false }, field: 'group' },
    { input: { all: 'yes' }, field: 'all' },
    { input: { group: 'fog-x', maxLagSeconds: -1 }, field: 'maxLagSeconds' },
    { input: { group: 'fog-x', maxRestorePointAge: 'soon' }, field: 'maxRestorePointAge' },
    { input: { group: 'fog-x', groups: ['fog-x'] }, field: 'groups' },
  ];
  it(`fails at once with InvalidInput naming the field, for ${invalidInputs.length} kinds of bad input`, async () => {
    await withWorker([], async (start, called) => {
      for (const { input, field } of invalidInputs) {
        const { failure } = await outcomeOf(await start(input as ReadinessCheckInput));
        assert.equal(failure?.type, 'InvalidInput', `input ${JSON.stringify(input)}`);
        assert.equal(failure.nonRetryable, true);
        assert.ok(failure.message.includes(`${field}:`), `"${failure.message}" names ${field}`);
      }
      assert.deepEqual(called, [], 'no activity ran for a bad input');
    });
  });
});
