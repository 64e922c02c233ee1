/**
 * Faults on demand. HTTP faults act on matching ARM requests (a 429 burst, 5xx answers, a reset before or after the
 * request took effect, latency, a 409); world faults change what Azure does (a failover that never completes or ends
 * Failed, a scale that ends Failed, a region that stops answering).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { normalizeLocation } from '../domain/locations';

const match = z
  .strictObject({
    /** HTTP method, e.g. `POST`. */
    method: z.string().optional(),
    /** Case-insensitive substring of the path, e.g. `instanceFailoverGroups` or `/failover`. */
    path: z.string().optional(),
    /** Region the request is about. */
    location: z.string().optional(),
  })
  .default({});

/** How many matching requests the fault hits; absent: until removed. */
const count = z.number().int().positive().optional();

export const FaultSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('throttle'),
    match,
    count,
    retryAfterSeconds: z.number().int().min(0).default(2),
    status: z.union([z.literal(429), z.literal(503)]).default(429),
  }),
  z.strictObject({
    kind: z.literal('error'),
    match,
    count,
    status: z.number().int().min(500).max(599).default(500),
    code: z.string().default('InternalServerError'),
  }),
  z.strictObject({ kind: z.literal('reset'), match, count, when: z.enum(['before', 'after']).default('before') }),
  z.strictObject({ kind: z.literal('latency'), match, count, ms: z.number().int().min(0) }),
  z.strictObject({ kind: z.literal('busy'), match, count, code: z.string().default('InstanceFailoverGroupBusy') }),
  z.strictObject({ kind: z.literal('failover-never-completes'), group: z.string() }),
  z.strictObject({
    kind: z.literal('failover-fails'),
    group: z.string(),
    code: z.string().default('PlannedFailoverTimedOut'),
    message: z
      .string()
      .default(
        'User invoked planned failover, and it timed out while trying to contact the partner management service.',
      ),
  }),
  z.strictObject({
    kind: z.literal('operation-fails'),
    instance: z.string(),
    code: z.string().default('ManagedInstanceSloUpdateFailed'),
    message: z.string().default('The scaling operation failed and was rolled back.'),
  }),
  z.strictObject({
    kind: z.literal('region-dark'),
    location: z.string(),
    hangMs: z.number().int().min(0).default(3000),
  }),
  // SQL faults; `instance` is an instance name, or `*` for every instance.
  z.strictObject({
    kind: z.literal('sql-reset-during-wait'),
    instance: z.string().default('*'),
    count: z.number().int().positive().default(1),
  }),
  z.strictObject({ kind: z.literal('sql-latency'), instance: z.string().default('*'), ms: z.number().int().min(0) }),
  z.strictObject({
    kind: z.literal('sql-login-fails'),
    instance: z.string().default('*'),
    count: z.number().int().positive().default(1),
    /** Only logins from this application (LOGIN7 AppName, e.g. `fogpilot`); absent: any client's. */
    app: z.string().min(1).optional(),
  }),
  // A misbehaving region: after the group's next forced failover its old primary keeps accepting writes (a positive
  // control for the client-side split-brain check; Azure itself never lets two primaries accept writes).
  z.strictObject({ kind: z.literal('split-brain'), group: z.string(), seconds: z.number().min(0).optional() }),
  // The workload: a VM's next backup job (on demand or scheduled) ends Failed.
  z.strictObject({
    kind: z.literal('backup-job-fails'),
    /** A virtual machine's name or id. */
    vm: z.string(),
    code: z.string().default('UserErrorGuestAgentStatusUnavailable'),
    message: z.string().default('VM Agent is unable to communicate with the Azure Backup Service.'),
  }),
  z.strictObject({ kind: z.literal('link-lost'), group: z.string(), database: z.string().optional() }),
  z.strictObject({
    kind: z.literal('lag-spike'),
    group: z.string(),
    database: z.string().optional(),
    lagMs: z.number().int().min(0),
    seconds: z.number().min(0),
  }),
]);
export type FaultSpec = z.output<typeof FaultSpecSchema>;
export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
export type HttpFaultSpec = Extract<FaultSpec, { kind: 'throttle' | 'error' | 'reset' | 'latency' | 'busy' }>;

const HTTP_FAULT_KINDS: ReadonlySet<string> = new Set(['throttle', 'error', 'reset', 'latency', 'busy']);

/** Whether the fault acts on the HTTP exchange (the ARM server's) rather than on the world's behaviour. */
export function isHttpFault(spec: FaultSpec): spec is HttpFaultSpec {
  return HTTP_FAULT_KINDS.has(spec.kind);
}

export interface HttpFault {
  id: string;
  spec: HttpFaultSpec;
  remaining?: number;
  hits: number;
}

export interface RequestFacts {
  method: string;
  path: string;
  location?: string;
}

export class HttpFaults {
  private readonly faults: HttpFault[] = [];

  add(spec: HttpFaultSpec): HttpFault {
    const fault: HttpFault = { id: randomUUID(), spec, remaining: spec.count, hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  list(): HttpFault[] {
    return [...this.faults];
  }

  remove(id?: string): void {
    if (id === undefined) this.faults.length = 0;
    else this.faults.splice(0, this.faults.length, ...this.faults.filter((fault) => fault.id !== id));
  }

  /** The faults that hit this request, consuming one use of each (at most one of each kind). */
  take(request: RequestFacts): HttpFaultSpec[] {
    const hit: HttpFaultSpec[] = [];
    const kinds = new Set<string>();
    for (const fault of this.faults) {
      if (kinds.has(fault.spec.kind) || !matches(fault.spec.match, request)) continue;
      if (fault.remaining !== undefined && fault.remaining <= 0) continue;
      if (fault.remaining !== undefined) fault.remaining -= 1;
      fault.hits += 1;
      kinds.add(fault.spec.kind);
      hit.push(fault.spec);
    }
    this.faults.splice(
      0,
      this.faults.length,
      ...this.faults.filter((fault) => fault.remaining === undefined || fault.remaining > 0),
    );
    return hit;
  }
}

function matches(rule: HttpFaultSpec['match'], request: RequestFacts): boolean {
  if (rule.method && rule.method.toUpperCase() !== request.method.toUpperCase()) return false;
  if (rule.path && !request.path.toLowerCase().includes(rule.path.toLowerCase())) return false;
  if (rule.location && (!request.location || normalizeLocation(rule.location) !== normalizeLocation(request.location)))
    return false;
  return true;
}
