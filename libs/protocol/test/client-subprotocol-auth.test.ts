/**
 * SyncClient sends its token in `Sec-WebSocket-Protocol` (`diaryx-sync, bearer.<jwt>`), never in
 * the URL (docs/protocol.md#authentication), and accepts the server's `diaryx-sync` answer.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import { SYNC_SUBPROTOCOL, syncSubprotocols } from '../src/client';
import { startEditorSyncServer, testSyncClient } from './helpers/ws-client-harness';

jest.setTimeout(30000);

it('syncSubprotocols: the pair with a token, nothing without', () => {
  expect(syncSubprotocols('a.b.c')).toEqual(['diaryx-sync', 'bearer.a.b.c']);
  expect(syncSubprotocols(undefined)).toEqual([]);
  expect(syncSubprotocols('')).toEqual([]);
});

it('the upgrade request carries the token in the subprotocol list and not in the URL', async () => {
  const seen: IncomingMessage[] = [];
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (p) => (p.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false),
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (socket, req) => {
    seen.push(req);
    socket.close(4401, 'test: seen');
  });
  const port = (wss.address() as { port: number }).port;
  try {
    const fakeServer = { url: `ws://127.0.0.1:${port}` } as Parameters<typeof testSyncClient>[0];
    const { c } = testSyncClient(fakeServer, { token: 'eyJ.payload.sig', reconnect: { maxAttempts: 1 } });
    await c.runOneShot().catch(() => undefined);
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('/sync2');
    const offered = String(seen[0].headers['sec-websocket-protocol'])
      .split(',')
      .map((p) => p.trim());
    expect(offered).toEqual(['diaryx-sync', 'bearer.eyJ.payload.sig']);
  } finally {
    await new Promise<void>((r) => wss.close(() => r()));
  }
});

it('a real test server authenticates the client by the subprotocol token', async () => {
  const server = await startEditorSyncServer();
  try {
    const { c } = testSyncClient(server, {});
    const result = await c.runOneShot();
    expect(result.attempts).toBe(1);
    expect(server.stats).toMatchObject({ accepted: 1, refused: 0 });
  } finally {
    await server.close();
  }
});
