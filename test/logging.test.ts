/**
 * The log format: pretty (pino-pretty, synchronous, in this thread) when lines go to a terminal, JSON otherwise,
 * `FOGPILOT_LOG_FORMAT` to choose; secrets redacted in both. The pretty cases need the `pino-pretty` dependency.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError } from '../src/config/config';
import { createLogger, logFormatFromEnvironment, logLevelFromEnvironment } from '../src/runtime';
import { fogpilot } from './cli/fogpilot-cli';
import { forgetSecretsForTests, registerSecret } from '../src/secrets';

const SECRET = 'Emulator-only-5ecret!';

/** A destination that keeps what it is given as text; `isTTY` makes it look like a terminal to the logger. */
function textSink(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let text = '';
  const stream: Writable & { isTTY?: boolean } = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  if (isTTY) stream.isTTY = true;
  return { stream, text: () => text };
}

/** Lets the stream pipeline run until `text` holds `expected` (a bounded number of turns, not a clock). */
async function settled(text: () => string, expected: string): Promise<string> {
  for (let turn = 0; turn < 200 && !text().includes(expected); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return text();
}

function isJsonLines(text: string): boolean {
  const lines = text.split('\n').filter(Boolean);
  return (
    lines.length > 0 &&
    lines.every((line) => {
      try {
        return typeof JSON.parse(line) === 'object';
      } catch {
        return false;
      }
    })
  );
}

function logOneOfEach(logger: ReturnType<typeof createLogger>): void {
  logger.info({ sql: { user: 'fogpilot', password: SECRET }, group: 'fog-sales' }, 'connecting to fog-sales-eastus');
  logger.warn({ token: SECRET }, 'second line');
}

/** Five levels down, under names that are not secret-like until the last one. */
const deeplyNested = (secret: string) => ({
  run: { step: { attempt: { connection: { sqlPassword: secret, host: 'fog-sales-eastus' } } } },
});

describe('secret redaction', () => {
  const HELD = 'held-by-the-worker-6f1c2e9a';
  const AZURE = 'azure-client-secret-Qz8~x.Yw';

  for (const format of ['json', 'pretty'] as const) {
    it(`${format}: a secret-named field five levels deep, and the value of a held secret inside a message or any field, are redacted`, async () => {
      forgetSecretsForTests();
      registerSecret(HELD);
      const sink = textSink(false);
      const logger = createLogger({ destination: sink.stream, format, env: { AZURE_CLIENT_SECRET: AZURE } });
      logger.info(deeplyNested('nested-password-value'), 'deep field');
      logger.warn({ detail: { said: `the server answered "${HELD}"` } }, `login failed for ${HELD} (azure ${AZURE})`);
      logger.child({ caller: 'pager' }).error(new Error(`upstream echoed ${HELD}`), 'child line');
      const text = await settled(sink.text, 'child line');
      assert.ok(text.includes('deep field') && text.includes('child line'), text);
      for (const secret of ['nested-password-value', HELD, AZURE]) {
        assert.ok(!text.includes(secret), `${secret} is not in the ${format} output:\n${text}`);
      }
      assert.ok(text.includes('fog-sales-eastus'), 'what is not secret stays');
      assert.ok(text.includes('login failed for [redacted]'), `the placeholder stands in the message:\n${text}`);
      if (format === 'json') {
        const first = JSON.parse(text.split('\n')[0]!) as ReturnType<typeof deeplyNested>;
        assert.equal(first.run.step.attempt.connection.sqlPassword, '[redacted]');
      }
    });
  }

  it('redacts a held secret that contains quotes and backslashes, as it appears escaped in a JSON line', () => {
    forgetSecretsForTests();
    const quoted = 'pa"ss\\word-with-quotes';
    registerSecret(quoted);
    const sink = textSink(false);
    createLogger({ destination: sink.stream, format: 'json', env: {} }).info({ said: quoted }, 'quoted');
    const line = JSON.parse(sink.text()) as { said: string };
    assert.equal(line.said, '[redacted]');
  });

  it('logs an object with a cycle and one nested deeper than the walk goes, without throwing and without the secret', () => {
    forgetSecretsForTests();
    const sink = textSink(false);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { password: 'bottom-of-the-well-secret' };
    for (let level = 0; level < 40; level++) deep = { down: deep };
    createLogger({ destination: sink.stream, format: 'json', env: {} }).info({ cyclic, deep }, 'shapes');
    const text = sink.text();
    assert.ok(text.includes('shapes'), text);
    assert.ok(!text.includes('bottom-of-the-well-secret'), text);
  });

  it('positive control: without the scan, the planted secret would be in the line', () => {
    forgetSecretsForTests();
    const sink = textSink(false);
    createLogger({ destination: sink.stream, format: 'json', env: {} }).info(`planted ${'x'.repeat(3)}-${HELD}`);
    assert.ok(sink.text().includes(HELD), 'an unregistered value is logged as it is: the scan is what removes it');
    registerSecret(HELD);
    const after = textSink(false);
    createLogger({ destination: after.stream, format: 'json', env: {} }).info(`planted xxx-${HELD}`);
    assert.ok(!after.text().includes(HELD) && after.text().includes('planted xxx-[redacted]'), after.text());
  });
});

describe('log format', () => {
  it('pretty: readable lines with the message and the redaction placeholder, no JSON and no secret', async () => {
    const sink = textSink(false);
    logOneOfEach(createLogger({ destination: sink.stream, format: 'pretty', env: {} }));
    const text = await settled(sink.text, 'second line');
    assert.ok(text.includes('connecting to fog-sales-eastus'), text);
    assert.ok(text.includes('second line'), text);
    assert.ok(text.includes('[redacted]'), `the placeholder stands where the password was:\n${text}`);
    assert.ok(!text.includes(SECRET), `no secret in a pretty line:\n${text}`);
    assert.ok(text.includes('fogpilot'), 'what is not secret stays');
    assert.ok(!isJsonLines(text), `pretty output is not JSON lines:\n${text}`);
    assert.match(text, /INFO/);
    assert.match(text, /WARN/);
  });

  it('json: one JSON object per line, secrets redacted, even on a terminal when FOGPILOT_LOG_FORMAT=json', () => {
    const sink = textSink(true);
    logOneOfEach(createLogger({ destination: sink.stream, env: { FOGPILOT_LOG_FORMAT: 'json' } }));
    const text = sink.text();
    const lines = text.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, text);
    assert.ok(isJsonLines(text), text);
    assert.ok(text.endsWith('\n'));
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(first!.msg, 'connecting to fog-sales-eastus');
    assert.deepEqual(first!.sql, { user: 'fogpilot', password: '[redacted]' });
    assert.equal(second!.token, '[redacted]');
    assert.ok(!text.includes(SECRET));
  });

  it('by default: pretty on a terminal, JSON anywhere else; FOGPILOT_LOG_FORMAT=pretty wins over a pipe', async () => {
    const terminal = textSink(true);
    createLogger({ destination: terminal.stream, env: {} }).info('on a terminal');
    assert.ok(!isJsonLines(await settled(terminal.text, 'on a terminal')), terminal.text());

    const pipe = textSink(false);
    createLogger({ destination: pipe.stream, env: {} }).info('into a pipe');
    assert.ok(isJsonLines(pipe.text()), pipe.text());

    const forced = textSink(false);
    createLogger({ destination: forced.stream, env: { FOGPILOT_LOG_FORMAT: 'Pretty' } }).info('forced');
    assert.ok(!isJsonLines(await settled(forced.text, 'forced')), forced.text());
    assert.ok(!forced.text().includes('\u001b['), 'no colour codes when the destination is not a terminal');
  });

  it('reads FOGPILOT_LOG_FORMAT and FOGPILOT_LOG_LEVEL, and names the variable when a value is wrong', () => {
    assert.equal(logFormatFromEnvironment({}), undefined);
    assert.equal(logFormatFromEnvironment({ FOGPILOT_LOG_FORMAT: 'auto' }), undefined);
    assert.equal(logFormatFromEnvironment({ FOGPILOT_LOG_FORMAT: ' JSON ' }), 'json');
    assert.equal(logFormatFromEnvironment({ FOGPILOT_LOG_FORMAT: 'pretty' }), 'pretty');
    assert.throws(
      () => logFormatFromEnvironment({ FOGPILOT_LOG_FORMAT: 'yaml' }),
      (error: unknown) =>
        error instanceof ConfigError && /FOGPILOT_LOG_FORMAT must be json, pretty or auto.*"yaml"/.test(error.message),
    );
    assert.equal(logLevelFromEnvironment({}), 'info');
    assert.equal(logLevelFromEnvironment({ FOGPILOT_LOG_LEVEL: 'DEBUG' }), 'debug');
    assert.throws(
      () => createLogger({ destination: textSink(false).stream, env: { FOGPILOT_LOG_LEVEL: 'verbose' } }),
      (error: unknown) =>
        error instanceof ConfigError && /FOGPILOT_LOG_LEVEL must be one of .*"verbose"/.test(error.message),
    );
  });

  it('a process that exits right after a pretty line has written it (the pretty stream is synchronous)', async () => {
    const runtime = path.join(__dirname, '..', 'src', 'runtime.js');
    const script =
      `const logger = require(${JSON.stringify(runtime)}).createLogger();` +
      `logger.info({ password: ${JSON.stringify(SECRET)} }, 'last words'); process.exit(0);`;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', script],
        { env: { ...process.env, FOGPILOT_LOG_FORMAT: 'pretty', FOGPILOT_LOG_LEVEL: 'info' }, timeout: 30_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      );
    });
    assert.ok(stdout.includes('last words'), stdout);
    assert.ok(stdout.includes('[redacted]') && !stdout.includes(SECRET), stdout);
    assert.ok(!isJsonLines(stdout), stdout);
  });

  it('fogpilot worker refuses a wrong FOGPILOT_LOG_FORMAT with exit 2, naming the variable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fogpilot-logging-'));
    const config = path.join(dir, 'fogpilot.yaml');
    writeFileSync(config, 'inventory: {}\n');
    const run = await fogpilot(['worker'], { FOGPILOT_CONFIG: config, FOGPILOT_LOG_FORMAT: 'yaml' }, 30_000);
    assert.equal(run.code, 2, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /FOGPILOT_LOG_FORMAT must be json, pretty or auto/);
  });
});
