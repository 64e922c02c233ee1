/**
 * A failover group's read-write listener (`<group>.<zone>`): a TCP forward to the instance its DNS record points at.
 */
import net from 'node:net';
import type { World } from '../world';

/**
 * The read-write listener of a group: forwards new connections to the instance its DNS points at (the target of an
 * accepted failover from its start, else the primary), and drops the connections to the old primary at the switch.
 * Source: ../shared/reference/azure-sql-mi-failover.md, "Timeline of a user-initiated failover".
 */
export class ReadWriteListener {
  private readonly server: net.Server;
  /** Open forwards: client, upstream, and the instance the upstream reaches. */
  private readonly pairs = new Set<[net.Socket, net.Socket, string]>();
  private readonly onChange: (
    kind: string,
    group?: { key: string },
    failover?: unknown,
    oldPrimaryId?: unknown,
  ) => void;
  readonly stats = { connections: 0, dropped: 0 };

  constructor(
    private readonly world: World,
    readonly groupKey: string,
    private readonly portOf: (instanceId: string) => number | undefined,
  ) {
    this.server = net.createServer((client) => this.accept(client));
    this.onChange = (kind, group, _failover, oldPrimaryId) => {
      if (kind === 'world-loaded') this.dropAll();
      else if (kind === 'roles-switched' && group?.key === this.groupKey)
        this.dropAll(typeof oldPrimaryId === 'string' ? oldPrimaryId : undefined);
    };
    world.on('change', this.onChange);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve(this.port));
    });
  }

  /** Drops the forwards to `instanceId` (every forward when undefined). */
  private dropAll(instanceId?: string): void {
    for (const pair of this.pairs) {
      const [client, upstream, reaches] = pair;
      if (instanceId !== undefined && reaches.toLowerCase() !== instanceId.toLowerCase()) continue;
      this.stats.dropped += 1;
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    }
  }

  private accept(client: net.Socket): void {
    this.stats.connections += 1;
    client.on('error', () => client.destroy());
    const group = this.world.groups.get(this.groupKey);
    const target = group && this.world.instanceById(this.world.listenerInstanceId(group));
    const port = target && !this.world.isDark(target.location) ? this.portOf(target.id) : undefined;
    if (!port) {
      client.destroy();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    const pair: [net.Socket, net.Socket, string] = [client, upstream, target!.id];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  close(): Promise<void> {
    this.world.off('change', this.onChange);
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
