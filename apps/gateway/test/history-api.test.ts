/**
 * History HTTP API against an in-process gateway and an in-process history worker (real
 * PostgreSQL, Redis/BullMQ, s3rver). Forward updates of the worker go straight to PostgreSQL
 * here (no doc service); the cluster tests cover them through the shards.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import * as Y from 'yjs';
import { Pool } from 'pg';
import { BodyDoc, bodyDocId, workspaceDocId, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { materializeStoredWorkspace, readWorkspaceZip } from '@diaryx-sync/git-store';
import { loadWorkerConfig, startWorkerApp, type WorkerApp } from '@diaryx-sync/history-worker';
import {
  ADMIN_TOKEN,
  api,
  DATABASE_URL,
  dropSchema,
  REDIS_URL,
  startGateway,
  urlWithSearchPath,
  type GatewayHarness,
} from './api-harness';

const run = promisify(execFile);

async function setBody(storage: PostgresStorage, ws: string, path: string, text: string): Promise<void> {
  const id = bodyDocId(ws, path);
  const doc = BodyDoc.fromUpdate(path, await storage.loadDoc(id));
  const sv = Y.encodeStateVector(doc.doc);
  doc.doc.transact(() => {
    doc.insertAt(0, ' ');
    doc.deleteRange(0, 1);
    doc.setBody(text);
  });
  await storage.appendUpdate(id, Y.encodeStateAsUpdate(doc.doc, sv));
}

async function editWorkspace(
  storage: PostgresStorage,
  ws: string,
  fn: (w: WorkspaceCrdt) => void,
): Promise<void> {
  const w = WorkspaceCrdt.fromUpdate(await storage.loadDoc(workspaceDocId(ws)));
  const sv = Y.encodeStateVector(w.doc);
  fn(w);
  await storage.appendUpdate(workspaceDocId(ws), Y.encodeStateAsUpdate(w.doc, sv));
}

async function zipBuffer(entries: Record<string, string>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [k, v] of Object.entries(entries)) zip.file(k, v);
  return zip.generateAsync({ type: 'nodebuffer' });
}

function rawZipNamed(name: string): Buffer {
  // A stored (uncompressed) single-entry zip whose name is kept verbatim.
  const nameBuf = Buffer.from(name);
  const data = Buffer.from('evil');
  const crc = (() => {
    let c = ~0;
    for (const b of data) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return ~c >>> 0;
  })();
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  const lp = Buffer.concat([local, nameBuf, data]);
  const cp = Buffer.concat([central, nameBuf]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(cp.length, 12);
  end.writeUInt32LE(lp.length, 16);
  return Buffer.concat([lp, cp, end]);
}

/** A stored zip whose entries are kept verbatim (duplicates included), each holding "x". */
function rawZipOfNames(names: string[]): Buffer {
  const parts = names.map((n) => rawZipNamed(n));
  // Each single-entry zip is [local header + data][central][end]; splice them into one archive.
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const z of parts) {
    const endAt = z.length - 22;
    const cdSize = z.readUInt32LE(endAt + 12);
    const cdOffset = z.readUInt32LE(endAt + 16);
    const local = z.subarray(0, cdOffset);
    const central = Buffer.from(z.subarray(cdOffset, cdOffset + cdSize));
    central.writeUInt32LE(offset, 42);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe('history HTTP API (gateway + worker in-process)', () => {
  let s3: EmbeddedS3;
  let gw: GatewayHarness;
  let worker: WorkerApp;
  let pool: Pool;
  let storage: PostgresStorage;
  let tenant: string;
  let admin: string;
  let editor: string;
  let viewer: string;
  const WS = 'hist_ws';

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    gw = await startGateway({ S3_ENDPOINT: s3.endpoint });
    pool = new Pool({ connectionString: DATABASE_URL, options: `-c search_path=${gw.schema}`, max: 3 });
    const config = loadWorkerConfig({
      DATABASE_URL: urlWithSearchPath(DATABASE_URL, gw.schema),
      REDIS_URL,
      REDIS_PREFIX: gw.prefix,
      S3_ENDPOINT: s3.endpoint,
      PORT: '0',
      LOG_LEVEL: 'silent',
      HISTORY_QUIET_MS: '200',
    });
    worker = await startWorkerApp(config, {
      applyUpdate: async (req) => {
        await new PostgresStorage({ pool, tenant: req.tenant }).appendUpdate(req.docId, req.update, {
          origin: req.origin,
        });
      },
    });
    const t = await api(gw.baseUrl, 'POST', '/api/tenants', {
      token: ADMIN_TOKEN,
      body: { name: 'History Inc' },
    });
    tenant = t.body.id;
    admin = t.body.admin_token;
    expect(
      (await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: WS, name: 'H' } }))
        .status,
    ).toBe(201);
    editor = (
      await api(gw.baseUrl, 'POST', '/api/tokens', {
        token: admin,
        body: { sub: 'ed', ws: [WS], role: 'editor', ttl_s: 3600 },
      })
    ).body.token;
    viewer = (
      await api(gw.baseUrl, 'POST', '/api/tokens', {
        token: admin,
        body: { sub: 'vi', ws: [WS], role: 'viewer', ttl_s: 3600 },
      })
    ).body.token;
    storage = new PostgresStorage({ pool, tenant });
    await editWorkspace(storage, WS, (w) => {
      w.setFile('README.md', { title: 'Home', contents: ['notes/a.md'], modified_at: 1_700_000_000_000 });
      w.setFile('notes/a.md', { title: 'A', part_of: 'README.md', modified_at: 1_700_000_000_000 });
    });
    await setBody(storage, WS, 'README.md', '# Home\n');
    await setBody(storage, WS, 'notes/a.md', 'alpha ✓\n');
  });

  afterAll(async () => {
    await worker?.close();
    await gw?.close();
    await pool?.end();
    await s3?.stop();
    if (gw) await dropSchema(gw.schema);
  });

  let first: string;

  it('commits on demand, refuses empty commits, lists history', async () => {
    expect((await api(gw.baseUrl, 'GET', `/api/workspaces/${WS}/history`, { token: viewer })).body).toEqual({
      commits: [],
      next_cursor: null,
    });
    expect((await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/commit`, { token: viewer })).status).toBe(
      403,
    );
    const c = await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/commit`, { token: editor });
    expect(c.status).toBe(200);
    expect(c.body).toEqual({ commit_id: expect.stringMatching(/^[0-9a-f]{40}$/), files: 2 });
    first = c.body.commit_id;
    const again = await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/commit`, { token: editor });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('nothing_to_commit');
    await setBody(storage, WS, 'notes/a.md', 'alpha, second version\n');
    expect((await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/commit`, { token: editor })).status).toBe(
      200,
    );
    const h = await api(gw.baseUrl, 'GET', `/api/workspaces/${WS}/history?limit=1`, { token: viewer });
    expect(h.status).toBe(200);
    expect(h.body.commits).toHaveLength(1);
    const rest = await api(
      gw.baseUrl,
      'GET',
      `/api/workspaces/${WS}/history?limit=1&cursor=${h.body.next_cursor}`,
      {
        token: viewer,
      },
    );
    expect(rest.body.commits.map((c: { id: string }) => c.id)).toEqual([first]);
    expect(rest.body.next_cursor).toBeNull();
    const unknownCommit = Buffer.from(JSON.stringify(['0'.repeat(40)])).toString('base64url');
    const forged = await api(gw.baseUrl, 'GET', `/api/workspaces/${WS}/history?cursor=${unknownCommit}`, {
      token: viewer,
    });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_cursor');
    // No user token wrote these files (the test writes through storage): the configured git author.
    expect(h.body.commits[0]).toEqual({
      id: expect.any(String),
      author: 'Diaryx Sync',
      message: expect.stringContaining('0 added, 1 changed, 0 removed'),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      parents: [first],
    });
    expect(
      (await api(gw.baseUrl, 'GET', `/api/workspaces/${WS}/history?limit=100`, { token: viewer })).body
        .commits,
    ).toHaveLength(2);
    expect(
      (await api(gw.baseUrl, 'GET', `/api/workspaces/${WS}/history?limit=101`, { token: viewer })).status,
    ).toBe(400);
    expect(
      (await api(gw.baseUrl, 'GET', `/api/workspaces/${WS}/history?limit=0`, { token: viewer })).status,
    ).toBe(400);
    expect((await api(gw.baseUrl, 'GET', `/api/workspaces/other/history`, { token: admin })).status).toBe(
      404,
    );
  });

  it('serves a git clone (Basic auth with the JWT) byte-equal to the materialized workspace', async () => {
    const noAuth = await fetch(`${gw.baseUrl}/git/${WS}.git/info/refs?service=git-upload-pack`);
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toBe('Basic realm="diaryx-sync"');
    const bearer = await fetch(`${gw.baseUrl}/git/${WS}.git/HEAD`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(await bearer.text()).toBe('ref: refs/heads/main\n');
    const dir = await mkdtemp(join(tmpdir(), 'gw-clone-'));
    try {
      const url = gw.baseUrl.replace('http://', `http://token:${viewer}@`) + `/git/${WS}.git`;
      await run('git', ['clone', '-q', url, join(dir, 'w')], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      });
      const expected = await materializeStoredWorkspace(storage, WS);
      for (const f of expected) expect(await readFile(join(dir, 'w', f.path), 'utf8')).toBe(f.content);
      expect((await readdir(join(dir, 'w'))).filter((n) => n !== '.git').sort()).toEqual([
        'README.md',
        'notes',
      ]);
      const { stdout } = await run('git', ['-C', join(dir, 'w'), 'log', '--format=%H']);
      expect(stdout.trim().split('\n')).toHaveLength(2);
      // a wrong token is challenged again
      const bad = gw.baseUrl.replace('http://', 'http://token:nope@') + `/git/${WS}.git`;
      await expect(
        run('git', ['clone', '-q', bad, join(dir, 'x')], {
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        }),
      ).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports snapshots (current and at a commit) as zips', async () => {
    const cur = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(cur.status).toBe(200);
    expect(cur.headers.get('content-type')).toBe('application/zip');
    const files = await readWorkspaceZip(Buffer.from(await cur.arrayBuffer()));
    expect(files).toEqual(await materializeStoredWorkspace(storage, WS));
    const old = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?commit_id=${first}`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    const oldFiles = await readWorkspaceZip(Buffer.from(await old.arrayBuffer()));
    expect(oldFiles.find((f) => f.path === 'notes/a.md')!.content).toContain('alpha ✓');
    const missing = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?commit_id=${'0'.repeat(40)}`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(missing.status).toBe(404);
  });

  it('rejects hostile zips with 400 and changes nothing', async () => {
    const before = await materializeStoredWorkspace(storage, WS);
    const post = (body: Buffer, token = editor, mode = 'replace') =>
      fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?mode=${mode}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip' },
        body,
      });
    for (const name of ['../escape.md', '/etc/abs.md', 'a/../../x.md', 'C:/win.md']) {
      const res = await post(rawZipNamed(name));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsafe_path');
    }
    expect((await post(Buffer.from('garbage'))).status).toBe(400);
    const json = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ not: 'a zip' }),
    });
    expect(json.status).toBe(415);
    expect(((await json.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    expect((await post(await zipBuffer({ 'a.md': 'x' }), viewer)).status).toBe(403);
    expect((await post(await zipBuffer({ 'a.md': 'x' }), editor, 'bogus')).status).toBe(400);
    const huge = Buffer.alloc(51 * 1024 * 1024);
    const tooBig = await post(huge);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(await materializeStoredWorkspace(storage, WS)).toEqual(before);
  });

  it('refuses bidi controls, reserved, over-long and duplicate names with 400 unsafe_path at the door', async () => {
    const before = await materializeStoredWorkspace(storage, WS);
    const post = (body: Buffer) =>
      fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?mode=merge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/zip' },
        body,
      });
    const hostile: [string, Buffer][] = [
      ['bidi', rawZipNamed('invoice\u202Edm.exe.md')],
      ['isolate', rawZipNamed('a\u2067b.md')],
      ['reserved', rawZipNamed('CON.md')],
      ['reserved in a folder', rawZipNamed('notes/lpt1.txt.md')],
      ['over-long name', rawZipNamed(`${'x'.repeat(200)}.md`)],
      ['over-long path', rawZipNamed(`${'d'.repeat(120)}/${'f'.repeat(120)}.md`)],
      ['NFC and NFD spellings', rawZipOfNames(['cafe\u0301.md', 'caf\u00e9.md'])],
      ['one name twice', rawZipOfNames(['same.md', 'same.md'])],
    ];
    for (const [what, zip] of hostile) {
      const res = await post(zip);
      const body = (await res.json()) as { error: { code: string } };
      expect({ what, status: res.status, code: body.error.code }).toEqual({
        what,
        status: 400,
        code: 'unsafe_path',
      });
    }
    expect(await materializeStoredWorkspace(storage, WS)).toEqual(before);
  });

  it('runs one import per tenant (cluster-wide) and two per gateway; more get 429 with Retry-After', async () => {
    const zip = await zipBuffer({ 'slot.md': 'slot\n' });
    const others: { token: string; ws: string }[] = [];
    for (const name of ['Slot B', 'Slot C']) {
      const t = await api(gw.baseUrl, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name } });
      const created = await api(gw.baseUrl, 'POST', '/api/workspaces', {
        token: t.body.admin_token,
        body: { id: 'slots' },
      });
      expect(created.status).toBe(201);
      others.push({ token: t.body.admin_token, ws: 'slots' });
    }
    // A held upload: half the zip now, the rest when released.
    const held = (token: string, ws: string) => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(zip.subarray(0, 10));
          await released;
          controller.enqueue(zip.subarray(10));
          controller.close();
        },
      });
      const response = fetch(`${gw.baseUrl}/api/workspaces/${ws}/snapshot?mode=merge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip' },
        body,
        duplex: 'half',
      } as RequestInit);
      return { release, response };
    };
    const post = (token: string, ws: string) =>
      fetch(`${gw.baseUrl}/api/workspaces/${ws}/snapshot?mode=merge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/zip' },
        body: zip,
      });
    expect(
      (await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: 'slots' } })).status,
    ).toBe(201);
    const a = held(admin, 'slots');
    await new Promise((r) => setTimeout(r, 300));
    const sameTenant = await post(admin, 'slots');
    expect(sameTenant.status).toBe(429);
    expect(sameTenant.headers.get('retry-after')).toBe('5');
    expect(((await sameTenant.json()) as { error: { code: string } }).error.code).toBe('too_many_imports');
    // The tenant limit holds across gateways (a Redis lease per running import).
    const gw2 = await startGateway({ S3_ENDPOINT: s3.endpoint }, { schema: gw.schema, prefix: gw.prefix });
    try {
      const elsewhere = await fetch(`${gw2.baseUrl}/api/workspaces/slots/snapshot?mode=merge`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/zip' },
        body: zip,
      });
      expect(elsewhere.status).toBe(429);
    } finally {
      await gw2.close();
    }
    const b = held(others[0].token, others[0].ws);
    await new Promise((r) => setTimeout(r, 300));
    const thirdTenant = await post(others[1].token, others[1].ws);
    expect(thirdTenant.status).toBe(429);
    a.release();
    b.release();
    expect((await a.response).status).toBe(200);
    expect((await b.response).status).toBe(200);
    // Slots are given back: the same requests succeed now.
    expect((await post(others[1].token, others[1].ws)).status).toBe(200);
  });

  it('imports a zip (merge and replace) and restores a commit', async () => {
    const merge = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?mode=merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/zip' },
      body: await zipBuffer({ 'imported.md': '---\ntitle: Imported\n---\n\nfrom zip\n' }),
    });
    expect(merge.status).toBe(200);
    expect(await merge.json()).toMatchObject({ mode: 'merge', status: 'restored', files: 3 });
    let now = await materializeStoredWorkspace(storage, WS);
    expect(now.map((f) => f.path)).toEqual(['README.md', 'imported.md', 'notes/a.md']);
    expect(now.find((f) => f.path === 'imported.md')!.content).toBe(
      '---\ntitle: Imported\n---\n\nfrom zip\n',
    );

    // round trip: export, then replace-import the export → nothing changes
    const exported = Buffer.from(
      await (
        await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot`, {
          headers: { authorization: `Bearer ${editor}` },
        })
      ).arrayBuffer(),
    );
    const replace = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?mode=replace`, {
      method: 'POST',
      headers: { authorization: `Bearer ${editor}`, 'content-type': 'application/zip' },
      body: exported,
    });
    expect(await replace.json()).toMatchObject({ status: 'unchanged' });
    expect(await materializeStoredWorkspace(storage, WS)).toEqual(now);

    const r = await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/restore`, {
      token: editor,
      body: { commit_id: first },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ commit_id: first, status: 'restored' });
    now = await materializeStoredWorkspace(storage, WS);
    const old = await fetch(`${gw.baseUrl}/api/workspaces/${WS}/snapshot?commit_id=${first}`, {
      headers: { authorization: `Bearer ${editor}` },
    });
    expect(now).toEqual(await readWorkspaceZip(Buffer.from(await old.arrayBuffer())));
    expect(
      (
        await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/restore`, {
          token: editor,
          body: { commit_id: 'xyz' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/restore`, {
          token: editor,
          body: { commit_id: 'a'.repeat(40) },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api(gw.baseUrl, 'POST', `/api/workspaces/${WS}/restore`, {
          token: viewer,
          body: { commit_id: first },
        })
      ).status,
    ).toBe(403);
  });

  it('repairs a broken parent in place and commits; answers 409 validation_failed (action rebuild) for an unreadable workspace', async () => {
    // A workspace of its own: jobs still running for the shared one (restores, compaction after
    // its commits) must not race this test's commits.
    const HW = 'heal_ws';
    expect(
      (await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: HW, name: 'Heal' } }))
        .status,
    ).toBe(201);
    const healer = (
      await api(gw.baseUrl, 'POST', '/api/tokens', {
        token: admin,
        body: { sub: 'ed', ws: [HW], role: 'editor', ttl_s: 3600 },
      })
    ).body.token;
    await editWorkspace(storage, HW, (w) => {
      w.setFile('README.md', { title: 'Home', contents: ['notes/a.md'], modified_at: 1_700_000_000_000 });
      w.setFile('notes/a.md', { title: 'A', part_of: 'gone.md', modified_at: 1_700_000_000_001 });
    });
    await setBody(storage, HW, 'README.md', '# Home\n');
    await setBody(storage, HW, 'notes/a.md', 'alpha ✓\n');
    const repaired = await api(gw.baseUrl, 'POST', `/api/workspaces/${HW}/commit`, { token: healer });
    expect(repaired.status).toBe(200);
    const ws = WorkspaceCrdt.fromUpdate(await storage.loadDoc(workspaceDocId(HW)));
    expect(ws.getFile('notes/a.md')!.part_of).not.toBe('gone.md');

    await storage.appendUpdate(workspaceDocId(HW), Buffer.from('not a yjs update'), { origin: 'disk-rot' });
    const res = await api(gw.baseUrl, 'POST', `/api/workspaces/${HW}/commit`, { token: healer });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'validation_failed', action: 'rebuild' });
    expect(res.body.error.issues).toEqual([
      expect.objectContaining({ kind: 'unreadable_doc', file: workspaceDocId(HW) }),
    ]);
  });

  it('mounts Bull Board at /ops/queues behind the admin token', async () => {
    expect((await fetch(`${gw.baseUrl}/ops/queues`)).status).toBe(401);
    expect(
      (await fetch(`${gw.baseUrl}/ops/queues`, { headers: { authorization: `Bearer ${editor}` } })).status,
    ).toBe(401);
    const ok = await fetch(`${gw.baseUrl}/ops/queues`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('<html');
    const queues = await fetch(`${gw.baseUrl}/ops/queues/api/queues`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual([
      'attachment-gc',
      'compaction',
      'git-commit',
      'rebuild',
      'restore',
      'validation',
      'webhook-delivery',
      'webhook-events',
    ]);
  });

  it('deleting a workspace drops its git history: a new workspace with the same id starts empty', async () => {
    const ws = 'hist_deleted';
    expect(
      (await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: ws, name: 'D' } }))
        .status,
    ).toBe(201);
    await editWorkspace(storage, ws, (w) =>
      w.setFile('x.md', { title: 'X', modified_at: 1_700_000_000_000 }),
    );
    await setBody(storage, ws, 'x.md', 'x\n');
    expect((await api(gw.baseUrl, 'POST', `/api/workspaces/${ws}/commit`, { token: admin })).status).toBe(
      200,
    );
    expect(
      (await api(gw.baseUrl, 'GET', `/api/workspaces/${ws}/history`, { token: admin })).body.commits,
    ).toHaveLength(1);
    expect((await api(gw.baseUrl, 'DELETE', `/api/workspaces/${ws}`, { token: admin })).status).toBe(204);
    expect(
      (await api(gw.baseUrl, 'POST', '/api/workspaces', { token: admin, body: { id: ws, name: 'D2' } }))
        .status,
    ).toBe(201);
    expect((await api(gw.baseUrl, 'GET', `/api/workspaces/${ws}/history`, { token: admin })).body).toEqual({
      commits: [],
      next_cursor: null,
    });
  });
});
