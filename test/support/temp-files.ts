/** Throwaway files for tests: each in a directory of its own under the system's temporary directory. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Writes `text` to `<fresh temp dir>/<name>` and returns the file's path. */
export function writeTempFile(name: string, text: string, prefix = 'fogpilot-'): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), prefix)), name);
  writeFileSync(file, text);
  return file;
}

/** A fogpilot.yaml holding `text`, for `loadConfig({ path })` or `FOGPILOT_CONFIG`. */
export function writeTempConfig(text: string): string {
  return writeTempFile('fogpilot.yaml', text, 'fogpilot-config-');
}

/** Removes a file {@link writeTempFile} wrote, with its directory and whatever else a test put there. */
export function removeTempFile(file: string): void {
  rmSync(path.dirname(file), { recursive: true, force: true });
}
