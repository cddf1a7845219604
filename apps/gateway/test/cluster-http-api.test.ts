/**
 * The HTTP API (docs/protocol.md#tokens and #http-api) and the history features on a
 * real topology: gateway + doc service + history worker processes (from `dist`; run
 * `npm run build` first) and s3rver. Only what the other api-* / history-* tests leave open:
 * exact JSON shapes, tokens minted by the API working on /sync2, the role matrix of every
 * workspace sub-route, tenant isolation of git repositories and S3 keys, ops endpoints of every
 * service.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import { BodyDoc, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { ObjectStorage } from '@diaryx-sync/objstore';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { readWorkspaceZip } from '@diaryx-sync/git-store';
import {
  ServiceProcess,
  startCluster,
  Sync2TestClient,
  waitUntil,
  type TestCluster,
} from './helpers/cluster';

const run = promisify(execFile);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0' };

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  headers: Headers;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function expectError(res: Res, status: number, code?: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({
    error: expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }),
  });
}

describe('HTTP API on a real topology (gateway + doc service + history worker + s3rver)', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;
  let worker: ServiceProcess;
  let base: string;

  const call = async (method: string, path: string, token?: string, body?: unknown): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };

  const createTenant = async (name: string) => {
    const res = await call('POST', '/api/tenants', cluster.adminToken, { name });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string; admin_token: string };
  };
  const mint = async (admin: string, role: string, ws: string[], sub = `${role}-user`) => {
    const res = await call('POST', '/api/tokens', admin, { sub, ws, role, ttl_s: 3600 });
    expect(res.status).toBe(201);
    return res.body.token as string;
  };

  /** Writes a small valid workspace through a /sync2 client and waits until it is durable. */
  async function writeWorkspace(token: string, ws: string, text: string): Promise<Sync2TestClient> {
    const client = await Sync2TestClient.connect(cluster.ws(), token);
    const wsDoc = await client.openSynced(`workspace:${ws}`);
    const readme = await client.openSynced(`body:${ws}/README.md`);
    new WorkspaceCrdt(wsDoc).setFile('README.md', { title: text, modified_at: 1_700_000_000_000 });
    new BodyDoc('README.md', readme).setBody(`${text}\n`);
    for (const id of client.docs.keys()) await client.save(id);
    return client;
  }

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    // Long quiet period: commits in this file happen on demand only.
    const historyEnv = {
      S3_ENDPOINT: s3.endpoint,
      HISTORY_QUIET_MS: '600000',
      HISTORY_MAX_WAIT_MS: '600000',
    };
    cluster = await startCluster({ docServices: 1, env: historyEnv });
    base = cluster.http();
    worker = await cluster.historyWorker();
    await worker.start();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await cluster?.stop();
    await s3?.stop();
  });

  it('tenants and tokens: exact shapes, claims, RFC3339 expiry; minted tokens work on /sync2', async () => {
    expectError(await call('POST', '/api/tenants', undefined, { name: 'nobody' }), 401);
    const res = await call('POST', '/api/tenants', cluster.adminToken, { name: 'acc-tokens' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['admin_token', 'id', 'name']);
    expect(res.body.name).toBe('acc-tokens');
    expect(claimsOf(res.body.admin_token)).toMatchObject({ tid: res.body.id, role: 'admin', ws: ['*'] });
    const admin = res.body.admin_token as string;

    const ws = await call('POST', '/api/workspaces', admin, { name: 'Tokens' });
    expect(ws.status).toBe(201);
    expect(Object.keys(ws.body).sort()).toEqual(['created_at', 'id', 'name']);
    expect(ws.body.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(ws.body.created_at).toMatch(RFC3339);
    const id = ws.body.id as string;
    expect((await call('POST', '/api/workspaces', admin, { name: 'Other' })).body.id).not.toBe(id);

    const before = Math.floor(Date.now() / 1000);
    const t = await call('POST', '/api/tokens', admin, { sub: 'dana', ws: [id], role: 'editor', ttl_s: 600 });
    expect(t.status).toBe(201);
    expect(Object.keys(t.body).sort()).toEqual(['expires_at', 'jti', 'token']);
    expect(t.body.expires_at).toMatch(RFC3339);
    const claims = claimsOf(t.body.token);
    expect(claims).toMatchObject({
      sub: 'dana',
      tid: res.body.id,
      ws: [id],
      role: 'editor',
      jti: t.body.jti,
    });
    expect(claims.exp).toBe(Math.floor(Date.parse(t.body.expires_at) / 1000));
    expect(claims.exp as number).toBeGreaterThanOrEqual(before + 600);
    expect(claims.exp as number).toBeLessThanOrEqual(before + 602);

    // the editor token syncs and writes on /sync2
    const editor = await writeWorkspace(t.body.token, id, 'by dana');
    editor.close();
    // a viewer token reads, and its changing update is refused with read_only
    const viewer = await Sync2TestClient.connect(cluster.ws(), await mint(admin, 'viewer', [id]));
    const doc = await viewer.openSynced(`body:${id}/README.md`);
    expect(doc.getText('body').toString()).toBe('by dana\n');
    doc.getText('body').insert(0, 'x');
    await viewer.waitFor(
      () => viewer.textsOfType('error').some((e) => e.code === 'read_only'),
      10_000,
      'read_only',
    );
    // a workspace outside the minted ws list closes with 4403
    viewer.open('workspace:somewhere-else');
    expect((await viewer.closed).code).toBe(4403);
  });

  it('POST /api/tenants always answers 201 with a new tenant, also for a name used before (names are labels, never 409)', async () => {
    const first = await call('POST', '/api/tenants', cluster.adminToken, { name: 'acc-same-name' });
    const second = await call('POST', '/api/tenants', cluster.adminToken, { name: 'acc-same-name' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.name).toBe('acc-same-name');
    expect(second.body.id).not.toBe(first.body.id);
    // two separate tenants: equal workspace ids do not collide
    for (const t of [first.body, second.body]) {
      expect((await call('POST', '/api/workspaces', t.admin_token, { id: 'ws', name: 'w' })).status).toBe(
        201,
      );
    }
  });

  it('every workspace sub-route answers 404 (error shape) for ids of other tenants or outside the token', async () => {
    const a = await createTenant('acc-iso-a');
    const b = await createTenant('acc-iso-b');
    expect((await call('POST', '/api/workspaces', b.admin_token, { id: 'b_only', name: 'B' })).status).toBe(
      201,
    );
    expect((await call('POST', '/api/workspaces', a.admin_token, { id: 'a_one', name: 'A' })).status).toBe(
      201,
    );
    const narrow = await mint(a.admin_token, 'editor', ['a_one']);
    expect((await call('POST', '/api/workspaces', a.admin_token, { id: 'a_two', name: 'A2' })).status).toBe(
      201,
    );
    const routes: [string, string, unknown?][] = [
      ['GET', ''],
      ['PATCH', '', { name: 'x' }],
      ['DELETE', ''],
      ['GET', '/versions'],
      ['POST', '/versions/1/restore'],
      ['GET', '/history'],
      ['POST', '/commit'],
      ['POST', '/restore', { commit_id: 'a'.repeat(40) }],
      ['GET', '/snapshot'],
    ];
    for (const [method, suffix, body] of routes) {
      expectError(await call(method, `/api/workspaces/b_only${suffix}`, a.admin_token, body), 404);
      expectError(await call(method, `/api/workspaces/a_two${suffix}`, narrow, body), 404);
    }
    const list = await call('GET', '/api/workspaces', narrow);
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      workspaces: [{ id: 'a_one', name: 'A', created_at: expect.stringMatching(RFC3339) }],
      next_cursor: null,
    });
    expectError(await call('POST', '/api/workspaces', a.admin_token, { id: 'a_one', name: 'again' }), 409);
  });

  it('roles: viewer only reads (versions, history, snapshot, git); editor commits and restores; admin does everything', async () => {
    const t = await createTenant('acc-roles');
    const WS = 'roles_ws';
    expect((await call('POST', '/api/workspaces', t.admin_token, { id: WS, name: 'R' })).status).toBe(201);
    const editor = await mint(t.admin_token, 'editor', [WS]);
    const viewer = await mint(t.admin_token, 'viewer', [WS]);
    (await writeWorkspace(editor, WS, 'first')).close();

    // admin commits; versions newest first with the documented fields
    const c1 = await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token);
    expect(c1.status).toBe(200);
    expect(c1.body).toEqual({ commit_id: expect.stringMatching(/^[0-9a-f]{40}$/), files: 1 });
    const nothing = await call('POST', `/api/workspaces/${WS}/commit`, editor);
    expectError(nothing, 409, 'nothing_to_commit');

    const versions = await call('GET', `/api/workspaces/${WS}/versions`, viewer);
    expect(versions.status).toBe(200);
    expect(versions.body.versions.length).toBeGreaterThan(0);
    for (const v of versions.body.versions) {
      expect(Object.keys(v).sort()).toEqual([
        'device_id',
        'device_name',
        'files_changed',
        'origin',
        'timestamp',
        'update_id',
        'user',
      ]);
      expect(v.timestamp).toMatch(RFC3339);
      expect(typeof v.update_id).toBe('number');
    }
    const ids = versions.body.versions.map((v: { update_id: number }) => v.update_id);
    expect([...ids].sort((x: number, y: number) => y - x)).toEqual(ids);
    expect(
      versions.body.versions.some((v: { files_changed: string[] }) => v.files_changed.includes('README.md')),
    ).toBe(true);
    const bodyVersions = await call(
      'GET',
      `/api/workspaces/${WS}/versions?doc=${encodeURIComponent(`body:${WS}/README.md`)}`,
      viewer,
    );
    expect(bodyVersions.status).toBe(200);
    expect(bodyVersions.body.versions.length).toBeGreaterThan(0);

    const history = await call('GET', `/api/workspaces/${WS}/history`, viewer);
    expect(history.body).toEqual({
      commits: [
        {
          id: c1.body.commit_id,
          message: expect.any(String),
          timestamp: expect.stringMatching(RFC3339),
          parents: [],
          author: 'editor-user', // the token subject that wrote README.md
        },
      ],
      next_cursor: null,
    });
    const zip = await fetch(`${base}/api/workspaces/${WS}/snapshot`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(zip.status).toBe(200);
    expect((await readWorkspaceZip(Buffer.from(await zip.arrayBuffer()))).map((f) => f.path)).toEqual([
      'README.md',
    ]);

    // viewer may not change anything
    const firstVersion = ids[ids.length - 1] as number;
    expectError(await call('POST', `/api/workspaces/${WS}/commit`, viewer), 403);
    expectError(
      await call('POST', `/api/workspaces/${WS}/restore`, viewer, { commit_id: c1.body.commit_id }),
      403,
    );
    expectError(await call('POST', `/api/workspaces/${WS}/versions/${firstVersion}/restore`, viewer), 403);
    const zipBody = await new JSZip().file('v.md', 'v\n').generateAsync({ type: 'nodebuffer' });
    const viewerImport = await fetch(`${base}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/zip' },
      body: zipBody,
    });
    expect(viewerImport.status).toBe(403);
    // editor manages neither workspaces nor tokens
    expectError(await call('PATCH', `/api/workspaces/${WS}`, editor, { name: 'x' }), 403);
    expectError(await call('DELETE', `/api/workspaces/${WS}`, editor), 403);
    expectError(
      await call('POST', '/api/tokens', editor, { sub: 'x', ws: [WS], role: 'viewer', ttl_s: 60 }),
      403,
    );

    // editor imports (merge), commits; admin restores the first commit and renames
    const imported = await fetch(`${base}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/zip' },
      body: zipBody,
    });
    expect(imported.status).toBe(200);
    const c2 = await call('POST', `/api/workspaces/${WS}/commit`, editor);
    expect(c2.status).toBe(200);
    expect(c2.body.files).toBe(2);
    const restored = await call('POST', `/api/workspaces/${WS}/restore`, t.admin_token, {
      commit_id: c1.body.commit_id,
    });
    expect(restored.status).toBe(200);
    const now = await fetch(`${base}/api/workspaces/${WS}/snapshot`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect((await readWorkspaceZip(Buffer.from(await now.arrayBuffer()))).map((f) => f.path)).toEqual([
      'README.md',
    ]);
    expect((await call('PATCH', `/api/workspaces/${WS}`, t.admin_token, { name: 'Renamed' })).body).toEqual({
      id: WS,
      name: 'Renamed',
      created_at: expect.stringMatching(RFC3339),
    });
    // the restore did not rewrite history: both commits are still there, newest first
    const log = await call('GET', `/api/workspaces/${WS}/history?limit=100`, viewer);
    expect(log.body.commits.map((c: { id: string }) => c.id)).toEqual([c2.body.commit_id, c1.body.commit_id]);
    expect(log.body.commits[0].parents).toEqual([c1.body.commit_id]);
    expectError(await call('POST', `/api/workspaces/${WS}/restore`, editor, {}), 400);
  });

  it('snapshot import takes the zip as the raw body or as a multipart/form-data file upload', async () => {
    const t = await createTenant('acc-upload');
    const WS = 'up_ws';
    expect((await call('POST', '/api/workspaces', t.admin_token, { id: WS, name: 'up' })).status).toBe(201);
    const zipOf = (name: string) =>
      new JSZip()
        .file(name, `---\ntitle: ${name}\n---\n\n${name} body\n`)
        .generateAsync({ type: 'nodebuffer' });
    const files = async () =>
      readWorkspaceZip(
        Buffer.from(
          await (
            await fetch(`${base}/api/workspaces/${WS}/snapshot`, {
              headers: { authorization: `Bearer ${t.admin_token}` },
            })
          ).arrayBuffer(),
        ),
      );
    const raw = await fetch(`${base}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin_token}`, 'content-type': 'application/octet-stream' },
      body: await zipOf('raw.md'),
    });
    expect(raw.status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob([await zipOf('form.md')], { type: 'application/zip' }), 'upload.zip');
    const multipart = await fetch(`${base}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin_token}` },
      body: form,
    });
    expect(multipart.status).toBe(200);
    expect((await files()).map((f) => f.path)).toEqual(['form.md', 'raw.md']);
    const replace = new FormData();
    replace.append('file', new Blob([await zipOf('only.md')]), 'w.zip');
    const replaced = await fetch(`${base}/api/workspaces/${WS}/snapshot?mode=replace`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin_token}` },
      body: replace,
    });
    expect(replaced.status).toBe(200);
    expect(await files()).toEqual([
      { path: 'only.md', content: '---\ntitle: only.md\n---\n\nonly.md body\n' },
    ]);
    const empty = new FormData();
    empty.append('note', 'no file here');
    const bad = await fetch(`${base}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin_token}` },
      body: empty,
    });
    expect(bad.status).toBe(400);
    expect((await files()).map((f) => f.path)).toEqual(['only.md']);
  });

  it("git repositories and S3 keys are per tenant: A's token never clones B's repo with the same workspace id", async () => {
    const a = await createTenant('acc-git-a');
    const b = await createTenant('acc-git-b');
    const WS = 'same_ws';
    for (const [t, text] of [
      [a, 'tenant A content'],
      [b, 'tenant B content'],
    ] as const) {
      expect((await call('POST', '/api/workspaces', t.admin_token, { id: WS, name: 'same' })).status).toBe(
        201,
      );
      (await writeWorkspace(t.admin_token, WS, text)).close();
      expect((await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token)).status).toBe(200);
    }
    // only B has a second workspace
    expect(
      (await call('POST', '/api/workspaces', b.admin_token, { id: 'b_private', name: 'p' })).status,
    ).toBe(201);

    const dir = await mkdtemp(join(tmpdir(), 'acc-git-'));
    try {
      for (const [t, text] of [
        [a, 'tenant A content'],
        [b, 'tenant B content'],
      ] as const) {
        const viewer = await mint(t.admin_token, 'viewer', [WS]);
        const target = join(dir, t.id);
        await run(
          'git',
          ['clone', '-q', `${base.replace('http://', `http://token:${viewer}@`)}/git/${WS}.git`, target],
          {
            env: GIT_ENV,
          },
        );
        expect(await readFile(join(target, 'README.md'), 'utf8')).toContain(text);
        expect((await readdir(target)).filter((n) => n !== '.git')).toEqual(['README.md']);
      }
      // A's token on B's other workspace: not found, never B's data
      const refs = await fetch(`${base}/git/b_private.git/info/refs`, {
        headers: { authorization: `Bearer ${a.admin_token}` },
      });
      expect(refs.status).toBe(404);
      await expect(
        run(
          'git',
          [
            'clone',
            '-q',
            `${base.replace('http://', `http://token:${a.admin_token}@`)}/git/b_private.git`,
            join(dir, 'x'),
          ],
          {
            env: GIT_ENV,
          },
        ),
      ).rejects.toThrow();
      // A's token cannot read B's commit through A's same-id workspace
      const bHead = (await call('GET', `/api/workspaces/${WS}/history`, b.admin_token)).body.commits[0]
        .id as string;
      expectError(await call('GET', `/api/workspaces/${WS}/snapshot?commit_id=${bHead}`, a.admin_token), 404);
      expectError(
        await call('POST', `/api/workspaces/${WS}/restore`, a.admin_token, { commit_id: bHead }),
        404,
      );
      const obj = await fetch(`${base}/git/${WS}.git/objects/${bHead.slice(0, 2)}/${bHead.slice(2)}`, {
        headers: { authorization: `Bearer ${a.admin_token}` },
      });
      expect(obj.status).toBe(404);

      // no credentials / a bad password: challenged; HEAD requests work too
      for (const auth of [undefined, `Basic ${Buffer.from('token:bad').toString('base64')}`]) {
        const res = await fetch(`${base}/git/${WS}.git/info/refs`, {
          headers: auth ? { authorization: auth } : {},
        });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="diaryx-sync"');
      }
      const head = await fetch(`${base}/git/${WS}.git/HEAD`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${a.admin_token}` },
      });
      expect(head.status).toBe(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const keys = await new ObjectStorage(s3.config).list('');
    const aKeys = keys.filter((k) => k.startsWith(`${a.id}/`));
    const bKeys = keys.filter((k) => k.startsWith(`${b.id}/`));
    expect(aKeys.length).toBeGreaterThan(0);
    expect(bKeys.length).toBeGreaterThan(0);
    for (const k of [...aKeys, ...bKeys])
      expect(k).toMatch(new RegExp(`^t_[0-9a-f]+/${WS}/git/objects/[0-9a-f]{2}/[0-9a-f]{38}$`));
  });

  it('restore to a version and to a commit are forward updates a connected /sync2 client converges on', async () => {
    const t = await createTenant('acc-restore');
    const WS = 'rs_ws';
    expect((await call('POST', '/api/workspaces', t.admin_token, { id: WS, name: 'rs' })).status).toBe(201);
    const editor = await mint(t.admin_token, 'editor', [WS]);
    const client = await writeWorkspace(editor, WS, 'v1');
    try {
      const bodyId = `body:${WS}/README.md`;
      const v = await call('GET', `/api/workspaces/${WS}/versions?doc=${encodeURIComponent(bodyId)}`, editor);
      const v1 = v.body.versions[0].update_id as number;
      const commit = await call('POST', `/api/workspaces/${WS}/commit`, editor);
      expect(commit.status).toBe(200);
      new BodyDoc('README.md', client.docs.get(bodyId)!).setBody('v2\n');
      await client.save(bodyId);
      const before = (
        await call('GET', `/api/workspaces/${WS}/versions?doc=${encodeURIComponent(bodyId)}`, editor)
      ).body.versions.length as number;

      const r = await call(
        'POST',
        `/api/workspaces/${WS}/versions/${v1}/restore?doc=${encodeURIComponent(bodyId)}`,
        editor,
      );
      expect(r.status).toBe(200);
      await client.waitFor(
        () => client.docs.get(bodyId)!.getText('body').toString() === 'v1\n',
        10_000,
        'version restore',
      );
      const after = (
        await call('GET', `/api/workspaces/${WS}/versions?doc=${encodeURIComponent(bodyId)}`, editor)
      ).body.versions;
      expect(after.length).toBe(before + 1);

      new BodyDoc('README.md', client.docs.get(bodyId)!).setBody('v3\n');
      await client.save(bodyId);
      const rc = await call('POST', `/api/workspaces/${WS}/restore`, editor, {
        commit_id: commit.body.commit_id,
      });
      expect(rc.status).toBe(200);
      await client.waitFor(
        () => client.docs.get(bodyId)!.getText('body').toString() === 'v1\n',
        10_000,
        'commit restore',
      );
    } finally {
      client.close();
    }
  });

  it('an undecodable update row is rebuilt without loss, across a worker restart (backup in S3, refs/backups, audit row, metrics)', async () => {
    const t = await createTenant('acc-heal');
    const WS = 'heal_ws';
    expect((await call('POST', '/api/workspaces', t.admin_token, { id: WS, name: 'heal' })).status).toBe(201);
    const client = await Sync2TestClient.connect(cluster.ws(), t.admin_token);
    try {
      const wsDoc = await client.openSynced(`workspace:${WS}`);
      const home = await client.openSynced(`body:${WS}/README.md`);
      const note = await client.openSynced(`body:${WS}/a.md`);
      const ws = new WorkspaceCrdt(wsDoc);
      ws.setFile('README.md', { title: 'Home', contents: ['a.md'], modified_at: 1_700_000_000_000 });
      ws.setFile('a.md', { title: 'A', part_of: 'README.md', modified_at: 1_700_000_000_000 });
      new BodyDoc('README.md', home).setBody('home\n');
      const a = new BodyDoc('a.md', note);
      a.setBody('a\n');
      for (const id of client.docs.keys()) await client.save(id);
      const good = await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token);
      expect(good.status).toBe(200);

      // acknowledged after the good commit, then the stored log gets a row that does not decode
      a.insertAt(a.getBody().length, 'acknowledged after the commit\n');
      await client.save(`body:${WS}/a.md`);
      await cluster.pool.query(
        `INSERT INTO crdt_updates (tenant, doc, data, origin) VALUES ($1, $2, $3, 'disk-rot')`,
        [t.id, `body:${WS}/a.md`, Buffer.from('definitely not a yjs update')],
      );
      await worker.stop();
      await worker.start();
      const r = await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token);
      expectError(r, 409, 'validation_failed');
      expect(r.body.error.action).toBe('rebuild');
      expect(r.body.error.issues).toEqual([
        expect.objectContaining({ kind: 'unreadable_doc', file: `body:${WS}/a.md` }),
      ]);
      const row = await waitUntil(
        async () =>
          (
            await cluster.pool.query<{
              commit_id: string;
              backup_key: string;
              details: { readable: boolean; backup_ref: string };
            }>(
              `SELECT commit_id, backup_key, details FROM history_audit WHERE tenant = $1 AND workspace = $2 AND event = 'rebuild'`,
              [t.id, WS],
            )
          ).rows[0],
        20_000,
        'the rebuild audit row',
      );
      expect(row.commit_id).toBe(good.body.commit_id);
      expect(row.details.readable).toBe(true);
      expect(row.backup_key.startsWith(`${t.id}/${WS}/backups/`)).toBe(true);
      expect(await new ObjectStorage(s3.config).exists(row.backup_key)).toBe(true);
      expect(row.details.backup_ref).toMatch(/^refs\/backups\//);
      // the pre-rebuild state is reachable with a plain git client over the dumb-HTTP endpoint
      const dir = await mkdtemp(join(tmpdir(), 'heal-clone-'));
      try {
        const url = `${base.replace('http://', `http://token:${t.admin_token}@`)}/git/${WS}.git`;
        const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
        await run('git', ['clone', '-q', url, join(dir, 'w')], { env });
        await run('git', ['-C', join(dir, 'w'), 'fetch', '-q', 'origin', 'refs/backups/*:refs/backups/*'], {
          env,
        });
        const { stdout } = await run(
          'git',
          ['-C', join(dir, 'w'), 'show', `${row.details.backup_ref}:a.md`],
          { env },
        );
        expect(stdout).toContain('acknowledged after the commit');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      // nothing reverted: the client and the next commit keep the acknowledged line
      expect(a.getBody()).toBe('a\nacknowledged after the commit\n');
      const next = await waitUntil(
        async () => {
          const c = await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token);
          return c.status === 200 || c.body.error?.code === 'nothing_to_commit' ? c : null;
        },
        20_000,
        'commits resume',
      );
      expect(next.status === 200 || next.body.error.code === 'nothing_to_commit').toBe(true);
      const snapshot = await readWorkspaceZip(
        Buffer.from(
          await (
            await fetch(`${cluster.http()}/api/workspaces/${WS}/snapshot`, {
              headers: { authorization: `Bearer ${t.admin_token}` },
            })
          ).arrayBuffer(),
        ),
      );
      expect(Buffer.from(snapshot.find((f) => f.path === 'a.md')!.content).toString()).toContain(
        'acknowledged after the commit',
      );
      const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
      expect(metrics).toMatch(/^diaryx_rebuilds_total\{[^}]*outcome="succeeded"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^diaryx_queue_depth\{/m);
      expect(metrics).toMatch(/^diaryx_job_duration_seconds_count\{[^}]*\} [1-9]/m);
    } finally {
      client.close();
    }
  });

  it('a broken parent is repaired in place by every commit: never counted as a failure, never reverted, no rebuild', async () => {
    const t = await createTenant('acc-reset');
    const WS = 'reset_ws';
    expect((await call('POST', '/api/workspaces', t.admin_token, { id: WS, name: 'reset' })).status).toBe(
      201,
    );
    const client = await Sync2TestClient.connect(cluster.ws(), t.admin_token);
    try {
      const ws = new WorkspaceCrdt(await client.openSynced(`workspace:${WS}`));
      new BodyDoc('README.md', await client.openSynced(`body:${WS}/README.md`)).setBody('home\n');
      const a = new BodyDoc('a.md', await client.openSynced(`body:${WS}/a.md`));
      a.setBody('a\n');
      ws.setFile('README.md', { title: 'Home', contents: ['a.md'], modified_at: 1_700_000_000_000 });
      const setParent = async (parent: string, at: number) => {
        ws.setFile('a.md', { title: 'A', part_of: parent, modified_at: at });
        for (const id of client.docs.keys()) await client.save(id);
      };
      await setParent('README.md', 1_700_000_000_000);
      expect((await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token)).status).toBe(200);
      for (let i = 1; i <= 3; i++) {
        await setParent('gone.md', 1_700_000_000_000 + i);
        a.insertAt(a.getBody().length, `line ${i}\n`);
        await client.save(`body:${WS}/a.md`);
        const r = await call('POST', `/api/workspaces/${WS}/commit`, t.admin_token);
        expect(r.status === 200 || r.body.error?.code === 'nothing_to_commit').toBe(true);
        await client.waitFor(
          () => ws.getFile('a.md')?.part_of === 'README.md',
          15_000,
          'the client sees the repair',
        );
      }
      expect(a.getBody()).toBe('a\nline 1\nline 2\nline 3\n');
      const health = await cluster.pool.query<{ consecutive_failures: number }>(
        'SELECT consecutive_failures FROM workspace_health WHERE tenant = $1 AND workspace = $2',
        [t.id, WS],
      );
      expect(health.rows[0].consecutive_failures).toBe(0);
      const events = await cluster.pool.query<{ event: string }>(
        `SELECT event FROM history_audit WHERE tenant = $1 AND workspace = $2 ORDER BY id`,
        [t.id, WS],
      );
      expect(events.rows.map((e) => e.event)).toEqual(['repair', 'repair', 'repair']);
      const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
      expect(metrics).toMatch(/^diaryx_repairs_total\{[^}]*kind="reattach"[^}]*\} [1-9]/m);
    } finally {
      client.close();
    }
  });

  it('/healthz, /readyz and /metrics on every service', async () => {
    const services = [...cluster.gateways, ...cluster.docServices, worker];
    for (const s of services) {
      const root = `http://127.0.0.1:${s.port}`;
      expect((await fetch(`${root}/healthz`)).status).toBe(200);
      expect((await fetch(`${root}/readyz`)).status).toBe(200);
      const m = await fetch(`${root}/metrics`);
      expect(m.status).toBe(200);
      expect(m.headers.get('content-type')).toContain('text/plain');
      expect(await m.text()).toContain('# TYPE ');
    }
  });
});
