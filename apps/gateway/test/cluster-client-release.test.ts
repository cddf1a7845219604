/**
 * Releasing unfocused body docs against the real stack (docs/protocol.md#releasing-unfocused-body-docs):
 * a `SyncClient` with `releaseUnfocusedBodiesAfterMs` frees every synced, unfocused body once the
 * server confirmed its local changes durable (they are in PostgreSQL before the release), the
 * gateway stops sending it updates after the `leave`, and focusing it loads it again with what it
 * missed.
 */
import { createFileMetadata, serializeFileMetadata } from '@diaryx-sync/crdt';
import { decodeFrame } from '@diaryx-sync/protocol';
import {
  REMOTE_ORIGIN,
  SyncClient,
  createYDocSessionDocuments,
  defaultWebSocketFactory,
  type SyncEvent,
  type WebSocketFactory,
} from '@diaryx-sync/protocol/node';
import {
  Sync2TestClient,
  bodyText,
  sleep,
  startCluster,
  waitUntil,
  type TestCluster,
} from './helpers/cluster';

jest.setTimeout(120_000);

const WS = 'releasing';
let cluster: TestCluster;
let token: string;
const stops: (() => void)[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 1, docServices: 1 });
  const tenant = await cluster.createTenant('release');
  await cluster.createWorkspace(tenant, WS);
  token = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor' });
}, 120_000);

afterAll(async () => {
  for (const s of stops) s();
  await cluster?.stop();
});

function fileJson(filename: string): string {
  return serializeFileMetadata(createFileMetadata({ filename, title: filename.replace(/\.md$/, '') }));
}

/** The default WebSocket, counting the binary frames received per doc id. */
function countingFactory(counts: Map<string, number>): WebSocketFactory {
  const inner = defaultWebSocketFactory();
  return (url, protocols) => {
    const socket = inner(url, protocols);
    socket.addEventListener('message', ({ data }) => {
      if (typeof data === 'string') return;
      const bytes = new Uint8Array(data instanceof ArrayBuffer ? data : (data as Uint8Array));
      const docId = decodeFrame(bytes).docId;
      counts.set(docId, (counts.get(docId) ?? 0) + 1);
    });
    return socket;
  };
}

async function fileBody(path: string): Promise<string> {
  const res = await fetch(`${cluster.http()}/api/workspaces/${WS}/files/${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { body: string }).body;
}

test('unfocused bodies are released after their edits are durable, get no updates, and load again on focus', async () => {
  // A writer seeds three files.
  const writer = await Sync2TestClient.connect(cluster.ws(), token);
  stops.push(() => writer.close());
  const workspace = await writer.openSynced(`workspace:${WS}`);
  workspace.transact(() => {
    for (const f of ['a.md', 'b.md', 'c.md']) workspace.getMap<string>('files').set(f, fileJson(f));
  });
  for (const f of ['a.md', 'b.md', 'c.md']) {
    const doc = await writer.openSynced(`body:${WS}/${f}`);
    doc.getText('body').insert(0, `${f} v1`);
    await writer.save(`body:${WS}/${f}`);
  }
  await writer.save(`workspace:${WS}`);

  const docs = createYDocSessionDocuments();
  const frames = new Map<string, number>();
  const events: SyncEvent[] = [];
  const client = new SyncClient({
    serverUrl: cluster.ws(),
    workspaceId: WS,
    token,
    documents: docs,
    handler: { onEvent: (e) => events.push(e) },
    session: { releaseUnfocusedBodiesAfterMs: 300 },
    tickIntervalMs: 50,
    webSocketFactory: countingFactory(frames),
  });
  client.focus(['a.md']);
  void client.runPersistent().catch(() => undefined);
  stops.push(() => client.stop());
  await waitUntil(() => client.session.isSynced, 15_000, 'client synced');

  // A local edit of c.md, unfocused: c.md is released only once it is durable.
  const c = docs.bodyDocs.get('c.md')!;
  c.once('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE_ORIGIN) client.sendLocalUpdate(`body:${WS}/c.md`, update);
  });
  c.getText('body').insert(c.getText('body').length, ' edited by the client');

  await waitUntil(() => client.session.releasedBodies().length === 2, 15_000, 'b.md and c.md released');
  expect(client.session.releasedBodies().sort()).toEqual(['b.md', 'c.md']);
  expect([...docs.bodyDocs.keys()]).toEqual(['a.md']);
  expect(
    events
      .filter((e) => e.type === 'BodyReleased')
      .map((e) => e.type === 'BodyReleased' && e.path)
      .sort(),
  ).toEqual(['b.md', 'c.md']);
  expect(await fileBody('c.md')).toBe('c.md v1 edited by the client');

  // After the `leave`, the gateway sends nothing more for b.md; a.md (focused) still gets updates.
  const bFramesAtRelease = frames.get(`body:${WS}/b.md`) ?? 0;
  writer.docs.get(`body:${WS}/b.md`)!.getText('body').insert(0, 'remote: ');
  await writer.save(`body:${WS}/b.md`);
  writer.docs.get(`body:${WS}/a.md`)!.getText('body').insert(0, 'remote: ');
  await writer.save(`body:${WS}/a.md`);
  await waitUntil(
    () => bodyText(docs.bodyDocs.get('a.md')!) === 'remote: a.md v1',
    10_000,
    'a.md update at the client',
  );
  await sleep(500);
  expect(frames.get(`body:${WS}/b.md`) ?? 0).toBe(bFramesAtRelease);
  expect(docs.bodyDocs.has('b.md')).toBe(false);

  // Focus loads it again, with the change it missed.
  client.focus(['b.md']);
  await waitUntil(
    () =>
      docs.bodyDocs.get('b.md') !== undefined && bodyText(docs.bodyDocs.get('b.md')!) === 'remote: b.md v1',
    10_000,
    'b.md loaded again',
  );
  expect(client.session.releasedBodies()).toEqual(['c.md']);
});
