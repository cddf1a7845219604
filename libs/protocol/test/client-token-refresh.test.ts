/**
 * `SyncClient` with a token provider (docs/protocol.md#tokens) over a real socket: the provider is
 * asked before each connection and again before the token's `exp`, the client switches to a new
 * connection with the fresh token before the old one expires, a 4401 close is retried with a
 * fresh token, and a provider that rejects with a `SyncClientError` (e.g. a revoked share link)
 * ends the run with it.
 */
import { SyncClientError, defaultWebSocketFactory, type WebSocketFactory } from '../src/client';
import { startTestSyncServer, type TestSyncServer } from '../src/client/testing';
import { WS, seedServer } from './session-helpers';
import { testSyncClient as harnessClient, waitFor } from './helpers/ws-client-harness';

jest.setTimeout(30000);

const fast = { baseDelayMs: 50, maxDelayMs: 200, jitter: 0 };

/** An unsigned JWT-shaped token expiring `expInS` seconds from now; `nonce` makes it unique. */
function fakeJwt(expInS: number, nonce: string): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc({ exp: Math.floor(Date.now() / 1000) + expInS, role: 'editor', n: nonce })}.sig`;
}

/** The default WebSocket, recording the token each connection offered. */
function recordingFactory(tokens: string[]): WebSocketFactory {
  const inner = defaultWebSocketFactory();
  return (url, protocols) => {
    tokens.push(protocols.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length) ?? '');
    return inner(url, protocols);
  };
}

/** Clients of the current test, stopped after it even when it failed. */
const clients: { stop(): void }[] = [];

const testSyncClient: typeof harnessClient = (server, options) => {
  const made = harnessClient(server, options);
  clients.push(made.c);
  return made;
};

describe('SyncClient token provider', () => {
  let server: TestSyncServer;
  const short = fakeJwt(3, 'short');
  const long = fakeJwt(3600, 'long');
  const other = fakeJwt(3600, 'other');

  beforeEach(async () => {
    server = await startTestSyncServer({
      workspaces: [WS],
      tokens: { [short]: 'editor', [long]: 'editor', [other]: 'editor' },
    });
    seedServer(server.core, { 'a.md': 'A' });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.stop();
    await server.close();
  });

  it('switches to a fresh token before the current one expires', async () => {
    const issued = [short, long];
    const provider = jest.fn(async () => issued.shift() ?? long);
    const offered: string[] = [];
    const { c, events } = testSyncClient(server, {
      token: provider,
      reconnect: fast,
      tickIntervalMs: 50,
      webSocketFactory: recordingFactory(offered),
    });
    const expiresAt = Date.now() + 3000;
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    expect(offered).toEqual([short]);
    // Refreshed in the second half of the short token's life, then synced on a new connection.
    await waitFor(() => offered.length === 2 && c.session.isSynced, 5000);
    expect(Date.now()).toBeLessThan(expiresAt);
    expect(offered).toEqual([short, long]);
    expect(provider).toHaveBeenCalledTimes(2);
    expect(events.filter((e) => e.type === 'Error')).toEqual([]);
    c.stop();
    await run;
  });

  it('a 4401 close is retried with a fresh token', async () => {
    const issued = [long, other];
    const offered: string[] = [];
    const { c } = testSyncClient(server, {
      token: async () => issued.shift() ?? other,
      reconnect: fast,
      tickIntervalMs: 50,
      webSocketFactory: recordingFactory(offered),
    });
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    server.core.closeAll(4401, 'token expired');
    await waitFor(() => offered.length === 2 && c.session.isSynced, 5000);
    expect(offered).toEqual([long, other]);
    c.stop();
    await run;
  });

  it('without a provider a 4401 close ends the run', async () => {
    const { c } = testSyncClient(server, { token: long, reconnect: fast, tickIntervalMs: 50 });
    const run = c.runPersistent().catch((e: unknown) => e);
    await waitFor(() => c.session.isSynced);
    server.core.closeAll(4401, 'token expired');
    expect(await run).toMatchObject({ kind: 'unauthorized', closeCode: 4401 });
  });

  it('a provider rejecting with a SyncClientError at the refresh ends the run with that error', async () => {
    let calls = 0;
    const { c } = testSyncClient(server, {
      token: async () => {
        if (++calls === 1) return short;
        throw new SyncClientError('unauthorized', 'share link revoked');
      },
      reconnect: fast,
      tickIntervalMs: 50,
    });
    const err = await c.runPersistent().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncClientError);
    expect(err).toMatchObject({ kind: 'unauthorized', message: 'share link revoked' });
    expect(calls).toBe(2);
    await waitFor(() => server.sockets.size === 0);
  });

  it('any other provider failure is retried with backoff, reported as an Error event', async () => {
    let calls = 0;
    const { c, events } = testSyncClient(server, {
      token: async () => {
        if (++calls < 3) throw new Error('auth server down');
        return long;
      },
      reconnect: fast,
      tickIntervalMs: 50,
    });
    const run = c.runPersistent();
    await waitFor(() => c.session.isSynced);
    expect(calls).toBe(3);
    expect(events.filter((e) => e.type === 'Error').map((e) => e.type === 'Error' && e.message)).toEqual([
      'token provider failed: auth server down',
      'token provider failed: auth server down',
    ]);
    c.stop();
    await run;
  });
});
