import { type TestSyncServer } from '../src/client/testing';
import { seedServer } from './session-helpers';
import {
  ONE_ATTEMPT_CLIENT,
  startEditorSyncServer,
  testSyncClient,
  waitFor,
} from './helpers/ws-client-harness';

jest.setTimeout(30000);

const client = (server: TestSyncServer) => testSyncClient(server, ONE_ATTEMPT_CLIENT);

describe('SyncClient.runOneShot robustness', () => {
  let server: TestSyncServer;
  beforeEach(async () => {
    server = await startEditorSyncServer();
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
