import { SyncClient, createYDocSessionDocuments, type SyncEvent } from '../src/client';
import { startTestSyncServer, type TestSyncServer } from '../src/client/testing';
import { WS, seedServer } from './session-helpers';

jest.setTimeout(30000);

function client(server: TestSyncServer) {
  const docs = createYDocSessionDocuments();
  const events: SyncEvent[] = [];
  const c = new SyncClient({
    serverUrl: server.url,
    workspaceId: WS,
    token: 'test-token',
    documents: docs,
    handler: { onEvent: (e) => events.push(e) },
    reconnect: { baseDelayMs: 50, maxDelayMs: 200, jitter: 0, maxAttempts: 1 },
    tickIntervalMs: 50,
    pingIntervalMs: 100,
  });
  return { c, docs, events };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SyncClient.runOneShot robustness', () => {
  let server: TestSyncServer;
  beforeEach(async () => {
    server = await startTestSyncServer({ workspaces: [WS], tokens: { 'test-token': 'editor' } });
  });
  afterEach(async () => {
    await server.close();
  });

  it('closes the connection and its timers when afterSync throws', async () => {
    seedServer(server.core, { 'a.md': 'A' });
    const { c, events } = client(server);
    const err = await c
      .runOneShot({
        afterSync: () => {
          throw new Error('boom in afterSync');
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('boom in afterSync');
    // Closed at once: no open socket on our side, the session saw the disconnect.
    expect(c.connected).toBe(false);
    expect(c.session.status).toBe('disconnected');
    await waitFor(() => server.sockets.size === 0);
    // No tick or ping timer left running: nothing is sent or emitted any more.
    const before = events.length;
    const frames = [...server.core.framesByDoc.values()].reduce((a, b) => a + b, 0);
    await new Promise((r) => setTimeout(r, 400));
    expect(events.length).toBe(before);
    expect([...server.core.framesByDoc.values()].reduce((a, b) => a + b, 0)).toBe(frames);
  });
});
