/**
 * The scheduled attachment GC (docs/protocol.md#attachments, `ATTACHMENT_GC_INTERVAL_MS`): the
 * worker registers a BullMQ job scheduler; each sweep queues an `attachment-gc` job for every
 * tenant with attachment objects, which deletes what nothing references — never an object a live
 * workspace doc or a commit references. Real Redis + BullMQ, PostgreSQL and s3rver.
 */
import { randomBytes } from 'node:crypto';
import type { BinaryRef, FileMetadata } from '@diaryx-sync/crdt';
import { ATTACHMENT_GC_SWEEP, HistoryQueues, QUEUE_NAMES } from '@diaryx-sync/bus';
import { AttachmentStore } from '@diaryx-sync/objstore';
import { createRedis } from '@diaryx-sync/runtime';
import { startWorkerApp, type WorkerApp } from '../src/worker-app';
import { createWorkerTestEnv, type WorkerTestEnv } from './helpers/worker-env';
import { editWorkspace, setBody } from './helpers/workspace-seed';
import { until } from './helpers/until';

jest.setTimeout(60_000);

const INTERVAL_MS = 500;

function ref(path: string, hash: string, size: number): BinaryRef {
  return { path, source: 'sha256', hash, mime_type: 'image/png', size, uploaded_at: 1, deleted: false };
}

function note(attachments: BinaryRef[]): Partial<FileMetadata> {
  return { title: 'Note', modified_at: 1_700_000_000_000, attachments };
}

describe('scheduled attachment GC', () => {
  let env: WorkerTestEnv;
  let app: WorkerApp | undefined;
  let queues: HistoryQueues;
  let store: AttachmentStore;

  beforeAll(async () => {
    env = await createWorkerTestEnv();
    // The tenants, as the gateway's `tenants` table lists them (the sweep reads only `id`); t3 has
    // no attachment objects.
    await env.pool.query('CREATE TABLE tenants (id text PRIMARY KEY, name text NOT NULL)');
    await env.pool.query("INSERT INTO tenants (id, name) VALUES ('t1', 't1'), ('t2', 't2'), ('t3', 't3')");
    store = new AttachmentStore(env.objects);
    queues = new HistoryQueues({
      connect: () => createRedis({ kind: 'single', url: 'redis://127.0.0.1:6379' }),
      prefix: env.prefix,
    });
  });

  afterAll(async () => {
    await app?.close();
    await queues?.close();
    await env?.close();
  });

  const hashes = async (tenant: string): Promise<string[]> =>
    (await store.list(tenant)).map((o) => o.hash).sort();

  it('every interval, each tenant with attachments is collected: orphans go, live and committed refs stay', async () => {
    // Workers that never sweep first: the bytes and references are set up with no GC running.
    app = await startWorkerApp(env.config({ ATTACHMENT_GC_INTERVAL_MS: '0' }), {
      applyUpdate: async (req) => {
        await env.storage(req.tenant).appendUpdate(req.docId, req.update, { origin: req.origin });
      },
    });
    expect(await queues.queue(QUEUE_NAMES.attachmentGc).getJobScheduler(ATTACHMENT_GC_SWEEP)).toBeUndefined();

    const bytes = { committed: randomBytes(2000), live: randomBytes(2000), orphan: randomBytes(2000) };
    const committed = await store.putBytes('t1', bytes.committed, 'image/png');
    const live = await store.putBytes('t1', bytes.live, 'image/png');
    const orphan1 = await store.putBytes('t1', bytes.orphan, 'image/png');
    const orphan2 = await store.putBytes('t2', randomBytes(2000), 'image/png');
    const storage = env.storage('t1');

    // A commit references `committed`; then the live doc references `live` instead.
    await editWorkspace(storage, 'w1', (w) =>
      w.setFile('note.md', note([ref('img/c.png', committed, bytes.committed.length)])),
    );
    await setBody(storage, 'w1', 'note.md', 'hello\n');
    const commit = await queues.commitNow('t1', 'w1', 'test', 30_000);
    expect(commit.files).toBeGreaterThan(0);
    await editWorkspace(storage, 'w1', (w) =>
      w.setFile('note.md', note([ref('img/l.png', live, bytes.live.length)])),
    );
    expect(await hashes('t1')).toEqual([committed, live, orphan1].sort());

    // A worker restarted with a short interval and no grace period schedules the sweep.
    await app.close();
    app = await startWorkerApp(
      env.config({ ATTACHMENT_GC_INTERVAL_MS: String(INTERVAL_MS), ATTACHMENT_GC_GRACE_MS: '0' }),
    );
    const scheduler = await queues.queue(QUEUE_NAMES.attachmentGc).getJobScheduler(ATTACHMENT_GC_SWEEP);
    expect(scheduler).toMatchObject({ every: INTERVAL_MS });

    const started = Date.now();
    await until(async () => (await hashes('t2')).length === 0 && (await hashes('t1')).length === 2, 20_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await hashes('t1')).toEqual([committed, live].sort());
    expect(await hashes('t2')).toEqual([]);
    expect(orphan2).toMatch(/^[0-9a-f]{64}$/);

    // It keeps running: bytes orphaned later go at a later sweep, references stay.
    const later = await store.putBytes('t1', randomBytes(1000), 'image/png');
    expect(await hashes('t1')).toContain(later);
    await until(async () => !(await hashes('t1')).includes(later), 20_000);
    expect(await hashes('t1')).toEqual([committed, live].sort());

    // Interval 0 removes the schedule.
    await app.close();
    app = await startWorkerApp(env.config({ ATTACHMENT_GC_INTERVAL_MS: '0' }));
    expect(await queues.queue(QUEUE_NAMES.attachmentGc).getJobScheduler(ATTACHMENT_GC_SWEEP)).toBeUndefined();
  });
});
