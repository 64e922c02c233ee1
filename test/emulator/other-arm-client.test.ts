/**
 * The emulator with an ARM client fogpilot does not use: Azure's Python SDK (azure-mgmt-sql 4.0.0 on azure-core, its
 * own api-version 2025-01-01), over HTTPS with a bearer token and the emulator's CA, from the project's Python venv
 * (installed by `npm test` / .ci/run).
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
  },
);
