import { SyncClient, createYDocSessionDocuments, type SyncEvent } from '../src/client';
import { startTestSyncServer, type TestSyncServer } from '../src/client/testing';
import { WS, bodyText, seedServer } from './session-helpers';

jest.setTimeout(30000);

const LONG = `${'x'.repeat(260)}.md`;

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

describe('SyncClient with a workspace entry whose body doc id is invalid', () => {
  let server: TestSyncServer;
  beforeEach(async () => {
    server = await startTestSyncServer({ workspaces: [WS], tokens: { 'test-token': 'editor' } });
  });
  afterEach(async () => {
    await server.close();
  });

  it('skips a workspace entry with an over-long path (error event) and saves everything else', async () => {
    seedServer(server.core, { 'a.md': 'A', [LONG]: 'too long' });
    const { c, docs, events } = client(server);
    const result = await c.runOneShot({ timeoutMs: 8000 });
    // The workspace doc and a.md; the over-long path has no usable body doc id.
    expect(result).toMatchObject({ files: 2, saved: 2, attempts: 1 });
    expect(bodyText(docs.bodyDocs.get('a.md'))).toBe('A');
    const errors = events.filter((e) => e.type === 'Error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((e) => e.type === 'Error' && e.message.includes(LONG))).toBe(true);
  });
});
