import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root, found from this file whether it runs compiled (dist/test/support) or from source. */
export const repoRoot = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') dir = path.dirname(dir);
  return dir;
})();
