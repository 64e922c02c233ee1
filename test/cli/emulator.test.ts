/** `fogpilot emulator` as a user starts it: one JSON start line with everything needed to connect. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import sql from 'mssql';
import type { StartLine } from '../../src/emulator';
import { repoRoot } from '../support/temporal';

/**
 * The first of `count` consecutive ports nothing listens on now, below Linux's ephemeral range (32768 on), where the
 * kernel hands out the local ports of other tests' connections: a random base there collided with one of them.
 */
async function freePortBlock(count: number): Promise<number> {
  const bindable = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let free = true;
    for (let offset = 0; offset < count && free; offset++) free = await bindable(base + offset);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found between 20000 and 32000`);
}

async function startLineOf(args: string[]): Promise<{ line: StartLine; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fogpilot.js'), 'emulator', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  let errors = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${errors}`)));
  });
  return {
    line: JSON.parse(firstLine) as StartLine,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

describe('fogpilot emulator', () => {
  it('loads a world from a YAML file given with --world, and listens from --port on', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fogpilot-world-')), 'world.yaml');
    writeFileSync(
      file,
      [
        'instances:',
        '  - { name: orders-neu, resourceGroup: rg-orders, location: North Europe, vCores: 16 }',
        '  - { name: orders-weu, resourceGroup: rg-orders, location: westeurope, vCores: 16 }',
        'groups:',
        '  - { name: fog-orders, resourceGroup: rg-orders, primaryInstance: orders-neu, secondaryInstance: orders-weu, databases: [{ name: orders }] }',
        '',
      ].join('\n'),
    );
    const port = await freePortBlock(8);
    const { line, stop } = await startLineOf(['--world', file, '--port', String(port)]);
    try {
      assert.equal(line.armEndpoint, `http://127.0.0.1:${port}`);
      assert.deepEqual(
        line.groups.map((group) => [group.name, group.primaryLocation, group.secondaryLocation, group.databases]),
        [['fog-orders', 'northeurope', 'westeurope', ['orders']]],
      );
      assert.deepEqual(
        line.sql.instances.map((instance) => instance.port),
        [port + 1, port + 2],
      );
      assert.equal(line.sql.listeners[0]!.port, port + 3);
    } finally {
      await stop();
    }
  });

  it('refuses a world file that does not hold together, saying why, with exit code 2', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fogpilot-world-')), 'world.json');
    writeFileSync(
      file,
      JSON.stringify({
        instances: [{ name: 'a', resourceGroup: 'rg', location: 'eastus' }],
        groups: [{ name: 'g', resourceGroup: 'rg', primaryInstance: 'a', secondaryInstance: 'b' }],
      }),
    );
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fogpilot.js'), 'emulator', '--world', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(errors, /instances a and b must be in the world/);
  });

  it('prints its ARM and SQL endpoints, the group and instance ids and the SQL login, which a client can use at once', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fogpilot.js'), 'emulator', '--speed', '60'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let buffered = '';
      child.stdout.setEncoding('utf8');
      const firstLine = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          buffered += chunk;
          if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
      });
      const line = JSON.parse(firstLine) as StartLine;
      assert.match(line.armEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(line.groups.length, 1);
      assert.match(
        line.groups[0]!.id,
        /^\/subscriptions\/.+\/providers\/Microsoft\.Sql\/locations\/EastUS\/instanceFailoverGroups\/fog-sales$/,
      );
      assert.deepEqual(line.groups[0]!.databases, ['sales', 'inventory']);
      // The SQL Database server failover group beside it, as an inventory entry of kind sqlDatabase names it.
      assert.deepEqual(
        line.sqlDatabaseGroups.map((group) => [group.name, group.servers, group.databases]),
        [
          [
            'fog-orders',
            { eastus: 'fog-orders-eastus', westus: 'fog-orders-westus' },
            ['orders', 'payments', 'ledger'],
          ],
        ],
      );
      assert.match(
        line.sqlDatabaseGroups[0]!.id,
        /^\/subscriptions\/.+\/providers\/Microsoft\.Sql\/servers\/fog-orders-eastus\/failoverGroups\/fog-orders$/,
      );
      assert.equal(line.instances.length, 2);
      assert.equal(line.sql.instances.length, 2);
      assert.equal(line.sql.listeners[0]!.group, 'fog-sales');
      assert.ok(line.sql.login.user && line.sql.login.password);
      // Two instances, the read-write listener and the read-only listener; two logical servers of SQL Database and
      // their group's two listeners.
      assert.equal(Object.keys(line.sql.hosts).length, 8);

      const listener = line.sql.listeners[0]!;
      const pool = await new sql.ConnectionPool({
        server: listener.host,
        port: listener.port,
        user: line.sql.login.user,
        password: line.sql.login.password,
        options: { encrypt: false },
      }).connect();
      const { recordset } = await pool.request().query<{ server: string }>('SELECT @@SERVERNAME AS server');
      assert.equal(recordset[0]!.server, 'fog-sales-eastus', 'the listener leads to the primary');
      await pool.close();
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('serves HTTPS with --tls, printing its CA in the start line and writing it to --ca-file', async () => {
    const caFile = path.join(mkdtempSync(path.join(tmpdir(), 'fogpilot-ca-')), 'ca.pem');
    const { line, stop } = await startLineOf(['--tls', '--ca-file', caFile]);
    try {
      assert.match(line.armEndpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(readFileSync(caFile, 'utf8'), line.tls?.ca);
      const url = new URL(`${line.armEndpoint}${line.groups[0]!.id}?api-version=2022-05-01-preview`);
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(
            {
              hostname: url.hostname,
              port: url.port,
              path: url.pathname + url.search,
              ca: readFileSync(caFile, 'utf8'),
              headers: { authorization: `Bearer ${line.armToken}` },
            },
            (response) => {
              response.resume();
              resolve(response.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
      assert.equal(status, 200);
    } finally {
      await stop();
    }
  });

  it('refuses --ca-file without --tls, saying what to add, with exit code 2', async () => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot, 'bin', 'fogpilot.js'), 'emulator', '--ca-file', 'ca.pem'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 2);
    assert.match(errors, /--tls/);
  });
});
