/**
 * Cluster integration tests of the real-time endpoints (issue 4): real gateway and doc-service
 * processes, real Redis, real PostgreSQL, real sockets. One topology for the whole file:
 * 2 gateways + 2 doc services.
 */
import { createFileMetadata, serializeFileMetadata } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { encodeFrame, encodeMessage } from '@diaryx-sync/protocol';
import { listInstances } from '@diaryx-sync/bus';
import WebSocket from 'ws';
import * as Y from 'yjs';
import {
  connectTestRedis,
  Sync2TestClient,
  bodyText,
  closedOf,
  openSocket,
  startCluster,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WebsocketProvider } = require('y-websocket') as typeof import('y-websocket');

jest.setTimeout(60_000);

const MAX_FRAME = 1024 * 1024;
let cluster: TestCluster;
let tenantA: TestTenant;
let tenantB: TestTenant;
let editorA: string;
const open: { close(): void }[] = [];

/** Tracks a client so afterAll closes it. */
function track<T extends { close(): void }>(c: T): T {
  open.push(c);
  return c;
}

async function connect(token: string, gateway = 0): Promise<Sync2TestClient> {
  return track(await Sync2TestClient.connect(cluster.ws(gateway), token));
}

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    docServices: 2,
    gatewayEnv: {
      SYNC_MAX_FRAME_BYTES: String(MAX_FRAME),
      SYNC_UPDATE_RATE: '100',
      SYNC_UPDATE_BURST: '300',
      SYNC_MAX_CONNECTIONS_PER_TENANT: '25',
      SYNC_MAX_BUFFERED_BYTES: String(256 * 1024),
    },
  });
  tenantA = await cluster.createTenant('tenant-a');
  tenantB = await cluster.createTenant('tenant-b');
  // Equal workspace ids in both tenants: two different workspaces.
  await cluster.createWorkspace(tenantA, 'shared');
  await cluster.createWorkspace(tenantB, 'shared');
  await cluster.createWorkspace(tenantA, 'other');
  editorA = await cluster.token({ tid: tenantA.id, ws: ['shared'], role: 'editor' });
}, 90_000);

afterAll(async () => {
  for (const c of open) c.close();
  await cluster?.stop();
}, 60_000);

