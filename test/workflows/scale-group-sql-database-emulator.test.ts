/**
 * scaleGroup on the emulator's SQL Database group (fog-orders: `orders` standalone, `payments` and `ledger` in
 * `orders-pool`, on fog-orders-eastus primary and fog-orders-westus), end to end on the time-skipping server with the
 * real activities (ArmServerGroupPlane over HTTP). The emulator's event log judges the order, and the emulator itself
 * refuses a service-tier change made in the wrong order (UnableToAlterDatabaseInReplication).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Emulator } from '../../src/emulator';
import { defaultWorldSpec, type WorldSpecInput } from '../../src/emulator/world-spec';
import { lockWorkflowId, type GroupCoordinates } from '../../src/domain/group-ref';
import type { DataPlane } from '../../src/sql/data-plane';
import { scaleGroup } from '../../src/workflows';
import { endingOf } from '../support/runbook-harness';
import { emulatorFrame, emulatorWorker } from '../support/emulator-harness';
import { Inventory } from '../support/temporal';

let emulator: Emulator;

/** Sped-up real time: a 2-minute SKU change is 0.2 s here, while the workflow's timers skip. */
const SPEED = 600;
function worldSpec(): WorldSpecInput {
  return { ...defaultWorldSpec(), timings: { sqlScaleSeconds: 120 }, throttling: { enabled: false } };
}

/** scaleGroup reads and changes ARM only: any SQL call is a bug. */
const noSql = new Proxy(
  {},
  {
    get: (_target, method) => () => Promise.reject(new Error(`scaleGroup must not call SQL (${String(method)})`)),
  },
) as DataPlane;

const frame = emulatorFrame({ world: worldSpec(), speed: SPEED }, (started) => (emulator = started));

function fogOrders(): GroupCoordinates {
  return {
    subscriptionId: emulator.world.spec.subscriptionId,
    resourceGroup: 'rg-fogpilot',
    name: 'fog-orders',
    primaryLocation: 'eastus',
    secondaryLocation: 'westus',
    kind: 'sqlDatabase',
    servers: { eastus: 'fog-orders-eastus', westus: 'fog-orders-westus' },
  };
}

async function runScale(input: Record<string, unknown>) {
  const { env } = frame;
  emulator.world.load(worldSpec());
  emulator.arm.faults.remove();
  const { worker, taskQueue } = await emulatorWorker(env, emulator, {
    queuePrefix: 'scale-sqldb-emulator',
    planes: { dataPlane: noSql },
    inventory: new Inventory({ 'fog-orders': fogOrders() }),
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(scaleGroup, {
      taskQueue,
      workflowId: lockWorkflowId(fogOrders()),
      workflowIdConflictPolicy: 'FAIL',
      args: [{ group: 'fog-orders', ...input }],
    });
    return endingOf(handle);
  });
}

/** The emulator's SQL scale events, in order, as `kind server name`. */
function scaleEvents(): string[] {
  return emulator.world.events
    .filter((event) => event.kind.startsWith('sql-scale-'))
    .map((event) => `${event.kind} ${event.instance} ${String((event.detail as { name?: string } | undefined)?.name)}`);
}

describe('scaleGroup on a SQL Database group against the emulator', { concurrency: 1, timeout: 120_000 }, () => {
  it('raises a database’s service tier on the secondary server to the end before the primary, as Azure requires', async () => {
    const { report, failure } = await runScale({ databases: { orders: 'BC_Gen5_4' } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(scaleEvents(), [
      'sql-scale-requested fog-orders-westus orders',
      'sql-scale-completed fog-orders-westus orders',
      'sql-scale-requested fog-orders-eastus orders',
      'sql-scale-completed fog-orders-eastus orders',
    ]);
    assert.equal(report.scale?.direction, 'up');
    assert.deepEqual(
      report.scale?.operations.map((operation) => [operation.instance, operation.changes?.[0]?.to.name]),
      [
        ['fog-orders-westus', 'BC_Gen5'],
        ['fog-orders-eastus', 'BC_Gen5'],
      ],
    );
    assert.equal(report.armCalls.writes, 2, 'one PATCH per server');
  });

  it('shrinks the pool of the pooled databases on the primary server first, then the secondary', async () => {
    const { report, failure } = await runScale({ elasticPools: { 'orders-pool': { name: 'GP_Gen5', capacity: 2 } } });
    assert.equal(report?.outcome, 'succeeded', failure?.message);
    assert.deepEqual(scaleEvents(), [
      'sql-scale-requested fog-orders-eastus orders-pool',
      'sql-scale-completed fog-orders-eastus orders-pool',
      'sql-scale-requested fog-orders-westus orders-pool',
      'sql-scale-completed fog-orders-westus orders-pool',
    ]);
    assert.equal(report.scale?.direction, 'down');
  });
});
