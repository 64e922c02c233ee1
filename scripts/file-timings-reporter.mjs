// A `node --test` reporter that writes how long each test file ran, from the moment the runner started it to the
// moment it completed, as one JSON object (path relative to the working directory → seconds), slowest first: the
// shape of test/file-timings.json, which `npm test` reads to start the slowest files first. Used beside the default
// reporter: `FOGPILOT_TEST_TIMINGS=/tmp/timings.json npm test`, then copy the file over test/file-timings.json.
import path from 'node:path';

export default async function* fileTimings(source) {
  const started = new Map();
  const seconds = [];
  for await (const event of source) {
    const { file, name } = event.data ?? {};
    // The runner reports each file as a test named by its path; tests inside a file carry their own names.
    if (!file || path.resolve(String(name)) !== file) continue;
    if (event.type === 'test:dequeue') started.set(file, Date.now());
    if (event.type === 'test:complete' && started.has(file)) {
      seconds.push([path.relative(process.cwd(), file), Math.round((Date.now() - started.get(file)) / 100) / 10]);
    }
  }
  seconds.sort((a, b) => b[1] - a[1]);
  yield `${JSON.stringify(Object.fromEntries(seconds), null, 2)}\n`;
}
