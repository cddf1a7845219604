/**
 * The WebSocket server of the gateway: takes over HTTP upgrades of `/sync2` and `/yjs/{docId}`
 * on the app's HTTP server (`ws` in `noServer` mode), authenticates BEFORE the upgrade (HTTP 401
 * for a bad token; on /yjs HTTP 400 for a malformed doc id and 403 for a forbidden doc), enforces the cluster-wide per-tenant
 * connection limit, pings sockets to detect dead peers, and drains on shutdown (close 1001 after in-flight
 * updates are acknowledged).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '@diaryx-sync/protocol';
import { DocIdError, parseDocId, type ParsedDocId } from '@diaryx-sync/crdt';
import type { Logger } from '@diaryx-sync/runtime';
import WebSocket, { WebSocketServer } from 'ws';
import type { TokenClaims } from '../auth/token-claims';
import { ClientConnection, type ConnectionContext } from './client-connection';
import type { DocAuthorizer } from './doc-authorizer';
import { ExpiryQueue } from './expiry-queue';
import { GatewaySocket } from './gateway-socket';
import type { GatewayMetrics, SyncHub } from './sync-hub';
import type { SyncSettings } from './sync-config';
import { Sync2Connection } from './sync2-connection';
import { TenantConnections } from './tenant-connections';
import { TenantRates } from './tenant-rates';
import { offeredSubprotocols, upgradeTarget, upgradeToken } from './upgrade-request';
import { YjsConnection } from './yjs-connection';

/** Verifies a JWT (the gateway's `AuthService`); throws for any token that must be refused. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenClaims>;
}

/** Dependencies of {@link SyncServer}. */
export interface SyncServerDeps {
  verifier: TokenVerifier;
  authorizer: DocAuthorizer;
  hub: SyncHub;
  settings: SyncSettings;
  metrics: GatewayMetrics;
  logger: Logger;
  /**
   * Open connections of a tenant on the OTHER gateways (from their heartbeats, see
   * `ClusterTenantView`); added to this gateway's count for the per-tenant limit. Default none.
   */
  otherGatewayConnections?: (tenant: string) => number;
}

/** The socket class of this server: its owner is the connection handling it. */
const ConnectionSocket = GatewaySocket<ClientConnection>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/** See module doc. */
export class SyncServer {
  readonly tenants: TenantConnections;
  /** Per-tenant update-rate buckets (re-divided with `setLiveGateways` as gateways come and go). */
  readonly tenantRates: TenantRates;
  private readonly wss: WebSocket.Server<typeof ConnectionSocket>;
  private readonly ctx: ConnectionContext;
  /** Token expiry of every connection (4401), on one timer. */
  private readonly expiries = new ExpiryQueue<ClientConnection>((conn) =>
    conn.close(CloseCode.Unauthorized, 'token expired'),
  );
  private readonly open = new Set<ClientConnection>();
  private readonly keepalive: NodeJS.Timeout;
  private draining = false;
  private httpServer: Server | undefined;
  private readonly upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    void this.onUpgrade(req, socket, head);

  constructor(private readonly deps: SyncServerDeps) {
    this.tenants = new TenantConnections(deps.settings.maxConnectionsPerTenant, deps.otherGatewayConnections);
    this.tenantRates = new TenantRates(deps.settings.tenantUpdateRate, deps.settings.tenantUpdateBurst);
    this.wss = new WebSocketServer({
      WebSocket: ConnectionSocket,
      noServer: true,
      // `open` tracks the connections; ws's own set would add a close listener per socket.
      clientTracking: false,
      maxPayload: deps.settings.maxFrameBytes,
      perMessageDeflate: false,
      // Echo only `diaryx-sync`, never the `bearer.<jwt>` entry (ws would pick the first offered).
      handleProtocols: (protocols) => (protocols.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false),
    });
    this.ctx = {
      hub: deps.hub,
      authorizer: deps.authorizer,
      tenantRates: this.tenantRates,
      settings: deps.settings,
      metrics: deps.metrics,
      logger: deps.logger,
      expiries: this.expiries,
      onSlowConsumer: () => deps.metrics.framesDropped.inc({ reason: 'slow_consumer' }),
      onClosed: (conn) => {
        this.open.delete(conn);
        this.tenants.release(conn.tenant);
        deps.metrics.connections.dec({ endpoint: conn.endpoint });
      },
    };
    this.keepalive = setInterval(() => this.pingAll(), deps.settings.keepaliveMs);
    this.keepalive.unref();
  }

  /** Number of open sockets. */
  get connectionCount(): number {
    return this.open.size;
  }

  /** Starts handling upgrades on `server`. */
  attach(server: Server): void {
    this.httpServer = server;
    server.on('upgrade', this.upgradeListener);
  }

