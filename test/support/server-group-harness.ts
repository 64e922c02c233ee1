/**
 * One SQL Database server failover group in a scripted world, for runbook tests on the time-skipping server: the real
 * activities over {@link ScriptedServerGroups} (ARM) and {@link ScriptedServerData} (SQL), the group in the inventory
 * with `kind: sqlDatabase` and its servers, and starters for any runbook type.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { MUTATING_ACTIVITIES } from '../../src/activities';
import { lockWorkflowId } from '../../src/domain/group-ref';
import { runbookStarters, type StartedWorkflows } from './runbook-harness';
import { ScriptedAzure } from './scripted-azure';
import { ScriptedServerGroups, type ScriptedServerGroupSpec } from './scripted-server-groups';
import { ScriptedServerData, dataPlaneByKind } from './scripted-server-data';
import { Inventory, testServerWatchClock, uniqueTaskQueue } from './temporal';

let counter = 0;

export interface ServerGroupScenarioOptions {
  /** The group's servers, the primary first (default: eastus and westus). */
  servers?: { name: string; location: string }[];
  databases?: string[];
  pools?: Record<string, string[]>;
  /** The api-version the script answers as (default 2025-01-01, which has tryPlannedBeforeForcedFailover). */
  apiVersion?: string;
}

export function serverGroupScenario(
  env: TestWorkflowEnvironment,
  started: StartedWorkflows,
  options: ServerGroupScenarioOptions = {},
  configure?: (groups: ScriptedServerGroups, sql: ScriptedServerData) => void,
) {
  const name = `fog-sqldb${++counter}`;
  const spec: ScriptedServerGroupSpec = {
    name,
    servers: options.servers ?? [
      { name: `${name}-eus`, location: 'eastus' },
      { name: `${name}-wus`, location: 'westus' },
    ],
    databases: options.databases ?? ['orders', 'billing'],
    ...(options.pools ? { pools: options.pools } : {}),
  };
  const clock = () => env.currentTimeMs();
  // The Managed Instance script answers nothing here; it is the data plane of targets that are not SQL Database's.
  const azure = new ScriptedAzure({ clock, groupName: `${name}-unused` });
  const groups = new ScriptedServerGroups({
    clock,
    groups: [spec],
    ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}),
  });
  const sql = new ScriptedServerData(groups, clock);
  configure?.(groups, sql);
  const coordinates = groups.coordinates(name);
  const inventory = new Inventory({ [name]: coordinates });
  const called: string[] = [];
  const taskQueue = uniqueTaskQueue();
  const deps = {
    controlPlane: azure,
    dataPlane: dataPlaneByKind(azure, sql),
    serverGroupPlane: groups,
    inventory,
    watchClock: testServerWatchClock(env),
  };
  const lockId = lockWorkflowId(coordinates);
  return {
    name,
    groups,
    sql,
    called,
    taskQueue,
    lockId,
    coordinates,
    deps,
    ...runbookStarters(env, started, { name, taskQueue, lockId, deps, called }),
    assertNothingChanged(): void {
      for (const mutating of MUTATING_ACTIVITIES)
        assert.ok(!called.includes(mutating), `${mutating} must not be called`);
      assert.equal(groups.acceptedFailovers.length, 0, 'no failover may be posted');
      assert.equal(groups.scaleRequests.length, 0, 'no scale may be requested');
    },
  };
}
