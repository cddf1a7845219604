/**
 * The history queues on a private Redis Cluster (docs/redis.md): with the hash-tagged BullMQ
 * prefix every key of a queue is in one slot, so producers, a worker and job events work; the
 * bare prefix would spread a queue's keys over the masters and BullMQ's scripts would fail.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { HistoryQueues, QUEUE_NAMES, queuePrefix } from '@diaryx-sync/bus';
import { startRedisCluster, type LocalRedisCluster } from '../../../apps/gateway/test/helpers/redis-cluster';

jest.setTimeout(120_000);

describe('HistoryQueues on Redis Cluster', () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  let rc: LocalRedisCluster;
  let queues: HistoryQueues;
  const connections: Cluster[] = [];
  const connect = () => {
    const c = new Cluster(
      rc.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );
    c.on('error', () => undefined);
    connections.push(c);
    return c;
  };

  beforeAll(async () => {
    rc = await startRedisCluster({ masters: 3, replicas: 0 });
    queues = new HistoryQueues({ connect, prefix, quietMs: 200, maxWaitMs: 1000 });
  }, 40_000);

  afterAll(async () => {
    await queues?.close();
    for (const c of connections) c.disconnect();
    await rc?.stop();
  });

  it('keeps every key of the queues in one slot and runs jobs end to end', async () => {
    await queues.touchWorkspace('t', 'w1');
    await queues.enqueueCompaction({ tenant: 't', docId: 'body:w/a.md' });
    const seen: string[] = [];
    const worker = new Worker(
      QUEUE_NAMES.compaction,
      async (job) => {
        seen.push((job.data as { docId: string }).docId);
        return 'ok';
      },
      { connection: connect(), prefix: queuePrefix(prefix) },
    );
    worker.on('error', () => undefined);
    try {
      const job = await queues
        .queue(QUEUE_NAMES.validation)
        .add('validate', { tenant: 't', workspace: 'w1' });
      // a second worker type finishes the validation job; waitUntilFinished goes through QueueEvents
      const validator = new Worker(QUEUE_NAMES.validation, async () => ({ valid: true }), {
        connection: connect(),
        prefix: queuePrefix(prefix),
      });
      validator.on('error', () => undefined);
      try {
        expect(await queues.wait(QUEUE_NAMES.validation, job, 45_000)).toEqual({ valid: true });
      } finally {
        await validator.close();
      }
      const deadline = Date.now() + 45_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual(['body:w/a.md']);
      expect((await queues.depths())['git-commit'].delayed).toBe(1);
    } finally {
      await worker.close();
    }
    // every BullMQ key of ours lives in the slot of the hash tag
    const keys: string[] = [];
    for (const port of await rc.masterPorts())
      keys.push(...(await rc.on(port, (r) => r.keys(`${queuePrefix(prefix)}:*`))));
    expect(keys.length).toBeGreaterThan(3);
    const slots = new Set<number>();
    for (const k of keys) slots.add(Number(await rc.on(rc.nodes[0]!.port, (r) => r.cluster('KEYSLOT', k))));
    expect(slots.size).toBe(1);
  });
});
