import { HistoryQueues, QUEUE_NAMES } from '@diaryx-sync/bus';
import { startWorkerApp, type WorkerApp } from '../src/worker-app';
import { workspaceLockKey } from '../src/workspace-lock';
import { createWorkerTestEnv, type WorkerTestEnv } from './helpers/worker-env';
import { seedWorkspace } from './helpers/workspace-seed';
import { createRedis } from '@diaryx-sync/runtime';

describe('graceful shutdown and mutual exclusion', () => {
  let env: WorkerTestEnv;
  let queues: HistoryQueues;
  const apps: WorkerApp[] = [];
  const T = 'tshut';

  beforeAll(async () => {
    env = await createWorkerTestEnv();
    queues = new HistoryQueues({
      connect: () => createRedis({ kind: 'single', url: 'redis://127.0.0.1:6379' }),
      prefix: env.prefix,
      quietMs: 200,
      maxWaitMs: 1000,
    });
  });
  afterAll(async () => {
    await queues?.close();
    for (const a of apps) await a.close();
    await env?.close();
  });

  const start = async () => {
    const app = await startWorkerApp(
      env.config({
        HISTORY_DRAIN_TIMEOUT_MS: '300',
        HISTORY_JOB_LOCK_MS: '1500',
        HISTORY_LOCK_WAIT_MS: '60000',
      }),
      {
        applyUpdate: async (req) => void (await env.storage(req.tenant).appendUpdate(req.docId, req.update)),
      },
    );
    apps.push(app);
    return app;
  };

  it('a job that cannot finish before shutdown goes back to the queue and another worker completes it', async () => {
    await seedWorkspace(env.storage(T), 'ws');
    const lockKey = workspaceLockKey(env.prefix, T, 'ws');
    await env.redis.set(lockKey, 'held-by-test', 'PX', 60_000); // the workspace is busy
    const a = await start();
    const job = await queues.enqueueCommit(T, 'ws', 'tester');
    const q = queues.queue(QUEUE_NAMES.gitCommit);
    for (let i = 0; i < 100 && (await q.getActiveCount()) === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await q.getActiveCount()).toBe(1);
    await a.close(); // drain timeout passes: the job is handed back (stalled), not lost
    await env.redis.del(lockKey);
    await start();
    const result = await queues.wait<{ status: string }>(QUEUE_NAMES.gitCommit, job, 20_000);
    expect(result.status).toBe('committed');
  });

  it('concurrent commits of one workspace are serialized: one commit, the rest find nothing to commit', async () => {
    await seedWorkspace(env.storage(T), 'race');
    const results = await Promise.all(Array.from({ length: 6 }, () => queues.commitNow(T, 'race')));
    expect(results.filter((r) => r.status === 'committed')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'nothing_to_commit')).toHaveLength(5);
  });

  it('a malformed job fails once (no retries) and the worker keeps working', async () => {
    const q = queues.queue(QUEUE_NAMES.gitCommit);
    const bad = await q.add(
      'commit',
      { tenant: T, workspace: '../escape', trigger: 'demand' },
      { attempts: 5 },
    );
    await expect(queues.wait(QUEUE_NAMES.gitCommit, bad, 10_000)).rejects.toThrow(/malformed/);
    const state = await q.getJob(bad.id!);
    expect(state?.attemptsMade).toBe(1);
    await seedWorkspace(env.storage(T), 'after_bad');
    expect((await queues.commitNow(T, 'after_bad')).status).toBe('committed');
  });
});
