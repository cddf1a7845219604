/**
 * Attachments against the real stack (docs/protocol.md#attachments): uploads are hashed by the
 * server and content-addressed per tenant, hostile uploads (over the limit, wrong declared size or
 * hash) are refused with nothing stored, another tenant's hash is 404, viewers download but never
 * upload; a 5 MB image makes the round trip CLI push → git commit → `git clone` → zip export →
 * CLI pull byte-equal; garbage collection deletes only unreferenced objects past the grace period,
 * never one a commit still holds.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import { HistoryQueues } from '@diaryx-sync/bus';
import { ObjectStorage, attachmentPrefix } from '@diaryx-sync/objstore';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { cleanupCli, runCli, spawnCli, tempDir } from './helpers/cli';
import {
  connectTestRedis,
  startCluster,
  waitUntil,
  type ServiceProcess,
  type TestCluster,
} from './helpers/cluster';

const run = promisify(execFile);

const LIMIT = 6 * 1024 * 1024;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('attachments over HTTP', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;
  let objects: ObjectStorage;
  let worker: ServiceProcess;

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    cluster = await startCluster({
      docServices: 1,
      env: { S3_ENDPOINT: s3.endpoint, ATTACHMENT_MAX_BYTES: String(LIMIT) },
    });
    objects = new ObjectStorage({
      endpoint: s3.endpoint,
      accessKey: String(cluster.env.S3_ACCESS_KEY ?? 'S3RVER'),
      secretKey: String(cluster.env.S3_SECRET_KEY ?? 'S3RVER'),
      bucket: String(cluster.env.S3_BUCKET ?? 'diaryx-sync'),
    });
    worker = await cluster.historyWorker();
    await worker.start();
  }, 90_000);

  afterAll(async () => {
    await cleanupCli();
    await worker?.stop();
    await cluster?.stop();
    await s3?.stop();
  });

  const url = (ws: string, hash = '', query = '') =>
    `${cluster.http()}/api/workspaces/${ws}/attachments${hash ? `/${hash}` : ''}${query}`;
  const put = (token: string, ws: string, hash: string, body: Uint8Array, query = '') =>
    fetch(url(ws, hash, query), {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' },
      body,
    });
  const stored = async (tenant: string) => objects.list(attachmentPrefix(tenant));

  it('stores bytes once per tenant, downloads them byte-equal, 404 for another tenant', async () => {
    const a = await cluster.createTenant('att-a');
    await cluster.createWorkspace(a, 'one');
    await cluster.createWorkspace(a, 'two');
    const b = await cluster.createTenant('att-b');
    await cluster.createWorkspace(b, 'one');
    const editorA = await cluster.token({ tid: a.id, ws: ['one', 'two'], role: 'editor' });
    const viewerA = await cluster.token({ tid: a.id, ws: ['one'], role: 'viewer' });
    const editorB = await cluster.token({ tid: b.id, ws: ['one'], role: 'editor' });

    const bytes = randomBytes(300_000);
    const hash = sha256(bytes);
    const first = await put(editorA, 'one', hash, bytes, `?size=${bytes.length}`);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ hash, size: bytes.length, created: true });
    const again = await put(editorA, 'two', hash, bytes);
    expect(await again.json()).toEqual({ hash, size: bytes.length, created: false });
    expect(await stored(a.id)).toHaveLength(1);

    const head = await fetch(url('one', hash), {
      method: 'HEAD',
      headers: { authorization: `Bearer ${viewerA}` },
    });
    expect(head.status).toBe(200);
    const got = await fetch(url('one', hash), { headers: { authorization: `Bearer ${viewerA}` } });
    expect(got.status).toBe(200);
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(hash);

    const presigned = (await (
      await fetch(url('one', hash, '?presign=1'), { headers: { authorization: `Bearer ${viewerA}` } })
    ).json()) as { url: string; expires_in_s: number };
    expect(presigned.expires_in_s).toBeGreaterThan(0);
    const viaS3 = await fetch(presigned.url);
    expect(viaS3.status).toBe(200);
    expect(sha256(Buffer.from(await viaS3.arrayBuffer()))).toBe(hash);

    // Tenant B does not own the hash: 404 on GET, HEAD and presign, like a hash nobody has.
    for (const q of ['', '?presign=1']) {
      const res = await fetch(url('one', hash, q), { headers: { authorization: `Bearer ${editorB}` } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    const headB = await fetch(url('one', hash), {
      method: 'HEAD',
      headers: { authorization: `Bearer ${editorB}` },
    });
    expect(headB.status).toBe(404);
    expect(await stored(b.id)).toHaveLength(0);

    // Viewers never upload.
    const other = randomBytes(1000);
    const byViewer = await put(viewerA, 'one', sha256(other), other);
    expect(byViewer.status).toBe(403);
    expect(await stored(a.id)).toHaveLength(1);
  }, 60_000);

  it('deleting a tenant deletes its attachment objects, and only its own', async () => {
    const doomed = await cluster.createTenant('att-doomed');
    const kept = await cluster.createTenant('att-kept');
    await cluster.createWorkspace(doomed, 'one');
    await cluster.createWorkspace(kept, 'one');
    const bytes = randomBytes(1000);
    for (const t of [doomed, kept]) {
      const token = await cluster.token({ tid: t.id, ws: ['one'], role: 'editor' });
      expect((await put(token, 'one', sha256(bytes), bytes)).status).toBe(200);
    }
    expect(await stored(doomed.id)).toHaveLength(1);
    const del = await fetch(`${cluster.http()}/api/tenants/${doomed.id}?confirm=${doomed.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    });
    expect(del.status).toBe(204);
    expect(await objects.list(`${doomed.id}/`)).toEqual([]);
    expect(await stored(kept.id)).toHaveLength(1);
  });

  it('refuses hostile uploads with nothing stored: over the limit, wrong size, wrong hash', async () => {
    const t = await cluster.createTenant('att-hostile');
    await cluster.createWorkspace(t, 'w');
    const editor = await cluster.token({ tid: t.id, ws: ['w'], role: 'editor' });

    const big = randomBytes(LIMIT + 1024);
    const overLimit = await put(editor, 'w', sha256(big), big);
    expect(overLimit.status).toBe(413);
    expect(((await overLimit.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');

    // Over the limit without a Content-Length (chunked): counted while streaming.
    const chunked = await fetch(url('w', sha256(big)), {
      method: 'PUT',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < big.length; i += 65536) c.enqueue(big.subarray(i, i + 65536));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);

    const small = randomBytes(5000);
    const wrongSize = await put(editor, 'w', sha256(small), small, `?size=${small.length + 1}`);
    expect(wrongSize.status).toBe(400);
    expect(((await wrongSize.json()) as { error: { code: string } }).error.code).toBe('size_mismatch');

    const wrongHash = await put(editor, 'w', sha256(randomBytes(10)), small);
    expect(wrongHash.status).toBe(400);
    expect(((await wrongHash.json()) as { error: { code: string } }).error.code).toBe('hash_mismatch');

    const badHash = await put(editor, 'w', 'not-a-hash', small);
    expect(badHash.status).toBe(400);
    expect(((await badHash.json()) as { error: { code: string } }).error.code).toBe('invalid_hash');

    expect(await stored(t.id)).toEqual([]);
    // The gateway is still fine: a correct upload works.
    const ok = await put(editor, 'w', sha256(small), small, `?size=${small.length}`);
    expect(ok.status).toBe(200);
    expect(await stored(t.id)).toHaveLength(1);
  }, 60_000);

  it('round-trips a 5 MB image: CLI push → git commit → git clone → zip export → CLI pull, byte-equal', async () => {
    const t = await cluster.createTenant('att-roundtrip');
    await cluster.createWorkspace(t, 'notes');
    const editor = await cluster.token({ tid: t.id, ws: ['notes'], role: 'editor' });
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(5 * 1024 * 1024)]);
    const hash = sha256(image);
    const src = tempDir('att-src');
    mkdirSync(join(src, 'img'));
    writeFileSync(join(src, 'img', 'photo.png'), image);
    writeFileSync(
      join(src, 'note.md'),
      '---\ntitle: Note\nattachments:\n  - img/photo.png\n---\nSee the photo.\n',
    );
    const conn = ['--server', cluster.ws(), '--workspace', 'notes', '--token', editor];

    const pushed = await runCli(['push', src, ...conn], 90_000);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain('attachments: 1 uploaded');
    // A second push finds the bytes on the server and uploads nothing.
    const again = await runCli(['push', src, ...conn], 90_000);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('1 uploaded');
    expect(await stored(t.id)).toHaveLength(1);

    const listed = (await (
      await fetch(url('notes'), { headers: { authorization: `Bearer ${editor}` } })
    ).json()) as { attachments: unknown[] };
    expect(listed.attachments).toEqual([
      {
        file: 'note.md',
        path: 'img/photo.png',
        hash,
        size: image.length,
        mime_type: 'image/png',
        stored: true,
      },
    ]);

    const commit = await fetch(`${cluster.http()}/api/workspaces/notes/commit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}` },
    });
    expect(commit.status).toBe(200);

    const clone = tempDir('att-clone');
    const gitUrl = cluster.http().replace('http://', `http://token:${editor}@`) + '/git/notes.git';
    await run('git', ['clone', '-q', gitUrl, join(clone, 'w')], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    expect(sha256(readFileSync(join(clone, 'w', 'img', 'photo.png')))).toBe(hash);
    expect(readFileSync(join(clone, 'w', 'note.md'), 'utf8')).toContain(hash);

    const zipRes = await fetch(`${cluster.http()}/api/workspaces/notes/snapshot`, {
      headers: { authorization: `Bearer ${editor}` },
    });
    expect(zipRes.status).toBe(200);
    const zip = await JSZip.loadAsync(Buffer.from(await zipRes.arrayBuffer()));
    expect(sha256(await zip.file('img/photo.png')!.async('uint8array'))).toBe(hash);

    // The zip imported into another workspace brings the attachment back (store + BinaryRef).
    await cluster.createWorkspace(t, 'copy');
    const both = await cluster.token({ tid: t.id, ws: ['notes', 'copy'], role: 'editor' });
    const imported = await fetch(`${cluster.http()}/api/workspaces/copy/snapshot?mode=replace`, {
      method: 'POST',
      headers: { authorization: `Bearer ${both}`, 'content-type': 'application/zip' },
      body: await zip.generateAsync({ type: 'nodebuffer' }),
    });
    expect(imported.status).toBe(200);
    const copyList = (await (
      await fetch(url('copy'), { headers: { authorization: `Bearer ${both}` } })
    ).json()) as { attachments: unknown[] };
    expect(copyList.attachments).toEqual([
      {
        file: 'note.md',
        path: 'img/photo.png',
        hash,
        size: image.length,
        mime_type: 'image/png',
        stored: true,
      },
    ]);

    const dst = tempDir('att-dst');
    const pulled = await runCli(
      ['pull', dst, '--server', cluster.ws(), '--workspace', 'copy', '--token', both],
      90_000,
    );
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect(sha256(readFileSync(join(dst, 'img', 'photo.png')))).toBe(hash);
    expect(Buffer.compare(readFileSync(join(dst, 'img', 'photo.png')), image)).toBe(0);
  }, 240_000);

  it('a hand-written zip (plain attachment paths) imports its files into the store and fills the refs', async () => {
    const t = await cluster.createTenant('att-zip');
    await cluster.createWorkspace(t, 'z');
    const editor = await cluster.token({ tid: t.id, ws: ['z'], role: 'editor' });
    const pdf = randomBytes(50_000);
    const zip = new JSZip();
    zip.file('doc.md', '---\ntitle: Doc\nattachments:\n  - files/paper.pdf\n---\nbody\n');
    zip.file('files/paper.pdf', pdf);
    const res = await fetch(`${cluster.http()}/api/workspaces/z/snapshot?mode=replace`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/zip' },
      body: await zip.generateAsync({ type: 'nodebuffer' }),
    });
    expect(res.status).toBe(200);
    const list = (await (
      await fetch(url('z'), { headers: { authorization: `Bearer ${editor}` } })
    ).json()) as {
      attachments: unknown[];
    };
    expect(list.attachments).toEqual([
      {
        file: 'doc.md',
        path: 'files/paper.pdf',
        hash: sha256(pdf),
        size: pdf.length,
        mime_type: 'application/pdf',
        stored: true,
      },
    ]);
  }, 120_000);

  it('start syncs attachments live both ways', async () => {
    const t = await cluster.createTenant('att-start');
    await cluster.createWorkspace(t, 'live');
    const editor = await cluster.token({ tid: t.id, ws: ['live'], role: 'editor' });
    const conn = ['--server', cluster.ws(), '--workspace', 'live', '--token', editor];
    const watched = tempDir('att-watch');
    const proc = spawnCli(['start', watched, ...conn, '--debounce', '100']);
    await proc.waitForStdout(/watching/, 60_000);

    // Remote → folder: another client pushes a note with an attachment.
    const other = tempDir('att-other');
    const remote = randomBytes(100_000);
    writeFileSync(join(other, 'r.png'), remote);
    writeFileSync(join(other, 'r.md'), '---\nattachments:\n  - r.png\n---\nR\n');
    expect((await runCli(['push', other, ...conn], 90_000)).code).toBe(0);
    await waitUntil(
      () =>
        existsSync(join(watched, 'r.png')) && sha256(readFileSync(join(watched, 'r.png'))) === sha256(remote),
      60_000,
      'r.png downloaded by start',
    );

    // Folder → server: a new note with an attachment in the watched folder.
    const mine = randomBytes(100_000);
    writeFileSync(join(watched, 'm.png'), mine);
    writeFileSync(join(watched, 'm.md'), '---\nattachments:\n  - m.png\n---\nM\n');
    await waitUntil(
      async () => {
        const list = (await (
          await fetch(url('live'), { headers: { authorization: `Bearer ${editor}` } })
        ).json()) as { attachments: { path: string; hash: string; stored: boolean }[] };
        return list.attachments.some((a) => a.path === 'm.png' && a.hash === sha256(mine) && a.stored);
      },
      60_000,
      'm.png uploaded and referenced by start',
    );
    await proc.stop();
  }, 240_000);

  it('garbage collection deletes only unreferenced bytes past the grace period, never committed ones', async () => {
    const t = await cluster.createTenant('att-gc');
    await cluster.createWorkspace(t, 'gc');
    const editor = await cluster.token({ tid: t.id, ws: ['gc'], role: 'editor' });
    const conn = ['--server', cluster.ws(), '--workspace', 'gc', '--token', editor];
    const committed = randomBytes(20_000);
    const live = randomBytes(20_000);
    const orphan = randomBytes(20_000);
    const dir = tempDir('att-gc');
    writeFileSync(join(dir, 'a.png'), committed);
    writeFileSync(join(dir, 'note.md'), '---\nattachments:\n  - a.png\n---\nA\n');
    expect((await runCli(['push', dir, ...conn], 90_000)).code).toBe(0);
    const commit = await fetch(`${cluster.http()}/api/workspaces/gc/commit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}` },
    });
    expect(commit.status).toBe(200);
    // The live doc drops a.png (only the commit references it now) and references c.png.
    writeFileSync(join(dir, 'c.png'), live);
    writeFileSync(join(dir, 'note.md'), '---\nattachments:\n  - c.png\n---\nA\n');
    expect((await runCli(['push', dir, ...conn], 90_000)).code).toBe(0);
    expect((await put(editor, 'gc', sha256(orphan), orphan)).status).toBe(200);
    expect(await stored(t.id)).toHaveLength(3);

    const queues = new HistoryQueues({ connect: () => connectTestRedis(), prefix: cluster.prefix });
    try {
      // Default grace period: the fresh orphan is kept.
      const first = await queues.attachmentGcNow({ tenant: t.id }, 60_000);
      expect(first).toMatchObject({ stored: 3, deleted: [], kept_recent: 1 });
      const second = await queues.attachmentGcNow({ tenant: t.id, graceMs: 0 }, 60_000);
      expect(second).toMatchObject({ stored: 3, referenced: 2, deleted: [sha256(orphan)] });
    } finally {
      await queues.close();
    }
    const left = (await stored(t.id)).map((k) => k.slice(k.lastIndexOf('/') + 1)).sort();
    expect(left).toEqual([sha256(committed), sha256(live)].sort());
    const got = await fetch(url('gc', sha256(committed)), { headers: { authorization: `Bearer ${editor}` } });
    expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(committed));
  }, 240_000);
});
