/**
 * The read-only listener of a failover group, `<group>.secondary.<zone>.database.windows.net`: it forwards to the
 * current secondary, as Azure's DNS record for it points there ("Failover groups overview & best practices - Azure SQL
 * Managed Instance", learn.microsoft.com/en-us/azure/azure-sql/managed-instance/failover-group-sql-mi: "Use the
 * read-only listener to direct read-only traffic to a readable secondary database"; the endpoints are DNS records
 * updated at a geo-failover). Clients use it with ApplicationIntent=ReadOnly.
 *
 * Being a DNS record, it cannot look at a session's intent: a ReadWrite-intent session through it lands on the
 * secondary too, where reads work and writes fail with 3906 (the geo secondary allows ALL connections, as
 * `secondary_allow_connections_desc` says). With `readOnlyFailoverPolicy: Enabled` and the secondary's region dark, it
 * points at the primary instead (the REST spec's `readOnlyEndpoint.failoverPolicy`). Connections are dropped when the
 * roles switch, as the instances' are.
 */
import net from 'node:net';
import type { World } from '../world';

export class ReadOnlyListener {
  private readonly server: net.Server;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private readonly onChange: (kind: string, group?: { key: string }) => void;
  readonly stats = { connections: 0, dropped: 0, refused: 0 };

  constructor(
    private readonly world: World,
    readonly groupKey: string,
    private readonly portOf: (instanceId: string) => number | undefined,
  ) {
    this.server = net.createServer((client) => this.accept(client));
    this.onChange = (kind, group) => {
      if ((kind === 'roles-switched' && group?.key === this.groupKey) || kind === 'world-loaded') this.dropAll();
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

  /** The instance the listener's name resolves to now, if any answers. */
  target(): string | undefined {
    const group = this.world.groups.get(this.groupKey);
    if (!group) return undefined;
    const primary = this.world.instanceById(group.primaryInstanceId)!;
    const secondary = this.world.partnerInstance(group, primary.id);
    if (!this.world.isDark(secondary.location)) return secondary.id;
    if (group.readOnlyFailoverPolicy === 'Enabled' && !this.world.isDark(primary.location)) return primary.id;
    return undefined;
  }

  private dropAll(): void {
    for (const [client, upstream] of this.pairs) {
      this.stats.dropped += 1;
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  private accept(client: net.Socket): void {
    this.stats.connections += 1;
    client.on('error', () => client.destroy());
    const target = this.target();
    const port = target && this.portOf(target);
    if (!port) {
      this.stats.refused += 1;
      client.destroy();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
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

/** The read-only listener's name: `<group>.secondary.<zone>.database.windows.net`. */
export function readOnlyListenerHost(groupName: string, dnsZone: string): string {
  return `${groupName}.secondary.${dnsZone}.database.windows.net`;
}
