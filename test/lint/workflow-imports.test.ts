import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Linter } from 'eslint';
import { lintAs, messagesOf } from '../support/lint';

// Planted as the workflow bundle's entry, so the text is linted as workflow code.
const lintAsWorkflow = (text: string) => lintAs('src/workflows/index.ts', text);
const restrictedImports = (messages: Linter.LintMessage[]) =>
  messagesOf('@typescript-eslint/no-restricted-imports', messages);

// Each module that does I/O, as workflow code would name it from src/workflows/index.ts.
const ioModules = ['../azure', '../azure/arm-control-plane', '../activities', '../sql/data-plane', '../emulator'];
const ioPackages = ['mssql', 'pino', '@azure/arm-sql', '@azure/identity'];

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

  // Deeper in the bundle the paths change but the rule must not: a step's helper, and a pure domain module.
  for (const [file, source] of [
    ['src/workflows/steps/group-kind.ts', '../../azure'],
    ['src/workflows/contracts/runbooks.ts', '../../sql/data-plane'],
    ['src/domain/group-ref.ts', '../activities'],
  ] as const) {
    it(`rejects a value import of ${source} from ${file}, and accepts it as a type`, async () => {
      const asValue = await lintAs(file, `import * as io from '${source}';\nexport const value = io;\n`);
      assert.equal(restrictedImports(asValue).length, 1, JSON.stringify(asValue, null, 2));
      const asType = await lintAs(file, `import type * as io from '${source}';\nexport type Io = typeof io;\n`);
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
