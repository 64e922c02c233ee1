import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config/config';
import { DEFAULT_TASK_QUEUE, taskQueueFromEnvironment, taskQueueMismatch } from '../../src/config/task-queue';
import { DrillSchedules, FogpilotClient } from '../../src/client';
import { writeTempConfig } from '../support/temp-files';

/** The queue each reader of the setting ends up with, under `env` (the process environment for the client classes). */
function queuesSeen(env: Record<string, string>): Record<string, string> {
  const saved = process.env.FOGPILOT_TASK_QUEUE;
  if (env.FOGPILOT_TASK_QUEUE === undefined) delete process.env.FOGPILOT_TASK_QUEUE;
  else process.env.FOGPILOT_TASK_QUEUE = env.FOGPILOT_TASK_QUEUE;
  try {
    // Neither class touches its Temporal client when constructed.
    const client = {} as Client;
    return {
      worker: loadConfig({ env, path: writeTempConfig('{}\n') }).temporal.taskQueue,
      environment: taskQueueFromEnvironment(env),
      client: new FogpilotClient(client).taskQueue,
      schedules: new DrillSchedules(client).taskQueue,
    };
  } finally {
    if (saved === undefined) delete process.env.FOGPILOT_TASK_QUEUE;
    else process.env.FOGPILOT_TASK_QUEUE = saved;
  }
}

describe('the task queue setting', () => {
  it('is the same queue for the worker, the client and drill schedules, whatever FOGPILOT_TASK_QUEUE holds', () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'fogpilot'],
      [{ FOGPILOT_TASK_QUEUE: 'fogpilot-drills' }, 'fogpilot-drills'],
      [{ FOGPILOT_TASK_QUEUE: '  fogpilot-drills\n' }, 'fogpilot-drills'],
      [{ FOGPILOT_TASK_QUEUE: '   ' }, DEFAULT_TASK_QUEUE],
    ];
    for (const [env, expected] of cases) {
      assert.deepEqual(
        queuesSeen(env),
        { worker: expected, environment: expected, client: expected, schedules: expected },
        JSON.stringify(env),
      );
    }
  });

  it('warns the worker whose fogpilot.yaml queue the CLI, the trigger and the client would not start runbooks on', () => {
    const env = {};
    const worker = loadConfig({ env, path: writeTempConfig('temporal:\n  taskQueue: fogpilot-prod\n') }).temporal;
    const warning = taskQueueMismatch(worker.taskQueue, env);
    assert.match(
      warning ?? '',
      /polls task queue "fogpilot-prod".*start runbooks on "fogpilot".*FOGPILOT_TASK_QUEUE=fogpilot-prod/s,
    );
    // The same queue on both sides, by the variable or by default, is no mismatch.
    assert.equal(taskQueueMismatch('fogpilot-prod', { FOGPILOT_TASK_QUEUE: 'fogpilot-prod' }), undefined);
    assert.equal(taskQueueMismatch(DEFAULT_TASK_QUEUE, {}), undefined);
  });
});
