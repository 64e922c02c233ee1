/**
 * The emulator against REST specification examples of Azure/azure-rest-api-specs
 * (specification/sql/resource-manager/Microsoft.Sql/…) at the api-versions @azure/arm-sql 10 sends. Those examples
 * are read there and never copied here (house rule): each test states the shape it expects, written for this test,
 * and cites the example it follows. The request is the example's: method, path shape and parameters, over raw HTTP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertShape, type Shape } from '../support/arm-shape';
import {
  BEARER,
  GROUP_SUBSCRIPTION,
  INSTANCE_SUBSCRIPTION,
  armRequest,
  failoverWorld,
  groupPath,
  instancesWorld,
  listedGroupsWorld,
  namesInAllPages,
  operationsWorld,
  settle,
  startSpecEmulator,
  valueAt,
  type SpecEmulator,
} from '../support/spec-worlds';

const SPECS = 'specification/sql/resource-manager/Microsoft.Sql';

/** An instance failover group as the 2022-05-01-preview examples show it (List, Get, Failover, ForceFailover…). */
const GROUP: Shape = {
  id: 'arm-id',
  name: 'string',
  type: 'string',
  properties: 'object',
  'properties.readWriteEndpoint': 'object',
  'properties.readWriteEndpoint.failoverPolicy': 'string',
  'properties.readWriteEndpoint.failoverWithDataLossGracePeriodMinutes': 'integer',
  'properties.readOnlyEndpoint': 'object',
  'properties.readOnlyEndpoint.failoverPolicy': 'string',
  'properties.replicationRole': 'string',
  'properties.replicationState': 'string',
  'properties.partnerRegions': 'array',
  'properties.partnerRegions[].location': 'string',
  'properties.partnerRegions[].replicationRole': 'string',
  'properties.managedInstancePairs': 'array',
  'properties.managedInstancePairs[].primaryManagedInstanceId': 'arm-id',
  'properties.managedInstancePairs[].partnerManagedInstanceId': 'arm-id',
};

/** A managed instance as ManagedInstanceList / ManagedInstanceListByResourceGroup (2022-08-01-preview) show each item. */
const INSTANCE: Shape = {
  location: 'string',
  id: 'arm-id',
  name: 'string',
  type: 'string',
  sku: 'object',
  'sku.name': 'string',
  'sku.tier': 'string',
  'sku.capacity': 'integer',
  'sku.family': 'string',
  properties: 'object',
  'properties.fullyQualifiedDomainName': 'string',
  'properties.administratorLogin': 'string',
  'properties.subnetId': 'arm-id',
  'properties.state': 'string',
  'properties.provisioningState': 'string',
  'properties.vCores': 'integer',
  'properties.storageSizeInGB': 'integer',
  'properties.licenseType': 'string',
  'properties.collation': 'string',
  'properties.publicDataEndpointEnabled': 'boolean',
  'properties.proxyOverride': 'string',
  'properties.minimalTlsVersion': 'string',
  'properties.dnsZone': 'string',
  'properties.maintenanceConfigurationId': 'arm-id',
  'properties.currentBackupStorageRedundancy': 'string',
  'properties.requestedBackupStorageRedundancy': 'string',
};

/** The time zone every instance has, which the list examples leave out (ManagedInstanceCreateMax answers it). */
const TIMEZONE = {
  'value[].properties.timezoneId':
    'azure-rest-api-specs …/2022-08-01-preview/examples/ManagedInstanceCreateMax.json answers "timezoneId": "UTC"',
};

/** Prefixes every path of a shape: the items of a list's `value`. */
const itemsOf = (shape: Shape): Shape => ({
  value: 'array',
  ...Object.fromEntries(Object.entries(shape).map(([at, kind]) => [`value[].${at}`, kind])),
});

/** What every managed-instance operation of the 2020-11-01-preview examples has. */
const OPERATION_BASE: Shape = {
  id: 'arm-id',
  name: 'uuid',
  type: 'string',
  properties: 'object',
  'properties.managedInstanceName': 'string',
  'properties.operation': 'string',
  'properties.operationFriendlyName': 'string',
  'properties.percentComplete': 'integer',
  'properties.startTime': 'date-time',
  'properties.state': 'string',
  'properties.isCancellable': 'boolean',
};

