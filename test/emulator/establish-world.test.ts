/**
 * The `establish` world, for rehearsing `establishGroup` and `reprotect`: four instances, no group, loaded by name from
 * the CLI (`fogpilot emulator --world establish`) as a world file is.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { StartLine } from '../../src/emulator';
import { repoRoot } from '../support/repo';

async function startLine(args: string[]): Promise<{ line: StartLine; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'fogpilot.js'), 'emulator', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffered = '';
  let errors = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const first = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${errors}`)));
  });
  return {
    line: JSON.parse(first) as StartLine,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

describe('the establish world', () => {
  it('loads by name from the CLI: four instances and no group, three sharing the primary-to-be’s DNS zone and centralus in its own', async () => {
    const { line, stop } = await startLine(['--world', 'establish']);
    try {
      assert.deepEqual(line.groups, []);
      const zone = (name: string) =>
        line.instances
          .find((instance) => instance.name === name)!
          .fullyQualifiedDomainName.split('.')
          .slice(1)
          .join('.');
      assert.deepEqual(
        line.instances.map((instance) => [instance.name, instance.location]),
        [
          ['fog-crm-eastus', 'eastus'],
          ['fog-crm-westus', 'westus'],
          ['fog-crm-centralus', 'centralus'],
          ['fog-crm-northeurope', 'northeurope'],
        ],
      );
      assert.equal(zone('fog-crm-westus'), zone('fog-crm-eastus'));
      assert.equal(zone('fog-crm-northeurope'), zone('fog-crm-eastus'));
      assert.notEqual(zone('fog-crm-centralus'), zone('fog-crm-eastus'));
      const response = await fetch(
        `${line.armEndpoint}${line.instances[0]!.id}/databases?api-version=2022-05-01-preview`,
        { headers: { Authorization: `Bearer ${line.armToken}` } },
      );
      const body = (await response.json()) as { value: { name: string }[] };
      assert.deepEqual(
        body.value.map((database) => database.name),
        ['crm', 'billing'],
      );
    } finally {
      await stop();
    }
  });
});
