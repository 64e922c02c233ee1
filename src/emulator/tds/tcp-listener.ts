/**
 * A TCP server on a port of its own, as the emulator's SQL side opens them: every TDS endpoint (./tds-endpoint.ts)
 * and every failover group listener (./forwarding-listener.ts).
 */
import net from 'node:net';

export abstract class TcpListener {
  private readonly server = net.createServer((socket) => this.accept(socket));

  /** Takes a new connection. */
  protected abstract accept(socket: net.Socket): void;

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve(this.port));
    });
  }

  /** Stops taking connections; resolves once the open ones have closed. */
  protected stopListening(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
