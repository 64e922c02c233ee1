/** What the `/v1/runbooks` handlers share: the fogpilot client, the deadline for each Temporal call, and UI links. */
import type { FogpilotClient } from '../client';
import type { Principal } from '../config/access';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The caller the request authenticated as (its credential's name in `access.callers`), set by the trigger's
     * authentication before any route runs. Approvals and rejections carry its label, `webhook:<caller>`.
     */
    principal: Principal;
  }
}

export interface RouteContext {
  client: FogpilotClient;
  /** Runs one Temporal call with a deadline; the server's `temporalTimeoutInMs` unless `timeoutInMs` is given. */
  withDeadline<T>(fn: () => Promise<T>, timeoutInMs?: number): Promise<T>;
  /** The Temporal UI page of a workflow in the client's namespace. */
  uiUrlOf(workflowId: string): string;
}
