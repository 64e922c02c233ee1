/**
 * Preloaded into a child process (`node --require <this file>`, through NODE_OPTIONS) to tell a test whether the
 * command could already be stopped when it printed its start line: at the first stdout write it writes the number of
 * SIGTERM listeners to the file named by FOGPILOT_TEST_STOP_READINESS_OUT. Not for importing from a test.
 */
import { writeFileSync } from 'node:fs';

/** The environment variable naming the file the count is written to. */
export const STOP_READINESS_OUT = 'FOGPILOT_TEST_STOP_READINESS_OUT';

const out = process.env[STOP_READINESS_OUT];
if (out) {
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  let recorded = false;
  process.stdout.write = (...args: unknown[]) => {
    if (!recorded) {
      recorded = true;
      writeFileSync(out, String(process.listenerCount('SIGTERM')));
    }
    return write(...args);
  };
}
