/**
 * Registering fogpilot's search attributes in a namespace. A runbook that upserts an attribute the namespace does not
 * know fails its workflow task, so the worker makes sure they exist before it takes work.
 */
import { FOGPILOT_SEARCH_ATTRIBUTES } from './workflows/search-attributes';

/** The API's value of `INDEXED_VALUE_TYPE_KEYWORD`. */
const KEYWORD = 2;
/** gRPC status codes the calls below answer with. */
const ALREADY_EXISTS = 6;
const UNIMPLEMENTED = 12;

interface OperatorConnection {
  operatorService: {
    addSearchAttributes(request: { namespace: string; searchAttributes: Record<string, number> }): Promise<unknown>;
    listSearchAttributes(request: {
      namespace: string;
    }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
  };
}

export class SearchAttributesMissingError extends Error {
  override readonly name = 'SearchAttributesMissingError';
}

/**
 * Adds the attributes the namespace lacks. Where the worker may not (Temporal Cloud, a locked-down cluster), fails
 * with the command an administrator runs.
 */
export async function ensureSearchAttributes(connection: OperatorConnection, namespace: string): Promise<string[]> {
  const wanted = FOGPILOT_SEARCH_ATTRIBUTES.map((key) => key.name);
  let missing = wanted;
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    missing = wanted.filter((name) => !(name in (customAttributes ?? {})));
  } catch (error) {
    // Servers without the list call (the time-skipping test server) still take the add.
    if ((error as { code?: number }).code !== UNIMPLEMENTED) throw explain(error, namespace, wanted);
  }
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
    });
  } catch (error) {
    if ((error as { code?: number }).code === ALREADY_EXISTS) return [];
    throw explain(error, namespace, missing);
  }
  return missing;
}

function explain(error: unknown, namespace: string, names: string[]): SearchAttributesMissingError {
  const create = names.map((name) => `--name ${name} --type Keyword`).join(' ');
  return new SearchAttributesMissingError(
    `Could not register fogpilot's search attributes in namespace ${namespace} (${(error as Error).message}). ` +
      `Have an administrator run: temporal operator search-attribute create --namespace ${namespace} ${create} ` +
      '(on Temporal Cloud: tcld namespace search-attributes add), then start the worker again.',
  );
}
