#!/usr/bin/env node
// `npm test`: set up what is missing, build, lint, then run the whole suite with Node's test runner.
// Extra arguments go to `node --test` (e.g. `npm test -- --test-name-pattern=failback`).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup } from './setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

setup();
step('npm', ['run', '--silent', 'build']);
if (!process.env.FOGPILOT_SKIP_LINT) step('npm', ['run', '--silent', 'lint']);
// Test files wait on servers and timers more than they compute: two at a time keep two cores busy. Three were faster
// (CI run 14: 860 s of tests) but starved watch-groups' hours of simulated looks past its timeout (run 15). Each file
// has its own Temporal test server, so files never share time skipping.
const concurrency = process.env.FOGPILOT_TEST_CONCURRENCY ?? '2';
// Only the test files: handed a directory, node would also run every helper and fixture module under test/ as a test.
// The slowest start first (seconds per file from a recorded run, test/file-timings.json): with two at a time, a long
// file started last would run alone at the end. A file the record does not know yet counts as slow.
const timings = JSON.parse(readFileSync(path.join(root, 'test', 'file-timings.json'), 'utf8'));
const UNKNOWN_FILE_SECONDS = 60;
const testFiles = readdirSync(path.join(root, 'dist', 'test'), { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.test.js'))
  .map((file) => path.join('dist', 'test', file))
  .sort((a, b) => (timings[b] ?? UNKNOWN_FILE_SECONDS) - (timings[a] ?? UNKNOWN_FILE_SECONDS) || a.localeCompare(b));
// FOGPILOT_TEST_TIMINGS=<file>: also write this run's seconds per file there, in the shape of test/file-timings.json.
// Not `node --test`: it sorts its files by name. Extra arguments (`--test-name-pattern=<re>`) go to the runner.
step(process.execPath, [
  path.join(root, 'scripts', 'run-tests.mjs'),
  `--concurrency=${concurrency}`,
  ...(process.env.FOGPILOT_TEST_TIMINGS ? [`--timings=${process.env.FOGPILOT_TEST_TIMINGS}`] : []),
  ...process.argv.slice(2),
  ...testFiles,
]);