/** The steps of an operation (operationSteps), as the 2020-11-01-preview examples show them. */
const OPERATION_STEPS: Shape = {
  'properties.operationSteps': 'object',
  'properties.operationSteps.totalSteps': 'string',
  'properties.operationSteps.currentStep': 'integer',
  'properties.operationSteps.stepsList': 'array',
  'properties.operationSteps.stepsList[].order': 'integer',
  'properties.operationSteps.stepsList[].name': 'string',
  'properties.operationSteps.stepsList[].status': 'string',
};

/** The parameters of a scale (operationParameters), as the InProgress item of ListManagedInstanceOperations shows. */
const OPERATION_PARAMETERS: Shape = {
  'properties.operationParameters': 'object',
  ...Object.fromEntries(
    ['currentParameters', 'requestedParameters'].flatMap((side) => [
      [`properties.operationParameters.${side}`, 'object'],
      [`properties.operationParameters.${side}.family`, 'string'],
      [`properties.operationParameters.${side}.tier`, 'string'],
      [`properties.operationParameters.${side}.vCores`, 'integer'],
      [`properties.operationParameters.${side}.storageSizeInGB`, 'integer'],
    ]),
  ),
};

/** Properties the ManagedInstanceOperation definition (ManagedInstanceOperations.json, 2020-11-01-preview) has but the examples omit. */
const OPERATION_DEFINED = {
  'properties.estimatedCompletionTime': 'ManagedInstanceOperationProperties.estimatedCompletionTime (date-time)',
  'properties.description': 'ManagedInstanceOperationProperties.description (string)',
};

