/**
 * The emulator with an ARM client fogpilot does not use: Azure's Python SDK (azure-mgmt-sql 4.0.0 on azure-core, its
 * own api-version 2025-01-01), over HTTPS with a bearer token and the emulator's CA, from the project's Python venv
 * (installed by `npm test` / .ci/run). arm_client.py reads the managed-instance group; arm_client_sql_database.py fails
 * the SQL Database server failover group over and back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type Emulator } from '../../src/emulator';
import { removeTempFile, writeTempFile } from '../support/temp-files';
import { repoRoot } from '../support/temporal';

const python = path.join(repoRoot, '.tools', 'bin', 'python');
const haveSdk =
  existsSync(python) && spawnSync(python, ['-c', 'import azure.mgmt.sql'], { stdio: 'ignore' }).status === 0;
const script = path.join(repoRoot, 'test', 'emulator', 'arm_client.py');
const sqlDatabaseScript = path.join(repoRoot, 'test', 'emulator', 'arm_client_sql_database.py');

/** What arm_client_sql_database.py prints of the group at one server. */
interface GroupView {
  name: string;
  replicationRole: string;
  partnerServers: { id: string; location: string; replicationRole: string }[];
  databases: string[];
}

let emulator: Emulator;
let caFile: string;
before(async () => {
  emulator = await startEmulator({ speed: 10, tls: true });
  caFile = writeTempFile('ca.pem', emulator.startLine().tls!.ca, 'fogpilot-ca-');
});
after(async () => {
  await emulator?.close();
  if (caFile) removeTempFile(caFile);
});

describe(
  "another ARM client (Azure's Python SDK) against the emulator",
  { skip: !haveSdk && 'azure-mgmt-sql is not installed in .tools (npm test installs it)' },
  () => {
    it('lists and gets the failover group and gets a managed instance over HTTPS with a bearer token, and parses the 404 of a missing group', async () => {
      const line = emulator.startLine();
      const group = line.groups[0]!;
      const primary = line.instances.find((instance) => instance.location === group.primaryLocation)!;
      const args = {
        endpoint: line.armEndpoint,
        token: line.armToken,
        caFile,
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        location: group.primaryLocation,
        group: group.name,
        instance: primary.name,
      };
      const { stdout } = await promisify(execFile)(python, [script, JSON.stringify(args)], { timeout: 60_000 });
      const result = JSON.parse(stdout) as {
        groups: string[];
        group: { name: string; replicationRole: string; primary: string };
        instance: { name: string; fqdn: string; state: string };
        missing: { status: number; code: string };
      };
      assert.deepEqual(result.groups, [group.name]);
      assert.equal(result.group.name, group.name);
      assert.equal(result.group.replicationRole, 'Primary');
      assert.equal(result.group.primary.toLowerCase(), primary.id.toLowerCase());
      assert.deepEqual(result.instance, { name: primary.name, fqdn: primary.fullyQualifiedDomainName, state: 'Ready' });
      assert.deepEqual(result.missing, { status: 404, code: 'ResourceNotFound' });
    });

    it('fails the SQL Database server failover group over at the secondary and back with tryPlannedBeforeForcedFailover, following each poller, and gets the refusal of a failover at the primary', async () => {
      const line = emulator.startLine();
      const group = line.sqlDatabaseGroups.find((entry) => entry.name === 'fog-orders')!;
      const [east, west] = [group.primaryServer, group.partnerServers[0]!];
      const state = emulator.world.sqlFailoverGroups.get(`sqldb/${group.subscriptionId}/${group.name}`.toLowerCase())!;
      const switchesBefore = state.switches ?? 0;
      const counters = () => ({
        received: 0,
        accepted: 0,
        refused: 0,
        ...emulator.world.failoverCounters.get(state.key),
      });
      const countersBefore = counters();
      const eventsBefore = emulator.world.events.length;
      const args = {
        endpoint: line.armEndpoint,
        token: line.armToken,
        caFile,
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        group: group.name,
        primaryServer: east,
        secondaryServer: west,
      };
      const { stdout } = await promisify(execFile)(python, [sqlDatabaseScript, JSON.stringify(args)], {
        timeout: 120_000,
      });
      const result = JSON.parse(stdout) as {
        groups: string[];
        before: Record<string, GroupView>;
        failover: GroupView;
        afterFailover: Record<string, GroupView>;
        tryPlanned: GroupView;
        afterTryPlanned: Record<string, GroupView>;
        refusal: { status: number; code: string } | null;
        afterRefusal: Record<string, GroupView>;
      };
      const serverId = (name: string) =>
        `/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}/providers/Microsoft.Sql/servers/${name}`;
      const members = [...group.databases].sort();
      /** The group at `at` with `at` in `role` and its one partner in the other. */
      const seen = (at: string, role: 'Primary' | 'Secondary'): GroupView => {
        const partner = at === east ? west : east;
        return {
          name: group.name,
          replicationRole: role,
          partnerServers: [
            {
              id: serverId(partner),
              location: partner === east ? 'East US' : 'West US',
              replicationRole: role === 'Primary' ? 'Secondary' : 'Primary',
            },
          ],
          databases: members,
        };
      };
      const eastPrimary = { [east]: seen(east, 'Primary'), [west]: seen(west, 'Secondary') };
      const westPrimary = { [east]: seen(east, 'Secondary'), [west]: seen(west, 'Primary') };

      assert.deepEqual(result.groups, [group.name]);
      assert.deepEqual(result.before, eastPrimary);
      // The poller's final answer is the group at the server the action was POSTed to, now its primary.
      assert.deepEqual(result.failover, seen(west, 'Primary'));
      assert.deepEqual(result.afterFailover, westPrimary);
      assert.deepEqual(result.tryPlanned, seen(east, 'Primary'));
      assert.deepEqual(result.afterTryPlanned, eastPrimary);
      assert.deepEqual(result.refusal, { status: 400, code: 'FailoverGroupFailoverRequestOnPrimary' });
      assert.deepEqual(result.afterRefusal, eastPrimary);
      // The world saw three failovers asked for, two accepted and one refused, and two planned role switches that
      // lost nothing (the way back ran its planned part: the primary's region answered).
      assert.equal(state.switches, switchesBefore + 2);
      assert.equal(state.primaryServerId.toLowerCase(), serverId(east).toLowerCase());
      const after = counters();
      assert.deepEqual(
        [
          after.received - countersBefore.received,
          after.accepted - countersBefore.accepted,
          after.refused - countersBefore.refused,
        ],
        [3, 2, 1],
      );
      const switched = emulator.world.events
        .slice(eventsBefore)
        .filter((event) => event.kind === 'roles-switched' && event.group === group.name)
        .map((event) => [event.instance, event.detail]);
      assert.deepEqual(switched, [
        [west, { kind: 'planned', primaryLocation: 'westus', lostCommits: {} }],
        [east, { kind: 'planned', primaryLocation: 'eastus', lostCommits: {} }],
      ]);
    });
  },
);
