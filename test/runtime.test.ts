/**
 * The worker runtime: pino with redaction, the SDK's logs routed into it with each runbook line carrying runbook,
 * group and step, and one Prometheus endpoint with the SDK's metrics and fogpilot's own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { PinoSdkLogger, createLogger, installRuntime, metricsBindAddressFromEnvironment } from '../src/runtime';
import { ensureSearchAttributes } from '../src/search-attributes';
import { freePort } from '../src/dev-server';
import { FogpilotGroup, FogpilotPhase, FogpilotRunbook } from '../src/workflows/search-attributes';
import { findTestServerBinary, workflowBundle } from './support/temporal';
import { StartedWorkflows, scriptedScenario } from './support/runbook-harness';

/** A pino destination that keeps every line, parsed. */
function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as never);
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('redacts secrets wherever they sit in a line', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ destination: stream, level: 'info', format: 'json' });
    logger.info(
      {
        sql: { user: 'fogpilot', password: 'Emulator-only-5ecret!' },
        token: 'abc',
        headers: { authorization: 'Bearer x' },
      },
      'connecting',
    );
    const text = JSON.stringify(lines);
    assert.ok(!text.includes('Emulator-only-5ecret!') && !text.includes('Bearer x') && !text.includes('"abc"'), text);
    assert.equal((lines[0]!.sql as { password: string }).password, '[redacted]');
    assert.equal((lines[0]!.sql as { user: string }).user, 'fogpilot', 'what is not secret stays');
  });

  it("maps the SDK's levels and metadata onto pino", () => {
    const { lines, stream } = capture();
    const sdk = new PinoSdkLogger(createLogger({ destination: stream, level: 'debug', format: 'json' }));
    sdk.warn('slow answer', { workflowId: 'w-1' });
    sdk.debug('detail');
    sdk.trace('dropped at debug level');
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg, line.workflowId]),
      [
        [40, 'slow answer', 'w-1'],
        [20, 'detail', undefined],
      ],
    );
  });

  it('reads the metrics port from the environment, off with 0, and names the variable when it is wrong', () => {
    assert.equal(metricsBindAddressFromEnvironment({}), '0.0.0.0:9464');
    assert.equal(metricsBindAddressFromEnvironment({ FOGPILOT_METRICS_PORT: '0' }), undefined);
    assert.equal(
      metricsBindAddressFromEnvironment({ FOGPILOT_METRICS_PORT: '9100', FOGPILOT_METRICS_HOST: '127.0.0.1' }),
      '127.0.0.1:9100',
    );
    assert.throws(
      () => metricsBindAddressFromEnvironment({ FOGPILOT_METRICS_PORT: 'ninety' }),
      /FOGPILOT_METRICS_PORT/,
    );
  });
});

describe('a worker with the fogpilot runtime', { timeout: 120_000 }, () => {
  const { lines, stream } = capture();
  let env: TestWorkflowEnvironment;
  let metricsUrl: string;
  const started = new StartedWorkflows();

  before(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    installRuntime({
      logger: createLogger({ destination: stream, level: 'info', format: 'json' }),
      metricsBindAddress: `127.0.0.1:${port}`,
    });
    const binary = findTestServerBinary();
    env = await TestWorkflowEnvironment.createTimeSkipping(
      binary ? { server: { executable: { type: 'existing-path', path: binary } } } : undefined,
    );
    await ensureSearchAttributes(env.connection, 'default');
    await workflowBundle();
  });
  after(async () => {
    await started.terminateAll(env);
    await env?.teardown();
  });

  it("logs each runbook step with runbook, group, step and workflow id, tags the run, and exports fogpilot's metrics", async () => {
    const s = scriptedScenario(env, started);
    const { report, handle } = await s.run('plannedFailover', { dryRun: true });
    assert.equal(report?.outcome, 'dry-run');
    const attributes = (await handle.describe()).typedSearchAttributes;
    assert.equal(attributes.get(FogpilotRunbook), 'plannedFailover');
    assert.equal(attributes.get(FogpilotGroup), s.name);
    assert.equal(attributes.get(FogpilotPhase), 'dry-run', 'the phase ends as the outcome');

    const stepLines = lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('Step preflight'));
    assert.ok(stepLines.length > 0, `a line for the preflight step among ${lines.length} lines`);
    assert.equal(stepLines[0]!.runbook, 'plannedFailover');
    assert.equal(stepLines[0]!.group, s.name);
    assert.equal(stepLines[0]!.step, 'preflight');
    assert.equal(stepLines[0]!.workflowId, s.lockId);

    // The SDK exports on an interval; give it a few tries.
    let body = '';
    for (let attempt = 0; attempt < 20 && !body.includes('fogpilot_runbooks'); attempt++) {
      body = await (await fetch(metricsUrl)).text();
      if (!body.includes('fogpilot_runbooks')) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.match(body, /fogpilot_runbooks_total\{[^}]*outcome="dry-run"[^}]*runbook="plannedFailover"[^}]*\} 1/);
    assert.match(body, /fogpilot_arm_requests_total\{[^}]*kind="read"[^}]*\} [1-9]/);
    assert.match(body, /fogpilot_step_duration/);
    assert.match(body, /temporal_/, "the SDK's own metrics are on the same endpoint");
  });
});
