/**
 * Writers that write, all the time, through EACH instance's own TDS endpoint (not the listener), as a client that
 * reaches both regions would: one INSERT into `dbo.fogpilot_workload` per instance every ~150 ms of real time. Their
 * records feed the client-side invariant checks (bench/invariant-checks.ts): two instances accepting writes at once,
 * and acknowledged writes lost without the emulator counting them. Used by the chaos rig and the fault storms.
 */
import sql from 'mssql';
import type { Emulator } from '../src/emulator';
import {
  findSplitBrain,
  judgeDataLoss,
  type DataLossVerdict,
  type EndpointWrite,
  type SplitBrainFinding,
} from './invariant-checks';

/** Every payload of these writers starts with this; other watchers of the emulator's commits can tell them apart. */
export const ENDPOINT_CHECK_PREFIX = 'endpoint-check/';

/** Whether a committed payload is one of these writers' (not a runbook's probe or smoke write). */
export function isEndpointCheckPayload(payload: string): boolean {
  return payload.startsWith(ENDPOINT_CHECK_PREFIX);
}

export interface EndpointWritersOptions {
  emulator: Emulator;
  /** The groups whose instances get a writer each. */
  groups: readonly string[];
  /** Pause between two writes of one writer (real ms). */
  intervalMs?: number;
}

/** What the checks found for a run, for its result and report. */
export interface EndpointChecks {
  /** Accepted and refused writes by instance. */
  accepted: Record<string, number>;
  refused: Record<string, number>;
  splitBrain: SplitBrainFinding[];
  dataLoss: DataLossVerdict[];
  /** The rule breaks, one line each (empty: none). */
  violations: string[];
}

interface Endpoint {
  group: string;
  instance: string;
  database: string;
  /** The instance's name on its certificate. */
  fqdn: string;
  server: string;
  port: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Epoch milliseconds from a monotonic source: the order of these stamps is the order of the events. */
const stamp = () => performance.timeOrigin + performance.now();
let runs = 0;

function newPool(emulator: Emulator, endpoint: Endpoint): sql.ConnectionPool {
  const line = emulator.startLine();
  const { user, password } = line.sql.login;
  const ca = line.tls?.ca;
  // With TLS on, the writers encrypt as a client of Azure does: the emulator's CA trusted, the instance's name checked.
  const encryption = ca
    ? {
        encrypt: true,
        trustServerCertificate: false,
        serverName: endpoint.fqdn,
        cryptoCredentialsDetails: { ca: [ca] },
      }
    : { encrypt: false, trustServerCertificate: true };
  const pool = new sql.ConnectionPool({
    server: endpoint.server,
    port: endpoint.port,
    user,
    password,
    database: endpoint.database,
    options: { ...encryption, appName: 'fogpilot-endpoint-check' },
    connectionTimeout: 1_500,
    requestTimeout: 3_000,
    pool: { min: 0, max: 1 },
  });
  pool.on('error', () => undefined);
  return pool;
}

/** One writer per instance of the given groups; `start()`, let the run happen, `stop()`, then `judge()`. */
export class EndpointWriters {
  readonly writes: EndpointWrite[] = [];
  private readonly label = `${ENDPOINT_CHECK_PREFIX}${process.pid}-${++runs}`;
  private readonly attempts = new Map<string, number>();
  private readonly endpoints: Endpoint[];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly options: EndpointWritersOptions) {
    const { world } = options.emulator;
    const line = options.emulator.startLine();
    this.endpoints = options.groups.flatMap((name) => {
      const group = world.findGroup(name);
      if (!group) throw new Error(`endpoint writers: no group ${name} in the world`);
      return group.instanceIds.map((id) => {
        const instance = world.instanceById(id)!;
        const entry = line.sql.instances.find((candidate) => candidate.name === instance.name);
        if (!entry?.port) throw new Error(`endpoint writers: ${instance.name} has no TDS endpoint yet`);
        return {
          group: group.name,
          instance: instance.name,
          database: group.databases[0]!.name,
          fqdn: entry.fullyQualifiedDomainName,
          server: entry.host,
          port: entry.port,
        };
      });
    });
  }

