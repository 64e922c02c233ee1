/**
 * The workload through the real clients over HTTP: @azure/arm-recoveryservicesbackup 12 (`RecoveryServicesBackupClient`,
 * api-version 2023-06-01) discovers, protects and backs up a VM and follows the job to a recovery point;
 * @azure/arm-cosmosdb 17 (`CosmosDBManagementClient`, 2026-03-15) migrates a periodic account to continuous backup with
 * its own poller and finds it restorable. The world's clock moves only when a test says (the Cosmos poller's wait is
 * bounded by moving the clock while it polls).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  RecoveryServicesBackupClient,
  type AzureIaaSComputeVMProtectedItem,
  type AzureIaaSVMJob,
  type AzureIaaSVMProtectionPolicy,
  type IaasVMRecoveryPoint,
  type OperationStatusJobExtendedInfo,
} from '@azure/arm-recoveryservicesbackup';
import { CosmosDBManagementClient, type ContinuousModeBackupPolicy } from '@azure/arm-cosmosdb';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
let emulator: Emulator;
const VAULT = 'rsv-fogpilot-eastus';
const RG = 'rg-fogpilot-app';
const CONTAINER = 'IaasVMContainer;iaasvmcontainerv2;rg-fogpilot-app;vm-app-eastus';
const ITEM = 'VM;iaasvmcontainerv2;rg-fogpilot-app;vm-app-eastus';

const world = (): WorldSpecInput => ({ ...defaultWorldSpec(), throttling: { enabled: false } });
before(async () => {
  emulator = await startEmulator({ world: world(), clock });
});
after(async () => emulator?.close());
beforeEach(() => emulator.world.load(world()));

/** The SDKs' bearer policy refuses plain HTTP: the emulator's token goes in another way (as networks.test.ts does). */
const emulatorToken: PipelinePolicy = {
  name: 'emulator-token',
  sendRequest: (request, next) => {
    request.headers.set('Authorization', 'Bearer fogpilot-emulator-token');
    return next(request);
  },
};
const options = () => ({
  endpoint: emulator.armEndpoint,
  allowInsecureConnection: true,
  retryOptions: { maxRetries: 0 },
});

function backupClient(): RecoveryServicesBackupClient {
  const client = new RecoveryServicesBackupClient(
    new EmulatorCredential(),
    emulator.world.spec.subscriptionId,
    options(),
  );
  client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
  client.pipeline.addPolicy(emulatorToken);
  return client;
}

function cosmosClient(): CosmosDBManagementClient {
  const client = new CosmosDBManagementClient(new EmulatorCredential(), emulator.world.spec.subscriptionId, options());
  client.pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
  client.pipeline.addPolicy(emulatorToken);
  return client;
}

const advanceSeconds = (seconds: number) => {
  clock.advance(seconds * 1000);
  emulator.world.advance();
};
/** The operation id at the end of a status URL (`…/operationResults/{id}?…`, `…/operationsStatus/{id}?…`). */
const operationIdOf = (url: string | undefined) =>
  /\/(?:operationResults|operationsStatus)\/([^/?]+)/.exec(url ?? '')![1]!;

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const found: T[] = [];
  for await (const entry of pages) found.push(entry);
  return found;
}

async function refusalOf(work: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  assert.fail('expected Azure to refuse the request');
}

