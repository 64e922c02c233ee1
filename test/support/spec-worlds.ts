/**
 * Worlds built from the REST specification examples' own parameters (subscription, resource groups, instances, groups,
 * locations), and raw-HTTP ARM requests to an emulator, for the tests that compare the emulator with those examples.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../src/emulator';
import { ManualClock } from '../../src/emulator/clock';
import type { WorldSpecInput } from '../../src/emulator/world-spec';
import { repoRoot } from './repo';

/** The examples shipped beside the Azure facts, read at run time (never copied into this repository). */
export const examplesDir = path.join(repoRoot, '..', 'shared', 'reference', 'arm-examples');
export const haveExamples = existsSync(examplesDir);

/** One REST specification example: the request's parameters and the responses by status. */
export interface SpecExample {
  parameters: Record<string, unknown> & { 'api-version': string };
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

export function readExample(file: string): SpecExample {
  return JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) as SpecExample;
}

/** The token EmulatorCredential gives; ARM requires a bearer token (issue 13, slice A). */
export const BEARER = 'Bearer fogpilot-emulator-token';

/** The subscription of the InstanceFailoverGroup* and ManagedInstanceOperations examples. */
export const GROUP_SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
/** The subscription of the ManagedInstance* examples. */
export const INSTANCE_SUBSCRIPTION = '20d7082a-0fc7-4468-82bd-542694d5042b';

// Both instances of a pair in one DNS zone, as Azure requires of a failover group (DnsZoneMismatch otherwise).
const pair = (suffix: string, zone: string) => [
  {
    name: `failover-group-primary-mngdInstance${suffix}`,
    resourceGroup: 'Default',
    location: 'Japan East',
    dnsZone: zone,
  },
  {
    name: `failover-group-secondary-mngdInstance${suffix}`,
    resourceGroup: 'Default',
    location: 'Japan West',
    dnsZone: zone,
  },
];

const automatic = { readWriteFailoverPolicy: 'Automatic' as const, gracePeriodMinutes: 480 };

/** InstanceFailoverGroupList's two groups at Japan East (failover-group-test and failover-group-test-1). */
export function listedGroupsWorld(): WorldSpecInput {
  return {
    subscriptionId: GROUP_SUBSCRIPTION,
    instances: [...pair('', '1b4e2caff2530'), ...pair('-1', '2c3d1bdae3412')],
    groups: ['', '-1'].map((suffix) => ({
      name: `failover-group-test${suffix}`,
      resourceGroup: 'Default',
      primaryInstance: `failover-group-primary-mngdInstance${suffix}`,
      secondaryInstance: `failover-group-secondary-mngdInstance${suffix}`,
      ...automatic,
    })),
    throttling: { enabled: false },
  };
}

/** failover-group-test-3, the group the failover examples fail over to Japan West. */
export function failoverWorld(): WorldSpecInput {
  return {
    subscriptionId: GROUP_SUBSCRIPTION,
    instances: pair('', '1b4e2caff2530'),
    groups: [
      {
        name: 'failover-group-test-3',
        resourceGroup: 'Default',
        primaryInstance: 'failover-group-primary-mngdInstance',
        secondaryInstance: 'failover-group-secondary-mngdInstance',
        ...automatic,
      },
    ],
    throttling: { enabled: false },
  };
}

/** The pair of InstanceFailoverGroupCreateOrUpdate, in no group yet (the secondary empty, as Azure requires). */
export function unpairedWorld(): WorldSpecInput {
  return { subscriptionId: GROUP_SUBSCRIPTION, instances: pair('', '1b4e2caff2530'), throttling: { enabled: false } };
}

/** testinstance (ManagedInstanceGet/Update) in testrg; testinstance1 and testinstance2 (the list examples) in Test1. */
export function instancesWorld(): WorldSpecInput {
  const subnet = (n: number) =>
    `/subscriptions/20D7082A-0FC7-4468-82BD-542694D5042B/resourceGroups/testrg/providers/Microsoft.Network/virtualNetworks/vnet${n}/subnets/subnet${n}`;
  return {
    subscriptionId: INSTANCE_SUBSCRIPTION,
    instances: [
      {
        name: 'testinstance',
        resourceGroup: 'testrg',
        location: 'japaneast',
        skuName: 'GP_Gen4',
        family: 'Gen4',
        vCores: 8,
        storageSizeInGB: 1024,
        dnsZone: '1b4e2caff2530',
        administratorLogin: 'dummylogin',
        subnetId: subnet(1),
        tags: { key: 'value' },
      },
      {
        name: 'testinstance1',
        resourceGroup: 'Test1',
        location: 'japaneast',
        skuName: 'GP_Gen4',
        family: 'Gen4',
        vCores: 8,
        storageSizeInGB: 1024,
        subnetId: subnet(1),
      },
      {
        name: 'testinstance2',
        resourceGroup: 'Test1',
        location: 'japaneast',
        skuName: 'BC_Gen5',
        tier: 'BusinessCritical',
        vCores: 16,
        storageSizeInGB: 1024,
        licenseType: 'Full',
        subnetId: subnet(2),
      },
    ],
    throttling: { enabled: false },
  };
}

