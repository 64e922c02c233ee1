/**
 * The workload around the databases, over raw HTTP against a started emulator whose clock moves only when a test says:
 * a VM (Microsoft.Compute), its backup in a Recovery Services vault (discovery, protection, on-demand and scheduled
 * backup jobs, recovery points and their retention, the fault `backup-job-fails`, refusals) and Cosmos DB accounts
 * (the one-way migration to continuous backup, restorable accounts). Every state is read after the clock is moved,
 * never raced.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- these tests read ARM's JSON as it arrives; the SDK tests (workload-sdk.test.ts) read it typed */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const AUTH = 'Bearer fogpilot-emulator-token';
const BACKUP_API = '2023-06-01';
const COSMOS_API = '2026-03-15';
const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
let emulator: Emulator;

function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  return {
    ...spec,
    virtualMachines: [
      ...(spec.virtualMachines ?? []),
      { name: 'vm-batch-westus', resourceGroup: 'rg-fogpilot-app', location: 'westus' },
    ],
    recoveryServicesVaults: [
      ...(spec.recoveryServicesVaults ?? []),
      { name: 'rsv-other-eastus', resourceGroup: 'rg-fogpilot-app', location: 'eastus' },
    ],
    throttling: { enabled: false },
  };
}

before(async () => {
  emulator = await startEmulator({ world: world(), clock });
});
after(async () => emulator?.close());
beforeEach(() => emulator.world.load(world()));

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>;
}