describe('the emulator answers as the public REST specification examples (shapes written here)', () => {
  const started: SpecEmulator[] = [];
  const start = async (world: Parameters<typeof startSpecEmulator>[0]) => {
    const emulator = await startSpecEmulator(world);
    started.push(emulator);
    return emulator;
  };
  after(async () => {
    await Promise.all(started.map(({ emulator }) => emulator.close()));
  });

  it('lists the failover groups at a location as InstanceFailoverGroupList does', async () => {
    // azure-rest-api-specs …/Microsoft.Sql/preview/2022-05-01-preview/examples/InstanceFailoverGroupList.json ("List failover group"): GET at
    // Japan East answers 200 and {value: [two groups]}, each a group without secondaryType.
    const { emulator } = await start(listedGroupsWorld());
    const answer = await armRequest(
      emulator.armEndpoint,
      'GET',
      `/subscriptions/${GROUP_SUBSCRIPTION}/resourceGroups/Default/providers/Microsoft.Sql/locations/Japan%20East/instanceFailoverGroups`,
      '2022-05-01-preview',
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assertShape(
      answer.body,
      itemsOf(GROUP),
      `${SPECS}/preview/2022-05-01-preview/examples/InstanceFailoverGroupList.json`,
      {
        extra: { 'value[].properties.secondaryType': 'in InstanceFailoverGroupGet of the same api-version' },
      },
    );
    assert.deepEqual((answer.body as { value: { name: string }[] }).value.map((group) => group.name).sort(), [
      'failover-group-test',
      'failover-group-test-1',
    ]);
    for (const group of (answer.body as { value: unknown[] }).value) {
      assert.equal(valueAt(group, 'type'), 'Microsoft.Sql/locations/instanceFailoverGroups');
      assert.equal(valueAt(group, 'properties.replicationRole'), 'Primary', 'Japan East holds both primaries');
    }
  });

  it('answers a forced failover at the secondary as InstanceFailoverGroupForceFailoverAllowDataLoss does', async () => {
    // azure-rest-api-specs …/Microsoft.Sql/preview/2022-05-01-preview/examples/InstanceFailoverGroupForceFailoverAllowDataLoss.json ("Forced
    // failover of a failover group allowing data loss"): POST at Japan West to failover-group-test-3, answered 200
    // (or 202, the operation being long-running) with the group seen from Japan West, now Primary, its pair swapped.
    const world = await start(failoverWorld());
    const answer = await armRequest(
      world.emulator.armEndpoint,
      'POST',
      groupPath(
        {
          subscriptionId: GROUP_SUBSCRIPTION,
          resourceGroupName: 'Default',
          locationName: 'Japan West',
          failoverGroupName: 'failover-group-test-3',
        },
        '/forceFailoverAllowDataLoss',
      ),
      '2022-05-01-preview',
    );
    assert.ok(
      [200, 202].includes(answer.status),
      `forced failover answered ${answer.status} ${JSON.stringify(answer.body)}`,
    );
    const done =
      answer.status === 202
        ? await settle(world, answer.headers.get('location') ?? assert.fail('202 without Location'))
        : answer;
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assertShape(
      done.body,
      { ...GROUP, 'properties.secondaryType': 'string' },
      'InstanceFailoverGroupForceFailoverAllowDataLoss',
    );
    assert.equal(valueAt(done.body, 'properties.replicationRole'), 'Primary');
    assert.equal(valueAt(done.body, 'properties.partnerRegions[0].replicationRole'), 'Secondary');
    assert.match(
      String(valueAt(done.body, 'id')),
      /\/locations\/JapanWest\/instanceFailoverGroups\/failover-group-test-3$/,
    );
    assert.match(
      String(valueAt(done.body, 'properties.managedInstancePairs[0].primaryManagedInstanceId')),
      /failover-group-secondary-mngdInstance$/,
      'the pair is swapped: the former secondary is primary',
    );
  });

  it('follows a long-running operation through Azure-AsyncOperation as ARM documents: InProgress, then Succeeded with an end', async () => {
    // https://learn.microsoft.com/en-gb/azure/azure-resource-manager/management/async-operations ("Azure-AsyncOperation
    // request and response") and ../shared/reference/azure-sql-mi-failover.md "Long-running operations": the status
    // resource answers 200 {id?, name, status, startTime, endTime?, percentComplete?, error?}.
    const world = await start(failoverWorld());
    const answer = await armRequest(
      world.emulator.armEndpoint,
      'POST',
      groupPath(
        {
          subscriptionId: GROUP_SUBSCRIPTION,
          resourceGroupName: 'Default',
          locationName: 'Japan West',
          failoverGroupName: 'failover-group-test-3',
        },
        '/failover',
      ),
      '2022-05-01-preview',
    );
    assert.equal(answer.status, 202);
    const statusUrl = answer.headers.get('azure-asyncoperation');
    assert.ok(statusUrl, 'Microsoft.Sql names the status resource (Azure-AsyncOperation)');
    assert.ok(answer.headers.get('location'), 'and the result (Location)');
    assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, 'and Retry-After in seconds');
    const optional = {
      id: 'optional on the status resource',
      percentComplete: 'optional on the status resource',
      error: 'only when the operation failed',
    };
    const running = await armRequest(world.emulator.armEndpoint, 'GET', statusUrl);
    assert.equal(running.status, 200);
    assertShape(running.body, { name: 'uuid', status: 'string', startTime: 'date-time' }, 'the async status resource', {
      absent: optional,
      extra: optional,
    });
    assert.equal(valueAt(running.body, 'status'), 'InProgress');
    await settle(world, answer.headers.get('location')!);
    const finished = await armRequest(world.emulator.armEndpoint, 'GET', statusUrl);
    assertShape(
      finished.body,
      { name: 'uuid', status: 'string', startTime: 'date-time', endTime: 'date-time' },
      'the async status resource, ended',
      { absent: optional, extra: optional },
    );
    assert.equal(valueAt(finished.body, 'status'), 'Succeeded');
  });

  it('answers with an x-ms-request-id and echoes the x-ms-client-request-id it was sent', async () => {
    // ../shared/reference/azure-sql-mi-failover.md "ARM front door": responses carry x-ms-request-id; the
    // client's x-ms-client-request-id comes back (Azure REST API reference, common headers).
    const { emulator } = await start(listedGroupsWorld());
    const response = await fetch(
      `${emulator.armEndpoint}/subscriptions/${GROUP_SUBSCRIPTION}/resourceGroups/Default/providers/Microsoft.Sql/locations/Japan%20East/instanceFailoverGroups?api-version=2022-05-01-preview`,
      { headers: { authorization: BEARER, 'x-ms-client-request-id': 'spec-test-7' } },
    );
    await response.arrayBuffer();
    assert.match(response.headers.get('x-ms-request-id') ?? '', /^[0-9a-f-]{36}$/i);
    assert.equal(response.headers.get('x-ms-client-request-id'), 'spec-test-7');
  });

  describe('managed instances listed', () => {
    let emulator: SpecEmulator['emulator'];
    before(async () => {
      ({ emulator } = await start(instancesWorld()));
    });

    it('lists the managed instances of a resource group as ManagedInstanceListByResourceGroup does', async () => {
      // azure-rest-api-specs …/Microsoft.Sql/preview/2022-08-01-preview/examples/ManagedInstanceListByResourceGroup.json ("List managed instances by
      // resource group"): GET …/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances answers 200 and
      // {value: [testinstance1, testinstance2]}.
      const answer = await armRequest(
        emulator.armEndpoint,
        'GET',
        '/subscriptions/20D7082A-0FC7-4468-82BD-542694D5042B/resourceGroups/Test1/providers/Microsoft.Sql/managedInstances',
        '2022-08-01-preview',
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assertShape(answer.body, itemsOf(INSTANCE), 'ManagedInstanceListByResourceGroup', {
        extra: { nextLink: 'the list is pageable (x-ms-pageable nextLink)', ...TIMEZONE },
      });
      assert.deepEqual((await namesInAllPages(emulator.armEndpoint, answer)).sort(), [
        'testinstance1',
        'testinstance2',
      ]);
    });

    it('lists the managed instances of a subscription as ManagedInstanceList does', async () => {
      // azure-rest-api-specs …/Microsoft.Sql/preview/2022-08-01-preview/examples/ManagedInstanceList.json ("List managed instances"): GET
      // /subscriptions/{sub}/providers/Microsoft.Sql/managedInstances answers 200 and {value: [every instance]}.
      const answer = await armRequest(
        emulator.armEndpoint,
        'GET',
        `/subscriptions/${INSTANCE_SUBSCRIPTION.toUpperCase()}/providers/Microsoft.Sql/managedInstances`,
        '2022-08-01-preview',
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assertShape(answer.body, itemsOf(INSTANCE), 'ManagedInstanceList', {
        extra: {
          'value[].tags': 'testinstance has tags (ManagedInstanceGet shows them)',
          nextLink: 'pageable',
          ...TIMEZONE,
        },
      });
      assert.deepEqual((await namesInAllPages(emulator.armEndpoint, answer)).sort(), [
        'testinstance',
        'testinstance1',
        'testinstance2',
      ]);
    });
  });

  describe("a managed instance's management operations", () => {
    const instance = `/subscriptions/${GROUP_SUBSCRIPTION}/resourceGroups/sqlcrudtest-7398/providers/Microsoft.Sql/managedInstances/sqlcrudtest-4645`;
    let emulator: SpecEmulator['emulator'];
    let operationName: string;
    before(async () => {
      let clock: SpecEmulator['clock'];
      ({ emulator, clock } = await start(operationsWorld()));
      const scale = await armRequest(emulator.armEndpoint, 'PATCH', instance, '2022-08-01-preview', {
        properties: { vCores: 16 },
      });
      assert.equal(scale.status, 202, JSON.stringify(scale.body));
      const list = await armRequest(emulator.armEndpoint, 'GET', `${instance}/operations`, '2020-11-01-preview');
      operationName = String(valueAt(list.body, 'value[0].name'));
      // An update waits Pending before it runs (ManagementOperationState); the example's item is past that.
      clock.advance((emulator.world.timings.operationPendingSeconds + 1) * 1000);
    });

    it('lists a running scale with the fields every operation of ListManagedInstanceOperations has, and its parameters', async () => {
      // azure-rest-api-specs …/Microsoft.Sql/preview/2020-11-01-preview/examples/ListManagedInstanceOperations.json ("List the managed instance
      // management operations"): 200 {value: [...]}, the InProgress item with operationParameters (current and
      // requested family, tier, vCores, storageSizeInGB). Its operationSteps are compared in the next test.
      const answer = await armRequest(emulator.armEndpoint, 'GET', `${instance}/operations`, '2020-11-01-preview');
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assertShape(
        answer.body,
        itemsOf({ ...OPERATION_BASE, ...OPERATION_PARAMETERS }),
        'ListManagedInstanceOperations',
        {
          extra: {
            ...Object.fromEntries(Object.entries(OPERATION_DEFINED).map(([at, why]) => [`value[].${at}`, why])),
            'value[].properties.operationSteps': 'compared in the next test',
            nextLink: 'the list is pageable',
          },
        },
      );
      assert.equal(valueAt(answer.body, 'value[0].type'), 'Microsoft.Sql/managedInstances/operations');
      assert.equal(valueAt(answer.body, 'value[0].properties.state'), 'InProgress');
      assert.equal(valueAt(answer.body, 'value[0].properties.isCancellable'), true);
    });

    it('lists a running scale with its operationSteps, as the InProgress item of ListManagedInstanceOperations has', async () => {
      // Same example: the InProgress item has operationSteps {totalSteps (a string), currentStep, stepsList[{order,
      // name, status}]}, status one of NotStarted, InProgress, SlowedDown, Completed, Failed, Canceled.
      const answer = await armRequest(emulator.armEndpoint, 'GET', `${instance}/operations`, '2020-11-01-preview');
      assertShape(
        answer.body,
        itemsOf({ ...OPERATION_BASE, ...OPERATION_PARAMETERS, ...OPERATION_STEPS }),
        'ListManagedInstanceOperations',
        {
          extra: {
            ...Object.fromEntries(Object.entries(OPERATION_DEFINED).map(([at, why]) => [`value[].${at}`, why])),
            nextLink: 'the list is pageable',
          },
        },
      );
    });

    it('gets one operation by its id as GetManagedInstanceOperation does', async () => {
      // azure-rest-api-specs …/Microsoft.Sql/preview/2020-11-01-preview/examples/GetManagedInstanceOperation.json ("Gets the managed instance
      // management operation"): 200, one operation with operationSteps (five steps in the example).
      const answer = await armRequest(
        emulator.armEndpoint,
        'GET',
        `${instance}/operations/${operationName}`,
        '2020-11-01-preview',
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assertShape(answer.body, { ...OPERATION_BASE, ...OPERATION_STEPS }, 'GetManagedInstanceOperation', {
        extra: {
          ...OPERATION_DEFINED,
          'properties.operationParameters': 'in the InProgress item of ListManagedInstanceOperations',
        },
      });
      assert.equal(valueAt(answer.body, 'name'), operationName);
    });

    it('cancels a running operation as CancelManagedInstanceOperation does, and it ends Cancelled', async () => {
      // azure-rest-api-specs …/Microsoft.Sql/preview/2020-11-01-preview/examples/CancelManagedInstanceOperation.json ("Cancel the managed instance
      // management operation"): POST …/operations/{operationId}/cancel answers 200 with no body. The operation state
      // goes CancelInProgress, then Cancelled (ManagementOperationState in ManagedInstanceOperations.json).
      const answer = await armRequest(
        emulator.armEndpoint,
        'POST',
        `${instance}/operations/${operationName}/cancel`,
        '2020-11-01-preview',
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body, undefined);
      const read = await armRequest(
        emulator.armEndpoint,
        'GET',
        `${instance}/operations/${operationName}`,
        '2020-11-01-preview',
      );
      assert.ok(['CancelInProgress', 'Cancelled'].includes(String(valueAt(read.body, 'properties.state'))));
    });
  });
});
