/**
 * Scaling a managed instance as Azure does it, through raw ARM requests and SQL against a started emulator: durations
 * by tier and data size ("Overview of Azure SQL Managed Instance management operations"), Azure's refusals
 * (ManagedInstances.json PATCH error list), and where Azure does not refuse, the consequence: a geo-secondary smaller
 * than its primary falls behind under write load. The world's clock moves only when a test says.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sql from 'mssql';
import { startEmulator, type Emulator } from '../../src/emulator';
import { emulatorAdapters } from '../../src/emulator/adapters';
import { ManualClock } from '../../src/emulator/clock';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';

const clock = new ManualClock();
let emulator: Emulator;

const TIMINGS = { vCoreScaleSeconds: 1800, storageScaleSeconds: 240, businessCriticalSeedingGBPerHour: 220 };

function sizingWorld(): WorldSpecInput {
  const instance = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    resourceGroup: 'rg-size',
    location: 'eastus',
    ...extra,
  });
  return {
    instances: [
      instance('gp-one'),
      instance('gp-two'),
      instance('bc-empty', { tier: 'BusinessCritical', skuName: 'BC_Gen5' }),
      instance('bc-full', { tier: 'BusinessCritical', skuName: 'BC_Gen5', storageUsedInGB: 440 }),
      instance('gp-used', { storageUsedInGB: 200 }),
    ],
    timings: TIMINGS,
    throttling: { enabled: false },
  };
}

/** The default pair, the secondary with `secondaryVCores`; commits cost an undersized secondary 100 ms each. */
function pairWorld(secondaryVCores: number): WorldSpecInput {
  const spec = defaultWorldSpec();
  spec.instances[0]!.vCores = 16;
  spec.instances[1]!.vCores = secondaryVCores;
  spec.groups![0]!.databases = [{ name: 'sales', lagMs: 500 }];
  return { ...spec, timings: { undersizedSecondaryRedoMsPerCommit: 100 }, throttling: { enabled: false } };
}

before(async () => {
  emulator = await startEmulator({ world: sizingWorld(), clock });
});
after(async () => emulator?.close());

/** What these tests read of ARM's answers: an operations list, or an error. */
interface ArmBody {
  value?: {
    properties: {
      startTime: string;
      estimatedCompletionTime: string;
      operationSteps: { stepsList: { name: string }[] };
    };
  }[];
  error?: { code: string; message: string };
}

