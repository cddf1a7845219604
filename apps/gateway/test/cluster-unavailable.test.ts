/**
 * Delivery guarantee when no shard owner answers (issue 4 "Delivery guarantees"): the gateway
 * keeps re-sending an update; after the give-up bound the client is closed with 1013, and on
 * reconnect its sync exchange delivers the edit. Real processes: 1 gateway + 1 doc service.
 */
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import * as Y from 'yjs';
import {
  Sync2TestClient,
  bodyText,
  startCluster,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';

jest.setTimeout(60_000);

let cluster: TestCluster;
let tenant: TestTenant;
let token: string;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    docServices: 1,
    gatewayEnv: { SYNC_ACK_RETRY_MS: '500', SYNC_ACK_GIVE_UP_MS: '3000' },
  });
  tenant = await cluster.createTenant('unavailable');
  await cluster.createWorkspace(tenant, 'ws');
  token = await cluster.token({ tid: tenant.id, ws: ['ws'] });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
}, 60_000);

async function resyncs(): Promise<number> {
  const text = await (await fetch(`${cluster.http()}/metrics`)).text();
  const m = /^diaryx_gateway_resyncs_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

test('no owner acknowledges within the bound: 1013, then the edit arrives after reconnect', async () => {
  const docId = 'body:ws/offline.md';
  const first = await Sync2TestClient.connect(cluster.ws(), token);
  clients.push(first);
  const doc = await first.openSynced(docId);
  doc.getText('body').insert(0, 'before the outage; ');
  await first.save(docId);

  const before = await resyncs();
  await cluster.docServices[0]!.stop('SIGKILL');
  const started = Date.now();
  doc.getText('body').insert(doc.getText('body').length, 'written while no doc service was alive');
  const closed = await first.closed;
  expect(closed.code).toBe(1013);
  expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
  expect(await resyncs()).toBe(before + 1);

  // The doc service comes back; the client reconnects and its sync exchange sends the edit.
  await cluster.startAll();
  const again = await Sync2TestClient.connect(cluster.ws(), token);
  clients.push(again);
  const local = new Y.Doc();
  Y.applyUpdate(local, Y.encodeStateAsUpdate(doc)); // the client's local state survives the close
  const reopened = again.open(docId);
  Y.applyUpdate(reopened, Y.encodeStateAsUpdate(local));
  await again.waitFor(() => again.synced.has(docId), 15_000, 'resync');
  await again.save(docId);
  const state = await new PostgresStorage({ pool: cluster.pool, tenant: tenant.id }).loadDoc(docId);
  const persisted = new Y.Doc();
  Y.applyUpdate(persisted, state!);
  expect(persisted.getText('body').toString()).toBe(
    'before the outage; written while no doc service was alive',
  );
  expect(bodyText(reopened)).toBe(persisted.getText('body').toString());
});