async function arm(method: string, url: string, body?: unknown): Promise<Answer> {
  const full = url.startsWith('http') ? url : `${emulator.armEndpoint}${url}`;
  const response = await fetch(full, {
    method,
    headers: { Authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

const sub = () => emulator.world.spec.subscriptionId;
const rg = `/subscriptions/00000000-0000-4000-8000-0000000f0c05/resourceGroups/rg-fogpilot-app`;
const vault = (name = 'rsv-fogpilot-eastus') => `${rg}/providers/Microsoft.RecoveryServices/vaults/${name}`;
const container = 'IaasVMContainer;iaasvmcontainerv2;rg-fogpilot-app;vm-app-eastus';
const itemName = 'VM;iaasvmcontainerv2;rg-fogpilot-app;vm-app-eastus';
const item = (name = 'rsv-fogpilot-eastus') =>
  `${vault(name)}/backupFabrics/Azure/protectionContainers/${container}/protectedItems/${itemName}`;
const vmId = `${rg}/providers/Microsoft.Compute/virtualMachines/vm-app-eastus`;
const policyId = (name = 'DefaultPolicy', vaultName = 'rsv-fogpilot-eastus') =>
  `${vault(vaultName)}/backupPolicies/${name}`;
const advanceSeconds = (seconds: number) => {
  clock.advance(seconds * 1000);
  emulator.world.advance();
};

async function refresh(name = 'rsv-fogpilot-eastus'): Promise<void> {
  const started = await arm('POST', `${vault(name)}/backupFabrics/Azure/refreshContainers?api-version=${BACKUP_API}`);
  assert.equal(started.status, 202);
  advanceSeconds(30);
  assert.equal((await arm('GET', started.headers.get('location')!)).status, 204);
}

async function protect(name = 'rsv-fogpilot-eastus', policy = policyId('DefaultPolicy', name)): Promise<Answer> {
  return arm('PUT', `${item(name)}?api-version=${BACKUP_API}`, {
    properties: { protectedItemType: 'Microsoft.Compute/virtualMachines', sourceResourceId: vmId, policyId: policy },
  });
}

describe('virtual machines', () => {
  it('answers GET of a VM with its id, size, OS disk and vmId, and 404 ResourceNotFound for one that is not there', async () => {
    const found = await arm('GET', `${vmId}?api-version=2024-11-01`);
    assert.equal(found.status, 200);
    assert.equal(found.body.type, 'Microsoft.Compute/virtualMachines');
    assert.equal(found.body.location, 'eastus');
    assert.equal(found.body.properties.storageProfile.osDisk.diskSizeGB, 128);
    assert.match(found.body.properties.vmId, /^[0-9a-f-]{36}$/);
    const missing = await arm(
      'GET',
      `${rg}/providers/Microsoft.Compute/virtualMachines/vm-nowhere?api-version=2024-11-01`,
    );
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'ResourceNotFound']);
  });

  it('refuses api-versions the new resource types do not serve with 400 NoRegisteredProviderFound', async () => {
    for (const path of [
      `${vmId}?api-version=2013-01-01`,
      `${vault()}/backupPolicies?api-version=2015-01-01`,
      `${rg}/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-orders?api-version=2014-04-01`,
    ]) {
      const answer = await arm('GET', path);
      assert.deepEqual([answer.status, answer.body.error.code], [400, 'NoRegisteredProviderFound'], path);
    }
  });
});

describe('Recovery Services: discovery and protection', () => {
  it('lists the vault and its daily policy with schedule, retention and instant restore days', async () => {
    const got = await arm('GET', `${vault()}?api-version=${BACKUP_API}`);
    assert.deepEqual([got.status, got.body.type], [200, 'Microsoft.RecoveryServices/vaults']);
    const policies = await arm('GET', `${vault()}/backupPolicies?api-version=${BACKUP_API}`);
    const policy = policies.body.value[0].properties;
    assert.equal(policy.backupManagementType, 'AzureIaasVM');
    assert.equal(policy.schedulePolicy.scheduleRunFrequency, 'Daily');
    assert.match(policy.schedulePolicy.scheduleRunTimes[0], /T02:00:00/);
    assert.deepEqual(policy.retentionPolicy.dailySchedule.retentionDuration, { count: 30, durationType: 'Days' });
    assert.equal(policy.instantRpRetentionRangeInDays, 2);
  });

  it('discovers only after refreshContainers has run, and only the VMs of its own region', async () => {
    const protectable = () =>
      arm(
        'GET',
        `${vault()}/backupProtectableItems?api-version=${BACKUP_API}&$filter=backupManagementType eq 'AzureIaasVM'`,
      );
    assert.deepEqual((await protectable()).body.value, []);
    const started = await arm('POST', `${vault()}/backupFabrics/Azure/refreshContainers?api-version=${BACKUP_API}`);
    assert.equal(started.status, 202);
    assert.match(
      started.headers.get('location')!,
      /\/backupFabrics\/Azure\/operationResults\/[0-9a-f-]+\?api-version=/,
    );
    assert.equal((await arm('GET', started.headers.get('location')!)).status, 202, 'still discovering');
    advanceSeconds(30);
    assert.equal((await arm('GET', started.headers.get('location')!)).status, 204);
    const items = (await protectable()).body.value;
    assert.deepEqual(
      items.map((entry: { name: string }) => entry.name),
      ['iaasvmcontainerv2;rg-fogpilot-app;vm-app-eastus'],
    );
    assert.equal(items[0].properties.virtualMachineId, vmId);
    assert.equal(items[0].properties.protectionState, 'NotProtected');
  });

  it('refuses a VM it has not discovered, one of another region, and an unknown policy, changing nothing', async () => {
    const undiscovered = await protect();
    assert.deepEqual(
      [undiscovered.status, undiscovered.body.error.code],
      [400, 'BMSUserErrorInvalidConfigureProtectionRequest'],
    );
    await refresh();
    const unknown = await protect('rsv-fogpilot-eastus', policyId('NoSuchPolicy'));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'BMSUserErrorPolicyNotFound');
    const west = await arm(
      'PUT',
      `${vault()}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-fogpilot-app;vm-batch-westus/protectedItems/VM;iaasvmcontainerv2;rg-fogpilot-app;vm-batch-westus?api-version=${BACKUP_API}`,
      { properties: { protectedItemType: 'Microsoft.Compute/virtualMachines', policyId: policyId() } },
    );
    assert.equal(west.status, 400);
    assert.match(west.body.error.message, /westus.*eastus/);
    advanceSeconds(3600);
    assert.equal((await arm('GET', `${item()}?api-version=${BACKUP_API}`)).status, 404);
    assert.deepEqual((await arm('GET', `${vault()}/backupJobs?api-version=${BACKUP_API}`)).body.value, []);
    assert.equal(
      (await arm('GET', `${vault()}/backupProtectableItems?api-version=${BACKUP_API}`)).body.value.length,
      1,
      'still protectable',
    );
  });

  it('protects a discovered VM through a long-running PUT: IRPending, with a ConfigureBackup job', async () => {
    await refresh();
    const accepted = await protect();
    assert.equal(accepted.status, 202);
    const status = accepted.headers.get('azure-asyncoperation')!;
    assert.match(status, /\/protectedItems\/.+\/operationsStatus\/[0-9a-f-]+\?api-version=2023-06-01$/);
    assert.match(accepted.headers.get('location')!, /\/operationResults\//);
    assert.equal((await arm('GET', status)).body.status, 'InProgress');
    assert.equal((await arm('GET', accepted.headers.get('location')!)).status, 202);
    advanceSeconds(30);
    const done = await arm('GET', status);
    assert.equal(done.body.status, 'Succeeded');
    assert.equal(done.body.properties.objectType, 'OperationStatusJobExtendedInfo');
    const job = await arm('GET', `${vault()}/backupJobs/${done.body.properties.jobId}?api-version=${BACKUP_API}`);
    assert.deepEqual([job.body.properties.operation, job.body.properties.status], ['ConfigureBackup', 'Completed']);
    const result = await arm('GET', accepted.headers.get('location')!);
    assert.equal(result.status, 200);
    const got = (await arm('GET', `${item()}?api-version=${BACKUP_API}`)).body.properties;
    assert.equal(got.protectionState, 'IRPending');
    assert.equal(got.lastBackupStatus, '');
    assert.equal(got.policyName, 'DefaultPolicy');
    assert.equal(got.policyId, policyId());
    assert.equal(got.sourceResourceId, vmId);
    assert.equal(
      (await arm('GET', `${vault()}/backupProtectableItems?api-version=${BACKUP_API}`)).body.value.length,
      0,
      'a protected VM is no longer protectable',
    );
  });

  it('fails the protection of a VM another vault protected after this one discovered it', async () => {
    await refresh();
    await refresh('rsv-other-eastus');
    await protect();
    advanceSeconds(30);
    const accepted = await protect('rsv-other-eastus');
    assert.equal(accepted.status, 202);
    advanceSeconds(30);
    const status = await arm('GET', accepted.headers.get('azure-asyncoperation')!);
    assert.equal(status.body.status, 'Failed');
    assert.match(status.body.error.message, /already registered.*another recovery services vault/);
    assert.equal((await arm('GET', `${item('rsv-other-eastus')}?api-version=${BACKUP_API}`)).status, 404);
  });
});

describe('Recovery Services: backups', () => {
  async function protectedVm() {
    await refresh();
    await protect();
    advanceSeconds(30);
  }

  it('runs an on-demand backup as a job, snapshot then transfer by disk size, that leaves a recovery point', async () => {
    await protectedVm();
    const expiry = new Date(clock.now() + 10 * 86_400_000).toISOString();
    const accepted = await arm('POST', `${item()}/backup?api-version=${BACKUP_API}`, {
      properties: { objectType: 'IaasVMBackupRequest', recoveryPointExpiryTimeInUTC: expiry },
    });
    assert.equal(accepted.status, 202);
    const status = await arm('GET', accepted.headers.get('azure-asyncoperation')!);
    assert.equal(status.body.status, 'Succeeded');
    const jobPath = `${vault()}/backupJobs/${status.body.properties.jobId}?api-version=${BACKUP_API}`;
    let job = (await arm('GET', jobPath)).body.properties;
    assert.deepEqual(
      [job.operation, job.status, job.jobType, job.entityFriendlyName],
      ['Backup', 'InProgress', 'AzureIaaSVMJob', 'vm-app-eastus'],
    );
    assert.deepEqual(
      job.extendedInfo.tasksList.map((task: { taskId: string; status: string }) => [task.taskId, task.status]),
      [
        ['Take Snapshot', 'InProgress'],
        ['Transfer data to vault', 'NotStarted'],
      ],
    );
    // 120 s + 128 GB × 2 s of snapshot, then 128 GB × 6 s of transfer.
    advanceSeconds(376);
    job = (await arm('GET', jobPath)).body.properties;
    assert.equal(job.status, 'InProgress');
    assert.equal(job.extendedInfo.tasksList[1].status, 'InProgress');
    assert.deepEqual((await arm('GET', `${item()}/recoveryPoints?api-version=${BACKUP_API}`)).body.value, []);
    advanceSeconds(768);
    job = (await arm('GET', jobPath)).body.properties;
    assert.equal(job.status, 'Completed');
    assert.equal(job.duration, '00:19:04.0000000');
    assert.equal(Date.parse(job.endTime) - Date.parse(job.startTime), 1144_000);
    const points = (await arm('GET', `${item()}/recoveryPoints?api-version=${BACKUP_API}`)).body.value;
    assert.equal(points.length, 1);
    const point = points[0].properties;
    assert.equal(point.objectType, 'IaasVMRecoveryPoint');
    assert.equal(Date.parse(point.recoveryPointTime), Date.parse(job.startTime) + 376_000);
    assert.deepEqual(
      point.recoveryPointTierDetails.map((tier: { type: string }) => tier.type),
      ['InstantRP', 'HardenedRP'],
    );
    assert.equal(
      (await arm('GET', `${item()}/recoveryPoints/${points[0].name}?api-version=${BACKUP_API}`)).status,
      200,
    );
    const got = (await arm('GET', `${item()}?api-version=${BACKUP_API}`)).body.properties;
    assert.deepEqual([got.protectionState, got.lastBackupStatus], ['Protected', 'Completed']);
    assert.equal(got.lastRecoveryPoint, point.recoveryPointTime);
    // The on-demand point expires when the request said, well before the policy's 30 days.
    advanceSeconds(10 * 86_400);
    const left = (await arm('GET', `${item()}/recoveryPoints?api-version=${BACKUP_API}`)).body.value;
    assert.ok(!left.some((entry: { name: string }) => entry.name === points[0].name));
  });

  it('backs up on the policy schedule as the clock runs, keeping 30 days of points and 2 days of snapshots', async () => {
    await protectedVm();
    advanceSeconds(3 * 86_400);
    let points = (await arm('GET', `${item()}/recoveryPoints?api-version=${BACKUP_API}`)).body.value;
    assert.equal(points.length, 3, 'one a day at 02:00 UTC');
    for (const entry of points) assert.match(entry.properties.recoveryPointTime, /T02:\d\d:\d\d/);
    assert.deepEqual(
      points.map(
        (entry: { properties: { recoveryPointTierDetails: unknown[] } }) =>
          entry.properties.recoveryPointTierDetails.length,
      ),
      [2, 2, 1],
      'the snapshot tier of a point older than two days is gone',
    );
    const jobs = await arm(
      'GET',
      `${vault()}/backupJobs?api-version=${BACKUP_API}&$filter=${encodeURIComponent("operation eq 'Backup' and status eq 'Completed' and backupManagementType eq 'AzureIaasVM'")}`,
    );
    assert.equal(jobs.body.value.length, 3);
    advanceSeconds(40 * 86_400);
    points = (await arm('GET', `${item()}/recoveryPoints?api-version=${BACKUP_API}`)).body.value;
    assert.equal(points.length, 30, 'daily retention: 30 days');
    const oldest = Date.parse(points[points.length - 1].properties.recoveryPointTime);
    assert.ok(clock.now() - oldest < 30 * 86_400_000);
  });

  it('ends a backup Failed on demand (fault backup-job-fails): no recovery point, the item unhealthy', async () => {
    await protectedVm();
    const armed = await fetch(`${emulator.armEndpoint}/_admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'backup-job-fails', vm: 'vm-app-eastus' }),
    });
    assert.equal(armed.status, 201);
    const accepted = await arm('POST', `${item()}/backup?api-version=${BACKUP_API}`, {
      properties: { objectType: 'IaasVMBackupRequest' },
    });
    const jobId = (await arm('GET', accepted.headers.get('azure-asyncoperation')!)).body.properties.jobId;
    advanceSeconds(1144);
    const job = (await arm('GET', `${vault()}/backupJobs/${jobId}?api-version=${BACKUP_API}`)).body.properties;
    assert.equal(job.status, 'Failed');
    assert.equal(job.errorDetails[0].errorTitle, 'UserErrorGuestAgentStatusUnavailable');
    assert.deepEqual((await arm('GET', `${item()}/recoveryPoints?api-version=${BACKUP_API}`)).body.value, []);
    const got = (await arm('GET', `${item()}?api-version=${BACKUP_API}`)).body.properties;
    assert.deepEqual(
      [got.lastBackupStatus, got.healthStatus, got.protectionStatus, got.protectionState],
      ['Failed', 'ActionRequired', 'Unhealthy', 'IRPending'],
    );
  });

  it('refuses a second on-demand backup while one runs', async () => {
    await protectedVm();
    const body = { properties: { objectType: 'IaasVMBackupRequest' } };
    assert.equal((await arm('POST', `${item()}/backup?api-version=${BACKUP_API}`, body)).status, 202);
    const second = await arm('POST', `${item()}/backup?api-version=${BACKUP_API}`, body);
    assert.deepEqual([second.status, second.body.error.code], [400, 'UserErrorBackupOperationInProgress']);
  });
});

describe('Cosmos DB accounts', () => {
  const account = (name: string) =>
    `${rg}/providers/Microsoft.DocumentDB/databaseAccounts/${name}?api-version=${COSMOS_API}`;
  const restorable = (location = 'eastus') =>
    arm(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.DocumentDB/locations/${location}/restorableDatabaseAccounts?api-version=${COSMOS_API}`,
    );

  it('reads a periodic and a continuous account, only the continuous one restorable, for its tier’s 30 days', async () => {
    const periodic = (await arm('GET', account('cosmos-orders'))).body.properties;
    assert.deepEqual(periodic.backupPolicy, {
      type: 'Periodic',
      periodicModeProperties: {
        backupIntervalInMinutes: 240,
        backupRetentionIntervalInHours: 8,
        backupStorageRedundancy: 'Geo',
      },
    });
    assert.equal(periodic.provisioningState, 'Succeeded');
    assert.deepEqual(
      periodic.locations.map((entry: { locationName: string }) => entry.locationName),
      ['East US', 'West US'],
    );
    const list = (await restorable()).body.value;
    assert.deepEqual(
      list.map((entry: { properties: { accountName: string } }) => entry.properties.accountName),
      ['cosmos-catalog'],
    );
    assert.equal(Date.parse(list[0].properties.oldestRestorableTime), clock.now() - 30 * 86_400_000);
    assert.equal(list[0].properties.apiType, 'Sql');
  });

  it('migrates a periodic account to continuous for world time, one way, refusing a second change meanwhile', async () => {
    const started = await arm('PATCH', account('cosmos-orders'), {
      properties: { backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } } },
    });
    assert.equal(started.status, 200);
    assert.equal(started.body.properties.provisioningState, 'Updating');
    const status = started.headers.get('azure-asyncoperation')!;
    assert.match(status, /\/providers\/Microsoft\.DocumentDB\/locations\/eastus\/operationsStatus\//);
    let got = (await arm('GET', account('cosmos-orders'))).body.properties;
    assert.equal(got.backupPolicy.type, 'Periodic');
    assert.deepEqual(
      [got.backupPolicy.migrationState.status, got.backupPolicy.migrationState.targetType],
      ['InProgress', 'Continuous'],
    );
    const again = await arm('PATCH', account('cosmos-orders'), {
      properties: { backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous30Days' } } },
    });
    assert.equal(again.status, 400);
    // 50 GB in each of two regions at 680 GB/h.
    advanceSeconds(529);
    assert.equal((await arm('GET', status)).body.status, 'InProgress');
    advanceSeconds(1);
    const finished = (await arm('GET', status)).body;
    assert.equal(finished.status, 'Succeeded');
    got = (await arm('GET', account('cosmos-orders'))).body.properties;
    assert.deepEqual(got.backupPolicy.continuousModeProperties, { tier: 'Continuous7Days' });
    assert.equal(got.backupPolicy.migrationState.status, 'Completed');
    const migrated = (await restorable()).body.value.find(
      (entry: { properties: { accountName: string } }) => entry.properties.accountName === 'cosmos-orders',
    );
    assert.equal(migrated.properties.oldestRestorableTime, finished.endTime, 'restorable from the migration’s end');
    const back = await arm('PATCH', account('cosmos-orders'), { properties: { backupPolicy: { type: 'Periodic' } } });
    assert.deepEqual([back.status, back.body.error.code], [400, 'BadRequest']);
    assert.match(back.body.error.message, /Continuous to Periodic/);
    const tier = await arm('PATCH', account('cosmos-orders'), {
      properties: { backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous30Days' } } },
    });
    assert.equal(tier.status, 200);
    advanceSeconds(60);
    got = (await arm('GET', account('cosmos-orders'))).body.properties;
    assert.deepEqual(got.backupPolicy.continuousModeProperties, { tier: 'Continuous30Days' });
  });
});
