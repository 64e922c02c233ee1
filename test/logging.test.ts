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
