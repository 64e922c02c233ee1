/**
 * Workflow ids in URLs. Ids contain slashes: they are accepted as they are (`/v1/runbooks/fogpilot/drDrill/fog-sales/INC-1`)
 * or URL-encoded as one segment, and the server writes them with each segment encoded.
 */
import { HttpError } from './errors';

export const RUNBOOKS_PATH = '/v1/runbooks/';

/** `/v1/runbooks/<id>` with each segment encoded, so ids with slashes stay readable. */
export function statusPathOf(workflowId: string): string {
  return `${RUNBOOKS_PATH}${workflowId.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The workflow id (and signal) a `/v1/runbooks/...` path names; slashes may be literal or encoded.
 *
 * @throws {HttpError} 400 `malformed-path` when a segment is not valid URL encoding.
 */
export function runbookPathOf(url: string): { id: string; segments: string[] } {
  const path = url.split('?')[0]!.slice(RUNBOOKS_PATH.length).replace(/\/$/, '');
  let segments: string[];
  try {
    segments = path.split('/').map((segment) => decodeURIComponent(segment));
  } catch {
    throw new HttpError(400, { error: 'malformed-path', message: 'The path is not valid URL encoding.' });
  }
  return { id: segments.join('/'), segments };
}