describe('VM backup through RecoveryServicesBackupClient', () => {
  async function discover(client: RecoveryServicesBackupClient) {
    let location: string | undefined;
    await client.protectionContainers.refresh(VAULT, RG, 'Azure', {
      onResponse: (response) => {
        location = response.headers.get('location');
      },
    });
    advanceSeconds(30);
    await client.protectionContainerRefreshOperationResults.get(VAULT, RG, 'Azure', operationIdOf(location));
  }

  async function protect(client: RecoveryServicesBackupClient, policyId: string) {
    let status: string | undefined;
    await client.protectedItems.createOrUpdate(
      VAULT,
      RG,
      'Azure',
      CONTAINER,
      ITEM,
      {
        properties: {
          protectedItemType: 'Microsoft.Compute/virtualMachines',
          sourceResourceId: emulator.world.workload.virtualMachines.values().next().value!.id,
          policyId,
        },
      },
      {
        onResponse: (response) => {
          status = response.headers.get('azure-asyncoperation');
        },
      },
    );
    return operationIdOf(status);
  }

  it('refreshes, lists the VM protectable, protects it, backs it up and follows the job to a recovery point', async () => {
    const client = backupClient();
    await discover(client);
    const protectable = await collect(
      client.backupProtectableItems.list(VAULT, RG, { filter: "backupManagementType eq 'AzureIaasVM'" }),
    );
    assert.deepEqual(
      protectable.map((entry) => [entry.name, entry.properties?.protectableItemType]),
      [['iaasvmcontainerv2;rg-fogpilot-app;vm-app-eastus', 'Microsoft.Compute/virtualMachines']],
    );
    const [policy] = await collect(client.backupPolicies.list(VAULT, RG));
    assert.equal((policy!.properties as AzureIaaSVMProtectionPolicy).instantRpRetentionRangeInDays, 2);

    const protection = await protect(client, policy!.id!);
    const running = await client.protectedItemOperationStatuses.get(VAULT, RG, 'Azure', CONTAINER, ITEM, protection);
    assert.equal(running.status, 'InProgress');
    advanceSeconds(30);
    assert.equal(
      (await client.protectedItemOperationStatuses.get(VAULT, RG, 'Azure', CONTAINER, ITEM, protection)).status,
      'Succeeded',
    );
    let item = (await client.protectedItems.get(VAULT, RG, 'Azure', CONTAINER, ITEM))
      .properties as AzureIaaSComputeVMProtectedItem;
    assert.deepEqual(
      [item.protectedItemType, item.protectionState, item.policyName],
      ['Microsoft.Compute/virtualMachines', 'IRPending', 'DefaultPolicy'],
    );

    let backupStatus: string | undefined;
    await client.backups.trigger(
      VAULT,
      RG,
      'Azure',
      CONTAINER,
      ITEM,
      {
        properties: {
          objectType: 'IaasVMBackupRequest',
          recoveryPointExpiryTimeInUTC: new Date(clock.now() + 7 * 86_400_000),
        },
      },
      {
        onResponse: (response) => {
          backupStatus = response.headers.get('azure-asyncoperation');
        },
      },
    );
    const operation = await client.protectedItemOperationStatuses.get(
      VAULT,
      RG,
      'Azure',
      CONTAINER,
      ITEM,
      operationIdOf(backupStatus),
    );
    const jobId = (operation.properties as OperationStatusJobExtendedInfo).jobId!;
    let job = (await client.jobDetails.get(VAULT, RG, jobId)).properties as AzureIaaSVMJob;
    assert.deepEqual([job.operation, job.status, job.entityFriendlyName], ['Backup', 'InProgress', 'vm-app-eastus']);
    assert.ok(job.activityId);
    // Poll the job as a runbook would, moving the world's clock a minute per look, with a bound.
    for (let look = 0; look < 60 && job.status === 'InProgress'; look++) {
      advanceSeconds(60);
      job = (await client.jobDetails.get(VAULT, RG, jobId)).properties as AzureIaaSVMJob;
    }
    assert.equal(job.status, 'Completed');
    assert.ok(job.endTime! > job.startTime!);
    const listed = await collect(client.backupJobs.list(VAULT, RG, { filter: "operation eq 'Backup'" }));
    assert.deepEqual(
      listed.map((entry) => entry.name),
      [jobId],
    );

    const points = await collect(client.recoveryPoints.list(VAULT, RG, 'Azure', CONTAINER, ITEM));
    assert.equal(points.length, 1);
    const point = points[0]!.properties as IaasVMRecoveryPoint;
    assert.equal(point.objectType, 'IaasVMRecoveryPoint');
    assert.ok(point.recoveryPointTime! >= job.startTime! && point.recoveryPointTime! <= job.endTime!);
    item = (await client.protectedItems.get(VAULT, RG, 'Azure', CONTAINER, ITEM))
      .properties as AzureIaaSComputeVMProtectedItem;
    assert.deepEqual([item.protectionState, item.lastBackupStatus], ['Protected', 'Completed']);
  });

  it('refuses protection under a policy the vault does not have, and changes nothing', async () => {
    const client = backupClient();
    await discover(client);
    const refused = await refusalOf(
      protect(client, `${emulator.world.workload.vaults.values().next().value!.id}/backupPolicies/NoSuchPolicy`),
    );
    assert.deepEqual([refused.statusCode, refused.code], [400, 'BMSUserErrorPolicyNotFound']);
    advanceSeconds(3600);
    const missing = await refusalOf(client.protectedItems.get(VAULT, RG, 'Azure', CONTAINER, ITEM));
    assert.equal(missing.statusCode, 404);
    assert.equal((await collect(client.backupProtectableItems.list(VAULT, RG))).length, 1);
    assert.deepEqual(await collect(client.backupJobs.list(VAULT, RG)), []);
  });
});

describe('Cosmos DB backup through CosmosDBManagementClient', () => {
  it('migrates a periodic account to continuous with the SDK poller, finds it restorable, and refuses Periodic after', async () => {
    const client = cosmosClient();
    const before = await client.databaseAccounts.get(RG, 'cosmos-orders');
    assert.equal(before.backupPolicy?.type, 'Periodic');
    assert.equal(
      (await collect(client.restorableDatabaseAccounts.listByLocation('eastus'))).some(
        (entry) => entry.accountName === 'cosmos-orders',
      ),
      false,
      'a periodic account is not restorable',
    );
    // The migration takes simulated minutes: the clock moves a minute every 10 ms while the SDK polls, for at most
    // 500 looks, after which the poll is aborted.
    const abort = new AbortController();
    let looks = 0;
    const ticker = setInterval(() => {
      if (++looks > 500) abort.abort();
      else advanceSeconds(60);
    }, 10);
    let done;
    try {
      done = await client.databaseAccounts
        .update(
          RG,
          'cosmos-orders',
          { backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } } },
          { updateIntervalInMs: 10, abortSignal: abort.signal },
        )
        .pollUntilDone();
    } finally {
      clearInterval(ticker);
    }
    const policy = done.backupPolicy as ContinuousModeBackupPolicy;
    assert.equal(policy.type, 'Continuous');
    assert.equal(policy.continuousModeProperties?.tier, 'Continuous7Days');
    assert.equal(policy.migrationState?.status, 'Completed');
    const restorable = (await collect(client.restorableDatabaseAccounts.listByLocation('eastus'))).find(
      (entry) => entry.accountName === 'cosmos-orders',
    )!;
    assert.ok(restorable, 'restorable once migrated');
    assert.equal(restorable.name, done.instanceId);
    const byId = await client.restorableDatabaseAccounts.getByLocation('eastus', done.instanceId!);
    assert.equal(byId.accountName, 'cosmos-orders');
    assert.ok(byId.oldestRestorableTime! > policy.migrationState.startTime!);
    const refused = await refusalOf(
      client.databaseAccounts.update(RG, 'cosmos-orders', { backupPolicy: { type: 'Periodic' } }).pollUntilDone(),
    );
    assert.equal(refused.statusCode, 400);
    assert.match(refused.message, /Continuous to Periodic/);
    assert.equal((await client.databaseAccounts.get(RG, 'cosmos-orders')).backupPolicy?.type, 'Continuous');
  });
});
