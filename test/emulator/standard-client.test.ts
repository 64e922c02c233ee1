/**
 * The emulator with a standard SQL Server client that is not the driver fogpilot uses: pymssql, built on FreeTDS, from
 * the project's Python venv (installed by `npm test` / .ci/run).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type Emulator } from '../../src/emulator';
import { repoRoot } from '../support/temporal';

const python = path.join(repoRoot, '.tools', 'bin', 'python');
const havePymssql = existsSync(python) && spawnSync(python, ['-c', 'import pymssql'], { stdio: 'ignore' }).status === 0;
const script = path.join(repoRoot, 'test', 'emulator', 'standard_client.py');

let emulator: Emulator;
let secure: Emulator;
before(async () => {
  [emulator, secure] = await Promise.all([startEmulator({ speed: 10 }), startEmulator({ speed: 10, tls: true })]);
});
after(async () => {
  await emulator?.close();
  await secure?.close();
});

/** Runs standard_client.py against an emulator's eastus instance; its answers as JSON. */
async function runClient(target: Emulator): Promise<Record<string, unknown>> {
  const line = target.startLine();
  const primary = line.sql.instances.find((instance) => instance.name === 'fog-sales-eastus')!;
  const endpoint = {
    host: primary.host,
    port: primary.port,
    user: line.sql.login.user,
    password: line.sql.login.password,
    partner: 'fog-sales-westus',
  };
  const { stdout } = await promisify(execFile)(python, [script, JSON.stringify(endpoint)], { timeout: 30_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe(
  'a standard SQL Server client against the emulator',
  { skip: !havePymssql && 'pymssql is not installed in .tools (npm test installs it)' },
  () => {
    it('connects with the printed login, queries the views, writes, commits, rolls back, waits for copy sync and gets SQL errors', async () => {
      const result = await runClient(emulator);
      assert.deepEqual(result.databases, ['inventory', 'sales']);
      assert.equal(result.updateability, 'READ_WRITE');
      assert.deepEqual(result.link, ['fog-sales-westus', 'PRIMARY', 'CATCH_UP']);
      assert.equal(result.inserted, 1);
      assert.equal(result.count, 1);
      assert.equal(result.rolledBack, 0, 'a rolled-back insert leaves no row');
      assert.equal(result.error, 208);
    });

    it('connects to the emulator with TLS on: FreeTDS offers ENCRYPT_OFF by default, is answered REQ as Azure answers, and runs TLS inside PRELOGIN', async () => {
      const handshakes = () => [...secure.tds.values()].reduce((sum, server) => sum + server.requests.tlsHandshakes, 0);
      const before = handshakes();
      const result = await runClient(secure);
      assert.deepEqual(result.databases, ['inventory', 'sales']);
      assert.equal(result.inserted, 1);
      assert.equal(result.error, 208);
      assert.ok(handshakes() > before, 'FreeTDS ran a TLS handshake inside TDS');
    });
  },
);
