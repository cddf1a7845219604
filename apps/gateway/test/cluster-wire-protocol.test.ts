/**
 * The wire contract of docs/protocol.md, end to end against a REAL cluster (2 gateway
 * processes, 1 doc service, real Redis, PostgreSQL and sockets). Complements
 * cluster-sync.test.ts: every test here checks a normative statement of the spec that the other
 * cluster tests do not prove (exact JSON shapes, message order, who receives what).
 */
import {
  decodeFrame,
  decodeMessages,
  encodeAwarenessUpdate,
  decodeAwarenessUpdate,
  encodeFrame,
  encodeMessage,
  encodeMessages,
  type ProtocolMessage,
} from '@diaryx-sync/protocol';
import {
  REMOTE_ORIGIN,
  SyncClient,
  createYDocSessionDocuments,
  type SyncEvent,
} from '@diaryx-sync/protocol/node';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import * as Y from 'yjs';
import {
  Sync2TestClient,
  bodyText,
  closedOf,
  sleep,
  startCluster,
  type CloseInfo,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';

jest.setTimeout(30_000);

let cluster: TestCluster;
let tenantA: TestTenant;
let tenantB: TestTenant;
/** Editor of tenant A on every workspace (`ws:["*"]`). */
let editorAll: string;
const toClose: { close(): void }[] = [];

function track<T extends { close(): void }>(c: T): T {
  toClose.push(c);
  return c;
}

/** A workspace id of the maximum length (64): its body doc ids reach 255 bytes. */
const LONGEST_WORKSPACE = 'w'.repeat(64);

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 1 });
  tenantA = await cluster.createTenant('acc-a');
  tenantB = await cluster.createTenant('acc-b');
  await cluster.createWorkspace(tenantA, 'main');
  await cluster.createWorkspace(tenantA, 'side');
  await cluster.createWorkspace(tenantB, 'main');
  await cluster.createWorkspace(tenantB, 'only_b');
  await cluster.createWorkspace(tenantA, LONGEST_WORKSPACE);
  editorAll = await cluster.token({ tid: tenantA.id, ws: ['*'], role: 'editor' });
}, 90_000);

afterAll(async () => {
  for (const c of toClose) c.close();
  await cluster?.stop();
}, 60_000);

/** Everything a raw socket received, in order. */
type Received =
  | { kind: 'bin'; docId: string; messages: ProtocolMessage[] }
  | { kind: 'text'; json: Record<string, unknown>; raw: string };

/** A raw WebSocket that records every message (decoded) in arrival order. */
class Raw {
  readonly got: Received[] = [];
  readonly closed: Promise<CloseInfo>;

  constructor(
    readonly ws: WebSocket,
    readonly dialect: 'sync2' | 'yjs',
  ) {
    this.closed = closedOf(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const raw = data.toString('utf8');
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          json = { unparsable: raw };
        }
        this.got.push({ kind: 'text', json, raw });
        return;
      }
      const bytes = new Uint8Array(data);
      if (dialect === 'sync2') {
        const f = decodeFrame(bytes);
        this.got.push({ kind: 'bin', docId: f.docId, messages: decodeMessages(f.payload, 'sync2') });
      } else {
        this.got.push({ kind: 'bin', docId: '', messages: decodeMessages(bytes, 'yjs') });
      }
    });
  }

  static async sync2(token: string, gateway = 0, viaHeader = false): Promise<Raw> {
    const url = viaHeader
      ? `${cluster.ws(gateway)}/sync2`
      : `${cluster.ws(gateway)}/sync2?token=${encodeURIComponent(token)}`;
    const ws = await openWs(url, viaHeader ? { authorization: `Bearer ${token}` } : undefined);
    return track(new Raw(ws, 'sync2'));
  }

  static async yjs(token: string, docId: string, gateway = 0): Promise<Raw> {
    const ws = await openWs(
      `${cluster.ws(gateway)}/yjs/${encodeURIComponent(docId)}?token=${encodeURIComponent(token)}`,
    );
    return track(new Raw(ws, 'yjs'));
  }

  send(docId: string, ...messages: ProtocolMessage[]): void {
    const payload = messages.length === 1 ? encodeMessage(messages[0]!) : encodeMessages(messages);
    this.ws.send(this.dialect === 'sync2' ? encodeFrame(docId, payload) : payload);
  }

  text(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  texts(type?: string): Record<string, unknown>[] {
    return this.got
      .filter((g): g is Extract<Received, { kind: 'text' }> => g.kind === 'text')
      .map((g) => g.json)
      .filter((j) => type === undefined || j.type === type);
  }

  /** Binary messages received for `docId` (sync2) or for the socket's doc (yjs). */
  messages(docId = ''): ProtocolMessage[] {
    return this.got.flatMap((g) => (g.kind === 'bin' && g.docId === docId ? g.messages : []));
  }

  async until<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
    return waitUntil(check, timeoutMs, what);
  }

  /** Sends a ping and waits for its pong: every earlier message has been handled. */
  async roundTrip(): Promise<void> {
    const before = this.texts('pong').length;
    this.text({ type: 'ping' });
    await this.until(() => this.texts('pong').length > before, 'pong');
  }

  /** The close code, or `'still open'` after `ms`. */
  async closeCode(ms = 5_000): Promise<number | 'still open'> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.closed,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), ms))),
    ]);
    clearTimeout(timer);
    return r === null ? 'still open' : r.code;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

