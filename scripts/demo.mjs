#!/usr/bin/env node
// `npm run demo`: set up what is missing, build, then run the demo (a DR drill against the emulator on a
// Temporal dev server). Arguments go to the demo (e.g. `npm run demo -- --json`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup } from './setup.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
setup({ quiet: true });
// Always build: a dist/ left from older sources would demo old code.
const built = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
const demo = spawnSync(process.execPath, [path.join(root, 'dist', 'src', 'demo.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(demo.status ?? 1);
