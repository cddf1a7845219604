/**
 * A tiny `node:http` server for services that are not NestJS apps (doc-service, history-worker):
 *
 * - `GET /healthz` — liveness: `200 {"status":"ok"}` while the process runs its event loop.
 * - `GET /readyz`  — readiness: calls the async `ready` callback (with a timeout);
 *   `200 {"status":"ready",...}` or `503 {"status":"not_ready",...}`. Always 503 once
 *   {@link OpsServer.setDraining} was called (SIGTERM), so load balancers stop routing first.
 * - `GET /metrics` — Prometheus text of the given prom-client `Registry`.
 * - anything else — `404 {"error":"not_found"}`; non-GET/HEAD — `405`.
 *
 * Usage: `const ops = await startOpsServer({ port: cfg.PORT, registry: metrics.registry, ready })`,
 * then `ops.setDraining()` and `await ops.close()` on shutdown.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Result of a readiness check: a boolean, or a detailed report. */
export type ReadinessResult = boolean | { ready: boolean; checks?: Record<string, unknown> };

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** Port to listen on (0 = any free port; read it back from {@link OpsServer.port}). */
  port: number;
  /** Interface to bind (default `0.0.0.0`, as needed inside containers). */
  host?: string;
  /** Registry served on `/metrics`. */
  registry: Registry;
  /** Readiness check; default: always ready. Errors and timeouts count as not ready. */
  ready?: () => Promise<ReadinessResult> | ReadinessResult;
  /** Milliseconds before a pending readiness check counts as failed (default 2000). */
  readyTimeoutMs?: number;
}

/** A running ops server. */
export interface OpsServer {
  readonly server: Server;
  /** The port actually bound. */
  readonly port: number;
  /** From now on `/readyz` answers 503 `draining` (call first thing on SIGTERM). */
  setDraining(): void;
  /** Stops listening and closes idle keep-alive connections. */
  close(): Promise<void>;
}

/** Starts the server and resolves once it listens. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  let draining = false;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'method_not_allowed' });
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        if (draining) return sendJson(res, 503, { status: 'not_ready', reason: 'draining' });
        const report = await checkReady(options.ready, options.readyTimeoutMs ?? 2000);
        return sendJson(res, report.ready ? 200 : 503, {
          ...report,
          status: report.ready ? 'ready' : 'not_ready',
        });
      }
      case '/metrics': {
        const body = await options.registry.metrics();
        res.writeHead(200, { 'Content-Type': options.registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      default:
        return sendJson(res, 404, { error: 'not_found' });
    }
  }

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
    setDraining: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function checkReady(
  ready: OpsServerOptions['ready'],
  timeoutMs: number,
): Promise<{ ready: boolean; checks?: Record<string, unknown>; reason?: string }> {
  if (!ready) return { ready: true };
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      Promise.resolve().then(ready),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`readiness check timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return typeof result === 'boolean' ? { ready: result } : { ready: result.ready, checks: result.checks };
  } catch (err) {
    return { ready: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}
