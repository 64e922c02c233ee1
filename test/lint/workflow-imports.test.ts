import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint, type Linter } from 'eslint';
import { repoRoot } from '../support/repo';

// The planted text is linted as if it were the workflow bundle's entry, with the repository's own eslint.config.mjs.
// The file must be one the TypeScript project knows (typed linting refuses unknown files); its text on disk is not read.
const workflowFile = path.join(repoRoot, 'src', 'workflows', 'index.ts');
const RULE = '@typescript-eslint/no-restricted-imports';

// Each module that does I/O, as workflow code would name it from src/workflows/index.ts.
const ioModules = ['../azure', '../azure/arm-control-plane', '../activities', '../sql/data-plane', '../emulator'];
const ioPackages = ['mssql', 'pino', '@azure/arm-sql', '@azure/identity'];

let eslint: ESLint | undefined;
async function lintAsWorkflow(text: string): Promise<Linter.LintMessage[]> {
  eslint ??= new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(text, { filePath: workflowFile });
  assert.ok(result, 'ESLint returned no result for the planted file');
  // A parse failure reports no rule at all, which would make "the rule did not fire" meaningless.
  assert.deepEqual(
    result.messages.filter((message) => message.fatal),
    [],
    'the planted workflow file did not parse',
  );
  return result.messages;
}

const restrictedImports = (messages: Linter.LintMessage[]) => messages.filter((message) => message.ruleId === RULE);

describe('lint: workflow code imports I/O layers as types only', () => {
  it('rejects a value import of src/azure from workflow code', async () => {
    const messages = await lintAsWorkflow(
      "import { createControlPlane } from '../azure';\nexport const make = createControlPlane;\n",
    );
    const fired = restrictedImports(messages);
    assert.equal(fired.length, 1, JSON.stringify(messages, null, 2));
    assert.match(fired[0]?.message ?? '', /types only/);
  });

  it('accepts the same import of src/azure written as `import type`', async () => {
    const messages = await lintAsWorkflow(
      "import type { createControlPlane } from '../azure';\nexport type Make = typeof createControlPlane;\n",
    );
    assert.deepEqual(restrictedImports(messages), []);
  });

  for (const source of [...ioModules, ...ioPackages]) {
    it(`rejects a value import of ${source} and accepts a type import of it`, async () => {
      const asValue = await lintAsWorkflow(`import * as io from '${source}';\nexport const value = io;\n`);
      assert.equal(restrictedImports(asValue).length, 1, JSON.stringify(asValue, null, 2));
      const asType = await lintAsWorkflow(`import type * as io from '${source}';\nexport type Io = typeof io;\n`);
      assert.deepEqual(restrictedImports(asType), []);
    });
  }

  it('accepts value imports of the pure modules workflow code is built from', async () => {
    const messages = await lintAsWorkflow(
      "import { patched } from '@temporalio/workflow';\nimport * as durations from '../domain/durations';\n" +
        'export const pure = [patched, durations];\n',
    );
    assert.deepEqual(restrictedImports(messages), []);
  });
});
