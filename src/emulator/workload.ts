/**
 * A workload that writes through a group's read-write listener, as an application does, and keeps count: every write
 * acknowledged (its id and unique payload), every write in doubt (sent, then the connection dropped before an answer),
 * every refusal, and the windows when no write succeeded. After a failover, `verify` reads back what survived, so a
 * drill can report application-visible downtime and a forced failover exactly which acknowledged writes were lost.
 */
import sql from 'mssql';

export interface WorkloadOptions {
  server: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Pause between writes (real ms). */
  intervalMs?: number;
  /** The clock downtime is measured with (the emulator's simulated clock, or real time). */
  clock?: () => number;
  /** Prefix of each write's payload, so several workloads can share a database. */
  label?: string;
}

export interface WorkloadWrite {
  payload: string;
  id?: number;
  at: number;
}

export interface WorkloadReport {
  attempted: number;
  acknowledged: number;
  /** Sent, but the connection dropped before an answer: committed or not, the client cannot know. */
  inDoubt: number;
  refused: number;
  errors: Record<string, number>;
  /** Total time with no successful write, between the first failure and the next success (clock ms). */
  downtimeMs: number;
  windows: { from: number; to: number }[];
}

export interface WorkloadVerification {
  /** Acknowledged writes that are not in the database any more. */
  lostAcknowledged: WorkloadWrite[];
  /** In-doubt writes that did commit. */
  inDoubtCommitted: string[];
  present: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class WorkloadGenerator {
  readonly acknowledged: WorkloadWrite[] = [];
  readonly inDoubt: WorkloadWrite[] = [];
  private readonly errors: Record<string, number> = {};
  private attempted = 0;
  private refused = 0;
  private windows: { from: number; to: number }[] = [];
  private failingSince?: number;
  private running = false;
  private loop?: Promise<void>;
  private pool?: sql.ConnectionPool;
  private readonly clock: () => number;
  private readonly label: string;

  constructor(private readonly options: WorkloadOptions) {
    this.clock = options.clock ?? Date.now;
    this.label = options.label ?? 'workload';
  }

  private newPool(): sql.ConnectionPool {
    const pool = new sql.ConnectionPool({
      server: this.options.server,
      port: this.options.port,
      user: this.options.user,
      password: this.options.password,
      database: this.options.database,
      options: { encrypt: false, trustServerCertificate: true, appName: 'fogpilot-workload' },
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      pool: { min: 0, max: 1 },
    });
    pool.on('error', () => undefined);
    return pool;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let sequence = 0;
    while (this.running) {
      const payload = `${this.label}-${++sequence}`;
      this.attempted += 1;
      try {
        this.pool ??= this.newPool();
        if (!this.pool.connected) await this.pool.connect();
        const result = await this.pool
          .request()
          .input('payload', sql.NVarChar(200), payload)
          .query<{ id: string | number }>(
            'INSERT INTO dbo.fogpilot_workload (payload) OUTPUT INSERTED.id VALUES (@payload)',
          );
        this.acknowledged.push({ payload, id: Number(result.recordset[0]?.id), at: this.clock() });
        if (this.failingSince !== undefined) {
          this.windows.push({ from: this.failingSince, to: this.clock() });
          this.failingSince = undefined;
        }
      } catch (error) {
        const failure = error as { number?: number; code?: string; name?: string };
        const kind = failure.number ? `sql-${failure.number}` : (failure.code ?? failure.name ?? 'error');
        this.errors[kind] = (this.errors[kind] ?? 0) + 1;
        if (failure.number) this.refused += 1;
        else if (failure.code === 'ECONNCLOSED' || failure.code === 'ESOCKET' || failure.code === 'ETIMEOUT')
          this.inDoubt.push({ payload, at: this.clock() });
        this.failingSince ??= this.clock();
        // A dropped connection poisons the pool; start over with a fresh one, as an application's retry does.
        if (!failure.number) {
          const old = this.pool;
          this.pool = undefined;
          void old?.close().catch(() => undefined);
        }
      }
      await sleep(this.options.intervalMs ?? 20);
    }
  }

  async stop(): Promise<WorkloadReport> {
    this.running = false;
    await this.loop;
    await this.pool?.close().catch(() => undefined);
    this.pool = undefined;
    if (this.failingSince !== undefined) this.windows.push({ from: this.failingSince, to: this.clock() });
    this.failingSince = undefined;
    return this.report();
  }

  report(): WorkloadReport {
    return {
      attempted: this.attempted,
      acknowledged: this.acknowledged.length,
      inDoubt: this.inDoubt.length,
      refused: this.refused,
      errors: { ...this.errors },
      downtimeMs: this.windows.reduce((total, window) => total + (window.to - window.from), 0),
      windows: [...this.windows],
    };
  }

  /** Reads back this workload's rows (through the listener, i.e. on the current primary) and compares. */
  async verify(): Promise<WorkloadVerification> {
    const pool = this.newPool();
    try {
      await pool.connect();
      const rows = (
        await pool
          .request()
          .input('label', sql.NVarChar(210), `${this.label}-%`)
          .query<{ payload: string }>('SELECT payload FROM dbo.fogpilot_workload WHERE payload LIKE @label')
      ).recordset;
      const present = new Set(rows.map((row) => row.payload));
      return {
        lostAcknowledged: this.acknowledged.filter((write) => !present.has(write.payload)),
        inDoubtCommitted: this.inDoubt.filter((write) => present.has(write.payload)).map((write) => write.payload),
        present: present.size,
      };
    } finally {
      await pool.close().catch(() => undefined);
    }
  }
}
