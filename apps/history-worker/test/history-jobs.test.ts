import { gunzipSync } from 'node:zlib';
import * as Y from 'yjs';
import { BodyDoc } from '@diaryx-sync/crdt';
import { GitStore, AuditLog, serveDumbHttp } from '@diaryx-sync/git-store';
import { HistoryQueues, type CommitJobResult } from '@diaryx-sync/bus';
import { startWorkerApp, type WorkerApp } from '../src/worker-app';
import type { ApplyUpdate } from '../src/jobs/job-context';
import { createWorkerTestEnv, type WorkerTestEnv } from './helpers/worker-env';
import { editWorkspace, getBody, seedWorkspace, setBody } from './helpers/workspace-seed';
import { createRedis } from '@diaryx-sync/runtime';
import { until } from './helpers/until';

const T = 'tenant1';
const ORPHAN_GRACE_MS = 1000;

describe('history worker jobs (Redis + BullMQ, PostgreSQL, s3rver)', () => {
  let env: WorkerTestEnv;
  let app: WorkerApp;
  let queues: HistoryQueues;
  let git: GitStore;
  const applied: { docId: string; origin: string }[] = [];
  /** Workspaces whose repairs the fake shard silently drops. */
  const refuseRepairsOf = new Set<string>();

  beforeAll(async () => {
    env = await createWorkerTestEnv();
    // Without a running cluster, forward updates go straight to the storage (what the shard does).
    const applyUpdate: ApplyUpdate = async (req) => {
      applied.push({ docId: req.docId, origin: req.origin });
      const ws = req.docId.replace(/^(workspace:|body:)/, '').split('/')[0];
      if (req.origin === 'repair' && refuseRepairsOf.has(ws)) return;
      await env.storage(req.tenant).appendUpdate(req.docId, req.update, { origin: req.origin });
    };
    app = await startWorkerApp(env.config({ HISTORY_ORPHAN_GRACE_MS: String(ORPHAN_GRACE_MS) }), {
      applyUpdate,
    });
    queues = new HistoryQueues({
      connect: () => createRedis({ kind: 'single', url: 'redis://127.0.0.1:6379' }),
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

  it('a broken parent is repaired in place: the commit proceeds, nothing written after the good commit is reverted', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'broken');
    const good = (await queues.commitNow(T, 'broken')) as Extract<CommitJobResult, { status: 'committed' }>;
    expect(good.status).toBe('committed');
    // acknowledged after the good commit
    await setBody(storage, 'broken', 'notes/b.md', 'beta\nwritten after the commit\n');
    // corrupt: a live file whose parent chain is broken
    await editWorkspace(storage, 'broken', (w) => {
      const meta = w.getFile('notes/a.md')!;
      w.setFile('notes/a.md', { ...meta, part_of: 'missing/parent.md', modified_at: meta.modified_at + 1 });
    });
    expect((await queues.validateNow(T, 'broken')).ok).toBe(true); // validation heals too
    const audit = new AuditLog(env.pool);
    const [repair] = await audit.list({ tenant: T, workspace: 'broken', event: 'repair' });
    expect(repair.actor).toBe('system');
    expect(repair.details.repairs).toEqual([
      expect.objectContaining({
        kind: 'reattach',
        issue: 'broken_parent',
        files: ['notes/a.md', 'missing/parent.md'],
      }),
    ]);
    expect(applied.some((a) => a.docId === 'workspace:broken' && a.origin === 'repair')).toBe(true);

    const next = await queues.commitNow(T, 'broken');
    // notes/b.md (the edit) and notes/a.md (its repaired metadata)
    expect(next).toMatchObject({ status: 'committed', changed: 2 });
    const files = await git.repository(T, 'broken').readFiles();
    const text = (p: string) => Buffer.from(files.find((f) => f.path === p)!.content).toString();
    expect(text('notes/b.md')).toContain('written after the commit');
    expect(text('notes/a.md')).toContain('alpha 🎉');
    expect(await getBody(storage, 'broken', 'notes/b.md')).toBe('beta\nwritten after the commit\n');
    expect(await audit.list({ tenant: T, workspace: 'broken', event: 'rebuild' })).toEqual([]);
  });

  it('orphan bodies wait for their grace period, then are committed under lost+found; cycles are cut in place', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'repair');
    expect((await queues.commitNow(T, 'repair')).status).toBe('committed');
    await setBody(storage, 'repair', 'ghost.md', 'a body without a file\n');
    await editWorkspace(storage, 'repair', (w) => {
      const a = w.getFile('notes/a.md')!;
      const b = w.getFile('notes/b.md')!;
      w.setFile('notes/a.md', { ...a, part_of: 'notes/b.md', modified_at: a.modified_at + 1 });
      w.setFile('notes/b.md', { ...b, part_of: 'notes/a.md', modified_at: b.modified_at + 2 });
    });
    // the young orphan is no error: the cycle is cut and the commit proceeds without it
    const first = await queues.commitNow(T, 'repair');
    expect(first).toMatchObject({ status: 'committed' });
    const repo = git.repository(T, 'repair');
    expect((await repo.readFiles()).map((f) => f.path)).toEqual(['README.md', 'notes/a.md', 'notes/b.md']);
    const audit = new AuditLog(env.pool);
    const cut = (await audit.list({ tenant: T, workspace: 'repair', event: 'repair' }))[0];
    expect(cut.details.repairs).toEqual([
      expect.objectContaining({ kind: 'break_cycle', files: ['notes/b.md', 'notes/a.md'] }),
    ]);
    // past the grace period the orphan is adopted
    await new Promise((r) => setTimeout(r, ORPHAN_GRACE_MS + 200));
    const second = await queues.commitNow(T, 'repair');
    expect(second).toMatchObject({ status: 'committed', added: 1 });
    const lost = (await repo.readFiles()).find((f) => f.path === 'lost+found/ghost.md')!;
    expect(Buffer.from(lost.content).toString()).toMatch(
      /recovered_from: ghost\.md[\s\S]*a body without a file\n$/,
    );
    expect(await getBody(storage, 'repair', 'ghost.md')).toBe('a body without a file\n'); // original kept
    const adopt = (await audit.list({ tenant: T, workspace: 'repair', event: 'repair' }))[0];
    expect(adopt.details.repairs).toEqual([
      expect.objectContaining({ kind: 'adopt_orphan', files: ['lost+found/ghost.md', 'ghost.md'] }),
    ]);
    expect(await queues.validateNow(T, 'repair')).toEqual({ ok: true, issues: [] });
  });

  it('findings repair cannot fix stop commits and raise an alert at the threshold; nothing is reverted', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'stuck');
    const good = (await queues.commitNow(T, 'stuck')) as { commit_id: string };
    await setBody(storage, 'stuck', 'notes/a.md', 'alpha 🎉\nacknowledged after the commit\n');
    await editWorkspace(storage, 'stuck', (w) => {
      const meta = w.getFile('notes/a.md')!;
      w.setFile('notes/a.md', { ...meta, part_of: 'missing/parent.md', modified_at: meta.modified_at + 1 });
    });
    refuseRepairsOf.add('stuck'); // the owning shard never takes the repair
    try {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await queues.commitNow(T, 'stuck'));
      expect(results.map((r) => (r as { action?: string }).action)).toEqual([
        'skip_commit',
        'skip_commit',
        'alert',
      ]);
      const audit = new AuditLog(env.pool);
      const [alert] = await audit.list({ tenant: T, workspace: 'stuck', event: 'validation_alert' });
      expect(alert.details).toMatchObject({ consecutive_failures: 3 });
      expect(await audit.list({ tenant: T, workspace: 'stuck', event: 'rebuild' })).toEqual([]);
      expect(await getBody(storage, 'stuck', 'notes/a.md')).toBe('alpha 🎉\nacknowledged after the commit\n');
      expect((await git.repository(T, 'stuck').log()).map((c) => c.id)).toEqual([good.commit_id]);
    } finally {
      refuseRepairsOf.delete('stuck');
    }
    // once the repair goes through, commits resume
    expect(await queues.commitNow(T, 'stuck')).toMatchObject({ status: 'committed' });
  });

  it('undecodable update rows trigger a rebuild that keeps every readable edit, with the old state in S3 and refs/backups', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'corrupt');
    const good = (await queues.commitNow(T, 'corrupt')) as { commit_id: string };
    await setBody(storage, 'corrupt', 'notes/b.md', 'beta\nwritten after the commit\n');
    const garbage = Buffer.from('not a yjs update, not at all');
    await storage.appendUpdate('body:corrupt/notes/b.md', garbage, { origin: 'disk-rot' });
    await storage.appendUpdate('workspace:corrupt', garbage, { origin: 'disk-rot' });

    const res = await queues.commitNow(T, 'corrupt');
    expect(res).toMatchObject({ status: 'validation_failed', action: 'rebuild' });
    const audit = new AuditLog(env.pool);
    const row = await until(
      async () => (await audit.list({ tenant: T, workspace: 'corrupt', event: 'rebuild' }))[0],
    );
    expect(row).toMatchObject({ actor: 'system', commit_id: good.commit_id });
    expect(row.details).toMatchObject({ readable: true, valid: true });
    expect((row.details.files as string[]).sort()).toEqual(['body:corrupt/notes/b.md', 'workspace:corrupt']);
    expect(await getBody(storage, 'corrupt', 'notes/b.md')).toBe('beta\nwritten after the commit\n');
    // pre-rebuild state: raw rows in S3, readable state on refs/backups/<time>
    const backup = JSON.parse(gunzipSync((await env.objects.get(row.backup_key!))!).toString());
    const rows = backup.docs.find((d: { doc: string }) => d.doc === 'body:corrupt/notes/b.md').updates;
    expect(rows.map((u: { data: string }) => u.data)).toContain(garbage.toString('base64'));
    const repo = git.repository(T, 'corrupt');
    const refs = await repo.backupRefs();
    expect(refs).toEqual([{ name: row.details.backup_ref, value: row.details.backup_commit }]);
    const infoRefs = (await serveDumbHttp(repo, 'info/refs')).body.toString();
    expect(infoRefs).toContain(`${row.details.backup_commit}\t${row.details.backup_ref}`);
    const kept = await repo.readFiles(row.details.backup_commit as string);
    expect(Buffer.from(kept.find((f) => f.path === 'notes/b.md')!.content).toString()).toContain(
      'written after the commit',
    );
    // the CRDT loads again and commits resume with the edit
    const next = await queues.commitNow(T, 'corrupt');
    expect(next).toMatchObject({ status: 'committed', changed: 1 });
  });

  it('a snapshot that fails to apply is rebuilt from the last good commit', async () => {
    const storage = env.storage(T);
    await seedWorkspace(storage, 'badsnap');
    const good = (await queues.commitNow(T, 'badsnap')) as { commit_id: string };
    await storage.compact('body:badsnap/notes/a.md', 0);
    await env.pool.query(
      `UPDATE crdt_snapshots SET snapshot = $1 WHERE tenant = $2 AND doc = 'body:badsnap/notes/a.md'`,
      [Buffer.from('garbage snapshot'), T],
    );
    expect(await queues.commitNow(T, 'badsnap')).toMatchObject({ action: 'rebuild' });
    const audit = new AuditLog(env.pool);
    const row = await until(
      async () => (await audit.list({ tenant: T, workspace: 'badsnap', event: 'rebuild' }))[0],
    );
    expect(row.details).toMatchObject({
      readable: true,
      valid: true,
      unreadable: [{ docId: 'body:badsnap/notes/a.md', badSnapshot: true, badUpdateIds: [] }],
    });
    expect(await getBody(storage, 'badsnap', 'notes/a.md')).toBe('alpha 🎉\n');
    expect(await queues.commitNow(T, 'badsnap')).toEqual({
      status: 'nothing_to_commit',
      commit_id: good.commit_id,
    });
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
