/**
 * Cluster durability tests (issue 4 "Delivery guarantees", "Persistence", "Failover"): real
 * processes. A doc service is SIGKILLed while clients write; its shards move to the survivor;
 * every acknowledged (`saved`) update is present afterwards and all clients converge. Then the
 * whole cluster is stopped and started again: the state is intact.
 */
import { listInstances, shardOf } from '@diaryx-sync/bus';
import {
  Sync2TestClient,
  connectTestRedis,
  bodyText,
  sleep,
  startCluster,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';
import { Writer, keepWriting, persistedText, saveUntilAcknowledged } from './helpers/writers';

jest.setTimeout(120_000);

const SHARDS = 8;
let cluster: TestCluster;
let tenant: TestTenant;
let token: string;
const clients: Sync2TestClient[] = [];
const DOCS = [
  'body:ws1/a.md',
  'body:ws1/b.md',
  'body:ws1/c.md',
  'body:ws1/d.md',
  'body:ws1/e.md',
  'body:ws1/f.md',
];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 2, shardCount: SHARDS });
  tenant = await cluster.createTenant('durable');
  await cluster.createWorkspace(tenant, 'ws1');
  token = await cluster.token({ tid: tenant.id, ws: ['ws1'] });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
}, 60_000);

test('SIGKILL of a doc service while clients write: shards move, acknowledged updates survive, all converge', async () => {
  const writers: Writer[] = [];
  for (let i = 0; i < DOCS.length; i++) {
    for (let g = 0; g < 2; g++) {
      const c = await Sync2TestClient.connect(cluster.ws(g), token);
      clients.push(c);
      const doc = await c.openSynced(DOCS[i]!);
      writers.push(new Writer(c, doc, DOCS[i]!, `w${i}g${g}`));
    }
  }

  const stopWriting = keepWriting(writers);

  // The victim owns shards of some of the docs being written.
  const redis = connectTestRedis();
  const docShards = new Set(DOCS.map((d) => shardOf(tenant.id, d, SHARDS)));
  const victimId = cluster.docServices[0]!.env.DOC_SERVICE_ID;
  const victimShards = await waitUntil(
    async () => {
      const rec = (await listInstances(redis, cluster.prefix, 'doc-service')).find((r) => r.id === victimId);
      const shards = (rec?.shards as number[] | undefined) ?? [];
      return shards.some((s) => docShards.has(s)) ? shards : null;
    },
    15_000,
    'the victim to own a shard of a written doc',
  );
  expect(victimShards.length).toBeGreaterThan(0);

  await sleep(1500);
  const victim = cluster.docServices[0]!;
  await victim.stop('SIGKILL');
  expect(victim.running).toBe(false);
  await sleep(4000); // keep writing through the takeover
  await stopWriting();

  // Every writer gets a final acknowledged save once the shards have moved.
  await saveUntilAcknowledged(writers);

  // The survivor owns every shard now: its heartbeat lists all of them.
  await waitUntil(
    async () => {
      const live = await listInstances(redis, cluster.prefix, 'doc-service');
      return live.length === 1 && (live[0]!.shards as number[]).length === SHARDS;
    },
    15_000,
    'the survivor to own every shard',
  );
  redis.disconnect();
  for (const docId of DOCS) {
    const persisted = await persistedText(cluster, tenant.id, docId);
    const group = writers.filter((w) => w.docId === docId);
    for (const w of group) {
      for (const marker of w.acknowledged) expect(persisted).toContain(marker);
    }
    await waitUntil(
      () => group.every((w) => bodyText(w.doc) === bodyText(group[0]!.doc)),
      20_000,
      `clients of ${docId} converged`,
    );
    // Converged to the persisted state, too.
    expect(bodyText(group[0]!.doc)).toBe(persisted);
  }
  const survivorsAck = writers.reduce((n, w) => n + w.acknowledged.length, 0);
  expect(survivorsAck).toBeGreaterThan(DOCS.length * 2 * 10);
});

test('SIGTERM on a gateway drains: updates sent before are durable, sockets close with 1001', async () => {
  const docId = 'body:ws1/drain.md';
  const c = await Sync2TestClient.connect(cluster.ws(0), token);
  clients.push(c);
  const doc = await c.openSynced(docId);
  for (let i = 0; i < 20; i++) doc.getText('body').insert(doc.getText('body').length, `[drain-${i}]`);
  const stopping = cluster.gateways[0]!.stop('SIGTERM');
  const closed = await c.closed;
  await stopping;
  expect(closed.code).toBe(1001);
  expect(cluster.gateways[0]!.exit.code).toBe(0);
  const persisted = await persistedText(cluster, tenant.id, docId);
  for (let i = 0; i < 20; i++) expect(persisted).toContain(`[drain-${i}]`);
  await cluster.startAll();
});

test('stop everything, start again: state is intact', async () => {
  const before = new Map<string, string>();
  for (const docId of DOCS) before.set(docId, await persistedText(cluster, tenant.id, docId));
  for (const c of clients) c.close();
  await cluster.stopProcesses();
  await cluster.startAll();

  const c = await Sync2TestClient.connect(cluster.ws(1), token);
  clients.push(c);
  for (const docId of DOCS) {
    const doc = await c.openSynced(docId, 20_000);
    expect(bodyText(doc)).toBe(before.get(docId));
    expect(bodyText(doc).length).toBeGreaterThan(0);
  }
});
