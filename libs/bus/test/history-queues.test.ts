import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { HistoryQueues, QUEUE_NAMES, dirtyKey, jobIdOf, queuePrefix } from '@diaryx-sync/bus';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('HistoryQueues (producer side, real Redis)', () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  let queues: HistoryQueues;
  let redis: Redis;

  beforeAll(() => {
    queues = new HistoryQueues({
      connect: () => new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      quietMs: 1000,
      maxWaitMs: 5000,
    });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await queues.close();
    const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`${queuePrefix(prefix)}:*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const autoJob = async (ws: string) => {
    const since = Number(await redis.get(dirtyKey(prefix, 't', ws)));
    return queues.queue(QUEUE_NAMES.gitCommit).getJob(jobIdOf('auto', 't', ws, String(since)));
  };

  it('schedules one delayed commit per dirty period, pushed back by later touches but never past maxWait', async () => {
    const t0 = Date.now();
    await queues.touchWorkspace('t', 'w1', t0);
    const job = await autoJob('w1');
    expect(await job!.getState()).toBe('delayed');
    expect(job!.data).toEqual({ tenant: 't', workspace: 'w1', trigger: 'quiet', dirtySince: t0 });
    const dueOf = async (id: string) =>
      Math.floor(Number(await redis.zscore(`${queuePrefix(prefix)}:git-commit:delayed`, id)) / 4096);
    const firstDue = await dueOf(job!.id!);
    expect(firstDue).toBeGreaterThanOrEqual(t0 + 900);
    await new Promise((r) => setTimeout(r, 60));
    await queues.touchWorkspace('t', 'w1', t0 + 500);
    const moved = await autoJob('w1');
    expect(moved!.id).toBe(job!.id);
    expect(await dueOf(job!.id!)).toBeGreaterThan(firstDue);
    // near the end of maxWait the delay shrinks to what is left of it
    await queues.touchWorkspace('t', 'w1', t0 + 4800);
    const late = await autoJob('w1');
    expect(late!.delay).toBeLessThanOrEqual(200);
    expect(await queues.queue(QUEUE_NAMES.gitCommit).getDelayedCount()).toBe(1);
  });

  it('a new dirty period (after the job cleared the marker) gets a new job', async () => {
    await queues.touchWorkspace('t', 'w2', 1000);
    const a = await autoJob('w2');
    await redis.del(dirtyKey(prefix, 't', 'w2')); // what the commit job does when it starts
    await queues.touchWorkspace('t', 'w2', 2000);
    const b = await autoJob('w2');
    expect(b!.id).not.toBe(a!.id);
  });

  it('de-duplicates compaction per doc while one is waiting', async () => {
    for (let i = 0; i < 5; i++) await queues.enqueueCompaction({ tenant: 't', docId: 'body:w/a.md' }, 60_000);
    await queues.enqueueCompaction({ tenant: 't', docId: 'body:w/b.md' }, 60_000);
    expect(await queues.queue(QUEUE_NAMES.compaction).getDelayedCount()).toBe(2);
    const depths = await queues.depths();
    expect(depths.compaction.delayed).toBe(2);
    expect(Object.keys(depths).sort()).toEqual([
      'attachment-gc',
      'compaction',
      'git-commit',
      'rebuild',
      'restore',
      'validation',
      'webhook-delivery',
      'webhook-events',
    ]);
  });
});

describe('HistoryQueues.wait (real Redis)', () => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const connections: Redis[] = [];
  let releaseReads!: () => void;
  const readsReleased = new Promise<void>((resolve) => (releaseReads = resolve));
  let readsAsked = false;
  let queues: HistoryQueues;
  /** `c` and its duplicates (QueueEvents reads on one) hold stream reads (XREAD) until released. */
  const holdingReads = (c: Redis): Redis => {
    connections.push(c);
    const xread = c.xread.bind(c) as (...args: unknown[]) => Promise<unknown>;
    const duplicate = c.duplicate.bind(c);
    Object.assign(c, {
      xread: async (...args: unknown[]) => {
        readsAsked = true;
        await readsReleased;
        return xread(...args);
      },
      duplicate: (...args: Parameters<Redis['duplicate']>) => holdingReads(duplicate(...args)),
    });
    return c;
  };

  beforeAll(() => {
    queues = new HistoryQueues({
      connect: () => holdingReads(new Redis(REDIS_URL, { maxRetriesPerRequest: null })),
      prefix,
      quietMs: 1000,
      maxWaitMs: 5000,
    });
  });
  afterAll(async () => {
    releaseReads();
    await queues.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${queuePrefix(prefix)}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    for (const c of connections) c.disconnect();
  });

  it('reports a job that finished while its event listener was still connecting', async () => {
    const job = await queues.queue(QUEUE_NAMES.validation).add('validate', { tenant: 't', workspace: 'w' });
    const result = queues.wait(QUEUE_NAMES.validation, job, 10_000);
    result.catch(() => undefined);
    const until = async (check: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 20_000;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => readsAsked);
    await new Promise((r) => setTimeout(r, 300)); // waitUntilFinished has checked the job by now
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(connection);
    const worker = new Worker(QUEUE_NAMES.validation, async () => ({ valid: true }), {
      connection,
      prefix: queuePrefix(prefix),
    });
    worker.on('error', () => undefined);
    try {
      await until(
        async () => (await queues.queue(QUEUE_NAMES.validation).getJobState(job.id!)) === 'completed',
      );
      releaseReads();
      await expect(result).resolves.toEqual({ valid: true });
    } finally {
      await worker.close();
    }
  });
});
