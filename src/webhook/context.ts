/** What the `/v1/runbooks` handlers share: the fogpilot client, the deadline for each Temporal call, and UI links. */
import type { FogpilotClient } from '../client';
import type { Principal } from '../config/access';
import type { FogpilotConfig } from '../config/config';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who sent the request: the caller whose credential it presented. Set on every `/v1` request before its route
     * runs (a request that does not authenticate never reaches one).
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
  /** fogpilot.yaml: its `access` section (absent: read-only runbooks and dry runs only) and its inventory. */
  config: FogpilotConfig;
}
