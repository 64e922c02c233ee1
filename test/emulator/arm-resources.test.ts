/**
 * ARM resources as Azure serves them, through the real @azure/arm-sql client and raw HTTP against a started emulator:
 * the managed-instance lists (ManagedInstances.json ManagedInstances_List / _ListByResourceGroup), ARM's
 * `ResourceGroupNotFound` and `ParentResourceNotFound`, and management operations (ManagedInstanceOperations.json:
 * operationSteps, Pending → InProgress → Succeeded, cancel → CancelInProgress → Cancelled). The world's clock moves
 * only when a test says, so every state is read, never raced.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ManagedInstanceOperation, SqlManagementClient } from '@azure/arm-sql';
import { ArmControlPlane } from '../../src/azure/arm-control-plane';
import { EmulatorCredential } from '../../src/azure/credentials';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const clock = new ManualClock();
let emulator: Emulator;
let client: SqlManagementClient;

function world(): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.instances.push(
    { name: 'fog-extra-centralus', resourceGroup: 'rg-fogpilot', location: 'centralus' },
    { name: 'fog-lab-eastus', resourceGroup: 'rg-lab', location: 'eastus' },
  );
  return {
    ...spec,
    resourceGroups: [{ name: 'rg-empty' }],
    timings: {
      vCoreScaleSeconds: 600,
      storageScaleSeconds: 120,
      operationPendingSeconds: 10,
      operationCancelSeconds: 30,
    },
    throttling: { enabled: false },
  };
}

before(async () => {
  emulator = await startEmulator({ world: world(), clock });
  const controlPlane = new ArmControlPlane({ credential: new EmulatorCredential(), endpoint: emulator.armEndpoint });
  client = controlPlane.client(emulator.world.spec.subscriptionId);
});
after(async () => emulator?.close());
beforeEach(() => emulator.world.load(world()));

/** What the ARM answers these tests read hold (lists, errors, async status resources). */
interface ArmBody {
  value?: { type?: string }[];
  nextLink?: string;
  error?: { code: string; message: string };
  status?: string;
  startTime?: string;
  endTime?: string;
  [field: string]: unknown;
}

