/** ESLint with the repository's own eslint.config.mjs, for tests that show a lint rule firing on planted code. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { repoRoot } from './repo';

let eslint: ESLint | undefined;

/**
 * Lints `text` as if it were the file at `file` (relative to the repository root). The file must be one the TypeScript
 * project knows, since typed linting refuses others; its text on disk is not read. Fails when the text does not parse,
 * since a parse failure reports no rule at all and would make "the rule did not fire" meaningless.
 */
export async function lintAs(file: string, text: string): Promise<Linter.LintMessage[]> {
  eslint ??= new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(text, { filePath: path.join(repoRoot, file) });
  assert.ok(result, `ESLint returned no result for the text planted at ${file}`);
  assert.deepEqual(
    result.messages.filter((message) => message.fatal),
    [],
    `the text planted at ${file} did not parse`,
  );
  return result.messages;
}

/** The messages of one rule. */
export const messagesOf = (rule: string, messages: Linter.LintMessage[]): Linter.LintMessage[] =>
  messages.filter((message) => message.ruleId === rule);
