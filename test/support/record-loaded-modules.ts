/**
 * Preloaded into a child process (`node --require <this file>`, e.g. through NODE_OPTIONS) to tell a test which
 * CommonJS modules the process loaded: at exit it writes the absolute paths, as a JSON array, to the file named by
 * FOGPILOT_TEST_LOADED_MODULES_OUT. Not for importing from a test.
 */
import { writeFileSync } from 'node:fs';

/** The environment variable naming the file the list is written to. */
export const LOADED_MODULES_OUT = 'FOGPILOT_TEST_LOADED_MODULES_OUT';

const out = process.env[LOADED_MODULES_OUT];
if (out) {
  // require.cache holds every module loaded by require(), and those import() loads from CommonJS files as well.
  process.on('exit', () => writeFileSync(out, JSON.stringify(Object.keys(require.cache))));
}
