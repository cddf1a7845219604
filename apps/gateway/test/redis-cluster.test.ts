/**
 * The cluster on a private Redis Cluster (3 masters + 3 replicas, docs/redis.md): gateways and
 * doc services as real processes with `REDIS_CLUSTER_NODES`.
 *
 * - Every bus message travels over sharded pub/sub to the master owning its channel's slot only
 *   (MONITOR on every master; no classic PUBLISH, no cluster-bus broadcast), clients converge.
 * - One Redis master is SIGKILLed while clients write and save: its replica is promoted, the
 *   subscriptions come back (every doc channel again subscribed by both gateways on its slot's
 *   master), no acknowledged update is lost and every client converges.
 *
 * - (full size only) a master joins and a quarter of the slots migrate onto it while clients
 *   write: same checks.
 *
 * `npm test` runs the CI-sized version; `npm run test:redis-cluster` sets REDIS_CLUSTER_FULL=1
 * (more docs, longer writing before and after the kill, the slot migration).
 */
import { docChannel } from '@diaryx-sync/bus';
import type { RedisTopology } from '@diaryx-sync/runtime';
import type { Redis } from 'ioredis';
import {
  Sync2TestClient,
  bodyText,
  sleep,
  startCluster,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';
import { startRedisCluster, type LocalRedisCluster } from './helpers/redis-cluster';
import { Writer, keepWriting, persistedText, saveUntilAcknowledged } from './helpers/writers';

const FULL = process.env.REDIS_CLUSTER_FULL === '1';
jest.setTimeout(FULL ? 300_000 : 120_000);

const SHARDS = 16;
const DOCS = Array.from({ length: FULL ? 24 : 8 }, (_, i) => `body:ws1/n${i}.md`);
let redis: LocalRedisCluster;
let cluster: TestCluster;
let tenant: TestTenant;
let token: string;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  redis = await startRedisCluster({ masters: 3, replicas: 1 });
  const topology: RedisTopology = {
    kind: 'cluster',
    nodes: redis.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    tls: false,
  };
  cluster = await startCluster({ gateways: 2, docServices: 2, shardCount: SHARDS, redis: topology });
  tenant = await cluster.createTenant('rc');
  await cluster.createWorkspace(tenant, 'ws1');
  token = await cluster.token({ tid: tenant.id, ws: ['ws1'] });
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
  await redis?.stop();
}, 60_000);

const keySlots = new Map<string, number>();
async function slotOf(name: string): Promise<number> {
  let slot = keySlots.get(name);
  if (slot === undefined) {
    const port = redis.liveNodes()[0]!.port;
    slot = Number(await redis.on(port, (r) => r.cluster('KEYSLOT', name)));
    keySlots.set(name, slot);
  }
  return slot;
}

/** Port of the master serving each slot, from one CLUSTER SLOTS read. */
async function slotMap(): Promise<(slot: number) => number> {
  const owners = await redis.slotOwners();
  return (slot) => owners.find((o) => o.ranges.some(([a, b]) => slot >= a && slot <= b))?.port ?? -1;
}

/**
 * Sharded subscriptions sit on the right nodes: on every master, each of our shard channels
 * hashes to a slot that master serves; nobody uses classic channels of ours; every doc in use
 * is subscribed by both gateways on its slot's master.
 */
async function expectSubscriptionsOnSlotOwners(docs: string[]): Promise<void> {
  const ownerOf = await slotMap();
  const masters = await redis.masterPorts();
  for (const port of masters) {
    const [sharded, classic] = await redis.on(port, async (r) => [
      (await r.call('PUBSUB', 'SHARDCHANNELS', `${cluster.prefix}:*`)) as string[],
      (await r.call('PUBSUB', 'CHANNELS', `${cluster.prefix}:*`)) as string[],
    ]);
    expect(classic).toEqual([]);
    for (const ch of sharded) expect({ ch, port: ownerOf(await slotOf(ch)) }).toEqual({ ch, port });
  }
  for (const docId of docs) {
    const ch = docChannel(cluster.prefix, tenant.id, docId);
    const port = ownerOf(await slotOf(ch));
    const [, subscribers] = (await redis.on(port, (r) => r.call('PUBSUB', 'SHARDNUMSUB', ch))) as [
      string,
      number,
    ];
    expect({ docId, subscribers: Number(subscribers) }).toEqual({ docId, subscribers: 2 });
  }
}

async function openWriters(docs: string[], tag: string): Promise<Writer[]> {
  const writers: Writer[] = [];
  for (let g = 0; g < 2; g++) {
    const c = await Sync2TestClient.connect(cluster.ws(g), token);
    clients.push(c);
    for (const docId of docs)
      writers.push(new Writer(c, await c.openSynced(docId), docId, `${tag}${g}-${docId}`));
  }
  return writers;
}

