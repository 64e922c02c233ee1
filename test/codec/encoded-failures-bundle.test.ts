/**
 * Workers with FOGPILOT_PAYLOAD_KEYS run the prebuilt bundle that encodes failures (dist/workflow-bundle-encoded-failures.js).
 * Switching keys on must not break runs already in the namespace: every recorded history replays on that bundle too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { ENCODED_FAILURES_CONVERTER_PATH } from '../../src/codec';
import { PREBUILT_ENCODED_FAILURES_BUNDLE_PATH, prebuiltWorkflowBundle } from '../../src/workflow-bundle';
import { installQuietRuntime, repoRoot } from '../support/temporal';

describe('the workflow bundle that encodes failures', () => {
  it('replays every recorded history without non-determinism', async () => {
    installQuietRuntime();
    const workflowBundle =
      prebuiltWorkflowBundle(PREBUILT_ENCODED_FAILURES_BUNDLE_PATH) ??
      (await bundleWorkflowCode({
        workflowsPath: require.resolve('../../src/workflows'),
        failureConverterPath: ENCODED_FAILURES_CONVERTER_PATH,
        logger: new DefaultLogger('WARN'),
      }));
    const historiesDir = path.join(repoRoot, 'test', 'histories');
    const histories = readdirSync(historiesDir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => {
        const fixture = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as {
          workflowId: string;
          history: unknown;
        };
        return { workflowId: fixture.workflowId, history: historyFromJSON(fixture.history) };
      });
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    assert.deepEqual(failures, []);
    assert.ok(replayed > 0 && replayed === histories.length, `replayed ${replayed} of ${histories.length}`);
  });
});
