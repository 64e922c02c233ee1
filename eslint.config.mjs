// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no worker/activity/client SDK.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);
const workflowForbiddenImports = [
  ...nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not available in workflow code.' })),
  { name: '@temporalio/activity', message: 'Activity code does not run in workflows.', allowTypeImports: true },
  { name: '@temporalio/worker', message: 'Worker code does not run in workflows.', allowTypeImports: true },
  { name: '@temporalio/client', message: 'Client code does not run in workflows.', allowTypeImports: true },
];
// Code that does I/O (activities, Azure and SQL clients, the emulator, drivers, the logger) reaches workflow code as
// types only: a value import would pull it into the workflow bundle and the sandbox.
const ioLayerMessage =
  'Workflow code may import this as types only (`import type`); call it through an activity, or move the pure value to src/domain.';
const workflowForbiddenPatterns = [
  { regex: '^(\\.\\.?/)+(activities|azure|sql|emulator)(/.*)?$', message: ioLayerMessage, allowTypeImports: true },
  { regex: '^(mssql|pino|@azure/[^/]+)(/.*)?$', message: ioLayerMessage, allowTypeImports: true },
];

const noEnums = { selector: 'TSEnumDeclaration', message: 'Use `as const` objects instead of enums.' };
const fogpilotVariableRead = {
  selector: 'MemberExpression[property.name=/^FOGPILOT_/], MemberExpression[property.value=/^FOGPILOT_/]',
  message:
    "Read fogpilot's environment variables with fogpilotVariable() from src/config/environment, which lists them.",
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'eslint.config.mjs', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', noEnums],
    },
  },
  {
    // One list of the variables fogpilot reads: src/config/environment holds it, and every read goes through it.
    files: ['src/**/*.ts'],
    ignores: ['src/config/environment.ts'],
    rules: { 'no-restricted-syntax': ['error', noEnums, fogpilotVariableRead] },
  },
  {
    // Everything the workflow bundle holds: src/workflows and the pure src/domain it imports.
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: workflowForbiddenImports, patterns: workflowForbiddenPatterns },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // node:test's describe/it return promises the runner tracks itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  prettier,
);