  /**
   * Logs every writer in, then starts writing. Logging in first matters: a fault armed after `start()` that refuses
   * the next SQL login is then met by the runbook, not by these writers.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const pools = await Promise.all(
      this.endpoints.map(async (endpoint) => {
        const pool = newPool(this.options.emulator, endpoint);
        await pool.connect().catch(() => undefined);
        return pool;
      }),
    );
    this.running = true;
    this.loops = this.endpoints.map((endpoint, index) => this.run(endpoint, pools[index]!));
  }

  private async run(endpoint: Endpoint, first: sql.ConnectionPool): Promise<void> {
    let pool: sql.ConnectionPool | undefined = first;
    let seq = 0;
    while (this.running) {
      seq += 1;
      const payload = `${this.label}/${endpoint.instance}/${seq}`;
      const base = { group: endpoint.group, instance: endpoint.instance, database: endpoint.database, seq, payload };
      let sentAt = stamp();
      let sending = false;
      try {
        pool ??= newPool(this.options.emulator, endpoint);
        if (!pool.connected) await pool.connect();
        sentAt = stamp();
        sending = true;
        const result = await pool
          .request()
          .input('payload', sql.NVarChar(200), payload)
          .query<{ id: string | number; committed_at: Date }>(
            'INSERT INTO dbo.fogpilot_workload (payload) OUTPUT INSERTED.id, INSERTED.committed_at VALUES (@payload)',
          );
        const row = result.recordset[0];
        this.writes.push({
          ...base,
          sentAt,
          answeredAt: stamp(),
          outcome: 'accepted',
          lsn: Number(row?.id),
          committedAt: row?.committed_at instanceof Date ? row.committed_at.toISOString() : undefined,
        });
      } catch (error) {
        const failure = error as { number?: number; code?: string; message?: string };
        const outcome = failure.number && sending ? 'refused' : sending ? 'in-doubt' : 'not-sent';
        this.writes.push({ ...base, sentAt, answeredAt: stamp(), outcome, error: failure.message });
        // A dropped connection poisons the pool; the next write starts over, as an application's retry does.
        if (!failure.number) {
          const old = pool;
          pool = undefined;
          void old?.close().catch(() => undefined);
        }
      }
      this.attempts.set(endpoint.instance, seq);
      await sleep(this.options.intervalMs ?? 150);
    }
    await pool?.close().catch(() => undefined);
  }

  /** Waits (bounded) until every writer has made `count` more attempts: what the world did last is then written. */
  async settle(count = 2, limitMs = 10_000): Promise<void> {
    const target = new Map(this.endpoints.map((endpoint) => [endpoint.instance, this.attemptsOf(endpoint) + count]));
    const deadline = Date.now() + limitMs;
    while (this.running && Date.now() < deadline) {
      if (this.endpoints.every((endpoint) => this.attemptsOf(endpoint) >= target.get(endpoint.instance)!)) return;
      await sleep(20);
    }
  }

  private attemptsOf(endpoint: Endpoint): number {
    return this.attempts.get(endpoint.instance) ?? 0;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** The payloads of these writers the group's primary holds now, read through the group's read-write listener. */
  async readBack(groupName: string): Promise<Set<string> | { unverified: string }> {
    const endpoint = this.endpoints.find((entry) => entry.group === groupName)!;
    const listener = this.options.emulator
      .startLine()
      .sql.listeners.find((entry) => entry.group === groupName && entry.kind === 'read-write');
    if (!listener?.port) return { unverified: `no read-write listener for ${groupName}` };
    const pool = newPool(this.options.emulator, {
      ...endpoint,
      fqdn: listener.fullyQualifiedDomainName,
      server: listener.host,
      port: listener.port,
    });
    try {
      await pool.connect();
      const rows = await pool
        .request()
        .input('label', sql.NVarChar(210), `${this.label}/%`)
        .query<{ payload: string }>('SELECT payload FROM dbo.fogpilot_workload WHERE payload LIKE @label');
      return new Set(rows.recordset.map((row) => row.payload));
    } catch (error) {
      return { unverified: `could not read ${groupName}'s primary back: ${(error as Error).message}` };
    } finally {
      await pool.close().catch(() => undefined);
    }
  }

  /** Stops the writers (if running), reads each group back, and runs both checks. */
  async judge(): Promise<EndpointChecks> {
    await this.stop();
    const count = (outcome: EndpointWrite['outcome']) => {
      const counts: Record<string, number> = {};
      for (const endpoint of this.endpoints) counts[endpoint.instance] = 0;
      for (const write of this.writes) if (write.outcome === outcome) counts[write.instance]! += 1;
      return counts;
    };
    const splitBrain: SplitBrainFinding[] = [];
    const dataLoss: DataLossVerdict[] = [];
    for (const group of [...new Set(this.endpoints.map((endpoint) => endpoint.group))]) {
      splitBrain.push(...findSplitBrain(group, this.writes));
      dataLoss.push(
        judgeDataLoss({
          group,
          database: this.endpoints.find((endpoint) => endpoint.group === group)!.database,
          writes: this.writes,
          present: await this.readBack(group),
          lostCommits: this.options.emulator.world.lostCommits,
        }),
      );
    }
    return {
      accepted: count('accepted'),
      refused: count('refused'),
      splitBrain,
      dataLoss,
      violations: [
        ...splitBrain.map((finding) => `two writable primaries (client-side): ${finding.message}`),
        ...dataLoss.filter((verdict) => !verdict.ok).map((verdict) => `data loss miscounted: ${verdict.message}`),
      ],
    };
  }
}
