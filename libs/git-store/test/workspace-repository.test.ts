import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { Pool } from 'pg';
import { ObjectStorage } from '@diaryx-sync/objstore';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { GitStore, serveDumbHttp, type RepoFile } from '@diaryx-sync/git-store';
import { createTestSchema, DATABASE_URL } from './helpers/env';

const run = promisify(execFile);
const author = { name: 'Diaryx Sync', email: 'history@diaryx-sync.local' };

describe('WorkspaceRepository (s3rver + PostgreSQL)', () => {
  let s3: EmbeddedS3;
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let store: GitStore;

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    db = await createTestSchema();
    store = new GitStore(new ObjectStorage(s3.config), db.pool);
    await store.migrate();
    await store.migrate(); // idempotent
  });
  afterAll(async () => {
    await db.drop();
    await s3.stop();
  });

  it('commits nested files, skips unchanged trees, and logs newest first', async () => {
    const repo = store.repository('tenant_a', 'ws1');
    expect(await repo.head()).toBeNull();
    expect(await repo.commitFiles([], { author })).toEqual({ status: 'nothing_to_commit', head: null });

    const files: RepoFile[] = [
      { path: 'README.md', content: '---\ntitle: Home\n---\n\n# Home\n' },
      { path: 'journal/2024.md', content: 'day one 🎉\n' },
      { path: 'journal/deep/x.md', content: 'x' },
    ];
    const first = await repo.commitFiles(files, { author, now: new Date('2026-01-02T03:04:05Z') });
    expect(first.status).toBe('committed');
    if (first.status !== 'committed') throw new Error('unreachable');
    expect(first.diff).toEqual({
      added: ['README.md', 'journal/2024.md', 'journal/deep/x.md'],
      changed: [],
      removed: [],
    });
    expect(first.files).toBe(3);

    const again = await repo.commitFiles(files, { author });
    expect(again).toEqual({ status: 'nothing_to_commit', head: first.commitId });

    const second = await repo.commitFiles(
      [files[0], { path: 'journal/2024.md', content: 'day two\n' }, { path: 'new.md', content: 'n' }],
      { author, now: new Date('2026-01-02T04:00:00Z') },
    );
    if (second.status !== 'committed') throw new Error('expected a commit');
    expect(second.parent).toBe(first.commitId);
    expect(second.diff).toEqual({
      added: ['new.md'],
      changed: ['journal/2024.md'],
      removed: ['journal/deep/x.md'],
    });

    const log = await repo.log(10);
    expect(log.map((c) => c.id)).toEqual([second.commitId, first.commitId]);
    expect(log[0].parents).toEqual([first.commitId]);
    expect(log[0].timestamp).toBe('2026-01-02T04:00:00.000Z');
    expect(log[0].message).toMatch(/^Snapshot 2026-01-02T04:00:00Z: 1 added, 1 changed, 1 removed/);
    expect(log[0].message).toContain('journal/deep/x.md');
    expect(await repo.log(1)).toHaveLength(1);

    const old = await repo.readFiles(first.commitId);
    expect(old.map((f) => [f.path, Buffer.from(f.content).toString()])).toEqual(
      files.map((f) => [f.path, f.content]).sort(),
    );
    await expect(repo.readFiles('0'.repeat(40))).rejects.toThrow(/unknown commit/);
  });

  it('stores standard zlib loose objects under tenant-qualified keys', async () => {
    const repo = store.repository('tenant_b', 'ws1');
    const res = await repo.commitFiles([{ path: 'a.md', content: 'A' }], { author });
    if (res.status !== 'committed') throw new Error('expected a commit');
    const key = `tenant_b/ws1/git/objects/${res.commitId.slice(0, 2)}/${res.commitId.slice(2)}`;
    const raw = await new ObjectStorage(s3.config).get(key);
    expect(raw).not.toBeNull();
    expect(inflateSync(raw!).toString('latin1')).toMatch(/^commit \d+\0tree [0-9a-f]{40}\n/);
    // the same workspace id in another tenant is another repository
    expect(await store.repository('tenant_a', 'ws_other').head()).toBeNull();
  });

  it('two workers racing on one workspace produce one linear history without lost commits', async () => {
    const poolB = new Pool({
      connectionString: DATABASE_URL,
      max: 5,
      options: `-c search_path=${db.schema}`,
    });
    const storeB = new GitStore(new ObjectStorage(s3.config), poolB);
    try {
      const repos = [store.repository('tenant_r', 'race'), storeB.repository('tenant_r', 'race')];
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          repos[i % 2].commitFiles(
            [
              { path: 'f.md', content: `version ${i}` },
              { path: `only-${i}.md`, content: 'x' },
            ],
            {
              author,
            },
          ),
        ),
      );
      const committed = results.filter((r) => r.status === 'committed');
      expect(committed).toHaveLength(12);
      const log = await repos[0].log(100);
      expect(log).toHaveLength(12);
      // linear: each commit's only parent is the next older one
      for (let i = 0; i < log.length - 1; i++) expect(log[i].parents).toEqual([log[i + 1].id]);
      expect(log[log.length - 1].parents).toEqual([]);
      expect(new Set(log.map((c) => c.id))).toEqual(
        new Set(committed.map((c) => (c.status === 'committed' ? c.commitId : ''))),
      );
    } finally {
      await poolB.end();
    }
  });

  it('serves a repository that the real git client clones over dumb HTTP', async () => {
    const repo = store.repository('tenant_c', 'clone_me');
    const v1: RepoFile[] = [
      { path: 'README.md', content: '# Hello\n' },
      { path: 'a/b/c.md', content: 'ünïcödé ✓\n' },
    ];
    await repo.commitFiles(v1, { author, now: new Date('2026-01-01T00:00:00Z') });
    const v2: RepoFile[] = [...v1, { path: 'a/new file.md', content: 'spaces\n' }];
    await repo.commitFiles(v2, { author, now: new Date('2026-01-01T00:01:00Z') });

    const server: Server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0].replace(/^\/repo\.git\//, '');
      serveDumbHttp(repo, path).then(
        (r) => {
          res.writeHead(r.status, { 'content-type': r.contentType });
          res.end(r.body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = await mkdtemp(join(tmpdir(), 'clone-'));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`;
      await run('git', ['clone', '-q', url, join(dir, 'w')], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      });
      for (const f of v2) expect(await readFile(join(dir, 'w', f.path), 'utf8')).toBe(f.content);
      const { stdout } = await run('git', ['-C', join(dir, 'w'), 'log', '--format=%H %s']);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain('1 added, 0 changed, 0 removed');
      const { stdout: fsck } = await run('git', ['-C', join(dir, 'w'), 'fsck', '--full']);
      expect(fsck).not.toMatch(/error|missing/i);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deleteWorkspace forgets refs and objects so a new workspace with the same id starts empty', async () => {
    const repo = store.repository('tenant_d', 'gone');
    await repo.commitFiles([{ path: 'a.md', content: 'A' }], { author });
    expect(await repo.head()).not.toBeNull();
    const objects = new ObjectStorage(s3.config);
    await objects.put('tenant_d/gone/backups/before-rebuild.json', Buffer.from('{}'), 'application/json');
    await objects.put('tenant_d/kept/backups/other.json', Buffer.from('{}'), 'application/json');
    await store.deleteWorkspace('tenant_d', 'gone');
    expect(await repo.head()).toBeNull();
    expect(await repo.log()).toEqual([]);
    // every object of the workspace is gone (git, backups), another workspace's stay
    expect(await objects.list('tenant_d/gone/')).toEqual([]);
    expect(await objects.list('tenant_d/kept/')).toEqual(['tenant_d/kept/backups/other.json']);
    // same content again in the same process: every object is written again (no stale cache)
    const again = await repo.commitFiles([{ path: 'a.md', content: 'A' }], { author });
    expect(again.status).toBe('committed');
    expect((await repo.readFiles()).map((f) => Buffer.from(f.content).toString())).toEqual(['A']);
  });
});
