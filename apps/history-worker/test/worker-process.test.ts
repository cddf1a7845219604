/** The worker as a process (`dist/main.js`; run `npm run build` first): fail-fast, ops endpoints, SIGTERM. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createWorkerTestEnv, type WorkerTestEnv } from './helpers/worker-env';

const MAIN = join(__dirname, '../dist/main.js');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('history-worker process', () => {
  let env: WorkerTestEnv;
  beforeAll(async () => {
    env = await createWorkerTestEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  const envFor = async (overrides: Record<string, string> = {}) => {
    const c = env.config();
    return {
      ...process.env,
      DATABASE_URL: c.DATABASE_URL,
      REDIS_URL: c.REDIS_URL,
      REDIS_PREFIX: c.REDIS_PREFIX,
      S3_ENDPOINT: c.S3_ENDPOINT,
      S3_BUCKET: c.S3_BUCKET,
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      ...overrides,
    };
  };

  it('exits 1 with a hint when S3 is unreachable', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: await envFor({ S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` }),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(stderr).toMatch(/S3 is not reachable/);
  });

  it('serves /healthz /readyz /metrics, heartbeats, and exits 0 on SIGTERM', async () => {
    const e = await envFor();
    const child = spawn(process.execPath, [MAIN], { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const base = `http://127.0.0.1:${e.PORT}`;
    try {
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = (await fetch(`${base}/healthz`).catch(() => null))?.status === 200;
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      for (const name of [
        'diaryx_queue_depth',
        'diaryx_job_duration_seconds',
        'diaryx_job_failures_total',
        'diaryx_validation_failures_total',
        'diaryx_rebuilds_total',
        'diaryx_repairs_total',
        'diaryx_validation_alerts_total',
      ]) {
        expect(metrics).toContain(name);
      }
      const keys = await env.redis.keys(`${env.prefix}:instance:history-worker:*`);
      expect(keys).toHaveLength(1);
      const beat = JSON.parse((await env.redis.get(keys[0]))!);
      expect(beat).toMatchObject({ kind: 'history-worker', concurrency: 4 });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number];
    expect(`${code} ${stderr}`).toBe('0 ');
    expect(await env.redis.keys(`${env.prefix}:instance:history-worker:*`)).toHaveLength(0);
  });
});
