#!/usr/bin/env node
// Runs test files with Node's test runner in the order given: `node --test <files>` sorts its files by name, which
// would start the slowest ones last. Usage (from scripts/test.mjs):
//   node scripts/run-tests.mjs --concurrency=3 [--timings=<file>] [--test-name-pattern=<re>]… <file>…
// Writes TAP (spec on a terminal) to stdout, as `node --test` does, and with --timings each file's seconds to <file>.
// Exits 1 when a test failed.
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import fileTimings from './file-timings-reporter.mjs';

const files = [];
const testNamePatterns = [];
let concurrency = 1;
let timingsFile;
for (const argument of process.argv.slice(2)) {
  const [flag, value] = argument.split(/=(.*)/s);
  if (flag === '--concurrency') concurrency = Number(value);
  else if (flag === '--timings') timingsFile = value;
  else if (flag === '--test-name-pattern') testNamePatterns.push(value);
  else if (argument.startsWith('--')) {
    console.error(`run-tests: unknown option ${argument} (accepted: --test-name-pattern=<re>)`);
    process.exit(2);
  } else files.push(path.resolve(argument));
}

const stream = run({ files, concurrency, ...(testNamePatterns.length > 0 ? { testNamePatterns } : {}) });
// One pass over the runner's events, handed to each reporter: a stream read twice would give each only part of them.
const outputs = [{ reporter: process.stdout.isTTY ? new spec() : tap, destination: process.stdout }];
if (timingsFile) outputs.push({ reporter: fileTimings, destination: createWriteStream(timingsFile) });
const feeds = outputs.map(({ reporter, destination }) => {
  const feed = new PassThrough({ objectMode: true, highWaterMark: Number.MAX_SAFE_INTEGER });
  feed.compose(reporter).pipe(destination);
  return feed;
});
for await (const event of stream) {
  if (event.type === 'test:fail') process.exitCode = 1;
  for (const feed of feeds) feed.write(event);
}
for (const feed of feeds) feed.end();
