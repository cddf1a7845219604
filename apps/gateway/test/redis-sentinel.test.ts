/**
 * Sentinel smoke test (docs/redis.md): gateways and doc services started with
 * `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME` against a private primary/replica/sentinel set.
 * Clients on two gateways converge; a forced `SENTINEL FAILOVER` while they write and save is
 * followed by every process (no acknowledged update lost, all converge afterwards).
 */
import * as Y from 'yjs';
import {
  Sync2TestClient,
  bodyText,
  sleep,
  startCluster,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';
import { SENTINEL_MASTER_NAME, startRedisSentinel, type LocalRedisSentinel } from './helpers/redis-sentinel';
import { persistedText } from './helpers/writers';

jest.setTimeout(120_000);

const DOCS = ['body:ws1/s0.md', 'body:ws1/s1.md', 'body:ws1/s2.md'];
let sentinel: LocalRedisSentinel;
let cluster: TestCluster;
let tenant: TestTenant;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  cluster = await startCluster({
    gateways: 2,
    docServices: 2,
    shardCount: 8,
    redis: {
      kind: 'sentinel',
      sentinels: [{ host: '127.0.0.1', port: sentinel.sentinelPort }],
      name: SENTINEL_MASTER_NAME,
      tls: false,
    },
  });
  tenant = await cluster.createTenant('sentinel');
  await cluster.createWorkspace(tenant, 'ws1');
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
  await sentinel?.stop();
}, 60_000);

test('clients converge through a Sentinel-managed Redis and follow a forced failover', async () => {
  const token = await cluster.token({ tid: tenant.id, ws: ['ws1'] });
  const docs: { docId: string; doc: Y.Doc; client: Sync2TestClient; acked: string[]; sent: string[] }[] = [];
  for (let g = 0; g < 2; g++) {
    const c = await Sync2TestClient.connect(cluster.ws(g), token);
    clients.push(c);
    for (const docId of DOCS)
      docs.push({ docId, doc: await c.openSynced(docId), client: c, acked: [], sent: [] });
  }
  let n = 0;
  const writeAndSave = async () => {
    for (const d of docs) {
      const marker = `[g${clients.indexOf(d.client)}-${n++}]`;
      d.doc.getText('body').insert(d.doc.getText('body').length, marker);
      d.sent.push(marker);
    }
    await Promise.all(
      docs.map(async (d) => {
        const batch = [...d.sent];
        await d.client.save(d.docId, 30_000).then(
          () => d.acked.push(...batch.filter((m) => !d.acked.includes(m))),
          () => undefined,
        );
      }),
    );
  };
  await writeAndSave();
  const before = await sentinel.primaryPort();
  const failover = sentinel.failover();
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    await writeAndSave();
    await sleep(100);
  }
  const after = await failover;
  expect(after).not.toBe(before);
  await waitUntil(
    async () => {
      await writeAndSave();
      return docs.every((d) => d.acked.length === d.sent.length);
    },
    40_000,
    'saves acknowledged after the failover',
  );
  for (const docId of DOCS) {
    const group = docs.filter((d) => d.docId === docId);
    const persisted = await persistedText(cluster, tenant.id, docId);
    for (const d of group) for (const m of d.acked) expect(persisted).toContain(m);
    await waitUntil(
      () => group.every((d) => bodyText(d.doc) === persisted),
      20_000,
      `clients of ${docId} to converge on the stored text`,
    );
  }
});
