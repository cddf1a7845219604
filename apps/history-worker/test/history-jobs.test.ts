import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { BodyDoc } from '@diaryx-sync/crdt';
import { HistoryQueues, GitStore, AuditLog, type CommitJobResult } from '@diaryx-sync/git-store';
import { startWorkerApp, type WorkerApp } from '../src/worker-app';
import type { ApplyUpdate } from '../src/jobs/job-context';
import { createWorkerTestEnv, type WorkerTestEnv } from './helpers/worker-env';
import { editWorkspace, getBody, seedWorkspace, setBody } from './helpers/workspace-seed';

const T = 'tenant1';

async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('history worker jobs (Redis + BullMQ, PostgreSQL, s3rver)', () => {
  let env: WorkerTestEnv;
  let app: WorkerApp;
  let queues: HistoryQueues;
  let git: GitStore;
  const applied: { docId: string; origin: string }[] = [];

  beforeAll(async () => {
    env = await createWorkerTestEnv();
    // Without a running cluster, forward updates go straight to the storage (what the shard does).
    const applyUpdate: ApplyUpdate = async (req) => {
      applied.push({ docId: req.docId, origin: req.origin });
      await env.storage(req.tenant).appendUpdate(req.docId, req.update, { origin: req.origin });
    };
    app = await startWorkerApp(env.config(), { applyUpdate });
    queues = new HistoryQueues({
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: env.prefix,
      quietMs: 300,
      maxWaitMs: 2000,
    });
    git = new GitStore(env.objects, env.pool);
  });

  afterAll(async () => {
    await queues?.close();
    await app?.close();
    await env?.close();
  });

  it('commits after the quiet period, and only when something changed', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'quiet');
    await queues.touchWorkspace(T, 'quiet');
    await queues.touchWorkspace(T, 'quiet'); // debounced: one job
    const repo = git.repository(T, 'quiet');
    const log = await until(async () => {
      const l = await repo.log();
      return l.length > 0 ? l : null;
    });
    expect(log).toHaveLength(1);
    expect(log[0].message).toMatch(/3 added, 0 changed, 0 removed/);
    const files = await repo.readFiles();
    expect(files.map((f) => f.path)).toEqual(['README.md', 'notes/a.md', 'notes/b.md']);
    expect(Buffer.from(files[1].content).toString()).toContain('alpha 🎉');

    const again = await queues.commitNow(T, 'quiet');
    expect(again).toEqual({ status: 'nothing_to_commit', commit_id: log[0].id });

    await setBody(storage, 'quiet', 'notes/b.md', 'beta, edited\n');
    const res = await queues.commitNow(T, 'quiet', 'alice');
    expect(res).toMatchObject({ status: 'committed', files: 3, added: 0, changed: 1, removed: 0 });
    expect((await repo.log()).map((c) => c.id)).toEqual([
      (res as { commit_id: string }).commit_id,
      log[0].id,
    ]);
  });

  it('commits at least every maxWait under constant editing', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'busy');
    const repo = git.repository(T, 'busy');
    const start = Date.now();
    let i = 0;
    while (Date.now() - start < 3500 && (await repo.log()).length === 0) {
      await setBody(storage, 'busy', 'README.md', `edit ${i++}\n`);
      await queues.touchWorkspace(T, 'busy');
      await new Promise((r) => setTimeout(r, 100)); // never quiet for 300 ms
    }
    expect((await repo.log()).length).toBeGreaterThan(0);
    expect(Date.now() - start).toBeLessThan(3500);
  });

  it('validation failures skip the commit; the third triggers a rebuild with a backup, and the workspace validates again', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'broken');
    const good = (await queues.commitNow(T, 'broken')) as Extract<CommitJobResult, { status: 'committed' }>;
    expect(good.status).toBe('committed');
    // corrupt: a live file whose parent chain is broken
    await editWorkspace(storage, 'broken', (w) => {
      const meta = w.getFile('notes/a.md')!;
      w.setFile('notes/a.md', { ...meta, part_of: 'missing/parent.md', modified_at: meta.modified_at + 1 });
    });
    const first = await queues.commitNow(T, 'broken');
    expect(first).toMatchObject({ status: 'validation_failed', action: 'skip_commit' });
    expect((first as { issues: { kind: string }[] }).issues.map((i) => i.kind)).toContain('broken_parent');
    await queues.commitNow(T, 'broken');
    const third = await queues.commitNow(T, 'broken');
    expect(third).toMatchObject({ status: 'validation_failed', action: 'rebuild' });

    const audit = new AuditLog(env.pool);
    const rebuild = await until(
      async () => (await audit.list({ tenant: T, workspace: 'broken', event: 'rebuild' }))[0],
    );
    expect(rebuild.commit_id).toBe(good.commit_id);
    expect(rebuild.actor).toBe('system');
    expect(rebuild.details).toMatchObject({ valid: true });
    expect(rebuild.backup_key).toMatch(new RegExp(`^${T}/broken/backups/`));
    const backup = JSON.parse(gunzipSync((await env.objects.get(rebuild.backup_key!))!).toString());
    expect(backup.docs.map((d: { doc: string }) => d.doc)).toContain('workspace:broken');
    expect(
      backup.docs.find((d: { doc: string }) => d.doc === 'workspace:broken').updates.length,
    ).toBeGreaterThan(0);

    expect(await queues.validateNow(T, 'broken')).toEqual({ ok: true, issues: [] });
    expect(applied.some((a) => a.docId === 'workspace:broken' && a.origin === 'rebuild')).toBe(true);
    expect(await queues.commitNow(T, 'broken')).toEqual({
      status: 'nothing_to_commit',
      commit_id: good.commit_id,
    });
  });

  it('a rebuild also repairs orphan body docs and path cycles', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'repair');
    expect((await queues.commitNow(T, 'repair')).status).toBe('committed');
    await setBody(storage, 'repair', 'ghost.md', 'a body without a file\n');
    await editWorkspace(storage, 'repair', (w) => {
      const a = w.getFile('notes/a.md')!;
      const b = w.getFile('notes/b.md')!;
      w.setFile('notes/a.md', { ...a, part_of: 'notes/b.md', modified_at: a.modified_at + 1 });
      w.setFile('notes/b.md', { ...b, part_of: 'notes/a.md', modified_at: b.modified_at + 1 });
    });
    const kinds = ((await queues.validateNow(T, 'repair')).issues ?? []).map((i) => i.kind);
    expect(kinds).toEqual(expect.arrayContaining(['orphan_body', 'path_cycle']));
    for (let i = 0; i < 2; i++) await queues.commitNow(T, 'repair');
    const audit = new AuditLog(env.pool);
    const row = await until(
      async () => (await audit.list({ tenant: T, workspace: 'repair', event: 'rebuild' }))[0],
    );
    expect(row.details).toMatchObject({ valid: true });
    expect(await queues.validateNow(T, 'repair')).toEqual({ ok: true, issues: [] });
    expect(await getBody(storage, 'repair', 'ghost.md')).toBe('a body without a file\n'); // nothing deleted
  });

  it('restores a commit as forward updates (deleted files come back, new files become tombstones)', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'rest');
    const v1 = (await queues.commitNow(T, 'rest')) as { commit_id: string };
    await setBody(storage, 'rest', 'notes/a.md', 'rewritten\n');
    await editWorkspace(storage, 'rest', (w) => {
      w.setFile('extra.md', { title: 'Extra', modified_at: Date.now() });
    });
    await setBody(storage, 'rest', 'extra.md', 'extra\n');
    const v2 = await queues.commitNow(T, 'rest');
    expect(v2).toMatchObject({ status: 'committed', added: 1, changed: 1 });

    const res = await queues.restoreNow({
      tenant: T,
      workspace: 'rest',
      source: { kind: 'commit', commitId: v1.commit_id },
      requestedBy: 'bob',
    });
    expect(res).toMatchObject({ status: 'restored', commit_id: v1.commit_id, valid: true, files: 3 });
    expect(await getBody(storage, 'rest', 'notes/a.md')).toBe('alpha 🎉\n');
    const repo = git.repository(T, 'rest');
    const v1Files = (await repo.readFiles(v1.commit_id)).map((f) => [
      f.path,
      Buffer.from(f.content).toString(),
    ]);
    // the next commit's tree equals v1 again; history keeps v2
    const after = (await queues.commitNow(T, 'rest')) as { commit_id: string };
    expect(
      (await repo.readFiles(after.commit_id)).map((f) => [f.path, Buffer.from(f.content).toString()]),
    ).toEqual(v1Files);
    expect((await repo.log()).length).toBe(3);
    const audit = await new AuditLog(env.pool).list({ tenant: T, workspace: 'rest', event: 'restore' });
    expect(audit[0]).toMatchObject({ actor: 'bob', commit_id: v1.commit_id });
    // restoring again changes nothing (idempotent)
    expect(
      await queues.restoreNow({
        tenant: T,
        workspace: 'rest',
        source: { kind: 'commit', commitId: v1.commit_id },
      }),
    ).toMatchObject({
      status: 'unchanged',
    });
    await expect(
      queues.restoreNow({
        tenant: T,
        workspace: 'rest',
        source: { kind: 'commit', commitId: 'f'.repeat(40) },
      }),
    ).rejects.toThrow(/unknown commit/);
  });

  it('compaction under concurrent writes loses nothing', async () => {
    const storage = env.storage(T);
    const docId = 'body:compact/notes/a.md';
    // A client replica produces the updates; the stored state must end up equal to it.
    const replica = new BodyDoc('notes/a.md');
    const write = async (i: number) => {
      const sv = Y.encodeStateVector(replica.doc);
      replica.insertAt(replica.getBody().length, `line ${i}\n`);
      await storage.appendUpdate(docId, Y.encodeStateAsUpdate(replica.doc, sv), { origin: 'test' });
    };
    for (let i = 0; i < 50; i++) await write(i);
    const writer = (async () => {
      for (let i = 50; i < 250; i++) await write(i);
    })();
    for (let k = 0; k < 5; k++) {
      await queues.enqueueCompaction({ tenant: T, docId, keepUpdates: 3 });
      await new Promise((r) => setTimeout(r, 40));
    }
    await writer;
    await queues.enqueueCompaction({ tenant: T, docId, keepUpdates: 3 });
    await until(async () => (await storage.getUpdateCount(docId)) <= 3);
    const stored = BodyDoc.fromUpdate('notes/a.md', await storage.loadDoc(docId));
    expect(stored.getBody()).toBe(replica.getBody());
    expect(Buffer.from(Y.encodeStateVector(stored.doc))).toEqual(
      Buffer.from(Y.encodeStateVector(replica.doc)),
    );
    expect(replica.getBody().split('\n')).toHaveLength(251);
  });
});
