/**
 * Shapes of ARM JSON bodies, for comparing the emulator's answers with the REST specification's examples: the set of
 * property paths and the JSON type of each, where values that belong to one world (names, ids, dates, URLs) count by
 * their format only. Arrays contribute the union of their items' paths under `name[]`.
 */
import assert from 'node:assert/strict';

/** A JSON type, refined by format for the strings whose value is world-specific. */
export type JsonKind =
  'string' | 'arm-id' | 'date-time' | 'uuid' | 'url' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';

/** A body's shape: property path (`properties.partnerRegions[].location`) → kind. */
export type Shape = Record<string, JsonKind>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The kind of one JSON value. */
export function kindOf(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      if (value.startsWith('/subscriptions/')) return 'arm-id';
      if (/^https?:\/\//.test(value)) return 'url';
      if (DATE_TIME.test(value)) return 'date-time';
      if (UUID.test(value)) return 'uuid';
      return 'string';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    default:
      return 'object';
  }
}

/** The shape of a JSON body (every path, containers included). */
export function shapeOf(body: unknown, at = '', into: Shape = {}): Shape {
  const kind = kindOf(body);
  if (at) {
    const seen = into[at];
    // Items of one array may disagree (a number that happens to be whole); the wider kind wins.
    into[at] = seen === 'number' || (seen === 'integer' && kind === 'number') ? 'number' : kind;
  }
  if (kind === 'array') for (const item of body as unknown[]) shapeOf(item, `${at}[]`, into);
  else if (kind === 'object') {
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      shapeOf(value, at ? `${at}.${key}` : key, into);
    }
  }
  return into;
}

/** Paths the emulator knowingly answers differently from an example, each with the reason (cite the source). */
export interface ShapeAllowances {
  /** Paths of the example the emulator does not answer (a prefix covers the paths under it). */
  absent?: Record<string, string>;
  /** Paths the emulator answers that the example lacks (a prefix covers the paths under it). */
  extra?: Record<string, string>;
}

/** How an answer's shape differs from the expected one, allowances aside. */
export interface ShapeDifference {
  missing: string[];
  extra: string[];
  mismatched: string[];
}

const covered = (path: string, allowed: Record<string, string> | undefined) =>
  Object.keys(allowed ?? {}).some(
    (prefix) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`),
  );

/** Compares the shape of `actual` with `expected`; integers pass where the example has a number. */
export function shapeDifference(actual: unknown, given: Shape, allowances: ShapeAllowances = {}): ShapeDifference {
  const answered = shapeOf(actual);
  // A shape written by hand may leave out `list[]` where it names `list[].field`: the items are objects.
  const expected: Shape = { ...given };
  for (const path of Object.keys(given)) {
    for (let at = path.indexOf('[].'); at >= 0; at = path.indexOf('[].', at + 1)) {
      expected[path.slice(0, at + 2)] ??= 'object';
    }
  }
  const missing = Object.keys(expected).filter((path) => !(path in answered) && !covered(path, allowances.absent));
  const extra = Object.keys(answered).filter((path) => !(path in expected) && !covered(path, allowances.extra));
  const mismatched = Object.keys(expected)
    .filter((path) => path in answered)
    .filter(
      (path) => !(answered[path] === expected[path] || (expected[path] === 'number' && answered[path] === 'integer')),
    )
    .map((path) => `${path}: the example has ${expected[path]}, the emulator answered ${answered[path]}`);
  return { missing, extra, mismatched };
}

/** Asserts that `actual` has the expected shape, naming every path that differs. */
export function assertShape(actual: unknown, expected: Shape, source: string, allowances: ShapeAllowances = {}): void {
  const difference = shapeDifference(actual, expected, allowances);
  assert.deepEqual(
    difference,
    { missing: [], extra: [], mismatched: [] },
    `The emulator's body differs in shape from ${source}:\n${JSON.stringify(difference, null, 2)}\nbody: ${JSON.stringify(actual)}`,
  );
}

/**
 * The shape of an async-operation URL (Location, Azure-AsyncOperation) with the world-specific segments replaced:
 * `/subscriptions/{}/providers/Microsoft.Sql/locations/{}/instanceFailoverGroupOperationResults/{}?api-version`.
 */
export function asyncUrlShape(url: string): string {
  const { pathname, searchParams } = new URL(url);
  const segments = pathname.split('/').filter(Boolean);
  const shaped = segments.map((segment, index) => {
    const before = segments[index - 1]?.toLowerCase();
    if (before === 'subscriptions' || before === 'locations' || index === segments.length - 1) return '{}';
    return segment;
  });
  return `/${shaped.join('/')}${searchParams.has('api-version') ? '?api-version' : ''}`;
}