  /**
   * Graceful drain: refuse new upgrades (503), wait (bounded) until every forwarded update is
   * acknowledged, then close every socket with 1001.
   */
  async drain(): Promise<void> {
    this.draining = true;
    const timeout = new Promise<void>((r) => setTimeout(r, this.deps.settings.drainTimeoutMs).unref());
    await Promise.race([this.deps.hub.pending.whenIdle(), timeout]);
    const closed = [...this.open].map(
      (c) =>
        new Promise<void>((r) =>
          c.socket.readyState === WebSocket.CLOSED ? r() : c.socket.once('close', () => r()),
        ),
    );
    for (const conn of this.open) conn.close(CloseCode.GoingAway, 'gateway shutting down');
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3000).unref())]);
  }

  /**
   * A token was revoked (docs/protocol.md#tokens): closes every local socket authenticated with it
   * with 4401. Returns how many were closed.
   */
  closeToken(jti: string): number {
    let closed = 0;
    for (const conn of this.open) {
      if (conn.claims.jti !== jti) continue;
      conn.close(CloseCode.Unauthorized, 'token revoked');
      closed++;
    }
    return closed;
  }

  /** Stops listening for upgrades and terminates what is left. */
  close(): void {
    clearInterval(this.keepalive);
    this.expiries.stop();
    this.httpServer?.off('upgrade', this.upgradeListener);
    for (const conn of this.open) conn.socket.terminate();
    this.wss.close();
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Until `ws` takes the socket over (it listens for errors itself from then on).
    socket.on('error', ignoreError);
    const target = upgradeTarget(req);
    if (!target) {
      // Another upgrade handler (e.g. a Nest gateway) may own this path; answer 404 only when alone.
      if ((this.httpServer?.listenerCount('upgrade') ?? 1) <= 1)
        reject(socket, 404, 'not_found', 'no WebSocket endpoint here');
      return;
    }
    if (this.draining) return reject(socket, 503, 'draining', 'gateway shutting down');
    const offered = offeredSubprotocols(req);
    if (offered.some((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) && !offered.includes(SYNC_SUBPROTOCOL))
      // Browsers fail a handshake whose offered protocols get no answer: say why instead.
      return reject(
        socket,
        400,
        'bad_subprotocol',
        `offer "${SYNC_SUBPROTOCOL}" next to "${TOKEN_SUBPROTOCOL_PREFIX}<token>" in Sec-WebSocket-Protocol`,
      );
    const token = upgradeToken(req);
    let claims: TokenClaims;
    try {
      if (!token) throw new Error('missing token');
      claims = await this.deps.verifier.verify(token);
    } catch (err) {
      this.deps.metrics.authFailures.inc({ reason: 'invalid_token' });
      return reject(socket, 401, 'unauthorized', (err as Error).message || 'invalid token');
    }
    if (target.endpoint === 'yjs') {
      let parsedYjs: ParsedDocId;
      try {
        if (target.docId === null) throw new Error('bad doc id encoding');
        parsedYjs = parseDocId(target.docId);
      } catch (err) {
        // Malformed doc id: refused before the upgrade (HTTP 400), so that stock y-websocket
        // clients back off instead of reconnecting after a post-upgrade close.
        if (!(err instanceof DocIdError)) return reject(socket, 400, 'bad_doc_id', 'bad doc id');
        return reject(socket, 400, err.kind === 'unsafe_path' ? 'unsafe_path' : 'bad_doc_id', err.message);
      }
      let allowed = false;
      try {
        allowed = await this.deps.authorizer.mayUseWorkspace(claims, parsedYjs.workspaceId);
      } catch (err) {
        this.deps.logger.error({ err: (err as Error).message }, 'workspace lookup failed');
        return reject(socket, 503, 'unavailable', 'try again later');
      }
      if (!allowed) {
        this.deps.metrics.authFailures.inc({ reason: 'forbidden_doc' });
        return reject(socket, 403, 'forbidden', 'forbidden');
      }
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', ignoreError);
      if (!this.tenants.tryAcquire(claims.tid)) {
        this.deps.metrics.framesDropped.inc({ reason: 'tenant_connection_limit' });
        ws.close(CloseCode.Overloaded, 'too many connections for this tenant');
        return;
      }
      if (this.draining) {
        this.tenants.release(claims.tid);
        ws.close(CloseCode.GoingAway, 'gateway shutting down');
        return;
      }
      const conn =
        target.endpoint === 'sync2'
          ? new Sync2Connection(ws, claims, this.ctx)
          : new YjsConnection(ws, claims, this.ctx, (target as { docId: string }).docId);
      this.open.add(conn);
      this.deps.metrics.connections.inc({ endpoint: conn.endpoint });
      this.deps.metrics.connectionsOpened.inc({ endpoint: conn.endpoint });
    });
  }

  private pingAll(): void {
    for (const conn of this.open) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.socket.ping();
      } catch {
        conn.socket.terminate();
      }
    }
  }
}

/** Answers an upgrade request with an HTTP error and closes the TCP connection. */
function reject(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** A shared no-op error listener (a closure per upgrade would also keep the upgrade's scope alive). */
function ignoreError(): void {
  // errors of a socket not yet upgraded end in its close
}