const arm = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${emulator.armEndpoint}${path}`, {
    method,
    headers: { Authorization: 'Bearer fogpilot-emulator-token', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as ArmBody };
};
const instancePath = (name: string) =>
  `/subscriptions/${emulator.world.spec.subscriptionId}/resourceGroups/rg-size/providers/Microsoft.Sql/managedInstances/${name}`;
const patch = (name: string, body: unknown) =>
  arm('PATCH', `${instancePath(name)}?api-version=2022-08-01-preview`, body);

/** How long the instance's newest operation is to take, from its startTime to its estimatedCompletionTime. */
async function durationMinutes(name: string): Promise<number> {
  const { body } = await arm('GET', `${instancePath(name)}/operations?api-version=2020-11-01-preview`);
  const properties = body.value![0]!.properties;
  return (Date.parse(properties.estimatedCompletionTime) - Date.parse(properties.startTime)) / 60_000;
}

describe('scaling durations', () => {
  it('takes vCoreScaleSeconds for a General Purpose compute change, less for storage only, and reseeds Business Critical data at 220 GB/h', async () => {
    emulator.world.load(sizingWorld());
    assert.equal((await patch('gp-one', { properties: { vCores: 16 } })).status, 202);
    assert.equal((await patch('gp-two', { properties: { storageSizeInGB: 512 } })).status, 202);
    assert.equal((await patch('bc-empty', { properties: { vCores: 16 } })).status, 202);
    assert.equal((await patch('bc-full', { properties: { vCores: 16 } })).status, 202);
    assert.equal(await durationMinutes('gp-one'), 30);
    assert.equal(await durationMinutes('gp-two'), 4);
    assert.equal(await durationMinutes('bc-empty'), 30, 'no data: nothing to reseed');
    assert.equal(await durationMinutes('bc-full'), 30 + 120, '440 GB at 220 GB/h: two more hours');
    const { body } = await arm('GET', `${instancePath('bc-full')}/operations?api-version=2020-11-01-preview`);
    const steps = body.value![0]!.properties.operationSteps.stepsList.map((step) => step.name);
    assert.ok(steps.includes('Seeding database files'), `steps: ${steps.join(', ')}`);
  });
});

describe("Azure's scaling refusals", () => {
  it('refuses vCores outside the hardware family, storage not a multiple of 32 GB or below what is used, and a move to Gen4', async () => {
    emulator.world.load(sizingWorld());
    const refusals: [string, unknown, number, string][] = [
      ['gp-one', { properties: { vCores: 96 } }, 405, 'InvalidVcoreValue'],
      ['gp-one', { properties: { vCores: 12 } }, 405, 'InvalidVcoreValue'],
      ['gp-one', { properties: { storageSizeInGB: 100 } }, 405, 'InvalidStorageSizeValue'],
      [
        'gp-used',
        { properties: { storageSizeInGB: 160 } },
        400,
        'ManagedInstanceInvalidStorageSizeLessThenCurrentSizeUsed',
      ],
      ['gp-one', { sku: { name: 'GP_Gen4' } }, 400, 'ManagedInstanceDeprecatedHardwareFamily'],
    ];
    for (const [name, body, status, code] of refusals) {
      const answer = await patch(name, body);
      assert.deepEqual([answer.status, answer.body.error?.code], [status, code], JSON.stringify(body));
    }
    const used = await patch('gp-used', { properties: { storageSizeInGB: 160 } });
    assert.match(
      used.body.error?.message ?? '',
      /Storage size limit \(160 GB\) is less that current storage used \(200 GB\)/,
    );
    assert.equal((await patch('gp-one', { properties: { vCores: 96 }, sku: { name: 'GP_G8IM' } })).status, 202);
    const busy = await patch('gp-one', { properties: { vCores: 8 } });
    assert.deepEqual([busy.status, busy.body.error?.code], [409, 'ConflictingManagedInstanceOperation']);
  });
});

describe('an undersized geo-secondary', { concurrency: 1 }, () => {
  // An emulator per pair world: the TDS endpoints of a world exist once an emulator has started with it.
  let pair: Emulator;
  const pairClock = new ManualClock();
  after(async () => pair?.close());
  const startPair = async (secondaryVCores: number) => {
    await pair?.close();
    pair = await startEmulator({ world: pairWorld(secondaryVCores), clock: pairClock });
  };

  /** Writes `count` commits to sales on the primary, one every 100 simulated ms; returns the primary's reported lag. */
  async function writeAndReadLag(count: number): Promise<{ lag: number[] }> {
    const line = pair.startLine();
    const primary = line.sql.instances.find((instance) => instance.name === 'fog-sales-eastus')!;
    const pool = await new sql.ConnectionPool({
      server: primary.host,
      port: primary.port,
      user: line.sql.login.user,
      password: line.sql.login.password,
      database: 'sales',
      options: { encrypt: false, trustServerCertificate: true },
    }).connect();
    const lag: number[] = [];
    try {
      for (let i = 1; i <= count; i++) {
        await pool.request().query(`INSERT INTO dbo.fogpilot_workload (payload) VALUES ('w${i}')`);
        pairClock.advance(100);
        if (i % 40 === 0) {
          const rows = await pool
            .request()
            .query<{ replication_lag_sec: number }>(
              'SELECT replication_lag_sec FROM sys.dm_geo_replication_link_status',
            );
          lag.push(rows.recordset[0]!.replication_lag_sec);
        }
      }
    } finally {
      await pool.close();
    }
    return { lag };
  }

  /** Runs sp_wait_for_database_copy_sync through fogpilot's data plane, moving the clock; the simulated ms it waited. */
  async function copySyncWaitMs(): Promise<number> {
    const { dataPlane } = emulatorAdapters(pair);
    const primary = pair.startLine().instances.find((instance) => instance.name === 'fog-sales-eastus')!;
    const target = { instanceId: primary.id, host: primary.fullyQualifiedDomainName };
    try {
      const [link] = await dataPlane.listReplicationLinks(target);
      let done = false;
      const wait = dataPlane.waitForCopySync(target, link!, { timeoutInMs: 20_000 }).finally(() => (done = true));
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, 15));
        if (!done) pairClock.advance(250);
      }
      await wait;
      const waited = pair.world.events.filter((event) => event.kind === 'copy-sync-waited').at(-1)!;
      return waited.detail!.waitedMs as number;
    } finally {
      await dataPlane.close();
    }
  }

  it('falls behind under write load: its lag grows with every commit, in the DMV and in the copy-sync wait, where one as large as its primary keeps up', async () => {
    await startPair(16);
    const even = await writeAndReadLag(80);
    assert.deepEqual(even.lag, [0, 0], 'as large as its primary: the link lag only');
    assert.ok((await copySyncWaitMs()) <= 1_000);

    await startPair(4);
    const { lag } = await writeAndReadLag(80);
    assert.ok(lag[0]! >= 2, `lag after 40 commits: ${lag[0]} s`);
    assert.ok(lag[1]! > lag[0]!, `the lag grows: ${lag.join(' s → ')} s`);
    // 80 commits at 300 ms each of redo (100 ms × (16/4 − 1)) end 24.5 s after the first; 8 s have passed.
    const waited = await copySyncWaitMs();
    assert.ok(waited >= 15_000, `sp_wait_for_database_copy_sync waited ${waited} simulated ms`);
  });
});
