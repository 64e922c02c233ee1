/**
 * What a failover group's listeners have in common. Each is a DNS name that points at one instance of the pair,
 * modelled as a TCP forward: a new connection goes to the instance the name points at when it arrives, and a role
 * switch drops the forwards it cuts. The listeners say where they point (`target`) and what a switch drops.
 */
import net from 'node:net';
import type { World } from '../world';
import { TcpListener } from './tcp-listener';

export abstract class ForwardingListener extends TcpListener {
  /** Open forwards: client, upstream, and the instance the upstream reaches. */
  private readonly pairs = new Set<[net.Socket, net.Socket, string]>();
  private readonly onChange: (
    kind: string,
    group?: { key: string },
    failover?: unknown,
    oldPrimaryId?: unknown,
  ) => void;
  /** `refused`: connections that found no instance answering behind the name. */
  readonly stats = { connections: 0, dropped: 0, refused: 0 };

  constructor(
    protected readonly world: World,
    readonly groupKey: string,
    private readonly portOf: (instanceId: string) => number | undefined,
  ) {
    super();
    this.onChange = (kind, group, _failover, oldPrimaryId) => {
      if (kind === 'world-loaded') this.drop();
      else if (kind === 'roles-switched' && group?.key === this.groupKey)
        this.drop(this.droppedAtSwitch(typeof oldPrimaryId === 'string' ? oldPrimaryId : undefined));
    };
    world.on('change', this.onChange);
  }

  /** The instance the name points at now, when one answers there. */
  protected abstract target(): string | undefined;

  /** The instance whose forwards a role switch drops (undefined: every forward). */
  protected abstract droppedAtSwitch(oldPrimaryId: string | undefined): string | undefined;

  /** Drops the forwards to `instanceId` (every forward when undefined). */
  private drop(instanceId?: string): void {
    for (const pair of this.pairs) {
      const [client, upstream, reaches] = pair;
      if (instanceId !== undefined && reaches.toLowerCase() !== instanceId.toLowerCase()) continue;
      this.stats.dropped += 1;
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    }
  }

  protected accept(client: net.Socket): void {
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
    const pair: [net.Socket, net.Socket, string] = [client, upstream, target];
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
    this.drop();
    return this.stopListening();
  }
}
