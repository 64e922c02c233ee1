/**
 * The prebuilt workflow bundles: `npm run build` bundles the workflows once into `dist/workflow-bundle.js`, so a worker
 * (and each test process) starts without running webpack. Without it, workers bundle at start as before. A second
 * bundle, `dist/workflow-bundle-encoded-failures.js`, carries the failure converter of encrypted histories
 * (src/codec/failure-converter): workers with FOGPILOT_PAYLOAD_KEYS run it, so the failures their workflows write are
 * encrypted too; workers without keys run the first, unchanged.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { ENCODED_FAILURES_CONVERTER_PATH } from './codec';

/** `dist/workflow-bundle.js`, next to the compiled sources. */
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', 'workflow-bundle.js');

/** `dist/workflow-bundle-encoded-failures.js`: the bundle for workers that encrypt (failure messages encoded). */
export const PREBUILT_ENCODED_FAILURES_BUNDLE_PATH = path.join(__dirname, '..', 'workflow-bundle-encoded-failures.js');

/** Writes both prebuilt bundles: the plain one to `file`, then the one that encodes failures. */
export async function writeWorkflowBundle(
  file = PREBUILT_BUNDLE_PATH,
  encodedFailuresFile = PREBUILT_ENCODED_FAILURES_BUNDLE_PATH,
): Promise<void> {
  const logger = new DefaultLogger('WARN');
  const workflowsPath = require.resolve('./workflows');
  writeFileSync(file, (await bundleWorkflowCode({ workflowsPath, logger })).code);
  const encoding = await bundleWorkflowCode({
    workflowsPath,
    logger,
    failureConverterPath: ENCODED_FAILURES_CONVERTER_PATH,
  });
  writeFileSync(encodedFailuresFile, encoding.code);
}

function newestFileMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestFileMs(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The prebuilt bundle when it is there and at least as new as every compiled source (a bare `tsc` leaves it stale,
 * and a stale bundle would run old workflow code). Pass PREBUILT_ENCODED_FAILURES_BUNDLE_PATH for a worker whose data
 * converter encodes failures (`encodesFailures` in src/codec).
 */
export function prebuiltWorkflowBundle(file = PREBUILT_BUNDLE_PATH): { codePath: string } | undefined {
  if (!existsSync(file)) return undefined;
  return statSync(file).mtimeMs >= newestFileMs(__dirname) ? { codePath: file } : undefined;
}
