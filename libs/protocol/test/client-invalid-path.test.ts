import { type TestSyncServer } from '../src/client/testing';
import { bodyText, seedServer } from './session-helpers';
import { ONE_ATTEMPT_CLIENT, startEditorSyncServer, testSyncClient } from './helpers/ws-client-harness';

jest.setTimeout(30000);

const LONG = `${'x'.repeat(260)}.md`;

const client = (server: TestSyncServer) => testSyncClient(server, ONE_ATTEMPT_CLIENT);

describe('SyncClient with a workspace entry whose body doc id is invalid', () => {
  let server: TestSyncServer;
  beforeEach(async () => {
    server = await startEditorSyncServer();
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