/** A stock y-websocket `WebsocketProvider` on `/yjs` of `gateway` (closed in afterAll). */
function yjsProvider(docId: string, ydoc: Y.Doc, gateway = 1) {
  const provider = new WebsocketProvider(`${cluster.ws(gateway)}/yjs`, encodeURIComponent(docId), ydoc, {
    params: { token: editorA },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  track({
    close: () => {
      provider.destroy();
      provider.awareness.destroy(); // its check interval would keep Jest alive
    },
  });
  return provider;
}

/** A workspace-map value (docs/protocol.md#names: JSON string of FileMetadata). */
function fileMeta(title: string): string {
  return serializeFileMetadata(createFileMetadata({ filename: `${title}.md`, title }));
}

describe('convergence', () => {
  test('two /sync2 clients on two gateways converge on workspace and body edits', async () => {
    const a = await connect(editorA, 0);
    const b = await connect(editorA, 1);
    const wsA = await a.openSynced('workspace:shared');
    const wsB = await b.openSynced('workspace:shared');
    const bodyA = await a.openSynced('body:shared/notes/today.md');
    const bodyB = await b.openSynced('body:shared/notes/today.md');

    wsA.getMap('files').set('notes/today.md', fileMeta('today'));
    wsB.getMap('files').set('ideas.md', fileMeta('ideas'));
    bodyA.getText('body').insert(0, 'hello from A. ');
    bodyB.getText('body').insert(0, 'hello from B. ');

    const same = () =>
      bodyText(bodyA) === bodyText(bodyB) &&
      bodyText(bodyA).includes('from A') &&
      bodyText(bodyA).includes('from B') &&
      wsA.getMap('files').size === 2 &&
      wsB.getMap('files').size === 2;
    await waitUntil(same, 15_000, 'both clients converged');
    expect(JSON.parse(wsB.getMap('files').get('notes/today.md') as string).title).toBe('today');
    expect(JSON.parse(wsA.getMap('files').get('ideas.md') as string).title).toBe('ideas');
    // The server reports the initial workspace sync and the peers of the workspace.
    expect(a.textsOfType('sync_complete').length).toBeGreaterThanOrEqual(1);
  });

  test('a y-websocket WebsocketProvider and a /sync2 client converge on the same body doc', async () => {
    const docId = 'body:shared/yjs-interop.md';
    const ydoc = new Y.Doc();
    const provider = yjsProvider(docId, ydoc);
    const s = await connect(editorA, 0);
    const body = await s.openSynced(docId);
    await waitUntil(() => provider.synced, 15_000, 'provider synced');

    ydoc.getText('body').insert(0, 'typed in y-websocket; ');
    body.getText('body').insert(0, 'typed in sync2; ');
    await waitUntil(
      () =>
        ydoc.getText('body').toString() === bodyText(body) &&
        bodyText(body).includes('y-websocket') &&
        bodyText(body).includes('sync2'),
      15_000,
      'y-websocket and /sync2 converged',
    );
  });

  test('two y-websocket providers on two gateways share edits and awareness; awareness is removed on leave', async () => {
    const docId = 'body:shared/awareness.md';
    const make = (gateway: number) => {
      const ydoc = new Y.Doc();
      const provider = new WebsocketProvider(`${cluster.ws(gateway)}/yjs`, encodeURIComponent(docId), ydoc, {
        params: { token: editorA },
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      });
      const handle = {
        ydoc,
        provider,
        close: () => {
          provider.destroy();
          provider.awareness.destroy();
        },
      };
      return track(handle);
    };
    const a = make(0);
    const b = make(1);
    await waitUntil(() => a.provider.synced && b.provider.synced, 15_000, 'providers synced');
    a.provider.awareness.setLocalStateField('user', { name: 'alice' });
    await waitUntil(
      () =>
        [...b.provider.awareness.getStates().values()].some(
          (st) => (st.user as { name?: string })?.name === 'alice',
        ),
      10_000,
      'alice visible to b',
    );
    a.ydoc.getText('body').insert(0, 'from provider a');
    await waitUntil(() => b.ydoc.getText('body').toString() === 'from provider a', 10_000, 'edit reached b');
    const aliceId = a.ydoc.clientID;
    a.close();
    await waitUntil(
      () => !b.provider.awareness.getStates().has(aliceId),
      10_000,
      'alice removed after she left',
    );
  });

  test('clients joining a big doc at once (its SyncStep2 travels by reference) all load it whole', async () => {
    const docId = 'body:shared/big.md';
    const writer = await connect(editorA, 0);
    const body = await writer.openSynced(docId);
    // 3 frames of ~200 KB (under the 1 MB frame limit): a 600 KB doc, above the inline bound
    for (let i = 0; i < 3; i++)
      body.getText('body').insert(body.getText('body').length, `${i}`.repeat(200_000));
    await writer.save(docId);
    const expected = bodyText(body);
    const joiners = await Promise.all([0, 1, 0, 1].map((g) => connect(editorA, g)));
    const docs = await Promise.all(joiners.map((j) => j.openSynced(docId, 30_000)));
    const ydoc = new Y.Doc();
    const provider = yjsProvider(docId, ydoc);
    await waitUntil(() => provider.synced, 30_000, 'provider synced');
    for (const d of docs) expect(bodyText(d)).toBe(expected);
    expect(ydoc.getText('body').toString()).toBe(expected);
    // one stored copy serves them all, and it expires
    const redis = connectTestRedis();
    try {
      const keys = await redis.keys(`${cluster.prefix}:payload:*`);
      expect(keys.length).toBeGreaterThanOrEqual(1);
      expect(await redis.ttl(keys[0] as string)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    // give the tenant's connection budget back (later tests count on it)
    provider.disconnect();
    for (const c of [writer, ...joiners]) c.close();
  });

  test('save is answered only once the update is in PostgreSQL', async () => {
    const docId = 'body:shared/durable.md';
    const c = await connect(editorA, 0);
    const doc = await c.openSynced(docId);
    doc.getText('body').insert(0, 'must be durable');
    await c.save(docId);
    const storage = new PostgresStorage({ pool: cluster.pool, tenant: tenantA.id });
    const state = await storage.loadDoc(docId);
    expect(state).not.toBeNull();
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, state!);
    expect(loaded.getText('body').toString()).toContain('must be durable');
  });

  test('ping, focus and presence messages', async () => {
    const a = await connect(editorA, 0);
    const b = await connect(editorA, 1);
    await a.openSynced('workspace:shared');
    await b.openSynced('workspace:shared');
    a.sendText(JSON.stringify({ type: 'ping' }));
    await a.waitFor(() => a.textsOfType('pong').length > 0, 5_000, 'pong');
    a.sendText(JSON.stringify({ type: 'focus', files: ['body:shared/notes/today.md'] }));
    await b.waitFor(
      () =>
        b
          .textsOfType('focus_list_changed')
          .some((m) => m.workspace === 'shared' && (m.files as string[]).includes('notes/today.md')),
      10_000,
      'focus_list_changed on the other gateway',
    );
    a.sendText(JSON.stringify({ type: 'unfocus', files: ['body:shared/notes/today.md'] }));
    await b.waitFor(
      () => {
        const last = b.textsOfType('focus_list_changed').at(-1);
        return last !== undefined && !(last.files as string[]).includes('notes/today.md');
      },
      10_000,
      'focus removed',
    );
    expect(b.textsOfType('peer_joined').length + a.textsOfType('peer_joined').length).toBeGreaterThan(0);
    a.sendText(JSON.stringify({ type: 'files_ready' }));
    a.sendText(JSON.stringify({ action: 'leave', doc: 'workspace:shared' }));
    a.sendText(JSON.stringify({ type: 'ping' }));
    await a.waitFor(() => a.textsOfType('pong').length > 1, 5_000, 'second pong (connection still open)');
  });

  test('leave unsubscribes: no more broadcasts for that doc, other docs keep flowing', async () => {
    const left = 'body:shared/left.md';
    const kept = 'body:shared/kept.md';
    const a = await connect(editorA, 0);
    const b = await connect(editorA, 1);
    const aLeft = await a.openSynced(left);
    const aKept = await a.openSynced(kept);
    const bLeft = await b.openSynced(left);
    const bKept = await b.openSynced(kept);
    a.sendText(JSON.stringify({ action: 'leave', doc: left }));
    a.sendText(JSON.stringify({ type: 'ping' }));
    await a.waitFor(() => a.textsOfType('pong').length > 0, 5_000, 'pong after leave');
    bLeft.getText('body').insert(0, 'not for a');
    bKept.getText('body').insert(0, 'for a');
    await waitUntil(() => bodyText(aKept) === 'for a', 10_000, 'kept doc still delivered');
    await b.save(left);
    await new Promise((r) => setTimeout(r, 300));
    expect(bodyText(aLeft)).toBe('');
  });

  test('the gateway heartbeat reports connections per tenant and the busiest docs', async () => {
    const busyDoc = 'body:shared/busy.md';
    const c = await connect(editorA, 0);
    const doc = await c.openSynced(busyDoc);
    const redis = connectTestRedis();
    const typing = setInterval(() => doc.getText('body').insert(0, 'x'), 50);
    try {
      type Beat = Record<string, unknown> & {
        busiest_docs: { tenant: string; doc: string; subscribers: number; frames: number }[];
      };
      const record = await waitUntil(
        async () => {
          const records = (await listInstances(redis, cluster.prefix, 'gateway')) as Beat[];
          return records.find(
            (r) =>
              ((r.connections_by_tenant as Record<string, number>)[tenantA.id] ?? 0) > 0 &&
              r.busiest_docs.some((d) => d.doc === busyDoc && d.frames > 0),
          );
        },
        10_000,
        'gateway heartbeat with tenant A connections and the busy doc',
      );
      expect(record.kind).toBe('gateway');
      expect(typeof record.connections).toBe('number');
      const busy = record.busiest_docs.find((d) => d.doc === busyDoc)!;
      expect(busy).toMatchObject({ tenant: tenantA.id, doc: busyDoc });
      expect(busy.subscribers).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(typing);
      redis.disconnect();
    }
  });
});

describe('tenancy and roles', () => {
  test('a token of tenant A never reaches tenant B data with an equal workspace id', async () => {
    // Tenant B writes into its own "shared" workspace.
    const editorB = await cluster.token({ tid: tenantB.id, ws: ['shared'] });
    const b = await connect(editorB, 0);
    const bDoc = await b.openSynced('body:shared/secret.md');
    bDoc.getText('body').insert(0, 'tenant B secret');
    await b.save('body:shared/secret.md');

    // Tenant A's view of "shared" is its own workspace: the secret is not there.
    const a = await connect(editorA, 1);
    const aDoc = await a.openSynced('body:shared/secret.md');
    expect(bodyText(aDoc)).not.toContain('tenant B secret');

    // A workspace outside the token's ws list, or absent from the tenant: 4403 on /sync2.
    const outside = await connect(editorA, 0);
    outside.open('workspace:other');
    expect((await outside.closed).code).toBe(4403);
    const tokenAll = await cluster.token({ tid: tenantA.id, ws: ['*'] });
    const missing = await connect(tokenAll, 0);
    missing.open('body:does-not-exist/x.md');
    expect((await missing.closed).code).toBe(4403);
    // save/leave for a forbidden doc count like frames.
    const saver = await connect(editorA, 1);
    saver.sendText(JSON.stringify({ action: 'save', doc: 'workspace:other' }));
    expect((await saver.closed).code).toBe(4403);

    // /yjs: refused at the upgrade with 403; a bad token with 401.
    await expect(
      openSocket(`${cluster.ws(0)}/yjs/${encodeURIComponent('workspace:other')}?token=${editorA}`),
    ).rejects.toThrow('HTTP 403');
    await expect(
      openSocket(`${cluster.ws(0)}/yjs/${encodeURIComponent('workspace:shared')}?token=not-a-jwt`),
    ).rejects.toThrow('HTTP 401');
    await expect(openSocket(`${cluster.ws(0)}/sync2`)).rejects.toThrow('HTTP 401');
    const expired = await cluster.token({ tid: tenantA.id, ttlSeconds: -10 });
    await expect(openSocket(`${cluster.ws(1)}/sync2?token=${expired}`)).rejects.toThrow('HTTP 401');

    // The HTTP API answers 404 for the other tenant's workspace.
    const res = await fetch(`${cluster.http()}/api/workspaces/other`, {
      headers: {
        authorization: `Bearer ${await cluster.token({ tid: tenantB.id, ws: ['*'], role: 'admin' })}`,
      },
    });
    expect(res.status).toBe(404);
  });

  test('a viewer cannot change a doc on /sync2 (read_only error) nor on /yjs (Auth permission denied)', async () => {
    const docId = 'body:shared/viewer.md';
    const editor = await connect(editorA, 0);
    const edDoc = await editor.openSynced(docId);
    edDoc.getText('body').insert(0, 'original');
    await editor.save(docId);

    const viewerToken = await cluster.token({ tid: tenantA.id, ws: ['shared'], role: 'viewer' });
    const viewer = await connect(viewerToken, 1);
    const vDoc = await viewer.openSynced(docId);
    expect(bodyText(vDoc)).toBe('original');
    vDoc.getText('body').insert(0, 'HACKED ');
    await viewer.waitFor(
      () => viewer.textsOfType('error').some((m) => m.code === 'read_only' && m.doc === docId),
      10_000,
      'read_only error',
    );

    // /yjs with the raw protocol: a changing update is answered with Auth permission denied.
    const ws = track(
      await openSocket(`${cluster.ws(0)}/yjs/${encodeURIComponent(docId)}?token=${viewerToken}`),
    );
    const denied = new Promise<Uint8Array>((resolve) =>
      ws.on('message', (data: Buffer) => {
        if (data[0] === 2) resolve(new Uint8Array(data));
      }),
    );
    const hacker = new Y.Doc();
    hacker.getText('body').insert(0, 'HACKED VIA YJS ');
    ws.send(encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(hacker) }));
    const msg = await denied;
    expect(msg[0]).toBe(2); // Auth
    expect(msg[1]).toBe(0); // permission denied
    expect(Buffer.from(msg.subarray(3)).toString('utf8')).toContain('permission denied');

    // Nothing changed anywhere.
    await editor.save(docId);
    const state = await new PostgresStorage({ pool: cluster.pool, tenant: tenantA.id }).loadDoc(docId);
    const persisted = new Y.Doc();
    Y.applyUpdate(persisted, state!);
    expect(persisted.getText('body').toString()).toBe('original');
    expect(bodyText(edDoc)).toBe('original');
  });

  test('a token that expires mid-session closes the connection with 4401', async () => {
    const shortLived = await cluster.token({ tid: tenantA.id, ws: ['shared'], ttlSeconds: 2 });
    const c = await connect(shortLived, 0);
    await c.openSynced('workspace:shared');
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
  });
});

describe('bad input closes only the offending connection', () => {
  let healthy: Sync2TestClient;
  let healthyDoc: Y.Doc;
  let peer: Sync2TestClient;
  let peerDoc: Y.Doc;
  const docId = 'body:shared/robust.md';

  beforeAll(async () => {
    healthy = await connect(editorA, 0);
    healthyDoc = await healthy.openSynced(docId);
    peer = await connect(editorA, 1);
    peerDoc = await peer.openSynced(docId);
  });

  async function expectClose(send: (c: Sync2TestClient) => void, code: number): Promise<void> {
    const c = await connect(editorA, 0);
    send(c);
    expect((await c.closed).code).toBe(code);
  }

  const id = new TextEncoder().encode('workspace:shared');
  const withId = (payload: number[]) => new Uint8Array([id.length, ...id, ...payload]);

  test('truncated frame (doc id length past the end)', () =>
    expectClose((c) => c.sendRaw(new Uint8Array([40, 65, 66])), 4400));
  test('empty payload', () => expectClose((c) => c.sendRaw(withId([])), 4400));
  test('bad varint', () => expectClose((c) => c.sendRaw(withId([0, 0, 0xff, 0xff])), 4400));
  test('truncated sync message', () => expectClose((c) => c.sendRaw(withId([0, 2, 10, 1, 2])), 4400));
  test('unknown message type', () => expectClose((c) => c.sendRaw(withId([7, 0])), 4400));
  test('unknown sync subtype', () => expectClose((c) => c.sendRaw(withId([0, 9, 0])), 4400));
  test('unknown doc prefix', () =>
    expectClose(
      (c) =>
        c.sendRaw(
          encodeFrame('notes:shared', encodeMessage({ type: 'syncStep1', stateVector: new Uint8Array([0]) })),
        ),
      4400,
    ));
  test('non-canonical path', () =>
    expectClose(
      (c) =>
        c.sendRaw(
          encodeFrame(
            'body:shared/./a.md',
            encodeMessage({ type: 'syncStep1', stateVector: new Uint8Array([0]) }),
          ),
        ),
      4400,
    ));
  test('256-byte doc id (length byte wraps to 0) and a 255-byte invalid one', async () => {
    const long = new TextEncoder().encode(`body:shared/${'a'.repeat(244)}`);
    expect(long.length).toBe(256);
    await expectClose((c) => c.sendRaw(new Uint8Array([long.length & 0xff, ...long, 0, 0, 0])), 4400);
    // On /yjs the doc id comes from the URL: a 256-byte id is refused before the upgrade.
    await expect(
      openSocket(
        `${cluster.ws(1)}/yjs/${encodeURIComponent(new TextDecoder().decode(long))}?token=${editorA}`,
      ),
    ).rejects.toThrow('HTTP 400');
  });
  test('garbage Yjs update inside a valid message', () =>
    expectClose((c) => c.sendRaw(withId([0, 2, 4, 0xff, 0xff, 0xff, 0xff])), 4400));
  test('oversize frame closes with 4413', () =>
    expectClose((c) => c.sendRaw(new Uint8Array(MAX_FRAME + 10)), 4413));
  test('invalid JSON and unknown messages are answered, the connection stays open', async () => {
    const c = await connect(editorA, 1);
    c.sendText('{"type":');
    c.sendText(JSON.stringify({ type: 'no_such_thing' }));
    c.sendText(JSON.stringify({ type: 'ping' }));
    await c.waitFor(() => c.texts.length >= 3, 5_000, 'three answers');
    expect(c.texts.slice(0, 3)).toEqual([
      { type: 'error', code: 'bad_json' },
      { type: 'error', code: 'unknown_message' },
      { type: 'pong' },
    ]);
  });
  test('/yjs: a malformed message closes with 4400', async () => {
    const ws = track(await openSocket(`${cluster.ws(0)}/yjs/${encodeURIComponent(docId)}?token=${editorA}`));
    ws.send(new Uint8Array([0, 0, 0xff]));
    expect((await closedOf(ws)).code).toBe(4400);
  });
  test('update flood closes with 1008', async () => {
    const c = await connect(editorA, 0);
    const frame = encodeFrame(
      'workspace:shared',
      encodeMessage({ type: 'awareness', update: new Uint8Array([0]) }),
    );
    for (let i = 0; i < 1000 && c.ws.readyState === WebSocket.OPEN; i++) c.sendRaw(frame);
    expect((await c.closed).code).toBe(1008);
  });
  test('a save per file of a big workspace is charged like a doc frame, not as a control message', async () => {
    // 150 saves in one burst: above the control burst (60), within the update burst (300).
    const c = await connect(editorA, 0);
    const docs = Array.from({ length: 150 }, (_, i) => `body:shared/saves/file-${i}.md`);
    for (const doc of docs) c.sendText(JSON.stringify({ action: 'save', doc }));
    await c.waitFor(() => c.textsOfType('saved').length === docs.length, 30_000, 'every saved');
    expect(new Set(c.textsOfType('saved').map((t) => t.doc))).toEqual(new Set(docs));
    // Other text frames keep their own limit.
    for (let i = 0; i < 150 && c.ws.readyState === WebSocket.OPEN; i++)
      c.sendText(JSON.stringify({ type: 'ping' }));
    expect(await c.closed).toMatchObject({ code: 1008, reason: 'control message rate limit exceeded' });
  });
  test('more connections than the tenant maximum are closed with 1013', async () => {
    const tenantC = await cluster.createTenant('tenant-c');
    const tokenC = await cluster.token({ tid: tenantC.id });
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 25; i++)
      sockets.push(track(await openSocket(`${cluster.ws(0)}/sync2?token=${tokenC}`)));
    const extra = track(await openSocket(`${cluster.ws(0)}/sync2?token=${tokenC}`));
    expect((await closedOf(extra)).code).toBe(1013);
    // Other tenants are unaffected (the limit is per tenant; cluster-wide counting is proven in
    // cluster-tenant-limits.test.ts).
    const other = track(await openSocket(`${cluster.ws(0)}/sync2?token=${editorA}`));
    other.send(JSON.stringify({ type: 'ping' }));
    const pong = await new Promise<string>((resolve) => other.once('message', (d) => resolve(String(d))));
    expect(JSON.parse(pong)).toEqual({ type: 'pong' });
    for (const s of sockets) s.close();
  });

  test('a slow consumer (not reading) is disconnected instead of buffering without bound', async () => {
    const slowDoc = 'body:shared/firehose.md';
    const slow = await connect(editorA, 0);
    await slow.openSynced(slowDoc);
    // Stop reading from the socket: the gateway's send buffer for it can only grow.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const writer = await connect(editorA, 1);
    const wDoc = await writer.openSynced(slowDoc);
    const chunk = 'x'.repeat(200 * 1024);
    const dropped = async () => {
      const text = await (await fetch(`${cluster.http(0)}/metrics`)).text();
      const m = /diaryx_gateway_frames_dropped_total\{[^}]*reason="slow_consumer"[^}]*\} (\d+)/.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await dropped();
    for (let i = 0; i < 80 && (await dropped()) === before; i++) {
      wDoc.getText('body').insert(0, chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitUntil(async () => (await dropped()) > before, 15_000, 'slow consumer dropped');
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closed;
    expect([1013, 1006]).toContain(closed.code);
    expect(writer.ws.readyState).toBe(WebSocket.OPEN);
  });

  test('after all that, the healthy connections still sync and the gateways are alive', async () => {
    healthyDoc.getText('body').insert(0, 'still fine; ');
    peerDoc.getText('body').insert(0, 'me too; ');
    await waitUntil(
      () =>
        bodyText(healthyDoc) === bodyText(peerDoc) &&
        bodyText(peerDoc).includes('still fine') &&
        bodyText(peerDoc).includes('me too'),
      10_000,
      'healthy clients converged',
    );
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    for (let i = 0; i < 2; i++) expect((await fetch(`${cluster.http(i)}/healthz`)).status).toBe(200);
    expect(cluster.gateways.every((g) => g.running) && cluster.docServices.every((d) => d.running)).toBe(
      true,
    );
  });
});
