/**
 * What a workflow sees of a hook: its non-secret plan before it runs, and the redacted record of a request after.
 * Pure types and constants (no Node built-ins), so workflow code may import them.
 */

/** When a hook runs: before the runbook changes anything, or after the database switch. */
export type HookPhase = 'before' | 'after';

/**
 * What a failed hook does to the run: `stop` (before hooks, always: nothing has changed yet, so the runbook ends
 * before its first change), `warn` (after hooks, default: the report carries a warning, the run goes on) or `fail`
 * (after hooks: the run ends failed once the switch is done; the switch is not undone).
 */
export type HookFailureAction = 'stop' | 'warn' | 'fail';

export const HOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HookMethod = (typeof HOOK_METHODS)[number];

/**
 * A hook as the workflow may know it: no header values, no query string. The workflow runs it as an activity with
 * `maximumAttempts: attempts` and a start-to-close timeout a little over `timeoutMs` (the request itself is cut at
 * `timeoutMs`).
 */
export interface HookPlan {
  /** Unique within the group. */
  name: string;
  phase: HookPhase;
  method: HookMethod;
  /** Scheme, host and path, without the query string. */
  url: string;
  timeoutMs: number;
  /** Attempts in all (1 = no retry). */
  attempts: number;
  onFailure: HookFailureAction;
  /** The statuses that count as success; absent: any 2xx. */
  expectStatus?: number[];
}

/** A group's hooks, in the order they run. */
export interface HookPlans {
  before: HookPlan[];
  after: HookPlan[];
}

/** What fills a hook body's placeholders (`{{group}}`, `{{runbook}}`, …), and which phase the request runs in. */
export interface HookContext {
  /** The group's inventory name. */
  group: string;
  /** The workflow type: `plannedFailover`, `drDrill`, … */
  runbook: string;
  workflowId: string;
  phase: HookPhase;
  fromLocation?: string;
  toLocation?: string;
}

/** The placeholders a hook body may use, each filled from the {@link HookContext} field of the same name. */
export const HOOK_PLACEHOLDERS = ['group', 'runbook', 'workflowId', 'phase', 'fromLocation', 'toLocation'] as const;
export type HookPlaceholder = (typeof HOOK_PLACEHOLDERS)[number];

/**
 * One request of a hook and its answer, safe for the workflow history and the report: header values that came from the
 * environment read `[redacted]`, the URL has no query string, bodies are cut at 2 KB and the answer's excerpt has every
 * such value scrubbed.
 */
export interface HookRecord {
  name: string;
  phase: HookPhase;
  request: {
    method: HookMethod;
    url: string;
    headers: Record<string, string>;
    /** The start of the body sent (JSON, placeholders filled). */
    body?: string;
    /** The body went on past the excerpt. */
    truncated?: boolean;
  };
  /** Absent when no answer came (a timeout, a refused connection). */
  response?: {
    status: number;
    headers: { 'content-type'?: string };
    /** The start of the answer's body. */
    body: string;
    /** The body went on past the excerpt. */
    truncated?: boolean;
  };
  ok: boolean;
  durationMs: number;
  /** Why it failed, in one line a person reads. */
  error?: string;
}