/** Opens a WebSocket; rejects with `HTTP <status>` when the upgrade is refused. */
function openWs(url: string, headers?: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, headers ? { headers } : undefined);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const sv0 = () => new Uint8Array([0]);

function fileMeta(title: string, deleted = false): string {
  return JSON.stringify({
    filename: `${title}.md`,
    title,
    part_of: null,
    contents: null,
    attachments: [],
    deleted,
    audience: null,
    description: null,
    extra: {},
    modified_at: Date.now(),
  });
}

async function api(path: string, token: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${cluster.http()}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}

describe('authentication at the upgrade', () => {
  test('/sync2 accepts Authorization: Bearer; bad tokens get HTTP 401 before the upgrade', async () => {
    const viaHeader = await Raw.sync2(editorAll, 0, true);
    viaHeader.send('workspace:main', { type: 'syncStep1', stateVector: sv0() });
    await viaHeader.until(() => viaHeader.messages('workspace:main').length >= 2, 'sync reply via Bearer');

    const wrongSecret = await new SignJWT({ tid: tenantA.id, ws: ['*'], role: 'editor' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-cluster-secret'));
    const badRole = await new SignJWT({ tid: tenantA.id, ws: ['*'], role: 'owner' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(cluster.jwtSecret));
    for (const [url, headers] of [
      [`${cluster.ws(0)}/sync2`, { authorization: 'Bearer garbage' }],
      [`${cluster.ws(0)}/sync2`, { authorization: `Bearer ${wrongSecret}` }],
      [`${cluster.ws(1)}/sync2?token=${wrongSecret}`, undefined],
      [`${cluster.ws(1)}/sync2?token=${badRole}`, undefined],
    ] as const) {
      await expect(openWs(url, headers)).rejects.toThrow('HTTP 401');
    }
  });

  test('/yjs: 401 without or with an expired token, 403 for a workspace absent from the tenant or outside ws', async () => {
    const expired = await cluster.token({ tid: tenantA.id, ttlSeconds: -5 });
    const onlyMain = await cluster.token({ tid: tenantA.id, ws: ['main'] });
    const yjs = (doc: string, token?: string) =>
      openWs(`${cluster.ws(1)}/yjs/${encodeURIComponent(doc)}${token ? `?token=${token}` : ''}`);
    await expect(yjs('workspace:main')).rejects.toThrow('HTTP 401');
    await expect(yjs('workspace:main', expired)).rejects.toThrow('HTTP 401');
    await expect(yjs('workspace:only_b', editorAll)).rejects.toThrow('HTTP 403'); // exists in tenant B only
    await expect(yjs('body:nowhere/a.md', editorAll)).rejects.toThrow('HTTP 403');
    await expect(yjs('body:side/a.md', onlyMain)).rejects.toThrow('HTTP 403');
  });

  test('a plain (non-upgrade) GET is refused like an upgrade: 401 bad token, 403 forbidden /yjs doc, else 426', async () => {
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${cluster.http(1)}${path}`, { headers });
      return [res.status, ((await res.json()) as { error?: { code?: string } }).error?.code];
    };
    expect(await get('/sync2')).toEqual([401, 'unauthorized']);
    expect(await get('/sync2?token=garbage')).toEqual([401, 'unauthorized']);
    expect(await get('/sync2', { authorization: 'Bearer garbage' })).toEqual([401, 'unauthorized']);
    expect(await get(`/sync2?token=${editorAll}`)).toEqual([426, 'upgrade_required']);
    expect(await get('/sync2', { authorization: `Bearer ${editorAll}` })).toEqual([426, 'upgrade_required']);
    expect(await get(`/yjs/${encodeURIComponent('workspace:main')}`)).toEqual([401, 'unauthorized']);
    expect(await get(`/yjs/${encodeURIComponent('workspace:only_b')}?token=${editorAll}`)).toEqual([
      403,
      'forbidden',
    ]);
    expect(await get(`/yjs/${encodeURIComponent('body:main/a b.md')}?token=${editorAll}`)).toEqual([
      426,
      'upgrade_required',
    ]);
  });

  test('tokens issued by the HTTP API work on /sync2; the tenant admin can write', async () => {
    const issued = await api('/api/tokens', tenantA.adminToken, {
      method: 'POST',
      body: { sub: 'alice', ws: ['main'], role: 'editor', ttl_s: 600 },
    });
    expect(issued.status).toBe(201);
    const editor = track(await Sync2TestClient.connect(cluster.ws(1), issued.body!.token as string));
    const edDoc = await editor.openSynced('body:main/admin.md');

    const admin = track(await Sync2TestClient.connect(cluster.ws(0), tenantA.adminToken));
    const adDoc = await admin.openSynced('body:main/admin.md');
    adDoc.getText('body').insert(0, 'written by the admin');
    await admin.save('body:main/admin.md');
    await waitUntil(
      () => bodyText(edDoc) === 'written by the admin',
      10_000,
      'admin edit reached the editor',
    );
    expect(admin.textsOfType('error')).toEqual([]);
  });
});

describe('server behaviour per document', () => {
  test('SyncStep1 is answered with SyncStep2 (what the client lacks) then the server SyncStep1', async () => {
    const writer = track(await Sync2TestClient.connect(cluster.ws(0), editorAll));
    const wDoc = await writer.openSynced('body:main/order.md');
    wDoc.getText('body').insert(0, 'server content');
    await writer.save('body:main/order.md');

    const raw = await Raw.sync2(editorAll, 1);
    raw.send('body:main/order.md', { type: 'syncStep1', stateVector: sv0() });
    const got = await raw.until(() => {
      const m = raw.messages('body:main/order.md');
      return m.length >= 2 ? m : null;
    }, 'two reply messages');
    expect(got.map((m) => m.type).slice(0, 2)).toEqual(['syncStep2', 'syncStep1']);
    const local = new Y.Doc();
    Y.applyUpdate(local, (got[0] as { update: Uint8Array }).update);
    expect(bodyText(local)).toBe('server content');
    expect(Y.decodeStateVector((got[1] as { stateVector: Uint8Array }).stateVector)).toEqual(
      Y.decodeStateVector(Y.encodeStateVector(wDoc)),
    );
  });

  test('sync_complete counts active files, follows the SyncStep2, and only after the FIRST workspace SyncStep1', async () => {
    await cluster.createWorkspace(tenantA, 'counted');
    const writer = track(await Sync2TestClient.connect(cluster.ws(0), editorAll));
    const ws = await writer.openSynced('workspace:counted');
    const files = ws.getMap('files');
    files.set('a.md', fileMeta('a'));
    files.set('b.md', fileMeta('b'));
    files.set('dir/c.md', fileMeta('c'));
    files.set('gone.md', fileMeta('gone', true));
    await writer.save('workspace:counted');
    expect(writer.textsOfType('sync_complete')).toEqual([{ type: 'sync_complete', files_synced: 0 }]);

    const raw = await Raw.sync2(editorAll, 1);
    raw.send('body:counted/a.md', { type: 'syncStep1', stateVector: sv0() });
    await raw.until(() => raw.messages('body:counted/a.md').length >= 2, 'body sync');
    raw.send('workspace:counted', { type: 'syncStep1', stateVector: sv0() });
    await raw.until(() => raw.texts('sync_complete').length > 0, 'sync_complete');
    raw.send('workspace:counted', { type: 'syncStep1', stateVector: sv0() });
    raw.send('body:counted/b.md', { type: 'syncStep1', stateVector: sv0() });
    await raw.until(() => raw.messages('workspace:counted').length >= 4, 'second workspace sync');
    await raw.roundTrip();
    await sleep(200);
    expect(raw.texts('sync_complete')).toEqual([{ type: 'sync_complete', files_synced: 3 }]);
    // It comes after the SyncStep2 answering the workspace SyncStep1.
    const idxComplete = raw.got.findIndex((g) => g.kind === 'text' && g.json.type === 'sync_complete');
    const idxStep2 = raw.got.findIndex(
      (g) => g.kind === 'bin' && g.docId === 'workspace:counted' && g.messages[0]?.type === 'syncStep2',
    );
    expect(idxStep2).toBeGreaterThanOrEqual(0);
    expect(idxComplete).toBeGreaterThan(idxStep2);
    expect(raw.texts().some((t) => t.type === 'file_manifest' || t.type === 'crdt_state')).toBe(false);
  });

  test('an update is broadcast to every OTHER subscriber on both gateways, never echoed to its sender', async () => {
    const doc = 'body:main/fanout.md';
    const a = await Raw.sync2(editorAll, 0);
    const sameGw = await Raw.sync2(editorAll, 0);
    const otherGw = await Raw.sync2(editorAll, 1);
    for (const c of [a, sameGw, otherGw]) {
      c.send(doc, { type: 'syncStep1', stateVector: sv0() });
      await c.until(() => c.messages(doc).length >= 2, 'synced');
    }
    const src = new Y.Doc();
    src.getText('body').insert(0, 'fan out');
    a.send(doc, { type: 'update', update: Y.encodeStateAsUpdate(src) });
    a.text({ action: 'save', doc });
    await a.until(() => a.texts('saved').length > 0, 'saved');
    expect(a.texts('saved')).toEqual([{ type: 'saved', doc }]);
    for (const c of [sameGw, otherGw]) {
      await c.until(() => c.messages(doc).some((m) => m.type === 'update'), 'broadcast update');
    }
    await sleep(300);
    expect(a.messages(doc).filter((m) => m.type === 'update')).toEqual([]);
    expect(a.messages(doc)).toHaveLength(2); // just the SyncStep2/SyncStep1 answer
  });

  test('viewer: a non-changing SyncStep2 is ignored silently; a changing update gets exactly the read_only error', async () => {
    const doc = 'body:main/viewed.md';
    const writer = track(await Sync2TestClient.connect(cluster.ws(0), editorAll));
    const wDoc = await writer.openSynced(doc);
    wDoc.getText('body').insert(0, 'original');
    await writer.save(doc);

    const viewerToken = await cluster.token({ tid: tenantA.id, ws: ['main'], role: 'viewer' });
    const v = await Raw.sync2(viewerToken, 1);
    v.send(doc, { type: 'syncStep1', stateVector: sv0() });
    const reply = await v.until(() => {
      const m = v.messages(doc);
      return m.length >= 2 ? m : null;
    }, 'viewer synced');
    const mirror = new Y.Doc();
    Y.applyUpdate(mirror, (reply[0] as { update: Uint8Array }).update);
    // The usual empty SyncStep2 of a sync exchange, and an update the server already has.
    v.send(doc, {
      type: 'syncStep2',
      update: Y.encodeStateAsUpdate(mirror, (reply[1] as { stateVector: Uint8Array }).stateVector),
    });
    v.send(doc, { type: 'update', update: Y.encodeStateAsUpdate(mirror) });
    await v.roundTrip();
    await sleep(200);
    expect(v.texts('error')).toEqual([]);

    mirror.getText('body').insert(0, 'HACK ');
    v.send(doc, { type: 'update', update: Y.encodeStateAsUpdate(mirror) });
    await v.until(() => v.texts('error').length > 0, 'read_only');
    expect(v.texts('error')).toEqual([{ type: 'error', code: 'read_only', doc }]);
    // Still open, still reading.
    wDoc.getText('body').insert(wDoc.getText('body').length, ' + more');
    await v.until(() => v.messages(doc).some((m) => m.type === 'update'), 'viewer receives broadcasts');
    await writer.save(doc);
    expect(bodyText(wDoc)).toBe('original + more');
    expect(v.ws.readyState).toBe(WebSocket.OPEN);
  });

  test('awareness is relayed to the others and removed on leave and on disconnect', async () => {
    const doc = 'body:main/aware.md';
    const a = await Raw.sync2(editorAll, 0);
    const b = await Raw.sync2(editorAll, 1);
    const c = await Raw.sync2(editorAll, 0);
    for (const x of [a, b, c]) {
      x.send(doc, { type: 'syncStep1', stateVector: sv0() });
      await x.until(() => x.messages(doc).length >= 2, 'synced');
    }
    const stateOf = (x: Raw, clientId: number): string | undefined => {
      let last: string | undefined;
      for (const m of x.messages(doc))
        if (m.type === 'awareness')
          for (const e of decodeAwarenessUpdate(m.update)) if (e.clientId === clientId) last = e.state;
      return last;
    };
    a.send(doc, {
      type: 'awareness',
      update: encodeAwarenessUpdate([{ clientId: 1111, clock: 1, state: '{"user":"a"}' }]),
    });
    c.send(doc, {
      type: 'awareness',
      update: encodeAwarenessUpdate([{ clientId: 3333, clock: 1, state: '{"user":"c"}' }]),
    });
    await b.until(
      () => stateOf(b, 1111) === '{"user":"a"}' && stateOf(b, 3333) === '{"user":"c"}',
      'states at b',
    );
    await a.until(() => stateOf(a, 3333) === '{"user":"c"}', 'c state at a');
    expect(stateOf(a, 1111)).toBeUndefined(); // not echoed

    a.text({ action: 'leave', doc });
    await b.until(() => stateOf(b, 1111) === 'null', 'a removed after leave');
    c.close();
    await b.until(() => stateOf(b, 3333) === 'null', 'c removed after disconnect');
  });

  test('one frame may carry several messages (SyncStep1 + Update + Awareness)', async () => {
    const doc = 'body:main/multi.md';
    const peer = await Raw.sync2(editorAll, 1);
    peer.send(doc, { type: 'syncStep1', stateVector: sv0() });
    await peer.until(() => peer.messages(doc).length >= 2, 'peer synced');
    const src = new Y.Doc();
    src.getText('body').insert(0, 'multi');
    const raw = await Raw.sync2(editorAll, 0);
    raw.send(
      doc,
      { type: 'syncStep1', stateVector: sv0() },
      { type: 'update', update: Y.encodeStateAsUpdate(src) },
      { type: 'awareness', update: encodeAwarenessUpdate([{ clientId: 77, clock: 1, state: '{}' }]) },
    );
    await raw.until(() => raw.messages(doc).length >= 2, 'answer');
    await peer.until(
      () =>
        peer.messages(doc).some((m) => m.type === 'update') &&
        peer.messages(doc).some((m) => m.type === 'awareness'),
      'update and awareness at the peer',
    );
  });
});

describe('text frames', () => {
  test('FilesReady / files_ready are accepted and ignored; ping gets exactly pong', async () => {
    const c = await Raw.sync2(editorAll, 0);
    c.text({ type: 'FilesReady' });
    c.text({ type: 'files_ready' });
    c.text({ type: 'ping' });
    await c.until(() => c.texts().length > 0, 'answer');
    await sleep(200);
    expect(c.texts()).toEqual([{ type: 'pong' }]);
    expect(c.got.find((g) => g.kind === 'text')!.raw).toBe('{"type":"pong"}');
  });

  test('bad_json and unknown_message for every malformed or unknown text; the connection stays open', async () => {
    const c = await Raw.sync2(editorAll, 1);
    const bad = ['', 'not json', '{"type":'];
    const unknown = [
      '42',
      '[]',
      'null',
      '"ping"',
      '{}',
      '{"type":"nope"}',
      '{"action":"save"}',
      '{"action":"fly","doc":"workspace:main"}',
      '{"type":"focus"}',
    ];
    for (const t of [...bad, ...unknown]) c.text(t);
    await c.until(() => c.texts().length >= bad.length + unknown.length, 'all answers');
    expect(c.texts()).toEqual([
      ...bad.map(() => ({ type: 'error', code: 'bad_json' })),
      ...unknown.map(() => ({ type: 'error', code: 'unknown_message' })),
    ]);
    await c.roundTrip();
  });

  test('focus/unfocus: focus_list_changed with paths goes to that workspace only, on both gateways', async () => {
    const a = await Raw.sync2(editorAll, 0);
    const b = await Raw.sync2(editorAll, 1);
    const other = await Raw.sync2(editorAll, 1);
    for (const [x, doc] of [
      [a, 'workspace:main'],
      [b, 'workspace:main'],
      [other, 'workspace:side'],
    ] as const) {
      x.send(doc, { type: 'syncStep1', stateVector: sv0() });
      await x.until(() => x.messages(doc).length >= 2, 'synced');
    }
    a.text({ type: 'focus', files: ['body:main/journal/2024.md', 'body:main/b.md'] });
    const expected = { type: 'focus_list_changed', workspace: 'main', files: ['b.md', 'journal/2024.md'] };
    await b.until(
      () => b.texts('focus_list_changed').some((m) => JSON.stringify(m) === JSON.stringify(expected)),
      'focus at b',
    );
    await a.until(() => a.texts('focus_list_changed').length > 0, 'focus at a');
    a.text({ type: 'unfocus', files: ['body:main/b.md'] });
    await b.until(
      () => JSON.stringify(b.texts('focus_list_changed').at(-1)?.files) === '["journal/2024.md"]',
      'unfocus at b',
    );
    await other.roundTrip();
    await sleep(200);
    expect(other.texts('focus_list_changed')).toEqual([]);
    // A connection that closes leaves the focus set.
    a.close();
    await b.until(
      () => JSON.stringify(b.texts('focus_list_changed').at(-1)?.files) === '[]',
      'focus cleared after disconnect',
    );
  });

  test('peer_joined / peer_left carry the cluster-wide count of workspace-doc subscribers', async () => {
    await cluster.createWorkspace(tenantA, 'peers');
    const doc = 'workspace:peers';
    const a = await Raw.sync2(editorAll, 0);
    a.send(doc, { type: 'syncStep1', stateVector: sv0() });
    await a.until(() => a.texts('peer_joined').length > 0, 'own peer_joined');
    expect(a.texts('peer_joined')[0]).toEqual({ type: 'peer_joined', workspace: 'peers', peer_count: 1 });
    const b = await Raw.sync2(editorAll, 1);
    b.send(doc, { type: 'syncStep1', stateVector: sv0() });
    await a.until(() => a.texts('peer_joined').some((m) => m.peer_count === 2), 'peer_joined 2 at a');
    await b.until(() => b.texts('peer_joined').some((m) => m.peer_count === 2), 'peer_joined 2 at b');
    b.close();
    await a.until(() => a.texts('peer_left').length > 0, 'peer_left');
    expect(a.texts('peer_left')).toEqual([{ type: 'peer_left', workspace: 'peers', peer_count: 1 }]);
  });

  test('save of an untouched doc is answered; save/leave of an inaccessible doc close with 4403', async () => {
    const c = await Raw.sync2(editorAll, 0);
    c.text({ action: 'save', doc: 'body:main/never-opened.md' });
    await c.until(() => c.texts('saved').length > 0, 'saved');
    expect(c.texts('saved')).toEqual([{ type: 'saved', doc: 'body:main/never-opened.md' }]);

    const onlyMain = await cluster.token({ tid: tenantA.id, ws: ['main'] });
    const cases: [string, Record<string, unknown>][] = [
      [onlyMain, { action: 'leave', doc: 'body:side/x.md' }],
      [editorAll, { action: 'leave', doc: 'workspace:only_b' }],
      [editorAll, { action: 'save', doc: 'body:nowhere/x.md' }],
    ];
    const reasons = new Set<string>();
    for (const [token, msg] of cases) {
      const x = await Raw.sync2(token, 1);
      x.text(msg);
      expect(await x.closeCode()).toBe(4403);
      reasons.add((await x.closed).reason);
    }
    // Outside `ws` and absent from the tenant look the same, also for a first binary frame.
    for (const doc of ['body:side/x.md', 'body:only_b/x.md', 'workspace:nowhere']) {
      const x = await Raw.sync2(onlyMain, 0);
      x.send(doc, { type: 'syncStep1', stateVector: sv0() });
      expect(await x.closeCode()).toBe(4403);
      reasons.add((await x.closed).reason);
    }
    expect(reasons.size).toBe(1);
  });
});

describe('doc ids on the wire', () => {
  test('non-canonical or oversized doc ids close with 4400 in frames and in save/leave; a 255-byte id works', async () => {
    const step1 = encodeMessage({ type: 'syncStep1', stateVector: sv0() });
    const badFrames = [
      'body:main/./a.md',
      'body:main//a.md',
      'body:main/a\\b.md',
      'body:main/../a.md',
      'workspace:ma in',
      'body:main/',
      'body:main/dir/',
      'body:main/a\u0001.md',
      'body:main/a\u0000.md',
      'Body:main/a.md',
      'body:main',
      `body:main/${'y'.repeat(186)}`, // path over 185 bytes (docs/protocol.md#paths)
    ];
    for (const id of badFrames) {
      const x = await Raw.sync2(editorAll, 0);
      x.ws.send(encodeFrame(id, step1));
      expect([id, await x.closeCode()]).toEqual([id, 4400]);
    }
    // Auth (2) and QueryAwareness (3) are unknown outer types on /sync2.
    for (const payload of [[3], [2, 0, 1, 65]]) {
      const x = await Raw.sync2(editorAll, 1);
      x.ws.send(new Uint8Array([14, ...new TextEncoder().encode('workspace:main'), ...payload]));
      expect(await x.closeCode()).toBe(4400);
    }
    const zeroLength = await Raw.sync2(editorAll, 0);
    zeroLength.ws.send(new Uint8Array([0, ...step1]));
    expect(await zeroLength.closeCode()).toBe(4400);
    for (const msg of [
      { action: 'save', doc: '/body:main/a.md' },
      { action: 'save', doc: 'body:main/./a.md' },
      { action: 'leave', doc: `body:main/${'x'.repeat(250)}` },
    ]) {
      const x = await Raw.sync2(editorAll, 1);
      x.text(msg);
      expect([msg, await x.closeCode()]).toEqual([msg, 4400]);
    }
    // focus/unfocus carry doc ids too: a non-canonical or invalid one is a protocol error.
    for (const msg of [
      { type: 'focus', files: ['body:main/./a.md'] },
      { type: 'focus', files: ['body:main/ok.md', 'body:main\\a.md'] },
      { type: 'unfocus', files: ['not a doc id'] },
    ]) {
      const x = await Raw.sync2(editorAll, 0);
      x.text(msg);
      expect([msg, await x.closeCode()]).toEqual([msg, 4400]);
    }
    // 255 bytes: the longest workspace id and the longest path (185 bytes)
    const longest = `body:${LONGEST_WORKSPACE}/${'y'.repeat(185)}`;
    expect(Buffer.byteLength(longest)).toBe(255);
    const ok = await Raw.sync2(editorAll, 0);
    ok.send(longest, { type: 'syncStep1', stateVector: sv0() });
    await ok.until(() => ok.messages(longest).length >= 2, '255-byte doc id synced');
  });
});

describe('the /yjs endpoint', () => {
  test('no JSON text frames ever (peers, focus, errors); a viewer: silent no-op, Auth permission denied for a change', async () => {
    const doc = 'workspace:main';
    const y = await Raw.yjs(editorAll, doc, 0);
    y.send('', { type: 'syncStep1', stateVector: sv0() });
    await y.until(() => y.messages().length >= 2, 'yjs sync');
    expect(
      y
        .messages()
        .slice(0, 2)
        .map((m) => m.type),
    ).toEqual(['syncStep2', 'syncStep1']);
    // /sync2 peers join, focus and set awareness on the same workspace doc.
    const s = await Raw.sync2(editorAll, 1);
    s.send(
      doc,
      { type: 'syncStep1', stateVector: sv0() },
      {
        type: 'awareness',
        update: encodeAwarenessUpdate([{ clientId: 4242, clock: 1, state: '{"u":1}' }]),
      },
    );
    s.text({ type: 'focus', files: ['body:main/yjs-focus.md'] });
    await y.until(() => y.messages().some((m) => m.type === 'awareness'), 'awareness relayed to /yjs');
    await s.until(() => s.texts('focus_list_changed').length > 0, 'focus event published');

    const viewer = await cluster.token({ tid: tenantA.id, ws: ['*'], role: 'viewer' });
    const v = await Raw.yjs(viewer, 'body:main/yjs-viewer.md', 1);
    v.send('', { type: 'syncStep1', stateVector: sv0() });
    await v.until(() => v.messages().length >= 2, 'viewer synced');
    v.send('', { type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) }); // changes nothing
    const hack = new Y.Doc();
    hack.getText('body').insert(0, 'nope');
    v.send('', { type: 'update', update: Y.encodeStateAsUpdate(hack) });
    await v.until(() => v.messages().some((m) => m.type === 'permissionDenied'), 'permission denied');
    await sleep(300);
    // Exactly one: the non-changing SyncStep2 was ignored silently.
    expect(v.messages().filter((m) => m.type === 'permissionDenied')).toHaveLength(1);
    s.close();
    await sleep(300);
    for (const x of [y, v]) expect(x.got.filter((g) => g.kind === 'text')).toEqual([]);
  });

  test('close codes on /yjs: oversize 4413, text frame 4400, token expiry 4401; oversize text on /sync2 4413', async () => {
    const big = new Uint8Array(16 * 1024 * 1024 + 1);
    const y1 = await Raw.yjs(editorAll, 'body:main/big.md', 0);
    y1.ws.send(big);
    expect(await y1.closeCode()).toBe(4413);
    const s1 = await Raw.sync2(editorAll, 1);
    s1.ws.send(Buffer.from(big).toString('latin1'));
    expect(await s1.closeCode()).toBe(4413);
    const y2 = await Raw.yjs(editorAll, 'body:main/text.md', 1);
    y2.ws.send('{"type":"ping"}');
    expect(await y2.closeCode()).toBe(4400);
    const shortLived = await cluster.token({ tid: tenantA.id, ws: ['main'], ttlSeconds: 2 });
    const y3 = await Raw.yjs(shortLived, 'body:main/expiring.md', 0);
    y3.send('', { type: 'syncStep1', stateVector: sv0() });
    expect(await y3.closeCode(6_000)).toBe(4401);
  });

  test('QueryAwareness (3) is answered with the current awareness states', async () => {
    const doc = 'body:main/query-awareness.md';
    const s = await Raw.sync2(editorAll, 0);
    s.send(
      doc,
      { type: 'syncStep1', stateVector: sv0() },
      {
        type: 'awareness',
        update: encodeAwarenessUpdate([{ clientId: 5151, clock: 3, state: '{"n":"s"}' }]),
      },
    );
    await s.until(() => s.messages(doc).length >= 2, 'sync2 synced');
    const y = await Raw.yjs(editorAll, doc, 1);
    y.send('', { type: 'syncStep1', stateVector: sv0() });
    await y.until(() => y.messages().length >= 2, 'yjs synced');
    const before = y.messages().length;
    y.ws.send(new Uint8Array([3]));
    const answer = await y.until(
      () =>
        y
          .messages()
          .slice(before)
          .find((m) => m.type === 'awareness'),
      'QueryAwareness answered',
      5_000,
    );
    expect(decodeAwarenessUpdate((answer as { update: Uint8Array }).update)).toEqual([
      { clientId: 5151, clock: 3, state: '{"n":"s"}' },
    ]);
    expect(y.ws.readyState).toBe(WebSocket.OPEN);
  });

  test('a URL-encoded body doc id with spaces and unicode reaches the same doc as /sync2', async () => {
    const doc = 'body:main/journal/späce name.md';
    const s = track(await Sync2TestClient.connect(cluster.ws(0), editorAll));
    const sDoc = await s.openSynced(doc);
    const y = await Raw.yjs(editorAll, doc, 1);
    y.send('', { type: 'syncStep1', stateVector: sv0() });
    await y.until(() => y.messages().length >= 2, 'yjs synced');
    const src = new Y.Doc();
    src.getText('body').insert(0, 'via yjs');
    y.send('', { type: 'update', update: Y.encodeStateAsUpdate(src) });
    await waitUntil(() => bodyText(sDoc) === 'via yjs', 10_000, 'edit on /yjs visible on /sync2');
  });
});

describe('tenancy', () => {
  test('equal workspace ids in two tenants are separate docs on /yjs too', async () => {
    const doc = 'body:main/tenant.md';
    const tokenB = await cluster.token({ tid: tenantB.id, ws: ['main'] });
    const b = track(await Sync2TestClient.connect(cluster.ws(0), tokenB));
    const bDoc = await b.openSynced(doc);
    bDoc.getText('body').insert(0, 'B only');
    await b.save(doc);
    const y = await Raw.yjs(editorAll, doc, 1);
    y.send('', { type: 'syncStep1', stateVector: sv0() });
    const reply = await y.until(() => (y.messages().length >= 2 ? y.messages() : null), 'synced');
    const local = new Y.Doc();
    Y.applyUpdate(local, (reply[0] as { update: Uint8Array }).update);
    expect(bodyText(local)).toBe('');
  });
});

describe('libs/protocol SyncClient against the cluster', () => {
  test('a one-shot pull reports Synced and has the files', async () => {
    await cluster.createWorkspace(tenantA, 'pulled');
    const writer = track(await Sync2TestClient.connect(cluster.ws(0), editorAll));
    const ws = await writer.openSynced('workspace:pulled');
    ws.getMap('files').set('one.md', fileMeta('one'));
    ws.getMap('files').set('two/three.md', fileMeta('three'));
    const body = await writer.openSynced('body:pulled/one.md');
    body.getText('body').insert(0, 'body of one');
    await writer.save('workspace:pulled');
    await writer.save('body:pulled/one.md');

    const documents = createYDocSessionDocuments();
    const events: SyncEvent[] = [];
    const client = new SyncClient({
      serverUrl: cluster.ws(1),
      workspaceId: 'pulled',
      token: editorAll,
      documents,
      handler: { onEvent: (e) => events.push(e) },
      reconnect: { maxAttempts: 1 },
    });
    const result = await client.runOneShot({ timeoutMs: 20_000 });
    expect(result.files).toBe(2);
    expect(events.some((e) => e.type === 'StatusChanged' && e.status === 'synced')).toBe(true);
    expect(documents.workspace.livePaths().sort()).toEqual(['one.md', 'two/three.md']);
    expect(documents.bodyDocs.get('one.md')?.getText('body').toString()).toBe('body of one');
  });
});

describe('libs/protocol SyncClient, persistent', () => {
  test('receives live file and body changes and peer counts, sends local changes, save is durable', async () => {
    await cluster.createWorkspace(tenantA, 'live');
    const documents = createYDocSessionDocuments();
    const events: SyncEvent[] = [];
    const client = new SyncClient({
      serverUrl: cluster.ws(0),
      workspaceId: 'live',
      token: editorAll,
      documents,
      handler: { onEvent: (e) => events.push(e) },
    });
    const running = client.runPersistent();
    track({ close: () => client.stop() });
    await waitUntil(() => client.session.isSynced, 10_000, 'persistent client synced');
    expect(client.session.serverFileCount).toBe(0);

    const other = track(await Sync2TestClient.connect(cluster.ws(1), editorAll));
    const ws = await other.openSynced('workspace:live');
    const body = await other.openSynced('body:live/new.md');
    body.getText('body').insert(0, 'from the other side');
    ws.getMap('files').set('new.md', fileMeta('new'));
    await waitUntil(
      () =>
        events.some((e) => e.type === 'FilesChanged' && e.changes.created.includes('new.md')) &&
        documents.bodyDocs.get('new.md')?.getText('body').toString() === 'from the other side',
      10_000,
      'file and body arrived at the SyncClient',
    );
    await waitUntil(
      () => events.some((e) => e.type === 'PeersChanged' && e.peerCount === 2),
      10_000,
      'PeersChanged with 2 peers',
    );

    const local = documents.bodyDocs.get('new.md')!;
    local.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE_ORIGIN) client.sendLocalUpdate('body:live/new.md', update);
    });
    local.getText('body').insert(0, 'local edit; ');
    await client.save('body:live/new.md');
    const state = await new PostgresStorage({ pool: cluster.pool, tenant: tenantA.id }).loadDoc(
      'body:live/new.md',
    );
    const persisted = new Y.Doc();
    Y.applyUpdate(persisted, state!);
    expect(bodyText(persisted)).toBe('local edit; from the other side');
    await waitUntil(() => bodyText(body).startsWith('local edit; '), 10_000, 'local edit reached the other');
    client.stop();
    await running;
  });
});

describe('sync_complete once per subscription (runs last: restarts the doc service)', () => {
  test('no second sync_complete for a later workspace SyncStep1, even after the doc was unloaded or the shard moved', async () => {
    await cluster.createWorkspace(tenantA, 'once');
    const doc = 'workspace:once';
    const c = await Raw.sync2(editorAll, 0);
    c.send(doc, { type: 'syncStep1', stateVector: sv0() });
    await c.until(() => c.texts('sync_complete').length > 0, 'first sync_complete');
    // The shard moves (graceful restart); the new owner may hold at most one doc in memory.
    const ds = cluster.docServices[0]!;
    await ds.stop('SIGTERM');
    ds.env.MAX_LOADED_DOCS = '1';
    await cluster.startAll();
    const resyncSyncStep1 = async (what: string) => {
      const answered = c.messages(doc).length;
      c.send(doc, { type: 'syncStep1', stateVector: sv0() });
      await c.until(() => c.messages(doc).length >= answered + 2, what, 15_000);
    };
    await resyncSyncStep1('answer from the new owner');
    // Another doc evicts the workspace doc from memory; it is loaded again for the next SyncStep1.
    c.send('body:once/evict.md', { type: 'syncStep1', stateVector: sv0() });
    await c.until(() => c.messages('body:once/evict.md').length >= 2, 'body answered');
    await resyncSyncStep1('answer after the reload');
    await c.roundTrip();
    await sleep(300);
    expect(c.texts('sync_complete')).toEqual([{ type: 'sync_complete', files_synced: 0 }]);
    // After leaving, opening the workspace again is a new first SyncStep1.
    c.text({ action: 'leave', doc });
    c.send(doc, { type: 'syncStep1', stateVector: sv0() });
    await c.until(() => c.texts('sync_complete').length === 2, 'sync_complete after re-opening');
  });
});
