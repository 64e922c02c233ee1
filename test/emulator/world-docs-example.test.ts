/**
 * The world files docs/EMULATOR.md shows in "A world of your own" load as written: the managed-instance example with
 * the SQL Database one beside it (`sqlServers`, `sqlFailoverGroups`) make one world.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEmulator } from '../../src/emulator';
import type { WorldSpecInput } from '../../src/emulator/world-spec';
import { repoRoot } from '../support/temporal';

/** The YAML blocks of the section, parsed, in order. */
function sectionExamples(): Record<string, unknown>[] {
  const markdown = readFileSync(path.join(repoRoot, 'docs', 'EMULATOR.md'), 'utf8');
  const start = markdown.indexOf('## A world of your own');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end);
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map(
    (match) => parseYaml(match[1]!) as Record<string, unknown>,
  );
}

describe("docs/EMULATOR.md's world examples", () => {
  it('load as one world: the instance group and the SQL Database server failover group with its pool and login', async () => {
    const examples = sectionExamples();
    assert.equal(examples.length, 2, 'the managed-instance example and the SQL Database one');
    const [instances, sqlDatabase] = examples as [Record<string, unknown>, Record<string, unknown>];
    const world = {
      ...instances,
      ...sqlDatabase,
      timings: { ...(instances.timings as object), ...(sqlDatabase.timings as object) },
    } as WorldSpecInput;
    const emulator = await startEmulator({ world });
    try {
      const line = emulator.startLine();
      assert.deepEqual(
        line.groups.map((group) => group.name),
        ['fog-sales'],
      );
      assert.deepEqual(
        line.sqlDatabaseGroups.map((group) => [group.name, group.servers, group.databases]),
        [['fog-orders', { eastus: 'fog-orders-eastus', westus: 'fog-orders-westus' }, ['orders', 'payments']]],
      );
      const westus = [...emulator.world.sqlServers.values()].find((server) => server.name === 'fog-orders-westus')!;
      assert.deepEqual(
        westus.databases.map((database) => [database.name, database.sku?.name]),
        [
          ['orders', 'GP_Gen5'],
          ['payments', 'ElasticPool'],
        ],
        'the partner holds a copy of each member, the pooled one in its pool',
      );
      assert.equal(emulator.world.timings.sqlScaleSeconds, 120);
    } finally {
      await emulator.close();
    }
  });
});
