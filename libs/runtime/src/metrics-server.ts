/**
 * A `node:http` server that serves only `GET /metrics` (Prometheus text of one registry), for a
 * service whose main port is public (the gateway with `METRICS_PORT` set): the metrics then live
 * on a port that neither the reverse proxy nor the Ingress forwards (deploy/README.md "Metrics").
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A running metrics server. */
export interface MetricsServer {
  readonly server: Server;
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

/** Starts serving `registry` on `GET /metrics` at `port` (0 = any free port). */
export async function startMetricsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    options.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'Content-Type': options.registry.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err));
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
