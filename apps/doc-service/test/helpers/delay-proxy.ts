/**
 * A TCP proxy for tests that can hold traffic: while held, bytes from clients to the upstream
 * are buffered (the database sees nothing), and `release()` delivers them in order. Stands in
 * for a slow or paused network path between a doc service and PostgreSQL.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** See module doc. */
export class DelayProxy {
  private held = false;
  private readonly flushers = new Set<() => void>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free 127.0.0.1 port and forwards each connection to `upstreamPort`. */
  static async start(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<DelayProxy> {
    const route: { to?: DelayProxy } = {};
    const server = createServer((client) => route.to!.pipe(client, upstreamHost, upstreamPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    route.to = new DelayProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
    return route.to;
  }

  /** From now on, client → upstream bytes wait until {@link release}. */
  hold(): void {
    this.held = true;
  }

  /** Delivers everything held, in order, and stops holding. */
  release(): void {
    this.held = false;
    for (const flush of this.flushers) flush();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host);
    this.sockets.add(client).add(upstream);
    const queue: Buffer[] = [];
    const flush = () => {
      while (queue.length > 0) upstream.write(queue.shift()!);
    };
    this.flushers.add(flush);
    client.on('data', (chunk: Buffer) => {
      if (this.held) queue.push(chunk);
      else {
        flush();
        upstream.write(chunk);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      this.flushers.delete(flush);
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
