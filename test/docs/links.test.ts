import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RunbookTypes } from '../../src/workflows/definitions';
import {
  anchorsOf,
  brokenLinks,
  brokenLinksIn,
  describeBrokenLinks,
  documentationFiles,
  githubSlug,
} from '../support/markdown-links';
import { repoRoot } from '../support/temporal';

describe('the documentation', () => {
  it('has no relative link, in README, CONTRIBUTING, TROUBLESHOOTING or docs/, to a missing file or heading', () => {
    const files = documentationFiles(repoRoot);
    for (const file of ['README.md', 'CONTRIBUTING.md', 'TROUBLESHOOTING.md', 'docs/runbooks/README.md']) {
      assert.ok(files.includes(path.normalize(file)), `${file} is missing from the documentation`);
    }
    const broken = brokenLinks(repoRoot, files);
    assert.deepEqual(broken, [], `Broken links; fix the target or the heading:\n${describeBrokenLinks(broken)}`);
  });

  it('has a page under docs/runbooks for every runbook type', () => {
    const missing = Object.values(RunbookTypes).filter(
      (type) => !existsSync(path.join(repoRoot, 'docs', 'runbooks', `${type}.md`)),
    );
    assert.deepEqual(missing, [], `Write docs/runbooks/<type>.md for: ${missing.join(', ')}`);
  });

  it('keeps the README under 20 KB', () => {
    const { size } = statSync(path.join(repoRoot, 'README.md'));
    assert.ok(size < 20 * 1024, `README.md is ${size} bytes; move detail into docs/ and link it`);
  });
});

describe('the link checker', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'fogpilot-links-'));
    mkdirSync(path.join(root, 'docs'));
    writeFileSync(
      path.join(root, 'docs', 'guide.md'),
      '# Guide\n\n## Reading a group’s `status` (ARM)\n\n## Steps\n\n## Steps\n\n<a id="custom"></a>\n',
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const check = (markdown: string) => brokenLinksIn(root, 'README.md', markdown);

  it('reports a link to a file that does not exist, with its line and target', () => {
    const broken = check('# Title\n\nSee [the guide](docs/guide.md) and [the missing page](docs/missing.md).\n');
    assert.deepEqual(broken, [
      {
        file: 'README.md',
        line: 3,
        target: 'docs/missing.md',
        problem: `${path.join('docs', 'missing.md')} does not exist`,
      },
    ]);
  });

  it('reports an anchor that no heading of the target file has, and accepts the ones it has', () => {
    const broken = check(
      [
        '[a](docs/guide.md#reading-a-groups-status-arm)',
        '[b](docs/guide.md#steps-1)',
        '[c](docs/guide.md#custom)',
        '[d](docs/guide.md#no-such-heading)',
        '[e](#title)',
        '[f](#nowhere)',
        '# Title',
      ].join('\n'),
    );
    assert.deepEqual(
      broken.map((link) => link.target),
      ['docs/guide.md#no-such-heading', '#nowhere'],
    );
  });

  it('ignores links in code blocks and code spans, and links with a scheme', () => {
    const broken = check(
      [
        '```sh',
        '# not a heading; [not a link](nowhere.md)',
        '```',
        'A code span: `[x](nowhere.md)`; a URL: [Temporal](https://temporal.io); [mail](mailto:a@example.com).',
      ].join('\n'),
    );
    assert.deepEqual(broken, []);
  });

  it('reports a link that leaves the repository', () => {
    const broken = check('[up](../outside.md)\n');
    assert.equal(broken.length, 1);
    assert.match(broken[0]!.problem, /outside the repository/);
  });

  it('gives headings the anchors GitHub gives them', () => {
    assert.equal(githubSlug('Azure permissions (least privilege)'), 'azure-permissions-least-privilege');
    assert.equal(
      githubSlug('readinessCheck: is the group ready to fail over, and would anything be left behind?'),
      'readinesscheck-is-the-group-ready-to-fail-over-and-would-anything-be-left-behind',
    );
    assert.equal(githubSlug('The `fogpilot` CLI'), 'the-fogpilot-cli');
    assert.equal(githubSlug('[Runbooks](docs/runbooks/README.md) and more'), 'runbooks-and-more');
    assert.deepEqual([...anchorsOf('## A\n\n## A\n\n```\n# B\n```\n')], ['a', 'a-1']);
  });
});
