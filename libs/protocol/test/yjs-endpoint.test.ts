/**
 * Compatibility with the stock y-websocket client: a minimal `/yjs`-style server (one document,
 * no doc-id prefix) built from DocSyncHandler on a real `ws` socket.
 */
import { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { splitMessages, PERMISSION_DENIED_REPLY } from '@diaryx-sync/protocol';
import { ConnectionDescriptor, DocSyncHandler } from '@diaryx-sync/protocol/server';

interface Server {
  url: string;
  handler: DocSyncHandler;
  violations: string[];
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const handler = new DocSyncHandler(new Y.Doc());
  const sockets = new Map<string, WebSocket>();
  const violations: string[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let n = 0;
  wss.on('connection', (socket, request) => {
    const role =
      new URL(request.url ?? '/', 'http://x').searchParams.get('role') === 'viewer' ? 'viewer' : 'editor';
    const conn: ConnectionDescriptor = { id: `c${++n}`, role, dialect: 'yjs' };
    sockets.set(conn.id, socket);
    const sendAll = (payload: Uint8Array, except?: string) => {
      for (const [id, s] of sockets) {
        if (id !== except) for (const part of splitMessages(payload, 'yjs')) s.send(part);
      }
    };
    const snapshot = handler.awarenessSnapshot();
    if (snapshot) socket.send(snapshot);
    socket.on('message', (data: Buffer) => {
      try {
        const result = handler.handle(conn, new Uint8Array(data));
        for (const reply of result.replies) socket.send(reply);
        if (result.broadcast) sendAll(result.broadcast, conn.id);
        if (result.readOnlyViolation) {
          socket.send(PERMISSION_DENIED_REPLY);
          violations.push(conn.id);
        }
      } catch {
        socket.close(4400, 'malformed');
      }
    });
    socket.on('close', () => {
      sockets.delete(conn.id);
      const removal = handler.connectionLeft(conn.id);
      if (removal) sendAll(removal);
    });
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    handler,
    violations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets.values()) s.terminate();
        wss.close(() => resolve());
      }),
  };
}

function provider(url: string, role: 'editor' | 'viewer'): WebsocketProvider {
  return new WebsocketProvider(url, 'doc', new Y.Doc(), {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { role },
    disableBc: true,
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('stock y-websocket client against DocSyncHandler', () => {
  let server: Server;
  const providers: WebsocketProvider[] = [];
  const open = (role: 'editor' | 'viewer') => {
    const p = provider(server.url, role);
    providers.push(p);
    return p;
  };

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    for (const p of providers.splice(0)) {
      p.awareness.destroy();
      p.destroy();
    }
    await server.close();
  });

  it('syncs edits both ways and reaches "synced"', async () => {
    const a = open('editor');
    const b = open('editor');
    await until(() => a.synced && b.synced, 'synced');
    a.doc.getText('t').insert(0, 'from a');
    await until(() => b.doc.getText('t').toString() === 'from a', 'b to see a');
    b.doc.getText('t').insert(0, 'b: ');
    await until(() => a.doc.getText('t').toString() === 'b: from a', 'a to see b');
    expect(server.handler.doc.getText('t').toString()).toBe('b: from a');
  });

  it('a viewer reads but cannot write; its edit is refused with permission denied', async () => {
    const a = open('editor');
    a.doc.getText('t').insert(0, 'shared');
    await until(() => server.handler.doc.getText('t').toString() === 'shared', 'server to get a');
    const v = open('viewer');
    await until(() => v.synced && v.doc.getText('t').toString() === 'shared', 'viewer sync');
    expect(server.violations).toEqual([]);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      v.doc.getText('t').insert(0, 'X');
      await until(() => server.violations.length > 0, 'violation');
      await until(
        () => warn.mock.calls.some((c) => String(c[0]).includes('Permission denied')),
        'auth message',
      );
    } finally {
      warn.mockRestore();
    }
    expect(server.handler.doc.getText('t').toString()).toBe('shared');
  });

  it('awareness is relayed and removed when a client leaves', async () => {
    const a = open('editor');
    const b = open('editor');
    await until(() => a.synced && b.synced, 'synced');
    a.awareness.setLocalStateField('user', 'alice');
    await until(
      () =>
        (b.awareness.getStates().get(a.awareness.clientID) as { user?: string } | undefined)?.user ===
        'alice',
      'b to see alice',
    );
    // a third client learns existing states on connect
    const c = open('editor');
    await until(() => c.awareness.getStates().has(a.awareness.clientID), 'snapshot for c');
    a.disconnect();
    await until(() => !b.awareness.getStates().has(a.awareness.clientID), 'removal at b');
    expect(server.handler.awareness.clientIdsOf('c1')).toEqual([]);
  });
});