/** sqlcrudtest-4645 in sqlcrudtest-7398, the instance of the ManagedInstanceOperations examples. */
export function operationsWorld(): WorldSpecInput {
  return {
    subscriptionId: GROUP_SUBSCRIPTION,
    instances: [
      { name: 'sqlcrudtest-4645', resourceGroup: 'sqlcrudtest-7398', location: 'japaneast', family: 'Gen4', vCores: 8 },
    ],
    throttling: { enabled: false },
  };
}

/** An emulator on a clock that moves only when the test says, so answers while an operation runs are read, not raced. */
export interface SpecEmulator {
  emulator: Emulator;
  clock: ManualClock;
}

export async function startSpecEmulator(world: WorldSpecInput): Promise<SpecEmulator> {
  const clock = new ManualClock();
  return { emulator: await startEmulator({ world, clock }), clock };
}

/** An ARM answer: status, headers and the parsed body (undefined when there is none). */
export interface ArmAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** One raw ARM request, with the bearer token and the api-version the example names. */
export async function armRequest(
  base: string,
  method: string,
  pathOrUrl: string,
  apiVersion?: string,
  body?: unknown,
): Promise<ArmAnswer> {
  const url = new URL(pathOrUrl, base);
  if (apiVersion) url.searchParams.set('api-version', apiVersion);
  const response = await fetch(url, {
    method,
    headers: {
      authorization: BEARER,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text.trim() === '' ? undefined : JSON.parse(text),
  };
}

/** The names in every page of an ARM list, following `nextLink` as ARM's pageable lists require. */
export async function namesInAllPages(base: string, first: ArmAnswer): Promise<string[]> {
  const names: string[] = [];
  let page: ArmAnswer | undefined = first;
  while (page) {
    const body = page.body as { value: { name: string }[]; nextLink?: string };
    names.push(...body.value.map((item) => item.name));
    page = body.nextLink ? await armRequest(base, 'GET', body.nextLink) : undefined;
  }
  return names;
}

/**
 * Follows an operation's Location until it stops answering 202, moving the world's clock a minute per poll: however long
 * the emulator makes the operation (seeding, a role switch), the test waits for what it observes.
 */
export async function settle({ emulator, clock }: SpecEmulator, location: string): Promise<ArmAnswer> {
  for (let poll = 0; poll < 24 * 60; poll++) {
    const answer = await armRequest(emulator.armEndpoint, 'GET', location);
    if (answer.status !== 202) return answer;
    clock.advance(60_000);
  }
  assert.fail(`${location} still answered 202 after a simulated day`);
}

/** The path of a failover group as the InstanceFailoverGroup* examples' parameters name it. */
export function groupPath(parameters: Record<string, unknown>, action = ''): string {
  const { subscriptionId, resourceGroupName, locationName, failoverGroupName } = parameters as Record<string, string>;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.Sql/locations/${encodeURIComponent(locationName!)}/instanceFailoverGroups/${failoverGroupName}${action}`;
}

/** The path of a managed instance as the ManagedInstance* examples' parameters name it. */
export function instancePath(parameters: Record<string, unknown>, rest = ''): string {
  const { subscriptionId, resourceGroupName, managedInstanceName } = parameters as Record<string, string>;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.Sql/managedInstances/${managedInstanceName}${rest}`;
}

/** The value at a dotted path with indexes (`properties.partnerRegions[0].location`). */
export function valueAt(body: unknown, at: string): unknown {
  return at
    .split(/\.|(?=\[)/)
    .reduce<unknown>(
      (value, key) =>
        value === undefined || value === null
          ? undefined
          : key.startsWith('[')
            ? (value as unknown[])[Number(key.slice(1, -1))]
            : (value as Record<string, unknown>)[key],
      body,
    );
}
