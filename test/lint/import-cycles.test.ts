import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { importCycles, relativeImportGraph } from '../support/import-graph';
import { repoRoot } from '../support/repo';

describe('import cycles', () => {
  const planted = mkdtempSync(path.join(tmpdir(), 'fogpilot-cycles-'));
  after(() => rmSync(planted, { recursive: true, force: true }));
  const plant = (name: string, text: string) => writeFileSync(path.join(planted, name), text);

  it('finds a cycle planted through an import, a re-export and an index module, and nothing in the acyclic rest', () => {
    plant('a.ts', "import { b } from './b';\nexport const a = b;\n");
    plant('b.ts', "export { c as b } from './c';\n");
    mkdirSync(path.join(planted, 'c'));
    plant('c/index.ts', "import type { a } from '../a';\nexport const c = 1;\nexport type A = typeof a;\n");
    plant('leaf.ts', "import { a } from './a';\nexport const leaf = a;\n");
    plant('self.ts', "import * as self from './self';\nexport const me = self;\n");

    const cycles = importCycles(relativeImportGraph(planted)).map((cycle) =>
      cycle.map((file) => path.relative(planted, file)),
    );

    assert.deepEqual(cycles.sort(), [['a.ts', 'b.ts', path.join('c', 'index.ts')], ['self.ts']]);
  });

  it('src has no import cycle', () => {
    const src = path.join(repoRoot, 'src');
    const cycles = importCycles(relativeImportGraph(src)).map((cycle) =>
      cycle.map((file) => path.relative(src, file)).join(' <-> '),
    );
    assert.deepEqual(cycles, [], `these src files import one another:\n${cycles.join('\n')}`);
  });
});
