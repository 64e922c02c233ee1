/**
 * Liveness heartbeats for activities that have no progress of their own to report. A worker that dies (SIGKILL, a lost
 * node) never reports its activities' failure: Temporal notices only when a timeout passes. With a short heartbeat
 * timeout on the preset and these heartbeats, that is seconds after the worker died, whatever the activity's
 * start-to-close; and a read that waits for the subscription's ARM budget or a slow answer keeps heartbeating meanwhile,
 * so a long wait on a live worker is never mistaken for a lost one.
 */
import { Context } from '@temporalio/activity';

/** How often a kept-alive activity heartbeats: well under the presets' 5-second heartbeat timeout. */
export const KEEP_ALIVE_INTERVAL_MS = 1_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- activities take any arguments
type ActivityFunction = (...args: any[]) => Promise<unknown>;

export interface KeepAliveOptions<Name extends string> {
  /** Heartbeat period. Default {@link KEEP_ALIVE_INTERVAL_MS}. */
  intervalMs?: number;
  /**
   * Activities that heartbeat themselves, with details a retried attempt resumes from: a liveness heartbeat (without
   * details) would replace those details, so these are left as they are.
   */
  except: readonly Name[];
}

function heartbeatTimeoutOf(context: Context): number {
  return context.info.heartbeatTimeoutMs ?? 0;
}

/**
 * Runs `work` heartbeating every `intervalMs` when it runs as an activity attempt with a heartbeat timeout; otherwise
 * (no timeout, a direct call, the CLI) just runs it. The first heartbeat comes one interval after the start: a read
 * that answers sooner costs no heartbeat request, and the heartbeat timeout counts from the start until then.
 */
export async function withKeepAlive<T>(work: () => Promise<T>, intervalMs = KEEP_ALIVE_INTERVAL_MS): Promise<T> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    context = undefined;
  }
  if (!context || heartbeatTimeoutOf(context) <= 0) return work();
  const current = context;
  const heartbeats = setInterval(() => current.heartbeat(), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(heartbeats);
  }
}

/**
 * The same activities, each kept alive by {@link withKeepAlive} except those named in `except`. Registered once by
 * `createActivities`, so every activity a preset gives a heartbeat timeout heartbeats within it.
 */
export function keptAlive<A extends Record<string, ActivityFunction>>(
  activities: A,
  options: KeepAliveOptions<Extract<keyof A, string>>,
): A {
  const skip = new Set<string>(options.except);
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = skip.has(name)
      ? activity
      : // A named function expression keeps the activity's name on the wrapper (worker logs and stack traces).
        {
          [name]: (...args: unknown[]) => withKeepAlive(() => activity(...args), options.intervalMs),
        }[name]!;
  }
  return wrapped as A;
}
