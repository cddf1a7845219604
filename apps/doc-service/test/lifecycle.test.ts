/**
 * Doc lifecycle: bounded loaded docs (LRU), idle unload, compaction past the threshold and on
 * unload (inline and via the history queue hook), workspace change notifications.
 */
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { InlineCompactionScheduler, QueueCompactionScheduler } from '@diaryx-sync/doc-service';
import { TestDocService } from './helpers/test-doc-service';
import { decodeMessages } from '@diaryx-sync/protocol';
import * as Y from 'yjs';
import { FakeGateway, sleep, step1Msg, textUpdate, updateMsg, waitFor, type TestEnv } from './helpers';
import { docServiceOptions, startEnvWithGateway } from './helpers/harness';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const SHARDS = 4;
const T = 'tenant-l';

describe('doc lifecycle', () => {
  let env: TestEnv;
  let gw: FakeGateway;
  const services: TestDocService[] = [];

  const serverText = async (docId: string) => {
    const r = await gw.frame(T, docId, 'reader', step1Msg());
    const d = new Y.Doc();
    Y.applyUpdate(d, (decodeMessages(r.payloads[0]!)[0] as { update: Uint8Array }).update);
    return d.getText('body').toString();
  };

  beforeAll(async () => {
    ({ env, gw } = await startEnvWithGateway(SHARDS));
  });
  afterAll(async () => {
    gw.close();
    for (const s of services) await s.stop();
    await env.close();
  });

  it('keeps at most maxLoadedDocs in memory and reloads evicted docs intact; compacts inline past the threshold', async () => {
    const storage = new PostgresStorage({ pool: env.pool, tenant: T });
    const svc = new TestDocService(
      docServiceOptions(env, SHARDS, {
        maxLoadedDocs: 3,
        compactionThreshold: 10,
        compactKeepUpdates: 2,
        compaction: new InlineCompactionScheduler({ storage, keepUpdates: 2, logger: env.logger }),
      }),
    );
    services.push(svc);
    await svc.start();

    const docs = Array.from({ length: 6 }, (_, i) => `body:w/lru-${i}.md`);
    for (const d of docs) await gw.frame(T, d, 'c', updateMsg(textUpdate(d)));
    await waitFor(() => svc.stats().docsLoaded <= 3, 3000, 'eviction');
    for (const d of docs) expect(await serverText(d)).toBe(d); // reloads from PostgreSQL
    expect(svc.stats().docsLoaded).toBeLessThanOrEqual(3);

    // 12 updates on one doc: the threshold (10) schedules a compaction keeping 2
    const docId = 'body:w/busy.md';
    const client = new Y.Doc();
    for (let i = 0; i < 12; i++) await gw.frame(T, docId, 'c', updateMsg(textUpdate(`${i};`, client)));
    await waitFor(async () => (await storage.getUpdateCount(docId)) <= 4, 5000, 'compaction');
    expect(await serverText(docId)).toBe(client.getText('body').toString());
    const stored = new Y.Doc();
    Y.applyUpdate(stored, (await storage.loadDoc(docId))!);
    expect(stored.getText('body').toString()).toBe(client.getText('body').toString());
    await svc.stop();
  });

  it('unloads idle docs (after their writes) and asks the history queue to compact them; reports changed workspaces', async () => {
    const enqueued: string[] = [];
    const touched: string[] = [];
    const svc = new TestDocService({
      ...docServiceOptions(env, SHARDS),
      docIdleMs: 200,
      compactKeepUpdates: 0,
      compaction: new QueueCompactionScheduler(async (tenant, docId) => {
        enqueued.push(`${tenant}/${docId}`);
      }, env.logger),
      touchWorkspace: async (tenant, workspace) => {
        touched.push(`${tenant}/${workspace}`);
      },
    });
    services.push(svc);
    await svc.start();
    const docId = 'body:ws9/idle.md';
    await gw.frame(T, docId, 'c', updateMsg(textUpdate('idle soon')));
    await gw.frame(T, docId, 'c', updateMsg(textUpdate(' more')));
    expect(svc.registry.peek(T, docId)).toBeDefined();
    await waitFor(() => touched.length > 0, 3000, 'touch');
    expect(touched[0]).toBe(`${T}/ws9`);
    await sleep(300);
    await svc.sweep();
    await waitFor(() => svc.registry.peek(T, docId) === undefined, 3000, 'idle unload');
    await waitFor(() => enqueued.includes(`${T}/${docId}`), 3000, 'compaction request');
    // throttled: two quick updates, at most a leading and a trailing touch
    await sleep(1100);
    expect(touched.length).toBeLessThanOrEqual(2);
    await svc.stop();
  });
});
