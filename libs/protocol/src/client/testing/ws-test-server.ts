import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Role } from '../../roles';
import { SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../../subprotocols';
import { TestSyncServerCore, type TestSyncServerOptions } from './server-core';

/** Options of {@link startTestSyncServer}. */
export interface StartTestSyncServerOptions extends TestSyncServerOptions {
  /** Accepted tokens and their role (`bearer.<token>` subprotocol, `?token=` or `Authorization: Bearer`); default `{ "test-token": "editor" }`. */
  readonly tokens?: Readonly<Record<string, Role>>;
  /** Port (default 0: any free port). */
  readonly port?: number;
}

/** A running test server. */
export interface TestSyncServer {
  /** The core (documents, counters). */
  readonly core: TestSyncServerCore;
  /** `ws://127.0.0.1:{port}`. */
  readonly url: string;
  readonly port: number;
  /** Open sockets. */
  readonly sockets: Set<WebSocket>;
  /** Upgrades accepted and refused so far. */
  readonly stats: { accepted: number; refused: number };
  /** Every currently open socket stops answering (nothing sent or processed): a dead peer. New connections work. */
  freeze(): void;
  /** Closes every socket with `code` and stops the server. */
  close(code?: number): Promise<void>;
}

function tokenOf(req: IncomingMessage): string | undefined {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const fromProtocol = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  if (fromProtocol !== undefined) return fromProtocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null) return fromQuery;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') === true ? auth.slice(7) : undefined;
}

/**
 * Starts the {@link TestSyncServerCore} on a real `ws` server (`/sync2`, token check before the
 * upgrade with HTTP 401, close codes of docs/protocol.md).
 */
export async function startTestSyncServer(options: StartTestSyncServerOptions): Promise<TestSyncServer> {
  const tokens = options.tokens ?? { 'test-token': 'editor' };
  const core = new TestSyncServerCore(options);
  const sockets = new Set<WebSocket>();
  const frozen = new Set<WebSocket>();
  const stats = { accepted: 0, refused: 0 };
  const wss = new WebSocketServer({
    port: options.port ?? 0,
    host: '127.0.0.1',
    // Like the gateway: echo only `diaryx-sync`, never the token entry.
    handleProtocols: (protocols) => (protocols.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false),
    verifyClient: (info, done) => {
      const path = new URL(info.req.url ?? '/', 'http://localhost').pathname;
      const token = tokenOf(info.req);
      if (path !== '/sync2' || token === undefined || tokens[token] === undefined) {
        stats.refused++;
        return done(false, path !== '/sync2' ? 404 : 401, path !== '/sync2' ? 'Not Found' : 'Unauthorized');
      }
      stats.accepted++;
      done(true);
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket, req) => {
    sockets.add(socket);
    const role = tokens[tokenOf(req) ?? ''] ?? 'viewer';
    const conn = core.connect(
      {
        send: (data) => {
          if (!frozen.has(socket) && socket.readyState === socket.OPEN) socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
      },
      role,
    );
    socket.on('message', (data, isBinary) => {
      if (frozen.has(socket)) return;
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      conn.receive(
        isBinary ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : buf.toString('utf8'),
      );
    });
    socket.on('close', () => {
      sockets.delete(socket);
      conn.disconnect();
    });
    socket.on('error', () => socket.terminate());
  });
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    core,
    url: `ws://127.0.0.1:${port}`,
    port,
    sockets,
    stats,
    freeze: () => {
      for (const s of sockets) frozen.add(s);
    },
    close: async (code = 1001) => {
      for (const s of sockets) s.close(code, 'server closing');
      await new Promise<void>((resolve) => {
        setTimeout(() => {
          for (const s of sockets) s.terminate();
        }, 200).unref();
        wss.close(() => resolve());
      });
    },
  };
}
