/**
 * What a Redis failover can break and what it cannot (docs/redis.md "Failover and fencing"):
 * on a private Redis Cluster, a lease granted by a master that then dies BEFORE replicating it
 * is lost, and so is the fencing counter's increment; the next owner gets a Redis token that is
 * not larger than the old owner's. PostgreSQL stays the final fence: the shard's database token
 * is raised above every token it has seen, and the old owner's in-flight batch (past the Redis
 * check, delayed on its way to PostgreSQL) is refused inside the write transaction.
 */
import { shardFenceKey, shardLeaseKey, shardOf } from '@diaryx-sync/bus';
import { readShardFences } from '@diaryx-sync/crdt/postgres';
import { TestDocService } from './helpers/test-doc-service';
import { createRedis, type RedisClient } from '@diaryx-sync/runtime';
import type { Pool } from 'pg';
import * as Y from 'yjs';
import { startRedisCluster, type LocalRedisCluster } from '../../gateway/test/helpers/redis-cluster';
import { createTestEnv, FakeGateway, sleep, textUpdate, updateMsg, waitFor, type TestEnv } from './helpers';
import type { DelayProxy } from './helpers/delay-proxy';
import {
  closeDelayedPool,
  docServiceOptions,
  sendFrameOnce,
  startDelayedPool,
  storedBodyText,
} from './helpers/harness';

jest.setTimeout(90_000);

const SHARDS = 4;
const T = 'tenant-redis-failover';
const DOC = 'body:w/failover.md';

describe('a Redis failover that loses a lease: PostgreSQL is the final fence', () => {
  let env: TestEnv;
  let rc: LocalRedisCluster;
  let redis: RedisClient;
  let gw: FakeGateway;
  let proxy: DelayProxy;
  let proxiedPool: Pool;
  const services: TestDocService[] = [];

  beforeAll(async () => {
    env = await createTestEnv();
    rc = await startRedisCluster({ masters: 3, replicas: 1 });
    redis = createRedis({
      kind: 'cluster',
      nodes: rc.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      tls: false,
    });
    redis.on('error', () => undefined);
    gw = await new FakeGateway(redis, env.prefix, SHARDS).start();
    ({ proxy, pool: proxiedPool } = await startDelayedPool(env));
  }, 60_000);

  afterAll(async () => {
    gw?.close();
    for (const s of services) s.kill();
    await closeDelayedPool(proxy, proxiedPool);
    redis?.disconnect();
    await rc?.stop();
    await env?.close();
  });

  const storedText = (docId: string) => storedBodyText(env, T, docId);

  it('the lease and its counter vanish with the master, the stale owner still cannot write', async () => {
    const shard = shardOf(T, DOC, SHARDS);
    const leaseKey = shardLeaseKey(env.prefix, shard);
    const slot = Number(await rc.on(rc.nodes[0]!.port, (r) => r.cluster('KEYSLOT', leaseKey)));
    const master = await rc.masterOfSlot(slot);
    const replica = await rc.replicaOf(master);

    // The replica stops replicating: what the master writes from now on exists only there.
    rc.signal(replica, 'SIGSTOP');
    const ttl = 1200;
    const a = new TestDocService(
      docServiceOptions(env, SHARDS, {
        redis,
        pool: proxiedPool,
        leaseTtlMs: ttl,
        leaseRenewMs: 200,
        instanceId: 'ds-a',
      }),
    );
    services.push(a);
    await a.start();
    expect(a.stats().shards).toContain(shard);
    const tokenA = a.leases.tokenOf(shard)!;
    const client = new Y.Doc();
    await gw.frame(T, DOC, 'c', updateMsg(textUpdate('[before]', client)));
    expect(await storedText(DOC)).toBe('[before]');

    // A's next batch passes the Redis fence, then stalls on its way to PostgreSQL.
    proxy.hold();
    const staleMsg = await sendFrameOnce(gw, T, DOC, 'c', updateMsg(textUpdate('[stale]', client)));
    await waitFor(() => a.stats().pendingAppends > 0, 5000, 'the batch of A in flight');
    a.leases.abandon(); // A is paused from here on (its Redis state matters no more)

    // The master dies before replicating; the stale replica is promoted.
    rc.signal(master, 'SIGKILL');
    rc.signal(replica, 'SIGCONT');
    await waitFor(
      async () => (await rc.masterOfSlot(slot).catch(() => -1)) === replica,
      30_000,
      'the replica to be promoted',
    );
    // Redis lost the lease and the fencing counter's increment of A.
    const [lease, counter] = await rc.on(replica, (r) =>
      Promise.all([r.get(leaseKey), r.get(shardFenceKey(env.prefix, shard))]),
    );
    expect(lease).toBeNull();
    expect(Number(counter ?? 0)).toBeLessThan(tokenA);

    // B takes the shard once A's other leases have expired; its token comes from PostgreSQL.
    await sleep(ttl + 100);
    const b = new TestDocService(
      docServiceOptions(env, SHARDS, { redis, instanceId: 'ds-b', leaseTtlMs: 5000 }),
    );
    services.push(b);
    await b.start();
    expect(b.stats().shards).toContain(shard);
    const tokenB = b.leases.tokenOf(shard)!;
    expect(tokenB).toBeGreaterThan(tokenA);
    expect((await readShardFences(env.pool)).get(shard)).toEqual({ token: tokenB, owner: 'ds-b' });
    await gw.frame(T, DOC, 'c2', updateMsg(textUpdate('[by-b]', new Y.Doc())));
    expect(await storedText(DOC)).toContain('[by-b]');

    // A's held batch reaches PostgreSQL now and is refused inside the write transaction.
    proxy.release();
    await waitFor(() => a.stats().pendingAppends === 0, 10_000, 'the batch of A to finish');
    await sleep(300);
    expect(await storedText(DOC)).not.toContain('[stale]');
    expect(gw.of('reply', (r) => r.msgId === staleMsg)).toEqual([]);
    const rows = await env.pool.query<{ fence_token: string; fence_shard: number }>(
      'SELECT fence_shard, fence_token FROM crdt_updates WHERE tenant = $1 ORDER BY id',
      [T],
    );
    expect(rows.rows.map((r) => [r.fence_shard, Number(r.fence_token)])).toEqual([
      [shard, tokenA],
      [shard, tokenB],
    ]);
  });
});
