/**
 * The prebuilt workflow bundle: `npm run build` bundles the workflows once into `dist/workflow-bundle.js`, so a worker
 * (and each test process) starts without running webpack. Without it, workers bundle at start as before.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/** `dist/workflow-bundle.js`, next to the compiled sources. */
export const PREBUILT_BUNDLE_PATH = path.join(__dirname, '..', 'workflow-bundle.js');

export async function writeWorkflowBundle(file = PREBUILT_BUNDLE_PATH): Promise<void> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(file, bundle.code);
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
 * and a stale bundle would run old workflow code).
 */
export function prebuiltWorkflowBundle(file = PREBUILT_BUNDLE_PATH): { codePath: string } | undefined {
  if (!existsSync(file)) return undefined;
  return statSync(file).mtimeMs >= newestFileMs(__dirname) ? { codePath: file } : undefined;
}
