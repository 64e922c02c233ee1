import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/repo';

/**
 * The fidelity tables of docs/EMULATOR.md name, in their `test` column, the tests that compare the emulator with its
 * sources. A renamed or deleted test would leave a row claiming evidence that no longer exists, so this file reads the
 * tables and checks every name against the test files.
 *
 * A test cell is a `;`-separated list. An entry that starts with a code span naming a file (`` `test/x.test.ts`: ``)
 * switches to that file; the text after the colon, and every later entry up to the next file, is a test name. A name
 * ending in `…` is a prefix of the real name; any other name must be the whole title.
 */

const FIDELITY_HEADING = /^## Fidelity\b/;
const FILE_ENTRY = /^`([^`]+\.test\.ts)`:\s*(.*)$/;

/** A test a fidelity row names, where the row is. */
interface NamedTest {
  line: number;
  file: string;
  name: string;
}

/** The cells of one Markdown table row, `\|` read as a literal bar. */
function cellsOf(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/**
 * The named tests of every table in the fidelity section (from its `##` heading to the next), with the problems met
 * while reading them: a row whose test cell names no test, or an entry before any file.
 */
export function namedTests(markdown: string): { tests: NamedTest[]; problems: string[]; rows: number } {
  const tests: NamedTest[] = [];
  const problems: string[] = [];
  let rows = 0;
  let inSection = false;
  let testColumn: number | undefined;
  const lines = markdown.split(/\r?\n/);
  lines.forEach((text, index) => {
    const line = index + 1;
    if (/^## /.test(text)) inSection = FIDELITY_HEADING.test(text);
    if (!inSection) return;
    if (!text.trim().startsWith('|')) {
      testColumn = undefined;
      return;
    }
    const cells = cellsOf(text);
    if (testColumn === undefined) {
      testColumn = cells.findIndex((cell) => cell === 'test');
      if (testColumn < 0) problems.push(`line ${line}: a fidelity table without a "test" column`);
      return;
    }
    if (cells.every((cell) => /^:?-+:?$/.test(cell)) || testColumn < 0) return;
    rows += 1;
    const cell = cells[testColumn] ?? '';
    let file: string | undefined;
    let named = 0;
    for (const entry of cell.split(';').map((part) => part.trim())) {
      if (entry === '') continue;
      const fileEntry = FILE_ENTRY.exec(entry);
      if (fileEntry) file = fileEntry[1];
      const name = fileEntry ? (fileEntry[2] ?? '') : entry;
      if (file === undefined) {
        problems.push(`line ${line}: "${entry}" comes before any \`test/….test.ts\`: naming its file`);
        continue;
      }
      if (name === '') {
        problems.push(`line ${line}: ${file} is named without a test name after the colon`);
        continue;
      }
      tests.push({ line, file, name });
      named += 1;
    }
    if (named === 0) problems.push(`line ${line}: the row names no test ("${cell}")`);
  });
  return { tests, problems, rows };
}

const QUOTES = [`'`, `"`, '`'];

/** Whether `source` has a string literal that is `name` (or, for a name ending in `…`, starts with it). */
function hasTitle(source: string, name: string): boolean {
  const prefix = name.endsWith('…') || name.endsWith('...');
  const text = name.replace(/(…|\.\.\.)$/, '').trimEnd();
  return QUOTES.some((quote) => {
    const escaped = quote === `'` ? text.replace(/'/g, `\\'`) : text;
    return prefix ? source.includes(quote + escaped) : source.includes(quote + escaped + quote);
  });
}

/** Every named test of `markdown` whose file does not exist under `root` or does not hold that title. */
export function driftOf(root: string, markdown: string): { problems: string[]; rows: number; tests: number } {
  const { tests, problems, rows } = namedTests(markdown);
  const sources = new Map<string, string | undefined>();
  for (const { line, file, name } of tests) {
    if (!sources.has(file)) {
      const full = path.join(root, file);
      sources.set(file, existsSync(full) ? readFileSync(full, 'utf8') : undefined);
    }
    const source = sources.get(file);
    if (source === undefined) problems.push(`line ${line}: ${file} does not exist`);
    else if (!hasTitle(source, name)) problems.push(`line ${line}: ${file} has no test named "${name}"`);
  }
  return { problems, rows, tests: tests.length };
}

describe('the fidelity table of docs/EMULATOR.md', () => {
  it('names only tests that exist, in files that exist, with their exact names', () => {
    const markdown = readFileSync(path.join(repoRoot, 'docs', 'EMULATOR.md'), 'utf8');
    const { problems, rows, tests } = driftOf(repoRoot, markdown);
    // A section renamed or reformatted would otherwise check nothing and pass.
    assert.ok(rows >= 40 && tests >= rows, `read only ${rows} rows and ${tests} test names from the fidelity section`);
    assert.deepEqual(problems, [], `Fix the test cells of docs/EMULATOR.md:\n${problems.join('\n')}`);
  });
});

describe('the fidelity-table checker', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'fogpilot-fidelity-'));
    mkdirSync(path.join(root, 'test'));
    writeFileSync(
      path.join(root, 'test', 'a.test.ts'),
      "it('answers 201 and seeds by size', () => {});\nit('refuses a group that isn\\'t empty', () => {});\n",
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const table = (testCell: string) =>
    [
      '## Fidelity: what the emulator does as Azure does',
      '',
      '| behaviour | source | test | knowingly simplified |',
      '| --- | --- | --- | --- |',
      `| b | s | ${testCell} | — |`,
      '',
      '## Next',
      '',
      '| behaviour | source | test | knowingly simplified |',
      '| --- | --- | --- | --- |',
      '| outside the section | s | `test/missing.test.ts`: anything | — |',
    ].join('\n');

  it('accepts exact names, names ending in … as prefixes, and later names of the same file', () => {
    const check = driftOf(root, table("`test/a.test.ts`: answers 201 and seeds by size; refuses a group that isn't…"));
    assert.deepEqual(check, { problems: [], rows: 1, tests: 2 });
  });

  it('reports a wrong name, a name cut short without …, and a missing file, with their lines', () => {
    const check = driftOf(
      root,
      table('`test/a.test.ts`: answers 202 at once; answers 201 and seeds; `test/gone.test.ts`: anything'),
    );
    assert.deepEqual(check.problems, [
      'line 5: test/a.test.ts has no test named "answers 202 at once"',
      'line 5: test/a.test.ts has no test named "answers 201 and seeds"',
      'line 5: test/gone.test.ts does not exist',
    ]);
  });

  it('reports a row that names no test, or a name before any file', () => {
    assert.deepEqual(driftOf(root, table('—')).problems, [
      'line 5: "—" comes before any `test/….test.ts`: naming its file',
      'line 5: the row names no test ("—")',
    ]);
  });
});
