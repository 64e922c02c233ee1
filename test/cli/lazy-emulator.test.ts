/**
 * The emulator is loaded only by the command that runs it: the worker and the CLI's other commands start without it.
 * Each command runs as an operator would run it, with a preload that reports every module the process loaded.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startFogpilot, type CliRun, type RunningCli } from './fogpilot-cli';
import { LOADED_MODULES_OUT } from '../support/record-loaded-modules';
import { STOP_READINESS_OUT } from '../support/record-stop-readiness';
import { repoRoot } from '../support/repo';
import { writeTempFile } from '../support/temp-files';

const emulatorDir = path.join(repoRoot, 'dist', 'src', 'emulator') + path.sep;
const compiled = (file: string) => path.join(repoRoot, 'dist', 'src', file);

/** Starts `fogpilot <args>` with the module recorder preloaded; `modules()` reads the list once the command ended. */
function startRecording(args: string[], env: Record<string, string> = {}) {
  const out = writeTempFile('loaded-modules.json', '', 'fogpilot-modules-');
  const recorder = require.resolve('../support/record-loaded-modules');
  const cli: RunningCli = startFogpilot(args, {
    ...env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(recorder)}`.trim(),
    [LOADED_MODULES_OUT]: out,
  });
  const modules = async (): Promise<{ run: CliRun; loaded: string[] }> => {
    const run = await cli.ended;
    const text = readFileSync(out, 'utf8');
    assert.ok(text, `the command wrote no module list (exit ${run.code}):\n${run.stderr}`);
    return { run, loaded: JSON.parse(text) as string[] };
  };
  return { cli, modules };
}

const emulatorModules = (loaded: string[]) => loaded.filter((file) => file.startsWith(emulatorDir));

describe('loading the emulator', () => {
  it('fogpilot worker loads the worker and no emulator module', async () => {
    const missing = path.join(repoRoot, 'dist', 'no-such-fogpilot.yaml');
    assert.equal(existsSync(missing), false);
    // A config file that does not exist stops the worker right after its modules are loaded, before any connection.
    const { run, loaded } = await startRecording(['worker'], { FOGPILOT_CONFIG: missing }).modules();
    assert.match(run.stderr, /does not exist/);
    assert.ok(loaded.includes(compiled('worker.js')), 'the worker module was not loaded: nothing was checked');
    assert.deepEqual(emulatorModules(loaded), []);
  });

  it('fogpilot status, a command that is not the emulator, loads no emulator module', async () => {
    // An empty inventory refuses the group at once, after the command's action has run.
    const { run, loaded } = await startRecording(['status', 'fog-sales'], {
      FOGPILOT_CONFIG: writeTempFile('fogpilot.yaml', '{}\n'),
    }).modules();
    assert.match(run.stderr, /not in the worker's inventory/);
    assert.ok(loaded.includes(compiled('cli/commands/status.js')));
    assert.deepEqual(emulatorModules(loaded), []);
  });

  it('fogpilot emulator loads the emulator', async () => {
    const { cli, modules } = startRecording(['emulator', '--port', '0']);
    await cli.printed(/"armEndpoint"/);
    cli.kill('SIGTERM');
    const { loaded } = await modules();
    assert.ok(loaded.includes(compiled('emulator/index.js')), emulatorModules(loaded).join('\n'));
  });

  it('fogpilot emulator can be stopped by the time it prints its start line', async () => {
    const out = writeTempFile('stop-readiness.txt', '', 'fogpilot-stop-');
    const recorder = require.resolve('../support/record-stop-readiness');
    const cli = startFogpilot(['emulator', '--port', '0'], {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(recorder)}`.trim(),
      [STOP_READINESS_OUT]: out,
    });
    await cli.printed(/"armEndpoint"/);
    cli.kill('SIGTERM');
    const run = await cli.ended;
    // A SIGTERM sent on reading the line must find its handler: the emulator then closes and exits 0.
    assert.ok(Number(readFileSync(out, 'utf8')) > 0, 'no SIGTERM handler when the start line was printed');
    assert.equal(run.code, 0, run.stderr);
  });
});