async function expectConverged(writers: Writer[], docs: string[]): Promise<void> {
  for (const docId of docs) {
    const group = writers.filter((w) => w.docId === docId);
    const persisted = await persistedText(cluster, tenant.id, docId);
    for (const w of group) for (const m of w.acknowledged) expect(persisted).toContain(m);
    await waitUntil(
      () => {
        const texts = group.map((w) => bodyText(w.doc));
        return (
          texts.every((t) => t === texts[0]) &&
          group.every((w) => w.acknowledged.every((m) => texts[0]!.includes(m)))
        );
      },
      30_000,
      `clients of ${docId} to converge`,
    );
  }
}

test('bus traffic goes over sharded pub/sub, each message only to its slot master; clients converge', async () => {
  const masters = await redis.masterPorts();
  const seen = new Map<number, { cmd: string; channel: string }[]>();
  const monitors: Redis[] = [];
  const bus0 = new Map<number, number>();
  for (const port of redis.nodes.map((n) => n.port))
    bus0.set(port, (await redis.clusterInfo(port)).cluster_stats_messages_publish_sent ?? 0);
  for (const port of masters) {
    const conn = redis.connect(port);
    const mon = await conn.monitor();
    monitors.push(conn, mon);
    const list: { cmd: string; channel: string }[] = [];
    seen.set(port, list);
    mon.on('monitor', (_time: string, args: string[]) => {
      const cmd = String(args[0]).toLowerCase();
      const channel = String(args[1] ?? '');
      if (/^(s?publish|s?subscribe)$/.test(cmd) && channel.startsWith(`${cluster.prefix}:`))
        list.push({ cmd, channel });
    });
  }

  const writers = await openWriters(DOCS, 'm');
  for (const w of writers) w.write();
  await Promise.all(writers.map((w) => w.save()));
  await expectConverged(writers, DOCS);
  await sleep(200);
  for (const m of monitors) m.disconnect();

  const ownerOf = await slotMap();
  let spublished = 0;
  const busyMasters = new Set<number>();
  for (const [port, list] of seen) {
    expect(list.filter((x) => x.cmd === 'publish' || x.cmd === 'subscribe')).toEqual([]);
    for (const { cmd, channel } of list) {
      if (cmd !== 'spublish') continue;
      spublished++;
      busyMasters.add(port);
      expect({ channel, port: ownerOf(await slotOf(channel)) }).toEqual({ channel, port });
    }
  }
  expect(spublished).toBeGreaterThan(DOCS.length * 2); // frames in, replies and broadcasts out
  expect(busyMasters.size).toBeGreaterThanOrEqual(2); // the channels spread over the masters
  // nothing was broadcast over the cluster bus (classic PUBLISH goes to every node)
  for (const port of redis.nodes.map((n) => n.port)) {
    const sent = (await redis.clusterInfo(port)).cluster_stats_messages_publish_sent ?? 0;
    expect({ port, sent: sent - bus0.get(port)! }).toEqual({ port, sent: 0 });
  }
  await expectSubscriptionsOnSlotOwners(DOCS);
});

test('a Redis master killed while clients write: replica promoted, no acknowledged update lost, all converge', async () => {
  const docs = DOCS.map((d) => d.replace('.md', '-f.md'));
  const writers = await openWriters(docs, 'f');
  const stopWriting = keepWriting(writers);

  await sleep(FULL ? 3000 : 1000);
  // the master serving the most of the docs' channels
  const ownerOf = await slotMap();
  const load = new Map<number, number>();
  for (const d of docs) {
    const p = ownerOf(await slotOf(docChannel(cluster.prefix, tenant.id, d)));
    load.set(p, (load.get(p) ?? 0) + 1);
  }
  const victim = [...load.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const promoted = await redis.killMaster(victim);
  expect(promoted).not.toBe(victim);
  await sleep(FULL ? 6000 : 2500); // keep writing after the failover
  await stopWriting();

  await saveUntilAcknowledged(writers);
  await expectConverged(writers, docs);
  // a fresh client sees the same text as the writers
  const fresh = await Sync2TestClient.connect(cluster.ws(1), token);
  clients.push(fresh);
  for (const d of docs) {
    const doc = await fresh.openSynced(d);
    const expected = bodyText(writers.find((w) => w.docId === d)!.doc);
    await waitUntil(() => bodyText(doc) === expected, 15_000, `fresh client on ${d}`);
  }
  await expectSubscriptionsOnSlotOwners(docs);
});

(FULL ? test : test.skip)(
  'a master joins and slots migrate while clients write: no acknowledged update lost, all converge',
  async () => {
    const docs = DOCS.map((d) => d.replace('.md', '-m.md'));
    const writers = await openWriters(docs, 's');
    const stopWriting = keepWriting(writers);
    await sleep(2000);
    const added = await redis.addMaster(); // rebalance moves about a quarter of the slots onto it
    expect(await redis.masterPorts()).toContain(added);
    await sleep(4000);
    await stopWriting();
    await saveUntilAcknowledged(writers);
    await expectConverged(writers, docs);
    await expectSubscriptionsOnSlotOwners(docs);
  },
);
