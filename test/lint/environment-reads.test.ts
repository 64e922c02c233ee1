import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lintAs, messagesOf } from '../support/lint';

const RULE = 'no-restricted-syntax';
const readsOf = async (file: string, text: string) =>
  messagesOf(RULE, await lintAs(file, text)).filter((message) => /fogpilotVariable/.test(message.message));

describe("lint: fogpilot's environment variables are read through src/config/environment", () => {
  it('rejects reading a FOGPILOT_ variable from process.env or an env object anywhere else in src', async () => {
    const fired = await readsOf(
      'src/runtime.ts',
      'export const level = process.env.FOGPILOT_LOG_LEVEL;\n' +
        "export const port = (env: NodeJS.ProcessEnv) => env['FOGPILOT_METRICS_PORT'];\n",
    );
    assert.deepEqual(
      fired.map((message) => message.line),
      [1, 2],
    );
  });

  it('accepts the same reads through fogpilotVariable, and inside the module that lists the variables', async () => {
    assert.deepEqual(
      await readsOf(
        'src/runtime.ts',
        "import { fogpilotVariable } from './config/environment';\n" +
          "export const level = fogpilotVariable('FOGPILOT_LOG_LEVEL');\n",
      ),
      [],
    );
    assert.deepEqual(
      await readsOf('src/config/environment.ts', 'export const level = process.env.FOGPILOT_LOG_LEVEL;\n'),
      [],
    );
  });
});