const sub = () => emulator.world.spec.subscriptionId;
const arm = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${emulator.armEndpoint}${path}`, {
    method,
    headers: {
      Authorization: 'Bearer fogpilot-emulator-token',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as ArmBody };
};
const instancePath = (name: string, rg = 'rg-fogpilot') =>
  `/subscriptions/${sub()}/resourceGroups/${rg}/providers/Microsoft.Sql/managedInstances/${name}`;
const scale = (name: string, properties: Record<string, unknown>) =>
  arm('PATCH', `${instancePath(name)}?api-version=2022-08-01-preview`, { properties });
const advanceSeconds = (seconds: number) => {
  clock.advance(seconds * 1000);
  emulator.world.advance();
};
async function operationsOf(name: string): Promise<ManagedInstanceOperation[]> {
  const operations: ManagedInstanceOperation[] = [];
  for await (const operation of client.managedInstanceOperations.listByManagedInstance('rg-fogpilot', name))
    operations.push(operation);
  return operations;
}
async function refusalOf(work: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await work;
  } catch (error) {
    return error as { statusCode?: number; code?: string; message: string };
  }
  assert.fail('expected ARM to refuse the request');
}

describe('managed-instance lists', () => {
  it('lists the managed instances of a resource group and of the subscription, in pages the SDK follows', async () => {
    const names = async (pages: AsyncIterable<{ name?: string }>) => {
      const found: string[] = [];
      for await (const instance of pages) found.push(instance.name!);
      return found.sort();
    };
    assert.deepEqual(await names(client.managedInstances.listByResourceGroup('rg-fogpilot')), [
      'fog-extra-centralus',
      'fog-sales-eastus',
      'fog-sales-westus',
    ]);
    assert.deepEqual(await names(client.managedInstances.list()), [
      'fog-extra-centralus',
      'fog-lab-eastus',
      'fog-sales-eastus',
      'fog-sales-westus',
    ]);
    const first = await arm(
      'GET',
      `/subscriptions/${sub()}/providers/Microsoft.Sql/managedInstances?api-version=2022-08-01-preview`,
    );
    assert.equal(first.status, 200);
    assert.equal(first.body.value!.length, 2, 'a page holds two instances');
    assert.match(first.body.nextLink ?? '', /\/providers\/Microsoft\.Sql\/managedInstances\?api-version=.*skiptoken=2/);
    assert.equal(first.body.value![0]!.type, 'Microsoft.Sql/managedInstances');
  });
});

describe('missing resource groups and parents', () => {
  it("answers a declared empty resource group's list with no instances, and 404 ResourceGroupNotFound for one that does not exist", async () => {
    const empty = await arm(
      'GET',
      `/subscriptions/${sub()}/resourceGroups/rg-empty/providers/Microsoft.Sql/managedInstances?api-version=2022-08-01-preview`,
    );
    assert.deepEqual([empty.status, empty.body], [200, { value: [] }]);
    for (const path of [
      `/subscriptions/${sub()}/resourceGroups/rg-gone/providers/Microsoft.Sql/managedInstances?api-version=2022-08-01-preview`,
      `${instancePath('fog-sales-eastus', 'rg-gone')}?api-version=2022-08-01-preview`,
      `/subscriptions/${sub()}/resourceGroups/rg-gone/providers/Microsoft.Sql/locations/eastus/instanceFailoverGroups/fog-sales?api-version=2022-05-01-preview`,
    ]) {
      const answer = await arm('GET', path);
      assert.equal(answer.status, 404, path);
      assert.deepEqual(answer.body.error, {
        code: 'ResourceGroupNotFound',
        message: "Resource group 'rg-gone' could not be found.",
      });
    }
    const refused = await refusalOf(client.managedInstances.get('rg-gone', 'fog-sales-eastus'));
    assert.deepEqual([refused.statusCode, refused.code], [404, 'ResourceGroupNotFound']);
  });

  it('answers ParentResourceNotFound, naming the missing parent, for children of an instance, database or location that is not there', async () => {
    const operations = await refusalOf(operationsOf('fog-nowhere'));
    assert.deepEqual([operations.statusCode, operations.code], [404, 'ParentResourceNotFound']);
    assert.equal(
      operations.message,
      `Failed to perform 'read' on resource(s) of type 'managedInstances/operations', because the parent resource '${instancePath('fog-nowhere')}' could not be found.`,
    );
    const cancel = await arm(
      'POST',
      `${instancePath('fog-nowhere')}/operations/11111111-1111-1111-1111-111111111111/cancel?api-version=2020-11-01-preview`,
    );
    assert.deepEqual([cancel.status, cancel.body.error?.code], [404, 'ParentResourceNotFound']);
    assert.match(cancel.body.error?.message ?? '', /^Failed to perform 'action' on resource/);
    const policy = await refusalOf(
      client.managedInstanceLongTermRetentionPolicies.get('rg-fogpilot', 'fog-sales-eastus', 'nosuchdb', 'default'),
    );
    assert.deepEqual([policy.statusCode, policy.code], [404, 'ParentResourceNotFound']);
    assert.match(
      policy.message,
      /because the parent resource '.*\/managedInstances\/fog-sales-eastus\/databases\/nosuchdb'/,
    );
    const group = await refusalOf(client.instanceFailoverGroups.get('rg-fogpilot', 'japaneast', 'fog-sales'));
    assert.deepEqual([group.statusCode, group.code], [404, 'ParentResourceNotFound']);
    assert.match(group.message, /\/providers\/Microsoft\.Sql\/locations\/japaneast' could not be found\.$/);
    const otherName = await refusalOf(client.instanceFailoverGroups.get('rg-fogpilot', 'eastus', 'fog-other'));
    assert.deepEqual([otherName.statusCode, otherName.code], [404, 'ResourceNotFound'], 'the parent is there');
  });
});

describe('management operations', () => {
  it('runs an update Pending, then InProgress through its operationSteps, then Succeeded, as GetManagedInstanceOperation shows them', async () => {
    assert.equal((await scale('fog-sales-eastus', { vCores: 16 })).status, 202);
    let [operation] = await operationsOf('fog-sales-eastus');
    assert.equal(operation!.state, 'Pending');
    assert.equal(operation!.isCancellable, true);
    const steps = operation!.operationSteps!;
    assert.equal(steps.totalSteps, '5', 'a General Purpose compute change: no seeding step');
    assert.deepEqual(
      steps.stepsList!.map((step) => [step.order, step.name, step.status]),
      [
        [1, 'Request validation', 'InProgress'],
        [2, 'Virtual Cluster resize/creation', 'NotStarted'],
        [3, 'New SQL Instance Startup', 'NotStarted'],
        [4, 'Preparing Failover and Failover', 'NotStarted'],
        [5, 'Old SQL Instance cleanup', 'NotStarted'],
      ],
    );
    advanceSeconds(10);
    [operation] = await operationsOf('fog-sales-eastus');
    assert.equal(operation!.state, 'InProgress');
    assert.equal(operation!.operationSteps!.currentStep, 2);
    assert.equal(operation!.operationSteps!.stepsList![0]!.status, 'Completed');
    assert.equal(operation!.operationSteps!.stepsList![1]!.status, 'InProgress');
    advanceSeconds(590);
    [operation] = await operationsOf('fog-sales-eastus');
    assert.equal(operation!.state, 'Succeeded');
    assert.equal(operation!.percentComplete, 100);
    assert.ok(operation!.operationSteps!.stepsList!.every((step) => step.status === 'Completed'));
    assert.equal((await client.managedInstances.get('rg-fogpilot', 'fog-sales-eastus')).vCores, 16);
  });

  it('ends a failing update Failed, in the step it failed in, the steps after it never started', async () => {
    emulator.arm.addFault({ kind: 'operation-fails', instance: 'fog-sales-eastus' });
    await scale('fog-sales-eastus', { vCores: 16 });
    advanceSeconds(600);
    const [operation] = await operationsOf('fog-sales-eastus');
    assert.equal(operation!.state, 'Failed');
    assert.deepEqual(
      operation!.operationSteps!.stepsList!.map((step) => step.status),
      ['Completed', 'Completed', 'Completed', 'Failed', 'NotStarted'],
    );
    assert.equal(operation!.operationSteps!.currentStep, 4);
  });

  it('cancels an update: CancelInProgress, then Cancelled, the instance keeping its old size and the async operation ending Canceled', async () => {
    const accepted = await scale('fog-sales-eastus', { vCores: 16 });
    const statusUrl = new URL(accepted.headers.get('azure-asyncoperation')!);
    advanceSeconds(60);
    const [running] = await operationsOf('fog-sales-eastus');
    await client.managedInstanceOperations.cancel('rg-fogpilot', 'fog-sales-eastus', running!.name!);
    let operation = await client.managedInstanceOperations.get('rg-fogpilot', 'fog-sales-eastus', running!.name!);
    assert.deepEqual([operation.state, operation.isCancellable], ['CancelInProgress', false]);
    assert.equal((await arm('GET', statusUrl.pathname + statusUrl.search)).body.status, 'InProgress');
    advanceSeconds(30);
    operation = await client.managedInstanceOperations.get('rg-fogpilot', 'fog-sales-eastus', running!.name!);
    assert.equal(operation.state, 'Cancelled');
    assert.deepEqual(
      operation.operationSteps!.stepsList!.map((step) => step.status),
      ['Completed', 'Canceled', 'NotStarted', 'NotStarted', 'NotStarted'],
    );
    const instance = await client.managedInstances.get('rg-fogpilot', 'fog-sales-eastus');
    assert.deepEqual([instance.vCores, instance.provisioningState], [8, 'Succeeded']);
    const status = await arm('GET', statusUrl.pathname + statusUrl.search);
    assert.deepEqual(
      { ...status.body, startTime: undefined, endTime: undefined },
      {
        id: statusUrl.pathname,
        name: running!.name,
        status: 'Canceled',
        startTime: undefined,
        endTime: undefined,
        error: { code: 'OperationCancelled', message: 'The operation has been cancelled by user.' },
      },
    );
    assert.ok(Date.parse(status.body.endTime!) > Date.parse(status.body.startTime!));
  });

  it('refuses to cancel an operation that has ended or a General Purpose storage-only change, with 409 CannotCancelOperation', async () => {
    await scale('fog-sales-eastus', { vCores: 16 });
    advanceSeconds(600);
    const [finished] = await operationsOf('fog-sales-eastus');
    const ended = await arm(
      'POST',
      `${instancePath('fog-sales-eastus')}/operations/${finished!.name}/cancel?api-version=2020-11-01-preview`,
    );
    assert.deepEqual([ended.status, ended.body.error?.code], [409, 'CannotCancelOperation']);
    await scale('fog-sales-westus', { storageSizeInGB: 512 });
    const [storage] = await operationsOf('fog-sales-westus');
    assert.equal(storage!.isCancellable, false);
    const refused = await refusalOf(
      client.managedInstanceOperations.cancel('rg-fogpilot', 'fog-sales-westus', storage!.name!),
    );
    assert.deepEqual([refused.statusCode, refused.code], [409, 'CannotCancelOperation']);
    const unknown = await arm(
      'POST',
      `${instancePath('fog-sales-westus')}/operations/11111111-1111-1111-1111-111111111111/cancel?api-version=2020-11-01-preview`,
    );
    assert.deepEqual([unknown.status, unknown.body.error?.code], [404, 'OperationIdNotFound']);
  });
});
