/**
 * Frame batching (apps/gateway/src/sync/frame-batches.ts), against real processes: the frames a
 * client writes in one burst travel to the shard in shared envelopes, keep their order within the
 * doc, are all durable before `saved`, and a frame the shard refuses closes the connection
 * without losing what was saved before.
 */
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { encodeFrame, encodeMessage } from '@diaryx-sync/protocol';
import * as Y from 'yjs';
import {
  Sync2TestClient,
  bodyText,
  startCluster,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';
import { persistedText } from './helpers/writers';

jest.setTimeout(90_000);

let cluster: TestCluster;
let tenant: TestTenant;
let token: string;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 1, docServices: 1, shardCount: 4 });
  tenant = await cluster.createTenant('batches');
  await cluster.createWorkspace(tenant, 'ws1');
  token = await cluster.token({ tid: tenant.id, ws: ['ws1'] });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
}, 60_000);

async function connect(): Promise<Sync2TestClient> {
  const c = await Sync2TestClient.connect(cluster.ws(), token);
  clients.push(c);
  return c;
}

test('a burst of frames shares envelopes: order within the doc kept, every frame durable before saved', async () => {
  const docId = 'body:ws1/burst.md';
  const writer = await connect();
  const doc = await writer.openSynced(docId);
  const reader = await connect();
  const readerDoc = await reader.openSynced(docId);
  const N = 400;
  // one frame per transaction, all written to the socket in the same turn
  const text = doc.getText('body');
  let expected = '';
  for (let i = 0; i < N; i++) {
    const piece = `${i};`;
    text.insert(text.length, piece);
    expected += piece;
  }
  await writer.save(docId);

  // durable, in order (each insert appended at the end of the previous one)
  expect(await persistedText(cluster, tenant.id, docId)).toBe(expected);
  // far fewer update-log rows than frames: the burst was written in shared envelopes
  const rows = await new PostgresStorage({ pool: cluster.pool, tenant: tenant.id }).getUpdateCount(docId);
  expect(rows).toBeLessThan(N / 4);
  // and delivered to the other subscriber
  await reader.waitFor(() => bodyText(readerDoc) === expected, 15_000, 'the burst at the reader');
});

test('a frame the shard refuses in a burst closes the connection with 4400; what was saved before stays', async () => {
  const docId = 'body:ws1/refused.md';
  const writer = await connect();
  const doc = await writer.openSynced(docId);
  doc.getText('body').insert(0, 'saved before;');
  await writer.save(docId);

  // good updates, then a well-framed Update message whose bytes are no Yjs update, in one burst
  const other = new Y.Doc();
  other.getText('body').insert(0, 'never acknowledged');
  writer.sendMessage(docId, { type: 'update', update: Y.encodeStateAsUpdate(other) });
  writer.sendRaw(
    encodeFrame(docId, encodeMessage({ type: 'update', update: new Uint8Array([1, 2, 3, 250]) })),
  );
  const closed = await writer.closed;
  expect(closed.code).toBe(4400);

  const fresh = await connect();
  const freshDoc = await fresh.openSynced(docId);
  expect(bodyText(freshDoc)).toContain('saved before;');
  expect(await persistedText(cluster, tenant.id, docId)).toContain('saved before;');
  // the doc service keeps serving the doc
  freshDoc.getText('body').insert(0, 'after;');
  await fresh.save(docId);
  expect(await persistedText(cluster, tenant.id, docId)).toContain('after;');
});
