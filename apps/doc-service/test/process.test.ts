/**
 * `node apps/doc-service/dist/main.js` as real processes (needs `npm run build` first):
 * ops endpoints, heartbeat, serving frames, SIGTERM (flush + release), SIGKILL takeover by a
 * second process, and the fail-fast message when Redis is unreachable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { listInstances } from '@diaryx-sync/bus';
import { createTestEnv, REDIS_URL, step1Msg, textUpdate, updateMsg, waitFor, type TestEnv } from './helpers';
import { databaseUrlFor, startFakeGateway } from './helpers/harness';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const SHARDS = 4;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Proc {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

describe('doc-service process (dist/main.js)', () => {
  let env: TestEnv;
  const procs: Proc[] = [];

  const spawnService = async (extra: Record<string, string> = {}): Promise<Proc> => {
    const port = await freePort();
    let out = '';
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        REDIS_URL,
        REDIS_PREFIX: env.prefix,
        DATABASE_URL: databaseUrlFor(env),
        SHARD_COUNT: String(SHARDS),
        LEASE_TTL_MS: '2000',
        LEASE_RENEW_MS: '400',
        LOG_LEVEL: 'info',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const p = { child, port, output: () => out, exited };
    procs.push(p);
    return p;
  };

  const get = async (port: number, path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
    env = await createTestEnv();
  });
  afterEach(async () => {
    // a failed test must not leave its processes running into the next one
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await env.redis.del(`${env.prefix}:docsvc:members`);
  });
  afterAll(async () => {
    await env.close();
  });

  it('serves ops endpoints and frames, then flushes and releases its leases on SIGTERM', async () => {
    const a = await spawnService();
    await waitFor(
      async () => (await get(a.port, '/readyz').catch(() => ({ status: 0 }))).status === 200,
      15000,
      'ready',
    );
    // ready means: the first lease round is done (alone, it owns every shard)
    expect((await get(a.port, '/healthz')).status).toBe(200);
    const metrics = await get(a.port, '/metrics');
    expect(metrics.text).toMatch(/diaryx_shards_owned\{[^}]*\} 4/);
    const [hb] = await listInstances(env.redis, env.prefix, 'doc-service');
    expect(hb).toMatchObject({ kind: 'doc-service', shards: [0, 1, 2, 3], docs_loaded: 0 });

    const gw = await startFakeGateway(env, SHARDS);
    try {
      const r = await gw.frame('t1', 'body:w/p.md', 'c', updateMsg(textUpdate('from a process')));
      expect(r.ack).toBe(true);
      await gw.save('t1', 'body:w/p.md', 'c');
    } finally {
      gw.close();
    }
    const rows = await env.pool.query("SELECT count(*)::int AS n FROM crdt_updates WHERE tenant = 't1'");
    expect(rows.rows[0].n).toBe(1);

    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await env.redis.keys(`${env.prefix}:shard:*:lease`)).toEqual([]);
    expect(await listInstances(env.redis, env.prefix, 'doc-service')).toEqual([]);
  }, 40000);

  it('a second process takes over every shard within seconds after SIGKILL of the first', async () => {
    const a = await spawnService();
    const b = await spawnService();
    const shardsOf = async () =>
      Object.fromEntries(
        (await listInstances(env.redis, env.prefix, 'doc-service')).map((h) => [
          h.id,
          (h.shards as number[]).length,
        ]),
      );
    await waitFor(async () => Object.values(await shardsOf()).join() === '2,2', 20000, '2/2 split');
    a.child.kill('SIGKILL');
    const t0 = Date.now();
    const gw = await startFakeGateway(env, SHARDS);
    try {
      // every shard answers again (frames are re-sent until the new owner acks)
      for (let i = 0; i < 8; i++) {
        const r = await gw.frame('t1', `body:w/after-${i}.md`, 'c', step1Msg(), 'editor', 15000);
        expect(r.ack).toBe(true);
      }
    } finally {
      gw.close();
    }
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(b.child.exitCode).toBeNull();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 60000);

  it('exits non-zero with a how-to-start message when Redis is unreachable', async () => {
    const p = await spawnService({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toMatch(/Redis is not reachable/);
  }, 20000);
});
